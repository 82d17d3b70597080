"""Real servers (gnutls_lab.network._real_servers), each started with each configuration it supports, and
real peers confirming what ``RealServer.expected`` says that configuration and the server's documentation
imply: tickets issued or not, the lifetime hint, resumption, a new ticket on resumption, 0-RTT offered and
accepted, the key file's key name, one key behind two names. sslyze and testssl.sh measure the same servers.

The kinds that need more than gnutls-bin and openssl (nginx, Apache, lighttpd, HAProxy, Caddy, Exim, and the
scanners) are marked ``realservers``: the GnuTLS 3.8 runs (``make test-3.8``, ``make test-newest``) deselect
them, since their root filesystems do not have those servers (see docs/servers.md). A server that is not
installed fails its tests with one line (``nginx: not installed (apt-get install nginx)``).
"""

from __future__ import annotations

import os
import socket
import time

import psutil
import pytest
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gnutls_lab import decrypt_ticket
from gnutls_lab.network import (
    LAB_NAMES,
    REAL_SERVERS,
    RealServerConfig,
    ServerMissing,
    audit,
    start_real_server,
    write_ticket_key_file,
)
from gnutls_lab.network._real_server_kinds import CAPABILITIES, unsupported_reason
from gnutls_lab.network._real_servers import LONG_LIFETIME, SHORT_LIFETIME, TICKET_KEY_FORMATS, UnsupportedConfig
from peer_scanners import gnutls_cli_resumes, openssl_visit, sslyze_resumption
from peer_scanners import testssl_ticket_hint as scan_with_testssl  # (a name starting "test" is collected)

EVERYWHERE = {"gnutls-serv", "openssl", "lab"}  # programs every test environment has (gnutls-bin, openssl)


def marks(kind: str) -> list:
    return [] if kind in EVERYWHERE else [pytest.mark.realservers]


def tls_versions(kind: str) -> tuple:
    return tuple(v for v in ("1.2", "1.3") if f"tls{v.replace('.', '')}" in CAPABILITIES[kind])


def configurations(kind: str) -> list:
    """(name, config builder) pairs: every configuration ``kind`` supports, as RealServerConfig keywords."""
    caps = CAPABILITIES[kind]
    tls = tls_versions(kind)
    found = [("default", {"tls": tls})]
    if kind == "exim":
        found.append(("tickets-on", {"tls": tls, "tickets": True}))
    elif "tickets_off" in caps:
        found.append(("tickets-off", {"tls": tls, "tickets": False}))
    if "lifetime" in caps:
        found += [("short", {"tls": tls, "lifetime": SHORT_LIFETIME}), ("long", {"tls": tls, "lifetime": LONG_LIFETIME})]
    if "key_file" in caps:
        found.append(("key-file" + ("-two-names" if "two_names" in caps else ""),
                      {"tls": tls, "ticket_key_file": True, **({"names": LAB_NAMES} if "two_names" in caps else {})}))
    if "two_names" in caps:
        found.append(("two-names", {"tls": tls, "names": LAB_NAMES, **({"tickets": True} if kind == "exim" else {})}))
    if "early_data" in caps:
        found.append(("0-rtt", {"tls": ("1.3",), "early_data": True}))
    if "cache_on" in caps:
        found.append(("cache-on", {"tls": tls, "session_cache": True}))
    if "cache_off" in caps:
        found.append(("cache-off", {"tls": tls, "session_cache": False}))
    return found


CASES = [pytest.param(kind, name, keywords, id=f"{kind}-{name}", marks=marks(kind))
         for kind in REAL_SERVERS for name, keywords in configurations(kind)]


def make_config(kind: str, keywords: dict, tmp_path, key: bytes | None = None) -> RealServerConfig:
    keywords = dict(keywords)
    if keywords.pop("ticket_key_file", None):
        path = str(tmp_path / "ticket.key")
        write_ticket_key_file(kind, path, None if key is None else [key] * TICKET_KEY_FORMATS[kind].keys)
        keywords["ticket_key_file"] = path
    return RealServerConfig(**keywords)


def check_tls12(server, tmp_path, name: str) -> dict:
    expected = {k: v.value for k, v in server.expected.items()}
    first = openssl_visit(server, "1.2", save_to=str(tmp_path / f"{name}-12a"), server_name=name)
    assert first.protocol == "TLSv1.2" and not first.resumed
    assert bool(first.tickets) == expected["tls12.ticket_issued"], first.output[-800:]
    if first.tickets and "tls12.lifetime_hint" in expected:
        assert first.tickets[0].lifetime == expected["tls12.lifetime_hint"]
    if not (tmp_path / f"{name}-12a").exists():  # nothing resumable was saved (no ticket, no session ID)
        assert not expected["tls12.ticket_issued"] and not expected["tls12.session_id_resumes"]
        return {"tickets": first.tickets}
    again = openssl_visit(server, "1.2", resume_from=str(tmp_path / f"{name}-12a"), server_name=name)
    if expected["tls12.ticket_issued"]:
        assert again.resumed == expected["tls12.ticket_resumes"]
        assert bool(again.tickets) == expected["tls12.new_ticket_on_resumption"], again.output[-800:]
    # session-ID resumption: a client that offers no ticket (s_client -no_ticket)
    saved = tmp_path / f"{name}-12id"
    plain = openssl_visit(server, "1.2", save_to=str(saved), server_name=name, no_ticket=True)
    assert not plain.tickets
    # s_client saves no session that cannot be resumed (an empty session ID): then there is nothing to offer
    by_id = saved.exists() and openssl_visit(server, "1.2", resume_from=str(saved), server_name=name,
                                             no_ticket=True).resumed
    assert by_id == expected["tls12.session_id_resumes"]
    return {"tickets": first.tickets}


def check_tls13(server, tmp_path, name: str) -> dict:
    expected = {k: v.value for k, v in server.expected.items()}
    session = str(tmp_path / f"{name}-13a")
    first = openssl_visit(server, "1.3", save_to=session, server_name=name)
    assert first.protocol == "TLSv1.3" and not first.resumed
    assert len(first.tickets) == expected["tls13.tickets_per_handshake"], first.output[-800:]
    if "tls13.ticket_lifetime" in expected:
        assert {t.lifetime for t in first.tickets} <= {expected["tls13.ticket_lifetime"]}
    assert {t.max_early_data for t in first.tickets} <= {expected["tls13.max_early_data"]}
    if first.tickets:
        again = openssl_visit(server, "1.3", resume_from=session, server_name=name)
        assert again.resumed == expected["tls13.resumes"]
        if again.resumed:  # (a full handshake instead gets the tickets of a full handshake)
            assert bool(again.tickets) == expected["tls13.new_ticket_on_resumption"], again.output[-800:]
    else:
        assert not expected["tls13.resumes"]
    if expected["tls13.max_early_data"]:  # a fresh ticket: with anti-replay a ticket admits 0-RTT once at most
        fresh = str(tmp_path / f"{name}-13early")
        openssl_visit(server, "1.3", save_to=fresh, server_name=name)
        early = openssl_visit(server, "1.3", resume_from=fresh, server_name=name,
                              early_data=server.request(name) or b"early\n")
        assert early.resumed and early.early_data == "accepted", early.output[-1200:]
    return {"tickets": first.tickets}


@pytest.mark.parametrize("kind,name,keywords", CASES)
def test_peers_confirm_what_the_configuration_implies(kind, name, keywords, tmp_path):
    config = make_config(kind, keywords, tmp_path)
    with start_real_server(kind, config) as server:
        assert server.host == "127.0.0.1" and server.kind == kind and server.config == config
        assert server.starttls == ("smtp" if kind == "exim" else None)
        assert all(fact.source for fact in server.expected.values()), server.expected
        listening = _listening_addresses(server.pid)
        assert listening == {("127.0.0.1", server.port)}, listening  # loopback only, that one port
        seen = {}
        for sni in server.names:
            seen[sni] = []
            if "1.2" in config.tls:
                seen[sni] += check_tls12(server, tmp_path, sni)["tickets"]
            if "1.3" in config.tls:
                seen[sni] += check_tls13(server, tmp_path, sni)["tickets"]
        expected = {k: v.value for k, v in server.expected.items()}
        tickets = [t for found in seen.values() for t in found]
        if "key.name" in expected:
            size = len(bytes.fromhex(expected["key.name"]))
            assert {t.ticket[:size].hex() for t in tickets} == {expected["key.name"]}
        if len(server.names) > 1 and tickets:
            fmt = TICKET_KEY_FORMATS.get(kind)
            size = fmt.name[1] if fmt is not None and fmt.name is not None else 16
            names_a = {t.ticket[:size] for t in seen[server.names[0]] if len(t.ticket) > 40}
            names_b = {t.ticket[:size] for t in seen[server.names[1]] if len(t.ticket) > 40}
            if names_a and names_b:  # stateless tickets: the key name leads them
                assert (names_a == names_b) == expected["key.shared_across_names"]
        # gnutls-cli agrees about resumption
        if "1.3" in config.tls:
            waits = expected["tls13.tickets_per_handshake"] > 0
            assert gnutls_cli_resumes(server, "1.3", wait_for_ticket=waits) == expected["tls13.resumes"]
        if "1.2" in config.tls:
            either = expected["tls12.ticket_resumes"] and expected["tls12.ticket_issued"] or \
                expected["tls12.session_id_resumes"]
            assert gnutls_cli_resumes(server, "1.2") == either
        pid, folder = server.pid, server.folder
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not os.path.exists(folder)


def _listening_addresses(pid: int) -> set:
    processes = [psutil.Process(pid)] + psutil.Process(pid).children(recursive=True)
    found = set()
    for process in processes:
        try:
            for conn in process.net_connections(kind="inet"):
                if conn.status == psutil.CONN_LISTEN or conn.type == socket.SOCK_DGRAM:
                    found.add((conn.laddr.ip, conn.laddr.port))
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


# --- key files: the documented layouts decrypt the servers' own tickets ---------------------------------

def _hmac_ok(key: bytes, data: bytes, tag: bytes) -> bool:
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(data)
    return mac.finalize() == tag


def _cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    assert 1 <= plain[-1] <= 16 and plain.endswith(bytes([plain[-1]]) * plain[-1]), "bad padding: wrong AES key"
    return plain[:-plain[-1]]


@pytest.mark.realservers
@pytest.mark.parametrize("kind", ["nginx", "haproxy", "lighttpd-openssl", "apache", "lighttpd-wolfssl",
                                  "lighttpd-mbedtls"])
def test_key_file_layout_opens_the_servers_tickets(kind, tmp_path):
    """The documented layout (TICKET_KEY_FORMATS) authenticates and decrypts the server's own TLS 1.2 ticket."""
    fmt = TICKET_KEY_FORMATS[kind]
    path = str(tmp_path / "ticket.key")
    keys = write_ticket_key_file(kind, path)
    key = keys[-fmt.keys:][fmt.encrypting]
    with start_real_server(kind, RealServerConfig(tls=("1.2",), ticket_key_file=path)) as server:
        ticket = openssl_visit(server, "1.2").tickets[0].ticket
    name_size = fmt.name[1] - fmt.name[0]
    assert ticket[:name_size] == fmt.key_name(key)
    aes = key[fmt.aes[0]:fmt.aes[1]]
    if kind == "lighttpd-mbedtls":  # name 4, IV 12, length 2, ciphertext, tag 16; AAD: name, IV, length
        plain = AESGCM(aes).decrypt(ticket[4:16], ticket[18:], ticket[:18])
        assert len(plain) == int.from_bytes(ticket[16:18], "big")
    elif kind == "lighttpd-wolfssl":  # name 16, IV 16, length 2, ciphertext, HMAC-SHA256 of the ciphertext only
        length = int.from_bytes(ticket[32:34], "big")
        encrypted = ticket[34:34 + length]
        assert _hmac_ok(key[fmt.hmac[0]:fmt.hmac[1]], encrypted, ticket[34 + length:34 + length + 32])
        _cbc_decrypt(aes, ticket[16:32], encrypted)
    else:  # OpenSSL's layout: name 16, IV 16, ciphertext, HMAC-SHA256 over all before it
        plain = _cbc_decrypt(aes, ticket[16:32], ticket[32:-32])
        assert plain[:1] == b"\x30"  # an ASN.1 SSL_SESSION
        authentic = _hmac_ok(key[fmt.hmac[0]:fmt.hmac[1]], ticket[:-32], ticket[-32:])
        # Apache 2.4 built with OpenSSL 3 hands OpenSSL a pointer to its stack buffer as the HMAC key
        # (ssl_init_ticket_key: OSSL_PARAM_construct_octet_string(..., buf + 16, 16)); by the time tickets
        # are made that memory holds something else, so the file's HMAC half is not the key in use.
        assert authentic == (kind != "apache")


@pytest.mark.parametrize("kind", [pytest.param("lab"),
                                  pytest.param("lighttpd-gnutls", marks=pytest.mark.realservers)])
def test_gnutls_master_key_file_decrypts_with_the_labs_decoder(kind, tmp_path):
    path = str(tmp_path / "ticket.key")
    key = write_ticket_key_file(kind, path)[0]
    master = key[:64]
    with start_real_server(kind, RealServerConfig(tls=("1.2",), ticket_key_file=path)) as server:
        ticket = openssl_visit(server, "1.2").tickets[0].ticket
    opened = decrypt_ticket(ticket, master, time_hints=[int(time.time())], expire_hint=21600)
    assert opened.protocol == "TLS1.2"


def test_an_all_zero_key_is_the_weak_key_probes_known_positive(tmp_path):
    path = str(tmp_path / "zero.key")
    write_ticket_key_file("lab", path, [bytes(64)])
    with start_real_server("lab", RealServerConfig(tls=("1.3",), ticket_key_file=path)) as server:
        ticket = openssl_visit(server, "1.3").tickets[0].ticket
    assert decrypt_ticket(ticket, bytes(64), time_hints=[int(time.time())], expire_hint=21600).protocol == "TLS1.3"


# --- rotation, where the server has a timer ----------------------------------------------------------------

@pytest.mark.realservers
def test_caddy_rotation_interval_changes_the_key_name(tmp_path):
    with start_real_server("caddy", RealServerConfig(tls=("1.2",), rotation=2)) as server:
        assert "every 2 s" in server.expected["key.rotation"].value
        before = openssl_visit(server, "1.2").tickets[0].ticket[:16]
        same = openssl_visit(server, "1.2").tickets[0].ticket[:16]
        time.sleep(3.5)
        after = openssl_visit(server, "1.2").tickets[0].ticket[:16]
    assert before == same and after != before


# --- rotation by a new key file and a reload, where that is the server's way --------------------------------

@pytest.mark.realservers
@pytest.mark.parametrize("kind", ["nginx", "apache"])
def test_a_new_key_file_and_a_reload_rotate_the_ticket_key(kind, tmp_path):
    """nginx and Apache change ticket keys only when an operator writes another key file and reloads
    (``key.rotation``): after the reload the new key names the tickets, a ticket made under the old key is
    not accepted (a full handshake, which brings a ticket under the new key), and that one resumes."""
    fmt, path = TICKET_KEY_FORMATS[kind], str(tmp_path / "ticket.key")
    old_keys = write_ticket_key_file(kind, path)
    sessions = [str(tmp_path / f"session-{i}.pem") for i in range(3)]
    with start_real_server(kind, RealServerConfig(tls=("1.2",), ticket_key_file=path)) as server:
        assert server.expected["key.rotation"].value.startswith("never: the key")
        first = openssl_visit(server, "1.2", save_to=sessions[0])
        workers = server.pid, server.process
        new_keys = write_ticket_key_file(kind, path)
        server.reload()
        assert (server.pid, server.process) == workers and server.process.poll() is None  # reloaded, not restarted
        after = openssl_visit(server, "1.2", resume_from=sessions[0], save_to=sessions[1])
        again = openssl_visit(server, "1.2", resume_from=sessions[1], save_to=sessions[2])
    old_name, new_name = fmt.key_name(old_keys[fmt.encrypting]), fmt.key_name(new_keys[fmt.encrypting])
    assert old_name != new_name
    assert [t.ticket[:16] for t in first.tickets] == [old_name]
    assert not after.resumed and [t.ticket[:16] for t in after.tickets] == [new_name], after.output[-1500:]
    assert again.resumed, again.output[-1500:]


@pytest.mark.realservers
def test_lighttpd_reads_a_new_stek_file_at_its_check_on_each_64th_second(tmp_path):
    """lighttpd (mod_openssl) reads ``ssl.stek-file`` again when the epoch second is a multiple of 64 and the
    file's mtime is later than its last load (``mod_openssl_handle_trigger``, whole seconds: a file rewritten
    in the same second as that load is not newer). The new key then names the tickets; the earlier keys stay
    (three in all), so a ticket under the old key still resumes, and is replaced by one under the new key.
    One run takes a minute or two of real time: the check comes when the clock says."""
    kind = "lighttpd-openssl"
    fmt, path = TICKET_KEY_FORMATS[kind], str(tmp_path / "stek")
    old_name = fmt.key_name(write_ticket_key_file(kind, path)[0])
    saved = str(tmp_path / "session.pem")
    with start_real_server(kind, RealServerConfig(tls=("1.2",), ticket_key_file=path)) as server:
        assert server.expected["key.rotation"].value == "when ssl.stek-file changes (checked every 64 s)"
        assert [t.ticket[:16] for t in openssl_visit(server, "1.2", save_to=saved).tickets] == [old_name]
        time.sleep(1.1)  # a later second than lighttpd's load of the first file
        while (int(time.time()) + 3) % 64 < 5:  # not within 3 s before a check or 2 s after: "before" visits need time
            time.sleep(0.5)
        new_name = fmt.key_name(write_ticket_key_file(kind, path)[0])
        names, changed_at = [], None
        deadline = time.time() + 2 * 64 + 5  # the next check, or the one after if lighttpd's loop missed a second
        while time.time() < deadline:
            names.append(openssl_visit(server, "1.2").tickets[0].ticket[:16])
            if names[-1] != old_name:
                changed_at = time.time()
                break
            time.sleep(0.5)
        after = openssl_visit(server, "1.2", resume_from=saved)
    assert changed_at is not None, f"the new STEK file was not read within two checks: {len(names)} visits"
    assert names[-1] == new_name and set(names[:-1]) == {old_name} and len(names) > 2, names
    assert int(changed_at) % 64 < 5, changed_at  # read at a check (64 | epoch second), not when written
    assert after.resumed and [t.ticket[:16] for t in after.tickets] == [new_name], after.output[-1500:]


def test_a_server_without_a_reload_signal_says_so(tmp_path):
    with start_real_server("openssl", RealServerConfig(tls=("1.2",))) as server:
        with pytest.raises(UnsupportedConfig) as caught:
            server.reload()
        assert server.process.poll() is None  # still serving
    assert str(caught.value) == "openssl: no reload signal in this harness (restart it instead)"


# --- errors --------------------------------------------------------------------------------------------

def test_a_missing_server_is_one_line(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ServerMissing) as caught:
        start_real_server("nginx")
    assert str(caught.value) == "nginx: not installed (apt-get install nginx)"


@pytest.mark.parametrize("kind,config,message", [
    ("apache", RealServerConfig(tls=("1.3",), early_data=True), "apache: no 0-RTT (early data) support"),
    ("caddy", RealServerConfig(lifetime=10), "caddy: no setting for the session/ticket lifetime"),
    ("gnutls-serv", RealServerConfig(ticket_key_file="/etc/hostname"), "gnutls-serv: no ticket-key file setting"),
    ("lighttpd-mbedtls", RealServerConfig(tls=("1.3",)), "lighttpd-mbedtls: no TLS 1.3"),
    ("exim", RealServerConfig(session_cache=True), "exim: no TLS 1.2 session-ID cache"),
    ("nginx", RealServerConfig(rotation=60), "nginx: no ticket-key rotation timer to set"),
])
def test_an_unsupported_configuration_is_one_line_naming_server_and_lack(kind, config, message):
    assert unsupported_reason(kind, config).startswith(message)
    with pytest.raises(UnsupportedConfig) as caught:
        start_real_server(kind, config)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


@pytest.mark.realservers
def test_a_server_that_does_not_start_says_why_with_its_log(tmp_path):
    bad = tmp_path / "ticket.key"
    bad.write_bytes(b"too short")  # nginx refuses a key file that is not 48 or 80 bytes
    with pytest.raises(Exception) as caught:
        start_real_server("nginx", RealServerConfig(ticket_key_file=str(bad)), start_timeout=10)
    text = str(caught.value)
    assert text.startswith("nginx (nginx/") and "did not start" in text and "must be 48 or 80 bytes" in text


@pytest.mark.realservers
def test_stop_ends_the_whole_process_group_and_frees_the_port():
    server = start_real_server("nginx")
    workers = [p.pid for p in psutil.Process(server.pid).children(recursive=True)]
    assert workers, "nginx runs a worker process"
    port, folder = server.port, server.folder
    server.stop()
    server.stop()  # idempotent
    for pid in [server.pid, *workers]:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not os.path.exists(folder)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


# --- the scanners: sslyze and testssl.sh against the same servers ---------------------------------------

SCANNED = [pytest.param(kind, name, keywords, id=f"{kind}-{name}", marks=[pytest.mark.realservers])
           for kind in REAL_SERVERS if "1.2" in tls_versions(kind)
           for name, keywords in configurations(kind) if name in ("default", "tickets-off", "tickets-on")]


def audited_facts(server, config) -> dict:
    """``gnutls-lab audit`` (the API the CLI calls) against ``server``: the facts the scanners also measure.

    ``session_id``: every TLS 1.2 session-ID resumption worked (sslyze counts k of 5 likewise); ``ticket``: a
    TLS 1.2 ticket was issued and every offer of it resumed (sslyze's FULLY_SUPPORTED); ``hint``: the lifetime
    hint of the TLS 1.3 tickets when there are any, else of the TLS 1.2 ticket (what testssl.sh prints);
    ``resumes_newest``: resumption by ticket at the newest version (what testssl.sh's "Tickets" tries)."""
    report = audit(server.host, server.port, server_names=server.names[:1], starttls=server.starttls,
                   tls=config.tls, progress=False)
    found = report.findings()
    resumption, lifetime = found["resumption"], found["lifetime"]

    def every(mechanism: str) -> bool:
        row = resumption.get(mechanism)
        return bool(row and row["attempts"] and row["resumed"] == row["attempts"])

    tls13 = lifetime.get("TLS1.3") or {}
    newest = "tls13-psk" if "1.3" in config.tls else "tls12-ticket"
    return {"session_id": every("tls12-session-id"),
            "ticket": bool(resumption.get("tls12-ticket", {}).get("issued")) and every("tls12-ticket"),
            "hint": tls13.get("hint") if tls13.get("hint") is not None else (lifetime.get("TLS1.2") or {}).get("hint"),
            "resumes_newest": bool(resumption.get(newest, {}).get("resumed")),
            "report": report}


@pytest.mark.parametrize("kind,name,keywords", SCANNED)
def test_sslyze_agrees_with_the_expected_resumption(kind, name, keywords, tmp_path):
    """sslyze, the configuration and ``gnutls-lab audit`` against the same server: session-ID resumption and
    ticket resumption, fact by fact, with sslyze's one known disagreement stated."""
    config = make_config(kind, keywords, tmp_path)
    with start_real_server(kind, config) as server:
        found = sslyze_resumption(server.host, server.port, server_name=server.names[0], starttls=server.starttls)
        audited = audited_facts(server, config)
        expected = {k: v.value for k, v in server.expected.items()}
    successes, attempts = found["session_id"]
    assert audited["session_id"] == expected["tls12.session_id_resumes"], audited["report"].findings()["resumption"]
    if kind == "openssl" and expected["tls12.session_id_resumes"]:
        # sslyze closes each connection without close_notify, and s_server then drops the session from its
        # cache (an unclean shutdown makes an OpenSSL session non-resumable): 0 of n, where s_client, which
        # closes cleanly, resumes (test_peers_confirm_what_the_configuration_implies), and so does the audit,
        # whose every connection ends with close_notify (its report's `sent` says so)
        assert attempts >= 1 and successes == 0, found
        assert audited["session_id"] and any("close_notify" in line for line in audited["report"].sent)
    else:
        assert attempts >= 1 and (successes == attempts) == expected["tls12.session_id_resumes"], found
        assert (successes == attempts) == audited["session_id"], (found, audited)
    ticket_ok = expected["tls12.ticket_issued"] and expected["tls12.ticket_resumes"]
    assert (found["ticket"] == "FULLY_SUPPORTED") == ticket_ok, found
    assert (found["ticket"] == "FULLY_SUPPORTED") == audited["ticket"], (found, audited)
    if found["early_data"] is not None and "tls13.max_early_data" in expected:
        assert found["early_data"] == bool(expected["tls13.max_early_data"])


@pytest.mark.parametrize("kind,name,keywords", SCANNED)
def test_testssl_reports_the_expected_lifetime_hint(kind, name, keywords, tmp_path):
    """testssl.sh, the configuration and ``gnutls-lab audit`` against the same server: the lifetime hint and
    resumption by ticket, with testssl's known TLS 1.3 race stated."""
    config = make_config(kind, keywords, tmp_path)
    with start_real_server(kind, config) as server:
        expected = {k: v.value for k, v in server.expected.items()}
        tls13_tickets = bool(expected.get("tls13.tickets_per_handshake"))
        hint = expected.get("tls13.ticket_lifetime") if tls13_tickets else expected.get("tls12.lifetime_hint")
        audited = audited_facts(server, config)
        # testssl's s_client may close before a TLS 1.3 NewSessionTicket arrives (it comes after the handshake,
        # and testssl's s_client reads its standard input from /dev/null). Losing it in the first connection,
        # testssl says "no lifetime advertised" and skips the ticket check ("not supported"); losing it in the
        # resumption check's own first connection, it has nothing to resume with ("not supported" again). So
        # under TLS 1.3 a "not supported" can be the race, a "supported" cannot. And on a loaded machine the
        # check sometimes says "check failed because of connect problem" (5 of 24 servers once, on 2 shared
        # cores). Up to five runs, until one has read the hint (where there is one) and the verdict is settled:
        # "supported" where the audit resumed with a TLS 1.3 ticket, any verdict elsewhere (docs/servers.md).
        race = tls13_tickets and audited["resumes_newest"]
        runs = []
        for _ in range(5):
            runs.append(scan_with_testssl(server.host, server.port, server_name=server.names[0],
                                         starttls=server.starttls))
            read_hint = not tls13_tickets or any(run["lifetime_hint"] is not None for run in runs)
            verdicts = [run["resumption_ticket"] for run in runs
                        if not run["resumption_ticket"].startswith("check failed")]
            if read_hint and ("supported" in verdicts if race else verdicts):
                break
        if race and "supported" not in verdicts:
            # the race in every run: an s_client that waits for the tickets (-ign_eof and a request the server
            # answers) resumes, so testssl's "not supported" is its early close, not the server
            saved = str(tmp_path / "s_client-session.pem")
            first = openssl_visit(server, "1.3", save_to=saved)
            assert first.tickets, first.output[-1500:]
            assert openssl_visit(server, "1.3", resume_from=saved).resumed, (runs, audited)
    seen = {run["lifetime_hint"] for run in runs} - {None}
    assert seen <= {hint}, runs  # whatever testssl reads is the server's value, never another
    if tls13_tickets and not seen:
        # the race, every run: lighttpd mod_openssl's stateful TLS 1.3 tickets were missed five runs in a row
        # (2 shared cores), s_server's in two runs of three. testssl then says there is no lifetime at all:
        assert all(run["ticket_finding"].startswith("no") for run in runs), runs
    elif expected["tls12.ticket_issued"] or tls13_tickets:
        assert seen == {hint}, runs
    else:
        assert not seen, runs
    # the audit reads the hint from the same NewSessionTicket, and never misses it: the lab's client waits
    # for TLS 1.3 tickets after the handshake (ticket_wait), which is where testssl's race loses them
    assert audited["hint"] == (hint if expected["tls12.ticket_issued"] or tls13_tickets else None), \
        (audited["hint"], runs)
    # testssl's "Tickets" resumes at the newest version the server speaks (TLS 1.3 here when on: a PSK from
    # a stateless or a stateful ticket), as the audit's tls13-psk probe does. Its "ID" line is not compared:
    # under TLS 1.3 its `s_client -no_ticket` resumes with TLS 1.3 tickets, not TLS 1.2 session IDs (measured:
    # "supported" for s_server with tickets, "not supported" with -no_ticket, where a TLS 1.2 client resumes
    # by session ID in both)
    assert verdicts, runs  # five runs, each "check failed": not testssl's occasional flake
    if not audited["resumes_newest"]:
        assert set(verdicts) == {"not supported"}, (verdicts, audited)  # no race makes a resumption up
    elif not tls13_tickets:
        assert set(verdicts) == {"supported"}, (verdicts, audited)  # a TLS 1.2 ticket comes in the handshake
    else:
        assert set(verdicts) <= {"supported", "not supported"}, (verdicts, audited)  # the race, shown above
