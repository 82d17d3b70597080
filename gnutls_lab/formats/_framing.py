"""Cutting TLS byte streams into records and handshake messages: the framing, without construct.

Re-exported by :mod:`gnutls_lab.formats._wire` (whose schemas describe what is inside the frames).
Kept free of ``construct`` so that the transport's wire tap can use it without loading the schemas.
RFC 8446 §5.1 (record: u8 type, u16 version, u16 length, fragment) and §4 (handshake: u8 type,
u24 length, body).
"""

from __future__ import annotations

__all__ = [
    "MAX_RECORD_LENGTH",
    "RECORD_HEADER_SIZE",
    "HANDSHAKE_HEADER_SIZE",
    "number",
    "record_header",
    "split_records",
    "split_handshake",
    "split_tap_log",
    "frame_handshake",
    "record_fragment",
    "record_spans",
    "split_tap_records",
    "clear_handshake_streams",
]

#: RFC 5246 §6.2.3: ``TLSCiphertext.length`` is at most 2^14 + 2048.
MAX_RECORD_LENGTH = 2**14 + 2048
#: Bytes of a record header (RFC 8446 §5.1) and of a handshake message header (§4).
RECORD_HEADER_SIZE = 5
HANDSHAKE_HEADER_SIZE = 4
#: RFC 8446 §5.1 ContentType values the framing tells apart.
CHANGE_CIPHER_SPEC, HANDSHAKE, APPLICATION_DATA = 20, 22, 23


def number(value: bytes) -> int:
    """A big-endian unsigned field's value (a length, a lifetime) from its bytes."""
    return int.from_bytes(value, "big")


def record_header(buf: bytes, p: int = 0) -> tuple[int, int, int]:
    """``(content_type, version, length)`` of the record header at ``buf[p:p + 5]``."""
    return buf[p], buf[p + 1] << 8 | buf[p + 2], buf[p + 3] << 8 | buf[p + 4]


def split_records(data: bytes) -> tuple[list[bytes], int]:
    """The complete records (header and fragment) at the start of ``data``, and how many bytes they take."""
    records, p, n = [], 0, len(data)
    while n - p >= RECORD_HEADER_SIZE:
        end = p + RECORD_HEADER_SIZE + (data[p + 3] << 8 | data[p + 4])
        if end > n:
            break
        records.append(data[p:end])
        p = end
    return records, p


def split_handshake(stream: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """``(msg_type, body)`` of the complete handshake messages at the start of ``stream``, and their size."""
    messages, q, n = [], 0, len(stream)
    while n - q >= HANDSHAKE_HEADER_SIZE:
        end = q + HANDSHAKE_HEADER_SIZE + (stream[q + 1] << 16 | stream[q + 2] << 8 | stream[q + 3])
        if end > n:
            break
        messages.append((stream[q], stream[q + HANDSHAKE_HEADER_SIZE : end]))
        q = end
    return messages, q


def split_tap_log(raw: bytes, byteorder: str) -> list[tuple[bool, bytes]]:
    """The C wire tap's log (``binding/_memio.c``): ``u8 from_server; u32 length (native order); bytes``."""
    out, p, n = [], 0, len(raw)
    while p + 5 <= n:
        length = int.from_bytes(raw[p + 1 : p + 5], byteorder)
        out.append((bool(raw[p]), raw[p + 5 : p + 5 + length]))
        p += 5 + length
    return out


def frame_handshake(msg_type: int, body: bytes) -> bytes:
    """A handshake message with its header (RFC 8446 §4: u8 type, u24 length), as it is hashed and sent."""
    return bytes([msg_type & 0xFF]) + len(body).to_bytes(3, "big") + bytes(body)


def record_fragment(record: bytes) -> bytes:
    """The fragment of one record (what follows its 5-byte header)."""
    return record[RECORD_HEADER_SIZE:]


def record_spans(record: bytes) -> list[tuple[str, int, int]]:
    """``[(Wireshark field, start, end)]`` of one record: the header fields (RFC 8446 §5.1) and the fragment."""
    content_type = record_header(record)[0]
    fragment = "tls.app_data (encrypted)" if content_type == APPLICATION_DATA else "tls.record.fragment"
    return [("tls.record.content_type", 0, 1), ("tls.record.version", 1, 3),
            ("tls.record.length", 3, RECORD_HEADER_SIZE), (fragment, RECORD_HEADER_SIZE, len(record))]


def split_tap_records(chunks) -> list[tuple[str, bytes]]:
    """A wire tap cut into TLS records: ``[(sender, record)]`` in the order they were sent.

    ``chunks``: objects with ``.sender`` ("client"/"server") and ``.data``; a record may span chunks.
    An incomplete record at the end of a direction is left out.
    """
    pending: dict = {}
    records = []
    for chunk in chunks:
        buf = pending.get(chunk.sender, b"") + bytes(chunk.data)
        complete, used = split_records(buf)
        records += [(chunk.sender, record) for record in complete]
        pending[chunk.sender] = buf[used:]
    return records


def clear_handshake_streams(chunks) -> dict[str, bytes]:
    """Per sender, the handshake stream a passive observer reads in clear: the fragments of the handshake
    records that side sent before its ChangeCipherSpec (TLS 1.3 sends its encrypted ones as application_data)."""
    streams = {"client": b"", "server": b""}
    after_ccs: set = set()
    for sender, record in split_tap_records(chunks):
        content_type = record_header(record)[0]
        if content_type == CHANGE_CIPHER_SPEC:
            after_ccs.add(sender)
        elif content_type == HANDSHAKE and sender not in after_ccs:
            streams[sender] = streams.get(sender, b"") + record_fragment(record)
    return streams
