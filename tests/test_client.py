"""The lab client over TCP (gnutls_lab/client.py, ``gnutls-lab connect``) against gnutls-serv and openssl s_server.

The servers are real processes on 127.0.0.1 with a lab certificate written at test time
(``LabCertificate().write_files``; nothing is committed), stopped by :class:`ExternalServer` when each
test ends. What the client saved is checked with the decoder and against the wire tap.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gnutls_lab import LabCertificate, decode_session, library_info
from gnutls_lab.network._client import check_host, connect, connect_and_resume, parse_address
from gnutls_lab.errors import UsageError
from gnutls_lab.analysis._observer import observe_connection
from gnutls_lab.network._peers import ExternalServer

pytestmark = [pytest.mark.peers, pytest.mark.timeout(120)]

KINDS = ("gnutls-serv", "openssl")
TLS_VERSIONS = ("1.3", "1.2")


@pytest.fixture(scope="module")
def lab_cert_files(tmp_path_factory):
    return LabCertificate().write_files(str(tmp_path_factory.mktemp("lab-cert")))


@pytest.fixture
def real_server(lab_cert_files):
    started = []

    def start(kind: str, tls: str, *extra: str) -> ExternalServer:
        server = ExternalServer(kind, *lab_cert_files, tls, extra_args=extra).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
        assert server.process is None


@pytest.mark.parametrize("tls", TLS_VERSIONS)
@pytest.mark.parametrize("kind", KINDS)
def test_lab_client_resumes_against_real_server(real_server, kind, tls):
    server = real_server(kind, tls)
    summaries = connect_and_resume("127.0.0.1", server.port, tls, resume=2)
    assert [s.protocol for s in summaries] == [f"TLS{tls}"] * 3
    assert [s.resumed for s in summaries] == [False, True, True], server.output[-2000:]
    assert not any(s.session_data.dummy for s in summaries)


@pytest.mark.parametrize("tls", TLS_VERSIONS)
@pytest.mark.parametrize("kind", KINDS)
def test_saved_blob_decodes_and_its_ticket_is_what_the_wire_carried(real_server, kind, tls):
    server = real_server(kind, tls)
    with connect("127.0.0.1", server.port, tls) as first:
        blob = first.session_data
        first_wire = observe_connection(first.wire)
        cipher_suite = first.cipher_suite
    with pytest.raises(UsageError, match="closed"):
        first.cipher_suite  # noqa: B018 - after close: an error, not a use-after-free
    decoded = decode_session(blob)
    assert decoded.protocol == f"TLS{tls}"
    assert decoded.cipher_suite == cipher_suite
    # our client packed it: the magic names the libgnutls running here, whatever the server is
    assert decoded.gnutls_version == library_info().version
    assert decoded.peer_certificates  # the server's chain
    with connect("127.0.0.1", server.port, tls, resume=blob) as again:
        assert again.resumed
        hello = observe_connection(again.wire).client_hellos[0]
    if tls == "1.3":
        # The PSK identity in the resuming ClientHello is the ticket stored in the blob.
        assert [p.identity for p in hello.psk_identities] == [decoded.tls13.ticket]
        assert decoded.tls13.lifetime > 0
    else:
        # TLS 1.2: the NewSessionTicket crossed the wire in clear, and comes back in the ClientHello.
        assert [t.ticket for t in first_wire.new_session_tickets] == [decoded.ticket]
        assert hello.session_ticket == decoded.ticket


@pytest.mark.parametrize("kind", KINDS)
def test_tls13_get_data_waits_through_the_socket_pull_timeout(real_server, kind):
    """Right after the handshake get_data2 waits (pull-timeout on the socket) and returns a real blob."""
    server = real_server(kind, "1.3")
    with connect("127.0.0.1", server.port, "1.3") as conn:
        assert not conn.client.ticket_received
        data = conn.client.get_data()
        assert not data.dummy and conn.client.ticket_received
        assert data.waited_ms and all(0 < ms < 10_000 for ms in data.waited_ms)  # ertt + 60 ms


def test_get_data_gives_the_dummy_when_no_ticket_comes(real_server):
    server = real_server("openssl", "1.3", "-num_tickets", "0")
    with connect("127.0.0.1", server.port, "1.3") as conn:
        data = conn.session_data
        assert data.dummy and "no NewSessionTicket" in data.reason
    summaries = connect_and_resume("127.0.0.1", server.port, "1.3", resume=1)
    assert [s.resumed for s in summaries] == [False, False]


def test_gnutls_serv_without_tickets_still_resumes_tls12_by_session_id(real_server):
    server = real_server("gnutls-serv", "1.2", "--noticket")
    summaries = connect_and_resume("127.0.0.1", server.port, "1.2", resume=1)
    assert [s.resumed for s in summaries] == [False, True]
    assert decode_session(summaries[0].session_data).ticket is None


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_connect_cli_json_shape_and_save(real_server, tmp_path, tls):
    server = real_server("gnutls-serv", tls)
    blob_path = tmp_path / "session.bin"
    result = subprocess.run([sys.executable, "-m", "gnutls_lab", "connect", f"127.0.0.1:{server.port}",
                             "--tls", tls, "--resume", "2", "--save", str(blob_path), "--json"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    handshake = subprocess.run([sys.executable, "-m", "gnutls_lab", "handshake", "--tls", tls, "--json"],
                               capture_output=True, text=True, timeout=60)
    reference = json.loads(handshake.stdout)
    assert set(reference) <= set(report)  # same top level as `gnutls-lab handshake`
    assert report["gnutls_version"] == reference["gnutls_version"]
    assert set(report["connections"][0]) == set(reference["connections"][0])
    assert [c["resumed"] for c in report["connections"]] == [False, True, True]
    assert decode_session(blob_path.read_bytes()).protocol == f"TLS{tls}"


def test_connect_refuses_remote_hosts_unless_allowed():
    for host in ("192.0.2.1", "8.8.8.8"):
        with pytest.raises(UsageError, match="not a loopback address"):
            check_host(host)
        check_host(host, allow_remote=True)  # allowed: the check is the only gate
    check_host("127.0.0.1")
    check_host("localhost")
    result = subprocess.run([sys.executable, "-m", "gnutls_lab", "connect", "192.0.2.1:443"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "--allow-remote" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_parse_address():
    assert parse_address("127.0.0.1:4433") == ("127.0.0.1", 4433)
    assert parse_address("[::1]:443") == ("::1", 443)
    for bad in ("127.0.0.1", "host:", ":443", "h:99999", "h:x"):
        with pytest.raises(UsageError, match="HOST:PORT"):
            parse_address(bad)


def test_connect_to_a_closed_port_is_one_usage_error():
    from gnutls_lab.network._peers import free_port

    with pytest.raises(UsageError, match="cannot connect"):
        connect("127.0.0.1", free_port(), "1.3")


# -- a server that streams application data (issue 20, 3.3) ----------------------------------------------
STREAMER = r"""
import socket, ssl, sys
cert, key = sys.argv[1], sys.argv[2]
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.minimum_version = ssl.TLSVersion.TLSv1_3
context.load_cert_chain(cert, key)
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
block = b"x" * 65536
while True:
    raw, _ = listener.accept()
    try:
        with context.wrap_socket(raw, server_side=True) as tls:
            while True:
                tls.sendall(block)
    except (OSError, ssl.SSLError):
        pass
"""


@pytest.fixture
def streaming_server(lab_cert_files):
    """A TLS 1.3 server that sends application data without end, as fast as the client reads (hundreds of
    MB/s over loopback): Python's ssl module, that is OpenSSL, in a process of its own, on 127.0.0.1.
    (``openssl s_server`` fed from an endless stdin does this too, but OpenSSL 3.5's stops after one
    record while it waits for the client.) Stopped by PID."""
    from gnutls_lab.network._peers import die_with_parent

    server = subprocess.Popen([sys.executable, "-c", STREAMER, *lab_cert_files], stdout=subprocess.PIPE,
                              text=True, preexec_fn=die_with_parent)
    port = int(server.stdout.readline())
    yield port
    server.terminate()
    server.wait(timeout=10)


def test_the_wire_tap_of_a_streaming_server_is_capped_and_says_so(streaming_server):
    """Before: every byte stayed in the tap (385 MB for one connection, 1.1 GB with --resume 3)."""
    import time

    from gnutls_lab.sessions._transport import MAX_TAP_BYTES

    with connect("127.0.0.1", streaming_server, "1.3", tap_limit=64 * 1024) as conn:
        assert not conn.session_data.dummy  # the tickets came before the stream
        deadline = time.monotonic() + 30
        while not conn.wire_capped and time.monotonic() < deadline:  # read on, whatever the machine's load
            conn.client.recv()
        kept = sum(len(chunk.data) for chunk in conn.wire)
        assert conn.wire_capped and kept <= 64 * 1024 and conn.wire_dropped_bytes > 0
        for _ in range(100):
            conn.client.recv()
        assert sum(len(chunk.data) for chunk in conn.wire) == kept  # nothing more kept, only counted
        assert observe_connection(conn.wire).server_hellos  # what was kept is the start, handshake whole
        summary = conn.summary()
        assert summary.wire_capped and summary.wire_dropped_bytes == conn.wire_dropped_bytes
    assert "capped" in repr(conn.wire)
    # The CLI reads for up to a second per connection: several MB from this server, unless the machine
    # stalls it; every connection stays within the cap, and says whether it was capped.
    result = subprocess.run([sys.executable, "-m", "gnutls_lab", "connect", f"127.0.0.1:{streaming_server}",
                             "--resume", "3", "--json"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    connections = json.loads(result.stdout)["connections"]
    assert [c["resumed"] for c in connections] == [False, True, True, True]
    for record in connections:
        tap = record["wire_tap"]
        assert 0 < tap["kept_bytes"] <= MAX_TAP_BYTES and tap["capped"] == (tap["dropped_bytes"] > 0)
    assert any(record["wire_tap"]["capped"] for record in connections), connections
    for _ in range(3):
        text = subprocess.run([sys.executable, "-m", "gnutls_lab", "connect", f"127.0.0.1:{streaming_server}",
                               "--resume", "2"], capture_output=True, text=True, timeout=120)
        assert text.returncode == 0, text.stderr
        if "wire tap capped: kept the first" in text.stdout:
            break
    else:
        raise AssertionError(f"no connection said it was capped: {text.stdout}")


def test_a_quiet_server_leaves_the_tap_whole(real_server):
    server = real_server("gnutls-serv", "1.3")
    with connect("127.0.0.1", server.port, "1.3") as conn:
        conn.session_data
        assert not conn.wire_capped and conn.wire_dropped_bytes == 0 and len(conn.wire) > 2
