"""A lab TLS server on 127.0.0.1 that real clients (gnutls-cli, openssl s_client, browsers) resume against.

Theory of operation. :class:`LabServer` binds a TCP socket on 127.0.0.1 only (never another address:
the lab is for your own machine) and serves one connection at a time. Each accepted socket becomes a
:class:`~gnutls_lab.sessions.transport.SocketEndpoint` under a :class:`~gnutls_lab.sessions.session.ServerSession`; the
handshake is the same non-blocking ``handshake_step`` the in-process lab uses, repeated until done or
until a deadline (the socket answers "try again" after a short poll, so every loop is bounded and a
stop request is noticed within one poll). What the server keeps between connections is exactly what a
real GnuTLS server keeps: one ticket master key (``gnutls_session_ticket_enable_server``), one ticket
lifetime (``gnutls_db_set_cache_expiration``, validated 1..604800 s before libgnutls sees it) and, for
TLS 1.2, a session-ID cache (:class:`~gnutls_lab.sessions.session.SessionCache`).

After the handshake the server sends ``extra_tickets`` more TLS 1.3 tickets, then reads (and discards)
application data until the client closes or ``idle_timeout`` passes, and ends with close_notify.

Every connection yields a :class:`ServedConnection` record: full or resumed, and the identity the
client presented in its ClientHello, read from the handshake hook with the wire schema
:data:`gnutls_lab.formats.wire.ClientHello`: the TLS 1.3 PSK identity (a GnuTLS ticket), the TLS 1.2
SessionTicket, or the TLS 1.2 session ID.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import asdict, dataclass, field

from .client import linger_close
from ..sessions.credentials import CertificateCredentials, LabCertificate
from ..errors import GnuTLSLabError, UsageError
from ..formats import wire
from ..sessions.session import ServerSession, SessionCache, validate_lifetime, generate_ticket_key, resolve_priority
from ..sessions.transport import SocketEndpoint

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

    :func:`gnutls_lab.analysis.ticket_keys.load_ticket_key` reads it back (also hex or base64).
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)


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

    def log_line(self) -> str:
        if self.error:
            return f"#{self.index} {self.peer}: failed: {self.error}"
        verdict = "RESUMED" if self.resumed else "full handshake"
        offered = f"{self.identity_kind} {abbreviate(self.identity)}" if self.identity_kind else "nothing"
        return (f"#{self.index} {self.peer}: {self.protocol} {self.cipher_suite}: {verdict}; "
                f"client presented {offered}; tickets sent {self.tickets_sent}")

    def to_dict(self) -> dict:
        record = asdict(self)
        record["identity"] = self.identity.hex()
        record["identity_length"] = len(self.identity)
        return record


def presented_identity(client_hello_body: bytes, protocol: str) -> tuple[str | None, bytes]:
    """The resumption identity in a ClientHello body: (kind, value), or (None, b"")."""
    try:
        hello = wire.ClientHello.parse(client_hello_body)
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
    :class:`ServedConnection`. Use as a context manager; :meth:`close` frees the socket and credentials.
    """

    def __init__(self, port: int = 0, tls: str = "1.3", *, lifetime: int | None = None,
                 ticket_key: bytes | None = None, tickets: bool = True, extra_tickets: int = 0,
                 certificate: LabCertificate | None = None, handshake_timeout: float = 10.0,
                 idle_timeout: float = 2.0, log=None):
        if lifetime is not None:
            validate_lifetime(lifetime)
        if extra_tickets < 0:
            raise UsageError("extra tickets must be 0 or more")
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
        self.cache = SessionCache()
        self.certificate = certificate or LabCertificate()
        self.credentials = CertificateCredentials(self.certificate)
        self.served: list[ServedConnection] = []
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._listener.bind((LOOPBACK, port))
            self._listener.listen(16)
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
        """Accept and serve connections until :meth:`stop` or ``max_connections``; return the records."""
        while not self._stop.is_set():
            if max_connections is not None and len(self.served) >= max_connections:
                break
            try:
                sock, peer = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                if self._stop.is_set():
                    break
                raise
            self.serve_one(sock, f"{peer[0]}:{peer[1]}")
        return self.served

    def serve_one(self, sock: socket.socket, peer: str) -> ServedConnection:
        """One connection on an accepted socket, start to close; the socket is closed afterwards."""
        record = ServedConnection(index=len(self.served), peer=peer)
        started = time.monotonic()
        endpoint = SocketEndpoint(sock, "server", None, timeout=_POLL_SECONDS)
        try:
            with ServerSession(self.credentials, self.priority, endpoint=endpoint,
                               ticket_key=self.ticket_key if self.tickets else None,
                               lifetime=self.lifetime, cache=self.cache) as session:
                self._run(session, record)
        except GnuTLSLabError as exc:
            record.error = str(exc)
        finally:
            linger_close(sock)
        record.seconds = round(time.monotonic() - started, 4)
        self.served.append(record)
        if self.log is not None:
            self.log(record)
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
        self.credentials.close()

    def __enter__(self) -> LabServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        lifetime = self.lifetime if self.lifetime is not None else "default (21600)"
        return (f"<LabServer {LOOPBACK}:{self.port} {self.priority!r} tickets={'on' if self.tickets else 'off'} "
                f"lifetime={lifetime} served={len(self.served)}>")
