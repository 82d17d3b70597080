"""Loading libgnutls, checking its version, and turning its error codes into exceptions.

The only module that opens the library. Everything else gets ``ffi`` and ``lib`` from
:func:`load` (cached), never touches ``dlopen`` itself, and calls :func:`check` on return codes.

Search order (first that loads wins), by the platform's name for the library, ``libgnutls.so.30`` on
Linux and ``libgnutls.30.dylib`` on macOS:

1. ``$GNUTLS_LAB_LIBGNUTLS`` (a path or soname; if set and unusable that is an error, not a fallback)
2. ``sys.prefix/lib/<name>`` (a conda environment, Binder)
3. ``<name>`` through the system loader (Debian's ``libgnutls30``)
4. on macOS, Homebrew's ``/opt/homebrew/lib/<name>`` and ``/usr/local/lib/<name>`` when present
5. ``ctypes.util.find_library("gnutls")``
"""

from __future__ import annotations

import ctypes.util
import os
import sys
import threading
from dataclasses import dataclass

from cffi import FFI

from ._cdef import CDEF, LIBC_CDEF, MEMIO_CDEF, PRIVATE_CDEF
from ..errors import GnuTLSError, LibraryNotFoundError, UsageError

__all__ = ["load", "library_info", "check", "make_error", "error_name", "take_datum", "view_datum", "c_string",
           "exact_bytes", "LibraryInfo", "MINIMUM_VERSION"]

MINIMUM_VERSION = "3.7.0"
INSTALL_HINT = (
    "install GnuTLS: on Debian/Ubuntu `apt-get install libgnutls30`, with conda (Linux, macOS) "
    "`conda install -c conda-forge gnutls`, or point GNUTLS_LAB_LIBGNUTLS at a libgnutls.so.30 "
    "(libgnutls.30.dylib on macOS)"
)
SONAMES = {"darwin": "libgnutls.30.dylib"}  # every other platform: the ELF soname below
ELF_SONAME = "libgnutls.so.30"
HOMEBREW_LIBS = ("/opt/homebrew/lib", "/usr/local/lib")

ffi = FFI()
ffi.cdef(CDEF)
ffi.cdef(LIBC_CDEF)
ffi.cdef(PRIVATE_CDEF)
ffi.cdef(MEMIO_CDEF)


@dataclass(frozen=True)
class LibraryInfo:
    """Which libgnutls the lab is using."""

    path: str
    version: str
    version_tuple: tuple

    def __str__(self) -> str:
        return f"GnuTLS {self.version} ({self.path})"


_loaded = None


def _candidates(platform: str | None = None, prefix: str | None = None, environ=None,
                find_library=ctypes.util.find_library) -> list[tuple[str, bool]]:
    """(name, explicit) pairs in search order, for this process or the platform and prefix given."""
    platform = sys.platform if platform is None else platform
    prefix = sys.prefix if prefix is None else prefix
    environ = os.environ if environ is None else environ
    env = environ.get("GNUTLS_LAB_LIBGNUTLS")
    if env:
        return [(env, True)]
    soname = SONAMES.get(platform, ELF_SONAME)
    names = []
    in_prefix = os.path.join(prefix, "lib", soname)
    if os.path.exists(in_prefix):
        names.append((in_prefix, False))
    names.append((soname, False))
    if platform == "darwin":
        names += [(path, False) for path in (os.path.join(d, soname) for d in HOMEBREW_LIBS) if os.path.exists(path)]
    found = find_library("gnutls")
    if found and all(found != name for name, _ in names):
        names.append((found, False))
    return names


def _resolved_path(name: str) -> str:
    """The file the dynamic loader actually mapped for ``name`` (best effort)."""
    if os.path.sep in name:
        return os.path.realpath(name)
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                if "libgnutls.so" in line:
                    return line.split()[-1]
    except OSError:
        pass
    return name


def _version_tuple(text: str) -> tuple:
    parts = []
    for piece in text.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


_load_lock = threading.Lock()


def load():
    """Return ``(ffi, lib, libc, info)`` for a libgnutls >= 3.7.0, loading it on first use."""
    if _loaded is not None:
        return _loaded
    with _load_lock:
        return _loaded if _loaded is not None else _load()


def _load():
    global _loaded
    errors = []
    for name, explicit in _candidates():
        try:
            lib = ffi.dlopen(name)
        except OSError as exc:
            if explicit:
                raise LibraryNotFoundError(
                    f"GNUTLS_LAB_LIBGNUTLS={name} could not be loaded ({exc}); {INSTALL_HINT}"
                ) from None
            errors.append(f"{name}: {exc}")
            continue
        try:
            version = ffi.string(lib.gnutls_check_version(ffi.NULL)).decode()
        except AttributeError:
            errors.append(f"{name}: not a libgnutls (no gnutls_check_version)")
            continue
        path = _resolved_path(name)
        if lib.gnutls_check_version(MINIMUM_VERSION.encode()) == ffi.NULL:
            raise LibraryNotFoundError(
                f"found GnuTLS {version} at {path}, but gnutls-lab needs >= {MINIMUM_VERSION}; "
                f"{INSTALL_HINT}"
            )
        libc = ffi.dlopen(None)
        info = LibraryInfo(path=path, version=version, version_tuple=_version_tuple(version))
        _loaded = (ffi, lib, libc, info)
        return _loaded
    tried = "; ".join(errors) if errors else "no candidate names"
    raise LibraryNotFoundError(f"no libgnutls found (tried {tried}); {INSTALL_HINT}")


def library_info() -> LibraryInfo:
    """Path and version of the libgnutls in use (loads it if needed)."""
    return load()[3]


def error_name(code: int) -> str:
    lib = load()[1]
    name = lib.gnutls_strerror_name(code)
    return ffi.string(name).decode() if name != ffi.NULL else f"GNUTLS_E_UNKNOWN({code})"


def make_error(code: int, function: str | None = None) -> GnuTLSError:
    lib = load()[1]
    message = ffi.string(lib.gnutls_strerror(code)).decode()
    return GnuTLSError(code, error_name(code), message, function)


def check(code: int, function: str | None = None) -> int:
    """Return ``code`` if it is not negative, else raise the matching :class:`GnuTLSError`."""
    if code < 0:
        raise make_error(code, function)
    return code


def take_datum(datum) -> bytes:
    """Copy a library-allocated ``gnutls_datum_t`` into ``bytes`` and free it at once."""
    lib = load()[1]
    if datum.data == ffi.NULL:
        return b""
    try:
        return ffi.buffer(datum.data, datum.size)[:]
    finally:
        lib.gnutls_free(datum.data)
        datum.data = ffi.NULL
        datum.size = 0


def view_datum(datum) -> bytes:
    """Copy a ``gnutls_datum_t`` the library still owns (not freed)."""
    if datum == ffi.NULL or datum.data == ffi.NULL:
        return b""
    return ffi.buffer(datum.data, datum.size)[:]


def c_string(pointer) -> str | None:
    return ffi.string(pointer).decode() if pointer != ffi.NULL else None


# The bytes an object really holds: what the lab hands to C, checks, and keys its caches on.
#
# A subclass of ``bytes`` or ``bytearray`` can say anything about itself in Python: ``__eq__`` and
# ``__hash__`` (a cache then takes it for a blob already checked), ``__len__`` (a length larger than the
# buffer libgnutls is then told to read), ``__bytes__`` (``bytes(x)`` then returns the subclass itself,
# lies included), ``__getitem__``, and from Python 3.12 ``__buffer__``. :func:`exact_bytes` consults none
# of them: it copies the content from the object's own storage into an exact ``bytes``, and everything
# the lab checks, caches or passes to libgnutls is that copy.
_WHOLE = slice(None)


def exact_bytes(value, what: str = "data") -> bytes:
    """``value`` (``bytes``, ``bytearray``, ``memoryview`` or a subclass of the first two) as an exact
    ``bytes`` copied from its storage; anything else is a :class:`UsageError` naming ``what``."""
    kind = type(value)
    if kind is bytes:
        return value
    if isinstance(value, bytes):  # bytes's own slice reads the stored bytes, whatever the subclass says
        return bytes.__getitem__(value, _WHOLE)
    if isinstance(value, bytearray):  # an exact bytearray of the stored bytes, then bytes of it
        return bytes(bytearray.__getitem__(value, _WHOLE))
    if kind is memoryview:  # memoryview cannot be subclassed; tobytes copies what it views
        return value.tobytes()
    raise UsageError(f"{what} must be bytes, not {kind.__name__}")
