"""``make bench`` runs end to end: every loop builds and measures, over the C pipe.

The figures themselves are not asserted (speed is measured by ``make bench``, not by timed tests);
what is asserted is that the harness works on a clean machine: the C loop compiles against the
installed libgnutls, every loop reports a rate for every mode, each resumed mode really resumed
(a loop exits 1 otherwise, and the harness reports it as an error), and the lab loop used the C pipe.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_benchmark_harness_measures_every_loop_and_mode():
    result = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--seconds", "0.15", "--repeat", "1", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["skipped"] == {}
    assert report["machine"]["lab_pipe"].startswith("C pipe"), report["machine"]
    modes = {row["mode"]: row for row in report["handshakes"]}
    assert set(modes) == {"tls13-full", "tls13-resumed", "tls12-full", "tls12-resumed"}
    for row in modes.values():
        assert row["errors"] == {}, row
        assert all(row[impl] > 0 for impl in ("c", "ssl", "gnutls_lab")), row
        assert row["verdict"] in ("PASS", "MISS")
    observation = report["observation"]
    assert observation["errors"] == {} and observation["on_per_second"] > 0 and observation["off_per_second"] > 0
    extra = {row["name"]: row["per_second"] for row in report["extra"]}
    assert any(name.startswith("decode annotated") and rate > 0 for name, rate in extra.items()), extra
    assert any(name.startswith("experiment: 1,000 TLS 1.3 visits") and rate > 0 for name, rate in extra.items()), extra
    redraws = [row for row in report["extra"] if row["module"] == "bench_explorer"]
    assert len(redraws) == 5 and all(row["seconds_per_redraw"] > 0 and row["verdict"] in ("PASS", "MISS")
                                     for row in redraws), redraws
