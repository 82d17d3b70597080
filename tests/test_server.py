"""``gnutls-lab serve`` (gnutls_lab/server.py, gnutls_lab/cli/peers.py) against clients nobody here wrote.

Every server runs as its own process (``python -m gnutls_lab serve --port 0``) on 127.0.0.1, announces
its port on stderr, and is stopped by the fixture (SIGTERM, then SIGKILL) whatever the test did. The
real clients are gnutls-cli (gnutls-bin) and openssl s_client; the suite fails, never skips, without
them (`make test` installs them).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from gnutls_lab.network._peers import die_with_parent, openssl_session_text, require_program
from gnutls_lab.network._server import LabServer, presented_identity

pytestmark = [pytest.mark.peers, pytest.mark.timeout(120)]

TLS_VERSIONS = ("1.3", "1.2")


class ServeProcess:
    """``gnutls-lab serve`` in a subprocess; ``lines()`` is what it printed on stdout so far."""

    def __init__(self, tmp_path, *args: str):
        self.out_path, self.err_path = tmp_path / "serve.out", tmp_path / "serve.err"
        self.out, self.err = open(self.out_path, "w"), open(self.err_path, "w")
        self.process = subprocess.Popen([sys.executable, "-m", "gnutls_lab", "serve", "--port", "0", *args],
                                        stdout=self.out, stderr=self.err, stdin=subprocess.DEVNULL,
                                        preexec_fn=die_with_parent)
        self.port = self._wait_for_port()

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            found = re.search(r"listening on 127\.0\.0\.1:(\d+)", self.err_path.read_text())
            if found:
                return int(found.group(1))
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"gnutls-lab serve did not start: {self.err_path.read_text()!r}")

    def lines(self) -> list[str]:
        return [line for line in self.out_path.read_text().splitlines() if line.strip()]

    def wait_for_lines(self, count: int, timeout: float = 15) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.lines()) < count:
            time.sleep(0.05)
        return self.lines()

    def wait(self, timeout: float = 15) -> int:
        """Wait for the server to end by itself (``--max-connections``); its exit status."""
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.stop()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.out.close()
        self.err.close()
        return self.process.returncode


@pytest.fixture
def serve(tmp_path):
    started = []

    def start(*args: str) -> ServeProcess:
        process = ServeProcess(tmp_path, *args)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def run(command: list[str], timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)


# --- real clients resume against the lab server --------------------------------------------------


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_gnutls_cli_resumes_against_lab_server(serve, tls):
    gnutls_cli = require_program("gnutls-cli")
    server = serve("--tls", tls, "--json", "--max-connections", "2")
    version = "+VERS-TLS1.3" if tls == "1.3" else "+VERS-TLS1.2"
    result = run([gnutls_cli, "--insecure", "--resume", "--priority", f"NORMAL:-VERS-ALL:{version}",
                  "-p", str(server.port), "127.0.0.1"])
    assert result.returncode == 0, result.stderr
    assert "This is a resumed session" in result.stdout
    records = [json.loads(line) for line in server.wait_for_lines(2)]
    assert [r["resumed"] for r in records] == [False, True]
    assert {r["protocol"] for r in records} == {f"TLS{tls}"}
    expected_kind = "psk_identity" if tls == "1.3" else "session_ticket"
    assert records[1]["identity_kind"] == expected_kind
    assert records[1]["identity_length"] == len(bytes.fromhex(records[1]["identity"])) > 100
    assert server.wait() == 0  # --max-connections 2 ended it cleanly


@pytest.mark.parametrize("tls", TLS_VERSIONS)
def test_openssl_s_client_sess_out_then_sess_in_resumes(serve, tmp_path, tls):
    openssl = require_program("openssl")
    server = serve("--tls", tls, "--json", "--idle-timeout", "0.3")
    session_file = str(tmp_path / "openssl-session.pem")
    flag = "-tls1_3" if tls == "1.3" else "-tls1_2"
    # -ign_eof: keep reading after stdin ends, so the TLS 1.3 tickets (sent after the handshake) arrive
    # before s_client writes -sess_out; the lab server closes after 0.3 s of silence.
    first = run([openssl, "s_client", flag, "-ign_eof", "-connect", f"127.0.0.1:{server.port}",
                 "-sess_out", session_file])
    assert first.returncode == 0, first.stderr
    assert re.search(r"^New, TLSv" + re.escape(tls), first.stdout, re.M)
    second = run([openssl, "s_client", flag, "-ign_eof", "-connect", f"127.0.0.1:{server.port}",
                  "-sess_in", session_file])
    assert second.returncode == 0, second.stderr
    assert re.search(r"^Reused, TLSv" + re.escape(tls), second.stdout, re.M)
    records = [json.loads(line) for line in server.wait_for_lines(2)]
    assert [r["resumed"] for r in records] == [False, True]
    # OpenSSL's own view of the session it saved names the ticket the lab server saw presented.
    text = openssl_session_text(session_file)
    assert f"Protocol  : TLSv{tls}" in text
    ticket_hex = "".join(re.findall(r"^\s+[0-9a-f]{4} - ((?:[0-9a-f]{2}[ -]){1,16})", text, re.M))
    assert records[1]["identity"].startswith(ticket_hex.replace(" ", "").replace("-", "")[:64])


# --- the server's own behaviour ------------------------------------------------------------------


def test_ticket_key_file_is_written_then_reused_across_servers(serve, tmp_path):
    """A second server loaded with the first one's key file resumes the first one's tickets."""
    key_file = str(tmp_path / "ticket.key")
    first = serve("--ticket-key", key_file, "--max-connections", "1", "--json")
    assert os.stat(key_file).st_mode & 0o777 == 0o600 and os.path.getsize(key_file) == 64
    from gnutls_lab.network._client import connect

    with connect("127.0.0.1", first.port, "1.3") as conn:
        data = conn.session_data
    assert first.wait() == 0
    second = serve("--ticket-key", key_file, "--max-connections", "2", "--json")
    with connect("127.0.0.1", second.port, "1.3", resume=data) as conn:
        assert conn.resumed
    other = serve("--max-connections", "1", "--json")  # a fresh key: the same ticket is refused
    with connect("127.0.0.1", other.port, "1.3", resume=data) as conn:
        assert not conn.resumed and conn.offered_resumption


def test_exported_ticket_key_decrypts_the_presented_ticket(serve, tmp_path):
    from gnutls_lab.network._client import connect
    from gnutls_lab.analysis._ticket_keys import decrypt_ticket

    key_file = str(tmp_path / "ticket.key")
    server = serve("--ticket-key", key_file, "--lifetime", "3600", "--json")
    with connect("127.0.0.1", server.port, "1.3") as conn:
        data = conn.session_data
    with connect("127.0.0.1", server.port, "1.3", resume=data) as conn:
        assert conn.resumed
    identity = bytes.fromhex(json.loads(server.wait_for_lines(2)[1])["identity"])
    opened = decrypt_ticket(identity, key_file, tls13=True, expire_hint=3600)
    assert opened.protocol == "TLS1.3" and opened.fields["lifetime"] == 3600


def test_extra_tickets_and_session_id_resumption_without_tickets(serve):
    from gnutls_lab.network._client import connect

    server = serve("--tls", "1.3", "--tickets", "3", "--json", "--max-connections", "1")
    with connect("127.0.0.1", server.port, "1.3") as conn:
        conn.session_data
    assert json.loads(server.wait_for_lines(1)[0])["tickets_sent"] == 2 + 3
    cache_only = serve("--tls", "1.2", "--no-tickets", "--json")
    with connect("127.0.0.1", cache_only.port, "1.2") as conn:
        data = conn.session_data
    with connect("127.0.0.1", cache_only.port, "1.2", resume=data) as conn:
        assert conn.resumed
    records = [json.loads(line) for line in cache_only.wait_for_lines(2)]
    assert records[1]["identity_kind"] == "session_id" and records[1]["resumed"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_cleanly_on_signal(serve, sig):
    server = serve()
    server.process.send_signal(sig)
    assert server.process.wait(timeout=10) == 0
    assert "stopped after 0 connections" in server.err_path.read_text()


@pytest.mark.parametrize("lifetime", ["0", "-1", "604801"])
def test_serve_refuses_bad_lifetime_in_one_line(lifetime):
    result = run([sys.executable, "-m", "gnutls_lab", "serve", "--port", "0", "--lifetime", lifetime])
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert "lifetime" in result.stderr and "refused" in result.stderr


def test_log_line_abbreviates_identity_and_server_binds_loopback_only():
    with LabServer(0, "1.3") as server:
        assert server.address[0] == "127.0.0.1"
        from gnutls_lab.network._client import connect

        thread_result = []
        import threading

        worker = threading.Thread(target=lambda: thread_result.append(server.serve_forever(max_connections=2)))
        worker.start()
        try:
            with connect("127.0.0.1", server.port, "1.3") as conn:
                data = conn.session_data
            with connect("127.0.0.1", server.port, "1.3", resume=data) as conn:
                assert conn.resumed
        finally:
            worker.join(timeout=20)
            server.stop()
        first, second = thread_result[0]
        assert "full handshake; client presented nothing" in first.log_line()
        line = second.log_line()
        assert "RESUMED" in line and "psk_identity" in line and f"({len(second.identity)} bytes)" in line
        assert second.identity.hex() not in line  # abbreviated, not the whole bearer credential


def test_presented_identity_ignores_tls13_legacy_session_id():
    from gnutls_lab import Lab

    with Lab("1.3").connect() as conn:
        hello = next(m.body for m in conn.server.transcript if m.sender == "client" and m.type == 1)
    assert presented_identity(hello, "TLS1.3") == (None, b"")
    assert presented_identity(b"\x03\x03garbage", "TLS1.2") == (None, b"")


def test_a_client_speaking_garbage_is_logged_and_the_server_carries_on(serve):
    import socket

    from gnutls_lab.network._client import connect

    server = serve("--json", "--max-connections", "3")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        raw.sendall(b"GET / HTTP/1.0\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5):
        pass  # connect and hang up before any byte
    with connect("127.0.0.1", server.port, "1.3") as conn:
        assert conn.protocol == "TLS1.3"
    records = [json.loads(line) for line in server.wait_for_lines(3)]
    assert records[0]["error"] and records[1]["error"] and not records[2]["error"]
    assert "GNUTLS_E_" in records[0]["error"]
    assert server.wait() == 0
