"""analysis/_ticket_audit.py and _audit_tracking.py: guessable keys, secrets in clear, repeating keystreams,
layout fingerprints, and tracking periods from a measured policy.

GnuTLS tickets are real (lab servers with a known master key). The other layouts have no server on this
machine that takes a chosen key, so their tickets are built here exactly as their sources build them
(formats/_server_tickets.py names each), around a real session secret; the audit tests run the same code
against openssl s_server's real tickets. The tracking model is checked against run_experiment, the
computation of notebook 04, on the lab server.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gnutls_lab import Lab, library_info
from gnutls_lab.analysis import AuditedTicket, KnownSecret, decode, decrypt_ticket, run_experiment, tls13_ticket_psk
from gnutls_lab.analysis._audit_tracking import TrackingPolicy, tracking_window
from gnutls_lab.analysis._ticket_audit import find_keystream_reuse, find_plain_secrets, fingerprint, try_weak_keys
from gnutls_lab.errors import UsageError
from gnutls_lab.formats._server_tickets import GoTicket, MbedTlsTicket, OpenSslTicket, WolfSslTicket


def lab_ticket(tls: str, master: bytes) -> AuditedTicket:
    """A real GnuTLS ticket from a lab server keyed with ``master``, with the secret the client knows."""
    with Lab(tls, ticket_key=master).connect() as conn:
        data = decode(conn.session_data)
        if tls == "1.3":
            secret = KnownSecret("resumption_master_secret", data.tls13.resumption_master_secret)
        else:
            secret = KnownSecret("master_secret", conn.client.master_secret())
    return AuditedTicket(data.ticket, "TLS1.3" if tls == "1.3" else "TLS1.2", 0, 0.0, (secret,),
                         issued_unix=time.time())


def state_with(secret: bytes) -> bytes:
    """An inner state that holds ``secret`` among other bytes, as every implementation's does."""
    return b"\x03\x03\x13\x02" + os.urandom(7) + secret + os.urandom(21)


def openssl_ticket(aes: bytes, mac_key: bytes, secret: bytes, name: bytes = bytes(16)) -> bytes:
    """ssl/statem/statem_srvr.c:construct_stateless_ticket: AES-CBC with PKCS#7, then HMAC-SHA256."""
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(state_with(secret)) + padder.finalize()
    encryptor = Cipher(algorithms.AES(aes), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    mac = hmac.new(mac_key, name + iv + ciphertext, hashlib.sha256).digest()
    return OpenSslTicket.build({"key_name": name, "IV": iv, "encrypted_state": ciphertext, "mac": mac})


def as_audited(ticket: bytes, secret: bytes, protocol: str = "TLS1.2") -> AuditedTicket:
    return AuditedTicket(ticket, protocol, 0, 0.0, (KnownSecret("master_secret", secret),), issued_unix=time.time())


SECRET = os.urandom(48)


def test_psk_of_a_ticket_follows_rfc_8448():
    rms = bytes.fromhex("7df235f2031d2a051287d02b0241b0bfdaf86cc856231f2d5aba46c434ec196c")
    psk = tls13_ticket_psk(rms, b"\x00\x00", "sha256")
    assert psk.hex() == "4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3"
    assert "redacted" in repr(psk)
    assert len(tls13_ticket_psk(os.urandom(48), b"\x01", "sha384")) == 48


@pytest.mark.parametrize("tls", ["1.3", "1.2"])
def test_an_all_zero_gnutls_master_key_opens_real_tickets(tls):
    ticket = lab_ticket(tls, bytes(64))
    hits = try_weak_keys([ticket])
    assert [(h.layout, h.key_label, h.what) for h in hits] == [("gnutls", "all-zero", "decrypted")]
    kind = "resumption_master_secret" if tls == "1.3" else "master_secret"
    assert hits[0].secret_kind == kind and hits[0].reveals["protocol"] == f"TLS{tls}"
    assert "redacted" in repr(hits[0].reveals.get("master_secret", hits[0].reveals.get("resumption_master_secret")))
    assert fingerprint([ticket.ticket], {"gnutls"}).best.confidence == "certain"


def test_a_counting_gnutls_master_key_is_found_and_a_random_one_is_not():
    counting = bytes(range(64))
    assert [h.key_label for h in try_weak_keys([lab_ticket("1.3", counting)])] == ["counting 00 01 02 ..."]
    assert try_weak_keys([lab_ticket("1.3", os.urandom(64)), lab_ticket("1.2", os.urandom(64))]) == []


def test_openssl_layout_with_an_all_zero_key_file_is_opened_and_its_mac_reproduced():
    ticket = as_audited(openssl_ticket(bytes(32), bytes(32), SECRET), SECRET)
    hits = {h.what: h for h in try_weak_keys([ticket])}
    assert set(hits) == {"mac", "decrypted"}
    assert hits["decrypted"].secret_kind == "master_secret" and hits["decrypted"].role == "AES-256-CBC key"
    assert hits["mac"].role.startswith("HMAC-SHA256")


def test_openssl_layout_keys_split_from_an_nginx_key_file_are_found():
    """An 80-byte nginx key file of counting bytes: name 0-15, HMAC 16-47, AES 48-79 (ngx_ssl_session_ticket_keys)."""
    material = bytes(range(80))
    ticket = as_audited(openssl_ticket(material[48:80], material[16:48], SECRET, material[:16]), SECRET)
    hits = {h.what: h for h in try_weak_keys([ticket])}
    assert hits["decrypted"].key_label == "counting 00 01 02 ... (nginx 80-byte key file)"  # AES = bytes 30..4f
    assert hits["mac"].key_label == "counting 10 11 12 ..."  # the HMAC part is a counting key by itself


def test_openssl_layout_with_random_keys_is_not_opened():
    assert try_weak_keys([as_audited(openssl_ticket(os.urandom(32), os.urandom(32), SECRET), SECRET)]) == []


def test_mbedtls_and_go_layouts_with_weak_keys_are_opened():
    iv, name = os.urandom(12), b"\x00\x01\x02\x03"
    state = state_with(SECRET)
    length = (len(state) + 0).to_bytes(2, "big")
    sealed = AESGCM(bytes(32)).encrypt(iv, state, name + iv + length)
    mbed = MbedTlsTicket.build({"key_name": name, "IV": iv, "encrypted_state": sealed[:-16], "tag": sealed[-16:]})
    hashed = hashlib.sha512(b"\xff" * 32).digest()  # Go's ticketKeyFromBytes of an all-0xff key
    go_iv = os.urandom(16)
    encryptor = Cipher(algorithms.AES(hashed[16:32]), modes.CTR(go_iv)).encryptor()
    body = go_iv + encryptor.update(state) + encryptor.finalize()
    go = GoTicket.build({"IV": go_iv, "encrypted_state": body[16:],
                         "mac": hmac.new(hashed[32:48], body, hashlib.sha256).digest()})
    hits = try_weak_keys([as_audited(mbed, SECRET), as_audited(go, SECRET, "TLS1.3")])
    assert {(h.layout, h.key_label, h.secret_kind) for h in hits} == {
        ("mbedtls", "all-zero", "master_secret"), ("go", "all-0xff", "master_secret")}


def test_go_before_1_21_shows_its_key_name_and_a_weak_key_opens_it():
    """crypto/tls/ticket.go (Go 1.20): key name = SHA-512(key)[:16], AES-128-CTR, HMAC-SHA256 over the rest."""
    hashed = hashlib.sha512(bytes(32)).digest()
    iv = os.urandom(16)
    state = state_with(SECRET) + b"x"  # CTR: no padding, any length
    encryptor = Cipher(algorithms.AES(hashed[16:32]), modes.CTR(iv)).encryptor()
    body = hashed[:16] + iv + encryptor.update(state) + encryptor.finalize()
    ticket = OpenSslTicket.build({"key_name": hashed[:16], "IV": iv, "encrypted_state": body[32:],
                                  "mac": hmac.new(hashed[32:48], body, hashlib.sha256).digest()})
    hits = try_weak_keys([as_audited(ticket, SECRET, "TLS1.3")])
    assert [(h.layout, h.key_label, h.secret_kind) for h in hits] == [("go-legacy", "all-zero", "master_secret")]
    assert fingerprint([ticket], {"go-legacy"}).best.layout == "go-legacy"
    random_name = [OpenSslTicket.build({"key_name": b"K" * 16, "IV": os.urandom(16), "encrypted_state": os.urandom(n),
                                        "mac": os.urandom(32)}) for n in (101, 117)]
    assert fingerprint(random_name).best.layout == "go-legacy"  # a key name, and a ciphertext of no block size


def test_a_secret_in_clear_is_found_in_a_real_decrypted_gnutls_state():
    """A ticket that is the server's state unencrypted (what a broken server sends) holds the secret in clear."""
    ticket = lab_ticket("1.2", bytes(64))
    plaintext = decrypt_ticket(ticket.ticket, bytes(64), tls13=False).plaintext
    found = find_plain_secrets([AuditedTicket(plaintext, "TLS1.2", 3, 0.0, ticket.secrets)])
    assert [(f.index, f.kind) for f in found] == [(3, "master_secret")] and found[0].offset > 0
    assert find_plain_secrets([ticket]) == []  # encrypted, it does not


def test_a_repeated_keystream_shows_in_two_tickets():
    key, nonce = os.urandom(16), os.urandom(16)
    secrets = [os.urandom(48), os.urandom(48)]
    prefix = os.urandom(11)

    def ctr(nonce_used, secret):
        encryptor = Cipher(algorithms.AES(key), modes.CTR(nonce_used)).encryptor()
        return encryptor.update(prefix + secret + bytes(20)) + encryptor.finalize()

    same = [AuditedTicket(ctr(nonce, s), "TLS1.2", i, 0.0, (KnownSecret("master_secret", s),)) for i, s in
            enumerate(secrets)]
    assert [(r.first, r.second, r.offset) for r in find_keystream_reuse(same)] == [(0, 1, 11)]
    fresh = [AuditedTicket(ctr(os.urandom(16), s), "TLS1.2", i, 0.0, (KnownSecret("master_secret", s),))
             for i, s in enumerate(secrets)]
    assert find_keystream_reuse(fresh) == []


def test_fingerprint_of_real_gnutls_tickets_and_of_built_ones():
    lab = Lab("1.3")
    tickets = []
    for _ in range(3):
        with lab.connect() as conn:
            tickets.append(decode(conn.session_data).ticket)
    gnutls = fingerprint(tickets)
    assert (gnutls.best.layout, gnutls.best.confidence, gnutls.shared_prefix) == ("gnutls", "strong", 16)
    assert fingerprint(tickets[:1]).best.confidence == "likely"  # one ticket: no key name seen shared
    name = os.urandom(16)
    wolf = [WolfSslTicket.build({"key_name": name, "IV": os.urandom(16), "encrypted_state": os.urandom(n),
                                 "mac": os.urandom(32)}) for n in (100, 120)]
    assert fingerprint(wolf).best.layout == "wolfssl"
    openssl = [openssl_ticket(os.urandom(32), os.urandom(32), SECRET, name) for _ in range(2)]
    assert (fingerprint(openssl).best.layout, fingerprint(openssl).best.confidence) == ("openssl", "likely")
    stateful = fingerprint([os.urandom(32) for _ in range(3)])
    assert stateful.best.layout == "stateful"
    assert fingerprint([]).best is None and fingerprint([os.urandom(77), os.urandom(90)]).best.layout == "go"


# --- tracking periods: the model against notebook 04's computation -------------------------------------

@pytest.mark.parametrize("mechanism,k,reissue", [
    ("tls13-psk", 1, True), ("tls13-psk", None, True), ("tls12-ticket", None, False), ("tls12-ticket", 1, False),
    ("tls12-session-id", None, False), ("tls12-session-id", 1, False)])
def test_tracking_model_agrees_with_the_experiment(mechanism, k, reissue):
    """Lifetime 600 s, a visit every 70 s, 30 visits: the model's tracking period is run_experiment's.

    One case differs on GnuTLS before 3.8.1 only: the fake clock does not move a 3.7 client's ticket ages,
    so in the experiment it offers an expired TLS 1.3 ticket (refused, and shown once more); on the real
    clock, which is what an audit measures, 3.7.9 drops it as 3.8 does, as the model assumes."""
    lifetime, gap, visits = 600, 70, 30
    summary = run_experiment(mechanism=mechanism, visits=visits, max_reuse=k, gap=gap, lifetime=lifetime).summary()
    key = "max_tracking_seconds" if mechanism == "tls12-session-id" else "ticket_max_tracking_seconds"
    window = tracking_window(TrackingPolicy(mechanism, lifetime, reissue=reissue, reissued_lifetime="remaining"),
                             "keeps" if k is None else "single-use", gap=gap, horizon=(visits - 1) * gap)
    expected = summary[key]
    if mechanism == "tls13-psk" and k is None and library_info().version_tuple < (3, 8, 1):
        expected -= gap
    assert window.seconds == expected, window.explanation
    assert window.unbounded == (expected == summary["duration_seconds"])


def test_tracking_model_facts():
    week = tracking_window(TrackingPolicy("tls13-psk", 604800, reissue=True), "keeps")
    assert week.seconds >= 604800 - week.gap and not week.unbounded
    assert tracking_window(TrackingPolicy("tls12-ticket", 300, reissue=True), "single-use").unbounded
    single = tracking_window(TrackingPolicy("tls13-psk", 7200, reuse_accepted=False), "keeps")
    assert single.seconds == single.gap  # a ticket shown twice (once refused) links a pair
    with pytest.raises(UsageError):
        TrackingPolicy("tls11", 10)
    with pytest.raises(UsageError):
        tracking_window(TrackingPolicy("tls13-psk", 10), "sometimes")
