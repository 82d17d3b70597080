"""What a passive observer learns from the wire: of one connection, and by linking many.

Theory of operation
-------------------
The observer sits on the wire between a client and a server and sees only bytes. Per connection,
:func:`observe_connection` cuts each direction into TLS records, reassembles the handshake stream of
each direction from the records still in clear, and reads the few fields that matter for resumption
and tracking: session IDs, the SNI, the TLS 1.2 ``session_ticket`` extension and NewSessionTicket,
the TLS 1.3 ``pre_shared_key`` identities and their obfuscated ages. What is encrypted it can only
count and measure.

Each observed connection also lists the values that could link it to another visit
(:meth:`ObservedConnection.linking_values`); :mod:`gnutls_lab.analysis._linkage` links visits with them and
computes the correlation metrics.

The byte formats are declared in :mod:`gnutls_lab.formats._wire`, the source of truth. Parsing a
ClientHello and a ServerHello with construct takes about 0.5 ms, as long as the handshake itself, so
the observer uses the readers beside the schemas in that module (``read_client_hello``,
``split_records``...: the same fields by slicing, 20-30 µs for a whole connection;
``benchmarks/bench_observer.py``); this module reads no bytes itself. tests/test_observer.py checks on real captures that
both readings agree field by field; :meth:`ObservedConnection.schema_view` gives the full construct
parse for teaching.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from typing import Any, Iterable, NamedTuple

from ..errors import UsageError
from ..formats import (
    ClientHello,
    NewSessionTicketTLS12,
    ServerHello,
    record_header,
    split_handshake,
    MAX_RECORD_LENGTH,
    ClientHelloSeen,
    NewSessionTicketSeen,
    PskIdentitySeen,
    RecordSeen,
    ServerHelloSeen,
    malformed,
    read_client_hello,
    read_new_session_ticket,
    read_server_hello,
)

__all__ = [
    "RecordSeen",
    "PskIdentitySeen",
    "ClientHelloSeen",
    "ServerHelloSeen",
    "NewSessionTicketSeen",
    "ObservedConnection",
    "observe_connection",
    "chunk_pairs",
]

TLS1_2, TLS1_3 = 0x0303, 0x0304
_CCS, _ALERT, _HANDSHAKE, _APP_DATA = 20, 21, 22, 23
_CLIENT_HELLO, _SERVER_HELLO, _NEW_SESSION_TICKET = 1, 2, 4
_CERTIFICATE, _SERVER_HELLO_DONE = 11, 14
_new_tuple = tuple.__new__
_SENDERS = ("client", "server")


# --- what one connection shows ----------------------------------------------------------------


class ObservedConnection(NamedTuple):
    """Everything a passive observer learned from one connection's wire tap."""

    records: tuple
    handshake_types: tuple  # (sender, tls.handshake.type) of every handshake message in clear
    client_hellos: tuple
    server_hellos: tuple
    new_session_tickets: tuple
    alerts: tuple  # (sender, level, description) of alerts in clear
    time: float | None = None

    @property
    def client_hello(self) -> ClientHelloSeen | None:
        """The first ClientHello (a second one follows a HelloRetryRequest)."""
        return self.client_hellos[0] if self.client_hellos else None

    @property
    def server_hello(self) -> ServerHelloSeen | None:
        """The ServerHello that settled the handshake (not a HelloRetryRequest)."""
        for hello in reversed(self.server_hellos):
            if not hello.is_hello_retry_request:
                return hello
        return None

    @property
    def hello_retry_request(self) -> bool:
        return any(h.is_hello_retry_request for h in self.server_hellos)

    @property
    def version(self) -> int | None:
        """The negotiated version (0x0303, 0x0304) or None without a ServerHello."""
        hello = self.server_hello
        return hello.selected_version if hello else None

    @property
    def encrypted_records(self) -> tuple:
        return tuple(r for r in self.records if r.encrypted)

    def encrypted_bytes(self, sender: str) -> int:
        return sum(r.length for r in self.records if r.encrypted and r.sender == sender)

    @property
    def resumption_evidence(self) -> str | None:
        """Why the observer thinks the connection resumed, in Wireshark terms; None if it did not.

        TLS 1.3: the ServerHello carries ``pre_shared_key`` (RFC 8446 §4.2.11). TLS 1.2: the server
        echoed the non-empty session ID the client offered (RFC 5246 §7.4.1.3), or the server went
        from ServerHello to ChangeCipherSpec without Certificate and ServerHelloDone, the
        abbreviated handshake of RFC 5077 §3.1 (a ticket accepted with an empty session ID).
        """
        hello = self.server_hello
        if hello is None:
            return None
        if hello.selected_version >= TLS1_3:
            if hello.psk_selected_identity is not None:
                return f"tls.handshake.extensions.psk.identity.selected = {hello.psk_selected_identity}"
            return None
        offered = self.client_hellos[-1].session_id if self.client_hellos else b""
        if offered and hello.session_id == offered:
            return "tls.handshake.session_id echoed"
        server_types = {t for s, t in self.handshake_types if s == "server"}
        server_ccs = any(r.sender == "server" and r.content_type == _CCS for r in self.records)
        if server_ccs and not server_types & {_CERTIFICATE, _SERVER_HELLO_DONE}:
            return "abbreviated handshake: no tls.handshake.type 11/14 before ChangeCipherSpec"
        return None

    @property
    def resumed(self) -> bool:
        return self.resumption_evidence is not None

    def linking_values(self) -> tuple:
        """The values in clear that could link this connection to another: ``(kind, value)`` with
        kind "session_id" (either hello), "ticket" (TLS 1.2, presented or issued) or
        "psk_identity" (TLS 1.3). Empty values never link."""
        return tuple(sorted(linking_values(self)))

    def fields(self) -> list:
        """Rows ``(sender, message, Wireshark field, value)``: what the observer saw, for display."""
        return _connection_rows(self)

    def schema_view(self) -> list:
        """Every handshake message in clear parsed with the construct schemas (slow, for teaching)."""
        out = [("client", "client_hello", ClientHello.parse(h.body)) for h in self.client_hellos]
        out += [("server", "server_hello", ServerHello.parse(h.body)) for h in self.server_hellos]
        out += [
            ("server", "new_session_ticket", NewSessionTicketTLS12.parse(t.body))
            for t in self.new_session_tickets
        ]
        return out

    def summary(self) -> str:
        names = {TLS1_2: "TLS 1.2", TLS1_3: "TLS 1.3", None: "no ServerHello"}
        version = names.get(self.version, f"version 0x{self.version or 0:04x}")
        verdict = f"resumed ({self.resumption_evidence})" if self.resumed else "not resumed"
        sizes = {s: sum(1 for r in self.records if r.encrypted and r.sender == s) for s in _SENDERS}
        return (
            f"{version}, {verdict}; encrypted records: client {sizes['client']} "
            f"({self.encrypted_bytes('client')} B), server {sizes['server']} "
            f"({self.encrypted_bytes('server')} B)"
        )

    def __repr__(self) -> str:
        return text_table(f"ObservedConnection: {self.summary()}", self.fields())

    def _repr_html_(self) -> str:
        return html_table(f"What a passive observer saw: {self.summary()}", self.fields())


def chunk_pairs(chunks: Iterable) -> Iterable:
    """``(sender, data)`` of each wire chunk: a tuple (:class:`~gnutls_lab.sessions._transport.WireChunk` is
    one) or an object with ``.sender`` and ``.data``; a sender other than client or server is refused."""
    for chunk in chunks:
        sender, data = chunk if isinstance(chunk, tuple) else (chunk.sender, chunk.data)
        if sender not in _SENDERS:
            raise UsageError(f"a wire chunk's sender must be 'client' or 'server', not {sender!r}")
        yield sender, data


def observe_connection(chunks: Iterable, time: float | None = None) -> ObservedConnection:
    """What a passive observer learns from one connection's wire tap.

    ``chunks``: in the order they were sent, objects with ``.sender`` ("client"/"server") and
    ``.data`` (bytes one side pushed into the transport), or ``(sender, data)`` tuples. A chunk may
    hold several records or part of one. ``time``: when the visit happened (seconds), for linkage.
    Raises :class:`~gnutls_lab.errors.BlobFormatError` on bytes that are not a TLS stream or that
    end inside a record or handshake message, except for a tap that says it was cut
    (:class:`~gnutls_lab.sessions._transport.WireTap` with ``capped`` true): its partial tail is left out.
    """
    cut = bool(getattr(chunks, "capped", False))
    pending = {"client": b"", "server": b""}  # record bytes not yet complete
    handshake = {"client": b"", "server": b""}  # handshake stream in clear, not yet framed
    consumed = {"client": 0, "server": 0}  # stream offset of pending[sender]
    after_ccs = {"client": False, "server": False}
    records, types, client_hellos, server_hellos, tickets, alerts = [], [], [], [], [], []
    version = 0
    for sender, data in chunk_pairs(chunks):
        buf = pending[sender] + data if pending[sender] else bytes(data)
        p, n = 0, len(buf)
        while n - p >= 5:
            content_type, record_version, length = record_header(buf, p)
            if not 20 <= content_type <= 24 or record_version >> 8 != 3 or length > MAX_RECORD_LENGTH:
                raise malformed("record header", f"{sender}.tls.record", consumed[sender] + p)
            if n - p - 5 < length:
                break
            encrypted = content_type == _APP_DATA or (
                after_ccs[sender] and version < TLS1_3 and content_type != _CCS
            )
            # tuple.__new__ skips NamedTuple's keyword handling: this runs for every record
            records.append(_new_tuple(RecordSeen, (sender, content_type, record_version, length, encrypted)))
            fragment = buf[p + 5 : p + 5 + length]
            p += 5 + length
            if content_type == _CCS:
                after_ccs[sender] = True
            elif encrypted:
                continue
            elif content_type == _ALERT and length == 2:
                alerts.append((sender, fragment[0], fragment[1]))
            elif content_type == _HANDSHAKE:
                stream = handshake[sender] + fragment
                messages, q = split_handshake(stream)
                for msg_type, body in messages:
                    types.append((sender, msg_type))
                    if msg_type == _CLIENT_HELLO and sender == "client":
                        client_hellos.append(read_client_hello(body))
                    elif msg_type == _SERVER_HELLO and sender == "server":
                        server_hellos.append(read_server_hello(body))
                        version = server_hellos[-1].selected_version
                    elif msg_type == _NEW_SESSION_TICKET and sender == "server":
                        tickets.append(read_new_session_ticket(body))
                handshake[sender] = stream[q:]
        pending[sender] = buf[p:]
        consumed[sender] += p
    for sender in _SENDERS if not cut else ():
        if pending[sender]:
            raise malformed("record (tap ends inside it)", f"{sender}.tls.record", consumed[sender])
        if handshake[sender]:
            raise malformed("handshake message (tap ends inside it)", f"{sender}.tls.handshake", 0)
    return ObservedConnection(
        tuple(records), tuple(types), tuple(client_hellos), tuple(server_hellos), tuple(tickets),
        tuple(alerts), time,
    )


# --- values that can link visits --------------------------------------------------------------

#: Wireshark field of each kind of linking value (a ClientHello's session_ticket extension shows as
#: :func:`session_ticket_extension_field`; it carries the bytes of an earlier ``tls.handshake.session_ticket``).
LINK_FIELDS = {
    "session_id": "tls.handshake.session_id",
    "ticket": "tls.handshake.session_ticket",
    "psk_identity": "tls.handshake.extensions.psk.identity.identity",
}


#: The names Wireshark gives a ClientHello's session_ticket extension data: its own field in Wireshark
#: 4.4 (Debian 13), only the generic raw extension data in 4.0 (Debian 12).
SESSION_TICKET_EXTENSION_FIELDS = ("tls.handshake.extensions.session_ticket", "tls.handshake.extension.data")
_installed_ticket_field: list = []


def session_ticket_extension_field(known_fields=None) -> str:
    """The field name for a ClientHello's session_ticket extension that the installed ``tshark`` knows.

    ``known_fields``: the names to choose from (default: ``tshark -G fields``, read once per process).
    Without tshark, the newer name (Wireshark 4.4's), which is what a Wireshark installed today shows.
    """
    if known_fields is None:
        if not _installed_ticket_field:
            _installed_ticket_field.append(session_ticket_extension_field(_tshark_fields()))
        return _installed_ticket_field[0]
    own, generic = SESSION_TICKET_EXTENSION_FIELDS
    if own in known_fields or generic not in known_fields:
        return own
    return generic


def _tshark_fields() -> set:
    """Which of :data:`SESSION_TICKET_EXTENSION_FIELDS` the installed tshark knows (empty: no tshark)."""
    tshark = shutil.which("tshark")
    if tshark is None:
        return set()
    try:
        listing = subprocess.run([tshark, "-G", "fields"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return set()
    wanted = set(SESSION_TICKET_EXTENSION_FIELDS)
    return {name for line in listing.stdout.splitlines() if line.startswith("F\t")
            for name in line.split("\t")[2:3] if name in wanted}


def linking_values(conn: ObservedConnection) -> set:
    values = set()
    for hello in conn.client_hellos:
        if hello.session_id:
            values.add(("session_id", hello.session_id))
        if hello.session_ticket:
            values.add(("ticket", hello.session_ticket))
        for psk in hello.psk_identities:
            values.add(("psk_identity", psk.identity))
    for hello in conn.server_hellos:
        if hello.session_id:
            values.add(("session_id", hello.session_id))
    for ticket in conn.new_session_tickets:
        values.add(("ticket", ticket.ticket))
    return values


def _show(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        if not value:
            return "(empty)"
        # head and tail: GnuTLS tickets under one key share their first 16 bytes (the key name)
        shown = value.hex() if len(value) <= 8 else f"{value[:4].hex()}…{value[-4:].hex()}"
        return f"{shown} ({len(value)} bytes)"
    if isinstance(value, tuple):
        return ", ".join(_show(v) for v in value) or "(none)"
    if isinstance(value, int) and not isinstance(value, bool) and value > 9:
        return f"{value} (0x{value:04x})"
    return str(value)


def _connection_rows(conn: ObservedConnection) -> list:
    rows = []
    for hello in conn.client_hellos:
        add = lambda f, v: rows.append(("client", "ClientHello", f, _show(v)))  # noqa: E731
        add("tls.handshake.session_id", hello.session_id)
        if hello.server_name is not None:
            add("tls.handshake.extensions_server_name", hello.server_name)
        if hello.session_ticket is not None:
            add(session_ticket_extension_field(), hello.session_ticket)  # the installed tshark's name
        for psk in hello.psk_identities:
            add("tls.handshake.extensions.psk.identity.identity", psk.identity)
            add("tls.handshake.extensions.psk.identity.obfuscated_ticket_age", psk.obfuscated_ticket_age)
        if hello.psk_ke_modes:
            add("tls.extension.psk_ke_mode", hello.psk_ke_modes)
        if hello.early_data:
            add("early_data (42)", "offered")
        if hello.supported_versions:
            add("tls.handshake.extensions.supported_version", hello.supported_versions)
    for hello in conn.server_hellos:
        message = "HelloRetryRequest" if hello.is_hello_retry_request else "ServerHello"
        add = lambda f, v: rows.append(("server", message, f, _show(v)))  # noqa: E731
        add("tls.handshake.session_id", hello.session_id)
        add("tls.handshake.ciphersuite", hello.ciphersuite)
        add("tls.handshake.extensions.supported_version", hello.selected_version)
        if hello.psk_selected_identity is not None:
            add("tls.handshake.extensions.psk.identity.selected", hello.psk_selected_identity)
        if hello.session_ticket_ack:
            add("session_ticket (35)", "a NewSessionTicket will follow")
    for ticket in conn.new_session_tickets:
        rows.append(("server", "NewSessionTicket", "tls.handshake.session_ticket_lifetime_hint", _show(ticket.lifetime_hint)))
        rows.append(("server", "NewSessionTicket", "tls.handshake.session_ticket", _show(ticket.ticket)))
    for sender in _SENDERS:
        sizes = tuple(r.length for r in conn.records if r.encrypted and r.sender == sender)
        rows.append((sender, "encrypted records", "tls.record.length", ", ".join(map(str, sizes)) or "(none)"))
    return rows


def text_table(title: str, rows: list, header: tuple = ("from", "message", "field", "value")) -> str:
    if not rows:
        return title
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header) - 1)]
    lines = [title]
    for row in [header, *rows]:
        lines.append("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths)) + "  " + str(row[-1]))
    return "\n".join(lines)


def html_table(title: str, rows: list, header: tuple = ("from", "message", "field", "value")) -> str:
    cell = lambda tag, c: f"<{tag} style='text-align:left;font-family:monospace'>{html.escape(str(c))}</{tag}>"  # noqa: E731
    head = "".join(cell("th", h) for h in header)
    body = "".join("<tr>" + "".join(cell("td", c) for c in row) + "</tr>" for row in rows)
    return f"<div><p><b>{html.escape(title)}</b></p><table><tr>{head}</tr>{body}</table></div>"
