"""The server's session ticket: its envelope and the states it encrypts, as ``construct`` 2.10 schemas.

Declarations only; :mod:`gnutls_lab.analysis.ticket_keys` derives the keys and decrypts. The same envelope
carries the TLS 1.2 SessionTicket (RFC 5077) and the TLS 1.3 PSK identity (RFC 8446 4.6.1), in GnuTLS
3.6.4 to 3.8.x (``lib/ext/session_ticket.c:_gnutls_encrypt_session_ticket``, struct ``ticket_st``)::

    key_name[16] | IV[16] | u16 encrypted_state_len | encrypted_state | mac[20]     (54 + len bytes)

``mac`` = HMAC-SHA1(mac key, everything before it) (``digest_ticket``); ``encrypted_state`` is
AES-256-CBC of a state zero-padded (not PKCS#7) to a multiple of 16.
"""

from __future__ import annotations

from construct import Bytes, GreedyBytes, Int16ub, Int32ub, Prefixed, Struct, Terminated

from .gnutls_ids import MACS
from .session_blob import Blob1, PackedSession, SessionBlob, Timespec, named_enum

__all__ = [
    "TICKET_KEY_NAME_SIZE",
    "TICKET_IV_SIZE",
    "TICKET_MAC_SIZE",
    "TICKET_OVERHEAD",
    "TicketEnvelope",
    "Tls13TicketState",
    "Tls12TicketState",
]

TICKET_KEY_NAME_SIZE = 16
TICKET_IV_SIZE = 16
TICKET_MAC_SIZE = 20
#: Envelope bytes around the ciphertext: key_name + IV + u16 length + mac.
TICKET_OVERHEAD = TICKET_KEY_NAME_SIZE + TICKET_IV_SIZE + 2 + TICKET_MAC_SIZE

#: ``lib/ext/session_ticket.c:_gnutls_encrypt_session_ticket`` / ``pack_ticket`` (3.6.4-3.8.x).
TicketEnvelope = Struct(
    "key_name" / Bytes(TICKET_KEY_NAME_SIZE),
    "IV" / Bytes(TICKET_IV_SIZE),
    "encrypted_state" / Prefixed(Int16ub, GreedyBytes),
    "mac" / Bytes(TICKET_MAC_SIZE),
    Terminated,
)

#: ``lib/tls13/session_ticket.c:pack_ticket`` (3.6.5-3.8.x): what a TLS 1.3 ticket decrypts to.
#: ``state`` is the server's own packed session (auth info usually empty, TLS 1.3 section of
#: length 0). ``prf`` is a u16 here but a u32 in the security parameters. Zero padding follows.
Tls13TicketState = Struct(
    "prf" / named_enum(Int16ub, MACS),
    "age_add" / Int32ub,
    "lifetime" / Int32ub,
    "resumption_master_secret" / Blob1,
    "nonce" / Blob1,
    "state" / Prefixed(Int16ub, SessionBlob),
    "creation_time" / Timespec,
    "padding" / GreedyBytes,
)

#: ``lib/ext/session_ticket.c:_gnutls_encrypt_session_ticket`` under TLS 1.2: the server's packed
#: session (``_gnutls_session_pack``, entity SERVER) followed by zero padding.
Tls12TicketState = Struct("state" / PackedSession, "padding" / GreedyBytes)
