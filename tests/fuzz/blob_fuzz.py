"""Seeded mutation fuzzing of session blobs: the decoder with every view, and ``gnutls_session_set_data``.

Two contracts, checked on mutations of real blobs (data/corpus of every version, plus blobs made live by
the running libgnutls, whose magic makes it unpack them):

- **decode**: for any bytes, ``decode`` returns a session or raises ``BlobFormatError`` with a field
  path and a byte offset inside the input; a decoded session rebuilds byte-identically, and its text report, hex dump,
  HTML view and JSON (secrets shown and hidden) all render; a ticket decrypts or is refused with one of
  the lab's errors.
- **set_data**: a resumption with the bytes, each in a forked child, ends as a resumption, a full
  handshake, a refusal by libgnutls (``GnuTLSError``) or by the lab's preflight (``BlobFormatError``),
  never a signal and never another exception.

``tests/test_fuzz.py`` runs a bounded number in the suite; ``make fuzz`` runs this file for long runs::

    python tests/fuzz/blob_fuzz.py --decode 100000 --set-data 10000 --seed 1

It prints the counts and exits 1 if anything crashed or raised something else (the first such inputs
are saved under artifacts/fuzz-blobs/ to reproduce).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import signal
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "data", "corpus")
INTERESTING_BYTES = (0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF)
INTERESTING_WORDS = (0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0xFFFFFFFF)


def corpus_seeds() -> list[tuple[bytes, bytes | None]]:
    """(blob, ticket key or None) for every session file of data/corpus."""
    with open(os.path.join(CORPUS, "manifest.json")) as handle:
        manifest = json.load(handle)
    seeds = []
    for name, entry in sorted(manifest.items()):
        if entry.get("kind") != "session":
            continue
        with open(os.path.join(CORPUS, name), "rb") as handle:
            blob = handle.read()
        key = bytes.fromhex(entry["ticket_key"]) if entry.get("ticket_key") else None
        seeds.append((blob, key))
    return seeds


def mutate(rng: random.Random, blob: bytes, others: list[bytes]) -> bytes:
    """One to four random edits of ``blob``: bit flips, interesting bytes and lengths, cuts, splices."""
    data = bytearray(blob)
    for _ in range(rng.choice((1, 1, 1, 2, 3, 4))):
        kind = rng.randrange(9)
        if not data:
            data = bytearray(rng.randbytes(rng.randrange(1, 64)))
            continue
        at = rng.randrange(len(data))
        if kind <= 2:  # the most common corruption: one bit
            data[at] ^= 1 << rng.randrange(8)
        elif kind == 3:
            data[at] = rng.choice(INTERESTING_BYTES)
        elif kind == 4:  # a length or count field (big-endian, as libgnutls packs them)
            width = rng.choice((2, 4))
            value = rng.choice(INTERESTING_WORDS) & ((1 << (8 * width)) - 1)
            data[at:at + width] = value.to_bytes(width, "big")
        elif kind == 5:
            del data[rng.randrange(len(data)):]
        elif kind == 6:
            data[at:at] = rng.randbytes(rng.randrange(1, 32))
        elif kind == 7:
            end = min(len(data), at + rng.randrange(1, 64))
            del data[at:end]
        else:  # splice: a head of this blob, the tail of another
            other = rng.choice(others)
            data = data[:at] + other[rng.randrange(len(other) + 1):]
    return bytes(data)


def check_decode(data: bytes, key: bytes | None = None) -> str:
    """``refused`` or ``accepted``; anything else raises (the caller counts it as a failure)."""
    from gnutls_lab.analysis._decode import decode, ticket_state_to_dict
    from gnutls_lab.errors import BlobFormatError, GnuTLSLabError
    from gnutls_lab.faces._views import hexdump, html_view, text_report, ticket_report
    from gnutls_lab.formats import MAX_BLOB_SIZE

    try:
        session = decode(data)
    except BlobFormatError as exc:
        if exc.offset is None or not 0 <= exc.offset <= len(data):
            raise AssertionError(f"BlobFormatError without a byte offset inside the input: {exc!r}") from exc
        if not exc.path and len(data) <= MAX_BLOB_SIZE:  # an input over the cap is refused unread
            raise AssertionError(f"BlobFormatError without a field path: {exc!r}") from exc
        return "refused"
    if session.to_bytes() != data:
        raise AssertionError("a decoded blob did not rebuild byte-identically")
    json.dumps(session.to_dict(show_secrets=True))
    json.dumps(session.to_dict(show_secrets=False))
    text_report(session)
    text_report(session, show_secrets=True)
    hexdump(session)
    html_view(session, show_secrets=True)
    if key is not None:
        try:
            decrypted = session.decrypt_ticket(key)
        except GnuTLSLabError:  # no ticket, another key, a bad envelope: one-line refusals
            pass
        else:
            if decrypted is not None:
                ticket_report(decrypted)
                json.dumps(ticket_state_to_dict(decrypted, True))
    return "accepted"


def run_decode(count: int, seed: int, failures: list | None = None) -> collections.Counter:
    """``count`` mutated blobs through decode and every view; counts of refused/accepted/failed."""
    rng = random.Random(seed)
    seeds = corpus_seeds()
    blobs = [blob for blob, _ in seeds]
    counts: collections.Counter = collections.Counter()
    for _ in range(count):
        blob, key = rng.choice(seeds)
        data = mutate(rng, blob, blobs)
        try:
            counts[check_decode(data, key)] += 1
        except Exception as exc:  # noqa: BLE001 - every other outcome is a finding
            counts["failed"] += 1
            if failures is not None and len(failures) < 20:
                failures.append((data, f"{type(exc).__name__}: {exc}"))
    return counts


def resume_in_child(lab, data: bytes) -> str:
    """Resume with ``data`` in a forked child; its outcome, or ``crash:SIGNAL``."""
    from gnutls_lab.errors import BlobFormatError, GnuTLSError

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one resumption, its outcome through the pipe, then _exit
        os.close(read_end)
        try:
            with lab.connect(resume=data, observe=False) as conn:
                outcome = "resumed" if conn.resumed else "full handshake"
        except BlobFormatError:
            outcome = "refused by the preflight"
        except GnuTLSError as exc:
            outcome = "refused by libgnutls" if exc.function == "gnutls_session_set_data" else "handshake failed"
        except BaseException as exc:  # noqa: BLE001
            outcome = f"unexpected {type(exc).__name__}: {exc}"
        os.write(write_end, outcome.encode()[:4000])
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        output = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return f"crash:{signal.Signals(os.WTERMSIG(status)).name}"
    return output or f"child exited {os.WEXITSTATUS(status)} without an outcome"


def run_set_data(count: int, seed: int, failures: list | None = None) -> collections.Counter:
    """``count`` mutated blobs handed to ``set_data`` (each in a forked child), for TLS 1.3 and 1.2."""
    from gnutls_lab import Lab

    rng = random.Random(seed)
    labs = []
    for tls in ("1.3", "1.2"):
        lab = Lab(tls)
        with lab.connect() as conn:
            live = conn.session_data.data
        with lab.connect(resume=live) as conn:  # warm the preflight's imports before forking
            assert conn.resumed
        labs.append((lab, live))
    others = [blob for blob, _ in corpus_seeds()] + [live for _, live in labs]
    counts: collections.Counter = collections.Counter()
    for index in range(count):
        lab, live = labs[index % len(labs)]
        # Mostly the running library's own blobs (its magic: libgnutls unpacks them), some foreign ones.
        base = live if rng.random() < 0.85 else rng.choice(others)
        data = mutate(rng, base, others)
        outcome = resume_in_child(lab, data)
        key = "crashes" if outcome.startswith("crash") else ("unexpected" if outcome.startswith(("unexpected", "child")) else outcome)
        counts[key] += 1
        if key in ("crashes", "unexpected") and failures is not None and len(failures) < 20:
            failures.append((data, outcome))
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Seeded mutation fuzzing of session blobs.")
    parser.add_argument("--decode", type=int, default=100_000, metavar="N", help="blobs through decode and views")
    parser.add_argument("--set-data", type=int, default=10_000, metavar="N", help="resumptions in forked children")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--artifacts", default=os.path.join(ROOT, "artifacts", "fuzz-blobs"))
    args = parser.parse_args(argv)
    from gnutls_lab import library_info

    failures: list = []
    started = time.monotonic()
    decode_counts = run_decode(args.decode, args.seed, failures)
    print(f"decode: {args.decode} blobs in {time.monotonic() - started:.0f} s: clean refusals "
          f"{decode_counts['refused']}, accepted {decode_counts['accepted']}, failures {decode_counts['failed']}",
          flush=True)
    started = time.monotonic()
    set_counts = run_set_data(args.set_data, args.seed, failures)
    refusals = set_counts["refused by the preflight"] + set_counts["refused by libgnutls"]
    print(f"set_data (GnuTLS {library_info().version}): {args.set_data} resumptions in "
          f"{time.monotonic() - started:.0f} s: clean refusals {refusals} (preflight "
          f"{set_counts['refused by the preflight']}, libgnutls {set_counts['refused by libgnutls']}), accepted "
          f"{set_counts['resumed'] + set_counts['full handshake'] + set_counts['handshake failed']} (resumed "
          f"{set_counts['resumed']}, full handshake {set_counts['full handshake']}, handshake failed "
          f"{set_counts['handshake failed']}), crashes = {set_counts['crashes']}, unexpected "
          f"{set_counts['unexpected']}", flush=True)
    if failures:
        os.makedirs(args.artifacts, exist_ok=True)
        for number, (data, reason) in enumerate(failures):
            with open(os.path.join(args.artifacts, f"failure-{number}.bin"), "wb") as handle:
                handle.write(data)
            print(f"failure-{number}.bin: {reason}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
