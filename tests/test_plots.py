"""Figures from real experiments: one style, titles computed from the data, units on every axis."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from gnutls_lab import UsageError
from gnutls_lab.faces import _plots as plots
from gnutls_lab.analysis._experiments import run_experiment, sweep, sweep_reuse

QUIET = {"progress": False}


@pytest.fixture(scope="module")
def tls13():
    return sweep_reuse((1, 2, None), visits=8, gap=300, **QUIET)


@pytest.fixture(scope="module")
def tls12():
    return sweep_reuse((1, 2, None), mechanism="tls12-ticket", visits=8, gap=300, **QUIET)


def all_axes_labelled(fig):
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel(), ax


def line_colors(fig):
    return {to_hex(line.get_color()).upper() for ax in fig.axes for line in ax.get_lines()}


def test_sweep_figure_states_its_finding_from_the_data(tls13):
    fig = plots.plot_sweep(tls13)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    title = fig._suptitle.get_text().replace("\n", " ")
    first, last = tls13.records()[0], tls13.records()[-1]
    assert f"{first['ticket_linkable_pair_fraction']:.0%} → {last['ticket_linkable_pair_fraction']:.0%}" in title
    assert "every resumption attempt succeeded" in title
    all_axes_labelled(fig)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["1", "2", "∞"]
    assert line_colors(fig) <= {c.upper() for c in plots.OKABE_ITO.values()}


def test_lifetime_sweep_title_and_units():
    result = sweep("lifetime", [300, 1200], mechanism="tls12-ticket", max_reuse=None, visits=6, gap=400, **QUIET)
    fig = plots.plot_sweep(result)
    assert "lifetime 300 → 1200" in fig._suptitle.get_text().replace("\n", " ")
    assert fig.axes[0].get_xlabel() == "ticket lifetime (s)"
    rates = [s["success_rate"] for s in result.records()]
    assert rates[0] < rates[1]  # a longer lifetime resumes more of the 400 s-apart visits


def test_tracking_figure_uses_a_readable_unit(tls13):
    fig = plots.plot_tracking(tls13)
    assert fig.axes[0].get_ylabel() == "longest tracking period (min)"  # 8 visits × 300 s = 35 min
    assert "up to 35 min" in fig.axes[0].get_title().replace("\n", " ")


def test_compare_puts_both_protocols_in_one_figure(tls13, tls12):
    fig = plots.plot_compare([tls13, tls12])
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert any(label.startswith("TLS 1.3") for label in labels)
    assert any(label.startswith("TLS 1.2 ticket") for label in labels)
    title = fig._suptitle.get_text().replace("\n", " ")
    assert "TLS 1.3 100% (0% by ticket)" in title  # GnuTLS repeats the legacy_session_id
    with pytest.raises(UsageError):
        plots.plot_compare([])


def test_timeline_and_files(tmp_path):
    result = run_experiment(mechanism="tls12-ticket", visits=6, max_reuse=1, gap=60, **QUIET)
    fig = plots.plot_timeline(result)
    assert "into 3 groups" in fig.axes[0].get_title()  # TLS 1.2, k = 1: a ticket links its issue and its use
    assert fig.axes[0].get_xlabel().startswith("time since the first visit")
    for suffix in ("png", "svg"):
        path = tmp_path / f"timeline.{suffix}"
        fig.savefig(path)
        assert path.stat().st_size > 1000


def test_figures_are_not_left_open_in_pyplot(tls13):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plots.plot_sweep(tls13)
    assert plt.get_fignums() == before


def test_time_unit():
    assert plots.time_unit(90) == (1, "s")
    assert plots.time_unit(600) == (60, "min")
    assert plots.time_unit(3 * 3600) == (3600, "h")
    assert plots.time_unit(5 * 86400) == (86400, "days")


def test_headless_processes_get_the_agg_backend():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")}
    code = ("import matplotlib; from gnutls_lab.faces import _plots as plots; plots.subplots(); "
            "print(matplotlib.get_backend().lower())")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "agg"


def test_session_id_sweep_leads_with_the_evidence_that_moves():
    result = sweep_reuse((1, None), mechanism="tls12-session-id", visits=6, gap=300, **QUIET)
    title = plots.plot_sweep(result)._suptitle.get_text().replace("\n", " ")
    assert title.startswith("Reusing a TLS 1.2 session ID up to k times links more visits")
    assert "by ticket: 0% → 0%" in title


def test_timeline_draws_one_arc_per_link_and_says_one_group_in_the_singular():
    linked = run_experiment(visits=5, max_reuse=1, gap=60, **QUIET)  # the legacy_session_id links every visit
    fig = plots.plot_timeline(linked)
    title = fig.axes[0].get_title()
    assert "into 1 group " in title and "100% of 5 visits" in title
    assert len(fig.axes[0].lines) == len(linked.linkage.links) == 4
    assert fig.axes[0].get_yticks().size == 0  # no meaningless y axis


def test_links_compares_policies_on_one_time_axis():
    on = run_experiment(visits=5, max_reuse=1, gap=60, **QUIET)
    off = run_experiment(visits=5, max_reuse=1, gap=60, compat_mode=False, **QUIET)
    fig = plots.plot_links([on, off], ["compat mode on", "compat mode off"])
    assert len(fig.axes) == 2 and len(fig.axes[1].lines) == 0
    assert "links none" in fig.axes[1].get_title(loc="left")
    assert fig.axes[0].get_title(loc="left").startswith("compat mode on")
    with pytest.raises(UsageError):
        plots.plot_links([on], ["one", "two"])


def test_mechanisms_picture_names_who_keeps_what():
    fig = plots.plot_mechanisms()
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert [ax.get_title() for ax in fig.axes] == ["TLS 1.2 session ID", "TLS 1.2 ticket (RFC 5077)",
                                                   "TLS 1.3 PSK (RFC 8446 4.6.1)"]
    assert sum("server keeps" == t for t in texts) == 3 and any("session cache" in t for t in texts)


def test_key_timeline_bars_end_at_expiry_and_at_a_forced_rotation():
    lifetime, period = 600, 1800
    issued = [10 * period + 100.0, 10 * period + 1700.0]
    fig = plots.plot_key_timeline(lifetime, issued, start=10 * period)
    bars = sorted((round(p.get_x() * 60), round(p.get_width() * 60)) for p in fig.axes[0].patches
                  if round(p.get_height(), 6) == 0.25)  # minutes back to seconds
    assert (100, 600) in bars and (1700, 600) in bars  # alive for one lifetime
    assert (100, 2 * period - 100) in bars  # its key: its own period and the next
    rotated = plots.plot_key_timeline(lifetime, issued, rotation=10 * period + 1800.0, start=10 * period)
    widths = sorted(round(p.get_width() * 60) for p in rotated.axes[0].patches if round(p.get_height(), 6) == 0.25)
    assert 100 in widths  # the second ticket dies at the rotation, 100 s after issue
    with pytest.raises(UsageError):
        plots.plot_key_timeline(0, issued)
