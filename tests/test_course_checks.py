"""The notebooks' one-line check: a plain statement of the fact, printed with ✓, or an AssertionError."""

from __future__ import annotations

import pytest

from course.checks import check


def test_a_true_fact_prints_one_line_with_a_check_mark(capsys):
    check(1 + 1 == 2, "one and one make two")
    assert capsys.readouterr().out == "\u2713 one and one make two\n"


def test_a_false_fact_raises_with_the_fact_and_prints_nothing(capsys):
    with pytest.raises(AssertionError, match="one and one make three") as raised:
        check(1 + 1 == 3, "one and one make three")
    assert str(raised.value).startswith("\u2717") and capsys.readouterr().out == ""


def test_the_fact_is_required():
    with pytest.raises(TypeError):
        check(True, "")
