"""Server tickets: formats/ticket.py schemas and ticket_keys.py (key loading, period search, HMAC, AES).

Real tickets come from data/corpus (each with the lab master key that issued it); tickets for
unusual clocks are made here with the same construction GnuTLS uses (lib/stek.c, digest_ticket).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
import time

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from blob_fixtures import corpus, session_corpus
from gnutls_lab.analysis._decode import decode
from gnutls_lab.faces import ticket_state_to_dict
from gnutls_lab.errors import BlobFormatError, TicketKeyError
from gnutls_lab.formats._ticket import TICKET_OVERHEAD, TicketEnvelope, Tls12TicketState, Tls13TicketState
from gnutls_lab.analysis._ticket_keys import decrypt_ticket, find_period, load_ticket_key, period_key, period_of

TICKETS = [c for c in corpus() if c[1]["kind"] == "ticket"]
WITH_TICKET = [c for c in session_corpus(dummy=False) if decode(c[2]).ticket is not None]


def _key(entry) -> bytes:
    return bytes.fromhex(entry["ticket_key"])


def make_ticket(master: bytes, period: int, state: bytes) -> bytes:
    """A ticket built as lib/ext/session_ticket.c builds one, for a chosen STEK period."""
    key = period_key(master, period)
    padded = state + bytes(-len(state) % 16)
    iv = os.urandom(16)
    encryptor = Cipher(algorithms.AES(key.aes_key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    signed = key.key_name + iv + struct.pack(">H", len(ciphertext)) + ciphertext
    return signed + hmac.new(key.mac_key, signed, hashlib.sha1).digest()


@pytest.mark.parametrize("name,entry,ticket", TICKETS, ids=[t[0] for t in TICKETS])
def test_envelope_schema_on_corpus_tickets(name, entry, ticket):
    parsed = TicketEnvelope.parse(ticket)
    assert len(ticket) == TICKET_OVERHEAD + len(parsed["encrypted_state"]) == 54 + len(parsed["encrypted_state"])
    assert len(parsed["encrypted_state"]) % 16 == 0
    assert TicketEnvelope.build(parsed) == ticket
    assert len(ticket) == {"TLS1.3": 230, "TLS1.2": 422}[entry["protocol"]]


@pytest.mark.parametrize("name,entry,ticket", TICKETS, ids=[t[0] for t in TICKETS])
def test_corpus_tickets_decrypt_and_inner_schemas_round_trip(name, entry, ticket):
    decrypted = decrypt_ticket(ticket, _key(entry))
    assert decrypted.protocol == entry["protocol"]
    assert decrypted.key.period == period_of(decode(decrypted.state).timestamp)  # default 21600
    assert set(decrypted.padding) <= {0} and len(decrypted.plaintext) % 16 == 0
    schema = Tls13TicketState if decrypted.protocol == "TLS1.3" else Tls12TicketState
    parsed = schema.parse(decrypted.plaintext)
    assert schema.build(parsed) == decrypted.plaintext
    state = decode(decrypted.state)
    assert state.entity == "SERVER" and state.protocol == entry["protocol"]
    if decrypted.protocol == "TLS1.3":
        assert state.tls13 is None and parsed["state"]["tls13"] == {"length": 0, "body": None}
        client = decode(next(c[2] for c in corpus() if c[0] == name.replace("_ticket_envelope", "_client")))
        assert decrypted.fields["resumption_master_secret"] == client.tls13.resumption_master_secret
        assert (decrypted.fields["age_add"], decrypted.fields["lifetime"], decrypted.fields["nonce"]) == (
            client.tls13.ticket_age_add, client.tls13.lifetime, client.tls13.nonce)
    else:
        assert [e.gid for e in state.extensions] == [7, 18]


@pytest.mark.parametrize("name,entry,blob", WITH_TICKET, ids=[c[0] for c in WITH_TICKET])
def test_tickets_inside_session_blobs_decrypt(name, entry, blob):
    session = decode(blob)
    decrypted = session.decrypt_ticket(_key(entry))
    view = ticket_state_to_dict(decrypted)
    assert view["state"]["entity"] == "server" and view["protocol"] == session.protocol
    if session.protocol == "TLS1.3":
        assert view["ticket_age_add"] == session.tls13.ticket_age_add
        assert view["resumption_master_secret"] == "redacted"
        assert ticket_state_to_dict(decrypted, True)["resumption_master_secret"] == \
            session.tls13.resumption_master_secret.hex()
    else:  # the server's copy of the TLS 1.2 session has the same master secret
        assert decode(decrypted.state).master_secret == session.master_secret


def test_wrong_key_says_this_key_did_not_issue_it():
    name, entry, ticket = TICKETS[0]
    started = time.perf_counter()
    with pytest.raises(TicketKeyError, match="this key did not issue this ticket"):
        decrypt_ticket(ticket, os.urandom(64))
    assert time.perf_counter() - started < 3.0  # the whole fallback search stays interactive


def test_altered_ticket_fails_the_hmac():
    name, entry, ticket = TICKETS[0]
    altered = bytearray(ticket)
    altered[60] ^= 1
    with pytest.raises(TicketKeyError, match="HMAC"):
        decrypt_ticket(bytes(altered), _key(entry))


def test_period_search_with_a_far_clock_and_odd_expire_time():
    master = os.urandom(64)
    state = decode(session_corpus(dummy=False)[0][2]).data  # any packed session
    when = 1_000_000_000  # 2001: far outside "now"
    ticket = make_ticket(master, period_of(when, 7200), state)
    with pytest.raises(TicketKeyError):
        find_period(master, ticket[:16])  # not found without a hint...
    found = decrypt_ticket(ticket, master, tls13=False, time_hints=[when])  # ...found with one
    assert found.key.period == period_of(when, 7200) and found.state == state
    odd = make_ticket(master, period_of(when, 1234), state)
    assert decrypt_ticket(odd, master, time_hints=[when], expire_hint=1234).key.period == period_of(when, 1234)
    assert decrypt_ticket(odd, master, period=period_of(when, 1234)).state == state


def test_recent_period_found_without_hints():
    master = os.urandom(64)
    state = decode(session_corpus(dummy=False)[0][2]).data
    earlier = int(time.time()) - 30 * 86400  # a month-old ticket, 1-hour expire time
    ticket = make_ticket(master, period_of(earlier, 3600), state)
    assert decrypt_ticket(ticket, master).key.period == period_of(earlier, 3600)


def test_master_key_formats(tmp_path):
    key = os.urandom(64)
    assert load_ticket_key(key) == key
    assert load_ticket_key(key.hex()) == key
    assert load_ticket_key(base64.b64encode(key).decode()) == key
    pem = b"-----BEGIN SESSION TICKET KEY-----\n" + base64.encodebytes(key) + b"-----END SESSION TICKET KEY-----\n"
    for content in (key, key.hex().encode() + b"\n", pem):
        path = tmp_path / "key"
        path.write_bytes(content)
        assert load_ticket_key(str(path)) == key and load_ticket_key(path) == key
    for bad in (os.urandom(32), "00" * 63, "not a key"):
        with pytest.raises(TicketKeyError, match="64"):
            load_ticket_key(bad)


def test_envelope_errors_are_format_errors():
    name, entry, ticket = TICKETS[0]
    with pytest.raises(BlobFormatError) as info:
        decrypt_ticket(ticket[:40], _key(entry))
    assert info.value.path.startswith("ticket") and info.value.offset is not None
    with pytest.raises(BlobFormatError, match="after the MAC"):
        decrypt_ticket(ticket + b"x", _key(entry))
