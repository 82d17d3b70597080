"""Layer 1, binding: libgnutls through cffi's ABI mode. Nothing above this layer touches a raw pointer.

Modules (private; this face re-exports what the layers above use):

- ``_cdef``: the C declarations (libgnutls, libc, the C pipe).
- ``_library``: finds, loads and version-checks libgnutls (:func:`load`, :func:`library_info`) and turns
  return codes into :class:`~gnutls_lab.errors.GnuTLSError` (:func:`check`, :func:`make_error`); and
  :func:`exact_bytes`, the bytes an object really holds, whatever a ``bytes`` subclass claims.
- ``_callbacks``: the process's C callbacks (transport, hooks, clock, anti-replay), built once.
- ``_native``: the optional C in-memory pipe (``_memio.c``): :func:`native_pipe`, :func:`native_pipe_status`.
- ``_preload``: the optional spy library (``_spy.c``) that ``gnutls-lab spy`` preloads into programs.
"""

from ._callbacks import WireChunk, callbacks
from ._library import (
    MINIMUM_VERSION,
    LibraryInfo,
    c_string,
    check,
    error_name,
    exact_bytes,
    library_info,
    load,
    make_error,
    take_datum,
    view_datum,
)
from ._native import pipe as native_pipe, status as native_pipe_status
from ._preload import SPY_LOG_VARIABLE, spy_library

__all__ = [
    # which libgnutls is loaded (users, `gnutls-lab info`)
    "MINIMUM_VERSION",
    "LibraryInfo",
    "library_info",
    # for the sessions layer: ffi/lib, return codes, gnutls_datum_t, C strings, the shared callbacks
    "load",
    "check",
    "make_error",
    "error_name",
    "take_datum",
    "view_datum",
    "c_string",
    "exact_bytes",
    "callbacks",
    "WireChunk",
    # the optional C parts: the in-memory pipe and the spy library
    "native_pipe",
    "native_pipe_status",
    "spy_library",
    "SPY_LOG_VARIABLE",
]
