"""Coverage-guided fuzzing of the blob decoder with atheris (not collected by pytest).

Contract under test (``check_decode`` of blob_fuzz.py, the same as ``make fuzz``): for any input,
``gnutls_lab.analysis._decode.decode`` returns a session or raises ``BlobFormatError`` (with a field
path and a byte offset); a decoded session rebuilds byte-identically and its views render.
Seeds: every file of data/corpus.

    pip install atheris
    mkdir -p artifacts/fuzz-decode      # gitignored; libFuzzer writes new inputs to the FIRST dir
    python tests/fuzz/fuzz_decode.py -max_total_time=600 artifacts/fuzz-decode data/corpus

(60 s here: about 110,000 runs, no failure.)
"""

from __future__ import annotations

import os
import sys

import atheris

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
with atheris.instrument_imports():
    import gnutls_lab.analysis._decode  # noqa: F401 - imported here to be instrumented; check_decode uses them
    import gnutls_lab.faces._views  # noqa: F401
    from blob_fuzz import check_decode  # the contract, shared with `make fuzz` and tests/test_fuzz.py


def test_one_input(data: bytes) -> None:
    check_decode(data)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
