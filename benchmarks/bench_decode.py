"""How fast session blobs decode: ``gnutls_lab.analysis.decode`` beside the construct schema it mirrors.

The input is a real TLS 1.3 client blob from the corpus (GnuTLS 3.8.9, ``tls13_client``: 867
bytes with one certificate, OCSP slot, 230-byte ticket and a SHA-384 resumption secret), read once
before timing. Rows (``per_second`` = decodes per second on one core, best of 3 rounds):

* ``decode annotated``: ``decode(blob)``, recording every field's byte range (target >= 2,000/s);
* ``decode plain``: ``decode(blob, annotate=False)`` (target >= 15,000/s);
* ``construct SessionBlob.parse``: the interpreted schema, for comparison (no target).

The fast path is a hand-written reader (``gnutls_lab/_blob_reader.py``) that tests prove equal to the
interpreted schema on the whole corpus and on generated sessions (``tests/test_decode.py``).

Usage: python benchmarks/bench_decode.py [--seconds 1]
"""

from __future__ import annotations

import argparse
import os

from _timing import rate as _rate  # benchmarks/ is on sys.path (run as a script or by run.py)
from gnutls_lab.analysis.decode import decode
from gnutls_lab.formats.session_blob import SessionBlob

CORPUS_BLOB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "corpus",
                           "gnutls-3.8.9_tls13_client.bin")
TARGET_ANNOTATED = 2_000
TARGET_PLAIN = 15_000


def run(seconds: float = 1.0) -> list[dict]:
    with open(CORPUS_BLOB, "rb") as handle:
        blob = handle.read()
    size = f"{len(blob)} B TLS 1.3 client blob"
    return [
        {"name": f"decode annotated (byte ranges), {size}", "per_second": _rate(lambda: decode(blob), seconds),
         "target": TARGET_ANNOTATED},
        {"name": f"decode plain, {size}", "per_second": _rate(lambda: decode(blob, annotate=False), seconds),
         "target": TARGET_PLAIN},
        {"name": f"construct SessionBlob.parse (interpreted), {size}",
         "per_second": _rate(lambda: SessionBlob.parse(blob), seconds), "target": None},
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per row (default 1)")
    args = parser.parse_args()
    rows = run(args.seconds)
    print(f"{'benchmark':<70} {'per second':>12} {'target':>8}  verdict")
    missed = 0
    for row in rows:
        target = row["target"]
        verdict = "" if target is None else ("ok" if row["per_second"] >= target else "MISSED")
        missed += verdict == "MISSED"
        print(f"{row['name']:<70} {row['per_second']:>12,.0f} {target or '':>8}  {verdict}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
