"""Self-checks for the exercises of notebooks 04 (tracking) and 05 (server ticket keys).

Same contract as :mod:`course.exercises`: a notebook cell holds a stub with a real bug; the cell
below calls a ``check_*`` function from here, which runs the participant's function against fresh
live handshakes and returns a :class:`~course.exercises.CheckResult`. The expected values are
computed live (by the lab's observer, or read from the tickets libgnutls just issued), never stored.

Exercises (notebook → check):

- 04 ``linkable(first, second)`` → :func:`check_linkable`: can a passive observer tell that two
  observed visits come from one client? Not only by a reused ticket: a GnuTLS TLS 1.3 client resends
  its ``legacy_session_id``, TLS 1.2 shows tickets and session IDs in clear.
- 05 ``key_name(master_key, unix_time, lifetime)`` → :func:`check_key_name`: the 16-byte key name a
  GnuTLS server writes in clear at the start of every ticket it issues at that time.
- 05 ``exposed(seen)`` → :func:`check_exposed`: from what a passive observer recorded of one
  connection, will the server's ticket key, stolen later, decrypt it? The truth of each case is what
  the readers of :mod:`gnutls_lab.analysis` actually decrypt with the key
  (``read_recorded_tls12``, ``read_recorded_resumption``).

Reference solutions for instructors: ``notebooks/solutions/04_*.py`` and ``05_*.py``.
"""

from __future__ import annotations

import math
import time
from typing import Callable

from gnutls_lab import (
    FakeClock,
    Lab,
    link_visits,
    observe_connection,
    pump,
    read_recorded_resumption,
    read_recorded_tls12,
)
from gnutls_lab.errors import UsageError
from gnutls_lab.analysis import decode, ObservedConnection

from .exercises import CheckResult, Scenario, call_student, lab_sessions, yes_no_scenario

__all__ = [
    "check_linkable",
    "check_key_name",
    "check_exposed",
    "linkable_cases",
    "key_name_cases",
    "exposed_cases",
]


# --- notebook 04 ----------------------------------------------------------------------------------


def _visit(lab: Lab, resume=None) -> tuple:
    """One live visit: (what the observer saw, the session data the client keeps afterwards)."""
    with lab.connect(resume=resume) as conn:
        seen = observe_connection(conn.wire)
        return seen, conn.session_data


def linkable_cases() -> list:
    """Live pairs of observed visits ``(name, first, second, same_client, why)``, first earlier.

    ``same_client`` is the ground truth (one client's chain of visits or two clients); whether the
    observer can link the pair is :func:`~gnutls_lab.link_visits`'s verdict, and the check
    compares the participant's function with that.
    """
    cases = []
    server13 = Lab("1.3")
    seen0, data0 = _visit(server13)
    seen1, data1 = _visit(server13, data0)  # a fresh ticket each time: single use, RFC 8446 C.4
    seen2, _ = _visit(server13, data1)
    cases.append(("TLS 1.3: two resumptions of one client, each with a fresh single-use ticket", seen1, seen2, True,
                  "no PSK identity repeats, but the client resends the legacy_session_id stored in its "
                  "session data and the server echoes it: compare tls.handshake.session_id too"))
    seen3, _ = _visit(server13, data0)  # data0's ticket a second time
    cases.append(("TLS 1.3: one ticket offered in two visits (reuse)", seen1, seen3, True,
                  "the same tls.handshake.extensions.psk.identity.identity in both ClientHellos"))
    other_seen0, other_data0 = _visit(server13)  # a second client of the same server
    other_seen1, _ = _visit(server13, other_data0)
    cases.append(("TLS 1.3: resumptions of two different clients", seen1, other_seen1, False,
                  "nothing in clear is shared: different tickets, different legacy_session_ids"))
    server12 = Lab("1.2")
    t_seen0, t_data0 = _visit(server12)
    t_seen1, _ = _visit(server12, t_data0)
    cases.append(("TLS 1.2: a ticket issued in one visit, presented in the next", t_seen0, t_seen1, True,
                  "a TLS 1.2 NewSessionTicket crosses the wire in clear (tls.handshake.session_ticket) and "
                  "comes back in the next ClientHello's session_ticket extension"))
    cache12 = Lab("1.2", tickets=False, session_cache=True)
    s_seen0, s_data0 = _visit(cache12)
    s_seen1, _ = _visit(cache12, s_data0)
    cases.append(("TLS 1.2 session ID: a full handshake, then a resumption", s_seen0, s_seen1, True,
                  "the server's tls.handshake.session_id comes back in the next ClientHello"))
    u_seen0, _ = _visit(cache12)
    cases.append(("TLS 1.2 session ID: full handshakes of two different clients", s_seen0, u_seen0, False,
                  "each full handshake gets its own session ID from the server"))
    return cases


def check_linkable(linkable: Callable) -> CheckResult:
    """``linkable(first, second) -> bool`` for two :class:`ObservedConnection` of visits."""
    scenarios = []
    for name, first, second, same_client, why in linkable_cases():
        assert isinstance(first, ObservedConnection) and isinstance(second, ObservedConnection)
        observer_links = link_visits([first, second], times=[0.0, 1.0]).linkable_pairs == 1
        # the truth of each case, as the lab observes it today (tests/test_exercises_tracking.py):
        assert observer_links == same_client, f"the observer disagrees with the exercise about {name!r}"
        scenarios.append(yes_no_scenario(name, observer_links, linkable, (first, second), why))
    return CheckResult("linkable", scenarios, (
        "the observer reads more than PSK identities: list every value a visit shows in clear",
        "look at the hellos' session IDs (client and server), and at TLS 1.2 tickets: issued in a "
        "NewSessionTicket, presented in a ClientHello's session_ticket",
        "per visit, collect the non-empty session_id of every ClientHello and ServerHello, every "
        "session_ticket, every PSK identity and every NewSessionTicket's ticket; two visits link when the "
        "two sets share a value",
    ), attempt=linkable)


# --- notebook 05 ----------------------------------------------------------------------------------


def key_name_cases() -> list:
    """Live tickets ``(name, master_key, unix_time, lifetime, ticket_key_name)`` under a fake clock.

    Each case runs a handshake with a lab server of that lifetime at that (fake) time, just after a
    key-period boundary in the near future, and reads the key name off the ticket it issued: the
    first 16 bytes of the server ticket. Two cases share one server across a period boundary.
    """
    now = time.time()
    ten_minutes = Lab("1.3", lifetime=600)
    plan = (
        ("libgnutls's default lifetime (21600 s)", Lab("1.3"), 21600, 1000.0),
        ("a 10-minute lifetime, 1 s before a key period ends", ten_minutes, 600, -1.0),
        ("the same server 2 s later, in the next period", ten_minutes, 600, 1.0),
        ("a 7-day lifetime (604800 s, the maximum)", Lab("1.3", lifetime=604800), 604800, 86400.0),
    )
    boundary = (math.floor(now / 1800) + 1) * 1800  # a 10-minute server's period boundary, in the future
    cases = []
    for name, lab, lifetime, offset in plan:
        period = 3 * lifetime
        when = float((math.floor(boundary / period) + 1) * period + offset)
        with FakeClock(start=when):
            with lab.connect() as conn:
                ticket = decode(conn.session_data).ticket
        cases.append((name, lab.ticket_key, int(when), lifetime, ticket[:16]))
    return cases


def check_key_name(key_name: Callable) -> CheckResult:
    """``key_name(master_key, unix_time, lifetime) -> bytes``: the key name of tickets issued then."""
    scenarios = []
    for name, master, when, lifetime, expected in key_name_cases():
        result, error = call_student(key_name, master, when, lifetime)
        passed = error is None and isinstance(result, (bytes, bytearray)) and bytes(result) == expected
        got = error or (bytes(result).hex() if isinstance(result, (bytes, bytearray)) else repr(result))
        scenarios.append(Scenario(
            f"{name}: time {when}", f"{expected.hex()} (read off the live ticket)", got, passed,
            "since GnuTLS 3.6.4 the master key is never used as is: the key of period t = "
            "floor(time / (3 × lifetime)) is SHA3-512(t as 8 big-endian bytes ‖ master key), and its "
            "first 16 bytes are the key name"))
    return CheckResult("key_name", scenarios, (
        "compare key names over time: they stay the same for a while, then change; what sets the pace?",
        "GnuTLS derives a key per period of 3 × lifetime seconds from the master key (lib/stek.c), and the "
        "key name is part of it",
        "t = unix_time // (3 * lifetime); hashlib.sha3_512(struct.pack('>Q', t) + master_key).digest()[:16]",
    ), attempt=key_name)


# --- notebook 05, exercise 2: which recordings does the key open? ------------------------------------

_REQUEST = b"GET /account HTTP/1.1\r\n\r\n"


def _recorded(lab: Lab, resume=None, server_priority: str | None = None) -> tuple:
    """One live connection with a request from the client: ``(wire, session data)``; the server's
    priority may differ from the client's (``server_priority``)."""
    wire: list = []
    client, server = lab_sessions(lab, wire, server_priority=server_priority)
    try:
        if resume is not None:
            client.set_data(resume)
        pump(client, server)
        client.send(_REQUEST)
        server.read_available()
        data = client.read_tickets()[-1] if client.protocol == "TLS1.3" and resume is None else client.get_data()
        return wire, data
    finally:
        client.close()
        server.close()


def _key_reads(wire, master_key) -> bool:
    """Whether the readers recover the client's request from the recording with the ticket key."""
    seen = observe_connection(wire)
    try:
        if seen.version == 0x0304:
            return read_recorded_resumption(wire, master_key).client_data == _REQUEST
        return read_recorded_tls12(wire, master_key).client_data == _REQUEST
    except UsageError:  # nothing on this wire that a ticket key opens
        return False


def exposed_cases() -> list:
    """Live recordings ``(name, seen, truth, why)``: ``truth`` is whether the server's ticket key reads
    the client's request back from the recording (:func:`read_recorded_tls12`,
    :func:`read_recorded_resumption`)."""
    plan = []
    lab13 = Lab("1.3")
    wire, data = _recorded(lab13)
    plan.append(("TLS 1.3 full handshake", lab13, wire,
                 "TLS 1.3 sends its tickets encrypted: nothing in this recording is a ticket"))
    plan.append(("TLS 1.3 resumption, GnuTLS's default server (psk_dhe_ke)", lab13, _recorded(lab13, data)[0],
                 "the ServerHello carries a key_share: a fresh ECDHE secret went into every key after the early ones"))
    plan.append(("TLS 1.3 resumption, a server that allows plain PSK (NORMAL:+PSK)", lab13,
                 _recorded(lab13, data, lab13.priority + ":+PSK")[0],
                 "no key_share in the ServerHello (psk_ke): every key follows from the PSK, i.e. from the ticket"))
    lab12 = Lab("1.2")
    wire, data = _recorded(lab12)
    plan.append(("TLS 1.2 full handshake (ECDHE) that received a ticket", lab12, wire,
                 "the NewSessionTicket crosses the wire in clear, and the ticket holds the master secret"))
    plan.append(("TLS 1.2 resumption with that ticket", lab12, _recorded(lab12, data)[0],
                 "the ClientHello presents the ticket in clear: same master secret"))
    cache12 = Lab("1.2", tickets=False, session_cache=True)
    plan.append(("TLS 1.2 full handshake, server without tickets (session-ID cache)", cache12,
                 _recorded(cache12)[0], "no ticket ever crosses the wire: the ticket key has nothing to open"))
    return [(name, observe_connection(wire), _key_reads(wire, lab.ticket_key), why) for name, lab, wire, why in plan]


def check_exposed(exposed: Callable) -> CheckResult:
    """``exposed(seen) -> bool``: will the server's ticket key decrypt this recorded connection?"""
    scenarios = []
    for name, seen, truth, why in exposed_cases():
        scenarios.append(yes_no_scenario(name, truth, exposed, (seen,), why))
    return CheckResult("exposed", scenarios, (
        "which of these recordings carry a ticket in clear, and what does the ticket hold?",
        "a TLS 1.2 ticket holds the master secret; a TLS 1.3 resumption falls only when no fresh (EC)DHE "
        "was mixed in",
        "TLS 1.2: exposed when a NewSessionTicket or a ClientHello session_ticket is on the wire; TLS 1.3: "
        "when the server selected a PSK (psk_selected_identity is not None) and its ServerHello has no "
        "key_share (51)",
    ), attempt=exposed)
