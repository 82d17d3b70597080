"""Captures of real TLS traffic for the wire, observer and linkage tests, made at test time, never stored.

Two real stacks: Python's ``ssl`` (OpenSSL) through MemoryBIOs with a throwaway self-signed
certificate, and libgnutls through ``gnutls_lab.Lab``. Each chunk is what one side wrote in one go, as
a wire tap records it. The fixtures are registered for every test module by tests/conftest.py; the
helpers are imported from here.
"""

from __future__ import annotations

import datetime
import ssl
from typing import NamedTuple

import construct
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gnutls_lab import Lab
from gnutls_lab.formats import _wire as wire

SERVER_NAME = "lab.test"


class Chunk(NamedTuple):
    sender: str
    data: bytes


class Visit(NamedTuple):
    chunks: list
    client: ssl.SSLObject  # the client's SSLObject, closed; .session and .session_reused still work


# --- capture with Python's ssl ----------------------------------------------------------------


@pytest.fixture(scope="session")
def cert_files(tmp_path_factory):
    """A P-256 self-signed certificate for lab.test, made now and deleted with the temp dir."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1)).sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("cert")
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


def server_context(cert_files, version, tickets=True):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*cert_files)
    context.minimum_version = context.maximum_version = version
    if not tickets:  # TLS 1.2: session IDs and the server's session cache only
        context.options |= ssl.OP_NO_TICKET
    return context


def client_context(version):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = context.maximum_version = version
    return context


def python_visit(server_ctx, client_ctx, session=None) -> Visit:
    """One connection between two SSLObjects, recording each ``outgoing.read()`` as a chunk.

    The handshake, one application record from the server (so the client reads the TLS 1.3
    tickets), then close_notify both ways: OpenSSL drops a server session from its cache when a
    connection ends without one.
    """
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_ctx.wrap_bio(c_in, c_out, server_hostname=SERVER_NAME, session=session)
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    chunks = []

    def pump():
        moved = False
        for sender, source, sink in (("client", c_out, s_in), ("server", s_out, c_in)):
            data = source.read()
            if data:
                chunks.append(Chunk(sender, data))
                sink.write(data)
                moved = True
        return moved

    done = {client: False, server: False}
    for _ in range(20):
        for side in (client, server):
            if not done[side]:
                try:
                    side.do_handshake()
                    done[side] = True
                except ssl.SSLWantReadError:
                    pass
        if not pump() and all(done.values()):
            break
    assert all(done.values()), "handshake did not finish"
    server.write(b"hello")
    pump()
    assert client.read(5) == b"hello"
    for side in (client, server):
        try:
            side.unwrap()
        except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
            pass
        pump()
    return Visit(chunks, client)


TLS12, TLS13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3


@pytest.fixture(scope="session")
def openssl_tls12_tickets(cert_files):
    """visit 0 full (ticket T issued in clear), visits 1 and 2 resume with T."""
    server, client = server_context(cert_files, TLS12), client_context(TLS12)
    first = python_visit(server, client)
    return [first, python_visit(server, client, first.client.session),
            python_visit(server, client, first.client.session)]


@pytest.fixture(scope="session")
def openssl_tls12_session_ids(cert_files):
    """Tickets off: visit 0 full (server sets a session ID), visit 1 resumes by offering it."""
    server, client = server_context(cert_files, TLS12, tickets=False), client_context(TLS12)
    first = python_visit(server, client)
    return [first, python_visit(server, client, first.client.session)]


@pytest.fixture(scope="session")
def openssl_tls13(cert_files):
    """visit 0 full; visits 1 and 2 both resume with visit 0's ticket (reuse); visit 3 resumes
    with the ticket visit 2 received (single use)."""
    server, client = server_context(cert_files, TLS13), client_context(TLS13)
    first = python_visit(server, client)
    second = python_visit(server, client, first.client.session)
    third = python_visit(server, client, first.client.session)
    return [first, second, third, python_visit(server, client, third.client.session)]


@pytest.fixture(scope="session")
def openssl_hello_retry(cert_files):
    """The client's key share is X25519, the server takes only P-256: a HelloRetryRequest."""
    server, client = server_context(cert_files, TLS13), client_context(TLS13)
    server.set_ecdh_curve("prime256v1")
    return python_visit(server, client)


@pytest.fixture(scope="session")
def gnutls_tls13():
    """libgnutls: a full handshake, then two resumptions, each with the previous visit's ticket."""
    lab = Lab("1.3")
    visits = [lab.connect(observe=True)]
    for _ in range(2):
        visits.append(lab.connect(resume=visits[-1].session_data, observe=True))
    return visits


@pytest.fixture(scope="session")
def gnutls_tls12():
    lab = Lab("1.2")
    first = lab.connect(observe=True)
    return [first, lab.connect(resume=first.session_data, observe=True)]


@pytest.fixture(scope="session")
def all_taps(openssl_tls12_tickets, openssl_tls12_session_ids, openssl_tls13, openssl_hello_retry,
             gnutls_tls13, gnutls_tls12):
    taps = [v.chunks for v in openssl_tls12_tickets + openssl_tls12_session_ids + openssl_tls13]
    taps.append(openssl_hello_retry.chunks)
    taps += [c.wire for c in gnutls_tls13 + gnutls_tls12]
    return taps


# --- reading taps with the schemas only -------------------------------------------------------


def records_by_sender(chunks) -> dict:
    """Each direction's byte stream cut into records with the schema."""
    out = {}
    for sender in ("client", "server"):
        stream = b"".join(c.data for c in chunks if c.sender == sender)
        out[sender] = (stream, wire.TLSRecordStream.parse(stream))
    return out


def negotiated_tls13(server_records) -> bool:
    """Both stacks start the server's first record with its (first) ServerHello."""
    hello = wire.ServerHello.parse(wire.Handshake.parse(server_records[0].fragment).body)
    return any(str(e.type) == "supported_versions" and e.data.supported_version == 0x0304
               for e in hello.extensions or [])


def clear_handshake_messages(chunks) -> list:
    """(sender, Handshake) of the messages in clear: in TLS 1.2 those before the sender's
    ChangeCipherSpec; in TLS 1.3 every type-22 record (encrypted ones are all type 23)."""
    by_sender = records_by_sender(chunks)
    tls13 = negotiated_tls13(by_sender["server"][1])
    messages = []
    for sender, (_, records) in by_sender.items():
        stream = b""
        for record in records:
            if record.content_type == "change_cipher_spec" and not tls13:
                break
            if record.content_type == "handshake":
                stream += record.fragment
        messages += [(sender, m) for m in wire.HandshakeStream.parse(stream)]
    return messages
