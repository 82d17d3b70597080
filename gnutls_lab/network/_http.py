"""A tiny HTTP/1.1 responder, so that HTTP clients (wget, wget2, curl) finish normally against the lab server.

:func:`serve_http` runs on an established TLS session: it reads each request (request line, headers,
a ``Content-Length`` body of at most 1 MiB if any) and answers ``200 OK`` with a short text body, a
``Content-Length`` and ``Connection: keep-alive`` or ``close`` as the request asked (HTTP/1.1 keeps the
connection open unless told otherwise, HTTP/1.0 closes it unless told otherwise; RFC 9112 section 9.3).
It returns when the client closes, after a response that closes, when the client stays silent for
``idle_timeout`` seconds, or when ``stopping()`` becomes true. A request it cannot read (a malformed
request line or ``Content-Length``, a head over 64 KiB, a body over 1 MiB) ends the connection with a
:class:`~gnutls_lab.errors.GnuTLSLabError`, which the server records as the connection's error.
"""

from __future__ import annotations

import time

from ..errors import GnuTLSLabError

__all__ = ["serve_http", "http_response"]

_MAX_HEAD = 64 * 1024
_MAX_BODY = 1024 * 1024


def http_response(method: str, target: str, keep_alive: bool, number: int) -> bytes:
    """The bytes of one ``200 OK`` answer."""
    text = f"gnutls-lab: response {number} to {method} {target}\n".encode()
    head = ("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(text)}\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n")
    body = b"" if method == "HEAD" else text  # a HEAD answer announces the length it does not send
    return head.encode() + body


def _parse_head(head: bytes) -> tuple[str, str, str, dict]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split()
    if len(parts) != 3:
        raise GnuTLSLabError(f"not an HTTP request line: {lines[0][:60]!r}")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return parts[0].upper(), parts[1], parts[2].upper(), headers


def _content_length(headers: dict) -> int:
    text = headers.get("content-length", "0") or "0"
    if not (text.isascii() and text.isdigit()):  # ASCII digits only (RFC 9110 section 8.6): no sign, no list
        raise GnuTLSLabError(f"not a Content-Length: {text[:20]!r}")
    if len(text) > 7 or int(text) > _MAX_BODY:
        raise GnuTLSLabError(f"HTTP request body of {text[:20]} bytes: the lab server reads at most 1 MiB")
    return int(text)


def _keep_alive(version: str, headers: dict) -> bool:
    tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
    if version == "HTTP/1.0":
        return "keep-alive" in tokens
    return "close" not in tokens


def serve_http(session, *, idle_timeout: float = 2.0, stopping=lambda: False) -> int:
    """Answer requests on ``session`` (a lab :class:`~gnutls_lab.sessions._session.Session`); the count answered."""
    buffer = b""
    answered = 0
    idle_since = time.monotonic()
    while not stopping() and time.monotonic() - idle_since < idle_timeout:
        end = buffer.find(b"\r\n\r\n")
        if end >= 0:
            method, target, version, headers = _parse_head(buffer[:end])
            length = _content_length(headers)
            if len(buffer) >= end + 4 + length:
                buffer = buffer[end + 4 + length:]
                keep = _keep_alive(version, headers)
                answered += 1
                session.send(http_response(method, target, keep, answered))
                if not keep:
                    return answered
                continue
        elif len(buffer) > _MAX_HEAD:
            raise GnuTLSLabError("HTTP request head longer than 64 KiB")
        try:
            data = session.recv()
        except GnuTLSLabError:
            return answered  # a reset or a fatal alert: the client is gone
        if data == b"":
            return answered
        if data:
            buffer += data
            idle_since = time.monotonic()
    return answered
