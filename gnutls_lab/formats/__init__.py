"""Layer 2, formats: ``construct`` schemas, the one description of every byte layout, and what parses it.

``docs/formats.md`` explains the session blob, the ticket envelope and the ticket key periods.
Modules (private; this face re-exports what the layers above use):

- ``_layout``: the fields the schemas are written in (bounded reads, byte ranges, errors that name the
  field path and offset).
- ``_session_blob``: the packed session that ``gnutls_session_get_data2`` returns
  (``lib/session_pack.c``), GnuTLS 3.6.5 to 3.8.
- ``_ticket``: the server ticket envelope and its decrypted inner state (``lib/ext/session_ticket.c``,
  ``lib/tls13/session_ticket.c``).
- ``_gnutls_ids``: GnuTLS's numeric ids (protocols, MACs, groups, signature algorithms, extension ids)
  and the IANA names of cipher suites, shared by the schemas and the decoder.
- ``_wire``: TLS records and the handshake messages a passive observer can read (RFC 8446, RFC 5246,
  RFC 5077), fields named as in Wireshark, and the observer's fast readers beside them.
- ``_framing``: records and handshake messages cut from a byte stream (no construct needed).
- ``_server_tickets``: other servers' ticket layouts (OpenSSL and the servers on its callback, wolfSSL,
  Mbed TLS, Go), read by ``gnutls-lab audit``.

This layer imports only :mod:`gnutls_lab.errors`, and no module above it reads a byte layout by hand
(``tests/test_layers.py``). Importing it loads ``construct``: the sessions layer imports it only when it
needs it, so that ``import gnutls_lab`` stays light.
"""

from ._framing import (
    MAX_RECORD_LENGTH,
    RECORD_HEADER_SIZE,
    clear_handshake_streams,
    frame_handshake,
    number,
    record_fragment,
    record_header,
    record_spans,
    split_handshake,
    split_records,
    split_tap_log,
    split_tap_records,
)
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
from ._layout import parse_span
from ._server_tickets import KEY_FILE_SPLITS, SERVER_TICKET_LAYOUTS, parse_server_ticket
from ._session_blob import (
    MAX_BLOB_SIZE,
    PROTOCOL_TLS13,
    SessionBlob,
    check_size,
    gnutls_version_of_magic,
    magic_of,
    magic_of_gnutls_version,
    parse_session,
    version_text,
    with_magic,
)
from ._ticket import TICKET_KEY_NAME_SIZE, TICKET_MAC_SIZE, TICKET_OVERHEAD, Tls12TicketState, Tls13TicketState, \
    parse_envelope, with_envelopes
from ._wire import (
    ClientHello,
    ClientHelloSeen,
    ContentType,
    ExtensionType,
    HandshakeType,
    NewSessionTicketSeen,
    NewSessionTicketTLS12,
    NewSessionTicketTLS13,
    PskIdentitySeen,
    RecordSeen,
    ServerHello,
    ServerHelloSeen,
    handshake_spans,
    malformed,
    message_spans,
    read_client_hello,
    read_new_session_ticket,
    read_server_hello,
)

__all__ = [
    # the session blob (gnutls_session_get_data2)
    "SessionBlob",
    "parse_session",
    "parse_span",
    "check_size",
    "MAX_BLOB_SIZE",
    "PROTOCOL_TLS13",
    "DUMMY_SESSION",
    "PACKED_SESSION_MAGIC_BASE",
    "magic_of",
    "with_magic",
    "magic_of_gnutls_version",
    "gnutls_version_of_magic",
    "version_text",
    # the server ticket
    "parse_envelope",
    "with_envelopes",
    "Tls12TicketState",
    "Tls13TicketState",
    "TICKET_KEY_NAME_SIZE",
    "TICKET_MAC_SIZE",
    "TICKET_OVERHEAD",
    # other servers' tickets (gnutls-lab audit)
    "SERVER_TICKET_LAYOUTS",
    "KEY_FILE_SPLITS",
    "parse_server_ticket",
    # GnuTLS's id tables
    "ENTITIES",
    "CREDENTIALS",
    "PROTOCOLS",
    "MACS",
    "CERTIFICATE_TYPES",
    "GROUPS",
    "SIGN_ALGORITHMS",
    "EXTENSION_GIDS",
    "SRTP_PROFILES",
    "CIPHER_SUITES",
    # TLS on the wire: framing, the schemas, the observer's readers
    "MAX_RECORD_LENGTH",
    "RECORD_HEADER_SIZE",
    "number",
    "record_header",
    "split_records",
    "split_handshake",
    "split_tap_log",
    "split_tap_records",
    "clear_handshake_streams",
    "frame_handshake",
    "record_fragment",
    "record_spans",
    "message_spans",
    "handshake_spans",
    "ContentType",
    "HandshakeType",
    "ExtensionType",
    "ClientHello",
    "ServerHello",
    "NewSessionTicketTLS12",
    "NewSessionTicketTLS13",
    "RecordSeen",
    "ClientHelloSeen",
    "ServerHelloSeen",
    "PskIdentitySeen",
    "NewSessionTicketSeen",
    "malformed",
    "read_client_hello",
    "read_server_hello",
    "read_new_session_ticket",
]
