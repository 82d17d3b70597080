"""The packed session of ``gnutls_session_get_data2()``, as ``construct`` 2.10 schemas.

Declarations only; :mod:`gnutls_lab.analysis.decode` reads them into a named, typed object. Layout verified
for GnuTLS 3.7.9 and 3.8.9 (``../shared/reference/gnutls-session-data.md``), read from the source of
``lib/session_pack.c`` for 3.6.5 to 3.7.1. Every integer is big-endian and nothing is aligned.

::

    SessionBlob    = header | auth_info | security_parameters | (tls13 if TLS 1.3 else extensions)
    header         = u32 magic, u32 timestamp, u32 expire_time, u8 auth_type     (13 bytes)
    auth_info      = u32 length, body chosen by auth_type (absent when length is 0)
    security_parameters = u32 length, body (31 + n bytes for TLS 1.3, 174 + n for TLS <= 1.2)
    tls13          = u32 length, ticket body (absent when length is 0: server-side packs)
    extensions     = u32 count, count x {u32 gid, u32 length, payload}

Versions: the magic is ``0xFADEBADD + GNUTLS_VERSION_NUMBER`` (``lib/db.h``), so it names the exact
producing release. The layout here is that of 3.6.5 and later; 3.6.8 to 3.7.1 do not store the
cipher suite of a TLS 1.3 session (added by 3.7.2 for early data), which :func:`stores_tls13_cipher_suite`
decides from the magic. Older blobs have another layout and fail the ``Check`` after the magic.

Lengths are rebuilt from the content (``Rebuild``), so a changed field builds into a consistent blob;
every sized body must consume exactly its length (``Terminated``), so parse then build is byte-identical.
Identifier fields are ``Enum`` over the tables of :mod:`.gnutls_ids`; they parse to names (an
``EnumIntegerString``; ``int()`` of it is the number) and build from a name or an integer.
"""

from __future__ import annotations

import io

from construct import (
    Array,
    Check,
    Enum,
    EnumIntegerString,
    FixedSized,
    FocusedSeq,
    GreedyBytes,
    GreedyRange,
    If,
    Int8ub,
    Int16ub,
    Int32ub,
    Prefixed,
    Rebuild,
    Struct,
    Switch,
    Terminated,
    len_,
    this,
)

from .gnutls_ids import (
    CERTIFICATE_TYPES,
    CIPHER_SUITES,
    CREDENTIALS,
    ENTITIES,
    EXTENSION_GIDS,
    GROUPS,
    MACS,
    PACKED_SESSION_MAGIC_BASE,
    PROTOCOLS,
    SIGN_ALGORITHMS,
    SRTP_PROFILES,
)

__all__ = [
    "FIRST_SUPPORTED_VERSION",
    "TLS13_CIPHER_SUITE_SINCE",
    "DUMMY_SESSION",
    "MAX_SESSION_ID_SIZE",
    "gnutls_version_of_magic",
    "magic_of_gnutls_version",
    "is_supported_version",
    "stores_tls13_cipher_suite",
    "enum_int",
    "named_enum",
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
]

#: 3.6.5 gave the header its expire_time and the TLS 1.3 section its present shape.
FIRST_SUPPORTED_VERSION = 0x030605
#: 3.7.2 (commit 0e1f1f055) started storing the cipher suite of TLS 1.3 sessions.
TLS13_CIPHER_SUITE_SINCE = 0x030702
#: What ``gnutls_session_get_data2`` returns when a TLS 1.3 client has no ticket yet (and on a
#: TLS 1.3 server): four zero bytes, which ``gnutls_session_set_data`` accepts as a no-op.
DUMMY_SESSION = b"\x00\x00\x00\x00"

#: ``GNUTLS_MAX_SESSION_ID_SIZE``.
MAX_SESSION_ID_SIZE = 32

_PROTOCOL_TLS13 = 5


def gnutls_version_of_magic(magic: int) -> int:
    """``GNUTLS_VERSION_NUMBER`` (e.g. 0x030709) of the library that packed a blob."""
    return (magic - PACKED_SESSION_MAGIC_BASE) & 0xFFFFFFFF


def magic_of_gnutls_version(version: int) -> int:
    """The magic that GnuTLS ``version`` (e.g. 0x030809) writes: ``lib/db.h:PACKED_SESSION_MAGIC``."""
    return (PACKED_SESSION_MAGIC_BASE + version) & 0xFFFFFFFF


def is_supported_version(version: int) -> bool:
    """3.6.5 up to any 3.x: the layout declared here (later 3.x releases are assumed unchanged)."""
    return FIRST_SUPPORTED_VERSION <= version <= 0x03FFFF


def stores_tls13_cipher_suite(version: int) -> bool:
    return version >= TLS13_CIPHER_SUITE_SINCE


def enum_int(value, table: dict[int, str]) -> int:
    """The integer behind an enum field, whether it holds a parsed name, a name or a number."""
    if isinstance(value, int):
        return value
    if isinstance(value, EnumIntegerString):  # a parsed, known value: int() gives the number
        return int(value)
    for key, name in table.items():
        if name == value:
            return key
    raise ValueError(f"{value!r} is not one of {sorted(table.values())}")


def _find(ctx, key):
    """A field of the nearest enclosing struct that has it (sessions nest inside tickets)."""
    while ctx is not None:
        if key in ctx:
            return ctx[key]
        ctx = ctx.get("_")
    raise KeyError(key)


def _gnutls_version(ctx) -> int:
    return gnutls_version_of_magic(_find(ctx, "magic"))


def _is_tls13(ctx) -> bool:
    """Inside the security parameters: is this a TLS 1.3 session?"""
    return enum_int(_find(ctx, "pversion"), PROTOCOLS) == _PROTOCOL_TLS13


def _session_is_tls13(ctx) -> bool:
    """At the top of a packed session: the TLS 1.3 section replaces the extension list."""
    return enum_int(ctx.security_parameters.body.pversion, PROTOCOLS) == _PROTOCOL_TLS13


def _size_of(body):
    """Rebuild helper: the length of ``ctx.body`` once built, as ``BUFFER_APPEND_NUM`` patches it."""

    def size(ctx):
        if ctx.body is None:
            return 0
        stream = io.BytesIO()
        body._build(ctx.body, stream, ctx, "(sizing)")
        return len(stream.getvalue())

    return size


def _sized(body, length=Int32ub, optional=True):
    """``length`` then ``body`` filling exactly that many bytes; length 0 = no body when optional."""
    if optional:
        sized_body = If(this.length > 0, FixedSized(this.length, body))
    else:
        sized_body = FixedSized(this.length, body)
    return Struct("length" / Rebuild(length, _size_of(body)), "body" / sized_body)


def named_enum(subcon, table):
    """``Enum`` over one of the :mod:`.gnutls_ids` tables (number -> name)."""
    return Enum(subcon, **{name: number for number, name in table.items()})


Blob1 = Prefixed(Int8ub, GreedyBytes)
Blob2 = Prefixed(Int16ub, GreedyBytes)
Blob4 = Prefixed(Int32ub, GreedyBytes)

#: ``lib/str.h:BUFFER_APPEND_TS``: a ``struct timespec`` as u32 seconds-high, seconds-low, nanoseconds.
Timespec = Struct("tv_sec_high" / Int32ub, "tv_sec_low" / Int32ub, "tv_nsec" / Int32ub)

#: The ``info->dh`` quartet that certificate, anon and PSK auth info share: filled only for
#: finite-field DHE key exchange, empty (0, 3 empty blobs) for ECDHE and TLS 1.3.
DhInfo = Struct(
    "secret_bits" / Int32ub,
    "prime" / Blob4,
    "generator" / Blob4,
    "public_key" / Blob4,
)

#: ``lib/session_pack.c:pack_certificate_auth_info`` (3.6.5-3.8.x): the *peer's* chain, leaf first,
#: DER; and the OCSP responses (TLS 1.3 clients keep one slot per certificate, empty if none stapled).
CertificateAuthInfo = Struct(
    "dh" / DhInfo,
    "ncerts" / Rebuild(Int32ub, len_(this.raw_certificate_list)),
    "raw_certificate_list" / Array(this.ncerts, Blob4),
    "nocsp" / Rebuild(Int32ub, len_(this.raw_ocsp_list)),
    "raw_ocsp_list" / Array(this.nocsp, Blob4),
    Terminated,
)

#: ``lib/session_pack.c:pack_anon_auth_info``: only the DH parameters of the anonymous exchange.
AnonAuthInfo = Struct("dh" / DhInfo, Terminated)

#: ``lib/session_pack.c:pack_psk_auth_info``: username (no NUL), hint (with its NUL), DH quartet.
PskAuthInfo = Struct("username" / Blob4, "hint" / Blob4, "dh" / DhInfo, Terminated)

#: ``lib/session_pack.c:pack_srp_auth_info``: the username with its trailing NUL.
SrpAuthInfo = Struct("username" / Blob4, Terminated)

#: The auth info section: ``u32 length`` then the body its ``auth_type`` (header byte 12) selects.
#: Length 0 means "no auth info" (e.g. a TLS 1.3 server whose client sent no certificate).
AuthInfo = _sized(
    Switch(
        lambda ctx: enum_int(_find(ctx, "auth_type"), CREDENTIALS),
        {1: CertificateAuthInfo, 2: AnonAuthInfo, 3: SrpAuthInfo, 4: PskAuthInfo},
        default=GreedyBytes,
    )
)

_NOT_TLS13 = lambda ctx: not _is_tls13(ctx)  # noqa: E731

#: ``lib/session_pack.c:pack_security_parameters``. Under TLS 1.3 the body ends after the cipher
#: suite (which 3.6.8-3.7.1 do not store); TLS <= 1.2 adds the master secret, randoms, record
#: sizes, group, signature algorithms, EMS and ETM. The record sizes are named as
#: ``unpack_security_parameters`` reads them; ``pack`` writes recv then send unless
#: record_size_limit was negotiated (both are 16384 in practice).
SecurityParameters = _sized(
    Struct(
        "entity" / named_enum(Int32ub, ENTITIES),
        "prf" / named_enum(Int32ub, MACS),
        "client_auth_type" / named_enum(Int32ub, CREDENTIALS),
        "server_auth_type" / named_enum(Int32ub, CREDENTIALS),
        "session_id" / Blob1,
        # GNUTLS_MAX_SESSION_ID_SIZE; Debian's unpack refuses more, and so do we.
        Check(lambda ctx: len(ctx.session_id) <= MAX_SESSION_ID_SIZE),
        "pversion" / named_enum(Int32ub, PROTOCOLS),
        "client_ctype" / named_enum(Int32ub, CERTIFICATE_TYPES),
        "server_ctype" / named_enum(Int32ub, CERTIFICATE_TYPES),
        "cs" / If(
            lambda ctx: not _is_tls13(ctx) or stores_tls13_cipher_suite(_gnutls_version(ctx)),
            named_enum(Int16ub, CIPHER_SUITES),
        ),
        "master_secret" / If(_NOT_TLS13, Blob1),
        "client_random" / If(_NOT_TLS13, Blob1),
        "server_random" / If(_NOT_TLS13, Blob1),
        "max_record_send_size" / If(_NOT_TLS13, Int32ub),
        "max_record_recv_size" / If(_NOT_TLS13, Int32ub),
        "grp" / If(_NOT_TLS13, named_enum(Int32ub, GROUPS)),
        "server_sign_algo" / If(_NOT_TLS13, named_enum(Int32ub, SIGN_ALGORITHMS)),
        "client_sign_algo" / If(_NOT_TLS13, named_enum(Int32ub, SIGN_ALGORITHMS)),
        "ext_master_secret" / If(_NOT_TLS13, Int32ub),
        "etm" / If(_NOT_TLS13, Int32ub),
        Terminated,
    ),
    optional=False,
)

#: ``lib/session_pack.c:tls13_pack_security_parameters`` (3.6.5+): the last NewSessionTicket the
#: client accepted (``internals.tls13_ticket``) and the connection's resumption master secret.
#: Length 0 (no body) on server-side packs, including the state inside a ticket.
Tls13Ticket = _sized(
    Struct(
        "lifetime" / Int32ub,
        "age_add" / Int32ub,
        "nonce" / Blob1,
        "ticket" / Blob4,
        "resumption_master_secret" / Blob1,
        "arrival_time" / Timespec,
        "max_early_data_size" / Int32ub,
        Terminated,
    )
)

#: Payloads of ``lib/hello_ext.c:pack_extension`` entries, by GnuTLS-internal extension id (gid).
#: Any other gid (including application extensions, 27+) is kept as raw bytes.
EXTENSION_PAYLOADS = {
    # lib/hello_ext_lib.c:_gnutls_hello_ext_default_pack: the stored datum, u16-prefixed.
    2: Struct("cert_types" / Prefixed(Int16ub, GreedyRange(Int8ub)), Terminated),
    3: Struct("cert_types" / Prefixed(Int16ub, GreedyRange(Int8ub)), Terminated),
    # lib/ext/srp.c:_gnutls_srp_pack: the SRP username and the *cleartext* password.
    6: Struct("username" / Blob4, "password" / Blob4, Terminated),
    # lib/ext/signature.c:signature_algorithms_pack (server side: the client's list).
    7: Struct(
        "sign_algorithms_size" / Rebuild(Int32ub, len_(this.sign_algorithms)),
        "sign_algorithms" / Array(this.sign_algorithms_size, named_enum(Int32ub, SIGN_ALGORITHMS)),
        Terminated,
    ),
    # lib/ext/srtp.c:_gnutls_srtp_pack.
    8: Struct(
        "profiles_size" / Rebuild(Int32ub, len_(this.profiles)),
        "profiles" / Array(this.profiles_size, named_enum(Int32ub, SRTP_PROFILES)),
        "mki_received" / Int32ub,
        "selected_profile" / If(this.mki_received != 0, named_enum(Int32ub, SRTP_PROFILES)),
        "mki" / If(this.mki_received != 0, Blob4),
        Terminated,
    ),
    # lib/ext/heartbeat.c:_gnutls_heartbeat_pack: the GNUTLS_HB_* mode bits.
    9: Struct("mode" / Int32ub, Terminated),
    # lib/ext/session_ticket.c:session_ticket_pack: the TLS 1.2 ticket (client side).
    13: Struct("ticket" / Blob4, Terminated),
    # default pack: the host name the client set / the server received.
    18: Struct("server_name" / Blob2, Terminated),
}

_ExtensionPayload = Switch(
    lambda ctx: enum_int(ctx.gid, EXTENSION_GIDS), EXTENSION_PAYLOADS, default=GreedyBytes
)


def _extension_size(ctx):
    stream = io.BytesIO()
    _ExtensionPayload._build(ctx.data, stream, ctx, "(sizing)")
    return len(stream.getvalue())


#: One ``{u32 gid; u32 length; payload}`` entry of ``lib/hello_ext.c:pack_extension``.
ExtensionEntry = Struct(
    "gid" / named_enum(Int32ub, EXTENSION_GIDS),
    "length" / Rebuild(Int32ub, _extension_size),
    "data" / FixedSized(this.length, _ExtensionPayload),
)

#: ``lib/hello_ext.c:_gnutls_hello_ext_pack`` (TLS <= 1.2 only; TLS 1.3 renegotiates extensions).
Extensions = Struct(
    "count" / Rebuild(Int32ub, len_(this.entries)),
    "entries" / Array(this.count, ExtensionEntry),
)

#: ``lib/session_pack.c:_gnutls_session_pack``, 3.6.5-3.8.x, without an end check: also the
#: prefix of a TLS 1.2 ticket plaintext, which zero padding follows.
PackedSession = Struct(
    "magic" / Int32ub,
    Check(lambda ctx: is_supported_version(gnutls_version_of_magic(ctx.magic))),
    "timestamp" / Int32ub,
    "expire_time" / Int32ub,
    "auth_type" / named_enum(Int8ub, CREDENTIALS),
    "auth_info" / AuthInfo,
    "security_parameters" / SecurityParameters,
    "tls13" / If(_session_is_tls13, Tls13Ticket),
    "extensions" / If(lambda ctx: not _session_is_tls13(ctx), Extensions),
)

#: A whole blob as ``gnutls_session_get_data2`` returns it: a packed session and nothing after it
#: (libgnutls itself ignores trailing bytes; this schema refuses them).
SessionBlob = FocusedSeq("session", "session" / PackedSession, Terminated)
