"""Threads and the garbage collector against the binding's process-lifetime callbacks (docs/threads.md).

Both run in a fresh subprocess: a crash is a failed test naming the signal, and the process starts cold
(library not yet loaded, callbacks not yet built) so that first use happens under the stress too.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.timeout(300)


def run_child(code: str, *args: str) -> dict:
    child = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=240)
    if child.returncode < 0:
        pytest.fail(f"the child died of {signal.Signals(-child.returncode).name}: {child.stderr[-2000:]}")
    assert child.returncode == 0, child.stderr[-3000:]
    return json.loads(child.stdout.strip().splitlines()[-1])


GC_STRESS = textwrap.dedent(r'''
    import gc, json, sys
    from gnutls_lab import Lab
    from gnutls_lab.sessions._credentials import CertificateCredentials, LabCertificate
    from gnutls_lab.sessions._session import ClientSession, ServerSession, generate_ticket_key, pump
    from gnutls_lab.sessions._transport import MemoryEndpoint, memory_pair

    tls = sys.argv[1]
    nested = Lab(tls)  # handshakes run from inside another session's callbacks
    calls = {"push": 0, "nested": 0}

    class CollectingEndpoint(MemoryEndpoint):
        """A transport whose push callback drops sessions, runs a whole handshake and forces a GC."""

        memory = False  # through the generic push callback (and this method), not the inlined one

        def push(self, data):
            calls["push"] += 1
            orphan = ClientSession(CertificateCredentials(), tls, endpoint=MemoryEndpoint("client"))
            del orphan  # never closed: only ffi.gc (via the cycle collector) frees it
            if calls["push"] % 3 == 0:
                conn = nested.connect()  # re-entrant: libgnutls is inside our push right now
                calls["nested"] += conn.resumed is False
                del conn  # dropped open, mid-flight for the collector
            gc.collect()
            return super().push(data)

    server_credentials = CertificateCredentials(LabCertificate())
    key = generate_ticket_key()
    results = []
    data = None
    for round_ in range(60):
        client_end, server_end = CollectingEndpoint("client", []), CollectingEndpoint("server", [])
        client_end.peer, server_end.peer = server_end, client_end
        server = ServerSession(server_credentials, tls, endpoint=server_end, ticket_key=key)
        client = ClientSession(CertificateCredentials(), tls, endpoint=client_end)
        if data is not None:
            client.set_data(data)
        pump(client, server)
        resumed = client.is_resumed()
        if data is None or tls == "1.3":
            client.recv()  # TLS 1.3: read the tickets that followed the handshake
            data = client.get_data()
        results.append(resumed)
        del client, server  # dropped, not closed: the collector runs inside the next round's callbacks
    print(json.dumps({"results": results, "calls": calls, "dummy": data.dummy}))
''')


@pytest.mark.parametrize("tls", ["1.3", "1.2"])
def test_gc_inside_callbacks_while_sessions_are_mid_handshake(tls):
    report = run_child(GC_STRESS, tls)
    assert report["results"] == [False] + [True] * 59  # every later round resumed
    assert report["calls"]["push"] >= 2 * 60 and report["calls"]["nested"] >= 40  # both sides, every round
    assert not report["dummy"]


THREADS = textwrap.dedent(r'''
    import json, sys, threading
    from gnutls_lab import Lab

    rounds = int(sys.argv[1])
    start = threading.Barrier(2)
    out = {}

    def worker(name, tls):
        start.wait()  # both threads hit first use of the library and callbacks together
        lab = Lab(tls)
        seen = []
        data = None
        for i in range(rounds):
            with lab.connect(resume=data) as conn:
                seen.append((conn.protocol, conn.resumed, conn.offered_resumption))
                if data is None:
                    data = conn.session_data
        out[name] = {"seen": seen, "blob": data.data.hex(), "ticket_key": lab.ticket_key.hex()}

    threads = [threading.Thread(target=worker, args=(f"t{n}", tls)) for n, tls in enumerate(["1.3", "1.2"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=200)
    out["alive"] = [t.is_alive() for t in threads]
    # Isolation: a blob from one thread's lab does not resume on the other thread's lab (another key).
    from gnutls_lab import Lab as _Lab
    with _Lab("1.3").connect(resume=bytes.fromhex(out["t0"]["blob"])) as conn:
        out["cross_resumed"] = conn.resumed
    print(json.dumps(out))
''')


def test_two_threads_with_their_own_labs_get_correct_results():
    rounds = 400
    report = run_child(THREADS, str(rounds))
    assert report["alive"] == [False, False]
    for name, protocol in (("t0", "TLS1.3"), ("t1", "TLS1.2")):
        seen = report[name]["seen"]
        assert len(seen) == rounds
        assert seen[0] == [protocol, False, False]
        assert all(s == [protocol, True, True] for s in seen[1:]), [s for s in seen if s[1] is False][:3]
    assert report["t0"]["ticket_key"] != report["t1"]["ticket_key"]
    assert report["cross_resumed"] is False
