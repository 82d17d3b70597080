"""Coverage-guided fuzzing of the blob decoder with atheris (not collected by pytest).

Contract under test: for any input, ``gnutls_lab.analysis.decode.decode`` returns a session or raises
``BlobFormatError`` (with a byte offset); a decoded session rebuilds byte-identically and its
views render.
Seeds: every file of data/corpus.

    pip install atheris
    mkdir -p artifacts/fuzz-decode      # gitignored; libFuzzer writes new inputs to the FIRST dir
    python tests/fuzz/fuzz_decode.py -max_total_time=600 artifacts/fuzz-decode data/corpus

(60 s here: about 110,000 runs, no failure.)
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from gnutls_lab.analysis.decode import decode
    from gnutls_lab.errors import BlobFormatError
    from gnutls_lab.faces.views import hexdump, html_view, text_report


def test_one_input(data: bytes) -> None:
    try:
        session = decode(data)
    except BlobFormatError as exc:
        if exc.offset is None or not 0 <= exc.offset <= len(data):
            raise AssertionError(f"error without a valid offset: {exc!r}") from exc
        return
    if session.to_bytes() != data:
        raise AssertionError("decoded blob did not rebuild byte-identically")
    session.to_dict(show_secrets=True)
    text_report(session)
    hexdump(session)
    html_view(session)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
