"""The guards of issue 12: immutable session data and the crash preflight, resume types, the loopback
check without DNS, times within libgnutls's horizon, callbacks that never raise into C, and key files.

Crashes are tried in a child process, so a guard that fails shows as a signal in the message instead of
killing pytest.
"""

from __future__ import annotations

import base64
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import textwrap

import pytest

from gnutls_lab import Lab
from gnutls_lab.analysis._experiments import ExperimentConfig
from gnutls_lab.analysis._ticket_keys import load_ticket_key
from gnutls_lab.errors import BlobFormatError, TicketKeyError, UsageError
from gnutls_lab.network import _client as client_module
from gnutls_lab.network._client import check_host, connect
from gnutls_lab.sessions._clock import CLOCK_HORIZON, FakeClock
from gnutls_lab.sessions._preflight import check_session_data
from gnutls_lab.sessions._session import SessionData

pytestmark = pytest.mark.timeout(300)


def run_python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True,
                          timeout=120)


def describe(result: subprocess.CompletedProcess) -> str:
    if result.returncode < 0:
        return f"killed by {signal.Signals(-result.returncode).name}; stderr: {result.stderr[-500:]}"
    return f"exit {result.returncode}; stdout: {result.stdout[-500:]}; stderr: {result.stderr[-500:]}"


# -- 2. the crash guard cannot be bypassed ------------------------------------------------------------

def test_session_data_is_immutable(lab12):
    data = lab12.connect().session_data
    for name, value in (("data", b"\x00" * 8), ("from_library", False), ("dummy", True), ("reason", "x")):
        with pytest.raises(AttributeError, match="immutable"):
            setattr(data, name, value)
    with pytest.raises(AttributeError):
        del data.data
    assert lab12.connect(resume=data).resumed  # still usable after the refused changes


def bad_extension_blob(blob: bytes, version_tuple: tuple) -> bytes:
    """``blob`` with one extension id replaced by FFFFFFFF, found through the preflight's own verdict."""
    for offset in range(16, len(blob) - 4):
        candidate = blob[:offset] + b"\xff\xff\xff\xff" + blob[offset + 4:]
        try:
            check_session_data(candidate, version_tuple)
        except BlobFormatError as exc:
            if "extension id 4294967295" in str(exc):
                return candidate
    raise AssertionError("no extension id found in the TLS 1.2 blob")


def test_bad_extension_id_blob_is_refused_even_when_marked_as_from_the_library():
    # The reproduction: set .data on a SessionData from the library, then resume. Before the fix
    # the preflight was skipped for such objects and libgnutls aborted (hello_ext.c gid_to_ext_entry).
    child = r'''
        import json, sys
        sys.path.insert(0, sys.argv[1])
        from test_guards import bad_extension_blob
        from gnutls_lab import Lab, library_info
        from gnutls_lab.errors import BlobFormatError
        from gnutls_lab.sessions._session import SessionData

        lab = Lab("1.2")
        data = lab.connect().session_data
        bad = bad_extension_blob(data.data, library_info().version_tuple)
        report = {}
        try:
            data.data = bad
            report["assignment"] = "allowed"
        except AttributeError:
            report["assignment"] = "refused"
        for label, value in (("marked", SessionData(bad, "TLS1.2", from_library=True)), ("bytes", bad)):
            try:
                lab.connect(resume=value)
                report[label] = "handed to libgnutls"
            except BlobFormatError as exc:
                report[label] = "refused: " + str(exc)
        print(json.dumps(report))
    '''
    result = run_python(child, os.path.dirname(__file__))
    assert result.returncode == 0, describe(result)
    report = json.loads(result.stdout)
    assert report["assignment"] == "refused"
    assert report["marked"].startswith("refused") and "extension id" in report["marked"]
    assert report["bytes"].startswith("refused") and "extension id" in report["bytes"]


# -- 9. resume takes bytes-like or SessionData only ---------------------------------------------------

@pytest.mark.parametrize("value", [3 * 10**9, -1, "abc", 1.5, [1, 2], object()])
def test_resume_with_anything_else_is_a_usage_error_naming_the_type(lab13, value):
    with pytest.raises(UsageError, match=type(value).__name__):
        lab13.connect(resume=value)


def test_resume_accepts_bytes_like(lab13):
    data = lab13.connect().session_data
    for value in (data, data.data, bytearray(data.data), memoryview(data.data)):
        with lab13.connect(resume=value) as conn:
            assert conn.resumed


def test_tcp_connect_checks_resume_type_before_connecting():
    with pytest.raises(UsageError, match="int"):
        connect("127.0.0.1", 9, resume=10**9)


# -- 3. the loopback guard resolves once, and not at all without --allow-remote ----------------------

def test_loopback_literals_and_localhost_pass_without_any_resolver(monkeypatch):
    calls = []
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: calls.append(a) or [])
    assert check_host("127.0.0.1") == "127.0.0.1"
    assert check_host("127.8.9.10") == "127.8.9.10"
    assert check_host("::1") == "::1"
    assert check_host("localhost") == "127.0.0.1"
    assert check_host("LocalHost") == "127.0.0.1"
    assert calls == []


@pytest.mark.parametrize("host", ["rebind.example", "localhost.example", "127.0.0.1.nip.io", "192.0.2.1", "::ffff:192.0.2.1"])
def test_other_hosts_are_refused_without_a_dns_query(monkeypatch, host):
    calls = []
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: calls.append(a) or [])
    with pytest.raises(UsageError, match="allow-remote"):
        check_host(host)
    assert calls == []


def test_dns_rebinding_cannot_redirect_the_connection(monkeypatch):
    """A resolver that answers 127.0.0.1 first and 192.0.2.1 next: nothing may reach 192.0.2.1."""
    answers = iter(["127.0.0.1", "192.0.2.1", "192.0.2.1"])
    lookups, attempts = [], []

    def rebinding_getaddrinfo(host, port, *args, **kwargs):
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port or 0))]

    real_connect = client_module._connect_to

    def recording_connect(address, port, timeout):
        attempts.append(address)
        if address != "127.0.0.1":  # never send traffic anywhere else, whatever the code under test does
            raise AssertionError(f"the client tried to connect to {address}")
        return real_connect(address, port, timeout)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_getaddrinfo)
    monkeypatch.setattr(client_module, "_connect_to", recording_connect)
    with pytest.raises(UsageError, match="allow-remote"):  # without --allow-remote: no look-up at all
        connect("rebind.example", 9)
    assert lookups == [] and attempts == []
    # With --allow-remote the name is resolved once, and the checked answer is the one connected to.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        with pytest.raises(Exception):  # the listener never speaks TLS: the handshake times out or fails
            connect("rebind.example", port, allow_remote=True, timeout=0.5)
    assert lookups == ["rebind.example"]
    assert attempts == ["127.0.0.1"]


def test_cli_connect_refuses_a_name_without_touching_dns(tmp_path):
    result = subprocess.run([sys.executable, "-m", "gnutls_lab", "connect", "rebind.example:443"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "allow-remote" in result.stderr


# -- 6. times beyond libgnutls's horizon are refused before any callback -----------------------------

@pytest.mark.parametrize("gap", [1e19, 1e308, float("inf"), float("nan"), -1.0, CLOCK_HORIZON + 1.0])
def test_experiment_gaps_beyond_the_horizon_are_refused(gap):
    with pytest.raises(UsageError, match="gap"):
        ExperimentConfig(visits=3, gap=gap)


def test_experiment_whose_visits_end_past_the_horizon_is_refused():
    with pytest.raises(UsageError, match="2106"):
        ExperimentConfig(visits=100, gap=CLOCK_HORIZON / 50)


@pytest.mark.parametrize("lifetime", [0, -5, 10**12])
def test_experiment_lifetimes_are_refused(lifetime):
    with pytest.raises(UsageError, match="lifetime"):
        ExperimentConfig(visits=3, lifetime=lifetime)


def test_fake_clock_refuses_values_beyond_the_horizon():
    with pytest.raises(UsageError, match="2106"):
        FakeClock(start=CLOCK_HORIZON + 1)
    clock = FakeClock(start=CLOCK_HORIZON - 10)
    with pytest.raises(UsageError, match="2106"):
        clock.advance(11)
    assert clock.now == CLOCK_HORIZON - 10  # unchanged by the refused step
    with pytest.raises(UsageError):
        clock.advance(float("nan"))
    with pytest.raises(UsageError):
        clock.set(-1)
    with pytest.raises(UsageError):
        clock.set(1e19)


@pytest.mark.parametrize("gap", ["1e19", "1e308"])
def test_cli_huge_gaps_are_one_line_errors(gap):
    result = subprocess.run([sys.executable, "-m", "gnutls_lab", "experiment", "reuse", "--gap", gap,
                             "--visits", "3"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    assert "OverflowError" not in result.stderr


def test_cli_ticket_lifetime_zero_is_refused():
    for command in (["experiment", "reuse", "--visits", "3", "--lifetime", "0"],
                    ["serve", "--port", "0", "--lifetime", "0"]):
        result = subprocess.run([sys.executable, "-m", "gnutls_lab", *command], capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 2, result.stderr
        assert "lifetime 0" in result.stderr and result.stderr.count("\n") == 1


def test_time_callback_never_raises_into_c():
    """A clock value that became unusable behind the checks' back: libgnutls gets the real time, nothing
    is printed by cffi, and the error is raised when the clock is put away."""
    result = run_python(r'''
        from gnutls_lab import Lab
        from gnutls_lab.sessions._clock import FakeClock
        lab = Lab("1.3")
        try:
            with FakeClock() as clock:
                object.__setattr__(clock, "now", 1e300)  # bypasses set()/advance() on purpose
                with lab.connect() as conn:
                    print("handshake", conn.protocol)
        except Exception as exc:
            print("raised", type(exc).__name__, exc)
    ''')
    assert result.returncode == 0, describe(result)
    assert "handshake TLS1.3" in result.stdout
    assert "raised UsageError" in result.stdout or "raised OverflowError" in result.stdout
    assert "Exception ignored" not in result.stderr and "Traceback" not in result.stderr


def test_callbacks_keep_an_exception_for_python_instead_of_printing_it():
    """A failing hook: cffi prints nothing, the handshake fails cleanly and the exception surfaces in Python."""
    result = run_python(r'''
        from gnutls_lab import Lab
        from gnutls_lab.errors import GnuTLSLabError
        lab = Lab("1.3")
        from gnutls_lab.sessions import _session as session_module
        def broken(self, htype, incoming, msg):
            raise KeyError("hook failure")
        session_module.Session._on_handshake_message = broken
        try:
            lab.connect()
            print("no error")
        except (KeyError, GnuTLSLabError) as exc:
            print("raised", type(exc).__name__)
    ''')
    assert result.returncode == 0, describe(result)
    assert "raised" in result.stdout
    assert "Exception ignored" not in result.stderr and "Traceback" not in result.stderr


# -- 7. key files: exactly three forms ------------------------------------------------------------------

def test_key_files_accept_exactly_three_forms(tmp_path):
    key = os.urandom(64)
    path = tmp_path / "key"
    for content in (key, key.hex().encode(), b"  " + key.hex().encode() + b"\n", base64.b64encode(key) + b"\n",
                    b"\n" + base64.b64encode(key)):
        path.write_bytes(content)
        assert load_ticket_key(path) == key


def test_a_string_naming_no_file_is_never_a_raw_key(tmp_path):
    """Issue 20, 4.8: a 64-character path that does not exist came back as a 64-byte key. The rule (see
    load_ticket_key's docstring): bytes are the key; a str names a file when one exists, else it is key
    text (128 hex digits or base64 of 64 bytes), never 64 raw bytes; a pathlib.Path is always a file."""
    missing = str(tmp_path / "no_such_key.bin")
    missing += "x" * (64 - len(missing)) if len(missing) < 64 else ""
    missing = missing[:64] if len(missing) > 64 else missing
    assert len(missing) == 64 and not os.path.exists(missing)
    with pytest.raises(TicketKeyError, match="no such ticket key file"):
        load_ticket_key(missing)
    with pytest.raises(TicketKeyError, match="no such file"):
        load_ticket_key(pathlib.Path(missing))
    key = os.urandom(64)
    assert load_ticket_key(key.hex()) == key and load_ticket_key(base64.b64encode(key).decode()) == key  # key text
    assert load_ticket_key(key) == key  # bytes: raw
    named = tmp_path / "k" / ("a" * 20)
    named.parent.mkdir()
    named.write_bytes(key.hex().encode())
    assert load_ticket_key(str(named)) == key  # a str naming a file that exists: the file


@pytest.mark.parametrize("content, found", [
    (os.urandom(32).hex().encode(), "64 hex digits (a 32-byte key)"),  # 64 bytes of file
    (base64.b64encode(os.urandom(48)), "base64 of 48 bytes"),  # 64 bytes of file
    (os.urandom(63).hex().encode(), "126 hex digits"),
    (base64.b64encode(os.urandom(65)), "base64 of 65 bytes"),
    (os.urandom(65), "neither hex nor base64"),
    (b"", "nothing"),
])
def test_ambiguous_or_wrong_key_files_are_refused_naming_what_was_found(tmp_path, content, found):
    path = tmp_path / "key"
    path.write_bytes(content)
    with pytest.raises(TicketKeyError, match="found") as info:
        load_ticket_key(path)
    assert found in str(info.value)


def test_cli_serve_refuses_a_32_byte_hex_key(tmp_path):
    path = tmp_path / "key"
    path.write_bytes(os.urandom(32).hex().encode())
    result = subprocess.run([sys.executable, "-m", "gnutls_lab", "serve", "--port", "0", "--ticket-key", str(path),
                             "--max-connections", "1"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "64 hex digits (a 32-byte key)" in result.stderr and result.stderr.count("\n") == 1


def test_huge_key_file_is_refused_naming_its_size(tmp_path):
    path = tmp_path / "huge"
    with open(path, "wb") as handle:
        handle.truncate(3 * 1024**3)  # sparse: 3 GiB that take no disk
    with pytest.raises(TicketKeyError, match="3221225472 bytes"):
        load_ticket_key(path)
    with pytest.raises(TicketKeyError, match="character device, not a regular file"):
        load_ticket_key("/dev/zero")
