"""Servers the audit tests start today, each with what its configuration implies: the entry point for more.

:func:`start_server` ``(kind, config)`` starts a real server on 127.0.0.1 and yields an object with ``host``,
``port``, ``pid`` (None for the in-process lab server), ``names`` (server names for ``--sni``),
``starttls`` and ``expected``: the facts the audit must find, in the vocabulary of :func:`check_expected`.
The kinds here are ``lab`` (the lab's own server, :class:`gnutls_lab.network.LabServer`),
``gnutls-serv`` and ``openssl`` (:class:`gnutls_lab.network.ExternalServer`). The real-server
harness (nginx, Apache, lighttpd, HAProxy, Caddy, Exim: ``start_real_server(kind, config)`` with the same
attributes) plugs in by adding its kinds to ``tests/test_audit.py``'s cases: the check is the same.

``expected`` keys (each optional): ``resumes`` {mechanism: bool}; ``hint`` {protocol: seconds};
``reissue`` {protocol: bool}; ``lifetime_policy`` {protocol: "fresh"/"remaining"}; ``reuse`` {mechanism:
bool} (a ticket accepted twice); ``layout``; ``weak_key`` (bool); ``psk_ke`` and ``psk_dhe_ke`` (bool:
a resumption offering only that mode; ``psk_dhe_ke`` defaults to True); ``early_data`` (bool);
``replay`` ("accepted"/"refused"); ``shared_key`` (bool); ``risk``; ``tracking`` {(mechanism, client):
"unbounded" / seconds / 0 / "pairs"}; ``refused_after`` {protocol: seconds}: a ticket older than this
is refused or not offered.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
from types import SimpleNamespace

from gnutls_lab import LabCertificate
from gnutls_lab.network import ExternalServer, LabServer

__all__ = ["start_server", "check_expected", "pair_served", "check_key_timeline"]

_BOTH = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"


@contextlib.contextmanager
def start_server(kind: str, config: dict):
    if kind == "lab":
        with _lab(config) as server:
            yield server
    elif kind in ("gnutls-serv", "openssl"):
        with tempfile.TemporaryDirectory() as folder:
            cert, key = LabCertificate().write_files(folder)
            with ExternalServer(kind, cert, key, config.get("tls", "1.3"), extra_args=config.get("args", ())) as peer:
                yield SimpleNamespace(host="127.0.0.1", port=peer.port, pid=peer.process.pid, names=config.get("names", ()),
                                      starttls=None, expected=config.get("expected", {}), peer=peer)
    else:
        raise ValueError(f"no server kind {kind!r} here")


@contextlib.contextmanager
def _lab(config: dict):
    options = dict(config.get("options", {}))
    options.setdefault("idle_timeout", 0.5)
    options.setdefault("handshake_timeout", 2.0)
    server = LabServer(0, config.get("tls", _BOTH), **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="audit-test-lab-server")
    thread.start()
    try:
        yield SimpleNamespace(host="127.0.0.1", port=server.port, pid=None, names=config.get("names", ()),
                              starttls=options.get("starttls"), expected=config.get("expected", {}), lab=server)
    finally:
        server.stop()
        thread.join(10)
        server.close()


def pair_served(report, served: list) -> list:
    """Each connection of ``report`` with the lab server's record of it, as (connection, record) pairs.

    The audit connects one at a time (each connection is closed before the next one opens), so the server
    accepted them in the audit's order and numbered them so (``ServedConnection.index``): the pairing is by
    that order, never by the client's TCP port alone, which can come back within one audit (Linux reuses a
    loopback port still in TIME_WAIT: ``net.ipv4.tcp_tw_reuse`` 2, its default). The port is a check: where
    the client knows its port (a completed handshake), the record at the same place must name it. A replayed
    0-RTT flight (``--replay``) is one more connection, right after the one it replays, not in the report's.
    """
    served = sorted(served, key=lambda record: record.index)
    order = list(report.connections)
    replay = report.replay or {}
    if replay.get("attempted") and not str(replay.get("evidence", "")).startswith("could not send"):
        # --replay: the first 0-RTT flight went out once more on a raw TCP connection, right after it
        replayed = max(c.index for c in order if c.probe == "tls13-0rtt" and c.early_data_sent)
        order.insert(replayed + 1, None)
    assert len(served) == len(order), f"the server recorded {len(served)} connections, the audit made {len(order)}"
    pairs = [(conn, record) for conn, record in zip(order, served) if conn is not None]
    for conn, record in pairs:
        if conn.local_port is not None:
            port = int(record.peer.rpartition(":")[2])
            assert port == conn.local_port, (f"connection {conn.index} ({conn.probe}) came from port "
                                             f"{conn.local_port}, the server's record {record.index} from {port}")
    return pairs


def check_key_timeline(report, period: float, shared: bool) -> None:
    """The key names of an audit longer than the server's key rotation ``period`` (seconds): more than one,
    none seen for longer than the period (with 0.5 s for the audit's own clock), one after the other (a server
    issues with its newest key only), and the same keys behind both server names when ``shared``."""
    found = report.findings()
    keys = found["key_names"]
    span = keys["span_seconds"]
    assert span > period, f"the audit's tickets span {span} s, not more than the {period} s rotation"
    assert 2 <= keys["distinct"] <= span // period + 2, keys
    assert keys["longest_seen_seconds"] <= period + 0.5, keys
    rows = keys["names"]
    for before, after in zip(rows, rows[1:]):
        assert before["last_seen"] <= after["first_seen"], (before, after)  # no key comes back
    assert keys["changed_at"] == [row["first_seen"] for row in rows[1:]]
    assert keys["shared_across_names"] is shared, keys["by_server_name"]
    summary = found["verdict"]["summary"]
    changes = keys["distinct"] - 1
    assert f"The ticket key changed {changes} time{'s' * (changes > 1)} during the audit" in summary, summary
    if shared:
        assert "the same key serves " + ", ".join(keys["by_server_name"]) in summary, summary


def _tracking_value(window) -> object:
    if window.unbounded:
        return "unbounded"
    if window.seconds and window.seconds <= window.gap:
        return "pairs"
    return window.seconds


def check_expected(report, expected: dict) -> None:
    """Assert every fact ``expected`` names (see the module docstring) against the audit's findings."""
    found = report.findings()
    for mechanism, resumes in expected.get("resumes", {}).items():
        row = found["resumption"].get(mechanism)
        got = bool(row and row["resumed"])
        assert got == resumes, f"{mechanism}: resumed {row}, expected {'some' if resumes else 'none'}"
        if resumes:
            assert row["resumed"] == row["attempts"] or mechanism in expected.get("reuse", {}), row
    for protocol, hint in expected.get("hint", {}).items():
        assert found["lifetime"][protocol]["hint"] == hint, found["lifetime"][protocol]
    for protocol, reissued in expected.get("reissue", {}).items():
        row = found["reissue"][protocol]
        if reissued:
            assert row["resumptions"] > 0 and row["with_new_tickets"] == row["resumptions"], row
        else:
            assert row["resumptions"] > 0 and row["with_new_tickets"] == 0, row
    for protocol, policy in expected.get("lifetime_policy", {}).items():
        assert found["reissue"][protocol]["lifetime_policy"] == policy, found["reissue"][protocol]
    for mechanism, reuse in expected.get("reuse", {}).items():
        row = found["resumption"][mechanism]["reused_ticket"]
        assert (row["resumed"] == row["attempts"]) == reuse and (row["resumed"] == 0) == (not reuse), row
    if "layout" in expected:
        best = found["fingerprint"].best
        assert best is not None and best.layout == expected["layout"], found["fingerprint"]
    if "weak_key" in expected:
        opened = [hit for hit in found["weak_keys"] if hit.what == "decrypted" and hit.secret_kind]
        assert bool(opened) == expected["weak_key"], found["weak_keys"]
    if "psk_ke" in expected:
        mode = found["psk_modes"]["psk_ke"]
        assert mode["resumed"] == expected["psk_ke"] and mode["server_key_share"] == (not expected["psk_ke"]), mode
    if "psk_dhe_ke" in expected or "psk_ke" in expected:
        mode = found["psk_modes"]["psk_dhe_ke"]
        assert mode["resumed"] == expected.get("psk_dhe_ke", True) and mode["server_key_share"], mode
    if "early_data" in expected:
        assert bool(found["zero_rtt"]["early_data_accepted"]) == expected["early_data"], found["zero_rtt"]
    if "replay" in expected:
        verdict = (found["zero_rtt"]["replay"] or {}).get("verdict") or ""
        assert verdict.startswith(expected["replay"]), found["zero_rtt"]
    if "shared_key" in expected:
        keys = found["key_names"]
        assert keys["shared_across_names"] == expected["shared_key"], keys
        assert keys["cross_name_resumption"] == expected["shared_key"], keys
    if "risk" in expected:
        assert found["verdict"]["risk"] == expected["risk"], found["verdict"]
    windows = {(w["window"].policy.mechanism, w["window"].client): w["window"] for w in found["tracking"]}
    for key, value in expected.get("tracking", {}).items():
        got = _tracking_value(windows[key])
        if isinstance(value, str) or value == 0:
            assert got == value, (key, windows[key].explanation)
        else:
            assert abs(got - value) <= windows[key].gap, (key, got, value)
    for protocol, age in expected.get("refused_after", {}).items():
        row = found["lifetime"][protocol]
        late = [a for a in row["refused_ages"] + row["not_offered_ages"]]
        assert late and min(late) > age, row
        assert all(a <= age + 0.5 for a in row["accepted_ages"]), row
