"""How long a default ``gnutls-lab audit`` of a loopback server takes (target: 10 s apart from requested waits).

One timed run = ``audit("127.0.0.1", port)`` with the defaults (both TLS versions the server speaks,
``max_wait`` 2 s, 4 tries, no replay) against a server started beforehand on 127.0.0.1: the lab server
(TLS 1.3 and 1.2), ``gnutls-serv`` (TLS 1.3) and ``openssl s_server -www`` (TLS 1.3). The rounds are
paired (each round audits every server once, in turn); the figures are the median seconds per audit with
the spread (min-max) over the rounds, the connections it made, and each probe's connections and median
seconds. The default ``max_wait`` (2 s) is part of the default audit,
and mostly covered by the other probes; ``--max-wait`` longer than the probes adds its difference.

Usage: python benchmarks/bench_audit.py [--rounds N] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
from pathlib import Path

if __package__ in (None, ""):  # run as a script from a checkout: use the working tree's package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gnutls_lab import LabCertificate
from gnutls_lab.network import ExternalServer, LabServer, audit

TARGET_SECONDS = 10.0


def _lab_audit():
    server = LabServer(0, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", idle_timeout=0.5)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        return audit("127.0.0.1", server.port, progress=False)
    finally:
        server.stop()
        thread.join()
        server.close()


def _external_audit(kind: str, args: tuple):
    with tempfile.TemporaryDirectory() as folder:
        cert, key = LabCertificate().write_files(folder)
        with ExternalServer(kind, cert, key, "1.3", extra_args=args) as server:
            return audit("127.0.0.1", server.port, progress=False)


CASES = (
    ("lab server, TLS 1.3 and 1.2", _lab_audit),
    ("gnutls-serv, TLS 1.3", lambda: _external_audit("gnutls-serv", ())),
    ("openssl s_server -www, TLS 1.3", lambda: _external_audit("openssl", ("-www",))),
)


def run(rounds: int = 3) -> list:
    """Paired rounds: each round audits every server once, in turn, so that a busy moment of the (shared)
    machine slows every case of that round alike instead of one case's whole series."""
    reports: dict = {name: [] for name, _ in CASES}
    for _ in range(rounds):
        for name, make in CASES:
            reports[name].append(make())
    rows = []
    for name, _ in CASES:
        seconds = [r.seconds for r in reports[name]]
        median = sorted(reports[name], key=lambda r: r.seconds)[len(seconds) // 2]
        probes = []
        for probe in median.probes:  # each probe's median seconds over the rounds, its connections
            times = [p.seconds for r in reports[name] for p in r.probes if p.name == probe.name]
            probes.append(dict(probe.to_dict(), median_seconds=round(statistics.median(times), 4)))
        rows.append({"name": name, "rounds": len(seconds), "median_seconds": round(statistics.median(seconds), 2),
                     "min_seconds": round(min(seconds), 2), "max_seconds": round(max(seconds), 2),
                     "spread_seconds": round(max(seconds) - min(seconds), 2),
                     "connections": len(median.connections), "target_seconds": TARGET_SECONDS,
                     "verdict": "PASS" if statistics.median(seconds) <= TARGET_SECONDS else "MISS",
                     "probes": probes})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = run(args.rounds)
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
        return 0
    for row in rows:
        print(f"{row['name']}: {row['median_seconds']} s median of {row['rounds']} paired rounds "
              f"(spread {row['min_seconds']}-{row['max_seconds']}), {row['connections']} connections, "
              f"target {row['target_seconds']:g} s: {row['verdict']}")
        for probe in row["probes"]:
            print(f"    {probe['name']:26} {probe['connections']:3d} connections {probe['median_seconds']:6.2f} s median")
    return 0


if __name__ == "__main__":
    sys.exit(main())
