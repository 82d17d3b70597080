"""A lab TLS client over TCP: connect to a real server (gnutls-serv, openssl s_server, a lab server), resume.

Theory of operation. :func:`connect` opens a TCP socket, puts a
:class:`~gnutls_lab.sessions._session.ClientSession` on a :class:`~gnutls_lab.sessions._transport.SocketEndpoint` (blocking
reads with a short timeout, every byte recorded in a wire tap, up to ``tap_limit`` bytes: a
:class:`~gnutls_lab.sessions._transport.WireTap` that says when it was capped) and repeats the non-blocking
``handshake_step`` until done or until a deadline. The result, :class:`RemoteConnection`, answers the
same questions as the in-process :class:`~gnutls_lab.sessions._lab.Connection` (protocol, resumed, transcript,
wire, session data), so the CLI prints both the same way.

Session data over TCP. Under TLS 1.3 the tickets arrive after the handshake. ``gnutls_session_get_data2``
copes on its own: with no ticket yet it waits ``ertt + 60`` ms through the pull-timeout callback (a
``select`` on the socket here) and reads one record. :attr:`RemoteConnection.session_data` first reads
whatever else arrives within ``ticket_wait`` seconds, so that it holds the *last* ticket (a server may
send several), then calls ``get_data2``.

Only loopback hosts are accepted unless ``allow_remote=True``: the lab is for your own machine and
servers you control.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass

from ..sessions import CertificateCredentials
from ..errors import GnuTLSLabError, UsageError
from ..sessions import ClientFacts
from ..sessions import ClientSession, EarlyDataClientSession, SessionData, as_session_data, explain_resumption, \
    resolve_priority
from ..sessions import MAX_TAP_BYTES, SocketEndpoint, TlsCapture, WireTap
from ._starttls import starttls_client

__all__ = [
    "RemoteConnection",
    "ConnectionSummary",
    "connect",
    "connect_and_resume",
    "parse_address",
    "check_host",
    "linger_close",
]

_POLL_SECONDS = 0.2
_QUIET_SECONDS = 0.05  # a socket quiet this long after a ticket has sent all its tickets


def linger_close(sock: socket.socket, seconds: float = 0.5) -> None:
    """Half-close, read what the peer still sends until it closes (at most ``seconds``), then close.

    Closing a socket with unread bytes in it (a TLS 1.3 ticket nobody asked for) makes the kernel send
    a reset, and the peer may lose the last records we sent (our Finished, our close_notify).
    """
    if sock.fileno() == -1:
        return
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(seconds)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and sock.recv(65536):
            pass
    except OSError:
        pass
    finally:
        sock.close()


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) → (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"{text!r} is not HOST:PORT (e.g. 127.0.0.1:4433)")
    return host.strip("[]"), int(port)


# The names that mean this machine without asking any resolver (hosts-file semantics, fixed here so a
# rebinding DNS server has nothing to answer): "localhost" is 127.0.0.1, as in Debian's /etc/hosts.
_LOOPBACK_NAMES = {"localhost": "127.0.0.1", "localhost.": "127.0.0.1", "ip6-localhost": "::1",
                   "ip6-loopback": "::1"}


def check_host(host: str, allow_remote: bool = False) -> str:
    """The one address to connect to for ``host``, checked; resolve once, connect to what was checked.

    Without ``allow_remote`` only this machine is accepted, and no resolver is asked: a literal loopback
    address (127.0.0.0/8, ::1) or ``localhost``. Any other name is refused as it is, so a DNS answer
    cannot change between the check and the connection (DNS rebinding). With ``allow_remote`` the name
    is resolved once and the first address returned is the one :func:`connect` uses.
    """
    name = host.strip().lower()
    literal = _literal_address(name)
    if literal is None:
        literal = _LOOPBACK_NAMES.get(name)
    if literal is not None:
        if allow_remote or ipaddress.ip_address(literal).is_loopback:
            return literal
        raise UsageError(f"{host} is not a loopback address: the lab connects to your own machine only; "
                         "pass --allow-remote (allow_remote=True) for a server you control")
    if not allow_remote:
        raise UsageError(f"{host!r} is a name other than localhost: without --allow-remote the lab connects only "
                         "to this machine (127.0.0.1, ::1 or localhost) and does not look names up")
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise UsageError(f"cannot resolve {host!r}: {exc.strerror}") from None
    if not infos:
        raise UsageError(f"cannot resolve {host!r}: no address")
    return infos[0][4][0]


def _literal_address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.split("%")[0]))
    except ValueError:
        return None


def _connect_to(address: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection to the literal ``address`` checked by :func:`check_host` (no second look-up)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((address, port))
    except BaseException:
        sock.close()
        raise
    return sock


class RemoteConnection(ClientFacts):
    """One TCP connection made by the lab client; the client session stays open until :meth:`close`.

    Protocol, cipher suite, ``resumed``, ``offered_resumption`` and the transcript come from
    :class:`~gnutls_lab.sessions._lab.ClientFacts`; after :meth:`close` reading them is a ``UsageError``."""

    def __init__(self, client: ClientSession, sock: socket.socket, wire: list, offered: SessionData | None,
                 address: tuple[str, int], ticket_wait: float, owned_credentials=None, started_at: float | None = None,
                 starttls_sent: tuple = ()):
        self.client = client
        self._owned_credentials = owned_credentials
        self.sock = sock
        self.wire = wire
        self.offered = offered
        self.address = address
        self.ticket_wait = ticket_wait
        self._session_data: SessionData | None = None
        #: When the TCP connection was opened (Unix seconds).
        self.started_at = time.time() if started_at is None else started_at
        #: The plaintext commands sent before TLS (``starttls="smtp"``: EHLO, STARTTLS).
        self.starttls_sent = tuple(starttls_sent)

    @property
    def early_data_accepted(self) -> bool:
        """The server accepted the early data sent with ``connect(..., early_data=...)``."""
        return isinstance(self.client, EarlyDataClientSession) and self.client.early_data_accepted

    def capture(self):
        """The wire tap, key log and start time as a :class:`gnutls_lab.sessions.TlsCapture`
        (connect with ``keylog=True`` for TLS 1.3). Only the TLS bytes: a STARTTLS preamble is not in it."""
        return TlsCapture(tuple((c.sender, bytes(c.data)) for c in self.wire), tuple(self.keylog_lines()),
                          self.started_at)

    @property
    def wire_capped(self) -> bool:
        """The wire tap reached its limit: :attr:`wire` holds the start of the connection, not all of it."""
        return bool(getattr(self.wire, "capped", False))

    @property
    def wire_dropped_bytes(self) -> int:
        """Bytes seen on the wire but not kept in :attr:`wire` (0 unless :attr:`wire_capped`)."""
        return int(getattr(self.wire, "dropped_bytes", 0))

    @property
    def session_data(self) -> SessionData:
        """``gnutls_session_get_data2`` after reading what the server sent within ``ticket_wait`` s."""
        if self._session_data is None:
            if self.protocol == "TLS1.3":
                self._read_pending(self.ticket_wait)
            self._session_data = self.client.get_data()
        return self._session_data

    def _read_pending(self, seconds: float) -> None:
        """Process records (TLS 1.3 NewSessionTickets) arriving within ``seconds``.

        Stops early once a ticket has arrived and the socket has been quiet for one short poll, at a
        close, or at a reset (what arrived before still counts).
        """
        deadline = time.monotonic() + seconds
        self.sock.settimeout(_QUIET_SECONDS)
        try:
            while time.monotonic() < deadline:
                chunks_before = self._chunks_seen()
                data = self.client.recv()
                if data == b"":
                    return
                quiet = self._chunks_seen() == chunks_before  # nothing arrived during a whole poll
                if quiet and self.client.ticket_received:
                    return
        except GnuTLSLabError:
            return
        finally:
            self.sock.settimeout(_POLL_SECONDS)

    def _chunks_seen(self) -> int:
        """Chunks read from the socket so far, kept in the tap or not (a capped tap stops growing)."""
        return len(self.wire) + getattr(self.wire, "dropped_chunks", 0)

    def explain(self) -> str:
        """Why this connection did or did not resume, in one sentence."""
        return explain_resumption(self.offered, self.resumed, self.protocol, f"{self.address[0]}:{self.address[1]}")

    def close(self) -> None:
        """Send close_notify (best effort), then free the session and the socket."""
        try:
            if self.client.handshake_done and not self.client.closed:
                self.client.bye()
        except (GnuTLSLabError, OSError):
            pass
        self.client.close()
        linger_close(self.sock)
        if self._owned_credentials is not None:
            self._owned_credentials.close()

    def summary(self) -> ConnectionSummary:
        """The facts of this connection as plain values, still readable after :meth:`close`."""
        return ConnectionSummary(
            protocol=self.protocol, cipher_suite=self.cipher_suite, resumed=self.resumed,
            offered_resumption=self.offered_resumption, session_data=self.session_data,
            transcript=list(self.transcript), wire=list(self.wire), offered=self.offered,
            explanation=self.explain(), wire_capped=self.wire_capped, wire_dropped_bytes=self.wire_dropped_bytes)

    def __enter__(self) -> RemoteConnection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        how = "resumed" if self.resumed else "full handshake"
        return f"<RemoteConnection {self.address[0]}:{self.address[1]} {self.protocol} {how}>"


def connect(host: str, port: int, tls: str = "1.3", *, resume=None, credentials=None,
            server_name: str | None = None, timeout: float = 10.0, ticket_wait: float = 1.0,
            allow_remote: bool = False, observe: bool = True, tap_limit: int | None = MAX_TAP_BYTES,
            keylog: bool = False, no_tickets: bool = False, early_data: bytes | None = None,
            starttls: str | None = None) -> RemoteConnection:
    """A TLS handshake with a real server over TCP; ``resume``: session data (bytes or SessionData).

    The client does not verify the server's certificate (it is a lab). ``credentials``: a client
    :class:`~gnutls_lab.sessions.CertificateCredentials` to share across connections (default: a new
    one, freed with the connection). ``tls``: ``"1.3"``, ``"1.2"`` or a GnuTLS priority string.
    ``tap_limit``: the most bytes the wire tap keeps (default 1 MiB; None keeps everything, for a server
    you know stops talking); :attr:`RemoteConnection.wire_capped` says when it was reached.
    ``keylog``: record the key log (for :meth:`RemoteConnection.capture`). ``no_tickets``: a client that
    neither offers nor asks for tickets (``GNUTLS_NO_TICKETS``: TLS 1.2 resumes by session ID only).
    ``early_data``: bytes sent as TLS 1.3 0-RTT data with ``resume`` (the session data's ticket must
    allow it). ``starttls``: ``"smtp"`` runs the SMTP STARTTLS exchange (RFC 3207) before the handshake.
    """
    offered = as_session_data(resume) if resume is not None else None
    if early_data is not None and offered is None:
        raise UsageError("early data needs session data to resume from (resume=...)")
    address = check_host(host, allow_remote)
    owned = credentials is None
    credentials = credentials or CertificateCredentials()
    started_at = time.time()
    try:
        sock = _connect_to(address, port, timeout)
    except OSError as exc:
        if owned:
            credentials.close()
        raise UsageError(f"cannot connect to {host}:{port}: {exc.strerror or exc}") from None
    try:
        sent = starttls_client(starttls, sock, f"{host}:{port}", timeout)
    except BaseException:
        sock.close()
        if owned:
            credentials.close()
        raise
    wire: list = [] if tap_limit is None else WireTap(tap_limit)
    endpoint = SocketEndpoint(sock, "client", wire, timeout=_POLL_SECONDS)
    session_class = ClientSession if early_data is None else EarlyDataClientSession
    try:
        client = session_class(credentials, resolve_priority(str(tls)), endpoint=endpoint, server_name=server_name,
                               observe=observe, keylog=keylog, no_tickets=no_tickets)
    except BaseException:
        sock.close()
        if owned:
            credentials.close()
        raise
    try:
        if offered is not None:
            client.set_data(offered)
        if early_data is not None:
            client.send_early_data(early_data)
        deadline = time.monotonic() + timeout
        while not client.handshake_step():
            if time.monotonic() > deadline:
                raise GnuTLSLabError(f"handshake with {host}:{port} timed out after {timeout} s")
    except BaseException:
        client.close()
        sock.close()
        if owned:
            credentials.close()
        raise
    return RemoteConnection(client, sock, wire, offered, (host, port), ticket_wait,
                            owned_credentials=credentials if owned else None, started_at=started_at,
                            starttls_sent=sent)


def connect_and_resume(host: str, port: int, tls: str = "1.3", *, resume: int = 1, fresh_ticket: bool = False,
                       **options) -> list[ConnectionSummary]:
    """A full handshake, then ``resume`` resumption attempts, each on a new TCP connection.

    Each attempt offers the first connection's session data, or with ``fresh_ticket`` the newest
    (TLS 1.3 servers send new tickets on resumed connections too). Every connection is closed before
    the next one starts; the summaries keep their facts and session data.
    """
    if resume < 0:
        raise UsageError("the number of resumptions must be 0 or more")
    credentials = CertificateCredentials()
    summaries: list[ConnectionSummary] = []
    try:
        data = None
        for _ in range(resume + 1):
            with connect(host, port, tls, resume=data, credentials=credentials, **options) as conn:
                summary = conn.summary()
            summaries.append(summary)
            if data is None or (fresh_ticket and not summary.session_data.dummy):
                data = summary.session_data
    finally:
        credentials.close()
    return summaries


@dataclass(frozen=True)
class ConnectionSummary:
    """A closed :class:`RemoteConnection`'s facts (what ``cli.core.connection_record`` reads)."""

    protocol: str
    cipher_suite: str
    resumed: bool
    offered_resumption: bool
    session_data: SessionData
    transcript: list
    wire: list
    offered: SessionData | None
    explanation: str
    wire_capped: bool = False  # the wire tap reached its limit; ``wire`` is the start of the connection
    wire_dropped_bytes: int = 0

    def explain(self) -> str:
        return self.explanation
