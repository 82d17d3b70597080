"""Lab credentials are generated at run time by libgnutls's x509 API."""

from __future__ import annotations

import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gnutls_lab import LabCertificate, UsageError
from gnutls_lab.sessions import PskCredentials


@pytest.mark.parametrize("algorithm, key_type", [("ecdsa", ec.EllipticCurvePublicKey), ("rsa", rsa.RSAPublicKey)])
def test_lab_certificates_are_real_x509(algorithm, key_type):
    cert = LabCertificate(algorithm)
    parsed = x509.load_der_x509_certificate(cert.der)
    assert isinstance(parsed.public_key(), key_type)
    if algorithm == "ecdsa":
        assert parsed.public_key().curve.name == "secp256r1"
    assert "gnutls-lab.test" in parsed.subject.rfc4514_string()
    san = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert x509.load_pem_x509_certificate(cert.pem.encode()).fingerprint(parsed.signature_hash_algorithm) == \
        parsed.fingerprint(parsed.signature_hash_algorithm)


def test_write_files_for_a_real_peer(tmp_path):
    cert = LabCertificate()
    cert_path, key_path = cert.write_files(str(tmp_path))
    assert open(cert_path).read().startswith("-----BEGIN CERTIFICATE-----")
    assert open(key_path).read().startswith("-----BEGIN PRIVATE KEY-----")
    assert os.stat(key_path).st_mode & 0o777 == 0o600


def test_unknown_algorithm_and_secret_free_repr():
    with pytest.raises(UsageError):
        LabCertificate("dsa")
    key = os.urandom(32)
    creds = PskCredentials("server", "alice", key)
    assert key.hex() not in repr(creds) and "redacted" in repr(creds)
    creds.close()
    creds.close()
    with pytest.raises(UsageError):
        PskCredentials("client", "alice")


def test_credentials_shared_by_threads_count_their_sessions():
    """Sessions of 8 threads share one server credentials object. A close() asked for while every thread
    holds a live session waits for the last session of any thread (sessions started meanwhile count in
    too); then the handle is freed and the credentials refuse new sessions, with a UsageError."""
    import threading

    from gnutls_lab import ClientSession, ServerSession, memory_pair, pump
    from gnutls_lab.sessions import CertificateCredentials

    server_credentials, client_credentials = CertificateCredentials(LabCertificate()), CertificateCredentials()
    holding, errors, completed, rounds = threading.Barrier(9), [], [], 40

    def handshakes():
        try:
            for i in range(rounds):
                client_end, server_end = memory_pair()
                with ServerSession(server_credentials, "tls1.3", endpoint=server_end) as server, \
                        ClientSession(client_credentials, "tls1.3", endpoint=client_end) as client:
                    if i == 0:
                        holding.wait(60)  # every thread holds a live session while close() is asked for
                        holding.wait(60)
                    pump(client, server)
                    completed.append(i)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=handshakes) for _ in range(8)]
    for thread in threads:
        thread.start()
    holding.wait(60)
    server_credentials.close()
    assert server_credentials._handle is not None  # 8 live sessions: the close waits
    holding.wait(60)
    for thread in threads:
        thread.join(120)
    # The 8 sessions open at close() time finished their handshakes on the still-live handle; once the
    # count fell to 0 the handle was freed, and a later session of any thread was refused, cleanly.
    assert completed.count(0) == 8
    assert all(isinstance(e, UsageError) and "closed" in str(e) for e in errors)
    assert server_credentials._users == 0 and server_credentials._handle is None
    with pytest.raises(UsageError, match="closed"):
        ServerSession(server_credentials, "tls1.3", endpoint=memory_pair()[1])
