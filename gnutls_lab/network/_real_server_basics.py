"""What the real-server modules share: the errors, one expected fact, a launch, the ticket-key formats.

Kept apart so that :mod:`._real_servers` (starting and stopping) and :mod:`._real_server_kinds` (each
server's configuration) both build on it without importing each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..errors import UsageError

__all__ = ["LAB_NAMES", "SHORT_LIFETIME", "LONG_LIFETIME", "LOOPBACK", "STEK_VALID_FOR", "ServerMissing",
           "UnsupportedConfig", "ServerStartError", "Expected", "TicketKeyFormat", "TICKET_KEY_FORMATS", "Launch",
           "version_tuple"]

#: The server names (SNI) a server answers to; the lab certificate covers both and ``localhost``.
LAB_NAMES = ("a.lab.test", "b.lab.test")
#: A lifetime an audit can watch run out, and one it cannot (seconds).
SHORT_LIFETIME = 10
LONG_LIFETIME = 86400
LOOPBACK = "127.0.0.1"
#: How long a lighttpd STEK written by write_ticket_key_file stays valid (seconds after its activation).
STEK_VALID_FOR = 86400


class ServerMissing(UsageError):
    """The server program is not installed; the message is one line with the package to install."""


class UnsupportedConfig(UsageError):
    """The server cannot be configured that way; the message names the server and what it lacks."""


class ServerStartError(UsageError):
    """The server did not accept a TLS handshake in time; the message ends with its log tail."""


class Expected(NamedTuple):
    """One fact a configuration implies: its ``value`` and the ``source`` (doc page, directive, code)."""

    value: Any
    source: str


@dataclass(frozen=True)
class TicketKeyFormat:
    """How a server reads its ticket-key file, and how the keys sit in it.

    ``encoding``: ``raw`` (the bytes as they are), ``base64-lines`` (one base64 key a line) or
    ``lighttpd-stek`` (a 12-byte header: format version 0, activation and expiry times as native
    32-bit integers, then the key). ``size``: bytes of one key. ``name``, ``aes``, ``hmac``: (start,
    end) of the key name, cipher key and MAC key inside one key (None for GnuTLS: a 64-byte master
    key from which libgnutls derives a key name and keys per period). ``keys``: how many keys the file must hold;
    ``encrypting``: which one encrypts new tickets (0 = first). ``cipher``: what protects tickets.
    """

    kind: str
    encoding: str
    size: int
    name: tuple | None
    aes: tuple | None
    hmac: tuple | None
    cipher: str
    keys: int = 1
    encrypting: int = 0
    source: str = ""

    def key_name(self, key: bytes) -> bytes:
        """The key name this key puts at the front of its tickets; None for GnuTLS, whose key names are
        derived from the master key per key period (lib/stek.c)."""
        return None if self.name is None else key[self.name[0]:self.name[1]]


_OPENSSL_CBC = "AES-CBC + HMAC-SHA256 (OpenSSL ticket layout: key name 16, IV 16, ciphertext, MAC 32)"
TICKET_KEY_FORMATS = {
    # ngx_event_openssl.c ngx_ssl_session_ticket_keys: 48 bytes = name, AES-128, HMAC; 80 = name, HMAC, AES-256
    "nginx": TicketKeyFormat("nginx", "raw", 80, (0, 16), (48, 80), (16, 48), "AES-256-" + _OPENSSL_CBC,
                             source="nginx docs, ngx_http_ssl_module, ssl_session_ticket_key (80 or 48 bytes "
                                    "of random data; 80: AES256); order name|HMAC|AES from ngx_event_openssl.c"),
    # ssl_engine_config.c: key_name 16, hmac_secret 16, aes_key 16
    "apache": TicketKeyFormat("apache", "raw", 48, (0, 16), (32, 48), (16, 32), "AES-128-" + _OPENSSL_CBC,
                              source="Apache mod_ssl docs, SSLSessionTicketKeyFile (48 bytes of random data); "
                                     "order name|HMAC|AES from ssl_engine_config.c"),
    # ssl_sock.c struct tls_sess_key_256: name, aes_key, hmac_key
    "haproxy": TicketKeyFormat("haproxy", "base64-lines", 80, (0, 16), (16, 48), (48, 80), "AES-256-" + _OPENSSL_CBC,
                               keys=3, encrypting=1,
                               source="HAProxy configuration.txt, bind option tls-ticket-keys (48 or 80 bytes, "
                                      "base64, one a line, at least 3; the penultimate encrypts)"),
    "lab": TicketKeyFormat("lab", "raw", 64, None, None, None, "GnuTLS (AES-256-GCM from the master key)",
                           source="gnutls_session_ticket_enable_server(3): a 64-byte master key "
                                  "(gnutls-lab serve --ticket-key)"),
}
_STEK = ("lighttpd docs, Docs_SSL ssl.stek-file; format in mod_*.c: 4-byte version 0, activation and "
         "expiry time, 16-byte name, 32-byte HMAC key, 32-byte AES key")
for _kind, _cipher, _name in (("lighttpd-openssl", "AES-256-" + _OPENSSL_CBC, (0, 16)),
                              ("lighttpd-wolfssl", "AES-256-" + _OPENSSL_CBC, (0, 16)),
                              ("lighttpd-mbedtls", "AES-256-GCM (mbedTLS ssl_ticket: 4-byte key name)", (0, 4)),
                              ("lighttpd-gnutls", "GnuTLS: the file's first 64 key bytes are the master key",
                               None)):
    TICKET_KEY_FORMATS[_kind] = TicketKeyFormat(
        _kind, "lighttpd-stek", 80, _name, (48, 80) if "gnutls" not in _kind else None,
        (16, 48) if "gnutls" not in _kind and "mbedtls" not in _kind else None, _cipher, source=_STEK)


def version_tuple(version: str) -> tuple:
    """(1, 22, 1) from ``nginx/1.22.1``: the first dotted number in the string."""
    found = re.search(r"(\d+(?:\.\d+)+)", version)
    return tuple(int(part) for part in found.group(1).split(".")) if found else ()


@dataclass
class Launch:
    """What a kind's builder hands back: the command, its environment, the facts, the log files."""

    argv: list
    expected: dict
    env: dict | None = None
    logs: list = field(default_factory=list)  # further log files to show on failure
    stdin_pipe: bool = False  # keep standard input open (openssl s_server stops at its end)
    starttls: str | None = None
    answers: str | None = "http"  # what it answers, then closes: "http", "smtp" or None (it never closes)
    reload_signal: int | None = None  # what makes it read its configuration and key files again, if a signal does
