"""How fast the passive observer reads wire taps, beside the construct schemas it mirrors.

Taps come from real libgnutls handshakes through ``gnutls_lab.Lab`` (made once, before timing).
Rows (``per_second``):

* ``observe_connection <mode>``: connections observed per second (fast path), one tap per mode;
* ``Observer.add 1000 visits + linkage``: visits per second through linking and the metrics, on 1,000
  observed TLS 1.3 resumptions (each with the previous visit's ticket);
* ``construct ClientHello+ServerHello parse``: the same two hellos through the schemas in
  ``formats/wire.py``, to show why the observer has a fast path.

The issue's budget is 1,000 visits in under 2 s including handshakes (about 0.5 ms each), so
observing must stay well under 100 µs a connection (over 10,000 per second).

Usage: python benchmarks/bench_observer.py [--seconds 1]
"""

from __future__ import annotations

import argparse

from _timing import rate as _rate  # benchmarks/ is on sys.path (run as a script or by run.py)
from gnutls_lab import Lab
from gnutls_lab.formats import wire
from gnutls_lab.analysis.linkage import Observer
from gnutls_lab.analysis.observer import observe_connection


OBSERVE_TARGET = 10000  # connections/s: under 100 µs each (see above)


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
    share = seconds / (len(taps) + 2)
    rows = []
    for mode, tap in taps.items():
        rows.append({"name": f"observe_connection {mode}",
                     "per_second": round(_rate(lambda: observe_connection(tap), share), 1),
                     "target": OBSERVE_TARGET})

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

    rows.append({"name": "Observer.add 1000 visits + linkage",
                 "per_second": round(1000 * _rate(link_all, share), 1), "target": None})

    hellos = observe_connection(taps["TLS 1.3 resumed"])
    client_body, server_body = hellos.client_hello.body, hellos.server_hello.body
    rows.append({"name": "construct ClientHello+ServerHello parse",
                 "per_second": round(_rate(lambda: (wire.ClientHello.parse(client_body),
                                                    wire.ServerHello.parse(server_body)), share), 1),
                 "target": None})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args(argv)
    for row in run(args.seconds):
        per_second = row["per_second"]
        print(f"{row['name']:<45} {per_second:>12,.0f}/s  {1e6 / per_second:8.1f} µs each")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
