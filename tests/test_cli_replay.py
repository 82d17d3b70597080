"""``gnutls-lab experiment replay`` on real handshakes: JSON shape, text output, errors."""

from __future__ import annotations

import json
import subprocess
import sys

from gnutls_lab import library_info
from gnutls_lab.faces.cli import main

FIELDS = ("anti_replay", "window", "first_accepted", "replay_accepted", "early_data_bytes")
CLOCK_DRIVES_ANTI_REPLAY = library_info().version_tuple >= (3, 8, 1)


def run_json(capsys, *args):
    assert main(["experiment", "replay", "--json", *args]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return json.loads(captured.out)


def test_json_lists_the_cases_with_the_required_fields(capsys):
    out = run_json(capsys)
    assert out["experiment"] == "replay" and out["gnutls_version"] == library_info().version
    assert out["window"] == 10.0 and out["clock_drives_anti_replay"] is CLOCK_DRIVES_ANTI_REPLAY
    cases = {c["case"]: c for c in out["cases"]}
    for case in cases.values():
        assert set(FIELDS) <= set(case)
        assert isinstance(case["anti_replay"], bool) and case["window"] == 10.0
        assert case["early_data_bytes"] > 0
    assert not cases["no anti-replay context"]["first_accepted"]
    forgetful = cases["store that forgets"]
    assert forgetful["first_accepted"] and forgetful["replay_accepted"] and not forgetful["anti_replay"]
    once = cases["replay at once"]
    assert once["anti_replay"] and once["first_accepted"] and not once["replay_accepted"]
    assert cases["replay across a period rollover"]["replay_accepted"] is CLOCK_DRIVES_ANTI_REPLAY


def test_the_window_reaches_the_cases(capsys):
    out = run_json(capsys, "--window", "4")
    assert {c["window"] for c in out["cases"]} == {4.0}
    late = next(c for c in out["cases"] if c["case"] == "replay after the window")
    assert late["replay_after"] == 5.0 and not late["replay_accepted"]


def test_text_output_is_a_readable_table(capsys):
    assert main(["experiment", "replay", "--window", "5"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("0-RTT replay, anti-replay window 5 s, GnuTLS ")
    assert "replay at once" in out and "GNUTLS_E_DB_ENTRY_EXISTS" in out
    assert "Traceback" not in out


def test_a_bad_window_is_one_line_and_exit_2():
    for bad in ("0.5", "-3", "abc"):
        proc = subprocess.run([sys.executable, "-m", "gnutls_lab", "experiment", "replay", "--window", bad],
                              capture_output=True, text=True)
        assert proc.returncode == 2, bad
        assert proc.stdout == "" and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) <= 2  # argparse: usage line + error line
    proc = subprocess.run([sys.executable, "-m", "gnutls_lab", "experiment", "replay", "--window", "0.5"],
                          capture_output=True, text=True)
    assert proc.stderr.strip() == ("gnutls-lab experiment: error: --window must be between 1 and 3600 seconds "
                                   "(got 0.5)")


def test_replay_is_listed_under_experiment(capsys):
    proc = subprocess.run([sys.executable, "-m", "gnutls_lab", "experiment", "--help"], capture_output=True, text=True)
    assert "replay" in proc.stdout and "reuse" in proc.stdout


def test_real_clock_mode_shows_the_rollover_on_every_version(capsys):
    out = run_json(capsys, "--real-clock")
    assert out["clock"] == "real" and out["window"] == 1.0
    cases = {c["case"]: c for c in out["cases"]}
    assert {c["clock"] for c in cases.values()} == {"real"}
    assert cases["replay across a period rollover"]["replay_accepted"] is True
    assert cases["replay at once"]["replay_accepted"] is False


def test_real_clock_window_limits_are_one_line_and_exit_2():
    proc = subprocess.run([sys.executable, "-m", "gnutls_lab", "experiment", "replay", "--real-clock", "--window", "20"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == ("gnutls-lab experiment: error: --window must be between 0.5 and 10 seconds with "
                                   "--real-clock (got 20)")
