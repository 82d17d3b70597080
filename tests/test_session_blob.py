"""The construct schemas of gnutls_lab/formats/_session_blob.py: parse, build, round trip, layout facts.

Bytes here are either built from hand-written values that follow the reference's tables
(docs/formats.md) or captured from GnuTLS 3.7.9 / 3.8.9 (data/corpus).
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings

from blob_fixtures import TLS12_TAIL, session_corpus, sessions
from gnutls_lab.errors import BlobFormatError
from gnutls_lab.formats import _gnutls_ids as ids
from gnutls_lab.formats import _session_blob as sb

SID = bytes(range(32))
CERT = b"\x30\x82" + bytes(300)


def tls13_client_tree(version=0x030709, ticket=b"T" * 230, rms=b"R" * 48, nonce=b"NNNN"):
    return {
        "magic": sb.magic_of_gnutls_version(version), "timestamp": 1_700_000_000, "expire_time": 21600,
        "auth_type": "CERTIFICATE",
        "auth_info": {"body": {"dh": {"secret_bits": 0, "prime": b"", "generator": b"", "public_key": b""},
                               "raw_certificate_list": [CERT], "raw_ocsp_list": [b""]}},
        "security_parameters": {"body": {
            "entity": "CLIENT", "prf": "SHA384", "client_auth_type": "CERTIFICATE",
            "server_auth_type": "CERTIFICATE", "session_id": SID, "pversion": "TLS1.3",
            "client_ctype": "X.509", "server_ctype": "X.509",
            "cs": "TLS_AES_256_GCM_SHA384" if version >= sb.TLS13_CIPHER_SUITE_SINCE else None,
            **{name: None for name in TLS12_TAIL}}},
        "tls13": {"body": {"lifetime": 7200, "age_add": 0x01020304, "nonce": nonce, "ticket": ticket,
                           "resumption_master_secret": rms,
                           "arrival_time": {"tv_sec_high": 0, "tv_sec_low": 1_700_000_001, "tv_nsec": 5},
                           "max_early_data_size": 0xFFFFFFFF}},
        "extensions": None,
    }


def tls12_server_tree(extensions=()):
    tree = tls13_client_tree()
    body = tree["security_parameters"]["body"]
    body.update(entity="SERVER", pversion="TLS1.2", cs="TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
                master_secret=b"M" * 48, client_random=b"C" * 32, server_random=b"S" * 32,
                max_record_send_size=16384, max_record_recv_size=16384, grp="SECP256R1",
                server_sign_algo="ECDSA-SECP256R1-SHA256", client_sign_algo=0, ext_master_secret=1, etm=0)
    tree["auth_info"]["body"] = {"dh": {"secret_bits": 0, "prime": b"", "generator": b"", "public_key": b""},
                                 "raw_certificate_list": [], "raw_ocsp_list": []}
    tree["tls13"] = None
    tree["extensions"] = {"entries": list(extensions)}
    return tree


def test_magic_bytes_name_the_version():
    assert struct.pack(">I", sb.magic_of_gnutls_version(0x030709)) == bytes.fromhex("FAE1C1E6")
    assert struct.pack(">I", sb.magic_of_gnutls_version(0x030809)) == bytes.fromhex("FAE1C2E6")
    assert struct.pack(">I", sb.magic_of_gnutls_version(0x030610)) == bytes.fromhex("FAE1C0ED")
    assert sb.gnutls_version_of_magic(0xFAE1C2E6) == 0x030809


def test_tls13_client_layout_matches_the_reference():
    blob = sb.SessionBlob.build(tls13_client_tree())
    assert blob[:4] == bytes.fromhex("FAE1C1E6")
    assert blob[12] == 1  # auth type byte at offset 12, section A from 13
    auth_length = struct.unpack_from(">I", blob, 13)[0]
    assert auth_length == 4 + 12 + 4 + (4 + len(CERT)) + 4 + 4  # dh quartet, certs, one empty OCSP slot
    s_at = 13 + 4 + auth_length
    assert struct.unpack_from(">I", blob, s_at)[0] == 63  # P = 31 + n for TLS 1.3, n = 32
    assert blob[s_at + 4 + 16] == 32 and blob[s_at + 4 + 17 : s_at + 4 + 49] == SID
    assert blob[s_at + 4 + 29 + 32 : s_at + 4 + 31 + 32] == b"\x13\x02"  # cipher suite at +29+n
    t_at = s_at + 4 + 63
    assert struct.unpack_from(">I", blob, t_at)[0] == 30 + 4 + 230 + 48 == 312  # T = 30 + k + m + h
    assert len(blob) == t_at + 4 + 312  # no extension section after T, no trailer


def test_tls13_without_cipher_suite_before_3_7_2():
    for version, expected_p in ((0x030701, 61), (0x030610, 61), (0x030702, 63), (0x030809, 63)):
        tree = tls13_client_tree(version)
        blob = sb.SessionBlob.build(tree)
        s_at = 13 + 4 + struct.unpack_from(">I", blob, 13)[0]
        assert struct.unpack_from(">I", blob, s_at)[0] == expected_p
        parsed = sb.SessionBlob.parse(blob)
        assert (parsed["security_parameters"]["body"]["cs"] is None) == (expected_p == 61)
        assert sb.SessionBlob.build(parsed) == blob


def test_tls12_layout_and_extension_list():
    entries = [{"gid": 7, "data": {"sign_algorithms": ["RSA-SHA256", 14]}},
               {"gid": "server_name", "data": {"server_name": b"example.org"}}]
    blob = sb.SessionBlob.build(tls12_server_tree(entries))
    auth_length = struct.unpack_from(">I", blob, 13)[0]
    assert auth_length == 24  # a server without client certificate: L = 24
    s_at = 17 + auth_length
    assert struct.unpack_from(">I", blob, s_at)[0] == 206  # P = 174 + n
    e_at = s_at + 4 + 206
    assert struct.unpack_from(">I", blob, e_at)[0] == 2
    gid, length = struct.unpack_from(">II", blob, e_at + 4)
    assert (gid, length) == (7, 4 + 2 * 4)
    parsed = sb.SessionBlob.parse(blob)
    # identifiers parse to numbers (built from a name or a number); gnutls_ids names them
    entries = parsed["extensions"]["entries"]
    assert [ids.SIGN_ALGORITHMS[a] for a in entries[0]["data"]["sign_algorithms"]] == ["RSA-SHA256", "ECDSA-SHA256"]
    assert ids.EXTENSION_GIDS[entries[1]["gid"]] == "server_name"
    assert entries[1]["data"]["server_name"] == b"example.org"
    assert sb.SessionBlob.build(parsed) == blob


@pytest.mark.parametrize("gid,payload,wire", [
    (2, {"cert_types": [1, 3]}, b"\x00\x02\x01\x03"),
    (6, {"username": b"u\0", "password": b"pw\0"}, b"\0\0\0\x02u\0\0\0\0\x03pw\0"),
    (8, {"profiles": [1, 2], "mki_received": 0, "selected_profile": None, "mki": None},
     b"\0\0\0\x02\0\0\0\x01\0\0\0\x02\0\0\0\0"),
    (8, {"profiles": [5], "mki_received": 1, "selected_profile": 5, "mki": b"k"},
     b"\0\0\0\x01\0\0\0\x05\0\0\0\x01\0\0\0\x05\0\0\0\x01k"),
    (9, {"mode": 5}, b"\0\0\0\x05"),
    (13, {"ticket": b"abc"}, b"\0\0\0\x03abc"),
    (18, {"server_name": b"h"}, b"\x00\x01h"),
    (99, b"anything", b"anything"),  # an application extension: raw bytes, never an error
    (10, b"", b""),
])
def test_extension_payloads(gid, payload, wire):
    built = sb.ExtensionEntry.build({"gid": gid, "data": payload})
    assert built == struct.pack(">II", gid, len(wire)) + wire
    parsed = sb.ExtensionEntry.parse(built)
    if isinstance(payload, dict):  # counts (profiles_size...) are rebuilt, so compare the given keys
        assert {key: parsed["data"][key] for key in payload} == payload
    else:
        assert parsed["data"] == payload
    assert sb.ExtensionEntry.build(parsed) == built


@pytest.mark.parametrize("auth_type,schema,body", [
    (2, sb.AnonAuthInfo, {"dh": {"secret_bits": 2047, "prime": b"\0" + b"p" * 256, "generator": b"\x02",
                                 "public_key": b"y" * 256}}),
    (4, sb.PskAuthInfo, {"username": b"user", "hint": b"\0",
                         "dh": {"secret_bits": 0, "prime": b"", "generator": b"", "public_key": b""}}),
    (3, sb.SrpAuthInfo, {"username": b"alice\0"}),
])
def test_auth_info_bodies(auth_type, schema, body):
    built = schema.build(body)
    assert schema.parse(built) == body
    section = sb.AuthInfo.build({"body": body}, auth_type=auth_type)
    assert section == struct.pack(">I", len(built)) + built
    assert sb.AuthInfo.parse(section, auth_type=auth_type)["body"] == body


def test_empty_auth_info_is_length_zero():
    assert sb.AuthInfo.build({"body": None}, auth_type=1) == b"\0\0\0\0"
    assert sb.AuthInfo.parse(b"\0\0\0\0", auth_type=1) == {"length": 0, "body": None}


def test_sized_bodies_must_fill_their_length():
    blob = bytearray(sb.SessionBlob.build(tls12_server_tree()))
    struct.pack_into(">I", blob, 13, 28)  # auth info says 28 bytes but its fields take 24
    with pytest.raises(BlobFormatError, match="4 unused bytes at the end of auth_info") as info:
        sb.SessionBlob.parse(bytes(blob))
    assert (info.value.path, info.value.offset) == ("auth_info", 13 + 4 + 24)


def test_trailing_bytes_refused_by_session_blob_not_by_packed_session():
    blob = sb.SessionBlob.build(tls12_server_tree())
    with pytest.raises(BlobFormatError, match="5 bytes of trailing garbage") as info:
        sb.SessionBlob.parse(blob + b"\0" * 5)
    assert info.value.offset == len(blob)
    assert sb.PackedSession.build(sb.PackedSession.parse(blob + b"\0" * 5)) == blob


def test_versions_before_3_6_5_fail_the_check():
    assert not sb.is_supported_version(0x030604)
    tree = tls13_client_tree()
    tree["magic"] = sb.magic_of_gnutls_version(0x030604)
    with pytest.raises(BlobFormatError, match="unsupported GnuTLS version 3.6.4") as info:
        sb.SessionBlob.parse(sb.PackedSession.build(tree))
    assert (info.value.path, info.value.offset) == ("magic", 0)


def test_session_id_longer_than_32_is_refused():
    tree = tls13_client_tree()
    tree["security_parameters"]["body"]["session_id"] = bytes(33)
    with pytest.raises(BlobFormatError, match="longer than GNUTLS_MAX_SESSION_ID_SIZE"):
        sb.SessionBlob.build(tree)


def test_lengths_are_rebuilt_after_a_change():
    parsed = sb.SessionBlob.parse(sb.SessionBlob.build(tls13_client_tree()))
    parsed["tls13"]["body"]["ticket"] = b"x" * 10
    blob = sb.SessionBlob.build(parsed)
    again = sb.SessionBlob.parse(blob)
    assert again["tls13"]["length"] == 30 + 4 + 10 + 48 and again["tls13"]["body"]["ticket"] == b"x" * 10


def test_every_corpus_session_parses_and_rebuilds_byte_identically():
    checked = 0
    for name, entry, blob in session_corpus(dummy=False):
        parsed = sb.SessionBlob.parse(blob)
        assert sb.SessionBlob.build(parsed) == blob, name
        assert ids.PROTOCOLS[parsed["security_parameters"]["body"]["pversion"]] == entry["protocol"], name
        checked += 1
    assert checked >= 20


@settings(max_examples=300, deadline=None)
@given(sessions())
def test_generated_sessions_round_trip(tree):
    blob = sb.SessionBlob.build(tree)
    parsed = sb.SessionBlob.parse(blob)
    assert sb.SessionBlob.build(parsed) == blob
    assert parsed["security_parameters"]["body"]["session_id"] == tree["security_parameters"]["body"]["session_id"]
