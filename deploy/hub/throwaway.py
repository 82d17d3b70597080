"""A throwaway workshop hub for the hub's tests and `make bench-hub`: the same jupyterhub_config.py as
`make hub`, with its own state folder, free ports on 127.0.0.1, and participants' accounts under a prefix
of its own (``glhubt-``). Accounts under that prefix, their homes and their processes are removed when it
stops, and before it starts (whatever an earlier run left)."""

from __future__ import annotations

import os
import pathlib
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
REPOSITORY = HERE.parent.parent
TEST_USERS = "glhubt-"
CODE = "tls-simulated"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_accounts(prefix: str = TEST_USERS) -> list[pwd.struct_passwd]:
    return [a for a in pwd.getpwall() if a.pw_name.startswith(prefix) and a.pw_uid >= 1000]


def processes_of(uids: set[int]) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid in uids:
                    found.append(int(entry))
            except FileNotFoundError:
                pass
    return found


def sweep(prefix: str = TEST_USERS) -> list[str]:
    """Remove every account under ``prefix`` (uid >= 1000), its processes (by pid) and its home."""
    accounts = test_accounts(prefix)
    uids = {a.pw_uid for a in accounts}
    for _ in range(3):
        pids = processes_of(uids)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.5)
    for account in accounts:
        subprocess.run(["userdel", "--remove", account.pw_name], capture_output=True, timeout=60)
        home = pathlib.Path(account.pw_dir)
        if home.name.startswith(prefix) and home.is_dir():  # userdel leaves it when it was not the owner's
            shutil.rmtree(home, ignore_errors=True)
    return [a.pw_name for a in accounts]


class ThrowawayHub:
    """``with ThrowawayHub(prefix) as hub:`` a running hub; ``hub.url``, ``hub.state``, ``hub.pids()``.

    ``via_make``: started by ``make hub`` itself (its install step taken as done), as a facilitator starts it."""

    def __init__(self, install: pathlib.Path, idle: int = 3600, activity: int = 300, users: str = TEST_USERS,
                 server_args: str = "", via_make: bool = False):
        self.install, self.idle, self.activity, self.users = pathlib.Path(install), idle, activity, users
        self.server_args, self.via_make = server_args, via_make
        ports = set()
        while len(ports) < 3:
            ports.add(free_port())
        self.port, self.hub_port, self.proxy_port = sorted(ports)
        self.url = f"http://127.0.0.1:{self.port}"
        self.code = CODE
        self.process = None
        self.folder = None

    @property
    def state(self) -> pathlib.Path:
        return self.folder / "state"

    @property
    def log(self) -> pathlib.Path:
        return self.folder / "hub.log"

    def secret(self, name: str) -> str:
        return (self.state / name).read_text().strip()

    def pids(self) -> list[int]:
        """The hub, the proxy and the idle culler."""
        hub = int((self.state / "jupyterhub.pid").read_text()) if self.via_make else self.process.pid
        pids = [hub]
        try:
            pids.append(int((self.state / "proxy.pid").read_text()))
        except (OSError, ValueError):
            pass
        children = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(hub)], capture_output=True,
                                  text=True).stdout.splitlines()
        services = {int(line.split()[0]) for line in children if "jupyterhub_idle_culler" in line}
        return sorted(set(pids) | services)  # not the participants' servers, which are the hub's children too

    def __enter__(self) -> "ThrowawayHub":
        sweep(self.users)
        self.folder = pathlib.Path(tempfile.mkdtemp(prefix="gnutls-lab-hub-"))
        env = dict(os.environ, GNUTLS_LAB_HUB_PREFIX=str(self.install), GNUTLS_LAB_HUB_STATE=str(self.state),
                   GNUTLS_LAB_HUB_PORT=str(self.port), GNUTLS_LAB_HUB_INTERNAL=f"{self.hub_port},{self.proxy_port}",
                   GNUTLS_LAB_HUB_USERS=self.users, GNUTLS_LAB_HUB_CODE=self.code,
                   GNUTLS_LAB_HUB_IDLE=str(self.idle), GNUTLS_LAB_HUB_ACTIVITY=str(self.activity),
                   GNUTLS_LAB_HUB_BIND="127.0.0.1", GNUTLS_LAB_HUB_SERVER_ARGS=self.server_args)
        if self.via_make:
            command = ["make", "--no-print-directory", "-C", str(REPOSITORY), "-o", "hub-install", "hub",
                       f"HUB_PREFIX={self.install}", f"HUB_PORT={self.port}", "HUB_BIND=127.0.0.1", f"HUB_IDLE={self.idle}"]
        else:
            command = [str(self.install / "venv" / "bin" / "jupyterhub"), "-f", str(HERE / "jupyterhub_config.py")]
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(command, cwd=self.folder, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(f"{self.url}/hub/api/", timeout=5) as reply:
                        if reply.status == 200:
                            break
                except OSError:
                    pass
                if self.process.poll() is not None or time.monotonic() > deadline:
                    text = self.log.read_text(errors="replace")
                    hub_lines = [line for line in text.splitlines() if " JupyterHub " in line or "Error" in line]
                    raise RuntimeError("the hub did not start (exit status %s):\n%s" % (
                        self.process.poll(), "\n".join(hub_lines[-40:])))
                time.sleep(0.3)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        hub = None
        if self.via_make:  # the JupyterHub that make runs: make may end before it does
            try:
                hub = int((self.state / "jupyterhub.pid").read_text())
            except (OSError, ValueError):
                pass
        if self.process is not None and self.process.poll() is None:
            if self.via_make:  # make and the JupyterHub it runs: the group started here
                os.killpg(self.process.pid, signal.SIGTERM)
            else:
                self.process.send_signal(signal.SIGTERM)  # JupyterHub stops the servers and its proxy
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if hub is not None and _is_jupyterhub(hub):  # seen: a hub left listening after make had gone
            os.kill(hub, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while _is_jupyterhub(hub) and time.monotonic() < deadline:
                time.sleep(0.2)
            if _is_jupyterhub(hub):
                os.kill(hub, signal.SIGKILL)
        try:  # a proxy left behind by a hub that was killed (only if that pid is still the proxy)
            proxy = int((self.state / "proxy.pid").read_text())
            if b"configurable-http-proxy" in pathlib.Path(f"/proc/{proxy}/cmdline").read_bytes():
                os.kill(proxy, signal.SIGKILL)
        except (OSError, ValueError):
            pass
        sweep(self.users)

    def __exit__(self, *exc) -> None:
        self.stop()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def _is_jupyterhub(pid: int) -> bool:
    """``pid`` is a running JupyterHub (not a zombie, not a pid reused by another program)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
        return b"jupyterhub" in pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, IndexError):
        return False
