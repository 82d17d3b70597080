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

from .binding import MINIMUM_VERSION, library_info
from .errors import (
    BlobFormatError,
    GnuTLSError,
    GnuTLSLabError,
    LibraryNotFoundError,
    TicketKeyError,
    UsageError,
)
from .sessions import (
    AntiReplay,
    ClientSession,
    FakeClock,
    Lab,
    LabCertificate,
    ServerSession,
    SessionData,
    ZeroRttLab,
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


def _decoded_session_html(session) -> str:
    from .faces import html_view

    return html_view(session)


def _show_decoded_sessions_as_html() -> None:
    """Jupyter shows a decoded session as :func:`gnutls_lab.faces.html_view`, whatever was imported first.

    The analysis layer's ``DecodedSession`` may not import a view (a higher layer), and a view that patched
    the class on import made the display depend on import order. IPython's formatters take a renderer for a
    class by its module and name without importing it (``for_type_by_name``); this package's face runs before
    any of its modules, so registering here holds for every import order. Outside IPython there is nothing
    to display HTML, so nothing to register."""
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    formatters = getattr(getattr(shell, "display_formatter", None), "formatters", None)
    if formatters and "text/html" in formatters:
        formatters["text/html"].for_type_by_name("gnutls_lab.analysis._decode", "DecodedSession",
                                                 _decoded_session_html)


_show_decoded_sessions_as_html()


__all__ = [
    "MINIMUM_VERSION",
    "library_info",
    "FakeClock",
    "LabCertificate",
    "BlobFormatError",
    "GnuTLSError",
    "GnuTLSLabError",
    "LibraryNotFoundError",
    "TicketKeyError",
    "UsageError",
    "AntiReplay",
    "ZeroRttLab",
    "Lab",
    "ClientSession",
    "ServerSession",
    "SessionData",
    "pump",
    "memory_pair",
    "write_pcapng",
    *_HOME,
]
