"""TLS 1.3 early data (0-RTT) with the real libgnutls, and a replay of the client's first flight.

Theory of operation. A server that issues tickets with ``gnutls_record_set_max_early_data_size`` writes
that size into each NewSessionTicket; the client stores it in its session data (the decoder shows it as
``tls13.max_early_data_size``). On a resumption the client queues bytes with
``gnutls_record_send_early_data`` before the handshake, and they leave in its first flight, right behind
the ClientHello, encrypted with a key derived from the ticket alone. Nothing in that flight depends on
the server's fresh randomness, so whoever recorded it can send it again.

libgnutls accepts early data only on a server session initialised with ``GNUTLS_ENABLE_EARLY_DATA``
*and* given an anti-replay context (``gnutls_anti_replay_enable``); without one it refuses all early
data. The context (``gnutls_anti_replay_init``) checks two things for each ClientHello with early data:

- freshness: the server's age of the ticket minus the age the client claims (de-obfuscated with the
  ticket's ``ticket_age_add``) must not exceed the window (``gnutls_anti_replay_set_window``, in ms),
  and the ticket must not be older than the context itself;
- uniqueness: the context's add function (``gnutls_anti_replay_set_add_function``) is asked to store a
  key made of the start of the current recording period and the ClientHello's PSK binder; it answers
  ``GNUTLS_E_DB_ENTRY_EXISTS`` for a key already stored, and the early data is refused.

When a window has passed since the recording period started, the next check starts a new period, and
the keys of the old one are never looked at again. :class:`AntiReplay` is that context with its store
held in Python (``entries``, ``events``); ``remember=False`` gives a store that forgets everything, to
show what a server without a replay cache would do.

Both sides' clocks here are libgnutls's high-resolution clock (``gnutls_gettime``). A
:class:`~gnutls_lab.sessions._clock.FakeClock` drives it from GnuTLS 3.8.1 only: on 3.7 the window is
measured in real milliseconds whatever the fake clock says.
"""

from __future__ import annotations

from typing import NamedTuple

from ..binding import callbacks
from ..binding import check, exact_bytes, load, make_error
from ..errors import GnuTLSLabError, UsageError
from ._lab import Connection, Lab
from ._session import ClientSession, ServerSession, SessionData, as_session_data, pump
from ._transport import MemoryEndpoint, memory_pair

__all__ = [
    "AntiReplay",
    "EarlyDataClientSession",
    "EarlyDataServerSession",
    "ReplayOutcome",
    "ZeroRttLab",
    "first_flight",
    "replay_flight",
]



class AntiReplay:
    """A server's anti-replay context (``gnutls_anti_replay_t``) and the store behind its add function.

    ``window``: seconds (a float; libgnutls counts whole milliseconds, default 10 s as in libgnutls).
    ``remember``: True stores every key and reports duplicates (``GNUTLS_E_DB_ENTRY_EXISTS``); False
    stores nothing, like a server whose replay cache is missing or not shared between its processes.
    ``entries`` maps each stored key to its expiry (seconds, the library's clock); ``events`` lists every
    call of the add function as ``(key_hex, expires, fresh)``.

    Create it before the server issues the tickets it should protect: libgnutls refuses early data on
    a ticket older than the context.
    """

    def __init__(self, window: float = 10.0, *, remember: bool = True):
        if isinstance(window, bool) or not isinstance(window, (int, float)) or window < 0:
            raise UsageError(f"the anti-replay window is a number of seconds, 0 or more, not {window!r}")
        if window * 1000 > 0xFFFFFFFF:
            raise UsageError(f"anti-replay window {window} s is too large (at most {0xFFFFFFFF // 1000} s)")
        ffi, lib = load()[:2]
        self.window = float(window)
        self.remember = remember
        self.entries: dict[bytes, int] = {}
        self.events: list[tuple[str, int, bool]] = []
        self._callback_error = None
        p = ffi.new("gnutls_anti_replay_t *")
        check(lib.gnutls_anti_replay_init(p), "gnutls_anti_replay_init")
        self._ptr = ffi.gc(p[0], lib.gnutls_anti_replay_deinit)
        self._handle = ffi.new_handle(self)
        lib.gnutls_anti_replay_set_window(self._ptr, self.window_ms)
        lib.gnutls_anti_replay_set_add_function(self._ptr, callbacks().anti_replay_add)
        lib.gnutls_anti_replay_set_ptr(self._ptr, self._handle)

    @property
    def window_ms(self) -> int:
        return int(round(self.window * 1000))

    def _add(self, expires: int, key: bytes, data: bytes) -> bool:
        # A store purges what has expired: ``expires`` is now + the window (whole seconds).
        now = expires - self.window_ms // 1000
        for old in [k for k, until in self.entries.items() if until < now]:
            del self.entries[old]
        fresh = key not in self.entries
        if fresh and self.remember:
            self.entries[key] = expires
        self.events.append((key.hex(), expires, fresh))
        return fresh

    def __repr__(self) -> str:
        kind = "remembers" if self.remember else "forgets"
        return f"<AntiReplay window {self.window:g} s, {kind}, {len(self.entries)} keys, {len(self.events)} checks>"


class EarlyDataServerSession(ServerSession):
    """A server session that may accept early data.

    ``early_data``: bytes the server accepts in 0-RTT (``gnutls_record_set_max_early_data_size``; also the
    size written into the tickets it issues; 0 leaves early data off). ``anti_replay``: an
    :class:`AntiReplay`, or None (libgnutls then refuses every early data it is offered).
    Other arguments as :class:`ServerSession`.
    """

    def __init__(self, credentials, priority: str = "tls1.3", *, endpoint, early_data: int = 0,
                 anti_replay: AntiReplay | None = None, flags: int = 0, **options):
        if isinstance(early_data, bool) or not isinstance(early_data, int) or early_data < 0:
            raise UsageError(f"early_data is a number of bytes, 0 or more, not {early_data!r}")
        if anti_replay is not None and not isinstance(anti_replay, AntiReplay):
            raise UsageError("anti_replay must be an AntiReplay (or None)")
        if early_data:
            flags |= load()[1].GNUTLS_ENABLE_EARLY_DATA
        super().__init__(credentials, priority, endpoint=endpoint, flags=flags, **options)
        self.early_data_limit = early_data
        self.anti_replay = anti_replay
        self._early: list[bytes] = []
        lib = self._lib
        if early_data:
            check(lib.gnutls_record_set_max_early_data_size(self._ptr, early_data),
                  "gnutls_record_set_max_early_data_size")
        if anti_replay is not None:
            self._c_pump = False  # a failing add function only refuses early data: surface it step by step
            self._stores += (anti_replay,)  # its add function's exception is raised by this session's step
            lib.gnutls_anti_replay_enable(self._ptr, anti_replay._ptr)

    @property
    def early_data_accepted(self) -> bool:
        """``GNUTLS_SFLAGS_EARLY_DATA`` in ``gnutls_session_get_flags``: the server took the early data."""
        return bool(self._lib.gnutls_session_get_flags(self._ptr) & self._lib.GNUTLS_SFLAGS_EARLY_DATA)

    @property
    def early_data(self) -> bytes:
        """Every byte of early data this server has delivered (``gnutls_record_recv_early_data``).

        Readable during the handshake too: the server has the early data as soon as it has processed the
        client's first flight, before the client's Finished proves anything.
        """
        ffi, lib = self._ffi, self._lib
        buf = ffi.new("char[]", 16384)
        while True:
            rc = lib.gnutls_record_recv_early_data(self._ptr, buf, 16384)
            if rc == lib.GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE or rc == 0:  # none, or all read
                break
            check(rc, "gnutls_record_recv_early_data")
            self._early.append(ffi.buffer(buf, rc)[:])
        return b"".join(self._early)


class EarlyDataClientSession(ClientSession):
    """A client session that may send early data on a resumption (``GNUTLS_ENABLE_EARLY_DATA`` set).

    Call :meth:`set_data` with session data whose ticket allows early data, then :meth:`send_early_data`,
    then the handshake.
    """

    def __init__(self, credentials, priority: str = "tls1.3", *, endpoint, flags: int = 0, **options):
        flags |= load()[1].GNUTLS_ENABLE_EARLY_DATA
        super().__init__(credentials, priority, endpoint=endpoint, flags=flags, **options)
        self.early_data_sent = b""

    @property
    def max_early_data_size(self) -> int:
        """``gnutls_record_get_max_early_data_size``: what this session may send in 0-RTT."""
        return int(self._lib.gnutls_record_get_max_early_data_size(self._ptr))

    def send_early_data(self, data: bytes) -> int:
        """``gnutls_record_send_early_data`` before the handshake: queue ``data`` for the first flight.

        Returns what libgnutls returns: 0 once the whole of ``data`` is queued (3.7.9 and 3.8.9 alike; the
        manual promises the number of bytes sent). The bytes leave with the handshake's first flight.
        """
        if self.handshake_done:
            raise UsageError("early data is sent before the handshake, not after it")
        data = exact_bytes(data, "early data")
        rc = self._lib.gnutls_record_send_early_data(self._ptr, data, len(data))
        self._after_call()
        if rc < 0:
            raise make_error(rc, "gnutls_record_send_early_data")
        self.early_data_sent += data  # queued whole (rc is 0, not a byte count)
        return rc

    @property
    def early_data_accepted(self) -> bool:
        """``GNUTLS_SFLAGS_EARLY_DATA`` on the client: the server said it accepted the early data."""
        return bool(self._lib.gnutls_session_get_flags(self._ptr) & self._lib.GNUTLS_SFLAGS_EARLY_DATA)


def first_flight(wire) -> bytes:
    """The client's first flight from a wire tap: every client chunk before the server's first one."""
    chunks = []
    for chunk in wire:
        if chunk.sender != "client":
            break
        chunks.append(chunk.data)
    if not chunks:
        raise UsageError("this wire tap holds no client flight (was the connection observed with observe=True?)")
    return b"".join(chunks)


class ReplayOutcome(NamedTuple):
    """What a server did with a recorded first flight sent again.

    ``resumed``: the server accepted the ticket (``gnutls_session_is_resumed``); ``early_data_accepted``:
    ``GNUTLS_SFLAGS_EARLY_DATA``; ``early_data``: the bytes it delivered to its application (before any
    client Finished, which the attacker cannot produce); ``checked``: the anti-replay's add function was
    called for this flight; ``error``: the handshake error that ended the attempt, if any.
    """

    resumed: bool
    early_data_accepted: bool
    early_data: bytes
    checked: bool
    error: str


def replay_flight(flight: bytes, server: EarlyDataServerSession, *, max_steps: int = 16) -> ReplayOutcome:
    """Feed a recorded client flight to a fresh server session and let it run until it waits for the client.

    ``server`` must sit on the server end of an in-memory pair whose client end nobody drives (see
    :func:`gnutls_lab.sessions._transport.memory_pair`): the attacker only sends; what the server answers
    goes nowhere. The server processes the ClientHello and the early data, answers, and then waits for
    a client Finished that never comes.
    """
    endpoint = server._endpoint
    if not isinstance(endpoint, MemoryEndpoint):
        raise UsageError("replay_flight needs a server on an in-memory endpoint")
    if server.handshake_done:
        raise UsageError("replay a flight to a fresh server session, before its handshake")
    checks_before = len(server.anti_replay.events) if server.anti_replay is not None else 0
    _feed(endpoint, flight)
    error = ""
    try:
        for _ in range(max_steps):
            if server.handshake_step():
                break
            if not endpoint.has_data():
                break
    except GnuTLSLabError as exc:
        error = str(exc)
    checked = server.anti_replay is not None and len(server.anti_replay.events) > checks_before
    return ReplayOutcome(
        resumed=server.is_resumed(),
        early_data_accepted=server.early_data_accepted,
        early_data=server.early_data,
        checked=checked,
        error=error,
    )


def _feed(endpoint: MemoryEndpoint, data: bytes) -> None:
    """Put bytes in a server end's inbox as if its peer had sent them."""
    peer = endpoint.peer
    if peer is None:
        raise UsageError("the server endpoint has no peer to send from")
    rc = peer.push(data)
    if rc < 0:
        raise GnuTLSLabError(f"could not feed the recorded flight to the server (errno {-rc})")



class ZeroRttLab:
    """A lab server that accepts early data, its anti-replay state, and clients that resume with 0-RTT.

    ``lab``: a TLS 1.3 :class:`~gnutls_lab.sessions._lab.Lab` for the credentials and the ticket key (default:
    a fresh ``Lab("1.3")``). ``early_data``: the server's limit in bytes, written into its tickets.
    ``anti_replay``: an :class:`AntiReplay` shared by every server session of this lab (as one server
    process would), or None. Every server session (:meth:`issue_ticket`, :meth:`resume`, :meth:`replay`)
    uses the same ticket key and the same anti-replay state. ``keylog``: record the secrets of every
    session, so that :meth:`resume`'s connections (0-RTT included) and replayed flights can be written
    to a capture Wireshark decrypts (:func:`gnutls_lab.write_pcapng`); None follows the lab's
    ``Lab(..., keylog=True)``.
    """

    def __init__(self, lab=None, *, early_data: int = 16384, anti_replay: AntiReplay | None = None,
                 keylog: bool | None = None):
        self.lab = lab if lab is not None else Lab("1.3")
        if "VERS-TLS1.3" not in self.lab.priority:
            raise UsageError("early data exists only in TLS 1.3: use a Lab('1.3')")
        self.early_data_limit = early_data
        self.anti_replay = anti_replay
        self.keylog = self.lab.keylog if keylog is None else bool(keylog)

    def _server(self, endpoint) -> EarlyDataServerSession:
        lab = self.lab
        return EarlyDataServerSession(lab.server_credentials, lab.priority, endpoint=endpoint,
                                      ticket_key=lab.ticket_key, lifetime=lab.lifetime,
                                      early_data=self.early_data_limit, anti_replay=self.anti_replay,
                                      keylog=self.keylog)

    def _client(self, endpoint) -> EarlyDataClientSession:
        lab = self.lab
        return EarlyDataClientSession(lab.client_credentials, lab.client_priority, endpoint=endpoint,
                                      server_name=lab.server_name, keylog=self.keylog)

    def issue_ticket(self) -> SessionData:
        """A full handshake; the client's session data once the server's ticket has arrived."""
        client_end, server_end = memory_pair(None)
        server, client = self._server(server_end), self._client(client_end)
        try:
            pump(client, server)
            data = client.read_tickets()
            if not data:
                raise GnuTLSLabError("the lab server sent no ticket after the handshake")
            return data[-1]
        finally:
            client.close()
            server.close()

    def resume(self, data, early_data: bytes = b""):
        """A resumption with ``data`` that sends ``early_data`` in 0-RTT; a
        :class:`~gnutls_lab.sessions._lab.Connection` (both sessions open, the wire tap recorded)."""
        wire: list = []
        client_end, server_end = memory_pair(wire)
        server = self._server(server_end)
        client = self._client(client_end)
        offered = as_session_data(data)
        try:
            client.set_data(offered)
            if early_data:
                client.send_early_data(early_data)
            pump(client, server)
        except BaseException:
            client.close()
            server.close()
            raise
        return Connection(client, server, wire, offered)

    def replay(self, flight: bytes, *, tap: list | None = None) -> ReplayOutcome:
        """Send a recorded first flight to a fresh server session of this lab (same key, same anti-replay).

        ``tap``: a list that receives the wire of the replay (the flight, then what the server answered),
        as :class:`~gnutls_lab.sessions._transport.WireChunk`; with :meth:`capture_replay` it goes to a
        capture file.
        """
        _, server_end = memory_pair(tap)
        server = self._server(server_end)
        try:
            return replay_flight(flight, server)
        finally:
            server.close()

    @staticmethod
    def capture_replay(tap: list, original, started_at: float | None = None):
        """A :class:`~gnutls_lab.sessions._pcapng.TlsCapture` of a replay (``tap`` from :meth:`replay`);
        ``original``: the 0-RTT connection whose flight was replayed (a :class:`Connection` still open, or
        its ``capture()``).

        Its key log is the original connection's: the replayed ClientHello carries the original client
        random, so Wireshark decrypts the replayed early data with the original CLIENT_EARLY_TRAFFIC_SECRET,
        as the server did. What the server answered stays encrypted: its keys came from a fresh key
        exchange that the attacker (and the capture) do not have.
        """
        from ._clock import now as clock_now
        from ._pcapng import TlsCapture

        keylog = original.keylog if isinstance(original, TlsCapture) else tuple(original.keylog_lines())
        return TlsCapture(tuple((chunk.sender, bytes(chunk.data)) for chunk in tap), tuple(keylog),
                          clock_now() if started_at is None else started_at)

    def __repr__(self) -> str:
        return f"<ZeroRttLab early_data {self.early_data_limit} bytes, anti_replay {self.anti_replay!r}>"
