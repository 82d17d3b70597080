"""How fast the passive observer reads wire taps, beside the construct schemas it mirrors.

Taps come from real libgnutls handshakes through ``gnutls_lab.Lab`` (made once, before timing).
All rows are timed in interleaved rounds (``_timing.py``); ``per_second`` is the median, ``spread``
its min-max and IQR. Rows:

* ``observe_connection <mode>``: connections observed per second (fast path), one tap per mode;
* ``Observer.add 1000 visits + linkage``: visits per second through linking and the metrics, on 1,000
  observed TLS 1.3 resumptions (each with the previous visit's ticket);
* ``construct ClientHello+ServerHello parse``: the same two hellos through the schemas in
  ``formats/wire.py``, to show why the observer has a fast path.

The floor is 5,000 connections per second (200 µs each), so that 1,000 visits with the observer on
stay well under a second with their handshakes (``bench_experiment.py``).

Usage: python benchmarks/bench_observer.py [--seconds 1]
"""

from __future__ import annotations

import argparse

import _timing  # benchmarks/ is on sys.path (run as a script or by run.py)
from gnutls_lab import Lab
from gnutls_lab.formats import _wire as wire
from gnutls_lab.analysis import Observer
from gnutls_lab import observe_connection


OBSERVE_TARGET = 5000  # connections/s: under 200 µs each (see above)


def _taps() -> dict:
    taps = {}
    for preset in ("1.3", "1.2"):
        lab = Lab(preset)
        full = lab.connect(observe=True)
        resumed = lab.connect(resume=full.session_data, observe=True)
        assert resumed.resumed, f"TLS {preset} did not resume"
        taps[f"TLS {preset} full"] = full.wire
        taps[f"TLS {preset} resumed"] = resumed.wire
    return taps


def run(seconds: float = 1.0) -> list:
    taps = _taps()
    lab = Lab("1.3")
    visits = [lab.connect(observe=True)]
    for _ in range(999):
        visits.append(lab.connect(resume=visits[-1].session_data, observe=True))
    observed = [observe_connection(v.wire, time=60.0 * i) for i, v in enumerate(visits)]

    def link_all():
        observer = Observer()
        for conn in observed:
            observer.add(conn)
        observer.linkage().as_dict()

    hellos = observe_connection(taps["TLS 1.3 resumed"])
    client_body, server_body = hellos.client_hello.body, hellos.server_hello.body
    functions = {f"observe_connection {mode}": (lambda tap=tap: observe_connection(tap)) for mode, tap in taps.items()}
    functions["Observer.add 1000 visits + linkage"] = link_all
    functions["construct ClientHello+ServerHello parse"] = lambda: (wire.ClientHello.parse(client_body),
                                                                     wire.ServerHello.parse(server_body))
    samples = _timing.interleaved(functions, seconds)
    rows = []
    for name, values in samples.items():
        if name.startswith("observe_connection"):
            rows.append(_timing.row(name, values, OBSERVE_TARGET))
        elif name.startswith("Observer.add"):
            rows.append(_timing.row(name, values, scale=1000))  # visits per second
        else:
            rows.append(_timing.row(name, values))
    return rows


def target_text(row: dict) -> str:
    return "" if row["target"] is None else f"(target {row['target']:,}/s) "


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="total time (default 3)")
    args = parser.parse_args(argv)
    missed = 0
    for row in run(args.seconds):
        per_second = row["per_second"]
        verdict = "" if row["target"] is None else ("ok" if per_second >= row["target"] else "MISSED")
        missed += verdict == "MISSED"
        print(f"{row['name']:<45} {_timing.describe(row['spread'])}/s  {1e6 / per_second:8.1f} µs each "
              f"{target_text(row)}{verdict}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
