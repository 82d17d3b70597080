"""One-line checks for the notebooks: ``check(condition, "the fact in plain words")``.

Every fact a notebook teaches is computed live; ``check`` states it and makes sure it holds:

>>> check(2 + 2 == 4, "two and two make four")
✓ two and two make four

When the condition is false it raises :class:`AssertionError` with the fact, so a notebook that
teaches something the library does not do stops at that line instead of carrying on.
"""

from __future__ import annotations

__all__ = ["check", "PASS", "FAIL"]

PASS = "\u2713"  # ✓, in every common font (unlike the emoji check marks)
FAIL = "\u2717"  # ✗


def check(condition, fact: str) -> None:
    """Print ``✓ fact`` when ``condition`` is true; raise ``AssertionError("✗ fact")`` when it is not."""
    if not isinstance(fact, str) or not fact.strip():
        raise TypeError("check() needs the fact it checks, in plain words")
    if not condition:
        raise AssertionError(f"{FAIL} not true: {fact}")
    print(f"{PASS} {fact}")
