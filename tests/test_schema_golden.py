"""The schemas themselves, on every captured blob: round trip, byte map and golden trees.

- Every file of ``data/corpus`` (sessions of GnuTLS 3.7.9, 3.8.9 and 3.8.13, and their ticket envelopes
  with the states they decrypt to) parses and builds back byte-identically, also with every length and
  count left for the schema to recompute, and the fields of that one parse cover each byte exactly once.
- A handful of blobs per version decode to the golden trees of ``tests/data/golden/`` (readable JSON with
  each field's byte range; ``tests/make_golden.py`` writes them and says what they hold).
- Plain and annotated decodes run the construct schema (construct's ``parse_stream`` and the fields of
  ``formats/_layout.py``), and no other reader.

The refusal contract on mutated blobs (a ``BlobFormatError`` naming a field path and an offset inside the
blob, never another exception) is in ``tests/test_decode.py``.
"""

from __future__ import annotations

import os
import sys

import make_golden
import pytest

from blob_fixtures import DATA, corpus
from gnutls_lab.analysis._decode import decode
from gnutls_lab.analysis._ticket_keys import decrypt_ticket
from gnutls_lab.errors import BlobFormatError
from gnutls_lab.formats import parse_envelope, parse_session, parse_span
from gnutls_lab.formats._session_blob import SessionBlob
from gnutls_lab.formats._ticket import TicketEnvelope, Tls12TicketState, Tls13TicketState

CORPUS = corpus()
#: Keys the schemas rebuild from the content (lengths of sections and entries, counts of lists).
REBUILT = {"length", "count", "ncerts", "nocsp", "sign_algorithms_size", "profiles_size", "encrypted_state_len"}


def _without_rebuilt(value):
    if isinstance(value, dict):
        return {key: _without_rebuilt(item) for key, item in value.items() if key not in REBUILT}
    if isinstance(value, list):
        return [_without_rebuilt(item) for item in value]
    return value


def _assert_each_byte_in_one_field(fields: list, size: int) -> None:
    """The leaves of a parse (a fixed-size group is recorded whole with None, then its parts) tile [0, size)."""
    leaves = sorted((start, end, path) for path, start, end, value in fields if value is not None)
    at = 0
    for start, end, path in leaves:
        assert start == at, f"{path} starts at {start}, the field before it ends at {at}"
        assert end >= start, path
        at = end
    assert at == size, f"the fields end at {at}, the input at {size}"


def test_the_corpus_is_what_the_manifest_lists():
    on_disk = sorted(n for n in os.listdir(DATA) if n.endswith(".bin"))
    assert on_disk == [name for name, _, _ in CORPUS]
    versions = {entry["gnutls_version"] for _, entry, _ in CORPUS}
    assert versions == set(make_golden.VERSIONS)


@pytest.mark.parametrize("name,entry,data", CORPUS, ids=[c[0] for c in CORPUS])
def test_corpus_file_parses_and_rebuilds_byte_identically(name, entry, data):
    fields: list = []
    if entry["kind"] == "ticket":
        schema, tree = TicketEnvelope, parse_envelope(data, fields, root="")
    elif decode(data).dummy:
        # the 4-byte dummy is no packed session: the decoder names it, the schema refuses its magic
        with pytest.raises(BlobFormatError) as info:
            SessionBlob.parse(data)
        assert (info.value.path, info.value.offset) == ("magic", 0)
        assert decode(data).to_bytes() == data
        return
    else:
        schema, tree = SessionBlob, parse_session(data, fields)
    assert schema.parse(data) == tree
    assert schema.build(tree) == data
    assert schema.build(_without_rebuilt(tree)) == data
    _assert_each_byte_in_one_field(fields, len(data))


TICKETS = [c for c in CORPUS if c[1]["kind"] == "ticket"]


@pytest.mark.parametrize("name,entry,ticket", TICKETS, ids=[c[0] for c in TICKETS])
def test_decrypted_ticket_state_rebuilds_byte_identically(name, entry, ticket):
    plaintext = decrypt_ticket(ticket, bytes.fromhex(entry["ticket_key"])).plaintext
    schema = Tls13TicketState if entry["protocol"] == "TLS1.3" else Tls12TicketState
    fields: list = []
    tree = parse_span(schema, plaintext, fields)
    assert schema.build(tree) == plaintext
    assert schema.build(_without_rebuilt(tree)) == plaintext
    _assert_each_byte_in_one_field(fields, len(plaintext))


GOLDEN = make_golden.file_names()


def test_golden_files_cover_each_version():
    on_disk = sorted(n for n in os.listdir(make_golden.GOLDEN) if n.endswith(".json"))
    assert on_disk == sorted(n.replace(".bin", ".json") for n in GOLDEN)
    for version in make_golden.VERSIONS:
        assert sum(n.startswith(f"gnutls-{version}_") for n in GOLDEN) == len(make_golden.CASES) >= 6


@pytest.mark.parametrize("name", GOLDEN)
def test_blob_decodes_to_its_golden_tree(name):
    golden = make_golden.load(name)
    now = make_golden.answer(name)
    assert (now["size"], now["sha256"]) == (golden["size"], golden["sha256"]), "the corpus file changed"
    for row_now, row_golden in zip(now["fields"], golden["fields"]):
        assert row_now == row_golden
    assert len(now["fields"]) == len(golden["fields"])
    assert now["tree"] == golden["tree"]


def test_golden_tree_values_are_the_bytes_at_their_ranges():
    """The byte ranges of a golden file point at the values it shows (read back from the corpus file)."""
    for name in GOLDEN:
        golden = make_golden.load(name)
        with open(os.path.join(DATA, name), "rb") as handle:
            data = handle.read()
        for path, start, end, value in golden["fields"]:
            raw = data[start:end]
            if isinstance(value, int):
                assert int.from_bytes(raw, "big") == value, (name, path)
            elif isinstance(value, str) and " bytes, sha256 " not in value:
                assert raw.endswith(bytes.fromhex(value)) and len(raw) - len(value) // 2 in (0, 1, 2, 4), (name, path)


def _functions_run(call) -> set:
    """(file name, function name) of every Python function that ran during ``call()``."""
    seen: set = set()

    def profile(frame, event, arg):
        if event == "call":
            seen.add((frame.f_code.co_filename.replace(os.sep, "/"), frame.f_code.co_name))

    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
    return seen


@pytest.mark.parametrize("annotate", [False, True])
def test_decoding_runs_the_construct_schema(annotate):
    blob = next(data for name, _, data in CORPUS if name == "gnutls-3.8.9_tls13_client.bin")
    ran = _functions_run(lambda: decode(blob, annotate=annotate))
    assert any(f.endswith("construct/core.py") and name == "parse_stream" for f, name in ran)
    layout = {name for f, name in ran if f.endswith("gnutls_lab/formats/_layout.py")}
    assert {"_parse", "parse_span"} <= layout
    modules = {"/".join(f.rsplit("/", 2)[-2:]) for f, _ in ran if "/gnutls_lab/" in f}
    # in the package only the formats layer's schemas and the decoder itself run: no other reader of the bytes
    # (binding/_library.py runs only exact_bytes, which copies the input whatever its type pretends)
    assert "formats/_layout.py" in modules and "analysis/_decode.py" in modules
    assert modules <= {"formats/_layout.py", "formats/_session_blob.py", "formats/_ticket.py", "analysis/_decode.py",
                       "analysis/_secrets.py", "binding/_library.py"}, modules
    library_calls = {name for f, name in ran if f.endswith("gnutls_lab/binding/_library.py")}
    assert library_calls <= {"exact_bytes"}, library_calls
