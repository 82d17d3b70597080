"""Sessions and session data against the real libgnutls: each behaviour the get_data2 man page states."""

from __future__ import annotations

import struct

import pytest

from gnutls_lab import (
    BlobFormatError,
    ClientSession,
    FakeClock,
    GnuTLSError,
    Lab,
    ServerSession,
    UsageError,
    memory_pair,
    pump,
)
from gnutls_lab.sessions import SessionCache
from gnutls_lab.binding import load
from gnutls_lab.sessions._session import DUMMY, session_flag_names

GNUTLS_NONBLOCK = load()[1].GNUTLS_NONBLOCK
GNUTLS_ENABLE_FALSE_START = load()[1].GNUTLS_ENABLE_FALSE_START


def _pair(lab, *, client_flags=0, **server_kwargs):
    client_end, server_end = memory_pair([])
    server = ServerSession(lab.server_credentials, lab.priority, endpoint=server_end,
                           ticket_key=lab.ticket_key, **server_kwargs)
    client = ClientSession(lab.client_credentials, lab.priority, endpoint=client_end, flags=client_flags)
    return client, server


# -- full and resumed handshakes ------------------------------------------------------------------

def test_tls13_full_then_resumed_with_the_session_data(lab13):
    with lab13.connect() as first:
        assert first.protocol == "TLS1.3"
        assert not first.resumed
        data = first.session_data
        assert not data.dummy and data.data[:4] != DUMMY
    with lab13.connect(resume=data) as again:
        assert again.resumed and again.server.is_resumed()
        assert [m.name for m in again.transcript][:4] == [
            "CLIENT HELLO", "SERVER HELLO", "ENCRYPTED EXTENSIONS", "FINISHED"]
        assert "CERTIFICATE" not in [m.name for m in again.transcript]


def test_a_tls13_ticket_is_accepted_again_and_again(lab13):
    """GnuTLS servers are stateless about tickets: reuse is the client's choice (RFC 8446 C.4)."""
    with lab13.connect() as first:
        data = first.session_data
    for _ in range(3):
        with lab13.connect(resume=data) as again:
            assert again.resumed


def test_tls12_resumed_by_ticket(lab12):
    with lab12.connect() as first:
        assert first.protocol == "TLS1.2"
        assert "SESSION_TICKET" in first.client.flags
        assert "NEW SESSION TICKET" in [m.name for m in first.transcript]
        data = first.session_data
    with lab12.connect(resume=data) as again:
        assert again.resumed
        # Abbreviated handshake, and no new ticket on a successful ticket resumption.
        assert [(m.sender, m.name) for m in again.transcript] == [
            ("client", "CLIENT HELLO"), ("server", "SERVER HELLO"), ("server", "FINISHED"), ("client", "FINISHED")]


def test_tls12_resumed_by_session_id_through_the_python_cache():
    lab = Lab("1.2", tickets=False, session_cache=True)
    with lab.connect() as first:
        data = first.session_data
        session_id = first.client.session_id()
        assert "SESSION_TICKET" not in first.client.flags
    assert len(session_id) == 32
    assert list(lab.cache.entries) == [session_id]
    stored = lab.cache.entries[session_id]
    assert struct.unpack(">I", stored[:4]) == struct.unpack(">I", data.data[:4])  # same magic
    with lab.connect(resume=data) as again:
        assert again.resumed
        assert again.client.session_id() == session_id
    assert [(op, key) for op, key, _ in lab.cache.events] == [("store", session_id.hex()), ("retrieve", session_id.hex())]
    lab.cache.clear()
    with lab.connect(resume=data) as refused:
        assert refused.offered_resumption and not refused.resumed


def test_tls12_get_data_on_a_resumed_session_returns_the_input_bytes(lab12):
    with lab12.connect() as first:
        data = first.session_data
    with lab12.connect(resume=data) as again:
        assert again.resumed
        assert again.client.get_data().data == data.data


def test_psk_and_anonymous_handshakes():
    with Lab("1.3", auth="psk").connect() as conn:
        assert conn.client.auth_type == "psk" and conn.protocol == "TLS1.3"
        # An external PSK is bound to SHA-256 here, so the SHA-384 suite GnuTLS prefers is out.
        assert conn.cipher_suite.endswith("_SHA256")
        assert "CERTIFICATE" not in [m.name for m in conn.transcript]
    with Lab("1.2", auth="anon").connect() as conn:
        assert conn.client.auth_type == "anon"
        assert "ANON" in conn.cipher_suite or "anon" in conn.cipher_suite
    with pytest.raises(UsageError):
        Lab("1.3", auth="anon")


def test_rsa_certificate_and_peer_chain():
    lab = Lab("1.2", certificate="rsa")
    with lab.connect() as conn:
        assert "RSA" in conn.cipher_suite
        assert conn.client.peer_certificates() == [lab.certificate.der]


# -- get_data2, exactly as the man page says --------------------------------------------------------

def test_get_data_before_the_handshake(lab12, lab13):
    """The man page says it fails. libgnutls 3.7/3.8 fail only when TLS 1.3 is not enabled, and with
    GNUTLS_E_INTERNAL_ERROR (3.7.9, 3.8.9 and 3.8.13 alike); with TLS 1.3 in the priority the client
    treats the session as TLS 1.3 "without a ticket yet", waits and returns the dummy."""
    client, server = _pair(lab12)
    with client, server:
        with pytest.raises(GnuTLSError) as err:
            client.get_data()
        # the name is libgnutls's own (gnutls_strerror_name of the code it returned)
        assert (err.value.function, err.value.code, err.value.name) == (
            "gnutls_session_get_data2", -59, "GNUTLS_E_INTERNAL_ERROR")
    client, server = _pair(lab13)
    with client, server:
        data = client.get_data()
        assert data.dummy and "before the handshake" in data.reason


def test_tls13_without_a_ticket_gives_dummy_data_after_a_round_trip_wait():
    lab = Lab("1.3", auto_tickets=False)
    with lab.connect() as conn:
        assert not conn.client.ticket_received
        data = conn.session_data
        assert data.dummy and data.data == DUMMY and len(data) == 4
        assert "no NewSessionTicket" in data.reason
        # The library asked the transport to wait for one record: ertt (0 in-process) + 60 ms.
        assert data.waited_ms and data.waited_ms[0] >= 60
        with lab.connect(resume=data) as again:  # set_data accepts the dummy and does nothing
            assert again.offered is not None and not again.offered_resumption and not again.resumed


def test_nonblocking_sessions_do_not_wait_for_the_ticket():
    lab = Lab("1.3", auto_tickets=False)
    client, server = _pair(lab, client_flags=GNUTLS_NONBLOCK, auto_tickets=False)
    with client, server:
        pump(client, server)
        data = client.get_data()
        assert data.dummy and data.waited_ms == ()


def test_the_ticket_flag_is_set_once_a_ticket_arrived(lab13):
    with lab13.connect() as conn:
        assert not conn.client.ticket_received  # still in the client's inbox
        conn.tickets
        assert conn.client.ticket_received
        assert "SESSION_TICKET" in conn.client.flags
    assert session_flag_names(128 | 2) == ["EXT_MASTER_SECRET", "SESSION_TICKET"]


def test_each_call_after_new_tickets_returns_the_last_one():
    lab = Lab("1.3", extra_tickets=1)
    with lab.connect() as conn:
        tickets = conn.tickets
        nsts = [m for m in conn.transcript if m.name == "NEW SESSION TICKET"]
        assert len(nsts) == 3 and len(tickets) == 3  # 2 automatic + 1 gnutls_session_ticket_send
        assert len({t.data for t in tickets}) == 3
        assert conn.session_data == tickets[-1]
        assert conn.client.get_data() == tickets[-1]
        conn.server.send_tickets(2)
        assert len(conn.tickets) == 5 and conn.session_data == conn.tickets[-1]
        for data in conn.tickets:  # every one of them resumes
            with lab.connect(resume=data) as again:
                assert again.resumed


def test_the_received_ticket_is_captured_whole_in_the_pre_hook(lab13):
    with lab13.connect() as conn:
        conn.tickets
        nst = [m for m in conn.transcript if m.name == "NEW SESSION TICKET"][-1]
        assert nst.sender == "server"
        lifetime, age_add, nonce_len = struct.unpack(">IIB", nst.body[:9])
        assert lifetime == 21600  # libgnutls's default expire_time
        ticket_len = struct.unpack(">H", nst.body[9 + nonce_len: 11 + nonce_len])[0]
        ticket = nst.body[11 + nonce_len: 11 + nonce_len + ticket_len]
        assert ticket in conn.session_data.data


def test_a_tls13_server_gets_dummy_data(lab13):
    with lab13.connect() as conn:
        data = conn.server.get_data()
        assert data.dummy and "server never receives tickets" in data.reason


def test_false_start_data_is_available_only_after_data_from_the_peer(lab12):
    client, server = _pair(lab12, client_flags=GNUTLS_ENABLE_FALSE_START)
    with client, server:
        while not client.handshake_step():
            server.handshake_step()
        assert not server.handshake_done and "FALSE_START" in client.flags
        with pytest.raises(GnuTLSError) as err:
            client.get_data()
        assert err.value.name == "GNUTLS_E_UNAVAILABLE_DURING_HANDSHAKE"
        assert server.handshake_step()
        server.send(b"hello")
        assert client.recv() == b"hello"
        assert not client.get_data().dummy


def test_resumed_means_the_library_said_so_not_that_data_was_offered(lab13):
    with lab13.connect() as first:
        data = first.session_data
    other = Lab("1.3")  # another server, another ticket key
    with other.connect(resume=data) as conn:
        assert conn.offered_resumption and not conn.resumed
        assert "refused" in conn.explain()


def test_foreign_and_corrupted_blobs_are_refused_by_set_data(lab13):
    with lab13.connect() as first:
        data = bytearray(first.session_data.data)
    other_version = bytes([data[0], data[1], data[2] ^ 0x01, data[3]]) + bytes(data[4:])
    for blob in (other_version, b"\x01\x02\x03\x04\x05\x06\x07\x08"):  # libgnutls refuses the magic
        client, server = _pair(lab13)
        with client, server, pytest.raises(GnuTLSError) as err:
            client.set_data(blob)
        assert err.value.name == "GNUTLS_E_DB_ERROR"
    # The running version's magic on a malformed blob: gnutls-lab refuses it before libgnutls.
    client, server = _pair(lab13)
    with client, server, pytest.raises(BlobFormatError) as err:
        client.set_data(bytes(data[:40]))
    assert "refused before libgnutls" in str(err.value)


# -- server policy knobs ----------------------------------------------------------------------------

@pytest.mark.parametrize("lifetime", [0, -1, 604801, True, 1.5])
def test_bad_lifetimes_are_refused_before_libgnutls_sees_them(lifetime):
    with pytest.raises(UsageError):
        Lab("1.3", lifetime=lifetime)


def test_the_lifetime_is_what_the_ticket_says():
    lab = Lab("1.3", lifetime=7200)
    with lab.connect() as conn:
        conn.tickets
        nst = [m for m in conn.transcript if m.name == "NEW SESSION TICKET"][0]
        assert struct.unpack(">I", nst.body[:4])[0] == 7200


def test_tickets_off_means_no_ticket():
    lab = Lab("1.3", tickets=False)
    with lab.connect() as conn:
        assert conn.tickets == [] and conn.session_data.dummy
    lab12 = Lab("1.2", tickets=False)
    with lab12.connect() as conn:
        assert "NEW SESSION TICKET" not in [m.name for m in conn.transcript]

def test_a_tls13_client_without_tickets_still_receives_them_but_does_not_offer_them():
    """GNUTLS_NO_TICKETS on a TLS 1.3 client stops it offering tickets; the server still sends them
    and get_data2 still packs them (another client can resume with that blob)."""
    lab = Lab("1.3", client_tickets=False)
    with lab.connect() as conn:
        assert len(conn.tickets) == 2
        data = conn.session_data
    with lab.connect(resume=data) as again:
        assert again.offered_resumption and not again.resumed
    lab.client_tickets = True
    with lab.connect(resume=data) as again:
        assert again.resumed


def test_a_rotated_ticket_key_refuses_old_tickets():
    lab = Lab("1.3")
    with lab.connect() as first:
        data = first.session_data
    lab.rotate_ticket_key()
    with lab.connect(resume=data) as again:
        assert not again.resumed


# -- fake clock expiry ---------------------------------------------------------------------------------

def test_expiry_under_the_fake_clock_tls13():
    lab = Lab("1.3", lifetime=7200)
    with FakeClock() as clock:
        with lab.connect() as first:
            data = first.session_data
        clock.advance(3600)
        with lab.connect(resume=data) as again:
            assert again.resumed
        clock.advance(3660)  # 7260 s after issue
        with lab.connect(resume=data) as late:
            assert late.offered_resumption and not late.resumed


def test_expiry_under_the_fake_clock_tls12_cache():
    lab = Lab("1.2", tickets=False, session_cache=True)
    with FakeClock() as clock:
        with lab.connect() as first:
            data = first.session_data
        clock.advance(21540)
        with lab.connect(resume=data) as again:
            assert again.resumed
        clock.advance(120)  # 21660 s: past the default 21600
        with lab.connect(resume=data) as late:
            assert not late.resumed


# -- observation ------------------------------------------------------------------------------------------

def test_the_wire_tap_sees_every_byte_both_ways(lab13):
    with lab13.connect() as conn:
        conn.tickets
        client_bytes = b"".join(c.data for c in conn.wire if c.sender == "client")
        server_bytes = b"".join(c.data for c in conn.wire if c.sender == "server")
        assert client_bytes[0] == 22 and server_bytes[0] == 22  # handshake records first
        hello = conn.transcript[0]
        assert hello.name == "CLIENT HELLO" and hello.body in client_bytes
        # After the ServerHello everything is encrypted: application_data records (type 23).
        offset, types = 0, []
        while offset < len(server_bytes):
            types.append(server_bytes[offset])
            offset += 5 + int.from_bytes(server_bytes[offset + 3:offset + 5], "big")
        assert types[0] == 22 and set(types[1:]) <= {20, 23} and 23 in types


def test_observation_off_records_nothing(lab13):
    with lab13.connect(observe=False) as conn:
        assert conn.transcript == [] and conn.wire == []
        assert not conn.session_data.dummy


def test_keylog_lines_for_wireshark(lab13):
    with lab13.connect(keylog=True) as conn:
        labels = [label for label, _ in conn.client.keylog]
        assert "CLIENT_HANDSHAKE_TRAFFIC_SECRET" in labels and "SERVER_TRAFFIC_SECRET_0" in labels
        client_random = conn.client.randoms()[0].hex()
        for line in conn.client.keylog_lines():
            label, random_hex, secret_hex = line.split()
            assert random_hex == client_random and len(bytes.fromhex(secret_hex)) in (32, 48)


def test_an_exception_in_a_callback_comes_back_to_python(lab13):
    class Boom(RuntimeError):
        pass

    client, server = _pair(lab13)

    def explode(*args):
        raise Boom("from the hook")

    client._on_handshake_message = explode
    with client, server, pytest.raises(Boom):
        pump(client, server)


def test_an_exception_in_the_session_cache_comes_back_to_python():
    class Unavailable(RuntimeError):
        pass

    class BrokenCache(SessionCache):
        def _store(self, key, data):
            raise Unavailable("cache unavailable")

    lab = Lab("1.2", tickets=False, session_cache=True)
    lab.cache = BrokenCache()
    with pytest.raises(Unavailable, match="cache unavailable"):
        lab.connect()
    assert lab.cache._callback_error is None  # raised once, by the session that made the call
    lab.close()


def test_records_flow_both_ways(lab13):
    with lab13.connect() as conn:
        conn.client.send(b"ping")
        assert conn.server.recv() == b"ping"
        conn.server.send(b"pong")
        assert conn.client.read_available() == b"pong"
        assert conn.client.recv() is None


def test_closed_sessions_are_safe_to_close_again_and_to_touch(lab13):
    conn = lab13.connect()
    conn.close()
    conn.close()
    assert conn.client.closed and "closed" in repr(conn.client)
    # After gnutls_deinit every use is a clear error, not a read of freed memory.
    for use in (lambda: conn.cipher_suite, lambda: conn.resumed, lambda: conn.client.session_id(),
                lambda: conn.client.get_data(), lambda: conn.server.send_tickets(1), lambda: conn.session_data):
        with pytest.raises(UsageError, match="closed"):
            use()


def test_every_place_that_takes_a_ticket_key_checks_it_the_same_way(tmp_path):
    from gnutls_lab.network import LabServer, save_ticket_key
    from gnutls_lab.sessions import TICKET_KEY_SIZE, check_ticket_key, generate_ticket_key

    key = generate_ticket_key()
    assert len(key) == TICKET_KEY_SIZE == 64 and check_ticket_key(bytearray(key)) == key
    short = key[:63]
    end = memory_pair([])[1]
    lab = Lab("1.3")
    for take in (check_ticket_key, lambda k: Lab("1.3", ticket_key=k), lambda k: LabServer(ticket_key=k),
                 lambda k: save_ticket_key(str(tmp_path / "key"), k),
                 lambda k: ServerSession(lab.server_credentials, lab.priority, endpoint=end, ticket_key=k)):
        with pytest.raises(UsageError, match="^a GnuTLS ticket master key is 64 bytes, not 63$"):
            take(short)
        with pytest.raises(UsageError, match="a ticket key must be bytes, not str"):
            take("k" * 64)
    assert not (tmp_path / "key").exists()


def test_connections_explain_their_resumption_in_the_same_words():
    from gnutls_lab.sessions import explain_resumption

    lab = Lab("1.3")
    first = lab.connect()
    again = lab.connect(resume=first.session_data)
    assert first.explain() == explain_resumption(None, False) == \
        "full handshake: the client had no session data to offer"
    assert again.explain() == "resumed: the server accepted a PSK identity (ticket) from the offered session data"
    refused = Lab("1.3").connect(resume=first.session_data)
    assert refused.explain().startswith("full handshake although data was offered: the server refused it")
    assert explain_resumption(first.session_data, False, "TLS1.3", "127.0.0.1:443").startswith(
        "full handshake although data was offered: 127.0.0.1:443 refused it")
    assert explain_resumption(None, False, server="127.0.0.1:443") == \
        "full handshake with 127.0.0.1:443: the client had no session data to offer"
