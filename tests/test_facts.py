"""What libgnutls does with resumption, checked live on the running version (gnutls_lab.analysis._facts).

Each test states the answer of GnuTLS 3.7.9, 3.8.9 and 3.8.13 (``make test``, ``make test-3.8``,
``make test-newest``); where they differ, the test says which version does what. These functions are
the notebooks' live checks: a test that fails here means a notebook's sentence is wrong for that library.
"""

from __future__ import annotations

import pytest

from gnutls_lab import library_info
from gnutls_lab.analysis._facts import (
    attempt_resumption,
    client_lifetime_copy,
    compat_mode_switch,
    early_data_on_a_ticket_without_it,
    early_data_with_a_larger_claimed_age,
    expiry_on_each_clock,
    partial_set_data,
    psk_ke_resumption,
    public_ticket_key_exposure,
    server_expiry_rules,
    stored_max_early_data_size,
    ticket_timing,
    tickets_without_psk_key_exchange_modes,
    version_flip_in_set_data,
)

VERSION = library_info().version_tuple


def test_turning_compat_mode_off_needs_a_full_handshake():
    """Issue 17 §2.1: a client that turns %DISABLE_TLS13_COMPAT_MODE on but resumes with data from a
    compat-mode handshake keeps sending that handshake's 32-byte legacy_session_id; only a client whose
    data comes from a handshake with compat mode off sends none (3.7.9, 3.8.9, 3.8.13)."""
    run = compat_mode_switch(visits=4)
    assert run.resumed == (False, True, True, True)
    assert len(run.switched[0]) == 32 and set(run.switched) == {run.switched[0]}
    assert run.fresh == (b"", b"", b"", b"")


def test_which_clock_the_clients_expiry_check_reads():
    """§2.2: under the fake clock a 3.7 client offers an expired TLS 1.3 ticket (the server refuses it),
    a 3.8.1+ client drops it; on the real clock every version's client drops it."""
    clocks = expiry_on_each_clock()
    assert clocks.real_clock.who == "the client dropped the ticket"
    if VERSION >= (3, 8, 1):
        assert clocks.fake_clock.who == "the client dropped the ticket" and clocks.client_clock == "fake"
    else:
        assert clocks.fake_clock.who == "the server refused it" and clocks.client_clock == "real"


def test_the_clients_lifetime_copy_decides_when_it_stops_offering():
    """§2.3: the client's copy set to 1 s: it resumes at once, and 2.2 s later the client itself drops
    the ticket (no pre_shared_key), though the server would still accept it (its own lifetime is 6 h)."""
    copy = client_lifetime_copy(lifetime=1, wait=2.2)
    assert copy.at_once.resumed and copy.at_once.offered
    assert copy.later.who == "the client dropped the ticket"


def test_max_early_data_size_stored_for_a_ticket_without_early_data():
    """§2.4: 0xFFFFFFFF on 3.7.x (and 3.8.0-3.8.8, not tested here), 0 from 3.8.9 (gnutls#1619)."""
    expected = 0 if VERSION >= (3, 8, 9) else 0xFFFFFFFF
    assert stored_max_early_data_size() == expected


@pytest.mark.parametrize("certificate_request, resumed, expected", [
    (False, False, "with the server's first flight"),
    (True, False, "after the client's Finished"),
    (False, True, "after the client's Finished"),
    (True, True, "after the client's Finished"),
])
def test_when_tls13_tickets_leave_the_server(certificate_request, resumed, expected):
    """§2.7: with the first flight only on a full handshake without a certificate request."""
    assert ticket_timing(certificate_request=certificate_request, resumed=resumed) == expected


def test_a_larger_claimed_age_refuses_only_the_early_data():
    """§2.9: client age > server age: the early data is refused before the store is asked, and the
    handshake resumes (3.7.9, 3.8.9, 3.8.13)."""
    outcome = early_data_with_a_larger_claimed_age(5.0)
    assert outcome.resumed and outcome.client_sent_early_data
    assert not outcome.early_data_accepted and not outcome.store_asked


def test_a_plus_psk_server_without_dhe_psk_resumes_with_psk_ke():
    """§3.3: the client offers psk_dhe_ke and psk_ke; a server with +PSK but no (EC)DHE-PSK takes psk_ke
    (no key_share: the resumed connection has no forward secrecy), silently. Control: the default server."""
    plain = psk_ke_resumption()
    assert 1 in plain.client_modes and 0 in plain.client_modes  # GNUTLS_PSK_KE_DHE and psk_ke
    assert plain.attempt.resumed and not plain.attempt.key_share
    control = psk_ke_resumption("NORMAL:-VERS-ALL:+VERS-TLS1.3")
    assert control.attempt.resumed and control.attempt.key_share


def test_early_data_on_a_ticket_that_did_not_allow_it():
    """§3.3: a 3.7 client sends 0-RTT data on a ticket issued without early data (RFC 8446 §4.2.10: it
    must not); 3.8.9 and 3.8.13 refuse in gnutls_record_send_early_data."""
    outcome = early_data_on_a_ticket_without_it()
    if VERSION >= (3, 8, 9):
        assert outcome.error == "GNUTLS_E_RECORD_LIMIT_REACHED" and not outcome.client_sent_early_data
    else:
        assert outcome.error == "" and outcome.client_sent_early_data
        assert outcome.resumed and not outcome.early_data_accepted  # the server skips it


def test_servers_send_tickets_to_clients_without_psk_key_exchange_modes():
    """§3.3: RFC 8446 §4.2.9 says a server SHOULD NOT send tickets the client cannot use; a GnuTLS
    server sends two to a client whose ClientHello has no psk_key_exchange_modes."""
    modes, tickets = tickets_without_psk_key_exchange_modes()
    assert modes == () and tickets == 2


def test_the_servers_two_expiry_checks():
    """§3.3: the session's original timestamp against the server's own lifetime, and the client's claimed
    age against the ticket's lifetime; each refuses on its own (3.7.9, 3.8.9, 3.8.13)."""
    rules = server_expiry_rules()
    assert rules["control"].resumed
    for case in ("younger claim past the session's end", "older claim on a fresh session",
                 "server lifetime shortened", "chain: a fresh ticket of an old session"):
        assert rules[case].who == "the server refused it", (case, rules[case])


def test_a_public_ticket_key_cve_2020_13777():
    """§3.3: an observer with the key reads a recorded TLS 1.2 connection and a TLS 1.3 resumption under
    psk_ke, not one under psk_dhe_ke; an impostor with the key (and another certificate) resumes the client."""
    exposure = public_ticket_key_exposure()
    request, answer = b"GET /account HTTP/1.1\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\nbalance: 42"
    assert exposure.tls12_data == (request, answer)
    assert exposure.tls13_psk_ke_data == (request, answer)
    assert exposure.tls13_psk_dhe_data == (None, None)
    assert exposure.impersonated


def test_attempt_reads_the_wire_not_a_guess(lab13):
    with lab13.connect(observe=False) as conn:
        data = conn.session_data
    attempt = attempt_resumption(lab13, data)
    assert attempt == (True, True, True, True) and attempt.who == "resumed"


@pytest.mark.parametrize("cut, handshake, resumed", [
    (4, "0", True),  # max_early_data_size missing: an error, and the ticket is used anyway
    (8, "0", False),  # into the arrival time: the ticket looks ancient, the client drops it
    (17, "GNUTLS_E_INTERNAL_ERROR", False),  # into the resumption secret: ticket kept, its PRF not set
    (60, "GNUTLS_E_INTERNAL_ERROR", False),
    (66, "0", False),  # into the ticket itself: nothing usable was kept
])
def test_a_failed_set_data_leaves_the_session_half_loaded(cut, handshake, resumed):
    """§2.6 / §3.2: set_data returns GNUTLS_E_PARSING_ERROR for every cut of a TLS 1.3 blob, and what the
    next handshake does depends on what was unpacked before the error (3.7.9, 3.8.9, 3.8.13; the lab's
    blobs use a 48-byte resumption secret, so 17-65 bytes reach it)."""
    outcome = partial_set_data(cut)
    assert outcome.crashed == "" and outcome.set_data == "GNUTLS_E_PARSING_ERROR"
    assert (outcome.handshake, outcome.resumed) == (handshake, resumed), outcome


def test_a_cut_tls12_blob_only_fails_set_data():
    outcome = partial_set_data(4, "1.2")
    assert outcome.set_data == "GNUTLS_E_PARSING_ERROR" and outcome.handshake == "0" and not outcome.resumed


@pytest.mark.parametrize("to", [4, 1])
def test_a_tls13_blob_that_says_another_version_aborts_in_set_data_on_some_keys(to):
    """§1: 5 -> 4 (TLS 1.2) or 5 -> 1 (SSL 3.0): set_data reads the ticket as TLS 1.2 fields and extensions
    and aborts (SIGABRT) whenever the count it reads is positive, about one key in two; otherwise it returns
    0 (3.7.9, 3.8.9, 3.8.13). 16 keys: all 16 escaping the abort by chance is about 1 in 65536."""
    flip = version_flip_in_set_data("1.3", to, keys=16)
    assert flip.aborted > 0 and flip.other_death == 0, flip
    assert flip.aborted + flip.accepted == 16, flip


def test_a_tls12_blob_that_says_tls13_only_gets_an_error():
    flip = version_flip_in_set_data("1.2", 5, keys=8)
    assert (flip.aborted, flip.error, flip.other_death) == (0, 8, 0), flip
