"""The gnutls_lab side of ``make bench``: in-process handshakes per second through the public API.

The same four modes and the same work per iteration as ``benchmarks/c/handshake_loop.c``, through
``gnutls_lab.Lab`` only (no raw cffi here).

Created once per process (not timed): ``Lab("tls1.3", server_name=None)`` or the same with
``"tls1.2"`` (no SNI, as the C loop sends none), which builds the credentials (self-signed
ECDSA P-256, generated at runtime with GnuTLS's x509 API), the priority and the server's
session ticket key; and, for the resumed modes, the client's session data from one full
handshake (``Connection.session_data``: under TLS 1.3 this reads the pending NewSessionTicket, as
``gnutls_session_get_data2`` does in the C loop; dummy data is an error).

What one timed iteration does, in every mode: ``lab.connect(resume=..., observe=...)``, which
creates the client and server sessions (``gnutls_init``, priority, credentials, in-memory
transport, ticket key on the server), sets the session data on the client in the resumed modes,
and pumps ``gnutls_handshake`` on both ends until both return 0; then, in the resumed modes,
``gnutls_session_is_resumed`` must be true on both ends (``Connection.resumed`` for the client,
``Connection.server.is_resumed()``); then both sessions are
deinitialised (``close()``). Observation (hook transcript + wire tap, on by default in ``Lab``) is
passed explicitly: off unless ``--observe``. ``Lab.connect`` is the public path used; building
``ClientSession``/``ServerSession`` over ``memory_pair`` and calling ``pump`` directly does the same
work and measured only 2-5% faster, so the loop keeps the documented entry point.
Under TLS 1.3 the server sends its default two NewSessionTickets at the end of its handshake; the
client never reads them in the timed loop, like the C loop.

Usage: python benchmarks/lab_loop.py --mode MODE|all [--seconds S] [--warmup S] [--observe]
Output: one JSON object per mode per line:
  {"impl": "gnutls_lab", "mode": ..., "handshakes": N, "seconds": ..., "per_second": ...,
   "observe": false}
Exit status 1 if any resumed handshake did not resume.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from gnutls_lab import Lab

MODES = {
    # name: (Lab preset, resumed)
    "tls13-full": ("tls1.3", False),
    "tls13-resumed": ("tls1.3", True),
    "tls12-full": ("tls1.2", False),
    "tls12-resumed": ("tls1.2", True),
}


def capture_session_data(lab: Lab):
    """One full handshake, then the client's (real, not dummy) session data."""
    conn = lab.connect(observe=False)
    try:
        data = conn.session_data
    finally:
        conn.close()
    if data.dummy:
        raise RuntimeError("the full handshake gave dummy session data: no ticket was read")
    return data


def run_for(lab: Lab, resume, observe: bool, seconds: float) -> tuple[int, float, int]:
    """(handshakes, elapsed seconds, resume failures) for a loop of at least `seconds`."""
    connect = lab.connect
    count = failures = 0
    start = now = time.perf_counter()
    while now - start < seconds:
        conn = connect(resume=resume, observe=observe)
        if resume is not None and not (conn.resumed and conn.server.is_resumed()):
            failures += 1
        conn.close()
        count += 1
        now = time.perf_counter()
    return count, now - start, failures


def run_mode(mode: str, seconds: float, warmup: float, observe: bool) -> tuple[dict, int]:
    preset, resumed = MODES[mode]
    lab = Lab(preset, server_name=None)  # no SNI: the C loop sends none
    resume = capture_session_data(lab) if resumed else None
    _, _, warmup_failures = run_for(lab, resume, observe, warmup)
    count, elapsed, failures = run_for(lab, resume, observe, seconds)
    row = {
        "impl": "gnutls_lab",
        "mode": mode,
        "handshakes": count,
        "seconds": round(elapsed, 6),
        "per_second": round(count / elapsed, 1),
        "observe": observe,
    }
    return row, warmup_failures + failures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", default="all", choices=[*MODES, "all"])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--warmup", type=float, default=0.25)
    observe = parser.add_mutually_exclusive_group()
    observe.add_argument("--observe", dest="observe", action="store_true",
                         help="hook transcript + wire tap on")
    observe.add_argument("--no-observe", dest="observe", action="store_false",
                         help="observation off (the default)")
    args = parser.parse_args(argv)
    status = 0
    for mode in MODES if args.mode == "all" else [args.mode]:
        row, failures = run_mode(mode, args.seconds, args.warmup, args.observe)
        print(json.dumps(row), flush=True)
        if failures:
            print(f"lab_loop: {mode}: {failures} handshakes did not resume", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
