"""gnutls-lab serve --http: the lab server answers HTTP/1.1 so that HTTP clients finish normally, and --log
records per connection whether the server resumed it (network/http.py, faces/cli/peers.py)."""

from __future__ import annotations

import json
import os
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


def test_requests_answered_before_a_failure_are_counted(http_server):
    with _tls_socket(http_server.port) as sock:
        sock.sendall(b"GET /fine HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _read_response(sock)[2] == b"gnutls-lab: response 1 to GET /fine\n"
        sock.sendall(b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n")
        assert sock.recv(4096) == b""
    (record,) = _served(http_server, 1)
    assert "not a Content-Length" in record.error and record.http_requests == 1
    assert "HTTP requests answered 1" in record.log_line()


def test_close_after_ends_each_connection_after_n_requests():
    with LabServer(0, "1.3", http=True, close_after=2, idle_timeout=1.0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        with _tls_socket(server.port) as sock:
            sock.sendall(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\n\r\n")
            _, first, _, rest = _read_response(sock)
            data = rest
            while b"response 2" not in data:
                chunk = sock.recv(4096)
                assert chunk, "closed before the second answer"
                data += chunk
            assert first["connection"] == "keep-alive" and b"Connection: close" in data
            assert sock.recv(4096) == b"" and b"/3" not in data  # closed: the third request is not answered
        (record,) = _served(server, 1)
        server.stop()
        thread.join(30)
    assert record.http_requests == 2 and not record.error


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "site"
    (root / "sub").mkdir(parents=True)
    (root / "index.txt").write_text("top\n")
    (root / "sub" / "page.html").write_text("<p>sub</p>\n")
    (tmp_path / "secret.txt").write_text("outside\n")
    (root / "link-out.txt").symlink_to(tmp_path / "secret.txt")
    (root / "link-in.txt").symlink_to(root / "index.txt")
    (root / "dir-link").symlink_to(tmp_path)
    os.mkfifo(root / "fifo")
    return root


def test_root_serves_files_and_nothing_outside_it(folder):
    with LabServer(0, "1.3", http=True, root=folder, idle_timeout=1.0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()

        def get(target: str, method: str = "GET") -> tuple[str, dict, bytes]:
            with _tls_socket(server.port) as sock:
                sock.sendall(f"{method} {target} HTTP/1.0\r\n\r\n".encode())
                if method == "HEAD":
                    data = b""
                    while b"\r\n\r\n" not in data:
                        data += sock.recv(4096)
                    lines = data.split(b"\r\n\r\n")[0].decode().split("\r\n")
                    return lines[0], {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}, b""
                status, headers, body, _ = _read_response(sock)
                return status, headers, body

        assert get("/index.txt")[2] == b"top\n"
        status, headers, body = get("/sub/page.html?x=1#frag")
        assert body == b"<p>sub</p>\n" and headers["content-type"].startswith("text/html")
        assert get("/sub/%70age.html")[2] == b"<p>sub</p>\n"  # percent-decoded once
        status, headers, _ = get("/index.txt", "HEAD")
        assert status == "HTTP/1.1 200 OK" and headers["content-length"] == "4"
        for target in ("/../secret.txt", "/sub/../../secret.txt", "/%2e%2e/secret.txt", "/sub/%2E%2E/index.txt",
                       "/link-out.txt", "/link-in.txt", "/dir-link/secret.txt", "/fifo", "/sub", "/", "//index.txt",
                       "/index.txt%00", "/sub\\..\\index.txt", "/missing", "*"):
            status, _, body = get(target)
            assert status == "HTTP/1.1 404 Not Found", (target, status)
            assert b"outside" not in body
        assert get("/index.txt", "POST")[0] == "HTTP/1.1 405 Method Not Allowed"
        assert get("http://127.0.0.1/index.txt")[2] == b"top\n"  # absolute form (RFC 9112 3.2.2): its path
        server.stop()
        thread.join(30)


def test_root_must_be_a_real_folder(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path)
    for root in (tmp_path / "file", tmp_path / "link", tmp_path / "missing"):
        result = subprocess.run([sys.executable, "-m", "gnutls_lab", "serve", "--port", "0", "--http", "--root",
                                 str(root)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and result.stderr.count("\n") == 1 and "cannot serve files" in result.stderr


def _git(*args: str, cwd=None, env=None) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout


@pytest.mark.parametrize("tls, packed", [("1.3", False), ("1.2", True)])
def test_git_clone_over_https_from_a_dumb_http_repository(tmp_path, tls, packed):
    env = {**os.environ, "GIT_SSL_NO_VERIFY": "1", "GIT_TERMINAL_PROMPT": "0", "HOME": str(tmp_path),
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "lab", "GIT_AUTHOR_EMAIL": "lab@example.invalid",
           "GIT_COMMITTER_NAME": "lab", "GIT_COMMITTER_EMAIL": "lab@example.invalid"}
    work, bare = tmp_path / "work", tmp_path / "repo.git"
    _git("init", "-q", str(work), env=env)
    for n in range(3):
        (work / f"file{n}.txt").write_text(f"content {n}\n")
        _git("add", ".", cwd=work, env=env)
        _git("commit", "-q", "-m", f"commit {n}", cwd=work, env=env)
    _git("clone", "-q", "--bare", str(work), str(bare), env=env)
    if packed:
        _git("repack", "-a", "-d", "-q", cwd=bare, env=env)
    _git("update-server-info", cwd=bare, env=env)
    log = tmp_path / "served.jsonl"
    server = subprocess.Popen([sys.executable, "-m", "gnutls_lab", "serve", "--port", "0", "--tls", tls, "--http",
                               "--root", str(bare), "--close-after", "1", "--log", str(log), "--idle-timeout", "1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        port = int(server.stderr.readline().split("127.0.0.1:")[1].split(",")[0])
        _git("clone", "-q", f"https://127.0.0.1:{port}/", str(tmp_path / "clone"), env=env)
    finally:
        server.terminate()
        server.wait(30)
    assert (tmp_path / "clone" / "file2.txt").read_text() == "content 2\n"
    assert _git("log", "--format=%s", cwd=tmp_path / "clone", env=env).split() == \
        ["commit", "2", "commit", "1", "commit", "0"]
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    # --close-after 1: one connection per request (info/refs, HEAD, then the objects or the pack)
    assert len(entries) >= 4 and all(e["http_requests"] == 1 and not e["error"] for e in entries), entries
