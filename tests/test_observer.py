"""The passive observer (gnutls_lab/observer.py) on real wire taps from OpenSSL and libgnutls.

Captures come from the fixtures of tests/wire_captures.py (Python ``ssl`` through MemoryBIOs, and
``gnutls_lab.Lab``); every metric asserted here is computed by hand in the test.
"""

from __future__ import annotations

import random

import pytest

from gnutls_lab.errors import BlobFormatError, UsageError
from gnutls_lab.formats import _wire as wire
from gnutls_lab.analysis._linkage import link_visits
from gnutls_lab.analysis._observer import observe_connection

from wire_captures import SERVER_NAME, Chunk, clear_handshake_messages, records_by_sender


def observe_all(visits, times):
    taps = [v.wire if hasattr(v, "wire") else v.chunks for v in visits]
    return link_visits([observe_connection(t) for t in taps], times)


# --- the fast path agrees with the schemas ----------------------------------------------------


def _extensions(parsed) -> dict:
    return {int(e.type): e.data for e in parsed.extensions or []}


def test_fast_path_agrees_with_the_schemas_on_every_captured_message(all_taps):
    for chunks in all_taps:
        seen = observe_connection(chunks)
        by_schema = records_by_sender(chunks)
        for sender in ("client", "server"):
            fast = [(r.content_type, r.version, r.length) for r in seen.records if r.sender == sender]
            slow = [(int(r.content_type), r.version, r.length) for r in by_schema[sender][1]]
            assert fast == slow
        messages = clear_handshake_messages(chunks)
        assert sorted(seen.handshake_types) == sorted((s, int(m.type)) for s, m in messages)
        client_bodies = [m.body for s, m in messages if m.type == "client_hello"]
        assert [h.body for h in seen.client_hellos] == client_bodies
        for hello in seen.client_hellos:
            parsed = wire.ClientHello.parse(hello.body)
            ext = _extensions(parsed)
            assert (hello.version, hello.random, hello.session_id) == (parsed.version, parsed.random, parsed.session_id)
            assert hello.ciphersuites == tuple(parsed.ciphersuites)
            assert hello.extension_types == tuple(int(e.type) for e in parsed.extensions)
            assert hello.server_name == ext[0].server_name_list[0].server_name.decode()
            assert hello.session_ticket == ext.get(35)
            psk = ext.get(41)
            assert hello.psk_identities == tuple(
                (i.identity, i.obfuscated_ticket_age) for i in (psk.identities if psk else ()))
            assert hello.psk_binders == tuple(psk.binders if psk else ())
            assert hello.psk_ke_modes == tuple(int(m) for m in (ext[45].ke_modes if 45 in ext else ()))
            assert hello.early_data == (42 in ext)
            assert hello.supported_versions == tuple(ext[43].supported_versions if 43 in ext else ())
        server_bodies = [m.body for s, m in messages if m.type == "server_hello"]
        assert [h.body for h in seen.server_hellos] == server_bodies
        for hello in seen.server_hellos:
            parsed = wire.ServerHello.parse(hello.body)
            ext = _extensions(parsed)
            assert (hello.version, hello.random, hello.session_id, hello.ciphersuite) == (
                parsed.version, parsed.random, parsed.session_id, parsed.ciphersuite)
            assert hello.selected_version == (ext[43].supported_version if 43 in ext else parsed.version)
            assert hello.psk_selected_identity == (ext[41].selected_identity if 41 in ext else None)
            assert hello.session_ticket_ack == (35 in ext)
            assert hello.is_hello_retry_request == (parsed.random == wire.HELLO_RETRY_REQUEST_RANDOM)
        tickets = [wire.NewSessionTicketTLS12.parse(m.body) for s, m in messages if m.type == "new_session_ticket"]
        assert [(t.lifetime_hint, t.ticket) for t in seen.new_session_tickets] == [
            (t.session_ticket_lifetime_hint, t.session_ticket) for t in tickets]


def test_chunk_boundaries_do_not_matter(all_taps):
    """Records split across chunks, several records per chunk: the same observation."""
    for chunks in all_taps:
        reference = observe_connection(chunks)
        tiny = [Chunk(c.sender, c.data[i : i + 7]) for c in chunks for i in range(0, len(c.data), 7)]
        assert observe_connection(tiny) == reference
        assert observe_connection([(c.sender, c.data) for c in chunks]) == reference


def _reframe(chunks, sender, split):
    """Re-frame one side's plaintext handshake records: join their fragments, cut at ``split``."""
    records = records_by_sender(chunks)[sender][1]
    head = []
    for record in records:
        if record.content_type != "handshake":
            break
        head.append(record)
    stream = b"".join(r.fragment for r in head)
    rest = b"".join(wire.TLSPlaintext.build(r) for r in records[len(head):])
    pieces = [stream[:split], stream[split:]] if split else [stream]
    data = b"".join(wire.TLSPlaintext.build(dict(content_type=22, version=0x0303, fragment=p)) for p in pieces)
    others = [c for c in chunks if c.sender != sender]
    return ([Chunk(sender, data + rest)] + others) if sender == "client" else (others[:1] + [Chunk(sender, data + rest)] + others[1:])


def test_handshake_messages_spanning_records_and_records_holding_several(openssl_tls12_tickets):
    chunks = openssl_tls12_tickets[0].chunks
    reference = observe_connection(chunks)
    # the server's ServerHello..ServerHelloDone in one record, then cut inside the ServerHello
    for split in (0, 3, 50):
        seen = observe_connection(_reframe(chunks, "server", split))
        assert seen.server_hellos == reference.server_hellos
        assert seen.new_session_tickets == reference.new_session_tickets
        per_sender = lambda types: [[t for s, t in types if s == who] for who in ("client", "server")]  # noqa: E731
        assert per_sender(seen.handshake_types) == per_sender(reference.handshake_types)
    seen = observe_connection(_reframe(chunks, "client", 100))
    assert seen.client_hello == reference.client_hello


# --- what one connection shows ----------------------------------------------------------------


def test_tls12_ticket_issued_in_clear_and_presented(openssl_tls12_tickets):
    first, resumed, again = (observe_connection(v.chunks) for v in openssl_tls12_tickets)
    assert first.version == 0x0303 and not first.resumed
    assert first.client_hello.session_ticket == b"" and first.client_hello.server_name == SERVER_NAME
    assert first.server_hello.session_ticket_ack
    [ticket] = first.new_session_tickets
    assert ticket.lifetime_hint == 7200 and len(ticket.ticket) > 100
    assert resumed.client_hello.session_ticket == ticket.ticket == again.client_hello.session_ticket
    assert resumed.resumed and resumed.resumption_evidence == "tls.handshake.session_id echoed"
    assert openssl_tls12_tickets[1].client.session_reused  # the library agrees
    assert resumed.new_session_tickets == ()  # OpenSSL does not renew an accepted ticket
    # TLS 1.2 Finished: content type 22, but after ChangeCipherSpec, so encrypted
    assert [(r.content_type, r.encrypted) for r in resumed.records if r.sender == "client"][:2] == [
        (22, False), (20, False)]
    assert any(r.content_type == 22 and r.encrypted for r in resumed.records if r.sender == "client")


def test_tls12_session_id_set_then_offered(openssl_tls12_session_ids):
    first, resumed = (observe_connection(v.chunks) for v in openssl_tls12_session_ids)
    assert first.client_hello.session_ticket is not None  # offered, but the server does not take tickets
    assert not first.server_hello.session_ticket_ack and first.new_session_tickets == ()
    assert len(first.server_hello.session_id) == 32 and not first.resumed
    assert resumed.client_hello.session_id == first.server_hello.session_id == resumed.server_hello.session_id
    assert resumed.resumed and openssl_tls12_session_ids[1].client.session_reused


def test_tls13_only_hellos_in_clear(openssl_tls13):
    first, resumed = (observe_connection(v.chunks) for v in openssl_tls13[:2])
    assert first.handshake_types == (("client", 1), ("server", 2))
    assert first.new_session_tickets == () and not first.resumed
    assert first.client_hello.psk_identities == () and first.client_hello.psk_ke_modes == (1,)
    assert 0x0304 in first.client_hello.supported_versions and first.version == 0x0304
    assert all(r.content_type == 23 for r in first.encrypted_records) and len(first.encrypted_records) >= 4
    [identity] = resumed.client_hello.psk_identities
    assert resumed.server_hello.psk_selected_identity == 0 and resumed.resumed
    assert resumed.resumption_evidence == "tls.handshake.extensions.psk.identity.selected = 0"
    assert identity.identity not in b"".join(c.data for c in openssl_tls13[0].chunks)  # issued encrypted


def test_schema_view_parses_what_was_seen(openssl_tls12_tickets):
    seen = observe_connection(openssl_tls12_tickets[0].chunks)
    view = seen.schema_view()
    assert [(sender, name) for sender, name, _ in view] == [
        ("client", "client_hello"), ("server", "server_hello"), ("server", "new_session_ticket")]
    assert view[2][2].session_ticket == seen.new_session_tickets[0].ticket


def test_an_empty_tap_shows_nothing():
    seen = observe_connection([])
    assert seen.client_hello is None and seen.version is None and not seen.resumed
    assert "no ServerHello, not resumed" in repr(seen)


def test_hello_retry_request(openssl_hello_retry):
    seen = observe_connection(openssl_hello_retry.chunks)
    assert seen.hello_retry_request and len(seen.client_hellos) == 2
    assert [h.is_hello_retry_request for h in seen.server_hellos] == [True, False]
    # the client's compatibility ChangeCipherSpec precedes its second ClientHello, still in clear
    client = [(r.content_type, r.encrypted) for r in seen.records if r.sender == "client"]
    assert client[:3] == [(22, False), (20, False), (22, False)]
    assert seen.version == 0x0304 and not seen.resumed


def test_gnutls_wire_tap(gnutls_tls13, gnutls_tls12):
    full, resumed, _ = (observe_connection(c.wire) for c in gnutls_tls13)
    assert not full.resumed and resumed.resumed == gnutls_tls13[1].resumed is True
    assert len(resumed.client_hello.psk_identities[0].identity) == 230  # a GnuTLS TLS 1.3 ticket
    first12, again12 = (observe_connection(c.wire) for c in gnutls_tls12)
    [ticket] = first12.new_session_tickets
    assert ticket.lifetime_hint == 21600  # GnuTLS's default expire_time
    assert again12.client_hello.session_ticket == ticket.ticket and again12.resumed


def test_repr_speaks_wireshark(openssl_tls13):
    seen = observe_connection(openssl_tls13[1].chunks)
    text = repr(seen)
    assert "TLS 1.3, resumed" in text
    assert "tls.handshake.extensions.psk.identity.obfuscated_ticket_age" in text
    assert str(seen.client_hello.psk_identities[0].obfuscated_ticket_age) in text
    page = seen._repr_html_()
    assert page.startswith("<div>") and "<table>" in page and "tls.handshake.session_id" in page


# --- malformed input --------------------------------------------------------------------------


def test_garbage_and_truncation_are_blob_format_errors(openssl_tls13):
    chunks = openssl_tls13[1].chunks
    with pytest.raises(BlobFormatError, match="record header"):
        observe_connection([Chunk("client", b"GET / HTTP/1.1\r\n\r\n")])
    with pytest.raises(BlobFormatError, match="tap ends inside"):
        observe_connection(chunks[:-1] + [Chunk(chunks[-1].sender, chunks[-1].data[:-3])])
    partial_message = wire.TLSPlaintext.build(dict(content_type=22, version=0x0303, fragment=b"\x01\x00\x01\x00abc"))
    with pytest.raises(BlobFormatError, match="handshake message"):
        observe_connection([Chunk("client", partial_message)])
    with pytest.raises(UsageError):
        observe_connection([Chunk("middlebox", b"")])


def test_random_corruption_never_escapes_as_another_exception(openssl_tls13, openssl_tls12_tickets):
    rng = random.Random(4)
    for chunks in (openssl_tls13[1].chunks, openssl_tls12_tickets[0].chunks):
        for _ in range(400):
            which = rng.randrange(2)  # a ClientHello or the server's first flight
            data = bytearray(chunks[which].data)
            for _ in range(rng.randint(1, 3)):
                data[rng.randrange(min(len(data), 300))] = rng.randrange(256)
            mutated = list(chunks)
            mutated[which] = Chunk(chunks[which].sender, bytes(data))
            try:
                observe_connection(mutated)
            except BlobFormatError:
                pass
