"""Write (or check) the golden decoded trees in tests/data/golden/: what the schemas answer for a few corpus blobs.

For a handful of blobs of each captured GnuTLS version (``CASES`` of 3.7.9, 3.8.9 and 3.8.13; the corpus
holds no blob of an older layout), one JSON file holds the schema's parse of the file in ``data/corpus``:

- ``tree``: the parse tree of :data:`~gnutls_lab.formats.SessionBlob` (or of the ticket envelope);
- ``fields``: every field the same parse recorded, in order, as ``[path, start, end, value]`` with the
  half-open byte range ``[start, end)`` in the file (a fixed-size group such as ``tls13.arrival_time`` is
  recorded whole with the value ``null``, then its parts).

Integers stay numbers; bytes are hex, or past 64 bytes (certificates, tickets, DH primes) their size and
SHA-256 (``"440 bytes, sha256 5b0c..."``); the round-trip test checks those bytes whole.

    python tests/make_golden.py           # rewrite the files (after a deliberate schema change: review the diff)
    python tests/make_golden.py --check   # compare them with what the schemas answer now

``tests/test_schema_golden.py`` runs the comparison.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(os.path.dirname(HERE), "data", "corpus")
GOLDEN = os.path.join(HERE, "data", "golden")
VERSIONS = ("3.7.9", "3.8.9", "3.8.13")
#: Per version: TLS 1.3 clients (certificate with its OCSP slot and ticket, the resumed session, PSK auth
#: info); TLS 1.2 with a ticket (extension 13), a session ID server (its extensions), PSK and anonymous DH
#: auth info; and the envelope of a TLS 1.3 ticket. (A TLS 1.3 server's blob is the 4-byte dummy.)
CASES = ("tls13_client", "tls13_resumed_client", "tls13_psk_client", "tls12_ticket_client", "tls12_sessionid_server",
         "tls12_psk_client", "tls12_anon_dh_client", "tls13_ticket_envelope")
SHOWN_BYTES = 64


def file_names() -> list[str]:
    return [f"gnutls-{version}_{case}.bin" for version in VERSIONS for case in CASES]


def shown(value):
    """A parse value as readable JSON: bytes as hex (or size and digest), dicts and lists alike."""
    if isinstance(value, (bytes, bytearray)):
        if len(value) <= SHOWN_BYTES:
            return bytes(value).hex()
        return f"{len(value)} bytes, sha256 {hashlib.sha256(value).hexdigest()}"
    if isinstance(value, dict):
        return {key: shown(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shown(item) for item in value]
    return value


def answer(name: str) -> dict:
    """What the schemas answer now for corpus file ``name``."""
    from gnutls_lab.formats import parse_envelope, parse_session

    with open(os.path.join(CORPUS, name), "rb") as handle:
        data = handle.read()
    fields: list = []
    if name.endswith("_ticket_envelope.bin"):
        schema, tree = "TicketEnvelope", parse_envelope(data, fields)
    else:
        schema, tree = "SessionBlob", parse_session(data, fields)
    return {
        "file": name,
        "schema": schema,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "tree": shown(tree),
        "fields": [[path, start, end, shown(value)] for path, start, end, value in fields],
    }


def _tree_text(value, indent: str) -> str:
    """Indented JSON, with lists of numbers and strings kept on one line."""
    inner = indent + "  "
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(key)}: {_tree_text(item, inner)}" for key, item in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    if isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
        items = [f"{inner}{_tree_text(item, inner)}" for item in value]
        return "[\n" + ",\n".join(items) + f"\n{indent}]"
    return json.dumps(value)


def render(golden: dict) -> str:
    """JSON with the tree indented and one field per line (a byte map that reads top to bottom)."""
    head = {key: golden[key] for key in ("file", "schema", "size", "sha256")}
    lines = ["{"]
    lines += [f"  {json.dumps(key)}: {json.dumps(value)}," for key, value in head.items()]
    lines.append(f'  "tree": {_tree_text(golden["tree"], "  ")},')
    lines.append('  "fields": [')
    rows = [f"    {json.dumps(row)}" for row in golden["fields"]]
    lines.append(",\n".join(rows))
    lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def path_of(name: str) -> str:
    return os.path.join(GOLDEN, name.replace(".bin", ".json"))


def load(name: str) -> dict:
    with open(path_of(name)) as handle:
        return json.load(handle)


def main(argv: list[str]) -> int:
    sys.path.insert(0, os.path.dirname(HERE))
    check = "--check" in argv
    changed = 0
    os.makedirs(GOLDEN, exist_ok=True)
    for name in file_names():
        now = answer(name)
        if check:
            if load(name) != now:
                changed += 1
                print(f"{name}: differs from {os.path.relpath(path_of(name))}")
            continue
        with open(path_of(name), "w") as handle:
            handle.write(render(now))
    print(f"{len(file_names())} golden files {'checked' if check else 'written'}, {changed} differ")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
