"""Jupyter widgets over a live connection and a session blob (presentation layer).

- :func:`handshake_stepper` steps through a :class:`~gnutls_lab.sessions._lab.Connection` one handshake message
  (hook transcript) or one TLS record (wire tap) at a time. Each step shows who sent it, its type, and
  its bytes as a hex dump with the fields named (Wireshark field names, so what you read here is
  what you type into Wireshark's filter bar), and whether a passive observer saw it in clear.
- :func:`blob_inspector` puts the fields of a decoded ``gnutls_session_get_data2`` blob beside its
  hex dump: selecting a field highlights its bytes; secrets stay redacted until the toggle reveals
  them.
- :func:`sequence_diagram` draws the transcript as a matplotlib sequence diagram.
- :func:`experiment_explorer`: controls over :mod:`gnutls_lab.analysis._experiments` (reuse limit, lifetime,
  key rotation, visits, mechanism, compatibility mode); each change re-runs the experiment and redraws
  who is linked to whom.
- :func:`tamper_lab`: pick a field of a live session blob, give it a new value, rebuild the blob and
  offer it to the lab server: refused by gnutls-lab before libgnutls, refused by libgnutls, or
  accepted, resumed or not.

Each factory returns an ``ipywidgets`` box whose parts are attributes (``stepper.position``,
``inspector.field_list``, ``inspector.reveal``...), so tests and notebooks can drive them by setting
values, without a browser.

Layering: this module reads :mod:`gnutls_lab.analysis._decode`, :mod:`gnutls_lab.faces._views`, :mod:`gnutls_lab.formats`,
:mod:`gnutls_lab.analysis._observer`, :mod:`gnutls_lab.analysis._experiments` (and through it :mod:`gnutls_lab.faces._plots`, whose
palette it shares) and the connection objects of :mod:`gnutls_lab.sessions._lab`; nothing below imports it.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..analysis import DecodedSession, decode, is_secret, known_crash
from ..binding import library_info
from ..errors import UsageError
from ..formats import ContentType, ExtensionType, HandshakeType, message_spans, number, record_header
from ..formats import split_records as split_record_bytes
from ..analysis import observe_connection
from . import _plots as plots
from ._plots import OKABE_ITO
from ._views import describe_field, field_extent, leaf_fields, text_report

__all__ = [
    "handshake_stepper",
    "blob_inspector",
    "sequence_diagram",
    "experiment_explorer",
    "tamper_lab",
    "tamper_outcome",
    "TamperLab",
    "HandshakeStepper",
    "BlobInspector",
    "ExperimentExplorer",
    "message_fields",
    "record_fields",
    "split_records",
    "hex_dump_html",
]

# The plots' Okabe-Ito palette (colour-blind-safe): client blue, server vermillion; field tints alternate.
CLIENT_COLOUR, SERVER_COLOUR = OKABE_ITO["blue"], OKABE_ITO["vermillion"]
_TINTS = ("#cde9f8", "#fbe3b3", "#b8e6d6", "#f3d4e6")  # sky blue, orange, bluish green, purple (light)
_HIGHLIGHT = OKABE_ITO["yellow"]
_MASK = "··"
_EXTENSION_NAMES = {int(k): str(v) for k, v in ExtensionType.decmapping.items()}
_CONTENT_TYPES = {int(k): str(v) for k, v in ContentType.decmapping.items()}
_HANDSHAKE_TYPES = {int(k): str(v) for k, v in HandshakeType.decmapping.items()}


# --- naming the bytes of one handshake message -------------------------------------------------


def message_fields(message, protocol: str = "TLS1.3") -> list:
    """``[(field, start, end)]`` over the message as it is framed: 4-byte header, then the body.

    Hellos and NewSessionTickets are split into their fields (RFC 8446 §4.1.2-3, §4.6.1; RFC 5077
    §3.3), extensions one span each; other messages get one span for the body. A body that does not
    parse as expected falls back to one span, never an error.
    """
    body = message.body
    spans = [("tls.handshake.type", 0, 1), ("tls.handshake.length", 1, 4)]
    kind = message.type
    fields = message_spans(kind, body, tls13=protocol == "TLS1.3") if kind in (1, 2, 4) else None
    if kind == 20:
        fields = [("tls.handshake.verify_data", 0, len(body))]
    covered = 0
    for name, start, end in fields or ():
        spans.append((name, 4 + start, 4 + end))
        covered = end
    if covered < len(body):
        spans.append(("body", 4 + covered, 4 + len(body)))
    return spans


def framed(message) -> bytes:
    """The message with its 4-byte header (type, u24 length), as it is hashed and sent."""
    return bytes([message.type & 0xFF]) + len(message.body).to_bytes(3, "big") + message.body


# --- the wire: records ------------------------------------------------------------------------


def split_records(chunks) -> list:
    """The wire tap cut into TLS records: ``[(sender, record_bytes)]`` in the order they were sent."""
    pending = {"client": b"", "server": b""}
    records = []
    for chunk in chunks:
        buf = pending[chunk.sender] + bytes(chunk.data)
        complete, used = split_record_bytes(buf)
        records += [(chunk.sender, record) for record in complete]
        pending[chunk.sender] = buf[used:]
    return records


def record_fields(record: bytes) -> list:
    """``[(field, start, end)]`` of one record: the 5-byte header (RFC 8446 §5.1) and the fragment."""
    kind = record[0]
    fragment = "tls.app_data (encrypted)" if kind == 23 else "tls.record.fragment"
    return [("tls.record.content_type", 0, 1), ("tls.record.version", 1, 3), ("tls.record.length", 3, 5),
            (fragment, 5, len(record))]


def _clear_handshake_streams(chunks) -> dict:
    """Per sender, the concatenated fragments of handshake records sent before that side's CCS."""
    streams = {"client": b"", "server": b""}
    after_ccs = {"client": False, "server": False}
    for sender, record in split_records(chunks):
        if record[0] == 20:
            after_ccs[sender] = True
        elif record[0] == 22 and not after_ccs[sender]:
            streams[sender] += record[5:]
    return streams


# --- hex dumps ----------------------------------------------------------------------------------


def _span_tints(spans) -> list:
    """The tint :func:`hex_dump_html` gives each span: the colour legend of a dump."""
    return [_TINTS[i % len(_TINTS)] for i in range(len(spans))]


def hex_dump_html(data: bytes, spans=(), highlight=None, masked=(), width: int = 16, window=None,
                  max_height: str | None = None) -> str:
    """An HTML hex dump: offsets, bytes tinted per span, the ``highlight`` range marked, ``masked``
    ranges shown as ``··`` (their bytes never reach the page). ``window=(start, end)`` shows only the
    rows holding those bytes (at most 6; a gap is marked ``…``); ``max_height`` makes the dump scroll."""
    tint = [None] * len(data)
    title = [""] * len(data)
    for i, (name, start, end) in enumerate(spans):
        for k in range(max(start, 0), min(end, len(data))):
            tint[k] = _TINTS[i % len(_TINTS)]
            title[k] = name
    hidden = bytearray(len(data))
    for start, end in masked:
        for k in range(max(start, 0), min(end, len(data))):
            hidden[k] = 1
    lo, hi = highlight if highlight else (-1, -1)
    starts = list(range(0, len(data), width))
    if window is not None:
        first, last = window[0] // width * width, max(window[1] - 1, window[0]) // width * width
        starts = [r for r in starts if first <= r <= last]
        if len(starts) > 6:
            starts = starts[:4] + [None] + starts[-1:]
    rows = []
    for row in starts:
        if row is None:
            rows.append("<span style='color:#777'>   …</span>")
            continue
        cells = []
        for k in range(row, min(row + width, len(data))):
            text = _MASK if hidden[k] else f"{data[k]:02x}"
            style = f"background:{_HIGHLIGHT};font-weight:bold" if lo <= k < hi else (
                f"background:{tint[k]}" if tint[k] else "")
            cells.append(f"<span class='gl-byte' style='{style}' title='{html.escape(title[k])}'>{text}</span>")
        rows.append(f"<span style='color:#777'>{row:06x}</span>  " + " ".join(cells))
    scroll = f";max-height:{max_height};overflow-y:auto" if max_height else ""
    return (f"<pre class='gl-hexdump' style='font-size:12px;line-height:1.35;margin:0{scroll}'>"
            + "\n".join(rows) + "</pre>")


#: Why each field of a hello or a ticket message is there, in one line (RFC 8446 §4.1.2-3 and §4.2,
#: RFC 5077, RFC 7627, RFC 7366): what the stepper says beside the bytes, as The Illustrated TLS 1.3
#: Connection does. Keys are the stepper's field names (Wireshark's, or "extension NAME").
FIELD_PURPOSES = {
    "tls.handshake.type": "which handshake message this is",
    "tls.handshake.length": "how many bytes of message follow",
    "tls.handshake.version": "frozen at 0x0303 (TLS 1.2) so old middleboxes pass it; the real version is in "
                             "supported_versions",
    "tls.handshake.random": "32 fresh random bytes that make every handshake's keys unique",
    "tls.handshake.session_id": "TLS 1.2: the session to resume; TLS 1.3: legacy_session_id, kept for middlebox "
                                "compatibility (GnuTLS sends a stored one: notebook 04)",
    "tls.handshake.ciphersuites": "the cipher suites the client accepts, best first",
    "tls.handshake.ciphersuite": "the suite the server chose from the client's list",
    "tls.handshake.comp_methods": "compression: always just 'null' today (compression leaked secrets: CRIME)",
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


def _field_table(rows, tints=None) -> str:
    """The fields of a step: a colour swatch matching the field's bytes in the dump, name, byte range,
    value, and why the field is there (when the lab knows)."""
    cell = "style='text-align:left;font-family:monospace;padding:1px 8px;font-size:12px'"
    prose = "style='text-align:left;padding:1px 8px;font-size:12px'"
    with_purpose = any(field_purpose(str(r[0])) for r in rows)
    body = []
    for index, row in enumerate(rows):
        swatch = tints[index] if tints else None
        cells = [f"<td style='background:{swatch};width:1em'></td>" if swatch else "<td></td>"]
        cells += [f"<td {cell}>{html.escape(str(c))}</td>" for c in row]
        if with_purpose:
            cells.append(f"<td {prose}>{html.escape(field_purpose(str(row[0])))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    heads = ("", "field", "bytes", "value") + (("why it is there",) if with_purpose else ())
    head = "".join(f"<th {cell}>{h}</th>" for h in heads)
    return (f"<table class='gl-fields' style='border-collapse:collapse;margin:4px 0'><tr>{head}</tr>"
            f"{''.join(body)}</table>")


def _short(value: bytes) -> str:
    return value.hex(" ") if len(value) <= 12 else f"{value[:8].hex(' ')} … ({len(value)} bytes)"


# --- the handshake stepper ------------------------------------------------------------------------


class HandshakeStepper(widgets.VBox):
    """Step through a connection: ``source`` picks the hook transcript or the wire records,
    ``position`` (a slider) picks the step; ``detail`` holds the current step's HTML."""

    def __init__(self, conn):
        self.conn = conn
        self.protocol = conn.protocol
        self.messages = list(conn.transcript)
        self.records = split_records(conn.wire)
        self._clear = _clear_handshake_streams(conn.wire)
        if not self.messages and not self.records:
            raise UsageError("this connection recorded nothing: connect with observe=True to step through it")
        verdict = ("<b style='color:%s'>resumed</b>" % CLIENT_COLOUR if conn.resumed
                   else "<b style='color:%s'>full handshake</b>" % SERVER_COLOUR)
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

    def _arrow(self, sender: str) -> str:
        peer = "server" if sender == "client" else "client"
        colour = CLIENT_COLOUR if sender == "client" else SERVER_COLOUR
        return f"<b style='color:{colour}'>{sender} → {peer}</b>"

    def _message_html(self, index: int) -> str:
        message = self.messages[index]
        data = framed(message)
        spans = message_fields(message, self.protocol)
        rows = []
        for name, start, end in spans:
            value = data[start:end]
            if name == "tls.handshake.type":
                shown = f"{value[0]} ({_HANDSHAKE_TYPES.get(value[0], message.name)})"
            elif name in ("tls.handshake.length", "tls.handshake.session_ticket_lifetime_hint"):
                shown = str(number(value)) + (" s" if "lifetime" in name else "")
            else:
                shown = _short(value)
            rows.append((name, f"{start}–{end}", shown))
        seen = "in clear" if data in self._clear[message.sender] else "encrypted (only record lengths show)"
        return (f"<div class='gl-step'><p>Message {index + 1} of {len(self.messages)}: {self._arrow(message.sender)}"
                f" <b class='gl-message-name'>{html.escape(message.name)}</b> (type {message.type}),"
                f" {len(data)} bytes = 4-byte header + {len(message.body)}-byte body."
                f" A passive observer sees it <b>{seen}</b>. Each field's colour is the colour of its"
                f" bytes in the dump below.</p>"
                f"{_field_table(rows, _span_tints(spans))}{hex_dump_html(data, spans)}</div>")

    def _record_html(self, index: int) -> str:
        sender, record = self.records[index]
        spans = record_fields(record)
        kind = _CONTENT_TYPES.get(record[0], f"unknown({record[0]})")
        rows = [("tls.record.content_type", "0–1", f"{record[0]} ({kind})"),
                ("tls.record.version", "1–3", f"0x{record_header(record)[1]:04x}"),
                ("tls.record.length", "3–5", str(len(record) - 5)),
                (spans[-1][0], f"5–{len(record)}", _short(record[5:]))]
        return (f"<div class='gl-step'><p>Record {index + 1} of {len(self.records)}: {self._arrow(sender)}"
                f" <b class='gl-message-name'>{kind}</b>, {len(record)} bytes on the wire.</p>"
                f"{_field_table(rows, _span_tints(spans))}{hex_dump_html(record, spans)}</div>")


def handshake_stepper(conn) -> HandshakeStepper:
    """A widget that steps through ``conn``'s handshake messages (hook transcript) or wire records."""
    return HandshakeStepper(conn)


# --- the blob inspector -------------------------------------------------------------------------


def _secret_bytes(field) -> tuple:
    """The range of a secret's own bytes (its length prefix stays visible, as in views.hexdump)."""
    prefix = (field.end - field.start) - len(field.value) if isinstance(field.value, bytes) else 0
    return field.start + prefix, field.end


class BlobInspector(widgets.VBox):
    """Fields of a decoded session beside its hex dump. ``field_list`` selects a field (its bytes are
    highlighted in ``hexdump``, described in ``detail``); ``reveal`` shows the secrets; ``report``
    holds :func:`gnutls_lab.faces._views.text_report` under the same redaction."""

    def __init__(self, session: DecodedSession):
        if session.fields is None:
            session = decode(session.data)
        self.session = session
        self.leaves = leaf_fields(session)
        self.secret_ranges = [_secret_bytes(f) for f in self.leaves if is_secret(f.path)]
        self.summary = widgets.HTML(self._summary())
        self.reveal = widgets.ToggleButton(value=False, description="reveal secrets", icon="eye",
                                           tooltip="show master_secret / resumption_master_secret")
        self.field_list = widgets.Select(options=self._options(), rows=18,
                                         layout=widgets.Layout(width="48%"))
        self.hexdump = widgets.HTML(layout=widgets.Layout(width="52%"))
        self.detail = widgets.HTML()
        self.report = widgets.HTML()
        self.field_list.observe(lambda _: self._render(), names="value")
        self.reveal.observe(self._toggle, names="value")
        report = widgets.Accordion(children=[self.report], titles=("text report (views.text_report)",))
        super().__init__([self.summary, self.reveal, self.detail,
                          widgets.HBox([self.field_list, self.hexdump]), report])
        self.add_class("gl-blob-inspector")
        self._render()

    def _summary(self) -> str:
        s = self.session
        if s.dummy:
            return f"<p><b>Dummy session data</b> <code>00 00 00 00</code>: {html.escape(s.dummy_reason)}</p>"
        return (f"<p><b>{len(s.data)}-byte session</b> packed by GnuTLS {s.gnutls_version}: {s.entity} side,"
                f" {s.protocol}, {s.cipher_suite}. Select a field to highlight its bytes.</p>")

    def _options(self) -> list:
        return [(f"[{f.start}:{f.end}] {f.path} = {describe_field(self.session, f, self.reveal.value)}"[:100], f.path)
                for f in self.leaves]

    def _toggle(self, _change) -> None:
        selected = self.field_list.value
        self.field_list.options = self._options()
        self.field_list.value = selected
        self._render()

    def _render(self) -> None:
        shown = self.reveal.value
        field = next((f for f in self.leaves if f.path == self.field_list.value), None)
        spans = [(f.path, f.start, f.end) for f in self.leaves]
        masked = () if shown else self.secret_ranges
        self.hexdump.value = hex_dump_html(self.session.data, spans, highlight=(field.start, field.end) if field
                                           else None, masked=masked, max_height="460px")
        self.report.value = f"<pre style='font-size:11px'>{html.escape(text_report(self.session, shown))}</pre>"
        if field is None:
            self.detail.value = "<p>No field selected.</p>"
            return
        secret = is_secret(field.path)
        value = describe_field(self.session, field, shown)
        if secret and not shown:
            value += " (a secret: toggle “reveal secrets” to show it)"
        elif isinstance(field.value, bytes) and 16 < len(field.value) <= 64:
            value = field.value.hex(" ")
        rows = hex_dump_html(self.session.data, spans, highlight=(field.start, field.end), masked=masked,
                             window=(field.start, field.end))
        self.detail.value = (f"<p class='gl-field'><code>{html.escape(field.path)}</code>: "
                             f"{html.escape(field_extent(field))}{' <b>secret</b>' if secret else ''}"
                             f"<br><span class='gl-value'>{html.escape(value)}</span></p>{rows}")

    def select(self, path: str) -> None:
        """Select a field by path (``tls13.lifetime``); raises UsageError for an unknown one."""
        if path not in {f.path for f in self.leaves}:
            raise UsageError(f"no field {path!r} to select; the inspector lists {self.leaves[0].path!r}"
                             f" … {self.leaves[-1].path!r} (see .leaves)")
        self.field_list.value = path


def blob_inspector(data) -> BlobInspector:
    """A widget over session data: a ``SessionData``, bytes, or a :class:`DecodedSession`."""
    session = data if isinstance(data, DecodedSession) else decode(data)
    return BlobInspector(session)


# --- the sequence diagram ---------------------------------------------------------------------------


def sequence_diagram(conn, ax=None, title: str | None = None):
    """The transcript as a sequence diagram: one arrow per handshake message, client left, server right.

    Returns the matplotlib Figure, already closed in pyplot like those of :mod:`gnutls_lab.faces._plots`
    (Jupyter shows the returned figure once). Messages a passive observer sees in clear are drawn
    solid, those encrypted on the wire dashed.
    """
    messages = list(conn.transcript)
    clear = _clear_handshake_streams(conn.wire)
    if ax is None:
        fig, ax = plots.subplots(figsize=(6.4, 0.42 * len(messages) + 1.3))
    else:
        fig = ax.figure
    n = len(messages)
    for x, name in ((0, "client"), (1, "server")):
        ax.plot([x, x], [0.3, n + 0.5], color="#555", linewidth=1)
        ax.text(x, n + 0.7, name, ha="center", va="bottom", fontweight="bold",
                color=CLIENT_COLOUR if x == 0 else SERVER_COLOUR)
    for i, m in enumerate(messages):
        y = n - i
        start, end = (0, 1) if m.sender == "client" else (1, 0)
        colour = CLIENT_COLOUR if m.sender == "client" else SERVER_COLOUR
        in_clear = framed(m) in clear[m.sender]
        ax.annotate("", xy=(end, y), xytext=(start, y),
                    arrowprops=dict(arrowstyle="-|>", color=colour, linestyle="-" if in_clear else "--"))
        ax.text(0.5, y + 0.08, f"{m.name} ({len(m.body)} B)", ha="center", va="bottom", fontsize=8)
    verdict = "resumed" if conn.resumed else "full handshake"
    seen = sum(1 for m in messages if framed(m) in clear[m.sender])
    ax.set_title(title or f"{conn.protocol} {verdict}: {seen} of {n} handshake messages cross the wire in clear"
                 "\n(solid: in clear, dashed: encrypted)", fontsize=10)
    ax.set_xlim(-0.2, 1.2)
    ax.set_ylim(0.4, n + 1.2)
    ax.axis("off")
    return fig


# --- the experiment explorer (a thin shell over gnutls_lab.analysis._experiments and its plots) ----------------

_UNLIMITED = "unlimited"
_LIFETIMES = (("5 min", 300), ("1 h", 3600), ("6 h (GnuTLS default)", 21600), ("1 day", 86400), ("7 days", 604800))
_GAPS = (("1 min", 60.0), ("10 min", 600.0), ("1 h", 3600.0), ("6 h", 21600.0))
_ROTATIONS = (("off: GnuTLS's own (3 × lifetime)", 0.0), ("every 10 min", 600.0), ("every hour", 3600.0),
              ("every 6 h", 21600.0))


class ExperimentExplorer(widgets.VBox):
    """Controls over an :class:`~gnutls_lab.analysis._experiments.ExperimentConfig`; every change re-runs the
    experiment (live handshakes under a fake clock) and redraws its plot in ``output``. ``result`` and
    ``figure`` hold the last run, ``summary`` its table."""

    def __init__(self, config=None, reuse_values=(1, 2, 3, 5, None)):
        from ..analysis import MECHANISMS, ExperimentConfig

        base = config if config is not None else ExperimentConfig()
        self.base, self.reuse_values = base, tuple(reuse_values)
        self.result = self.figure = None
        wide = dict(style={"description_width": "7em"}, layout=widgets.Layout(width="24em"))
        self.mechanism = widgets.Dropdown(options=list(MECHANISMS), value=base.mechanism, description="mechanism",
                                          **wide)
        self.max_reuse = widgets.Dropdown(
            options=[("0: never resume", 0), ("1: single use (RFC 8446 C.4)", 1), ("2", 2), ("3", 3), ("5", 5),
                     ("unlimited", _UNLIMITED)],
            value=_UNLIMITED if base.max_reuse is None else base.max_reuse, description="reuse k", **wide)
        lifetimes = dict(_LIFETIMES)
        if base.effective_lifetime not in lifetimes.values():
            lifetimes[f"{base.effective_lifetime} s"] = base.effective_lifetime
        self.lifetime = widgets.SelectionSlider(options=list(lifetimes.items()), value=base.effective_lifetime,
                                                description="lifetime", continuous_update=False, **wide)
        rotations = dict(_ROTATIONS)
        if base.rotate_every and base.rotate_every not in rotations.values():
            rotations[f"every {base.rotate_every:g} s"] = float(base.rotate_every)
        self.rotate_every = widgets.Dropdown(options=list(rotations.items()), value=float(base.rotate_every or 0.0),
                                             description="key rotation", **wide)
        self.visits = widgets.IntSlider(value=base.visits, min=2, max=200, description="visits",
                                        continuous_update=False, **wide)
        gaps = dict(_GAPS)
        if float(base.gap) not in gaps.values():
            gaps[f"{base.gap:g} s"] = float(base.gap)
        self.gap = widgets.SelectionSlider(options=list(gaps.items()), value=float(base.gap), description="gap",
                                           continuous_update=False, **wide)
        self.compat_mode = widgets.Checkbox(value=base.compat_mode, indent=False,
                                            description="TLS 1.3 compatibility mode (legacy_session_id)",
                                            layout=widgets.Layout(width="30em"))
        self.view = widgets.ToggleButtons(options=[("this run: who is linked", "run"), ("sweep over k", "sweep"),
                                                   ("tracking period", "tracking")], value="run",
                                          style={"button_width": "12em"})
        self.summary = widgets.HTML()
        self.output = widgets.Output()
        controls = (self.mechanism, self.max_reuse, self.lifetime, self.rotate_every, self.visits, self.gap,
                    self.compat_mode, self.view)
        for control in controls:
            control.observe(lambda _: self.run(), names="value")
        super().__init__([widgets.HBox([widgets.VBox(list(controls[:3])), widgets.VBox(list(controls[3:6]))]),
                          self.compat_mode, self.view, self.output, self.summary])
        self.add_class("gl-experiment-explorer")
        self.run()

    def config(self):
        """The :class:`ExperimentConfig` the controls describe."""
        from dataclasses import replace

        reuse = None if self.max_reuse.value == _UNLIMITED else self.max_reuse.value
        return replace(self.base, mechanism=self.mechanism.value, max_reuse=reuse, lifetime=self.lifetime.value,
                       rotate_every=self.rotate_every.value or None, visits=self.visits.value, gap=self.gap.value,
                       compat_mode=self.compat_mode.value)

    def run(self) -> None:
        """Re-run with the current controls and redraw (a run longer than 1 s shows a progress bar)."""
        from IPython.display import display

        from ..errors import GnuTLSLabError
        from ..analysis import run_experiment, sweep_reuse

        try:
            config = self.config()
            if self.view.value == "run":
                result = run_experiment(config)
                figure = plots.plot_timeline(result)
            else:
                result = sweep_reuse(self.reuse_values, config)
                figure = (plots.plot_sweep if self.view.value == "sweep" else plots.plot_tracking)(result)
        except GnuTLSLabError as exc:
            self.summary.value = f"<p class='gl-error' style='color:{SERVER_COLOUR}'>{html.escape(str(exc))}</p>"
            return
        self.result, self.figure = result, figure
        self.summary.value = _compact_summary(result)
        with self.output:
            self.output.clear_output(wait=True)
            display(figure)


def _compact_summary(result) -> str:
    """A few lines under the explorer's plot: one row per run, the numbers the plot shows."""
    from ._plots import time_unit

    runs = getattr(result, "results", [result])
    rows = []
    for run in runs:
        s = run.summary()
        divisor, unit = time_unit(max(s["max_tracking_seconds"], 1.0))
        rate = "n/a" if s["success_rate"] is None else f"{s['success_rate']:.0%}"
        rows.append(f"<tr><td>{html.escape(run.config.reuse_label)}</td><td>{s['resumed']}/{s['attempts']} "
                    f"({rate})</td><td>{s['linkable_pair_fraction']:.0%}</td>"
                    f"<td>{s['ticket_linkable_pair_fraction']:.0%}</td>"
                    f"<td>{s['max_tracking_seconds'] / divisor:.3g} {unit}</td></tr>")
    first = runs[0].summary()
    return (f"<p style='margin:2px 0'>{first['visits']} visits, {html.escape(first['mechanism'])}, "
            f"compat mode {'on' if first['compat_mode'] else 'off'}, lifetime {first['lifetime']} s</p>"
            "<table style='font-size:12px'><tr><th>k</th><th>resumed</th><th>pairs linked</th>"
            f"<th>by ticket</th><th>followed for</th></tr>{''.join(rows)}</table>")


def experiment_explorer(config=None, reuse_values=(1, 2, 3, 5, None)) -> ExperimentExplorer:
    """Sliders and dropdowns over the ticket-reuse experiment (:mod:`gnutls_lab.analysis._experiments`): each
    change re-runs it and redraws the plot in place. ``reuse_values``: the k of the sweep views."""
    return ExperimentExplorer(config, reuse_values)


# --- the tamper lab -----------------------------------------------------------------------------

#: What the tamper lab lets you change: key -> (label, kind, what the field is for). ``number`` fields
#: go through :meth:`DecodedSession.rebuilt` (lengths recomputed), ``overwrite`` fields get the new
#: number written over their own bytes (the rest of the blob, its layout included, stays as it was),
#: ``flip`` fields XOR bit 0 of the byte at the given index, ``version`` rewrites the 4-byte magic,
#: ``truncate`` keeps the first N bytes.
TAMPER_FIELDS = {
    "lifetime": ("lifetime (the client's copy)", "number",
                 "the client keeps it to know when to stop offering the ticket; the server has its own copy "
                 "inside the encrypted ticket"),
    "ticket_age_add": ("ticket_age_add", "number",
                       "the client adds it to the ticket's age it reports (obfuscated_ticket_age); the server "
                       "subtracts its own copy and checks the age"),
    "expire_time": ("expire_time", "number", "the session's lifetime as the client stored it"),
    "timestamp": ("timestamp", "number", "when the session began, in the client's copy"),
    "security_parameters.pversion": ("the protocol version (pversion)", "overwrite",
                                     "GnuTLS's own numbers: 4 = TLS 1.2, 5 = TLS 1.3; the rest of the blob keeps "
                                     "the layout of the version it was written for"),
    "gnutls_version": ("magic: the GnuTLS release that wrote the blob", "version",
                       "set_data reads it first and refuses any release but its own"),
    "tls13.ticket.mac": ("one bit of the ticket's MAC", "flip",
                         "the HMAC that authenticates the ticket for the server; value = byte index"),
    "tls13.ticket.encrypted_state": ("one bit of the ticket's encrypted state", "flip",
                                     "the server's session, AES-encrypted for itself; value = byte index"),
    "tls13.resumption_master_secret": ("one bit of the resumption master secret", "flip",
                                       "the client derives the PSK binder from it; value = byte index"),
    "truncate": ("the blob's length (truncate it)", "truncate", "keep only the first N bytes"),
}


def tamper_outcome(lab, blob: bytes) -> tuple:
    """Offer ``blob`` to ``lab`` (a :class:`~gnutls_lab.Lab`) and say what happened, as
    ``(verdict, detail)``: ``"refused by gnutls-lab"`` (the preflight walk, before libgnutls sees the
    bytes), ``"refused by libgnutls"`` (``gnutls_session_set_data`` returned an error),
    ``"handshake failed"``, ``"resumed"`` or ``"full handshake"`` (accepted, but the server did not
    resume)."""
    from ..errors import BlobFormatError, GnuTLSError

    try:
        conn = lab.connect(resume=blob)
    except BlobFormatError as exc:
        return "refused by gnutls-lab", str(exc)
    except GnuTLSError as exc:
        if exc.function == "gnutls_session_set_data":
            return "refused by libgnutls", f"{exc.name} from gnutls_session_set_data"
        return "handshake failed", f"{exc.name} from {exc.function or 'the handshake'}"
    with conn:
        if conn.resumed:
            return "resumed", "set_data accepted the bytes and the server resumed the session"
        return "full handshake", "set_data accepted the bytes; the server did not resume (a full handshake)"


_VERDICT_COLOURS = {"resumed": OKABE_ITO["bluish_green"], "full handshake": OKABE_ITO["orange"],
                    "refused by libgnutls": SERVER_COLOUR, "handshake failed": SERVER_COLOUR,
                    "refused by gnutls-lab": OKABE_ITO["reddish_purple"], "cannot build": "#666666"}


class TamperLab(widgets.VBox):
    """Change one field of a live session blob, rebuild it, and offer it to the lab server.

    ``field`` (a dropdown of :data:`TAMPER_FIELDS` present in the blob), ``value`` (a text box,
    filled with the field's current value when the field changes), ``rebuild`` (the button; or call
    :meth:`try_it`). After each attempt: ``outcome`` (a verdict of :func:`tamper_outcome`, or
    ``"cannot build"``), ``detail``, ``blob`` (the bytes offered) and ``history`` (every attempt).
    """

    def __init__(self, lab=None, data=None):
        from ..sessions import Lab

        self.lab = lab if lab is not None else Lab("1.3")
        if data is None:
            with self.lab.connect() as conn:
                data = conn.session_data
        self.original = data if isinstance(data, DecodedSession) else decode(data)
        if self.original.dummy:
            raise UsageError("the dummy has no fields to tamper with: give the tamper lab real session data")
        options = [(label, key) for key, (label, kind, _) in TAMPER_FIELDS.items() if self._present(key, kind)]
        self.field = widgets.Dropdown(options=options, value=options[0][1], description="field",
                                      style={"description_width": "initial"}, layout=widgets.Layout(width="34em"))
        self.value = widgets.Text(description="new value", style={"description_width": "initial"},
                                  layout=widgets.Layout(width="34em"))
        self.about = widgets.HTML()
        self.rebuild = widgets.Button(description="rebuild and resume", button_style="primary",
                                      layout=widgets.Layout(width="14em"))
        self.verdict = widgets.HTML()
        self.attempts = widgets.HTML()
        self.outcome = self.detail = self.blob = None
        self.history: list = []
        self.field.observe(lambda _: self._show_field(), names="value")
        self.rebuild.on_click(lambda _: self.try_it())
        super().__init__([self.field, self.about, widgets.HBox([self.value, self.rebuild]), self.verdict, self.attempts])
        self.add_class("gl-tamper-lab")
        self._show_field()

    def _present(self, key: str, kind: str) -> bool:
        if kind in ("flip", "overwrite"):
            return key in self.original.ranges
        if key in ("lifetime", "ticket_age_add"):
            return self.original.tls13 is not None
        return True

    def current(self) -> str:
        """The selected field's value in the original blob, as the value box shows it."""
        key = self.field.value
        kind = TAMPER_FIELDS[key][1]
        if kind == "flip":
            return "0"
        if kind == "truncate":
            return str(len(self.original.data) // 2)
        if kind == "version":
            return str(self.original.gnutls_version)
        if kind == "overwrite":
            return str(int(next(f for f in self.original.fields if f.path == key).value))
        values = {"lifetime": lambda s: s.tls13.lifetime, "ticket_age_add": lambda s: s.tls13.ticket_age_add,
                  "expire_time": lambda s: s.expire_time, "timestamp": lambda s: s.timestamp}
        return str(values[key](self.original))

    def _show_field(self) -> None:
        label, kind, about = TAMPER_FIELDS[self.field.value]
        hint = {"number": "a whole number", "overwrite": "a whole number", "flip": "the index of the byte whose lowest bit flips",
                "version": "a release such as 3.6.16", "truncate": f"a length below {len(self.original.data)}"}[kind]
        self.about.value = (f"<p style='margin:2px 0'>{html.escape(about)}. <i>Value: {hint}; now "
                            f"{html.escape(self.current())}.</i></p>")
        self.value.value = self.current()

    def built(self) -> bytes:
        """The blob with the selected change (a :class:`UsageError` when the value does not fit)."""
        key, text = self.field.value, self.value.value.strip()
        kind = TAMPER_FIELDS[key][1]
        if kind == "version":
            return self.original.rebuilt(gnutls_version=text)
        try:
            number = int(text, 0)
        except ValueError:
            raise UsageError(f"{TAMPER_FIELDS[key][0]}: {text!r} is not a whole number") from None
        if kind == "flip":  # an index into the value, after any length prefix
            field = next(f for f in self.original.fields if f.path == key)
            size = len(field.value) if isinstance(field.value, bytes) else field.end - field.start
            if not 0 <= number < size:
                raise UsageError(f"{TAMPER_FIELDS[key][0]}: the value has {size} bytes; {number} is outside it")
            return self.original.flipped(key, field.end - field.start - size + number)
        if kind == "overwrite":
            start, end = self.original.ranges[key]
            if not 0 <= number < 256 ** (end - start):
                raise UsageError(f"{TAMPER_FIELDS[key][0]}: {number} does not fit in its {end - start} bytes")
            return self.original.data[:start] + number.to_bytes(end - start, "big") + self.original.data[end:]
        if kind == "truncate":
            if not 0 <= number < len(self.original.data):
                raise UsageError(f"keep 0 to {len(self.original.data) - 1} bytes, not {number}")
            return self.original.data[:number]
        return self.original.rebuilt(**{key: number})

    def try_it(self) -> str:
        """Rebuild with the current field and value, offer the bytes to the lab server, show the verdict."""
        crash = known_crash(self.field.value, library_info().version_tuple, psk_credentials=self.lab.auth == "psk")
        try:
            blob = self.built()
        except (UsageError, ValueError) as exc:  # the value does not fit the field
            blob, outcome, detail = None, "cannot build", str(exc)
        else:
            if crash is not None:  # a libgnutls with a known crash on this change: never try it
                outcome, detail = "refused by gnutls-lab", crash
            else:
                outcome, detail = tamper_outcome(self.lab, blob)
        self.outcome, self.detail, self.blob = outcome, detail, blob
        label = TAMPER_FIELDS[self.field.value][0]
        self.history.append((label, self.value.value, outcome))
        changed = ""
        if blob is not None and len(blob) == len(self.original.data):
            diff = [i for i, (a, b) in enumerate(zip(blob, self.original.data)) if a != b]
            changed = f" {len(diff)} byte(s) changed" + (f", from offset {diff[0]}" if diff else "") + "."
        elif blob is not None:
            changed = f" {len(blob)} bytes instead of {len(self.original.data)}."
        colour = _VERDICT_COLOURS[outcome]
        self.verdict.value = (f"<p><b style='color:{colour}'>{html.escape(outcome)}</b>: {html.escape(detail)}."
                              f"{html.escape(changed)}</p>")
        rows = "".join(f"<tr><td>{html.escape(f)}</td><td><code>{html.escape(v[:24])}</code></td>"
                       f"<td style='color:{_VERDICT_COLOURS[o]}'>{html.escape(o)}</td></tr>"
                       for f, v, o in self.history[-8:])
        self.attempts.value = (f"<table style='font-size:12px'><tr><th>field</th><th>value</th><th>what happened</th>"
                          f"</tr>{rows}</table>")
        return outcome


def tamper_lab(lab=None, data=None) -> TamperLab:
    """The interactive tamper lab over ``data`` (default: a fresh ticket from ``lab``, default a TLS 1.3
    :class:`~gnutls_lab.Lab`): pick a field, type a value, rebuild, and see what libgnutls does."""
    return TamperLab(lab, data)
