"""Figures of the 0-RTT replay lesson, in the style of :mod:`gnutls_lab.faces._plots`.

* :func:`plot_replay_sweep` — for each anti-replay window, the replay delays at which a recorded first
  flight is accepted again (:func:`gnutls_lab.analysis._replay.replay_sweep`);
* :func:`plot_zero_rtt_flights` — the two flights: the client's 0-RTT first flight, recorded by an
  attacker and sent again to another server process.
"""

from __future__ import annotations

from ._plots import COLORS, OKABE_ITO, subplots

__all__ = ["plot_replay_sweep", "plot_zero_rtt_flights"]


def plot_replay_sweep(sweep, title: str | None = None):
    """One row per window: the delays (s) between the resumption and the replay at which the server
    delivered the replayed early data (filled) or refused it (open)."""
    fig, ax = subplots(figsize=(7.0, 1.4 + 0.6 * len(sweep.windows)))
    for row, (window, accepted) in enumerate(zip(sweep.windows, sweep.accepted)):
        xs_ok = [d for d, ok in zip(sweep.delays, accepted) if ok]
        xs_no = [d for d, ok in zip(sweep.delays, accepted) if not ok]
        ax.scatter(xs_no, [row] * len(xs_no), s=36, facecolors="none", edgecolors=COLORS["none"],
                   label="replay refused" if row == 0 else None)
        ax.scatter(xs_ok, [row] * len(xs_ok), s=36, color=COLORS["linkable"],
                   label="replay accepted" if row == 0 else None)
        ax.plot([window, window], [row - 0.3, row + 0.3], color=OKABE_ITO["black"], lw=1)
    ax.set_yticks(range(len(sweep.windows)), [f"window {w:g} s" for w in sweep.windows])
    ax.set_ylim(-0.7, len(sweep.windows) - 0.3)
    since = "the anti-replay context began (real clock)" if sweep.clock == "real" else "the ticket"
    ax.set_xlabel(f"replay delay after the 0-RTT resumption (s)   [resumption {sweep.resume_after:g} s after "
                  f"{since}; bar: the window]", fontsize="small")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize="small", frameon=False)
    if title is None:
        total = sum(sum(row) for row in sweep.accepted)
        if total:
            title = (f"GnuTLS {sweep.gnutls_version}: {total} replay{'s' if total != 1 else ''} accepted, "
                     "each after a recording-period rollover")
        elif sweep.clock_drives_anti_replay:
            title = f"GnuTLS {sweep.gnutls_version}: every replay refused"
        else:
            title = (f"GnuTLS {sweep.gnutls_version}: every replay refused (the anti-replay clock is real "
                     "time here, the fake delays do not reach it)")
    ax.set_title(title, fontsize="medium", pad=22)
    fig.tight_layout()
    return fig


def plot_zero_rtt_flights(title: str | None = None):
    """A sequence diagram: client, server and attacker; the recorded first flight sent again."""
    fig, ax = subplots(figsize=(7.0, 4.2))
    lanes = {"client": 0.0, "server": 1.0, "attacker": 0.5}
    ax.set_xlim(-0.25, 1.25)
    ax.set_ylim(7.2, -0.8)
    ax.axis("off")
    for name, x in (("client", 0.0), ("server (process A)", 1.0)):
        ax.text(x, -0.5, name, ha="center", weight="bold")
        ax.plot([x, x], [-0.2, 4.2], color=COLORS["none"], lw=1)
    steps = [
        (0.0, 1.0, 0.3, "ClientHello + pre_shared_key (ticket, binder)", COLORS["success"]),
        (0.0, 1.0, 0.9, "early data (0-RTT): \"POST /transfer ...\"", COLORS["linkable"]),
        (1.0, 0.0, 1.7, "ServerHello ... Finished (fresh key share)", COLORS["ticket"]),
        (0.0, 1.0, 2.5, "EndOfEarlyData, Finished", COLORS["success"]),
    ]
    for x0, x1, y, label, color in steps:
        ax.annotate("", xy=(x1, y), xytext=(x0, y), arrowprops=dict(arrowstyle="->", color=color, lw=1.6))
        ax.text(0.5, y - 0.12, label, ha="center", fontsize="small")
    ax.add_patch(_bracket(-0.18, 0.15, 1.05))
    ax.text(-0.2, 0.6, "recorded\non the wire", ha="right", va="center", fontsize="small",
            color=COLORS["linkable"])
    ax.text(0.0, 4.7, "attacker", ha="center", weight="bold")
    ax.text(1.0, 4.7, "server (process B)", ha="center", weight="bold")
    for x in (0.0, 1.0):
        ax.plot([x, x], [5.0, 7.0], color=COLORS["none"], lw=1)
    ax.annotate("", xy=(1.0, 5.4), xytext=(0.0, 5.4),
                arrowprops=dict(arrowstyle="->", color=COLORS["linkable"], lw=1.6, ls="--"))
    ax.text(0.5, 5.28, "the same bytes again: ClientHello + early data", ha="center", fontsize="small")
    ax.text(0.5, 6.15, "same ticket key: the ticket and the binder check out,\nthe early data is decrypted and "
            "delivered before any Finished", ha="center", fontsize="small")
    ax.text(0.5, 6.8, "only the anti-replay state shared with process A can refuse it", ha="center",
            fontsize="small", style="italic")
    ax.set_title(title or "0-RTT: the client's first flight can be sent again by whoever recorded it",
                 fontsize="medium")
    fig.tight_layout()
    return fig


def _bracket(x: float, y0: float, y1: float):
    from matplotlib.patches import FancyBboxPatch

    return FancyBboxPatch((x, y0), 0.02, y1 - y0, boxstyle="square,pad=0", color=COLORS["linkable"])
