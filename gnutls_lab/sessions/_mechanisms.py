"""The ways a client resumes, each named once: what both ends are set to, what an observer sees, its label.

A mechanism is a name (``"tls13-psk"``) for a configuration of the lab's two ends and what it shows:

- ``tls12-session-id``: TLS 1.2, the server keeps the session in its cache and the client presents the
  32-byte session ID (RFC 5246 §7.4.1.2); tickets are off on both ends.
- ``tls12-ticket``: TLS 1.2, the server hands the client its session encrypted in a ticket and keeps
  nothing (RFC 5077); the client presents the ticket in the ``session_ticket`` extension.
- ``tls13-psk``: TLS 1.3, the ticket is a PSK identity (RFC 8446 §4.6.1) and the resumption runs a new
  (EC)DHE key exchange (``psk_dhe_ke``): a default GnuTLS client offers ``psk_dhe_ke`` and ``psk_ke``,
  and the server takes ``psk_dhe_ke``, so the resumed ServerHello carries a ``key_share``.
- ``tls13-psk-ke``: the same ticket without the key exchange (``psk_ke``, RFC 8446 §4.2.9): both ends'
  priority allow only plain PSK key exchange in TLS 1.3 (``+PSK:-ECDHE-PSK:-DHE-PSK``), the client
  offers ``psk_ke`` alone and the resumed ServerHello has no ``key_share``: no forward secrecy for
  that connection. It is one entry here; the experiments, plots, CLI and widgets take it from this table.

The experiments (:class:`gnutls_lab.analysis.ExperimentConfig`), their plots, ``gnutls-lab experiment
reuse --mechanism`` and the experiment explorer read this table; ``tests/test_mechanisms.py`` checks
every entry against a live resumption (the observer's view included).
"""

from __future__ import annotations

from typing import NamedTuple

from ..errors import UsageError
from ._session import PRIORITY_PRESETS

__all__ = ["Mechanism", "MECHANISMS", "mechanism"]


class Mechanism(NamedTuple):
    """One way to resume; see the module docstring. The first three fields keep the order of the
    ``(tls, tickets, session_cache)`` tuples this table replaces, so ``m[0]`` is still the protocol word."""

    #: ``Lab``'s protocol word, "1.3" or "1.2"
    tls: str
    #: the server issues tickets / keeps a session-ID cache; the client offers and accepts tickets
    tickets: bool
    session_cache: bool
    client_tickets: bool
    name: str
    #: how plots, the CLI's output and the widgets name it
    label: str
    #: what the client presents to resume, in words ("a TLS 1.2 ticket")
    credential: str
    #: the GnuTLS priority string of both ends
    priority: str
    #: what a passive observer sees presented again on a resumption (a linking kind of the observer:
    #: ``"session_id"``, ``"ticket"`` or ``"psk_identity"``)
    identity: str
    #: TLS 1.3: the client's psk_key_exchange_modes, by their RFC 8446 names; () under TLS 1.2
    psk_ke_modes: tuple
    #: TLS 1.3: whether a resumed ServerHello carries a key_share (psk_dhe_ke) or not (psk_ke); None for 1.2
    key_share: bool | None
    #: the word of ``gnutls-lab experiment reuse --mechanism`` (with ``--tls``)
    cli: str

    @property
    def protocol(self) -> str:
        """The protocol a connection reports: ``"TLS1.3"`` or ``"TLS1.2"``."""
        return f"TLS{self.tls}"

    def lab_options(self) -> dict:
        """``Lab``'s keywords for this mechanism: ``Lab(**m.lab_options())``."""
        return {"tls": self.priority, "tickets": self.tickets, "session_cache": self.session_cache,
                "client_tickets": self.client_tickets}


_TLS13, _TLS12 = PRIORITY_PRESETS["tls1.3"], PRIORITY_PRESETS["tls1.2"]

#: Every mechanism by name, in the order plots and menus list them.
MECHANISMS = {m.name: m for m in (
    Mechanism(name="tls13-psk", label="TLS 1.3", credential="a TLS 1.3 ticket", tls="1.3", priority=_TLS13,
              tickets=True, session_cache=False, client_tickets=True, identity="psk_identity",
              psk_ke_modes=("psk_dhe_ke", "psk_ke"), key_share=True, cli="ticket"),
    Mechanism(name="tls12-ticket", label="TLS 1.2 ticket", credential="a TLS 1.2 ticket", tls="1.2", priority=_TLS12,
              tickets=True, session_cache=False, client_tickets=True, identity="ticket", psk_ke_modes=(),
              key_share=None, cli="ticket"),
    Mechanism(name="tls12-session-id", label="TLS 1.2 session ID", credential="a TLS 1.2 session ID", tls="1.2",
              priority=_TLS12, tickets=False, session_cache=True, client_tickets=False, identity="session_id",
              psk_ke_modes=(), key_share=None, cli="session-id"),
    Mechanism(name="tls13-psk-ke", label="TLS 1.3 psk_ke", credential="a TLS 1.3 ticket", tls="1.3",
              priority=_TLS13 + ":+PSK:-ECDHE-PSK:-DHE-PSK", tickets=True, session_cache=False, client_tickets=True,
              identity="psk_identity", psk_ke_modes=("psk_ke",), key_share=False, cli="psk-ke"),
)}


def mechanism(name) -> Mechanism:
    """The mechanism called ``name`` (or ``name`` itself if it is one), else a one-line :class:`UsageError`."""
    if isinstance(name, Mechanism):
        return name
    try:
        return MECHANISMS[name]
    except (KeyError, TypeError):
        raise UsageError(f"unknown mechanism {name!r}: use one of {', '.join(MECHANISMS)}") from None
