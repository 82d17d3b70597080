"""Lab credentials are generated at run time by libgnutls's x509 API."""

from __future__ import annotations

import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gnutls_lab import LabCertificate, PskCredentials, UsageError


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
