"""gnutls_lab.analysis._tamper: the tamper lab's path language on corpus blobs (names, paths, list items,
the magic), and its refusals. DecodedSession.rebuilt/replace/flipped go through it (tests/test_decode.py)."""

from __future__ import annotations

import copy

import pytest

from blob_fixtures import session_corpus
from gnutls_lab.analysis._decode import decode
from gnutls_lab.analysis._tamper import FIELD_ALIASES, flip, parse_gnutls_version, rebuild, set_path
from gnutls_lab.errors import BlobFormatError, UsageError
from gnutls_lab.formats import magic_of, magic_of_gnutls_version, with_magic

REAL = session_corpus(dummy=False)


def _session(case: str):
    return next(decode(blob) for _, entry, blob in REAL if entry["case"] == case)


def test_a_field_name_and_its_path_change_the_same_bytes():
    s = _session("tls13_client")
    for name, path in FIELD_ALIASES.items():
        if name in ("lifetime", "ticket_age_add"):
            assert rebuild(s.tree, {name: 7}) == rebuild(s.tree, {path: 7}) != s.data
    assert rebuild(s.tree, {}) == s.data  # nothing asked, nothing changed


def test_paths_walk_bodies_and_list_items():
    s = _session("tls12_ticket_server")
    gid = s.tree["extensions"]["entries"][0]["gid"]
    tree = copy.deepcopy(s.tree)
    set_path(tree, "extensions[0].gid", 9999)  # "[0]" is an item of the section's entries
    assert tree["extensions"]["entries"][0]["gid"] == 9999
    set_path(tree, "security_parameters.etm", 0)  # through the section's body
    assert tree["security_parameters"]["body"]["etm"] == 0
    with pytest.raises(UsageError, match="no element 99"):
        set_path(dict(s.tree), "extensions.entries.99.gid", 1)
    with pytest.raises(UsageError, match="no field 'security_parameters.nonsense'"):
        rebuild(s.tree, {"security_parameters.nonsense": 1})
    assert s.tree["extensions"]["entries"][0]["gid"] == gid  # the session's own tree is left alone


def test_the_magic_changes_alone():
    s = _session("tls13_client")
    moved = rebuild(s.tree, {"gnutls_version": "3.8.9"})
    assert magic_of(moved) == magic_of_gnutls_version(parse_gnutls_version("3.8.9")) and moved[4:] == s.data[4:]
    assert with_magic(s.data, 0) == bytes(4) + s.data[4:]
    for bad in ({"magic": 2**32}, {"magic": "x"}, {"gnutls_version": "3.8"}):
        with pytest.raises(UsageError):
            rebuild(s.tree, bad)
    with pytest.raises(BlobFormatError, match="4-byte magic"):
        with_magic(b"\1\2", 0)


def test_flip_xors_one_byte_inside_its_field():
    s = _session("tls13_client")
    start, end = s.ranges["tls13.ticket"]
    flipped = flip(s.data, s.ranges, "tls13.ticket", 3, 0x80)
    assert [i for i in range(len(s.data)) if flipped[i] != s.data[i]] == [start + 3]
    with pytest.raises(UsageError, match="index 999 is outside it"):
        flip(s.data, s.ranges, "tls13.ticket", 999)
    with pytest.raises(UsageError, match="no field 'nowhere'"):
        flip(s.data, s.ranges, "nowhere")
