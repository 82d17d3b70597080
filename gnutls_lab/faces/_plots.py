"""Figures of the experiments, in one style: Okabe–Ito colours, titles that state the finding, units.

Every function takes a result object of :mod:`gnutls_lab.analysis._experiments` and returns a
:class:`matplotlib.figure.Figure`; none of them shows it (no ``plt.show()``): Jupyter displays the
returned figure, scripts call ``fig.savefig(path)``. Each title is computed from the data it plots,
so it stays true when the experiment changes. Figures are closed in pyplot right after creation,
so a notebook shows each one once and long sweeps do not pile up open figures.

* :func:`plot_sweep` — success rate (Wilson 95 % intervals) and linkable pair fraction against the
  swept value (reuse limit k, ticket lifetime, forced key rotation...);
* :func:`plot_tracking` — the longest tracking period against the swept value;
* :func:`plot_compare` — several sweeps of k side by side (TLS 1.3 against TLS 1.2);
* :func:`plot_timeline` — one run: every visit in time, resumed or not, and who is linked to whom;
* :func:`plot_links` — several runs of that kind one above the other (client policies compared);
* :func:`plot_mechanisms` — the three ways to resume: who keeps what, what crosses in clear;
* :func:`plot_key_timeline` — GnuTLS's ticket-key periods, ticket lifetimes and a forced rotation.
* :func:`plot_clients` — real TLS clients (gnutls-cli, openssl, Python's ssl, the lab): which an observer links.

:func:`subplots` makes the figure of every plot of the lab (here, in :mod:`~gnutls_lab.faces._replay_plots`,
:mod:`~gnutls_lab.faces._spy_plots` and the widgets): a headless backend when there is no display, closed in pyplot.
"""

from __future__ import annotations

import os
import sys
from typing import Sequence

from ..errors import UsageError
from ..sessions import MECHANISMS

__all__ = ["OKABE_ITO", "COLORS", "plot_sweep", "plot_tracking", "plot_compare", "plot_timeline", "plot_links",
           "plot_mechanisms", "plot_key_timeline", "plot_clients", "time_unit", "subplots"]

#: Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7",
}
COLORS = {
    "success": OKABE_ITO["blue"],
    "linkable": OKABE_ITO["vermillion"],  # every value in clear (session IDs included)
    "ticket": OKABE_ITO["orange"],  # ticket / PSK identity evidence only
    "tracking": OKABE_ITO["bluish_green"],
    "full": OKABE_ITO["vermillion"],
    "none": "#999999",
    "series": [OKABE_ITO[c] for c in ("blue", "vermillion", "bluish_green", "reddish_purple", "orange", "sky_blue")],
}
_LABELS = {
    "max_reuse": "reuse limit k (offers per ticket)",
    "lifetime": "ticket lifetime (s)",
    "rotate_every": "forced ticket-key rotation every (s)",
    "tickets_per_handshake": "tickets per handshake",
    "gap": "gap between visits (s)",
}


def subplots(nrows: int = 1, ncols: int = 1, **kwargs):
    """``plt.subplots(nrows, ncols, **kwargs)`` for every figure of the lab: the Agg backend in a
    process without a display, and the figure closed in pyplot at once, so Jupyter shows the
    returned figure once and long sweeps do not pile up open figures."""
    import matplotlib

    headless = (sys.platform.startswith("linux") and not os.environ.get("DISPLAY")
                and not os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("MPLBACKEND"))
    if headless and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, **kwargs)
    plt.close(fig)
    return fig, axes


def _new_figure(ncols: int = 1, width: float = 5.0, height: float = 3.6):
    """One row of ``ncols`` panels, ``width`` × ``height`` inches each."""
    fig, axes = subplots(1, ncols, figsize=(width * ncols, height), squeeze=False, layout="constrained")
    return fig, list(axes[0])


def time_unit(seconds: float) -> tuple:
    """(divisor, unit name) to show a duration of about ``seconds`` readably: s, min, h or days."""
    for divisor, name in ((86400, "days"), (3600, "h"), (60, "min")):
        if seconds >= 2 * divisor:
            return divisor, name
    return 1, "s"


def _value_label(parameter: str, value) -> str:
    if value is None:
        return {"max_reuse": "∞", "rotate_every": "never", "lifetime": "21600"}.get(parameter, "default")
    if parameter == "max_reuse" and value == 0:
        return "0\n(none)"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _positions(sweep) -> tuple:
    """x positions (0, 1, 2... : categorical, so ∞ and 'never' have a place) and tick labels."""
    values = sweep.values
    return list(range(len(values))), [_value_label(sweep.parameter, v) for v in values]


def _fraction(x) -> str:
    return f"{x:.0%}" if x is not None else "n/a"


def _success_panel(ax, xs, summaries, color, label=None, annotate=True):
    """Two readings of one run: per attempt (filled, with its Wilson interval: of the visits where the
    client offered something, how many resumed) and per visit (open, dashed: of all visits, how many
    resumed). They differ when the client has nothing to offer on some visits, e.g. a TLS 1.2 client
    with single-use tickets resumes every other visit: 15 of 15 attempts, 15 of 30 visits."""
    rates = [s["success_rate"] for s in summaries]
    points = [(x, s) for x, s in zip(xs, summaries) if s["success_rate"] is not None]
    suffix = f"{label}: " if label else ""
    if points:
        px, ps = zip(*points)
        y = [s["success_rate"] for s in ps]
        err = [[s["success_rate"] - s["success_low"] for s in ps], [s["success_high"] - s["success_rate"] for s in ps]]
        ax.errorbar(px, y, yerr=err, fmt="o-", color=color, capsize=4, label=f"{suffix}per attempt")
    per_visit = [s["resumed"] / s["visits"] for s in summaries]
    ax.plot(xs, per_visit, "s--", color=color, markerfacecolor="none", label=f"{suffix}per visit")
    for x, s, v in zip(xs, summaries, per_visit):
        if s["attempts"] and annotate:
            ax.annotate(f"{s['resumed']}/{s['attempts']}", (x, s["success_rate"]), textcoords="offset points",
                        xytext=(0, 8), ha="center", fontsize=8, color=color)
        if annotate and s["attempts"] != s["visits"] and v != s["success_rate"]:
            ax.annotate(f"{s['resumed']}/{s['visits']} visits", (x, v), textcoords="offset points",
                        xytext=(0, -14), ha="center", fontsize=8, color=color)
    ax.set_ylim(-0.05, 1.1)
    ax.set_ylabel("resumed (fraction of attempts, of visits)")
    if not label:
        ax.legend(fontsize=8, loc="lower left")
    return rates


def _style(ax, xs, labels, xlabel):
    ax.set_xticks(xs)
    ax.set_xticklabels(labels)
    ax.set_xlabel(xlabel)
    ax.grid(True, alpha=0.3)


def _sweep_title(sweep) -> str:
    summaries = sweep.records()
    first, last = summaries[0], summaries[-1]
    protocol = MECHANISMS[sweep.results[0].config.mechanism].label
    name = {"max_reuse": "k", "lifetime": "lifetime", "rotate_every": "rotation"}.get(sweep.parameter, sweep.parameter)
    v0, v1 = (_value_label(sweep.parameter, v).replace("\n", " ") for v in (sweep.values[0], sweep.values[-1]))
    rates = [s["success_rate"] for s in summaries if s["success_rate"] is not None]
    visits = [s["resumed"] / s["visits"] for s in summaries]
    per_visit = (f" ({min(visits):.0%} of visits)" if min(visits) == max(visits)
                 else f" ({min(visits):.0%}–{max(visits):.0%} of visits)")
    if rates and min(rates) == 1.0:
        success = "every resumption attempt succeeded"
    elif rates and min(rates) == max(rates):
        success = f"resumption succeeded {min(rates):.0%} of the time"
    elif rates:
        success = f"resumption succeeded {min(rates):.0%}–{max(rates):.0%} of the time"
    else:
        success = "no resumption was attempted"
    if rates:
        success += per_visit
    by_ticket = ("by ticket", first["ticket_linkable_pair_fraction"], last["ticket_linkable_pair_fraction"])
    by_all = ("with every value in clear (session IDs too)", first["linkable_pair_fraction"],
              last["linkable_pair_fraction"])
    # lead with the evidence that moves (tickets, unless they never link, as with session IDs)
    primary, other = (by_ticket, by_all) if by_ticket[1:] != (0.0, 0.0) else (by_all, by_ticket)
    label, p0, p1 = primary
    if sweep.parameter == "max_reuse" and p1 > p0:
        credential = MECHANISMS[sweep.results[0].config.mechanism].credential
        lead = f"Reusing {credential} up to k times links more visits: {p0:.0%} → {p1:.0%} of pairs {label}"
    else:
        trend = "more" if p1 > p0 else "fewer" if p1 < p0 else "as many"
        lead = f"{protocol}: {name} {v0} → {v1} links {trend} visit pairs {label} ({p0:.0%} → {p1:.0%})"
    tail = f"; {success}"
    if other[1:] != primary[1:]:
        tail += f"; {other[0]}: {other[1]:.0%} → {other[2]:.0%}"
    return lead + tail


def plot_sweep(sweep, title: str | None = None):
    """Two panels against the swept value: resumption success rate with its Wilson 95 % interval
    (k of N attempts annotated), and the fraction of visit pairs a passive observer links, by
    ticket evidence alone and by every value in clear."""
    fig, (left, right) = _new_figure(2)
    xs, labels = _positions(sweep)
    summaries = sweep.records()
    xlabel = _LABELS.get(sweep.parameter, sweep.parameter)
    _success_panel(left, xs, summaries, COLORS["success"])
    left.set_title("resumption success (Wilson 95% CI)", fontsize=10)
    _style(left, xs, labels, xlabel)
    right.plot(xs, [s["linkable_pair_fraction"] for s in summaries], "s-", color=COLORS["linkable"],
               label="every value in clear")
    right.plot(xs, [s["ticket_linkable_pair_fraction"] for s in summaries], "o--", color=COLORS["ticket"],
               label="ticket / PSK identity only")
    right.set_ylim(-0.05, 1.05)
    right.set_ylabel("linkable visit pairs (fraction of all pairs)")
    right.set_title("what a passive observer links", fontsize=10)
    right.legend(fontsize=8, loc="best")
    _style(right, xs, labels, xlabel)
    fig.suptitle(title or _wrap(_sweep_title(sweep)), fontsize=11)
    return fig


def plot_tracking(sweep, title: str | None = None):
    """The longest time a passive observer follows one client (max over clusters of last − first
    visit time), by every value in clear and by ticket evidence alone, with the ticket lifetime."""
    fig, (ax,) = _new_figure(1, width=6.0)
    xs, labels = _positions(sweep)
    summaries = sweep.records()
    longest = max(s["max_tracking_seconds"] for s in summaries)
    divisor, unit = time_unit(max(longest, 1.0))
    ax.plot(xs, [s["max_tracking_seconds"] / divisor for s in summaries], "s-", color=COLORS["linkable"],
            label="every value in clear")
    ax.plot(xs, [s["ticket_max_tracking_seconds"] / divisor for s in summaries], "o--", color=COLORS["ticket"],
            label="ticket / PSK identity only")
    lifetimes = {s["lifetime"] for s in summaries}
    if len(lifetimes) == 1 and min(lifetimes) <= 2 * longest:  # a reference, unless it would squash the data
        ax.axhline(lifetimes.pop() / divisor, color=OKABE_ITO["black"], lw=0.8, ls=":", label="ticket lifetime")
    ax.set_ylabel(f"longest tracking period ({unit})")
    ax.legend(fontsize=8)
    _style(ax, xs, labels, _LABELS.get(sweep.parameter, sweep.parameter))
    ax.set_title(title or _wrap(_tracking_title(sweep, divisor, unit), 70), fontsize=11)
    return fig


def _tracking_title(sweep, divisor: float, unit: str) -> str:
    summaries = sweep.records()
    protocol = MECHANISMS[sweep.results[0].config.mechanism].label
    name = "k" if sweep.parameter == "max_reuse" else sweep.parameter

    def where(key):
        best = max(s[key] for s in summaries)
        at = [_value_label(sweep.parameter, v).replace("\n", " ") for v, s in zip(sweep.values, summaries)
              if s[key] == best]
        place = "at every " + name if len(at) == len(summaries) else f"at {name} = {', '.join(at)}"
        return f"{best / divisor:.3g} {unit} {place}"

    duration = max(s["duration_seconds"] for s in summaries)
    return (f"{protocol}: in a {duration / divisor:.3g} {unit} run an observer follows one client for up to "
            f"{where('max_tracking_seconds')}; by tickets alone {where('ticket_max_tracking_seconds')}")


def plot_compare(sweeps: Sequence, labels: Sequence[str] | None = None, title: str | None = None):
    """Sweeps of k side by side (e.g. TLS 1.3 and TLS 1.2): success rate, and linkable pair fraction
    (solid: every value in clear; dashed: ticket evidence only), one colour per sweep."""
    if not sweeps:
        raise UsageError("plot_compare needs at least one sweep")
    labels = list(labels) if labels else [MECHANISMS[s.results[0].config.mechanism].label for s in sweeps]
    fig, (left, right) = _new_figure(2)
    parameter = sweeps[0].parameter
    all_values = []
    for s in sweeps:
        for v in s.values:
            if v not in all_values:
                all_values.append(v)
    position = {v: i for i, v in enumerate(all_values)}
    for i, (s, label) in enumerate(zip(sweeps, labels)):
        color = COLORS["series"][i % len(COLORS["series"])]
        xs = [position[v] for v in s.values]
        summaries = s.records()
        _success_panel(left, xs, summaries, color, label, annotate=False)
        right.plot(xs, [r["linkable_pair_fraction"] for r in summaries], "s-", color=color,
                   label=f"{label}: every value in clear")
        right.plot(xs, [r["ticket_linkable_pair_fraction"] for r in summaries], "o--", color=color,
                   label=f"{label}: tickets only")
    xs = list(range(len(all_values)))
    ticks = [_value_label(parameter, v) for v in all_values]
    xlabel = _LABELS.get(parameter, parameter)
    left.legend(fontsize=8)
    left.set_title("resumption success (Wilson 95% CI)", fontsize=10)
    _style(left, xs, ticks, xlabel)
    right.set_ylim(-0.05, 1.05)
    right.set_ylabel("linkable visit pairs (fraction of all pairs)")
    right.set_title("what a passive observer links", fontsize=10)
    right.legend(fontsize=7)
    _style(right, xs, ticks, xlabel)
    if title is None:
        parts = []
        for s, label in zip(sweeps, labels):
            r = s.records()[0]
            parts.append(f"{label} {r['linkable_pair_fraction']:.0%} ({r['ticket_linkable_pair_fraction']:.0%} by ticket)")
        first = _value_label(parameter, sweeps[0].values[0]).replace("\n", " ")
        title = f"At {'k' if parameter == 'max_reuse' else parameter} = {first}, an observer links " + ", ".join(parts) + " of visit pairs"
    fig.suptitle(_wrap(title), fontsize=11)
    return fig


_LINK_STYLE = {  # kind of value shown again -> (label, colour, line style)
    "session_id": ("same session ID (legacy_session_id)", COLORS["linkable"], "-"),
    "psk_identity": ("same TLS 1.3 ticket (PSK identity)", COLORS["ticket"], "--"),
    "ticket": ("same TLS 1.2 ticket", COLORS["ticket"], "--"),
}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _draw_links(ax, result, divisor: float) -> None:
    """One run as an arc diagram: visits on a time line, an arc from each visit to the earlier one
    whose value it showed again (the arc's colour says which value), markers for the outcome."""
    import numpy as np
    from matplotlib.lines import Line2D

    rows = result.records()
    times = [r["time_s"] / divisor for r in rows]
    span = max(times[-1] - times[0], 1e-9)
    kinds_drawn = []
    for link in result.linkage.links:
        label, colour, style = _LINK_STYLE[link.kind]
        a, b = times[link.earlier], times[link.later]
        xs = np.linspace(a, b, 40)
        height = 0.15 + 0.85 * (b - a) / span  # longer links arch higher
        ax.plot(xs, height * np.sin(np.linspace(0, np.pi, 40)), style, color=colour, lw=1.2, alpha=0.75)
        if link.kind not in kinds_drawn:
            kinds_drawn.append(link.kind)
    groups = (("resumed", lambda r: r["resumed"], dict(color=COLORS["success"])),
              ("resumption refused", lambda r: r["attempted"] and not r["resumed"],
               dict(facecolors="white", edgecolors=COLORS["full"], linewidths=1.5)),
              ("full handshake, nothing offered", lambda r: not r["attempted"], dict(color=COLORS["none"])))
    handles = []
    for label, keep, style in groups:
        chosen = [r for r in rows if keep(r)]
        if chosen:
            handles.append(ax.scatter([r["time_s"] / divisor for r in chosen], [0.0] * len(chosen), s=30,
                                      label=label, zorder=3, **style))
    handles += [Line2D([], [], color=_LINK_STYLE[k][1], ls=_LINK_STYLE[k][2], label=_LINK_STYLE[k][0])
                for k in kinds_drawn]
    if not kinds_drawn:
        handles.append(Line2D([], [], color="none", label="no link: nothing shown twice"))
    ax.set_ylim(-0.12, 1.15)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)


def _links_caption(result, divisor: float, unit: str) -> str:
    summary = result.summary()
    links = result.linkage.links
    if not links:
        return f"{summary['visits']} visits: the observer links none of them"
    groups = sum(1 for c in result.linkage.clusters if len(c) > 1)
    return (f"the observer links {summary['linked_visit_fraction']:.0%} of {summary['visits']} visits into "
            f"{_plural(groups, 'group')} and follows one client for "
            f"{summary['max_tracking_seconds'] / divisor:.3g} {unit}")


def plot_timeline(result, title: str | None = None):
    """One run, who is linked to whom over time: each visit on a time line (filled blue = resumed,
    hollow vermillion = resumption refused, grey = no attempt), and an arc from each visit to the
    earlier visit whose value in clear it showed again, coloured by that value."""
    fig, (ax,) = _new_figure(1, width=8.0, height=2.9)
    summary = result.summary()
    divisor, unit = time_unit(max(summary["duration_seconds"], 1.0))
    _draw_links(ax, result, divisor)
    ax.set_xlabel(f"time since the first visit ({unit})")
    protocol = MECHANISMS[result.config.mechanism].label
    auto = f"{protocol}, k = {result.config.reuse_label}: {_links_caption(result, divisor, unit)}"
    ax.set_title(title or _wrap(auto, 80), fontsize=11)
    return fig


def plot_links(results: Sequence, labels: Sequence[str], title: str | None = None):
    """Several runs one above the other, each as :func:`plot_timeline` draws it, on one time axis:
    who is linked to whom under each client policy."""
    if not results or len(labels) != len(results):
        raise UsageError("plot_links needs one label per run, and at least one run")
    fig, axes = subplots(len(results), 1, figsize=(8.0, 1.9 * len(results) + 0.8), sharex=True, squeeze=False,
                         layout="constrained")
    longest = max(r.summary()["duration_seconds"] for r in results)
    divisor, unit = time_unit(max(longest, 1.0))
    for ax, result, label in zip(axes[:, 0], results, labels):
        _draw_links(ax, result, divisor)
        ax.set_title(_wrap(f"{label}: {_links_caption(result, divisor, unit)}", 90), fontsize=10, loc="left")
    axes[-1, 0].set_xlabel(f"time since the first visit ({unit})")
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def plot_mechanisms(title: str | None = None):
    """The three ways to resume, as a picture of who keeps what: the TLS 1.2 session ID (the server
    keeps the session in its cache, the client a 32-byte key to it), the TLS 1.2 ticket and the TLS 1.3
    PSK (the server keeps only its ticket key; the client holds the session, encrypted for the server,
    and shows it in clear on resumption; TLS 1.3 adds a binder made with the resumption secret)."""
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    fig, axes = _new_figure(3, width=3.6, height=3.4)
    panels = (
        ("TLS 1.2 session ID", "session cache\nID → session", "session ID\n+ master secret",
         "session ID (32 bytes)", COLORS["linkable"]),
        ("TLS 1.2 ticket (RFC 5077)", "ticket key only", "ticket (encrypted session)\n+ master secret",
         "the ticket", COLORS["ticket"]),
        ("TLS 1.3 PSK (RFC 8446 4.6.1)", "ticket key only", "ticket (encrypted session)\n+ resumption secret",
         "ticket as PSK identity\n+ binder", COLORS["success"]),
    )
    for ax, (name, server_keeps, client_keeps, shown, colour) in zip(axes, panels):
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.axis("off")
        for x, who, keeps in ((0.03, "client keeps", client_keeps), (0.55, "server keeps", server_keeps)):
            ax.add_patch(FancyBboxPatch((x, 0.52), 0.42, 0.3, boxstyle="round,pad=0.02", fc="#f4f4f4",
                                        ec="#555555"))
            ax.text(x + 0.21, 0.77, who, ha="center", va="center", fontsize=8, weight="bold")
            ax.text(x + 0.21, 0.63, keeps, ha="center", va="center", fontsize=7.5)
        ax.add_patch(FancyArrowPatch((0.24, 0.45), (0.76, 0.45), arrowstyle="-|>", mutation_scale=12,
                                     color=colour, lw=2, connectionstyle="arc3,rad=0.35"))
        ax.text(0.5, 0.2, f"in clear in the ClientHello:\n{shown}", ha="center", va="center", fontsize=8,
                color=colour)
        ax.set_title(name, fontsize=10)
    fig.suptitle(title or "Who keeps what: only the session ID needs server memory; "
                          "every mechanism shows its credential in clear", fontsize=11)
    return fig


def plot_key_timeline(lifetime: int, issued: Sequence[float], rotation: float | None = None,
                      start: float | None = None, title: str | None = None):
    """GnuTLS's ticket keys over time for a server with ``lifetime``: key periods of 3 × lifetime
    (``lib/stek.c``), during each of which the server accepts its own and the previous period's key;
    each ticket of ``issued`` (times in seconds) as a bar from issue to expiry, beside the interval in
    which its key is still accepted; ``rotation``, a forced new master key at that time, ends every
    earlier ticket at once. Times are shown relative to ``start`` (default: the first issue)."""
    import math

    if lifetime <= 0 or not issued:
        raise UsageError("plot_key_timeline needs a positive lifetime and at least one issue time")
    fig, (ax,) = _new_figure(1, width=8.5, height=1.2 + 0.45 * len(issued))
    period = 3 * lifetime
    origin = min(issued) if start is None else start
    end = max(issued) + 2 * period
    if rotation is not None:
        end = max(end, rotation + lifetime)
    divisor, unit = time_unit(end - origin)
    first = math.floor(origin / period)
    for p in range(first, math.floor(end / period) + 1):
        a, b = (p * period - origin) / divisor, ((p + 1) * period - origin) / divisor
        ax.axvspan(a, b, color="#eeeeee" if p % 2 else "#f8f8f8", zorder=0)
        shown_a, shown_b = max(a, 0.0), min(b, (end - origin) / divisor)
        if shown_b - shown_a > 0.3 * (b - a):  # room for the label
            ax.text((shown_a + shown_b) / 2, len(issued) + 0.1, f"key period {p - first}", ha="center",
                    va="bottom", fontsize=8)
    for row, t in enumerate(issued):
        p = math.floor(t / period)
        key_end = (p + 2) * period  # accepted in its own period and the next
        if rotation is not None and rotation > t:
            key_end = min(key_end, rotation)
        y = len(issued) - 1 - row
        ax.barh(y + 0.15, (key_end - t) / divisor, left=(t - origin) / divisor, height=0.25,
                color=COLORS["none"], label="its key accepted" if row == 0 else None)
        alive_end = min(t + lifetime, key_end)
        ax.barh(y - 0.15, (alive_end - t) / divisor, left=(t - origin) / divisor, height=0.25,
                color=COLORS["success"], label="ticket alive (lifetime)" if row == 0 else None)
        ax.plot([(t - origin) / divisor], [y], "k|", ms=14)
    if rotation is not None:
        ax.axvline((rotation - origin) / divisor, color=COLORS["full"], lw=2, label="forced rotation")
    ax.set_xlim(0, (end - origin) / divisor)
    ax.set_ylim(-0.6, len(issued) + 0.6)
    ax.set_yticks(range(len(issued)), [f"ticket {len(issued) - i}" for i in range(len(issued))])
    ax.set_xlabel(f"time ({unit})")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.set_title(title or _wrap(f"Lifetime {lifetime} s, key periods of {period} s: a key outlives every "
                                "ticket it made, so GnuTLS's own rotation never cuts a ticket short", 90),
                 fontsize=11)
    return fig


def _wrap(text: str, width: int = 100) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def _clients_caption(rows: Sequence) -> str:
    """One protocol's finding, computed from its runs: who is linked by what."""
    ran = [r for r in rows if not r.missing]
    groups = (("a resent session ID links", [r for r in ran if r.linkable_pair_fraction > r.ticket_linkable_pair_fraction]),
              ("tickets link", [r for r in ran if r.ticket_linkable_pair_fraction]),
              ("nothing links", [r for r in ran if not r.linkable_pair_fraction]))
    return "; ".join(f"{what} {', '.join(r.name for r in who)}" for what, who in groups if who) or "no client ran"


def plot_clients(runs: Sequence, title: str | None = None):
    """Per client of :func:`gnutls_lab.network._clients_experiment.run_clients`: the linkable pair fraction
    with every value in clear and with ticket evidence only; one panel per protocol. A client whose
    program is missing is named in its row instead of a bar."""
    if not runs:
        raise UsageError("plot_clients needs at least one client run")
    protocols = list(dict.fromkeys(r.protocol for r in runs))
    fig, grid = subplots(len(protocols), 1, figsize=(7.5, 0.5 * len(runs) + 1.2 * len(protocols) + 0.6),
                         squeeze=False, sharex=True, layout="constrained")
    axes = list(grid[:, 0])
    for ax, protocol in zip(axes, protocols):
        rows = [r for r in runs if r.protocol == protocol]
        ys = range(len(rows))
        for offset, key, color, label in ((-0.2, "linkable_pair_fraction", COLORS["linkable"], "every value in clear"),
                                          (0.2, "ticket_linkable_pair_fraction", COLORS["ticket"], "tickets only")):
            values = [getattr(r, key) or 0.0 for r in rows]
            ax.barh([y + offset for y in ys], values, height=0.38, color=color, label=label)
        for y, r in zip(ys, rows):
            if r.missing:
                ax.text(0.02, y, f"missing: {r.missing.split(':')[0]}", va="center", fontsize=8, color=COLORS["none"])
            elif r.session_id_repeats:
                ax.text(min(r.linkable_pair_fraction, 1.0) + 0.02, y - 0.2, "session ID resent", va="center",
                        fontsize=7)
        ax.set_yticks(list(ys), [r.client for r in rows], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, 1.45)
        ax.set_xticks([0, 0.5, 1.0], ["0 %", "50 %", "100 %"])
        visits = max((r.visits for r in rows), default=0)
        caption = f"{protocol.replace('TLS', 'TLS ')}, {visits} visits each: {_clients_caption(rows)}"
        ax.set_title(_wrap(caption, 90), fontsize=9, loc="left")
    axes[-1].set_xlabel("visit pairs an observer links (%)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=8)
    fig.suptitle(title or "Which real TLS clients a passive observer follows from visit to visit", fontsize=11)
    return fig
