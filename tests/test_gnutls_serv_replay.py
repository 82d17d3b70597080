"""``gnutls-serv --earlydata`` and a replayed 0-RTT first flight, on the real clock (issue 17 §2.5).

gnutls-serv creates one anti-replay context at start-up with libgnutls's default 10 s window, and a store
that remembers (its session cache). A lab client takes a ticket, resumes with early data 8.3 s after the
server started, and its first flight, recorded on the wire, is sent again on new TCP connections: at 9.0 s
(the same recording period: refused as a duplicate) and at 11.5 s (the first check after the window starts a
new period; 3.2 s after the original the flight is still fresh: accepted). What libgnutls decided is read from
gnutls-serv's debug log (``-d 4``): the replay never completes its handshake, so nothing else says.

gnutls-serv itself reads early data only once a handshake has completed (``src/serv.c``), which a replay
never does: the program would not act on the replayed request, but the library inside it accepted it, and a
server that reads early data during the handshake (as 0-RTT is meant to be used) would. The test takes about
12 s, the window gnutls-serv does not let one change.
"""

from __future__ import annotations

import socket
import time

import pytest

from gnutls_lab import Lab, library_info
from gnutls_lab.network._peers import ExternalServer
from gnutls_lab.sessions._early_data import EarlyDataClientSession, first_flight
from gnutls_lab.sessions._transport import SocketEndpoint

pytestmark = pytest.mark.timeout(120)


def _client(lab, port, data=None, early=b""):
    """One lab client connection over TCP; (resumed, early data accepted, session data, wire tap)."""
    wire: list = []
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    client = EarlyDataClientSession(lab.client_credentials, lab.client_priority,
                                    endpoint=SocketEndpoint(sock, "client", wire))
    try:
        if data is not None:
            client.set_data(data)
            client.send_early_data(early)
        while not client.handshake_step():
            pass
        return client.is_resumed(), client.early_data_accepted, client.get_data() if data is None else None, wire
    finally:
        client.close()
        sock.close()


def _replay(server, flight: bytes) -> str:
    """Send the recorded flight on a new connection, never answer; what the server's libgnutls logged."""
    before = len(server.output)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(flight)
        sock.settimeout(0.5)
        try:
            while sock.recv(65536):
                pass
        except socket.timeout:
            pass
    time.sleep(0.2)
    log = server.output[before:]
    if "early data accepted" in log:
        return "accepted"
    if "duplicate ClientHello found" in log:
        return "duplicate"
    return "refused"


def test_gnutls_serv_accepts_a_replay_after_its_anti_replay_period_rolls_over(tmp_path):
    lab = Lab("1.3")
    cert, key = lab.certificate.write_files(str(tmp_path))
    started = time.monotonic()  # gnutls-serv's anti-replay context starts at or after this instant
    with ExternalServer("gnutls-serv", cert, key, extra_args=("--earlydata", "-d", "4")) as server:
        up = time.monotonic() - started
        assert up < 1.0, f"gnutls-serv took {up:.2f} s to start: the timeline needs its period to begin within 1 s"
        _, _, ticket, _ = _client(lab, server.port)

        def at(seconds):
            time.sleep(max(0.0, started + seconds - time.monotonic()))
            return time.monotonic() - started

        resumed_at = at(8.3)
        resumed, accepted, _, wire = _client(lab, server.port, ticket, b"GET / HTTP/1.0\r\n\r\n")
        assert resumed and accepted, f"the honest 0-RTT resumption failed on GnuTLS {library_info().version}"
        flight = first_flight(wire)
        at(9.0)
        same_period = _replay(server, flight)
        replayed_at = at(11.5)
        after_rollover = _replay(server, flight)
    assert replayed_at - resumed_at < 10  # within the window of the original: fresh by its ticket age
    assert same_period == "duplicate"
    assert after_rollover == "accepted", server.output[-2000:]
