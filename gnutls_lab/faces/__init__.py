"""Layer 6, faces: what people look at.

Modules (private; this face re-exports what the notebooks and the CLI use):

- ``_views``: text, hex, HTML and JSON views of a decoded session and of a decrypted ticket.
- ``_plots``: matplotlib figures of the experiments (one style, colour-blind-safe colours);
  ``_replay_plots`` (0-RTT replay) and ``_spy_plots`` (real programs' timelines) beside it.
- the notebooks' widgets, one module each, imported on first use (ipywidgets and matplotlib are heavy):
  ``_stepper`` (the handshake stepper), ``_blob_inspector``, ``_explorer`` (the experiment explorer),
  ``_tamper_lab`` with ``_tamper_policy`` beside it (what may be changed, what is refused) and
  ``_sequence_diagram``; ``_widget_parts`` holds what they share. Their hex dump is ``_views``'s.
- ``_audit_plots``: the tracking window and the key timeline of ``gnutls-lab audit``.
- ``_audit_report``: the audit's text report (:func:`audit_text`).
- ``cli/``: the ``gnutls-lab`` command (its face: :func:`gnutls_lab.faces.cli.main`).
"""

from ._audit_plots import plot_audit, plot_audit_key_timeline, plot_tracking_window
from ._audit_report import audit_text
from ._plots import (
    plot_clients,
    plot_compare,
    plot_key_timeline,
    plot_links,
    plot_mechanisms,
    plot_sweep,
    plot_timeline,
    plot_tracking,
    time_unit,
)
from ._replay_plots import plot_replay_sweep, plot_zero_rtt_flights
from ._spy_plots import plot_spy_timelines
from ._views import (
    decode_session,
    hexdump,
    html_view,
    printable,
    session_to_dict,
    text_report,
    ticket_report,
    ticket_state_to_dict,
)

#: The widgets, each imported from its module on first use (ipywidgets and matplotlib are heavy).
_WIDGETS = {
    "handshake_stepper": "_stepper",
    "split_records": "_stepper",  # the wire tap as (sender, record) pairs, as the stepper shows it
    "blob_inspector": "_blob_inspector",
    "experiment_explorer": "_explorer",
    "tamper_lab": "_tamper_lab",
    "tamper_outcome": "_tamper_lab",
    "sequence_diagram": "_sequence_diagram",
}

__all__ = [
    # views of a decoded session and a decrypted ticket
    "decode_session",
    "text_report",
    "hexdump",
    "html_view",
    "ticket_report",
    "session_to_dict",
    "ticket_state_to_dict",
    "printable",
    # plots
    "plot_sweep",
    "plot_tracking",
    "plot_compare",
    "plot_timeline",
    "plot_links",
    "plot_mechanisms",
    "plot_key_timeline",
    "plot_clients",
    "time_unit",
    "plot_replay_sweep",
    "plot_zero_rtt_flights",
    "plot_spy_timelines",
    "plot_tracking_window",
    "plot_audit_key_timeline",
    "plot_audit",
    # the audit's text report
    "audit_text",
    # widgets
    *_WIDGETS,
]


def __getattr__(name: str):
    if name not in _WIDGETS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{_WIDGETS[name]}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_WIDGETS))
