"""Experiments on real libgnutls handshakes (never mocked): the truth checks of issue 4, as the library
answers them, and the engine's policies, metrics and determinism."""

from __future__ import annotations

import math

import pytest

from gnutls_lab import FakeClock, UsageError
from gnutls_lab.analysis._experiments import (
    DEFAULT_LIFETIME,
    ExperimentConfig,
    draw_gaps,
    run_experiment,
    sweep_reuse,
    wilson_interval,
)

QUIET = {"progress": False}


def column(result, name):
    return [row[name] for row in result.records()]


# --- truth checks -------------------------------------------------------------------------------


@pytest.mark.parametrize("mechanism", ["tls13-psk", "tls12-ticket", "tls12-session-id"])
def test_defaults_resume_every_attempt_within_lifetime_for_every_k(mechanism):
    # 9 visits 10 min apart: 80 min, well inside libgnutls's default 21600 s lifetime
    sweep = sweep_reuse((1, 2, 3, None), mechanism=mechanism, visits=9, gap=600, **QUIET)
    for summary in sweep.records():
        assert summary["lifetime"] == DEFAULT_LIFETIME
        assert summary["attempts"] >= 4
        assert summary["success_rate"] == 1.0, summary
        assert summary["observer_agreement"] == 1.0


@pytest.mark.parametrize("mechanism", ["tls13-psk", "tls12-ticket", "tls12-session-id"])
def test_after_the_lifetime_the_attempt_falls_back_to_a_full_handshake(mechanism):
    result = run_experiment(mechanism=mechanism, visits=4, max_reuse=None, lifetime=600,
                            gaps=[540, 120, 60], **QUIET)
    rows = result.records()
    assert [r["attempted"] for r in rows] == [False, True, True, True]
    # visit 1: 540 s old, inside 600 s; visit 2: 660 s after the session was made, refused
    assert rows[1]["resumed"] and rows[1]["observer_resumed"]
    assert not rows[2]["resumed"] and not rows[2]["observer_resumed"]
    assert rows[2]["tickets_received"] >= 1  # a full handshake: fresh session data
    assert rows[3]["resumed"] and rows[3]["ticket"] != rows[2]["ticket"]


def test_who_refuses_an_expired_tls13_ticket_depends_on_the_library_version():
    result = run_experiment(visits=2, lifetime=600, gaps=[700], **QUIET)
    offered = result.observed[1].client_hello.psk_identities
    assert result.records()[1]["attempted"] and not result.records()[1]["resumed"]
    if FakeClock().drives_ticket_age:  # 3.8.1+: the client drops the stale ticket itself
        assert offered == ()
    else:  # 3.7: the client still offers it, the server refuses
        assert len(offered) == 1


def test_natural_key_rotation_accepts_the_previous_period_and_not_older():
    lifetime = 600
    period = 3 * lifetime
    # visit 1 just before the end of key period 0 (a full handshake: visit 0's ticket has expired),
    # visit 2 just after it with visit 1's ticket: the previous period's key still decrypts it
    result = run_experiment(visits=4, max_reuse=None, lifetime=lifetime,
                            gaps=[period - 30, 60, 2 * period], **QUIET)
    rows = result.records()
    assert [r["key_period"] for r in rows] == [0, 0, 1, 3]
    assert not rows[1]["resumed"] and rows[2]["resumed"]
    assert rows[3]["attempted"] and not rows[3]["resumed"]  # two key periods later: refused


def test_forced_rotation_kills_tickets_inside_their_lifetime():
    kept = run_experiment(visits=3, max_reuse=None, lifetime=3600, gaps=[400, 400], **QUIET)
    rotated = run_experiment(visits=3, max_reuse=None, lifetime=3600, gaps=[400, 400], rotate_every=300, **QUIET)
    assert column(kept, "resumed") == [False, True, True]
    assert column(rotated, "key_rotated") == [False, True, True]
    assert column(rotated, "resumed") == [False, False, False]
    assert rotated.summary()["success_rate"] == 0.0


def test_tls13_k1_links_no_pair_by_ticket_and_more_with_k():
    sweep = sweep_reuse((1, 2, 3, None), visits=12, gap=300, **QUIET)
    fractions = [s["ticket_linkable_pair_fraction"] for s in sweep.records()]
    assert fractions[0] == 0.0
    assert all(a < b for a, b in zip(fractions, fractions[1:])), fractions
    # unlimited: visits 1-11 present the same PSK identity; visit 0 received it encrypted
    assert sweep.records()[-1]["ticket_largest_cluster"] == 11


def test_tls13_client_repeats_its_legacy_session_id_so_k1_is_linkable_anyway():
    # GnuTLS sends the session ID stored in the session data as legacy_session_id (3.7.9 and 3.8.9
    # alike), and a resumed or refused session keeps it: the observer links every visit.
    result = run_experiment(visits=6, max_reuse=1, gap=60, **QUIET)
    hellos = [o.client_hello.session_id for o in result.observed]
    assert len(set(hellos)) == 1 and len(hellos[0]) == 32
    summary = result.summary()
    assert summary["ticket_linkable_pair_fraction"] == 0.0
    assert summary["linkable_pair_fraction"] == 1.0
    assert column(result, "linked_by")[1:] == ["session_id"] * 5


def test_a_refused_tls13_resumption_still_passes_the_session_id_on():
    # 3.7.9 offers the expired ticket and the server refuses it; 3.8.9 drops the ticket itself. Both
    # still send the stored session ID, the server echoes it and the new session data keeps it.
    result = run_experiment(visits=4, max_reuse=1, lifetime=600, gaps=[60, 700, 60], **QUIET)
    assert column(result, "resumed") == [False, True, False, True]
    assert column(result, "attempted") == [False, True, True, True]
    ids = [(o.client_hello.session_id, o.server_hello.session_id) for o in result.observed]
    assert len(set(ids)) == 1 and len(ids[0][0]) == 32 and ids[0][0] == ids[0][1]
    assert result.summary()["linkable_pair_fraction"] == 1.0


def test_without_compat_mode_the_legacy_session_id_is_empty_and_k1_links_nothing():
    result = run_experiment(visits=8, max_reuse=1, gap=60, compat_mode=False, **QUIET)
    assert all(o.client_hello.session_id == b"" == o.server_hello.session_id for o in result.observed)
    summary = result.summary()
    assert summary["compat_mode"] is False and summary["success_rate"] == 1.0
    assert summary["linkable_pair_fraction"] == 0.0 and summary["largest_cluster"] == 1
    reused = run_experiment(visits=8, max_reuse=2, gap=60, compat_mode=False, **QUIET).summary()
    assert 0.0 < reused["linkable_pair_fraction"] == reused["ticket_linkable_pair_fraction"]


def test_compat_mode_is_a_client_setting_and_leaves_tls12_alone():
    lab = ExperimentConfig(compat_mode=False).make_lab()
    assert lab.client_priority.endswith(":%DISABLE_TLS13_COMPAT_MODE")
    assert "%DISABLE_TLS13_COMPAT_MODE" not in lab.priority  # the server's priority is unchanged
    tls12 = run_experiment(mechanism="tls12-ticket", visits=4, max_reuse=1, gap=60, compat_mode=False, **QUIET)
    assert column(tls12, "resumed") == [False, True, False, True]


def test_tls12_ticket_links_every_resuming_visit_even_with_k1():
    result = run_experiment(mechanism="tls12-ticket", visits=8, max_reuse=1, gap=60, **QUIET)
    summary = result.summary()
    assert column(result, "resumed") == [False, True] * 4
    assert summary["linked_visit_fraction"] == 1.0
    # the chain stops after one resumption: a GnuTLS TLS 1.2 server issues no new ticket on a
    # ticket resumption, so the next visit is a full handshake with a fresh ticket
    assert summary["largest_cluster"] == 2 and summary["ticket_largest_cluster"] == 2
    assert all("ticket" in row["linked_by"] for row in result.records()[1::2])


def test_tls12_unlimited_reuse_is_one_chain_prolonged_past_the_lifetime():
    result = run_experiment(mechanism="tls12-ticket", visits=8, max_reuse=None, lifetime=600, gap=200, **QUIET)
    summary = result.summary()
    assert column(result, "resumed") == [False, True, True, True, False, True, True, True]
    # visit 4 presents the expired ticket and receives a new one in clear: the chain goes on
    assert summary["largest_cluster"] == 8 and summary["ticket_largest_cluster"] == 8
    assert summary["max_tracking_seconds"] == 1400 > 600


def test_same_seed_same_result_and_another_seed_differs():
    options = dict(visits=15, max_reuse=2, gaps="exponential", gap=3600, lifetime=7200, **QUIET)
    a, b, c = run_experiment(seed=7, **options), run_experiment(seed=7, **options), run_experiment(seed=8, **options)
    assert a.records() == b.records() and a.summary() == b.summary()
    assert column(a, "time_s") != column(c, "time_s")


# --- policies ------------------------------------------------------------------------------------


def test_no_resumption_policy_makes_only_full_handshakes():
    summary = run_experiment(visits=4, max_reuse=0, **QUIET).summary()
    assert summary["attempts"] == 0 and summary["success_rate"] is None
    assert summary["full_handshakes"] == 4 and summary["ticket_linkable_pair_fraction"] == 0.0


def test_pool_spends_the_oldest_ticket_first_and_newest_the_last():
    pool = run_experiment(visits=4, choice="pool", gap=10, **QUIET)
    newest = run_experiment(visits=4, choice="newest", max_reuse=None, gap=10, **QUIET)
    assert column(pool, "ticket") == [None, "T1", "T2", "T3"]
    assert column(newest, "ticket") == [None, "T2", "T4", "T6"]  # two tickets per handshake


def test_reuse_policy_offers_one_ticket_k_times_then_the_newest():
    result = run_experiment(visits=6, max_reuse=2, gap=10, **QUIET)
    assert column(result, "ticket") == [None, "T2", "T2", "T6", "T6", "T10"]
    assert column(result, "ticket_use") == [None, 1, 2, 1, 2, 1]


def test_tickets_per_handshake_and_tickets_off():
    one = run_experiment(visits=3, tickets_per_handshake=1, gap=10, **QUIET)
    assert column(one, "tickets_received") == [1, 1, 1]
    off = run_experiment(visits=3, tickets=False, gap=10, **QUIET)
    assert off.summary()["attempts"] == 0 and column(off, "tickets_received") == [0, 0, 0]


def test_session_id_mechanism_needs_the_server_cache():
    summary = run_experiment(mechanism="tls12-session-id", session_cache=False, visits=3, gap=10, **QUIET).summary()
    assert summary["attempts"] == 2 and summary["resumed"] == 0


# --- metrics and helpers -------------------------------------------------------------------------


def test_wilson_interval_known_values():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(10, 10)
    assert high == 1.0 and math.isclose(low, 0.7225, abs_tol=1e-4)
    low, high = wilson_interval(5, 10)
    assert math.isclose(low, 0.2366, abs_tol=1e-4) and math.isclose(high, 0.7634, abs_tol=1e-4)
    with pytest.raises(UsageError):
        wilson_interval(3, 2)


def test_gap_distributions():
    assert draw_gaps("fixed", 3, 5.0) == [5.0, 5.0, 5.0]
    exponential = draw_gaps("exponential", 20000, 100.0, seed=1)
    assert 97 < sum(exponential) / len(exponential) < 103
    uniform = draw_gaps("uniform", 2000, 100.0, seed=1)
    assert min(uniform) >= 0 and max(uniform) <= 200
    sy = draw_gaps("sy2018", 20000, seed=1)
    assert abs(sum(g <= 300 for g in sy) / len(sy) - 0.177) < 0.01  # Sy et al.: 17.7 % within 5 min
    assert abs(sum(g <= 86400 for g in sy) / len(sy) - 0.816) < 0.01
    assert draw_gaps("sy2018", 50, seed=4) == draw_gaps("sy2018", 50, seed=4)
    with pytest.raises(UsageError, match="unknown gap distribution"):
        draw_gaps("normal", 3)


@pytest.mark.parametrize("options, message", [
    ({"mechanism": "tls13-ticket"}, "unknown mechanism"),
    ({"visits": 0}, "at least one visit"),
    ({"max_reuse": -1}, "max_reuse"),
    ({"choice": "random"}, "choice"),
    ({"visits": 3, "gaps": [1.0]}, "need 2 gaps"),
    ({"gap": -5}, "gap between visits"),
    ({"rotate_every": 0}, "rotate_every"),
])
def test_config_refuses_nonsense(options, message):
    with pytest.raises(UsageError, match=message):
        ExperimentConfig(**options)


def test_records_summary_and_views():
    result = run_experiment(visits=3, gap=30, **QUIET)
    rows = result.records()
    assert {"visit", "time_s", "attempted", "resumed", "observer_resumed", "cluster", "linked_by"} <= set(rows[0])
    rows[0]["visit"] = 99
    assert result.records()[0]["visit"] == 0  # records() hands out copies
    assert "resumed 2/2" in repr(result) and "<table>" in result._repr_html_()
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(UsageError, match="pandas"):
            result.to_dataframe()
    else:
        assert list(result.to_dataframe()["visit"]) == [0, 1, 2]


def test_sweep_records_one_row_per_k_and_visit_records_all():
    sweep = sweep_reuse((1, None), visits=3, gap=30, **QUIET)
    assert [s["reuse_limit"] for s in sweep.records()] == [1, None]
    assert len(sweep.visit_records()) == 6
    assert "k=unlimited" in repr(sweep) and "<table>" in sweep._repr_html_()


def test_progress_is_quiet_when_asked_and_shown_when_asked(capsys):
    run_experiment(visits=2, progress=False)
    assert capsys.readouterr().err == ""
    run_experiment(visits=2, progress=True)
    assert "visit" in capsys.readouterr().err


def test_a_fake_clock_already_running_is_refused():
    with FakeClock():
        with pytest.raises(UsageError, match="already active"):
            run_experiment(visits=1, **QUIET)


def test_records_say_what_the_client_hello_showed_in_clear():
    rows = run_experiment(mechanism="tls12-ticket", visits=3, max_reuse=1, gap=60, **QUIET).records()
    # a GnuTLS TLS 1.2 client asks for a ticket with an empty extension and no session ID first
    assert rows[0]["offered_in_clear"] == ""
    assert "ticket" in rows[1]["offered_in_clear"].split(",")
    rows = run_experiment(visits=2, gap=60, **QUIET).records()
    assert rows[1]["offered_in_clear"] == "psk_identity,session_id"


def test_why_the_fake_clock_starts_in_the_future_on_gnutls_3_7():
    # GnuTLS 3.7 computes a resumed session's new TLS 1.3 ticket lifetime from the fake session
    # timestamp and the real high-resolution clock; with the fake clock a day in the past the session
    # looks expired and gets no ticket. 3.8.1+ reads both from the fake clock.
    import time

    past = run_experiment(visits=2, lifetime=600, gap=60, start=time.time() - 86400, **QUIET).records()
    assert past[1]["resumed"]
    assert past[1]["tickets_received"] == (2 if FakeClock().drives_ticket_age else 0)
    assert run_experiment(visits=2, lifetime=600, gap=60, **QUIET).records()[1]["tickets_received"] == 2
