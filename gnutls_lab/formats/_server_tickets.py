"""Session tickets of servers other than GnuTLS: their byte layouts, as ``construct`` schemas.

RFC 5077 leaves a ticket's contents to the server ("opaque"), and every implementation chose its own
envelope around the encrypted session state. ``gnutls-lab audit`` reads tickets from servers it did not
write, so it needs each layout to tell which one a ticket has (the fingerprint) and where the key name,
IV, ciphertext and MAC sit (the weak-key trial). Each schema below cites the function that writes the
format; the sizes were read from those sources (the versions named), not measured:

- **OpenSSL** 1.1.0 to 3.x (``ssl/statem/statem_srvr.c:construct_stateless_ticket``, read back by
  ``ssl/t1_lib.c:tls_decrypt_ticket``), also BoringSSL and every server that keeps OpenSSL's ticket
  callback layout with its own key file: nginx (``ssl_session_ticket_key``, 48 or 80 bytes), Apache
  mod_ssl (``SSLSessionTicketKeyFile``, 48 bytes), HAProxy (``tls-ticket-keys``, 48 or 80 bytes) and
  lighttpd's OpenSSL module (``ssl.stek-file``)::

      key_name[16] | IV[16] | encrypted_state (AES-CBC, PKCS#7 padded) | HMAC-SHA256[32]

  The key is AES-256 with OpenSSL's own random keys and with 80-byte key files, AES-128 with 48-byte
  files; the HMAC covers key_name, IV and ciphertext. The files split differently: nginx 48 bytes =
  name, AES, HMAC and 80 bytes = name, HMAC (32), AES (32) (``ngx_ssl_session_ticket_keys``);
  Apache = name, HMAC, AES (``ssl_init_ticket_key``); HAProxy = name, AES, HMAC
  (``struct tls_sess_key_128/256``). :data:`KEY_FILE_SPLITS` records them.
- **wolfSSL** (``src/internal.c:CreateTicket``, ``struct ExternalTicket``; ``WOLFSSL_TICKET_NAME_SZ``
  16, ``WOLFSSL_TICKET_IV_SZ`` 16, ``WOLFSSL_TICKET_MAC_SZ`` 32)::

      key_name[16] | IV[16] | u16 enc_len | encrypted_state[enc_len] | mac[32]

- **Mbed TLS** 2.x-3.x (``library/ssl_ticket.c:mbedtls_ssl_ticket_write``; ``TICKET_KEY_NAME_BYTES``
  4, ``TICKET_IV_BYTES`` 12, ``TICKET_CRYPT_LEN_BYTES`` 2, ``TICKET_AUTH_TAG_BYTES`` 16; an AEAD, AES-GCM
  by default)::

      key_name[4] | IV[12] | u16 enc_len | encrypted_state[enc_len] | tag[16]

- **Go** ``crypto/tls`` 1.21 and later (``ticket.go:Config.encryptTicket``; Caddy's tickets): no key name
  (the server tries each of its keys), AES-128-CTR, so no padding, and HMAC-SHA256; each key is
  ``SHA-512(32-byte ticket key)`` split as (unused 16, AES key 16, HMAC key 16)
  (``common.go:ticketKeyFromBytes``)::

      IV[16] | encrypted_state (AES-128-CTR) | HMAC-SHA256[32]

  Go 1.20 and earlier (``ticket.go:Conn.encryptTicket``; Caddy 2.6 on Go 1.19) put those first 16 bytes
  of the hash in front as a key name, which makes OpenSSL's shape with a CTR ciphertext of any length
  (the ``go-legacy`` layout, read with :data:`OpenSslTicket`)::

      key_name[16] | IV[16] | encrypted_state (AES-128-CTR) | HMAC-SHA256[32]

- **GnuTLS** 3.6.4 to 3.8.x: :data:`gnutls_lab.formats._ticket.TicketEnvelope` (``key_name[16] | IV[16] |
  u16 len | state | HMAC-SHA1[20]``), listed in :data:`SERVER_TICKET_LAYOUTS` beside the others.
"""

from __future__ import annotations

from typing import NamedTuple

from construct import Rebuild, len_, this

from ..errors import BlobFormatError
from ._layout import Bytes, Ended, Fields, Int, Rest, parse_span
from ._session_blob import Spanned
from ._ticket import TicketEnvelope

__all__ = [
    "OpenSslTicket",
    "WolfSslTicket",
    "MbedTlsTicket",
    "GoTicket",
    "TicketLayout",
    "SERVER_TICKET_LAYOUTS",
    "KEY_FILE_SPLITS",
    "parse_server_ticket",
]

#: ``ssl/statem/statem_srvr.c:construct_stateless_ticket`` (OpenSSL 1.1.0-3.x): no length field, the
#: ciphertext runs up to the 32-byte HMAC-SHA256.
OpenSslTicket = Spanned(
    Fields(
        "key_name" / Bytes(16),
        "IV" / Bytes(16),
        "encrypted_state" / Rest(leave=32),
        "mac" / Bytes(32),
    )
)

#: ``src/internal.c:CreateTicket`` (wolfSSL), ``struct ExternalTicket``.
WolfSslTicket = Spanned(
    Ended(
        Fields(
            "key_name" / Bytes(16),
            "IV" / Bytes(16),
            "encrypted_state_len" / Rebuild(Int(2), len_(this.encrypted_state)),
            "encrypted_state" / Bytes(this.encrypted_state_len),
            "mac" / Bytes(32),
        ),
        "{n} bytes after the MAC: not a wolfSSL ticket",
    )
)

#: ``library/ssl_ticket.c:mbedtls_ssl_ticket_write`` (Mbed TLS 2.x-3.x).
MbedTlsTicket = Spanned(
    Ended(
        Fields(
            "key_name" / Bytes(4),
            "IV" / Bytes(12),
            "encrypted_state_len" / Rebuild(Int(2), len_(this.encrypted_state)),
            "encrypted_state" / Bytes(this.encrypted_state_len),
            "tag" / Bytes(16),
        ),
        "{n} bytes after the tag: not an Mbed TLS ticket",
    )
)

#: ``crypto/tls/ticket.go:Config.encryptTicket`` (Go 1.21+).
GoTicket = Spanned(
    Fields(
        "IV" / Bytes(16),
        "encrypted_state" / Rest(leave=32),
        "mac" / Bytes(32),
    )
)


class TicketLayout(NamedTuple):
    """One implementation's ticket envelope and what is known of it.

    ``block``: the cipher's block size when the ciphertext is padded to it (CBC), else 1 (CTR, AEAD).
    ``length_field``: the layout states the ciphertext's length, so a ticket that fits is a strong match;
    without one any long enough ticket fits and only the other facts (block, key name) tell.
    """

    name: str
    schema: object
    implementations: str
    key_name_size: int
    iv_size: int
    mac_size: int
    block: int
    cipher: str
    mac: str
    length_field: bool
    source: str


SERVER_TICKET_LAYOUTS = (
    TicketLayout("gnutls", TicketEnvelope, "GnuTLS 3.6.4-3.8 (gnutls-serv, Exim, lighttpd mod_gnutls)", 16, 16,
                 20, 16, "AES-256-CBC (zero padding)", "HMAC-SHA1", True,
                 "lib/ext/session_ticket.c:_gnutls_encrypt_session_ticket"),
    TicketLayout("openssl", OpenSslTicket, "OpenSSL/BoringSSL and servers on OpenSSL's ticket callback "
                 "(nginx, Apache mod_ssl, HAProxy, lighttpd mod_openssl)", 16, 16, 32, 16,
                 "AES-128-CBC or AES-256-CBC (PKCS#7)", "HMAC-SHA256", False,
                 "ssl/statem/statem_srvr.c:construct_stateless_ticket"),
    TicketLayout("wolfssl", WolfSslTicket, "wolfSSL (lighttpd mod_wolfssl)", 16, 16, 32, 1,
                 "wolfSSL's ticket cipher", "32-byte MAC", True, "src/internal.c:CreateTicket (ExternalTicket)"),
    TicketLayout("mbedtls", MbedTlsTicket, "Mbed TLS (lighttpd mod_mbedtls)", 4, 12, 16, 1,
                 "AES-256-GCM by default (AEAD)", "AEAD tag", True, "library/ssl_ticket.c:mbedtls_ssl_ticket_write"),
    TicketLayout("go", GoTicket, "Go crypto/tls 1.21+ (Caddy)", 0, 16, 32, 1, "AES-128-CTR", "HMAC-SHA256",
                 False, "crypto/tls/ticket.go:Config.encryptTicket"),
    TicketLayout("go-legacy", OpenSslTicket, "Go crypto/tls up to 1.20 (Caddy 2.6 on Go 1.19)", 16, 16, 32, 1,
                 "AES-128-CTR", "HMAC-SHA256", False, "crypto/tls/ticket.go:Conn.encryptTicket (Go 1.20)"),
)

#: How servers on OpenSSL's layout split their key files: size → ((part, offset, length), ...).
KEY_FILE_SPLITS = {
    "nginx-48": (("name", 0, 16), ("aes", 16, 16), ("hmac", 32, 16)),
    "nginx-80": (("name", 0, 16), ("hmac", 16, 32), ("aes", 48, 32)),
    "apache-48": (("name", 0, 16), ("hmac", 16, 16), ("aes", 32, 16)),
    "haproxy-48": (("name", 0, 16), ("aes", 16, 16), ("hmac", 32, 16)),
    "haproxy-80": (("name", 0, 16), ("aes", 16, 32), ("hmac", 48, 32)),
}


def parse_server_ticket(layout: TicketLayout, ticket: bytes, fields: list | None = None) -> dict:
    """``ticket`` read with ``layout``'s schema (:class:`BlobFormatError` when it does not fit).

    A ticket also fails to fit when its ciphertext is empty, or not a whole number of the cipher's
    blocks for a padded (CBC) layout.
    """
    tree = parse_span(layout.schema, bytes(ticket), fields)
    size = len(tree["encrypted_state"])
    if size == 0 or size % layout.block:
        raise BlobFormatError(f"{size} bytes of ciphertext do not fit {layout.name}'s {layout.cipher}",
                              path="ticket.encrypted_state", offset=layout.key_name_size + layout.iv_size)
    return tree
