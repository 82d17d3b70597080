"""``gnutls-lab serve``'s per-connection lines and ``--log``: what they say a client offered, and what happens
when they cannot be written (faces/cli/peers.py, network/server.py).

The rule (README, ``serve --help``): a line that cannot be written, to standard output or to the log
file, stops the server: one line on stderr says where and why and how many connections went unlogged,
the exit status is 2, and the log file keeps whole JSON lines. Tested with standard output into a pipe
whose reader has gone, into ``/dev/full``, and with ``--log`` on a full tmpfs (mounted in a private mount
namespace with ``unshare``, so nothing outside the test sees it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys

import pytest

from gnutls_lab.errors import GnuTLSLabError
from gnutls_lab.network import connect
from test_server import serve  # noqa: F401  (the fixture that starts and stops `gnutls-lab serve`)

pytestmark = [pytest.mark.peers, pytest.mark.timeout(180)]

SERVE = [sys.executable, "-m", "gnutls_lab", "serve", "--port", "0"]


def _port(stderr) -> int:
    line = stderr.readline()
    found = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    assert found, line
    return int(found.group(1))


def _visit(port: int, times: int, tls: str = "1.3") -> None:
    for _ in range(times):
        try:
            with connect("127.0.0.1", port, tls, timeout=5):
                pass
        except GnuTLSLabError:
            return  # the server has stopped
        except Exception as exc:  # noqa: BLE001 - a refused connection once it stopped
            if "cannot connect" in str(exc):
                return
            raise


def _stopped(process: subprocess.Popen) -> tuple[int, str]:
    """The server's exit status and stderr; if it goes on, it is killed (with every process of its group
    when it leads one) and the test fails."""
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        if os.getpgid(process.pid) == process.pid:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        process.wait(10)
        raise AssertionError("the server went on after its output failed")
    return process.returncode, process.stderr.read()


def _assert_one_error_line(stderr: str, where: str, reason: str) -> None:
    lines = [line for line in stderr.splitlines() if not line.startswith("gnutls-lab serve: listening")]
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"gnutls-lab serve: error: cannot write to {where}: {reason}"), stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr


def test_stdout_into_a_closed_pipe_stops_the_server_with_one_line():
    process = subprocess.Popen(SERVE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    port = _port(process.stderr)
    _visit(port, 1)
    assert process.stdout.readline().startswith("#0 ")  # the reader takes one line (like `| head -1`) and goes
    process.stdout.close()
    _visit(port, 5)
    status, stderr = _stopped(process)
    assert status == 2
    _assert_one_error_line(stderr, "standard output", "Broken pipe")
    assert re.search(r"stopped after \d+ connections, [1-9]\d* of them not logged", stderr), stderr


def test_stdout_on_a_full_device_stops_the_server_with_one_line():
    with open("/dev/full", "w") as full:
        process = subprocess.Popen(SERVE, stdout=full, stderr=subprocess.PIPE, text=True)
    port = _port(process.stderr)
    _visit(port, 3)
    status, stderr = _stopped(process)
    assert status == 2
    _assert_one_error_line(stderr, "standard output", "No space left on device")


def _unshare() -> list[str]:
    """A private mount namespace (inside gnutls-env's chroot the root cannot change propagation)."""
    unshare = shutil.which("unshare")
    assert unshare, "unshare (util-linux) is missing: apt-get install util-linux"
    for propagation in ("private", "unchanged"):
        probe = subprocess.run([unshare, "-m", "--propagation", propagation, "true"], capture_output=True)
        if probe.returncode == 0:
            return [unshare, "-m", "--propagation", propagation]
    raise AssertionError(f"unshare -m does not work here: {probe.stderr.decode()}")


def test_log_on_a_full_filesystem_stops_the_server_and_keeps_whole_lines(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    copy = tmp_path / "log-copy.jsonl"
    # One free 4 KiB page for the log: a dozen or so lines, then ENOSPC.
    script = ('set -e; mount -t tmpfs -o size=8k tmpfs "$1"; head -c 4096 /dev/zero > "$1/filler"; shift; '
              'set +e; "$@"; status=$?; cp "$LOG" "$COPY"; exit $status')
    log = mount / "served.jsonl"
    process = subprocess.Popen([*_unshare(), "sh", "-c", script, "sh", str(mount), *SERVE, "--log", str(log)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
                               env={**os.environ, "LOG": str(log), "COPY": str(copy)})
    port = _port(process.stderr)
    _visit(port, 60)
    status, stderr = _stopped(process)
    assert status == 2, stderr
    _assert_one_error_line(stderr, str(log), "No space left on device")
    entries = [json.loads(line) for line in copy.read_text().splitlines()]  # whole JSON lines only
    assert 5 <= len(entries) < 60
    assert len({entry["connection"] for entry in entries}) == len(entries)
    found = re.search(r"stopped after (\d+) connections, (\d+) of them not logged", stderr)
    assert found and int(found.group(1)) - int(found.group(2)) == len(entries), stderr


# --- what the lines say a client offered -----------------------------------------------------------


def test_a_fresh_session_id_is_not_called_a_resumption_attempt(serve, tmp_path):
    # A TLS 1.3-capable client (the lab client with NORMAL) talking to a TLS 1.2 server sends a random
    # 32-byte session ID in every ClientHello (RFC 8446 D.4): the server never issued it.
    log = tmp_path / "served.jsonl"
    server = serve("--tls", "1.2", "--no-tickets", "--log", str(log))
    with connect("127.0.0.1", server.port, "NORMAL") as conn:
        assert conn.protocol == "TLS1.2"
        data = conn.session_data
    with connect("127.0.0.1", server.port, "NORMAL", resume=data) as conn:
        assert conn.resumed
    lines = sorted(server.wait_for_lines(2))  # "#0 ..." then "#1 ...": printed as the connections end
    assert "client sent a fresh session_id" in lines[0] and "no resumption attempt" in lines[0]
    assert "client presented session_id" in lines[1] and "issued by this server" in lines[1]
    entries = sorted((json.loads(line) for line in log.read_text().splitlines()), key=lambda e: e["connection"])
    assert [(e["presented"], e["issued_here"], e["resumed"]) for e in entries] == \
        [("session_id", False, False), ("session_id", True, True)]


def test_a_client_that_offers_nothing_presents_nothing(serve):
    server = serve("--tls", "1.2")
    with connect("127.0.0.1", server.port, "1.2") as conn:  # a TLS 1.2-only GnuTLS client: empty session ID
        assert not conn.resumed
    (line,) = server.wait_for_lines(1)
    assert "client presented nothing" in line
