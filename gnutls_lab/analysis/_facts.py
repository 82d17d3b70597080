"""What libgnutls does with resumption, measured live: one function per fact the notebooks check.

Each function runs real in-process handshakes (``Lab``), reads what a passive observer sees on the
wire (``observe_connection``: did the ClientHello carry a ``pre_shared_key``, did the ServerHello take
it, did it carry a ``key_share``) and what the library says (``gnutls_session_is_resumed``), and
returns the measurement, never a verdict written in advance. ``tests/test_facts.py`` states what
GnuTLS 3.7.9, 3.8.9 and 3.8.13 answer; ``docs/early-data.md`` and the README explain why, with the
source lines. Some facts need the real clock: those functions sleep (about 2 s each), because a
GnuTLS 3.7 client measures ticket ages on the real clock whatever a :class:`FakeClock` says.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from typing import NamedTuple

from ..errors import GnuTLSLabError
from ..sessions import AntiReplay, FakeClock, Lab, ZeroRttLab
from ._decode import decode
from ._observer import observe_connection
from ._recorded import read_recorded_resumption, read_recorded_tls12

__all__ = [
    "Attempt",
    "attempt_resumption",
    "compat_mode_switch",
    "expiry_on_each_clock",
    "client_lifetime_copy",
    "stored_max_early_data_size",
    "ticket_timing",
    "early_data_with_a_larger_claimed_age",
    "psk_ke_resumption",
    "early_data_on_a_ticket_without_it",
    "tickets_without_psk_key_exchange_modes",
    "server_expiry_rules",
    "public_ticket_key_exposure",
    "partial_set_data",
    "version_flip_in_set_data",
]

#: RFC 8446 §4.2.8 ``key_share``: in a resumed ServerHello, (EC)DHE was mixed in (``psk_dhe_ke``).
KEY_SHARE = 51


class Attempt(NamedTuple):
    """One resumption attempt, read off the wire: ``offered`` (TLS 1.3: the ClientHello carried a
    ``pre_shared_key``; TLS 1.2: a ticket in ``session_ticket`` or a session ID), ``accepted`` (TLS 1.3: the
    ServerHello selected a PSK; TLS 1.2: the observer saw a resumption), ``resumed``
    (``gnutls_session_is_resumed`` on the client) and whether the ServerHello carried a ``key_share``."""

    offered: bool
    accepted: bool
    resumed: bool
    key_share: bool

    @property
    def who(self) -> str:
        """Who decided: ``"resumed"``, ``"the client dropped the ticket"`` or ``"the server refused it"``."""
        if self.resumed:
            return "resumed"
        return "the server refused it" if self.offered else "the client dropped the ticket"


def attempt_resumption(lab, data) -> Attempt:
    """Resume with ``data`` on ``lab`` and read the attempt off the wire."""
    with lab.connect(resume=data, observe="wire") as conn:
        seen = observe_connection(conn.wire)
        hello, server = seen.client_hello, seen.server_hello
        version = seen.version or 0
        if version and version < 0x0304:  # TLS 1.2: a ticket or a session ID offered, the session resumed
            return Attempt(offered=bool(hello.session_ticket or hello.session_id), accepted=seen.resumed,
                           resumed=conn.resumed, key_share=False)
        return Attempt(offered=bool(hello.psk_identities),
                       accepted=server is not None and server.psk_selected_identity is not None,
                       resumed=conn.resumed,
                       key_share=server is not None and KEY_SHARE in server.extension_types)


# --- the compat-mode fix needs fresh session data (notebook 04) ------------------------------------------

class CompatSwitch(NamedTuple):
    """``legacy_session_id`` of each visit's ClientHello for two clients of one server: ``switched`` (compat
    mode on for its first, full handshake, then ``%DISABLE_TLS13_COMPAT_MODE`` while it resumes with that
    data) and ``fresh`` (compat mode off from its first handshake). ``resumed``: each switched visit."""

    switched: tuple
    fresh: tuple
    resumed: tuple


def compat_mode_switch(visits: int = 4) -> CompatSwitch:
    """Turning compat mode off with old session data: does the 32-byte ID go away? (It does not.)"""
    compat = Lab("1.3")
    no_compat = Lab("1.3", ticket_key=compat.ticket_key, compat_mode=False)
    runs = {}
    for name, first in (("switched", compat), ("fresh", no_compat)):
        ids, resumed, data = [], [], None
        for visit in range(visits):
            lab = first if visit == 0 else no_compat
            with lab.connect(resume=data, observe="wire") as conn:
                ids.append(observe_connection(conn.wire).client_hello.session_id)
                resumed.append(conn.resumed)
                data = conn.session_data
        runs[name] = (tuple(ids), tuple(resumed))
    return CompatSwitch(runs["switched"][0], runs["fresh"][0], runs["switched"][1])


# --- expiry: which clock, which copy, which check (notebooks 03 and 04) ---------------------------------

class ExpiryClocks(NamedTuple):
    """An expired TLS 1.3 ticket offered again: ``fake_clock`` (lifetime 60 s, 120 s later on a
    :class:`FakeClock`) and ``real_clock`` (lifetime 1 s, 2.2 real seconds later). ``client_clock``: the
    clock the client's ticket-age check reads, measured: ``"fake"`` when the ticket's arrival time the
    client stored under the fake clock is the fake clock's time, ``"real"`` otherwise."""

    fake_clock: Attempt
    real_clock: Attempt
    client_clock: str = ""


def expiry_on_each_clock(real_wait: float = 2.2) -> ExpiryClocks:
    """Who drops an expired ticket, under the fake clock and under the real one. The client's check
    (``lib/ext/pre_shared_key.c``: age in ms / 1000 > lifetime) reads libgnutls's high-resolution clock,
    which the fake clock drives only from 3.8.1: under it a 3.7 client still offers the ticket and the
    server refuses it; on the real clock every version's client drops it."""
    start = 1_000_000  # far from today: a stored time that equals it came from the fake clock
    with FakeClock(start) as clock:
        lab = Lab("1.3", lifetime=60)
        with lab.connect(observe=False) as conn:
            data = conn.session_data
        arrival = decode(data.data).tls13.arrival_time_raw[0]
        clock.advance(120)
        fake = attempt_resumption(lab, data)
    lab = Lab("1.3", lifetime=1)
    with lab.connect(observe=False) as conn:
        data = conn.session_data
    time.sleep(real_wait)
    return ExpiryClocks(fake, attempt_resumption(lab, data), "fake" if abs(arrival - start) < 10 else "real")


class LifetimeCopy(NamedTuple):
    """The client's copy of the ticket lifetime set to ``lifetime`` seconds (the server's is 21600):
    ``at_once`` and ``later`` (``wait`` real seconds after the ticket arrived)."""

    lifetime: int
    wait: float
    at_once: Attempt
    later: Attempt


def client_lifetime_copy(lifetime: int = 1, wait: float = 2.2) -> LifetimeCopy:
    """The client's lifetime copy decides whether it offers the ticket: set to 1 s, the ticket resumes at
    once and is dropped by the client (no ``pre_shared_key``) once its age reaches 2 s (the check
    compares whole seconds: ms // 1000 > lifetime). Real clock, so every version measures the same age."""
    lab = Lab("1.3")
    with lab.connect(observe=False) as conn:
        short = decode(conn.session_data.data).rebuilt(lifetime=lifetime)
    at_once = attempt_resumption(lab, short)
    time.sleep(wait)
    return LifetimeCopy(lifetime, wait, at_once, attempt_resumption(lab, short))


def server_expiry_rules() -> dict:
    """The server's two checks, apart (``lib/db.c:_gnutls_check_resumed_params``, ``lib/ext/pre_shared_key.c``):

    - ``"younger claim past the session's end"``: lifetime 100 s, 130 s later (fake clock), the client's
      copies tampered (lifetime 100000, age_add - 60 s) so it offers and claims 70 s: refused, because the
      session's *original* timestamp is 130 s old, more than the server's own lifetime;
    - ``"older claim on a fresh session"``: 10 s later, age_add + 150 s (claims 160 s): refused, because
      the claimed age exceeds the *ticket's* lifetime;
    - ``"server lifetime shortened"``: issued with 600 s, the server restarted with 150 s and the same key
      (fake clock near 0, so both lifetimes share key period 0), 200 s later: refused by the timestamp
      check, although the ticket's lifetime and the claimed age agree;
    - ``"chain: a fresh ticket of an old session"``: lifetime 100 s, a resumption at 60 s issues a new
      ticket, offered 50 s later (client copy raised so it offers): refused, the session began 110 s ago;
    - ``"control"``: the untouched ticket 10 s later resumes.

    Values are :class:`Attempt`.
    """
    out = {}

    def tampered(lab, data, *, lifetime=None, age_delta_ms=0):
        session = decode(data.data)
        changes = {"ticket_age_add": (session.tls13.ticket_age_add + age_delta_ms) % 2**32}
        if lifetime is not None:
            changes["lifetime"] = lifetime
        return session.rebuilt(changes)

    with FakeClock() as clock:
        lab = Lab("1.3", lifetime=100)
        with lab.connect(observe=False) as conn:
            data = conn.session_data
        clock.advance(10)
        out["control"] = attempt_resumption(lab, data)
        out["older claim on a fresh session"] = attempt_resumption(lab, tampered(lab, data, age_delta_ms=150_000))
        clock.advance(120)
        out["younger claim past the session's end"] = attempt_resumption(
            lab, tampered(lab, data, lifetime=100_000, age_delta_ms=-60_000))
    with FakeClock(100) as clock:
        lab = Lab("1.3", lifetime=600)
        with lab.connect(observe=False) as conn:
            data = conn.session_data
        clock.advance(200)
        out["server lifetime shortened"] = attempt_resumption(Lab("1.3", lifetime=150, ticket_key=lab.ticket_key), data)
    with FakeClock() as clock:
        lab = Lab("1.3", lifetime=100)
        with lab.connect(observe=False) as conn:
            data = conn.session_data
        clock.advance(60)
        with lab.connect(resume=data, observe=False) as conn:
            renewed = conn.session_data
        clock.advance(50)
        out["chain: a fresh ticket of an old session"] = attempt_resumption(lab, tampered(lab, renewed, lifetime=100_000))
    return out


# --- tickets: what they carry and when they come (notebooks 03 and 06, docs/spy.md) ----------------------

def stored_max_early_data_size() -> int:
    """``max_early_data_size`` in the session data of a ticket from a server without early data:
    0xFFFFFFFF from 3.7.x and 3.8.0-3.8.8, 0 from 3.8.9 (gnutls#1619). Test the value, not the version."""
    with Lab("1.3").connect(observe=False) as conn:
        return decode(conn.session_data.data).tls13.max_early_data_size


def ticket_timing(*, certificate_request: bool = False, resumed: bool = False) -> str:
    """When the server sends its TLS 1.3 tickets, from its own handshake transcript: ``"with the server's
    first flight"`` (before the client's Finished has arrived) or ``"after the client's Finished"``."""
    lab = Lab("1.3", certificate_request=certificate_request)
    data = None
    if resumed:
        with lab.connect(observe=False) as conn:
            data = conn.session_data
    with lab.connect(resume=data, observe="transcript") as conn:
        if resumed and not conn.resumed:
            raise RuntimeError("the lab's own ticket did not resume")
        names = [(m.sender, m.name) for m in conn.server.transcript]
    ticket = names.index(("server", "NEW SESSION TICKET"))
    client_finished = names.index(("client", "FINISHED"))
    return "with the server's first flight" if ticket < client_finished else "after the client's Finished"


def tickets_without_psk_key_exchange_modes() -> tuple:
    """``(psk_key_exchange_modes the client sent, tickets it received)`` for a ``GNUTLS_NO_TICKETS``
    client, which sends no such extension: RFC 8446 §4.2.9 says the server SHOULD NOT send it tickets
    it cannot use; GnuTLS sends two."""
    with Lab("1.3", client_tickets=False).connect(observe="wire") as conn:
        modes = observe_connection(conn.wire).client_hello.psk_ke_modes
        return modes, len(conn.tickets)


class PskKe(NamedTuple):
    """A resumption with a server whose priority adds ``+PSK`` but no (EC)DHE-PSK key exchange:
    ``client_modes`` (psk_key_exchange_modes: 1 psk_dhe_ke, 0 psk_ke), and the :class:`Attempt`."""

    client_modes: tuple
    attempt: Attempt


#: A server that adds the plain PSK key exchange to NORMAL, and no (EC)DHE-PSK.
PLUS_PSK_SERVER = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+PSK"


def _lab_with_default_client(server_priority: str, **options) -> Lab:
    lab = Lab(server_priority, **options)
    lab.client_priority = "NORMAL:-VERS-ALL:+VERS-TLS1.3"  # a GnuTLS client as it comes
    return lab


def psk_ke_resumption(server_priority: str = PLUS_PSK_SERVER) -> PskKe:
    """Does the server resume with plain ``psk_ke`` (no key_share: no forward secrecy for the resumed
    connection) when the client offers ``psk_dhe_ke`` too? It does, silently. The client is a default
    GnuTLS TLS 1.3 client, which lists both modes."""
    lab = _lab_with_default_client(server_priority)
    with lab.connect(observe="wire") as conn:
        data = conn.session_data
        modes = observe_connection(conn.wire).client_hello.psk_ke_modes
    return PskKe(modes, attempt_resumption(lab, data))


# --- early data (notebook 06, docs/early-data.md) ----------------------------------------------------------

class EarlyDataOutcome(NamedTuple):
    """A 0-RTT resumption: ``resumed``, ``early_data_accepted`` (the server delivered it), ``store_asked``
    (the anti-replay's add function was called), ``client_sent_early_data`` (the ClientHello carried the
    early_data extension), ``error`` (what ``gnutls_record_send_early_data`` or the handshake raised)."""

    resumed: bool
    early_data_accepted: bool
    store_asked: bool
    client_sent_early_data: bool
    error: str


def early_data_with_a_larger_claimed_age(seconds: float = 5.0) -> EarlyDataOutcome:
    """A client whose ``ticket_age_add`` copy is raised by ``seconds`` claims an older ticket than the
    server's own age of it (``server_ticket_age < client_ticket_age`` in ``lib/tls13/anti_replay.c``):
    libgnutls refuses the early data before asking the store, and the handshake resumes."""
    anti_replay = AntiReplay(10.0)
    zero_rtt = ZeroRttLab(Lab("1.3"), anti_replay=anti_replay)
    session = decode(zero_rtt.issue_ticket().data)
    older = session.rebuilt(ticket_age_add=(session.tls13.ticket_age_add + int(seconds * 1000)) % 2**32)
    with zero_rtt.resume(older, b"early data") as conn:
        sent = observe_connection(conn.wire).client_hello.early_data
        return EarlyDataOutcome(conn.resumed, conn.server.early_data == b"early data", bool(anti_replay.events),
                                sent, "")


def early_data_on_a_ticket_without_it() -> EarlyDataOutcome:
    """A ticket issued without early data, then a 0-RTT attempt (the server now allows early data). A
    3.7 client stores ``max_early_data_size`` 0xFFFFFFFF and sends the early data (RFC 8446 §4.2.10 says
    it must not); 3.8.9 and later store 0 and ``gnutls_record_send_early_data`` refuses."""
    lab = Lab("1.3")
    ticket = ZeroRttLab(lab, early_data=0, anti_replay=AntiReplay(10.0)).issue_ticket()
    try:
        with ZeroRttLab(lab, anti_replay=AntiReplay(10.0)).resume(ticket, b"early data") as conn:
            sent = observe_connection(conn.wire).client_hello.early_data
            return EarlyDataOutcome(conn.resumed, conn.server.early_data == b"early data", False, sent, "")
    except GnuTLSLabError as exc:
        return EarlyDataOutcome(False, False, False, False, getattr(exc, "name", "") or str(exc))


# --- a ticket key everyone knows: CVE-2020-13777 (notebook 05) -----------------------------------------------

class PublicKeyExposure(NamedTuple):
    """What a passive observer who knows the ticket key reads, and what an active one does:
    ``tls12_data`` (client and server application data of a recorded TLS 1.2 connection),
    ``tls13_psk_dhe_data`` / ``tls13_psk_ke_data`` (a recorded TLS 1.3 resumption, default server and a
    ``+PSK`` server without (EC)DHE-PSK; None where the keys did not open it), and
    ``impersonated`` (a server with another certificate but the same known key resumed the client)."""

    tls12_data: tuple
    tls13_psk_dhe_data: tuple
    tls13_psk_ke_data: tuple
    impersonated: bool


def _converse(conn, request: bytes, answer: bytes) -> None:
    conn.client.send(request)
    conn.server.read_available()
    conn.server.send(answer)
    conn.client.read_available()


def public_ticket_key_exposure(key: bytes = bytes(64)) -> PublicKeyExposure:
    """Servers whose ticket key is public (default: all zeros). GnuTLS 3.6.4 to 3.6.13 encrypted and
    authenticated tickets with all-zero key material until their first key rotation (CVE-2020-13777,
    fixed in 3.6.14); today's libgnutls derives every period key from the master key, so the lab makes
    the key public by using an all-zero *master* key: the observer's position is the same."""
    request, answer = b"GET /account HTTP/1.1\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\nbalance: 42"
    lab12 = Lab("1.2", ticket_key=key)
    with lab12.connect() as conn:
        _converse(conn, request, answer)
        read = read_recorded_tls12(conn.wire, key)
        tls12 = (read.client_data, read.server_data)
    tls13 = []
    for priority in ("NORMAL:-VERS-ALL:+VERS-TLS1.3", PLUS_PSK_SERVER):
        lab = _lab_with_default_client(priority, ticket_key=key)
        with lab.connect(observe=False) as conn:
            data = conn.session_data
        with lab.connect(resume=data) as conn:
            _converse(conn, request, answer)
            read = read_recorded_resumption(conn.wire, key)
            tls13.append((read.client_data, read.server_data))
    victim = Lab("1.3", ticket_key=key)
    with victim.connect(observe=False) as conn:
        data = conn.session_data
    impostor = Lab("1.3", ticket_key=key)  # another certificate and private key: only the ticket key is shared
    with impostor.connect(resume=data, observe=False) as conn:
        impersonated = conn.resumed
    return PublicKeyExposure(tls12, tls13[0], tls13[1], impersonated)


# --- a failed set_data leaves the session half-loaded (notebook 03, findings/set-data-partial) --------------

_PARTIAL_CHILD = textwrap.dedent(r"""
    import json, sys
    from gnutls_lab import ClientSession, GnuTLSLabError, Lab, ServerSession, memory_pair, pump
    from gnutls_lab.binding import load
    cut, tls = int(sys.argv[1]), sys.argv[2]
    ffi, lib = load()[:2]
    lab = Lab(tls)
    with lab.connect(observe=False) as conn:
        blob = conn.session_data.data
    data = blob[:len(blob) - cut]
    client_end, server_end = memory_pair()
    server = ServerSession(lab.server_credentials, lab.priority, endpoint=server_end, ticket_key=lab.ticket_key)
    client = ClientSession(lab.client_credentials, lab.client_priority, endpoint=client_end)
    rc = lib.gnutls_session_set_data(client._ptr, data, len(data))  # raw: no preflight, as wget2 calls it
    out = {"blob_bytes": len(blob), "set_data": ffi.string(lib.gnutls_strerror_name(rc)).decode() if rc else "0"}
    try:
        pump(client, server)
        out["handshake"], out["resumed"] = "0", client.is_resumed()
    except GnuTLSLabError as exc:
        out["handshake"], out["resumed"] = getattr(exc, "name", str(exc)), False
    print(json.dumps(out))
""")


class PartialSetData(NamedTuple):
    """A blob missing its last ``cut`` bytes handed to ``gnutls_session_set_data`` without the lab's
    preflight (in a child process): what ``set_data`` returned (``"0"`` or an error name), what the
    handshake that followed did (``"0"`` or an error name), and whether it resumed. ``crashed`` names
    the signal if the child died."""

    cut: int
    blob_bytes: int
    set_data: str
    handshake: str
    resumed: bool
    crashed: str


def partial_set_data(cut: int = 4, tls: str = "1.3") -> PartialSetData:
    """What a client that ignores ``set_data``'s error gets, as wget2 does: a TLS 1.3 blob missing its last
    4 bytes (``max_early_data_size``) makes ``set_data`` return ``GNUTLS_E_PARSING_ERROR`` and the handshake
    still resumes; cut into the resumption master secret (17 bytes and more) the handshake fails with
    ``GNUTLS_E_INTERNAL_ERROR``. The lab itself never does this (its preflight refuses a truncated blob),
    so the raw call runs in a child process: some cuts (into the certificates) kill it."""
    child = subprocess.run([sys.executable, "-c", _PARTIAL_CHILD, str(int(cut)), tls], capture_output=True,
                           text=True, timeout=60)
    if child.returncode < 0:
        return PartialSetData(cut, 0, "", "", False, signal.Signals(-child.returncode).name)
    if child.returncode != 0:
        raise GnuTLSLabError(f"the set_data child failed: {child.stderr.strip().splitlines()[-1:]}")
    out = json.loads(child.stdout.strip().splitlines()[-1])
    return PartialSetData(cut, out["blob_bytes"], out["set_data"], out["handshake"], out["resumed"], "")


# --- a TLS 1.3 blob that says TLS 1.2: set_data aborts on some keys (notebook 03, findings/set-data-crash) ---

_FLIP_CHILD = textwrap.dedent(r"""
    import json, os, sys
    from gnutls_lab import ClientSession, Lab, memory_pair
    from gnutls_lab.analysis import decode
    from gnutls_lab.binding import load
    tls, to, keys = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    ffi, lib = load()[:2]
    counts = {"aborted": 0, "error": 0, "accepted": 0, "other death": 0}
    for _ in range(keys):
        lab = Lab(tls)  # a new ticket key each time: the ticket's bytes are what set_data misreads
        with lab.connect(observe=False) as conn:
            session = decode(conn.session_data.data)
        flipped = session.flipped("security_parameters.pversion", 3, session.tree["security_parameters"]
                                  ["body"]["pversion"] ^ to)
        client = ClientSession(lab.client_credentials, lab.client_priority, endpoint=memory_pair()[0])
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:  # raw call, no preflight, as a client that trusts its own cache calls it
            rc = lib.gnutls_session_set_data(client._ptr, flipped, len(flipped))
            os._exit(0 if rc == 0 else 1)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            counts["aborted" if os.WTERMSIG(status) == 6 else "other death"] += 1
        else:
            counts["accepted" if os.WEXITSTATUS(status) == 0 else "error"] += 1
    print(json.dumps(counts))
""")


class VersionFlip(NamedTuple):
    """``keys`` blobs (each from a server with a new ticket key) whose protocol version was overwritten
    with ``to``, each handed to a raw ``gnutls_session_set_data`` in a forked process: how many
    ``aborted`` (SIGABRT), returned an ``error``, were ``accepted`` (returned 0) or died otherwise."""

    tls: str
    to: int
    keys: int
    aborted: int
    error: int
    accepted: int
    other_death: int


def version_flip_in_set_data(tls: str = "1.3", to: int = 4, keys: int = 12) -> VersionFlip:
    """A TLS 1.3 blob whose protocol version says TLS 1.2 (4) or SSL 3.0 (1): ``unpack_security_parameters``
    reads TLS 1.2 fields on into the ticket, then the ticket's bytes as a TLS 1.2 extension list, and aborts
    on the extension-id assertion whenever the count it reads there is positive: about one ticket key in
    two (``findings/set-data-crash``). The lab's preflight refuses every such flip, so the raw calls run in
    forked children of a child process."""
    child = subprocess.run([sys.executable, "-c", _FLIP_CHILD, tls, str(int(to)), str(int(keys))],
                           capture_output=True, text=True, timeout=120)
    if child.returncode != 0:
        raise GnuTLSLabError(f"the set_data child failed: {child.stderr.strip().splitlines()[-1:]}")
    out = json.loads(child.stdout.strip().splitlines()[-1])
    return VersionFlip(tls, int(to), int(keys), out["aborted"], out["error"], out["accepted"], out["other death"])
