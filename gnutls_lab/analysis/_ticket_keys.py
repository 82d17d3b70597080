"""Server ticket keys: load a GnuTLS ticket master key, find the period key, verify and decrypt.

How GnuTLS keys its tickets (``lib/stek.c``, 3.6.4 to 3.8.x). The 64-byte master key of
``gnutls_session_ticket_key_generate`` is never used directly. The key of period ``t`` is
``SHA3-512(u64_be(t) || master)``: bytes 0-16 are the *key name* written in clear at the start of
every ticket, 16-48 the AES-256-CBC key, 48-64 the HMAC-SHA1 key. ``t = floor(now / (3 *
expire_time))`` with the server's ``gnutls_db_set_cache_expiration`` (default 21600 s, so 18-hour
periods). 3.6.0-3.6.3 used the master key itself with the same split.

Finding ``t`` without knowing the time. The key name is a hash output, so ``t`` cannot be solved
for; we try candidates (one SHA3-512 each, about a microsecond). Only two unknowns set ``t``: when
the ticket was issued and the server's expire_time. So the search (:func:`find_period`) goes, and
stops at the first key-name match:

1. an explicit ``period`` if given;
2. around each *time hint* (the session's own timestamp and TLS 1.3 arrival time when decrypting
   from a decoded blob, caller-given ``time_hints``, and the current time), for every candidate
   expire_time (``expire_hint`` first, then the common values in :data:`COMMON_EXPIRE_TIMES`,
   21600 first): the periods from one day before to eight days after the hint (a ticket is issued
   after the handshake timestamp; 604800 s is GnuTLS's cap on expire_time);
3. failing that, every period of the last :data:`WIDE_SEARCH_DAYS` days before now for the common
   expire times (a few 100k hashes, well under a second).

A lab with a fake clock far from now should pass ``time_hints`` (the fake time) or ``period``.
A miss means the key did not issue the ticket (:class:`~gnutls_lab.errors.TicketKeyError`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import struct
import time
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ..binding import exact_bytes
from ..errors import BlobFormatError, TicketKeyError, UsageError
from ..formats import parse_span
from ._secrets import Secret
from ..formats import TICKET_KEY_NAME_SIZE, TICKET_MAC_SIZE, Tls12TicketState, Tls13TicketState, parse_envelope
from ..sessions import MAX_KEY_FILE_BYTES, TICKET_KEY_SIZE, read_user_file

__all__ = [
    "MASTER_KEY_SIZE",
    "COMMON_EXPIRE_TIMES",
    "WIDE_SEARCH_DAYS",
    "PeriodKey",
    "DecryptedTicket",
    "load_ticket_key",
    "period_key",
    "period_of",
    "find_period",
    "decrypt_ticket",
]

MASTER_KEY_SIZE = TICKET_KEY_SIZE  # the sessions layer's, which checks every key it is given
#: Cache expirations worth trying when the server's is unknown, most likely first (21600 is
#: libgnutls's default; 604800 its cap).
COMMON_EXPIRE_TIMES = (21600, 7200, 3600, 86400, 43200, 604800, 1800, 600, 300, 60)
WIDE_SEARCH_DAYS = 400
_DAY = 86400


@dataclass(frozen=True)
class PeriodKey:
    """The STEK of period ``t`` (``lib/stek.c:totp_sha3``) split as GnuTLS splits it."""

    period: int | None  # None: 3.6.0-3.6.3, the master key used as is
    key_name: bytes
    aes_key: bytes = field(repr=False)
    mac_key: bytes = field(repr=False)


@dataclass(frozen=True)
class DecryptedTicket:
    """A verified, decrypted server ticket and the parts of its inner state.

    ``fields``: for TLS 1.3 the ``pack_ticket`` header (``prf``, ``age_add``, ``lifetime``,
    ``resumption_master_secret``, ``nonce``, ``creation_time`` as (seconds, nanoseconds)); empty for
    TLS 1.2. ``state`` is the server's own packed session (decode it with ``gnutls_lab.analysis._decode``),
    ``padding`` the zero bytes up to the AES block.
    """

    protocol: str  # "TLS1.3" or "TLS1.2"
    key: PeriodKey
    plaintext: bytes = field(repr=False)
    fields: dict = field(repr=False)
    state: bytes = field(repr=False)
    padding: bytes = field(repr=False)


def load_ticket_key(source) -> bytes:
    """A 64-byte ticket master key from raw bytes, hex or base64 (PEM armour allowed), or a file of those.

    Exactly three forms are accepted: 64 raw bytes, 128 hex digits, or base64 of exactly 64 bytes,
    with whitespace around them (base64 may be wrapped in lines). Anything else is refused naming what
    was found: 64 characters of hex text are a 32-byte key, not 64 raw bytes, and so on. A key file
    larger than 64 KiB, or one that is not a regular file (a named pipe, a device), is refused without
    reading it.

    What ``source`` is taken for:

    - ``bytes`` (or ``bytearray``/``memoryview``): the key itself, raw or as hex/base64 text.
    - ``os.PathLike`` (``pathlib.Path``): always a file name; a missing file is an error.
    - ``str``: the name of a file when that file exists; otherwise the key written as text, which must
      be 128 hex digits or base64 of 64 bytes. A ``str`` is never taken as 64 *raw* bytes: 64 characters
      that name no file (a mistyped path) are refused as "no such file", not used as a key.
    """
    from_text = False
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = exact_bytes(source, "a ticket key")
    elif isinstance(source, (str, os.PathLike)):
        if os.path.lexists(source):
            try:
                data = read_user_file(source, MAX_KEY_FILE_BYTES, "ticket key file")
            except UsageError as exc:
                raise TicketKeyError(str(exc)) from None
        elif not isinstance(source, str):
            raise TicketKeyError(f"cannot read ticket key file {os.fspath(source)}: no such file")
        else:
            data, from_text = source.encode("ascii", "replace"), True
    else:
        raise TicketKeyError(f"a ticket key is bytes, text or a file name, not {type(source).__name__}")
    text = b"".join(line for line in data.split(b"\n") if not line.startswith(b"-----")).strip()
    compact = b"".join(text.split())
    if len(data) == MASTER_KEY_SIZE and not from_text and not (compact and _KEY_TEXT.match(data)):
        return data  # raw bytes (random bytes are almost never all hex or base64 characters)
    found = _describe_key_text(compact)
    if compact and _HEX_DIGITS.match(compact):
        if len(compact) == 2 * MASTER_KEY_SIZE:
            return binascii.unhexlify(compact)
    if compact and _BASE64_TEXT.match(compact):
        try:
            key = base64.b64decode(compact, validate=True)
        except (binascii.Error, ValueError):
            key = None
        if key is not None and len(key) == MASTER_KEY_SIZE:
            return key
    if from_text:
        raise TicketKeyError(
            f"no such ticket key file {source}, and as key text it is not 128 hex digits or base64 of "
            f"{MASTER_KEY_SIZE} bytes (found {found})")
    raise TicketKeyError(
        f"not a GnuTLS ticket master key: expected {MASTER_KEY_SIZE} raw bytes, 128 hex digits or base64 "
        f"of 64 bytes, found {found}"
    )


_KEY_TEXT = re.compile(rb"^[0-9A-Za-z+/=\s-]+$")
_HEX_DIGITS = re.compile(rb"^[0-9a-fA-F]+$")
_BASE64_TEXT = re.compile(rb"^[0-9A-Za-z+/]+={0,2}$")


def _describe_key_text(compact: bytes) -> str:
    """What a refused key looks like, for the error message."""
    if not compact:
        return "nothing (an empty key)"
    if _HEX_DIGITS.match(compact):
        whole = f" (a {len(compact) // 2}-byte key)" if len(compact) % 2 == 0 else " (an odd count)"
        return f"{len(compact)} hex digits{whole}"
    if _BASE64_TEXT.match(compact):
        try:
            return f"base64 of {len(base64.b64decode(compact, validate=True))} bytes"
        except (binascii.Error, ValueError):
            pass
    return f"{len(compact)} bytes that are neither hex nor base64"


def period_key(master: bytes, period: int | None) -> PeriodKey:
    """The key of one period (``None``: the master key itself, as 3.6.0-3.6.3 used it)."""
    material = master if period is None else hashlib.sha3_512(struct.pack(">Q", period) + master).digest()
    return PeriodKey(period, material[:16], material[16:48], material[48:64])


def period_of(unix_time: int, expire_time: int = 21600) -> int:
    """``lib/stek.c:T()``: the period number at ``unix_time`` for a server with ``expire_time``."""
    return int(unix_time) // (3 * int(expire_time))


def _candidate_periods(time_hints: Iterable[int], expire_hint: int | None) -> Iterator[int]:
    expires = ([expire_hint] if expire_hint else []) + [e for e in COMMON_EXPIRE_TIMES if e != expire_hint]
    now = int(time.time())
    hints = [int(h) for h in time_hints if h is not None] + [now]
    for expire in expires:
        span = 3 * expire
        for hint in hints:
            yield from range(max(hint - _DAY, 0) // span, (hint + 8 * _DAY) // span + 1)
    for expire in expires:
        span = 3 * expire
        yield from range(now // span, max(now - WIDE_SEARCH_DAYS * _DAY, 0) // span - 1, -1)


def find_period(master: bytes, key_name: bytes, *, time_hints: Iterable[int] = (), expire_hint: int | None = None,
                period: int | None = None) -> PeriodKey:
    """The period key whose name is ``key_name`` (search order in the module docstring)."""
    if period is not None:
        candidate = period_key(master, period)
        if hmac.compare_digest(candidate.key_name, key_name):
            return candidate
        raise TicketKeyError(f"this key did not issue this ticket: period {period} has another key name")
    if hmac.compare_digest(master[:TICKET_KEY_NAME_SIZE], key_name):
        return period_key(master, None)
    tried: set[int] = set()
    sha3, pack = hashlib.sha3_512, struct.Struct(">Q").pack
    for t in _candidate_periods(time_hints, expire_hint):
        if t in tried:
            continue
        tried.add(t)
        if sha3(pack(t) + master).digest()[:16] == key_name:
            return period_key(master, t)
    raise TicketKeyError(
        f"this key did not issue this ticket: no period key named {key_name.hex()} among {len(tried)} "
        f"periods tried (expire times {', '.join(map(str, COMMON_EXPIRE_TIMES))} around the given "
        f"times and the last {WIDE_SEARCH_DAYS} days); if the server's clock or cache expiration was "
        "unusual, pass time_hints/expire_hint or the period"
    )


def _aes_cbc_decrypt(key: PeriodKey, iv: bytes, ciphertext: bytes) -> bytes:
    decryptor = Cipher(algorithms.AES(key.aes_key), modes.CBC(iv)).decryptor()
    return decryptor.update(ciphertext) + decryptor.finalize()


def _parse_state(schema, plaintext: bytes) -> tuple[dict, dict]:
    """Parse a decrypted state with its schema: (tree, byte ranges by path); paths under ``ticket_state``."""
    fields: list = []
    try:
        tree = parse_span(schema, plaintext, fields)
    except BlobFormatError as exc:
        raise BlobFormatError(exc.reason, path=f"ticket_state.{exc.path}" if exc.path else "ticket_state",
                              offset=exc.offset) from None
    return tree, {path: (start, end) for path, start, end, _value in fields}


def _tls13_state(plaintext: bytes) -> tuple[dict, bytes, bytes]:
    """``lib/tls13/session_ticket.c:unpack_ticket`` fields, the nested session and the padding."""
    tree, ranges = _parse_state(Tls13TicketState, plaintext)
    created = tree["creation_time"]
    fields = {key: tree[key] for key in ("prf", "age_add", "lifetime", "nonce")}
    fields["resumption_master_secret"] = Secret(tree["resumption_master_secret"])
    fields["creation_time"] = ((created["tv_sec_high"] << 32) | created["tv_sec_low"], created["tv_nsec"])
    state = plaintext[ranges["state.length"][1] : ranges["creation_time"][0]]
    return fields, state, tree["padding"]


def _tls12_state(plaintext: bytes) -> tuple[dict, bytes, bytes]:
    tree, ranges = _parse_state(Tls12TicketState, plaintext)
    end = ranges["padding"][0]
    return {}, plaintext[:end], plaintext[end:]


def decrypt_ticket(ticket: bytes, master_key, *, tls13: bool | None = None, time_hints: Iterable[int] = (),
                   expire_hint: int | None = None, period: int | None = None) -> DecryptedTicket:
    """Verify and decrypt a GnuTLS server ticket with the server's master key.

    ``tls13``: which inner state to expect (None: try TLS 1.3, then TLS 1.2). Raises
    :class:`TicketKeyError` if the key did not issue the ticket or the MAC fails, and
    :class:`BlobFormatError` if the bytes are not a ticket envelope or the state is malformed.
    """
    master = load_ticket_key(master_key)
    envelope = parse_envelope(bytes(ticket))
    key = find_period(master, envelope["key_name"], time_hints=time_hints, expire_hint=expire_hint, period=period)
    ciphertext = envelope["encrypted_state"]
    signed = bytes(ticket)[:-TICKET_MAC_SIZE]  # the MAC covers everything before it
    tag = hmac.new(key.mac_key, signed, hashlib.sha1).digest()
    if not hmac.compare_digest(tag, envelope["mac"]):
        raise TicketKeyError(
            f"the key name matches period {key.period} but the HMAC does not verify: the ticket was altered"
        )
    if len(ciphertext) % 16:
        raise BlobFormatError(f"encrypted state of {len(ciphertext)} bytes is not a multiple of the AES block",
                              path="ticket.encrypted_state", offset=len(ticket) - TICKET_MAC_SIZE - len(ciphertext))
    plaintext = _aes_cbc_decrypt(key, envelope["IV"], ciphertext)
    readers = {True: [("TLS1.3", _tls13_state)], False: [("TLS1.2", _tls12_state)],
               None: [("TLS1.3", _tls13_state), ("TLS1.2", _tls12_state)]}[tls13]
    error: BlobFormatError | None = None
    for protocol, reader in readers:
        try:
            fields, state, padding = reader(plaintext)  # a TLS 1.3 state's nested session is parsed whole
            return DecryptedTicket(protocol, key, plaintext, fields, state, padding)
        except BlobFormatError as exc:
            error = error or exc
    raise error
