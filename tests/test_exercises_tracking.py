"""course.tracking on live handshakes: the solutions of 04/05 pass, the notebooks' stubs
fail where they should, the cases are what they claim, and the recorded-traffic readers work."""

from __future__ import annotations

import hashlib
import pathlib
import re
import runpy
import struct

import pytest

from gnutls_lab import ClientSession, GnuTLSLabError, Lab, ServerSession, TicketKeyError, UsageError, memory_pair, pump
from course import tracking as exercises_tracking
from gnutls_lab.analysis.linkage import link_visits
from gnutls_lab.analysis.ticket_keys import period_of

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
SOLUTIONS = {"04_ticket_reuse_and_tracking.py": {"linkable"}, "05_server_ticket_keys.py": {"key_name", "exposed"}}
STUB_FAILURES = {"linkable": 3, "key_name": 4, "exposed": 3}  # scenarios the notebooks' starting stubs get wrong


def _solution_params():
    for name, expected in SOLUTIONS.items():
        checks = runpy.run_path(str(NOTEBOOKS / "solutions" / name))["CHECKS"]
        assert set(checks) == expected, name
        for exercise, (check, answer) in checks.items():
            yield pytest.param(check, answer, id=f"{name}:{exercise}")


@pytest.mark.parametrize("check,answer", list(_solution_params()))
def test_instructor_solutions_pass(check, answer):
    result = check(answer)
    assert result.passed, repr(result)
    assert repr(result).startswith("✓ ") and "✓ " in result._repr_html_()


def _stubs():
    """The exercise stubs of notebooks 04 and 05, read from their py:percent twins."""
    for notebook in ("04-ticket-reuse-and-tracking.py", "05-server-ticket-keys.py"):
        cells = re.split(r"^# %%.*$", (NOTEBOOKS / notebook).read_text(), flags=re.M)
        for cell in cells:
            if cell.lstrip().startswith("# EXERCISE"):
                namespace: dict = {}
                exec(compile(cell, notebook, "exec"), namespace)  # noqa: S102 - our own notebook cell
                stub = next(v for k, v in namespace.items() if callable(v) and not k.startswith("__"))
                yield pytest.param(stub, id=f"{notebook}:{stub.__name__}")


STUBS = list(_stubs())


def test_every_exercise_of_04_and_05_has_a_check_and_a_solution():
    names = {p.values[0].__name__ for p in STUBS}
    assert names == set(STUB_FAILURES) == set().union(*SOLUTIONS.values())
    assert all(hasattr(exercises_tracking, f"check_{name}") for name in names)


@pytest.mark.parametrize("stub", STUBS)
def test_notebook_stubs_fail_the_scenarios_they_should(stub):
    result = getattr(exercises_tracking, f"check_{stub.__name__}")(stub)
    assert not result.passed and repr(result).startswith("✗ ")
    assert sum(not s.passed for s in result.scenarios) == STUB_FAILURES[stub.__name__], repr(result)


def test_linkable_cases_are_what_they_claim():
    cases = exercises_tracking.linkable_cases()
    assert [same for *_, same, _ in cases] == [True, True, False, True, True, False]
    for name, first, second, same_client, _ in cases:
        assert (link_visits([first, second], times=[0, 1]).linkable_pairs == 1) == same_client, name
    single_use = cases[0]
    first, second = single_use[1], single_use[2]
    # the finding the first case teaches: no PSK identity repeats, the legacy_session_id does
    assert {p.identity for p in first.client_hello.psk_identities}.isdisjoint(
        {p.identity for p in second.client_hello.psk_identities})
    assert first.client_hello.session_id == second.client_hello.session_id == second.server_hello.session_id


def test_key_name_cases_read_the_live_tickets():
    cases = exercises_tracking.key_name_cases()
    assert [lifetime for _, _, _, lifetime, _ in cases] == [21600, 600, 600, 604800]
    for _, master, when, lifetime, name in cases:
        period = period_of(when, lifetime)
        assert name == hashlib.sha3_512(struct.pack(">Q", period) + master).digest()[:16]
    (_, m1, t1, _, n1), (_, m2, t2, _, n2) = cases[1:3]
    assert m1 == m2 and t2 - t1 == 2 and period_of(t2, 600) == period_of(t1, 600) + 1 and n1 != n2


def test_exposed_cases_are_what_they_claim():
    cases = exercises_tracking.exposed_cases()
    assert [truth for _, _, truth, _ in cases] == [False, False, True, True, True, False]
    by_name = {name: seen for name, seen, _, _ in cases}
    default = by_name["TLS 1.3 resumption, GnuTLS's default server (psk_dhe_ke)"].server_hello
    plain_psk = by_name["TLS 1.3 resumption, a server that allows plain PSK (NORMAL:+PSK)"].server_hello
    assert 51 in default.extension_types and 51 not in plain_psk.extension_types  # key_share: (EC)DHE or not


def test_a_raising_answer_is_reported_not_raised():
    result = exercises_tracking.check_key_name(lambda master, when, lifetime: 1 / 0)
    assert not result.passed and all("ZeroDivisionError" in s.got for s in result.scenarios)
    assert not exercises_tracking.check_linkable(lambda a, b: "yes")  # not a bool


def _converse(client, server):
    client.send(b"GET /account HTTP/1.1\r\n\r\n")
    server.read_available()
    server.send(b"HTTP/1.1 200 OK\r\n\r\nbalance: 42")
    client.read_available()


def test_read_recorded_tls12_full_handshake_and_resumption():
    lab = Lab("1.2")
    with lab.connect(keylog=True) as full:
        _converse(full.client, full.server)
        read = exercises_tracking.read_recorded_tls12(full.wire, lab.ticket_key)
        assert read.master_secret == full.client.master_secret()
        assert read.keylog_line == full.client.keylog_lines()[0]
        assert read.client_data == b"GET /account HTTP/1.1\r\n\r\n"
        assert read.server_data == b"HTTP/1.1 200 OK\r\n\r\nbalance: 42"
        data = full.session_data
    with lab.connect(resume=data) as again:
        assert again.resumed
        _converse(again.client, again.server)
        read = exercises_tracking.read_recorded_tls12(again.wire, lab.ticket_key)
        assert read.master_secret == again.client.master_secret() and read.client_data.startswith(b"GET")
    with pytest.raises(TicketKeyError):
        exercises_tracking.read_recorded_tls12(again.wire, Lab("1.2").ticket_key)  # another server's key
    no_tickets = Lab("1.2", tickets=False)
    with no_tickets.connect() as conn, pytest.raises(UsageError):
        exercises_tracking.read_recorded_tls12(conn.wire, no_tickets.ticket_key)


def _resume_with(lab, data, server_priority):
    wire = []
    client_end, server_end = memory_pair(wire)
    server = ServerSession(lab.server_credentials, server_priority, endpoint=server_end, ticket_key=lab.ticket_key)
    client = ClientSession(lab.client_credentials, lab.priority, endpoint=client_end, server_name=lab.server_name,
                           keylog=True)
    client.set_data(data)
    pump(client, server)
    _converse(client, server)
    return client, server, wire


@pytest.mark.parametrize("extra,exposed", [("", False), (":+PSK", True)])
def test_read_recorded_resumption_depends_on_the_psk_key_exchange_mode(extra, exposed):
    lab = Lab("1.3")
    with lab.connect() as first:
        data = first.session_data
    client, server, wire = _resume_with(lab, data, lab.priority + extra)
    try:
        assert client.is_resumed()
        read = exercises_tracking.read_recorded_resumption(wire, lab.ticket_key)
        keylog = dict(client.keylog)
        assert read.key_share is not exposed
        assert read.secrets["CLIENT_EARLY_TRAFFIC_SECRET"] == keylog["CLIENT_EARLY_TRAFFIC_SECRET"]  # PSK only
        handshake_match = read.secrets["SERVER_HANDSHAKE_TRAFFIC_SECRET"] == keylog["SERVER_HANDSHAKE_TRAFFIC_SECRET"]
        assert handshake_match is exposed
        if exposed:
            assert all(read.secrets[label] == keylog[label] for label in read.secrets)
            assert read.client_data == b"GET /account HTTP/1.1\r\n\r\n" and read.server_data.endswith(b"balance: 42")
        else:
            assert read.client_data is None and read.server_data is None
    finally:
        client.close()
        server.close()


def test_read_recorded_resumption_needs_a_resumption():
    lab = Lab("1.3")
    with lab.connect() as full, pytest.raises(GnuTLSLabError):
        exercises_tracking.read_recorded_resumption(full.wire, lab.ticket_key)
