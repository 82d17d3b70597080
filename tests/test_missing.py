"""Missing pieces: no libgnutls, a too-old one, no gnutls-cli, no chromium, no openssl.

Each must give one clear line naming what is missing and how to install it, and the CLI must exit 2
without a traceback. The too-old library is real code, not a mock of ours: a tiny shared library
compiled here with gcc that exports ``gnutls_check_version`` with GnuTLS's own semantics (return the
version if it is at least the requested one, else NULL) and says it is 3.6.0.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gnutls_lab.errors import UsageError
from gnutls_lab.network._peers import ExternalServer, openssl_session_text, require_program

pytestmark = pytest.mark.timeout(120)

OLD_GNUTLS_C = r"""
#include <stdio.h>
#include <stddef.h>
static const char VERSION[] = "3.6.0";
static int parse(const char *v, int out[3]) { out[0] = out[1] = out[2] = 0;
    return sscanf(v, "%d.%d.%d", &out[0], &out[1], &out[2]); }
const char *gnutls_check_version(const char *req) {
    int have[3], want[3];
    if (req == NULL) return VERSION;
    parse(VERSION, have); parse(req, want);
    for (int i = 0; i < 3; i++) { if (have[i] != want[i]) return have[i] > want[i] ? VERSION : NULL; }
    return VERSION;
}
"""


def lab(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gnutls_lab", *args], capture_output=True, text=True,
                          timeout=60, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


def python(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **env})


def assert_one_clear_line(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


# --- libgnutls -----------------------------------------------------------------------------------


def test_no_libgnutls_is_one_line_with_the_install_command():
    env = {"GNUTLS_LAB_LIBGNUTLS": "/nonexistent/libgnutls.so.30"}
    for command in (["info"], ["handshake"], ["connect", "127.0.0.1:1"], ["serve", "--port", "0"]):
        assert_one_clear_line(lab(*command, env=env), "/nonexistent/libgnutls.so.30", "apt-get install libgnutls30")
    library = python("import gnutls_lab\ntry:\n    gnutls_lab.Lab()\nexcept gnutls_lab.LibraryNotFoundError as e:\n"
                     "    print(type(e).__name__, e)", env)
    assert library.returncode == 0 and library.stdout.startswith("LibraryNotFoundError")


@pytest.fixture(scope="module")
def old_gnutls(tmp_path_factory):
    """A shared library that says it is GnuTLS 3.6.0, compiled now."""
    gcc = require_program("gcc")
    directory = tmp_path_factory.mktemp("old-gnutls")
    source, library = directory / "old_gnutls.c", directory / "libgnutls.so.30"
    source.write_text(OLD_GNUTLS_C)
    subprocess.run([gcc, "-shared", "-fPIC", "-o", str(library), str(source)], check=True, timeout=60)
    return str(library)


def test_too_old_libgnutls_is_one_line_naming_both_versions(old_gnutls):
    env = {"GNUTLS_LAB_LIBGNUTLS": old_gnutls}
    check = python("from gnutls_lab.binding._library import ffi\nlib = ffi.dlopen(%r)\n"
                   "print(ffi.string(lib.gnutls_check_version(ffi.NULL)).decode(),"
                   " lib.gnutls_check_version(b'3.7.0') == ffi.NULL)" % old_gnutls, env)
    assert check.stdout.split() == ["3.6.0", "True"]  # the fake behaves like GnuTLS's own check
    for command in (["info"], ["handshake", "--tls", "1.2"], ["serve", "--port", "0"]):
        assert_one_clear_line(lab(*command, env=env), "GnuTLS 3.6.0", ">= 3.7.0", "apt-get install libgnutls30")


# --- programs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("program", "package"), [("gnutls-cli", "gnutls-bin"), ("gnutls-serv", "gnutls-bin"),
                                                  ("openssl", "openssl"), ("chromium", "chromium")])
def test_missing_program_is_one_clear_message(monkeypatch, tmp_path, program, package):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: nothing is found
    with pytest.raises(UsageError) as caught:
        require_program(program)
    assert str(caught.value) == f"{program} not found: install it with `apt-get install {package}`"


def test_helpers_name_the_missing_program(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UsageError, match="gnutls-serv not found: install it with `apt-get install gnutls-bin`"):
        ExternalServer("gnutls-serv", "cert.pem", "key.pem", "1.3")
    with pytest.raises(UsageError, match="openssl not found: install it with `apt-get install openssl`"):
        openssl_session_text(str(tmp_path / "session.pem"))


def test_present_programs_are_found_because_ci_installs_them():
    """Not a skip: in CI (`make test`) these exist, and their absence fails here with the message."""
    for program in ("gnutls-cli", "gnutls-serv", "openssl", "gcc"):
        assert os.path.isabs(require_program(program))


def test_openssl_session_text_reports_a_bad_file_in_one_line(tmp_path):
    bogus = tmp_path / "not-a-session.pem"
    bogus.write_text("hello\n")
    with pytest.raises(UsageError, match="openssl sess_id could not read"):
        openssl_session_text(str(bogus))
