"""The handshake stepper: a connection one handshake message (hook transcript) or one TLS record (wire tap)
at a time.

Each step shows who sent it, its type, its bytes as a hex dump with the fields named (Wireshark's field
names, so what you read here is what you type into Wireshark's filter bar), why each field of a hello or
ticket is there, and whether a passive observer saw it in clear. The fields and their byte ranges come
from :mod:`gnutls_lab.formats` (:func:`~gnutls_lab.formats.handshake_spans`,
:func:`~gnutls_lab.formats.record_spans`); the dump is :func:`gnutls_lab.faces._views.hex_dump_html`.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..analysis import observe_connection
from ..errors import UsageError
from ..formats import (
    ContentType,
    HandshakeType,
    clear_handshake_streams,
    frame_handshake,
    handshake_spans,
    number,
    record_fragment,
    record_header,
    record_spans,
    split_tap_records,
)
from ._views import byte_range, hex_dump_html, span_tints
from ._widget_parts import CLIENT_COLOUR, SERVER_COLOUR, field_table, sender_arrow, short_bytes

__all__ = ["HandshakeStepper", "handshake_stepper", "message_fields", "framed", "split_records",
           "FIELD_PURPOSES", "field_purpose"]

_CONTENT_TYPES = {int(k): str(v) for k, v in ContentType.decmapping.items()}
_HANDSHAKE_TYPES = {int(k): str(v) for k, v in HandshakeType.decmapping.items()}

#: The wire tap cut into records, ``[(sender, record)]`` (:func:`gnutls_lab.formats.split_tap_records`).
split_records = split_tap_records


def framed(message) -> bytes:
    """A transcript message with its 4-byte header (type, u24 length), as it is hashed and sent."""
    return frame_handshake(message.type, message.body)


def message_fields(message, protocol: str = "TLS1.3") -> list:
    """``[(field, start, end)]`` over :func:`framed` ``message``: the header, then the body's fields
    (:func:`gnutls_lab.formats.handshake_spans`)."""
    return handshake_spans(message.type, message.body, tls13=protocol == "TLS1.3")


#: Why each field of a hello or a ticket message is there, in one line (RFC 8446 §4.1.2-3 and §4.2,
#: RFC 5077, RFC 7627, RFC 7366): the label beside the bytes, as The Illustrated TLS 1.3 Connection
#: does. Keys are the stepper's field names (Wireshark's, or "extension NAME").
FIELD_PURPOSES = {
    "tls.handshake.type": "which handshake message this is",
    "tls.handshake.length": "how many bytes of message follow",
    "tls.handshake.version": "frozen at 0x0303 (TLS 1.2) so old middleboxes pass it; the real version is in "
                             "supported_versions",
    "tls.handshake.random": "32 fresh random bytes that make every handshake's keys unique",
    "tls.handshake.session_id": "TLS 1.2: the session to resume; TLS 1.3: legacy_session_id, kept for middlebox "
                                "compatibility",
    "tls.handshake.ciphersuites": "the cipher suites the client accepts, best first",
    "tls.handshake.ciphersuite": "the suite the server chose from the client's list",
    "tls.handshake.comp_methods": "compression: always just 'null' today",
    "tls.handshake.comp_method": "compression chosen: null",
    "tls.handshake.extensions_length": "how many bytes of extensions follow",
    "tls.handshake.session_ticket_lifetime_hint": "how long the server promises to accept the ticket (s)",
    "tls.handshake.session_ticket_age_add": "a secret the client adds to the ticket's age, so the age on the wire "
                                            "does not link visits",
    "tls.handshake.session_ticket_nonce": "makes each ticket's PSK different, from the same resumption secret",
    "tls.handshake.session_ticket": "the ticket: the server's session state, encrypted for the server itself",
    "tls.handshake.verify_data": "a MAC over the whole transcript: proof that both saw the same handshake",
    "extension server_name": "SNI: the host name the client wants (in clear: the observer reads it)",
    "extension status_request": "asks the server to staple its certificate's OCSP status",
    "extension supported_groups": "the key-exchange groups (curves) the client accepts",
    "extension ec_point_formats": "TLS 1.2 elliptic-curve point format (uncompressed)",
    "extension signature_algorithms": "the signature schemes the client can verify",
    "extension encrypt_then_mac": "TLS 1.2: MAC after encryption for CBC suites (RFC 7366)",
    "extension extended_master_secret": "TLS 1.2: bind the master secret to the whole handshake (RFC 7627)",
    "extension session_ticket": "TLS 1.2: 'I take tickets' (empty) or the ticket being presented (RFC 5077)",
    "extension key_share": "the sender's (EC)DHE public key: TLS 1.3 agrees keys in the first round trip",
    "extension supported_versions": "the real protocol versions (the client's list, the server's choice)",
    "extension renegotiation_info": "TLS 1.2: protects against the renegotiation attack (RFC 5746)",
    "extension psk_key_exchange_modes": "how a PSK may be used: with a fresh (EC)DHE (1) or alone (0)",
    "extension pre_shared_key": "the ticket offered as PSK identity, and a binder proving the client holds its "
                                "secret (always the last extension); in the ServerHello: which one was taken",
    "extension record_size_limit": "the largest record the sender wants to receive",
    "extension early_data": "0-RTT: data sent before the handshake ends, or the server's limit for it",
    "extension cookie": "a value the server asks the client to echo after a HelloRetryRequest",
}


def field_purpose(name: str) -> str:
    """One line on why a field of a hello or ticket message is there ("" when the lab has none)."""
    if name.startswith("extension "):
        name = name.rsplit(" (", 1)[0]
    return FIELD_PURPOSES.get(name, "")


class HandshakeStepper(widgets.VBox):
    """Step through a connection: ``source`` picks the hook transcript or the wire records,
    ``position`` (a slider) picks the step; ``detail`` holds the current step's HTML."""

    def __init__(self, conn):
        self.conn = conn
        self.protocol = conn.protocol
        self.messages = list(conn.transcript)
        self.records = split_tap_records(conn.wire)
        self._clear = clear_handshake_streams(conn.wire)
        if not self.messages and not self.records:
            raise UsageError("this connection recorded nothing: connect with observe=True to step through it")
        verdict = (f"<b style='color:{CLIENT_COLOUR}'>resumed</b>" if conn.resumed
                   else f"<b style='color:{SERVER_COLOUR}'>full handshake</b>")
        observed = observe_connection(conn.wire).summary() if conn.wire else "nothing (no wire tap)"
        self.verdict = widgets.HTML(
            f"<div class='gl-verdict'>{html.escape(conn.protocol)} {html.escape(conn.cipher_suite)}: {verdict}"
            f" <small>({html.escape(conn.explain())})</small><br><small>A passive observer of the wire sees:"
            f" {html.escape(observed)}</small></div>")
        self.source = widgets.ToggleButtons(options=[("hook transcript", "transcript"), ("wire records", "wire")],
                                            value="transcript")
        self.previous = widgets.Button(description="◀ previous", layout=widgets.Layout(width="110px"))
        self.next = widgets.Button(description="next ▶", layout=widgets.Layout(width="110px"))
        # 0-based underneath; no numeric readout, the step's own text says "Message k of n".
        self.position = widgets.IntSlider(min=0, max=max(len(self.messages) - 1, 0), value=0,
                                          description="step", readout=False, continuous_update=True)
        self.detail = widgets.HTML()
        self.previous.on_click(lambda _: self._move(-1))
        self.next.on_click(lambda _: self._move(+1))
        self.position.observe(lambda _: self._render(), names="value")
        self.source.observe(self._switch, names="value")
        super().__init__([self.verdict, self.source,
                          widgets.HBox([self.previous, self.position, self.next]), self.detail])
        self.add_class("gl-handshake-stepper")
        self._render()

    @property
    def steps(self) -> int:
        return len(self.messages) if self.source.value == "transcript" else len(self.records)

    def _move(self, delta: int) -> None:
        self.position.value = min(max(self.position.value + delta, 0), self.steps - 1)

    def _switch(self, _change) -> None:
        self.position.value = 0
        self.position.max = max(self.steps - 1, 0)
        self._render()

    def _render(self) -> None:
        if self.steps == 0:
            self.detail.value = "<p>Nothing recorded here.</p>"
        elif self.source.value == "transcript":
            self.detail.value = self._message_html(self.position.value)
        else:
            self.detail.value = self._record_html(self.position.value)

    def _message_html(self, index: int) -> str:
        message = self.messages[index]
        data = framed(message)
        spans = message_fields(message, self.protocol)
        rows = []
        for name, start, end in spans:
            value = data[start:end]
            if name == "tls.handshake.type":
                shown = f"{message.type} ({_HANDSHAKE_TYPES.get(message.type, message.name)})"
            elif name in ("tls.handshake.length", "tls.handshake.session_ticket_lifetime_hint"):
                shown = str(number(value)) + (" s" if "lifetime" in name else "")
            else:
                shown = short_bytes(value)
            rows.append((name, byte_range(start, end), shown))
        seen = "in clear" if data in self._clear[message.sender] else "encrypted (only record lengths show)"
        return (f"<div class='gl-step'><p>Message {index + 1} of {len(self.messages)}: {sender_arrow(message.sender)}"
                f" <b class='gl-message-name'>{html.escape(message.name)}</b> (type {message.type}),"
                f" {len(data)} bytes = 4-byte header + {len(message.body)}-byte body."
                f" A passive observer sees it <b>{seen}</b>. Each field's colour is the colour of its"
                f" bytes in the dump below.</p>"
                f"{field_table(rows, span_tints(spans), field_purpose)}{hex_dump_html(data, spans)}</div>")

    def _record_html(self, index: int) -> str:
        sender, record = self.records[index]
        spans = record_spans(record)
        content_type, version, length = record_header(record)
        kind = _CONTENT_TYPES.get(content_type, f"unknown({content_type})")
        shown = {"tls.record.content_type": f"{content_type} ({kind})", "tls.record.version": f"0x{version:04x}",
                 "tls.record.length": str(length)}
        rows = [(name, byte_range(start, end), shown.get(name) or short_bytes(record_fragment(record)))
                for name, start, end in spans]
        return (f"<div class='gl-step'><p>Record {index + 1} of {len(self.records)}: {sender_arrow(sender)}"
                f" <b class='gl-message-name'>{kind}</b>, {len(record)} bytes on the wire.</p>"
                f"{field_table(rows, span_tints(spans), field_purpose)}{hex_dump_html(record, spans)}</div>")


def handshake_stepper(conn) -> HandshakeStepper:
    """A widget that steps through ``conn``'s handshake messages (hook transcript) or wire records."""
    return HandshakeStepper(conn)
