"""``gnutls_lab.network.audit`` against real servers on 127.0.0.1: each verdict checked against what the
server's configuration implies (the cases below), and against the server's own records where it keeps any.

The cases are the servers this machine can start with the lab alone (``tests/audit_servers.py``): the lab
server (GnuTLS, configured with a ticket key, a lifetime, 0-RTT and its anti-replay, STARTTLS), ``gnutls-serv``
and ``openssl s_server``. Another harness adds its kinds to :data:`CASES` with the same ``expected``
vocabulary.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

import re

from audit_servers import check_expected, check_key_timeline, pair_served, start_server
from gnutls_lab.analysis import AuditReport
from gnutls_lab.errors import UsageError
from gnutls_lab.network import LAB_NAMES, RealServerConfig, audit, start_real_server

pytestmark = pytest.mark.peers

ZERO_KEY = bytes(64)
TLS13 = "NORMAL:-VERS-ALL:+VERS-TLS1.3"

#: (id, kind, config); config["audit"] holds extra audit() arguments.
CASES = [
    ("lab-defaults", "lab", {"expected": {
        "resumes": {"tls13-psk": True, "tls12-ticket": True, "tls12-session-id": True},
        "hint": {"TLS1.3": 21600, "TLS1.2": 21600}, "reissue": {"TLS1.3": True, "TLS1.2": False},
        "lifetime_policy": {"TLS1.3": "remaining"}, "reuse": {"tls13-psk": True}, "layout": "gnutls",
        "weak_key": False, "psk_ke": False, "risk": "medium",
        "tracking": {("tls13-psk", "keeps"): 21600, ("tls13-psk", "single-use"): 0,
                     ("tls12-ticket", "keeps"): "unbounded", ("tls12-ticket", "single-use"): "pairs",
                     ("tls12-session-id", "keeps"): "unbounded"}}}),
    ("lab-zero-key", "lab", {"options": {"ticket_key": ZERO_KEY}, "expected": {
        "weak_key": True, "layout": "gnutls", "risk": "high"}}),
    ("lab-tickets-off", "lab", {"options": {"tickets": False}, "expected": {
        "resumes": {"tls13-psk": False, "tls12-ticket": False, "tls12-session-id": True},
        "tracking": {("tls12-session-id", "keeps"): "unbounded", ("tls12-session-id", "single-use"): "pairs"}}}),
    ("lab-tls13-1h-psk_ke", "lab", {"tls": TLS13 + ":+ECDHE-PSK:+DHE-PSK:+PSK", "options": {"lifetime": 3600}, "expected": {
        "resumes": {"tls13-psk": True}, "hint": {"TLS1.3": 3600}, "psk_ke": True, "risk": "low",
        "tracking": {("tls13-psk", "keeps"): 3600, ("tls13-psk", "single-use"): 0}}}),
    ("lab-psk_ke-only", "lab", {"tls": TLS13 + ":+PSK", "expected": {"psk_ke": True, "psk_dhe_ke": False}}),
    ("lab-week", "lab", {"tls": TLS13, "options": {"lifetime": 604800}, "expected": {
        "hint": {"TLS1.3": 604800}, "risk": "medium", "tracking": {("tls13-psk", "keeps"): 604800}}}),
    ("lab-0rtt-no-replay-cache", "lab", {"tls": TLS13, "options": {"early_data": 4096, "anti_replay": "forget"},
                                         "audit": {"replay": True},
                                         "expected": {"early_data": True, "replay": "accepted", "risk": "high"}}),
    ("lab-0rtt-anti-replay", "lab", {"tls": TLS13, "options": {"early_data": 4096, "anti_replay": "remember"},
                                     "audit": {"replay": True},
                                     "expected": {"early_data": True, "replay": "refused", "risk": "low"}}),
    ("lab-two-names", "lab", {"tls": TLS13, "names": ("a.example", "b.example"),
                              "expected": {"shared_key": True, "risk": "medium"}}),
    ("gnutls-serv-tls13", "gnutls-serv", {"tls": "1.3", "expected": {
        "resumes": {"tls13-psk": True}, "hint": {"TLS1.3": 21600}, "reissue": {"TLS1.3": True},
        "lifetime_policy": {"TLS1.3": "remaining"}, "layout": "gnutls", "weak_key": False, "psk_ke": False,
        "risk": "low"}}),
    ("gnutls-serv-tls12", "gnutls-serv", {"tls": "1.2", "expected": {
        "resumes": {"tls12-ticket": True, "tls12-session-id": True}, "hint": {"TLS1.2": 21600},
        "reissue": {"TLS1.2": False}, "layout": "gnutls", "risk": "medium",
        "tracking": {("tls12-ticket", "keeps"): "unbounded", ("tls12-ticket", "single-use"): "pairs"}}}),
    ("gnutls-serv-tls12-noticket", "gnutls-serv", {"tls": "1.2", "args": ("--noticket",), "expected": {
        "resumes": {"tls12-ticket": False, "tls12-session-id": True}}}),
    ("gnutls-serv-tls12-nothing", "gnutls-serv", {"tls": "1.2", "args": ("--noticket", "--nodb"), "expected": {
        "resumes": {"tls12-ticket": False, "tls12-session-id": False}, "risk": "low"}}),
    ("gnutls-serv-tls13-noticket", "gnutls-serv", {"tls": "1.3", "args": ("--noticket",), "expected": {
        "resumes": {"tls13-psk": False}, "risk": "low"}}),
    ("gnutls-serv-0rtt", "gnutls-serv", {"tls": "1.3", "args": ("--earlydata",), "audit": {"replay": True},
                                         "expected": {"early_data": True, "replay": "refused (the ticket was taken",
                                                      "risk": "low"}}),
    ("openssl-tls13", "openssl", {"tls": "1.3", "args": ("-www",), "expected": {
        "resumes": {"tls13-psk": True}, "hint": {"TLS1.3": 7200}, "reissue": {"TLS1.3": True},
        "lifetime_policy": {"TLS1.3": "fresh"}, "reuse": {"tls13-psk": True}, "layout": "openssl",
        "weak_key": False, "psk_ke": False, "risk": "low", "tracking": {("tls13-psk", "keeps"): 7200}}}),
    ("openssl-tls13-psk_ke", "openssl", {"tls": "1.3", "args": ("-www", "-allow_no_dhe_kex"),
                                         "expected": {"psk_ke": True}}),
    ("openssl-tls12", "openssl", {"tls": "1.2", "args": ("-www",), "expected": {
        "resumes": {"tls12-ticket": True, "tls12-session-id": True}, "hint": {"TLS1.2": 7200},
        "reissue": {"TLS1.2": False}, "layout": "openssl", "risk": "medium"}}),
    ("openssl-tls12-no_ticket", "openssl", {"tls": "1.2", "args": ("-www", "-no_ticket"), "expected": {
        "resumes": {"tls12-ticket": False, "tls12-session-id": True}}}),
    ("openssl-0rtt-anti-replay", "openssl", {"tls": "1.3", "args": ("-early_data",), "audit": {"replay": True},
                                             "expected": {"early_data": True, "layout": "stateful",
                                                          "reuse": {"tls13-psk": False},
                                                          "replay": "refused (the ticket was refused", "risk": "low",
                                                          "tracking": {("tls13-psk", "keeps"): "pairs"}}}),
    ("openssl-0rtt-no_anti_replay", "openssl", {"tls": "1.3", "args": ("-early_data", "-no_anti_replay"),
                                                "audit": {"replay": True},
                                                "expected": {"early_data": True, "replay": "accepted", "risk": "high"}}),
]


def run_case(kind: str, config: dict) -> tuple[AuditReport, object]:
    with start_server(kind, config) as server:
        report = audit(server.host, server.port, server_names=server.names, starttls=server.starttls,
                       **config.get("audit", {}))
        return report, server


@pytest.mark.parametrize("kind,config", [(kind, config) for _, kind, config in CASES], ids=[c[0] for c in CASES])
def test_audit_verdict_matches_the_configuration(kind, config):
    with start_server(kind, config) as server:
        report = audit(server.host, server.port, server_names=server.names, starttls=server.starttls,
                       **config.get("audit", {}))
        check_expected(report, server.expected)
        assert report.findings()["verdict"]["summary"]
        assert all(p.connections for p in report.probes if p.status == "done")
        if kind == "lab":  # the server's own records, connection by connection (in order, ports checked)
            for conn, record in pair_served(report, server.lab.wait_served(len(report.connections), 10)):
                if not conn.error:
                    assert record.resumed == conn.resumed, (conn.index, conn.probe, conn.note, record)


def test_a_replay_the_audit_calls_accepted_delivered_the_early_data_twice():
    """The lab server's records: the replayed flight's early data reached the application again."""
    config = dict(CASES[[c[0] for c in CASES].index("lab-0rtt-no-replay-cache")][2])
    with start_server("lab", config) as server:
        report = audit(server.host, server.port, replay=True, tls=("1.3",))
        assert report.findings()["zero_rtt"]["replay"]["verdict"] == "accepted"
        served = server.lab.wait_served(len(report.connections) + 1, 10)  # the replay is one more connection
        delivered = [r.early_data for r in served if r.early_data]
        assert len(delivered) == 2 and delivered[0] == delivered[1] and delivered[0].startswith(b"HEAD / HTTP/1.1")


def test_a_replay_the_audit_calls_refused_delivered_nothing():
    config = dict(CASES[[c[0] for c in CASES].index("lab-0rtt-anti-replay")][2])
    with start_server("lab", config) as server:
        report = audit(server.host, server.port, replay=True, tls=("1.3",))
        assert report.findings()["zero_rtt"]["replay"]["verdict"].startswith("refused")
        served = server.lab.wait_served(len(report.connections) + 1, 10)
        assert len([r for r in served if r.early_data]) == 1


def test_openssl_prints_the_replayed_request_once_more_when_the_audit_says_accepted():
    config = dict(CASES[[c[0] for c in CASES].index("openssl-0rtt-no_anti_replay")][2])
    with start_server("openssl", config) as server:
        report = audit(server.host, server.port, replay=True)
        assert report.findings()["zero_rtt"]["replay"]["verdict"] == "accepted"
        output = server.peer.output
        assert output.count("HEAD / HTTP/1.1") == 2, output[-2000:]


@pytest.mark.slow
def test_short_lifetime_is_refused_after_it_expires():
    """A 5 s lifetime, tickets offered at 3, 6 and 12 s: accepted young; past the lifetime a TLS 1.2 ticket
    (and session ID) is offered and refused by the server, while the client drops a TLS 1.3 ticket itself
    (libgnutls 3.7.9 and 3.8 alike, on the real clock) and the report says it was not offered."""
    with start_server("lab", {"options": {"lifetime": 5}}) as server:
        report = audit(server.host, server.port, max_wait=12)
    lifetimes = report.findings()["lifetime"]
    row13, row12 = lifetimes["TLS1.3"], lifetimes["TLS1.2"]
    assert row13["hint"] == row12["hint"] == 5
    assert row13["accepted_ages"] and max(row13["accepted_ages"]) <= 5
    assert len(row13["not_offered_ages"]) == 1 and 6 <= row13["not_offered_ages"][0] < 8, row13  # and ends the series
    assert not row13["refused_ages"]
    for row in (row12, lifetimes["TLS1.2 session ID"]):
        assert len(row["accepted_ages"]) == 1 and 3 <= row["accepted_ages"][0] < 5, row  # offered at 3 s, or a little later
        assert 6 <= row["refused_at"] < 8 and row["not_waited"] is None, row
    sources = {w["window"].policy.mechanism: w["lifetime_source"] for w in report.findings()["tracking"]}
    assert sources["tls12-ticket"].startswith("measured") and sources["tls13-psk"].startswith("announced")


def test_key_timeline_across_a_rotation_and_two_names():
    """libgnutls derives a new ticket key every 3 x the lifetime (lib/stek.c): with a 2 s lifetime, every 6 s,
    as the server's expected facts say. An audit longer than that sees the key change, one key at a time, the
    same keys behind both names (one master key for every name), and says so. Paced at 4 connections a second,
    the audit lasts about 9 s whatever its lifetime probes meet: unpaced, it ends at the first refusal of an aged
    ticket, at an age of 2 or 4 s depending on where whole seconds fall, and once took 6.0 s with tickets
    spanning 4.2 s (CI, GnuTLS 3.8.9), less than the period."""
    with start_real_server("lab", RealServerConfig(lifetime=2, names=LAB_NAMES)) as server:
        rotation = server.expected["key.rotation"].value
        period = float(re.match(r"every (\d+) s", rotation).group(1))
        assert period == 3 * 2, rotation
        report = audit(server.host, server.port, server_names=server.names, max_wait=period + 2, rate=4)
        check_key_timeline(report, period, shared=server.expected["key.shared_across_names"].value)


def test_starttls_smtp_against_the_lab_server():
    with start_server("lab", {"tls": TLS13, "options": {"starttls": "smtp"}}) as server:
        report = audit(server.host, server.port, starttls="smtp", tls=("1.3",))
        assert report.findings()["resumption"]["tls13-psk"]["resumed"] == 4
        assert any("SMTP" in line for line in report.sent)
        assert any("STARTTLS" in line for line in report.not_done) or report.findings()["zero_rtt"][
            "max_early_data_size"] == 0


def test_starttls_server_side_talks_to_gnutls_cli():
    """The lab server's SMTP preamble is checked by a real client: gnutls-cli --starttls-proto=smtp."""
    gnutls_cli = shutil.which("gnutls-cli")
    assert gnutls_cli, "gnutls-cli not found: install it with `apt-get install gnutls-bin`"
    with start_server("lab", {"tls": TLS13, "options": {"starttls": "smtp"}}) as server:
        done = subprocess.run([gnutls_cli, "--insecure", "--starttls-proto=smtp", "--port", str(server.port),
                               "127.0.0.1"], input=b"", capture_output=True, timeout=30)
        assert b"Handshake was completed" in done.stdout + done.stderr, done.stderr[-500:]


def test_starttls_refused_by_a_server_that_does_not_speak_smtp_is_one_line():
    with start_server("lab", {"tls": TLS13}) as server:
        with pytest.raises(UsageError) as caught:
            audit(server.host, server.port, starttls="smtp", tls=("1.3",))
        assert "\n" not in str(caught.value) and "handshake" in str(caught.value)


def test_rate_and_cap_bound_the_audit():
    with start_server("lab", {"tls": TLS13}) as server:
        report = audit(server.host, server.port, rate=20, max_connections=5, tls=("1.3",))
    assert len(report.connections) == 5
    assert any("cap (5)" in line for line in report.not_done)
    starts = [c.at for c in report.connections]
    assert all(b - a >= 1 / 20 - 0.005 for a, b in zip(starts, starts[1:]))
    assert "at most 20 connections per second" in report.sent[0]


def test_bad_arguments_are_usage_errors():
    for kwargs in ({"max_wait": -1}, {"tries": 0}, {"tls": ("1.1",)}, {"starttls": "imap"},
                   {"server_names": ("not a name",)}, {"rate": 0}, {"max_connections": 0}):
        with pytest.raises(UsageError):
            audit("127.0.0.1", 9, **kwargs)
    with pytest.raises(UsageError, match="loopback|other than localhost"):
        audit("192.0.2.1", 443)
    with pytest.raises(UsageError, match="completed no TLS handshake"):
        audit("127.0.0.1", 9)
