"""The 0-RTT replay experiment: a client's first flight recorded on the wire and sent again.

Each case is one story, run on real in-process handshakes under a :class:`FakeClock`:

1. the server issues a ticket that allows early data (``max_early_data_size``) to a client;
2. ``resume_after`` seconds later the client resumes and sends early data in its first flight; the wire
   tap records that flight (ClientHello and early-data records);
3. ``replay_after`` seconds later an attacker sends the recorded bytes to a fresh server session that has
   the same ticket key and the same anti-replay state (another process of the same server).

``first_accepted`` and ``replay_accepted`` say whether the server delivered the early data to its
application. What decides, in libgnutls (``lib/tls13/anti_replay.c``), see
:mod:`gnutls_lab.sessions._early_data`: no anti-replay context means no early data at all; a context checks
freshness against its window, then asks its store whether the ClientHello's binder was seen in the current
recording period.

The clock: from GnuTLS 3.8.1 the fake clock drives the ticket ages and the anti-replay window; on 3.7 they
follow the real clock, so a replay "100 s later" on the fake clock is, for the anti-replay, a few
milliseconds later (``FakeClock.drives_ticket_age`` says which). ``real_clock=True`` runs the same
stories on the real clock instead, with real waits: every version then behaves alike, a replay across
a period rollover included (``findings/anti-replay-rollover``), so use a short window (a second). In
that mode ``resume_after`` counts from the creation of the anti-replay context, which starts its first
recording period, and the times a case reports are the ones measured.
"""

from __future__ import annotations

import contextlib
import time
from typing import NamedTuple, Sequence

from ..binding import library_info
from ..errors import UsageError
from ..sessions import FakeClock
from ..sessions import AntiReplay, ZeroRttLab, first_flight

__all__ = ["ReplayCase", "ReplaySweep", "replay_case", "replay_experiment", "replay_sweep", "DEFAULT_EARLY_DATA",
           "REAL_CLOCK_WINDOWS"]

DEFAULT_EARLY_DATA = b"POST /transfer amount=100&to=mallory"


class ReplayCase(NamedTuple):
    """One replay story and what the real server did."""

    case: str  # a short name
    anti_replay: bool  # the server detects duplicates (an anti-replay context whose store remembers)
    context: str  # "none", "forgetful" (store never finds a duplicate) or "remembering"
    window: float  # seconds
    resume_after: float  # seconds between the ticket and the 0-RTT resumption
    replay_after: float  # seconds between the resumption and the replay
    first_accepted: bool
    replay_accepted: bool
    early_data_bytes: int
    checked: bool  # the anti-replay store was asked about the replayed flight
    reason: str
    clock: str = "fake"  # "fake" (FakeClock, instant) or "real" (real waits; the times are measured)

    def to_dict(self) -> dict:
        return self._asdict()


class _RealClock:
    """The waits of a case on the real clock (``time.sleep``), measured from the context's creation."""

    def __init__(self):
        self.start = time.monotonic()

    def advance(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))

    def until(self, seconds: float) -> float:
        """Sleep until ``seconds`` after :attr:`start`; the time reached, measured."""
        time.sleep(max(0.0, self.start + seconds - time.monotonic()))
        return self.now

    @property
    def now(self) -> float:
        return time.monotonic() - self.start


def replay_case(case: str = "replay", *, window: float = 10.0, context: str = "remembering",
                resume_after: float = 0.0, replay_after: float = 0.0, early_data: bytes = DEFAULT_EARLY_DATA,
                reuse_ticket: bool = False, lab=None, captures: list | None = None,
                real_clock: bool = False) -> ReplayCase:
    """Run one story (see the module docstring). ``reuse_ticket=True``: instead of a replay, the honest
    client opens a second 0-RTT connection with the same ticket (``replay_*`` then describe that one).
    ``real_clock=True``: real waits instead of a :class:`FakeClock` (``resume_after`` then counts from the
    anti-replay context's creation, and the reported times are measured).

    ``captures``: a list that receives the story's flights as
    :class:`~gnutls_lab.sessions._pcapng.TlsCapture` records, for :func:`gnutls_lab.write_pcapng`: the
    0-RTT connection, then the replayed flight with the server's answer (or the second connection).
    The sessions then record their secrets, so Wireshark decrypts the early data of both."""
    if context not in ("none", "forgetful", "remembering"):
        raise UsageError(f"context must be 'none', 'forgetful' or 'remembering', not {context!r}")
    if resume_after < 0 or replay_after < 0:
        raise UsageError("resume_after and replay_after are seconds, 0 or more")
    if not early_data:
        raise UsageError("the experiment needs some early data to send")
    with (contextlib.nullcontext() if real_clock else FakeClock()) as fake:
        # Made under the clock: libgnutls refuses early data on tickets older than the context.
        anti_replay = None if context == "none" else AntiReplay(window, remember=context == "remembering")
        real = _RealClock() if real_clock else None
        zero_rtt = ZeroRttLab(lab, early_data=max(16384, len(early_data)), anti_replay=anti_replay,
                              keylog=True if captures is not None else None)
        ticket = zero_rtt.issue_ticket()
        if real is not None:
            resumed_at = real.until(resume_after)
        else:
            fake.advance(resume_after)
        with zero_rtt.resume(ticket, early_data) as first:
            first_data = first.server.early_data
            flight = first_flight(first.wire)
            first_capture = first.capture() if captures is not None else None
        if real is not None:
            replayed_at = real.until(resumed_at + replay_after)
            resume_after, replay_after = round(resumed_at, 3), round(replayed_at - resumed_at, 3)
        else:
            fake.advance(replay_after)
        checks_before = len(anti_replay.events) if anti_replay is not None else 0
        if reuse_ticket:
            with zero_rtt.resume(ticket, early_data) as second:
                again = second.server.early_data
                second_capture = second.capture() if captures is not None else None
            checked = anti_replay is not None and len(anti_replay.events) > checks_before
        else:
            tap: list | None = [] if captures is not None else None
            outcome = zero_rtt.replay(flight, tap=tap)
            again, checked = outcome.early_data, outcome.checked
            second_capture = ZeroRttLab.capture_replay(tap, first_capture) if captures is not None else None
        fresh = anti_replay.events[-1][2] if checked else None
    if captures is not None:
        captures += [first_capture, second_capture]
    first_ok, again_ok = first_data == early_data, again == early_data
    return ReplayCase(case=case, anti_replay=context == "remembering", context=context, window=float(window),
                      resume_after=float(resume_after), replay_after=float(replay_after),
                      first_accepted=first_ok, replay_accepted=again_ok, early_data_bytes=len(early_data),
                      checked=checked, reason=_reason(context, first_ok, again_ok, checked, fresh, reuse_ticket),
                      clock="real" if real_clock else "fake")


def _reason(context: str, first_ok: bool, again_ok: bool, checked: bool, fresh, reuse: bool) -> str:
    if context == "none":
        return "no anti-replay context: libgnutls refuses every early data, the first flight's too"
    if not first_ok:
        return "the first flight's early data was refused"
    what = "second connection with the same ticket" if reuse else "replay"
    if again_ok:
        if reuse:
            return "accepted: a new ClientHello has a new binder, so the ticket's second use is not a duplicate"
        if context == "forgetful":
            return "accepted: the store never reports a duplicate"
        return ("accepted: the recording period rolled over since the first flight, and the store is asked "
                "with the new period's key")
    if not checked:
        return (f"{what} refused before the store was asked: the ticket age is off by more than the window, "
                "or the ticket is older than the current recording period")
    if fresh is False:
        return f"{what} refused: the store already holds this ClientHello's binder (GNUTLS_E_DB_ENTRY_EXISTS)"
    return f"{what} refused"


#: The real-clock mode's windows, in seconds: short enough that a run takes seconds, long enough that
#: a handshake (milliseconds) fits in a tenth of one.
REAL_CLOCK_WINDOWS = (0.5, 10.0)


def replay_experiment(window: float | None = None, *, early_data: bytes = DEFAULT_EARLY_DATA, lab=None,
                      real_clock: bool = False, captures: list | None = None) -> list[ReplayCase]:
    """The lesson's cases for one anti-replay ``window`` (seconds), in teaching order; ``captures``
    collects every case's flights (see :func:`replay_case`), two per case, in order.

    Fake clock (default): window 1 s or more (default 10 s), instant. ``real_clock=True``: window
    0.5-10 s (default 1 s), real waits of about 3 windows in all; the rollover case resumes half a
    window after the context began and replays 0.7 window later, so the replay's check starts a new
    period while the replay is still within a window of the original: accepted on every version.
    """
    if window is None:
        window = 1.0 if real_clock else 10.0
    if isinstance(window, bool) or not isinstance(window, (int, float)):
        raise UsageError(f"the window is a number of seconds (got {window!r})")
    low, high = REAL_CLOCK_WINDOWS if real_clock else (1, float("inf"))
    if not low <= window <= high:
        allowed = f"from {low:g} to {high:g} on the real clock" if real_clock else f"at least {low:g}"
        raise UsageError(f"the window is a number of seconds, {allowed} (got {window!r})")
    w = float(window)
    run = dict(window=w, early_data=early_data, lab=lab, real_clock=real_clock, captures=captures)
    if real_clock:
        late, rollover = dict(replay_after=1.5 * w), dict(resume_after=0.5 * w, replay_after=0.7 * w)
    else:
        late, rollover = dict(replay_after=w + 1), dict(resume_after=w - 1, replay_after=2)
    return [
        replay_case("no anti-replay context", context="none", **run),
        replay_case("store that forgets", context="forgetful", **run),
        replay_case("replay at once", **run),
        replay_case("replay after the window", **late, **run),
        replay_case("replay across a period rollover", **rollover, **run),
        replay_case("ticket reused by the client", reuse_ticket=True, **run),
    ]


class ReplaySweep(NamedTuple):
    """Replay acceptance over windows (rows) and replay delays (columns), for one ``resume_after``."""

    windows: tuple
    delays: tuple
    resume_after: float
    accepted: tuple  # accepted[i][j]: replay accepted with windows[i] and delays[j]
    gnutls_version: str
    clock_drives_anti_replay: bool
    clock: str = "fake"

    def accepted_delays(self, window: float) -> list[float]:
        row = self.accepted[self.windows.index(window)]
        return [d for d, ok in zip(self.delays, row) if ok]


def replay_sweep(windows: Sequence[float] = (5, 10, 20), delays: Sequence[float] = tuple(range(0, 31)),
                 resume_after: float = 8.0, *, lab=None, real_clock: bool = False) -> ReplaySweep:
    """Is the replay accepted, for each anti-replay window and each delay between resumption and replay?

    ``real_clock=True`` waits for real (each case takes ``resume_after + delay`` seconds): use short
    windows and delays, e.g. ``windows=(1,), delays=(0, 0.2, ..., 1.4), resume_after=0.6``; on the real
    clock ``resume_after`` counts from the start of the anti-replay context's first period."""
    if not windows or not delays:
        raise UsageError("give at least one window and one delay")
    rows = []
    for window in windows:
        rows.append(tuple(replay_case(window=window, resume_after=resume_after, replay_after=delay, lab=lab,
                                      real_clock=real_clock).replay_accepted for delay in delays))
    info = library_info()
    drives = True if real_clock else FakeClock().drives_ticket_age
    return ReplaySweep(tuple(float(w) for w in windows), tuple(float(d) for d in delays), float(resume_after),
                       tuple(rows), info.version, drives, "real" if real_clock else "fake")
