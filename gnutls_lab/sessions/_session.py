"""Client and server sessions of the real libgnutls, and the pump that drives a pair to completion.

Theory of operation. A :class:`Session` owns one ``gnutls_session_t`` and an
:class:`~gnutls_lab.sessions._transport.Endpoint`. Its handshake is advanced one non-blocking step at a time
(:meth:`Session.handshake_step`); :func:`pump` alternates client and server steps until both are done,
so an in-process pair needs no threads. With ``observe=True`` the handshake hook
(``gnutls_handshake_set_hook_function``) records every handshake message in both directions as
:class:`HandshakeMessage`: received messages at the hook's PRE call (a received TLS 1.3
NewSessionTicket is already parsed, and mostly gone, at POST), sent messages at POST.

Session data follows ``gnutls_session_get_data2`` exactly, including its TLS 1.3 quirk: without a
received NewSessionTicket the library waits about one round trip (through the pull-timeout callback)
and returns 4 bytes of dummy data. :class:`SessionData` reports that as ``dummy=True`` with the reason,
never silently.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

from ..binding import callbacks
from ..binding import c_string, check, exact_bytes, load, make_error, take_datum, view_datum
from ..errors import GnuTLSError, GnuTLSLabError, UsageError

__all__ = [
    "PRIORITY_PRESETS",
    "MAX_LIFETIME",
    "MAX_EXTRA_TICKETS",
    "validate_extra_tickets",
    "preflight",
    "HandshakeMessage",
    "SessionData",
    "SessionCache",
    "as_session_data",
    "session_data_bytes",
    "Session",
    "ClientSession",
    "ServerSession",
    "pump",
    "resolve_priority",
    "validate_lifetime",
    "generate_ticket_key",
    "TICKET_KEY_SIZE",
    "check_ticket_key",
    "session_flag_names",
    "explain_resumption",
]

PRIORITY_PRESETS = {
    "tls1.3": "NORMAL:-VERS-ALL:+VERS-TLS1.3",
    "tls1.2": "NORMAL:-VERS-ALL:+VERS-TLS1.2",
    "default": "NORMAL",
}
_ALIASES = {"1.3": "tls1.3", "1.2": "tls1.2", "TLS1.3": "tls1.3", "TLS1.2": "tls1.2", "13": "tls1.3", "12": "tls1.2"}
MAX_LIFETIME = 604800  # RFC 8446 4.6.1, and libgnutls's own cap
#: The most TLS 1.3 tickets one ``gnutls_session_ticket_send`` call can send: each ticket is a record
#: queued for one flush, and ``_gnutls_io_write_flush`` (``lib/buffers.c``) refuses a 32nd queued record
#: (``MAX_QUEUE`` 32) with ``GNUTLS_E_INTERNAL_ERROR``. Measured in 3.7.9, 3.8.9 and 3.8.13 alike: 31
#: works, 32 fails. The bound of ``Lab(extra_tickets=)``, ``LabServer(extra_tickets=)``, ``gnutls-lab serve
#: --tickets`` and ``ServerSession.send_tickets`` (all through :func:`validate_extra_tickets`).
MAX_EXTRA_TICKETS = 31
#: The 4-byte dummy of gnutls_session_get_data2 (``formats.DUMMY_SESSION``, defined with the blob layout;
#: spelled out here so that ``import gnutls_lab`` does not load the formats layer and construct).
DUMMY = bytes(4)
#: ``gnutls_session_get_flags`` bits, without the ``GNUTLS_SFLAGS_`` prefix (their values: ``lib``).
_FLAG_NAMES = ("SAFE_RENEGOTIATION", "EXT_MASTER_SECRET", "ETM", "HB_LOCAL_SEND", "HB_PEER_SEND", "FALSE_START",
               "RFC7919", "SESSION_TICKET", "POST_HANDSHAKE_AUTH", "EARLY_START", "EARLY_DATA",
               "CLI_REQUESTED_OCSP", "SERV_REQUESTED_OCSP")


def session_flag_names(flags: int) -> list[str]:
    """``gnutls_session_get_flags`` bits as names without the ``GNUTLS_SFLAGS_`` prefix."""
    lib = load()[1]
    return [name for name in _FLAG_NAMES if flags & getattr(lib, "GNUTLS_SFLAGS_" + name)]


def resolve_priority(priority: str) -> str:
    """A preset name (``tls1.3``, ``tls1.2``, ``1.3``…) or a raw GnuTLS priority string."""
    key = _ALIASES.get(priority, priority)
    return PRIORITY_PRESETS.get(key, priority)


_priority_cache: dict = {}
_spare_priorities: list = []
_ALIASES_RESOLVED = {name: resolve_priority(name) for name in (*PRIORITY_PRESETS, *_ALIASES)}
_ALIASES_RESOLVED.update({text: text for text in PRIORITY_PRESETS.values()})  # already resolved (a Lab's)
_binding = None


def _bind():
    """What :class:`Session` needs, looked up once: a lab connection builds two sessions, in hot loops.

    ``newp``, ``gcp`` and ``new_handle`` are cffi's public ``ffi.new``, ``ffi.gc`` and
    ``ffi.new_handle`` (its private backend would save ~0.1-0.4 us a call, a few calls a connection:
    not visible in benchmarks/run.py).
    """
    global _binding, _release
    ffi, lib = load()[:2]
    Session._lib, Session._ffi = lib, ffi
    _release = ffi.release
    _binding = (ffi, lib, callbacks(), ffi.typeof("gnutls_session_t *"), ffi.new, ffi.gc, ffi.new_handle)
    return _binding


_release = None  # ffi.release, set by _bind


def _priority(text: str):
    """A ``gnutls_priority_t`` for ``text``, parsed once per process and kept (they are small)."""
    cached = _priority_cache.get(text)
    if cached is None:
        ffi, lib = load()[:2]
        p = ffi.new("gnutls_priority_t *")
        err = ffi.new("const char **")
        rc = lib.gnutls_priority_init2(p, text.encode(), err, 0)
        if rc < 0:
            position = ""
            if err[0] != ffi.NULL:
                position = f" near {ffi.string(err[0]).decode(errors='replace')!r}"
            raise UsageError(f"bad GnuTLS priority string {text!r}{position}: {make_error(rc).message}")
        # Two threads may parse the same string at once; the first stays, the other is kept alive too.
        cached = _priority_cache.setdefault(text, p[0])
        if cached is not p[0]:
            _spare_priorities.append(p[0])
    return cached


_names: dict = {}


def _handshake_name(htype: int) -> str:
    name = _names.get(htype)
    if name is None:
        ffi, lib = load()[:2]
        name = _names[htype] = c_string(lib.gnutls_handshake_description_get_name(htype)) or f"UNKNOWN({htype})"
    return name


_new_message = tuple.__new__  # HandshakeMessage without NamedTuple's Python-level __new__ (hook hot path)


class HandshakeMessage(NamedTuple):
    """One handshake message as the hook saw it; ``body`` excludes the 4-byte header."""

    sender: str  # "client" or "server"
    type: int  # gnutls_handshake_description_t
    name: str  # as gnutls_handshake_description_get_name gives it, e.g. "NEW SESSION TICKET"
    body: bytes

    def __repr__(self) -> str:
        return f"HandshakeMessage({self.sender} → {self.name}, {len(self.body)} bytes)"


class SessionData:
    """What ``gnutls_session_get_data2`` returned, with the facts needed to read it honestly.

    ``data``: the bytes; ``dummy``: True for the 4-byte ``00 00 00 00`` that cannot resume;
    ``reason``: why it is dummy (empty otherwise); ``protocol``: of the session it came from;
    ``waited_ms``: the pull-timeout waits the library asked for during the call (TLS 1.3 ticket wait).
    """

    __slots__ = ("data", "dummy", "reason", "protocol", "role", "waited_ms", "from_library")

    def __init__(self, data: bytes, protocol: str = "", role: str = "client", reason: str = "",
                 waited_ms: tuple = (), from_library: bool = False):
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise UsageError(f"session data is bytes, not {type(data).__name__}")
        data = exact_bytes(data)  # the stored bytes: a subclass's __eq__/__hash__/__bytes__ are not asked
        dummy = data == DUMMY
        init = object.__setattr__
        #: True when these bytes came from gnutls_session_get_data2 of this process's library
        #: (informative only: set_data checks every blob, whatever its origin).
        init(self, "from_library", bool(from_library))
        init(self, "data", data)
        init(self, "dummy", dummy)
        init(self, "protocol", protocol)
        init(self, "role", role)
        init(self, "reason", reason if dummy else "")
        init(self, "waited_ms", tuple(waited_ms))

    def __setattr__(self, name, value):
        raise AttributeError(f"SessionData is immutable: make a new one, e.g. SessionData(new_bytes), "
                             f"instead of setting .{name}")

    def __delattr__(self, name):
        raise AttributeError("SessionData is immutable")

    def __bytes__(self) -> bytes:
        return self.data

    def __len__(self) -> int:
        return len(self.data)

    def __eq__(self, other) -> bool:
        if isinstance(other, SessionData):
            return self.data == other.data
        if isinstance(other, (bytes, bytearray)):
            return self.data == exact_bytes(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.data)

    def hex(self, sep: str = "") -> str:
        return self.data.hex(sep)

    def save(self, path: str) -> None:
        """Write the bytes to ``path`` with mode 0600 (they hold the session's secret), never in place."""
        from ._files import write_private_file

        write_private_file(path, self.data)

    def __repr__(self) -> str:
        if self.dummy:
            return f"<SessionData DUMMY 00 00 00 00 from a {self.protocol} {self.role}: {self.reason}>"
        return f"<SessionData {len(self.data)} bytes from a {self.protocol} {self.role} (magic {self.data[:4].hex()})>"

    def _repr_html_(self) -> str:
        import html

        if self.dummy:
            return (f"<b>Dummy session data</b> <code>00 00 00 00</code> from a {html.escape(self.protocol)} "
                    f"{self.role}: {html.escape(self.reason)}")
        return (f"<b>Session data</b>: {len(self.data)} bytes from a {html.escape(self.protocol)} {self.role}, "
                f"magic <code>{self.data[:4].hex(' ')}</code>. Decode it with "
                f"<code>gnutls_lab.decode_session(data)</code>.")


# Blobs that passed the preflight, by content (bytes are immutable, so equal bytes pass equally):
# resuming with the same blob again, as the experiments do in loops, does not walk it again. Keys and
# look-ups are exact bytes (session_data_bytes): a bytes subclass whose __eq__/__hash__ claim to be a
# checked blob is never asked.
_checked_blobs: set = set()


def preflight(data: bytes, version_tuple: tuple | None = None) -> None:
    """The check :meth:`Session.set_data` makes before libgnutls sees a blob (:mod:`._preflight`), for a
    packed session that reaches libgnutls's unpacker another way: the state inside a server's ticket.

    ``version_tuple``: the libgnutls whose blobs these are (default: the loaded one). Raises
    :class:`~gnutls_lab.errors.BlobFormatError` for a blob libgnutls must not be handed.
    """
    from ._preflight import check_session_data  # imports the decoder's reader: only when needed

    version = tuple(version_tuple) if version_tuple is not None else load()[3].version_tuple
    check_session_data(exact_bytes(data, "a packed session"), version)  # the stored bytes, as set_data's


def session_data_bytes(data) -> bytes:
    """The bytes of ``data`` for ``set_data``: a :class:`SessionData` or a bytes-like object, nothing else.

    Anything else (an int, which ``bytes()`` would turn into that many zero bytes, a str, None) is a
    :class:`UsageError` naming its type.
    """
    if isinstance(data, SessionData):  # a subclass may redefine .data: its bytes are taken as stored too
        return exact_bytes(data.data, "session data")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return exact_bytes(data)
    raise UsageError(f"session data to resume from must be bytes or SessionData, not {type(data).__name__}")


def as_session_data(data) -> SessionData:
    """``data`` as a :class:`SessionData` (bytes-like objects are wrapped); other types are a UsageError."""
    if isinstance(data, SessionData):
        return data
    return SessionData(session_data_bytes(data))


def explain_resumption(offered: SessionData | None, resumed: bool, protocol: str | None = None,
                       server: str | None = None) -> str:
    """Why a connection did or did not resume, in one sentence: what the client ``offered`` (None: nothing,
    or the session data it set), whether the ``server`` (default: "the server"; a remote one by its
    address) ``resumed``, and under which ``protocol``. ``Connection.explain`` and the remote client's."""
    who = server or "the server"
    full = f"full handshake with {server}" if server else "full handshake"
    if offered is None:
        return f"{full}: the client had no session data to offer"
    if offered.dummy:
        reason = f" ({offered.reason})" if offered.reason else ""
        return f"{full}: the client offered the 4-byte dummy, which set_data accepts and ignores{reason}"
    if resumed:
        how = {"TLS1.3": "a PSK identity (ticket) from ", "TLS1.2": "its session ID or ticket from "}.get(protocol, "")
        return f"resumed: {who} accepted {how}the offered session data"
    return (f"full handshake although data was offered: {who} refused it (expired, issued by a key it no longer "
            "holds, unknown session ID, or tickets off)")


class SessionCache:
    """A server's TLS 1.2 session-ID cache, held in Python so it can be inspected.

    libgnutls calls ``store(session_id, packed_session)`` after a full handshake, ``retrieve(session_id)``
    when a client offers an ID, and ``remove`` for sessions that end abnormally (``gnutls_db_set_*``).
    ``events`` lists the calls as ``(operation, session_id_hex, found)``.

    Both are bounded, so that a long-running server does not grow without end: at most ``max_entries``
    sessions (storing one more forgets the oldest, which then resumes no more) and the last
    ``max_events`` calls.
    """

    def __init__(self, max_entries: int = 10000, max_events: int = 10000):
        for name, value in (("max_entries", max_entries), ("max_events", max_events)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"{name} must be a whole number of 1 or more, not {value!r}")
        self.max_entries = max_entries
        self.entries: dict[bytes, bytes] = {}
        self.events: deque[tuple[str, str, bool]] = deque(maxlen=max_events)
        self._callback_error = None
        self._handle = load()[0].new_handle(self)

    def _store(self, key: bytes, data: bytes) -> None:
        self.entries.pop(key, None)
        while len(self.entries) >= self.max_entries:
            del self.entries[next(iter(self.entries))]  # the oldest (dicts keep insertion order)
        self.entries[key] = data
        self.events.append(("store", key.hex(), True))

    def _retrieve(self, key: bytes):
        data = self.entries.get(key)
        self.events.append(("retrieve", key.hex(), data is not None))
        return data

    def _remove(self, key: bytes) -> bool:
        found = self.entries.pop(key, None) is not None
        self.events.append(("remove", key.hex(), found))
        return found

    def clear(self) -> None:
        self.entries.clear()

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"<SessionCache {len(self.entries)} sessions, {len(self.events)} events>"


class Session:
    """One end of a TLS connection in the real libgnutls. Use :class:`ClientSession`/:class:`ServerSession`."""

    role = "client"
    # Defaults as class attributes: an instance stores only what differs (two sessions per connection).
    _lib = _ffi = None  # set by _bind
    _callback_error = None  # an exception raised in a callback, re-raised after the C call
    _closed = False
    handshake_done = False
    # Stores shared between sessions (a session cache, an anti-replay context): their callbacks keep an
    # exception on the store, and the session that made the call raises it (see _handshake_result).
    _stores = ()
    _handle = None
    _native_tap = False
    _c_pump = False  # pump() may run this session's handshake from C (see pump)

    def __init__(self, credentials, priority: str = "tls1.3", *, endpoint, flags: int = 0,
                 observe: bool = True, keylog: bool = False):
        # Lean on purpose: a lab connection builds two sessions, and the benchmark counts every
        # microsecond of Python around libgnutls's own work.
        ffi, lib, cb, session_p, newp, gcp, new_handle = _binding or _bind()
        self.credentials = credentials
        self.priority = priority = _ALIASES_RESOLVED.get(priority) or resolve_priority(priority)
        self.transcript: list[HandshakeMessage] = []
        self.keylog: list[tuple[str, bytes]] = []

        p = newp(session_p, None)
        rc = lib.gnutls_init(p, (lib.GNUTLS_SERVER if self.role == "server" else lib.GNUTLS_CLIENT) | flags)
        if rc < 0:
            raise make_error(rc, "gnutls_init")
        self._live = ptr = gcp(p[0], lib.gnutls_deinit, 0)  # None once closed, see _ptr
        rc = lib.gnutls_priority_set(ptr, _priority_cache.get(priority) or _priority(priority))
        if rc < 0:
            raise make_error(rc, "gnutls_priority_set")
        rc = lib.gnutls_credentials_set(ptr, credentials.kind, credentials.add_user())  # closed: UsageError
        if rc < 0:
            credentials.release_user()
            raise make_error(rc, "gnutls_credentials_set")
        # The handles live on this object; libgnutls hands them back in every callback. The session
        # handle is needed only by the hook, the key log and a PSK server's key look-up.
        if observe or keylog or (credentials.kind == lib.GNUTLS_CRD_PSK and self.role == "server"):
            self._handle = new_handle(self)
            lib.gnutls_session_set_ptr(ptr, self._handle)
        self._endpoint = endpoint
        endpoint.session_ptr, endpoint.owner = ptr, self
        self._endpoint_handle = handle = new_handle(endpoint)
        if endpoint.native:  # the C pipe: libgnutls moves the bytes without calling into Python
            if endpoint.tap is not None:  # kept in C, moved to the list after each call into libgnutls
                self._native_tap = True
            # A failing hook or PSK look-up fails the handshake, so the C pump stops there; a failing
            # key log would not, and its error must surface at the step that raised it.
            self._c_pump = not keylog
            # Transport pointer, vector push, pull and pull timeout set from C in one call; the handle
            # is for the pull-timeout callback, which stays in Python (it records the wait).
            pipe = endpoint._pipe
            pipe.lib.memio_attach(pipe.api, ptr, endpoint._c, handle)
        else:
            lib.gnutls_transport_set_ptr(ptr, handle)
            if endpoint.memory:  # a whole flight in one push call
                lib.gnutls_transport_set_vec_push_function(ptr, cb.memory_vec_push)
                lib.gnutls_transport_set_pull_function(ptr, cb.memory_pull)
            else:
                lib.gnutls_transport_set_push_function(ptr, cb.push)
                lib.gnutls_transport_set_pull_function(ptr, cb.pull)
            lib.gnutls_transport_set_pull_timeout_function(ptr, cb.pull_timeout)
        if observe:
            lib.gnutls_handshake_set_hook_function(ptr, lib.GNUTLS_HANDSHAKE_ANY, lib.GNUTLS_HOOK_BOTH, cb.hook)
        if keylog:
            lib.gnutls_session_set_keylog_function(ptr, cb.keylog)

    @property
    def _ptr(self):
        """The ``gnutls_session_t``; using a closed session is a clear error, never freed memory."""
        ptr = self._live
        if ptr is None:
            raise UsageError(f"this {self.role} session is closed (gnutls_deinit has run); "
                             "read what you need before closing the connection")
        return ptr

    @property
    def _peer(self) -> str:
        return "server" if self.role == "client" else "client"

    # -- callbacks -------------------------------------------------------------------------
    def _on_handshake_message(self, htype, incoming, msg) -> None:
        """A message for the transcript: the hook callback passes received messages at PRE (which sees
        the whole body) and sent ones at POST (the message as it went out), and drops the other calls."""
        body = self._ffi.buffer(msg.data, msg.size)[:] if msg != self._ffi.NULL and msg.size else b""
        sender = self._peer if incoming else self.role
        self.transcript.append(_new_message(HandshakeMessage, (sender, htype, _handshake_name(htype), body)))

    def _on_keylog(self, label: str, secret: bytes) -> None:
        self.keylog.append((label, secret))

    def _psk_lookup(self, username: str):
        key = self.credentials.keys.get(username)
        return None if key is None else exact_bytes(key, "a PSK key")

    def _after_call(self) -> None:
        """After a call into libgnutls: complete the wire tap, re-raise a callback's exception."""
        if self._native_tap:
            self._endpoint.sync_tap()
        if self._callback_error is not None:
            self._raise_callback_error()

    def _raise_callback_error(self) -> None:
        exc, self._callback_error = self._callback_error, None
        raise exc

    # -- handshake -------------------------------------------------------------------------
    def handshake_step(self) -> bool:
        """One non-blocking ``gnutls_handshake`` call: True when done, False when it needs the peer."""
        if self.handshake_done:
            return True
        return self._handshake_result(self._lib.gnutls_handshake(self._live or self._ptr))  # _ptr: clear error once closed

    def _handshake_result(self, rc: int) -> bool:
        """What ``handshake_step`` makes of ``gnutls_handshake``'s return code (also after the C pump)."""
        self._after_call()
        for store in self._stores:
            if store._callback_error is not None:
                exc, store._callback_error = store._callback_error, None
                raise exc
        if rc == 0:
            self.handshake_done = True
            return True
        lib = self._lib
        if rc == lib.GNUTLS_E_AGAIN or rc == lib.GNUTLS_E_INTERRUPTED or not lib.gnutls_error_is_fatal(rc):
            return False
        raise make_error(rc, f"gnutls_handshake ({self.role})")

    # -- records ---------------------------------------------------------------------------
    def send(self, data: bytes) -> int:
        """``gnutls_record_send``; returns the number of bytes sent."""
        data = exact_bytes(data, "record data")  # the length libgnutls reads is the stored one
        rc = self._lib.gnutls_record_send(self._ptr, data, len(data))
        self._after_call()
        return check(rc, "gnutls_record_send")

    def recv(self, size: int = 16384) -> bytes | None:
        """``gnutls_record_recv``: application data, ``b""`` at a clean close, None if nothing is ready.

        Post-handshake messages (TLS 1.3 NewSessionTicket) are processed on the way and show up in the
        transcript.
        """
        buf = self._ffi.new("char[]", size)
        rc = self._lib.gnutls_record_recv(self._ptr, buf, size)
        self._after_call()
        lib = self._lib
        if rc == lib.GNUTLS_E_AGAIN or rc == lib.GNUTLS_E_INTERRUPTED:
            return None
        if rc < 0 and not lib.gnutls_error_is_fatal(rc):
            return None
        check(rc, "gnutls_record_recv")
        return self._ffi.buffer(buf, rc)[:]

    def read_available(self) -> bytes:
        """Process every record already waiting; return the application data among them.

        A post-handshake message (a TLS 1.3 NewSessionTicket) makes ``gnutls_record_recv`` return
        ``GNUTLS_E_AGAIN`` after processing it, so this loops on what the transport holds, not on that.
        """
        chunks = []
        lib, ptr = self._lib, self._ptr
        while self._endpoint.has_data() or lib.gnutls_record_check_pending(ptr):
            data = self.recv()
            if data == b"":  # clean close
                break
            if data:
                chunks.append(data)
        return b"".join(chunks)

    def bye(self) -> None:
        """Send close_notify (``gnutls_bye(GNUTLS_SHUT_WR)``)."""
        lib = self._lib
        rc = lib.gnutls_bye(self._ptr, lib.GNUTLS_SHUT_WR)
        self._after_call()
        if rc < 0 and rc != lib.GNUTLS_E_AGAIN:
            check(rc, "gnutls_bye")

    # -- session data ------------------------------------------------------------------------
    def get_data(self) -> SessionData:
        """``gnutls_session_get_data2``, with the dummy reported and explained."""
        ffi, lib = self._ffi, self._lib
        waits_before = len(self._endpoint.waits)
        datum = ffi.new("gnutls_datum_t *")
        rc = lib.gnutls_session_get_data2(self._ptr, datum)
        self._after_call()
        check(rc, "gnutls_session_get_data2")
        data = take_datum(datum)
        waited = tuple(self._endpoint.waits[waits_before:])
        protocol = self.protocol
        reason = ""
        if data == DUMMY:
            if self.role == "server":
                reason = ("a TLS 1.3 server never receives tickets, so its get_data2 is always the dummy; "
                          "server-side state lives in the ticket it sent")
            else:
                wait = f" (it waited up to {waited[0]} ms for one)" if waited else " (it did not wait)"
                when = "" if self.handshake_done else "it was called before the handshake, so "
                reason = (when + "no NewSessionTicket had arrived when it was called" + wait +
                          "; set_data accepts these 4 bytes and does nothing, the next handshake is a full one")
        return SessionData(data, protocol, self.role, reason, waited, from_library=True)

    def set_data(self, data) -> None:
        """``gnutls_session_set_data`` before the handshake (bytes or :class:`SessionData`).

        Every blob is checked first (:mod:`gnutls_lab.sessions._preflight`), whatever its origin:
        libgnutls crashes on some corrupted blobs of its own version, and those are refused with a
        :class:`BlobFormatError` instead.
        """
        raw = session_data_bytes(data)
        if self.handshake_done:
            raise UsageError("set session data before the handshake, not after it")
        if raw not in _checked_blobs:
            from ._preflight import check_session_data  # imports the decoder's reader: only when needed

            check_session_data(raw, load()[3].version_tuple)
            if len(_checked_blobs) >= 256:
                _checked_blobs.clear()
            _checked_blobs.add(raw)
        rc = self._lib.gnutls_session_set_data(self._live or self._ptr, raw, len(raw))
        check(rc, "gnutls_session_set_data")

    # -- what was negotiated -----------------------------------------------------------------
    def is_resumed(self) -> bool:
        """``gnutls_session_is_resumed``: the library's word, not whether data was offered."""
        return bool(self._lib.gnutls_session_is_resumed(self._live or self._ptr))

    @property
    def flags(self) -> list[str]:
        return session_flag_names(self._lib.gnutls_session_get_flags(self._ptr))

    @property
    def ticket_received(self) -> bool:
        """``GNUTLS_SFLAGS_SESSION_TICKET``: this client has received a ticket."""
        return bool(self._lib.gnutls_session_get_flags(self._ptr) & self._lib.GNUTLS_SFLAGS_SESSION_TICKET)

    @property
    def protocol(self) -> str:
        return c_string(self._lib.gnutls_protocol_get_name(self._lib.gnutls_protocol_get_version(self._ptr))) or ""

    @property
    def cipher_suite(self) -> str:
        """The IANA-style name of the negotiated suite (``gnutls_ciphersuite_get``, 3.7.3+)."""
        try:
            name = self._lib.gnutls_ciphersuite_get(self._ptr)
        except AttributeError:  # 3.7.0-3.7.2
            return c_string(self._lib.gnutls_session_get_desc(self._ptr)) or ""
        return c_string(name) or ""

    @property
    def description(self) -> str:
        ffi, lib = self._ffi, self._lib
        p = lib.gnutls_session_get_desc(self._ptr)
        if p == ffi.NULL:
            return ""
        try:
            return ffi.string(p).decode()
        finally:
            lib.gnutls_free(p)

    @property
    def auth_type(self) -> str:
        from ._credentials import kind_name

        return kind_name(self._lib.gnutls_auth_get_type(self._ptr))

    def session_id(self) -> bytes:
        datum = self._ffi.new("gnutls_datum_t *")
        check(self._lib.gnutls_session_get_id2(self._ptr, datum), "gnutls_session_get_id2")
        return view_datum(datum)

    def randoms(self) -> tuple[bytes, bytes]:
        client = self._ffi.new("gnutls_datum_t *")
        server = self._ffi.new("gnutls_datum_t *")
        self._lib.gnutls_session_get_random(self._ptr, client, server)
        return view_datum(client), view_datum(server)

    def master_secret(self) -> bytes:
        """TLS <= 1.2 master secret (``gnutls_session_get_master_secret``). A secret: do not display."""
        datum = self._ffi.new("gnutls_datum_t *")
        self._lib.gnutls_session_get_master_secret(self._ptr, datum)
        return view_datum(datum)

    def peer_certificates(self) -> list[bytes]:
        """The peer's certificate chain as DER (``gnutls_certificate_get_peers``), leaf first."""
        ffi = self._ffi
        size = ffi.new("unsigned int *")
        chain = self._lib.gnutls_certificate_get_peers(self._ptr, size)
        if chain == ffi.NULL:
            return []
        return [ffi.buffer(chain[i].data, chain[i].size)[:] for i in range(size[0])]

    def keylog_lines(self) -> list[str]:
        """NSS key log lines (``SSLKEYLOGFILE`` format) for Wireshark. They hold secrets."""
        client_random = self.randoms()[0].hex()
        return [f"{label} {client_random} {secret.hex()}" for label, secret in self.keylog]

    # -- lifetime ----------------------------------------------------------------------------
    def close(self) -> None:
        """``gnutls_deinit`` now (idempotent); the endpoint is closed with it (the peer then sees EOF).

        Also drops the reference cycles (session <-> handles <-> endpoint), so that a closed
        connection is freed at once instead of waiting for the cyclic garbage collector.
        """
        if not self._closed:
            self._closed = True
            _release(self._live)
            self._live = None
            self.credentials.release_user()
            endpoint = self._endpoint
            endpoint.closed = True
            endpoint.owner = endpoint.peer = endpoint.session_ptr = None
            self._endpoint_handle = None
            if self._handle is not None:
                self._handle = None

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        if self._closed:
            return f"<{type(self).__name__} closed>"
        if not self.handshake_done:
            return f"<{type(self).__name__} handshake not done, priority {self.priority!r}>"
        resumed = "resumed" if self.is_resumed() else "full handshake"
        return f"<{type(self).__name__} {self.protocol} {self.cipher_suite} {resumed}>"


class ClientSession(Session):
    """The client end. ``no_tickets=True`` sets ``GNUTLS_NO_TICKETS`` (never offer or accept tickets)."""

    role = "client"

    def __init__(self, credentials, priority: str = "tls1.3", *, endpoint, flags: int = 0,
                 no_tickets: bool = False, server_name: str | None = None, observe: bool = True,
                 keylog: bool = False):
        if no_tickets:
            flags |= 1024
        super().__init__(credentials, priority, endpoint=endpoint, flags=flags, observe=observe, keylog=keylog)
        if server_name:
            raw = exact_bytes(server_name.encode(), "server name")
            lib = self._lib
            check(lib.gnutls_server_name_set(self._ptr, lib.GNUTLS_NAME_DNS, raw, len(raw)), "gnutls_server_name_set")

    def read_tickets(self) -> list[SessionData]:
        """Read the records already waiting one at a time and take ``get_data2`` after each new ticket.

        Returns one :class:`SessionData` per NewSessionTicket processed, in arrival order (the last
        is what a plain ``get_data2`` would now return). For in-memory endpoints.
        """
        endpoint = self._endpoint
        found: list[SessionData] = []
        try:
            for record in endpoint.pending_records():
                endpoint.record_gate = len(record)
                had_ticket = self.ticket_received
                before = found[-1].data if found else None
                self.recv()
                if not self.ticket_received and not had_ticket:
                    continue
                data = self.get_data()
                if not data.dummy and data.data != before:
                    found.append(data)
        finally:
            endpoint.record_gate = None
        return found


def validate_extra_tickets(count, what: str = "extra_tickets") -> int:
    """``count`` as a number of extra TLS 1.3 tickets per handshake, 0 to :data:`MAX_EXTRA_TICKETS`;
    a one-line :class:`UsageError` naming the limit otherwise (``what`` names the option). The one check
    of ``Lab(extra_tickets=)``, ``LabServer(extra_tickets=)``, ``gnutls-lab serve --tickets`` and
    ``ServerSession.send_tickets``."""
    if isinstance(count, bool) or not isinstance(count, int):
        raise UsageError(f"{what} is a whole number of tickets, 0 to {MAX_EXTRA_TICKETS}, not {count!r}")
    if not 0 <= count <= MAX_EXTRA_TICKETS:
        raise UsageError(f"{what} {count} refused: 0 to {MAX_EXTRA_TICKETS}, at most {MAX_EXTRA_TICKETS} tickets "
                         "per gnutls_session_ticket_send call (libgnutls flushes at most 31 records at once)")
    return count


def validate_lifetime(lifetime) -> int:
    if isinstance(lifetime, bool) or not isinstance(lifetime, int):
        raise UsageError(f"ticket lifetime must be a whole number of seconds, not {lifetime!r}")
    if lifetime <= 0:
        raise UsageError(
            f"ticket lifetime {lifetime} s refused: it must be at least 1 s "
            "(libgnutls divides by it to find the ticket-key period; 0 kills the process with SIGFPE)"
        )
    if lifetime > MAX_LIFETIME:
        raise UsageError(f"ticket lifetime {lifetime} s refused: at most {MAX_LIFETIME} s (7 days, RFC 8446 4.6.1)")
    return lifetime


class ServerSession(Session):
    """The server end, with the resumption policy knobs of libgnutls.

    ``ticket_key``: 64-byte master key → ``gnutls_session_ticket_enable_server`` (tickets on); None →
    no tickets (a server session starts with ``GNUTLS_NO_TICKETS``). ``lifetime``: seconds →
    ``gnutls_db_set_cache_expiration`` (ticket lifetime, cache expiry and 1/3 of the key period).
    ``cache``: a :class:`SessionCache` for TLS 1.2 session-ID resumption. ``auto_tickets=False`` sets
    ``GNUTLS_NO_AUTO_SEND_TICKET``. ``client_hello_check``: called with each ClientHello body from the
    handshake hook's PRE call, which libgnutls makes before it reads the hello (its extensions, the
    offered ticket); whatever it raises ends the handshake there, and :meth:`handshake_step` raises it.
    ``certificate_request=True`` asks the client for a certificate
    (``gnutls_certificate_server_set_request(GNUTLS_CERT_REQUEST)``, as ``gnutls-serv`` does; a client
    without one still connects), which moves the TLS 1.3 tickets after the client's Finished.
    """

    role = "server"
    _client_hello_check = None

    def __init__(self, credentials, priority: str = "tls1.3", *, endpoint, flags: int = 0,
                 ticket_key: bytes | None = None, lifetime: int | None = None,
                 cache: SessionCache | None = None, auto_tickets: bool = True,
                 observe: bool = True, keylog: bool = False, client_hello_check=None,
                 certificate_request: bool = False):
        if lifetime is not None:
            lifetime = validate_lifetime(lifetime)
        if not auto_tickets:
            flags |= load()[1].GNUTLS_NO_AUTO_SEND_TICKET
        if client_hello_check is not None:
            self._client_hello_check = client_hello_check
            observe = True  # the check runs in the hook
        super().__init__(credentials, priority, endpoint=endpoint, flags=flags, observe=observe, keylog=keylog)
        lib = self._lib
        if certificate_request:
            lib.gnutls_certificate_server_set_request(self._ptr, lib.GNUTLS_CERT_REQUEST)
        if lifetime is not None:
            lib.gnutls_db_set_cache_expiration(self._ptr, lifetime)
        self.cache = cache
        if cache is not None:
            self._stores = (cache,)
            self._c_pump = False  # a failing store/retrieve callback does not fail the handshake
            cb = callbacks()
            lib.gnutls_db_set_ptr(self._ptr, cache._handle)
            lib.gnutls_db_set_store_function(self._ptr, cb.db_store)
            lib.gnutls_db_set_retrieve_function(self._ptr, cb.db_retrieve)
            lib.gnutls_db_set_remove_function(self._ptr, cb.db_remove)
        if ticket_key is not None:
            ticket_key = check_ticket_key(ticket_key)
        self.ticket_key = ticket_key
        if ticket_key is not None:
            datum = _ticket_key_datums.get(ticket_key)
            if datum is None:
                datum = _ticket_key_datum(ticket_key)
            rc = lib.gnutls_session_ticket_enable_server(self._ptr, datum[0])
            if rc < 0:
                raise make_error(rc, "gnutls_session_ticket_enable_server")

    def _on_handshake_message(self, htype, incoming, msg) -> None:
        super()._on_handshake_message(htype, incoming, msg)
        if incoming and htype == 1 and self._client_hello_check is not None:  # 1: CLIENT HELLO
            self._client_hello_check(self.transcript[-1].body)

    def send_tickets(self, count: int = 1) -> None:
        """``gnutls_session_ticket_send(session, count, 0)``: more TLS 1.3 tickets, now."""
        validate_extra_tickets(count, "the number of tickets to send")
        if count:
            rc = self._lib.gnutls_session_ticket_send(self._ptr, count, 0)
            self._after_call()
            check(rc, "gnutls_session_ticket_send")

    def resumption_requested(self) -> bool:
        """``gnutls_session_resumption_requested``: the client asked to resume (server side)."""
        return bool(self._lib.gnutls_session_resumption_requested(self._ptr))


# Ticket keys as datums, made once per key (libgnutls copies the key into the session).
_ticket_key_datums: dict = {}


def _ticket_key_datum(key: bytes):
    ffi = load()[0]
    key = exact_bytes(key, "a ticket key")
    buffer = ffi.new("unsigned char[]", key)
    datum = ffi.new("gnutls_datum_t *")
    datum.data, datum.size = buffer, len(key)
    if len(_ticket_key_datums) > 64:  # labs that rotate keys a lot: keep the cache small
        _ticket_key_datums.clear()  # entries in use stay alive through their callers' references
    _ticket_key_datums[bytes(key)] = entry = (datum, buffer)
    return entry


#: A GnuTLS ticket master key's size: key name 16 + AES-256 key 32 + HMAC key 16 (``lib/stek.h``,
#: ``TICKET_MASTER_KEY_SIZE``), what ``gnutls_session_ticket_key_generate`` returns.
TICKET_KEY_SIZE = 64


def check_ticket_key(key) -> bytes:
    """``key``'s exact bytes if it is a ticket master key (64 bytes), else a one-line :class:`UsageError`.
    The one check of every place that takes a key (``ServerSession``, ``Lab``, ``LabServer``, key files)."""
    key = exact_bytes(key, "a ticket key")
    if len(key) != TICKET_KEY_SIZE:
        raise UsageError(f"a GnuTLS ticket master key is {TICKET_KEY_SIZE} bytes, not {len(key)}")
    return key


def generate_ticket_key() -> bytes:
    """A fresh 64-byte ticket master key from ``gnutls_session_ticket_key_generate``."""
    ffi, lib = load()[:2]
    datum = ffi.new("gnutls_datum_t *")
    check(lib.gnutls_session_ticket_key_generate(datum), "gnutls_session_ticket_key_generate")
    return take_datum(datum)


def pump(client: Session, server: Session, max_steps: int = 64) -> None:
    """Drive both handshakes to completion from one thread: ``max_steps`` rounds of one
    ``gnutls_handshake`` call on the client, then one on the server.

    Raises :class:`GnuTLSError` from whichever side failed, or :class:`GnuTLSLabError` if neither side
    can make progress (a stalled transport). When both sessions sit on one C pipe, the rounds run in C
    (``memio_pump``) until a call returns something other than "done" or "again"; that step and any
    that follow are finished here, exactly as in Python.
    """
    sessions = (client, server)
    done = [client.handshake_done, server.handshake_done]
    start_round, start_side = 0, 0
    if (client._c_pump and server._c_pump and client._endpoint.peer is server._endpoint
            and client._live is not None and server._live is not None):  # a closed one: Python's errors
        stopped = _pump_in_c(client, server, max_steps, done)
        if stopped is None:
            return
        start_round, side, rc = stopped
        done[side] = _finish_step(sessions[side], sessions[1 - side], rc)
        start_side = side + 1
    for _ in range(start_round, max_steps):
        for side in range(start_side, 2):
            if not done[side]:
                done[side] = _finish_step(sessions[side], sessions[1 - side])
        start_side = 0
        if done[0] and done[1]:
            return
    raise GnuTLSLabError(f"handshake stalled after {max_steps} steps (client done: {done[0]}, "
                         f"server done: {done[1]})")


def _pump_in_c(client: Session, server: Session, max_steps: int, done: list):
    """Rounds of the pump in C. None when both are done; else ``(round, side, rc)`` of the call that
    returned something else, left for Python to finish (``done`` is updated in place)."""
    pipe = client._endpoint._pipe
    state = pipe.ffi.new(pipe.pump_state, {"done": done})
    status = pipe.lib.memio_pump(pipe.handshake, client._live, server._live, state, max_steps)
    flags = state.done
    done[0] = client.handshake_done = flags[0] == 1
    done[1] = server.handshake_done = flags[1] == 1
    if client._native_tap:
        client._endpoint.sync_tap()  # the pair's one tap holds both sides' chunks, in order
    if status == 0:
        return None
    if status == 2:
        raise GnuTLSLabError(f"handshake stalled after {max_steps} steps (client done: {done[0]}, "
                             f"server done: {done[1]})")
    return state.rounds - 1, state.side, state.rc


def _finish_step(session: Session, other: Session, rc: int | None = None) -> bool:
    """One handshake step (or the result ``rc`` of one already made in C), as ``pump`` takes it."""
    try:
        return session.handshake_step() if rc is None else session._handshake_result(rc)
    except GnuTLSError:
        # Let the other side read an alert this one sent; its error is often the clearer one.
        _try_step(other)
        raise


def _try_step(session: Session) -> None:
    try:
        session.handshake_step()
    except GnuTLSLabError:
        pass
