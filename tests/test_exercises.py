"""The exercise checks: the instructors' solutions pass, the notebooks' starting stubs fail, live."""

from __future__ import annotations

import html
import pathlib
import re
import runpy

import pytest

from course import exercises, tracking as exercises_tracking
from gnutls_lab.sessions._lab import Lab


def _check(name: str):
    """The self-check for a notebook's exercise ``name``: 02/03 in exercises, 04/05 in exercises_tracking."""
    return getattr(exercises, f"check_{name}", None) or getattr(exercises_tracking, f"check_{name}", None)

SOLUTIONS = pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "solutions"


def _solutions():
    for path in sorted(SOLUTIONS.glob("*.py")):
        for name, (check, answer) in runpy.run_path(str(path))["CHECKS"].items():
            yield pytest.param(check, answer, id=f"{path.stem}:{name}")


@pytest.mark.parametrize("check,answer", list(_solutions()))
def test_instructor_solutions_pass(check, answer):
    result = check(answer)
    assert result.passed, repr(result)
    assert repr(result).startswith("✓ ") and "✓ " in result._repr_html_()


# The stubs the notebooks start from, read from the notebooks' py:percent twins: each has the real bug
# the exercise is about, so its check must fail (and by the expected number of scenarios).
NOTEBOOKS = SOLUTIONS.parent
FAILING = {"is_resumable": 3, "ticket_lifetime": 2, "resumable_data": 1, "nonblocking_data": 2, "did_resume": 3}


def _stubs():
    for path in sorted(NOTEBOOKS.glob("*.py")):
        cells = re.split(r"^# %%.*$", path.read_text(), flags=re.M)
        for cell in cells:
            if cell.lstrip().startswith("# EXERCISE"):
                namespace: dict = {}
                exec(compile(cell, str(path), "exec"), namespace)  # noqa: S102 - our own notebook cell
                functions = [v for k, v in namespace.items() if callable(v) and not k.startswith("__")]
                assert len(functions) == 1, f"an exercise cell of {path.name} defines {len(functions)} functions"
                yield pytest.param(path.stem, functions[0], id=f"{path.stem}:{functions[0].__name__}")


STUBS = list(_stubs())


def test_every_notebook_exercise_has_a_check_and_a_solution():
    solved = {name for path in SOLUTIONS.glob("*.py") for name in runpy.run_path(str(path))["CHECKS"]}
    names = {p.values[1].__name__ for p in STUBS}
    assert set(FAILING) <= names, "an exercise of notebooks 02/03 went missing"
    for name in names:
        assert _check(name) is not None, f"no check_{name} for the notebook's {name}()"
        assert name in solved, f"no solution for {name}() in notebooks/solutions/"
    assert {"02-session-data", "03-resumption-mechanisms"} <= {p.values[0] for p in STUBS}


@pytest.mark.parametrize("notebook,stub", STUBS)
def test_starting_stubs_fail_the_scenarios_they_should(notebook, stub):
    check = _check(stub.__name__)
    result = check(stub)
    assert not result.passed
    if stub.__name__ in FAILING:
        assert sum(not s.passed for s in result.scenarios) == FAILING[stub.__name__], repr(result)
    assert repr(result).startswith("✗ ")


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


def _solution(name: str):
    for path in SOLUTIONS.glob("*.py"):
        checks = runpy.run_path(str(path))["CHECKS"]
        if name in checks:
            return checks[name][1]
    raise KeyError(name)


@pytest.mark.parametrize("notebook,stub", STUBS)
def test_hints_come_when_asked_and_the_starting_code_is_no_attempt(notebook, stub):
    name = stub.__name__
    exercises.reset_hints(name)
    check = _check(name)
    # Run All: the starting code, run twice, is no attempt and gives no hint
    assert exercises.is_starting_code(name, stub)
    runs = [check(stub) for _ in range(2)]
    hints = runs[0].hints
    assert len(hints) == 3 and len(set(hints)) == 3
    assert [r.hint_level for r in runs] == [0, 0] and all(r.starting_code for r in runs)
    assert "starting code" in repr(runs[0]) and "hint 1 of 3" not in repr(runs[0])
    # a changed function that fails: the first hint, a nudge, however often it runs
    def attempt(*args):
        return stub(*args)

    assert not exercises.is_starting_code(name, attempt)
    tries = [check(attempt) for _ in range(3)]
    assert [r.hint_level for r in tries] == [1, 1, 1]
    first = repr(tries[0])
    assert f"hint 1 of 3: {hints[0]}" in first and hints[1] not in first and hints[2] not in first
    assert "next hint" in first and "why:" not in first  # the reasons come after the formula, not before
    for s in tries[0].scenarios:  # the first hint never gives away what the cases explain
        assert s.why not in first
    # the button gives the next hint, then the formula and the reasons, each once
    box = tries[-1].widget()
    assert "gl-check-hints" in box._dom_classes and not tries[-1].button.disabled
    tries[-1].button.click()
    shown = box.children[0].value
    assert tries[-1].hint_level == 2 and html.escape(hints[1]) in shown and html.escape(hints[2]) not in shown
    tries[-1].button.click()
    last = repr(tries[-1])
    assert hints[2] in last and "next hint" not in last and tries[-1].button.disabled
    reasons = [line for line in last.splitlines() if line.strip().startswith("why:")]
    assert reasons and len(reasons) == len(set(reasons))  # each reason once, not row by row
    assert tries[-1].next_hint() == 3  # no more than there are
    assert html.escape(hints[0]) in tries[0]._repr_html_()
    assert check(attempt).hint_level == 3  # what was asked for stays shown in this kernel
    passed = check(_solution(name))
    assert passed.passed and passed.shown_hints() == [] and "hint" not in repr(passed)
    exercises.reset_hints(name)
    assert check(attempt).hint_level == 1 and check(stub).hint_level == 1


def test_length_does_not_tell_whether_data_resumes():
    """The hint says so; the check holds a case that makes it true, built live: real TLS 1.3 session data
    (hundreds of bytes) whose ticket the client no longer offers, by its own copy of the lifetime."""
    result = exercises.check_is_resumable(lambda data: len(data) > 4)
    failing = [s for s in result.scenarios if not s.passed]
    assert [s.name for s in failing] == [
        f"TLS 1.3 data whose ticket lifetime ({exercises.SHORT_LIFETIME} s) ran out "
        f"{exercises.SHORT_LIFETIME_WAIT:g} s ago"]
    assert failing[0].expected == "False" and failing[0].got == "True"
    assert "bytes of real session data" in failing[0].why


#: Loads a solution file as its hand-out command does (its own folder setup, ``course`` imported beside it),
#: without running the checks again: test_instructor_solutions_pass runs each of them once. The current
#: folder leaves the path, as for ``python X.py``, so only the file's own setup finds ``course``.
LOAD_ONLY = ("import runpy, sys; sys.path = [p for p in sys.path if p not in ('', '.')]; "
             "print(sorted(runpy.run_path(sys.argv[1], run_name='handout')['CHECKS']))")


@pytest.mark.parametrize("path", sorted(SOLUTIONS.glob("*.py")), ids=lambda p: p.stem)
def test_each_solution_loads_from_any_folder(path, tmp_path):
    """The hand-out as solutions/README.md and docs/workshop.md write it: `python notebooks/solutions/X.py`
    (it failed with "No module named 'course'"), here from an unrelated folder, and from a copy of the
    folder beside a participant's course/. The file is loaded as that command loads it; its checks run
    once, in test_instructor_solutions_pass."""
    import shutil
    import subprocess
    import sys

    expected = str(sorted(runpy.run_path(str(path))["CHECKS"]))
    ran = subprocess.run([sys.executable, "-c", LOAD_ONLY, str(path)], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert ran.returncode == 0 and ran.stdout.strip() == expected, ran.stderr[-2000:]
    workspace = tmp_path / "workspace"
    shutil.copytree(SOLUTIONS.parent / "course", workspace / "course", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(SOLUTIONS, workspace / "solutions", ignore=shutil.ignore_patterns("__pycache__"))
    ran = subprocess.run([sys.executable, "-c", LOAD_ONLY, f"solutions/{path.name}"], cwd=workspace,
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0 and ran.stdout.strip() == expected, ran.stderr[-2000:]


def test_the_solutions_readme_names_modules_that_exist():
    import importlib.util

    readme = (SOLUTIONS / "README.md").read_text()
    named = set(re.findall(r"`((?:gnutls_lab|course)(?:\.\w+)+)", readme))
    assert named, "the README names the checks' module"
    for module in named:
        assert importlib.util.find_spec(module) is not None, f"solutions/README.md names {module}, which is gone"
