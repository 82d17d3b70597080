"""gnutls-lab: TLS session resumption in GnuTLS, live, decoded and measured.

The public names are re-exported here; the modules behind them are private-ish and layered
(binding → sessions → formats → analysis → presentation), see README.md.
"""

from __future__ import annotations

from ._lib import MINIMUM_VERSION, LibraryInfo, library_info
from .clock import FakeClock
from .credentials import AnonCredentials, CertificateCredentials, LabCertificate, PskCredentials
from .errors import (
    BlobFormatError,
    GnuTLSError,
    GnuTLSLabError,
    LibraryNotFoundError,
    TicketKeyError,
    UsageError,
)
from .lab import Connection, Lab
from .session import (
    ClientSession,
    HandshakeMessage,
    ServerSession,
    SessionCache,
    SessionData,
    generate_ticket_key,
    pump,
)
from .transport import WireChunk, memory_pair

__version__ = "0.1.0"

__all__ = [
    "MINIMUM_VERSION",
    "LibraryInfo",
    "library_info",
    "FakeClock",
    "AnonCredentials",
    "CertificateCredentials",
    "LabCertificate",
    "PskCredentials",
    "BlobFormatError",
    "GnuTLSError",
    "GnuTLSLabError",
    "LibraryNotFoundError",
    "TicketKeyError",
    "UsageError",
    "Connection",
    "Lab",
    "ClientSession",
    "HandshakeMessage",
    "ServerSession",
    "SessionCache",
    "SessionData",
    "generate_ticket_key",
    "pump",
    "WireChunk",
    "memory_pair",
]
