"""The exercise checks: the instructors' solutions pass, the notebooks' starting stubs fail, live."""

from __future__ import annotations

import pathlib
import runpy

import pytest

from gnutls_lab import exercises
from gnutls_lab.lab import Lab

SOLUTIONS = pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "solutions"


def _solutions():
    for path in sorted(SOLUTIONS.glob("*.py")):
        for name, (check, answer) in runpy.run_path(str(path))["CHECKS"].items():
            yield pytest.param(check, answer, id=f"{path.stem}:{name}")


@pytest.mark.parametrize("check,answer", list(_solutions()))
def test_instructor_solutions_pass(check, answer):
    result = check(answer)
    assert result.passed, repr(result)
    assert "✅" in repr(result) and "✅" in result._repr_html_()


# The stubs the notebooks start from: each is the real bug the exercise is about.
STARTERS = [
    (exercises.check_is_resumable, lambda data: len(data) > 0, 2),
    (exercises.check_ticket_lifetime, lambda data: 21600, 2),
    (exercises.check_resumable_data, lambda client: client.get_data(), 1),
    (exercises.check_nonblocking_data, lambda client: client.get_data(), 2),
    (exercises.check_did_resume, lambda conn: conn.offered is not None, 3),
]


@pytest.mark.parametrize("check,starter,failing", STARTERS, ids=[c.__name__ for c, _, _ in STARTERS])
def test_starting_stubs_fail_the_scenarios_they_should(check, starter, failing):
    result = check(starter)
    assert not result.passed
    assert sum(not s.passed for s in result.scenarios) == failing, repr(result)
    assert "❌" in repr(result)


def test_a_raising_answer_is_reported_not_raised():
    result = exercises.check_did_resume(lambda conn: 1 / 0)
    assert not result.passed
    assert all("ZeroDivisionError" in s.got for s in result.scenarios)


def test_answers_of_the_wrong_type_fail():
    assert not exercises.check_is_resumable(lambda data: 1 if len(data) > 4 else 0)
    assert not exercises.check_resumable_data(lambda client: b"\x00" * 8)


def test_nonblocking_client_does_not_wait_and_gets_the_dummy():
    client, server = exercises.nonblocking_client(Lab("1.3"))
    try:
        assert client.protocol == "TLS1.3"
        data = client.get_data()
        assert data.dummy and data.waited_ms == ()
        client.read_available()
        assert client.ticket_received and not client.get_data().dummy
    finally:
        client.close()
        server.close()
