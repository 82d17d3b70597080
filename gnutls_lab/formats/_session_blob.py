"""The packed session of ``gnutls_session_get_data2()``, as ``construct`` schemas.

This is what decodes: :func:`gnutls_lab.analysis._decode.decode` parses with :data:`SessionBlob` and
turns the tree into a named, typed object. Layout verified for GnuTLS 3.7.9 and 3.8.9 and read from
the source of ``lib/session_pack.c`` for 3.6.5 to 3.7.1; ``docs/formats.md`` explains every field. Every integer is big-endian and nothing is aligned.

::

    SessionBlob    = header | auth_info | security_parameters | (tls13 if TLS 1.3 else extensions)
    header         = u32 magic, u32 timestamp, u32 expire_time, u8 auth_type     (13 bytes)
    auth_info      = u32 length, body chosen by auth_type (absent when length is 0)
    security_parameters = u32 length, body (31 + n bytes for TLS 1.3, 174 + n for TLS <= 1.2)
    tls13          = u32 length, ticket body (absent when length is 0: server-side packs)
    extensions     = u32 count, count x {u32 gid, u32 length, payload}

Versions: the magic is ``0xFADEBADD + GNUTLS_VERSION_NUMBER`` (``lib/db.h``), so it names the exact
producing release. The layout here is that of 3.6.5 and later; 3.6.8 to 3.7.1 do not store the
cipher suite of a TLS 1.3 session (added by 3.7.2 for early data): the schema compares the magic
with that of :data:`TLS13_CIPHER_SUITE_SINCE`. Older blobs have another layout and are refused at
the magic.

The fields come from :mod:`._layout`: they read the input in place, record byte ranges when asked,
and name the field path and byte offset of any defect. Parse results are plain dicts and lists. Lengths and counts are rebuilt from the
content, so a changed field builds into a consistent blob; every sized body must consume exactly
its length, so parse then build is byte-identical. Identifier fields parse to integers (the tables
of :mod:`._gnutls_ids` name them) and build from a number or a name.
"""

from __future__ import annotations

from construct import Construct, this

from ..errors import BlobFormatError
from ._gnutls_ids import (
    CERTIFICATE_TYPES,
    CIPHER_SUITES,
    CREDENTIALS,
    DUMMY_SESSION,
    ENTITIES,
    EXTENSION_GIDS,
    GROUPS,
    MACS,
    PACKED_SESSION_MAGIC_BASE,
    PROTOCOLS,
    SIGN_ALGORITHMS,
    SRTP_PROFILES,
)
from ._layout import Blob, Block, ByteList, Choice, Count, Ended, Entry, Fields, Int, Items, Rest, Section, Spanned, \
    When, parse_span

__all__ = [
    "FIRST_SUPPORTED_VERSION",
    "TLS13_CIPHER_SUITE_SINCE",
    "DUMMY_SESSION",
    "MAX_SESSION_ID_SIZE",
    "PROTOCOL_TLS13",
    "MAX_BLOB_SIZE",
    "magic_of",
    "with_magic",
    "check_size",
    "gnutls_version_of_magic",
    "magic_of_gnutls_version",
    "is_supported_version",
    "version_text",
    "Spanned",
    "Blob1",
    "Blob2",
    "Blob4",
    "Timespec",
    "DhInfo",
    "CertificateAuthInfo",
    "AnonAuthInfo",
    "PskAuthInfo",
    "SrpAuthInfo",
    "AuthInfo",
    "SecurityParameters",
    "Tls13Ticket",
    "ExtensionEntry",
    "Extensions",
    "EXTENSION_PAYLOADS",
    "PackedSession",
    "SessionBlob",
    "parse_session",
]

#: 3.6.5 gave the header its expire_time and the TLS 1.3 section its present shape.
FIRST_SUPPORTED_VERSION = 0x030605
#: 3.7.2 (commit 0e1f1f055) started storing the cipher suite of TLS 1.3 sessions.
TLS13_CIPHER_SUITE_SINCE = 0x030702

#: ``GNUTLS_MAX_SESSION_ID_SIZE``.
MAX_SESSION_ID_SIZE = 32

#: The largest input the decoder reads. Real blobs are under 2 KB (a long certificate chain makes
#: them a few KB); anything larger is refused before parsing, so hostile input stays cheap.
MAX_BLOB_SIZE = 64 * 1024

#: ``GNUTLS_TLS1_3`` in ``security_parameters.pversion``.
PROTOCOL_TLS13 = 5


def gnutls_version_of_magic(magic: int) -> int:
    """``GNUTLS_VERSION_NUMBER`` (e.g. 0x030709) of the library that packed a blob."""
    return (magic - PACKED_SESSION_MAGIC_BASE) & 0xFFFFFFFF


def magic_of_gnutls_version(version) -> int:
    """The magic GnuTLS ``version`` writes (``lib/db.h:PACKED_SESSION_MAGIC``).

    ``version`` is a version number (0x030809) or a tuple such as ``(3, 8, 9)``.
    """
    if isinstance(version, tuple):
        major, minor, patch = (tuple(version) + (0, 0, 0))[:3]
        version = (major << 16) | (minor << 8) | patch
    return (PACKED_SESSION_MAGIC_BASE + version) & 0xFFFFFFFF


def magic_of(data: bytes) -> int | None:
    """The u32 magic at the start of ``data`` (None if shorter than 4 bytes)."""
    return int.from_bytes(data[:4], "big") if len(data) >= 4 else None


def with_magic(data: bytes, magic: int) -> bytes:
    """``data`` with its u32 magic replaced and every other byte kept: the layout stays the one the old
    magic named (what the cross-version experiment needs; libgnutls refuses another release's magic)."""
    if not isinstance(magic, int) or not 0 <= magic <= 0xFFFFFFFF:
        raise BlobFormatError(f"magic must be a u32, not {magic!r}", path="magic", offset=0)
    if len(data) < 4:
        raise BlobFormatError(f"a session blob starts with a 4-byte magic; {len(data)} bytes have none",
                              path="magic", offset=0)
    return magic.to_bytes(4, "big") + bytes(data[4:])


def check_size(size: int, what: str = "input") -> None:
    """Refuse an input over :data:`MAX_BLOB_SIZE` with a one-line :class:`BlobFormatError`."""
    if size > MAX_BLOB_SIZE:
        raise BlobFormatError(
            f"{what} of {size} bytes is over the {MAX_BLOB_SIZE}-byte limit (session blobs are a few KB at most)",
            offset=MAX_BLOB_SIZE,
        )


def is_supported_version(version: int) -> bool:
    """3.6.5 up to any 3.x: the layout declared here (later 3.x releases are assumed unchanged)."""
    return FIRST_SUPPORTED_VERSION <= version <= 0x03FFFF


def version_text(version: int) -> str:
    """0x030709 -> "3.7.9"."""
    return f"{version >> 16}.{(version >> 8) & 0xFF}.{version & 0xFF}"


class Magic(Construct):
    """The u32 magic, refused unless it names a GnuTLS release whose layout this module declares."""

    def __init__(self):
        super().__init__()
        self.u32 = Int(4)

    def _parse(self, stream, context, path):
        at = stream.pos
        magic = self.u32._parse(stream, context, path)
        version = gnutls_version_of_magic(magic)
        if not is_supported_version(version):
            where = {"path": path, "offset": stream.base + at}
            if 0x030000 <= version < FIRST_SUPPORTED_VERSION:
                raise BlobFormatError(
                    f"unsupported GnuTLS version {version_text(version)} (magic 0x{magic:08X}): packed "
                    f"sessions before {version_text(FIRST_SUPPORTED_VERSION)} have another layout",
                    **where,
                )
            raise BlobFormatError(
                f"unknown magic 0x{magic:08X}: not a GnuTLS packed session (magic - 0xFADEBADD = "
                f"0x{version:08X} is no GnuTLS 3.x version number)",
                **where,
            )
        return magic

    def _build(self, obj, stream, context, path):
        return self.u32._build(obj, stream, context, path)


Blob1 = Blob(1)
Blob2 = Blob(2)
Blob4 = Blob(4)

#: ``lib/str.h:BUFFER_APPEND_TS``: a ``struct timespec`` as u32 seconds-high, seconds-low, nanoseconds.
Timespec = Spanned(Block(12, Fields("tv_sec_high" / Int(4), "tv_sec_low" / Int(4), "tv_nsec" / Int(4))))

#: The ``info->dh`` quartet that certificate, anon and PSK auth info share: filled only for
#: finite-field DHE key exchange, empty (0, 3 empty blobs) for ECDHE and TLS 1.3.
DhInfo = Spanned(Fields(
    "secret_bits" / Int(4),
    "prime" / Blob4,
    "generator" / Blob4,
    "public_key" / Blob4,
))

#: ``lib/session_pack.c:pack_certificate_auth_info`` (3.6.5-3.8.x): the *peer's* chain, leaf first,
#: DER; and the OCSP responses (TLS 1.3 clients keep one slot per certificate, empty if none stapled).
CertificateAuthInfo = Spanned(Fields(
    "dh" / DhInfo,
    "ncerts" / Count("raw_certificate_list", 4),
    "raw_certificate_list" / Items(this.ncerts, Blob4),
    "nocsp" / Count("raw_ocsp_list", 4),
    "raw_ocsp_list" / Items(this.nocsp, Blob4),
))

#: ``lib/session_pack.c:pack_anon_auth_info``: only the DH parameters of the anonymous exchange.
AnonAuthInfo = Spanned(Fields("dh" / DhInfo))

#: ``lib/session_pack.c:pack_psk_auth_info``: username (no NUL), hint (with its NUL), DH quartet.
PskAuthInfo = Spanned(Fields("username" / Blob4, "hint" / Blob4, "dh" / DhInfo))

#: ``lib/session_pack.c:pack_srp_auth_info``: the username with its trailing NUL.
SrpAuthInfo = Spanned(Fields("username" / Blob4))

#: The auth info section: ``u32 length`` then the body its ``auth_type`` (header byte 12) selects.
#: Length 0 means "no auth info" (e.g. a TLS 1.3 server whose client sent no certificate). An
#: unknown auth type keeps the bytes (libgnutls refuses it).
AuthInfo = Spanned(Section(
    Choice(
        this.auth_type,
        {1: CertificateAuthInfo, 2: AnonAuthInfo, 3: SrpAuthInfo, 4: PskAuthInfo},
        default="data" / Rest(),
    )
))


# The conditions of optional parts are functions of the context, as construct allows wherever it takes
# a ``this`` expression: they are evaluated on every parse, and a function reads a key faster.
def _not_tls13(this) -> bool:
    """The TLS <= 1.2 part of the security parameters."""
    return this["pversion"] != PROTOCOL_TLS13


def _stores_cipher_suite(this) -> bool:
    """TLS <= 1.2, or a TLS 1.3 session packed by 3.7.2 or later (the magic names the release)."""
    return this["pversion"] != PROTOCOL_TLS13 or this["_"]["magic"] >= _CIPHER_SUITE_MAGIC


_CIPHER_SUITE_MAGIC = magic_of_gnutls_version(TLS13_CIPHER_SUITE_SINCE)

#: ``lib/session_pack.c:pack_security_parameters``. Under TLS 1.3 the body ends after the cipher
#: suite (which 3.6.8-3.7.1 do not store); TLS <= 1.2 adds the master secret, randoms, record
#: sizes, group, signature algorithms, EMS and ETM. The record sizes are named as
#: ``unpack_security_parameters`` reads them; ``pack`` writes recv then send unless
#: record_size_limit was negotiated (both are 16384 in practice).
SecurityParameters = Spanned(Section(
    Fields(
        "entity" / Int(4, ENTITIES),
        "prf" / Int(4, MACS),
        "client_auth_type" / Int(4, CREDENTIALS),
        "server_auth_type" / Int(4, CREDENTIALS),
        # GNUTLS_MAX_SESSION_ID_SIZE; Debian's unpack refuses more, and so do we.
        "session_id" / Blob(
            1, MAX_SESSION_ID_SIZE, "session ID of {n} bytes is longer than GNUTLS_MAX_SESSION_ID_SIZE ({max})"
        ),
        "pversion" / Int(4, PROTOCOLS),
        "client_ctype" / Int(4, CERTIFICATE_TYPES),
        "server_ctype" / Int(4, CERTIFICATE_TYPES),
        "cs" / When(_stores_cipher_suite, Int(2, CIPHER_SUITES)),
        "master_secret" / When(_not_tls13, Blob1),
        "client_random" / When(_not_tls13, Blob1),
        "server_random" / When(_not_tls13, Blob1),
        "max_record_send_size" / When(_not_tls13, Int(4)),
        "max_record_recv_size" / When(_not_tls13, Int(4)),
        "grp" / When(_not_tls13, Int(4, GROUPS)),
        "server_sign_algo" / When(_not_tls13, Int(4, SIGN_ALGORITHMS)),
        "client_sign_algo" / When(_not_tls13, Int(4, SIGN_ALGORITHMS)),
        "ext_master_secret" / When(_not_tls13, Int(4)),
        "etm" / When(_not_tls13, Int(4)),
    ),
    optional=False,
))

#: ``lib/session_pack.c:tls13_pack_security_parameters`` (3.6.5+): the last NewSessionTicket the
#: client accepted (``internals.tls13_ticket``) and the connection's resumption master secret.
#: Length 0 (no body) on server-side packs, including the state inside a ticket. The ticket is
#: the server's envelope (:data:`gnutls_lab.formats._ticket.TicketEnvelope`), opaque to the client.
Tls13Ticket = Spanned(Section(
    Fields(
        "lifetime" / Int(4),
        "age_add" / Int(4),
        "nonce" / Blob1,
        "ticket" / Blob4,
        "resumption_master_secret" / Blob1,
        "arrival_time" / Timespec,
        "max_early_data_size" / Int(4),
    )
))

#: Payloads of ``lib/hello_ext.c:pack_extension`` entries, by GnuTLS-internal extension id (gid).
#: Any other gid (including application extensions, 27+) is kept as raw bytes.
EXTENSION_PAYLOADS = {
    # lib/hello_ext_lib.c:_gnutls_hello_ext_default_pack: the stored datum, u16-prefixed.
    2: Fields("cert_types" / ByteList(2)),
    3: Fields("cert_types" / ByteList(2)),
    # lib/ext/srp.c:_gnutls_srp_pack: the SRP username and the *cleartext* password.
    6: Fields("username" / Blob4, "password" / Blob4),
    # lib/ext/signature.c:signature_algorithms_pack (server side: the client's list).
    7: Fields(
        "sign_algorithms_size" / Count("sign_algorithms", 4),
        "sign_algorithms" / Items(this.sign_algorithms_size, Int(4, SIGN_ALGORITHMS)),
    ),
    # lib/ext/srtp.c:_gnutls_srtp_pack.
    8: Fields(
        "profiles_size" / Count("profiles", 4),
        "profiles" / Items(this.profiles_size, Int(4, SRTP_PROFILES)),
        "mki_received" / Int(4),
        "selected_profile" / When(this.mki_received != 0, Int(4, SRTP_PROFILES)),
        "mki" / When(this.mki_received != 0, Blob4),
    ),
    # lib/ext/heartbeat.c:_gnutls_heartbeat_pack: the GNUTLS_HB_* mode bits.
    9: Fields("mode" / Int(4)),
    # lib/ext/session_ticket.c:session_ticket_pack: the TLS 1.2 ticket (client side).
    13: Fields("ticket" / Blob4),
    # default pack: the host name the client set / the server received.
    18: Fields("server_name" / Blob2),
}

#: One ``{u32 gid; u32 length; payload}`` entry of ``lib/hello_ext.c:pack_extension``.
ExtensionEntry = Spanned(Entry("gid", EXTENSION_GIDS, EXTENSION_PAYLOADS, default="data" / Rest()))

#: ``lib/hello_ext.c:_gnutls_hello_ext_pack`` (TLS <= 1.2 only; TLS 1.3 renegotiates extensions).
Extensions = Spanned(Fields(
    "count" / Count("entries", 8),
    "entries" / Items(this.count, ExtensionEntry, flat=True),
))

def _is_tls13(this) -> bool:
    return this["security_parameters"]["body"]["pversion"] == PROTOCOL_TLS13


def _is_not_tls13(this) -> bool:
    return this["security_parameters"]["body"]["pversion"] != PROTOCOL_TLS13

#: ``lib/session_pack.c:_gnutls_session_pack``, 3.6.5-3.8.x, without an end check: also the
#: prefix of a TLS 1.2 ticket plaintext, which zero padding follows.
PackedSession = Spanned(
    Fields(
        "magic" / Magic(),
        "timestamp" / Int(4),
        "expire_time" / Int(4),
        "auth_type" / Int(1, CREDENTIALS),
        "auth_info" / AuthInfo,
        "security_parameters" / SecurityParameters,
        "tls13" / When(_is_tls13, Tls13Ticket),
        "extensions" / When(_is_not_tls13, Extensions),
    )
)

#: A whole blob as ``gnutls_session_get_data2`` returns it: a packed session and nothing after it
#: (libgnutls itself ignores trailing bytes; this schema refuses them).
SessionBlob = Spanned(
    Ended(
        PackedSession,
        "{n} bytes of trailing garbage after the packed session (libgnutls's unpack would ignore "
        "them; the decoder reports them so nothing goes unexplained)",
        where="(after end)",
    )
)


def parse_session(data: bytes, fields: list | None = None, *, strict: bool = True) -> dict:
    """Parse a packed session into a plain tree; ``fields`` (a list) receives every field's range.

    ``strict``: nothing may follow the session (``SessionBlob``); otherwise trailing bytes are left
    alone, as libgnutls leaves them (``PackedSession``). One parse either way: a defect raises
    :class:`BlobFormatError` with its field path and byte offset from that parse.
    """
    return parse_span(SessionBlob if strict else PackedSession, data, fields)
