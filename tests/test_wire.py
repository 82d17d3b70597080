"""The wire schemas (gnutls_lab/formats/_wire.py) on real TLS bytes.

Traffic comes from two real stacks, generated at test time, never stored: Python's ``ssl`` (OpenSSL)
through MemoryBIOs with a throwaway self-signed certificate, and libgnutls through ``gnutls_lab.Lab``.
Each chunk is what one side wrote in one go, as a wire tap records it. The captures are made by
tests/wire_captures.py.
"""

from __future__ import annotations

import construct
import pytest

from gnutls_lab.formats import _wire as wire

from wire_captures import SERVER_NAME, clear_handshake_messages, records_by_sender

# --- tests ------------------------------------------------------------------------------------


def test_records_round_trip_and_cover_every_byte(all_taps):
    for chunks in all_taps:
        for stream, records in records_by_sender(chunks).values():
            assert records, "a direction without records"
            assert wire.TLSRecordStream.build(records) == stream
            assert sum(5 + r.length for r in records) == len(stream)
            assert all(r.version in (0x0301, 0x0303) for r in records)


def test_every_clear_message_round_trips_through_its_schema(all_taps):
    seen = set()
    for chunks in all_taps:
        for sender, message in clear_handshake_messages(chunks):
            assert wire.Handshake.build(message) == wire.Handshake.build(
                wire.Handshake.parse(wire.Handshake.build(message)))
            schema = wire.HANDSHAKE_BODIES.get(str(message.type))
            if schema is None:
                continue
            parsed = schema.parse(message.body)
            assert schema.build(parsed) == message.body, (sender, message.type)
            seen.add(str(message.type))
    assert seen == {"client_hello", "server_hello", "new_session_ticket"}


def test_tls12_client_hello_asks_for_a_ticket_then_presents_it(openssl_tls12_tickets):
    first, resumed = (clear_handshake_messages(v.chunks) for v in openssl_tls12_tickets[:2])
    hello = wire.ClientHello.parse(first[0][1].body)
    exts = {str(e.type): e.data for e in hello.extensions}
    assert exts["server_name"].server_name_list[0].server_name == SERVER_NAME.encode()
    assert exts["session_ticket"] == b""  # asks for a ticket
    ticket = next(wire.NewSessionTicketTLS12.parse(m.body) for s, m in first if m.type == "new_session_ticket")
    assert ticket.session_ticket_lifetime_hint == 7200  # OpenSSL's default session timeout
    again = wire.ClientHello.parse(resumed[0][1].body)
    assert {str(e.type): e.data for e in again.extensions}["session_ticket"] == ticket.session_ticket
    server_hello = wire.ServerHello.parse(next(m.body for s, m in resumed if m.type == "server_hello"))
    assert server_hello.session_id == again.session_id != b""  # RFC 5077 §3.4: echoed on acceptance


def test_tls13_resumption_presents_a_psk_identity(openssl_tls13):
    full, resumed = (clear_handshake_messages(v.chunks) for v in openssl_tls13[:2])
    assert [str(m.type) for s, m in full] == ["client_hello", "server_hello"]  # the rest is encrypted
    hello = wire.ClientHello.parse(resumed[0][1].body)
    exts = {str(e.type): e.data for e in hello.extensions}
    assert str(hello.extensions[-1].type) == "pre_shared_key"  # RFC 8446 §4.2.11: last
    [identity] = exts["pre_shared_key"].identities
    assert len(identity.identity) > 32 and 0 <= identity.obfuscated_ticket_age < 2**32
    [binder] = exts["pre_shared_key"].binders
    assert 0x0304 in exts["supported_versions"].supported_versions
    assert list(exts["psk_key_exchange_modes"].ke_modes) == ["psk_dhe_ke"]
    server_hello = wire.ServerHello.parse(resumed[1][1].body)
    server_exts = {str(e.type): e.data for e in server_hello.extensions}
    assert server_exts["pre_shared_key"].selected_identity == 0
    assert server_exts["supported_versions"].supported_version == 0x0304
    assert server_hello.session_id == hello.session_id  # legacy_session_id_echo
    hash_length = {0x1301: 32, 0x1302: 48, 0x1303: 32}[server_hello.ciphersuite]
    assert len(binder) == hash_length  # an HMAC with the suite's hash, RFC 8446 §4.2.11.2


def test_hello_retry_request_is_told_by_its_random(openssl_hello_retry):
    messages = clear_handshake_messages(openssl_hello_retry.chunks)
    hellos = [wire.ServerHello.parse(m.body) for s, m in messages if m.type == "server_hello"]
    assert [h.random == wire.HELLO_RETRY_REQUEST_RANDOM for h in hellos] == [True, False]
    hrr_share = {str(e.type): e.data for e in hellos[0].extensions}["key_share"]
    assert hrr_share.selected_group == 23  # secp256r1
    share = {str(e.type): e.data for e in hellos[1].extensions}["key_share"]
    assert share.server_share.group == 23 and len(share.server_share.key_exchange) == 65
    assert sum(1 for s, m in messages if m.type == "client_hello") == 2


def test_tls13_new_session_ticket_from_the_gnutls_hook(gnutls_tls13):
    """TLS 1.3 tickets are encrypted on the wire; GnuTLS's handshake hook gives the body, and the
    ticket in it is the identity the next ClientHello presents."""
    first, resumed = gnutls_tls13[:2]
    first.session_data  # reads the tickets
    bodies = [m.body for m in first.transcript if m.type == 4]
    assert len(bodies) == 2  # GnuTLS sends two (TLS13_TICKETS_TO_SEND)
    tickets = [wire.NewSessionTicketTLS13.parse(b) for b in bodies]
    assert [wire.NewSessionTicketTLS13.build(t) for t in tickets] == bodies
    assert all(t.session_ticket_lifetime_hint == 21600 and len(t.session_ticket_nonce) == 4 for t in tickets)
    hello = wire.ClientHello.parse(clear_handshake_messages(resumed.wire)[0][1].body)
    psk = {str(e.type): e.data for e in hello.extensions}["pre_shared_key"]
    assert psk.identities[0].identity == tickets[-1].session_ticket  # get_data2 keeps the last one


def test_unknown_extension_types_stay_raw():
    hello = wire.ClientHello.build(dict(
        version=0x0303, random=bytes(32), session_id=b"", ciphersuites=[0x1301], comp_methods=[0],
        extensions=[dict(type=0x1234, data=b"\x01\x02"), dict(type="early_data", data={})],
    ))
    parsed = wire.ClientHello.parse(hello)
    assert parsed.extensions[0].type == 0x1234 and parsed.extensions[0].data == b"\x01\x02"
    assert str(parsed.extensions[1].type) == "early_data"
    assert wire.ClientHello.build(parsed) == hello


def test_tls12_client_hello_without_extensions_block():
    hello = bytes.fromhex("0303") + bytes(32) + b"\x00" + bytes.fromhex("0002c02f") + b"\x01\x00"
    parsed = wire.ClientHello.parse(hello)
    assert parsed.extensions is None and list(parsed.ciphersuites) == [0xC02F]
    assert wire.ClientHello.build(parsed) == hello


def _refusal(schema, data: bytes) -> tuple:
    """(exception class, construct's path) of a refused parse."""
    with pytest.raises(construct.ConstructError) as info:
        schema.parse(data)
    return info.type, info.value.path


@pytest.mark.parametrize("cut", [1, 10, 40])
def test_truncated_bodies_are_errors(openssl_tls13, cut):
    messages = clear_handshake_messages(openssl_tls13[1].chunks)
    client_hello, server_hello = messages[0][1].body, messages[1][1].body
    # a cut inside the extensions block makes the optional block absent; the bytes left are then refused
    assert _refusal(wire.ClientHello, client_hello[:-cut]) == (construct.TerminatedError, "(parsing)")
    assert _refusal(wire.ServerHello, server_hello[:-cut]) == (construct.TerminatedError, "(parsing)")


def test_garbage_and_trailing_bytes_are_errors():
    # one byte after the ticket
    assert _refusal(wire.NewSessionTicketTLS12, bytes.fromhex("00001c20 0004 aabbccdd ff")) == (
        construct.TerminatedError, "(parsing)")
    # a record whose length (16) exceeds the 5 bytes that follow
    assert _refusal(wire.TLSPlaintext, bytes.fromhex("16 0303 0010") + b"short") == (
        construct.StreamError, "(parsing) -> fragment -> fragment")
    # pre_shared_key whose identities overrun their 9-byte list
    assert _refusal(wire.OfferedPsks, bytes.fromhex("0009 0010 aabb 00000000 0000")) == (
        construct.TerminatedError, "(parsing) -> identities -> identities")
