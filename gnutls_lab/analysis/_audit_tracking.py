"""How long a passive observer can follow one client of a server, from the server's measured policy.

Theory of operation. Notebook 04 measures the tracking period on real handshakes with a lab server: the
visits of one client, linked whenever a value crosses the wire in clear in two of them, grouped into
clusters; the tracking period is the longest time one cluster spans (Sy et al., ACSAC 2018;
:attr:`gnutls_lab.analysis.Linkage.max_tracking_seconds`). An audited server cannot be driven
for days, so :func:`tracking_window` replays the same computation on the *policy* the audit measured:

- ``lifetime``: how long the server accepts a ticket (or a session ID);
- ``reissue``: a resumed connection gets a new ticket; ``reissued_lifetime``: that ticket's lifetime
  starts afresh (``"fresh"``) or ends with the original's (``"remaining"``: GnuTLS does that in TLS 1.3);
- ``reuse_accepted``: the server accepts one ticket more than once;
- what crosses the wire in clear, by mechanism: the presented identity always (the TLS 1.3 PSK
  identity, the TLS 1.2 SessionTicket extension, the TLS 1.2 session ID); the issued ticket only in TLS
  1.2 (its NewSessionTicket is sent before the server's ChangeCipherSpec) and the issued session ID in
  the TLS 1.2 ServerHello; never a TLS 1.3 NewSessionTicket.

A TLS 1.3 client drops a ticket past the lifetime its NewSessionTicket announced without offering it
(libgnutls does on the real clock, 3.7.9 and 3.8 alike); TLS 1.2 clients offer what they hold, and the
refused ticket crosses the wire beside its replacement.

The client visits every ``gap`` seconds, from 0 to ``horizon``, and behaves one of two ways:
``"keeps"`` offers the same ticket until the server refuses it (what a program with one session file
does, notebook 07), ``"single-use"`` offers each ticket once, as RFC 8446 C.4 asks, and without a fresh
one makes a full handshake. Both send a fresh ``legacy_session_id`` (a GnuTLS client in compatibility
mode does not, and is linked on every visit whatever the server does: notebook 04). Each visit's visible
values go through the same union-find as :class:`~gnutls_lab.analysis.Linkage`; a cluster that
spans the whole horizon means the observer follows the client for as long as it keeps coming back.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError
from ..sessions import mechanism
from ._linkage import Link, Linkage

__all__ = ["TrackingPolicy", "TrackingWindow", "CLIENT_BEHAVIOURS", "tracking_window", "default_gap"]

CLIENT_BEHAVIOURS = ("keeps", "single-use")
_MAX_VISITS = 400


@dataclass(frozen=True)
class TrackingPolicy:
    """A server's resumption policy for one mechanism, as the audit measured it (see the module doc)."""

    mechanism: str
    lifetime: float
    reissue: bool = False
    reissued_lifetime: str = "fresh"
    reuse_accepted: bool = True

    def __post_init__(self):
        mechanism(self.mechanism)  # a name of gnutls_lab.sessions.MECHANISMS, or a one-line error
        if not self.lifetime > 0:
            raise UsageError(f"a lifetime is a positive number of seconds, not {self.lifetime!r}")
        if self.reissued_lifetime not in ("fresh", "remaining"):
            raise UsageError("reissued_lifetime is 'fresh' or 'remaining'")


@dataclass(frozen=True)
class TrackingWindow:
    """The tracking period of one client behaviour under one policy.

    ``seconds``: the longest cluster span (Linkage.max_tracking_seconds); ``unbounded``: a cluster spans
    the whole horizon (the observer follows the client for as long as it comes back every ``gap``).
    ``clusters``: the visit indices of each cluster, for the plot.
    """

    policy: TrackingPolicy
    client: str
    gap: float
    horizon: float
    seconds: float
    unbounded: bool
    linkage: Linkage
    explanation: str

    def to_dict(self) -> dict:
        return {"mechanism": self.policy.mechanism, "client": self.client, "gap_seconds": self.gap,
                "horizon_seconds": self.horizon, "seconds": self.seconds, "unbounded": self.unbounded,
                "linked_visits": self.linkage.largest_cluster, "visits": self.linkage.n_visits,
                "explanation": self.explanation}


def default_gap(lifetime: float) -> float:
    """A revisit gap well inside the lifetime (1/32 of it, at most 6 hours), so that the observed span is
    close to what the lifetime allows rather than a multiple of a coarse gap."""
    return max(min(lifetime / 32.0, 6 * 3600.0), 1.0)


class _Ticket:
    __slots__ = ("ident", "expires", "uses")

    def __init__(self, ident: int, expires: float):
        self.ident, self.expires, self.uses = ident, expires, 0


def tracking_window(policy: TrackingPolicy, client: str = "keeps", *, gap: float | None = None,
                    horizon: float | None = None) -> TrackingWindow:
    """Simulate one client's visits under ``policy`` and link them as a passive observer would."""
    if client not in CLIENT_BEHAVIOURS:
        raise UsageError(f"unknown client behaviour {client!r}: use one of {', '.join(CLIENT_BEHAVIOURS)}")
    gap = default_gap(policy.lifetime) if gap is None else float(gap)
    if not gap > 0:
        raise UsageError("the gap between visits must be a positive number of seconds")
    horizon = min(float(horizon) if horizon is not None else 30 * 86400.0, gap * (_MAX_VISITS - 1))
    visible_issue = policy.mechanism != "tls13-psk"  # a TLS 1.3 NewSessionTicket is encrypted
    times: list[float] = []
    seen: dict = {}  # ticket id -> first visit that showed it
    links: list[Link] = []
    parent: list[int] = []
    held: list[_Ticket] = []
    next_id = 0

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def show(visit: int, ident: int) -> None:
        first = seen.setdefault(ident, visit)
        if first != visit:
            links.append(Link(first, visit, "ticket", ident.to_bytes(4, "big")))
            a, b = root(first), root(visit)
            if a != b:
                parent[max(a, b)] = min(a, b)

    visit, now = 0, 0.0
    while now <= horizon + 1e-9:
        times.append(now)
        parent.append(visit)
        ticket = held[-1] if held else None
        if ticket is not None and policy.mechanism == "tls13-psk" and now > ticket.expires:
            held.remove(ticket)  # a TLS 1.3 client knows the ticket's lifetime and drops it unsent
            ticket = None
        resumed = False
        if ticket is not None:
            show(visit, ticket.ident)  # the presented identity is always in clear
            accepted = now <= ticket.expires and (ticket.uses == 0 or policy.reuse_accepted)
            ticket.uses += 1
            if client == "single-use" or not accepted:
                held.remove(ticket)
            resumed = accepted
        issued = None
        if not resumed:
            issued = _Ticket(next_id, now + policy.lifetime)
        elif policy.reissue and policy.mechanism != "tls12-session-id":
            expires = now + policy.lifetime if policy.reissued_lifetime == "fresh" else ticket.expires
            issued = _Ticket(next_id, expires)
        if issued is not None:
            next_id += 1
            if visible_issue:
                show(visit, issued.ident)
            if client == "single-use" or not resumed:
                held = [issued]  # a client that keeps its ticket keeps it while the server takes it
        visit += 1
        now = visit * gap
    clusters: dict = {}
    for i in range(len(times)):
        clusters.setdefault(root(i), []).append(i)
    linkage = Linkage(times, list(clusters.values()), links)
    seconds = linkage.max_tracking_seconds
    unbounded = len(times) > 1 and seconds >= times[-1] - times[0]
    return TrackingWindow(policy, client, gap, times[-1], seconds, unbounded, linkage,
                          _explain(policy, client, seconds, unbounded, gap))


def _explain(policy: TrackingPolicy, client: str, seconds: float, unbounded: bool, gap: float) -> str:
    thing = "session" if policy.mechanism == "tls12-session-id" else "ticket"
    who = f"a client that keeps its {thing}" if client == "keeps" else f"a client that uses each {thing} once"
    if unbounded:
        if policy.mechanism == "tls12-ticket":
            why = ("each TLS 1.2 ticket is issued in clear and shown again on the next visit, so the chain "
                   "never breaks" if policy.reissue else
                   "the ticket is shown on every visit, and when it expires the refused ticket and its "
                   "replacement cross the wire in the same connection")
        elif policy.mechanism == "tls12-session-id":
            why = "the session ID stays the same across resumptions and is shown in both hellos"
        else:
            why = "its tickets stay valid and it shows the same PSK identity on every visit"
        return f"{who} is followed for as long as it keeps coming back: {why}"
    if seconds == 0:
        return f"{who} is never linked by its tickets (each identity crosses the wire once)"
    if seconds <= gap + 1e-9:
        return f"{who} is linked only from one visit to the next (the chain breaks into pairs of visits)"
    return f"{who} is followed for {_span(seconds)} at most, then the chain breaks"


def _span(seconds: float) -> str:
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"
