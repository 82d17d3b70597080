"""Output files, user-given names and special files at the command line (issue 20: 2.3, 3.5, 4.8).

- Two output options naming one file are refused before any work: the same path, the same file through
  a relative path, a linked folder or a hard link (``capture -o X --ticket-key-out X`` kept the key and
  lost the blob, exit 0).
- Every output path is checked before the command works (``experiment reuse --plot`` into a missing
  folder failed after the whole run).
- Names are printed with control characters escaped; named pipes are refused instead of waited on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from gnutls_lab.faces.cli import build_parser, printable


def run(*args, timeout=120, **kwargs):
    return subprocess.run([sys.executable, "-m", "gnutls_lab", *args], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, PYTHONWARNINGS="ignore"), **kwargs)


# Each command with several output options, and two of its options with FIRST/SECOND for the paths.
TWO_OUTPUTS = {
    "capture": ["capture", "--tls", "1.2", "-o", "FIRST", "--ticket-key-out", "SECOND"],
    "handshake": ["handshake", "--resume", "1", "--pcap", "FIRST", "--keylog", "SECOND"],
    "experiment reuse": ["experiment", "reuse", "--visits", "3", "--max-reuse", "1", "--pcap", "FIRST",
                         "--keylog", "SECOND"],
    "experiment replay": ["experiment", "replay", "--pcap", "FIRST", "--keylog", "SECOND"],
    "serve": ["serve", "--port", "0", "--max-connections", "1", "--log", "FIRST", "--ticket-key", "SECOND"],
}


def _commands_with_outputs(parser=None, prefix=()):
    """{command words: output options} for every (sub)command, read from the real parser."""
    import argparse

    parser = parser or build_parser()
    found = {}
    outputs = parser.get_default("output_options")
    if outputs:
        found[" ".join(prefix)] = set(outputs)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.update(_commands_with_outputs(sub, prefix + (name,)))
    return found


def test_every_command_with_several_outputs_is_tested_here():
    several = {command for command, options in _commands_with_outputs().items() if len(options) >= 2}
    assert several == set(TWO_OUTPUTS), several
    assert _commands_with_outputs()["capture"] == {"-o/--output", "--ticket-key-out"}


SAME_FILE = {  # (first, second) spellings of one file, relative to a folder prepared by _prepare
    "same path": ("out/new.bin", "out/new.bin"),
    "relative": ("out/new.bin", "./out/../out/new.bin"),
    "linked folder": ("out/new.bin", "linked/new.bin"),
    "hard link": ("out/existing.bin", "out/hardlink.bin"),
}


def _prepare(base):
    """base/out with a file and a hard link to it, and base/linked -> out."""
    folder = base / "out"
    folder.mkdir(parents=True)
    (base / "linked").symlink_to(folder, target_is_directory=True)
    (folder / "existing.bin").write_bytes(b"precious")
    os.link(folder / "existing.bin", folder / "hardlink.bin")


@pytest.mark.parametrize("how", sorted(SAME_FILE))
@pytest.mark.parametrize("command", sorted(TWO_OUTPUTS))
def test_two_outputs_naming_one_file_are_refused_before_any_work(tmp_path, command, how):
    _prepare(tmp_path)
    first, second = SAME_FILE[how]
    argv = [second if a == "SECOND" else first if a == "FIRST" else a for a in TWO_OUTPUTS[command]]
    result = run(*argv, cwd=tmp_path, timeout=60)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1 and "one would overwrite the other" in result.stderr, result.stderr
    assert result.stdout == ""
    assert sorted(os.listdir(tmp_path / "out")) == ["existing.bin", "hardlink.bin"]  # nothing written
    assert (tmp_path / "out" / "existing.bin").read_bytes() == b"precious"
    assert sorted(os.listdir(tmp_path)) == ["linked", "out"]


def test_capture_with_its_two_files_apart_still_writes_both(tmp_path):
    result = run("capture", "--tls", "1.2", "-o", str(tmp_path / "blob"), "--ticket-key-out", str(tmp_path / "key"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "blob").stat().st_size > 100 and (tmp_path / "key").stat().st_size == 64


# -- every output checked before the work (3.5) --------------------------------------------------------
@pytest.mark.parametrize("option", ["--plot", "--pcap", "--keylog"])
def test_experiment_reuse_checks_its_outputs_before_the_run(tmp_path, option):
    """100,000 visits would run for many minutes: the refusal comes first, with no progress bar."""
    target = str(tmp_path / "missing-folder" / ("figure.png" if option == "--plot" else "out"))
    result = run("experiment", "reuse", "--visits", "100000", option, target, timeout=60)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert f"({option}): its folder" in result.stderr and "does not exist" in result.stderr
    directory = run("experiment", "reuse", "--visits", "100000", option, str(tmp_path), timeout=60)
    assert directory.returncode == 2 and "it is a directory" in directory.stderr, directory.stderr


def test_experiment_replay_checks_its_outputs_before_the_run(tmp_path):
    result = run("experiment", "replay", "--pcap", str(tmp_path / "missing" / "replay.pcapng"), timeout=60)
    assert result.returncode == 2 and "(--pcap): its folder" in result.stderr, result.stderr


# -- names as printed (4.8) ----------------------------------------------------------------------------
def test_printable_escapes_control_and_format_characters_and_undecodable_bytes():
    assert printable("plain/name.bin") == "plain/name.bin"
    assert printable("a\nb\x1b[31mc\u202ed\te") == "a\\nb\\x1b[31mc\\u202ed\\te"
    assert printable(os.fsdecode(b"caf\xff")) == "caf\\xff"
    assert printable("naïve 日本") == "naïve 日本"


def test_errors_and_notices_print_file_names_escaped(tmp_path):
    name = "bad\x1b[2Jname\nline"
    result = run("decode", str(tmp_path / name))
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "\x1b" not in result.stderr and "bad\\x1b[2Jname\\nline" in result.stderr
    written = run("capture", "--tls", "1.2", "-o", str(tmp_path / name))
    assert written.returncode == 0, written.stderr
    assert "\x1b" not in written.stderr and written.stderr.count("\n") == 1
    assert (tmp_path / name).stat().st_size > 100  # the file itself keeps its real name


# -- special files are refused, not waited on (4.8) -----------------------------------------------------
@pytest.fixture()
def fifo(tmp_path):
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return str(path)


def test_decode_refuses_a_named_pipe(fifo):
    result = run("decode", fifo, timeout=30)  # before: waited for a writer forever
    assert result.returncode == 2 and "it is a named pipe, not a regular file" in result.stderr, result.stderr


def test_the_ticket_key_options_refuse_a_named_pipe(tmp_path, fifo):
    blob = tmp_path / "blob"
    assert run("capture", "--tls", "1.2", "-o", str(blob)).returncode == 0
    decoded = run("decode", str(blob), "--ticket-key", fifo, timeout=30)
    assert decoded.returncode == 2 and "named pipe" in decoded.stderr, decoded.stderr
    served = run("serve", "--port", "0", "--ticket-key", fifo, timeout=30)
    assert served.returncode == 2 and "named pipe" in served.stderr and "listening" not in served.stderr, served.stderr


def test_the_error_lines_name_gnutls_codes():
    from gnutls_lab.faces.cli._spy import format_report

    session = {"index": 0, "pid": 1, "role": "client", "handshake_rc": -110, "handshake_ms": None, "protocol": "",
               "resumed": None, "offered_bytes": None, "ticket_arrival_ms": None, "stored": [], "custom_pull": False}
    report = {"program": ["prog", "arg\x1b"], "returncode": 1, "gnutls_version": "3.7.9", "sessions": [session],
              "summary": {"sessions": 1, "resumed": 0, "stored": 0, "stored_dummy": 0, "offered": 0,
                          "max_ticket_offers": 0}, "findings": []}
    text = format_report(report)
    assert "Handshake:        failed (GNUTLS_E_PREMATURE_TERMINATION, -110)" in text
    assert "\x1b" not in text and "arg\\x1b" in text
    json.dumps(report)


def test_values_from_a_blob_are_printed_escaped(tmp_path):
    """A server name with a terminal escape and a newline, as a forged blob can carry: one report line."""
    from gnutls_lab import Lab
    from gnutls_lab.analysis._decode import decode

    blob = decode(Lab("1.2").connect().session_data.data)
    path = tmp_path / "sni.bin"
    path.write_bytes(blob.rebuilt({"extensions[1].server_name": b"evil\x1b[2J\nname"}))
    result = run("decode", str(path), "--hexdump")
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout
    lines = [line for line in result.stdout.splitlines() if "server_name" in line]
    assert any("server_name=evil\\x1b[2J\\nname" in line for line in lines), lines
