"""The lab: a server policy, its credentials and ticket key, and in-process connections to it.

Three lines to a resumed TLS 1.3 handshake with the real libgnutls::

    lab = Lab("tls1.3")
    first = lab.connect()
    again = lab.connect(resume=first.session_data)      # again.resumed is True

A :class:`Lab` holds what a server keeps between connections (certificate, ticket master key, session
cache, lifetime) and what a client keeps (its credentials). :meth:`Lab.connect` builds a fresh client
and server session over an in-memory pipe, pumps the handshake and returns a :class:`Connection` with
both sessions still open for inspection, the hook transcript and the wire tap.
"""

from __future__ import annotations

import os

from ._clock import now as clock_now
from ._credentials import AnonCredentials, CertificateCredentials, LabCertificate, PskCredentials
from ..errors import UsageError
from ._session import (
    ClientSession,
    ServerSession,
    SessionCache,
    SessionData,
    as_session_data,
    check_ticket_key,
    explain_resumption,
    validate_extra_tickets,
    validate_lifetime,
    generate_ticket_key,
    pump,
    resolve_priority,
)
from ._transport import memory_pair

__all__ = ["Lab", "Connection", "ClientFacts"]

_AUTH = ("certificate", "psk", "anon")
_PSK_SUFFIX = ":-KX-ALL:+ECDHE-PSK:+DHE-PSK:+PSK"
_ANON_SUFFIX = ":-KX-ALL:+ANON-ECDH:+ANON-DH"


class ClientFacts:
    """What a connection's client knows, shared by in-process (:class:`Connection`) and TCP
    (:class:`gnutls_lab.network._client.RemoteConnection`) connections: ``self.client`` and ``self.offered``."""

    client: ClientSession
    offered: SessionData | None

    @property
    def protocol(self) -> str:
        return self.client.protocol

    @property
    def cipher_suite(self) -> str:
        return self.client.cipher_suite

    @property
    def resumed(self) -> bool:
        """``gnutls_session_is_resumed`` on the client: the library's verdict, not whether data was offered."""
        return self.client.is_resumed()

    @property
    def offered_resumption(self) -> bool:
        """The client had real (non-dummy) session data set before the handshake."""
        return self.offered is not None and not self.offered.dummy

    @property
    def transcript(self):
        """Every handshake message, in order, as the client saw them (sent and received)."""
        return self.client.transcript

    def keylog_lines(self) -> list[str]:
        """The client's NSS key log lines (``SSLKEYLOGFILE`` format). They hold secrets.

        TLS 1.3 needs the key log recorded during the handshake (``Lab(..., keylog=True)``,
        ``lab.connect(keylog=True)`` or ``network.connect(..., keylog=True)``). TLS 1.2 gets its
        ``CLIENT_RANDOM`` line from the master secret when the key log has none: libgnutls logs nothing
        on a resumed TLS 1.2 handshake, whose master secret comes from the session data, not from a key
        exchange.
        """
        lines = self.client.keylog_lines()
        if self.protocol == "TLS1.2" and not any(line.startswith("CLIENT_RANDOM ") for line in lines):
            lines.append(f"CLIENT_RANDOM {self.client.randoms()[0].hex()} {self.client.master_secret().hex()}")
        if self.protocol == "TLS1.3" and not lines:
            raise UsageError("this TLS 1.3 connection has no key log, so its handshake could not be decrypted: "
                             "connect with keylog=True (Lab(..., keylog=True), lab.connect(keylog=True), "
                             "network.connect(..., keylog=True) or, for 0-RTT, ZeroRttLab(..., keylog=True))")
        return lines


class Connection(ClientFacts):
    """One in-process connection: both sessions (open until :meth:`close`), transcript, wire tap."""

    def __init__(self, client: ClientSession, server: ServerSession, wire: list | None, offered: SessionData | None,
                 started_at: float | None = None):
        self.client = client
        self.server = server
        self.wire = wire if wire is not None else []
        self.offered = offered
        self._tickets: list[SessionData] = []
        self._tapped = wire is not None
        #: When the handshake began (Unix seconds): the fake clock's time if one was running.
        self.started_at = clock_now() if started_at is None else started_at

    @property
    def transcript_on_wire(self):
        """Every handshake message in the order it crossed the wire: the server's view, which records each
        message it sends as it sends it and each one it reads as it reads it. It differs from
        :attr:`transcript` (the client's view) in one place: a TLS 1.3 server sends its NewSessionTickets
        with its Finished, before the client's Finished, but the client processes them only when it
        reads after the handshake (``gnutls-lab handshake`` prints this order)."""
        return self.server.transcript or self.client.transcript

    @property
    def tickets(self) -> list[SessionData]:
        """One session blob per NewSessionTicket the client has received so far, oldest first.

        Each access first reads whatever records are waiting for the client (TLS 1.3 tickets arrive
        after the handshake, e.g. after ``server.send_tickets()``), one record at a time.
        """
        if self.protocol == "TLS1.3":
            self._tickets.extend(self.client.read_tickets())
        elif not self._tickets and self.client.ticket_received:
            data = self.client.get_data()
            if not data.dummy:
                self._tickets.append(data)
        return self._tickets

    @property
    def session_data(self) -> SessionData:
        """What ``gnutls_session_get_data2`` gives the client once it has read every waiting record.

        Under TLS 1.3 that is the blob of the last ticket received (or the dummy, with its reason, when
        none came); under TLS 1.2 the packed session (ticket or session ID).
        """
        tickets = self.tickets if self.protocol == "TLS1.3" else ()
        return tickets[-1] if tickets else self.client.get_data()

    def explain(self) -> str:
        """Why this connection did or did not resume, in one sentence."""
        return explain_resumption(self.offered, self.resumed, self.protocol)

    # -- capture file ----------------------------------------------------------------------
    def capture(self):
        """The wire tap, key log and start time as a :class:`gnutls_lab.sessions._pcapng.TlsCapture`
        (plain data that outlives :meth:`close`)."""
        from ._pcapng import TlsCapture

        if not self._tapped:
            raise UsageError("this connection has no wire tap: connect with observe=True or observe='wire'")
        return TlsCapture(tuple((c.sender, bytes(c.data)) for c in self.wire), tuple(self.keylog_lines()),
                          self.started_at)

    def to_pcapng(self, path, *, keylog_path=None) -> dict:
        """Write this connection as a pcapng file that Wireshark opens and decrypts by itself (the
        secrets are embedded); ``keylog_path`` also writes the key log. Both files hold secrets
        and are created with mode 0600. See :func:`gnutls_lab.write_pcapng`."""
        from ._pcapng import write_pcapng

        return write_pcapng([self], path, keylog_path=keylog_path)

    # -- lifetime ----------------------------------------------------------------------------
    def close(self) -> None:
        self.client.close()
        self.server.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        how = "resumed" if self.resumed else "full handshake"
        return f"<Connection {self.protocol} {self.cipher_suite} {how}, {len(self.transcript)} handshake messages>"

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            f"<tr><td>{'→' if m.sender == 'client' else '←'}</td><td>{m.sender}</td>"
            f"<td>{html.escape(m.name)}</td><td style='text-align:right'>{len(m.body)}</td></tr>"
            for m in self.transcript
        )
        verdict = "<b style='color:#0072B2'>resumed</b>" if self.resumed else "<b style='color:#D55E00'>full handshake</b>"
        return (f"<div><b>{html.escape(self.protocol)}</b> {html.escape(self.cipher_suite)}: {verdict}"
                f"<br><small>{html.escape(self.explain())}</small>"
                f"<table><tr><th></th><th>sender</th><th>message</th><th>bytes</th></tr>{rows}</table></div>")


class Lab:
    """A lab server policy plus a lab client, for in-process connections.

    ``tls``: ``"1.3"``, ``"1.2"``, a preset (``tls1.3``) or a raw priority string. ``auth``:
    ``certificate`` (a fresh ECDSA P-256 lab certificate; ``certificate="rsa"`` for RSA), ``psk`` or
    ``anon`` (TLS 1.2 only). Server policy: ``tickets`` (on/off), ``lifetime`` (seconds, 1..604800;
    None keeps libgnutls's 21600), ``extra_tickets`` (sent with ``gnutls_session_ticket_send`` after each
    TLS 1.3 handshake; 0 to ``MAX_EXTRA_TICKETS``, 31), ``auto_tickets`` (False: ``GNUTLS_NO_AUTO_SEND_TICKET``), ``session_cache``
    (TLS 1.2 session-ID cache; default: on when tickets are off, as with gnutls-serv), ``ticket_key`` (64 bytes; default: a fresh one).
    Client: ``client_tickets`` (False: ``GNUTLS_NO_TICKETS``), ``server_name`` (SNI), ``compat_mode``
    (False: ``%DISABLE_TLS13_COMPAT_MODE`` in the client's priority, so its TLS 1.3 ClientHello carries
    an empty ``legacy_session_id``).
    ``keylog``: record each connection's secrets, for :meth:`Connection.to_pcapng` (slower).
    ``certificate_request``: the server asks the client for a certificate (as ``gnutls-serv`` does);
    the lab client has none and connects anyway, but the server's TLS 1.3 tickets then wait for the
    client's Finished instead of leaving with the server's first flight.
    """

    def __init__(self, tls: str = "1.3", auth: str = "certificate", *, tickets: bool = True,
                 lifetime: int | None = None, extra_tickets: int = 0, auto_tickets: bool = True,
                 session_cache: bool | None = None, ticket_key: bytes | None = None,
                 certificate: str = "ecdsa", client_tickets: bool = True,
                 server_name: str | None = "gnutls-lab.test", observe: bool | str = True,
                 psk_username: str = "lab-user", psk_key: bytes | None = None, compat_mode: bool = True,
                 keylog: bool = False, certificate_request: bool = False):
        if auth not in _AUTH:
            raise UsageError(f"unknown auth {auth!r}: use one of {', '.join(_AUTH)}")
        self.priority = resolve_priority(str(tls))
        if auth == "psk":
            self.priority += _PSK_SUFFIX
        elif auth == "anon":
            if "VERS-TLS1.3" in self.priority and "VERS-TLS1.2" not in self.priority:
                raise UsageError("anonymous authentication exists only up to TLS 1.2 in GnuTLS; use tls='1.2'")
            self.priority += _ANON_SUFFIX
        if lifetime is not None:
            validate_lifetime(lifetime)
        validate_extra_tickets(extra_tickets)  # 0..MAX_EXTRA_TICKETS (31): libgnutls fails at 32
        self.auth = auth
        self.tickets = tickets
        self.lifetime = lifetime
        self.extra_tickets = extra_tickets
        self.auto_tickets = auto_tickets
        self.client_tickets = client_tickets
        self.compat_mode = compat_mode
        #: the client's priority: the server's, plus the client-only switch of compat_mode
        self.client_priority = self.priority + ("" if compat_mode else ":%DISABLE_TLS13_COMPAT_MODE")
        self.server_name = server_name
        self.observe = observe
        self.keylog = keylog
        self.certificate_request = certificate_request
        if session_cache is None:  # like gnutls-serv: without tickets, TLS 1.2 resumes by session ID
            session_cache = not tickets
        self.cache = SessionCache() if session_cache else None
        self.ticket_key = check_ticket_key(ticket_key) if ticket_key is not None else generate_ticket_key()
        self.certificate = None
        if auth == "certificate":
            self.certificate = LabCertificate(certificate)
            self.server_credentials = CertificateCredentials(self.certificate)
            self.client_credentials = CertificateCredentials()
        elif auth == "psk":
            key = psk_key if psk_key is not None else os.urandom(32)
            self.server_credentials = PskCredentials("server", psk_username, key)
            self.client_credentials = PskCredentials("client", psk_username, key)
        else:
            self.server_credentials = AnonCredentials("server")
            self.client_credentials = AnonCredentials("client")
        self.connections = 0
        self.closed = False

    def close(self) -> None:
        """Free the credentials (at once, or when the last open connection using them is closed)."""
        self.closed = True
        self.server_credentials.close()
        self.client_credentials.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def rotate_ticket_key(self) -> bytes:
        """Replace the ticket master key (every ticket issued so far stops working); return the new one."""
        self.ticket_key = generate_ticket_key()
        return self.ticket_key

    def connect(self, resume=None, *, observe: bool | str | None = None, keylog: bool | None = None) -> Connection:
        """A full in-process handshake, or a resumption attempt with ``resume`` (bytes or SessionData;
        anything else is a :class:`UsageError`).

        ``observe``: True records the hook transcript and the wire tap, ``"wire"`` only the tap (what a
        passive observer needs), ``"transcript"`` only the hook, False neither (fastest).
        ``keylog``: record the secrets (needed to decrypt TLS 1.3 in Wireshark); None: the Lab's.
        """
        if self.closed:
            raise UsageError("this Lab is closed; make a new one")
        observe = self.observe if observe is None else observe
        keylog = self.keylog if keylog is None else keylog
        started_at = clock_now()
        if observe not in (True, False, "wire", "transcript"):
            raise UsageError(f"observe must be True, False, 'wire' or 'transcript', not {observe!r}")
        offered = as_session_data(resume) if resume is not None else None  # before any allocation
        tap = observe is True or observe == "wire"
        hook = observe is True or observe == "transcript"
        wire: list | None = [] if tap else None
        client_end, server_end = memory_pair(wire)
        server = ServerSession(
            self.server_credentials, self.priority, endpoint=server_end,
            ticket_key=self.ticket_key if self.tickets else None, lifetime=self.lifetime,
            cache=self.cache, auto_tickets=self.auto_tickets, observe=hook, keylog=keylog,
            certificate_request=self.certificate_request,
        )
        try:
            client = ClientSession(
                self.client_credentials, self.client_priority, endpoint=client_end,
                no_tickets=not self.client_tickets, server_name=self.server_name, observe=hook, keylog=keylog,
            )
        except BaseException:
            server.close()
            raise
        try:
            if offered is not None:
                client.set_data(offered)
            pump(client, server)
            if self.extra_tickets and server.protocol == "TLS1.3":
                server.send_tickets(self.extra_tickets)
        except BaseException:
            client.close()
            server.close()
            raise
        self.connections += 1
        return Connection(client, server, wire, offered, started_at)

    def __repr__(self) -> str:
        policy = [f"auth={self.auth}", f"tickets={'on' if self.tickets else 'off'}",
                  f"lifetime={self.lifetime if self.lifetime is not None else 'default (21600)'}"]
        if self.extra_tickets:
            policy.append(f"extra_tickets={self.extra_tickets}")
        if self.cache is not None:
            policy.append(f"session_cache={len(self.cache)}")
        return f"<Lab {self.priority!r} {' '.join(policy)}>"
