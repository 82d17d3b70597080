"""The optional C pipe (``gnutls_lab/binding/_memio.c``): found, loaded and switched on or off here.

``setup.py`` builds ``gnutls_lab.binding._memio`` when a C compiler is present; this module ``dlopen``s it
through the lab's own ABI-mode ffi (declarations: ``cdef.MEMIO_CDEF``). ``memio_attach`` hands its
vector-push and pull functions to libgnutls as plain C function pointers.
An in-memory connection then never calls into Python to move bytes, and ``session.pump`` drives the
two handshakes from C (``memio_pump``) when both sessions sit on one C pipe.

Without the module (no compiler at install time), or with ``GNUTLS_LAB_PIPE=python`` in the
environment, :func:`pipe` returns None and in-memory connections use the Python callbacks: same
behaviour, slower. :func:`status` says which pipe is in use and why.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from types import SimpleNamespace

from ._library import load

__all__ = ["pipe", "status", "set_enabled"]

_lock = threading.Lock()
_loaded: SimpleNamespace | None = None
_reason = ""
_tried = False
_enabled = os.environ.get("GNUTLS_LAB_PIPE", "").lower() != "python"


def _load() -> SimpleNamespace | None:
    global _loaded, _reason, _tried
    with _lock:
        if _tried:
            return _loaded
        try:
            spec = importlib.util.find_spec("gnutls_lab.binding._memio")
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.origin:
            _reason = ("the C pipe gnutls_lab.binding._memio is not built (no C compiler when the package was "
                       "installed); reinstall with gcc present to build it")
        else:
            ffi, lib = load()[:2]
            from ._callbacks import callbacks  # lazily: libgnutls loads on first use

            try:
                memio = ffi.dlopen(spec.origin)
                # libgnutls's transport setters for memio_attach, typed as the struct declares them.
                api = ffi.new("struct memio_transport_api *")  # kept alive in the namespace below
                fields = dict(ffi.typeof("struct memio_transport_api").fields)
                for field, name in (("set_ptr", "gnutls_transport_set_ptr"),
                                    ("set_vec_push", "gnutls_transport_set_vec_push_function"),
                                    ("set_pull", "gnutls_transport_set_pull_function"),
                                    ("set_pull_timeout", "gnutls_transport_set_pull_timeout_function")):
                    setattr(api, field, ffi.cast(fields[field].type, ffi.addressof(lib, name)))
                api.pull_timeout = ffi.cast(fields["pull_timeout"].type, callbacks().memio_pull_timeout)
                _loaded = SimpleNamespace(
                    ffi=ffi,
                    lib=memio,
                    path=spec.origin,
                    NULL=ffi.NULL,
                    gcp=ffi.gc,  # frees the pair with the Python object (cffi's public API)
                    handshake=ffi.cast("int (*)(void *)", ffi.addressof(lib, "gnutls_handshake")),
                    pump_state=ffi.typeof("struct memio_pump *"),
                    api=api,
                )
            except (OSError, AttributeError) as error:
                _reason = f"the C pipe {spec.origin} could not be loaded: {error}"
        _tried = True
        return _loaded


def pipe() -> SimpleNamespace | None:
    """The loaded C pipe (``ffi``, ``lib``, ``api`` for ``memio_attach``, ``handshake`` for
    ``memio_pump``), or None: use the Python pipe."""
    if not _enabled:
        return None
    return _loaded if _tried else _load()


def set_enabled(enabled: bool) -> bool:
    """Use the C pipe for new in-memory pairs when it is built (True) or never (False); returns the
    previous setting. For tests and for comparing the two pipes; ``GNUTLS_LAB_PIPE=python`` sets False."""
    global _enabled
    previous, _enabled = _enabled, bool(enabled)
    return previous


def status() -> str:
    """One line: which in-memory pipe new connections use, and why."""
    loaded = _loaded if _tried else _load()
    if not _enabled:
        return "Python pipe (C pipe switched off: GNUTLS_LAB_PIPE=python or set_enabled(False))"
    if loaded is None:
        return f"Python pipe ({_reason})"
    return f"C pipe ({os.path.basename(loaded.path)})"
