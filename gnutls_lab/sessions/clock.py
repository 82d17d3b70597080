"""A fake clock for libgnutls, so that expiry and ticket-key rotation take seconds, not hours.

``gnutls_global_set_time_function`` replaces the library's ``gnutls_time`` for the whole process: blob
timestamps, the server's expiry checks (TLS 1.2 ticket and session cache, TLS 1.3 ticket) and the
ticket-key period all follow it. What it does *not* drive depends on the version: in 3.7.x the
high-resolution clock (TLS 1.3 ticket arrival time, the client's ticket age, the measured RTT) stays
real, so a 3.7 client still offers a ticket the fake clock has expired and the server refuses it; from
3.8.1 the same function also drives that clock and the client drops the stale ticket itself. Both end
in a full handshake; :attr:`FakeClock.drives_ticket_age` says which story the running library tells.

The clock is global state: one :class:`FakeClock` may be active at a time, in any thread.
"""

from __future__ import annotations

import threading
import time as _time
from datetime import datetime, timezone

from ..binding.library import load
from ..errors import UsageError

__all__ = ["FakeClock"]

_active_lock = threading.Lock()
_active: FakeClock | None = None


def _time_callback(t):
    clock = _active
    now = int(clock.now) if clock is not None else int(_time.time())
    if t:
        t[0] = now
    return now


_callback = None  # the cffi callback, created once and kept for the life of the process


def _c_callback():
    global _callback
    if _callback is None:
        ffi = load()[0]
        _callback = ffi.callback("gnutls_time_func", _time_callback)
    return _callback


class FakeClock:
    """The time libgnutls sees, under your control while the ``with`` block runs.

    >>> with FakeClock() as clock:          # starts at the real time
    ...     clock.advance(7260)              # two hours later, for libgnutls
    """

    def __init__(self, start: float | None = None):
        self.start = float(_time.time() if start is None else start)
        self.now = self.start

    def advance(self, seconds: float) -> float:
        """Move the clock forward (never backward) and return the new time."""
        if seconds < 0:
            raise UsageError(f"a fake clock only moves forward (asked to advance by {seconds} s)")
        self.now += seconds
        return self.now

    def set(self, timestamp: float) -> None:
        self.now = float(timestamp)

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
        with _active_lock:
            _active = None

    def __repr__(self) -> str:
        when = datetime.fromtimestamp(self.now, tz=timezone.utc).isoformat(timespec="seconds")
        return f"<FakeClock {when} (+{self.elapsed:.0f} s)>"
