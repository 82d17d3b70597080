"""The lab server's own look at the tickets a client offers, before libgnutls unpacks them.

Why. A GnuTLS server decrypts an offered ticket with its key, checks its MAC and unpacks the state
inside with the same code as ``gnutls_session_set_data``, which trusts every count in it: a state
changed by whoever holds the key (and encrypted and MACed again) kills the server's process
(``findings/forged-ticket-crash/``: a TLS 1.2 ticket whose certificate count is 1, whose OCSP count is
0xFFFFFFFF or whose first extension id is 0xFFFFFFFF). The lab hands its ticket key to its users, so
the lab server must survive that.

How. :class:`TicketGuard` is called with each ClientHello from the server session's handshake hook,
whose PRE call libgnutls makes before it reads the hello (``lib/handshake.c``,
``_gnutls_recv_handshake``). For every ticket in it (the TLS 1.2 ``session_ticket`` extension and each
TLS 1.3 PSK identity) it does what libgnutls will do: find the period key named at the start of the
ticket among those libgnutls accepts (this period and the one before, ``lib/stek.c``), verify the
HMAC, decrypt. A ticket that fails there is refused by libgnutls without being unpacked, so it passes.
A ticket that opens is one this server's key issued (or forged): its state is parsed with the
decoder's schema and checked by the preflight (:func:`gnutls_lab.sessions.preflight`, the check
:meth:`~gnutls_lab.sessions.ClientSession.set_data` makes),
and a state that fails either raises :class:`TicketRefused`, which ends the handshake before
libgnutls reads the hello.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

from ..analysis import decrypt_ticket, period_key, period_of
from ..binding import library_info
from ..errors import BlobFormatError, GnuTLSLabError, TicketKeyError
from ..formats import TICKET_KEY_NAME_SIZE, TICKET_OVERHEAD, read_client_hello
from ..sessions import preflight

__all__ = ["TicketGuard", "TicketRefused", "HelloOffer"]

_DEFAULT_EXPIRE = 21600  # libgnutls's gnutls_db_set_cache_expiration default


class TicketRefused(GnuTLSLabError):
    """An offered ticket opened with the server's key, but libgnutls must not unpack its state."""


@dataclass(frozen=True)
class HelloOffer:
    """What a ClientHello offers to resume with, as the guard judged it.

    ``session_id``: the legacy session ID (random padding under TLS 1.3, a resumption attempt under
    TLS 1.2 only if the server issued it); ``session_ticket``: the TLS 1.2 ticket (None: no extension,
    ``b""``: asking for one); ``psk_identities``: the TLS 1.3 identities; ``tickets_opened``: how many
    of the offered tickets this server's key opened (issued here, or forged with its key).
    """

    session_id: bytes
    session_ticket: bytes | None
    psk_identities: tuple
    tickets_opened: tuple  # the tickets (bytes) that opened with the key


class TicketGuard:
    """Checks the tickets a ClientHello offers against ``master_key`` (the server's 64-byte key) for a
    server whose ticket lifetime is ``lifetime`` seconds (None: libgnutls's 21600)."""

    def __init__(self, master_key: bytes, lifetime: int | None = None):
        self.master_key = bytes(master_key)
        self.expire = lifetime or _DEFAULT_EXPIRE
        self.version = library_info().version_tuple
        self._keys: dict = {}  # period -> PeriodKey, the few in use

    def _period_for(self, key_name: bytes) -> int | None:
        """The period whose key is named ``key_name``, among those libgnutls accepts now (and the next,
        for a clock a second ahead); None when the key did not name it."""
        now = period_of(int(time.time()), self.expire)
        for period in (now, now - 1, now + 1):
            key = self._keys.get(period)
            if key is None:
                if len(self._keys) > 8:
                    self._keys.clear()
                key = self._keys[period] = period_key(self.master_key, period)
            if hmac.compare_digest(key.key_name, key_name):
                return period
        return None

    def check_ticket(self, ticket: bytes, tls13: bool) -> bool:
        """True when ``ticket`` opens with the key and its state may be unpacked; False when it does not
        open (libgnutls refuses it too, safely); :class:`TicketRefused` when it opens but must not go on."""
        if len(ticket) < TICKET_OVERHEAD:
            return False
        period = self._period_for(bytes(ticket[:TICKET_KEY_NAME_SIZE]))
        if period is None:
            return False
        kind = "TLS 1.3 PSK identity" if tls13 else "TLS 1.2 session ticket"
        try:
            opened = decrypt_ticket(ticket, self.master_key, tls13=tls13, period=period)
            preflight(opened.state, self.version)
        except TicketKeyError:
            return False  # the MAC does not verify: libgnutls stops there too
        except BlobFormatError as exc:
            reason = exc.reason.split("): ", 1)[-1] if exc.reason.startswith("refused before") else exc.reason
            where = f" at {exc.path}" if exc.path else ""
            raise TicketRefused(f"refused before libgnutls: a forged {kind}: it opens with this server's key, but "
                                f"its state fails the lab's check{where} ({reason}); libgnutls's unpacker can "
                                "crash on such a state (findings/forged-ticket-crash)") from None
        return True

    def check_hello(self, body: bytes) -> HelloOffer:
        """Judge every ticket in the ClientHello ``body``; :class:`TicketRefused` stops the handshake."""
        try:
            hello = read_client_hello(body)
        except BlobFormatError as exc:
            raise TicketRefused(f"refused before libgnutls: a ClientHello the lab cannot read ({exc.reason})") from None
        opened = []
        if hello.session_ticket:
            if self.check_ticket(hello.session_ticket, tls13=False):
                opened.append(hello.session_ticket)
        for identity in hello.psk_identities:
            if self.check_ticket(identity.identity, tls13=True):
                opened.append(identity.identity)
        return HelloOffer(hello.session_id, hello.session_ticket,
                          tuple(identity.identity for identity in hello.psk_identities), tuple(opened))
