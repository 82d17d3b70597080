"""Fixtures of the hub's tests (`make test-hub`): a throwaway hub from the installation `make test-hub` made
(HUB_TEST_PREFIX), participants that log in through the login form, and code run in their kernels."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import sqlite3
import sys
import time

import httpx
import pytest

HUB = pathlib.Path(__file__).resolve().parent.parent / "hub"
sys.path.insert(0, str(HUB))

import simulate  # noqa: E402
import throwaway  # noqa: E402

ARTIFACTS = HUB.parent.parent / "artifacts"


def install_prefix() -> pathlib.Path:
    prefix = os.environ.get("HUB_TEST_PREFIX")
    assert prefix, "HUB_TEST_PREFIX is not set: run these tests with `make test-hub` (it installs the hub first)"
    assert os.geteuid() == 0, "the hub's tests run as root: they create participants' accounts (glhubt-...)"
    prefix = pathlib.Path(prefix)
    assert (prefix / "venv" / "bin" / "jupyterhub").exists(), f"no hub installed in {prefix}: run `make test-hub`"
    return prefix


@pytest.fixture(scope="session")
def install() -> pathlib.Path:
    return install_prefix()


@pytest.fixture(scope="module")
def hub(install):
    with throwaway.ThrowawayHub(install) as running:
        yield running


class Person:
    """A participant (or the facilitator) logged in through the hub's login form, with an API token."""

    def __init__(self, hub, name: str, password: str, code: str = ""):
        self.hub, self.password = hub, password
        self.client = httpx.Client(base_url=hub.url, timeout=120, follow_redirects=True)
        self.client.get("/hub/login")
        self.login_reply = self.client.post("/hub/login", data={
            "username": name, "password": password, "otp": code, "_xsrf": self.xsrf()})
        self.logged_in = self.login_reply.status_code == 200 and "/hub/login" not in str(self.login_reply.url)
        self.name = self.token = None
        if self.logged_in:
            self.name = self.client.get("/hub/api/user", headers={"X-XSRFToken": self.xsrf()}).json()["name"]
            reply = self.client.post(f"/hub/api/users/{self.name}/tokens", headers={"X-XSRFToken": self.xsrf()},
                                     json={"note": "test", "expires_in": 3600})
            reply.raise_for_status()
            self.token = reply.json()["token"]

    def xsrf(self) -> str:
        return simulate._xsrf(self.client)

    @property
    def auth(self) -> dict:
        return {"Authorization": f"token {self.token}"}

    def server(self, timeout: float = 300) -> str:
        """The participant's server URL (started if need be), once it is ready."""
        deadline = time.monotonic() + timeout
        started = False
        while True:
            model = self.client.get(f"/hub/api/users/{self.name}", headers=self.auth).json()
            server = (model.get("servers") or {}).get("")
            if server and server.get("ready"):
                return f"{self.hub.url}{server['url'].rstrip('/')}"
            if not server and not started:
                self.client.post(f"/hub/api/users/{self.name}/server", headers=self.auth)
                started = True
            assert time.monotonic() < deadline, f"{self.name}: no ready server after {timeout} s"
            time.sleep(0.5)

    def run(self, code: str, path: str = "scratch.ipynb") -> str:
        """Run ``code`` in a kernel of the participant's server (a session on ``path``); its printed text."""
        server = self.server()
        reply = self.client.post(f"{server}/api/sessions", headers=self.auth, json={
            "path": path, "name": path, "type": "notebook", "kernel": {"name": "python3"}})
        reply.raise_for_status()
        kernel_id = reply.json()["kernel"]["id"]
        ws_base = server.replace("http://", "ws://", 1)

        async def go():
            kernel = await simulate.Kernel.connect(ws_base, kernel_id, self.token, self.name)
            try:
                return await kernel.execute(code)
            finally:
                kernel.close()

        outputs = asyncio.run(go())
        return "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in outputs)

    def close(self):
        self.client.close()


@pytest.fixture(scope="module")
def people(hub):
    """``people(name)`` logs a new participant in (password = name * 2, with the workshop code)."""
    made = []

    def login(name: str, password: str | None = None, code: str | None = None) -> Person:
        person = Person(hub, name, password or name * 3, hub.code if code is None else code)
        made.append(person)
        return person

    yield login
    for person in made:
        person.close()


def server_ports(hub) -> dict:
    """Each running server's port, from the hub's database (root only)."""
    with sqlite3.connect(hub.state / "jupyterhub.sqlite") as db:
        rows = db.execute("select users.name, servers.port from spawners join users on spawners.user_id = users.id"
                          " join servers on spawners.server_id = servers.id").fetchall()
    return dict(rows)


def write_artifact(name: str, data) -> pathlib.Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    path.write_text(json.dumps(data, indent=1) if not isinstance(data, str) else data)
    return path
