"""course.tracking on live handshakes: the solutions of 04/05 answer their exercises (they pass in
tests/test_exercises.py, with every solution), the notebooks' stubs fail where they should, and the cases are what they claim (the recorded-traffic readers they use are
library functions, tested in tests/test_recorded.py)."""

from __future__ import annotations

import hashlib
import pathlib
import re
import runpy
import struct

import pytest

from gnutls_lab import Lab
from course import tracking as exercises_tracking
from gnutls_lab.analysis._linkage import link_visits
from gnutls_lab.analysis._ticket_keys import period_of

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
SOLUTIONS = {"04_ticket_reuse_and_tracking.py": {"linkable"}, "05_server_ticket_keys.py": {"key_name", "exposed"}}
STUB_FAILURES = {"linkable": 3, "key_name": 4, "exposed": 3}  # scenarios the notebooks' starting stubs get wrong


def test_the_solutions_of_04_and_05_answer_their_exercises():
    """Which exercises each solution answers; the answers themselves pass in tests/test_exercises.py
    (test_instructor_solutions_pass runs every solution once)."""
    for name, expected in SOLUTIONS.items():
        assert set(runpy.run_path(str(NOTEBOOKS / "solutions" / name))["CHECKS"]) == expected, name


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
