"""What an audit of a real server found: the records of its connections, and what they mean.

Theory of operation. :func:`gnutls_lab.network.audit` makes the connections (each one a real libgnutls
handshake, observed on the wire) and fills an :class:`AuditReport` with plain records: one
:class:`AuditConnection` per connection, one :class:`~gnutls_lab.analysis.AuditedTicket` per ticket
received (with the secrets the client knows about it), one :class:`ProbeRecord` per probe. Everything
else is computed here from those records, so the same report can be re-read, plotted or compared:

- :meth:`AuditReport.findings` turns the records into facts, probe by probe (resumption k of N with a
  Wilson interval, as the experiments report it; lifetimes announced and ages accepted; reissue policy;
  session IDs; key names over time and across server names; the ticket layout; guessable keys; 0-RTT);
- :mod:`._audit_tracking` turns the measured policy into tracking periods;
- :mod:`._audit_verdict` writes the paragraph for the operator, the evidence and the advice.

Only facts the audit saw are stated as facts; what it did not wait for or could not try is said so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._audit_tracking import CLIENT_BEHAVIOURS, TrackingPolicy, tracking_window
from ._ticket_audit import (
    AuditedTicket,
    find_keystream_reuse,
    find_plain_secrets,
    fingerprint,
    key_name_size,
    try_weak_keys,
)
from ..errors import BlobFormatError
from ..formats import split_records
from ..sessions import MECHANISMS
from ._experiments import wilson_interval
from ._observer import observe_connection
from ._secrets import reveal

__all__ = ["AUDIT_SCHEMA_VERSION", "AUDITED_MECHANISMS", "AuditConnection", "ProbeRecord", "AuditReport", "judge_replay"]

AUDIT_SCHEMA_VERSION = 1
#: The mechanisms whose resumption the audit measures (its psk_ke check is a probe of its own, tls13-psk-modes).
AUDITED_MECHANISMS = {name: MECHANISMS[name] for name in ("tls13-psk", "tls12-ticket", "tls12-session-id")}
#: what the audit's client records as offered, by the identity an observer sees presented
_OFFERED = {"psk_identity": "psk", "ticket": "ticket", "session_id": "session_id"}


@dataclass
class AuditConnection:
    """One connection the audit made, as plain facts (``at``: seconds since the audit began).

    ``offered``: what the client offered to resume with ("psk", "ticket", "session_id" or None);
    ``offered_ticket``: the number of the ticket offered (in :attr:`AuditReport.tickets`), or None;
    ``offer_age``: seconds since that ticket (or session) was received; ``tickets``: numbers of the tickets
    received in this connection. ``note`` says why a wanted offer was not made (e.g. the client dropped
    an expired ticket). ``observed`` is the passive observer's view (not written to JSON).
    """

    index: int
    probe: str
    tls: str
    at: float
    server_name: str | None = None
    offered: str | None = None
    offered_ticket: int | None = None
    offer_age: float | None = None
    protocol: str = ""
    cipher_suite: str = ""
    resumed: bool = False
    error: str = ""
    seconds: float = 0.0
    tickets: list = field(default_factory=list)
    client_session_id: bytes = b""
    server_session_id: bytes = b""
    psk_modes_offered: tuple = ()
    server_key_share: bool | None = None
    early_data_sent: int = 0
    early_data_accepted: bool | None = None
    note: str = ""
    observed: Any = field(default=None, repr=False)
    wire: list = field(default_factory=list, repr=False)  # kept for the 0-RTT connection (the replay sends it)
    local_port: int | None = field(default=None, repr=False)  # the client's TCP port (a server's logs name it)
    answer: bytes = field(default=b"", repr=False)  # what the server answered a request (the identify probe)

    def to_dict(self) -> dict:
        return {
            "index": self.index, "probe": self.probe, "tls": self.tls, "at": round(self.at, 4),
            "server_name": self.server_name, "offered": self.offered, "offered_ticket": self.offered_ticket,
            "offer_age": None if self.offer_age is None else round(self.offer_age, 3),
            "protocol": self.protocol or None, "cipher_suite": self.cipher_suite or None, "resumed": self.resumed,
            "error": self.error or None, "seconds": round(self.seconds, 4), "tickets": list(self.tickets),
            "client_session_id": self.client_session_id.hex(), "server_session_id": self.server_session_id.hex(),
            "psk_modes_offered": [_PSK_MODES.get(m, m) for m in self.psk_modes_offered],
            "server_key_share": self.server_key_share, "early_data_sent": self.early_data_sent,
            "early_data_accepted": self.early_data_accepted, "note": self.note or None,
        }


_PSK_MODES = {0: "psk_ke", 1: "psk_dhe_ke"}


@dataclass
class ProbeRecord:
    """One probe: its connections, its time, and whether it ran (``status``: done, skipped, stopped)."""

    name: str
    connections: int = 0
    seconds: float = 0.0
    status: str = "done"
    note: str = ""

    def to_dict(self) -> dict:
        return {"name": self.name, "connections": self.connections, "seconds": round(self.seconds, 4),
                "status": self.status, "note": self.note or None}


@dataclass
class AuditReport:
    """Everything one audit saw; :meth:`findings` and :meth:`to_dict` say what it means.

    ``target``: "host:port"; ``address``: the address connected to; ``server_names``: the SNI values
    used (the first for every probe); ``options``: the audit's settings; ``sent``: what the audit sent,
    in words (for ``--allow-remote`` audits, the note an operator may read in their logs);
    ``not_done``: what it did not try or wait for, in words.
    """

    target: str
    address: str
    gnutls_version: str
    started_unix: float
    seconds: float = 0.0
    server_names: tuple = ()
    options: dict = field(default_factory=dict)
    protocols: dict = field(default_factory=dict)  # "TLS1.3" → True/False (handshake worked)
    connections: list = field(default_factory=list)
    tickets: list = field(default_factory=list)
    probes: list = field(default_factory=list)
    sent: list = field(default_factory=list)
    not_done: list = field(default_factory=list)
    replay: dict = field(default_factory=dict)  # the replay probe's raw evidence
    software: dict | None = None  # what the server says it is (identify_software), None when not asked
    _findings: dict | None = field(default=None, repr=False)

    # -- facts ---------------------------------------------------------------------------------
    def findings(self) -> dict:
        """The facts, computed once (secrets stay :class:`~gnutls_lab.analysis.Secret`)."""
        if self._findings is None:
            found: dict = {}
            found["resumption"] = self._resumption()
            found["psk_modes"] = self._psk_modes()
            found["lifetime"] = self._lifetimes()
            found["reissue"] = self._reissue()
            found["session_ids"] = self._session_ids()
            found["weak_keys"] = try_weak_keys(self.tickets)
            found["plain_secrets"] = find_plain_secrets(self.tickets)
            found["keystream_reuse"] = find_keystream_reuse(self.tickets)
            opened = {hit.layout for hit in found["weak_keys"] if hit.what == "decrypted"}
            found["fingerprint"] = fingerprint([t.ticket for t in self.tickets], opened)
            found["key_names"] = self._key_names(found["fingerprint"])
            found["zero_rtt"] = self._zero_rtt()
            found["tracking"] = self._tracking(found)
            found["software"] = dict(self.software) if self.software else None
            from ._audit_verdict import verdict  # the words, kept apart from the facts

            found["verdict"] = verdict(self, found)
            self._findings = found
        return self._findings

    def _of(self, probe: str) -> list:
        return [c for c in self.connections if c.probe == probe]

    def _resumption(self) -> dict:
        out = {}
        for mechanism, entry in AUDITED_MECHANISMS.items():
            protocol, offer = entry.protocol, _OFFERED[entry.identity]
            if self.protocols.get(protocol) is False:
                continue
            tried = [c for c in self._of(mechanism) if c.offered == offer and not c.error]
            if not self._of(mechanism):
                continue
            resumed = sum(c.resumed for c in tried)
            low, high = wilson_interval(resumed, len(tried))
            row = {"attempts": len(tried), "resumed": resumed,
                   "rate": round(resumed / len(tried), 4) if tried else None,
                   "low": round(low, 4), "high": round(high, 4)}
            reused = [c for c in tried if c.note.startswith("reuse")]
            fresh = [c for c in tried if c.note.startswith("fresh")]
            if reused:
                row["reused_ticket"] = {"attempts": len(reused), "resumed": sum(c.resumed for c in reused)}
            if fresh:
                row["fresh_ticket"] = {"attempts": len(fresh), "resumed": sum(c.resumed for c in fresh)}
            first = self._of(mechanism)[0]
            row["issued"] = bool(first.tickets) if mechanism != "tls12-session-id" else bool(first.server_session_id)
            out[mechanism] = row
        return out

    def _psk_modes(self) -> dict:
        modes: dict = {}
        for conn in self._of("tls13-psk-modes"):
            if conn.offered != "psk" or conn.error or len(conn.psk_modes_offered) != 1:
                continue
            name = _PSK_MODES.get(conn.psk_modes_offered[0])
            modes[name] = {"resumed": conn.resumed, "server_key_share": conn.server_key_share}
        return modes

    def _lifetimes(self) -> dict:
        out = {}
        for protocol, mechanism in (("TLS1.3", "tls13-psk"), ("TLS1.2", "tls12-ticket"),
                                    ("TLS1.2 session ID", "tls12-session-id")):
            hints = sorted({t.lifetime_hint for t in self.tickets
                            if t.protocol == protocol and t.lifetime_hint is not None and not t.in_resumption})
            if mechanism == "tls12-session-id":
                hints = []
            aging = [c for c in self._of(f"{mechanism}-lifetime") if c.offer_age is not None]
            accepted = sorted(round(c.offer_age, 2) for c in aging if c.resumed)
            refused = sorted(round(c.offer_age, 2) for c in aging if c.offered and not c.resumed and not c.error)
            dropped = sorted(round(c.offer_age, 2) for c in aging if not c.offered)
            # the resumptions of the other probes count too: every resumed offer is an accepted age
            others = [c.offer_age for c in self._of(mechanism) if c.resumed and c.offer_age is not None]
            confirmed = max(accepted + [round(a, 2) for a in others], default=None)
            if not hints and not aging and not others:
                continue
            hint = hints[-1] if hints else None
            row = {"hint": hint, "hints": hints, "accepted_ages": accepted, "refused_ages": refused,
                   "not_offered_ages": dropped, "confirmed_up_to": confirmed,
                   "refused_at": min(refused, default=None)}
            row["not_waited"] = _not_waited(hint, confirmed, row["refused_at"], self.options.get("max_wait"))
            out[protocol] = row
        return out

    def _reissue(self) -> dict:
        out = {}
        for protocol, mechanism in (("TLS1.3", "tls13-psk"), ("TLS1.2", "tls12-ticket")):
            resumed = [c for c in self.connections if c.protocol == protocol and c.resumed and c.offered != "session_id"]
            if not resumed:
                continue
            with_new = [c for c in resumed if c.tickets]
            row = {"resumptions": len(resumed), "with_new_tickets": len(with_new),
                   "tickets_per_resumption": sorted({len(c.tickets) for c in resumed})}
            full = [self.tickets[n].lifetime_hint for c in self.connections
                    if c.protocol == protocol and not c.resumed for n in c.tickets]
            again = [self.tickets[n].lifetime_hint for c in with_new for n in c.tickets]
            row["new_ticket_lifetimes"] = sorted(set(again))
            if again and full:
                # a fresh ticket lives as long as a first one; GnuTLS's count down with the original's age
                row["lifetime_policy"] = "fresh" if min(again) >= max(full) else "remaining"
            else:
                row["lifetime_policy"] = None
            out[protocol] = row
        return out

    def _session_ids(self) -> dict:
        out: dict = {}
        tls13 = [c for c in self.connections if c.protocol == "TLS1.3" and c.client_session_id]
        if tls13:
            echoed = sum(c.server_session_id == c.client_session_id for c in tls13)
            out["tls13_legacy_session_id_echo"] = {"connections": len(tls13), "echoed": echoed}
        ids = [c for c in self._of("tls12-session-id") if c.server_session_id and not c.error]
        if ids:
            resumed = [c for c in ids if c.resumed]
            out["tls12_session_id"] = {
                "connections": len(ids), "distinct_server_ids": len({c.server_session_id for c in ids}),
                "resumptions": len(resumed),
                "same_id_on_resumption": all(c.server_session_id == c.client_session_id for c in resumed) if resumed
                else None}
        tickets12 = [c for c in self._of("tls12-ticket") if c.offered == "ticket" and c.resumed]
        if tickets12:
            out["tls12_ticket_resumption_echo"] = {
                "resumptions": len(tickets12),
                "echoed": sum(bool(c.client_session_id) and c.server_session_id == c.client_session_id
                              for c in tickets12)}
        return out

    def _key_names(self, fp) -> dict:
        """Key names by time and server name; the prefix size is the layout's key name (none: nothing)."""
        if not self.tickets:
            return {}
        size = key_name_size(fp.best.layout) if fp.best is not None else (16 if fp.shared_prefix >= 16 else 0)
        if not size:
            return {"prefix_size": 0, "names": [], "distinct": None, "span_seconds": None, "by_server_name": {},
                    "shared_across_names": None, "cross_name_resumption": self._cross_name(),
                    "note": "these tickets carry no key name in clear"}
        names: dict = {}
        for t in self.tickets:
            entry = names.setdefault(t.ticket[:size].hex(), {"name": t.ticket[:size].hex(), "first_seen": t.issued_at,
                                                              "last_seen": t.issued_at, "tickets": 0,
                                                              "server_names": set(), "protocols": set()})
            entry["tickets"] += 1
            entry["first_seen"] = min(entry["first_seen"], t.issued_at)
            entry["last_seen"] = max(entry["last_seen"], t.issued_at)
            entry["server_names"].add(t.server_name or "")
            entry["protocols"].add(t.protocol)
        rows = sorted(names.values(), key=lambda e: e["first_seen"])
        for row in rows:
            row["server_names"] = sorted(row["server_names"])
            row["protocols"] = sorted(row["protocols"])
            row["first_seen"], row["last_seen"] = round(row["first_seen"], 3), round(row["last_seen"], 3)
        by_name: dict = {}
        for t in self.tickets:
            by_name.setdefault(t.server_name or "", set()).add(t.ticket[:size].hex())
        shared = None
        if len(by_name) > 1:
            sets = list(by_name.values())
            shared = bool(set.intersection(*sets))
        span = max(t.issued_at for t in self.tickets) - min(t.issued_at for t in self.tickets)
        # the key timeline: when each new key name first showed, and the longest one name was seen for (a key
        # rotated every P seconds is never seen for longer than P)
        changes = [row["first_seen"] for row in rows[1:]]
        longest = max(row["last_seen"] - row["first_seen"] for row in rows)
        return {"prefix_size": size, "names": rows, "distinct": len(rows), "span_seconds": round(span, 3),
                "changed_at": changes, "longest_seen_seconds": round(longest, 3),
                "by_server_name": {k: sorted(v) for k, v in by_name.items()}, "shared_across_names": shared,
                "cross_name_resumption": self._cross_name(), "note": None}

    def _cross_name(self):
        cross = [c for c in self._of("sni") if c.offered and not c.error]
        return any(c.resumed for c in cross) if cross else None

    def _zero_rtt(self) -> dict:
        sizes = [t.max_early_data_size for t in self.tickets if t.protocol == "TLS1.3"]
        announced = [s for s in sizes if s]
        out: dict = {"max_early_data_size": max(announced) if announced else (0 if sizes else None)}
        tried = [c for c in self._of("tls13-0rtt") if c.early_data_sent]
        out["early_data_accepted"] = any(bool(c.early_data_accepted) for c in tried) if tried else None
        out["replay"] = dict(self.replay) if self.replay else None
        return out

    def _tracking(self, found: dict) -> list:
        windows = []
        for mechanism, row in found["resumption"].items():
            if not row["resumed"]:
                continue
            lifetime = _model_lifetime(found["lifetime"], mechanism)
            if lifetime is None:
                continue
            protocol = MECHANISMS[mechanism].protocol
            reissue = found["reissue"].get(protocol, {}) if mechanism != "tls12-session-id" else {}
            reused = row.get("reused_ticket")
            policy = TrackingPolicy(
                mechanism, lifetime["seconds"],
                reissue=bool(reissue.get("with_new_tickets")),
                reissued_lifetime=reissue.get("lifetime_policy") or "fresh",
                reuse_accepted=not reused or reused["resumed"] > 0)
            for client in CLIENT_BEHAVIOURS:
                window = tracking_window(policy, client)
                windows.append({"window": window, "lifetime_source": lifetime["source"]})
        return windows

    # -- output --------------------------------------------------------------------------------
    def to_dict(self, show_secrets: bool = False) -> dict:
        """The JSON document of ``gnutls-lab audit --json`` (schema: docs/audit.md)."""
        found = self.findings()
        return {
            "schema": AUDIT_SCHEMA_VERSION,
            "target": self.target,
            "address": self.address,
            "gnutls_version": self.gnutls_version,
            "started": round(self.started_unix, 3),
            "seconds": round(self.seconds, 3),
            "server_names": list(self.server_names),
            "options": dict(self.options),
            "protocols": dict(self.protocols),
            "verdict": found["verdict"],
            "findings": {
                "resumption": found["resumption"],
                "psk_modes": found["psk_modes"],
                "lifetime": found["lifetime"],
                "reissue": found["reissue"],
                "session_ids": found["session_ids"],
                "key_names": found["key_names"],
                "fingerprint": found["fingerprint"].to_dict(),
                "weak_keys": [_hit_dict(hit, show_secrets) for hit in found["weak_keys"]],
                "plain_secrets": [hit._asdict() for hit in found["plain_secrets"]],
                "keystream_reuse": [hit._asdict() for hit in found["keystream_reuse"]],
                "zero_rtt": found["zero_rtt"],
                "tracking": [dict(w["window"].to_dict(), lifetime_source=w["lifetime_source"])
                             for w in found["tracking"]],
            },
            "probes": [p.to_dict() for p in self.probes],
            "connections": [c.to_dict() for c in self.connections],
            "tickets": [_ticket_dict(t) for t in self.tickets],
            "software": found["software"],
            "sent": list(self.sent),
            "not_done": list(self.not_done),
        }

    def __repr__(self) -> str:
        found = self.findings()
        return (f"<AuditReport {self.target}: {len(self.connections)} connections in {self.seconds:.1f} s; "
                f"risk {found['verdict']['risk']}>")


#: A session cache's lifetime when the server does not say it: 5 minutes, the default of nginx
#: (ssl_session_timeout), Apache (SSLSessionCacheTimeout) and HAProxy (tune.ssl.lifetime).
ASSUMED_CACHE_LIFETIME = 300.0


def _model_lifetime(lifetimes: dict, mechanism: str) -> dict | None:
    """The lifetime the tracking model uses, and where it comes from (refusal, hint or assumption)."""
    key = {"tls13-psk": "TLS1.3", "tls12-ticket": "TLS1.2", "tls12-session-id": "TLS1.2 session ID"}[mechanism]
    row = lifetimes.get(key)
    if not row:
        return None
    if row["refused_at"] is not None and row["confirmed_up_to"] is not None:
        return {"seconds": max(row["confirmed_up_to"], 1.0), "source": "measured (refused later)"}
    if row["hint"]:
        return {"seconds": float(row["hint"]), "source": "announced (lifetime hint), not waited for"}
    # A session ID's lifetime is never announced. GnuTLS and OpenSSL expire their cache and their
    # tickets with one setting, so the TLS 1.2 ticket hint stands in for it; else the common default.
    ticket_row = lifetimes.get("TLS1.2") or {}
    confirmed = row["confirmed_up_to"] or 0.0
    if ticket_row.get("hint"):
        return {"seconds": max(float(ticket_row["hint"]), confirmed),
                "source": "not announced: the TLS 1.2 ticket lifetime (one setting in GnuTLS and OpenSSL)"}
    return {"seconds": max(ASSUMED_CACHE_LIFETIME, confirmed),
            "source": f"not announced: assumed {ASSUMED_CACHE_LIFETIME:g} s (nginx, Apache and HAProxy's default)"}


def _not_waited(hint, confirmed, refused_at, max_wait) -> str | None:
    if refused_at is not None:
        return None
    if hint is None:
        if confirmed is None:
            return "the server announces no lifetime and no aged offer was accepted"
        return (f"the server announces no lifetime; sessions were accepted up to {confirmed:g} s, and older ones "
                f"were not tried (--max-wait {max_wait:g})" if max_wait is not None else None)
    if confirmed is None:
        return f"no offer was accepted, so nothing is known of ages up to the announced {hint} s"
    if confirmed >= hint:
        return None
    return (f"ages from {confirmed:g} s to the announced {hint} s were not waited for "
            f"(run with --max-wait S to probe longer; the audit waits at most S seconds)")


def _ticket_dict(t: AuditedTicket) -> dict:
    return {"number": t.number, "connection": t.index, "protocol": t.protocol, "issued_at": round(t.issued_at, 4),
            "server_name": t.server_name, "length": len(t.ticket), "key_name": t.ticket[:16].hex(),
            "lifetime_hint": t.lifetime_hint, "max_early_data_size": t.max_early_data_size,
            "in_resumption": t.in_resumption, "ticket": bytes(t.ticket).hex()}


def _hit_dict(hit, show_secrets: bool) -> dict:
    reveals = {}
    for key, value in hit.reveals.items():
        if isinstance(value, bytes):
            reveals[key] = reveal(value).hex() if show_secrets else "redacted"
        else:
            reveals[key] = value
    return {"connection": hit.index, "protocol": hit.protocol, "layout": hit.layout, "key": hit.key_label,
            "role": hit.role, "what": hit.what, "key_bytes": reveal(hit.key).hex() if show_secrets else "redacted",
            "secret_found": hit.secret_kind, "secret_offset": hit.secret_offset,
            "plaintext_size": hit.plaintext_size, "tickets": hit.tickets, "reveals": reveals}


def _server_flight(observed) -> list:
    """(content type, length) of the server's records up to the client's second flight."""
    records, started = [], False
    for record in observed.records:
        if record.sender == "server":
            started = True
            records.append((record.content_type, record.length))
        elif started:
            break
    return records


def judge_replay(original_wire, replay_server_bytes: bytes) -> dict:
    """Did the server accept a replayed 0-RTT first flight? Judged from what an attacker sees.

    The replayer cannot decrypt the server's answer, but two things show. The ServerHello is in clear: no
    ``pre_shared_key`` means the ticket was refused (a full handshake, as OpenSSL's single-use tickets do).
    When the ticket is taken, the server's EncryptedExtensions carries the ``early_data`` extension only if
    it accepts the early data, 4 bytes (type and length) that show in the size of its encrypted records:
    the same sizes as in the original connection, whose early data the client saw accepted, mean accepted
    again; 4 bytes fewer mean refused. ``original_wire``: the first 0-RTT connection's wire tap;
    ``replay_server_bytes``: what the server sent back to the replay.
    """
    original = observe_connection(original_wire)
    expected = _server_flight(original)
    _, used = split_records(replay_server_bytes)
    try:
        replayed = observe_connection([("client", b"".join(c.data for c in _first_client_chunks(original_wire)))]
                                      + [("server", replay_server_bytes[:used])])
    except BlobFormatError as exc:
        return {"verdict": "unclear", "evidence": f"the server's answer could not be read: {exc}"}
    hello = replayed.server_hello
    got = _server_flight(replayed)
    if hello is None:
        return {"verdict": "refused", "evidence": "the server sent no ServerHello to the replayed flight",
                "server_records": got, "original_records": expected}
    if hello.psk_selected_identity is None:
        return {"verdict": "refused (the ticket was refused: a full handshake)",
                "evidence": "the ServerHello to the replay carries no pre_shared_key", "server_records": got,
                "original_records": expected}
    encrypted_expected = [length for kind, length in expected if kind == 23]
    encrypted_got = [length for kind, length in got if kind == 23]
    if encrypted_got[:len(encrypted_expected)] == encrypted_expected and encrypted_expected:
        return {"verdict": "accepted",
                "evidence": f"the ticket was taken and the server's encrypted records have the sizes of the original "
                            f"connection's ({encrypted_expected}), whose early data was accepted: its "
                            "EncryptedExtensions again carries early_data",
                "server_records": got, "original_records": expected}
    if encrypted_got and encrypted_expected and encrypted_got[0] == encrypted_expected[0] - 4:
        return {"verdict": "refused (the ticket was taken, the early data refused)",
                "evidence": f"the server's first encrypted record is 4 bytes shorter than in the original connection "
                            f"({encrypted_got[0]} against {encrypted_expected[0]}): no early_data extension",
                "server_records": got, "original_records": expected}
    return {"verdict": "unclear", "evidence": f"encrypted record sizes {encrypted_got} against {encrypted_expected}",
            "server_records": got, "original_records": expected}


def _first_client_chunks(wire) -> list:
    chunks = []
    for chunk in wire:
        if chunk.sender != "client":
            break
        chunks.append(chunk)
    return chunks
