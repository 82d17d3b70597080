"""gnutls-lab serve --http: the lab server answers HTTP/1.1 so that HTTP clients finish normally, and --log
records per connection whether the server resumed it (network/http.py, faces/cli/peers.py)."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import threading

import pytest

from gnutls_lab.network._http import http_response
from gnutls_lab.network._server import LabServer

pytestmark = [pytest.mark.peers, pytest.mark.timeout(120)]


def _tls_socket(port: int) -> ssl.SSLSocket:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))


def _read_response(sock) -> tuple[str, dict, bytes, bytes]:
    """(status line, headers, body, what was read after it)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, "connection closed before a full response head"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers["content-length"])
    while len(rest) < length:
        rest += sock.recv(4096)
    return lines[0], headers, rest[:length], rest[length:]


@pytest.fixture
def http_server():
    with LabServer(0, "1.3", http=True, idle_timeout=1.0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield server
        server.stop()
        thread.join(30)


def _served(server, count):
    return server.wait_served(count, 30)


def test_keep_alive_then_close_on_one_connection(http_server):
    with _tls_socket(http_server.port) as sock:
        sock.sendall(b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, body, _ = _read_response(sock)
        assert status == "HTTP/1.1 200 OK" and headers["connection"] == "keep-alive"
        assert body == b"gnutls-lab: response 1 to GET /one\n"
        sock.sendall(b"POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                     b"GET /three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status, headers, body, rest = _read_response(sock)
        assert body == b"gnutls-lab: response 2 to POST /two\n"
        if not rest:
            rest = sock.recv(4096)
        sock2_data = rest
        while b"\r\n\r\n" not in sock2_data:
            sock2_data += sock.recv(4096)
        assert b"Connection: close" in sock2_data and b"response 3 to GET /three" in sock2_data
    (record,) = _served(http_server, 1)
    assert record.http_requests == 3 and not record.error


def test_wait_served_gives_the_records_so_far_in_connection_order(http_server):
    assert http_server.wait_served(1, 0.1) == []  # no connection yet: the wait ends with what there is
    for path in ("/a", "/b"):
        with _tls_socket(http_server.port) as sock:
            sock.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
            assert _read_response(sock)[2] == f"gnutls-lab: response 1 to GET {path}\n".encode()
    records = http_server.wait_served(2, 30)
    assert [r.index for r in records] == [0, 1] and [r.http_requests for r in records] == [1, 1]


def test_http_1_0_closes_unless_asked_and_head_has_no_body():
    assert b"Connection: close" in http_response("GET", "/", False, 1)
    head_only = http_response("HEAD", "/", True, 1)
    announced = len(b"gnutls-lab: response 1 to HEAD /\n")
    assert head_only.endswith(b"\r\n\r\n") and f"Content-Length: {announced}".encode() in head_only
    head, _, body = http_response("GET", "/", True, 1).partition(b"\r\n\r\n")
    assert f"Content-Length: {len(body)}".encode() in head and body


def test_http_1_0_request_gets_connection_close(http_server):
    with _tls_socket(http_server.port) as sock:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        _, headers, _, _ = _read_response(sock)
        assert headers["connection"] == "close"
        assert sock.recv(4096) == b""  # the server closed after answering
    (record,) = _served(http_server, 1)
    assert record.http_requests == 1


@pytest.mark.parametrize("length, error", [(b"abc", "not a Content-Length: 'abc'"), (b"-5", "not a Content-Length"),
                                           (b"\xb2", "not a Content-Length"), (b"9" * 5000, "at most 1 MiB"),
                                           (b"2000000", "at most 1 MiB")])
def test_unreadable_content_length_fails_the_connection_and_is_recorded(http_server, length, error):
    with _tls_socket(http_server.port) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nContent-Length: " + length + b"\r\n\r\n")
        assert sock.recv(4096) == b""  # no answer: the server closed the connection
    (record,) = _served(http_server, 1)
    assert error in record.error and record.http_requests == 0
    with _tls_socket(http_server.port) as sock:  # the server still serves the next client
        sock.sendall(b"GET /next HTTP/1.0\r\n\r\n")
        assert _read_response(sock)[2] == b"gnutls-lab: response 1 to GET /next\n"


def test_cli_serve_http_log_records_resumption_of_a_real_client(tmp_path):
    log = tmp_path / "served.jsonl"
    server = subprocess.Popen([sys.executable, "-m", "gnutls_lab", "serve", "--port", "0", "--tls", "1.2", "--http",
                               "--log", str(log), "--max-connections", "2", "--idle-timeout", "1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = server.stderr.readline()
        port = int(banner.split("127.0.0.1:")[1].split(",")[0])
        wget = subprocess.run(["wget2", "-q", "-O", "-", "--no-check-certificate", "--tls-resume",
                               f"--tls-session-file={tmp_path / 'session'}", f"https://127.0.0.1:{port}/a"],
                              capture_output=True, text=True, timeout=60)
        again = subprocess.run(["wget2", "-q", "-O", "-", "--no-check-certificate", "--tls-resume",
                                f"--tls-session-file={tmp_path / 'session'}", f"https://127.0.0.1:{port}/b"],
                               capture_output=True, text=True, timeout=60)
        server.wait(60)
    finally:
        server.kill()
        server.wait()
    assert wget.returncode == again.returncode == 0
    assert wget.stdout == "gnutls-lab: response 1 to GET /a\n"
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["resumed"] for e in entries] == [False, True]
    assert entries[1]["presented"] == "session_ticket" and entries[1]["ticket_id"].startswith("ticket:")
    assert [e["http_requests"] for e in entries] == [1, 1]
    assert oct(log.stat().st_mode & 0o777) == "0o600"


def test_cli_serve_log_refuses_a_folder(tmp_path):
    result = subprocess.run([sys.executable, "-m", "gnutls_lab", "serve", "--port", "0", "--http",
                             "--log", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "not a regular file" in result.stderr and result.stderr.count("\n") == 1
