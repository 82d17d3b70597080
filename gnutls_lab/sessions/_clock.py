"""A fake clock for libgnutls, so that expiry and ticket-key rotation take seconds, not hours.

``gnutls_global_set_time_function`` replaces the library's ``gnutls_time`` for the whole process: blob
timestamps, the server's expiry checks (TLS 1.2 ticket and session cache, TLS 1.3 ticket) and the
ticket-key period all follow it. What it does *not* drive depends on the version: in 3.7.x the
high-resolution clock (TLS 1.3 ticket arrival time, the client's ticket age, the measured RTT) stays
real, so a 3.7 client still offers a ticket the fake clock has expired and the server refuses it; from
3.8.1 the same function also drives that clock and the client drops the stale ticket itself. Both end
in a full handshake; :attr:`FakeClock.drives_ticket_age` says which story the running library tells.
On 3.8 that clock then stays at whole seconds after the fake clock is gone (nothing public undoes it),
so a FakeClock that ends gives libgnutls a nanosecond wall clock back (``_restore_real_gettime``).

The clock is global state: one :class:`FakeClock` may be active at a time, in any thread.
"""

from __future__ import annotations

import threading
import time as _time
from datetime import datetime, timezone

from ..binding import load
from ..errors import UsageError

__all__ = ["FakeClock", "now", "CLOCK_HORIZON", "check_clock_value", "check_seconds"]

#: The last second libgnutls can represent everywhere it stores a time: session blobs and tickets keep
#: timestamps as unsigned 32-bit seconds (``lib/session_pack.c``), so a later clock wraps around
#: (7 February 2106). Clock values, gaps and lifetimes are checked against it before a callback sees them.
CLOCK_HORIZON = 2**32 - 1

_active_lock = threading.Lock()
_active: FakeClock | None = None


def check_seconds(value, what: str, *, allow_zero: bool = True) -> float:
    """``value`` as a finite number of seconds within the clock's horizon, or a :class:`UsageError`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{what} must be a number of seconds, not {value!r}")
    if value != value or value in (float("inf"), float("-inf")):
        raise UsageError(f"{what} must be a finite number of seconds, not {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise UsageError(f"{what} must be {'at least 0' if allow_zero else 'more than 0'} seconds, not {value!r}")
    if value > CLOCK_HORIZON:
        raise UsageError(f"{what} of {value:g} s is beyond what libgnutls can represent: times are 32-bit "
                         f"seconds, so at most {CLOCK_HORIZON} s (the year 2106)")
    return float(value)


def check_clock_value(timestamp, what: str = "fake clock time") -> float:
    """A Unix time the fake clock may show: 0 .. :data:`CLOCK_HORIZON`, or a :class:`UsageError`."""
    return check_seconds(timestamp, what)


def _time_callback(t):
    # Called by libgnutls (gnutls_time): must never raise into C. A clock that cannot answer
    # gives the real time and keeps the error for FakeClock.__exit__ to raise.
    clock = _active
    try:
        now = int(clock.now) if clock is not None else int(_time.time())
        if not 0 <= now <= CLOCK_HORIZON:
            raise UsageError(f"fake clock time {now} is beyond what libgnutls can represent")
    except BaseException as exc:  # noqa: BLE001 - handed back to Python after the C call
        if clock is not None and clock.callback_error is None:
            clock.callback_error = exc
        now = int(_time.time())
    if t:
        t[0] = now
    return now


def _time_callback_error(exc_type, exc_value, tb):  # not reached: _time_callback catches everything
    return int(_time.time())


_callback = None  # the cffi callback, created once and kept for the life of the process


def now() -> float:
    """The time libgnutls sees: the active :class:`FakeClock`'s, else the wall clock (Unix seconds)."""
    clock = _active
    return clock.now if clock is not None else _time.time()


def _c_callback():
    global _callback
    if _callback is None:
        ffi = load()[0]
        _callback = ffi.callback("gnutls_time_func", _time_callback, onerror=_time_callback_error)
    return _callback


def _real_gettime(t):
    # libgnutls's high-resolution clock (gnutls_gettime), the wall clock as its own _gnutls_gettime reads it.
    ns = _time.time_ns()
    t.tv_sec, t.tv_nsec = divmod(ns, 1_000_000_000)


_gettime_callback = None  # created once, like _callback


def _restore_real_gettime(ffi, lib) -> None:
    """Give libgnutls >= 3.8.1 its nanosecond clock back once a fake clock is gone.

    From 3.8.1 ``gnutls_global_set_time_function`` also replaces ``gnutls_gettime`` (ticket ages and
    arrival times, the anti-replay window, RTT estimates) with whole seconds read from the time
    function, and nothing in the public API undoes it: without this, every real-clock measurement made
    after a FakeClock would be rounded down to the second. 3.7 never touches it.
    """
    global _gettime_callback
    if load()[3].version_tuple < (3, 8, 1):
        return
    if _gettime_callback is None:
        _gettime_callback = ffi.callback("gnutls_gettime_func", _real_gettime)
    lib._gnutls_global_set_gettime_function(_gettime_callback)


class FakeClock:
    """The time libgnutls sees, under your control while the ``with`` block runs.

    >>> with FakeClock() as clock:          # starts at the real time
    ...     clock.advance(7260)              # two hours later, for libgnutls
    """

    def __init__(self, start: float | None = None):
        self.start = check_clock_value(_time.time() if start is None else start, "fake clock start")
        self.now = self.start
        self.callback_error: BaseException | None = None

    def advance(self, seconds: float) -> float:
        """Move the clock forward (never backward) and return the new time.

        The new time must stay within :data:`CLOCK_HORIZON` (libgnutls stores times as 32-bit seconds).
        """
        if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds < 0:
            raise UsageError(f"a fake clock only moves forward (asked to advance by {seconds} s)")
        seconds = check_seconds(seconds, "a fake clock step")
        self.now = check_clock_value(self.now + seconds, "the fake clock after this step")
        return self.now

    def set(self, timestamp: float) -> None:
        self.now = check_clock_value(timestamp)

    @property
    def elapsed(self) -> float:
        return self.now - self.start

    @property
    def drives_ticket_age(self) -> bool:
        """True from GnuTLS 3.8.1: the fake clock also moves TLS 1.3 ticket ages and arrival times."""
        return load()[3].version_tuple >= (3, 8, 1)

    def __enter__(self) -> FakeClock:
        global _active
        ffi, lib = load()[:2]
        with _active_lock:
            if _active is not None:
                raise UsageError("a FakeClock is already active; libgnutls has one global clock")
            _active = self
        lib.gnutls_global_set_time_function(_c_callback())
        return self

    def __exit__(self, *exc) -> None:
        global _active
        ffi, lib, libc = load()[:3]
        lib.gnutls_global_set_time_function(ffi.cast("gnutls_time_func", libc.time))
        _restore_real_gettime(ffi, lib)
        with _active_lock:
            _active = None
        error, self.callback_error = self.callback_error, None
        if error is not None and not any(exc):
            raise error

    def __repr__(self) -> str:
        when = datetime.fromtimestamp(self.now, tz=timezone.utc).isoformat(timespec="seconds")
        return f"<FakeClock {when} (+{self.elapsed:.0f} s)>"
