"""What crosses the wire in a TLS connection, as construct schemas (declarations only).

Sources: RFC 8446 (TLS 1.3), RFC 5246 (TLS 1.2), RFC 5077 (TLS 1.2 session tickets), RFC 6066 §3
(server_name). Every field is named after the last part of its Wireshark display-filter field where
Wireshark has one, and the field's doc gives the full Wireshark name (``tls.handshake.session_id``),
so what a student reads here is what they can type into Wireshark's filter bar.

The layers, bottom up:

- :data:`TLSPlaintext`: one record (RFC 8446 §5.1, RFC 5246 §6.2.1). A record's ``fragment`` is a
  slice of a byte stream per content type: handshake messages can span records and one record can
  hold several messages, so the handshake stream of one direction is reassembled before
  :data:`Handshake` frames it (RFC 8446 §5.1: "Handshake messages MAY be coalesced ... or fragmented").
- :data:`Handshake`: type, u24 length, body (RFC 8446 §4, RFC 5246 §7.4).
- Bodies: :data:`ClientHello`, :data:`ServerHello` (also the HelloRetryRequest, recognised by its
  special random), :data:`NewSessionTicketTLS12`, :data:`NewSessionTicketTLS13`.
- Extensions (RFC 8446 §4.2): each message has its own table, because the same extension type has a
  different body in a ClientHello, a ServerHello, a HelloRetryRequest and a NewSessionTicket.
  Extensions not listed are kept raw.

A passive observer sees TLS 1.2 handshakes in clear up to ChangeCipherSpec, and in TLS 1.3 only the
ClientHello and ServerHello: everything after is an ``application_data`` record (RFC 8446 §5.2),
including the TLS 1.3 NewSessionTicket, whose schema is here for when it is available decrypted
(e.g. from a GnuTLS handshake hook).

This module imports only :mod:`gnutls_lab.errors`. Parse a body with the schema of its handshake type, at the
top level (the ServerHello schema looks at its own ``random`` to tell a HelloRetryRequest).
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from construct import (
    Bytes,
    Enum,
    FocusedSeq,
    GreedyBytes,
    GreedyRange,
    IfThenElse,
    Int8ub,
    Int16ub,
    Int24ub,
    Int32ub,
    Optional,
    Prefixed,
    Rebuild,
    Struct,
    Switch,
    Terminated,
    len_,
    this,
)

from ..errors import BlobFormatError
from ._framing import (
    HANDSHAKE_HEADER_SIZE,
    MAX_RECORD_LENGTH,
    RECORD_HEADER_SIZE,
    number,
    record_header,
    split_handshake,
    split_records,
    split_tap_log,
    frame_handshake,
    record_fragment,
    record_spans,
    split_tap_records,
    clear_handshake_streams,
)

__all__ = [
    "MAX_RECORD_LENGTH",
    "RECORD_HEADER_SIZE",
    "HANDSHAKE_HEADER_SIZE",
    "RecordSeen",
    "PskIdentitySeen",
    "ClientHelloSeen",
    "ServerHelloSeen",
    "NewSessionTicketSeen",
    "malformed",
    "read_client_hello",
    "read_server_hello",
    "read_new_session_ticket",
    "number",
    "record_header",
    "split_records",
    "split_handshake",
    "split_tap_log",
    "message_spans",
    "handshake_spans",
    "HELLO_RETRY_REQUEST_RANDOM",
    "ContentType",
    "HandshakeType",
    "ExtensionType",
    "TLSPlaintext",
    "TLSRecordStream",
    "Alert",
    "ChangeCipherSpec",
    "Handshake",
    "HandshakeStream",
    "ClientHello",
    "ServerHello",
    "NewSessionTicketTLS12",
    "NewSessionTicketTLS13",
    "ServerNameList",
    "OfferedPsks",
    "PskIdentity",
    "KeyShareEntry",
    "HANDSHAKE_BODIES",
]

#: RFC 8446 §4.1.3: a ServerHello with this random is a HelloRetryRequest (SHA-256 of
#: "HelloRetryRequest").
HELLO_RETRY_REQUEST_RANDOM = bytes.fromhex(
    "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"
)


def _vector(length_field, element):
    """A TLS vector ``element<..2^n-1>`` whose prefix counts bytes (RFC 8446 §3.4), read to the end.

    ``Terminated`` makes a malformed element an error instead of a silently shorter list, so a
    parse followed by a build gives back the same bytes.
    """
    return Prefixed(length_field, FocusedSeq("items", "items" / GreedyRange(element), Terminated))


# --- enumerations -----------------------------------------------------------------------------

ContentType = Enum(
    Int8ub,
    change_cipher_spec=20,
    alert=21,
    handshake=22,
    application_data=23,
    heartbeat=24,
)
"""RFC 8446 §5.1 / RFC 5246 §6.2.1 ``ContentType``; Wireshark ``tls.record.content_type``."""

HandshakeType = Enum(
    Int8ub,
    hello_request=0,
    client_hello=1,
    server_hello=2,
    hello_verify_request=3,
    new_session_ticket=4,
    end_of_early_data=5,
    encrypted_extensions=8,
    certificate=11,
    server_key_exchange=12,
    certificate_request=13,
    server_hello_done=14,
    certificate_verify=15,
    client_key_exchange=16,
    finished=20,
    certificate_status=22,
    key_update=24,
    message_hash=254,
)
"""RFC 8446 §4 / RFC 5246 §7.4 / RFC 5077 §3.3 ``HandshakeType``; Wireshark ``tls.handshake.type``."""

ExtensionType = Enum(
    Int16ub,
    server_name=0,
    max_fragment_length=1,
    status_request=5,
    supported_groups=10,
    ec_point_formats=11,
    signature_algorithms=13,
    use_srtp=14,
    heartbeat=15,
    application_layer_protocol_negotiation=16,
    signed_certificate_timestamp=18,
    client_certificate_type=19,
    server_certificate_type=20,
    padding=21,
    encrypt_then_mac=22,
    extended_master_secret=23,
    compress_certificate=27,
    record_size_limit=28,
    session_ticket=35,
    pre_shared_key=41,
    early_data=42,
    supported_versions=43,
    cookie=44,
    psk_key_exchange_modes=45,
    certificate_authorities=47,
    oid_filters=48,
    post_handshake_auth=49,
    signature_algorithms_cert=50,
    key_share=51,
    renegotiation_info=0xFF01,
)
"""IANA TLS ExtensionType values (RFC 8446 §4.2, RFC 5077 §3.2, ...); Wireshark
``tls.handshake.extension.type``. Values not listed parse as plain integers."""

# --- record layer -------------------------------------------------------------------------------

TLSPlaintext = Struct(
    "content_type" / ContentType * "tls.record.content_type",
    "version" / Int16ub * "tls.record.version (legacy_record_version; 0x0301 in a first ClientHello)",
    "length" / Rebuild(Int16ub, len_(this.fragment)) * "tls.record.length",
    "fragment" / Bytes(this.length)
    * "the record payload; for content_type application_data this is tls.app_data (encrypted)",
)
"""One TLS record as it crosses the wire: RFC 8446 §5.1 ``TLSPlaintext`` (and, with content_type 23,
§5.2 ``TLSCiphertext``: opaque_type / legacy_record_version / length / encrypted_record);
RFC 5246 §6.2.1. ``length`` must not exceed 2^14 (+256 when encrypted)."""

TLSRecordStream = FocusedSeq("records", "records" / GreedyRange(TLSPlaintext), Terminated)
"""Everything one side sent, cut into records; an error if the bytes end inside a record."""

Alert = Struct(
    "level" / Enum(Int8ub, warning=1, fatal=2) * "tls.alert_message.level",
    "desc" / Int8ub * "tls.alert_message.desc (RFC 8446 §6 AlertDescription)",
    Terminated,
)
"""A plaintext alert record body, RFC 8446 §6 / RFC 5246 §7.2."""

ChangeCipherSpec = Struct(
    "type" / Int8ub * "tls.change_cipher_spec (always 1)",
    Terminated,
)
"""RFC 5246 §7.1; in TLS 1.3 a compatibility dummy record, RFC 8446 §5 and Appendix D.4."""

Handshake = Struct(
    "type" / HandshakeType * "tls.handshake.type",
    "length" / Rebuild(Int24ub, len_(this.body)) * "tls.handshake.length (u24)",
    "body" / Bytes(this.length) * "the message body; parse it with HANDSHAKE_BODIES[type]",
)
"""Handshake message framing, RFC 8446 §4 / RFC 5246 §7.4 ``Handshake``. Parse it from the
reassembled handshake stream of one direction, not from one record."""

HandshakeStream = FocusedSeq("messages", "messages" / GreedyRange(Handshake), Terminated)
"""One direction's handshake stream (the concatenated fragments of its plaintext handshake
records) cut into messages; an error if it ends inside a message."""

# --- extension bodies -------------------------------------------------------------------------

ServerNameList = Struct(
    "server_name_list"
    / _vector(
        Int16ub,
        Struct(
            "server_name_type" / Int8ub * "tls.handshake.extensions_server_name_type (0 = host_name)",
            "server_name"
            / Prefixed(Int16ub, GreedyBytes)
            * "tls.handshake.extensions_server_name (length: tls.handshake.extensions_server_name_len)",
        ),
    )
    * "tls.handshake.extensions_server_name_list_len prefixes this list",
    Terminated,
)
"""ClientHello ``server_name`` (0), RFC 6066 §3. The server's reply is an empty extension."""

PskIdentity = Struct(
    "identity"
    / Prefixed(Int16ub, GreedyBytes)
    * "tls.handshake.extensions.psk.identity.identity (length: ...identity.identity_length); "
    "for a GnuTLS ticket, the encrypted ticket itself",
    "obfuscated_ticket_age"
    / Int32ub
    * "tls.handshake.extensions.psk.identity.obfuscated_ticket_age: "
    "(ticket age in ms + ticket_age_add) mod 2^32, RFC 8446 §4.2.11.1",
)
"""RFC 8446 §4.2.11 ``PskIdentity``."""

OfferedPsks = Struct(
    "identities"
    / _vector(Int16ub, PskIdentity)
    * "tls.handshake.extensions.psk.identities.length prefixes this list",
    "binders"
    / _vector(Int16ub, Prefixed(Int8ub, GreedyBytes))
    * "tls.handshake.extensions.psk.binders (length: tls.handshake.extensions.psk.binders_len); "
    "one HMAC per identity",
    Terminated,
)
"""ClientHello ``pre_shared_key`` (41), RFC 8446 §4.2.11 ``OfferedPsks``; always the last extension."""

SelectedPsk = Struct(
    "selected_identity"
    / Int16ub
    * "tls.handshake.extensions.psk.identity.selected: index into the ClientHello's identities",
    Terminated,
)
"""ServerHello ``pre_shared_key`` (41), RFC 8446 §4.2.11: present only when the server resumed."""

PskKeyExchangeModes = Struct(
    "ke_modes"
    / _vector(Int8ub, Enum(Int8ub, psk_ke=0, psk_dhe_ke=1))
    * "tls.extension.psk_ke_mode (length: tls.extension.psk_ke_modes_length)",
    Terminated,
)
"""ClientHello ``psk_key_exchange_modes`` (45), RFC 8446 §4.2.9."""

EmptyExtension = Struct(Terminated)
"""An extension whose presence is the message: ``early_data`` (42) in a ClientHello or
EncryptedExtensions (RFC 8446 §4.2.10); ``session_ticket`` (35) in a ServerHello, promising a
NewSessionTicket (RFC 5077 §3.2); ``server_name`` (0) in a ServerHello."""

EarlyDataIndicationNST = Struct(
    "max_early_data_size" / Int32ub * "tls.early_data.max_early_data_size",
    Terminated,
)
"""NewSessionTicket ``early_data`` (42), RFC 8446 §4.2.10."""

SupportedVersionsClient = Struct(
    "supported_versions"
    / _vector(Int8ub, Int16ub)
    * "tls.handshake.extensions.supported_version (length: ...supported_versions_len)",
    Terminated,
)
"""ClientHello ``supported_versions`` (43), RFC 8446 §4.2.1."""

SupportedVersionsServer = Struct(
    "supported_version"
    / Int16ub
    * "tls.handshake.extensions.supported_version: the negotiated version (0x0304 = TLS 1.3)",
    Terminated,
)
"""ServerHello / HelloRetryRequest ``supported_versions`` (43), RFC 8446 §4.2.1."""

KeyShareEntry = Struct(
    "group" / Int16ub * "tls.handshake.extensions_key_share_group",
    "key_exchange"
    / Prefixed(Int16ub, GreedyBytes)
    * "tls.handshake.extensions_key_share_key_exchange (length: ..._key_exchange_length)",
)
"""RFC 8446 §4.2.8 ``KeyShareEntry``; the public value is kept raw."""

KeyShareClientHello = Struct(
    "client_shares"
    / _vector(Int16ub, KeyShareEntry)
    * "tls.handshake.extensions_key_share_client_length prefixes this list",
    Terminated,
)
KeyShareServerHello = Struct("server_share" / KeyShareEntry, Terminated)
KeyShareHelloRetryRequest = Struct(
    "selected_group" / Int16ub * "tls.handshake.extensions_key_share_selected_group",
    Terminated,
)

SessionTicketExtension = GreedyBytes
"""ClientHello ``session_ticket`` (35), RFC 5077 §3.2: empty to ask for a ticket, or the ticket the
client presents. Wireshark shows it as ``tls.handshake.extension.data``."""

Cookie = Struct(
    "cookie" / Prefixed(Int16ub, GreedyBytes) * "tls.handshake.extensions.cookie", Terminated
)
"""``cookie`` (44) in a HelloRetryRequest and the second ClientHello, RFC 8446 §4.2.2."""


def _extensions(cases):
    """The extensions block of one message type: RFC 8446 §4.2 ``Extension extensions<0..2^16-1>``."""
    extension = Struct(
        "type" / ExtensionType * "tls.handshake.extension.type",
        "data"
        / Prefixed(Int16ub, Switch(this.type, cases, default=GreedyBytes))
        * "tls.handshake.extension.data (length: tls.handshake.extension.len); raw bytes "
        "for extensions this module does not declare",
    )
    return _vector(Int16ub, extension)


def _is_hello_retry_request(ctx) -> bool:
    return ctx._root.random == HELLO_RETRY_REQUEST_RANDOM


CLIENT_HELLO_EXTENSIONS = {
    "server_name": ServerNameList,
    "session_ticket": SessionTicketExtension,
    "pre_shared_key": OfferedPsks,
    "early_data": EmptyExtension,
    "supported_versions": SupportedVersionsClient,
    "psk_key_exchange_modes": PskKeyExchangeModes,
    "key_share": KeyShareClientHello,
    "cookie": Cookie,
}
SERVER_HELLO_EXTENSIONS = {
    "server_name": EmptyExtension,
    "session_ticket": EmptyExtension,
    "pre_shared_key": SelectedPsk,
    "supported_versions": SupportedVersionsServer,
    "key_share": IfThenElse(_is_hello_retry_request, KeyShareHelloRetryRequest, KeyShareServerHello),
    "cookie": Cookie,
}
NEW_SESSION_TICKET_EXTENSIONS = {"early_data": EarlyDataIndicationNST}

# --- handshake bodies -------------------------------------------------------------------------

ClientHello = Struct(
    "version" / Int16ub * "tls.handshake.version (legacy_version, 0x0303 since TLS 1.2)",
    "random" / Bytes(32) * "tls.handshake.random",
    "session_id"
    / Prefixed(Int8ub, GreedyBytes)
    * "tls.handshake.session_id (length: tls.handshake.session_id_length); TLS 1.2: the session "
    "ID to resume, or with a ticket a value the server echoes on acceptance (RFC 5077 §3.4); "
    "TLS 1.3: legacy_session_id, 32 bytes in middlebox compatibility mode (RFC 8446 §4.1.2)",
    "ciphersuites"
    / _vector(Int16ub, Int16ub)
    * "tls.handshake.ciphersuite each (length: tls.handshake.cipher_suites_length)",
    "comp_methods"
    / _vector(Int8ub, Int8ub)
    * "tls.handshake.comp_method each (length: tls.handshake.comp_methods_length)",
    "extensions"
    / Optional(_extensions(CLIENT_HELLO_EXTENSIONS))
    * "length: tls.handshake.extensions_length; None when the block is absent (allowed before TLS 1.3)",
    Terminated,
)
"""ClientHello body, RFC 8446 §4.1.2 and RFC 5246 §7.4.1.2."""

ServerHello = Struct(
    "version" / Int16ub * "tls.handshake.version (legacy_version; TLS 1.3 uses supported_versions)",
    "random"
    / Bytes(32)
    * "tls.handshake.random; equal to HELLO_RETRY_REQUEST_RANDOM in a HelloRetryRequest",
    "session_id"
    / Prefixed(Int8ub, GreedyBytes)
    * "tls.handshake.session_id: TLS 1.2: new ID, or the client's echoed on resumption; "
    "TLS 1.3: legacy_session_id_echo",
    "ciphersuite" / Int16ub * "tls.handshake.ciphersuite",
    "comp_method" / Int8ub * "tls.handshake.comp_method",
    "extensions"
    / Optional(_extensions(SERVER_HELLO_EXTENSIONS))
    * "length: tls.handshake.extensions_length",
    Terminated,
)
"""ServerHello body, RFC 8446 §4.1.3 (also HelloRetryRequest, §4.1.4) and RFC 5246 §7.4.1.3."""

NewSessionTicketTLS12 = Struct(
    "session_ticket_lifetime_hint"
    / Int32ub
    * "tls.handshake.session_ticket_lifetime_hint (seconds, 0 = unspecified)",
    "session_ticket"
    / Prefixed(Int16ub, GreedyBytes)
    * "tls.handshake.session_ticket (length: tls.handshake.session_ticket_length); sent in clear",
    Terminated,
)
"""TLS 1.2 NewSessionTicket body, RFC 5077 §3.3; sent before the server's ChangeCipherSpec, so in
clear. GnuTLS writes it in ``lib/ext/session_ticket.c:_gnutls_send_new_session_ticket``."""

NewSessionTicketTLS13 = Struct(
    "session_ticket_lifetime_hint"
    / Int32ub
    * "tls.handshake.session_ticket_lifetime_hint (ticket_lifetime, seconds, at most 604800)",
    "session_ticket_age_add" / Int32ub * "tls.handshake.session_ticket_age_add",
    "session_ticket_nonce"
    / Prefixed(Int8ub, GreedyBytes)
    * "tls.handshake.session_ticket_nonce (length: ..._nonce_length)",
    "session_ticket"
    / Prefixed(Int16ub, GreedyBytes)
    * "tls.handshake.session_ticket: the identity a resuming ClientHello presents",
    "extensions"
    / _extensions(NEW_SESSION_TICKET_EXTENSIONS)
    * "length: tls.handshake.extensions_length",
    Terminated,
)
"""TLS 1.3 NewSessionTicket body, RFC 8446 §4.6.1: encrypted on the wire; GnuTLS writes it in
``lib/tls13/session_ticket.c:_gnutls13_send_session_ticket``."""

#: Body schema per handshake type name, for the types this module declares. A NewSessionTicket has
#: two: pick by the negotiated version.
HANDSHAKE_BODIES = {
    "client_hello": ClientHello,
    "server_hello": ServerHello,
    "new_session_ticket": NewSessionTicketTLS12,
}


# --- the observer's reading: the same fields as the schemas above, by slicing ---------------------
#
# Interpreting the construct schemas above costs about 0.5 ms per ClientHello and ServerHello, as long
# as the handshake itself; the passive observer reads the few fields it needs by slicing instead
# (tests/test_wire.py proves both readings equal on every captured handshake). These functions and
# the splitters below are the only code outside the schemas that reads TLS bytes.

_EXT_SERVER_NAME, _EXT_SESSION_TICKET, _EXT_PRE_SHARED_KEY = 0, 35, 41
_EXT_EARLY_DATA, _EXT_SUPPORTED_VERSIONS, _EXT_PSK_MODES = 42, 43, 45


class RecordSeen(NamedTuple):
    """One record: ``tls.record.content_type``, ``tls.record.version``, ``tls.record.length``.

    ``encrypted`` is the observer's judgement: every application_data record, and in TLS 1.2 every
    record its sender sent after its ChangeCipherSpec (e.g. the Finished, content type 22).
    """

    sender: str
    content_type: int
    version: int
    length: int
    encrypted: bool


class PskIdentitySeen(NamedTuple):
    """``tls.handshake.extensions.psk.identity.identity`` and ``...obfuscated_ticket_age``."""

    identity: bytes
    obfuscated_ticket_age: int


class ClientHelloSeen(NamedTuple):
    """The fields of a ClientHello the observer reads (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2).

    ``session_ticket`` is None when the extension is absent, ``b""`` when the client asks for a
    ticket, the ticket bytes when it presents one (RFC 5077 §3.2). ``body`` is the handshake body,
    for :data:`gnutls_lab.formats._wire.ClientHello`.
    """

    version: int
    random: bytes
    session_id: bytes
    ciphersuites: tuple
    server_name: str | None
    session_ticket: bytes | None
    psk_identities: tuple
    psk_binders: tuple
    psk_ke_modes: tuple
    early_data: bool
    supported_versions: tuple
    extension_types: tuple
    body: bytes


class ServerHelloSeen(NamedTuple):
    """The fields of a ServerHello or HelloRetryRequest (RFC 8446 §4.1.3-4, RFC 5246 §7.4.1.3).

    ``selected_version`` is ``tls.handshake.extensions.supported_version`` when present, else
    ``tls.handshake.version``; ``psk_selected_identity`` is None unless the server took a PSK.
    """

    version: int
    random: bytes
    session_id: bytes
    ciphersuite: int
    selected_version: int
    psk_selected_identity: int | None
    session_ticket_ack: bool
    is_hello_retry_request: bool
    extension_types: tuple
    body: bytes


class NewSessionTicketSeen(NamedTuple):
    """A TLS 1.2 NewSessionTicket seen in clear (RFC 5077 §3.3): ``tls.handshake.session_ticket``
    and ``tls.handshake.session_ticket_lifetime_hint``."""

    lifetime_hint: int
    ticket: bytes
    body: bytes




def malformed(what: str, path: str, offset: int) -> BlobFormatError:
    return BlobFormatError(
        f"malformed TLS {what}: the wire tap is not a well-formed TLS stream "
        "(check that chunks are given in order and with the right sender)",
        path=path,
        offset=offset,
    )


_unpack_from = struct.unpack_from


def _u16(b: bytes, p: int) -> int:
    return b[p] << 8 | b[p + 1]


def _sliced_extensions(body: bytes, p: int, path: str) -> list:
    """``(type, data)`` of each extension from offset p (RFC 8446 §4.2); [] if the block is absent."""
    n = len(body)
    if p == n:
        return []
    if p + 2 > n or p + 2 + (body[p] << 8 | body[p + 1]) != n:
        raise malformed("extensions block", f"{path}.extensions", p)
    p += 2
    out = []
    while p < n:
        if p + 4 > n:
            raise malformed("extension header", f"{path}.extensions[{len(out)}]", p)
        end = p + 4 + (body[p + 2] << 8 | body[p + 3])
        if end > n:
            raise malformed("extension length", f"{path}.extensions[{len(out)}]", p)
        out.append((body[p] << 8 | body[p + 1], body[p + 4 : end]))
        p = end
    return out


def _hello_prefix(body: bytes, path: str) -> tuple:
    """version, random, session_id and the offset after it; shared by both hellos."""
    if len(body) < 35 or 35 + body[34] > len(body):
        raise malformed("hello", f"{path}.session_id", min(len(body), 34))
    return _u16(body, 0), body[2:34], body[35 : 35 + body[34]], 35 + body[34]


def read_client_hello(body: bytes) -> ClientHelloSeen:
    version, random, session_id, p = _hello_prefix(body, "client_hello")
    n = len(body)
    if p + 2 > n or p + 2 + _u16(body, p) > n or _u16(body, p) % 2:
        raise malformed("cipher suites", "client_hello.ciphersuites", p)
    suites_end = p + 2 + _u16(body, p)
    ciphersuites = _unpack_from(f">{(suites_end - p - 2) // 2}H", body, p + 2)
    p = suites_end
    if p >= n or p + 1 + body[p] > n:
        raise malformed("compression methods", "client_hello.comp_methods", p)
    p += 1 + body[p]
    server_name = session_ticket = None
    identities, binders, modes, versions, types = (), (), (), (), []
    early_data = False
    for ext_type, data in _sliced_extensions(body, p, "client_hello"):
        types.append(ext_type)
        try:
            if ext_type == _EXT_SERVER_NAME:
                # server_name_list: u16 length, then (u8 type, u16 length, name); the first is used
                if data[2] == 0:
                    server_name = data[5 : 5 + _u16(data, 3)].decode("ascii", "replace")
            elif ext_type == _EXT_SESSION_TICKET:
                session_ticket = data
            elif ext_type == _EXT_PRE_SHARED_KEY:
                identities, binders = _offered_psks(data)
            elif ext_type == _EXT_PSK_MODES:
                if 1 + data[0] != len(data):
                    raise IndexError
                modes = tuple(data[1:])
            elif ext_type == _EXT_EARLY_DATA:
                early_data = True
            elif ext_type == _EXT_SUPPORTED_VERSIONS:
                if 1 + data[0] != len(data) or data[0] % 2:
                    raise IndexError
                versions = _unpack_from(f">{data[0] // 2}H", data, 1)
        except IndexError:
            raise malformed("extension body", f"client_hello.extensions.{ext_type}", p) from None
    return ClientHelloSeen(
        version, random, session_id, ciphersuites, server_name, session_ticket, identities,
        binders, modes, early_data, versions, tuple(types), body,
    )


def _offered_psks(data: bytes) -> tuple:
    """RFC 8446 §4.2.11 OfferedPsks: identities (u16 id length, id, u32 age), then binders."""
    end = 2 + _u16(data, 0)
    p, identities = 2, []
    while p < end:
        q = p + 2 + _u16(data, p)
        if q + 4 > end:
            raise IndexError
        identities.append(PskIdentitySeen(data[p + 2 : q], int.from_bytes(data[q : q + 4], "big")))
        p = q + 4
    binders_end = end + 2 + _u16(data, end)
    p, binders = end + 2, []
    while p < binders_end:
        binders.append(data[p + 1 : p + 1 + data[p]])
        p += 1 + data[p]
    if p != len(data) or binders_end != len(data):
        raise IndexError
    return tuple(identities), tuple(binders)


def read_server_hello(body: bytes) -> ServerHelloSeen:
    version, random, session_id, p = _hello_prefix(body, "server_hello")
    if p + 3 > len(body):
        raise malformed("server hello", "server_hello.ciphersuite", p)
    ciphersuite = _u16(body, p)
    selected_version, selected_identity, ticket_ack, types = version, None, False, []
    for ext_type, data in _sliced_extensions(body, p + 3, "server_hello"):
        types.append(ext_type)
        if ext_type in (_EXT_SUPPORTED_VERSIONS, _EXT_PRE_SHARED_KEY) and len(data) != 2:
            raise malformed("extension body", f"server_hello.extensions.{ext_type}", p)
        if ext_type == _EXT_SUPPORTED_VERSIONS:
            selected_version = _u16(data, 0)
        elif ext_type == _EXT_PRE_SHARED_KEY:
            selected_identity = _u16(data, 0)
        elif ext_type == _EXT_SESSION_TICKET:
            ticket_ack = True
    return ServerHelloSeen(
        version, random, session_id, ciphersuite, selected_version, selected_identity, ticket_ack,
        random == HELLO_RETRY_REQUEST_RANDOM, tuple(types), body,
    )


def read_new_session_ticket(body: bytes) -> NewSessionTicketSeen:
    if len(body) < 6 or 6 + _u16(body, 4) != len(body):
        raise malformed("NewSessionTicket", "new_session_ticket.session_ticket", 4)
    return NewSessionTicketSeen(int.from_bytes(body[:4], "big"), body[6:], body)




def message_spans(msg_type: int, body: bytes, tls13: bool = True) -> list[tuple[str, int, int]] | None:
    """``[(Wireshark field, start, end)]`` of a hello or NewSessionTicket body, from the schemas above.

    Offsets count from the start of the body. Each top-level field of the schema gets one span
    (vectors with their length), each extension one span named ``extension NAME (TYPE)``. None if
    the body does not parse with its schema, or the type has none here.
    """
    schema = {1: ClientHello, 2: ServerHello, 4: NewSessionTicketTLS13 if tls13 else NewSessionTicketTLS12}.get(msg_type)
    if schema is None:
        return None
    try:
        parsed = schema.parse(body)
    except Exception:  # construct's errors: not a well-formed body, the caller shows it whole
        return None
    spans, at = [], 0
    for sub in schema.subcons:
        if not sub.name:
            continue
        value = parsed[sub.name]
        if sub.name == "extensions":
            if value is None:
                continue
            spans.append(("tls.handshake.extensions_length", at, at + 2))
            for kind, data in _sliced_extensions(body, at, "extensions"):  # the schema has parsed them already
                name = ExtensionType.decmapping.get(kind, f"unknown({kind})")
                spans.append((f"extension {name} ({kind})", at + 2, at + 6 + len(data)))
                at += 4 + len(data)
            at += 2
            continue
        size = len(sub.build(value))
        spans.append((f"tls.handshake.{sub.name}", at, at + size))
        at += size
    return spans if at == len(body) else None


def handshake_spans(msg_type: int, body: bytes, tls13: bool = True) -> list[tuple[str, int, int]]:
    """``[(field, start, end)]`` over a handshake message as it is framed (:func:`frame_handshake`): the
    4-byte header, then the body's fields (:func:`message_spans` for hellos and tickets, ``verify_data``
    for a Finished). A body with no schema here, or one that does not parse, is one ``body`` span; every
    byte is in exactly one span."""
    spans = [("tls.handshake.type", 0, 1), ("tls.handshake.length", 1, HANDSHAKE_HEADER_SIZE)]
    fields = message_spans(msg_type, body, tls13=tls13)
    if msg_type == 20:  # Finished: RFC 8446 §4.4.4
        fields = [("tls.handshake.verify_data", 0, len(body))]
    covered = 0
    for name, start, end in fields or ():
        spans.append((name, HANDSHAKE_HEADER_SIZE + start, HANDSHAKE_HEADER_SIZE + end))
        covered = end
    if covered < len(body):
        spans.append(("body", HANDSHAKE_HEADER_SIZE + covered, HANDSHAKE_HEADER_SIZE + len(body)))
    return spans
