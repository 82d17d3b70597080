"""The tamper lab's small path language: which field of a decoded session a change names, and the blob
rebuilt with it.

A change is ``name=value``. The name is a field name (``lifetime``, ``ticket_age_add``, ``nonce``,
``ticket``, ``session_id``, ``protocol``, ``cipher_suite``, ``timestamp``, ``expire_time``...: the
aliases below) or a path in the schema's parse tree as :attr:`DecodedSession.ranges` lists it
(``"security_parameters.etm"``, ``"extensions[0].gid"``, ``"tls13.ticket"``); a path walks through a
section's ``body``/``data``/``entries`` without naming them. Enum fields take a name or a number.
``gnutls_version="3.8.9"`` (or ``magic=0x...``) rewrites only the 4 magic bytes and keeps the layout.

The blob is rebuilt with the schema (:data:`gnutls_lab.formats.SessionBlob`), so lengths are recomputed;
nothing else is checked: the point is to hand libgnutls what it would never write. Which changes crash a
given library release is in :mod:`._known_crashes`, beside this module; the widget is
``gnutls_lab.faces.tamper_lab``.
"""

from __future__ import annotations

import copy
from typing import Any

from ..errors import UsageError
from ..formats import SessionBlob, magic_of_gnutls_version, with_magic

__all__ = ["FIELD_ALIASES", "parse_gnutls_version", "set_path", "rebuild", "flip"]

#: Field names a change may use instead of the schema path.
FIELD_ALIASES = {
    "entity": "security_parameters.entity",
    "prf": "security_parameters.prf",
    "session_id": "security_parameters.session_id",
    "protocol": "security_parameters.pversion",
    "cipher_suite": "security_parameters.cs",
    "master_secret": "security_parameters.master_secret",
    "client_random": "security_parameters.client_random",
    "server_random": "security_parameters.server_random",
    "group": "security_parameters.grp",
    "lifetime": "tls13.lifetime",
    "ticket_age_add": "tls13.age_add",
    "nonce": "tls13.nonce",
    "ticket": "tls13.ticket",
    "resumption_master_secret": "tls13.resumption_master_secret",
    "max_early_data_size": "tls13.max_early_data_size",
    "peer_certificates": "auth_info.raw_certificate_list",
}


def parse_gnutls_version(text: str) -> int:
    try:
        major, minor, patch = (int(part) for part in str(text).split("."))
    except ValueError:
        raise UsageError(f"gnutls_version must look like '3.8.9', not {text!r}") from None
    return (major << 16) | (minor << 8) | patch


def set_path(tree: dict, path: str, value) -> None:
    node: Any = tree
    parts = path.replace("]", "").replace("[", ".").split(".")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise UsageError(f"no element {part} in {path!r}")
            if last:
                node[int(part)] = value
                return
            node = node[int(part)]
            continue
        if not isinstance(node, dict):
            raise UsageError(f"no field {path!r} in this session")
        for holder in (node, node.get("body"), node.get("data"), node.get("entries")):
            if isinstance(holder, dict) and part in holder:
                node = holder
                break
            if isinstance(holder, list) and part.isdigit():
                node = holder
                break
        else:
            raise UsageError(f"no field {path!r} in this session")
        if isinstance(node, list):
            if int(part) >= len(node):
                raise UsageError(f"no element {part} in {path!r}")
            if last:
                node[int(part)] = value
                return
            node = node[int(part)]
        elif last:
            node[part] = value
            return
        else:
            node = node[part]


def rebuild(tree: dict, changes: dict) -> bytes:
    """The bytes of the session ``tree`` with ``changes`` applied (see the module docstring)."""
    tree = copy.deepcopy(tree)
    magic = None
    for key, value in changes.items():
        if key in ("gnutls_version", "magic"):  # only the 4 bytes change; the layout stays
            magic = magic_of_gnutls_version(parse_gnutls_version(value)) if key == "gnutls_version" else value
            continue
        set_path(tree, FIELD_ALIASES.get(key, key), value)
    try:
        data = SessionBlob.build(tree)
    except Exception as exc:
        raise UsageError(f"cannot build the changed session: {type(exc).__name__}: {exc}") from None
    if magic is not None:
        if not isinstance(magic, int) or not 0 <= magic <= 0xFFFFFFFF:
            raise UsageError(f"magic must be a u32, not {magic!r}")
        data = with_magic(data, magic)
    return data


def flip(data: bytes, ranges: dict[str, tuple[int, int]], path: str, index: int = 0, mask: int = 0x01) -> bytes:
    """``data`` with byte ``index`` of field ``path`` (its range in ``ranges``) XORed with ``mask``."""
    if path not in ranges:
        raise UsageError(f"no field {path!r} in this blob (an annotated decode lists them in .ranges)")
    start, end = ranges[path]
    if not 0 <= index < end - start:
        raise UsageError(f"{path} has {end - start} bytes; index {index} is outside it")
    changed = bytearray(data)
    changed[start + index] ^= mask
    return bytes(changed)
