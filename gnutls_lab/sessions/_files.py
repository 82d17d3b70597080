"""Reading and writing the user's files safely: the one place gnutls-lab touches files it is told to.

Writing. :func:`write_file` never writes into the path it was given: it creates a temporary file next
to it (``tempfile.mkstemp``: an unpredictable name, created exclusively, so nobody can plant a symlink
there first), writes and flushes it, then renames it over the target in one step. A reader therefore
sees the old file or the new one, never half of one. A target that exists and is not a regular file (a
device such as ``/dev/full``, a directory, a socket, a FIFO or a symlink) is refused: renaming over it
would replace the device or the link instead of writing into it. :func:`write_private_file` does the
same with mode 0600, for anything that holds a secret (session data carries the master or resumption
secret; a ticket key decrypts every ticket the server issued).

Reading. :func:`read_user_file` reads regular files only, and at most ``limit`` bytes of them (plus one,
to notice a larger file): a multi-gigabyte file is a one-line error, not a full memory, and a named
pipe, a device (``/dev/zero``) or a directory is refused at once, as the writers refuse them, instead
of waiting for a writer that never comes (standard input is read with ``-`` by the commands that take it).

Several outputs. :func:`check_output_targets` checks every output a command was given before any work
is done: each as :func:`check_output_path` does, its folder exists, and no two options name the same
file (the same path after resolving links and ``..``, or, for files that exist, the same device and
inode: a hard link), since the second write would replace the first.
"""

from __future__ import annotations

import os
import stat
import tempfile

from ..errors import UsageError

__all__ = ["write_file", "write_private_file", "open_private_log", "check_output_path", "check_output_targets",
           "read_user_file", "MAX_KEY_FILE_BYTES", "MAX_BLOB_FILE_BYTES"]

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


def check_output_targets(named, reads_existing=()) -> None:
    """Check the outputs of one command before it does any work; ``named`` maps each option
    (``"--pcap"``) to the path it was given (None or ``-``: not a file, skipped).

    Each path: :func:`check_output_path`, and its folder must exist (``reads_existing``: options whose
    file is read when it exists, such as a ticket key written only when missing; they skip those two
    checks, their reader refuses what it cannot read). Then no two may name one file:
    equal after ``os.path.realpath``, or the same ``(st_dev, st_ino)`` where both exist. A
    :class:`UsageError` names the two options.
    """
    seen: list = []
    for option, path in named.items():
        if path is None or path == "-":
            continue
        path = os.fspath(path)
        if option not in reads_existing:
            path = check_output_path(path)
        folder = os.path.dirname(os.path.abspath(path))
        if option not in reads_existing and not os.path.isdir(folder):
            raise UsageError(f"cannot write {path} ({option}): its folder {folder} does not exist")
        resolved = os.path.realpath(path)
        try:
            info = os.stat(path)
            inode = (info.st_dev, info.st_ino)
        except OSError:
            inode = None
        for other_option, other_path, other_resolved, other_inode in seen:
            if resolved == other_resolved or (inode is not None and inode == other_inode):
                how = "the same path" if path == other_path else "the same file"
                raise UsageError(f"{other_option} {other_path} and {option} {path} name {how}: one would "
                                 "overwrite the other; give each its own file")
        seen.append((option, path, resolved, inode))


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
    """The bytes of regular file ``path``; one-line refusals for anything else (a named pipe, device,
    directory or socket) and for a file of more than ``limit`` bytes."""
    path = os.fspath(path)
    try:  # O_NONBLOCK: opening a named pipe would otherwise wait for a writer before we can look at it
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(f"refusing to read {what} {path}: it is a {_kind(info.st_mode)}, not a regular "
                             "file (give a file, or - for standard input where the command takes it)")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as handle:
            fd = None
            data = handle.read(limit + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None
    finally:
        if fd is not None:
            os.close(fd)
    if len(data) > limit:
        try:
            size = f"{os.stat(path).st_size} bytes"
        except OSError:
            size = "unknown size"
        if size == "0 bytes":  # a file that grew while we read it
            size = "growing or unknown size"
        raise UsageError(f"{what} {path} is too large ({size}; at most {limit} bytes are read)")
    return data
