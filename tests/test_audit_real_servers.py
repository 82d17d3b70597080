"""``gnutls-lab audit`` against every real server of ``gnutls_lab.network.start_real_server`` (nginx, Apache,
HAProxy, Caddy, lighttpd with four TLS libraries, Exim over STARTTLS, gnutls-serv, openssl s_server, the lab
server), in every configuration ``tests/test_real_servers.py`` starts them with: each fact the server's
documentation implies (``RealServer.expected``, confirmed there by real peers) must be what the audit found.
Configurations with a ticket-key file get an **all-zero** key here, so the audit must also open their tickets.

Like the real-server tests, the kinds beyond gnutls-serv, openssl and the lab are marked ``realservers`` (the
GnuTLS 3.8 runs deselect them: their root filesystems do not have those servers).
"""

from __future__ import annotations

import pytest

from gnutls_lab.errors import UsageError
from gnutls_lab.network import audit, start_real_server
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
#: Where the wire says otherwise than RealServer.expected, with the evidence: lighttpd's mod_openssl with
#: "-SessionTicket" sends two (stateful, not resumable: no session cache) TLS 1.3 NewSessionTickets per
#: handshake; `openssl s_client -msg` prints two NewSessionTicket messages as well (measured, lighttpd 1.4.69,
#: OpenSSL 3.0.19).
WIRE = {("lighttpd-openssl", "tickets-off", "tls13.tickets_per_handshake"): 2}
#: A server the lab's libgnutls client cannot talk to: lighttpd's mod_wolfssl (wolfSSL 5.5.4) closes every
#: connection of a libgnutls 3.7.9 client, TLS 1.2 and 1.3 alike (gnutls-cli too), so the audit says so in
#: one line.
NO_HANDSHAKE = {"lighttpd-wolfssl"}


@pytest.mark.peers
@pytest.mark.parametrize("kind,name,keywords", CASES)
def test_audit_finds_what_the_server_documentation_implies(kind, name, keywords, tmp_path):
    fmt = TICKET_KEY_FORMATS.get(kind)
    zero_key = bytes(fmt.size) if keywords.get("ticket_key_file") else None
    config = make_config(kind, keywords, tmp_path, key=zero_key)
    with start_real_server(kind, config) as server:
        if kind in NO_HANDSHAKE:
            with pytest.raises(UsageError) as caught:
                audit(server.host, server.port, server_names=server.names, tls=config.tls)
            assert "completed no TLS handshake" in str(caught.value) and "\n" not in str(caught.value)
            return
        report = audit(server.host, server.port, server_names=server.names,
                       starttls=server.starttls, tls=config.tls, replay=bool(config.early_data))
        expected = {fact: e.value for fact, e in server.expected.items()}
    found = report.findings()
    unknown = set(expected) - set(FACTS) - NOT_MEASURED
    assert not unknown, f"facts this test does not read yet: {unknown}"
    no_tls13_tickets = WIRE.get((kind, name, "tls13.tickets_per_handshake"),
                                expected.get("tls13.tickets_per_handshake")) == 0
    for fact, value in expected.items():
        if fact in NOT_MEASURED:
            continue
        if fact == "tls13.ticket_lifetime" and no_tls13_tickets:
            value = None  # no ticket, no lifetime to read (the documented value applies to tickets not sent)
        if fact in CONDITIONAL and not expected.get(CONDITIONAL[fact]):
            continue  # no resumption, so no "new ticket on resumption" to see
        value = WIRE.get((kind, name, fact), value)
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
