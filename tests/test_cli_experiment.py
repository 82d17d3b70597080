"""``gnutls-lab experiment reuse`` on real handshakes: JSON shape, text table, figure files, errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gnutls_lab.faces.cli import main

REQUIRED = ("reuse_limit", "attempts", "resumed", "success_rate", "linkable_pair_fraction", "max_tracking_seconds")


def run_json(capsys, *args):
    assert main(["experiment", "reuse", "--json", *args]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # quiet with --json: no progress bar
    return json.loads(captured.out)


def test_json_has_one_result_per_k_with_the_required_fields(capsys):
    out = run_json(capsys, "--tls", "1.3", "--visits", "6", "--max-reuse", "3", "--gap", "120")
    assert [r["reuse_limit"] for r in out["results"]] == [1, 2, 3]
    for r in out["results"]:
        assert set(REQUIRED) <= set(r)
        assert r["attempts"] == 5 and r["resumed"] == 5 and r["success_rate"] == 1.0
        assert r["success_low"] < 1.0 == r["success_high"]
    assert out["results"][0]["ticket_linkable_pair_fraction"] == 0.0
    assert out["config"]["mechanism"] == "tls13-psk" and out["gnutls_version"]


def test_unlimited_is_null_and_tls12_chains(capsys):
    out = run_json(capsys, "--tls", "1.2", "--visits", "6", "--max-reuse", "1", "--unlimited", "--gap", "60")
    limited, unlimited = out["results"]
    assert limited["reuse_limit"] == 1 and unlimited["reuse_limit"] is None
    assert limited["linked_visit_fraction"] == 1.0 and limited["largest_cluster"] == 2
    assert unlimited["linkable_pair_fraction"] == 1.0 and unlimited["max_tracking_seconds"] == 300


def test_no_compat_mode_leaves_the_observer_nothing_to_link_at_k1(capsys):
    out = run_json(capsys, "--tls", "1.3", "--visits", "6", "--max-reuse", "2", "--gap", "60", "--no-compat-mode")
    assert out["config"]["compat_mode"] is False
    single, double = out["results"]
    assert single["linkable_pair_fraction"] == 0.0 and single["resumed"] == single["attempts"] == 5
    assert double["linkable_pair_fraction"] > 0.0  # a ticket shown twice still links
    default = run_json(capsys, "--tls", "1.3", "--visits", "6", "--max-reuse", "1", "--gap", "60")
    assert default["config"]["compat_mode"] is True and default["results"][0]["linkable_pair_fraction"] == 1.0


def test_lifetime_and_seed_reach_the_experiment(capsys):
    args = ("--visits", "8", "--max-reuse", "1", "--lifetime", "600", "--gaps", "exponential", "--gap", "400")
    first = run_json(capsys, *args, "--seed", "5")
    again = run_json(capsys, *args, "--seed", "5")
    assert first["results"] == again["results"]
    assert first["results"][0]["lifetime"] == 600
    assert first["results"][0]["resumed"] < first["results"][0]["attempts"]  # some gaps exceed 600 s


def test_text_table_and_plot_file(capsys, tmp_path):
    figure = tmp_path / "reuse.svg"
    assert main(["experiment", "reuse", "--visits", "4", "--max-reuse", "2", "--plot", str(figure)]) == 0
    out = capsys.readouterr().out
    assert "tls13-psk: 4 visits per run" in out and "3/3" in out
    assert figure.read_text().lstrip().startswith("<?xml") and "<svg" in figure.read_text()


@pytest.mark.parametrize("args, message", [
    (["--max-reuse", "0"], "--max-reuse must be at least 1"),
    (["--lifetime", "0"], "ticket lifetime 0 s refused"),
    (["--visits", "0"], "--visits must be at least 2"),
    (["--visits", "1"], "a single visit has nothing to resume"),
    (["--tls", "1.3", "--mechanism", "session-id"], "only with --tls 1.2"),
    (["--plot", "figure.pdf"], ".png or .svg"),
])
def test_errors_are_one_line_and_exit_2(capsys, args, message):
    assert main(["experiment", "reuse", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_the_installed_entry_point_runs_it():
    out = subprocess.run([sys.executable, "-m", "gnutls_lab", "experiment", "reuse", "--visits", "3",
                          "--max-reuse", "1", "--json"], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)["results"][0]["resumed"] == 2
    assert out.stderr == ""
