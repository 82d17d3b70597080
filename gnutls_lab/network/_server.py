"""A lab TLS server on 127.0.0.1 that real clients (gnutls-cli, openssl s_client, browsers) resume against.

Theory of operation. :class:`LabServer` binds a TCP socket on 127.0.0.1 only (never another address:
the lab is for your own machine) and serves connections concurrently, each in its own thread (one
session per thread, as libgnutls allows). Each accepted socket becomes a
:class:`~gnutls_lab.sessions._transport.SocketEndpoint` under a
:class:`~gnutls_lab.sessions._session.ServerSession`; the handshake is the same non-blocking
``handshake_step`` the in-process lab uses, repeated until done (the socket answers "try again" after a
short poll, so a stop request is noticed within one poll). What the server keeps between connections
is what a real GnuTLS server keeps: one ticket master key (``gnutls_session_ticket_enable_server``),
one ticket lifetime (``gnutls_db_set_cache_expiration``, validated 1..604800 s before libgnutls sees
it) and, for TLS 1.2, a bounded session-ID cache (:class:`~gnutls_lab.sessions._session.SessionCache`).

Bounds, so that no client holds the server. A handshake has ``handshake_timeout`` seconds in total
(the socket's deadline cuts a client that trickles its bytes, not only a silent one); after it, a
connection may stay silent ``idle_timeout`` seconds between requests, and each HTTP request (or,
without ``http``, the whole data phase) has ``request_timeout`` seconds in total. At most
``max_clients`` connections are served at once; when one more arrives, the served connection that has
waited longest for its client (a silent or trickling client, an idle keep-alive connection) is closed
to make room and logged as evicted; only when none is waiting is the newcomer refused. The server keeps
the records of its last ``keep_records`` connections (:attr:`LabServer.served`, a ring) and totals
for all (:attr:`LabServer.totals`); ``log`` sees every record.

Forged tickets. libgnutls crashes on some ticket states that its own key opens (a changed state,
encrypted and MACed again: ``findings/forged-ticket-crash/``). Every ClientHello goes through
:class:`~gnutls_lab.network._ticket_guard.TicketGuard` from the session's handshake hook, before
libgnutls reads it; a ticket whose state fails the preflight ends that connection, with the reason in
its record.

Tickets. After a TLS 1.3 handshake libgnutls sends two tickets by itself, in the server's first flight
(``ticket_timing="with-finished"``, libgnutls's default). OpenSSL servers, and ``gnutls-serv`` (which
asks for a client certificate), send them after the client's Finished: ``ticket_timing="after-handshake"``
does that (``GNUTLS_NO_AUTO_SEND_TICKET``, then ``gnutls_session_ticket_send`` once the handshake is
done), so a client that asks for its session data right after the handshake waits for them, as it
does in the field. ``extra_tickets`` (0-31) more follow either way.

Every connection yields a :class:`ServedConnection` record: full or resumed, and what the client
offered in its ClientHello (read with :func:`gnutls_lab.formats._wire.read_client_hello`): a TLS 1.3
PSK identity (a GnuTLS ticket), a TLS 1.2 SessionTicket or a TLS 1.2 session ID, and whether this
server issued it (a TLS 1.3-capable client sends a fresh random session ID under TLS 1.2 too).
"""

from __future__ import annotations

import socket
import threading
import time
from collections import OrderedDict, deque
from dataclasses import asdict, dataclass, field

from ._client import linger_close
from ._http import HttpResponder
from ._static import StaticFolder
from ._ticket_guard import TicketGuard
from ._starttls import STARTTLS_PROTOCOLS, smtp_server_starttls
from ..analysis import identity_id
from ..errors import GnuTLSLabError, UsageError
from ..formats import read_client_hello
from ..sessions import (
    AntiReplay,
    EarlyDataServerSession,
    CertificateCredentials,
    LabCertificate,
    ServerSession,
    SessionCache,
    SocketEndpoint,
    check_ticket_key,
    generate_ticket_key,
    resolve_priority,
    validate_extra_tickets,
    validate_lifetime,
    write_private_file,
)

__all__ = ["LabServer", "ServedConnection", "save_ticket_key", "abbreviate", "presented_identity", "TICKET_TIMINGS"]

LOOPBACK = "127.0.0.1"
_CLIENT_HELLO = 1
_POLL_SECONDS = 0.2  # how long one socket read waits before the loops look at the stop flag
_AUTO_TICKETS = 2  # what libgnutls sends by itself after a TLS 1.3 handshake (TLS13_TICKETS_TO_SEND)
_ISSUED_IDS = 4096  # TLS 1.2 session IDs remembered as issued here
#: When a TLS 1.3 server sends its tickets: in its first flight, with its Finished (libgnutls's
#: default), or after the client's Finished (OpenSSL servers, gnutls-serv when it asks for a certificate).
TICKET_TIMINGS = ("with-finished", "after-handshake")


def abbreviate(data: bytes | None, keep: int = 6) -> str:
    """``a1b2c3d4e5f6…0708 (230 bytes)``: enough hex to compare by eye, short enough for a log line."""
    if not data:
        return "-"
    if len(data) <= 2 * keep:
        return f"{data.hex()} ({len(data)} bytes)"
    return f"{data[:keep].hex()}…{data[-2:].hex()} ({len(data)} bytes)"


def save_ticket_key(path: str, key: bytes) -> None:
    """Write ``key`` as 64 raw bytes, readable by you only (it decrypts every ticket it issued).

    :func:`gnutls_lab.analysis._ticket_keys.load_ticket_key` reads it back (also hex or base64).
    """
    write_private_file(path, check_ticket_key(key))


@dataclass
class ServedConnection:
    """What the server saw of one connection. ``identity`` is the full value; logs abbreviate it.

    ``identity_kind``: ``psk_identity`` (TLS 1.3 ticket), ``session_ticket`` (TLS 1.2),
    ``session_id`` (TLS 1.2) or None (nothing offered). ``identity_issued``: True when this server
    issued what was offered (a ticket its key opens, a session ID it handed out), False when not (for a
    session ID: a fresh one, e.g. the random ID of a TLS 1.3-capable client: no resumption attempt),
    None when nothing was offered. ``error`` is set when the connection failed, was refused or evicted.
    ``http_requests``: the requests answered (also when the connection failed later).
    """

    index: int
    peer: str
    protocol: str = ""
    cipher_suite: str = ""
    resumed: bool = False
    identity_kind: str | None = None
    identity: bytes = b""
    identity_issued: bool | None = None
    tickets_sent: int = 0
    error: str = ""
    seconds: float = 0.0
    messages: list = field(default_factory=list)
    wire: list = field(default_factory=list, repr=False)  # WireChunks, with LabServer(record_wire=True)
    http_requests: int = 0  # requests answered, with LabServer(http=True)
    early_data: bytes = field(default=b"", repr=False)  # 0-RTT data delivered, with LabServer(early_data=N)

    def offered(self) -> str:
        """What the client offered to resume with, for the log line: ``presented nothing``, ``presented
        KIND VALUE, issued by this server``, or for a session ID this server never issued ``sent a fresh
        session_id VALUE`` (a TLS 1.3-capable client's random ID: no resumption attempt)."""
        if not self.identity_kind:
            return "presented nothing"
        what = f"{self.identity_kind} {abbreviate(self.identity)}"
        if self.identity_issued is None:
            return f"presented {what}"
        if self.identity_kind == "session_id" and not self.identity_issued:
            return f"sent a fresh {what} (not issued by this server: no resumption attempt)"
        if self.identity_issued:
            return f"presented {what}, issued by this server"
        return f"presented {what}, not issued by this server (its ticket key does not open it)"

    def log_line(self) -> str:
        requests = f"; HTTP requests answered {self.http_requests}" if self.http_requests else ""
        if self.error:
            return f"#{self.index} {self.peer}: failed: {self.error}{requests}"
        verdict = "RESUMED" if self.resumed else "full handshake"
        return (f"#{self.index} {self.peer}: {self.protocol} {self.cipher_suite}: {verdict}; "
                f"client {self.offered()}; tickets sent {self.tickets_sent}{requests}")

    def log_entry(self) -> dict:
        """The line ``gnutls-lab serve --log`` writes: resumed or not, and what the client presented, named
        by a short hash as the spy names it (:func:`gnutls_lab.analysis._spy.identity_id`), never shown; the
        client's address and port, by which the spy's report is paired with it; ``issued_here``: whether
        this server issued what the client presented (see ``identity_issued``)."""
        address, _, port = self.peer.rpartition(":")
        return {"connection": self.index, "peer": self.peer, "client_address": address,
                "client_port": int(port) if port.isdigit() else None,
                "protocol": self.protocol, "resumed": self.resumed,
                "error": self.error, "presented": self.identity_kind,
                "ticket_id": identity_id(self.identity_kind, self.identity), "issued_here": self.identity_issued,
                "tickets_sent": self.tickets_sent, "http_requests": self.http_requests}

    def to_dict(self) -> dict:
        record = asdict(self)
        record.pop("wire", None)  # raw bytes; observe them with gnutls_lab.analysis (observe_connection)
        record["early_data"] = len(self.early_data)  # a length: the bytes are the client's request
        record["identity"] = self.identity.hex()
        record["identity_length"] = len(self.identity)
        return record


def presented_identity(client_hello_body: bytes, protocol: str) -> tuple[str | None, bytes]:
    """The resumption identity in a ClientHello body: (kind, value), or (None, b"")."""
    try:
        hello = read_client_hello(client_hello_body)
    except GnuTLSLabError:  # a hello the reader cannot read offers nothing we can name
        return None, b""
    if hello.psk_identities and protocol == "TLS1.3":
        return "psk_identity", bytes(hello.psk_identities[0].identity)
    if hello.session_ticket:
        return "session_ticket", bytes(hello.session_ticket)
    if protocol != "TLS1.3" and hello.session_id:
        # Under TLS 1.3 the legacy_session_id is random middlebox padding, not an identity.
        return "session_id", bytes(hello.session_id)
    return None, b""


class _Slot:
    """A connection being served, as the accepting thread sees it (to choose one to evict)."""

    __slots__ = ("sock", "endpoint", "evicted")

    def __init__(self, sock: socket.socket, endpoint: SocketEndpoint):
        self.sock, self.endpoint, self.evicted = sock, endpoint, ""

    def evict(self, reason: str) -> None:
        self.evicted = reason
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # its thread's next read sees the end at once
        except OSError:
            pass


class LabServer:
    """A TLS server on 127.0.0.1:``port`` (0 = any free port) with one resumption policy.

    ``tls``: ``"1.3"``/``"1.2"`` or a priority string (``"NORMAL:-VERS-ALL:+VERS-TLS1.3:+ECDHE-PSK:+DHE-PSK:+PSK"``
    also resumes TLS 1.3 with ``psk_ke``, no new key exchange; with ``+PSK`` alone libgnutls takes only
    ``psk_ke`` and refuses a ``psk_dhe_ke`` resumption). ``ticket_key``: 64 bytes (default: fresh);
    ``tickets=False`` turns tickets off (TLS 1.2 then resumes by session ID only).
    ``lifetime``: seconds, 1..604800 (None: libgnutls's 21600). ``ticket_timing``: one of
    :data:`TICKET_TIMINGS`. ``extra_tickets``: 0-31 more TLS 1.3 tickets after each handshake.
    ``log``: called with each :class:`ServedConnection`, from one thread at a time; if it raises (a log
    that cannot be written), the server stops, calls it no more and keeps the exception in
    :attr:`log_error`. ``record_wire``: keep every byte of each connection in its record's ``wire``
    (what a passive observer sees). ``handshake_timeout``, ``idle_timeout``, ``request_timeout``,
    ``max_clients``: the bounds in the module docstring. ``keep_records``: how many records
    :attr:`served` keeps (the newest; 0: none, the log only). ``http``: answer HTTP/1.1 requests
    (:class:`gnutls_lab.network._http.HttpResponder`), with the files of folder ``root`` if given, and
    close after ``close_after`` requests if given. Use as a context manager; :meth:`close` stops, waits
    for the connections in progress and frees the socket and credentials.

    ``early_data``: TLS 1.3 0-RTT bytes accepted per connection (0: off; the size is written into the
    tickets), kept in each record's ``early_data``. ``anti_replay``: ``"remember"`` (one anti-replay
    context for the whole server whose store reports duplicates: a replayed first flight gets no early
    data), ``"forget"`` (a context whose store forgets: every replay delivers its early data again, as
    a server without a shared replay cache would) or None (no context: libgnutls then refuses all early
    data). ``starttls``: ``"smtp"`` speaks the SMTP STARTTLS preamble (RFC 3207) before each handshake.
    """

    def __init__(self, port: int = 0, tls: str = "1.3", *, lifetime: int | None = None,
                 ticket_key: bytes | None = None, tickets: bool = True, extra_tickets: int = 0,
                 ticket_timing: str = "with-finished", certificate: LabCertificate | None = None,
                 handshake_timeout: float = 5.0, idle_timeout: float = 2.0, request_timeout: float = 10.0,
                 log=None, record_wire: bool = False, max_clients: int = 128, keep_records: int = 1000,
                 http: bool = False, close_after: int | None = None, root=None, early_data: int = 0,
                 anti_replay: str | None = "remember", anti_replay_window: float = 10.0,
                 starttls: str | None = None):
        if lifetime is not None:
            validate_lifetime(lifetime)
        validate_extra_tickets(extra_tickets)
        if ticket_timing not in TICKET_TIMINGS:
            raise UsageError(f"ticket_timing must be one of {', '.join(TICKET_TIMINGS)}, not {ticket_timing!r}")
        for name, seconds in (("handshake_timeout", handshake_timeout), ("idle_timeout", idle_timeout),
                              ("request_timeout", request_timeout)):
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 < seconds <= 3600:
                raise UsageError(f"{name} must be more than 0 and at most 3600 seconds, not {seconds!r}")
        for name, value, low, high in (("max_clients", max_clients, 1, 512), ("keep_records", keep_records, 0, 10**6)):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise UsageError(f"{name} must be a whole number from {low} to {high}, not {value!r}")
        if close_after is not None and (isinstance(close_after, bool) or not isinstance(close_after, int)
                                        or close_after < 1):
            raise UsageError(f"close_after must be a whole number of requests, 1 or more, not {close_after!r}")
        if (close_after is not None or root is not None) and not http:
            raise UsageError("close_after and root are for HTTP: use them with http=True (--http)")
        if not 0 <= port <= 65535:
            raise UsageError(f"port {port} is not a TCP port (0-65535; 0 picks a free one)")
        if isinstance(early_data, bool) or not isinstance(early_data, int) or early_data < 0:
            raise UsageError(f"early_data is a number of bytes, 0 or more, not {early_data!r}")
        if anti_replay not in ("remember", "forget", None):
            raise UsageError(f"anti_replay must be 'remember', 'forget' or None, not {anti_replay!r}")
        if starttls is not None and starttls not in STARTTLS_PROTOCOLS:
            raise UsageError(f"unknown STARTTLS protocol {starttls!r}: use one of {', '.join(STARTTLS_PROTOCOLS)}")
        self.early_data = early_data
        self.starttls = starttls
        # One context for the whole server, made before it issues a ticket (libgnutls refuses early data
        # on tickets older than the context).
        self.anti_replay = (AntiReplay(anti_replay_window, remember=anti_replay == "remember")
                            if early_data and anti_replay is not None else None)
        self.priority = resolve_priority(str(tls))
        self.lifetime = lifetime
        self.tickets = tickets
        self.ticket_key = check_ticket_key(ticket_key) if ticket_key is not None else generate_ticket_key()
        self.extra_tickets = extra_tickets
        self.ticket_timing = ticket_timing
        self.handshake_timeout = handshake_timeout
        self.idle_timeout = idle_timeout
        self.request_timeout = request_timeout
        self.log = log
        self.log_error: BaseException | None = None
        self.record_wire = record_wire
        self.http = http  # answer HTTP/1.1 requests (gnutls_lab.network._http) instead of discarding data
        self.close_after = close_after
        self.max_clients = max_clients
        self.keep_records = keep_records
        self.root = StaticFolder(root) if root is not None else None
        self.cache = SessionCache(max_entries=1000, max_events=1000)
        self.guard = TicketGuard(self.ticket_key, lifetime) if tickets else None
        #: The records of the last ``keep_records`` connections, in the order they ended.
        self.served: deque[ServedConnection] = deque(maxlen=keep_records)
        #: Counts over every connection: connections (recorded), resumed, failed (errors, refusals and
        #: evictions included), evicted, refused, not_logged (records the log did not take).
        self.totals = {"connections": 0, "resumed": 0, "failed": 0, "evicted": 0, "refused": 0, "not_logged": 0}
        self._issued_ids: OrderedDict[bytes, None] = OrderedDict()
        self._stop = threading.Event()
        self._lock = threading.Lock()  # served, totals, the connection counter, slots, log calls
        self._recorded = threading.Condition(self._lock)  # notified each time a record is made
        self._workers: set[threading.Thread] = set()
        self._slots: dict[int, _Slot] = {}
        self._accepted = 0
        try:
            self.certificate = certificate or LabCertificate()
            self.credentials = CertificateCredentials(self.certificate)
        except BaseException:
            if self.root is not None:
                self.root.close()
            raise
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._listener.bind((LOOPBACK, port))
            self._listener.listen(socket.SOMAXCONN)
        except OSError as exc:
            self._listener.close()
            self.credentials.close()
            if self.root is not None:
                self.root.close()
            raise UsageError(f"cannot listen on {LOOPBACK}:{port}: {exc.strerror or exc}") from None
        self._listener.settimeout(_POLL_SECONDS)

    @property
    def address(self) -> tuple[str, int]:
        return self._listener.getsockname()[:2]

    @property
    def port(self) -> int:
        return self.address[1]

    def stop(self) -> None:
        """Ask :meth:`serve_forever` to return (safe from a signal handler or another thread)."""
        self._stop.set()

    def serve_forever(self, max_connections: int | None = None) -> deque:
        """Accept connections until :meth:`stop` or ``max_connections``, serve each in its own thread,
        wait for those in progress; return :attr:`served` (the last ``keep_records``, in the order the
        connections ended)."""
        try:
            while not self._stop.is_set():
                if max_connections is not None and self._accepted >= max_connections:
                    break
                try:
                    sock, peer = self._listener.accept()
                except socket.timeout:
                    continue
                except OSError:
                    if self._stop.is_set():
                        break
                    raise
                self._dispatch(sock, f"{peer[0]}:{peer[1]}")
        finally:
            self._join_workers()
        return self.served

    def _endpoint(self, sock: socket.socket, record: ServedConnection) -> SocketEndpoint:
        endpoint = SocketEndpoint(sock, "server", record.wire if self.record_wire else None, timeout=_POLL_SECONDS,
                                  write_patience=self.request_timeout, stopping=self._stop.is_set)
        endpoint.waiting = True  # a new connection waits for its client's first flight
        return endpoint

    def _dispatch(self, sock: socket.socket, peer: str) -> None:
        """Serve ``sock`` in a new thread; when ``max_clients`` are being served, first close the one that
        has waited longest for its client, or refuse ``sock`` if none is waiting."""
        self._workers = {worker for worker in self._workers if worker.is_alive()}
        record = ServedConnection(index=self._next_index(), peer=peer)
        endpoint = self._endpoint(sock, record)
        with self._lock:
            if len(self._slots) >= self.max_clients and len(self._workers) < 2 * self.max_clients:
                waiting = [(slot.endpoint.last_activity, index, slot) for index, slot in self._slots.items()
                           if slot.endpoint.waiting]
                if waiting:
                    since, index, victim = min(waiting, key=lambda item: item[:2])
                    victim.evict(f"evicted to make room: {self.max_clients} connections in progress, and this one "
                                 f"had waited longest for its client ({time.monotonic() - since:.1f} s)")
                    del self._slots[index]
            slot = None
            if len(self._slots) < self.max_clients:
                slot = self._slots[record.index] = _Slot(sock, endpoint)
        if slot is None:
            sock.close()
            record.error = f"refused: {self.max_clients} connections already in progress, none of them idle"
            self._record(record)
            return
        worker = threading.Thread(target=self._serve_slot, args=(sock, record, endpoint, slot), daemon=True,
                                  name=f"lab-server-{record.index}")
        self._workers.add(worker)
        worker.start()

    def _serve_slot(self, sock: socket.socket, record: ServedConnection, endpoint: SocketEndpoint,
                    slot: _Slot) -> None:
        try:
            self._serve(sock, record, endpoint, slot)
        finally:
            with self._lock:
                self._slots.pop(record.index, None)

    def _next_index(self) -> int:
        with self._lock:
            index, self._accepted = self._accepted, self._accepted + 1
        return index

    def _join_workers(self) -> None:
        for worker in list(self._workers):
            worker.join()
        self._workers.clear()

    def _record(self, record: ServedConnection) -> None:
        with self._lock:
            self.served.append(record)
            totals = self.totals
            totals["connections"] += 1
            totals["resumed"] += record.resumed
            totals["failed"] += bool(record.error)
            totals["evicted"] += record.error.startswith("evicted")
            totals["refused"] += record.error.startswith("refused")
            if self.log is not None:
                if self.log_error is None:
                    try:
                        self.log(record)
                    except Exception as exc:  # noqa: BLE001 - a log that cannot be written stops the server
                        self.log_error = exc
                        self._stop.set()
                if self.log_error is not None:
                    totals["not_logged"] += 1
            self._recorded.notify_all()

    def wait_served(self, count: int, timeout: float) -> list[ServedConnection]:
        """Wait (at most ``timeout`` seconds) until ``count`` connections are recorded, for a
        :meth:`serve_forever` running in another thread; the records kept so far, in the order the
        connections were accepted. A connection is recorded once the server has closed it."""
        with self._recorded:
            self._recorded.wait_for(lambda: self.totals["connections"] >= count, timeout)
            return sorted(self.served, key=lambda record: record.index)

    def serve_one(self, sock: socket.socket, peer: str, index: int | None = None) -> ServedConnection:
        """One connection on an accepted socket, start to close; the socket is closed afterwards.

        This is the whole per-connection handling: :meth:`serve_forever` runs it in a thread per
        connection, and it may be called directly (the caller's thread then serves the connection).
        """
        record = ServedConnection(index=self._next_index() if index is None else index, peer=peer)
        return self._serve(sock, record, self._endpoint(sock, record))

    def _serve(self, sock: socket.socket, record: ServedConnection, endpoint: SocketEndpoint,
               slot: _Slot | None = None) -> ServedConnection:
        started = time.monotonic()
        endpoint.deadline = started + self.handshake_timeout
        session = None
        offers: list = []
        check = None
        if self.guard is not None:
            check = lambda body: offers.append(self.guard.check_hello(body))  # noqa: E731 - runs in the hook
        try:
            if self.starttls == "smtp":
                smtp_server_starttls(sock, record.peer, timeout=self.handshake_timeout)
                sock.settimeout(_POLL_SECONDS)  # the endpoint's short reads again
            options = dict(endpoint=endpoint, ticket_key=self.ticket_key if self.tickets else None,
                           lifetime=self.lifetime, cache=self.cache,
                           auto_tickets=self.ticket_timing == "with-finished", client_hello_check=check)
            if self.early_data:
                session = EarlyDataServerSession(self.credentials, self.priority, early_data=self.early_data,
                                                 anti_replay=self.anti_replay, **options)
            else:
                session = ServerSession(self.credentials, self.priority, **options)
            self._run(session, record, endpoint, offers)
        except GnuTLSLabError as exc:
            record.error = self._failure(exc, endpoint, session)
        finally:
            if session is not None:
                session.close()
            linger_close(sock)
        if slot is not None and slot.evicted:
            record.error = slot.evicted
        record.seconds = round(time.monotonic() - started, 4)
        self._record(record)
        return record

    def _failure(self, exc: GnuTLSLabError, endpoint: SocketEndpoint, session) -> str:
        if session is not None and not session.handshake_done and endpoint.expired:
            return f"handshake timed out after {self.handshake_timeout} s"
        return str(exc)

    def _run(self, session: ServerSession, record: ServedConnection, endpoint: SocketEndpoint, offers: list) -> None:
        try:
            while not session.handshake_step():
                if self._stop.is_set():
                    raise GnuTLSLabError("server stopping")
                if time.monotonic() > endpoint.deadline:
                    endpoint.expired = True
                    raise GnuTLSLabError(f"handshake timed out after {self.handshake_timeout} s")
        finally:
            self._describe(session, record, offers)
        endpoint.deadline = None
        if session.protocol == "TLS1.3" and self.tickets:
            if self.ticket_timing == "after-handshake":
                session.send_tickets(_AUTO_TICKETS)  # after the client's Finished, as OpenSSL does
            session.send_tickets(self.extra_tickets)
            record.tickets_sent = self._tickets_in(session)
            record.messages = [{"sender": m.sender, "type": m.name} for m in session.transcript]
        elif session.protocol != "TLS1.3" and not record.resumed:
            self._remember_issued(session.session_id())
        if self.http:
            responder = HttpResponder(session, idle_timeout=self.idle_timeout, request_timeout=self.request_timeout,
                                      close_after=self.close_after, root=self.root, endpoint=endpoint,
                                      stopping=self._stop.is_set)
            try:
                responder.run()
            finally:
                record.http_requests = responder.answered
        else:
            self._drain(session, endpoint)
        try:
            session.bye()
        except GnuTLSLabError:
            pass  # the client may already have gone; its close is not our failure

    @staticmethod
    def _tickets_in(session: ServerSession) -> int:
        return sum(1 for m in session.transcript if m.sender == "server" and m.name == "NEW SESSION TICKET")

    def _remember_issued(self, session_id: bytes) -> None:
        if session_id:
            with self._lock:
                self._issued_ids[bytes(session_id)] = None
                while len(self._issued_ids) > _ISSUED_IDS:
                    self._issued_ids.popitem(last=False)

    def _describe(self, session: ServerSession, record: ServedConnection, offers: list) -> None:
        record.protocol = session.protocol
        record.messages = [{"sender": m.sender, "type": m.name} for m in session.transcript]
        hellos = [m.body for m in session.transcript if m.sender == "client" and m.type == _CLIENT_HELLO]
        if hellos:  # after a HelloRetryRequest the second ClientHello is the one that counts
            record.identity_kind, record.identity = presented_identity(hellos[-1], record.protocol)
        if record.identity_kind == "session_id":
            with self._lock:
                record.identity_issued = record.identity in self._issued_ids
        elif record.identity_kind is not None and offers:
            record.identity_issued = record.identity in offers[-1].tickets_opened
        if isinstance(session, EarlyDataServerSession):
            record.early_data = session.early_data  # delivered as soon as the first flight was read
        if not session.handshake_done:
            return
        record.cipher_suite = session.cipher_suite
        record.resumed = session.is_resumed()
        if record.resumed and record.identity_kind == "session_id":
            record.identity_issued = True  # it resumed: this server (or its cache) knew the ID
        record.tickets_sent = self._tickets_in(session)

    def _drain(self, session: ServerSession, endpoint: SocketEndpoint) -> None:
        """Read until the client closes (EOF or close_notify), stays idle for ``idle_timeout``, or the data
        phase has lasted ``request_timeout`` in all."""
        idle_since = time.monotonic()
        endpoint.deadline = idle_since + self.request_timeout
        while not self._stop.is_set() and time.monotonic() - idle_since < self.idle_timeout:
            try:
                data = session.recv()
            except GnuTLSLabError:
                return  # a reset, a fatal alert, or the deadline: the connection ends here
            if data == b"":
                return
            if data:
                idle_since = time.monotonic()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._join_workers()  # each notices the stop within one poll
        self.credentials.close()
        if self.root is not None:
            self.root.close()

    def __enter__(self) -> LabServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        lifetime = self.lifetime if self.lifetime is not None else "default (21600)"
        return (f"<LabServer {LOOPBACK}:{self.port} {self.priority!r} tickets={'on' if self.tickets else 'off'} "
                f"lifetime={lifetime} served={self.totals['connections']}>")
