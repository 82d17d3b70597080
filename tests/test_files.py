"""Files the tool writes and reads (gnutls_lab/sessions/_files.py and every writer that uses it).

The targets are made in tmp_path: a character device made with mknod (as /dev/full is), a FIFO, a
socket, a directory and symlinks, so a regression replaces a test file, never a real device.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys

import pytest

from gnutls_lab.errors import UsageError
from gnutls_lab.network._server import save_ticket_key
from gnutls_lab.sessions._files import read_user_file, write_file, write_private_file
from gnutls_lab.sessions._session import generate_ticket_key

pytestmark = pytest.mark.timeout(300)


def make_target(tmp_path, kind: str) -> str:
    path = str(tmp_path / f"target-{kind}")
    if kind == "character device":
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 7))  # what /dev/full is
    elif kind == "named pipe":
        os.mkfifo(path)
    elif kind == "directory":
        os.mkdir(path)
    elif kind == "socket":
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(path)
        listener.close()
    elif kind == "symbolic link":
        victim = tmp_path / "victim"
        victim.write_bytes(b"precious")
        os.symlink(victim, path)
    return path


KINDS = ("character device", "named pipe", "directory", "socket", "symbolic link")


@pytest.mark.parametrize("kind", KINDS)
def test_an_existing_path_that_is_not_a_regular_file_is_refused(tmp_path, kind):
    path = make_target(tmp_path, kind)
    before = os.lstat(path)
    with pytest.raises(UsageError, match=f"it is a {kind}"):
        write_file(path, b"data")
    after = os.lstat(path)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)
    if kind == "symbolic link":
        assert (tmp_path / "victim").read_bytes() == b"precious"
    assert [name for name in os.listdir(tmp_path) if name.endswith(".tmp")] == []


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("command", ["capture", "connect-save", "ticket-key-out", "plot"])
def test_cli_writers_refuse_non_regular_outputs(tmp_path, kind, command):
    path = make_target(tmp_path, kind)
    before = os.lstat(path)
    argv = {
        "capture": ["capture", "-o", path],
        "connect-save": ["connect", "127.0.0.1:9", "--save", path],  # refused before connecting
        "ticket-key-out": ["capture", "-o", str(tmp_path / "s.bin"), "--ticket-key-out", path],
        "plot": ["experiment", "reuse", "--visits", "2", "--max-reuse", "1", "--plot", path + ".png"],
    }[command]
    if command == "plot":
        os.rename(path, path + ".png")
        before = os.lstat(path + ".png")
        path += ".png"
    result = subprocess.run([sys.executable, "-m", "gnutls_lab", *argv], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert f"it is a {kind}" in result.stderr and result.stderr.count("\n") == 1
    after = os.lstat(path)
    assert (after.st_mode, after.st_ino, after.st_rdev) == (before.st_mode, before.st_ino, before.st_rdev)


def test_a_symlink_planted_at_the_old_predictable_temporary_name_is_not_followed(tmp_path):
    out = tmp_path / "session.bin"
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    # The old writer used <out>.tmp<PID>: plant that for this process (the writer runs in it).
    os.symlink(victim, f"{out}.tmp{os.getpid()}")
    write_private_file(out, b"secret blob")
    assert out.read_bytes() == b"secret blob"
    assert victim.read_bytes() == b"precious"
    assert not out.is_symlink()


def test_session_data_and_keys_are_private_others_follow_the_umask(tmp_path, lab13):
    data = lab13.connect().session_data
    data.save(tmp_path / "s.bin")
    save_ticket_key(str(tmp_path / "k.bin"), generate_ticket_key())
    write_file(tmp_path / "plain.txt", b"hello")
    assert stat.S_IMODE(os.stat(tmp_path / "s.bin").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "k.bin").st_mode) == 0o600
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(tmp_path / "plain.txt").st_mode) == 0o644 & ~umask
    assert (tmp_path / "s.bin").read_bytes() == data.data


def test_overwriting_a_regular_file_replaces_it_whole(tmp_path):
    path = tmp_path / "out"
    path.write_bytes(b"old contents that are longer")
    os.chmod(path, 0o644)
    write_private_file(path, b"new")
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600  # a file of secrets never keeps a wider mode
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_cli_capture_and_connect_save_write_0600(tmp_path):
    from gnutls_lab.network._server import LabServer
    import threading

    result = subprocess.run([sys.executable, "-m", "gnutls_lab", "capture", "--tls", "1.2", "-o", "s.bin",
                             "--ticket-key-out", "k.bin"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("s.bin", "k.bin"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600
    with LabServer(0, "1.3", idle_timeout=0.3) as server:
        worker = threading.Thread(target=server.serve_forever, kwargs={"max_connections": 1})
        worker.start()
        result = subprocess.run([sys.executable, "-m", "gnutls_lab", "connect", f"127.0.0.1:{server.port}",
                                 "--save", "c.bin"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
        worker.join(30)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(os.stat(tmp_path / "c.bin").st_mode) == 0o600


def test_capture_ticket_key_out_decrypts_the_ticket(tmp_path):
    import json

    run = lambda *argv: subprocess.run([sys.executable, "-m", "gnutls_lab", *argv], capture_output=True,  # noqa: E731
                                       text=True, timeout=120, cwd=tmp_path)
    result = run("capture", "--tls", "1.3", "-o", "s.bin", "--ticket-key-out", "k.bin")
    assert result.returncode == 0, result.stderr
    decoded = run("decode", "s.bin", "--ticket-key", "k.bin", "--json")
    assert decoded.returncode == 0, decoded.stderr
    state = json.loads(decoded.stdout)["ticket_state"]
    assert state  # the ticket's inner state, decrypted with the key written beside the blob
    assert run("capture", "-o", "-", "--ticket-key-out", "k2.bin").returncode == 2
    assert run("capture", "--no-tickets", "-o", "x.bin", "--ticket-key-out", "k3.bin").returncode == 2


def test_read_user_file_caps_what_it_reads(tmp_path):
    small = tmp_path / "small"
    small.write_bytes(b"x" * 100)
    assert read_user_file(small, 100) == b"x" * 100
    with pytest.raises(UsageError, match=r"too large \(100 bytes; at most 99"):
        read_user_file(small, 99, "blob file")
    with pytest.raises(UsageError, match="it is a character device, not a regular file"):
        read_user_file("/dev/zero", 1000)  # refused before reading: a device is never a blob or key file
    with pytest.raises(UsageError, match="cannot read"):
        read_user_file(tmp_path / "missing", 10)


@pytest.mark.parametrize("kind", KINDS)
def test_the_append_log_refuses_non_regular_files(tmp_path, kind):
    from gnutls_lab.sessions._files import open_private_log

    path = make_target(tmp_path, kind)
    with pytest.raises(UsageError, match=f"it is a {kind}"):
        open_private_log(path)
    if kind == "symbolic link":
        assert (tmp_path / "victim").read_bytes() == b"precious"


def test_the_append_log_is_private_and_appends(tmp_path):
    from gnutls_lab.sessions._files import open_private_log

    path = tmp_path / "serve.log"
    for line in ("one", "two"):
        with open_private_log(path) as log:
            log.write(line + "\n")
    assert path.read_text() == "one\ntwo\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
