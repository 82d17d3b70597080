"""A server's tickets judged from outside: which implementation wrote them, and whether a guessable key did.

Theory of operation. A client holds its tickets and the secrets of the sessions they resume: the TLS 1.2
master secret, the TLS 1.3 resumption master secret and the PSK each ticket stands for
(``HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length)``, RFC 8446
4.6.1). A ticket is supposed to carry that secret encrypted under the server's ticket key (STEK). So the
audit, holding both, can check three failures Hebrok et al. found in deployed servers ("We Really Need to
Talk About Session Tickets", USENIX Security 2023) without any help from the server:

1. **plain secrets** (:func:`find_plain_secrets`): the secret itself appears in the ticket bytes;
2. **guessable keys** (:func:`try_weak_keys`): a key from :data:`WEAK_KEYS` decrypts the ticket (the
   known secret appears in the plaintext, or an AEAD tag verifies) or computes its MAC. The layouts tried
   are the ones :mod:`gnutls_lab.formats` describes: GnuTLS (the 64-byte master key, its period keys
   derived as ``lib/stek.c`` does), OpenSSL's (AES-128/256-CBC, HMAC-SHA256, keys taken directly and
   as nginx/Apache/HAProxy key files split them), Mbed TLS (AES-128/256-GCM) and Go (``SHA-512`` of the
   32-byte key; up to Go 1.20 its first 16 bytes are the key name in clear);
3. **repeating keystreams** (:func:`find_keystream_reuse`): two tickets XORed give the XOR of their
   secrets at the same offset, which happens when a stream cipher or GCM reuses its nonce.

The keys tried are those of the paper's scanner (TLS-Scanner, ``probe/sessionticket/DefaultKeys.java``
on its ``sessionticket-ae`` branch): constant and counting bytes, the key of ASCII ``1`` bytes padded
with zeros that its scans found deployed, debug magic numbers and the FIPS-197 test keys. A hit is proof,
not a guess: the key reproduced a MAC, an AEAD tag or the session's own secret.

:func:`fingerprint` reads which layout the tickets have: a layout with a length field that matches the
ticket length is a strong match (a random ticket satisfies it once in 65,536); one without rests on the
cipher's block size and on a key name shared by the tickets (the longest prefix they have in common).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass, field, replace
from typing import Iterable, NamedTuple, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from ..errors import BlobFormatError, TicketKeyError
from ..formats import SERVER_TICKET_LAYOUTS, KEY_FILE_SPLITS, parse_server_ticket
from ._secrets import Secret
from ._ticket_keys import COMMON_EXPIRE_TIMES, decrypt_ticket, period_key, period_of

__all__ = [
    "WEAK_KEYS",
    "KnownSecret",
    "AuditedTicket",
    "WeakKeyHit",
    "PlainSecret",
    "KeystreamReuse",
    "LayoutMatch",
    "Fingerprint",
    "tls13_ticket_psk",
    "find_plain_secrets",
    "find_keystream_reuse",
    "try_weak_keys",
    "fingerprint",
    "common_prefix_length",
    "key_name_size",
]


def _constant(value: int):
    return lambda n: bytes([value]) * n


def _counting(start: int, step: int = 1):
    return lambda n: bytes((start + i * step) & 0xFF for i in range(n))


def _repeating(hex_text: str):
    unit = bytes.fromhex(hex_text)
    return lambda n: (unit * (n // len(unit) + 1))[:n]


def _fixed(hex_text: str):
    value = bytes.fromhex(hex_text)
    return lambda n: value if len(value) == n else None


#: (label, make(length) → key bytes or None). TLS-Scanner's DefaultKeys (Hebrok et al. 2023): its QUICK set
#: (constant 00/ff, counting from 00/01 by 1 and by 0x11), the keys "discovered during scan" (ASCII "1"
#: bytes followed by zeros), counting keys at the offsets key files put them, debug magic numbers and the
#: FIPS-197 test keys of its NORMAL set.
WEAK_KEYS = (
    ("all-zero", _constant(0x00)),
    ("all-0xff", _constant(0xFF)),
    ("counting 00 01 02 ...", _counting(0x00)),
    ("counting 01 02 03 ...", _counting(0x01)),
    ("counting 00 11 22 ...", _counting(0x00, 0x11)),
    ("counting 01 12 23 ...", _counting(0x01, 0x11)),
    ("counting 10 11 12 ...", _counting(0x10)),
    ("counting 20 21 22 ...", _counting(0x20)),
    ("ASCII '1' x 8 + zeros (seen deployed)", _fixed("31313131313131310000000000000000")),
    ("ASCII '1' x 16 + zeros (seen deployed)",
     _fixed("3131313131313131313131313131313100000000000000000000000000000000")),
    ("00112233445566778899aabbccddeeff", _fixed("00112233445566778899aabbccddeeff")),
    ("FIPS-197 AES-128 test key", _fixed("2b7e151628aed2a6abf7158809cf4f3c")),
    ("FIPS-197 AES-256 test key", _fixed("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")),
    ("FIPS-197 appendix B input", _fixed("3243f6a8885a308d313198a2e0370734")),
    *((f"repeated {magic}", _repeating(magic)) for magic in (
        "a5", "ab", "cc", "cd", "dd", "fd", "deadbeef", "baadf00d", "cafebabe", "feedface", "abababab",
        "deadc0de", "badc0ffee0ddf00d", "8badf00d", "1badb002", "feeefeee", "cafed00d", "defec8ed")),
)


class KnownSecret(NamedTuple):
    """A secret the client knows about a ticket: ``kind`` names it (master_secret, resumption_master_secret,
    psk). ``value`` is a :class:`~gnutls_lab.analysis.Secret` (redacted when printed)."""

    kind: str
    value: bytes


@dataclass
class AuditedTicket:
    """One ticket the audit received, with what the client knows about it.

    ``issued_at``: seconds since the audit began; ``index``: the audit connection that brought it.
    """

    ticket: bytes = field(repr=False)
    protocol: str
    index: int
    issued_at: float
    secrets: tuple = field(default=(), repr=False)
    server_name: str | None = None
    issued_unix: float = 0.0
    lifetime_hint: int | None = None
    max_early_data_size: int | None = None  # TLS 1.3: the NewSessionTicket's early_data extension, if any
    in_resumption: bool = False  # issued on a resumed connection (a reissue)
    number: int = 0  # its position in the audit's list of tickets

    @property
    def key_name(self) -> bytes:
        return bytes(self.ticket[:16])


def tls13_ticket_psk(resumption_master_secret: bytes, nonce: bytes, hash_name: str) -> Secret:
    """RFC 8446 4.6.1: the PSK a TLS 1.3 ticket stands for. ``hash_name``: "sha256" or "sha384"."""
    algorithm = hashes.SHA384() if hash_name == "sha384" else hashes.SHA256()
    label = b"tls13 resumption"
    info = (algorithm.digest_size.to_bytes(2, "big") + bytes([len(label)]) + label
            + bytes([len(nonce)]) + bytes(nonce))
    return Secret(HKDFExpand(algorithm, algorithm.digest_size, info).derive(bytes(resumption_master_secret)))


# --- plain secrets and repeating keystreams ---------------------------------------------------------

class PlainSecret(NamedTuple):
    """A known secret found as it is in a ticket: ``offset`` in the ticket."""

    index: int  # the connection that brought the ticket
    protocol: str
    kind: str
    offset: int


def find_plain_secrets(tickets: Sequence[AuditedTicket]) -> list[PlainSecret]:
    found = []
    for ticket in tickets:
        for secret in ticket.secrets:
            offset = bytes(ticket.ticket).find(bytes(secret.value))
            if len(secret.value) >= 16 and offset >= 0:
                found.append(PlainSecret(ticket.index, ticket.protocol, secret.kind, offset))
    return found


class KeystreamReuse(NamedTuple):
    """Tickets ``first`` and ``second`` XOR to the XOR of their ``kind`` secrets at ``offset``."""

    first: int
    second: int
    kind: str
    offset: int


def find_keystream_reuse(tickets: Sequence[AuditedTicket], max_pairs: int = 400) -> list[KeystreamReuse]:
    """Pairs of tickets whose XOR contains the XOR of their secrets (at most ``max_pairs`` pairs checked)."""
    found, pairs = [], 0
    for i, a in enumerate(tickets):
        for b in tickets[i + 1:]:
            if pairs >= max_pairs:
                return found
            pairs += 1
            size = min(len(a.ticket), len(b.ticket))
            mixed = bytes(x ^ y for x, y in zip(a.ticket[:size], b.ticket[:size]))
            for sa in a.secrets:
                for sb in b.secrets:
                    if sa.kind != sb.kind or len(sa.value) != len(sb.value) or sa.value == sb.value:
                        continue
                    target = bytes(x ^ y for x, y in zip(sa.value, sb.value))
                    offset = mixed.find(target)
                    if offset >= 0:
                        found.append(KeystreamReuse(a.index, b.index, sa.kind, offset))
    return found


# --- guessable keys ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class WeakKeyHit:
    """A guessable key that opened or signed a ticket.

    ``what``: ``"decrypted"`` (the plaintext holds the session's ``secret_kind``, or an AEAD tag verified)
    or ``"mac"`` (the key reproduces the ticket's MAC: whoever knows it can forge tickets). ``key`` is the
    key that worked (a Secret); ``reveals``: what the plaintext gives away, plain values only.
    """

    index: int
    protocol: str
    layout: str
    key_label: str
    role: str  # which key: "master key", "AES-128 key", "HMAC key", ...
    what: str
    key: bytes = field(repr=False)
    secret_kind: str | None = None
    secret_offset: int | None = None
    plaintext_size: int = 0
    reveals: dict = field(default_factory=dict)
    tickets: int = 1  # how many of the tickets tried this key opened (or signed)


def _keys(sizes: Iterable[int]):
    """(label, key) for every weak pattern at every size (patterns that have no key of a size skip it)."""
    for label, make in WEAK_KEYS:
        for size in sizes:
            key = make(size)
            if key is not None:
                yield label, key


def _key_parts(size: int, part: str):
    """(label, key) of the ``part`` ("aes"/"hmac") of every weak key file of ``size`` bytes (48 or 80),
    split as nginx, Apache and HAProxy split theirs (formats.KEY_FILE_SPLITS)."""
    for label, make in WEAK_KEYS:
        material = make(size)
        if material is None:
            continue
        for server, parts in KEY_FILE_SPLITS.items():
            if not server.endswith(str(size)):
                continue
            for name, offset, length in parts:
                if name == part:
                    yield f"{label} ({server.split('-')[0]} {size}-byte key file)", material[offset:offset + length]


def _contains_secret(plaintext: bytes, secrets) -> tuple[str, int] | None:
    for secret in secrets:
        offset = plaintext.find(bytes(secret.value))
        if offset >= 0:
            return secret.kind, offset
    return None


def _try_gnutls(ticket: AuditedTicket) -> list[WeakKeyHit]:
    """Weak 64-byte master keys: derive each period key near the ticket's issue time, compare key names."""
    data = bytes(ticket.ticket)
    try:
        parse_server_ticket(SERVER_TICKET_LAYOUTS[0], data)
    except BlobFormatError:
        return []
    key_name = data[:16]
    when = int(ticket.issued_unix or time.time())
    periods = {None} | {period_of(when, expire) + delta for expire in COMMON_EXPIRE_TIMES for delta in (-1, 0, 1)}
    for label, master in _keys((64,)):
        for period in periods:
            candidate = period_key(master, period)
            if not hmac.compare_digest(candidate.key_name, key_name):
                continue
            try:
                decrypted = decrypt_ticket(data, master, period=period, tls13=ticket.protocol == "TLS1.3")
            except (TicketKeyError, BlobFormatError):
                return [WeakKeyHit(ticket.index, ticket.protocol, "gnutls", label, "master key", "mac",
                                   Secret(master), reveals={"period": period})]
            found = _contains_secret(decrypted.plaintext, ticket.secrets)
            return [WeakKeyHit(ticket.index, ticket.protocol, "gnutls", label, "master key", "decrypted",
                               Secret(master), found[0] if found else None, found[1] if found else None,
                               len(decrypted.plaintext), _gnutls_reveals(decrypted))]
    return []


def _gnutls_reveals(decrypted) -> dict:
    from ._decode import decode  # the inner state is a packed session: the decoder reads it

    reveals = {"period": decrypted.key.period, "protocol": decrypted.protocol}
    if decrypted.fields:
        reveals["lifetime"] = decrypted.fields["lifetime"]
        reveals["creation_time"] = decrypted.fields["creation_time"][0]
        reveals["resumption_master_secret"] = decrypted.fields["resumption_master_secret"]
    try:
        state = decode(decrypted.state, annotate=False)
        reveals["cipher_suite"] = state.cipher_suite
        reveals["server_name"] = state.server_name
        if decrypted.protocol == "TLS1.2":
            reveals["master_secret"] = Secret(state.master_secret)
    except BlobFormatError:
        pass
    return reveals


def _cbc(key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return decryptor.update(ciphertext) + decryptor.finalize()


def _ctr(key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    decryptor = Cipher(algorithms.AES(key), modes.CTR(iv)).decryptor()
    return decryptor.update(ciphertext) + decryptor.finalize()


def _try_openssl(ticket: AuditedTicket) -> list[WeakKeyHit]:
    data = bytes(ticket.ticket)
    try:
        tree = parse_server_ticket(SERVER_TICKET_LAYOUTS[1], data)
    except BlobFormatError:
        return []
    hits = []
    signed, mac = data[:-32], tree["mac"]
    hmac_keys = list(_keys((16, 32))) + list(_key_parts(48, "hmac")) + list(_key_parts(80, "hmac"))
    for label, key in hmac_keys:
        if hmac.compare_digest(hmac.new(key, signed, hashlib.sha256).digest(), mac):
            hits.append(WeakKeyHit(ticket.index, ticket.protocol, "openssl", label, f"HMAC-SHA256 key ({len(key)} bytes)",
                                   "mac", Secret(key)))
            break
    aes_keys = list(_keys((16, 32))) + list(_key_parts(48, "aes")) + list(_key_parts(80, "aes"))
    for label, key in aes_keys:
        plaintext = _cbc(key, tree["IV"], tree["encrypted_state"])
        found = _contains_secret(plaintext, ticket.secrets)
        if found:
            hits.append(WeakKeyHit(ticket.index, ticket.protocol, "openssl", label, f"AES-{8 * len(key)}-CBC key",
                                   "decrypted", Secret(key), found[0], found[1], len(plaintext),
                                   {found[0]: next(s.value for s in ticket.secrets if s.kind == found[0])}))
            break
    return hits


def _try_mbedtls(ticket: AuditedTicket) -> list[WeakKeyHit]:
    data = bytes(ticket.ticket)
    try:
        tree = parse_server_ticket(SERVER_TICKET_LAYOUTS[3], data)
    except BlobFormatError:
        return []
    aad = data[:18]  # key_name, IV and the length: ssl_ticket.c authenticates them as additional data
    for label, key in _keys((16, 32)):
        try:
            plaintext = AESGCM(key).decrypt(tree["IV"], tree["encrypted_state"] + tree["tag"], aad)
        except InvalidTag:
            continue
        found = _contains_secret(plaintext, ticket.secrets)
        return [WeakKeyHit(ticket.index, ticket.protocol, "mbedtls", label, f"AES-{8 * len(key)}-GCM key",
                           "decrypted", Secret(key), found[0] if found else None, found[1] if found else None,
                           len(plaintext))]
    return []


def _try_go(ticket: AuditedTicket) -> list[WeakKeyHit]:
    data = bytes(ticket.ticket)
    try:
        tree = parse_server_ticket(SERVER_TICKET_LAYOUTS[4], data)
    except BlobFormatError:
        return []
    for label, key in _keys((32,)):
        hashed = hashlib.sha512(key).digest()
        aes_key, hmac_key = hashed[16:32], hashed[32:48]
        if data[:16] == hashed[:16]:
            continue  # the key name of Go up to 1.20 in front: that layout's trial reads it
        if not hmac.compare_digest(hmac.new(hmac_key, data[:-32], hashlib.sha256).digest(), tree["mac"]):
            continue
        plaintext = _ctr(aes_key, tree["IV"], tree["encrypted_state"])
        found = _contains_secret(plaintext, ticket.secrets)
        return [WeakKeyHit(ticket.index, ticket.protocol, "go", label, "32-byte session ticket key",
                           "decrypted", Secret(key), found[0] if found else None, found[1] if found else None,
                           len(plaintext))]
    return []


def _try_go_legacy(ticket: AuditedTicket) -> list[WeakKeyHit]:
    """Go up to 1.20: the key name is the first 16 bytes of SHA-512(key): a weak key shows by its name."""
    data = bytes(ticket.ticket)
    try:
        tree = parse_server_ticket(SERVER_TICKET_LAYOUTS[5], data)
    except BlobFormatError:
        return []
    for label, key in _keys((32,)):
        hashed = hashlib.sha512(key).digest()
        if not hmac.compare_digest(hashed[:16], tree["key_name"]):
            continue
        if not hmac.compare_digest(hmac.new(hashed[32:48], data[:-32], hashlib.sha256).digest(), tree["mac"]):
            return []
        plaintext = _ctr(hashed[16:32], tree["IV"], tree["encrypted_state"])
        found = _contains_secret(plaintext, ticket.secrets)
        return [WeakKeyHit(ticket.index, ticket.protocol, "go-legacy", label, "32-byte session ticket key",
                           "decrypted", Secret(key), found[0] if found else None, found[1] if found else None,
                           len(plaintext))]
    return []


def try_weak_keys(tickets: Sequence[AuditedTicket], per_layout: int = 4) -> list[WeakKeyHit]:
    """Every guessable key that opens or signs one of ``tickets``, in every layout they fit.

    At most ``per_layout`` tickets of each protocol are tried (the same key made them all).
    """
    hits: dict = {}
    tried: dict = {}
    for ticket in tickets:
        count = tried.get(ticket.protocol, 0)
        if count >= per_layout:
            continue
        tried[ticket.protocol] = count + 1
        for trial in (_try_gnutls, _try_openssl, _try_mbedtls, _try_go, _try_go_legacy):
            for hit in trial(ticket):
                key = (hit.protocol, hit.layout, hit.key_label, hit.role, hit.what)
                first = hits.get(key)
                hits[key] = hit if first is None else replace(first, tickets=first.tickets + 1)
    return list(hits.values())


# --- which implementation wrote them -----------------------------------------------------------------

def key_name_size(layout: str | None) -> int:
    """Bytes of key name in clear at the start of a ``layout`` ticket (0: none, or an unknown layout)."""
    return next((known.key_name_size for known in SERVER_TICKET_LAYOUTS if known.name == layout), 0)


def common_prefix_length(tickets: Sequence[bytes]) -> int:
    """The prefix most pairs of consecutive tickets share (0 for fewer than two tickets)."""
    lengths = []
    for a, b in zip(tickets, tickets[1:]):
        n = 0
        while n < min(len(a), len(b)) and a[n] == b[n]:
            n += 1
        lengths.append(n)
    if not lengths:
        return 0
    return max(set(lengths), key=lambda n: (lengths.count(n), n))


class LayoutMatch(NamedTuple):
    layout: str
    implementations: str
    confidence: str  # "certain", "strong", "likely", "possible"
    reason: str


class Fingerprint(NamedTuple):
    """Which layout the tickets have. ``best`` is None when none fits; ``matches`` lists every fit."""

    tickets: int
    lengths: tuple
    shared_prefix: int
    best: LayoutMatch | None
    matches: tuple

    def to_dict(self) -> dict:
        return {"tickets": self.tickets, "lengths": list(self.lengths), "shared_prefix": self.shared_prefix,
                "layout": self.best.layout if self.best else None,
                "implementations": self.best.implementations if self.best else None,
                "confidence": self.best.confidence if self.best else None,
                "reason": self.best.reason if self.best else "no known layout fits these tickets",
                "matches": [m._asdict() for m in self.matches]}


_RANK = {"certain": 0, "strong": 1, "likely": 2, "possible": 3}


def fingerprint(tickets: Sequence[bytes], decrypted_by: Iterable[str] = ()) -> Fingerprint:
    """Match ``tickets`` (one server, one protocol or both) against :data:`SERVER_TICKET_LAYOUTS`.

    ``decrypted_by``: layouts a weak key opened a ticket in (that settles it: "certain").
    """
    tickets = [bytes(t) for t in tickets if t]
    opened = set(decrypted_by)
    prefix = common_prefix_length(tickets)
    lengths = tuple(sorted({len(t) for t in tickets}))
    matches = []
    for layout in SERVER_TICKET_LAYOUTS:
        if not tickets:
            break
        try:
            for ticket in tickets:
                parse_server_ticket(layout, ticket)
        except BlobFormatError:
            continue
        n = len(tickets)
        name_fits = layout.key_name_size == 0 or n < 2 or prefix >= layout.key_name_size
        if layout.key_name_size and n >= 2 and prefix < layout.key_name_size:
            continue  # tickets of one key share its name; these do not
        if layout.key_name_size == 0 and n >= 2 and prefix >= 4:
            continue  # a layout without a key name starts with a random IV
        if layout.name in opened:
            matches.append(LayoutMatch(layout.name, layout.implementations, "certain",
                                       "a guessed key opened a ticket in this layout"))
            continue
        facts = []
        if layout.length_field:
            facts.append(f"the length field matches the ticket length in {n} ticket{'s' * (n > 1)} "
                         f"(1 in 65,536 for random bytes, each)")
        if layout.block > 1:
            facts.append(f"the ciphertext is whole {layout.block}-byte blocks")
        if layout.key_name_size and n >= 2:
            facts.append(f"the tickets share their first {prefix} bytes (a {layout.key_name_size}-byte key name)")
        elif layout.key_name_size == 0 and n >= 2:
            facts.append("the tickets share no prefix (no key name: a random IV first)")
        if layout.length_field:
            confidence = "strong" if name_fits and n >= 2 else "likely"
        elif layout.key_name_size and n >= 2:
            confidence = "likely"
        else:
            confidence = "possible"
        matches.append(LayoutMatch(layout.name, layout.implementations, confidence, "; ".join(facts)))
    if not matches and tickets and max(lengths) <= 48:
        # Too short to hold a session: an identifier of a session the server keeps (stateful tickets, as
        # OpenSSL issues them in TLS 1.3 with SSL_OP_NO_TICKET or with 0-RTT anti-replay on).
        matches.append(LayoutMatch("stateful", "a server that keeps its sessions and hands out identifiers "
                                   "(OpenSSL's stateful TLS 1.3 tickets)", "likely",
                                   f"{lengths[-1]} bytes at most: too short for an encrypted session; "
                                   f"the tickets share {prefix} bytes"))
    matches.sort(key=lambda m: _RANK[m.confidence])
    best = matches[0] if matches else None
    if best is not None and len(matches) > 1 and _RANK[matches[1].confidence] == _RANK[best.confidence]:
        best = best._replace(reason=best.reason + f"; {matches[1].layout} fits as well")
    return Fingerprint(len(tickets), lengths, prefix, best, tuple(matches))
