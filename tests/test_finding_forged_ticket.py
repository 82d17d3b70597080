"""findings/forged-ticket-crash still holds against the installed libgnutls: a TLS 1.2 ticket whose state
was changed, then encrypted and MACed again with the server's key, kills the server's process.

Like tests/test_findings.py: builds the standalone C program with gcc and pkg-config, imports nothing
from gnutls_lab (it runs in a bare rootfs), and fails with "fixed in GnuTLS <version>" the day a
release fixes it. The lab server's own defence is tested in tests/test_server_tickets.py.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

REPRO = Path(__file__).resolve().parent.parent / "findings" / "forged-ticket-crash" / "repro.c"

CASES = {
    "tls12-ncerts-1": "died in server gnutls_handshake (SIGSEGV)",
    "tls12-nocsp-ffffffff": "died in server gnutls_handshake (SIGSEGV)",
    "tls12-ext-id-ffffffff": "died in server gnutls_handshake (SIGABRT)",
}


@pytest.fixture(scope="module")
def output(tmp_path_factory):
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "gnutls"], check=True, capture_output=True,
                           text=True).stdout
    exe = tmp_path_factory.mktemp("finding") / "forged-ticket-crash"
    subprocess.run(["gcc", "-Wall", "-o", str(exe), str(REPRO), *shlex.split(flags)], check=True,
                   capture_output=True, text=True)
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}"
    version = re.match(r"GnuTLS (\S+)", run.stdout)
    assert version, run.stdout
    return run.stdout, version.group(1)


def _case(out: str, name: str) -> str:
    line = re.search(rf"^CASE {re.escape(name)}: (.*)$", out, re.M)
    assert line, f"no line for {name}:\n{out}"
    return line.group(1)


@pytest.mark.parametrize("control", ["control-tls12", "control-tls13"])
def test_a_reencrypted_unchanged_ticket_resumes(output, control):
    out, _ = output
    assert _case(out, control) == "handshake=0(ok),resumed end=exited normally", out


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_forged_tls12_ticket_kills_the_server(output, name):
    out, version = output
    line = _case(out, name)
    if not line.startswith("died"):
        pytest.fail(f"fixed in GnuTLS {version}: update findings/forged-ticket-crash and findings/README.md "
                    f"({name}: {line})\n{out}")
    assert line == CASES[name], f"{name} now ends differently: {line}\n{out}"
    assert "FINDING forged_ticket_crash: yes" in out
