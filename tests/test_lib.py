"""Loading libgnutls, version checks, error codes, datums."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gnutls_lab import GnuTLSError, library_info
from gnutls_lab.binding._library import MINIMUM_VERSION, _version_tuple, check, load, take_datum


def test_library_info_names_a_real_library_of_a_supported_version():
    info = library_info()
    assert info.version_tuple >= _version_tuple(MINIMUM_VERSION)
    assert "libgnutls" in os.path.basename(info.path)
    assert info.version in str(info)


def test_negative_codes_become_gnutls_errors_with_name_and_message():
    with pytest.raises(GnuTLSError) as err:
        check(-30, "gnutls_session_set_data")
    assert err.value.code == -30
    assert err.value.name == "GNUTLS_E_DB_ERROR"
    assert "Database" in err.value.message
    assert "gnutls_session_set_data" in str(err.value)
    assert check(0) == 0 and check(7) == 7


def test_take_datum_copies_then_frees():
    ffi, lib = load()[:2]
    datum = ffi.new("gnutls_datum_t *")
    assert lib.gnutls_session_ticket_key_generate(datum) == 0
    data = take_datum(datum)
    assert len(data) == 64 and isinstance(data, bytes)
    assert datum.data == ffi.NULL and datum.size == 0


def _run(code: str, **env) -> subprocess.CompletedProcess:
    environ = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ, timeout=60)


def test_an_unloadable_library_is_one_clear_error():
    result = _run("import gnutls_lab; gnutls_lab.library_info()", GNUTLS_LAB_LIBGNUTLS="/nonexistent/libgnutls.so.30")
    assert result.returncode != 0
    assert "LibraryNotFoundError" in result.stderr
    assert "apt-get install libgnutls30" in result.stderr


def test_the_cli_reports_a_missing_library_in_one_line():
    result = subprocess.run([sys.executable, "-m", "gnutls_lab", "info"], capture_output=True, text=True,
                            env=dict(os.environ, GNUTLS_LAB_LIBGNUTLS="/nonexistent/libgnutls.so.30"), timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "could not be loaded" in lines[0] and "Traceback" not in result.stderr


def test_a_library_that_is_not_gnutls_is_refused():
    libc = "libc.so.6"
    result = _run("import gnutls_lab; gnutls_lab.library_info()", GNUTLS_LAB_LIBGNUTLS=libc)
    assert result.returncode != 0
    assert "LibraryNotFoundError" in result.stderr
