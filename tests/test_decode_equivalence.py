"""The decoder answers as it did before it moved onto the construct schemas.

``tests/data/decode_equivalence.json.gz`` was recorded by ``tests/make_decode_equivalence.py``
with the previous, hand-written reader: for every corpus blob and 20,000 seeded mutations (bit
flips, truncations, rewritten length fields, trailing bytes) the JSON view, the byte ranges, the
refusal (field path, offset, message) and the preflight decision. All cases are checked here
(about 20,000 decodes). The same full check from the shell:
``.venv/bin/python tests/make_decode_equivalence.py --check``.
"""

from __future__ import annotations

import make_decode_equivalence as eq
import pytest

from gnutls_lab.analysis._decode import decode


@pytest.fixture(scope="module")
def fixture():
    return eq.load()


@pytest.fixture(scope="module")
def blobs():
    return dict(eq.corpus())


def test_the_fixture_covers_the_corpus_and_20000_mutations(fixture, blobs):
    bases = [c["base"] for c in fixture["cases"] if c["op"] is None]
    # the corpus as it was when the fixture was recorded (3.7.9 and 3.8.9); files added since are
    # covered by tests/test_decode.py
    assert set(bases) <= set(blobs) and len(bases) == 36
    assert {b.split("_")[0] for b in bases} == {"gnutls-3.7.9", "gnutls-3.8.9"}
    assert sum(c["op"] is not None for c in fixture["cases"]) >= 20_000
    kinds = {c["op"][0] for c in fixture["cases"] if c["op"]}
    assert kinds == {"flip", "trunc", "set", "append"}
    assert any("error" in c["result"] for c in fixture["cases"]) and any("tree" in c["result"] for c in fixture["cases"])


def test_every_case_decodes_as_recorded(fixture, blobs):
    changed = []
    for i, case in enumerate(fixture["cases"]):
        now = eq.record(i, case["base"], case["op"], blobs)
        if now != case["result"]:
            changed.append((i, case["base"], case["op"], case["result"], now))
    assert not changed, f"{len(changed)} cases changed; first: {changed[:3]}"


def test_parse_then_build_is_byte_identical_for_every_corpus_session(blobs):
    sessions = {name: data for name, data in blobs.items() if "ticket_envelope" not in name}
    assert len(sessions) >= 30
    for name, data in sessions.items():
        assert decode(data).to_bytes() == data, name
        assert decode(data, annotate=False).to_bytes() == data, name


def _functions_run(call) -> set:
    """(file name, function name) of every Python function that ran during ``call()``."""
    import sys

    seen: set = set()

    def profile(frame, event, arg):
        if event == "call":
            seen.add((frame.f_code.co_filename, frame.f_code.co_name))

    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
    return seen


def test_decoding_runs_the_construct_schema(blobs):
    blob = blobs["gnutls-3.7.9_tls13_client.bin"]
    decode(blob, annotate=False)  # the compiled schema is built on first use
    annotated = _functions_run(lambda: decode(blob))
    assert any(f.endswith("construct/core.py") and name == "_parse" for f, name in annotated)  # Struct, Renamed
    assert any(f.endswith("gnutls_lab/formats/_layout.py") and name == "_parse" for f, name in annotated)
    plain = _functions_run(lambda: decode(blob, annotate=False))
    assert any(name.startswith("parse_struct_") for _, name in plain)  # Struct.compile()'s generated parser
    assert any(name.startswith("parse_section_") for _, name in plain)  # our Section, compiled
