"""``gnutls-lab experiment replay``: a recorded 0-RTT first flight sent again, case by case.

Every case is real in-process handshakes under a fake clock (see :mod:`gnutls_lab.analysis._replay`), or
with ``--real-clock`` on the real clock with real waits (default window 1 s; about 3 windows in all), where
every GnuTLS version accepts the replay across a period rollover.
``--pcap FILE`` writes every case's flights for Wireshark, two TCP streams per case in order (the 0-RTT
connection, then the replayed flight and what the server answered), secrets embedded so the early data
of both decrypts; ``--keylog FILE`` the key log. JSON (``--json``)::

    {"experiment": "replay", "gnutls_version": "3.8.9", "clock": "fake", "clock_drives_anti_replay": true,
     "window": 10.0,
     "cases": [{"case": "replay at once", "anti_replay": true, "window": 10.0, "first_accepted": true,
                "replay_accepted": false, "early_data_bytes": 36, ...}, ...]}
"""

from __future__ import annotations

import json
import sys

from ...errors import UsageError
from ._core import add_capture_arguments, write_capture_files

__all__ = ["register"]


def _replay(args) -> int:
    from ...binding import library_info
    from ...analysis import replay_experiment
    from ...sessions import FakeClock

    from ...analysis import REAL_CLOCK_WINDOWS

    window = args.window if args.window is not None else (1.0 if args.real_clock else 10.0)
    low, high = REAL_CLOCK_WINDOWS if args.real_clock else (1, 3600)
    if not (low <= window <= high):
        raise UsageError(f"--window must be between {low:g} and {high:g} seconds"
                         f"{' with --real-clock' if args.real_clock else ''} (got {window:g})")
    captures: list | None = [] if args.pcap or args.keylog else None
    cases = replay_experiment(window, real_clock=args.real_clock, captures=captures)
    drives = True if args.real_clock else FakeClock().drives_ticket_age
    version = library_info().version
    capture = write_capture_files(captures, args.pcap, args.keylog, args.json) if captures is not None else None
    if args.json:
        json.dump({"experiment": "replay", "gnutls_version": version, "clock": "real" if args.real_clock else "fake",
                   "clock_drives_anti_replay": drives, "window": float(window),
                   "cases": [c.to_dict() for c in cases], **({"capture": capture} if capture else {})},
                  sys.stdout, indent=2)
        print()
        return 0
    if args.real_clock:
        clock = "the real clock: real waits, times measured"
    else:
        clock = ("the fake clock drives the anti-replay window" if drives else
                 "the anti-replay window follows the real clock, not the fake one: try --real-clock")
    print(f"0-RTT replay, anti-replay window {window:g} s, GnuTLS {version} ({clock})")
    print(f"{'case':<32} {'anti-replay':>11} {'resumed':>7} {'replayed':>8} {'first':>6} {'replay':>7} {'bytes':>6}")
    for c in cases:
        yes = {True: "accept", False: "refuse"}
        print(f"{c.case:<32} {('on' if c.anti_replay else c.context):>11} {c.resume_after:>6g}s "
              f"{'+' + format(c.replay_after, 'g') + 's':>8} {yes[c.first_accepted]:>6} {yes[c.replay_accepted]:>7} "
              f"{c.early_data_bytes:>6}")
        print(f"  {c.reason}")
    return 0


def register(sub) -> None:
    """Add ``replay`` to the ``experiment`` sub-commands."""
    r = sub.add_parser("replay", help="0-RTT: a recorded first flight replayed, with and without anti-replay",
                       description="A client resumes with early data; its first flight, recorded on the wire, "
                                   "is sent again to a server with the same ticket key and anti-replay state. "
                                   "Each case says whether the server delivered the early data, the first time "
                                   "and on the replay.")
    r.add_argument("--window", type=float, default=None, metavar="SECONDS",
                   help="the server's anti-replay window in seconds (default 10, libgnutls's own default; "
                        "1 with --real-clock)")
    r.add_argument("--real-clock", action="store_true",
                   help="run on the real clock with real waits instead of a fake clock (window 0.5-10 s; a run "
                        "takes about 3 windows): every GnuTLS version then shows the replay across a period rollover")
    add_capture_arguments(r)  # two TCP streams per case: the 0-RTT connection, then the replayed flight
    r.add_argument("--json", action="store_true", help="machine-readable output")
    r.set_defaults(func=_replay)
