"""Reading and writing the user's files safely: the one place gnutls-lab touches files it is told to.

Writing. :func:`write_file` never writes into the path it was given: it creates a temporary file next
to it (``tempfile.mkstemp``: an unpredictable name, created exclusively, so nobody can plant a symlink
there first), writes and flushes it, then renames it over the target in one step. A reader therefore
sees the old file or the new one, never half of one. A target that exists and is not a regular file (a
device such as ``/dev/full``, a directory, a socket, a FIFO or a symlink) is refused: renaming over it
would replace the device or the link instead of writing into it. :func:`write_private_file` does the
same with mode 0600, for anything that holds a secret (session data carries the master or resumption
secret; a ticket key decrypts every ticket the server issued).

Reading. :func:`read_user_file` reads at most ``limit`` bytes (plus one, to notice a larger file), so a
multi-gigabyte file or ``/dev/zero`` given by mistake is a one-line error, not a full memory.
"""

from __future__ import annotations

import os
import stat
import tempfile

from ..errors import UsageError

__all__ = ["write_file", "write_private_file", "open_private_log", "check_output_path", "read_user_file",
           "MAX_KEY_FILE_BYTES", "MAX_BLOB_FILE_BYTES"]

MAX_KEY_FILE_BYTES = 64 * 1024  # a ticket key is 64 bytes; hex, base64 and whitespace fit easily
MAX_BLOB_FILE_BYTES = 16 * 1024 * 1024  # session data is a few kilobytes; certificates make it larger

_KINDS = ((stat.S_ISDIR, "directory"), (stat.S_ISLNK, "symbolic link"), (stat.S_ISCHR, "character device"),
          (stat.S_ISBLK, "block device"), (stat.S_ISFIFO, "named pipe"), (stat.S_ISSOCK, "socket"))


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "special file"


def check_output_path(path) -> str:
    """Refuse an output path that exists and is not a regular file (checked with ``lstat``); return it."""
    path = os.fspath(path)
    if not path:
        raise UsageError("no output file name given")
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"refusing to write {path}: it is a {_kind(info.st_mode)}, not a regular file "
                         "(name a new or regular file instead)")
    return path


def _umask() -> int:
    """The process umask, read without changing it (``os.umask`` would, for every thread)."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def write_file(path, data: bytes, *, private: bool = False) -> str:
    """Write ``data`` to ``path`` through an exclusive temporary file in the same folder; return the path.

    ``private=True`` makes the file readable and writable by you only (0600); otherwise it gets the
    usual 0644 minus your umask. Raises :class:`UsageError` for a path that exists and is not a regular
    file, or a folder that cannot be written.
    """
    path = check_output_path(path)
    data = bytes(data)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror} ({directory})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600 if private else 0o644 & ~_umask())
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        check_output_path(path)  # still not a device, directory or link planted meanwhile
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    return path


def write_private_file(path, data: bytes) -> str:
    """:func:`write_file` with mode 0600: for session data, ticket keys and private keys."""
    return write_file(path, data, private=True)


def open_private_log(path):
    """A text file to append lines to (a log), created 0600; a symlink, device or other non-regular
    file is refused (``O_NOFOLLOW``, then ``fstat`` on what was opened, so nothing can be swapped in)."""
    path = check_output_path(path)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise UsageError(f"refusing to write {path}: it is a {_kind(info.st_mode)}, not a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "a", encoding="utf-8")


def read_user_file(path, limit: int, what: str = "file") -> bytes:
    """The bytes of ``path``, refused with one line if the file holds more than ``limit`` bytes."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None
    if len(data) > limit:
        try:
            size = f"{os.stat(path).st_size} bytes"
        except OSError:
            size = "unknown size"
        if size == "0 bytes":  # a device or pipe: its size is not known in advance
            size = "endless or unknown size"
        raise UsageError(f"{what} {path} is too large ({size}; at most {limit} bytes are read)")
    return data
