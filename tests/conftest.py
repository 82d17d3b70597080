"""Shared fixtures: labs are cheap (a fresh ECDSA key each) but tests reuse them within a module."""

from __future__ import annotations

import pytest

from gnutls_lab import Lab


@pytest.fixture(scope="module")
def lab13():
    return Lab("1.3")


@pytest.fixture(scope="module")
def lab12():
    return Lab("1.2")
