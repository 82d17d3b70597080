"""gnutls_lab.analysis._recorded on live handshakes: a stolen ticket key reads recorded TLS 1.2 traffic,
and a recorded TLS 1.3 resumption exactly when the server chose psk_ke; secrets stay redacted in reprs."""

from __future__ import annotations

import pytest

import gnutls_lab
from course import tracking
from gnutls_lab import ClientSession, GnuTLSLabError, Lab, ServerSession, TicketKeyError, UsageError, memory_pair, pump
from gnutls_lab.analysis._recorded import read_recorded_resumption, read_recorded_tls12


def test_public_api_and_course_use_the_library_readers():
    assert gnutls_lab.read_recorded_tls12 is read_recorded_tls12 is tracking.read_recorded_tls12
    assert gnutls_lab.read_recorded_resumption is read_recorded_resumption is tracking.read_recorded_resumption


def _converse(client, server):
    client.send(b"GET /account HTTP/1.1\r\n\r\n")
    server.read_available()
    server.send(b"HTTP/1.1 200 OK\r\n\r\nbalance: 42")
    client.read_available()


def test_read_recorded_tls12_full_handshake_and_resumption():
    lab = Lab("1.2")
    with lab.connect(keylog=True) as full:
        _converse(full.client, full.server)
        read = read_recorded_tls12(full.wire, lab.ticket_key)
        assert read.master_secret == full.client.master_secret()
        assert read.keylog_line == full.client.keylog_lines()[0]
        assert read.client_data == b"GET /account HTTP/1.1\r\n\r\n"
        assert read.server_data == b"HTTP/1.1 200 OK\r\n\r\nbalance: 42"
        assert read.master_secret.hex() not in repr(read) and "redacted" in repr(read)
        data = full.session_data
    with lab.connect(resume=data) as again:
        assert again.resumed
        _converse(again.client, again.server)
        read = read_recorded_tls12(again.wire, lab.ticket_key)
        assert read.master_secret == again.client.master_secret() and read.client_data.startswith(b"GET")
    with pytest.raises(TicketKeyError):
        read_recorded_tls12(again.wire, Lab("1.2").ticket_key)  # another server's key
    no_tickets = Lab("1.2", tickets=False)
    with no_tickets.connect() as conn, pytest.raises(UsageError):
        read_recorded_tls12(conn.wire, no_tickets.ticket_key)


def _resume_with(lab, data, server_priority):
    wire = []
    client_end, server_end = memory_pair(wire)
    server = ServerSession(lab.server_credentials, server_priority, endpoint=server_end, ticket_key=lab.ticket_key)
    client = ClientSession(lab.client_credentials, lab.priority, endpoint=client_end, server_name=lab.server_name,
                           keylog=True)
    client.set_data(data)
    pump(client, server)
    _converse(client, server)
    return client, server, wire


@pytest.mark.parametrize("extra,exposed", [("", False), (":+PSK", True)])
def test_read_recorded_resumption_depends_on_the_psk_key_exchange_mode(extra, exposed):
    lab = Lab("1.3")
    with lab.connect() as first:
        data = first.session_data
    client, server, wire = _resume_with(lab, data, lab.priority + extra)
    try:
        assert client.is_resumed()
        read = read_recorded_resumption(wire, lab.ticket_key)
        keylog = dict(client.keylog)
        assert read.key_share is not exposed
        assert all(secret.hex() not in repr(read) for secret in read.secrets.values()) and read.psk.hex() not in repr(read)
        assert read.secrets["CLIENT_EARLY_TRAFFIC_SECRET"] == keylog["CLIENT_EARLY_TRAFFIC_SECRET"]  # PSK only
        handshake_match = read.secrets["SERVER_HANDSHAKE_TRAFFIC_SECRET"] == keylog["SERVER_HANDSHAKE_TRAFFIC_SECRET"]
        assert handshake_match is exposed
        if exposed:
            assert all(read.secrets[label] == keylog[label] for label in read.secrets)
            assert read.client_data == b"GET /account HTTP/1.1\r\n\r\n" and read.server_data.endswith(b"balance: 42")
        else:
            assert read.client_data is None and read.server_data is None
    finally:
        client.close()
        server.close()


def test_read_recorded_resumption_needs_a_resumption():
    lab = Lab("1.3")
    with lab.connect() as full, pytest.raises(GnuTLSLabError):
        read_recorded_resumption(full.wire, lab.ticket_key)
