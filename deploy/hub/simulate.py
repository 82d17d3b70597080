#!/usr/bin/env python3
"""Simulated participants for the workshop hub, in the spirit of JupyterHub's hubtraf.

Each participant arrives (spread evenly over ``--arrival`` seconds, as a room does), logs in through the
hub's login form (name, own password, workshop code), lands where a browser lands (``/hub/spawn`` starts
their server), waits for it, opens notebook 01 as JupyterLab does (a session, hence a kernel, through the
server's REST API), runs every code cell over the kernel's websocket, then opens notebook 02 and runs its
first exercise cell and that exercise's check cell. Every output is read; an ``error`` output or an
``execute_reply`` with status ``error`` is a failure.

Measured: login to the first cell's output, login to a ready server, each participant's memory (RSS of
every process of their account: the server, its kernels) when the server is ready and after the run,
the hub's and the proxy's, CPU seconds, the machine's CPU use over the run, and failures.

    python deploy/hub/simulate.py --url http://127.0.0.1:8000 --code WORKSHOP-CODE -n 5 --arrival 20

(run as root on the hub's machine to measure memory by account; elsewhere only the times are measured).
The traffic goes to the hub's URL only.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime
import json
import os
import pathlib
import pwd
import secrets
import statistics
import struct
import sys
import time
import uuid

import httpx
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

FIRST_NOTEBOOK = "01-live-handshake.ipynb"
EXERCISE_NOTEBOOK = "02-session-data.ipynb"
CELL_TIMEOUT = 300  # s: one cell on a machine where 30 servers start at once


@dataclasses.dataclass
class Participant:
    """One simulated participant's run."""

    name: str
    arrived: float = 0.0  # s after the run started
    login_to_ready: float | None = None
    login_to_first_output: float | None = None
    cells_run: int = 0
    error: str | None = None
    rss_ready_mb: float | None = None
    rss_after_mb: float | None = None
    cpu_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.login_to_first_output is not None


# --- Processes, memory and CPU of accounts (Linux /proc) ----------------------------------------------

def _processes():
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            yield int(entry)


def _proc_uid_rss_cpu(pid: int):
    """(uid, RSS in kB, CPU seconds with waited-for children) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
        with open(f"/proc/{pid}/stat") as stat:
            after_name = stat.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, PermissionError, ValueError):
        return None
    uid = int(fields["Uid"].split()[0])
    rss = int(fields.get("VmRSS", "0 kB").split()[0])
    ticks = sum(int(after_name[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    return uid, rss, ticks / os.sysconf("SC_CLK_TCK")


def account_usage(uids: set[int]) -> dict[int, tuple[float, float]]:
    """RSS (MB) and CPU seconds summed over every process of each account."""
    usage = {uid: [0.0, 0.0] for uid in uids}
    for pid in _processes():
        found = _proc_uid_rss_cpu(pid)
        if found and found[0] in usage:
            usage[found[0]][0] += found[1] / 1024
            usage[found[0]][1] += found[2]
    return {uid: (round(rss, 1), round(cpu, 2)) for uid, (rss, cpu) in usage.items()}


def process_usage(pids: list[int]) -> tuple[float, float]:
    """RSS (MB) and CPU seconds summed over these processes."""
    rss = cpu = 0.0
    for pid in pids:
        found = _proc_uid_rss_cpu(pid)
        if found:
            rss, cpu = rss + found[1] / 1024, cpu + found[2]
    return round(rss, 1), round(cpu, 2)


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the machine since boot."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def uid_of(name: str) -> int | None:
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return None


# --- The kernel's websocket (Jupyter messaging protocol 5, JSON frames) --------------------------------

def _decode_frame(frame) -> dict:
    if isinstance(frame, str):
        return json.loads(frame)
    count = struct.unpack_from("!I", frame, 0)[0]  # binary frame: buffer count, offsets, then the message
    offsets = struct.unpack_from(f"!{count}I", frame, 4)
    end = offsets[1] if count > 1 else len(frame)
    return json.loads(frame[offsets[0]:end])


class Kernel:
    """Execute code on a remote kernel through the Jupyter server's websocket."""

    def __init__(self, connection, user: str):
        self.connection, self.user, self.session = connection, user, uuid.uuid4().hex

    @classmethod
    async def connect(cls, ws_base: str, kernel_id: str, token: str, user: str) -> "Kernel":
        request = HTTPRequest(f"{ws_base}/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}",
                              headers={"Authorization": f"token {token}"}, connect_timeout=60, request_timeout=60)
        return cls(await websocket_connect(request, max_message_size=256 * 1024 * 1024), user)

    async def execute(self, code: str, on_output=None) -> list[dict]:
        """Run ``code``; return its outputs (nbformat-like dicts). Raises RuntimeError on an error."""
        msg_id = uuid.uuid4().hex
        await self.connection.write_message(json.dumps({
            "header": {"msg_id": msg_id, "username": self.user, "session": self.session, "msg_type": "execute_request",
                       "version": "5.3", "date": datetime.datetime.now(datetime.timezone.utc).isoformat()},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        outputs, idle, reply = [], False, None
        deadline = time.monotonic() + CELL_TIMEOUT
        while not (idle and reply):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"no answer from the kernel in {CELL_TIMEOUT} s")
            frame = await asyncio.wait_for(self.connection.read_message(), remaining)
            if frame is None:
                raise RuntimeError("the kernel's websocket closed")
            message = _decode_frame(frame)
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = message["header"]["msg_type"]
            if kind in ("stream", "display_data", "execute_result", "error"):
                outputs.append({"output_type": kind, **message["content"]})
                if on_output:
                    on_output()
            elif kind == "status" and message["content"]["execution_state"] == "idle":
                idle = True
            elif kind == "execute_reply":
                reply = message["content"]
        errors = [o for o in outputs if o["output_type"] == "error"]
        if errors or reply.get("status") == "error":
            first = errors[0] if errors else reply
            raise RuntimeError(f"{first.get('ename')}: {str(first.get('evalue'))[:300]}")
        return outputs

    def close(self):
        self.connection.close()


# --- One participant ------------------------------------------------------------------------------------

async def _open_notebook(client: httpx.AsyncClient, server: str, token: str, path: str) -> tuple[str, list[str]]:
    """Open ``path`` as JupyterLab does (a session, hence a kernel); return the kernel id and the code cells."""
    headers = {"Authorization": f"token {token}"}
    reply = await client.post(f"{server}/api/sessions", headers=headers, json={
        "path": path, "name": path, "type": "notebook", "kernel": {"name": "python3"}})
    reply.raise_for_status()
    kernel_id = reply.json()["kernel"]["id"]
    reply = await client.get(f"{server}/api/contents/{path}", headers=headers, params={"content": "1"})
    reply.raise_for_status()
    cells = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
             for c in reply.json()["content"]["cells"] if c["cell_type"] == "code"]
    return kernel_id, cells


def exercise_cells(cells: list[str]) -> list[str]:
    """The first exercise cell of a notebook and the check cell after it."""
    for index, source in enumerate(cells):
        if source.lstrip().startswith("# EXERCISE") and index + 1 < len(cells):
            return [source, cells[index + 1]]
    raise RuntimeError("no '# EXERCISE' cell found")


async def participant(url: str, name: str, password: str, code: str, started: float,
                      result: Participant, uids: dict, ready_timeout: float = 600, every_notebook: bool = False) -> None:
    """Log in, get a server, run notebook 01 and one exercise of 02 (with ``every_notebook``, then every cell of
    every other notebook too, each in its own kernel, left running as closed tabs leave them); fill ``result``."""
    result.arrived = round(time.monotonic() - started, 1)
    host = httpx.URL(url)
    async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(120.0), follow_redirects=True) as client:
        try:
            await client.get("/hub/login")
            xsrf = _xsrf(client)
            login = time.monotonic()
            reply = await client.post("/hub/login", data={"username": name, "password": password, "otp": code,
                                                          "_xsrf": xsrf})
            if "/hub/login" in str(reply.url) and reply.status_code != 200 or "Invalid username" in reply.text:
                raise RuntimeError(f"login refused ({reply.status_code})")
            xsrf = _xsrf(client)  # the hub sets a new one with the login
            user = await _whoami(client, xsrf)
            token_reply = await client.post(f"/hub/api/users/{user}/tokens", headers={"X-XSRFToken": xsrf},
                                            json={"note": "simulated participant", "expires_in": 3600})
            token_reply.raise_for_status()
            token = token_reply.json()["token"]
            auth = {"Authorization": f"token {token}"}
            while True:  # the browser waits on /hub/spawn-pending; the API says the same
                model = (await client.get(f"/hub/api/users/{user}", headers=auth)).json()
                server = (model.get("servers") or {}).get("")
                if server and server.get("ready"):
                    break
                if time.monotonic() - login > ready_timeout:
                    raise RuntimeError(f"server not ready after {ready_timeout:.0f} s")
                if not server and time.monotonic() - login > 60:
                    raise RuntimeError("no server was started (spawn failed: see the hub's log)")
                await asyncio.sleep(0.5)
            result.login_to_ready = round(time.monotonic() - login, 2)
            uid = uid_of(user)
            uids[user] = uid
            if uid is not None:
                result.rss_ready_mb = account_usage({uid})[uid][0]
            server_url = f"{url}{server['url'].rstrip('/')}"
            ws_base = f"{'wss' if host.scheme == 'https' else 'ws'}://{host.netloc.decode()}{server['url'].rstrip('/')}"

            first_output = []
            kernel_id, cells = await _open_notebook(client, server_url, token, FIRST_NOTEBOOK)
            kernel = await Kernel.connect(ws_base, kernel_id, token, user)
            try:
                for source in cells:
                    await kernel.execute(source, on_output=lambda: first_output or first_output.append(time.monotonic()))
                    if first_output and result.login_to_first_output is None:
                        result.login_to_first_output = round(first_output[0] - login, 2)
                    result.cells_run += 1
            finally:
                kernel.close()
            kernel_id, cells = await _open_notebook(client, server_url, token, EXERCISE_NOTEBOOK)
            kernel = await Kernel.connect(ws_base, kernel_id, token, user)
            try:
                for source in exercise_cells(cells):
                    outputs = await kernel.execute(source)
                    result.cells_run += 1
                check = json.dumps(outputs)
                if "is_resumable" not in check:
                    raise RuntimeError(f"the exercise check showed nothing about is_resumable: {check[:300]}")
            finally:
                kernel.close()
            if every_notebook:
                listing = (await client.get(f"{server_url}/api/contents/", headers=auth)).json()["content"]
                for notebook in sorted(e["name"] for e in listing if e["name"][:2].isdigit() and e["name"].endswith(".ipynb")):
                    if notebook == FIRST_NOTEBOOK:
                        continue
                    kernel_id, cells = await _open_notebook(client, server_url, token, notebook)
                    kernel = await Kernel.connect(ws_base, kernel_id, token, user)
                    try:
                        for source in cells:
                            try:
                                await kernel.execute(source)
                            except RuntimeError as error:
                                raise RuntimeError(f"{notebook}: {error}") from None
                            result.cells_run += 1
                    finally:
                        kernel.close()
        except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
            result.error = f"{type(exc).__name__}: {exc}"[:500]


def _xsrf(client: httpx.AsyncClient) -> str:
    """The hub's _xsrf cookie (a participant's server sets one of its own under /user/NAME/)."""
    values = [cookie.value for cookie in client.cookies.jar if cookie.name == "_xsrf" and cookie.path.startswith("/hub")]
    if not values:
        raise RuntimeError("the hub set no _xsrf cookie")
    return values[-1]


async def _whoami(client: httpx.AsyncClient, xsrf: str) -> str:
    reply = await client.get("/hub/api/user", headers={"X-XSRFToken": xsrf})
    reply.raise_for_status()
    return reply.json()["name"]


# --- A room ---------------------------------------------------------------------------------------------

def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, -(-int(fraction * 100) * len(ordered) // 100) - 1))]


async def room(url: str, code: str, count: int, arrival: float, name_stem: str = "sim",
               hub_pids: list[int] | None = None, ready_timeout: float = 600, every_notebook: bool = False) -> dict:
    """``count`` participants arriving over ``arrival`` seconds; the figures of the run."""
    hub_pids = hub_pids or []
    started = time.monotonic()
    busy0, total0 = machine_cpu()
    hub_before = process_usage(hub_pids)
    results = [Participant(f"{name_stem}{i + 1:03d}") for i in range(count)]
    passwords = {r.name: secrets.token_urlsafe(9) for r in results}
    uids: dict = {}

    async def arrive(index: int, result: Participant):
        await asyncio.sleep(arrival * index / max(1, count))
        await participant(url, result.name, passwords[result.name], code, started, result, uids, ready_timeout,
                          every_notebook)

    await asyncio.gather(*(arrive(i, r) for i, r in enumerate(results)))
    elapsed = time.monotonic() - started
    busy1, total1 = machine_cpu()
    usage = account_usage({uid for uid in uids.values() if uid is not None})
    for result in results:
        uid = uids.get(f"{result.name}") or next((u for n, u in uids.items() if n.endswith(result.name)), None)
        if uid is not None and uid in usage:
            result.rss_after_mb, result.cpu_s = usage[uid]
    hub_after = process_usage(hub_pids)
    firsts = [r.login_to_first_output for r in results if r.ok]
    readies = [r.login_to_ready for r in results if r.login_to_ready is not None]
    ready_rss = [r.rss_ready_mb for r in results if r.rss_ready_mb is not None]
    after_rss = [r.rss_after_mb for r in results if r.rss_after_mb is not None]
    cpu = [r.cpu_s for r in results if r.cpu_s is not None]

    def spread(values):
        return {"median": round(statistics.median(values), 2) if values else None,
                "p95": percentile(values, 0.95), "max": max(values) if values else None}

    return {
        "participants": count, "arrival_s": arrival, "every_notebook": every_notebook, "failures": sum(not r.ok for r in results),
        "elapsed_s": round(elapsed, 1),
        "login_to_first_output_s": spread(firsts), "login_to_ready_s": spread(readies),
        "participant_rss_ready_mb": spread(ready_rss), "participant_rss_after_mb": spread(after_rss),
        "participant_rss_after_total_mb": round(sum(after_rss), 1),
        "participant_cpu_s": spread(cpu),
        "hub_and_proxy_rss_mb": {"before": hub_before[0], "after": hub_after[0]},
        "hub_and_proxy_cpu_s": round(hub_after[1] - hub_before[1], 2),
        "machine_cpu_busy_percent": round(100 * (busy1 - busy0) / max(1, total1 - total0), 1),
        "load_average": os.getloadavg(),
        "errors": [f"{r.name}: {r.error}" for r in results if r.error][:10],
        "per_participant": [dataclasses.asdict(r) for r in results],
    }


def markdown(figures: dict, command: str) -> str:
    """The figures as a markdown table a README can hold, with the command that made them."""
    def row(label, key):
        spread = figures[key]
        return f"| {label} | {spread['median']} | {spread['p95']} | {spread['max']} |"

    return "\n".join([
        f"`{command}`: {figures['participants']} participant(s) arriving over {figures['arrival_s']:.0f} s, "
        f"{figures['failures']} failures, run {figures['elapsed_s']} s, machine CPU busy "
        f"{figures['machine_cpu_busy_percent']} %, load average after {figures['load_average'][0]:.1f}",
        "",
        "| per participant | median | p95 | max |",
        "|---|---:|---:|---:|",
        row("login to first output (s)", "login_to_first_output_s"),
        row("login to server ready (s)", "login_to_ready_s"),
        row("memory, server ready (MB RSS)", "participant_rss_ready_mb"),
        row("memory, after every notebook, eight kernels (MB RSS)" if figures.get("every_notebook") else
            "memory, after 01 and 02's exercise, two kernels (MB RSS)", "participant_rss_after_mb"),
        row("CPU (s)", "participant_cpu_s"),
        "",
        f"Hub and proxy: {figures['hub_and_proxy_rss_mb']['before']} MB RSS before, "
        f"{figures['hub_and_proxy_rss_mb']['after']} MB after, {figures['hub_and_proxy_cpu_s']} CPU s over the run; "
        f"all participants' processes after the run: {figures['participant_rss_after_total_mb']} MB RSS.",
        *(f"\nFailed: {error}" for error in figures.get("errors", [])),
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Simulated participants against a running workshop hub.")
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--code", required=True, help="the workshop code")
    parser.add_argument("-n", "--participants", type=int, default=5)
    parser.add_argument("--arrival", type=float, default=60.0, help="seconds over which they arrive")
    parser.add_argument("--names", default="sim", help="their names: NAME001, NAME002, ...")
    parser.add_argument("--every-notebook", action="store_true",
                        help="then run every cell of every notebook, each in its own kernel (memory of a full day)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures = asyncio.run(room(args.url, args.code, args.participants, args.arrival, args.names,
                               every_notebook=args.every_notebook))
    print(json.dumps(figures, indent=1) if args.json else markdown(figures, " ".join(sys.argv)))
    return 0 if figures["failures"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
