"""The server's session ticket: its envelope and the states it encrypts, as ``construct`` schemas.

The decoder reads a session's ticket with :data:`TicketEnvelope`, and
:mod:`gnutls_lab.analysis._ticket_keys` derives the keys and decrypts with these schemas. The same envelope
carries the TLS 1.2 SessionTicket (RFC 5077) and the TLS 1.3 PSK identity (RFC 8446 4.6.1), in GnuTLS
3.6.4 to 3.8.x (``lib/ext/session_ticket.c:_gnutls_encrypt_session_ticket``, struct ``ticket_st``)::

    key_name[16] | IV[16] | u16 encrypted_state_len | encrypted_state | mac[20]     (54 + len bytes)

``mac`` = HMAC-SHA1(mac key, everything before it) (``digest_ticket``); ``encrypted_state`` is
AES-256-CBC of a state zero-padded (not PKCS#7) to a multiple of 16. ``docs/formats.md`` (section 2)
describes the envelope and the states field by field.
"""

from __future__ import annotations

from construct import Rebuild, len_, this

from ..errors import BlobFormatError

from ._gnutls_ids import MACS
from ._layout import Bytes, Ended, Fields, Int, Rest, Section, parse_span
from ._session_blob import Blob1, PackedSession, SessionBlob, Spanned, Timespec

__all__ = [
    "TICKET_KEY_NAME_SIZE",
    "TICKET_IV_SIZE",
    "TICKET_MAC_SIZE",
    "TICKET_OVERHEAD",
    "TicketEnvelope",
    "Tls13TicketState",
    "Tls12TicketState",
    "parse_envelope",
    "with_envelopes",
]

TICKET_KEY_NAME_SIZE = 16
TICKET_IV_SIZE = 16
TICKET_MAC_SIZE = 20
#: Envelope bytes around the ciphertext: key_name + IV + u16 length + mac.
TICKET_OVERHEAD = TICKET_KEY_NAME_SIZE + TICKET_IV_SIZE + 2 + TICKET_MAC_SIZE

#: ``lib/ext/session_ticket.c:_gnutls_encrypt_session_ticket`` / ``pack_ticket`` (3.6.4-3.8.x).
#: The MAC covers every byte before it.
TicketEnvelope = Spanned(
    Ended(
        Fields(
            "key_name" / Bytes(TICKET_KEY_NAME_SIZE),
            "IV" / Bytes(TICKET_IV_SIZE),
            "encrypted_state_len" / Rebuild(Int(2), len_(this.encrypted_state)),
            "encrypted_state" / Bytes(this.encrypted_state_len),
            "mac" / Bytes(TICKET_MAC_SIZE),
        ),
        "{n} bytes after the MAC: not a GnuTLS ticket envelope",
    )
)

#: ``lib/tls13/session_ticket.c:pack_ticket`` (3.6.5-3.8.x): what a TLS 1.3 ticket decrypts to.
#: ``state`` is the server's own packed session (auth info usually empty, TLS 1.3 section of
#: length 0), u16-prefixed. ``prf`` is a u16 here but a u32 in the security parameters. Zero
#: padding follows.
Tls13TicketState = Spanned(
    Fields(
        "prf" / Int(2, MACS),
        "age_add" / Int(4),
        "lifetime" / Int(4),
        "resumption_master_secret" / Blob1,
        "nonce" / Blob1,
        "state" / Section(SessionBlob, optional=False, width=2, bare=True),
        "creation_time" / Timespec,
        "padding" / Rest(),
    )
)

#: ``lib/ext/session_ticket.c:_gnutls_encrypt_session_ticket`` under TLS 1.2: the server's packed
#: session (``_gnutls_session_pack``, entity SERVER) followed by zero padding.
Tls12TicketState = Spanned(Fields("state" / PackedSession, "padding" / Rest()))


def parse_envelope(ticket: bytes, fields: list | None = None, base: int = 0, root: str = "ticket") -> dict:
    """The envelope fields of a GnuTLS server ticket (:class:`BlobFormatError` if it is none).

    Paths start with ``root`` (``ticket.IV``); ``fields`` (a list) receives the byte ranges, offset by ``base``.
    """
    return parse_span(TicketEnvelope, ticket, fields, base, root)


def with_envelopes(fields: list) -> list:
    """``fields`` of a session parse, each ticket followed by the fields of its envelope (if it is one).

    A ticket that is not a GnuTLS envelope (another server's) stays one opaque field.
    """
    out = []
    for field in fields:
        out.append(field)
        path, start, end, value = field
        if path.endswith(".ticket") and isinstance(value, bytes) and len(value) >= TICKET_OVERHEAD:
            inner: list = []
            try:
                parse_envelope(value, inner, base=end - len(value), root=path)
            except BlobFormatError:
                continue
            out.append((path + ".length", start, end - len(value), len(value)))
            out.extend(inner)
    return out
