"""gnutls-lab: TLS session resumption in GnuTLS, live, decoded and measured.

The public names are re-exported here; the modules behind them are private-ish and layered
(binding → formats → sessions → analysis → network → faces), see README.md.
"""

from __future__ import annotations

from .binding.library import MINIMUM_VERSION, LibraryInfo, library_info
from .sessions.clock import FakeClock
from .sessions.credentials import AnonCredentials, CertificateCredentials, LabCertificate, PskCredentials
from .errors import (
    BlobFormatError,
    GnuTLSError,
    GnuTLSLabError,
    LibraryNotFoundError,
    TicketKeyError,
    UsageError,
)
from .sessions.early_data import AntiReplay, ZeroRttLab
from .sessions.lab import Connection, Lab
from .sessions.session import (
    ClientSession,
    HandshakeMessage,
    ServerSession,
    SessionCache,
    SessionData,
    generate_ticket_key,
    pump,
)
from .sessions.transport import WireChunk, memory_pair

__version__ = "0.1.0"

# Higher layers, imported on first use so that ``import gnutls_lab`` stays light (construct, the
# observer and matplotlib load only when asked for).
_LAZY = {
    # analysis.decode's, taken through faces.views, which installs their HTML view for Jupyter.
    "decode_session": ("gnutls_lab.faces.views", "decode"),
    "DecodedSession": ("gnutls_lab.faces.views", "DecodedSession"),
    "decrypt_ticket": ("gnutls_lab.analysis.ticket_keys", "decrypt_ticket"),
    "load_ticket_key": ("gnutls_lab.analysis.ticket_keys", "load_ticket_key"),
    "observe_connection": ("gnutls_lab.analysis.observer", "observe_connection"),
    "analyse_spy_log": ("gnutls_lab.analysis.spy", "analyse"),
    "spy_against_lab": ("gnutls_lab.network.spy", "spy_against_lab"),
    "plot_spy_timelines": ("gnutls_lab.faces.spy_plots", "plot_spy_timelines"),
    "read_recorded_tls12": ("gnutls_lab.analysis.recorded", "read_recorded_tls12"),
    "read_recorded_resumption": ("gnutls_lab.analysis.recorded", "read_recorded_resumption"),
    "write_pcapng": ("gnutls_lab.sessions.pcapng", "write_pcapng"),
    "TlsCapture": ("gnutls_lab.sessions.pcapng", "TlsCapture"),
    "link_visits": ("gnutls_lab.analysis.linkage", "link_visits"),
    "ExperimentConfig": ("gnutls_lab.analysis.experiments", "ExperimentConfig"),
    "run_experiment": ("gnutls_lab.analysis.experiments", "run_experiment"),
    "sweep_reuse": ("gnutls_lab.analysis.experiments", "sweep_reuse"),
    "plot_sweep": ("gnutls_lab.faces.plots", "plot_sweep"),
    "plot_tracking": ("gnutls_lab.faces.plots", "plot_tracking"),
    "plot_timeline": ("gnutls_lab.faces.plots", "plot_timeline"),
    "plot_compare": ("gnutls_lab.faces.plots", "plot_compare"),
    "replay_experiment": ("gnutls_lab.analysis.replay", "replay_experiment"),
    "replay_sweep": ("gnutls_lab.analysis.replay", "replay_sweep"),
    "plot_replay_sweep": ("gnutls_lab.faces.replay_plots", "plot_replay_sweep"),
    "plot_zero_rtt_flights": ("gnutls_lab.faces.replay_plots", "plot_zero_rtt_flights"),
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
    *_LAZY,
]
