"""gnutls_lab/peers.py: real server processes start on 127.0.0.1, stop completely, and explain failures."""

from __future__ import annotations

import socket

import pytest

from gnutls_lab import LabCertificate
from gnutls_lab.errors import UsageError
from gnutls_lab.peers import ExternalServer, free_port

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

    code = ("import os\nfrom gnutls_lab.peers import ExternalServer\n"
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
