"""The fast path of :mod:`gnutls_lab.analysis.decode`: one pass over a packed session that records offsets.

Theory of operation. :mod:`gnutls_lab.formats.session_blob` declares the layout with ``construct``;
interpreting those schemas costs ~150 us per 1 KB blob and records no byte ranges. This module walks
the *same* layout by hand with ``struct`` and, when asked, appends ``(path, start, end, value)`` for
every field it reads. It returns the tree the schema parse returns, normalised to plain Python
(dicts, lists, ints for enums, bytes); ``tests/test_decode.py`` proves the two equal on every corpus
blob and on generated sessions, so the schemas stay the one statement of the format.

Paths name fields as the schemas do, without the ``body`` level of sized sections:
``security_parameters.session_id``, ``auth_info.raw_certificate_list[0]``, ``extensions[1].server_name``.
Every failure is a :class:`~gnutls_lab.errors.BlobFormatError` carrying that path and the byte offset.
"""

from __future__ import annotations

import struct

from ..errors import BlobFormatError
from .session_blob import (
    FIRST_SUPPORTED_VERSION,
    MAX_SESSION_ID_SIZE,
    gnutls_version_of_magic,
    is_supported_version,
    stores_tls13_cipher_suite,
)
from .ticket import TICKET_KEY_NAME_SIZE, TICKET_MAC_SIZE, TICKET_OVERHEAD

__all__ = ["Reader", "read_packed_session", "read_ticket_envelope", "version_text"]

_U16 = struct.Struct(">H").unpack_from
_U32 = struct.Struct(">I").unpack_from
_TLS13 = 5
_TLS12_TAIL_U32 = (
    "max_record_send_size",
    "max_record_recv_size",
    "grp",
    "server_sign_algo",
    "client_sign_algo",
    "ext_master_secret",
    "etm",
)


def version_text(version: int) -> str:
    """0x030709 -> "3.7.9"."""
    return f"{version >> 16}.{(version >> 8) & 0xFF}.{version & 0xFF}"


class Reader:
    """A cursor over ``data[pos:end]`` that checks every read and optionally records it."""

    __slots__ = ("data", "pos", "end", "fields")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None, fields: list | None = None):
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end
        self.fields = fields

    def _where(self) -> str:
        return "blob" if self.end == len(self.data) else "enclosing section"

    def short(self, path: str, need: int) -> BlobFormatError:
        left = max(self.end - self.pos, 0)
        return BlobFormatError(
            f"truncated: {path} needs {need} bytes but the {self._where()} has {left} left",
            path=path,
            offset=self.pos,
        )

    def u8(self, path: str) -> int:
        p = self.pos
        if p + 1 > self.end:
            raise self.short(path, 1)
        value = self.data[p]
        self.pos = p + 1
        if self.fields is not None:
            self.fields.append((path, p, p + 1, value))
        return value

    def u16(self, path: str) -> int:
        p = self.pos
        if p + 2 > self.end:
            raise self.short(path, 2)
        (value,) = _U16(self.data, p)
        self.pos = p + 2
        if self.fields is not None:
            self.fields.append((path, p, p + 2, value))
        return value

    def u32(self, path: str) -> int:
        p = self.pos
        if p + 4 > self.end:
            raise self.short(path, 4)
        (value,) = _U32(self.data, p)
        self.pos = p + 4
        if self.fields is not None:
            self.fields.append((path, p, p + 4, value))
        return value

    def raw(self, size: int, path: str) -> bytes:
        p = self.pos
        if p + size > self.end:
            raise self.short(path, size)
        value = self.data[p : p + size]
        self.pos = p + size
        if self.fields is not None:
            self.fields.append((path, p, p + size, value))
        return value

    def blob(self, width: int, path: str) -> bytes:
        """A byte string after a ``width``-byte length (``BUFFER_APPEND_PFX1/2/4``)."""
        p = self.pos
        if p + width > self.end:
            raise self.short(path + " length", width)
        if width == 4:
            (size,) = _U32(self.data, p)
        elif width == 1:
            size = self.data[p]
        else:
            (size,) = _U16(self.data, p)
        start = p + width
        if size > self.end - start:
            raise BlobFormatError(
                f"length {size} of {path} exceeds the {self.end - start} bytes left in the {self._where()}",
                path=path,
                offset=p,
            )
        value = self.data[start : start + size]
        self.pos = start + size
        if self.fields is not None:
            self.fields.append((path, p, self.pos, value))
        return value

    def count(self, path: str, item_size: int) -> int:
        """A u32 element count, refused when even minimal elements could not fit."""
        p = self.pos
        n = self.u32(path)
        if n * item_size > self.end - self.pos:
            raise BlobFormatError(
                f"count {n} of {path} needs at least {n * item_size} bytes but the "
                f"{self._where()} has {self.end - self.pos} left",
                path=path,
                offset=p,
            )
        return n

    def section(self, path: str) -> tuple[int, int]:
        """Read a u32 section length; return (length, end offset); narrow ``end`` by the caller."""
        p = self.pos
        length = self.u32(path + ".length")
        if length > self.end - self.pos:
            raise BlobFormatError(
                f"length {length} of {path} exceeds the {self.end - self.pos} bytes left in the {self._where()}",
                path=path,
                offset=p,
            )
        return length, self.pos + length

    def close(self, end: int, outer_end: int, path: str) -> None:
        if self.pos != end:
            raise BlobFormatError(
                f"{end - self.pos} unused bytes at the end of {path}: its fields end at byte "
                f"{self.pos} but its length field says {end}",
                path=path,
                offset=self.pos,
            )
        self.end = outer_end


def _dh(r: Reader, path: str) -> dict:
    return {
        "secret_bits": r.u32(path + ".secret_bits"),
        "prime": r.blob(4, path + ".prime"),
        "generator": r.blob(4, path + ".generator"),
        "public_key": r.blob(4, path + ".public_key"),
    }


def _blob_list(r: Reader, count_path: str, item_path: str) -> tuple[int, list]:
    n = r.count(count_path, 4)
    return n, [r.blob(4, f"{item_path}[{i}]") for i in range(n)]


def _auth_info(r: Reader, auth_type: int, path: str) -> dict:
    length, end = r.section(path)
    if length == 0:
        return {"length": 0, "body": None}
    outer, r.end = r.end, end
    if auth_type == 1:  # pack_certificate_auth_info
        dh = _dh(r, path + ".dh")
        ncerts, certs = _blob_list(r, path + ".ncerts", path + ".raw_certificate_list")
        nocsp, ocsp = _blob_list(r, path + ".nocsp", path + ".raw_ocsp_list")
        body = {"dh": dh, "ncerts": ncerts, "raw_certificate_list": certs, "nocsp": nocsp, "raw_ocsp_list": ocsp}
    elif auth_type == 2:  # pack_anon_auth_info
        body = {"dh": _dh(r, path + ".dh")}
    elif auth_type == 3:  # pack_srp_auth_info
        body = {"username": r.blob(4, path + ".username")}
    elif auth_type == 4:  # pack_psk_auth_info
        body = {
            "username": r.blob(4, path + ".username"),
            "hint": r.blob(4, path + ".hint"),
            "dh": _dh(r, path + ".dh"),
        }
    else:  # libgnutls refuses it; we show the bytes
        body = r.raw(length, path + ".data")
    r.close(end, outer, path)
    return {"length": length, "body": body}


def _security_parameters(r: Reader, version: int, path: str) -> dict:
    length, end = r.section(path)
    outer, r.end = r.end, end
    body = {
        "entity": r.u32(path + ".entity"),
        "prf": r.u32(path + ".prf"),
        "client_auth_type": r.u32(path + ".client_auth_type"),
        "server_auth_type": r.u32(path + ".server_auth_type"),
    }
    sid_offset = r.pos
    session_id = r.blob(1, path + ".session_id")
    if len(session_id) > MAX_SESSION_ID_SIZE:
        raise BlobFormatError(
            f"session ID of {len(session_id)} bytes is longer than GNUTLS_MAX_SESSION_ID_SIZE "
            f"({MAX_SESSION_ID_SIZE})",
            path=path + ".session_id",
            offset=sid_offset,
        )
    body["session_id"] = session_id
    pversion = body["pversion"] = r.u32(path + ".pversion")
    body["client_ctype"] = r.u32(path + ".client_ctype")
    body["server_ctype"] = r.u32(path + ".server_ctype")
    tls13 = pversion == _TLS13
    body["cs"] = r.u16(path + ".cs") if not tls13 or stores_tls13_cipher_suite(version) else None
    if tls13:
        body["master_secret"] = body["client_random"] = body["server_random"] = None
        for name in _TLS12_TAIL_U32:
            body[name] = None
    else:
        body["master_secret"] = r.blob(1, path + ".master_secret")
        body["client_random"] = r.blob(1, path + ".client_random")
        body["server_random"] = r.blob(1, path + ".server_random")
        for name in _TLS12_TAIL_U32:
            body[name] = r.u32(f"{path}.{name}")
    r.close(end, outer, path)
    return {"length": length, "body": body}


def _tls13(r: Reader, path: str) -> dict:
    length, end = r.section(path)
    if length == 0:
        return {"length": 0, "body": None}
    outer, r.end = r.end, end
    body = {
        "lifetime": r.u32(path + ".lifetime"),
        "age_add": r.u32(path + ".age_add"),
        "nonce": r.blob(1, path + ".nonce"),
    }
    ticket_at = r.pos
    body["ticket"] = ticket = r.blob(4, path + ".ticket")
    if r.fields is not None:
        _annotate_envelope(r.fields, ticket, ticket_at + 4, path + ".ticket")
    body["resumption_master_secret"] = r.blob(1, path + ".resumption_master_secret")
    body["arrival_time"] = _timespec(r, path + ".arrival_time")
    body["max_early_data_size"] = r.u32(path + ".max_early_data_size")
    r.close(end, outer, path)
    return {"length": length, "body": body}


def _timespec(r: Reader, path: str) -> dict:
    start = r.pos
    if start + 12 > r.end:
        raise r.short(path, 12)
    if r.fields is not None:
        r.fields.append((path, start, start + 12, None))
    return {
        "tv_sec_high": r.u32(path + ".tv_sec_high"),
        "tv_sec_low": r.u32(path + ".tv_sec_low"),
        "tv_nsec": r.u32(path + ".tv_nsec"),
    }


def _annotate_envelope(fields: list, ticket: bytes, at: int, path: str) -> None:
    """Sub-fields of a ticket that looks like a GnuTLS envelope (others stay one opaque field)."""
    if len(ticket) < TICKET_OVERHEAD or _U16(ticket, 32)[0] != len(ticket) - TICKET_OVERHEAD:
        return
    n = TICKET_KEY_NAME_SIZE
    fields.append((path + ".length", at - 4, at, len(ticket)))  # the blob4 prefix, so leaves tile
    fields.append((path + ".key_name", at, at + n, ticket[:n]))
    fields.append((path + ".IV", at + n, at + 2 * n, ticket[n : 2 * n]))
    fields.append((path + ".encrypted_state_len", at + 32, at + 34, len(ticket) - TICKET_OVERHEAD))
    end = at + len(ticket)
    fields.append((path + ".encrypted_state", at + 34, end - TICKET_MAC_SIZE, ticket[34:-TICKET_MAC_SIZE]))
    fields.append((path + ".mac", end - TICKET_MAC_SIZE, end, ticket[-TICKET_MAC_SIZE:]))


def _extension_payload(r: Reader, gid: int, path: str):
    if gid in (2, 3):
        return {"cert_types": list(r.blob(2, path + ".cert_types"))}
    if gid == 6:
        return {"username": r.blob(4, path + ".username"), "password": r.blob(4, path + ".password")}
    if gid == 7:
        n = r.count(path + ".sign_algorithms_size", 4)
        return {
            "sign_algorithms_size": n,
            "sign_algorithms": [r.u32(f"{path}.sign_algorithms[{i}]") for i in range(n)],
        }
    if gid == 8:
        n = r.count(path + ".profiles_size", 4)
        payload = {"profiles_size": n, "profiles": [r.u32(f"{path}.profiles[{i}]") for i in range(n)]}
        mki_received = payload["mki_received"] = r.u32(path + ".mki_received")
        payload["selected_profile"] = r.u32(path + ".selected_profile") if mki_received else None
        payload["mki"] = r.blob(4, path + ".mki") if mki_received else None
        return payload
    if gid == 9:
        return {"mode": r.u32(path + ".mode")}
    if gid == 13:
        ticket_at = r.pos
        ticket = r.blob(4, path + ".ticket")
        if r.fields is not None:
            _annotate_envelope(r.fields, ticket, ticket_at + 4, path + ".ticket")
        return {"ticket": ticket}
    if gid == 18:
        return {"server_name": r.blob(2, path + ".server_name")}
    return r.raw(r.end - r.pos, path + ".data")


def _extensions(r: Reader, path: str) -> dict:
    count = r.count(path + ".count", 8)
    entries = []
    for i in range(count):
        item = f"{path}[{i}]"
        gid = r.u32(item + ".gid")
        p = r.pos
        length = r.u32(item + ".length")
        if length > r.end - r.pos:
            raise BlobFormatError(
                f"length {length} of {item} exceeds the {r.end - r.pos} bytes left in the {r._where()}",
                path=item,
                offset=p,
            )
        end = r.pos + length
        outer, r.end = r.end, end
        data = _extension_payload(r, gid, item)
        r.close(end, outer, item)
        entries.append({"gid": gid, "length": length, "data": data})
    return {"count": count, "entries": entries}


def version_error(magic: int, path: str, offset: int) -> BlobFormatError:
    version = gnutls_version_of_magic(magic)
    if 0x030000 <= version < FIRST_SUPPORTED_VERSION:
        return BlobFormatError(
            f"unsupported GnuTLS version {version_text(version)} (magic 0x{magic:08X}): packed sessions "
            f"before {version_text(FIRST_SUPPORTED_VERSION)} have another layout",
            path=path,
            offset=offset,
        )
    return BlobFormatError(
        f"unknown magic 0x{magic:08X}: not a GnuTLS packed session (magic - 0xFADEBADD = "
        f"0x{version:08X} is no GnuTLS 3.x version number)",
        path=path,
        offset=offset,
    )


def read_packed_session(r: Reader, prefix: str = "") -> dict:
    """``_gnutls_session_unpack`` in one pass; returns the normalised schema tree."""
    at = r.pos
    magic = r.u32(prefix + "magic")
    version = gnutls_version_of_magic(magic)
    if not is_supported_version(version):
        raise version_error(magic, prefix + "magic", at)
    tree = {
        "magic": magic,
        "timestamp": r.u32(prefix + "timestamp"),
        "expire_time": r.u32(prefix + "expire_time"),
        "auth_type": r.u8(prefix + "auth_type"),
    }
    tree["auth_info"] = _auth_info(r, tree["auth_type"], prefix + "auth_info")
    security_parameters = _security_parameters(r, version, prefix + "security_parameters")
    tree["security_parameters"] = security_parameters
    if security_parameters["body"]["pversion"] == _TLS13:
        tree["tls13"] = _tls13(r, prefix + "tls13")
        tree["extensions"] = None
    else:
        tree["tls13"] = None
        tree["extensions"] = _extensions(r, prefix + "extensions")
    return tree


def read_ticket_envelope(ticket: bytes, path: str = "ticket") -> dict:
    """The ``TicketEnvelope`` fields of a server ticket (strict: nothing may follow the MAC)."""
    r = Reader(ticket)
    key_name = r.raw(TICKET_KEY_NAME_SIZE, path + ".key_name")
    iv = r.raw(16, path + ".IV")
    encrypted_state = r.blob(2, path + ".encrypted_state")
    mac = r.raw(TICKET_MAC_SIZE, path + ".mac")
    if r.pos != len(ticket):
        raise BlobFormatError(
            f"{len(ticket) - r.pos} bytes after the MAC: not a GnuTLS ticket envelope",
            path=path,
            offset=r.pos,
        )
    return {"key_name": key_name, "IV": iv, "encrypted_state": encrypted_state, "mac": mac}
