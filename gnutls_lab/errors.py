"""The exceptions of gnutls-lab: one root, a few clear kinds.

Every message says what was wrong, where (a field path and byte offset for blobs), and what to do.
The CLI prints ``str(error)`` on one line and exits with status 2.
"""

from __future__ import annotations

__all__ = [
    "GnuTLSLabError",
    "LibraryNotFoundError",
    "GnuTLSError",
    "BlobFormatError",
    "TicketKeyError",
    "UsageError",
]


class GnuTLSLabError(Exception):
    """Root of every error gnutls-lab raises on purpose."""


class LibraryNotFoundError(GnuTLSLabError):
    """No usable libgnutls was found, or the one found is too old."""


class GnuTLSError(GnuTLSLabError):
    """A libgnutls call returned a negative error code.

    ``code`` is the integer (e.g. -30), ``name`` its symbolic name from ``gnutls_strerror_name``
    (e.g. ``GNUTLS_E_DB_ERROR``) and ``message`` the library's text from ``gnutls_strerror``.
    """

    def __init__(self, code: int, name: str, message: str, function: str | None = None):
        self.code = code
        self.name = name
        self.message = message
        self.function = function
        where = f"{function}: " if function else ""
        super().__init__(f"{where}{message} ({name}, {code})")


class BlobFormatError(GnuTLSLabError, ValueError):
    """Bytes that are not a well-formed GnuTLS session blob or server ticket.

    ``path`` names the field (e.g. ``security_parameters.session_id``) and ``offset`` the byte
    offset in the input where decoding failed.
    """

    def __init__(self, message: str, path: str | None = None, offset: int | None = None):
        self.path = path
        self.offset = offset
        self.reason = message
        where = []
        if path:
            where.append(f"field {path}")
        if offset is not None:
            where.append(f"byte offset {offset}")
        suffix = f" (at {', '.join(where)})" if where else ""
        super().__init__(f"{message}{suffix}")


class TicketKeyError(GnuTLSLabError):
    """A ticket key that did not issue this ticket, or is not a valid 64-byte GnuTLS master key."""


class UsageError(GnuTLSLabError, ValueError):
    """A caller asked for something the lab refuses (bad lifetime, unknown preset, remote host...)."""
