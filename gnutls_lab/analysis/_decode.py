"""Decoded GnuTLS session blobs: every field named, typed, located, and secrets redacted by default.

>>> s = decode(conn.session_data)                  # bytes, bytearray or a SessionData
>>> s.protocol, s.cipher_suite, s.tls13.lifetime    # ('TLS1.3', 'TLS_AES_256_GCM_SHA384', 21600)
>>> s.ranges["tls13.ticket"]                        # (start, end): where the field's bytes are
>>> s.to_dict()                                     # JSON-ready, secrets "redacted"
>>> shorter = s.replace(lifetime=10).to_bytes()     # the tamper lab: change a field, rebuild

Where the data comes from: the construct schema :data:`gnutls_lab.formats._session_blob.SessionBlob`
parses the blob; the annotated decode records every field's byte range during that same parse, the
plain one (``decode(..., annotate=False)``) runs the same schema and records nothing. Building
goes through the same schema, so a decoded blob rebuilds byte-identically and an edited one gets
consistent lengths. ``docs/formats.md`` describes every field. Inputs over
:data:`~gnutls_lab.formats._session_blob.MAX_BLOB_SIZE` bytes (64 KiB) are refused unread.

Sensitive fields: ``master_secret`` (TLS <= 1.2, decrypts recorded traffic with the randoms),
``resumption_master_secret`` (TLS 1.3, every ticket PSK derives from it) and the SRP password are
secrets, shown as ``"redacted"`` unless ``show_secrets=True``. The ticket itself is encrypted but is a
*bearer credential*: whoever holds it (with the resumption secret) can resume; it is shown, handle it
like a cookie. Every failure is a :class:`~gnutls_lab.errors.BlobFormatError` with a field path and
byte offset.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from ..binding import exact_bytes
from ..errors import BlobFormatError, GnuTLSLabError, UsageError
from ..formats import (
    CERTIFICATE_TYPES,
    CIPHER_SUITES,
    CREDENTIALS,
    ENTITIES,
    EXTENSION_GIDS,
    GROUPS,
    MACS,
    PROTOCOLS,
    SIGN_ALGORITHMS,
)
from ..formats import (
    DUMMY_SESSION,
    SessionBlob,
    check_size,
    gnutls_version_of_magic,
    parse_session,
    version_text,
)
from ..formats import parse_envelope, with_envelopes
from ._secrets import Secret
from ._tamper import flip, rebuild

__all__ = [
    "REDACTED",
    "DUMMY_EXPLANATION",
    "Field",
    "Tls13Ticket",
    "Extension",
    "DecodedSession",
    "decode",
    "is_secret",
    "name_of",
]

REDACTED = "redacted"
DUMMY_EXPLANATION = (
    "the 4-byte dummy 00 00 00 00: gnutls_session_get_data2 returns it when a TLS 1.3 client has not "
    "received a NewSessionTicket yet, and always on a TLS 1.3 server (servers never receive tickets). "
    "gnutls_session_set_data accepts it as a no-op, so the next handshake is a full one. Not an error."
)
_SECRET_LEAVES = ("master_secret", "resumption_master_secret", "password")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def is_secret(path: str) -> bool:
    """True for fields whose bytes views must hide unless asked (see the module docstring)."""
    leaf = path.rsplit(".", 1)[-1]
    return leaf in _SECRET_LEAVES


def name_of(table: dict[int, str], value: int | None) -> str | None:
    """GnuTLS/IANA name of an identifier; unknown numbers read ``UNKNOWN(<n>)``, never an error."""
    if value is None:
        return None
    return table.get(value) or f"UNKNOWN({value})"


def _utc(seconds: int, nanoseconds: int = 0) -> datetime | None:
    try:
        return _EPOCH + timedelta(seconds=seconds, microseconds=nanoseconds // 1000)
    except OverflowError:  # a u64 of seconds can exceed year 9999
        return None


class Field(NamedTuple):
    """One field of a blob: its path, the half-open byte range ``[start, end)`` and its raw value."""

    path: str
    start: int
    end: int
    value: Any


class Tls13Ticket(NamedTuple):
    """The TLS 1.3 section: the last NewSessionTicket the client accepted, and its secret."""

    lifetime: int
    ticket_age_add: int
    nonce: bytes
    ticket: bytes
    resumption_master_secret: bytes
    arrival_time: datetime | None
    arrival_time_raw: tuple[int, int]  # (seconds, nanoseconds) of the client's clock
    max_early_data_size: int


class Extension(NamedTuple):
    """One stored hello extension: GnuTLS-internal id, its name, and the decoded payload (or raw bytes)."""

    gid: int
    name: str
    data: Any


class DecodedSession:
    """A decoded ``gnutls_session_get_data2`` blob (or the dummy). Build one with :func:`decode`."""

    def __init__(self, data: bytes, tree: dict | None, fields: list[Field] | None):
        self.data = data
        self.tree = tree  # the schema's parse tree, normalised: ints for enums, None for absent parts
        self.fields = fields  # None for a plain (annotate=False) decode
        self._ranges: dict[str, tuple[int, int]] | None = None

    # -- what it is ---------------------------------------------------------------------------
    @property
    def dummy(self) -> bool:
        return self.tree is None

    @property
    def dummy_reason(self) -> str | None:
        return DUMMY_EXPLANATION if self.dummy else None

    @property
    def magic(self) -> int | None:
        return None if self.dummy else self.tree["magic"]

    @property
    def gnutls_version_number(self) -> int | None:
        return None if self.dummy else gnutls_version_of_magic(self.tree["magic"])

    @property
    def gnutls_version(self) -> str | None:
        """The release that packed the blob, from its magic: e.g. ``"3.7.9"``."""
        return None if self.dummy else version_text(self.gnutls_version_number)

    def _sp(self, key: str):
        return None if self.dummy else self.tree["security_parameters"]["body"][key]

    # -- header -------------------------------------------------------------------------------
    @property
    def timestamp(self) -> int | None:
        return None if self.dummy else self.tree["timestamp"]

    @property
    def start_time(self) -> datetime | None:
        return None if self.dummy else _utc(self.tree["timestamp"])

    @property
    def expire_time(self) -> int | None:
        """Seconds the *packing* session would cache it (``gnutls_db_set_cache_expiration``)."""
        return None if self.dummy else self.tree["expire_time"]

    @property
    def expires_at(self) -> datetime | None:
        return None if self.dummy else _utc(self.tree["timestamp"] + self.tree["expire_time"])

    @property
    def auth_type(self) -> str | None:
        return None if self.dummy else name_of(CREDENTIALS, self.tree["auth_type"])

    # -- security parameters ------------------------------------------------------------------
    entity = property(lambda self: name_of(ENTITIES, self._sp("entity")))
    prf = property(lambda self: name_of(MACS, self._sp("prf")))
    client_auth_type = property(lambda self: name_of(CREDENTIALS, self._sp("client_auth_type")))
    server_auth_type = property(lambda self: name_of(CREDENTIALS, self._sp("server_auth_type")))
    session_id = property(lambda self: self._sp("session_id"))
    protocol = property(lambda self: name_of(PROTOCOLS, self._sp("pversion")))
    client_certificate_type = property(lambda self: name_of(CERTIFICATE_TYPES, self._sp("client_ctype")))
    server_certificate_type = property(lambda self: name_of(CERTIFICATE_TYPES, self._sp("server_ctype")))
    cipher_suite_id = property(lambda self: self._sp("cs"))
    cipher_suite = property(lambda self: name_of(CIPHER_SUITES, self._sp("cs")))
    master_secret = property(lambda self: self._sp("master_secret"))
    client_random = property(lambda self: self._sp("client_random"))
    server_random = property(lambda self: self._sp("server_random"))
    max_record_send_size = property(lambda self: self._sp("max_record_send_size"))
    max_record_recv_size = property(lambda self: self._sp("max_record_recv_size"))
    group = property(lambda self: name_of(GROUPS, self._sp("grp")))
    server_signature_algorithm = property(lambda self: name_of(SIGN_ALGORITHMS, self._sp("server_sign_algo")))
    client_signature_algorithm = property(lambda self: name_of(SIGN_ALGORITHMS, self._sp("client_sign_algo")))

    @property
    def extended_master_secret(self) -> bool | None:
        value = self._sp("ext_master_secret")
        return None if value is None else bool(value)

    @property
    def encrypt_then_mac(self) -> bool | None:
        value = self._sp("etm")
        return None if value is None else bool(value)

    # -- auth info ----------------------------------------------------------------------------
    @property
    def auth_info(self) -> dict | bytes | None:
        """The auth-info body (certificate / anon / PSK / SRP fields), None when the section is empty."""
        return None if self.dummy else self.tree["auth_info"]["body"]

    def _auth(self, key: str, default=None):
        info = self.auth_info
        return info.get(key, default) if isinstance(info, dict) else default

    @property
    def peer_certificates(self) -> list[bytes]:
        """The peer's chain as DER, leaf first (a client blob: the server's; a server blob: the client's)."""
        return list(self._auth("raw_certificate_list", []))

    @property
    def ocsp_responses(self) -> list[bytes]:
        return list(self._auth("raw_ocsp_list", []))

    psk_username = property(lambda self: self._auth("username") if self.auth_type == "PSK" else None)
    psk_hint = property(lambda self: self._auth("hint"))
    srp_username = property(lambda self: self._auth("username") if self.auth_type == "SRP" else None)
    dh = property(lambda self: self._auth("dh"))

    # -- TLS 1.3 section and extensions -------------------------------------------------------
    @property
    def tls13(self) -> Tls13Ticket | None:
        section = None if self.dummy else self.tree["tls13"]
        if not section or section["body"] is None:
            return None
        body = section["body"]
        arrival = body["arrival_time"]
        seconds = (arrival["tv_sec_high"] << 32) | arrival["tv_sec_low"]
        return Tls13Ticket(
            lifetime=body["lifetime"],
            ticket_age_add=body["age_add"],
            nonce=body["nonce"],
            ticket=body["ticket"],
            resumption_master_secret=body["resumption_master_secret"],
            arrival_time=_utc(seconds, arrival["tv_nsec"]),
            arrival_time_raw=(seconds, arrival["tv_nsec"]),
            max_early_data_size=body["max_early_data_size"],
        )

    @property
    def extensions(self) -> list[Extension]:
        section = None if self.dummy else self.tree["extensions"]
        if not section:
            return []
        return [
            Extension(e["gid"], EXTENSION_GIDS.get(e["gid"], f"application extension {e['gid']}"), e["data"])
            for e in section["entries"]
        ]

    def _extension(self, gid: int):
        for extension in self.extensions:
            if extension.gid == gid:
                return extension.data
        return None

    @property
    def server_name(self) -> str | None:
        data = self._extension(18)
        return data["server_name"].decode("utf-8", "replace") if data else None

    @property
    def signature_algorithms(self) -> list[str]:
        data = self._extension(7)
        return [name_of(SIGN_ALGORITHMS, v) for v in data["sign_algorithms"]] if data else []

    @property
    def ticket(self) -> bytes | None:
        """The server ticket this blob would present: TLS 1.3 PSK identity or TLS 1.2 SessionTicket."""
        if self.tls13 is not None:
            return self.tls13.ticket
        data = self._extension(13)
        return data["ticket"] if data else None

    def ticket_envelope(self) -> dict | None:
        """key_name / IV / encrypted_state / mac of :attr:`ticket`, if it is a GnuTLS envelope."""
        ticket = self.ticket
        if ticket is None:
            return None
        try:
            envelope = parse_envelope(ticket)
            del envelope["encrypted_state_len"]
            return envelope
        except BlobFormatError:
            return None  # another TLS implementation's ticket: opaque to the client, fine

    # -- where the bytes are ------------------------------------------------------------------
    @property
    def ranges(self) -> dict[str, tuple[int, int]]:
        """Field path -> ``(start, end)`` byte range; empty for a plain decode."""
        if self._ranges is None:
            self._ranges = {f.path: (f.start, f.end) for f in self.fields or ()}
        return self._ranges

    def field_at(self, offset: int) -> Field | None:
        """The innermost field covering byte ``offset``."""
        best = None
        for field in self.fields or ():
            if field.start <= offset < field.end and (best is None or field.end - field.start <= best.end - best.start):
                best = field
        return best

    # -- plain view (the JSON, text, hex and HTML views: gnutls_lab.faces) ---------------------
    def __repr__(self) -> str:
        if self.dummy:
            return "<DecodedSession dummy (no TLS 1.3 ticket yet): 00 00 00 00>"
        extra = f" lifetime={self.tls13.lifetime}s" if self.tls13 else ""
        return (
            f"<DecodedSession GnuTLS {self.gnutls_version} {self.entity} {self.protocol} {self.cipher_suite} "
            f"auth={self.auth_type} session_id={self.session_id.hex()[:16]}...{extra} ({len(self.data)} bytes)>"
        )

    # -- the tamper lab -----------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """Build the tree back with the schemas (byte-identical to :attr:`data` when unchanged)."""
        if self.dummy:
            return DUMMY_SESSION
        try:
            return SessionBlob.build(self.tree)
        except GnuTLSLabError:
            raise
        except Exception as exc:
            raise UsageError(f"cannot build this session: {type(exc).__name__}: {exc}") from None

    def rebuilt(self, changes: dict | None = None, **named) -> bytes:
        """The bytes of this session with fields changed; lengths are recomputed, nothing is checked.

        Keys are field names (``lifetime``, ``ticket_age_add``, ``session_id``, ``protocol``...) or paths
        as in :attr:`ranges` (``"security_parameters.etm"``); enum fields take a name or a number;
        ``gnutls_version="3.8.9"`` rewrites only the magic. The path language: :mod:`._tamper`.
        """
        if self.dummy:
            raise UsageError("the dummy has no fields to change")
        return rebuild(self.tree, {**(changes or {}), **named})

    def replace(self, changes: dict | None = None, **named) -> "DecodedSession":
        """:meth:`rebuilt`, decoded again (so it must still be a valid blob)."""
        return decode(self.rebuilt(changes, **named))

    def flipped(self, path: str, index: int = 0, mask: int = 0x01) -> bytes:
        """The blob with byte ``index`` of field ``path`` XORed with ``mask`` (e.g. corrupt the ticket)."""
        return flip(self.data, self.ranges, path, index, mask)

    def decrypt_ticket(self, master_key, **hints):
        """Decrypt :attr:`ticket` with the server's 64-byte master key; see :mod:`gnutls_lab.analysis._ticket_keys`.

        The session's own timestamp and arrival time are used as hints for the key period search.
        """
        from ._ticket_keys import decrypt_ticket  # beside us; kept lazy so decoding needs no crypto

        if self.ticket is None:
            raise UsageError("this session holds no ticket to decrypt")
        times = [self.timestamp]
        if self.tls13 is not None:
            times.append(self.tls13.arrival_time_raw[0])
        hints.setdefault("time_hints", times)
        return decrypt_ticket(self.ticket, master_key, tls13=self.protocol == "TLS1.3", **hints)


def _as_bytes(data) -> bytes:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return exact_bytes(data)  # the stored bytes, whatever a subclass's __len__/__getitem__ say
    inner = getattr(data, "data", None)  # gnutls_lab.sessions._session.SessionData
    if isinstance(inner, (bytes, bytearray, memoryview)):
        return exact_bytes(inner)
    raise UsageError(f"decode() takes bytes or a SessionData, not {type(data).__name__}")


def decode(data, *, annotate: bool = True) -> DecodedSession:
    """Decode a session blob (bytes, bytearray, memoryview or ``SessionData``).

    ``annotate=False`` skips recording byte ranges (faster; ``ranges`` is then empty).
    Raises :class:`BlobFormatError` naming the field path and byte offset of any defect, including
    bytes after the end of the session (libgnutls ignores those; we refuse to leave them unexplained).
    """
    data = _as_bytes(data)
    check_size(len(data))
    if data == DUMMY_SESSION:
        fields = [Field("dummy", 0, 4, data)] if annotate else None
        return DecodedSession(data, None, fields)
    if not data:
        raise BlobFormatError("empty input: a session blob is at least 4 bytes", path="magic", offset=0)
    raw_fields: list | None = [] if annotate else None
    try:
        tree = parse_session(data, raw_fields)
    except BlobFormatError:
        raise
    except Exception as exc:  # a schema bug must still surface as a format error
        raise BlobFormatError(f"undecodable blob ({type(exc).__name__}: {exc})") from None
    _hide_secrets(tree)
    fields = [_field(*f) for f in with_envelopes(raw_fields)] if annotate else None
    return DecodedSession(data, tree, fields)


def _field(path: str, start: int, end: int, value) -> Field:
    if isinstance(value, bytes) and is_secret(path):
        value = Secret(value)
    return Field(path, start, end, value)


def _hide_secrets(tree: dict) -> None:
    """Wrap the secret leaves of a parse tree in :class:`Secret` (their repr is redacted)."""
    body = tree["security_parameters"]["body"]
    if body.get("master_secret") is not None:
        body["master_secret"] = Secret(body["master_secret"])
    tls13 = tree.get("tls13")
    if tls13 and tls13["body"] is not None:
        tls13["body"]["resumption_master_secret"] = Secret(tls13["body"]["resumption_master_secret"])
    for entry in (tree.get("extensions") or {}).get("entries", ()):
        data = entry["data"]
        if isinstance(data, dict) and isinstance(data.get("password"), bytes):
            data["password"] = Secret(data["password"])
