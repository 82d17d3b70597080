"""What the widgets share: the sender colours and the field table beside a hex dump.

The hex dump itself is :func:`gnutls_lab.faces._views.hex_dump_html`, the one HTML dump of the package.
"""

from __future__ import annotations

import html

from ._plots import OKABE_ITO

__all__ = ["CLIENT_COLOUR", "SERVER_COLOUR", "sender_arrow", "field_table", "short_bytes"]

# The plots' Okabe-Ito palette (colour-blind-safe): client blue, server vermillion.
CLIENT_COLOUR, SERVER_COLOUR = OKABE_ITO["blue"], OKABE_ITO["vermillion"]


def sender_arrow(sender: str) -> str:
    """``client → server`` (or the reverse) in the sender's colour."""
    peer = "server" if sender == "client" else "client"
    colour = CLIENT_COLOUR if sender == "client" else SERVER_COLOUR
    return f"<b style='color:{colour}'>{sender} → {peer}</b>"


def field_table(rows, tints=None, purpose=None) -> str:
    """The fields of a step: a colour swatch matching the field's bytes in the dump, then the row's cells
    (field, bytes, value), and ``purpose(field)``, why the field is there, when any row has one."""
    cell = "style='text-align:left;font-family:monospace;padding:1px 8px;font-size:12px'"
    prose = "style='text-align:left;padding:1px 8px;font-size:12px'"
    why = purpose or (lambda name: "")
    with_purpose = any(why(str(r[0])) for r in rows)
    body = []
    for index, row in enumerate(rows):
        swatch = tints[index] if tints else None
        cells = [f"<td style='background:{swatch};width:1em'></td>" if swatch else "<td></td>"]
        cells += [f"<td {cell}>{html.escape(str(c))}</td>" for c in row]
        if with_purpose:
            cells.append(f"<td {prose}>{html.escape(why(str(row[0])))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    heads = ("", "field", "bytes", "value") + (("why it is there",) if with_purpose else ())
    head = "".join(f"<th {cell}>{h}</th>" for h in heads)
    return (f"<table class='gl-fields' style='border-collapse:collapse;margin:4px 0'><tr>{head}</tr>"
            f"{''.join(body)}</table>")


def short_bytes(value: bytes) -> str:
    """Up to 12 bytes in hex, or the first 8 and the size."""
    return value.hex(" ") if len(value) <= 12 else f"{value[:8].hex(' ')} … ({len(value)} bytes)"
