"""Views of a decoded session: an ``openssl sess_id -text``-like report, an annotated hex dump, HTML, JSON.

All four read a :class:`~gnutls_lab.analysis._decode.DecodedSession` and never show a secret (master secret,
resumption master secret, SRP password) unless ``show_secrets=True``. The report uses OpenSSL's labels
where the concept is the same (Protocol, Cipher, Session-ID, Resumption PSK, Master-Key, TLS session
ticket lifetime hint, Start Time, Timeout) and adds what only a GnuTLS blob holds. The HTML is
self-contained (no script): each field's bytes share a colour from the Okabe-Ito palette, which stays
distinguishable with the common colour-vision deficiencies, and hovering a byte or a legend row
outlines every byte of that field (CSS ``:has``).
"""

from __future__ import annotations

import hashlib
import html
import json
import unicodedata
from datetime import datetime, timedelta, timezone

from ..analysis import REDACTED, DecodedSession, Field, decode, is_secret, name_of
from ..formats import MACS, PACKED_SESSION_MAGIC_BASE, EXTENSION_GIDS, SIGN_ALGORITHMS, SRTP_PROFILES

__all__ = ["text_report", "hexdump", "html_view", "hex_dump_html", "span_tints", "byte_range", "ticket_report",
           "describe_field", "field_extent", "leaf_fields", "decode_session", "printable", "session_to_dict",
           "ticket_state_to_dict"]

# Okabe & Ito (2008) colour-blind-safe palette, as light tints for backgrounds, one per section.
_SECTION_COLOURS = {
    "header": ("#fbe3b3", "#f5c978"),  # orange
    "auth_info": ("#cde9f8", "#a3d5f1"),  # sky blue
    "security_parameters": ("#b8e6d6", "#8bd4bb"),  # bluish green
    "tls13": ("#f9f4b8", "#f3ea7d"),  # yellow
    "extensions": ("#f3d4e6", "#e8b3d2"),  # reddish purple
    "dummy": ("#e0e0e0", "#c8c8c8"),  # grey
}
_HEADER_FIELDS = ("magic", "timestamp", "expire_time", "auth_type")


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text) -> str:
    """``text`` for a terminal: control and format characters (an escape sequence, a newline, a
    right-to-left override) escaped as ``\\n``, ``\\x1b``, ``\\u202e``, and the undecodable bytes of a
    file name (``surrogateescape``) as ``\\xff``; one line stays one line, and a name cannot drive the terminal."""
    text = str(text)
    if text.isprintable():
        return text
    out = []
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif 0xDC80 <= code <= 0xDCFF:  # a byte os.fsdecode could not decode
            out.append(f"\\x{code - 0xDC00:02x}")
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(char)
    return "".join(out)


def _section(path: str) -> str:
    if path in _HEADER_FIELDS:
        return "header"
    head = path.split(".", 1)[0].split("[", 1)[0]
    return head if head in _SECTION_COLOURS else "header"


def leaf_fields(session: DecodedSession) -> list[Field]:
    """Fields that contain no other field, in byte order: what a byte-by-byte view labels."""
    fields = sorted(session.fields or (), key=lambda f: (f.start, -(f.end - f.start)))
    leaves = []
    for i, field in enumerate(fields):
        following = fields[i + 1] if i + 1 < len(fields) else None
        if following and following.start < field.end and following.end <= field.end and following != field:
            continue  # a parent (arrival_time, ticket with its envelope parts)
        leaves.append(field)
    return leaves


def _prefix(field: Field) -> int:
    """Bytes of a length prefix inside the field's range, before its value (0 when there is none)."""
    if not isinstance(field.value, bytes):
        return 0
    return max(0, field.end - field.start - len(field.value))


def byte_range(start: int, end: int) -> str:
    """The one notation of a byte range in every view, widget, check and doc: Python's half-open slice,
    ``[802:851]``, the end excluded (so its length is ``end - start``), as ``data[802:851]`` and
    ``DecodedSession.ranges`` have it."""
    return f"[{start}:{end}]"


def field_extent(field: Field) -> str:
    """Where a field sits (:func:`byte_range`), and why its size may exceed its value's:
    ``bytes [802:851] (49 bytes: a 1-byte length, then the 48-byte value)``."""
    size = field.end - field.start
    text = f"bytes {byte_range(field.start, field.end)} ({size} byte{'s' if size != 1 else ''}"
    prefix = _prefix(field)
    if prefix and field.value:
        text += f": a {prefix}-byte length, then the {len(field.value)}-byte value"
    elif prefix:
        text += f": a {prefix}-byte length of 0, no value"
    return text + ")"


def describe_field(session: DecodedSession, field: Field, show_secrets: bool = False) -> str:
    """A one-line meaning of a field's value, in words a newcomer can check. A value stored after a
    length prefix says so, so its size adds up with the field's byte range."""
    path, value = field.path, field.value
    leaf = path.rsplit(".", 1)[-1]
    after = f" after a {_prefix(field)}-byte length" if _prefix(field) else ""
    if is_secret(path) and not show_secrets:
        return f"({len(value)} bytes{after}, {REDACTED})" if isinstance(value, bytes) else REDACTED
    if path == "dummy":
        return "dummy: no ticket yet (not an error)"
    if path == "magic":
        return f"0x{value:08X} = 0x{PACKED_SESSION_MAGIC_BASE:08X} + GnuTLS {session.gnutls_version}"
    if path == "timestamp":
        return f"{value} = {_iso(session.start_time)}"
    if path == "expire_time":
        return f"{value} s"
    simple = {
        "auth_type": session.auth_type, "entity": session.entity, "prf": session.prf,
        "pversion": session.protocol, "cs": session.cipher_suite, "grp": session.group,
        "client_auth_type": session.client_auth_type, "server_auth_type": session.server_auth_type,
        "client_ctype": session.client_certificate_type, "server_ctype": session.server_certificate_type,
        "server_sign_algo": session.server_signature_algorithm,
        "client_sign_algo": session.client_signature_algorithm,
    }
    if leaf in simple and path.startswith(("security_parameters", "auth_type")):
        return f"{value} = {simple[leaf]}"
    if leaf == "gid":
        return f"{value} = {EXTENSION_GIDS.get(value, 'application extension')}"
    if leaf == "server_name":
        return repr(value.decode("utf-8", "replace"))
    if isinstance(value, bytes):
        if not value:
            return f"(empty{after})"
        shown = value[:16].hex()
        return f"{len(value)} bytes{after}: {shown}{'...' if len(value) > 16 else ''}"
    if "sign_algorithms[" in path:
        return f"{value} = {name_of(SIGN_ALGORITHMS, value)}"
    return str(value)


def _iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z") if moment else "(out of range)"


def _dump_lines(data: bytes, indent: str) -> list[str]:
    """OpenSSL ``BIO_dump`` style: ``0000 - 01 02 ...-.. ascii``."""
    lines = []
    for at in range(0, len(data), 16):
        chunk = data[at : at + 16]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        if len(chunk) > 8:
            hexes = hexes[:23] + "-" + hexes[24:]
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{indent}{at:04x} - {hexes:<48}  {text}")
    return lines


def _c_string(value: bytes) -> str:
    return value.rstrip(b"\0").decode("utf-8", "replace")


def _secret(value: bytes | None, show: bool) -> str:
    if value is None:
        return "(none)"
    return value.hex().upper() if show else REDACTED


def text_report(session: DecodedSession, show_secrets: bool = False) -> str:
    """The ``openssl sess_id -text`` of a GnuTLS blob, plus what only GnuTLS stores."""
    s = session
    if s.dummy:
        return "GnuTLS-Session: dummy (4 bytes 00 00 00 00)\n    " + printable(s.dummy_reason) + "\n"
    out = ["SSL-Session:"]
    add = out.append
    add(f"    Protocol  : {s.protocol}")
    add(f"    Cipher    : {s.cipher_suite or '(not stored by GnuTLS ' + s.gnutls_version + ' for TLS 1.3)'}"
        + (f" (0x{s.cipher_suite_id:04X})" if s.cipher_suite_id is not None else ""))
    add(f"    Session-ID: {s.session_id.hex().upper()}")
    if s.tls13 is not None:
        add(f"    Resumption PSK: {_secret(s.tls13.resumption_master_secret, show_secrets)}"
            "  (the resumption master secret; PSK = HKDF-Expand-Label(it, \"resumption\", nonce))")
    if s.master_secret is not None:
        add(f"    Master-Key: {_secret(s.master_secret, show_secrets)}")
    if s.psk_username is not None:
        hint = _c_string(s.psk_hint or b"") or "None"
        add(f"    PSK identity: {_c_string(s.psk_username)}")
        add(f"    PSK identity hint: {hint}")
    if s.srp_username is not None:
        add(f"    SRP username: {_c_string(s.srp_username)}")
    ticket = s.ticket
    if s.tls13 is not None:
        add(f"    TLS session ticket lifetime hint: {s.tls13.lifetime} (seconds)")
    if ticket is not None:
        add("    TLS session ticket (a bearer credential: whoever holds it can resume):")
        out.extend(_dump_lines(ticket, "    "))
    add(f"    Start Time: {s.timestamp} ({_iso(s.start_time)})")
    add(f"    Timeout   : {s.expire_time} (sec)  [the packing side's cache expiration]")
    if s.extended_master_secret is not None:
        add(f"    Extended master secret: {'yes' if s.extended_master_secret else 'no'}")
    add("GnuTLS:")
    add(f"    Packed by : GnuTLS {s.gnutls_version} (magic 0x{s.magic:08X}), {len(s.data)} bytes")
    add(f"    Entity    : {s.entity}    Auth: {s.auth_type}    PRF: {s.prf}")
    add(f"    Cert types: client {s.client_certificate_type}, server {s.server_certificate_type}")
    if s.group is not None:
        add(f"    Group     : {s.group}    Signatures: server {s.server_signature_algorithm}, "
            f"client {s.client_signature_algorithm}    Encrypt-then-MAC: {'yes' if s.encrypt_then_mac else 'no'}")
    for i, der in enumerate(s.peer_certificates):
        add(f"    Peer certificate {i}: {len(der)} bytes DER, SHA-256 {hashlib.sha256(der).hexdigest()}")
    if s.tls13 is not None:
        t = s.tls13
        add(f"    Ticket age add: {t.ticket_age_add}    Nonce: {t.nonce.hex()}")
        add(f"    Ticket arrived: {_iso(t.arrival_time)}    Max early data: {t.max_early_data_size}")
    for extension in s.extensions:
        add(f"    Extension {extension.gid} ({extension.name}): {_extension_text(extension, show_secrets)}")
    return "\n".join(printable(line) for line in out) + "\n"  # one line per line, whatever a value holds


def _extension_text(extension, show_secrets: bool) -> str:
    data = extension.data
    if isinstance(data, bytes):
        return f"{len(data)} raw bytes {data[:16].hex()}"
    parts = []
    for key, value in data.items():
        if is_secret(key) and not show_secrets:
            value = REDACTED
        elif key == "sign_algorithms":
            value = " ".join(name_of(SIGN_ALGORITHMS, v) for v in value)
        elif key in ("profiles", "selected_profile") and value is not None:
            value = " ".join(name_of(SRTP_PROFILES, v) for v in (value if isinstance(value, list) else [value]))
        elif isinstance(value, bytes):
            value = value.decode("utf-8", "replace") if key in ("server_name", "username") else f"{len(value)} bytes"
        parts.append(f"{key}={value}")
    return ", ".join(parts)


#: Bounds of the views, so that even a blob at the decoder's size limit renders quickly: the HTML byte
#: grid shows the first ``HTML_GRID_BYTES`` bytes and the legend the first ``HTML_LEGEND_FIELDS``
#: fields; a ``full`` hex dump shows at most ``HEXDUMP_FULL_ROWS`` rows of one field.
HTML_GRID_BYTES = 4096
HTML_LEGEND_FIELDS = 400
HEXDUMP_FULL_ROWS = 256


def hexdump(session: DecodedSession, show_secrets: bool = False, full: bool = False) -> str:
    """Offset, bytes and field, one field per line (long fields: 2 rows unless ``full``)."""
    lines = [f"{'offset':>6}  {'bytes':<48} field"]
    for field in leaf_fields(session):
        raw = session.data[field.start : field.end]
        if is_secret(field.path) and not show_secrets:
            keep = _prefix(field)
            shown = [f"{b:02x}" for b in raw[:keep]] + ["**"] * (len(raw) - keep)
        else:
            shown = [f"{b:02x}" for b in raw]
        rows = [shown[i : i + 16] for i in range(0, len(shown), 16)] or [[]]
        limit = min(len(rows), HEXDUMP_FULL_ROWS) if full or len(rows) <= 3 else 2
        label = printable(f"{field.path} = {describe_field(session, field, show_secrets)}")
        for n, row in enumerate(rows[:limit]):
            lines.append(f"{field.start + 16 * n:06x}  {' '.join(row):<48} {label if n == 0 else ''}".rstrip())
        if len(rows) > limit:
            lines.append(f"{'':6}  ... {len(raw) - 16 * limit} more bytes of {field.path}")
    return "\n".join(lines) + "\n"


def html_view(session: DecodedSession, show_secrets: bool = False) -> str:
    """A self-contained HTML block: summary, coloured byte grid with hover, and a field legend."""
    leaves = leaf_fields(session)
    rules, legend = [], []
    for index, field in enumerate(leaves[:HTML_LEGEND_FIELDS]):
        light, dark = _SECTION_COLOURS[_section(field.path) if field.path != "dummy" else "dummy"]
        rules.append(f".gl-blob .f{index}{{background:{light if index % 2 else dark}}}")
        rules.append(f".gl-blob:has(.f{index}:hover) .f{index}{{outline:2px solid #000;background:#fff}}")
        legend.append(
            f'<tr class="f{index}"><td>{byte_range(field.start, field.end)}</td><td>{html.escape(field.path)}</td>'
            f"<td>{html.escape(describe_field(session, field, show_secrets))}</td></tr>"
        )
    if len(leaves) > HTML_LEGEND_FIELDS:
        legend.append(f"<tr><td></td><td>... {len(leaves) - HTML_LEGEND_FIELDS} more fields</td><td></td></tr>")
    masked = [] if show_secrets else [(f.start + _prefix(f), f.end) for f in leaves if is_secret(f.path)]
    grid = hex_dump_html(session.data, [(f.path, f.start, f.end) for f in leaves], masked=masked,
                         span_classes=True, limit=HTML_GRID_BYTES)
    summary = html.escape(repr(session))
    style = (
        ".gl-blob{font-family:ui-monospace,monospace;font-size:12px;color:#000}"
        ".gl-blob .gl-byte{padding:0 1px}"
        ".gl-blob table{border-collapse:collapse;margin-top:8px}.gl-blob td{padding:1px 6px;text-align:left}"
        + "".join(rules)
    )
    return (
        f'<div class="gl-blob"><style>{style}</style><div><b>{summary}</b></div>'
        + (f"<div>{html.escape(session.dummy_reason)}</div>" if session.dummy else "")
        + f'<div class="gl-grid">{grid}</div>'
        + f"<table><tr><th>bytes</th><th>field</th><th>value</th></tr>{''.join(legend)}</table></div>"
    )


#: The tints :func:`hex_dump_html` gives its spans in turn (Okabe-Ito, light): sky blue, orange, bluish
#: green, reddish purple; the highlighted range is Okabe-Ito yellow, masked bytes show as ``··``.
_SPAN_TINTS = ("#cde9f8", "#fbe3b3", "#b8e6d6", "#f3d4e6")
_HIGHLIGHT = "#F0E442"
_MASK = "··"


def span_tints(spans) -> list:
    """The tint :func:`hex_dump_html` gives each span: the colour legend of a dump."""
    return [_SPAN_TINTS[i % len(_SPAN_TINTS)] for i in range(len(spans))]


def hex_dump_html(data: bytes, spans=(), highlight=None, masked=(), width: int = 16, window=None,
                  max_height: str | None = None, scroll_to: int | None = None, span_classes: bool = False,
                  limit: int | None = None) -> str:
    """An HTML hex dump of any bytes (a blob, a record, a handshake message): offsets, bytes tinted per span
    ``(name, start, end)``, the ``highlight`` range ``(start, end)`` marked, ``masked`` ranges shown as ``··``
    (their bytes never reach the page). ``window=(start, end)`` shows only the rows holding those bytes (at
    most 6; a gap is marked ``…``); ``max_height`` makes the dump scroll. ``scroll_to=offset`` starts what
    shows at that byte's row (one row of context above it): the rows before fold into a ``<details>`` that
    opens on a click, so a long dump is "scrolled" to the selection without a script. ``span_classes``: each
    byte gets the class ``f<span index>`` instead of a tint, for a page that colours (and hovers) spans with
    its own CSS (:func:`html_view`); ``limit``: show the first ``limit`` bytes and say how many more there are.
    Every byte's title names its span and offset."""
    tint: list = [None] * len(data)
    title = [""] * len(data)
    owner: list = [None] * len(data)
    for index, (tone, (name, start, end)) in enumerate(zip(span_tints(spans), spans)):
        for k in range(max(start, 0), min(end, len(data))):
            tint[k], title[k], owner[k] = tone, name, index
    hidden = bytearray(len(data))
    for start, end in masked:
        for k in range(max(start, 0), min(end, len(data))):
            hidden[k] = 1
    lo, hi = highlight if highlight else (-1, -1)
    shown = len(data) if limit is None else min(len(data), limit)
    starts = list(range(0, shown, width))
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
        for k in range(row, min(row + width, shown)):
            text = _MASK if hidden[k] else f"{data[k]:02x}"
            if lo <= k < hi:
                style = f" style='background:{_HIGHLIGHT};font-weight:bold'"
            else:
                style = "" if span_classes else f" style='background:{tint[k]}'" if tint[k] else " style=''"
            kind = f"gl-byte f{owner[k]}" if span_classes else "gl-byte"
            cells.append(f"<span class='{kind}'{style} title='{html.escape(title[k] or '?')} (byte {k})'>{text}</span>")
        rows.append(f"<span class='gl-off' style='color:#777'>{row:06x}</span>  " + " ".join(cells))
    if scroll_to is not None and window is None:
        folded = sum(1 for row in starts if row is not None and row < (scroll_to // width - 1) * width)
        if folded:  # the <details> is a block of its own: it opens the first row shown, no blank line after it
            rows[:folded + 1] = [f"<details class='gl-rows-above'><summary style='color:#777;cursor:pointer'>▲ {folded} "
                                 f"row{'s' if folded != 1 else ''} above: bytes {byte_range(0, folded * width)}</summary>"
                                 + "\n".join(rows[:folded]) + "</details>" + rows[folded]]
    if shown < len(data) and window is None:
        rows.append(f"... {len(data) - shown} more bytes (the first {shown} are shown)")
    scroll = f";max-height:{max_height};overflow-y:auto" if max_height else ""
    return (f"<pre class='gl-hexdump' style='font-size:12px;line-height:1.35;margin:0{scroll}'>"
            + "\n".join(rows) + "</pre>")


def ticket_report(decrypted, show_secrets: bool = False) -> str:
    """Text view of a decrypted server ticket (:class:`gnutls_lab.analysis._ticket_keys.DecryptedTicket`)."""
    view = ticket_state_to_dict(decrypted, show_secrets)
    out = [f"Ticket state ({view['protocol']}, key name {view['key_name']}, period {view['period']}):"]
    for key in ("prf", "lifetime", "ticket_age_add", "nonce", "resumption_master_secret", "creation_time"):
        if key in view:
            out.append(f"    {key}: {view[key]}")
    out.append(f"    padding: {len(decrypted.padding)} bytes")
    out.append("    server's packed session:")
    nested = text_report(decode(decrypted.state), show_secrets)
    out.extend("    " + line for line in nested.splitlines())
    return "\n".join(printable(line) for line in out) + "\n"


# -- the JSON view -----------------------------------------------------------------------------

def _text(value: bytes | None) -> str | None:
    """A C string as stored (PSK hint and SRP username keep their NUL): shown without it."""
    if value is None:
        return None
    return value[:-1].decode("utf-8", "backslashreplace") if value.endswith(b"\0") else value.decode(
        "utf-8", "backslashreplace"
    )


def _jsonable(value, show_secrets: bool, key: str = ""):
    if is_secret(key) and value is not None and not show_secrets:
        return REDACTED
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {k: _jsonable(v, show_secrets, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, show_secrets, key) for v in value]
    return value


def _lower(name: str | None) -> str | None:
    return name.lower() if name else name


def session_to_dict(s: DecodedSession, show_secrets: bool = False) -> dict:
    """A decoded session as a JSON-ready dict (bytes as hex, secrets ``"redacted"`` unless ``show_secrets``):
    what ``gnutls-lab decode --json`` prints."""
    keep = show_secrets
    tls13 = s.tls13
    cs = s.cipher_suite_id
    return {
        "gnutls_version": s.gnutls_version,
        "magic": None if s.dummy else f"{s.magic:08x}",
        "dummy": s.dummy,
        "dummy_reason": s.dummy_reason,
        "size": len(s.data),
        "entity": _lower(s.entity),
        "timestamp": s.timestamp,
        "timestamp_utc": _iso_or_none(s.start_time),
        "expire_time": s.expire_time,
        "expires_at_utc": _iso_or_none(s.expires_at),
        "auth_type": _lower(s.auth_type),
        "protocol": s.protocol,
        "cipher_suite": s.cipher_suite,
        "cipher_suite_id": None if cs is None else f"{cs:04x}",
        "prf": s.prf,
        "client_auth_type": _lower(s.client_auth_type),
        "server_auth_type": _lower(s.server_auth_type),
        "session_id": None if s.dummy else s.session_id.hex(),
        "client_certificate_type": s.client_certificate_type,
        "server_certificate_type": s.server_certificate_type,
        "peer_certificates": [c.hex() for c in s.peer_certificates],
        "ocsp_responses": [o.hex() for o in s.ocsp_responses],
        "dh": _jsonable(s.dh, keep),
        "psk_username": _text(s.psk_username),
        "psk_hint": _text(s.psk_hint),
        "srp_username": _text(s.srp_username),
        "master_secret": _jsonable(s.master_secret, keep, "master_secret"),
        "client_random": _jsonable(s.client_random, keep),
        "server_random": _jsonable(s.server_random, keep),
        "max_record_send_size": s.max_record_send_size,
        "max_record_recv_size": s.max_record_recv_size,
        "group": s.group,
        "server_signature_algorithm": s.server_signature_algorithm,
        "client_signature_algorithm": s.client_signature_algorithm,
        "extended_master_secret": s.extended_master_secret,
        "encrypt_then_mac": s.encrypt_then_mac,
        "server_name": s.server_name,
        "tls13": None if tls13 is None else {
            "lifetime": tls13.lifetime,
            "ticket_age_add": tls13.ticket_age_add,
            "nonce": tls13.nonce.hex(),
            "ticket": tls13.ticket.hex(),
            "ticket_envelope": _jsonable(s.ticket_envelope(), keep),
            "resumption_master_secret": _jsonable(tls13.resumption_master_secret, keep, "resumption_master_secret"),
            "arrival_time": _iso_or_none(tls13.arrival_time),
            "arrival_time_raw": list(tls13.arrival_time_raw),
            "max_early_data_size": tls13.max_early_data_size,
        },
        "extensions": [
            {"gid": e.gid, "name": e.name, "data": _jsonable(e.data, keep)} for e in s.extensions
        ],
    }


def ticket_state_to_dict(decrypted, show_secrets: bool = False) -> dict:
    """JSON view of a decrypted server ticket (:func:`gnutls_lab.analysis.decrypt_ticket`), the session's
    names reused."""
    fields = decrypted.fields
    view = {
        "protocol": decrypted.protocol,
        "key_name": decrypted.key.key_name.hex(),
        "period": decrypted.key.period,
        "padding": decrypted.padding.hex(),
    }
    if fields:
        seconds, nanoseconds = fields["creation_time"]
        view.update(
            prf=name_of(MACS, fields["prf"]),
            lifetime=fields["lifetime"],
            ticket_age_add=fields["age_add"],
            nonce=fields["nonce"].hex(),
            resumption_master_secret=_jsonable(
                fields["resumption_master_secret"], show_secrets, "resumption_master_secret"
            ),
            creation_time=_iso_or_none(_utc(seconds, nanoseconds)),
            creation_time_raw=[seconds, nanoseconds],
        )
    view["state"] = session_to_dict(decode(decrypted.state, annotate=False), show_secrets)
    return view


def _utc(seconds: int, nanoseconds: int = 0) -> datetime | None:
    try:
        return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds, microseconds=nanoseconds // 1000)
    except OverflowError:  # a u64 of seconds can exceed year 9999
        return None


def _iso_or_none(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


#: ``decode``, kept under the name the notebooks learnt first; a decoded session shows :func:`html_view`
#: in Jupyter whatever was imported first (``gnutls_lab/__init__.py`` registers it with IPython).
decode_session = decode
