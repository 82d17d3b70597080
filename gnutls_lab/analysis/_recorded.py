"""Reading recorded TLS traffic with a stolen server ticket key: what forward secrecy does and does not cover.

A GnuTLS server's ticket master key (``gnutls_session_ticket_key_generate``) opens every ticket it
issued. Whoever records the traffic and later obtains the key reads:

- :func:`read_recorded_tls12`: a TLS 1.2 connection that issued or presented a ticket. The ticket
  crosses the wire in clear (NewSessionTicket, or the ClientHello's session_ticket extension) and
  holds the master secret; with the two hello randoms that is every key (RFC 5246 §6.3), whatever
  key exchange made the connection, ECDHE included.
- :func:`read_recorded_resumption`: a resumed TLS 1.3 connection. The PSK identity in the
  ClientHello is the ticket; decrypted, it gives the PSK (RFC 8446 §4.6.1) and the early secrets,
  and every secret of the connection only when the server chose ``psk_ke`` (no key_share in its
  ServerHello, §4.2.9). Under ``psk_dhe_ke`` the (EC)DHE secret is missing and the data stays closed.

Both use only the wire tap (``conn.wire``: what a passive observer records) and the key. The
secrets they recover are :class:`~gnutls_lab.analysis._secrets.Secret` bytes (redacted in every
display); ``RecordedTLS12.keylog_line`` is the NSS key-log line for Wireshark, shown only on request.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from ..errors import UsageError
from ..formats import RECORD_HEADER_SIZE, frame_handshake, split_handshake, split_records
from ._decode import decode
from ._observer import chunk_pairs, observe_connection
from ._secrets import Secret
from ._ticket_keys import decrypt_ticket

__all__ = ["RecordedTLS12", "RecordedResumption", "read_recorded_tls12", "read_recorded_resumption"]

_HASH_ALGORITHMS = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384()}


def _size(data: bytes | None) -> str:
    return "None" if data is None else f"<{len(data)} bytes>"


_TLS13_HASHES = {0x1301: hashlib.sha256, 0x1302: hashlib.sha384, 0x1303: hashlib.sha256}
_AEAD = {0x1301: (AESGCM, 16), 0x1302: (AESGCM, 32), 0x1303: (ChaCha20Poly1305, 32)}
_KEY_SHARE = 51  # RFC 8446 §4.2.8: in a ServerHello it means (EC)DHE was mixed into the key schedule


class RecordedResumption(NamedTuple):
    """What :func:`read_recorded_resumption` recovered, from the wire tap and the server's ticket key.

    ``secrets``: NSS key-log label → secret, as the attacker derived them. ``client_data`` /
    ``server_data``: the application data decrypted from the wire (None where the keys did not work).
    ``key_share``: the ServerHello carried a key_share (psk_dhe_ke), so the attacker's secrets from the
    PSK alone are wrong from the handshake secret on.
    """

    key_share: bool
    psk: bytes
    secrets: dict
    client_data: bytes | None
    server_data: bytes | None

    def __repr__(self) -> str:
        return (f"RecordedResumption(key_share={self.key_share}, psk=redacted, secrets={sorted(self.secrets)}, "
                f"client_data={_size(self.client_data)}, server_data={_size(self.server_data)})")


def _expand_label(hash_, secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """RFC 8446 §7.1 HKDF-Expand-Label."""
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
    return HKDFExpand(_HASH_ALGORITHMS[hash_().name], length, info).derive(secret)


def _extract(hash_, salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt, ikm, hash_).digest()


def _records(wire, sender: str) -> list:
    """``(content_type, header, fragment)`` of every record one side sent, in order."""
    stream = b"".join(bytes(data) for side, data in chunk_pairs(wire) if side == sender)
    return [(r[0], r[:RECORD_HEADER_SIZE], r[RECORD_HEADER_SIZE:]) for r in split_records(stream)[0]]


def _traffic_decryptor(suite: int, hash_, secret: bytes):
    """A function ``(header, fragment, seq) -> (content_type, plaintext)`` for one traffic secret."""
    cipher, key_size = _AEAD[suite]
    aead = cipher(_expand_label(hash_, secret, b"key", b"", key_size))
    iv = _expand_label(hash_, secret, b"iv", b"", 12)

    def decrypt(header: bytes, fragment: bytes, seq: int) -> tuple:
        nonce = bytes(a ^ b for a, b in zip(iv, seq.to_bytes(12, "big")))
        inner = aead.decrypt(nonce, fragment, header).rstrip(b"\0")  # RFC 8446 §5.2 TLSInnerPlaintext
        return inner[-1], inner[:-1]

    return decrypt


def _handshake_messages(stream: bytes) -> list:
    """The messages with their 4-byte header, as the transcript hash takes them (RFC 8446 §4.4.1)."""
    return [frame_handshake(kind, body) for kind, body in split_handshake(stream)[0]]


def _decrypt_side(records, suite, hash_, handshake_secret: bytes, transcript_after=None):
    """Decrypt one side's encrypted records: handshake keys until its Finished, then ``transcript_after``
    (a function of the handshake messages seen so far returning that side's application secret)."""
    decrypt, seq, handshake, data = _traffic_decryptor(suite, hash_, handshake_secret), 0, [], b""
    in_handshake = True
    for content_type, header, fragment in records:
        if content_type != 23:
            continue
        inner_type, plaintext = decrypt(header, fragment, seq)
        seq += 1
        if in_handshake and inner_type == 22:
            handshake.extend(_handshake_messages(plaintext))
            finished = [i for i, m in enumerate(handshake) if m[0] == 20]
            if finished:  # its Finished: application keys from the next record on
                in_handshake = False
                handshake = handshake[:finished[0] + 1]
                decrypt, seq = _traffic_decryptor(suite, hash_, transcript_after(handshake)), 0
        elif inner_type == 23:
            data += plaintext
    return handshake, data


def read_recorded_resumption(wire, master_key, **hints) -> RecordedResumption:
    """Read a recorded, resumed TLS 1.3 connection with the server's 64-byte ticket master key.

    Only the wire and the key: the PSK identity in the ClientHello is the server's ticket; decrypting
    it gives the resumption master secret and nonce, hence the PSK (RFC 8446 §4.6.1). From the PSK
    alone the key schedule (§7.1) gives the early secrets; the handshake and application secrets
    follow from it *if* no (EC)DHE shared secret was mixed in (``psk_ke``). The function assumes
    exactly that and checks itself: under ``psk_dhe_ke`` (a key_share in the ServerHello) the AEAD
    tags fail and the data fields are None. ``hints`` go to :func:`~gnutls_lab.analysis._ticket_keys.decrypt_ticket`.
    """
    seen = observe_connection(wire)
    client_hello, server_hello = seen.client_hello, seen.server_hello
    if server_hello is None or server_hello.psk_selected_identity is None:
        raise UsageError("not a resumed TLS 1.3 connection: the ServerHello selected no PSK identity")
    suite = server_hello.ciphersuite
    hash_ = _TLS13_HASHES[suite]
    size = hash_().digest_size
    ticket = client_hello.psk_identities[server_hello.psk_selected_identity].identity
    state = decrypt_ticket(ticket, master_key, tls13=True, **hints).fields
    psk = _expand_label(hash_, state["resumption_master_secret"], b"resumption", state["nonce"], size)
    hello_messages = [frame_handshake(1, client_hello.body), frame_handshake(2, server_hello.body)]
    early = _extract(hash_, b"\0" * size, psk)
    secrets = {"CLIENT_EARLY_TRAFFIC_SECRET": _expand_label(hash_, early, b"c e traffic",
                                                            hash_(hello_messages[0]).digest(), size)}
    empty = hash_(b"").digest()
    handshake_secret = _extract(hash_, _expand_label(hash_, early, b"derived", empty, size), b"\0" * size)
    after_hellos = hash_(b"".join(hello_messages)).digest()
    for label, name in ((b"c hs traffic", "CLIENT_HANDSHAKE_TRAFFIC_SECRET"),
                        (b"s hs traffic", "SERVER_HANDSHAKE_TRAFFIC_SECRET")):
        secrets[name] = _expand_label(hash_, handshake_secret, label, after_hellos, size)
    master = _extract(hash_, _expand_label(hash_, handshake_secret, b"derived", empty, size), b"\0" * size)

    def application(label: bytes, name: str):
        def secret(server_flight):
            transcript = hash_(b"".join(hello_messages + server_flight)).digest()
            secrets[name] = _expand_label(hash_, master, label, transcript, size)
            return secrets[name]
        return secret

    key_share = _KEY_SHARE in server_hello.extension_types
    try:
        server_flight, server_data = _decrypt_side(_records(wire, "server"), suite, hash_,
                                                   secrets["SERVER_HANDSHAKE_TRAFFIC_SECRET"],
                                                   application(b"s ap traffic", "SERVER_TRAFFIC_SECRET_0"))
        client_secret = application(b"c ap traffic", "CLIENT_TRAFFIC_SECRET_0")(server_flight)
        _, client_data = _decrypt_side(_records(wire, "client"), suite, hash_,
                                       secrets["CLIENT_HANDSHAKE_TRAFFIC_SECRET"], lambda _: client_secret)
    except InvalidTag:  # the (EC)DHE secret the attacker lacks went into the keys
        server_data = client_data = None
    secrets = {name: Secret(value) for name, value in secrets.items()}
    return RecordedResumption(key_share, Secret(psk), secrets, client_data, server_data)


# --- notebook 05: the same for TLS 1.2, where the ticket holds the master secret itself -------------

#: TLS 1.2 AEAD suites the lab negotiates: suite → (AEAD, key size, fixed IV size, PRF hash)
_TLS12_SUITES = {
    0xC02B: (AESGCM, 16, 4, hashlib.sha256), 0xC02F: (AESGCM, 16, 4, hashlib.sha256),
    0xC02C: (AESGCM, 32, 4, hashlib.sha384), 0xC030: (AESGCM, 32, 4, hashlib.sha384),
    0xCCA8: (ChaCha20Poly1305, 32, 12, hashlib.sha256), 0xCCA9: (ChaCha20Poly1305, 32, 12, hashlib.sha256),
}


class RecordedTLS12(NamedTuple):
    """What :func:`read_recorded_tls12` recovered: the master secret from the ticket, the NSS key-log
    line an attacker would give Wireshark, and the application data of each side."""

    master_secret: bytes
    keylog_line: str
    client_data: bytes
    server_data: bytes

    def __repr__(self) -> str:
        return (f"RecordedTLS12(master_secret=redacted, keylog_line=redacted, client_data={_size(self.client_data)}, "
                f"server_data={_size(self.server_data)})")


def _tls12_prf(hash_, secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
    """RFC 5246 §5 PRF: P_hash(secret, label + seed)."""
    seed = label + seed
    out, a = b"", seed
    while len(out) < length:
        a = hmac.new(secret, a, hash_).digest()
        out += hmac.new(secret, a + seed, hash_).digest()
    return out[:length]


def read_recorded_tls12(wire, master_key, **hints) -> RecordedTLS12:
    """Read a recorded TLS 1.2 connection with the server's ticket master key, from the wire alone.

    The ticket is on the wire in clear: issued in a NewSessionTicket (a full handshake) or presented
    in the ClientHello (a resumption). Decrypted, it holds the server's packed session and in it the
    master secret; with the two randoms of the hellos that is every key of the connection (RFC 5246
    §6.3), whatever key exchange made it, ECDHE included. AEAD suites only (the lab's default).
    """
    seen = observe_connection(wire)
    hello, server_hello = seen.client_hello, seen.server_hello
    tickets = [t.ticket for t in seen.new_session_tickets] + ([hello.session_ticket] if hello.session_ticket else [])
    if not tickets:
        raise UsageError("no TLS 1.2 ticket crossed this wire: nothing a ticket key can open")
    state = decode(decrypt_ticket(tickets[0], master_key, tls13=False, **hints).state)
    master = state.master_secret
    suite = server_hello.ciphersuite
    if suite not in _TLS12_SUITES:
        raise UsageError(f"cipher suite 0x{suite:04x} is not one of the AEAD suites this reader knows")
    cipher, key_size, iv_size, hash_ = _TLS12_SUITES[suite]
    block = _tls12_prf(hash_, master, b"key expansion", server_hello.random + hello.random, 2 * (key_size + iv_size))
    keys = {"client": (block[:key_size], block[2 * key_size:2 * key_size + iv_size]),
            "server": (block[key_size:2 * key_size], block[2 * key_size + iv_size:])}
    data = {}
    for sender, (key, iv) in keys.items():
        aead, seq, after_ccs, plain = cipher(key), 0, False, b""
        for content_type, header, fragment in _records(wire, sender):
            if content_type == 20:
                after_ccs = True
                continue
            if not after_ccs:
                continue
            if iv_size == 4:  # AES-GCM: 8 explicit nonce bytes lead the fragment (RFC 5288 §3)
                nonce, body = iv + fragment[:8], fragment[8:]
            else:  # ChaCha20-Poly1305: the IV XOR the sequence number (RFC 7905 §2)
                nonce, body = bytes(a ^ b for a, b in zip(iv, seq.to_bytes(12, "big"))), fragment
            aad = seq.to_bytes(8, "big") + header[:3] + (len(body) - 16).to_bytes(2, "big")
            plaintext = aead.decrypt(nonce, body, aad)
            seq += 1
            if content_type == 23:
                plain += plaintext
        data[sender] = plain
    line = f"CLIENT_RANDOM {hello.random.hex()} {master.hex()}"
    return RecordedTLS12(Secret(master), line, data["client"], data["server"])
