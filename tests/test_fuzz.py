"""Seeded fuzzing in the suite (bounded): 2,000 mutated blobs through decode and every view, and 300
through ``gnutls_session_set_data``, each in a forked child. ``make fuzz`` runs the same engine
(tests/fuzz/blob_fuzz.py) for long runs."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "fuzz"))
from blob_fuzz import run_decode, run_set_data  # noqa: E402

pytestmark = pytest.mark.timeout(300)


def test_mutated_blobs_decode_or_are_refused_with_an_offset_and_every_view_renders():
    failures: list = []
    counts = run_decode(2000, seed=20261202, failures=failures)
    assert failures == [], failures[:3]
    assert counts["refused"] + counts["accepted"] == 2000
    assert counts["refused"] > 100 and counts["accepted"] > 100  # both paths really exercised


def test_mutated_blobs_never_crash_set_data():
    failures: list = []
    counts = run_set_data(300, seed=20261202, failures=failures)
    assert counts["crashes"] == 0 and counts["unexpected"] == 0, failures[:3]
    assert sum(counts.values()) == 300
    # The preflight refuses some (libgnutls would crash on some of those), libgnutls refuses others.
    assert counts["refused by the preflight"] > 0
    assert counts["resumed"] + counts["full handshake"] > 0
