"""The picture of what real programs did with their session data: one timeline per program run.

:func:`plot_spy_timelines` draws, for each run recorded by :func:`gnutls_lab.network._spy.spy_against_lab`
(or loaded from ``data/spy/``), one row per run: each TLS session as a bar from ``gnutls_init`` to
``gnutls_deinit``, its handshake (full or resumed), the moment a NewSessionTicket was seen, and every
``get_data``/``get_data2`` result (real or the 4-byte dummy). Colours and markers follow the lab's
colour-blind-safe palette (:data:`gnutls_lab.faces._plots.OKABE_ITO`).
"""

from __future__ import annotations

from typing import Sequence

from ._plots import COLORS, OKABE_ITO, subplots

__all__ = ["plot_spy_timelines"]


def plot_spy_timelines(runs: Sequence[dict], labels: Sequence[str] | None = None, title: str | None = None):
    """A matplotlib Figure: one row per run, time in ms since the run's first libgnutls call."""
    labels = list(labels) if labels is not None else [run.get("scenario", run["command"]) for run in runs]
    fig, ax = subplots(figsize=(10, 0.9 + 0.75 * len(runs)), layout="constrained")
    seen: set = set()

    def mark(x, y, label, **style):
        ax.plot([x], [y], linestyle="none", label=None if label in seen else label, **style)
        seen.add(label)

    for row, run in enumerate(runs):
        y = len(runs) - 1 - row
        for session in run["report"]["sessions"]:
            if session["role"] != "client":
                continue
            end = session["ended_ms"] if session["ended_ms"] is not None else session["started_ms"]
            ax.plot([session["started_ms"], end], [y, y], color=COLORS["none"], linewidth=6, alpha=0.5,
                    solid_capstyle="butt", label=None if "session" in seen else "TLS session (init to deinit)")
            seen.add("session")
            if session["handshake_ms"] is not None:
                resumed = session["resumed"]
                mark(session["handshake_ms"], y, "handshake, resumed" if resumed else "handshake, full",
                     marker="D" if resumed else "s", color=COLORS["success"] if resumed else COLORS["full"],
                     markersize=8, markerfacecolor="white" if not resumed else COLORS["success"])
            if session["ticket_arrival_ms"] is not None and session["protocol"] == "TLS1.3":
                mark(session["ticket_arrival_ms"], y + 0.22, "NewSessionTicket seen", marker="v",
                     color=OKABE_ITO["orange"], markersize=7)
            for stored in session["stored"]:
                mark(stored["at_ms"], y - 0.22, "get_data2: the 4-byte dummy" if stored["dummy"]
                     else "get_data2: real session data", marker="^", markersize=7,
                     color=OKABE_ITO["vermillion"] if stored["dummy"] else OKABE_ITO["bluish_green"],
                     markerfacecolor="white" if stored["dummy"] else None)
    ax.set_yticks(range(len(runs)), list(reversed(labels)))
    ax.set_ylim(-0.7, len(runs) - 0.3)
    ax.set_xlabel("time since the program's first libgnutls call (ms)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, fontsize="small", frameon=False)
    ax.set_title(title or "What each program did with its session data, connection by connection")
    return fig
