"""Resources: thousands of handshakes do not grow memory, and every C object is released when closed.

Memory is the resident set (``VmRSS`` in /proc/self/status) of a fresh Python subprocess, measured after
a warm-up (allocator pools, priority cache, callbacks) and after ``gc.collect()``. A control run shows
the measurement is sensitive: the same loop without ``close()`` and with the cycle collector off grows
by tens of megabytes, so the explicit closes (context managers) are what free libgnutls's memory and
``ffi.gc`` is only the backstop.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from gnutls_lab import Lab, LabCertificate
from gnutls_lab.sessions import CertificateCredentials, PskCredentials

pytestmark = pytest.mark.timeout(300)

LOOP = textwrap.dedent(r'''
    import gc, json, sys
    from gnutls_lab import Lab

    def rss_mb():
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024

    tls, count, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    lab = Lab(tls)
    with lab.connect() as first:
        data = first.session_data

    def run(n):
        global data
        resumed = 0
        for i in range(n):
            if mode == "leak":  # the control: nothing closed, cycle collector off
                conn = lab.connect(resume=data)
                resumed += conn.resumed
                continue
            if i % 50 == 0:  # now and then a full handshake and a fresh blob, as a browser would
                with lab.connect() as conn:
                    data = conn.session_data
                continue
            with lab.connect(resume=data) as conn:
                resumed += conn.resumed
                conn.session_data  # get_data2: a library-allocated datum, copied and freed
        return resumed

    run(300)
    gc.collect()
    if mode == "leak":
        gc.disable()
    before = rss_mb()
    resumed = run(count)
    if mode != "leak":
        gc.collect()
    print(json.dumps({"growth_mb": rss_mb() - before, "resumed": resumed, "before_mb": before}))
''')


def measure(tls: str, count: int, mode: str) -> dict:
    child = subprocess.run([sys.executable, "-c", LOOP, tls, str(count), mode], capture_output=True, text=True,
                           timeout=240)
    assert child.returncode == 0, child.stderr[-2000:]
    return json.loads(child.stdout)


@pytest.mark.slow
@pytest.mark.parametrize("tls", ["1.3", "1.2"])
def test_5000_handshakes_with_resumption_grow_rss_by_less_than_20_mb(tls):
    result = measure(tls, 5000, "closed")
    assert result["resumed"] == 5000 - 5000 // 50  # every attempt that offered data resumed
    assert result["growth_mb"] < 20, result


def test_the_measurement_sees_unclosed_sessions():
    """Control: 2,000 connections left open (cycle collector off) are plainly visible in RSS."""
    leaked = measure("1.3", 2000, "leak")
    assert leaked["growth_mb"] > 10, leaked
    closed = measure("1.3", 2000, "closed")
    assert closed["growth_mb"] < leaked["growth_mb"] / 5, (closed, leaked)


def test_context_managers_release_sessions_and_credentials():
    lab = Lab("1.3")
    with lab.connect() as conn:
        assert not conn.client.closed and not conn.server.closed
    assert conn.client.closed and conn.server.closed
    conn.close()  # idempotent
    with CertificateCredentials(LabCertificate()) as server_credentials:
        assert server_credentials._handle is not None
    assert server_credentials._handle is None
    with PskCredentials("client", "user", b"k" * 32) as psk:
        pass
    assert psk._handle is None


def test_lab_server_and_remote_connections_release_what_they_own():
    import threading

    from gnutls_lab.network._client import connect
    from gnutls_lab.network._server import LabServer

    with LabServer(0, "1.3", idle_timeout=0.2) as server:
        worker = threading.Thread(target=server.serve_forever, kwargs={"max_connections": 1})
        worker.start()
        try:
            with connect("127.0.0.1", server.port, "1.3") as conn:
                owned = conn._owned_credentials
                assert owned._handle is not None
        finally:
            worker.join(timeout=20)
        assert not worker.is_alive()
        assert conn.client.closed and owned._handle is None and conn.sock.fileno() == -1
    assert server.credentials._handle is None and server._listener.fileno() == -1
