"""Linking visits (gnutls_lab/linkage.py): what a passive observer can tie together across connections.

Captures come from the fixtures of tests/wire_captures.py (Python ``ssl`` through MemoryBIOs, and
``gnutls_lab.Lab``); every cluster, link and duration asserted here is worked out by hand in the test.
"""

from __future__ import annotations

import time

import pytest

from gnutls_lab import Lab
from gnutls_lab.errors import UsageError
from gnutls_lab.analysis._linkage import TICKET_LINK_KINDS, Linkage, Observer, link_visits
from gnutls_lab.analysis._observer import observe_connection

from wire_captures import TLS12, client_context, python_visit, server_context


def observe_all(visits, times):
    taps = [v.wire if hasattr(v, "wire") else v.chunks for v in visits]
    return link_visits([observe_connection(t) for t in taps], times)


# --- linking visits ---------------------------------------------------------------------------


def test_tls12_tickets_link_every_resumption(openssl_tls12_tickets):
    linkage = observe_all(openssl_tls12_tickets, [0.0, 100.0, 250.0])
    assert linkage.clusters == ((0, 1, 2),)
    # 3 visits, 3 pairs, all linked; followed from t=0 to t=250
    assert (linkage.linkable_pairs, linkage.linkable_pair_fraction) == (3, 1.0)
    assert linkage.largest_cluster == 3 and linkage.max_tracking_seconds == 250.0
    assert {(l.earlier, l.later, l.kind) for l in linkage.links} >= {(0, 1, "ticket"), (0, 2, "ticket")}


def test_tls12_ticket_chain_continues_through_a_refused_ticket(cert_files):
    """Visit 1 presents visit 0's ticket to a server with another ticket key: refused, full
    handshake, a new ticket in clear; visit 2 resumes with it. One chain: the prolongation effect."""
    client = client_context(TLS12)
    server_a, server_b = server_context(cert_files, TLS12), server_context(cert_files, TLS12)
    v0 = python_visit(server_a, client)
    v1 = python_visit(server_b, client, v0.client.session)
    v2 = python_visit(server_b, client, v1.client.session)
    seen = [observe_connection(v.chunks) for v in (v0, v1, v2)]
    assert [s.resumed for s in seen] == [False, False, True]
    assert [v.client.session_reused for v in (v0, v1, v2)] == [False, False, True]
    linkage = link_visits(seen, [0.0, 300.0, 900.0])
    assert linkage.clusters == ((0, 1, 2),) and linkage.max_tracking_seconds == 900.0
    assert [(l.earlier, l.later, l.kind) for l in linkage.links if l.kind == "ticket"] == [(0, 1, "ticket"), (1, 2, "ticket")]


def test_tls12_session_id_links(openssl_tls12_session_ids):
    linkage = observe_all(openssl_tls12_session_ids, [10.0, 70.0])
    assert linkage.clusters == ((0, 1),) and linkage.linkable_pair_fraction == 1.0
    assert linkage.max_tracking_seconds == 60.0 and linkage.links[0].kind == "session_id"


def test_tls13_single_use_does_not_link_and_reuse_does(openssl_tls13):
    v0, v1, v2, v3 = openssl_tls13  # v1 and v2 both use v0's ticket; v3 uses v2's
    single_use = observe_all([v0, v2, v3], [0.0, 60.0, 120.0])
    assert single_use.clusters == ((0,), (1,), (2,))
    assert (single_use.linkable_pair_fraction, single_use.largest_cluster, single_use.max_tracking_seconds) == (0.0, 1, 0.0)
    reuse = observe_all([v0, v1, v2, v3], [0.0, 60.0, 120.0, 300.0])
    assert reuse.clusters == ((0,), (1, 2), (3,))
    # 1 linked pair out of C(4,2) = 6; the pair spans 120 − 60 s
    assert reuse.linkable_pairs == 1 and reuse.linkable_pair_fraction == pytest.approx(1 / 6)
    assert reuse.largest_cluster == 2 and reuse.max_tracking_seconds == 60.0
    assert [(l.earlier, l.later, l.kind) for l in reuse.links] == [(1, 2, "psk_identity")]
    assert [s.seconds for s in reuse.cluster_spans] == [0.0, 60.0, 0.0]


def test_gnutls_tls13_keeps_the_legacy_session_id_across_resumptions(gnutls_tls13):
    """GnuTLS resumes TLS 1.3 with the session ID stored in the session data (the first full
    handshake's legacy_session_id), even from a fresh ticket: single-use tickets still link."""
    seen = [observe_connection(c.wire) for c in gnutls_tls13]
    identities = [s.client_hello.psk_identities for s in seen]
    assert identities[0] == () and identities[1][0].identity != identities[2][0].identity  # single use
    assert all(c.resumed for c in gnutls_tls13[1:])
    session_ids = {s.client_hello.session_id for s in seen}
    assert len(session_ids) == 1 and len(next(iter(session_ids))) == 32
    linkage = link_visits(seen, [0.0, 600.0, 1800.0])
    assert linkage.clusters == ((0, 1, 2),) and linkage.max_tracking_seconds == 1800.0
    assert {l.kind for l in linkage.links} == {"session_id"}


def test_gnutls_tls12_chain_across_a_ticket_key_rotation():
    lab = Lab("1.2")
    v0 = lab.connect(observe=True)
    lab.rotate_ticket_key()
    v1 = lab.connect(resume=v0.session_data, observe=True)  # old ticket refused: full, new ticket
    v2 = lab.connect(resume=v1.session_data, observe=True)
    assert [v.resumed for v in (v0, v1, v2)] == [False, False, True]
    seen = [observe_connection(v.wire) for v in (v0, v1, v2)]
    assert [s.resumed for s in seen] == [False, False, True]
    assert seen[1].client_hello.session_ticket == seen[0].new_session_tickets[0].ticket
    linkage = link_visits(seen, [0.0, 3600.0, 7200.0])
    assert linkage.clusters == ((0, 1, 2),) and linkage.max_tracking_seconds == 7200.0


def test_gnutls_tls12_session_id_cache_links():
    lab = Lab("1.2", tickets=False, session_cache=True)
    v0 = lab.connect(observe=True)
    v1 = lab.connect(resume=v0.session_data, observe=True)
    seen = [observe_connection(v.wire) for v in (v0, v1)]
    assert v1.resumed and seen[1].resumed and seen[0].new_session_tickets == ()
    assert seen[1].client_hello.session_id == seen[0].server_hello.session_id != b""
    linkage = link_visits(seen, [0.0, 5.0])
    assert linkage.clusters == ((0, 1),) and {l.kind for l in linkage.links} == {"session_id"}


def test_gnutls_tls13_same_ticket_twice_links_by_identity_too():
    lab = Lab("1.3")
    v0 = lab.connect(observe=True)
    data = v0.session_data
    visits = [v0, lab.connect(resume=data, observe=True), lab.connect(resume=data, observe=True)]
    assert all(v.resumed for v in visits[1:])
    linkage = link_visits([observe_connection(v.wire) for v in visits], [0.0, 1.0, 2.0])
    assert (1, 2, "psk_identity") in {(l.earlier, l.later, l.kind) for l in linkage.links}
    assert linkage.clusters == ((0, 1, 2),)  # and the kept session ID links visit 0 as well
    # The tickets alone: the two visits that showed the same PSK identity, and visit 0 on its own.
    tickets = linkage.restricted_to(TICKET_LINK_KINDS)
    assert tickets.clusters == ((0,), (1, 2)) and {l.kind for l in tickets.links} == {"psk_identity"}
    assert tickets.times == linkage.times and linkage.restricted_to(()).clusters == ((0,), (1,), (2,))


def test_observer_incremental_equals_batch(openssl_tls13):
    observer = Observer()
    for t, visit in zip([0.0, 60.0, 120.0, 300.0], openssl_tls13):
        observer.observe(visit.chunks, time=t)
    batch = observe_all(openssl_tls13, [0.0, 60.0, 120.0, 300.0])
    assert observer.linkage().as_dict() == batch.as_dict()
    assert observer.linkage().clusters == batch.clusters


def test_metrics_for_fewer_than_two_visits():
    empty = Linkage([], [], [])
    assert (empty.linkable_pair_fraction, empty.largest_cluster, empty.max_tracking_seconds) == (0.0, 0, 0.0)
    one = Linkage([5.0], [(0,)], [])
    assert (one.linkable_pair_fraction, one.largest_cluster, one.max_tracking_seconds) == (0.0, 1, 0.0)


def test_linkage_needs_times(openssl_tls13):
    seen = [observe_connection(v.chunks) for v in openssl_tls13[:2]]
    with pytest.raises(UsageError):
        link_visits(seen)
    with pytest.raises(UsageError):
        link_visits(seen, [0.0])
    timed = [observe_connection(v.chunks, time=t) for v, t in zip(openssl_tls13[:2], (1.0, 2.0))]
    assert link_visits(timed).times == (1.0, 2.0)


def test_linkage_repr(openssl_tls13):
    linkage = observe_all(openssl_tls13, [0.0, 60.0, 120.0, 300.0])
    assert "4 visits, 3 clusters; linkable pairs 1/6" in repr(linkage)
    assert "tls.handshake.extensions.psk.identity.identity" in repr(linkage)
    assert "<table>" in linkage._repr_html_()
