"""What a real program did with its session data, from the records of the session-data spy.

Theory of operation. ``gnutls-lab spy`` preloads a small library into a program; every call the
program makes to ``gnutls_init``, ``gnutls_handshake``, ``gnutls_session_get_data``/``get_data2``,
``gnutls_session_set_data``, ``gnutls_session_is_resumed`` and ``gnutls_deinit`` becomes one record
(a dict: ``ev``, ``pid``, ``tid``, ``mono_ns``, ``session``, ``depth``, ``rc`` and the bytes in hex).
:func:`analyse` groups the records into TLS sessions (``gnutls_init`` to ``gnutls_deinit`` of one
session pointer in one process) and answers, per session: did the handshake succeed, did libgnutls
resume it (its own ``gnutls_session_is_resumed``, asked by the spy after every handshake), what the
program gave to ``gnutls_session_set_data``, and what every ``get_data``/``get_data2`` returned and when.

Tickets and session IDs are named by :func:`ticket_id`, a short SHA-256 of the ticket (or session ID)
the blob carries, decoded with :func:`gnutls_lab.analysis._decode.decode`: enough to see that two
connections offered the same ticket, never the ticket or any secret itself. The lab server names what
clients presented the same way (:func:`identity_id`), so the two sides can be compared.

What the spy sees of a TLS 1.3 NewSessionTicket: ``GNUTLS_SFLAGS_SESSION_TICKET`` after a
``gnutls_record_recv`` (the arrival, to within that call), or a real blob from ``get_data2`` (the
ticket had arrived by then, possibly read by that very call). Nothing else is inferred.

What the spy could not see (a program that loaded libgnutls with ``RTLD_LOCAL``) is in the report's
``not_seen`` sentences, from :mod:`._spy_processes`. :func:`pair_with_server` and :func:`server_disagreements`
(in :mod:`._spy_server`) compare a report with a lab server's record of the same connections.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import asdict, dataclass, field

from ..binding import load, make_error
from ..errors import BlobFormatError
from ..formats import PROTOCOLS
from ..formats import DUMMY_SESSION
from ._decode import decode
from ._spy_processes import blind_spots, nothing_seen, processes
from ._spy_server import pair_with_server, server_disagreements

__all__ = ["SpySession", "SpyReport", "analyse", "init_flag_names", "ticket_id", "identity_id", "server_disagreements",
           "pair_with_server"]

#: ``gnutls_init`` flags (``gnutls_init_flags_t``) the report names; their values come from the binding.
INIT_FLAGS = ("GNUTLS_SERVER", "GNUTLS_CLIENT", "GNUTLS_DATAGRAM", "GNUTLS_NONBLOCK", "GNUTLS_NO_EXTENSIONS",
              "GNUTLS_NO_REPLAY_PROTECTION", "GNUTLS_NO_SIGNAL", "GNUTLS_ALLOW_ID_CHANGE", "GNUTLS_ENABLE_FALSE_START",
              "GNUTLS_FORCE_CLIENT_CERT", "GNUTLS_NO_TICKETS", "GNUTLS_KEY_SHARE_TOP", "GNUTLS_KEY_SHARE_TOP2",
              "GNUTLS_KEY_SHARE_TOP3", "GNUTLS_POST_HANDSHAKE_AUTH", "GNUTLS_NO_AUTO_REKEY",
              "GNUTLS_SAFE_PADDING_CHECK", "GNUTLS_ENABLE_EARLY_START", "GNUTLS_ENABLE_RAWPK", "GNUTLS_AUTO_REAUTH",
              "GNUTLS_ENABLE_EARLY_DATA", "GNUTLS_NO_AUTO_SEND_TICKET", "GNUTLS_NO_END_OF_EARLY_DATA",
              "GNUTLS_NO_TICKETS_TLS12")


def init_flag_names(flags: int) -> list[str]:
    """The ``gnutls_init`` flags set in ``flags``, by name."""
    lib = load()[1]
    return [name for name in INIT_FLAGS if flags & getattr(lib, name)]


def _short_hash(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()[:12]


def identity_id(kind: str | None, value: bytes) -> str | None:
    """Name of a resumption identity a server saw: ``ticket:<hash>`` or ``session-id:<hash>``."""
    if not kind or not value:
        return None
    return f"{'session-id' if kind == 'session_id' else 'ticket'}:{_short_hash(value)}"


def ticket_id(data: bytes) -> str | None:
    """Name of what session data would present when resuming; None for the dummy or empty data."""
    if not data or data == DUMMY_SESSION:
        return None
    try:
        session = decode(data, annotate=False)
    except BlobFormatError:
        return f"undecoded:{_short_hash(data)}"
    if session.ticket:
        return identity_id("ticket", session.ticket)
    if session.session_id:
        return identity_id("session_id", session.session_id)
    return None


@dataclass
class Stored:
    """One ``get_data``/``get_data2`` result the program received."""

    call: str
    dummy: bool
    bytes: int
    after_handshake_ms: float | None  # None: asked before the handshake completed
    waited_ms: float  # time spent inside the call
    ticket_id: str | None
    at_ms: float  # since the run's first record
    from_callback: str | None = None  # the libgnutls call the program's callback ran inside, if any
    spy_kept_bytes: int | None = None  # set when the spy logged only this many bytes (over 1 MiB)


@dataclass
class SpySession:
    """One TLS session of the program (``gnutls_init`` to ``gnutls_deinit``)."""

    index: int
    pid: int
    session: str
    program: str = ""  # the process's program (argv[0]), from the spy's start record
    flags: int = 0
    started_ms: float = 0.0
    handshake_rc: int | None = None
    handshake_error: str | None = None  # the name of a failed handshake's error code
    handshake_ms: float | None = None  # when the handshake completed, since the run's first record
    protocol: str | None = None
    resumed: bool | None = None  # the library's verdict after the handshake
    program_asked_resumed: bool = False
    offered_bytes: int | None = None
    offered_dummy: bool | None = None
    ticket_id_offered: str | None = None
    set_data_rc: int | None = None
    offered_cut_bytes: int | None = None  # set when the offered data is a stored blob with its end cut off
    stored: list = field(default_factory=list)
    ticket_arrival_ms: float | None = None  # since the run's first record
    ticket_arrival_seen: str | None = None  # "gnutls_record_recv", "get_data2" or "handshake"
    custom_pull: bool = False
    pull_timeout: bool = False
    ended_ms: float | None = None
    # The session's socket when its transport is a descriptor (the client's side is "local"), else None.
    local_address: str | None = None
    local_port: int | None = None
    peer_address: str | None = None
    peer_port: int | None = None
    local_scope: bool = False  # libgnutls was outside the global scope (dlopen RTLD_LOCAL) for its calls

    @property
    def is_client(self) -> bool:
        return not self.flags & load()[1].GNUTLS_SERVER

    def to_dict(self) -> dict:
        record = asdict(self)
        record["role"] = "client" if self.is_client else "server"
        record["init_flags"] = init_flag_names(self.flags)
        return record


@dataclass
class SpyReport:
    """Every session of one run, a summary, and the findings in plain sentences."""

    program: list
    gnutls_version: str
    returncode: int | None
    sessions: list
    summary: dict
    findings: list
    processes: list = field(default_factory=list)  # SpyProcess, in the order they started
    not_seen: list = field(default_factory=list)  # sentences: what the spy could not see
    nothing_seen: str | None = None  # why there is no session at all (None: sessions, or no process logged)

    def to_dict(self) -> dict:
        return {"program": self.program, "gnutls_version": self.gnutls_version, "returncode": self.returncode,
                "sessions": [s.to_dict() for s in self.sessions], "summary": self.summary,
                "findings": self.findings, "processes": [p.to_dict() for p in self.processes],
                "not_seen": self.not_seen, "nothing_seen": self.nothing_seen}


#: Wrapped calls inside which libgnutls calls its own public functions: those records are not the program's.
_LIBRARY_NESTING = {"gnutls_session_get_data", "gnutls_init", "gnutls_deinit", "gnutls_session_set_data",
                    "gnutls_session_get_data2", "gnutls_session_is_resumed"}


def _own(record: dict) -> bool:
    """The program's own call: made outside any wrapped call, or from a program callback run inside one
    (a handshake hook inside gnutls_handshake or gnutls_record_recv), not libgnutls calling itself."""
    if record.get("from") == "libgnutls":  # the caller's address lies in libgnutls
        return False
    return not record["depth"] or record.get("inside") not in _LIBRARY_NESTING


def _ms(ns: int, origin: int) -> float:
    return round((ns - origin) / 1e6, 3)


def _hex(record: dict) -> bytes:
    try:
        return bytes.fromhex(record.get("data", ""))
    except ValueError:  # a record cut short by a killed program
        return b""


def _sessions(records: list) -> tuple[list, list]:
    """The sessions, and the calls libgnutls made to itself for sessions whose start the spy never saw."""
    origin = min((r["mono_ns"] for r in records), default=0)
    lib = load()[1]
    live: dict = {}
    sessions: list = []
    unattributed: list = []
    blobs: list = []  # (data, ticket_id) of every real blob the program received, in order

    def current(record) -> SpySession:
        key = (record["pid"], record["session"])
        if key not in live:
            live[key] = SpySession(len(sessions), record["pid"], record["session"],
                                   started_ms=_ms(record["mono_ns"], origin))
            sessions.append(live[key])
        return live[key]

    for r in sorted(records, key=lambda r: r["mono_ns"]):
        event, at = r["ev"], _ms(r["mono_ns"], origin)
        if event in ("start", "exit", "unresolved"):
            continue
        if r.get("from") == "libgnutls" and (r["pid"], r["session"]) not in live:
            unattributed.append(r)  # the program's own calls bypassed the spy (RTLD_LOCAL)
            continue
        if event == "init":
            if r["rc"] != 0 or not _own(r):
                continue
            live.pop((r["pid"], r["session"]), None)  # a freed pointer reused without our seeing deinit
            s = current(r)
            s.flags = r.get("flags", 0)
            continue
        s = current(r)
        s.local_scope = s.local_scope or bool(r.get("local"))
        if event == "deinit":
            s.ended_ms = at
            live.pop((r["pid"], r["session"]), None)
        elif event == "handshake" and _own(r):
            if r["rc"] not in (lib.GNUTLS_E_AGAIN, lib.GNUTLS_E_INTERRUPTED) or s.handshake_rc is None:
                s.handshake_rc = r["rc"]
                s.handshake_error = make_error(r["rc"]).name if r["rc"] < 0 else None
            if "local_port" in r:
                s.local_address, s.local_port = r["local_addr"], r["local_port"]
                s.peer_address, s.peer_port = r["peer_addr"], r["peer_port"]
        elif event == "verdict":
            s.handshake_rc, s.handshake_ms, s.handshake_error = 0, at, None
            s.resumed = bool(r["resumed"])
            s.protocol = PROTOCOLS.get(r["protocol"], str(r["protocol"]))  # the verdict's gnutls_protocol_t
            if r.get("flags", 0) & lib.GNUTLS_SFLAGS_SESSION_TICKET and s.ticket_arrival_ms is None:
                s.ticket_arrival_ms, s.ticket_arrival_seen = at, "handshake"
        elif event == "ticket" and s.ticket_arrival_ms is None:
            s.ticket_arrival_ms, s.ticket_arrival_seen = at, "gnutls_record_recv"
        elif event == "is_resumed" and _own(r):
            s.program_asked_resumed = True
        elif event == "set_data" and _own(r):
            data = _hex(r)
            s.offered_bytes, s.offered_dummy = r.get("size", len(data)), data == DUMMY_SESSION
            s.ticket_id_offered, s.set_data_rc = ticket_id(data), r["rc"]
            if s.ticket_id_offered and s.ticket_id_offered.startswith("undecoded:"):
                # Not a whole blob: name it after the stored blob it is the beginning of, if any.
                for blob, ident in reversed(blobs):
                    if len(data) < len(blob) and blob.startswith(data):
                        s.ticket_id_offered, s.offered_cut_bytes = ident, len(blob) - len(data)
                        break
        elif event in ("get_data", "get_data2") and _own(r):
            if r["rc"] != 0 or r.get("size_only") or "data" not in r:
                continue
            data = _hex(r)
            waited = round(r.get("elapsed_ns", 0) / 1e6, 3)
            whole = len(data) == r["size"]
            stored = Stored(event, data == DUMMY_SESSION, r["size"],
                            round(at - s.handshake_ms, 3) if s.handshake_ms is not None else None,
                            waited, ticket_id(data) if whole else None, at, r.get("inside") if r["depth"] else None,
                            None if whole else len(data))
            s.stored.append(stored)
            if not stored.dummy and whole:
                blobs.append((data, stored.ticket_id))
            if not stored.dummy and s.protocol == "TLS1.3" and s.ticket_arrival_ms is None:
                s.ticket_arrival_ms, s.ticket_arrival_seen = at, "get_data2"
        elif event == "set_pull":
            s.custom_pull = True
        elif event == "set_pull_timeout":
            s.pull_timeout = True
    return sessions, unattributed


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _findings(sessions: list) -> list:
    clients = [s for s in sessions if s.is_client and s.handshake_rc == 0]
    lib = load()[1]
    found = []
    stores = [(s, st) for s in clients for st in s.stored]
    dummies = [(s, st) for s, st in stores if st.dummy]
    if dummies:
        sessions_with = sorted({s.index for s, _ in dummies})
        early = [st for s, st in dummies if s.ticket_arrival_ms is None or s.ticket_arrival_ms > st.at_ms]
        calls = " and ".join(sorted({f"gnutls_session_{st.call}" for _, st in dummies}))
        sentence = (f"{calls} gave the program the 4-byte dummy {_plural(len(dummies), 'time')} "
                    f"(in {_plural(len(sessions_with), 'session')}): under TLS 1.3 session data exists only once a "
                    f"NewSessionTicket has arrived, and ")
        sentence += ("the program asked before any had" if len(early) == len(dummies)
                     else "the program asked before one had arrived")
        reasons: dict = {}
        for s, st in dummies:
            if s.flags & lib.GNUTLS_NONBLOCK:
                reason = "it created the session with GNUTLS_NONBLOCK, and the call returned at once without waiting"
            elif s.custom_pull and not s.pull_timeout:
                reason = ("it replaced the pull function but set no pull-timeout function "
                          "(gnutls_transport_set_pull_timeout_function), so the library had no way to wait for one")
            else:
                reason = "the library waited for one inside the call, and none came in time"
            reasons.setdefault(reason, set()).add(s.index)
        sentence += " (" + "; ".join(f"{_plural(len(ids), 'session')}: {reason}" for reason, ids in reasons.items()) + ")"
        before = [st for _, st in dummies if st.after_handshake_ms is None]
        if before:
            sentence += f"; {len(before)} of those calls came before the handshake had completed"
        found.append(sentence + ". Storing it resumes nothing: set_data takes the dummy as a no-op.")
    offered = [s for s in clients if s.offered_bytes is not None]
    real_stores = [st for _, st in stores if not st.dummy]
    if stores and not offered:
        waited = sum(st.waited_ms for _, st in stores)
        found.append(
            f"The program stored session data {_plural(len(stores), 'time')} ({len(real_stores)} real) but never "
            f"gave any back to gnutls_session_set_data, so none of its {_plural(len(clients), 'connection')} could "
            f"resume; asking cost it {waited:g} ms inside get_data/get_data2 in all.")
    cut = [s for s in offered if s.offered_cut_bytes]
    if cut:
        resumed_cut = sum(1 for s in cut if s.resumed)
        found.append(f"It gave gnutls_session_set_data session data with its last {cut[0].offered_cut_bytes} bytes "
                     f"cut off ({_plural(len(cut), 'connection')}: the beginning of a blob get_data/get_data2 had "
                     f"returned); the library accepted it and resumed {resumed_cut} of them.")
    dummy_offers = [s for s in offered if s.offered_dummy]
    if dummy_offers:
        found.append(f"It gave the 4-byte dummy to gnutls_session_set_data {_plural(len(dummy_offers), 'time')}: the "
                     "library accepts it as a no-op, so those connections were full handshakes.")
    refused = [s for s in offered if not s.offered_dummy and s.resumed is False]
    if refused:
        found.append(f"It offered real session data in {_plural(len(refused), 'connection')} that the server did "
                     "not resume (full handshakes).")
    counts = Counter(s.ticket_id_offered for s in offered if s.ticket_id_offered)
    for ident, n in counts.most_common():
        if n < 2:
            break
        tls13 = any(s.protocol == "TLS1.3" for s in offered if s.ticket_id_offered == ident)
        if tls13:
            found.append(f"It offered one TLS 1.3 ticket ({ident}) in {n} connections; RFC 8446 C.4 asks clients "
                         "to use a ticket once, because a passive observer links every connection that shows it.")
        else:
            what = "session ID" if ident.startswith("session-id") else "TLS 1.2 ticket"
            found.append(f"It offered one {what} ({ident}) in {n} connections: allowed by TLS 1.2, and those "
                         "connections are linkable by it.")
    no_tickets = [s for s in clients if s.flags & lib.GNUTLS_NO_TICKETS and s.protocol == "TLS1.3"]
    if no_tickets:
        found.append(f"It created {_plural(len(no_tickets), 'TLS 1.3 session')} with GNUTLS_NO_TICKETS, which stops a "
                     "client offering tickets: under TLS 1.3, where tickets are the only way to resume, those "
                     "sessions can never be resumed whatever it stores.")
    resumed = [s for s in clients if s.resumed]
    if resumed and counts and max(counts.values()) == 1:
        found.append(f"It resumed {len(resumed)} of {_plural(len(clients), 'connection')}, each with a ticket or "
                     "session it had not offered before.")
    elif resumed:
        found.append(f"It resumed {len(resumed)} of {_plural(len(clients), 'connection')}.")
    if not offered and not stores and clients:
        found.append("The program never asked for session data (no get_data/get_data2 call): it cannot resume "
                     "across connections.")
    return found


def analyse(records: list, program: list, gnutls_version: str = "", returncode: int | None = None) -> SpyReport:
    """The report of one run from the spy's records (dicts, as logged)."""
    sessions, unattributed = _sessions(records)
    procs = processes(records, Counter(s.pid for s in sessions), unattributed)
    names = {p.pid: p.program for p in procs}
    for s in sessions:
        s.program = names.get(s.pid, "")
    not_seen = blind_spots(procs, records)
    cut = [st for s in sessions for st in s.stored if st.spy_kept_bytes is not None]
    if cut:
        not_seen.append(f"The spy logged only the first {cut[0].spy_kept_bytes} bytes of {_plural(len(cut), 'blob')} "
                        f"larger than that ({max(st.bytes for st in cut)} bytes at most): their tickets are not named.")
    clients = [s for s in sessions if s.is_client and s.handshake_rc == 0]
    offers = Counter(s.ticket_id_offered for s in sessions if s.ticket_id_offered)
    summary = {
        "sessions": len(sessions),
        "handshakes": len(clients),
        "resumed": sum(1 for s in sessions if s.resumed),
        "stored": sum(len(s.stored) for s in sessions),
        "stored_dummy": sum(1 for s in sessions for st in s.stored if st.dummy),
        "offered": sum(1 for s in sessions if s.offered_bytes is not None),
        "max_ticket_offers": max(offers.values(), default=0),
    }
    return SpyReport(list(program), gnutls_version, returncode, sessions, summary, _findings(sessions), procs,
                     not_seen, None if sessions else nothing_seen(procs))
