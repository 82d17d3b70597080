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
"""

from __future__ import annotations

import errno
import select
import socket
from typing import NamedTuple

__all__ = ["WireChunk", "Endpoint", "MemoryEndpoint", "SocketEndpoint", "memory_pair"]


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

    def __init__(self, sender: str, tap: list | None = None):
        self.sender = sender
        self.tap = tap
        self.waits: list[int] = []
        # Set by the session that adopts this endpoint (transport errno, errors from callbacks).
        self.session_ptr = None
        self.owner = None
        self.closed = False
        self.peer = None

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

    # The logic below also runs, inlined, in _callbacks.memory_vec_push/memory_pull; these methods serve a
    # subclass that sets ``memory = False`` to hook its own code into the transport.
    def push(self, data) -> int:
        peer = self.peer
        if peer is None or peer.closed:
            return -errno.EPIPE
        chunk = bytes(data)
        peer.inbox += chunk
        if self.tap is not None:
            self.tap.append(WireChunk(self.sender, chunk))
        return len(chunk)

    def pull_into(self, buffer, size: int, memmove) -> int:
        inbox = self.inbox
        available = len(inbox)
        if self.record_gate is not None:
            available = min(available, self.record_gate)
        if not available:
            return 0 if self.peer is None or self.peer.closed else -errno.EAGAIN
        n = min(size, available)
        memmove(buffer, inbox, n)
        del inbox[:n]
        if self.record_gate is not None:
            self.record_gate -= n
        return n

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
