"""Self-checks for the exercises of notebooks 04 (tracking) and 05 (server ticket keys).

Same contract as :mod:`gnutls_lab.exercises`: a notebook cell holds a stub with a real bug; the cell
below calls a ``check_*`` function from here, which runs the participant's function against fresh
live handshakes and returns a :class:`~gnutls_lab.exercises.CheckResult`. The expected values are
computed live (by the lab's observer, or read from the tickets libgnutls just issued), never stored.

Exercises (notebook → check):

- 04 ``linkable(first, second)`` → :func:`check_linkable`: can a passive observer tell that two
  observed visits come from one client? Not only by a reused ticket: a GnuTLS TLS 1.3 client resends
  its ``legacy_session_id``, TLS 1.2 shows tickets and session IDs in clear.
- 05 ``key_name(master_key, unix_time, lifetime)`` → :func:`check_key_name`: the 16-byte key name a
  GnuTLS server writes in clear at the start of every ticket it issues at that time.
- 05 ``exposed(seen)`` → :func:`check_exposed`: from what a passive observer recorded of one
  connection, will the server's ticket key, stolen later, decrypt it? The truth of each case is what
  the two readers below actually decrypt.

Notebook 05 also shows what the holder of a server's ticket master key reads from recorded
traffic, with the two readers that serve as its ground truth (they use only the wire tap and the key):

- :func:`read_recorded_tls12`: the ticket (in clear in a NewSessionTicket or a ClientHello) holds the
  master secret: every key of the connection, ECDHE or not (RFC 5246 §6.3).
- :func:`read_recorded_resumption`: a TLS 1.3 resumption shows its ticket as the PSK identity; the
  ticket gives the PSK (RFC 8446 §4.6.1) and the early secrets, and every secret of the connection
  only when the server chose ``psk_ke`` (no key_share in its ServerHello, §4.2.9).

These readers are here because notebook 05 is their only user; they would move to an analysis module
of their own if anything else needed them.

Reference solutions for instructors: ``notebooks/solutions/04_*.py`` and ``05_*.py``.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from typing import Callable, NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from gnutls_lab.sessions.clock import FakeClock
from gnutls_lab.analysis.decode import decode
from gnutls_lab.errors import UsageError
from .exercises import CheckResult, Scenario, call_student, make_scenario
from gnutls_lab.sessions.lab import Lab
from gnutls_lab.analysis.linkage import link_visits
from gnutls_lab.analysis.observer import ObservedConnection, observe_connection
from gnutls_lab.sessions.session import ClientSession, ServerSession, pump
from gnutls_lab.analysis.ticket_keys import decrypt_ticket
from gnutls_lab.sessions.transport import memory_pair

__all__ = [
    "check_linkable",
    "check_key_name",
    "check_exposed",
    "linkable_cases",
    "key_name_cases",
    "exposed_cases",
    "RecordedTLS12",
    "RecordedResumption",
    "read_recorded_tls12",
    "read_recorded_resumption",
]

_HASH_ALGORITHMS = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384()}


# --- notebook 04 ----------------------------------------------------------------------------------


def _visit(lab: Lab, resume=None) -> tuple:
    """One live visit: (what the observer saw, the session data the client keeps afterwards)."""
    with lab.connect(resume=resume) as conn:
        seen = observe_connection(conn.wire)
        return seen, conn.session_data


def linkable_cases() -> list:
    """Live pairs of observed visits ``(name, first, second, same_client, why)``, first earlier.

    ``same_client`` is the ground truth (one client's chain of visits or two clients); whether the
    observer can link the pair is :func:`~gnutls_lab.linkage.link_visits`'s verdict, and the check
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
        result, error = call_student(linkable, first, second)
        scenarios.append(make_scenario(name, repr(observer_links), result, error,
                                   lambda r, e=observer_links: isinstance(r, bool) and r == e, why))
    return CheckResult("linkable", scenarios)


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
    return CheckResult("key_name", scenarios)


# --- notebook 05: what the holder of a ticket key reads from a recorded TLS 1.3 resumption --------

_TLS13_HASHES = {0x1301: hashlib.sha256, 0x1302: hashlib.sha384, 0x1303: hashlib.sha256}
_AEAD = {0x1301: (AESGCM, 16), 0x1302: (AESGCM, 32), 0x1303: (ChaCha20Poly1305, 32)}
_KEY_SHARE = 51  # RFC 8446 §4.2.8: in a ServerHello it means (EC)DHE was mixed into the key schedule


class RecordedResumption(NamedTuple):
    """What :func:`read_recorded_resumption` recovered, from the wire tap and the server's ticket key.

    ``secrets``: NSS key-log label → secret, as the attacker derived them. ``client_data`` /
    ``server_data``: the application data decrypted from the wire (None where the keys did not work).
    ``key_share``: the ServerHello carried a key_share (psk_dhe_ke), so the attacker's secrets from the
    PSK alone are wrong from the handshake secret on.
    """

    key_share: bool
    psk: bytes
    secrets: dict
    client_data: bytes | None
    server_data: bytes | None


def _expand_label(hash_, secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """RFC 8446 §7.1 HKDF-Expand-Label."""
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
    return HKDFExpand(_HASH_ALGORITHMS[hash_().name], length, info).derive(secret)


def _extract(hash_, salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt, ikm, hash_).digest()


def _records(wire, sender: str) -> list:
    """``(content_type, header, fragment)`` of every record one side sent, in order."""
    stream = b"".join(bytes(c.data if hasattr(c, "data") else c[1]) for c in wire
                      if (c.sender if hasattr(c, "sender") else c[0]) == sender)
    out, p = [], 0
    while p + 5 <= len(stream):
        size = int.from_bytes(stream[p + 3:p + 5], "big")
        out.append((stream[p], stream[p:p + 5], stream[p + 5:p + 5 + size]))
        p += 5 + size
    return out


def _traffic_decryptor(suite: int, hash_, secret: bytes):
    """A function ``(header, fragment, seq) -> (content_type, plaintext)`` for one traffic secret."""
    cipher, key_size = _AEAD[suite]
    aead = cipher(_expand_label(hash_, secret, b"key", b"", key_size))
    iv = _expand_label(hash_, secret, b"iv", b"", 12)

    def decrypt(header: bytes, fragment: bytes, seq: int) -> tuple:
        nonce = bytes(a ^ b for a, b in zip(iv, seq.to_bytes(12, "big")))
        inner = aead.decrypt(nonce, fragment, header).rstrip(b"\0")  # RFC 8446 §5.2 TLSInnerPlaintext
        return inner[-1], inner[:-1]

    return decrypt


def _handshake_messages(stream: bytes) -> list:
    out, p = [], 0
    while p + 4 <= len(stream):
        size = int.from_bytes(stream[p + 1:p + 4], "big")
        out.append(stream[p:p + 4 + size])
        p += 4 + size
    return out


def _decrypt_side(records, suite, hash_, handshake_secret: bytes, transcript_after=None):
    """Decrypt one side's encrypted records: handshake keys until its Finished, then ``transcript_after``
    (a function of the handshake messages seen so far returning that side's application secret)."""
    decrypt, seq, handshake, data = _traffic_decryptor(suite, hash_, handshake_secret), 0, [], b""
    in_handshake = True
    for content_type, header, fragment in records:
        if content_type != 23:
            continue
        inner_type, plaintext = decrypt(header, fragment, seq)
        seq += 1
        if in_handshake and inner_type == 22:
            handshake.extend(_handshake_messages(plaintext))
            finished = [i for i, m in enumerate(handshake) if m[0] == 20]
            if finished:  # its Finished: application keys from the next record on
                in_handshake = False
                handshake = handshake[:finished[0] + 1]
                decrypt, seq = _traffic_decryptor(suite, hash_, transcript_after(handshake)), 0
        elif inner_type == 23:
            data += plaintext
    return handshake, data


def read_recorded_resumption(wire, master_key, **hints) -> RecordedResumption:
    """Read a recorded, resumed TLS 1.3 connection with the server's 64-byte ticket master key.

    Only the wire and the key: the PSK identity in the ClientHello is the server's ticket; decrypting
    it gives the resumption master secret and nonce, hence the PSK (RFC 8446 §4.6.1). From the PSK
    alone the key schedule (§7.1) gives the early secrets; the handshake and application secrets
    follow from it *if* no (EC)DHE shared secret was mixed in (``psk_ke``). The function assumes
    exactly that and checks itself: under ``psk_dhe_ke`` (a key_share in the ServerHello) the AEAD
    tags fail and the data fields are None. ``hints`` go to :func:`~gnutls_lab.ticket_keys.decrypt_ticket`.
    """
    seen = observe_connection(wire)
    client_hello, server_hello = seen.client_hello, seen.server_hello
    if server_hello is None or server_hello.psk_selected_identity is None:
        raise UsageError("not a resumed TLS 1.3 connection: the ServerHello selected no PSK identity")
    suite = server_hello.ciphersuite
    hash_ = _TLS13_HASHES[suite]
    size = hash_().digest_size
    ticket = client_hello.psk_identities[server_hello.psk_selected_identity].identity
    state = decrypt_ticket(ticket, master_key, tls13=True, **hints).fields
    psk = _expand_label(hash_, state["resumption_master_secret"], b"resumption", state["nonce"], size)
    frame = lambda kind, body: bytes([kind]) + len(body).to_bytes(3, "big") + body  # noqa: E731
    hello_messages = [frame(1, client_hello.body), frame(2, server_hello.body)]
    early = _extract(hash_, b"\0" * size, psk)
    secrets = {"CLIENT_EARLY_TRAFFIC_SECRET": _expand_label(hash_, early, b"c e traffic",
                                                            hash_(hello_messages[0]).digest(), size)}
    empty = hash_(b"").digest()
    handshake_secret = _extract(hash_, _expand_label(hash_, early, b"derived", empty, size), b"\0" * size)
    after_hellos = hash_(b"".join(hello_messages)).digest()
    for label, name in ((b"c hs traffic", "CLIENT_HANDSHAKE_TRAFFIC_SECRET"),
                        (b"s hs traffic", "SERVER_HANDSHAKE_TRAFFIC_SECRET")):
        secrets[name] = _expand_label(hash_, handshake_secret, label, after_hellos, size)
    master = _extract(hash_, _expand_label(hash_, handshake_secret, b"derived", empty, size), b"\0" * size)

    def application(label: bytes, name: str):
        def secret(server_flight):
            transcript = hash_(b"".join(hello_messages + server_flight)).digest()
            secrets[name] = _expand_label(hash_, master, label, transcript, size)
            return secrets[name]
        return secret

    key_share = _KEY_SHARE in server_hello.extension_types
    try:
        server_flight, server_data = _decrypt_side(_records(wire, "server"), suite, hash_,
                                                   secrets["SERVER_HANDSHAKE_TRAFFIC_SECRET"],
                                                   application(b"s ap traffic", "SERVER_TRAFFIC_SECRET_0"))
        client_secret = application(b"c ap traffic", "CLIENT_TRAFFIC_SECRET_0")(server_flight)
        _, client_data = _decrypt_side(_records(wire, "client"), suite, hash_,
                                       secrets["CLIENT_HANDSHAKE_TRAFFIC_SECRET"], lambda _: client_secret)
    except InvalidTag:  # the (EC)DHE secret the attacker lacks went into the keys
        server_data = client_data = None
    return RecordedResumption(key_share, psk, secrets, client_data, server_data)


# --- notebook 05: the same for TLS 1.2, where the ticket holds the master secret itself -------------

#: TLS 1.2 AEAD suites the lab negotiates: suite → (AEAD, key size, fixed IV size, PRF hash)
_TLS12_SUITES = {
    0xC02B: (AESGCM, 16, 4, hashlib.sha256), 0xC02F: (AESGCM, 16, 4, hashlib.sha256),
    0xC02C: (AESGCM, 32, 4, hashlib.sha384), 0xC030: (AESGCM, 32, 4, hashlib.sha384),
    0xCCA8: (ChaCha20Poly1305, 32, 12, hashlib.sha256), 0xCCA9: (ChaCha20Poly1305, 32, 12, hashlib.sha256),
}


class RecordedTLS12(NamedTuple):
    """What :func:`read_recorded_tls12` recovered: the master secret from the ticket, the NSS key-log
    line an attacker would give Wireshark, and the application data of each side."""

    master_secret: bytes
    keylog_line: str
    client_data: bytes
    server_data: bytes


def _tls12_prf(hash_, secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
    """RFC 5246 §5 PRF: P_hash(secret, label + seed)."""
    seed = label + seed
    out, a = b"", seed
    while len(out) < length:
        a = hmac.new(secret, a, hash_).digest()
        out += hmac.new(secret, a + seed, hash_).digest()
    return out[:length]


def read_recorded_tls12(wire, master_key, **hints) -> RecordedTLS12:
    """Read a recorded TLS 1.2 connection with the server's ticket master key, from the wire alone.

    The ticket is on the wire in clear: issued in a NewSessionTicket (a full handshake) or presented
    in the ClientHello (a resumption). Decrypted, it holds the server's packed session and in it the
    master secret; with the two randoms of the hellos that is every key of the connection (RFC 5246
    §6.3), whatever key exchange made it, ECDHE included. AEAD suites only (the lab's default).
    """
    seen = observe_connection(wire)
    hello, server_hello = seen.client_hello, seen.server_hello
    tickets = [t.ticket for t in seen.new_session_tickets] + ([hello.session_ticket] if hello.session_ticket else [])
    if not tickets:
        raise UsageError("no TLS 1.2 ticket crossed this wire: nothing a ticket key can open")
    state = decode(decrypt_ticket(tickets[0], master_key, tls13=False, **hints).state)
    master = state.master_secret
    suite = server_hello.ciphersuite
    if suite not in _TLS12_SUITES:
        raise UsageError(f"cipher suite 0x{suite:04x} is not one of the AEAD suites this reader knows")
    cipher, key_size, iv_size, hash_ = _TLS12_SUITES[suite]
    block = _tls12_prf(hash_, master, b"key expansion", server_hello.random + hello.random, 2 * (key_size + iv_size))
    keys = {"client": (block[:key_size], block[2 * key_size:2 * key_size + iv_size]),
            "server": (block[key_size:2 * key_size], block[2 * key_size + iv_size:])}
    data = {}
    for sender, (key, iv) in keys.items():
        aead, seq, after_ccs, plain = cipher(key), 0, False, b""
        for content_type, header, fragment in _records(wire, sender):
            if content_type == 20:
                after_ccs = True
                continue
            if not after_ccs:
                continue
            if iv_size == 4:  # AES-GCM: 8 explicit nonce bytes lead the fragment (RFC 5288 §3)
                nonce, body = iv + fragment[:8], fragment[8:]
            else:  # ChaCha20-Poly1305: the IV XOR the sequence number (RFC 7905 §2)
                nonce, body = bytes(a ^ b for a, b in zip(iv, seq.to_bytes(12, "big"))), fragment
            aad = seq.to_bytes(8, "big") + header[:3] + (len(body) - 16).to_bytes(2, "big")
            plaintext = aead.decrypt(nonce, body, aad)
            seq += 1
            if content_type == 23:
                plain += plaintext
        data[sender] = plain
    line = f"CLIENT_RANDOM {hello.random.hex()} {master.hex()}"
    return RecordedTLS12(master, line, data["client"], data["server"])


# --- notebook 05, exercise 2: which recordings does the key open? ------------------------------------

_REQUEST = b"GET /account HTTP/1.1\r\n\r\n"


def _recorded(lab: Lab, resume=None, server_priority: str | None = None) -> tuple:
    """One live connection with a request from the client: ``(wire, session data)``; the server's
    priority may differ from the client's (``server_priority``)."""
    wire: list = []
    client_end, server_end = memory_pair(wire)
    server = ServerSession(lab.server_credentials, server_priority or lab.priority, endpoint=server_end,
                           ticket_key=lab.ticket_key if lab.tickets else None, cache=lab.cache)
    client = ClientSession(lab.client_credentials, lab.priority, endpoint=client_end, server_name=lab.server_name)
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
        result, error = call_student(exposed, seen)
        scenarios.append(make_scenario(name, repr(truth), result, error,
                                   lambda r, e=truth: isinstance(r, bool) and r == e, why))
    return CheckResult("exposed", scenarios)
