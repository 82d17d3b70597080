"""``gnutls-lab decode``: output modes, ticket keys, and one-line errors (in-process and as a subprocess)."""

from __future__ import annotations

import base64
import json
import struct
import subprocess
import sys

import pytest

from blob_fixtures import session_corpus
from gnutls_lab.faces.cli import main

REAL = session_corpus(dummy=False)


def _case(case: str, version: str = "3.8.9"):
    return next((blob, entry) for name, entry, blob in REAL
                if entry["case"] == case and entry["gnutls_version"] == version)


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gnutls_lab", "decode", *args], input=stdin,
                          capture_output=True, timeout=60)


@pytest.fixture()
def tls13_file(tmp_path):
    blob, entry = _case("tls13_client")
    path = tmp_path / "tls13.bin"
    path.write_bytes(blob)
    return path, blob, entry


def test_subprocess_report_json_and_ticket_key(tls13_file, tmp_path):
    path, blob, entry = tls13_file
    report = run_cli(str(path))
    assert report.returncode == 0 and report.stderr == b""
    assert b"Protocol  : TLS1.3" in report.stdout and b"Resumption PSK: redacted" in report.stdout
    key = tmp_path / "key.b64"
    key.write_text(base64.b64encode(bytes.fromhex(entry["ticket_key"])).decode())
    result = run_cli(str(path), "--json", "--ticket-key", str(key))
    assert result.returncode == 0, result.stderr
    view = json.loads(result.stdout)
    assert view["gnutls_version"] == "3.8.9" and view["session_id"] == entry["session_id"]
    assert view["tls13"]["nonce"] == entry["last_new_session_ticket"]["nonce"]
    state = view["ticket_state"]
    assert state["ticket_age_add"] == view["tls13"]["ticket_age_add"] == entry["last_new_session_ticket"]["age_add"]
    assert state["resumption_master_secret"] == "redacted" and state["state"]["entity"] == "server"


def test_ticket_key_from_stdin(tls13_file):
    """``--ticket-key -`` reads the key from standard input (the blob then comes from a file)."""
    path, blob, entry = tls13_file
    key_hex = entry["ticket_key"].encode() + b"\n"
    result = run_cli(str(path), "--json", "--ticket-key", "-", stdin=key_hex)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ticket_state"]["ticket_age_add"] == entry["last_new_session_ticket"]["age_add"]
    both = run_cli("-", "--ticket-key", "-", stdin=blob)
    assert both.returncode == 2 and both.stderr.count(b"\n") == 1 and b"cannot both" in both.stderr


def test_subprocess_stdin_and_hex_text(tls13_file):
    path, blob, entry = tls13_file
    raw = run_cli("-", "--json", stdin=blob)
    hexed = run_cli("-", "--json", stdin=blob.hex().encode() + b"\n")
    assert raw.returncode == hexed.returncode == 0
    assert json.loads(raw.stdout) == json.loads(hexed.stdout)


@pytest.mark.parametrize("mangle,path_part", [
    (lambda b: b[:200], "auth_info"),
    (lambda b: b + b"garbage", "(after end)"),
    (lambda b: b[:13] + struct.pack(">I", 0xFFFFFFF0) + b[17:], "auth_info"),
    (lambda b: b"\x01\x02\x03\x04" + b[4:], "magic"),
])
def test_subprocess_bad_input_is_one_line_with_path_and_offset(tmp_path, mangle, path_part):
    blob, _ = _case("tls13_client")
    path = tmp_path / "bad.bin"
    path.write_bytes(mangle(blob))
    result = run_cli(str(path))
    err = result.stderr.decode()
    assert result.returncode == 2 and result.stdout == b""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"field {path_part}" in err and "byte offset" in err


def test_wrong_ticket_key_and_missing_file_exit_2(tls13_file, tmp_path):
    path, blob, entry = tls13_file
    wrong = tmp_path / "wrong.hex"
    wrong.write_text("11" * 64)
    result = run_cli(str(path), "--ticket-key", str(wrong))
    assert result.returncode == 2 and b"this key did not issue this ticket" in result.stderr
    assert result.stderr.count(b"\n") == 1
    missing = run_cli(str(tmp_path / "nope.bin"))
    assert missing.returncode == 2 and b"cannot read" in missing.stderr and b"Traceback" not in missing.stderr


def test_in_process_modes(tmp_path, capsys):
    blob, entry = _case("tls12_ticket_client", "3.7.9")
    path = tmp_path / "tls12.bin"
    path.write_bytes(blob)
    assert main(["decode", str(path), "--hexdump"]) == 0
    out = capsys.readouterr().out
    assert "Master-Key: redacted" in out and "extensions[0].ticket.key_name" in out and "**" in out
    assert main(["decode", str(path), "--json", "--show-secrets"]) == 0
    view = json.loads(capsys.readouterr().out)
    assert view["master_secret"] == entry["master_secret"] and view["tls13"] is None
    key = tmp_path / "key.raw"
    key.write_bytes(bytes.fromhex(entry["ticket_key"]))
    assert main(["decode", str(path), "--ticket-key", str(key)]) == 0
    assert "Ticket state (TLS1.2" in capsys.readouterr().out


def test_dummy_decodes_with_exit_0(tmp_path, capsys):
    path = tmp_path / "dummy.bin"
    path.write_bytes(b"\0\0\0\0")
    assert main(["decode", str(path), "--json"]) == 0
    view = json.loads(capsys.readouterr().out)
    assert view["dummy"] is True and "no-op" in view["dummy_reason"]
