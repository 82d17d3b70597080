"""Record (or check) what the decoder answers for every corpus blob and 20,000 seeded mutations.

The fixture ``tests/data/decode_equivalence.json.gz`` pins the user-visible results of
``decode()``: the JSON view (``to_dict(show_secrets=True)``), the byte ranges of the annotated
view, the accept/refuse decision (error path, offset and message) and the preflight decision
that guards ``gnutls_session_set_data``. It was recorded before the decoder moved from a
hand-written reader to the construct schemas; the new decoder must give the same answers. One
deliberate change since: the 14 cases whose flip lands in the protocol version now have the preflight
name ``security_parameters.pversion`` (a version that does not fit its section: the TLS 1.3 blob read
as TLS 1.2 crashes libgnutls, findings/set-data-crash); only their ``preflight`` entry was rewritten.

Mutations are regenerated from their description (base file, kind, arguments), so the fixture
holds no mutated bytes: ``flip`` (offset, bit), ``trunc`` (new length), ``set`` (offset, width,
value: a length/count field rewritten big-endian), ``append`` (extra bytes).

    python tests/make_decode_equivalence.py            # write the fixture (only before a change)
    python tests/make_decode_equivalence.py --check    # compare all cases with the current code
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(ROOT, "data", "corpus")
FIXTURE = os.path.join(HERE, "data", "decode_equivalence.json.gz")
SEED = 20261202
MUTATIONS = 20_000
LENGTH_LEAVES = (".length", ".count", "ncerts", "nocsp", "_size")


def corpus() -> list[tuple[str, bytes]]:
    with open(os.path.join(CORPUS, "manifest.json")) as handle:
        names = sorted(json.load(handle))
    items = []
    for name in names:
        with open(os.path.join(CORPUS, name), "rb") as handle:
            items.append((name, handle.read()))
    return items


def version_of(name: str) -> tuple:
    return tuple(int(p) for p in name.split("_", 1)[0].split("-", 1)[1].split("."))


def mutate(data: bytes, op: list) -> bytes:
    kind = op[0]
    if kind == "flip":
        offset, bit = op[1], op[2]
        return data[:offset] + bytes([data[offset] ^ (1 << bit)]) + data[offset + 1 :]
    if kind == "trunc":
        return data[: op[1]]
    if kind == "set":
        offset, width, value = op[1], op[2], op[3]
        return data[:offset] + value.to_bytes(width, "big") + data[offset + width :]
    if kind == "append":
        return data + bytes.fromhex(op[1])
    raise ValueError(kind)


def length_fields(data: bytes) -> list[tuple[int, int, int]]:
    """(offset, width, current value) of every length/count field of a decodable blob."""
    from gnutls_lab.analysis._decode import decode

    try:
        fields = decode(data).fields or []
    except Exception:
        return []
    found = []
    for path, start, end, value in fields:
        if path.endswith(LENGTH_LEAVES) and isinstance(value, int):
            found.append((start, end - start, value))
        elif isinstance(value, (bytes, bytearray)) and end - start > len(value) and end - start - len(value) in (1, 2, 4):
            width = end - start - len(value)
            found.append((start, width, len(value)))
    return sorted(set(found))


def cases() -> list[tuple[str, list | None]]:
    items = corpus()
    rng = random.Random(SEED)
    out: list[tuple[str, list | None]] = [(name, None) for name, _ in items]
    sessions = [(name, data) for name, data in items if len(data) > 4]
    lengths = {name: length_fields(data) for name, data in sessions}
    for _ in range(MUTATIONS):
        name, data = rng.choice(sessions)
        roll = rng.random()
        if roll < 0.5:
            op = ["flip", rng.randrange(len(data)), rng.randrange(8)]
        elif roll < 0.65:
            op = ["trunc", rng.randrange(len(data))]
        elif roll < 0.95 and lengths[name]:
            offset, width, value = rng.choice(lengths[name])
            top = (1 << (8 * width)) - 1
            choice = rng.random()
            if choice < 0.3:
                new = value + rng.choice((-2, -1, 1, 2))
            elif choice < 0.5:
                new = rng.choice((0, top, top // 2 + 1, len(data)))
            else:
                new = rng.randrange(top + 1)
            op = ["set", offset, width, min(max(new, 0), top)]
        else:
            op = ["append", bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9))).hex()]
        out.append((name, op))
    return out


def digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:24]


def observe(name: str, data: bytes) -> dict:
    """What a user sees: JSON view and byte ranges, or the refusal; and the preflight decision."""
    from gnutls_lab.analysis._decode import decode
    from gnutls_lab.errors import BlobFormatError
    from gnutls_lab.sessions._preflight import check_session_data

    result: dict = {}
    try:
        decoded = decode(data)
        plain = decode(data, annotate=False)
        result["tree"] = decoded.to_dict(show_secrets=True)
        result["plain_same"] = plain.to_dict(show_secrets=True) == result["tree"]
        result["ranges"] = [[f.path, f.start, f.end] for f in decoded.fields]
    except BlobFormatError as exc:
        result["error"] = [exc.path, exc.offset, exc.reason]
    try:
        check_session_data(data, version_of(name))
        result["preflight"] = None
    except BlobFormatError as exc:
        result["preflight"] = [exc.path, exc.offset]
    return result


def compact(result: dict) -> dict:
    """Mutations are stored as digests of tree and ranges (the fixture stays small)."""
    out = dict(result)
    for key in ("tree", "ranges"):
        if key in out:
            out[key] = digest(out[key])
    return out


def record(index: int, name: str, op, data_by_name: dict) -> dict:
    data = data_by_name[name] if op is None else mutate(data_by_name[name], op)
    observed = observe(name, data)
    return observed if op is None else compact(observed)


def load() -> dict:
    with gzip.open(FIXTURE, "rt") as handle:
        return json.load(handle)


def main(argv: list[str]) -> int:
    sys.path.insert(0, ROOT)
    data_by_name = dict(corpus())
    if "--check" in argv:
        fixture = load()
        bad = 0
        for i, case in enumerate(fixture["cases"]):
            now = record(i, case["base"], case["op"], data_by_name)
            if now != case["result"]:
                bad += 1
                if bad <= 10:
                    print(f"case {i} {case['base']} {case['op']}:\n  was {case['result']}\n  now {now}")
        print(f"{len(fixture['cases']) - bad}/{len(fixture['cases'])} cases unchanged")
        return 1 if bad else 0
    if os.path.exists(FIXTURE) and "--force" not in argv:
        print(f"{FIXTURE} exists; it records the decoder before the change (use --force to rewrite)")
        return 1
    rows = []
    for i, (name, op) in enumerate(cases()):
        rows.append({"base": name, "op": op, "result": record(i, name, op, data_by_name)})
    os.makedirs(os.path.dirname(FIXTURE), exist_ok=True)
    tmp = FIXTURE + ".tmp"
    with gzip.open(tmp, "wt") as handle:
        json.dump({"seed": SEED, "mutations": MUTATIONS, "cases": rows}, handle, sort_keys=True)
    os.replace(tmp, FIXTURE)
    refused = sum("error" in r["result"] for r in rows)
    preflight = sum(bool(r["result"]["preflight"]) for r in rows)
    print(f"{len(rows)} cases, {refused} refused by decode, {preflight} refused by the preflight")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
