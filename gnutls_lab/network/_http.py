"""A tiny HTTP/1.1 responder, so that HTTP clients (wget, wget2, curl, git) finish normally against the lab server.

:class:`HttpResponder` runs on an established TLS session: it reads each request (request line,
headers, a ``Content-Length`` body of at most 1 MiB if any) and answers. Without a folder every
request gets ``200 OK`` and a short text body naming it; with ``root`` (a
:class:`~gnutls_lab.network._static.StaticFolder`) a ``GET``/``HEAD`` gets the file the path names
(``404`` when there is none, ``405`` for other methods), which is enough for ``git clone`` of a
dumb-HTTP repository. Each answer has a ``Content-Length`` and ``Connection: keep-alive`` or
``close``: as the request asked (HTTP/1.1 keeps the connection open unless told otherwise, HTTP/1.0
closes it unless told otherwise; RFC 9112 section 9.3), and ``close`` on the ``close_after``-th answer,
after which the server closes (so that a client that would reuse one connection for everything has to
connect, and resume, again).

Bounds: the client has ``idle_timeout`` seconds to start a request and ``request_timeout`` seconds
to send all of it (its head and body, however slowly it trickles them); a request it cannot read (a
malformed request line or ``Content-Length``, a head over 64 KiB, a body over 1 MiB) ends the
connection with a :class:`~gnutls_lab.errors.GnuTLSLabError`, which the server records as the
connection's error. :attr:`HttpResponder.answered` counts the requests answered so far, also when
the connection later fails.
"""

from __future__ import annotations

import time

from ..errors import GnuTLSLabError

__all__ = ["HttpResponder", "serve_http", "http_response"]

_MAX_HEAD = 64 * 1024
_MAX_BODY = 1024 * 1024
_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed"}


def http_response(method: str, target: str, keep_alive: bool, number: int) -> bytes:
    """The bytes of one ``200 OK`` answer without a folder: a line naming the request."""
    text = f"gnutls-lab: response {number} to {method} {target}\n".encode()
    return _head(200, "text/plain", len(text), keep_alive) + (b"" if method == "HEAD" else text)


def _head(status: int, content_type: str, length: int, keep_alive: bool) -> bytes:
    # A HEAD answer announces the length it does not send.
    return (f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {length}\r\nConnection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n").encode()


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


class HttpResponder:
    """Answers the requests on one session; :meth:`run` until the connection ends. ``answered``: the count.

    ``session``: a lab :class:`~gnutls_lab.sessions._session.Session`; ``endpoint``: its socket endpoint
    when the total request deadline is to be enforced while the client trickles bytes (its
    ``deadline`` is set per request); ``stopping``: a callable, true when the server stops.
    """

    def __init__(self, session, *, idle_timeout: float = 2.0, request_timeout: float = 10.0,
                 close_after: int | None = None, root=None, endpoint=None, stopping=lambda: False):
        self.session = session
        self.idle_timeout = idle_timeout
        self.request_timeout = request_timeout
        self.close_after = close_after
        self.root = root
        self.endpoint = endpoint
        self.stopping = stopping
        self.answered = 0

    def run(self) -> int:
        buffer = b""
        request_started = None  # when the first byte of the request being read arrived
        idle_since = time.monotonic()
        while not self.stopping():
            now = time.monotonic()
            if request_started is None and now - idle_since >= self.idle_timeout:
                return self.answered  # no new request: an idle keep-alive connection ends quietly
            if request_started is not None and now - request_started >= self.request_timeout:
                raise GnuTLSLabError(f"HTTP request not complete after {self.request_timeout} s")
            end = buffer.find(b"\r\n\r\n")
            if end >= 0:
                method, target, version, headers = _parse_head(buffer[:end])
                length = _content_length(headers)
                if len(buffer) >= end + 4 + length:
                    buffer = buffer[end + 4 + length:]
                    keep = _keep_alive(version, headers)
                    if self.close_after is not None and self.answered + 1 >= self.close_after:
                        keep = False
                    self._answer(method, target, keep)
                    self.answered += 1
                    if not keep:
                        return self.answered
                    request_started = time.monotonic() if buffer else None
                    idle_since = time.monotonic()
                    self._set_deadline(request_started)
                    continue
            elif len(buffer) > _MAX_HEAD:
                raise GnuTLSLabError("HTTP request head longer than 64 KiB")
            try:
                data = self.session.recv()
            except GnuTLSLabError:
                if self.endpoint is not None and self.endpoint.expired:
                    raise GnuTLSLabError(f"HTTP request not complete after {self.request_timeout} s") from None
                return self.answered  # a reset or a fatal alert: the client is gone
            if data == b"":
                return self.answered
            if data:
                if request_started is None:
                    request_started = time.monotonic()
                    self._set_deadline(request_started)
                buffer += data
        return self.answered

    def _set_deadline(self, request_started: float | None) -> None:
        if self.endpoint is not None:
            self.endpoint.deadline = None if request_started is None else request_started + self.request_timeout

    def _answer(self, method: str, target: str, keep: bool) -> None:
        """Send one answer; the request deadline does not cover it (a large file to a slow reader)."""
        self._set_deadline(None)
        if self.root is None:
            self.session.send(http_response(method, target, keep, self.answered + 1))
            return
        if method not in ("GET", "HEAD"):
            text = b"gnutls-lab: only GET and HEAD are served from a folder\n"
            self.session.send(_head(405, "text/plain", len(text), keep) + text)
            return
        found = self.root.open(target)
        if found is None:
            text = b"gnutls-lab: no such file\n"
            self.session.send(_head(404, "text/plain", len(text), keep) + (b"" if method == "HEAD" else text))
            return
        try:
            self.session.send(_head(200, found.content_type, found.size, keep))
            if method == "GET":
                for chunk in found.chunks():
                    self.session.send(chunk)
        finally:
            found.close()


def serve_http(session, *, idle_timeout: float = 2.0, stopping=lambda: False, **options) -> int:
    """Answer requests on ``session`` until the connection ends; the count answered (see :class:`HttpResponder`)."""
    return HttpResponder(session, idle_timeout=idle_timeout, stopping=stopping, **options).run()
