"""Speed of the experiment engine: 1,000 TLS 1.3 visits (mostly resumed) with the observer on in < 1 s.

One timed run = ``run_experiment(visits=1000, max_reuse=1, gap=10, progress=False)``: 1,000 real
in-process handshakes (one full, 999 resumed with a fresh ticket each time), each with the hook
transcript and wire tap on, the client reading its new tickets (``get_data2`` per ticket), and the
passive observer parsing every wire tap and linking the visits. Fake time 10 s apart, so every
ticket is inside libgnutls's default 21600 s lifetime. The TLS 1.2 ticket row (k = 1: every other
visit resumes) is for comparison; it has no target.

``run(seconds=1.0) -> list[dict]`` rows ``{"name", "per_second", "target", "spread", ...}``: the two
cases run in turn (TLS 1.3, TLS 1.2, TLS 1.3, ...) for at least 3 rounds or ``seconds``; the
figures are the median seconds per run (and visits per second) with min-max and IQR over the
rounds, for ``benchmarks/run.py``.

Usage: python benchmarks/bench_experiment.py [--seconds S] [--profile]
``--profile`` adds a cProfile of one TLS 1.3 run, its time grouped by where it goes.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script from a checkout: use the working tree's package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gnutls_lab import run_experiment

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _timing  # noqa: E402

VISITS = 1000
TARGET_SECONDS = 1.0
CASES = (
    ("experiment: 1,000 TLS 1.3 visits (k=1, 999 resumed), observer on", dict(mechanism="tls13-psk"), True),
    ("experiment: 1,000 TLS 1.2 ticket visits (k=1, 500 resumed), observer on", dict(mechanism="tls12-ticket"), False),
)


def one_run(options: dict) -> tuple:
    started = time.perf_counter()
    result = run_experiment(visits=VISITS, max_reuse=1, gap=10, progress=False, **options)
    return time.perf_counter() - started, result.summary()


def run(seconds: float = 1.0, rounds: int = 3) -> list:
    times: dict = {name: [] for name, _, _ in CASES}
    summaries: dict = {}
    deadline = time.perf_counter() + seconds
    while min(len(t) for t in times.values()) < rounds or time.perf_counter() < deadline:
        for name, options, _ in CASES:  # interleaved: a burst of load elsewhere hits both cases
            elapsed, summaries[name] = one_run(options)
            times[name].append(elapsed)
    rows = []
    for name, _, targeted in CASES:
        per_run = _timing.spread(times[name])
        rows.append(_timing.row(
            name, [VISITS / t for t in times[name]],
            f">= {VISITS / TARGET_SECONDS:.0f} visits/s ({VISITS} in < {TARGET_SECONDS:g} s)" if targeted else None,
            seconds_per_run=per_run["median"], seconds_spread=per_run, resumed=summaries[name]["resumed"],
        ))
    return rows


#: (group, test on "file:function") in order; the first match wins.
_GROUPS = (
    ("libgnutls handshake (C, inside gnutls_handshake)", lambda f: f.endswith("session.py:handshake_step")),
    ("libgnutls session setup/teardown and get_data2 (C via cffi)",
     lambda f: f.endswith(("session.py:__init__", "session.py:close", "session.py:get_data", "session.py:recv",
                           "session.py:set_data", "session.py:is_resumed", "session.py:protocol"))),
    ("callbacks from libgnutls (transport, hook, clock; Python)",
     lambda f: "_callbacks.py" in f or "transport.py" in f or "clock.py" in f or "_on_handshake_message" in f),
    ("observer: parse wire taps, link visits (Python)", lambda f: "observer.py" in f or "formats" in f),
    ("experiment engine (Python)", lambda f: "experiments.py" in f),
)


def profile() -> list:
    """(group, seconds, share) of one profiled TLS 1.3 run, by own time (tottime) per function."""
    profiler = cProfile.Profile()
    profiler.enable()
    run_experiment(visits=VISITS, max_reuse=1, gap=10, progress=False)
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    totals: dict = {}
    for (filename, _, function), (_, _, tottime, _, _) in stats.items():
        key = f"{filename}:{function}"
        group = next((g for g, match in _GROUPS if match(key)), "other (cffi glue, builtins, lab.py)")
        totals[group] = totals.get(group, 0.0) + tottime
    whole = sum(totals.values())
    return sorted(((g, t, t / whole) for g, t in totals.items()), key=lambda row: -row[1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    for row in run(args.seconds):
        verdict = ""
        if row["target"]:
            verdict = "PASS" if row["seconds_per_run"] < TARGET_SECONDS else "MISS"
        t = row["seconds_spread"]
        print(f"{row['name']}: median {t['median']:.3f} s per run (min-max {t['min']:.3f}-{t['max']:.3f}, "
              f"IQR {t['q1']:.3f}-{t['q3']:.3f}, {t['rounds']} runs), {row['per_second']:.0f} visits/s, "
              f"{row['resumed']} resumed (target {row['target'] or 'none'}) {verdict}")
    if args.profile:
        print("\nwhere one profiled TLS 1.3 run spends its time (cProfile adds overhead to Python code):")
        for group, seconds, share in profile():
            print(f"  {share:6.1%}  {seconds:6.3f} s  {group}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
