"""Transports under a lab session: in-memory pipes with a wire tap, or a real socket.

Theory of operation. libgnutls never touches a socket here: each session gets push/pull/pull-timeout
callbacks (``gnutls_transport_set_*_function``) that land in one :class:`Endpoint`. An in-process
client/server pair shares two byte buffers: what the client pushes is appended to the server's inbox
and the other way round. Pull never blocks: with nothing buffered it answers ``EAGAIN`` so that
``gnutls_handshake`` returns ``GNUTLS_E_AGAIN`` and the pump (``session.pump``) runs the other side.
That is why both ends can be driven to completion from one thread, with no sleeps and no timing races.

The pull-timeout callback is what ``gnutls_session_get_data2`` uses to wait for a TLS 1.3
NewSessionTicket. It answers at once ("data ready" or "timeout"), and records the milliseconds the
library asked to wait, so the wait is visible instead of slow.

The wire tap records every chunk a side pushes, as :class:`WireChunk` (sender, bytes): exactly what a
passive observer on the wire sees, before any parsing.

Unobserved connections (no tap wanted) take a faster road: :func:`socket_pair` gives each session
one end of a non-blocking ``AF_UNIX`` socket pair that libgnutls reads and writes itself
(``gnutls_transport_set_int2``), so no Python runs per record. Only the pull-timeout callback (and, to
see tickets one by one, a gated pull) stays in Python; both find the endpoint by its descriptor.
"""

from __future__ import annotations

import errno
import os
import select
import socket
from typing import NamedTuple

__all__ = [
    "WireChunk", "Endpoint", "MemoryEndpoint", "SocketEndpoint", "SocketPairEndpoint", "memory_pair", "socket_pair",
]


class WireChunk(NamedTuple):
    """Bytes one side wrote to the transport, as a passive observer sees them."""

    sender: str  # "client" or "server"
    data: bytes

    def __repr__(self) -> str:
        head = self.data[:8].hex(" ")
        return f"WireChunk({self.sender}, {len(self.data)} bytes: {head}{' …' if len(self.data) > 8 else ''})"


class Endpoint:
    """One side's view of a transport. Subclasses implement push/pull/wait.

    ``tap``: a list to append :class:`WireChunk` to, or None (observation off).
    ``waits``: the pull-timeout requests the library made, in milliseconds.
    """

    sender = "client"
    memory = False  # True: the session uses the inlined in-memory callbacks (see _callbacks.py)
    native = False  # True: libgnutls does the I/O itself on ``self.fd`` (see SocketPairEndpoint)

    def __init__(self, sender: str, tap: list | None = None):
        self.sender = sender
        self.tap = tap
        self.waits: list[int] = []
        # Set by the session that adopts this endpoint (transport errno, errors from callbacks).
        self.session_ptr = None
        self.owner = None

    def push(self, data: bytes) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    def pull_into(self, buffer, size: int) -> int:  # pragma: no cover - interface
        """Copy at most ``size`` bytes into ``buffer``; return the count, 0 at EOF, -EAGAIN."""
        raise NotImplementedError

    def wait(self, milliseconds: int) -> int:  # pragma: no cover - interface
        """1 if data can be pulled, 0 on timeout, -1 on error."""
        raise NotImplementedError

    def has_data(self) -> bool:  # pragma: no cover - interface
        """Bytes can be pulled right now (no waiting, nothing recorded)."""
        raise NotImplementedError


class MemoryEndpoint(Endpoint):
    """One side of an in-process pipe pair."""

    memory = True

    def __init__(self, sender: str, tap: list | None = None):
        super().__init__(sender, tap)
        self.inbox = bytearray()
        self.peer: MemoryEndpoint | None = None
        self.closed = False
        # When set to an int, pull delivers at most that many more bytes (used to feed one TLS
        # record at a time, e.g. to see each NewSessionTicket separately).
        self.record_gate: int | None = None

    def wait(self, milliseconds: int) -> int:
        self.waits.append(milliseconds)
        if self.record_gate is not None:
            return 1 if self.record_gate and self.inbox else 0
        return 1 if self.inbox else 0

    def has_data(self) -> bool:
        if self.record_gate is not None:
            return bool(self.record_gate and self.inbox)
        return bool(self.inbox)

    def pending_records(self) -> list[bytes]:
        """The complete TLS records waiting in the inbox (not consumed)."""
        return _split_records(bytes(self.inbox))


def memory_pair(tap: list | None = None) -> tuple[MemoryEndpoint, MemoryEndpoint]:
    """A connected (client, server) pair of in-memory endpoints sharing one wire tap."""
    client, server = MemoryEndpoint("client", tap), MemoryEndpoint("server", tap)
    client.peer, server.peer = server, client
    return client, server


def _split_records(data: bytes) -> list[bytes]:
    records, offset = [], 0
    while offset + 5 <= len(data):
        length = int.from_bytes(data[offset + 3: offset + 5], "big")
        if offset + 5 + length > len(data):
            break
        records.append(data[offset: offset + 5 + length])
        offset += 5 + length
    return records


class SocketPairEndpoint(Endpoint):
    """One end of a non-blocking ``AF_UNIX`` socket pair, read and written by libgnutls itself.

    ``registry`` maps each open descriptor to its endpoint: the pull-timeout (and gated pull)
    callbacks receive the descriptor as libgnutls's transport pointer and look the endpoint up there.
    """

    native = True
    registry: dict = {}

    def __init__(self, fd: int, sender: str):
        super().__init__(sender, None)
        self.fd = fd
        self.record_gate: int | None = None
        self.closed = False
        SocketPairEndpoint.registry[fd] = self

    def wait(self, milliseconds: int) -> int:
        # In-process, nothing can arrive while this thread waits: answer now, record the request.
        self.waits.append(milliseconds)
        return 1 if self.has_data() else 0

    def has_data(self) -> bool:
        if self.closed:
            return False
        if self.record_gate is not None and not self.record_gate:
            return False
        readable, _, _ = select.select([self.fd], [], [], 0)
        return bool(readable)

    def _peek(self) -> bytes:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, fileno=os.dup(self.fd))
        try:
            return sock.recv(1 << 20, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return b""
        finally:
            sock.close()

    def pending_records(self) -> list[bytes]:
        """The complete TLS records waiting on the socket (peeked, not consumed)."""
        return _split_records(self._peek())

    def read_gated(self, size: int) -> bytes | None:
        """At most ``size`` bytes and no more than the gate allows; None if nothing can be read now."""
        if self.record_gate is not None:
            size = min(size, self.record_gate)
        if size <= 0:
            return None
        try:
            data = os.read(self.fd, size)
        except BlockingIOError:
            return None
        if self.record_gate is not None:
            self.record_gate -= len(data)
        return data

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            SocketPairEndpoint.registry.pop(self.fd, None)
            os.close(self.fd)


def socket_pair() -> tuple[SocketPairEndpoint, SocketPairEndpoint]:
    """A connected (client, server) pair over a non-blocking ``AF_UNIX`` socket pair (no tap)."""
    from ._lib import load

    ffi, libc = load()[0], load()[2]
    fds = ffi.new("int[2]")
    kind = socket.SOCK_STREAM | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC
    if libc.socketpair(socket.AF_UNIX, kind, 0, fds) != 0:
        raise OSError(ffi.errno, os.strerror(ffi.errno))
    return SocketPairEndpoint(fds[0], "client"), SocketPairEndpoint(fds[1], "server")


class SocketEndpoint(Endpoint):
    """A blocking TCP socket under a session (``gnutls-lab serve``/``connect``), still tapped."""

    def __init__(self, sock: socket.socket, sender: str, tap: list | None = None, timeout: float = 10.0):
        super().__init__(sender, tap)
        self.sock = sock
        self.sock.settimeout(timeout)

    def push(self, data) -> int:
        try:
            self.sock.sendall(data)
        except OSError as exc:
            return -(exc.errno or errno.EIO)
        if self.tap is not None:
            self.tap.append(WireChunk(self.sender, bytes(data)))
        return len(data)

    def pull_into(self, buffer, size: int, memmove=None) -> int:
        try:
            chunk = self.sock.recv(size)
        except socket.timeout:
            return -errno.EAGAIN
        except OSError as exc:
            return -(exc.errno or errno.EIO)
        if chunk:
            memmove(buffer, chunk, len(chunk))
            if self.tap is not None:
                peer = "server" if self.sender == "client" else "client"
                self.tap.append(WireChunk(peer, chunk))
        return len(chunk)

    def wait(self, milliseconds: int) -> int:
        self.waits.append(milliseconds)
        timeout = None if milliseconds >= 0xFFFFFFFE else milliseconds / 1000.0
        try:
            readable, _, _ = select.select([self.sock], [], [], timeout)
        except (OSError, ValueError):
            return -1
        return 1 if readable else 0

    def has_data(self) -> bool:
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return bool(readable)
