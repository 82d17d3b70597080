"""STARTTLS for SMTP (RFC 3207): the plaintext exchange before a mail server's TLS handshake.

Mail servers are where GnuTLS servers live (Exim links GnuTLS on Debian), and they speak TLS only after
a short plaintext dialogue on port 25 or 587::

    S: 220 mail.example ESMTP ...           (the greeting)
    C: EHLO client.example
    S: 250-mail.example ... 250 STARTTLS    (its extensions, STARTTLS among them)
    C: STARTTLS
    S: 220 ready to start TLS
       ... the TLS handshake on the same TCP connection ...

:func:`smtp_client_starttls` runs the client's half on a connected socket, :func:`smtp_server_starttls`
the server's half (the lab server with ``starttls="smtp"``). Both read line by line with a deadline,
refuse lines longer than RFC 5321's 512 octets (a reply line, CRLF included) and say in one line what the
peer answered when it was not what SMTP promises. Nothing else of SMTP is spoken: after TLS the client
sends ``QUIT`` only if asked (the audit just closes).
"""

from __future__ import annotations

import socket
import time

from ..errors import UsageError

__all__ = ["STARTTLS_PROTOCOLS", "smtp_client_starttls", "smtp_server_starttls", "starttls_client"]

STARTTLS_PROTOCOLS = ("smtp",)
CLIENT_NAME = "gnutls-lab.invalid"  # RFC 2606 .invalid: a name that says it is not a real host
_MAX_LINE = 512  # RFC 5321 4.5.3.1.5: a reply line is at most 512 octets, CRLF included
_MAX_LINES = 100  # a multi-line reply longer than this is not an SMTP server's EHLO answer


class _LineReader:
    """Lines from a socket, each ending in LF, with one deadline for the whole exchange."""

    def __init__(self, sock: socket.socket, deadline: float, peer: str):
        self.sock, self.deadline, self.peer = sock, deadline, peer
        self.buffer = b""

    def line(self) -> str:
        while b"\n" not in self.buffer:
            if len(self.buffer) > _MAX_LINE:
                raise UsageError(f"{self.peer} sent a line longer than {_MAX_LINE} bytes: not SMTP")
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise UsageError(f"{self.peer} did not answer in time during the SMTP STARTTLS exchange")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(1024)
            except socket.timeout:
                continue
            except OSError as exc:
                raise UsageError(f"{self.peer} closed the SMTP exchange: {exc.strerror or exc}") from None
            if not chunk:
                raise UsageError(f"{self.peer} closed the connection during the SMTP STARTTLS exchange")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        if len(line) + 1 > _MAX_LINE:
            raise UsageError(f"{self.peer} sent a line longer than {_MAX_LINE} bytes: not SMTP")
        return line.rstrip(b"\r").decode("ascii", "replace")

    def reply(self) -> tuple[int, list[str]]:
        """One SMTP reply: its code and its text lines (``250-a``, ``250-b``, ``250 c`` → 250, [a, b, c])."""
        lines = []
        for _ in range(_MAX_LINES):
            line = self.line()
            if len(line) < 3 or not line[:3].isdigit() or (len(line) > 3 and line[3] not in " -"):
                raise UsageError(f"{self.peer} answered {line[:60]!r}, not an SMTP reply")
            lines.append(line[4:])
            if len(line) == 3 or line[3] == " ":
                return int(line[:3]), lines
        raise UsageError(f"{self.peer} sent a reply of more than {_MAX_LINES} lines: not SMTP")


def smtp_client_starttls(sock: socket.socket, peer: str, timeout: float = 10.0) -> list[str]:
    """The client's side, up to the point where TLS starts; returns what was sent (for the audit's note).

    Raises :class:`UsageError` in one line when the server is not an SMTP server, does not offer
    STARTTLS, or refuses it. The server's greeting must arrive first (RFC 5321 3.1).
    """
    reader = _LineReader(sock, time.monotonic() + timeout, peer)
    sent: list[str] = []

    def send(command: str) -> None:
        sock.sendall(command.encode("ascii") + b"\r\n")
        sent.append(command)

    code, _ = reader.reply()
    if code != 220:
        raise UsageError(f"{peer} greeted with SMTP code {code}, not 220: it does not accept mail sessions now")
    send(f"EHLO {CLIENT_NAME}")
    code, extensions = reader.reply()
    if code != 250:
        raise UsageError(f"{peer} answered EHLO with SMTP code {code}, not 250")
    if not any(line.split(" ")[0].upper() == "STARTTLS" for line in extensions[1:]):
        raise UsageError(f"{peer} does not offer STARTTLS in its EHLO reply (it offers: "
                         f"{', '.join(line.split(' ')[0] for line in extensions[1:]) or 'nothing'})")
    send("STARTTLS")
    code, text = reader.reply()
    if code != 220:
        raise UsageError(f"{peer} refused STARTTLS with SMTP code {code}: {' '.join(text)[:80]}")
    if reader.buffer:
        # RFC 3207 5: nothing may follow the 220 before the handshake; bytes here would be an injection
        raise UsageError(f"{peer} sent data after its STARTTLS reply, before the TLS handshake (RFC 3207 5)")
    return sent


def smtp_server_starttls(sock: socket.socket, peer: str, name: str = "gnutls-lab", timeout: float = 10.0) -> None:
    """The server's side: greet, answer EHLO (offering STARTTLS), accept STARTTLS. ``QUIT`` ends it."""
    reader = _LineReader(sock, time.monotonic() + timeout, peer)
    sock.sendall(f"220 {name} ESMTP gnutls-lab (STARTTLS only)\r\n".encode("ascii"))
    for _ in range(8):
        command = reader.line().strip()
        verb = command.split(" ")[0].upper()
        if verb in ("EHLO", "HELO"):
            sock.sendall(f"250-{name} greets you\r\n250 STARTTLS\r\n".encode("ascii"))
        elif verb == "STARTTLS":
            sock.sendall(b"220 2.0.0 ready to start TLS\r\n")
            return
        elif verb == "QUIT":
            sock.sendall(b"221 2.0.0 bye\r\n")
            raise UsageError(f"{peer} quit before STARTTLS")
        else:
            sock.sendall(b"530 5.7.0 must issue a STARTTLS command first\r\n")
    raise UsageError(f"{peer} sent 8 commands without STARTTLS")


def starttls_client(protocol: str | None, sock: socket.socket, peer: str, timeout: float = 10.0) -> list[str]:
    """Run ``protocol``'s client side (None: nothing); the commands sent."""
    if protocol is None:
        return []
    if protocol != "smtp":
        raise UsageError(f"unknown STARTTLS protocol {protocol!r}: use one of {', '.join(STARTTLS_PROTOCOLS)}")
    return smtp_client_starttls(sock, peer, timeout)
