"""How fast session blobs decode: ``gnutls_lab.analysis._decode``, which parses with the construct schema.

The input is a real TLS 1.3 client blob from the corpus (GnuTLS 3.8.9, ``tls13_client``: 867
bytes with one certificate, OCSP slot, 230-byte ticket and a SHA-384 resumption secret), read once
before timing. The three rows are timed in interleaved rounds (``_timing.py``); each figure is the
median decodes per second on one core, with min-max and IQR over the rounds:

* ``decode annotated``: ``decode(blob)``: the schema, recording every field's byte range
  (target >= 2,000/s);
* ``decode plain``: ``decode(blob, annotate=False)``: the same schema, no ranges (target >= 10,000/s);
* ``construct SessionBlob.parse``: the schema alone through construct's ``parse()``, for comparison
  (no target).

Usage: python benchmarks/bench_decode.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import os

import _timing  # benchmarks/ is on sys.path (run as a script or by run.py)
from gnutls_lab.analysis import decode
from gnutls_lab.formats import SessionBlob

CORPUS_BLOB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "corpus",
                           "gnutls-3.8.9_tls13_client.bin")
TARGET_ANNOTATED = 2_000
TARGET_PLAIN = 10_000


def run(seconds: float = 1.0) -> list[dict]:
    with open(CORPUS_BLOB, "rb") as handle:
        blob = handle.read()
    size = f"{len(blob)} B TLS 1.3 client blob"
    samples = _timing.interleaved({
        "annotated": lambda: decode(blob),
        "plain": lambda: decode(blob, annotate=False),
        "schema": lambda: SessionBlob.parse(blob),
    }, seconds)
    return [
        _timing.row(f"decode annotated (byte ranges), {size}", samples["annotated"], TARGET_ANNOTATED),
        _timing.row(f"decode plain, {size}", samples["plain"], TARGET_PLAIN),
        _timing.row(f"construct SessionBlob.parse, {size}", samples["schema"]),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="total time (default 3)")
    args = parser.parse_args()
    rows = run(args.seconds)
    print(f"{'benchmark':<62} {'per second: median (spread)':<58} {'target':>8}  verdict")
    missed = 0
    for row in rows:
        target = row["target"]
        verdict = "" if target is None else ("ok" if row["per_second"] >= target else "MISSED")
        missed += verdict == "MISSED"
        print(f"{row['name']:<62} {_timing.describe(row['spread']):<58} {target or '':>8}  {verdict}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
