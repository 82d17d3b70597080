"""Figures of the experiments, in one style: Okabe–Ito colours, titles that state the finding, units.

Every function takes a result object of :mod:`gnutls_lab.analysis.experiments` and returns a
:class:`matplotlib.figure.Figure`; none of them shows it (no ``plt.show()``): Jupyter displays the
returned figure, scripts call ``fig.savefig(path)``. Each title is computed from the data it plots,
so it stays true when the experiment changes. Figures are closed in pyplot right after creation,
so a notebook shows each one once and long sweeps do not pile up open figures.

* :func:`plot_sweep` — success rate (Wilson 95 % intervals) and linkable pair fraction against the
  swept value (reuse limit k, ticket lifetime, forced key rotation...);
* :func:`plot_tracking` — the longest tracking period against the swept value;
* :func:`plot_compare` — several sweeps of k side by side (TLS 1.3 against TLS 1.2);
* :func:`plot_timeline` — one run: every visit in time, resumed or not, grouped by observer cluster.
"""

from __future__ import annotations

import os
import sys
from typing import Sequence

from ..errors import UsageError

__all__ = ["OKABE_ITO", "COLORS", "plot_sweep", "plot_tracking", "plot_compare", "plot_timeline", "time_unit"]

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
_PROTOCOL = {"tls13-psk": "TLS 1.3", "tls12-ticket": "TLS 1.2 ticket", "tls12-session-id": "TLS 1.2 session ID"}
_CREDENTIAL = {"tls13-psk": "a TLS 1.3 ticket", "tls12-ticket": "a TLS 1.2 ticket",
               "tls12-session-id": "a TLS 1.2 session ID"}


def _new_figure(ncols: int = 1, width: float = 5.0, height: float = 3.6):
    """A pyplot figure, closed at once: shown once by Jupyter as a return value, never leaked."""
    import matplotlib

    headless = (sys.platform.startswith("linux") and not os.environ.get("DISPLAY")
                and not os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("MPLBACKEND"))
    if headless and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False, layout="constrained")
    plt.close(fig)
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
    rates = [s["success_rate"] for s in summaries]
    points = [(x, s) for x, s in zip(xs, summaries) if s["success_rate"] is not None]
    if points:
        px, ps = zip(*points)
        y = [s["success_rate"] for s in ps]
        err = [[s["success_rate"] - s["success_low"] for s in ps], [s["success_high"] - s["success_rate"] for s in ps]]
        ax.errorbar(px, y, yerr=err, fmt="o-", color=color, capsize=4, label=label)
    for x, s in zip(xs, summaries):
        if s["attempts"] and annotate:
            ax.annotate(f"{s['resumed']}/{s['attempts']}", (x, s["success_rate"]), textcoords="offset points",
                        xytext=(0, 8), ha="center", fontsize=8, color=color)
    ax.set_ylim(-0.05, 1.1)
    ax.set_ylabel("resumption success rate (fraction of attempts)")
    return rates


def _style(ax, xs, labels, xlabel):
    ax.set_xticks(xs)
    ax.set_xticklabels(labels)
    ax.set_xlabel(xlabel)
    ax.grid(True, alpha=0.3)


def _sweep_title(sweep) -> str:
    summaries = sweep.records()
    first, last = summaries[0], summaries[-1]
    protocol = _PROTOCOL[sweep.results[0].config.mechanism]
    name = {"max_reuse": "k", "lifetime": "lifetime", "rotate_every": "rotation"}.get(sweep.parameter, sweep.parameter)
    v0, v1 = (_value_label(sweep.parameter, v).replace("\n", " ") for v in (sweep.values[0], sweep.values[-1]))
    rates = [s["success_rate"] for s in summaries if s["success_rate"] is not None]
    if rates and min(rates) == 1.0:
        success = "every resumption attempt succeeded"
    elif rates and min(rates) == max(rates):
        success = f"resumption succeeded {min(rates):.0%} of the time"
    elif rates:
        success = f"resumption succeeded {min(rates):.0%}–{max(rates):.0%} of the time"
    else:
        success = "no resumption was attempted"
    by_ticket = ("by ticket", first["ticket_linkable_pair_fraction"], last["ticket_linkable_pair_fraction"])
    by_all = ("with every value in clear (session IDs too)", first["linkable_pair_fraction"],
              last["linkable_pair_fraction"])
    # lead with the evidence that moves (tickets, unless they never link, as with session IDs)
    primary, other = (by_ticket, by_all) if by_ticket[1:] != (0.0, 0.0) else (by_all, by_ticket)
    label, p0, p1 = primary
    if sweep.parameter == "max_reuse" and p1 > p0:
        credential = _CREDENTIAL[sweep.results[0].config.mechanism]
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
    protocol = _PROTOCOL[sweep.results[0].config.mechanism]
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
    labels = list(labels) if labels else [_PROTOCOL[s.results[0].config.mechanism] for s in sweeps]
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


def plot_timeline(result, title: str | None = None):
    """One run: each visit at its time, one row per observer cluster (largest first); filled blue =
    resumed, hollow vermillion = resumption refused, grey = no attempt; lines join linked visits."""
    fig, (ax,) = _new_figure(1, width=8.0, height=3.8)
    rows = result.records()
    summary = result.summary()
    divisor, unit = time_unit(max(summary["duration_seconds"], 1.0))
    clusters = sorted(result.linkage.clusters, key=lambda c: (-len(c), c[0]))
    row_of = {visit: i for i, cluster in enumerate(clusters) for visit in cluster}
    for i, cluster in enumerate(clusters):
        if len(cluster) > 1:
            ax.plot([rows[v]["time_s"] / divisor for v in cluster], [i] * len(cluster), "-",
                    color=COLORS["linkable"], alpha=0.35, lw=1)
    groups = (("resumed", lambda r: r["resumed"], dict(color=COLORS["success"])),
              ("attempt refused", lambda r: r["attempted"] and not r["resumed"],
               dict(facecolors="none", edgecolors=COLORS["full"])),
              ("no attempt (full)", lambda r: not r["attempted"], dict(color=COLORS["none"])))
    for label, keep, style in groups:
        chosen = [r for r in rows if keep(r)]
        if chosen:
            ax.scatter([r["time_s"] / divisor for r in chosen], [row_of[r["visit"]] for r in chosen],
                       s=28, label=label, zorder=3, **style)
    ax.invert_yaxis()
    ax.set_xlabel(f"time since the first visit ({unit})")
    ax.set_ylabel("observer cluster (largest first)")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, alpha=0.3)
    protocol = _PROTOCOL[result.config.mechanism]
    auto = (f"{protocol}, k = {result.config.reuse_label}: the observer groups {summary['visits']} visits into "
            f"{len(clusters)} clusters and follows one client for {summary['max_tracking_seconds'] / divisor:.3g} {unit}")
    ax.set_title(title or _wrap(auto, 90), fontsize=11)
    return fig


def _wrap(text: str, width: int = 100) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))
