"""Shared fixtures: labs are cheap (a fresh ECDSA key each) but tests reuse them within a module; wire captures
are made once per session."""

from __future__ import annotations

import pytest

from gnutls_lab import Lab

# Session-scoped captures of real TLS traffic (OpenSSL through ssl, libgnutls through Lab), shared by
# the wire, observer and linkage tests.
from wire_captures import (  # noqa: F401  (fixtures, registered by importing them here)
    all_taps,
    cert_files,
    gnutls_tls12,
    gnutls_tls13,
    openssl_hello_retry,
    openssl_tls12_session_ids,
    openssl_tls12_tickets,
    openssl_tls13,
)


@pytest.fixture(scope="module")
def lab13():
    return Lab("1.3")


@pytest.fixture(scope="module")
def lab12():
    return Lab("1.2")
