"""The timing helpers of the benchmark modules (bench_decode.py, bench_observer.py, bench_experiment.py, run.py).

Every figure is the **median of interleaved rounds** with its spread (min-max and the interquartile
range), never only the best run: the functions compared are timed in turn, round after round
(A, B, C, A, B, C, ...), so a burst of load elsewhere on a shared machine lands on all of them, and
a ratio is the median of the per-round ratios of paired rounds.
"""

from __future__ import annotations

import statistics
import time

ROUNDS = 7


def _rate_once(function, seconds: float) -> float:
    count, start = 0, time.perf_counter()
    while True:
        function()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count / elapsed


def interleaved(functions: dict, seconds: float, rounds: int = ROUNDS) -> dict:
    """Calls per second of each function, one sample per round; ``seconds`` is the whole budget."""
    share = seconds / (rounds * len(functions))
    for function in functions.values():  # warm up (imports, caches)
        function()
    samples: dict = {name: [] for name in functions}
    for _ in range(rounds):
        for name, function in functions.items():
            samples[name].append(_rate_once(function, share))
    return samples


def spread(samples: list) -> dict:
    """Median, min, max and interquartile range of a list of samples."""
    ordered = sorted(samples)
    if len(ordered) >= 2:
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        q1 = q3 = ordered[0]
    return {"median": statistics.median(ordered), "min": ordered[0], "max": ordered[-1], "q1": q1, "q3": q3,
            "rounds": len(ordered)}


def ratio(numerator: list, denominator: list) -> dict:
    """Spread of the per-round ratios of two paired sample lists."""
    return spread([a / b for a, b in zip(numerator, denominator) if b])


def row(name: str, samples: list, target=None, scale: float = 1.0, **extra) -> dict:
    """A benchmark row: ``per_second`` is the median; ``spread`` holds min/max/IQR (all times ``scale``)."""
    figures = {k: (v * scale if k != "rounds" else v) for k, v in spread(samples).items()}
    return {"name": name, "per_second": figures["median"], "target": target, "spread": figures, **extra}


def describe(figures: dict) -> str:
    """``median (min-max, IQR q1-q3, n rounds)`` for printing."""
    return (f"{figures['median']:,.0f} (min-max {figures['min']:,.0f}-{figures['max']:,.0f}, "
            f"IQR {figures['q1']:,.0f}-{figures['q3']:,.0f}, {figures['rounds']} rounds)")


def describe_seconds(figures: dict, what: str = "rounds") -> str:
    """``median S s (min-max, IQR, n what)`` of a spread of durations, for printing."""
    return (f"median {figures['median']:.3f} s (min-max {figures['min']:.3f}-{figures['max']:.3f}, "
            f"IQR {figures['q1']:.3f}-{figures['q3']:.3f}, {figures['rounds']} {what})")


def rate(function, seconds: float, rounds: int = ROUNDS) -> float:
    """Median calls per second of one function over ``rounds`` rounds (kept for older callers)."""
    return spread(interleaved({"f": function}, seconds, rounds)["f"])["median"]
