"""A lab TLS server on 127.0.0.1 that real clients (gnutls-cli, openssl s_client, browsers) resume against.

Theory of operation. :class:`LabServer` binds a TCP socket on 127.0.0.1 only (never another address:
the lab is for your own machine) and serves connections concurrently, each in its own thread (one session
per thread, as libgnutls allows), at most ``max_clients`` at a time. Each accepted socket becomes a
:class:`~gnutls_lab.sessions._transport.SocketEndpoint` under a :class:`~gnutls_lab.sessions._session.ServerSession`; the
handshake is the same non-blocking ``handshake_step`` the in-process lab uses, repeated until done or
until a deadline (the socket answers "try again" after a short poll, so every loop is bounded and a
stop request is noticed within one poll). A handshake has ``handshake_timeout`` seconds and an idle
connection ``idle_timeout``, so a slow or silent client holds one thread for a bounded time and never
delays anyone else. What the server keeps between connections is exactly what a
real GnuTLS server keeps: one ticket master key (``gnutls_session_ticket_enable_server``), one ticket
lifetime (``gnutls_db_set_cache_expiration``, validated 1..604800 s before libgnutls sees it) and, for
TLS 1.2, a session-ID cache (:class:`~gnutls_lab.sessions._session.SessionCache`).

After the handshake the server sends ``extra_tickets`` more TLS 1.3 tickets, then reads (and discards)
application data until the client closes or ``idle_timeout`` passes, and ends with close_notify.

Every connection yields a :class:`ServedConnection` record: full or resumed, and the identity the
client presented in its ClientHello, read from the handshake hook with the wire schema
:data:`gnutls_lab.formats._wire.ClientHello`: the TLS 1.3 PSK identity (a GnuTLS ticket), the TLS 1.2
SessionTicket, or the TLS 1.2 session ID.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import asdict, dataclass, field

from ._client import linger_close
from ._http import serve_http
from ..analysis import identity_id
from ..sessions import CertificateCredentials, LabCertificate
from ..errors import GnuTLSLabError, UsageError
from ..formats import ClientHello
from ..sessions import ServerSession, SessionCache, validate_lifetime, generate_ticket_key, resolve_priority
from ..sessions import write_private_file
from ..sessions import SocketEndpoint

__all__ = ["LabServer", "ServedConnection", "save_ticket_key", "abbreviate", "presented_identity"]

LOOPBACK = "127.0.0.1"
_CLIENT_HELLO = 1
_POLL_SECONDS = 0.2  # how long one socket read waits before the loops look at the stop flag


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
    if len(key) != 64:
        raise UsageError(f"a GnuTLS ticket master key is 64 bytes, not {len(key)}")
    write_private_file(path, key)


@dataclass
class ServedConnection:
    """What the server saw of one connection. ``identity`` is the full value; logs abbreviate it.

    ``identity_kind``: ``psk_identity`` (TLS 1.3 ticket), ``session_ticket`` (TLS 1.2),
    ``session_id`` (TLS 1.2) or None (nothing offered). ``error`` is set when the connection failed.
    """

    index: int
    peer: str
    protocol: str = ""
    cipher_suite: str = ""
    resumed: bool = False
    identity_kind: str | None = None
    identity: bytes = b""
    tickets_sent: int = 0
    error: str = ""
    seconds: float = 0.0
    messages: list = field(default_factory=list)
    wire: list = field(default_factory=list, repr=False)  # WireChunks, with LabServer(record_wire=True)
    http_requests: int = 0  # requests answered, with LabServer(http=True)

    def log_line(self) -> str:
        if self.error:
            return f"#{self.index} {self.peer}: failed: {self.error}"
        verdict = "RESUMED" if self.resumed else "full handshake"
        offered = f"{self.identity_kind} {abbreviate(self.identity)}" if self.identity_kind else "nothing"
        return (f"#{self.index} {self.peer}: {self.protocol} {self.cipher_suite}: {verdict}; "
                f"client presented {offered}; tickets sent {self.tickets_sent}")

    def log_entry(self) -> dict:
        """The line ``gnutls-lab serve --log`` writes: resumed or not, and what the client presented, named
        by a short hash as the spy names it (:func:`gnutls_lab.analysis._spy.identity_id`), never shown; the
        client's address and port, by which the spy's report is paired with it."""
        address, _, port = self.peer.rpartition(":")
        return {"connection": self.index, "peer": self.peer, "client_address": address,
                "client_port": int(port) if port.isdigit() else None,
                "protocol": self.protocol, "resumed": self.resumed,
                "error": self.error, "presented": self.identity_kind,
                "ticket_id": identity_id(self.identity_kind, self.identity), "tickets_sent": self.tickets_sent,
                "http_requests": self.http_requests}

    def to_dict(self) -> dict:
        record = asdict(self)
        record.pop("wire", None)  # raw bytes; observe them with gnutls_lab.analysis._observer
        record["identity"] = self.identity.hex()
        record["identity_length"] = len(self.identity)
        return record


def presented_identity(client_hello_body: bytes, protocol: str) -> tuple[str | None, bytes]:
    """The resumption identity in a ClientHello body: (kind, value), or (None, b"")."""
    try:
        hello = ClientHello.parse(client_hello_body)
    except Exception:  # noqa: BLE001 - a hello the schema cannot read offers nothing we can name
        return None, b""
    extensions = {str(ext.type): ext.data for ext in (hello.extensions or [])}
    psk = extensions.get("pre_shared_key")
    if psk is not None and protocol == "TLS1.3" and psk.identities:
        return "psk_identity", bytes(psk.identities[0].identity)
    ticket = extensions.get("session_ticket")
    if ticket:
        return "session_ticket", bytes(ticket)
    if protocol != "TLS1.3" and hello.session_id:
        # Under TLS 1.3 the legacy_session_id is random middlebox padding, not an identity.
        return "session_id", bytes(hello.session_id)
    return None, b""


class LabServer:
    """A TLS server on 127.0.0.1:``port`` (0 = any free port) with one resumption policy.

    ``tls``: ``"1.3"``/``"1.2"`` or a priority string. ``ticket_key``: 64 bytes (default: fresh);
    ``tickets=False`` turns tickets off (TLS 1.2 then resumes by session ID only).
    ``lifetime``: seconds, 1..604800 (None: libgnutls's 21600). ``extra_tickets``: TLS 1.3 tickets
    sent after each handshake on top of the 2 libgnutls sends. ``log``: called with each
    :class:`ServedConnection`. ``record_wire``: keep every byte of each connection in its record's
    ``wire`` (what a passive observer sees). ``handshake_timeout`` and ``idle_timeout``: seconds a
    handshake may take and a connection may stay silent. ``max_clients``: connections served at once
    (one thread each); one beyond that is closed at once and logged as refused. ``http``: answer each
    request with a small HTTP/1.1 response (:mod:`gnutls_lab.network._http`) so HTTP clients finish. ``log`` is called from
    one thread at a time. Use as a context manager; :meth:`close` stops, waits for the connections in
    progress and frees the socket and credentials.
    """

    def __init__(self, port: int = 0, tls: str = "1.3", *, lifetime: int | None = None,
                 ticket_key: bytes | None = None, tickets: bool = True, extra_tickets: int = 0,
                 certificate: LabCertificate | None = None, handshake_timeout: float = 5.0,
                 idle_timeout: float = 2.0, log=None, record_wire: bool = False, max_clients: int = 128,
                 http: bool = False):
        if lifetime is not None:
            validate_lifetime(lifetime)
        if extra_tickets < 0:
            raise UsageError("extra tickets must be 0 or more")
        for name, seconds in (("handshake_timeout", handshake_timeout), ("idle_timeout", idle_timeout)):
            if not isinstance(seconds, (int, float)) or not 0 < seconds <= 3600:
                raise UsageError(f"{name} must be more than 0 and at most 3600 seconds, not {seconds!r}")
        if isinstance(max_clients, bool) or not isinstance(max_clients, int) or not 1 <= max_clients <= 512:
            raise UsageError(f"max_clients must be a whole number from 1 to 512, not {max_clients!r}")
        if not 0 <= port <= 65535:
            raise UsageError(f"port {port} is not a TCP port (0-65535; 0 picks a free one)")
        self.priority = resolve_priority(str(tls))
        self.lifetime = lifetime
        self.tickets = tickets
        self.ticket_key = ticket_key if ticket_key is not None else generate_ticket_key()
        if len(self.ticket_key) != 64:
            raise UsageError(f"a GnuTLS ticket master key is 64 bytes, not {len(self.ticket_key)}")
        self.extra_tickets = extra_tickets
        self.handshake_timeout = handshake_timeout
        self.idle_timeout = idle_timeout
        self.log = log
        self.record_wire = record_wire
        self.http = http  # answer HTTP/1.1 requests (gnutls_lab.network._http) instead of discarding data
        self.cache = SessionCache()
        self.certificate = certificate or LabCertificate()
        self.credentials = CertificateCredentials(self.certificate)
        self.max_clients = max_clients
        self.served: list[ServedConnection] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()  # served, the connection counter, log calls
        self._recorded = threading.Condition(self._lock)  # notified each time a record joins served
        self._workers: set[threading.Thread] = set()
        self._accepted = 0
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._listener.bind((LOOPBACK, port))
            self._listener.listen(socket.SOMAXCONN)
        except OSError as exc:
            self._listener.close()
            self.credentials.close()
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

    def serve_forever(self, max_connections: int | None = None) -> list[ServedConnection]:
        """Accept connections until :meth:`stop` or ``max_connections``, serve each in its own thread,
        wait for those in progress; return the records (in the order the connections ended)."""
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

    def _dispatch(self, sock: socket.socket, peer: str) -> None:
        """Serve ``sock`` in a new thread, or refuse it at once when ``max_clients`` are being served."""
        self._workers = {worker for worker in self._workers if worker.is_alive()}
        index = self._next_index()
        if len(self._workers) >= self.max_clients:
            sock.close()
            self._record(ServedConnection(index=index, peer=peer,
                                          error=f"refused: {self.max_clients} connections already in progress"))
            return
        worker = threading.Thread(target=self.serve_one, args=(sock, peer, index), daemon=True,
                                  name=f"lab-server-{index}")
        self._workers.add(worker)
        worker.start()

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
            if self.log is not None:
                self.log(record)
            self._recorded.notify_all()

    def wait_served(self, count: int, timeout: float) -> list[ServedConnection]:
        """Wait (at most ``timeout`` seconds) until ``count`` connections are recorded, for a
        :meth:`serve_forever` running in another thread; the records so far, in the order the
        connections were accepted. A connection is recorded once the server has closed it."""
        with self._recorded:
            self._recorded.wait_for(lambda: len(self.served) >= count, timeout)
            return sorted(self.served, key=lambda record: record.index)

    def serve_one(self, sock: socket.socket, peer: str, index: int | None = None) -> ServedConnection:
        """One connection on an accepted socket, start to close; the socket is closed afterwards.

        This is the whole per-connection handling: :meth:`serve_forever` runs it in a thread per
        connection, and it may be called directly (the caller's thread then serves the connection).
        """
        record = ServedConnection(index=self._next_index() if index is None else index, peer=peer)
        started = time.monotonic()
        endpoint = SocketEndpoint(sock, "server", record.wire if self.record_wire else None, timeout=_POLL_SECONDS)
        session = None
        try:
            session = ServerSession(self.credentials, self.priority, endpoint=endpoint,
                                    ticket_key=self.ticket_key if self.tickets else None,
                                    lifetime=self.lifetime, cache=self.cache)
            self._run(session, record)
        except GnuTLSLabError as exc:
            record.error = str(exc)
        finally:
            if session is not None:
                session.close()
            linger_close(sock)
        record.seconds = round(time.monotonic() - started, 4)
        self._record(record)
        return record

    def _run(self, session: ServerSession, record: ServedConnection) -> None:
        deadline = time.monotonic() + self.handshake_timeout
        try:
            while not session.handshake_step():
                if self._stop.is_set():
                    raise GnuTLSLabError("server stopping")
                if time.monotonic() > deadline:
                    raise GnuTLSLabError(f"handshake timed out after {self.handshake_timeout} s")
        finally:
            self._describe(session, record)
        if session.protocol == "TLS1.3" and self.tickets and self.extra_tickets:
            session.send_tickets(self.extra_tickets)
            record.tickets_sent += self.extra_tickets
            record.messages = [{"sender": m.sender, "type": m.name} for m in session.transcript]
        if self.http:
            record.http_requests = serve_http(session, idle_timeout=self.idle_timeout, stopping=self._stop.is_set)
        else:
            self._drain(session)
        try:
            session.bye()
        except GnuTLSLabError:
            pass  # the client may already have gone; its close is not our failure

    def _describe(self, session: ServerSession, record: ServedConnection) -> None:
        record.protocol = session.protocol
        record.messages = [{"sender": m.sender, "type": m.name} for m in session.transcript]
        hellos = [m.body for m in session.transcript if m.sender == "client" and m.type == _CLIENT_HELLO]
        if hellos:  # after a HelloRetryRequest the second ClientHello is the one that counts
            record.identity_kind, record.identity = presented_identity(hellos[-1], record.protocol)
        if not session.handshake_done:
            return
        record.cipher_suite = session.cipher_suite
        record.resumed = session.is_resumed()
        record.tickets_sent = sum(1 for m in session.transcript
                                  if m.sender == "server" and m.name == "NEW SESSION TICKET")

    def _drain(self, session: ServerSession) -> None:
        """Read until the client closes (EOF or close_notify) or stays idle for ``idle_timeout``."""
        idle_since = time.monotonic()
        while not self._stop.is_set() and time.monotonic() - idle_since < self.idle_timeout:
            try:
                data = session.recv()
            except GnuTLSLabError:
                return  # a reset or a fatal alert: the client is gone
            if data == b"":
                return
            if data:
                idle_since = time.monotonic()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._join_workers()  # each notices the stop within one poll
        self.credentials.close()

    def __enter__(self) -> LabServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        lifetime = self.lifetime if self.lifetime is not None else "default (21600)"
        return (f"<LabServer {LOOPBACK}:{self.port} {self.priority!r} tickets={'on' if self.tickets else 'off'} "
                f"lifetime={lifetime} served={len(self.served)}>")
