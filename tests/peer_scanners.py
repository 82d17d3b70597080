"""Real peers that measure a server's resumption from outside, parsed into plain results.

- :func:`openssl_visit`: one ``openssl s_client -msg`` connection (``-sess_in`` to resume, ``-sess_out``
  to save); the NewSessionTicket messages it received, read from ``-msg``'s hex dump (lifetime, ticket,
  ``max_early_data_size``), whether it resumed, whether early data was accepted.
- :func:`gnutls_cli_resumes`: ``gnutls-cli --resume``: did the second connection resume?
- :func:`sslyze_resumption`: sslyze (PyPI) ``--resum``: TLS 1.2 resumption by session ID and by ticket, k of
  n, and ``--early_data``.
- :func:`testssl_ticket_hint`: testssl.sh (Debian) ``-S --jsonfile``: the ticket lifetime hint it reports and
  its "Session Resumption" verdicts.

Each runs the real program with a bounded timeout against 127.0.0.1 only; a missing program is one
line (``testssl: not installed (apt-get install testssl.sh)``) and the test fails. Used by
``tests/test_real_servers.py``; the audit's tests can compare ``gnutls-lab audit`` with the same results.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

LOOPBACK = "127.0.0.1"


class PeerMissing(AssertionError):
    """A peer program is not installed: one line naming the package."""


def require(program: str, package: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise PeerMissing(f"{program}: not installed (apt-get install {package})")
    return path


@dataclass
class NewTicket:
    """One NewSessionTicket as the client received it (RFC 5077 3.3 / RFC 8446 4.6.1)."""

    lifetime: int  # TLS 1.2 ticket_lifetime_hint or TLS 1.3 ticket_lifetime, seconds
    ticket: bytes
    max_early_data: int = 0  # TLS 1.3 early_data extension, 0 when absent


@dataclass
class Visit:
    protocol: str
    resumed: bool
    tickets: list = field(default_factory=list)
    early_data: str | None = None  # "accepted", "rejected" or None when none was sent
    output: str = ""

    @property
    def key_names(self) -> set:
        return {ticket.ticket[:16] for ticket in self.tickets}


_MSG_HEADER = re.compile(r"^<<< TLS 1\.[23], Handshake \[length [0-9a-f]+\], NewSessionTicket\s*$")
_HEX_LINE = re.compile(r"^    ((?:[0-9a-f]{2} ?)+)\s*$")


def _received_tickets(output: str, protocol: str) -> list:
    tickets, lines = [], output.splitlines()
    for i, line in enumerate(lines):
        if not _MSG_HEADER.match(line):
            continue
        data = bytearray()
        for hex_line in lines[i + 1:]:
            m = _HEX_LINE.match(hex_line)
            if not m:
                break
            data += bytes.fromhex(m.group(1))
        body = bytes(data[4:])  # after msg_type and the 3-byte length
        if protocol == "TLSv1.3":
            lifetime = int.from_bytes(body[0:4], "big")
            nonce_len = body[8]
            pos = 9 + nonce_len
            ticket_len = int.from_bytes(body[pos:pos + 2], "big")
            ticket = body[pos + 2:pos + 2 + ticket_len]
            pos += 2 + ticket_len
            ext_end = pos + 2 + int.from_bytes(body[pos:pos + 2], "big")
            pos += 2
            early = 0
            while pos + 4 <= ext_end:
                ext_type = int.from_bytes(body[pos:pos + 2], "big")
                ext_len = int.from_bytes(body[pos + 2:pos + 4], "big")
                if ext_type == 42 and ext_len == 4:  # early_data
                    early = int.from_bytes(body[pos + 4:pos + 8], "big")
                pos += 4 + ext_len
            tickets.append(NewTicket(lifetime, bytes(ticket), early))
        else:
            lifetime = int.from_bytes(body[0:4], "big")
            ticket_len = int.from_bytes(body[4:6], "big")
            tickets.append(NewTicket(lifetime, bytes(body[6:6 + ticket_len])))
    return tickets


def openssl_visit(server, tls: str, *, resume_from: str | None = None, save_to: str | None = None,
                  server_name: str | None = None, no_ticket: bool = False, early_data: bytes | None = None,
                  timeout: float = 20.0) -> Visit:
    """One ``openssl s_client`` connection to ``server`` (a RealServer); what it saw.

    The request the server answers and closes after (``server.request``) is sent with ``-ign_eof``, so
    every TLS 1.3 ticket sent after the handshake is read; a server that does not close (``request`` is
    None) gets its standard input closed after a second instead. ``no_ticket``: offer no ticket (TLS 1.2
    session-ID resumption only). ``early_data``: sent as 0-RTT with ``resume_from``.
    """
    openssl = require("openssl", "openssl")
    name = server_name or server.names[0]
    command = [openssl, "s_client", "-connect", f"{LOOPBACK}:{server.port}", "-servername", name,
               "-tls1_3" if tls == "1.3" else "-tls1_2", "-msg"]
    if server.starttls:
        command += ["-starttls", server.starttls]
    if save_to:
        command += ["-sess_out", save_to]
    if resume_from:
        command += ["-sess_in", resume_from]
    if no_ticket:
        command.append("-no_ticket")
    request = server.request(name)
    with tempfile.TemporaryDirectory(prefix="peer-") as scratch:
        if early_data is not None:
            early_path = os.path.join(scratch, "early")
            with open(early_path, "wb") as f:
                f.write(early_data)
            command += ["-early_data", early_path]
        if request is not None:
            command.append("-ign_eof")
            process = subprocess.run(command, input=request, capture_output=True, timeout=timeout)
            stdout = process.stdout
        else:  # the server never closes: keep standard input open a moment for the tickets, then end it
            with open(os.path.join(scratch, "out"), "w+b") as out:
                child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT)
                try:
                    child.wait(timeout=1.5)
                except subprocess.TimeoutExpired:
                    pass
                child.stdin.close()
                try:
                    child.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
                out.seek(0)
                stdout = out.read()
    output = stdout.decode(errors="replace")
    found = re.search(r"^(New|Reused), (TLSv1\.[23])", output, re.M)
    if not found:
        raise AssertionError(f"openssl s_client to {server.kind} ({name}, TLS {tls}) completed no handshake:\n"
                             f"{output[-1500:]}")
    early = None
    if early_data is not None:
        early = "accepted" if "Early data was accepted" in output else "rejected"
    return Visit(found.group(2), found.group(1) == "Reused", _received_tickets(output, found.group(2)), early,
                 output)


def gnutls_cli_resumes(server, tls: str, server_name: str | None = None, *, wait_for_ticket: bool = True,
                       timeout: float = 30.0) -> bool:
    """``gnutls-cli --resume``: True when its second connection says it resumed.

    Under TLS 1.3 it waits for a ticket (``--waitresumption``) unless ``wait_for_ticket`` is False: a
    server that sends none would keep it waiting forever."""
    cli = require("gnutls-cli", "gnutls-bin")
    version = "+VERS-TLS1.3" if tls == "1.3" else "+VERS-TLS1.2"
    command = [cli, "--insecure", "--resume", "--waitresumption", "-p", str(server.port),
               "--sni-hostname", server_name or server.names[0], "--priority", f"NORMAL:-VERS-ALL:{version}"]
    if tls != "1.3" or not wait_for_ticket:
        command.remove("--waitresumption")
    if server.starttls:
        command.append(f"--starttls-proto={server.starttls}")
    command.append(LOOPBACK)
    result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    output = result.stdout + result.stderr
    if "Handshake was completed" not in output:
        raise AssertionError(f"gnutls-cli completed no handshake with {server.kind}:\n{output[-1500:]}")
    return "This is a resumed session" in output


def sslyze_resumption(host: str, port: int, *, server_name: str | None = None, starttls: str | None = None,
                      early_data: bool = True, timeout: float = 180.0) -> dict:
    """sslyze's ``--resum`` (and ``--early_data``) against ``host:port``: its JSON findings, flattened.

    ``{"session_id": (successful, attempted), "ticket": "FULLY_SUPPORTED"|..., "ticket_counts": (k, n),
    "session_id_result": ..., "early_data": bool | None}``. sslyze tests TLS 1.2 resumption only.
    """
    if host != LOOPBACK:
        raise AssertionError("peer scanners run against 127.0.0.1 only")
    import importlib.util

    if importlib.util.find_spec("sslyze") is None:
        raise PeerMissing("sslyze: not installed (pip install sslyze; it is in the test extras)")
    command = [sys.executable, "-m", "sslyze", "--resum", "--json_out", "-"]
    if early_data:
        command.append("--early_data")
    if server_name:
        command += ["--sni", server_name]
    if starttls:
        command += ["--starttls", starttls]
    command.append(f"{host}:{port}")
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    try:
        document = json.loads(result.stdout[result.stdout.index("{"):])
    except ValueError:
        raise AssertionError(f"sslyze wrote no JSON (exit {result.returncode}): {result.stderr[-800:]}") from None
    scan = document["server_scan_results"][0]
    if scan.get("scan_status") != "COMPLETED":
        raise AssertionError(f"sslyze could not scan {host}:{port}: {scan.get('connectivity_error_trace')}")
    commands = scan["scan_result"]
    resum = commands["session_resumption"]
    if resum.get("status") != "COMPLETED":
        raise AssertionError(f"sslyze --resum failed: {resum.get('error_trace') or resum.get('error_reason')}")
    r = resum["result"]
    early = commands.get("tls_1_3_early_data", {})
    return {
        "session_id_result": r["session_id_resumption_result"],
        "session_id": (r["session_id_successful_resumptions_count"], r["session_id_attempted_resumptions_count"]),
        "ticket": r["tls_ticket_resumption_result"],
        "ticket_counts": (r["tls_ticket_successful_resumptions_count"], r["tls_ticket_attempted_resumptions_count"]),
        "early_data": early.get("result", {}).get("supports_early_data") if early.get("status") == "COMPLETED"
        else None,
    }


def testssl_ticket_hint(host: str, port: int, *, server_name: str | None = None, starttls: str | None = None,
                        timeout: float = 300.0) -> dict:
    """testssl.sh ``-S`` (server defaults) against ``host:port``, from its ``--jsonfile``.

    ``{"lifetime_hint": seconds or None, "ticket_finding": text, "resumption_ticket": text,
    "resumption_id": text, "session_id_support": text}``: the findings ``TLS_session_ticket``,
    ``sessionresumption_ticket``, ``sessionresumption_ID`` and ``SSL_sessionID_support`` as it wrote them.
    """
    if host != LOOPBACK:
        raise AssertionError("peer scanners run against 127.0.0.1 only")
    testssl = shutil.which("testssl") or shutil.which("testssl.sh")
    if testssl is None:
        raise PeerMissing("testssl: not installed (apt-get install testssl.sh)")
    with tempfile.TemporaryDirectory(prefix="testssl-") as scratch:
        report = os.path.join(scratch, "report.json")
        command = [testssl, "--quiet", "--warnings", "off", "--color", "0", "--nodns", "none", "--ip", host,
                   "-S", "--jsonfile", report]
        if starttls:
            command += ["-t", starttls]
        command.append(f"{server_name or host}:{port}")
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=scratch)
        if not os.path.exists(report):
            raise AssertionError(f"testssl wrote no JSON (exit {result.returncode}): {result.stdout[-800:]}")
        with open(report) as f:
            findings = {item["id"]: item["finding"] for item in json.load(f)}
    ticket = findings.get("TLS_session_ticket", "")
    hint = re.search(r"valid for (\d+) seconds", ticket)
    return {
        "lifetime_hint": int(hint.group(1)) if hint else None,
        "ticket_finding": ticket,
        "resumption_ticket": findings.get("sessionresumption_ticket", ""),
        "resumption_id": findings.get("sessionresumption_ID", ""),
        "session_id_support": findings.get("SSL_sessionID_support", ""),
    }
