"""Who may log in to the workshop hub, and the system account each participant gets.

Participants claim a name the first time they log in, with the **workshop code** the facilitator shows on a
slide and a password of their own; from then on the name is theirs (name and password, no code). Why not
JupyterHub's shared-password authenticator, made for workshops: with it anyone who has the code can log in as
*any* participant and read their work; here the code only lets someone in, and a claimed name stays its
owner's. The facilitator logs in as ``facilitator`` with the admin password ``make hub`` prints.

Each hub user is a system user of its own, named with a prefix (``gl-alice``: a participant can never be
``root`` or any account the machine already has), created on first login with a private home (mode 0700),
so one participant cannot read or change another's files.

Passwords are kept as scrypt hashes in the hub's state folder (``participants.json``, 0600, root only).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import pwd
import re
import secrets
import subprocess
import tempfile

from jupyterhub.auth import Authenticator, LocalAuthenticator
from traitlets import Integer, Unicode

__all__ = ["WorkshopAuthenticator", "WorkshopCodeAuthenticator", "hash_password", "password_matches"]

NAME = re.compile(r"[a-z][a-z0-9]{0,19}")
FIRST_SYSTEM_UID = 1000  # a name that maps to an account below this one is never a participant


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    derived = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${derived.hex()}"


def password_matches(password: str, stored: str) -> bool:
    try:
        _, salt, _ = stored.split("$")
        return hmac.compare_digest(hash_password(password, bytes.fromhex(salt)), stored)
    except ValueError:
        return False


class _WorkshopLogin(Authenticator):
    """First login: a name, a password of one's own and the workshop code; later: the name and password."""

    workshop_code = Unicode(config=True, help="The code on the facilitator's slide (needed once, to claim a name)")
    admin_password = Unicode(config=True, help="The facilitator's password (at least 16 characters)")
    facilitator = Unicode("facilitator", config=True, help="The facilitator's login name (an admin)")
    user_prefix = Unicode("gl-", config=True, help="Prefix of every participant's hub and system user name")
    password_file = Unicode(config=True, help="Where the participants' password hashes are kept (0600)")
    home_base = Unicode("/home", config=True, help="Where participants' homes are made")
    min_password_length = Integer(6, config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._lock = asyncio.Lock()

    def normalize_username(self, username: str) -> str:
        name = username.strip().lower()
        return name if name.startswith(self.user_prefix) else self.user_prefix + name

    def validate_username(self, username: str) -> bool:
        return (username.startswith(self.user_prefix) and NAME.fullmatch(username[len(self.user_prefix):]) is not None
                and len(username) <= 32)

    def _read_passwords(self) -> dict:
        try:
            with open(self.password_file) as stored:
                return json.load(stored)
        except FileNotFoundError:
            return {}

    def _write_passwords(self, passwords: dict) -> None:
        folder = os.path.dirname(self.password_file)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".participants-")
        try:
            with os.fdopen(handle, "w") as out:  # mkstemp creates it 0600
                json.dump(passwords, out, indent=1, sort_keys=True)
            os.replace(temporary, self.password_file)
        except BaseException:
            os.unlink(temporary)
            raise

    async def authenticate(self, handler, data):
        name = self.normalize_username(data.get("username", ""))
        password = data.get("password", "")
        code = data.get("otp", "").strip()
        if not self.validate_username(name):
            self.log.warning("refused a login: %r is not a name of letters and digits", name[:40])
            return None
        if name == self.normalize_username(self.facilitator):
            if self.admin_password and hmac.compare_digest(password, self.admin_password):
                return {"name": name}
            return None
        try:
            if pwd.getpwnam(name).pw_uid < FIRST_SYSTEM_UID:
                self.log.warning("refused a login: %s is a system account", name)
                return None
        except KeyError:
            pass
        loop = asyncio.get_running_loop()
        async with self._lock:  # one claim of a name at a time
            passwords = self._read_passwords()
            stored = passwords.get(name)
            if stored is not None:
                matches = await loop.run_in_executor(None, password_matches, password, stored)
                return {"name": name} if matches else None
            if not (self.workshop_code and hmac.compare_digest(code, self.workshop_code)):
                self.log.info("refused a first login of %s: no or wrong workshop code", name)
                return None
            if len(password) < self.min_password_length:
                self.log.info("refused a first login of %s: password shorter than %d", name, self.min_password_length)
                return None
            passwords[name] = await loop.run_in_executor(None, hash_password, password)
            self._write_passwords(passwords)
            self.log.info("%s claimed with the workshop code", name)
            return {"name": name}


class WorkshopCodeAuthenticator(_WorkshopLogin):
    """The workshop login without system accounts: Zero to JupyterHub on Kubernetes (deploy/z2jh/), where each
    participant's server is a pod of its own."""


class WorkshopAuthenticator(_WorkshopLogin, LocalAuthenticator):
    """The workshop login on one machine (`make hub`): each participant a system user with a private home."""

    def system_user_exists(self, user) -> bool:
        try:
            pwd.getpwnam(user.name)
        except KeyError:
            return False
        return True

    def add_system_user(self, user) -> None:
        """useradd with a private home (Debian 12's adduser makes homes 0755, readable by every participant)."""
        home = os.path.join(self.home_base, user.name)
        subprocess.run(["useradd", "--create-home", "--home-dir", home, "--shell", "/bin/bash", "--user-group",
                        "--comment", "gnutls-lab hub participant", user.name], check=True, capture_output=True,
                       timeout=60)
        os.chmod(home, 0o700)
        self.log.info("created system user %s (home %s, 0700)", user.name, home)
