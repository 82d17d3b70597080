"""Lab connections as a pcapng capture file that Wireshark opens and decrypts by itself.

Theory of operation
-------------------
A lab connection never touches a network: its wire tap holds the bytes each side wrote, in order.
To show them in Wireshark, each connection becomes one TCP stream on 127.0.0.1 with synthetic
framing: client port 40000 + n (the n-th connection of the file) to server port 443, a three-way
handshake, one segment per chunk the tap recorded (split only when a chunk does not fit one IPv4
packet), sequence and acknowledgement numbers counted as a real TCP stack would, and a FIN from
each side at the end. Timestamps start at the time the connection was made (the fake clock's when
one ran, else the wall clock) and move 100 µs per packet, never backwards within a file.

The file also carries the connections' secrets in a Decryption Secrets Block (pcapng spec, block
type 0x0000000A, secrets type 0x544c534b "TLSK": an NSS key log, the ``SSLKEYLOGFILE`` format), so
Wireshark and tshark decrypt TLS 1.3 handshakes and TLS 1.2 records without a separate key log
file. **The file therefore holds secrets**: it is created with mode 0600, like the optional key
log written beside it.

The packets and the standard blocks are built by scapy (``scapy.layers.inet`` for IPv4/TCP with
their checksums, ``scapy.utils.PcapNgWriter`` for the section header, interface and packet
blocks). scapy reads Decryption Secrets Blocks but does not write them; the one block this module
builds itself is the DSB body (secrets type, length, key log), which scapy's own
``build_block`` frames and pads.
"""

from __future__ import annotations

import os
import struct
import tempfile
from decimal import Decimal
from typing import Iterable, NamedTuple, Sequence

from ..errors import UsageError
from ._files import check_output_path, write_private_file

__all__ = [
    "TlsCapture",
    "SERVER_PORT",
    "FIRST_CLIENT_PORT",
    "TLS_KEY_LOG",
    "tcp_packets",
    "keylog_text",
    "write_pcapng",
    "write_keylog",
]

SERVER_PORT = 443  # Wireshark dissects port 443 as TLS without "Decode As"
FIRST_CLIENT_PORT = 40000
TLS_KEY_LOG = 0x544C534B  # pcapng Decryption Secrets Block, secrets type "TLSK"
_DSB = 0x0000000A
_LOCALHOST = "127.0.0.1"
_PACKET_STEP = 0.0001  # seconds between two packets of a capture
_MAX_SEGMENT = 65535 - 20 - 20  # IPv4 total length is 16 bits; 20-byte IP and TCP headers
_WINDOW = 65535
_SENDERS = ("client", "server")


class TlsCapture(NamedTuple):
    """What one connection gives the capture file.

    ``wire``: ``(sender, data)`` chunks in the order they were written (sender "client" or
    "server"); ``keylog``: NSS key log lines for this connection (they hold secrets);
    ``time``: when the connection was made, in seconds since the epoch.
    """

    wire: tuple
    keylog: tuple
    time: float


def _capture_of(item) -> TlsCapture:
    """A :class:`TlsCapture`, or anything with a ``capture()`` method that returns one."""
    if isinstance(item, TlsCapture):
        return item
    capture = getattr(item, "capture", None)
    if capture is None:
        raise UsageError(f"cannot write {type(item).__name__} to a capture file: give lab connections "
                         "(gnutls_lab.Connection) or TlsCapture records")
    return capture()


def _chunks(wire: Iterable) -> list:
    out = []
    for chunk in wire:
        sender, data = chunk if isinstance(chunk, tuple) else (chunk.sender, chunk.data)
        if sender not in _SENDERS:
            raise UsageError(f"a wire chunk's sender must be 'client' or 'server', not {sender!r}")
        out.append((sender, bytes(data)))
    return out


def tcp_packets(capture: TlsCapture, index: int = 0, start: float | None = None) -> list:
    """The IPv4/TCP packets (scapy packets, ``.time`` set) of one connection, the ``index``-th of
    its file: a three-way handshake, the wire chunks as segments, then FIN from both sides."""
    from scapy.layers.inet import IP, TCP

    client_port = FIRST_CLIENT_PORT + index % (65536 - FIRST_CLIENT_PORT)
    ports = {"client": (client_port, SERVER_PORT), "server": (SERVER_PORT, client_port)}
    # Initial sequence numbers: fixed per index, so that a file is reproducible from its input.
    isn = {"client": (0x1000_0000 + index * 0x0100_0000) % 2**32,
           "server": (0x8000_0000 + index * 0x0100_0000) % 2**32}
    seq = dict(isn)
    acked = {"client": 0, "server": 0}  # what each side has acknowledged of the other
    packets = []
    when = capture.time if start is None else start

    def segment(sender: str, flags: str, payload: bytes = b"") -> None:
        nonlocal when
        other = "server" if sender == "client" else "client"
        sport, dport = ports[sender]
        ack = acked[sender] if "A" in flags else 0
        packet = IP(src=_LOCALHOST, dst=_LOCALHOST) / TCP(
            sport=sport, dport=dport, seq=seq[sender], ack=ack, flags=flags, window=_WINDOW,
        )
        if payload:
            packet = packet / payload
        packet.time = Decimal(round(when * 1_000_000)) / 1_000_000  # exact microseconds in the file
        packets.append(packet)
        when += _PACKET_STEP
        seq[sender] = (seq[sender] + len(payload) + ("S" in flags) + ("F" in flags)) % 2**32
        acked[other] = seq[sender]

    segment("client", "S")
    segment("server", "SA")
    segment("client", "A")
    for sender, data in _chunks(capture.wire):
        for offset in range(0, len(data), _MAX_SEGMENT):
            segment(sender, "PA", data[offset : offset + _MAX_SEGMENT])
    segment("client", "FA")
    segment("server", "FA")
    segment("client", "A")
    return packets


def keylog_text(captures: Sequence[TlsCapture]) -> bytes:
    """The captures' key log lines, each once, in first-seen order (``SSLKEYLOGFILE`` format)."""
    lines = dict.fromkeys(line for capture in captures for line in capture.keylog)
    return "".join(f"{line}\n" for line in lines).encode("ascii")


def write_keylog(captures: Sequence, path) -> int:
    """Write the key log (``SSLKEYLOGFILE`` format) of ``captures`` to ``path``, mode 0600.
    Returns the number of lines. The file holds secrets."""
    text = keylog_text([_capture_of(c) for c in captures])
    write_private_file(path, text)
    return text.count(b"\n")


def write_pcapng(connections: Sequence, path, *, keylog_path=None) -> dict:
    """Write ``connections`` to ``path`` as one pcapng file, one TCP stream each, with their
    secrets embedded (Decryption Secrets Block), so Wireshark decrypts them with no other file.

    ``connections``: lab connections (:class:`gnutls_lab.Connection`, still open), or
    :class:`TlsCapture` records (e.g. kept by an experiment run with ``keep_wire=True``).
    ``keylog_path``: also write the key log there (``SSLKEYLOGFILE`` format).
    Both files hold secrets and are created with mode 0600. Returns what was written:
    ``{"path", "connections", "packets", "keylog_lines", "keylog_path"}``.
    """
    captures = [_capture_of(c) for c in connections]
    if not captures:
        raise UsageError("nothing to write: give at least one connection")
    path = check_output_path(path)  # refused before any work, and again when written
    if keylog_path is not None:
        keylog_path = check_output_path(keylog_path)
    from scapy.utils import PcapNgWriter

    packets, last = [], None
    for index, capture in enumerate(captures):
        start = capture.time if last is None else max(capture.time, last + _PACKET_STEP)
        stream = tcp_packets(capture, index, start)
        last = float(stream[-1].time)
        packets += stream
    secrets = keylog_text(captures)

    # scapy's writer takes a file name: it writes into a private scratch folder, and the bytes then
    # go to the user's path through the package's safe writer.
    with tempfile.TemporaryDirectory(prefix="gnutls-lab-pcapng-") as scratch:
        scratch_file = os.path.join(scratch, "capture.pcapng")
        writer = PcapNgWriter(scratch_file)
        try:
            writer.write_header(packets[0])  # section header and interface description blocks
            if secrets:  # before the packets, so that a single pass decrypts them
                body = struct.pack("<II", TLS_KEY_LOG, len(secrets)) + secrets
                writer.f.write(writer.build_block(struct.pack("<I", _DSB), body))
            writer.write(packets)
        finally:
            writer.close()
        with open(scratch_file, "rb") as scratch_handle:
            data = scratch_handle.read()
    write_private_file(path, data)
    lines = secrets.count(b"\n")
    if keylog_path is not None:
        write_private_file(keylog_path, secrets)  # the same lines as the embedded block
    return {"path": path, "connections": len(captures), "packets": len(packets), "keylog_lines": lines,
            "keylog_path": keylog_path}
