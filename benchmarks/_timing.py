"""The one timing helper of the benchmark modules (bench_decode.py, bench_observer.py)."""

from __future__ import annotations

import time


def rate(function, seconds: float, rounds: int = 3) -> float:
    """Calls per second, the best of ``rounds`` rounds sharing ``seconds`` (a shared machine's
    bursts of load elsewhere then cannot decide the figure)."""
    best = 0.0
    for _ in range(rounds):
        count, start = 0, time.perf_counter()
        while True:
            function()
            count += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds / rounds:
                break
        best = max(best, count / elapsed)
    return best
