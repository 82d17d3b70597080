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
passive observer on the wire sees, before any parsing. A tap is a list; over a real socket it is a
:class:`WireTap`, which keeps at most :data:`MAX_TAP_BYTES` (a server that streams application data
would otherwise fill the memory: 385 MB in one second over loopback) and counts what it did not keep.

Two implementations of the in-memory pipe behave the same: :class:`MemoryEndpoint` keeps the inbox in a
``bytearray`` and moves bytes in Python callbacks; :class:`NativeMemoryEndpoint` keeps it in C
(``_memio.c``, built at install time when a compiler is present) and hands libgnutls C functions, so a
handshake never calls into Python to move bytes. :func:`memory_pair` picks the C pipe when it is built;
its wire tap is recorded in C and moved into the Python list after each call into libgnutls.
"""

from __future__ import annotations

import errno
import select
import socket
import sys
import time

from ..binding import WireChunk, native_pipe, native_pipe_status
from ..errors import UsageError

__all__ = ["WireChunk", "WireTap", "MAX_TAP_BYTES", "Endpoint", "MemoryEndpoint", "NativeMemoryEndpoint",
           "SocketEndpoint", "memory_pair"]

#: What a :class:`WireTap` keeps of one connection by default: a handshake with its tickets takes a few
#: KB (a long certificate chain some tens), so 1 MiB keeps every handshake whole.
MAX_TAP_BYTES = 1 << 20


class WireTap(list):
    """A wire tap (a list of :class:`WireChunk`) that keeps at most ``limit`` bytes.

    It keeps the chunks that fit, in order; from the first chunk that does not fit on, it counts chunks
    and bytes (``dropped_chunks``, ``dropped_bytes``) instead of keeping them, so what it holds is always
    a prefix of the conversation. ``capped`` says whether anything was left out.
    """

    def __init__(self, limit: int = MAX_TAP_BYTES):
        super().__init__()
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise UsageError(f"a wire tap limit is a number of bytes, 0 or more, not {limit!r}")
        self.limit = limit
        self.kept_bytes = 0
        self.dropped_bytes = 0
        self.dropped_chunks = 0

    def append(self, chunk) -> None:
        size = len(chunk.data)
        if self.dropped_chunks or self.kept_bytes + size > self.limit:
            self.dropped_chunks += 1
            self.dropped_bytes += size
            return
        self.kept_bytes += size
        super().append(chunk)

    @property
    def capped(self) -> bool:
        return self.dropped_chunks > 0

    def __repr__(self) -> str:
        cut = f", capped: {self.dropped_bytes} bytes in {self.dropped_chunks} chunks not kept" if self.capped else ""
        return f"<WireTap {len(self)} chunks, {self.kept_bytes} of at most {self.limit} bytes{cut}>"


class Endpoint:
    """One side's view of a transport. Subclasses implement push/pull/wait.

    ``tap``: a list to append :class:`WireChunk` to, or None (observation off).
    ``waits``: the pull-timeout requests the library made, in milliseconds.
    """

    sender = "client"
    memory = False  # True: the session uses the inlined in-memory callbacks (see binding/callbacks.py)
    native = False  # True: the session uses the C pipe's functions (see binding/native.py)

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
        from ..formats import split_records  # construct loads with the formats layer: only when asked

        return split_records(bytes(self.inbox))[0]


class NativeMemoryEndpoint(MemoryEndpoint):
    """One side of an in-process pipe pair whose bytes live in C (``_memio.c``).

    Made by :func:`memory_pair`. Same behaviour and same Python interface as :class:`MemoryEndpoint`,
    except that ``inbox`` is a read-only copy. The wire tap is kept in C too; the session moves it into
    ``tap`` (:meth:`sync_tap`) after each call into libgnutls, so the list is complete whenever Python
    can look at it.
    """

    memory = False
    native = True

    def __init__(self, sender: str, pipe, pair, index: int, tap: list | None = None):
        # Plain attributes only (no super().__init__): the C struct is already in its initial state,
        # and a lab connection makes two of these.
        self.sender = sender
        self.tap = tap
        self.waits: list[int] = []
        self.session_ptr = self.owner = self.peer = None
        self._pipe, self._pair = pipe, pair  # the pair's C block is freed when both ends are gone
        self._c = pair.end + index

    # The C struct holds the state the C functions read; these properties keep Python's view in step.
    @property
    def closed(self) -> bool:
        return bool(self._c.closed)

    @closed.setter
    def closed(self, value: bool) -> None:
        c = self._c
        c.closed = 1 if value else 0
        if value:
            c.owner = self._pipe.NULL  # its session's handle is about to go

    @property
    def record_gate(self) -> int | None:
        gate = self._c.gate
        return None if gate < 0 else gate

    @record_gate.setter
    def record_gate(self, value: int | None) -> None:
        self._c.gate = -1 if value is None else max(0, int(value))

    @property
    def inbox(self) -> bytes:
        c = self._c
        return self._pipe.ffi.buffer(c.data + c.start, c.end - c.start)[:] if c.end > c.start else b""

    def sync_tap(self) -> None:
        """Move the chunks the C tap recorded (by either side) into ``tap``, in order."""
        log = self._pair.log
        size = log.size
        if not size or self.tap is None:
            return
        raw = self._pipe.ffi.buffer(log.data, size)[:]
        log.size = 0
        from ..formats import split_tap_log  # construct loads with the formats layer: only when observing

        append = self.tap.append
        for from_server, chunk in split_tap_log(raw, sys.byteorder):
            append(WireChunk("server" if from_server else "client", chunk))

    def push(self, data) -> int:
        peer = self._c.peer
        if peer.closed or self._c.closed:
            return -errno.EPIPE
        chunk = bytes(data)
        n = self._pipe.lib.memio_append(peer, chunk, len(chunk))
        if n >= 0 and self.tap is not None:
            self.sync_tap()
            self.tap.append(WireChunk(self.sender, chunk))
        return n if n >= 0 else -errno.ENOMEM

    def pull_into(self, buffer, size: int, memmove=None) -> int:
        if not self._pipe.lib.memio_available(self._c):
            # As MemoryEndpoint: end of stream once either side's session is closed.
            return 0 if self.peer is None or self._c.peer.closed else -errno.EAGAIN
        return self._pipe.lib.memio_pull(self._c, buffer, size)

    def wait(self, milliseconds: int) -> int:
        self.waits.append(milliseconds)
        return 1 if self._pipe.lib.memio_available(self._c) else 0

    def has_data(self) -> bool:
        return bool(self._pipe.lib.memio_available(self._c))


def memory_pair(tap: list | None = None, native: bool | None = None) -> tuple[MemoryEndpoint, MemoryEndpoint]:
    """A connected (client, server) pair of in-memory endpoints sharing one wire tap.

    ``native``: None picks the C pipe when it is built (see :func:`gnutls_lab.binding.native_pipe_status`), True
    requires it (a :class:`UsageError` says why it is missing), False always gives the Python pipe.
    """
    pipe = native_pipe() if native is not False else None
    if pipe is None and native:
        raise UsageError(f"no C pipe: {native_pipe_status()}")
    if pipe is None:
        client, server = MemoryEndpoint("client", tap), MemoryEndpoint("server", tap)
    else:
        pair = pipe.gcp(pipe.lib.memio_pair_new(tap is not None), pipe.lib.memio_pair_free, 0)
        if pair == pipe.ffi.NULL:
            raise MemoryError("memio_pair_new")
        client = NativeMemoryEndpoint("client", pipe, pair, 0, tap)
        server = NativeMemoryEndpoint("server", pipe, pair, 1, tap)
    client.peer, server.peer = server, client
    return client, server


class SocketEndpoint(Endpoint):
    """A blocking TCP socket under a session (``gnutls-lab serve``/``connect``), still tapped.

    Reads wait at most ``timeout`` seconds (then "try again", so the caller's loop can look at its own
    clock). Two bounds the lab server sets on top: ``deadline`` (a ``time.monotonic()`` value, or None):
    past it every read and write fails with ``ETIMEDOUT`` even while the peer trickles bytes, so a
    handshake or a request has a total deadline, not just an idle one (``expired`` then says so); and
    ``write_patience``: the seconds a write may wait for a peer that takes no bytes at all. While the
    endpoint waits for its peer, ``waiting`` is true; ``last_activity`` is when the peer last sent or
    took a byte: together they tell a server which of its connections are idle (see
    :meth:`gnutls_lab.network.server.LabServer`'s eviction). ``stopping``: a callable; while it answers
    True a blocked write gives up at once.
    """

    def __init__(self, sock: socket.socket, sender: str, tap: list | None = None, timeout: float = 10.0,
                 *, write_patience: float = 10.0, stopping=None):
        super().__init__(sender, tap)
        self.sock = sock
        self.sock.settimeout(timeout)
        self.deadline: float | None = None
        self.write_patience = write_patience
        self.stopping = stopping
        self.expired = False
        self.waiting = False
        self.last_activity = time.monotonic()

    def _past_deadline(self) -> bool:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            self.expired = True
            return True
        return False

    def push(self, data) -> int:
        """Send all of ``data``, waiting for room in steps of the socket timeout; fail (``ETIMEDOUT``)
        when the peer takes no byte for ``write_patience`` seconds, at the deadline, or when stopping."""
        view = memoryview(data)
        total, done = len(view), 0
        progress = time.monotonic()
        self.waiting = True
        try:
            while done < total:
                if self._past_deadline():
                    return -errno.ETIMEDOUT
                try:
                    done += self.sock.send(view[done:])
                except socket.timeout:
                    if time.monotonic() - progress >= self.write_patience or (self.stopping and self.stopping()):
                        return -errno.ETIMEDOUT
                    continue
                except OSError as exc:
                    return -(exc.errno or errno.EIO)
                progress = self.last_activity = time.monotonic()
        finally:
            self.waiting = False
        if self.tap is not None:
            self.tap.append(WireChunk(self.sender, bytes(view)))
        return total

    def pull_into(self, buffer, size: int, memmove=None) -> int:
        if self._past_deadline():
            return -errno.ETIMEDOUT
        self.waiting = True
        try:
            chunk = self.sock.recv(size)
        except socket.timeout:
            return -errno.EAGAIN  # still waiting: ``waiting`` stays true until the peer sends
        except OSError as exc:
            self.waiting = False
            return -(exc.errno or errno.EIO)
        self.waiting = False
        self.last_activity = time.monotonic()
        if chunk:
            memmove(buffer, chunk, len(chunk))
            if self.tap is not None:
                peer = "server" if self.sender == "client" else "client"
                self.tap.append(WireChunk(peer, chunk))
        return len(chunk)

    def wait(self, milliseconds: int) -> int:
        self.waits.append(milliseconds)
        timeout = None if milliseconds >= 0xFFFFFFFE else milliseconds / 1000.0
        if self.deadline is not None:
            left = max(self.deadline - time.monotonic(), 0.0)
            timeout = left if timeout is None else min(timeout, left)
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
