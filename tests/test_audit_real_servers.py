"""``gnutls-lab audit`` against every real server of ``gnutls_lab.network.start_real_server`` (nginx, Apache,
HAProxy, Caddy, lighttpd with four TLS libraries, Exim over STARTTLS, gnutls-serv, openssl s_server, the lab
server), in every configuration ``tests/test_real_servers.py`` starts them with: each fact the server's
documentation implies (``RealServer.expected``, confirmed there by real peers) must be what the audit found.
Configurations with a ticket-key file get an **all-zero** key here, so the audit must also open their tickets.

Like the real-server tests, the kinds beyond gnutls-serv, openssl and the lab are marked ``realservers`` (the
GnuTLS 3.8 runs deselect them: their root filesystems do not have those servers).
"""

from __future__ import annotations

import os
import re

import pytest

from audit_servers import check_key_timeline
from gnutls_lab.analysis._audit_verdict import SERVERS
from gnutls_lab.network import LAB_NAMES, RealServerConfig, audit, start_real_server
from gnutls_lab.network._real_servers import TICKET_KEY_FORMATS
from test_real_servers import CASES, make_config

#: RealServer.expected fact → how to read it off the audit's findings (and the report).
FACTS = {
    "tls12.ticket_issued": lambda f, r: bool(f["resumption"].get("tls12-ticket", {}).get("issued")),
    "tls12.lifetime_hint": lambda f, r: (f["lifetime"].get("TLS1.2") or {}).get("hint") or 0,
    "tls12.ticket_resumes": lambda f, r: bool(f["resumption"].get("tls12-ticket", {}).get("resumed")),
    "tls12.session_id_resumes": lambda f, r: bool(f["resumption"].get("tls12-session-id", {}).get("resumed")),
    "tls12.new_ticket_on_resumption": lambda f, r: bool((f["reissue"].get("TLS1.2") or {}).get("with_new_tickets")),
    "tls13.resumes": lambda f, r: bool(f["resumption"].get("tls13-psk", {}).get("resumed")),
    "tls13.ticket_lifetime": lambda f, r: (f["lifetime"].get("TLS1.3") or {}).get("hint"),
    "tls13.new_ticket_on_resumption": lambda f, r: bool((f["reissue"].get("TLS1.3") or {}).get("with_new_tickets")),
    "tls13.tickets_per_handshake": lambda f, r: len(next(c.tickets for c in r.connections
                                                          if c.probe == "tls13-psk" and not c.offered)),
    "tls13.max_early_data": lambda f, r: f["zero_rtt"]["max_early_data_size"] or 0,
    "key.shared_across_names": lambda f, r: bool(f["key_names"]["shared_across_names"]
                                                 or f["key_names"]["cross_name_resumption"]),
    "key.name": lambda f, r: {n["name"] for n in f["key_names"]["names"]},
}
#: Facts the audit does not measure in a few seconds (a key rotation takes hours), said here, not skipped.
NOT_MEASURED = {"key.rotation"}
#: Facts about a resumption, which mean nothing where the configuration implies none (the fact → the one it needs).
CONDITIONAL = {"tls13.new_ticket_on_resumption": "tls13.resumes", "tls12.new_ticket_on_resumption": "tls12.ticket_resumes"}
#: A server that refuses an all-zero key file, with the evidence. lighttpd's mod_wolfssl (wolfSSL 5.5.4) logs
#: "SSL: -400 Bad user ticket callback encrypt Error" for every ticket it should make with an all-zero STEK:
#: it sends no TLS 1.3 ticket, and every TLS 1.2 handshake ends before its Finished (measured; a random STEK
#: works, tests/test_real_servers.py). The audit must see exactly that, and find no weak key where none is used.
ZERO_KEY_REFUSED = {"lighttpd-wolfssl"}


#: What each server says it is (its Server header, its SMTP greeting) → the SERVERS entry whose directives the
#: advice names; the servers not here say nothing the audit recognises (HAProxy sends no Server header,
#: gnutls-serv and openssl s_server answer no HEAD request, the lab server no HTTP): their advice is by the
#: ticket layout's family.
PRODUCTS = {"nginx": "nginx", "apache": "apache", "caddy": "caddy", "exim": "exim", "lighttpd-openssl": "lighttpd",
            "lighttpd-gnutls": "lighttpd", "lighttpd-wolfssl": "lighttpd", "lighttpd-mbedtls": "lighttpd"}
#: The configuration (of tests/test_real_servers.py) that sets a knob → that knob of SERVERS[product].
KNOB_OF_CONFIG = {"tickets-off": "tickets_off", "tickets-on": "tickets_off", "short": "lifetime", "long": "lifetime",
                  "key-file": "key", "key-file-two-names": "key", "0-rtt": "zero_rtt", "cache-on": "cache_off"}
#: (cache-off is not there: a cache off by default, as lighttpd's, is no directive at all)


def configuration_text(server) -> str:
    """Every configuration file the harness wrote for ``server`` (its folder's small text files)."""
    texts = []
    for entry in os.scandir(server.folder):
        if entry.is_file(follow_symlinks=False) and entry.stat().st_size < 65536 and \
                entry.name.endswith((".conf", ".cfg", ".json")):
            with open(entry.path, errors="replace") as f:
                texts.append(f.read())
    return "\n".join(texts)


def check_advice(kind: str, name: str, found: dict, config_text: str) -> None:
    """The audit recognised the server by its own words and wrote its advice in that server's directives: each
    directive it names is the one the harness writes into this server's configuration for that behaviour."""
    product = PRODUCTS.get(kind)
    software = found["software"]
    assert software is not None and software["product"] == product, software
    verdict = found["verdict"]
    if product is None:
        assert verdict["recognised"] is None or verdict["recognised"]["product"] is None, verdict["recognised"]
        return
    knobs = SERVERS[product]
    assert verdict["recognised"]["product"] == product and verdict["recognised"]["server"] == knobs["server"]
    for knob, directive in knobs["directives"].items():
        assert directive in knobs[knob], (product, knob)  # the advice's words name the directive
    knob = KNOB_OF_CONFIG.get(name)
    if knob in knobs["directives"]:
        assert knobs["directives"][knob] in config_text, (product, knob, config_text[-600:])
    advice = verdict["advice"]
    windows = [w["window"] for w in found["tracking"]]
    if any(w.policy.mechanism == "tls12-ticket" and w.unbounded for w in windows):
        assert any(knobs["tickets_off"] in line for line in advice), advice
    if any(w.policy.mechanism == "tls12-session-id" and w.unbounded and w.client == "keeps" for w in windows):
        assert any(knobs["cache_off"] in line for line in advice), advice
    if any(hit.what == "decrypted" for hit in found["weak_keys"]):
        assert any(knobs["key"] in line for line in advice), advice
    if advice:
        assert advice[-1].startswith(f"(advice for {knobs['server']}: its {software['how']} says"), advice[-1]


@pytest.mark.peers
@pytest.mark.parametrize("kind,name,keywords", CASES)
def test_audit_finds_what_the_server_documentation_implies(kind, name, keywords, tmp_path):
    fmt = TICKET_KEY_FORMATS.get(kind)
    zero_key = bytes(fmt.size) if keywords.get("ticket_key_file") else None
    config = make_config(kind, keywords, tmp_path, key=zero_key)
    with start_real_server(kind, config) as server:
        report = audit(server.host, server.port, server_names=server.names,
                       starttls=server.starttls, tls=config.tls, replay=bool(config.early_data))
        expected = {fact: e.value for fact, e in server.expected.items()}
        config_text = configuration_text(server)
    found = report.findings()
    if zero_key is not None and kind in ZERO_KEY_REFUSED:
        assert not report.tickets and not found["weak_keys"], found["weak_keys"]
        assert report.protocols.get("TLS1.2") is (False if "1.2" in config.tls else None), report.protocols
        assert report.protocols.get("TLS1.3") is (True if "1.3" in config.tls else None), report.protocols
        return
    check_advice(kind, name, found, config_text)
    unknown = set(expected) - set(FACTS) - NOT_MEASURED
    assert not unknown, f"facts this test does not read yet: {unknown}"
    no_tls13_tickets = expected.get("tls13.tickets_per_handshake") == 0
    for fact, value in expected.items():
        if fact in NOT_MEASURED:
            continue
        if fact == "tls13.ticket_lifetime" and no_tls13_tickets:
            value = None  # no ticket, no lifetime to read (the documented value applies to tickets not sent)
        if fact in CONDITIONAL and not expected.get(CONDITIONAL[fact]):
            continue  # no resumption, so no "new ticket on resumption" to see
        got = FACTS[fact](found, report)
        if fact == "key.name":
            assert value in got, (fact, value, got)
        else:
            assert got == value, f"{kind} {name}: {fact} expected {value!r} ({server.expected[fact].source}), audit found {got!r}"
    assert found["verdict"]["summary"] and found["verdict"]["risk"] in ("low", "medium", "high")
    if zero_key is not None and (expected.get("tls13.resumes") or expected.get("tls12.ticket_resumes")):
        opened = [hit for hit in found["weak_keys"] if hit.what == "decrypted"]
        assert opened, f"{kind}: the all-zero key file should open its tickets; weak keys found: {found['weak_keys']}"
        assert found["verdict"]["risk"] == "high"


@pytest.mark.peers
@pytest.mark.realservers
def test_caddy_key_timeline_across_its_rotation_and_two_names():
    """Caddy's session_tickets.rotation_interval (here 2 s, keeping 4 keys) under two names: the audit sees a new
    key name about every 2 s, never one for longer, the same keys behind both names (one key set per Caddy
    instance), and its advice names Caddy's rotation setting."""
    with start_real_server("caddy", RealServerConfig(rotation=2, names=LAB_NAMES)) as server:
        rotation = server.expected["key.rotation"].value
        period = float(re.match(r"every (\d+) s", rotation).group(1))
        assert period == 2, rotation
        report = audit(server.host, server.port, server_names=server.names, max_wait=5)
        shared = server.expected["key.shared_across_names"].value
        config_text = configuration_text(server)
    check_key_timeline(report, period, shared=shared)
    assert report.findings()["key_names"]["cross_name_resumption"] is True  # a ticket of one name resumed on the other
    assert SERVERS["caddy"]["directives"]["key"] in config_text
