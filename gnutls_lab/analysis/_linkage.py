"""Linking visits: what a passive observer correlates across connections, and the metrics.

Theory of operation. :class:`Observer` (or :func:`link_visits`) links two visits when one value that
crossed the wire in clear appears in both (:meth:`~gnutls_lab.analysis._observer.ObservedConnection.linking_values`):
a TLS 1.2 ticket issued in one visit and presented in a later one, a session ID set in one visit and
offered again (GnuTLS TLS 1.3 clients resend the session's 32-byte ``legacy_session_id``), a TLS 1.3
PSK identity presented twice. Linked visits form clusters (union-find); :class:`Linkage` turns them
into correlation metrics, each defined with its formula on the class.
"""

from __future__ import annotations

from typing import Iterable, NamedTuple, Sequence

from ..errors import UsageError
from ._observer import (
    LINK_FIELDS,
    ObservedConnection,
    html_table,
    linking_values,
    text_table,
    observe_connection,
)

__all__ = ["Link", "ClusterSpan", "Linkage", "Observer", "link_visits", "TICKET_LINK_KINDS"]


#: The link kinds that are ticket evidence (a TLS 1.2 ticket, a TLS 1.3 PSK identity).
TICKET_LINK_KINDS = ("ticket", "psk_identity")


class Link(NamedTuple):
    """Visit ``later`` showed a value in clear that visit ``earlier`` had shown first."""

    earlier: int
    later: int
    kind: str  # "session_id", "ticket" or "psk_identity"
    value: bytes

    @property
    def wireshark_field(self) -> str:
        return LINK_FIELDS[self.kind]


class ClusterSpan(NamedTuple):
    """One cluster of linked visits and how long an observer follows it: last − first visit time."""

    visits: tuple
    first_time: float
    last_time: float

    @property
    def seconds(self) -> float:
        return self.last_time - self.first_time


class Linkage:
    """Clusters of visits a passive observer can link, and the correlation metrics over them.

    N is the number of visits observed, all of them, resumed or not: a visit the observer cannot
    link to any other is a cluster of one, and counts as an unlinked visit.
    """

    def __init__(self, times: Sequence[float], clusters: Sequence[tuple], links: Sequence[Link]):
        self.times = tuple(times)
        self.clusters = tuple(sorted((tuple(sorted(c)) for c in clusters), key=lambda c: c[0]))
        self.links = tuple(links)

    @property
    def n_visits(self) -> int:
        return len(self.times)

    def restricted_to(self, kinds: Sequence[str]) -> "Linkage":
        """The same visits when only links of ``kinds`` count (e.g. :data:`TICKET_LINK_KINDS`: what the
        tickets alone give away, with the session ID set aside). Union-find over the kept links."""
        parent = list(range(self.n_visits))

        def root(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        kept = [link for link in self.links if link.kind in kinds]
        for link in kept:
            a, b = root(link.earlier), root(link.later)
            if a != b:
                parent[max(a, b)] = min(a, b)
        clusters: dict = {}
        for visit in range(self.n_visits):
            clusters.setdefault(root(visit), []).append(visit)
        return Linkage(self.times, list(clusters.values()), kept)

    @property
    def linkable_pairs(self) -> int:
        """Σ over clusters c of C(|c|, 2): unordered visit pairs the observer can link."""
        return sum(len(c) * (len(c) - 1) // 2 for c in self.clusters)

    @property
    def linkable_pair_fraction(self) -> float:
        """linkable_pairs / C(N, 2), in [0, 1]; 0.0 when N < 2 (there is no pair to link).

        1.0 means the observer can tell every visit came from the same client; 0.0 that it can link
        none. Pairs, not visits: one chain of N visits counts C(N, 2) pairs.
        """
        n = self.n_visits
        return self.linkable_pairs / (n * (n - 1) // 2) if n >= 2 else 0.0

    @property
    def largest_cluster(self) -> int:
        """max over clusters of |c|, in visits (0 when N = 0, 1 when nothing links)."""
        return max((len(c) for c in self.clusters), default=0)

    @property
    def cluster_spans(self) -> tuple:
        """A :class:`ClusterSpan` per cluster, in order of first visit."""
        return tuple(
            ClusterSpan(c, min(self.times[i] for i in c), max(self.times[i] for i in c))
            for c in self.clusters
        )

    @property
    def max_tracking_seconds(self) -> float:
        """max over clusters c of (max_{i∈c} t_i − min_{i∈c} t_i), seconds; 0.0 if nothing links.

        The tracking period of Sy et al. (ACSAC 2018): how long the observer can follow one client.
        A resumed session that gets a new ticket continues its cluster (TLS 1.2: the new ticket is
        in clear), which prolongs the period beyond one ticket lifetime.
        """
        return max((span.seconds for span in self.cluster_spans), default=0.0)

    def cluster_of(self, visit: int) -> tuple:
        for cluster in self.clusters:
            if visit in cluster:
                return cluster
        raise UsageError(f"no visit {visit}: this linkage has {self.n_visits} visits")

    def as_dict(self) -> dict:
        """The metrics as plain numbers, for JSON."""
        return {
            "visits": self.n_visits,
            "clusters": len(self.clusters),
            "linkable_pairs": self.linkable_pairs,
            "linkable_pair_fraction": self.linkable_pair_fraction,
            "largest_cluster": self.largest_cluster,
            "max_tracking_seconds": self.max_tracking_seconds,
        }

    def summary(self) -> str:
        n = self.n_visits
        return (
            f"{n} visit{'s' * (n != 1)}, {len(self.clusters)} cluster{'s' * (len(self.clusters) != 1)}; "
            f"linkable pairs {self.linkable_pairs}/"
            f"{n * (n - 1) // 2} = {self.linkable_pair_fraction:.3f}; largest cluster "
            f"{self.largest_cluster}; max tracking {self.max_tracking_seconds:g} s"
        )

    def _rows(self) -> list:
        evidence = {}
        for link in self.links:
            evidence.setdefault(link.earlier, set()).add(link.wireshark_field)
            evidence.setdefault(link.later, set()).add(link.wireshark_field)
        return [
            (
                ", ".join(map(str, span.visits)),
                f"{span.seconds:g} s",
                ", ".join(sorted(set().union(*(evidence.get(i, set()) for i in span.visits)))),
            )
            for span in self.cluster_spans
            if len(span.visits) > 1
        ]

    def __repr__(self) -> str:
        return text_table(f"Linkage: {self.summary()}", self._rows(), ("visits", "span", "linked by"))

    def _repr_html_(self) -> str:
        return html_table(
            f"What a passive observer links: {self.summary()}", self._rows(), ("visits", "span", "linked by")
        )


class Observer:
    """A passive observer of many visits: :meth:`observe` each one's wire tap, then :meth:`linkage`.

    Linking rule: two visits are linked when the same non-empty value of one kind crossed the wire
    in clear in both (a TLS 1.2 ticket issued by a NewSessionTicket or presented in a ClientHello; a
    session ID in either hello, which in TLS 1.3 is the legacy_session_id; a TLS 1.3 PSK identity).
    Links are transitive (union-find), so a TLS 1.2 ticket chain — T1 issued in visit 0, presented
    in visit 1 which gets T2, presented in visit 2 — is one cluster. A refused ticket links too:
    the observer sees it presented whether or not the server accepts it.

    Observed on libgnutls (tests/test_observer.py): a GnuTLS client resuming TLS 1.3 sends the
    legacy_session_id stored in its session data, i.e. the one of the first full handshake, even
    when it resumes from a fresh ticket; the server echoes it. Single-use tickets then still link
    every resumption of a chain through ``tls.handshake.session_id``. OpenSSL sends a fresh random
    legacy_session_id each time, so only reused PSK identities link its TLS 1.3 visits.
    """

    def __init__(self) -> None:
        self.connections: list = []
        self.times: list = []
        self.links: list = []
        self._parent: list = []
        self._first_visit: dict = {}

    def _root(self, i: int) -> int:
        while self._parent[i] != i:
            self._parent[i] = self._parent[self._parent[i]]
            i = self._parent[i]
        return i

    def observe(self, chunks: Iterable, time: float | None = None) -> ObservedConnection:
        """Observe one visit's wire tap (see :func:`observe_connection`) and add it."""
        conn = observe_connection(chunks, time=time)
        self.add(conn)
        return conn

    def add(self, conn: ObservedConnection, time: float | None = None) -> int:
        """Add an observed visit; returns its index. ``time`` defaults to ``conn.time``."""
        when = conn.time if time is None else time
        if when is None:
            raise UsageError("a visit needs a time (seconds) to measure tracking periods: pass time=")
        visit = len(self.connections)
        self.connections.append(conn)
        self.times.append(float(when))
        self._parent.append(visit)
        for key in linking_values(conn):
            first = self._first_visit.setdefault(key, visit)
            if first != visit:
                self.links.append(Link(first, visit, key[0], key[1]))
                a, b = self._root(first), self._root(visit)
                if a != b:
                    self._parent[max(a, b)] = min(a, b)
        return visit

    def linkage(self) -> Linkage:
        clusters: dict = {}
        for visit in range(len(self.connections)):
            clusters.setdefault(self._root(visit), []).append(visit)
        return Linkage(self.times, list(clusters.values()), sorted(self.links, key=lambda l: (l.later, l.earlier)))


def link_visits(observed: Sequence[ObservedConnection], times: Sequence[float] | None = None) -> Linkage:
    """Link visits already observed; ``times[i]`` is visit i's time in seconds (default: ``.time``)."""
    if times is not None and len(times) != len(observed):
        raise UsageError(f"{len(observed)} visits but {len(times)} times")
    observer = Observer()
    for i, conn in enumerate(observed):
        observer.add(conn, None if times is None else times[i])
    return observer.linkage()
