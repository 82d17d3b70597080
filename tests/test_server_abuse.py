"""The lab server under abuse from local clients: garbage, a half ClientHello, a slow client, 100 idle
connections, more clients than it serves at once. A normal client is still served promptly, and file
descriptors and memory come back to where they started.

The one bound on time here is a liveness check with a wide margin (a normal client served within 3 s
while the abusers hold their connections; before the fix it waited 15 s or was never served).
"""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from gnutls_lab import Lab
from gnutls_lab.network._client import connect
from gnutls_lab.network._server import LabServer

pytestmark = pytest.mark.timeout(300)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


def client_hello() -> bytes:
    with Lab("1.3").connect() as conn:
        return conn.wire[0].data  # the client's first flight: one record holding the ClientHello


def raw_connection(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def wait_for(condition, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_abusive_clients_do_not_hold_off_a_normal_one():
    hello = client_hello()
    with LabServer(0, "1.3", handshake_timeout=3.0, idle_timeout=1.0) as server:
        worker = threading.Thread(target=server.serve_forever, daemon=True)
        worker.start()
        with connect("127.0.0.1", server.port) as warm:  # first use: lazy set-up outside the baseline
            assert warm.protocol == "TLS1.3"
        assert len(server.wait_served(1, 20)) == 1
        fds, rss = open_fds(), rss_kib()

        abusers = []
        garbage = raw_connection(server.port)
        garbage.sendall(os.urandom(700))
        half = raw_connection(server.port)
        half.sendall(hello[: len(hello) // 2])
        abusers += [garbage, half]
        slow = raw_connection(server.port)
        stop_slow = threading.Event()

        def drip():  # one byte per 0.2 s of a real ClientHello, until told to stop
            for byte in hello:
                if stop_slow.wait(0.2):
                    return
                try:
                    slow.sendall(bytes([byte]))
                except OSError:
                    return

        dripper = threading.Thread(target=drip, daemon=True)
        dripper.start()
        idle = [raw_connection(server.port) for _ in range(100)]
        abusers += idle + [slow]

        started = time.monotonic()
        with connect("127.0.0.1", server.port) as normal:
            served_in = time.monotonic() - started
            assert normal.protocol == "TLS1.3"
        assert served_in < 3.0, f"a normal client waited {served_in:.1f} s behind the abusive ones"

        # The deadlines end every abusive connection on the server's side, without our help.
        assert len(server.wait_served(105, 30)) >= 105, f"{len(server.served)} connections ended"
        errors = [record.error for record in server.served if record.error]
        assert any("timed out" in error for error in errors)  # the idle ones and the slow one
        assert sum(1 for record in server.served if not record.error) >= 2  # warm-up and the normal client
        stop_slow.set()
        dripper.join(5)
        for sock in abusers:
            sock.close()
        assert wait_for(lambda: open_fds() <= fds), f"{open_fds()} file descriptors open, {fds} before"
        grown = rss_kib() - rss
        assert grown < 64 * 1024, f"resident memory grew by {grown} KiB after 100 idle connections"
        server.stop()
        worker.join(30)
        assert not worker.is_alive()


def test_connections_beyond_max_clients_are_refused_at_once():
    with LabServer(0, "1.2", handshake_timeout=5.0, max_clients=2) as server:
        worker = threading.Thread(target=server.serve_forever, daemon=True)
        worker.start()
        held = [raw_connection(server.port) for _ in range(2)]
        assert wait_for(lambda: len([t for t in server._workers if t.is_alive()]) == 2, 10)
        extra = raw_connection(server.port)
        extra.settimeout(5)
        assert extra.recv(10) == b""  # closed by the server without waiting for anything
        assert wait_for(lambda: any("refused" in record.error for record in server.served), 10)
        for sock in held + [extra]:
            sock.close()
        server.stop()
        worker.join(30)
        assert not worker.is_alive()


def test_server_settings_are_checked():
    from gnutls_lab.errors import UsageError

    for options in ({"handshake_timeout": 0}, {"idle_timeout": -1}, {"idle_timeout": float("nan")},
                    {"max_clients": 0}, {"max_clients": 10**6}, {"max_clients": True}):
        with pytest.raises(UsageError):
            LabServer(0, "1.3", **options)
