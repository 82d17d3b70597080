"""Seeded mutation fuzzing of session blobs: the decoder with every view, and ``gnutls_session_set_data``.

Two contracts, checked on mutations of real blobs (data/corpus of every version, plus blobs made live by
the running libgnutls, whose magic makes it unpack them):

- **decode**: for any bytes, ``decode`` returns a session or raises ``BlobFormatError`` with a field
  path and a byte offset inside the input; a decoded session rebuilds byte-identically, and its text
  report, hex dump, HTML view and JSON (secrets shown and hidden) all render; a ticket decrypts or is refused with one of
  the lab's errors. No redacted view shows a secret of the input (a **leak**), and nothing writes into
  the input's bytes (an **overwrite**).
- **set_data**: a resumption with the bytes, each in a forked child, ends as a resumption, a full
  handshake, a failed or stalled handshake, a refusal by libgnutls (``GnuTLSError``) or by the lab's
  preflight (``BlobFormatError``), never a signal, never another exception, and the bytes handed to
  libgnutls are unchanged afterwards (an **overwrite** otherwise). It runs against a lab of every
  credential kind the lab has (certificate, anon, PSK; the lab has no SRP credentials) and every protocol
  the running library resumes (TLS 1.3, 1.2 with its default AEAD suite and with CBC, whose sessions carry
  encrypt-then-MAC, 1.1 and 1.0), each lab fuzzing its own live blob.

Mutations are bytewise (bit flips, interesting bytes and lengths, cuts, insertions, splices) and
structure-aware: an integer field of the parsed blob set to another value of its id table (a cipher
suite, a protocol, an extension id...) or an interesting number, which is how a one-field change such
as a NULL-cipher suite with encrypt-then-MAC (issue 20) is reached.

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

#: Every credential kind of the lab (it has no SRP credentials) and every protocol; a combination the
#: running library cannot resume (anon under TLS 1.3, an old protocol a newer build refuses) is left out
#: and said so.
AUTHS = ("certificate", "anon", "psk")
PROTOCOL_PRIORITIES = (
    ("TLS1.3", "NORMAL:-VERS-ALL:+VERS-TLS1.3"),
    ("TLS1.2", "NORMAL:-VERS-ALL:+VERS-TLS1.2"),
    ("TLS1.2 CBC", "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC"),  # encrypt-then-MAC on
    ("TLS1.1", "NORMAL:-VERS-ALL:+VERS-TLS1.1"),
    ("TLS1.0", "NORMAL:-VERS-ALL:+VERS-TLS1.0"),
)


def _id_tables() -> dict:
    """Integer fields of the blob (by their last path element) and the table of values they take."""
    from gnutls_lab.formats import _gnutls_ids as ids

    booleans = {0: "off", 1: "on"}
    return {"auth_type": ids.CREDENTIALS, "entity": ids.ENTITIES, "prf": ids.MACS,
            "client_auth_type": ids.CREDENTIALS, "server_auth_type": ids.CREDENTIALS, "pversion": ids.PROTOCOLS,
            "client_ctype": ids.CERTIFICATE_TYPES, "server_ctype": ids.CERTIFICATE_TYPES, "cs": ids.CIPHER_SUITES,
            "grp": ids.GROUPS, "server_sign_algo": ids.SIGN_ALGORITHMS, "client_sign_algo": ids.SIGN_ALGORITHMS,
            "gid": ids.EXTENSION_GIDS, "etm": booleans, "ext_master_secret": booleans}


_TABLES: dict = {}


def mutate_field(rng: random.Random, data: bytearray) -> bytearray:
    """Set one integer field of the parsed blob to a value of its id table or an interesting number
    (unchanged if the bytes do not parse)."""
    from gnutls_lab.errors import BlobFormatError
    from gnutls_lab.formats._session_blob import parse_session

    if not _TABLES:
        _TABLES.update(_id_tables())
    fields: list = []
    try:
        parse_session(bytes(data), fields, strict=False)
    except BlobFormatError:
        return data
    numbers = [(name, start, end) for name, start, end, value in fields
               if isinstance(value, int) and end - start in (1, 2, 4) and name != "magic"]
    if not numbers:
        return data
    with_table = [field for field in numbers if field[0].rsplit(".", 1)[-1] in _TABLES]
    name, start, end = rng.choice(with_table if with_table and rng.random() < 0.6 else numbers)
    table = _TABLES.get(name.rsplit(".", 1)[-1])
    value = rng.choice(list(table)) if table and rng.random() < 0.7 else rng.choice(INTERESTING_WORDS)
    width = end - start
    data[start:end] = (value & ((1 << (8 * width)) - 1)).to_bytes(width, "big")
    return data


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
    """One to four random edits of ``blob``: bit flips, interesting bytes and lengths, cuts, splices,
    and fields set to another value of their table (:func:`mutate_field`)."""
    data = bytearray(blob)
    for _ in range(rng.choice((1, 1, 1, 2, 3, 4))):
        kind = rng.randrange(11)
        if not data:
            data = bytearray(rng.randbytes(rng.randrange(1, 64)))
            continue
        at = rng.randrange(len(data))
        if kind >= 9:  # structure-aware: one field to a value of its table
            data = mutate_field(rng, data)
        elif kind <= 2:  # the most common corruption: one bit
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


class Leak(AssertionError):
    """A view that hides secrets showed one of the input's secrets."""


class Overwrite(AssertionError):
    """The input's bytes changed while the lab (or libgnutls) only had to read them."""


#: Secrets shorter than this are not looked for in the views (a 2-byte secret's hex is anywhere).
MIN_SECRET_BYTES = 8


def _secrets_of(session) -> list[bytes]:
    found = [session.master_secret, session.tls13.resumption_master_secret if session.tls13 else None]
    for extension in session.extensions:
        payload = extension.data
        if isinstance(payload, dict) and payload.get("password"):
            found.append(payload["password"])
    return [bytes(secret) for secret in found if secret]


def _check_hidden(texts: list[str], secrets: list[bytes], data: bytes) -> None:
    """Raise :class:`Leak` if a redacted view shows a secret. A secret whose bytes also stand elsewhere
    in the input (a splice can copy them into a field that is not secret) is not looked for."""
    for secret in secrets:
        if len(secret) < MIN_SECRET_BYTES or data.count(secret) > 1:
            continue
        for text in texts:
            if secret.hex() in text.lower() or secret.hex(" ") in text.lower():
                raise Leak(f"a redacted view shows a {len(secret)}-byte secret: ...{text[:120]}")


def check_decode(data: bytes, key: bytes | None = None) -> str:
    """``refused`` or ``accepted``; anything else raises (the caller counts it: :class:`Leak`,
    :class:`Overwrite`, or any other exception as a failure)."""
    from gnutls_lab.analysis._decode import decode
    from gnutls_lab.errors import BlobFormatError, GnuTLSLabError
    from gnutls_lab.faces._views import (hexdump, html_view, session_to_dict, text_report, ticket_report,
                                         ticket_state_to_dict)
    from gnutls_lab.formats import MAX_BLOB_SIZE

    snapshot = bytes(bytearray(data))  # a copy that shares nothing with the input
    try:
        session = decode(data)
    except BlobFormatError as exc:
        if exc.offset is None or not 0 <= exc.offset <= len(data):
            raise AssertionError(f"BlobFormatError without a byte offset inside the input: {exc!r}") from exc
        if not exc.path and len(data) <= MAX_BLOB_SIZE:  # an input over the cap is refused unread
            raise AssertionError(f"BlobFormatError without a field path: {exc!r}") from exc
        if data != snapshot:
            raise Overwrite("decode changed the bytes it refused") from None
        return "refused"
    if session.to_bytes() != data:
        raise AssertionError("a decoded blob did not rebuild byte-identically")
    json.dumps(session_to_dict(session, show_secrets=True))
    hidden = [json.dumps(session_to_dict(session, show_secrets=False)), text_report(session), hexdump(session),
              html_view(session), repr(session)]
    text_report(session, show_secrets=True)
    html_view(session, show_secrets=True)
    secrets = _secrets_of(session)
    _check_hidden(hidden, secrets, data)
    if key is not None:
        try:
            decrypted = session.decrypt_ticket(key)
        except GnuTLSLabError:  # no ticket, another key, a bad envelope: one-line refusals
            pass
        else:
            if decrypted is not None:
                json.dumps(ticket_state_to_dict(decrypted, True))
                state_secrets = list(secrets) + [key]
                try:
                    state_secrets += _secrets_of(decode(decrypted.state))
                except BlobFormatError:
                    pass
                _check_hidden([ticket_report(decrypted), json.dumps(ticket_state_to_dict(decrypted, False)),
                               repr(decrypted)], state_secrets, data + decrypted.state)
    if data != snapshot:
        raise Overwrite("decoding or a view changed the input bytes")
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
            counts[{Leak: "leaks", Overwrite: "overwrites"}.get(type(exc), "failed")] += 1
            if failures is not None and len(failures) < 20:
                failures.append((data, f"{type(exc).__name__}: {exc}"))
    return counts


def resume_in_child(lab, data: bytes) -> str:
    """Resume with ``data`` in a forked child; its outcome, or ``crash:SIGNAL``."""
    from gnutls_lab.errors import BlobFormatError, GnuTLSError, GnuTLSLabError

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one resumption, its outcome through the pipe, then _exit
        os.close(read_end)
        snapshot = bytes(bytearray(data))  # libgnutls is handed a pointer into ``data`` itself
        try:
            with lab.connect(resume=data, observe=False) as conn:
                outcome = "resumed" if conn.resumed else "full handshake"
        except BlobFormatError:
            outcome = "refused by the preflight"
        except GnuTLSError as exc:
            outcome = "refused by libgnutls" if exc.function == "gnutls_session_set_data" else "handshake failed"
        except GnuTLSLabError as exc:  # e.g. both sides waiting for the other: a stalled handshake
            outcome = "handshake failed" if "stalled" in str(exc) else f"unexpected {type(exc).__name__}: {exc}"
        except BaseException as exc:  # noqa: BLE001
            outcome = f"unexpected {type(exc).__name__}: {exc}"
        if data != snapshot:
            outcome = "overwrite: the bytes handed to set_data changed"
        os.write(write_end, outcome.encode()[:4000])
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        output = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return f"crash:{signal.Signals(os.WTERMSIG(status)).name}"
    return output or f"child exited {os.WEXITSTATUS(status)} without an outcome"


def fuzz_labs() -> tuple[list, list]:
    """``([(name, lab, live blob)], [(name, why left out)])``: a lab for every credential kind and
    protocol (:data:`AUTHS` x :data:`PROTOCOL_PRIORITIES`) that the running library resumes."""
    from gnutls_lab import GnuTLSLabError, Lab

    labs, left_out = [], []
    for auth in AUTHS:
        for protocol, priority in PROTOCOL_PRIORITIES:
            name = f"{auth} {protocol}"
            try:
                lab = Lab(priority, auth=auth)
                with lab.connect() as conn:
                    live = conn.session_data.data
                with lab.connect(resume=live) as conn:  # also warms the preflight's imports before forking
                    if not conn.resumed:
                        raise GnuTLSLabError("its own session data did not resume")
            except GnuTLSLabError as exc:
                left_out.append((name, str(exc).splitlines()[0][:160]))
                continue
            labs.append((name, lab, live))
    return labs, left_out


def run_set_data(count: int, seed: int, failures: list | None = None, per_lab: dict | None = None,
                 left_out: list | None = None) -> collections.Counter:
    """``count`` mutated blobs handed to ``set_data`` (each in a forked child), spread over
    :func:`fuzz_labs` in turn; ``per_lab`` (if given) gets each lab's counts, ``left_out`` the
    combinations the library cannot resume."""
    rng = random.Random(seed)
    labs, skipped = fuzz_labs()
    if left_out is not None:
        left_out.extend(skipped)
    others = [blob for blob, _ in corpus_seeds()] + [live for _, _, live in labs]
    counts: collections.Counter = collections.Counter()
    for index in range(count):
        name, lab, live = labs[index % len(labs)]
        # Mostly the lab's own blob (the running library's magic: libgnutls unpacks it), some foreign ones.
        base = live if rng.random() < 0.85 else rng.choice(others)
        data = mutate(rng, base, others)
        outcome = resume_in_child(lab, data)
        if outcome.startswith("crash"):
            key = "crashes"
        elif outcome.startswith("overwrite"):
            key = "overwrites"
        elif outcome.startswith(("unexpected", "child")):
            key = "unexpected"
        else:
            key = outcome
        counts[key] += 1
        if per_lab is not None:
            per_lab.setdefault(name, collections.Counter())[key] += 1
        if key in ("crashes", "overwrites", "unexpected") and failures is not None and len(failures) < 20:
            failures.append((data, f"{name}: {outcome}"))
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
          f"{decode_counts['refused']}, accepted {decode_counts['accepted']}, failures {decode_counts['failed']}, "
          f"leaks {decode_counts['leaks']}, overwrites {decode_counts['overwrites']}", flush=True)
    started = time.monotonic()
    per_lab: dict = {}
    left_out: list = []
    set_counts = run_set_data(args.set_data, args.seed, failures, per_lab, left_out)
    refusals = set_counts["refused by the preflight"] + set_counts["refused by libgnutls"]
    print(f"set_data (GnuTLS {library_info().version}): {args.set_data} resumptions in "
          f"{time.monotonic() - started:.0f} s over {len(per_lab)} labs: clean refusals {refusals} (preflight "
          f"{set_counts['refused by the preflight']}, libgnutls {set_counts['refused by libgnutls']}), accepted "
          f"{set_counts['resumed'] + set_counts['full handshake'] + set_counts['handshake failed']} (resumed "
          f"{set_counts['resumed']}, full handshake {set_counts['full handshake']}, handshake failed "
          f"{set_counts['handshake failed']}), crashes {set_counts['crashes']}, overwrites "
          f"{set_counts['overwrites']}, unexpected {set_counts['unexpected']}", flush=True)
    for name, lab_counts in per_lab.items():
        print(f"  {name}: {sum(lab_counts.values())} resumptions, preflight {lab_counts['refused by the preflight']}, "
              f"libgnutls {lab_counts['refused by libgnutls']}, resumed {lab_counts['resumed']}, crashes "
              f"{lab_counts['crashes']}")
    for name, why in left_out:
        print(f"  {name}: left out ({why})")
    print("  srp: left out (the lab has no SRP credentials)")
    crashes = set_counts["crashes"]
    leaks = decode_counts["leaks"]
    overwrites = decode_counts["overwrites"] + set_counts["overwrites"]
    print(f"total: inputs {args.decode + args.set_data}, crashes {crashes}, leaks {leaks}, overwrites "
          f"{overwrites}, other failures {decode_counts['failed'] + set_counts['unexpected']}", flush=True)
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
