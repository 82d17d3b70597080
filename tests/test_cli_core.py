"""``gnutls-lab info|handshake|capture`` as a user runs them: a subprocess, JSON, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def run(*args, timeout=120, env_extra=None):
    return subprocess.run([sys.executable, "-m", "gnutls_lab", *args], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, PYTHONWARNINGS="ignore", **(env_extra or {})))


def test_info_json():
    result = run("info", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["gnutls_version"].startswith("3.")
    assert set(info["supported_protocols"]) >= {"TLS1.3", "TLS1.2"}
    assert info["in_memory_pipe"].startswith("C pipe (_memio."), info["in_memory_pipe"]


def test_info_says_when_the_python_pipe_is_used():
    result = run("info", env_extra={"GNUTLS_LAB_PIPE": "python"})
    assert result.returncode == 0, result.stderr
    assert "in-memory pipe: Python pipe (C pipe switched off: GNUTLS_LAB_PIPE=python" in result.stdout


@pytest.mark.parametrize("tls", ["1.3", "1.2"])
def test_handshake_json_shape(tls):
    result = run("handshake", "--tls", tls, "--resume", "2", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["gnutls_version"].startswith("3.")
    connections = doc["connections"]
    assert [c["resumed"] for c in connections] == [False, True, True]
    for c in connections:
        assert c["protocol"] == f"TLS{tls}"
        assert c["cipher_suite"].startswith("TLS_")
        assert c["session_data_dummy"] is False
        assert c["messages"][0] == {"sender": "client", "type": "CLIENT HELLO"}
        assert all(set(m) == {"sender", "type"} and m["sender"] in ("client", "server") for m in c["messages"])
    assert "CERTIFICATE" in [m["type"] for m in connections[0]["messages"]]
    assert "CERTIFICATE" not in [m["type"] for m in connections[1]["messages"]]


def test_handshake_without_tickets_is_never_resumed_under_tls13():
    doc = json.loads(run("handshake", "--tls", "1.3", "--no-tickets", "--resume", "1", "--json").stdout)
    assert [c["resumed"] for c in doc["connections"]] == [False, False]
    assert doc["connections"][0]["session_data_dummy"] is True


def test_handshake_text_transcript():
    result = run("handshake", "--resume", "1")
    assert result.returncode == 0
    assert "client -> server  CLIENT HELLO" in result.stdout and "RESUMED" in result.stdout


def test_capture_writes_real_data_and_refuses_dummy(tmp_path):
    out = tmp_path / "session.bin"
    result = run("capture", "--tls", "1.3", "-o", str(out))
    assert result.returncode == 0, result.stderr
    data = out.read_bytes()
    assert len(data) > 100 and data[:4] != b"\0\0\0\0"

    dummy = tmp_path / "dummy.bin"
    refused = run("capture", "--tls", "1.3", "--no-tickets", "-o", str(dummy))
    assert refused.returncode == 2 and not dummy.exists()
    assert len(refused.stderr.strip().splitlines()) == 1 and "--allow-dummy" in refused.stderr
    allowed = run("capture", "--tls", "1.3", "--no-tickets", "--allow-dummy", "-o", str(dummy), "--json")
    assert allowed.returncode == 0 and dummy.read_bytes() == b"\0\0\0\0"
    described = json.loads(allowed.stdout)
    assert described["dummy"] is True and described["bytes"] == 4 and "NewSessionTicket" in described["reason"]


def test_usage_errors_are_one_line_exit_2(tmp_path):
    for args in (["handshake", "--resume", "-1"], ["capture", "-o", str(tmp_path / "missing-dir" / "x.bin")]):
        result = run(*args)
        assert result.returncode == 2, args
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
