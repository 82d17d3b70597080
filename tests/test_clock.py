"""The fake clock drives libgnutls's time: blob timestamps, expiry and ticket-key periods."""

from __future__ import annotations

import struct
import time

import pytest

from gnutls_lab import FakeClock, Lab, UsageError, library_info


def test_blob_timestamps_follow_the_fake_clock():
    lab = Lab("1.2")
    start = 1_700_000_000
    with FakeClock(start) as clock:
        with lab.connect() as conn:
            timestamp = struct.unpack(">I", conn.session_data.data[4:8])[0]
        assert timestamp == start
        clock.advance(500)
        with lab.connect() as conn:
            assert struct.unpack(">I", conn.session_data.data[4:8])[0] == start + 500
    with lab.connect() as conn:  # real time again after the block
        assert abs(struct.unpack(">I", conn.session_data.data[4:8])[0] - time.time()) < 60


def test_one_clock_at_a_time_and_only_forward():
    with FakeClock() as clock:
        with pytest.raises(UsageError):
            clock.advance(-1)
        with pytest.raises(UsageError):
            with FakeClock():
                pass
    with FakeClock():  # usable again once the first has ended
        pass


def test_the_key_period_is_three_lifetimes():
    """GnuTLS derives the ticket key of period floor(now / (3 x lifetime)) from the master key and also
    accepts the previous period's: a ticket still within its lifetime survives a period boundary."""
    lifetime = 100
    period = 3 * lifetime
    start = (1_700_000_000 // period + 1) * period - 30  # 30 s before a period ends
    lab = Lab("1.3", lifetime=lifetime)
    with FakeClock(start) as clock:
        with lab.connect() as conn:
            data = conn.session_data
        clock.advance(40)  # now in the next period, the ticket 40 s old
        with lab.connect(resume=data) as conn:
            assert conn.resumed


def test_the_same_master_key_with_another_lifetime_is_another_key():
    """The period length is part of the derivation: a server restarted with another lifetime cannot
    read its own earlier tickets even with the same master key."""
    short = Lab("1.3", lifetime=100)
    with short.connect() as conn:
        data = conn.session_data
    same_key_same_lifetime = Lab("1.3", lifetime=100, ticket_key=short.ticket_key)
    with same_key_same_lifetime.connect(resume=data) as conn:
        assert conn.resumed
    same_key_other_lifetime = Lab("1.3", lifetime=7200, ticket_key=short.ticket_key)
    with same_key_other_lifetime.connect(resume=data) as conn:
        assert conn.offered_resumption and not conn.resumed


def test_drives_ticket_age_tells_what_the_library_does():
    """The property follows the version (3.8.1+); the library is asked too: a TLS 1.3 ticket received under a
    fake clock set far from today stores the fake clock's time as its arrival time only where the fake clock
    drives libgnutls's high-resolution clock (3.7.9: the real time; 3.8.9, 3.8.13: the fake one)."""
    from gnutls_lab.analysis import decode

    start = 1_000_000
    with FakeClock(start):
        with Lab("1.3").connect(observe=False) as conn:
            arrival = decode(conn.session_data.data).tls13.arrival_time_raw[0]
    assert FakeClock().drives_ticket_age == (abs(arrival - start) < 10), (arrival, library_info().version)
    assert FakeClock().drives_ticket_age == (library_info().version_tuple >= (3, 8, 1))
    assert "FakeClock" in repr(FakeClock(0))


def test_after_a_fake_clock_libgnutls_has_its_nanosecond_clock_back():
    """From 3.8.1 gnutls_global_set_time_function also turns libgnutls's high-resolution clock
    (gnutls_gettime: ticket arrival times and ages, the anti-replay window) into whole seconds of the
    time function, for the life of the process; FakeClock puts the real one back when it ends. A TLS 1.3
    ticket's arrival time shows which clock ran: whole seconds under the fake clock on 3.8, nanoseconds
    after it (and always on 3.7, whose fake clock never touches that clock)."""
    from gnutls_lab.analysis import decode

    def arrival_nsec() -> list:
        return [decode(Lab("1.3").connect().session_data.data).tls13.arrival_time_raw[1] for _ in range(3)]

    with FakeClock():
        under = arrival_nsec()
    after = arrival_nsec()
    assert any(after), after  # three tickets all at a whole second: one chance in 10**27
    if library_info().version_tuple >= (3, 8, 1):
        assert under == [0, 0, 0], under
    else:
        assert any(under), under
