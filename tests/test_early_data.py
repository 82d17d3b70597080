"""TLS 1.3 early data and its replay, with the real libgnutls (gnutls_lab/sessions/_early_data.py and
gnutls_lab/analysis/_replay.py). Where GnuTLS 3.7 and 3.8 differ (the fake clock drives the anti-replay
clock from 3.8.1 only), each test asserts what the running version does."""

from __future__ import annotations

import pytest

from gnutls_lab import (AntiReplay, FakeClock, GnuTLSError, GnuTLSLabError, Lab, UsageError, ZeroRttLab,
                        library_info, memory_pair)
from gnutls_lab.analysis._decode import decode
from gnutls_lab.analysis._replay import replay_case, replay_experiment, replay_sweep
from gnutls_lab.binding._library import load
from gnutls_lab.sessions._early_data import first_flight

CLOCK_DRIVES_ANTI_REPLAY = library_info().version_tuple >= (3, 8, 1)
PAYLOAD = b"POST /pay?amount=100"


@pytest.fixture(scope="module")
def lab():
    with Lab("1.3") as lab:
        yield lab


def zero_rtt(lab, **options):
    return ZeroRttLab(lab, **options)


def test_the_binding_has_the_early_data_and_anti_replay_api():
    ffi, lib = load()[:2]
    assert lib.GNUTLS_ENABLE_EARLY_DATA == 1 << 20
    assert lib.GNUTLS_E_DB_ENTRY_EXISTS == -428 and lib.GNUTLS_SFLAGS_EARLY_DATA == 1 << 10
    for name in ("gnutls_record_send_early_data", "gnutls_record_recv_early_data",
                 "gnutls_record_set_max_early_data_size", "gnutls_anti_replay_init",
                 "gnutls_anti_replay_set_window", "gnutls_anti_replay_set_add_function",
                 "gnutls_anti_replay_set_ptr", "gnutls_anti_replay_enable"):
        assert getattr(lib, name)


def test_the_ticket_carries_max_early_data_size_into_the_session_data(lab):
    ticket = zero_rtt(lab, early_data=1000, anti_replay=AntiReplay()).issue_ticket()
    assert decode(ticket.data).tls13.max_early_data_size == 1000
    assert "tls13.max_early_data_size" in decode(ticket.data).ranges  # the field the decoder names
    with zero_rtt(lab, early_data=1000, anti_replay=AntiReplay()).resume(ticket) as again:
        assert again.client.max_early_data_size == 1000  # what this client may send in 0-RTT
    sender = zero_rtt(lab, early_data=1000)._client(memory_pair(None)[0])
    sender.set_data(ticket)
    assert sender.send_early_data(PAYLOAD) == 0  # queued whole; the manual promises a byte count
    with pytest.raises(GnuTLSError, match="RECORD_LIMIT_REACHED"):
        sender.send_early_data(b"x" * 1000)  # beyond the ticket's limit
    sender.close()


def test_a_ticket_from_a_server_without_early_data(lab):
    with lab.connect() as plain:
        ticket = plain.session_data
    stored = decode(ticket.data).tls13.max_early_data_size
    client = zero_rtt(lab)._client(memory_pair(None)[0])
    client.set_data(ticket)
    if library_info().version_tuple >= (3, 8):
        assert stored == 0  # no early_data extension in the ticket: no early data
        with pytest.raises(GnuTLSError, match="RECORD_LIMIT_REACHED"):
            client.send_early_data(PAYLOAD)
    else:
        assert stored == 0xFFFFFFFF  # 3.7 stores "no limit" and its client queues early data anyway
        assert client.max_early_data_size == 0xFFFFFFFF and client.send_early_data(PAYLOAD) == 0
    client.close()


def test_without_an_anti_replay_context_libgnutls_refuses_all_early_data(lab):
    z = zero_rtt(lab, anti_replay=None)
    with z.resume(z.issue_ticket(), PAYLOAD) as first:
        assert first.resumed  # the ticket is fine...
        assert first.server.early_data == b""  # ...but the early data is skipped
        assert not first.server.early_data_accepted and not first.client.early_data_accepted


def test_a_store_that_forgets_lets_the_server_deliver_the_same_early_data_twice(lab):
    z = zero_rtt(lab, anti_replay=AntiReplay(10, remember=False))
    with z.resume(z.issue_ticket(), PAYLOAD) as first:
        assert first.server.early_data == PAYLOAD and first.server.early_data_accepted
        assert first.client.early_data_accepted and first.client.early_data_sent == PAYLOAD
        flight = first_flight(first.wire)
    replayed = z.replay(flight)
    assert replayed.early_data == PAYLOAD and replayed.early_data_accepted and replayed.resumed
    assert z.replay(flight).early_data == PAYLOAD  # and a third time
    assert [fresh for _, _, fresh in z.anti_replay.events] == [True, True, True]


def test_a_remembering_store_delivers_the_early_data_once_and_never_twice(lab):
    anti_replay = AntiReplay(10)
    z = zero_rtt(lab, anti_replay=anti_replay)
    with z.resume(z.issue_ticket(), PAYLOAD) as first:
        assert first.server.early_data == PAYLOAD
        flight = first_flight(first.wire)
    for _ in range(2):
        replayed = z.replay(flight)
        assert replayed.resumed and replayed.checked  # the ticket is accepted, the early data is not
        assert replayed.early_data == b"" and not replayed.early_data_accepted
    assert [fresh for _, _, fresh in anti_replay.events] == [True, False, False]
    (key,) = anti_replay.entries
    assert len(key) - 12 in (32, 48)  # 12 bytes of recording-period start, then the PSK binder


def test_the_first_flight_is_the_client_hello_and_the_early_data_records(lab):
    z = zero_rtt(lab, anti_replay=AntiReplay())
    with z.resume(z.issue_ticket(), PAYLOAD) as first:
        flight = first_flight(first.wire)
    assert flight[0] == 0x16 and flight[5] == 0x01  # a handshake record holding a ClientHello
    hello_length = 5 + int.from_bytes(flight[3:5], "big")
    assert flight[hello_length] == 0x17  # then an encrypted record: the early data
    with pytest.raises(UsageError):
        first_flight([])


def test_a_second_0rtt_connection_with_the_same_ticket_is_not_a_replay(lab):
    case = replay_case("reuse", reuse_ticket=True, lab=lab)
    assert case.first_accepted and case.replay_accepted and case.checked


def test_a_replay_after_the_window(lab):
    case = replay_case(window=10, replay_after=11, lab=lab)
    assert case.first_accepted and not case.replay_accepted
    if CLOCK_DRIVES_ANTI_REPLAY:
        assert not case.checked  # refused by the ticket-age check before the store is asked
    else:
        assert case.checked  # 3.7: 11 fake seconds are a few real milliseconds: the store finds the duplicate


def test_a_replay_across_a_recording_period_rollover(lab):
    case = replay_case(window=10, resume_after=9, replay_after=2, lab=lab)
    assert case.first_accepted
    if CLOCK_DRIVES_ANTI_REPLAY:
        # 11 s after the context started, the check starts a new period; the replay's ticket age is only
        # 2 s off, and the store is asked with the new period's key: the same early data is delivered again.
        assert case.replay_accepted and case.checked
    else:
        assert not case.replay_accepted and case.checked


def test_tickets_older_than_the_recording_period_get_no_early_data(lab):
    case = replay_case(window=10, resume_after=30, replay_after=0, lab=lab)
    assert case.first_accepted  # the check that rolls the period over still accepts this flight
    assert not case.replay_accepted
    assert case.checked is (not CLOCK_DRIVES_ANTI_REPLAY)


def test_the_experiment_cases(lab):
    cases = {c.case: c for c in replay_experiment(10, lab=lab)}
    assert list(cases)[0] == "no anti-replay context"
    none = cases["no anti-replay context"]
    assert not none.anti_replay and not none.first_accepted and not none.replay_accepted
    assert cases["store that forgets"].replay_accepted and not cases["store that forgets"].anti_replay
    assert not cases["replay at once"].replay_accepted and cases["replay at once"].anti_replay
    assert cases["replay across a period rollover"].replay_accepted is CLOCK_DRIVES_ANTI_REPLAY
    assert {c.early_data_bytes for c in cases.values()} == {36}  # DEFAULT_EARLY_DATA
    assert {c.window for c in cases.values()} == {10.0}


def test_on_the_real_clock_every_version_accepts_the_replay_across_a_rollover(lab):
    """Issue 17 §3.1: not a 3.8 effect. With a 1 s window on the real clock (after fake-clock cases ran in
    this process, which on 3.8 would have left libgnutls on whole seconds without FakeClock's restore), a
    flight resumed 0.5 s into the period and replayed 0.7 s later is delivered again, on 3.7.9, 3.8.9 and
    3.8.13; replayed at once it is refused; 1.5 s later it is stale."""
    replay_case(window=10, resume_after=9, replay_after=2, lab=lab)  # a fake-clock case first
    cases = {c.case: c for c in replay_experiment(1.0, lab=lab, real_clock=True)}
    assert {c.clock for c in cases.values()} == {"real"}
    rollover = cases["replay across a period rollover"]
    assert rollover.first_accepted and rollover.replay_accepted and rollover.checked
    assert 0.5 <= rollover.resume_after < 1.0 and rollover.resume_after + rollover.replay_after > 1.0
    assert rollover.replay_after <= 1.0  # the timeline held: within a window of the original
    assert not cases["replay at once"].replay_accepted and cases["replay at once"].checked
    late = cases["replay after the window"]
    assert late.first_accepted and not late.replay_accepted and not late.checked
    assert cases["store that forgets"].replay_accepted and not cases["no anti-replay context"].first_accepted


def test_real_clock_windows_are_checked(lab):
    for bad in (0.1, 11):
        with pytest.raises(UsageError, match="on the real clock"):
            replay_experiment(bad, lab=lab, real_clock=True)


def test_the_sweep_finds_the_rollover_gap_only_where_the_clock_reaches_the_anti_replay(lab):
    sweep = replay_sweep(windows=(5, 10), delays=(0, 1, 2, 3, 10, 11), resume_after=8, lab=lab)
    if CLOCK_DRIVES_ANTI_REPLAY:
        assert sweep.accepted_delays(5) == []  # resumed after the window: the period rolled at once
        assert sweep.accepted_delays(10) == [3.0, 10.0]  # 8 + d > 10 (rollover) and d <= 10 (fresh)
    else:
        assert sweep.accepted == ((False,) * 6,) * 2
    assert sweep.clock_drives_anti_replay is CLOCK_DRIVES_ANTI_REPLAY


def test_an_error_in_the_add_function_is_raised_in_python_not_into_c(lab):
    class Broken(AntiReplay):
        def _add(self, expires, key, data):
            raise RuntimeError("store unavailable")

    z = zero_rtt(lab, anti_replay=Broken())
    ticket = z.issue_ticket()
    with pytest.raises(RuntimeError, match="store unavailable"):
        z.resume(ticket, PAYLOAD)


def test_the_0rtt_client_follows_the_labs_compat_mode():
    with Lab("1.3", compat_mode=False) as plain:
        z = zero_rtt(plain, anti_replay=AntiReplay())
        with z.resume(z.issue_ticket(), PAYLOAD) as conn:
            assert conn.client.priority == plain.client_priority
            assert conn.client.priority.endswith(":%DISABLE_TLS13_COMPAT_MODE")
            hello = conn.transcript[0]
            assert hello.name == "CLIENT HELLO" and hello.body[34] == 0  # empty legacy_session_id
            assert conn.server.early_data == PAYLOAD


@pytest.mark.parametrize("call,message", [
    (lambda lab: AntiReplay(-1), "the anti-replay window is a number of seconds, 0 or more, not -1"),
    (lambda lab: zero_rtt(lab, early_data=-5)._server(None), "early_data is a number of bytes, 0 or more, not -5"),
    (lambda lab: ZeroRttLab(Lab("1.2")), "early data exists only in TLS 1.3: use a Lab('1.3')"),
    (lambda lab: replay_experiment(0.5), "the window is a number of seconds, at least 1 (got 0.5)"),
    (lambda lab: replay_case(context="sometimes"),
     "context must be 'none', 'forgetful' or 'remembering', not 'sometimes'"),
])
def test_usage_errors(lab, call, message):
    """Each refusal is a UsageError itself (what the CLI turns into one line and exit status 2) naming the value."""
    with pytest.raises(GnuTLSLabError) as info:
        call(lab)
    assert (info.type, str(info.value)) == (UsageError, message)


def test_the_fake_clock_is_released_after_each_case(lab):
    replay_case(lab=lab)
    with FakeClock():  # would raise if a case had left its clock active
        pass


def test_the_figures_state_what_was_measured(lab):
    from gnutls_lab import plot_replay_sweep, plot_zero_rtt_flights

    sweep = replay_sweep(windows=(10,), delays=(0, 5, 12), resume_after=8, lab=lab)
    title = plot_replay_sweep(sweep).axes[0].get_title()
    assert title.startswith(f"GnuTLS {library_info().version}: ")
    if CLOCK_DRIVES_ANTI_REPLAY:
        assert sweep.accepted == ((False, True, False),) and "1 replay accepted, each after a recording-period rollover" in title
    else:
        assert sweep.accepted == ((False, False, False),) and "real time" in title
    assert "first flight" in plot_zero_rtt_flights().axes[0].get_title()
