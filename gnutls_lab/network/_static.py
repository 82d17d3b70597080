"""Files from one folder for the lab server's HTTP answers (``gnutls-lab serve --http --root DIR``).

Enough of a static server for ``git clone`` over dumb HTTP (``info/refs``, ``HEAD``, ``objects/...``),
wget, curl and browsers, and nothing that leaves the folder:

- the request target's path is percent-decoded once and split at ``/``; an empty, ``.`` or ``..``
  segment, a NUL byte or a backslash is refused (404), so a path can only go down;
- each segment is opened relative to the one before with ``O_NOFOLLOW`` (``openat``), so no symbolic
  link is followed, inside the folder or out of it, and a link swapped in between two requests changes
  nothing; the folder itself is opened once, when the server starts;
- only regular files are served (a directory, device or FIFO is a 404; a directory has no index);
- the query string is ignored (``info/refs?service=git-upload-pack`` is ``info/refs``: git then falls
  back to the dumb protocol).
"""

from __future__ import annotations

import errno
import os
import stat
from urllib.parse import unquote_to_bytes, urlsplit

from ..errors import UsageError

__all__ = ["StaticFolder", "StaticFile"]

_TYPES = {
    ".html": "text/html; charset=utf-8", ".txt": "text/plain; charset=utf-8", ".css": "text/css",
    ".js": "text/javascript", ".json": "application/json", ".png": "image/png", ".svg": "image/svg+xml",
    ".pack": "application/x-git-packed-objects", ".idx": "application/x-git-packed-objects-toc",
}
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
_MAX_SEGMENTS = 64


class StaticFile:
    """An open regular file: ``size``, ``content_type``; :meth:`chunks` reads it, :meth:`close` closes it."""

    def __init__(self, fd: int, size: int, content_type: str):
        self.fd, self.size, self.content_type = fd, size, content_type

    def chunks(self, size: int = 16384):
        """The file's bytes, at most ``size`` at a time, up to the size it had when opened."""
        left = self.size
        while left > 0:
            data = os.read(self.fd, min(size, left))
            if not data:
                break  # the file shrank since: the response ends short, the client notices
            left -= len(data)
            yield data

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class StaticFolder:
    """The folder ``root``, opened now (it must be a directory, not a link to one)."""

    def __init__(self, root):
        self.root = os.fspath(root)
        try:
            self._fd = os.open(self.root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
                               | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            reason = "it is a symbolic link" if exc.errno == errno.ELOOP else exc.strerror
            raise UsageError(f"cannot serve files from {self.root}: {reason}") from None
        if not stat.S_ISDIR(os.fstat(self._fd).st_mode):  # O_DIRECTORY missing on this platform
            os.close(self._fd)
            raise UsageError(f"cannot serve files from {self.root}: not a directory")

    @staticmethod
    def segments(target: str) -> list[bytes] | None:
        """The path segments of a request target, or None when it could leave the folder or is not a path."""
        path = urlsplit(target).path
        if not path.startswith("/"):
            return None
        raw = unquote_to_bytes(path)
        parts = raw.split(b"/")[1:]
        if not parts or len(parts) > _MAX_SEGMENTS:
            return None
        for part in parts:
            if part in (b"", b".", b"..") or b"\0" in part or b"\\" in part:
                return None
        return parts

    def open(self, target: str) -> StaticFile | None:
        """The regular file ``target`` names inside the folder, opened; None when there is none."""
        parts = self.segments(target)
        if parts is None:
            return None
        fd = self._fd
        opened = []
        try:
            for index, part in enumerate(parts):
                last = index == len(parts) - 1
                flags = _OPEN_FLAGS if last else os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0)
                try:
                    fd = os.open(part, flags, dir_fd=fd)
                except OSError:
                    return None  # missing, a link (ELOOP), not a directory, not readable
                opened.append(fd)
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return None
            os.set_blocking(fd, True)
            opened.pop()  # handed to the StaticFile
            suffix = os.path.splitext(parts[-1].decode("utf-8", "replace"))[1].lower()
            return StaticFile(fd, info.st_size, _TYPES.get(suffix, "application/octet-stream"))
        finally:
            for other in opened:
                os.close(other)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __repr__(self) -> str:
        return f"<StaticFolder {self.root!r}>"
