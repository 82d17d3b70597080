"""How soon the experiment explorer redraws after a control moves (target: 0.3 s).

The explorer of notebook 04 (``experiment_explorer(ExperimentConfig(mechanism="tls13-psk", visits=20,
max_reuse=1, gap=600))``), driven without a browser as a participant drives it: one sample is the time
from setting a control's ``value`` to the explorer's redraw being done, that is its experiment re-run
(real in-process handshakes under the fake clock), the figure drawn and its PNG in the ``Image`` widget
(what the browser then shows as it is). The browser's own part (sending the PNG over the kernel's
websocket, painting it) is not in it.

A round moves every control once, in turn, to its other value, in the "this run" view and then in the
"sweep over k" view, and switches the views; the next round moves each back, so rounds come in pairs
(there and back) and a burst of load elsewhere lands on every control. Rows (each sample one redraw):

* a control moved in the ``this run`` view (mechanism, reuse k, lifetime, key rotation, visits, gap,
  compatibility mode): one run of 20 visits re-run and drawn;
* the same controls in the ``sweep over k`` view: 5 runs (k = 1, 2, 3, 5, unlimited) re-run and drawn;
* each view switch: this run → sweep over k (5 runs), sweep → tracking period (the same sweep, drawn
  again, not re-run), tracking period → this run.

Each row: the median seconds per redraw over all its samples, min-max and IQR; ``per_second`` is
redraws per second at the median. ``run(seconds=1.0) -> list[dict]`` for ``benchmarks/run.py``.

Usage: python benchmarks/bench_explorer.py [--seconds S] [--rounds N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script from a checkout: use the working tree's package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import matplotlib

matplotlib.use("Agg")

from gnutls_lab import ExperimentConfig  # noqa: E402
from gnutls_lab.faces import experiment_explorer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _timing  # noqa: E402

TARGET_SECONDS = 0.3
#: control -> the value it moves to from notebook 04's setting (and back, in the next round)
MOVES = {
    "max_reuse": "unlimited",
    "lifetime": 3600,
    "rotate_every": 3600.0,
    "visits": 30,
    "gap": 3600.0,
    "compat_mode": False,
    "mechanism": "tls12-ticket",
}
VIEWS = ("sweep", "tracking", "run")


def _explorer():
    return experiment_explorer(ExperimentConfig(mechanism="tls13-psk", visits=20, max_reuse=1, gap=600))


def _redraw_seconds(explorer, control: str, value) -> float:
    widget = getattr(explorer, control)
    drawn = explorer.image.value
    started = time.perf_counter()
    widget.value = value  # the observer re-runs and redraws before this returns
    elapsed = time.perf_counter() - started
    if explorer.image.value is drawn:
        raise RuntimeError(f"moving {control} to {value!r} did not redraw the explorer")
    return elapsed


def run(seconds: float = 1.0, rounds: int = 2) -> list:
    explorer = _explorer()
    home = {control: getattr(explorer, control).value for control in MOVES}
    samples: dict = {"controls run": [], "controls sweep": [], **{view: [] for view in VIEWS}}
    deadline = time.perf_counter() + seconds
    done = 0
    while done < rounds or time.perf_counter() < deadline or done % 2:  # whole pairs
        # even rounds: "this run" moves every control there, "sweep over k" moves it back; odd rounds the
        # other way round, so each view sees both directions of every control over a pair of rounds
        order = ("run", "sweep") if done % 2 == 0 else ("sweep", "run")
        for leg, view in enumerate(order):
            if explorer.view.value != view:
                samples[view].append(_redraw_seconds(explorer, "view", view))
            for control, value in MOVES.items():
                samples[f"controls {view}"].append(
                    _redraw_seconds(explorer, control, value if leg == 0 else home[control]))
        if explorer.view.value != "sweep":
            samples["sweep"].append(_redraw_seconds(explorer, "view", "sweep"))
        samples["tracking"].append(_redraw_seconds(explorer, "view", "tracking"))
        samples["run"].append(_redraw_seconds(explorer, "view", "run"))
        done += 1
    rows = []
    for key, name in (("controls run", f"explorer: a control moved -> redrawn, 'this run' view ({len(MOVES)} controls)"),
                      ("controls sweep", f"explorer: a control moved -> redrawn, 'sweep over k' view (5 runs, "
                                         f"{len(MOVES)} controls)"),
                      ("sweep", "explorer: view -> 'sweep over k' redrawn (5 runs)"),
                      ("tracking", "explorer: view -> 'tracking period' redrawn (the same sweep, not re-run)"),
                      ("run", "explorer: view -> 'this run' redrawn (1 run)")):
        figures = _timing.spread(samples[key])
        rows.append(_timing.row(
            name, [1.0 / s for s in samples[key]], f"<= {TARGET_SECONDS:g} s per redraw",
            seconds_per_redraw=figures["median"], seconds_spread=figures,
            verdict="PASS" if figures["median"] <= TARGET_SECONDS else "MISS",
        ))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=2, help="at least this many rounds (pairs: even)")
    args = parser.parse_args(argv)
    for row in run(args.seconds, args.rounds):
        print(f"{row['name']}: {_timing.describe_seconds(row['seconds_spread'], 'redraws')} (target {row['target']}) "
              f"{row['verdict']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
