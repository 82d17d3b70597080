"""Pictures of an audit (:class:`~gnutls_lab.analysis.AuditReport`), in the style of :mod:`.plots`.

* :func:`plot_tracking_window` — for each resumption mechanism the server accepts and each client
  behaviour, the visits of one client over the model's horizon, coloured by the cluster a passive observer
  puts them in, with the tracking period written beside each row;
* :func:`plot_audit_key_timeline` — every ticket the audit received, at the time it arrived, one row per
  key name (per server name), so a rotation or a key shared by two names shows as it happened;
* :func:`plot_audit` — both, one above the other (``gnutls-lab audit --plot FILE``).

Both return a :class:`matplotlib.figure.Figure`, title computed from the data.
"""

from __future__ import annotations

from ..sessions import MECHANISMS
from ._plots import COLORS, OKABE_ITO, subplots, time_unit

__all__ = ["plot_tracking_window", "plot_audit_key_timeline", "plot_audit"]



def _credential(mechanism: str) -> str:
    return MECHANISMS[mechanism].credential.removeprefix("a ")  # "TLS 1.2 ticket"

_CLIENT = {"keeps": "keeps its ticket", "single-use": "uses each once"}


def _span_text(window) -> str:
    if window.unbounded:
        return "whole horizon"
    if not window.seconds:
        return "not linked"
    if window.seconds <= window.gap:
        return "pairs"
    divisor, unit = time_unit(window.seconds)
    return f"{window.seconds / divisor:.3g} {unit}"


def plot_tracking_window(report, title: str | None = None, ax=None):
    """One row per (mechanism, client behaviour): visits as dots, linked visits joined by a bar.

    ``ax``: draw into these axes (the figure is then the caller's); by default a new figure."""
    windows = [w["window"] for w in report.findings()["tracking"]]
    height = 1.0 + 0.55 * max(len(windows), 1)
    if ax is None:
        fig, ax = subplots(1, 1, figsize=(9.5, height), layout="constrained")
    else:
        fig = ax.figure
    if not windows:
        ax.text(0.5, 0.5, "no resumption: nothing links this server's clients", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        ax.set_title(title or f"{report.target}: no tracking window")
        return fig
    # Six lifetimes are enough to see a pattern repeat; an unbounded chain fills whatever is shown.
    horizon = min(max(w.horizon for w in windows), 6 * max(w.policy.lifetime for w in windows))
    divisor, unit = time_unit(horizon)
    labels = []
    shades = (COLORS["ticket"], OKABE_ITO["reddish_purple"])  # neighbouring clusters alternate
    for row, window in enumerate(windows):
        y = len(windows) - 1 - row
        times = [t for t in window.linkage.times if t <= horizon]
        ax.scatter([t / divisor for t in times], [y] * len(times), s=8, color=COLORS["none"], zorder=2)
        shown = 0
        for span in window.linkage.cluster_spans:
            if len(span.visits) < 2 or span.first_time > horizon:
                continue
            color = COLORS["linkable"] if window.unbounded else shades[shown % 2]
            ax.plot([span.first_time / divisor, min(span.last_time, horizon) / divisor], [y, y], lw=6,
                    solid_capstyle="butt", color=color, alpha=0.85, zorder=1)
            shown += 1
        ax.text(horizon / divisor * 1.01, y, _span_text(window), va="center", fontsize=8)
        labels.append(f"{_credential(window.policy.mechanism)}, client {_CLIENT[window.client]}")
    ax.set_yticks(range(len(windows)))
    ax.set_yticklabels(list(reversed(labels)), fontsize=8)
    ax.set_xlim(0, horizon / divisor * 1.12)
    ax.set_ylim(-0.6, len(windows) - 0.4)
    ax.set_xlabel(f"time of the client's visits ({unit}); a bar: visits an observer links")
    worst = max(windows, key=lambda w: (w.unbounded, w.seconds))
    if title is None:
        if worst.unbounded:
            title = (f"{report.target}: an observer follows a client over {_credential(worst.policy.mechanism)}s "
                     "for as long as it comes back")
        elif worst.seconds:
            title = f"{report.target}: an observer follows a client for up to {_span_text(worst)}"
        else:
            title = f"{report.target}: its tickets link no visits"
    ax.set_title(title, fontsize=10)
    return fig


def plot_audit_key_timeline(report, title: str | None = None, ax=None):
    """Tickets by arrival time (seconds into the audit), one row per (server name, key name).

    ``ax``: draw into these axes (the figure is then the caller's); by default a new figure."""
    keys = report.findings()["key_names"]
    size = keys.get("prefix_size") or 0
    if ax is None:
        fig, ax = subplots(1, 1, figsize=(9.5, 1.6 + 0.35 * max(len(keys.get("names") or []), 1)),
                           layout="constrained")
    else:
        fig = ax.figure
    if not size or not report.tickets:
        ax.text(0.5, 0.5, keys.get("note") or "no tickets", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        ax.set_title(title or f"{report.target}: no key names to follow")
        return fig
    rows: dict = {}
    for ticket in report.tickets:
        rows.setdefault((ticket.server_name or "(no SNI)", ticket.ticket[:size].hex()), []).append(ticket)
    order = sorted(rows, key=lambda key: (min(t.issued_at for t in rows[key]), key[0]))
    names = sorted({key[1] for key in order})
    palette = [OKABE_ITO[c] for c in ("blue", "vermillion", "bluish_green", "reddish_purple", "orange", "sky_blue")]
    for y, key in enumerate(order):
        tickets = rows[key]
        color = palette[names.index(key[1]) % len(palette)]
        markers = {"TLS1.3": "o", "TLS1.2": "s"}
        for protocol, marker in markers.items():
            xs = [t.issued_at for t in tickets if t.protocol == protocol]
            if xs:
                ax.scatter(xs, [y] * len(xs), marker=marker, color=color, s=22,
                           label=protocol.replace("TLS", "TLS ") if y == 0 else None)
    ax.set_yticks(range(len(order)))
    ax.set_yticklabels([f"{name}  {key[:12]}…" for name, key in order], fontsize=8, family="monospace")
    ax.set_xlabel("seconds since the audit began (ticket arrival)")
    ax.set_ylim(-0.6, len(order) - 0.4)
    if len(order) and any(rows[k] for k in order):
        ax.legend(loc="lower right", fontsize=8)
    span = keys["span_seconds"] or 0.0
    if title is None:
        if keys["distinct"] == 1 and keys["shared_across_names"]:
            title = f"{report.target}: one ticket key for every name, unchanged over {span:.1f} s"
        elif keys["distinct"] == 1:
            title = f"{report.target}: one ticket key, unchanged over {span:.1f} s"
        else:
            title = f"{report.target}: {keys['distinct']} ticket key names in {span:.1f} s"
    ax.set_title(title, fontsize=10)
    return fig


def plot_audit(report):
    """The tracking window above the key timeline, in one figure."""
    fig, axes = subplots(2, 1, figsize=(9.5, 7.0), layout="constrained")
    plot_tracking_window(report, ax=axes[0])
    plot_audit_key_timeline(report, ax=axes[1])
    return fig
