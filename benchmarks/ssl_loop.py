"""The Python ``ssl`` baseline of ``make bench``: in-process handshakes per second.

The same four modes and the same work per iteration as ``benchmarks/c/handshake_loop.c``,
written with the standard library's ``ssl`` module (OpenSSL underneath) instead of GnuTLS.

Created once per process (not timed): a self-signed ECDSA P-256 certificate generated with
the ``cryptography`` package, with the profile of ``gnutls_lab.LabCertificate`` (written to a temporary directory only because
``SSLContext.load_cert_chain`` reads files; deleted at once), one server and one client
``SSLContext`` pinned to the mode's protocol version (the client does not verify; the
server keeps OpenSSL's default session tickets and ticket key), and, for the resumed modes,
one ``SSLSession`` taken from a full handshake (for TLS 1.3 the client first reads the
pending NewSessionTickets, as ``gnutls_session_get_data2`` does in the C loop).

What one timed iteration does, in every mode:
  1. four ``MemoryBIO``s and two ``SSLObject``s: ``client_ctx.wrap_bio(..., session=...)``
     (``session`` only in the resumed modes) and ``server_ctx.wrap_bio(..., server_side=True)``;
  2. ``do_handshake()`` alternately on client and server, moving the bytes each end wrote to
     the other end's incoming BIO, until both complete (``SSLWantReadError`` means "waiting
     for the peer");
  3. resumed modes only: ``session_reused`` must be true on both ends;
  4. both objects are dropped.
Under TLS 1.3 the server sends OpenSSL's default two NewSessionTickets at the end of its
handshake; the client never reads them in the timed loop, like the C loop.

Usage: python benchmarks/ssl_loop.py --mode MODE|all [--seconds S] [--warmup S]
Output: one JSON object per mode per line:
  {"impl": "ssl", "mode": ..., "handshakes": N, "seconds": ..., "per_second": ...,
   "openssl_version": ..., "negotiated": "TLSv1.3 TLS_AES_256_GCM_SHA384"}
Exit status 1 if any resumed handshake did not resume.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import ssl
import sys
import tempfile
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

MODES = {
    # name: (protocol version, resumed)
    "tls13-full": (ssl.TLSVersion.TLSv1_3, False),
    "tls13-resumed": (ssl.TLSVersion.TLSv1_3, True),
    "tls12-full": (ssl.TLSVersion.TLSv1_2, False),
    "tls12-resumed": (ssl.TLSVersion.TLSv1_2, True),
}


def self_signed_pem() -> tuple[bytes, bytes]:
    """A fresh ECDSA P-256 key and a self-signed certificate for it, both PEM, with the profile of
    ``gnutls_lab.LabCertificate`` (and of the C loop): same subject, DNS names, key usage, basic
    constraints and validity, so every loop's client parses the same kind of certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, "gnutls-lab.test"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "gnutls-lab (lab key)"),
    ])
    now = datetime.datetime.now(datetime.timezone.utc)
    usage = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False,
                          crl_sign=False, encipher_only=False, decipher_only=False)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.DNSName("gnutls-lab.test")]), critical=False)
        .add_extension(usage, critical=True)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def make_contexts(version: ssl.TLSVersion) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(client, server) contexts pinned to one protocol version."""
    certificate_pem, key_pem = self_signed_pem()
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.minimum_version = server.maximum_version = version
    with tempfile.TemporaryDirectory() as directory:
        certificate_path = os.path.join(directory, "cert.pem")
        key_path = os.path.join(directory, "key.pem")
        with open(certificate_path, "wb") as f:
            f.write(certificate_pem)
        with open(key_path, "wb") as f:
            f.write(key_pem)
        server.load_cert_chain(certificate_path, key_path)
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    client.minimum_version = client.maximum_version = version
    return client, server


def connect(client_ctx, server_ctx, session=None):
    """Create both ends and pump the handshake to completion.

    Returns (client, server, client_incoming_bio).
    """
    client_in, client_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    server_in, server_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_ctx.wrap_bio(client_in, client_out, server_side=False, session=session)
    server = server_ctx.wrap_bio(server_in, server_out, server_side=True)
    client_done = server_done = False
    rounds = 0
    while not (client_done and server_done):
        rounds += 1
        if rounds > 64:
            raise RuntimeError("handshake made no progress after 64 rounds")
        if not client_done:
            try:
                client.do_handshake()
                client_done = True
            except ssl.SSLWantReadError:
                pass
            if client_out.pending:
                server_in.write(client_out.read())
        if not server_done:
            try:
                server.do_handshake()
                server_done = True
            except ssl.SSLWantReadError:
                pass
            if server_out.pending:
                client_in.write(server_out.read())
    return client, server, client_in


def capture_session(client_ctx, server_ctx) -> ssl.SSLSession:
    """One full handshake, then the client's resumable session."""
    client, _server, client_in = connect(client_ctx, server_ctx)
    if client.version() == "TLSv1.3":
        # The tickets arrive after the handshake; reading processes them.
        try:
            client.read(1)
        except ssl.SSLWantReadError:
            pass
    session = client.session
    if session is None or not session.has_ticket:
        raise RuntimeError("no session ticket received in the full handshake")
    return session


def run_for(client_ctx, server_ctx, session, seconds: float) -> tuple[int, float, int]:
    """(handshakes, elapsed seconds, resume failures) for a loop of at least `seconds`."""
    count = failures = 0
    start = now = time.perf_counter()
    while now - start < seconds:
        client, server, _ = connect(client_ctx, server_ctx, session)
        if session is not None and not (client.session_reused and server.session_reused):
            failures += 1
        count += 1
        now = time.perf_counter()
    return count, now - start, failures


def run_mode(mode: str, seconds: float, warmup: float) -> tuple[dict, int]:
    version, resumed = MODES[mode]
    client_ctx, server_ctx = make_contexts(version)
    session = capture_session(client_ctx, server_ctx) if resumed else None
    _, _, warmup_failures = run_for(client_ctx, server_ctx, session, warmup)
    count, elapsed, failures = run_for(client_ctx, server_ctx, session, seconds)
    client, _server, _ = connect(client_ctx, server_ctx, session)  # untimed: what was negotiated
    row = {
        "impl": "ssl",
        "mode": mode,
        "handshakes": count,
        "seconds": round(elapsed, 6),
        "per_second": round(count / elapsed, 1),
        "openssl_version": ssl.OPENSSL_VERSION,
        "negotiated": f"{client.version()} {client.cipher()[0]}",
    }
    return row, warmup_failures + failures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", default="all", choices=[*MODES, "all"])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--warmup", type=float, default=0.25)
    args = parser.parse_args(argv)
    status = 0
    for mode in MODES if args.mode == "all" else [args.mode]:
        row, failures = run_mode(mode, args.seconds, args.warmup)
        print(json.dumps(row), flush=True)
        if failures:
            print(f"ssl_loop: {mode}: {failures} handshakes did not resume", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
