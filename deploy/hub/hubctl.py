#!/usr/bin/env python3
"""The facilitator's commands for the workshop hub (run as root on the hub's machine, beside `make hub`).

    hubctl.py status                       who has a server, since when, last activity
    hubctl.py start p01-p30 [alice ...]    create these participants and start their servers now, before the
                                           room arrives (they still claim their name with the workshop code)
    hubctl.py stop NAME... | restart NAME...
    hubctl.py solutions                    hand out the solutions: a read-only solutions/ in every workspace
    hubctl.py code                         the workshop code and where the facilitator's password is

It talks to the hub's REST API with the facilitator service's token (kept in the hub's state folder, root only).
``--prefix`` and ``--url`` default to `make hub`'s (/opt/gnutls-lab-hub, http://127.0.0.1:8000).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import pathlib
import pwd
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

REPOSITORY = pathlib.Path(__file__).resolve().parent.parent.parent


class HubError(Exception):
    """What the hub answered when it said no."""


class Hub:
    """The hub's REST API with the facilitator's token."""

    def __init__(self, url: str, token: str, prefix: str = "gl-"):
        self.url, self.token, self.prefix = url.rstrip("/"), token, prefix

    def call(self, method: str, path: str, body: dict | None = None, ok=(200, 201, 202, 204)) -> dict | list | None:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}/hub/api{path}", data=data, method=method,
                                         headers={"Authorization": f"token {self.token}",
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as reply:
                status, text = reply.status, reply.read()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read()
        if status not in ok:
            raise HubError(f"{method} {path}: {status} {text[:300].decode(errors='replace')}")
        return json.loads(text) if text else None

    def name(self, name: str) -> str:
        name = name.strip().lower()
        return name if name.startswith(self.prefix) else self.prefix + name

    def users(self) -> list:
        return self.call("GET", "/users?state=&limit=1000") or []

    def user(self, name: str) -> dict:
        return self.call("GET", f"/users/{self.name(name)}")

    def ensure_user(self, name: str) -> None:
        self.call("POST", f"/users/{self.name(name)}", ok=(201, 409))  # 409: there already

    def start(self, name: str) -> None:
        self.call("POST", f"/users/{self.name(name)}/server", ok=(201, 202, 400))  # 400: running already

    def stop(self, name: str) -> None:
        self.call("DELETE", f"/users/{self.name(name)}/server", ok=(202, 204, 400))

    def wait_ready(self, name: str, timeout: float = 600) -> float:
        """Seconds until the participant's server is ready."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            server = (self.user(name).get("servers") or {}).get("")
            if server and server.get("ready"):
                return time.monotonic() - started
            if server is None and time.monotonic() - started > 30:
                raise HubError(f"{self.name(name)}: no server (its start failed: see the hub's log)")
            time.sleep(0.5)
        raise HubError(f"{self.name(name)}: not ready after {timeout:.0f} s")


def expand_names(items: list[str]) -> list[str]:
    """``p01-p30`` is p01, p02, ... p30 (the width of the first number); other items are names."""
    names = []
    for item in items:
        match = re.fullmatch(r"([a-z]+)(\d+)-(?:\1)?(\d+)", item)
        if match:
            stem, first, last = match.group(1), match.group(2), match.group(3)
            names += [f"{stem}{number:0{len(first)}d}" for number in range(int(first), int(last) + 1)]
        else:
            names.append(item)
    return names


def prestart(hub: Hub, names: list[str], parallel: int = 0) -> dict:
    """Create and start every participant's server; return the timings (seconds)."""
    started = time.monotonic()
    for name in names:
        hub.ensure_user(name)
    ready = {}

    def one(name):
        hub.start(name)
        hub.wait_ready(name)
        ready[name] = time.monotonic() - started

    with concurrent.futures.ThreadPoolExecutor(max_workers=parallel or len(names) or 1) as pool:
        failures = [f for f in [pool.submit(one, name) for name in names] if f.exception()]
    times = sorted(ready.values())
    return {"servers": len(names), "ready": len(times), "failed": len(failures),
            "first_ready_s": round(times[0], 1) if times else None,
            "all_ready_s": round(times[-1], 1) if times else None,
            "errors": [str(f.exception()) for f in failures][:5]}


def hand_out_solutions(prefix: pathlib.Path, hub_prefix: str) -> list[str]:
    """Copy the solutions into the hub's share (read-only for all), and link them into every participant's
    workspace; the link is made as the participant (never by root inside a participant's home)."""
    share = prefix / "share" / "notebooks"
    target = share / "solutions"
    fresh = share / ".solutions.new"
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(REPOSITORY / "notebooks" / "solutions", fresh, ignore=shutil.ignore_patterns("__pycache__"))
    for folder, _, files in os.walk(fresh):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)
    shutil.rmtree(target, ignore_errors=True)
    os.rename(fresh, target)
    linked = []
    for account in pwd.getpwall():
        if not account.pw_name.startswith(hub_prefix) or account.pw_uid < 1000:
            continue
        made = subprocess.run(["runuser", "-u", account.pw_name, "--", "sh", "-c",
                               'cd "$HOME" && [ -d workspace ] && ! [ -e workspace/solutions ] && '
                               '! [ -L workspace/solutions ] && ln -s "$1" workspace/solutions', "sh", str(target)],
                              capture_output=True, timeout=30)
        if made.returncode == 0:
            linked.append(account.pw_name)
    return linked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The facilitator's commands for the workshop hub.")
    parser.add_argument("--prefix", type=pathlib.Path, default=pathlib.Path(os.environ.get("HUB_PREFIX", "/opt/gnutls-lab-hub")))
    parser.add_argument("--url", default=os.environ.get("HUB_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--users", default=os.environ.get("GNUTLS_LAB_HUB_USERS", "gl-"), help="participants' name prefix")
    parser.add_argument("--json", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("status")
    start = sub.add_parser("start")
    start.add_argument("names", nargs="+")
    start.add_argument("--parallel", type=int, default=0, help="servers started at once (default: all)")
    for name in ("stop", "restart"):
        sub.add_parser(name).add_argument("names", nargs="+")
    sub.add_parser("solutions")
    sub.add_parser("code")
    args = parser.parse_args(argv)
    state = pathlib.Path(os.environ.get("GNUTLS_LAB_HUB_STATE") or args.prefix / "state")
    try:
        if args.command == "code":
            print(f"workshop code: {(state / 'workshop-code').read_text().strip()}")
            print(f"facilitator:   log in as 'facilitator' with the password in {state / 'admin-password'}")
            return 0
        if args.command == "solutions":
            linked = hand_out_solutions(args.prefix, args.users)
            print(f"solutions: in {args.prefix / 'share/notebooks/solutions'}, linked into {len(linked)} workspaces"
                  " (participants whose server starts later get the link then)")
            return 0
        hub = Hub(args.url, (state / "facilitator-token").read_text().strip(), args.users)
        if args.command == "status":
            users = hub.users()
            if args.json:
                print(json.dumps(users, indent=1))
            for user in sorted(users, key=lambda u: u["name"]):
                server = (user.get("servers") or {}).get("")
                state_text = "ready" if server and server.get("ready") else ("starting" if server else "stopped")
                print(f"{user['name']:<24} {state_text:<9} last activity {user.get('last_activity') or '-'}")
            return 0
        names = expand_names(args.names)
        if args.command == "start":
            result = prestart(hub, names, args.parallel)
            print(json.dumps(result) if args.json else
                  f"started {result['ready']} of {result['servers']} servers; all ready after {result['all_ready_s']} s"
                  + (f"; {result['failed']} failed: {result['errors']}" if result["failed"] else ""))
            return 0 if not result["failed"] else 1
        for name in names:
            hub.stop(name)
            if args.command == "restart":
                for _ in range(120):
                    if not (hub.user(name).get("servers") or {}).get(""):
                        break
                    time.sleep(0.5)
                hub.start(name)
                hub.wait_ready(name)
            print(f"{hub.name(name)}: {args.command}ed")
        return 0
    except (HubError, OSError) as exc:
        print(f"hubctl: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
