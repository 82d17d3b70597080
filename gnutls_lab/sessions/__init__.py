"""Layer 3, sessions: the in-process lab on the real libgnutls.

Modules (private; this face re-exports what users and the layers above use):

- ``_credentials``: certificates, PSK and anonymous credentials (``LabCertificate`` makes a fresh one).
- ``_transport``: the in-memory pair and its wire tap, socket endpoints.
- ``_clock``: the fake clock (``gnutls_global_set_time_function``).
- ``_session``: client and server sessions, session data, priority strings, pumping a handshake.
- ``_preflight``: what ``gnutls_session_set_data`` is never handed (used by ``_session``).
- ``_lab``: ``Lab`` and ``Connection``, a lab server and its client in one object.
- ``_mechanisms``: the ways to resume (TLS 1.2 session ID and ticket, TLS 1.3 PSK with and without
  (EC)DHE), each named once with both ends' settings, what an observer sees and its label.
- ``_early_data``: 0-RTT and its anti-replay (``ZeroRttLab``).
- ``_pcapng``: connections as a capture file Wireshark decrypts.
- ``_files``: reading and writing the user's files safely.

The formats layer (and construct) is imported only where a function needs it, so that
``import gnutls_lab`` stays light.
"""

from ._clock import CLOCK_HORIZON, FakeClock, check_clock_value, check_seconds
from ._credentials import AnonCredentials, CertificateCredentials, LabCertificate, PskCredentials
from ._early_data import AntiReplay, EarlyDataClientSession, EarlyDataServerSession, ZeroRttLab, first_flight
from ._files import (
    MAX_KEY_FILE_BYTES,
    check_output_path,
    check_output_targets,
    open_private_log,
    read_user_file,
    write_file,
    write_private_file,
)
from ._lab import ClientFacts, Connection, Lab
from ._mechanisms import MECHANISMS, Mechanism, mechanism
from ._pcapng import TlsCapture, write_keylog, write_pcapng
from ._session import (
    MAX_EXTRA_TICKETS,
    PRIORITY_PRESETS,
    ClientSession,
    HandshakeMessage,
    ServerSession,
    SessionCache,
    SessionData,
    TICKET_KEY_SIZE,
    as_session_data,
    check_ticket_key,
    explain_resumption,
    generate_ticket_key,
    preflight,
    pump,
    resolve_priority,
    validate_extra_tickets,
    validate_lifetime,
)
from ._transport import MAX_TAP_BYTES, SocketEndpoint, WireChunk, WireTap, memory_pair

__all__ = [
    # the lab: a server and its client in one object, and what a connection shows
    "Lab",
    "Connection",
    "ClientFacts",
    "FakeClock",
    "ZeroRttLab",
    "AntiReplay",
    "EarlyDataClientSession",
    "EarlyDataServerSession",
    "first_flight",
    # the ways to resume, each named once
    "MECHANISMS",
    "Mechanism",
    "mechanism",
    # sessions one by one
    "ClientSession",
    "ServerSession",
    "SessionData",
    "SessionCache",
    "HandshakeMessage",
    "as_session_data",
    "explain_resumption",
    "pump",
    "memory_pair",
    "SocketEndpoint",
    "WireTap",
    "MAX_TAP_BYTES",
    "WireChunk",
    "generate_ticket_key",
    "check_ticket_key",
    "TICKET_KEY_SIZE",
    "PRIORITY_PRESETS",
    "resolve_priority",
    "validate_lifetime",
    "validate_extra_tickets",
    "MAX_EXTRA_TICKETS",
    "preflight",
    "LabCertificate",
    "CertificateCredentials",
    "PskCredentials",
    "AnonCredentials",
    # checks of times the fake clock and libgnutls can hold
    "CLOCK_HORIZON",
    "check_clock_value",
    "check_seconds",
    # captures and files
    "TlsCapture",
    "write_pcapng",
    "write_keylog",
    "write_file",
    "write_private_file",
    "open_private_log",
    "check_output_path",
    "check_output_targets",
    "read_user_file",
    "MAX_KEY_FILE_BYTES",
]
