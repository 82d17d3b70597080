"""gnutls_lab/peers.py: real server processes start on 127.0.0.1, stop completely, and explain failures."""

from __future__ import annotations

import socket

import pytest

from gnutls_lab import LabCertificate
from gnutls_lab.errors import UsageError
from gnutls_lab.network._peers import (ExternalServer, free_port, openssl_client_session, openssl_session_certificate,
                              openssl_session_fields, openssl_session_text)

pytestmark = [pytest.mark.peers, pytest.mark.timeout(60)]


@pytest.fixture(scope="module")
def cert_files(tmp_path_factory):
    return LabCertificate().write_files(str(tmp_path_factory.mktemp("lab-cert")))


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.parametrize("kind", ExternalServer.KINDS)
@pytest.mark.parametrize("tls", ["1.3", "1.2"])
def test_external_server_starts_and_stops_without_leftovers(cert_files, kind, tls):
    with ExternalServer(kind, *cert_files, tls) as server:
        process = server.process
        assert process.poll() is None and port_open(server.port)
        assert f"127.0.0.1:{server.port}" in repr(server) and "running" in repr(server)
    assert process.poll() is not None  # reaped, not left behind
    assert not port_open(server.port)
    assert "stopped" in repr(server)
    server.stop()  # idempotent


def test_external_server_refuses_what_it_cannot_run(cert_files, tmp_path):
    with pytest.raises(UsageError, match="unknown server"):
        ExternalServer("nginx", *cert_files)
    with pytest.raises(UsageError, match="tls must be"):
        ExternalServer("openssl", *cert_files, "1.1")
    missing = ExternalServer("openssl", str(tmp_path / "no-cert.pem"), str(tmp_path / "no-key.pem"))
    with pytest.raises(UsageError, match="openssl did not start"):
        missing.start()
    assert missing.process is None


def test_free_port_is_bindable_on_loopback():
    port = free_port()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


def test_a_server_dies_with_the_process_that_started_it(cert_files):
    """Even a test process that crashes leaves no peer behind (PR_SET_PDEATHSIG)."""
    import os
    import subprocess
    import sys
    import time

    code = ("import os\nfrom gnutls_lab.network._peers import ExternalServer\n"
            f"s = ExternalServer('openssl', {cert_files[0]!r}, {cert_files[1]!r}).start()\n"
            "print(s.process.pid, s.port, flush=True)\nos._exit(0)  # gone without stop()\n")
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    pid, port = map(int, child.stdout.split())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}") and not _is_zombie(pid):
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{pid}") or _is_zombie(pid), f"server {pid} outlived its parent"
    assert not port_open(port)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _listening_addresses(port: int) -> list[str]:
    """Local addresses (hex, as /proc/net shows them) of the sockets listening on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.read().splitlines()[1:]:
                fields = line.split()
                address, port_hex = fields[1].rsplit(":", 1)
                if int(port_hex, 16) == port and fields[3] == "0A":  # 0A = LISTEN
                    found.append(address)
    return found


@pytest.mark.parametrize("kind", ExternalServer.KINDS)
def test_real_peers_listen_on_loopback_only(cert_files, kind):
    """gnutls-serv has no address option (it would take 0.0.0.0 and ::): the bind shim keeps it on
    127.0.0.1; openssl s_server is told -accept 127.0.0.1:PORT."""
    with ExternalServer(kind, *cert_files, "1.3") as server:
        assert _listening_addresses(server.port) == ["0100007F"]  # 127.0.0.1, little-endian hex


# --- openssl s_client -sess_out, read back with sess_id -------------------------------------------

HTTP_REQUEST = b"GET / HTTP/1.0\r\n\r\n"  # s_server -www answers it, then closes the connection


def _pem_to_der(pem_file: str) -> bytes:
    import ssl

    with open(pem_file) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


@pytest.mark.parametrize("tls", ["1.3", "1.2"])
def test_openssl_client_session_saves_the_last_ticket(cert_files, tmp_path, tls):
    import hashlib

    session_file = str(tmp_path / "session.pem")
    with ExternalServer("openssl", *cert_files, tls, extra_args=("-www",)) as server:
        output = openssl_client_session("127.0.0.1", server.port, tls, session_file, send=HTTP_REQUEST)
    assert f"New, TLSv{tls}" in output and "HTTP/1.0 200 ok" in output
    fields = openssl_session_fields(openssl_session_text(session_file))
    assert fields["Protocol"] == f"TLSv{tls}" and fields["Cipher"].startswith("TLS_" if tls == "1.3" else "ECDHE-")
    ticket = fields["TLS session ticket"]
    assert len(ticket) > 100 and fields["TLS session ticket lifetime hint"] == "7200 (seconds)"
    if tls == "1.3":  # two tickets came after the handshake; the file holds the second
        arrivals = output.split("Post-Handshake New Session Ticket arrived:")
        assert len(arrivals) == 3
        printed = [openssl_session_fields(a.split("\n---", 1)[0])["TLS session ticket"] for a in arrivals[1:]]
        assert printed[0] != printed[1] == ticket
        assert bytes.fromhex(fields["Session-ID"]) == hashlib.sha256(ticket).digest()
        assert len(bytes.fromhex(fields["Resumption PSK"])) == 48  # TLS_AES_256_GCM_SHA384
    else:
        assert len(bytes.fromhex(fields["Master-Key"])) == 48
    assert openssl_session_certificate(session_file) == _pem_to_der(cert_files[0])


def test_openssl_session_fields_without_a_ticket(cert_files, tmp_path):
    """A TLS 1.2 server without tickets: the session ID is the server's, the ticket entry is empty."""
    session_file = str(tmp_path / "session.pem")
    with ExternalServer("openssl", *cert_files, "1.2", extra_args=("-www", "-no_ticket")) as server:
        openssl_client_session("127.0.0.1", server.port, "1.2", session_file, send=HTTP_REQUEST)
    text = openssl_session_text(session_file)
    fields = openssl_session_fields(text)
    assert fields["TLS session ticket"] == b"" and "TLS session ticket:" not in text
    assert len(bytes.fromhex(fields["Session-ID"])) == 32 and fields["Verify return code"].startswith("18 ")


def test_openssl_client_session_against_a_lab_server_keeps_its_own_timeout(tmp_path):
    """A lab server that closes after an idle timeout also lets s_client read its tickets. OpenSSL's
    Timeout is the client's own 7200 s, not the server's lifetime hint (notebook 02 relies on it)."""
    import ssl
    import threading

    from gnutls_lab.network._server import LabServer

    session_file = str(tmp_path / "session.pem")
    with LabServer(tls="1.3", lifetime=3600, idle_timeout=0.2) as server:
        thread = threading.Thread(target=server.serve_forever, kwargs={"max_connections": 1})
        thread.start()
        try:
            openssl_client_session("127.0.0.1", server.port, "1.3", session_file)
        finally:
            server.stop()
            thread.join(timeout=10)
        assert [record.resumed for record in server.served] == [False]
        certificate_pem = server.certificate.pem
    fields = openssl_session_fields(openssl_session_text(session_file))
    assert fields["TLS session ticket lifetime hint"] == "3600 (seconds)" and fields["Timeout"] == "7200 (sec)"
    assert openssl_session_certificate(session_file) == ssl.PEM_cert_to_DER_cert(certificate_pem)


def test_openssl_client_session_gives_up_on_a_server_that_stays_open(cert_files, tmp_path):
    import time

    with ExternalServer("openssl", *cert_files, "1.3") as server:  # echo mode: never closes first
        started = time.monotonic()
        with pytest.raises(UsageError, match="did not close the connection within 1.0 s"):
            openssl_client_session("127.0.0.1", server.port, "1.3", str(tmp_path / "s.pem"), timeout=1.0)
        assert time.monotonic() - started < 5
        assert server.process.poll() is None  # the server carries on; s_client was killed


def test_openssl_client_session_refuses_what_it_should_not_do(tmp_path):
    path = str(tmp_path / "s.pem")
    with pytest.raises(UsageError, match="tls must be"):
        openssl_client_session("127.0.0.1", 443, "1.1", path)
    with pytest.raises(UsageError, match="not a loopback address"):
        openssl_client_session("192.0.2.1", 443, "1.3", path)
    (tmp_path / "s.pem").write_text("left over from an earlier run")  # must not pass for this session
    with pytest.raises(UsageError, match="openssl s_client to 127.0.0.1:.* failed"):
        openssl_client_session("127.0.0.1", free_port(), "1.3", path)  # nobody listens
    assert not (tmp_path / "s.pem").exists()


def test_openssl_helpers_name_the_missing_program(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no openssl
    message = "openssl not found: install it with `apt-get install openssl`"
    with pytest.raises(UsageError, match=message):
        openssl_client_session("127.0.0.1", 443, "1.3", str(tmp_path / "s.pem"))
    with pytest.raises(UsageError, match=message):
        openssl_session_certificate(str(tmp_path / "s.pem"))
