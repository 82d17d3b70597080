"""The C callbacks libgnutls calls back into: created once, alive for the whole process.

cffi's ABI-mode callbacks are costly to create and must outlive every session that uses them, so
there is exactly one of each, built on first use and never freed. They find their Python object
through a handle: the transport pointer (``gnutls_transport_set_ptr``) holds the endpoint's handle and
the session pointer (``gnutls_session_set_ptr``) the session's, both kept alive by the
:class:`Session` that uses them; the cache pointer (``gnutls_db_set_ptr``) holds the cache's own handle,
the anti-replay pointer (``gnutls_anti_replay_set_ptr``) the anti-replay store's.
In-memory pipes have their own vector-push and pull callbacks with the endpoint's logic inlined: they run
a dozen times per handshake and are most of the lab's overhead over plain C.

A Python exception inside a callback must not unwind through C: it is stored on the object
(``_callback_error``) and the callback returns an error code; the session re-raises it afterwards.
"""

from __future__ import annotations

import errno
import threading
from types import SimpleNamespace
from typing import NamedTuple

from ._library import exact_bytes, load


class WireChunk(NamedTuple):
    """Bytes one side wrote to the transport, as a passive observer sees them."""

    sender: str  # "client" or "server"
    data: bytes

    def __repr__(self) -> str:
        head = self.data[:8].hex(" ")
        return f"WireChunk({self.sender}, {len(self.data)} bytes: {head}{' …' if len(self.data) > 8 else ''})"


__all__ = ["WireChunk", "callbacks"]

_callbacks = None


_build_lock = threading.Lock()

#: Exceptions raised in a callback outside its own ``try`` (a bug, never a Python traceback through C):
#: kept on the object the callback serves when it can be found, else here (the newest few).
stray_callback_errors: list = []


def remember(exc_type, exc_value, tb):
    """cffi's ``onerror`` for every callback: keep the exception for Python, print nothing.

    Returns None, so cffi returns the callback's declared ``error`` code to libgnutls. The exception
    goes to the ``_callback_error`` of the endpoint's session, the session, cache or store the
    callback was serving (re-raised after the C call, like the errors the callbacks catch themselves).
    """
    target = None
    frame = tb.tb_frame if tb is not None else None
    if frame is not None:
        names = frame.f_locals
        endpoint = names.get("endpoint")
        target = getattr(endpoint, "owner", None) if endpoint is not None else None
        for name in ("session", "cache", "store"):
            if target is None:
                target = names.get(name)
    try:
        if target is not None and getattr(target, "_callback_error", None) is None:
            target._callback_error = exc_value
            return None
    except Exception:  # noqa: BLE001 - an object without the attribute: keep it below
        pass
    del stray_callback_errors[:-7]
    stray_callback_errors.append(exc_value)
    return None


def callbacks() -> SimpleNamespace:
    """The process's callbacks, built once (under a lock: two threads' first sessions may race here,
    and a second set built and dropped would free callbacks that live sessions still point to)."""
    global _callbacks
    if _callbacks is None:
        with _build_lock:
            if _callbacks is None:
                _callbacks = _build()
    return _callbacks


def _build() -> SimpleNamespace:
    ffi, lib = load()[:2]
    # cffi's public API only (its private backend saves ~30-130 ns a call, under 1 us a handshake:
    # not visible in benchmarks/run.py, and it could change in any cffi release).
    from_handle, memmove = ffi.from_handle, ffi.memmove
    set_errno, get_ptr, NULL, buffer = lib.gnutls_transport_set_errno, lib.gnutls_session_get_ptr, ffi.NULL, ffi.buffer
    EAGAIN, EPIPE, EIO = errno.EAGAIN, errno.EPIPE, errno.EIO
    E_INTERNAL = lib.GNUTLS_E_INTERNAL_ERROR
    E_SEEN = lib.GNUTLS_E_DB_ENTRY_EXISTS  # the anti-replay add function's "seen it"
    HOOK_PRE, HOOK_POST = lib.GNUTLS_HOOK_PRE, lib.GNUTLS_HOOK_POST
    end_type = ffi.typeof("struct memio_end *")

    # -- in-memory pipes (transport.MemoryEndpoint), the hot path: the endpoint's logic inlined --
    def memory_vec_push(ptr, iov, count):
        # A whole flight in one call (several records): one callback instead of one per record.
        endpoint = from_handle(ptr)
        peer = endpoint.peer
        if peer is None or peer.closed:
            set_errno(endpoint.session_ptr, EPIPE)
            return -1
        if count == 1:
            chunk = buffer(iov[0].iov_base, iov[0].iov_len)[:]
        else:
            chunk = b"".join([buffer(iov[i].iov_base, iov[i].iov_len) for i in range(count)])
        peer.inbox += chunk
        tap = endpoint.tap
        if tap is not None:
            tap.append(WireChunk(endpoint.sender, chunk))
        return len(chunk)

    def memory_pull(ptr, dest, size):
        endpoint = from_handle(ptr)
        inbox = endpoint.inbox
        available = len(inbox)
        gate = endpoint.record_gate
        if gate is not None and gate < available:
            available = gate
        if not available:
            peer = endpoint.peer
            if peer is None or peer.closed:
                return 0
            set_errno(endpoint.session_ptr, EAGAIN)
            return -1
        n = size if size < available else available
        memmove(dest, inbox, n)
        del inbox[:n]
        if gate is not None:
            endpoint.record_gate = gate - n
        return n

    # -- any other Endpoint (sockets): through its methods ---------------------------------------
    def push(ptr, data, size):
        endpoint = from_handle(ptr)
        try:
            n = endpoint.push(buffer(data, size))
        except BaseException as exc:  # noqa: BLE001 - handed back to Python after the C call
            endpoint.owner._callback_error = exc
            n = -EIO
        if n < 0:
            set_errno(endpoint.session_ptr, -n)
            return -1
        return n

    def pull(ptr, dest, size):
        endpoint = from_handle(ptr)
        try:
            n = endpoint.pull_into(dest, size, memmove)
        except BaseException as exc:  # noqa: BLE001
            endpoint.owner._callback_error = exc
            n = -EIO
        if n < 0:
            set_errno(endpoint.session_ptr, -n)
            return -1
        return n

    def pull_timeout(ptr, ms):
        return wait(from_handle(ptr), ms)

    def memio_pull_timeout(ptr, ms):
        # The C pipe's transport pointer is its struct; the endpoint's handle is in ``owner``.
        owner = ffi.cast(end_type, ptr).owner
        return wait(from_handle(owner), ms) if owner != NULL else -1

    def wait(endpoint, ms):
        try:
            return endpoint.wait(ms)
        except BaseException as exc:  # noqa: BLE001
            endpoint.owner._callback_error = exc
            return -1

    def hook(session_ptr, htype, when, incoming, msg):
        # Received messages are recorded at PRE (the whole body), sent ones at POST (as they went out);
        # the other half of the calls returns before any look-up.
        if when != (HOOK_PRE if incoming else HOOK_POST):
            return 0
        session = from_handle(get_ptr(session_ptr))
        try:
            session._on_handshake_message(htype, incoming, msg)
        except BaseException as exc:  # noqa: BLE001
            session._callback_error = exc
            return E_INTERNAL
        return 0

    def keylog(session_ptr, label, secret):
        session = from_handle(get_ptr(session_ptr))
        try:
            session._on_keylog(ffi.string(label).decode(), ffi.buffer(secret.data, secret.size)[:])
        except BaseException as exc:  # noqa: BLE001
            session._callback_error = exc
            return -1
        return 0

    def psk_server(session_ptr, username, key):
        session = from_handle(get_ptr(session_ptr))
        try:
            secret = session._psk_lookup(ffi.string(username).decode(errors="replace"))
        except BaseException as exc:  # noqa: BLE001
            session._callback_error = exc
            return -1
        if secret is None:
            return -1
        key.data = ffi.cast("unsigned char *", lib.gnutls_malloc(len(secret)))
        if key.data == NULL:
            return -1
        memmove(key.data, secret, len(secret))
        key.size = len(secret)
        return 0

    def db_store(ptr, key, data):
        cache = from_handle(ptr)
        try:
            cache._store(ffi.buffer(key.data, key.size)[:], ffi.buffer(data.data, data.size)[:])
        except BaseException as exc:  # noqa: BLE001
            cache._callback_error = exc
            return -1
        return 0

    def db_retrieve(ptr, key):
        result = ffi.new("gnutls_datum_t *")
        cache = from_handle(ptr)
        try:
            value = cache._retrieve(ffi.buffer(key.data, key.size)[:])
            if value is not None:  # copied from its storage: len() is then what memmove may read
                value = exact_bytes(value, "a cached session")
        except BaseException as exc:  # noqa: BLE001
            cache._callback_error = exc
            value = None
        if value:
            # libgnutls frees what retrieve returns, so it must come from gnutls_malloc.
            result.data = ffi.cast("unsigned char *", lib.gnutls_malloc(len(value)))
            if result.data != NULL:
                memmove(result.data, value, len(value))
                result.size = len(value)
        return result[0]

    def db_remove(ptr, key):
        cache = from_handle(ptr)
        try:
            found = cache._remove(ffi.buffer(key.data, key.size)[:])
        except BaseException as exc:  # noqa: BLE001
            cache._callback_error = exc
            return -1
        return 0 if found else -1

    def anti_replay_add(ptr, exp_time, key, data):
        # True: a new first flight, stored; False: seen before in this window (a replay).
        store = from_handle(ptr)
        try:
            fresh = store._add(exp_time, ffi.buffer(key.data, key.size)[:], ffi.buffer(data.data, data.size)[:])
        except BaseException as exc:  # noqa: BLE001
            store._callback_error = exc
            return -1
        return 0 if fresh else E_SEEN

    def retrieve_error(exc_type, exc_value, tb):  # an error outside db_retrieve's own try: no entry
        remember(exc_type, exc_value, tb)
        return ffi.new("gnutls_datum_t *")[0]

    def memory_error(exc_type, exc_value, tb):  # a bug in the inlined code: fail the I/O, keep the error
        remember(exc_type, exc_value, tb)
        return -1

    return SimpleNamespace(
        memory_vec_push=ffi.callback("gnutls_vec_push_func", memory_vec_push, onerror=memory_error),
        memory_pull=ffi.callback("gnutls_pull_func", memory_pull, onerror=memory_error),
        push=ffi.callback("gnutls_push_func", push, error=-1, onerror=remember),
        pull=ffi.callback("gnutls_pull_func", pull, error=-1, onerror=remember),
        pull_timeout=ffi.callback("gnutls_pull_timeout_func", pull_timeout, error=-1, onerror=remember),
        memio_pull_timeout=ffi.callback("gnutls_pull_timeout_func", memio_pull_timeout, error=-1,
                                          onerror=remember),
        hook=ffi.callback("gnutls_handshake_hook_func", hook, error=E_INTERNAL, onerror=remember),
        keylog=ffi.callback("gnutls_keylog_func", keylog, error=-1, onerror=remember),
        psk_server=ffi.callback("gnutls_psk_server_credentials_function *", psk_server, error=-1,
                                onerror=remember),
        db_store=ffi.callback("gnutls_db_store_func", db_store, error=-1, onerror=remember),
        db_retrieve=ffi.callback("gnutls_db_retr_func", db_retrieve, onerror=retrieve_error),
        db_remove=ffi.callback("gnutls_db_remove_func", db_remove, error=-1, onerror=remember),
        anti_replay_add=ffi.callback("gnutls_db_add_func", anti_replay_add, error=-1, onerror=remember),
    )
