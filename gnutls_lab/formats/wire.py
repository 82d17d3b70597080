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

This module imports nothing of gnutls_lab. Parse a body with the schema of its handshake type, at the
top level (the ServerHello schema looks at its own ``random`` to tell a HelloRetryRequest).
"""

from __future__ import annotations

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

__all__ = [
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
