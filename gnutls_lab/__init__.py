"""gnutls-lab: TLS session resumption in GnuTLS, live, decoded and measured.

What a notebook or a user needs is re-exported here (``from gnutls_lab import Lab, decode_session``).
The package is layered (errors → binding → formats → sessions → analysis → network → faces, see
README.md, "Layout"); each layer's ``__init__`` is its face, with a short ``__all__``, and every module
behind it is private (``_name.py``) and may move. What this face leaves out, a layer's face has
(``from gnutls_lab.faces import blob_inspector``, ``from gnutls_lab.network import connect``).

``import gnutls_lab`` loads the library and the sessions layer only; the names of the higher layers
(analysis, network, faces: construct, cryptography, matplotlib) are imported on first use.
"""

from __future__ import annotations

from .binding import MINIMUM_VERSION, LibraryInfo, library_info
from .errors import (
    BlobFormatError,
    GnuTLSError,
    GnuTLSLabError,
    LibraryNotFoundError,
    TicketKeyError,
    UsageError,
)
from .sessions import (
    AnonCredentials,
    AntiReplay,
    CertificateCredentials,
    ClientSession,
    Connection,
    FakeClock,
    HandshakeMessage,
    Lab,
    LabCertificate,
    PskCredentials,
    ServerSession,
    SessionCache,
    SessionData,
    TlsCapture,
    WireChunk,
    ZeroRttLab,
    generate_ticket_key,
    memory_pair,
    pump,
    write_pcapng,
)

__version__ = "0.1.0"

#: Names of the higher layers, imported from their layer's face on first use, so that
#: ``import gnutls_lab`` stays light.
_LAZY = {
    "gnutls_lab.analysis": {
        "DecodedSession": "DecodedSession",
        "decrypt_ticket": "decrypt_ticket",
        "load_ticket_key": "load_ticket_key",
        "read_recorded_tls12": "read_recorded_tls12",
        "read_recorded_resumption": "read_recorded_resumption",
        "observe_connection": "observe_connection",
        "link_visits": "link_visits",
        "ExperimentConfig": "ExperimentConfig",
        "run_experiment": "run_experiment",
        "sweep_reuse": "sweep_reuse",
        "replay_experiment": "replay_experiment",
        "replay_sweep": "replay_sweep",
        "analyse_spy_log": "analyse_spy_log",
    },
    "gnutls_lab.network": {"spy_against_lab": "spy_against_lab", "audit": "audit",
                           # real servers (nginx, Apache, Exim...) on 127.0.0.1: notebook 08, the audit
                           "start_real_server": "start_real_server", "RealServerConfig": "RealServerConfig",
                           "REAL_SERVERS": "REAL_SERVERS", "ServerMissing": "ServerMissing",
                           "write_ticket_key_file": "write_ticket_key_file"},
    "gnutls_lab.faces": {
        "decode_session": "decode_session",  # the analysis layer's decode, with the faces' HTML view
        "plot_sweep": "plot_sweep",
        "plot_tracking": "plot_tracking",
        "plot_timeline": "plot_timeline",
        "plot_compare": "plot_compare",
        "plot_replay_sweep": "plot_replay_sweep",
        "plot_zero_rtt_flights": "plot_zero_rtt_flights",
        "plot_spy_timelines": "plot_spy_timelines",
        "audit_text": "audit_text",
        "plot_tracking_window": "plot_tracking_window",
        "plot_audit_key_timeline": "plot_audit_key_timeline",
    },
}
_HOME = {name: (face, attribute) for face, names in _LAZY.items() for name, attribute in names.items()}


def __getattr__(name: str):
    try:
        face, attribute = _HOME[name]
    except KeyError:
        raise AttributeError(f"module 'gnutls_lab' has no attribute {name!r}") from None
    import importlib

    value = getattr(importlib.import_module(face), attribute)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_HOME))


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
    "AntiReplay",
    "ZeroRttLab",
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
    "TlsCapture",
    "write_pcapng",
    *_HOME,
]
