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

# Higher layers, imported on first use so that ``import gnutls_lab`` stays light (construct, the
# observer and matplotlib load only when asked for).
_LAZY = {
    "decode_session": ("gnutls_lab.decode", "decode"),
    "DecodedSession": ("gnutls_lab.decode", "DecodedSession"),
    "decrypt_ticket": ("gnutls_lab.ticket_keys", "decrypt_ticket"),
    "load_ticket_key": ("gnutls_lab.ticket_keys", "load_ticket_key"),
    "observe_connection": ("gnutls_lab.observer", "observe_connection"),
    "link_visits": ("gnutls_lab.linkage", "link_visits"),
    "ExperimentConfig": ("gnutls_lab.experiments", "ExperimentConfig"),
    "run_experiment": ("gnutls_lab.experiments", "run_experiment"),
    "sweep_reuse": ("gnutls_lab.experiments", "sweep_reuse"),
}


def __getattr__(name: str):
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'gnutls_lab' has no attribute {name!r}") from None
    import importlib

    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))

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
    *_LAZY,
]
