"""gnutls_lab.analysis._decode: the decoded session against the corpus manifest, the live library and the schemas.

Also the robustness contract: any bytes give either a decoded session or a BlobFormatError naming a
field path and byte offset (exhaustive truncations and byte flips of every corpus blob, plus
hypothesis mutations), and the plain, annotated and schema-only parses give one tree.
"""

from __future__ import annotations

import hashlib
import re
import struct
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blob_fixtures import session_corpus, sessions
from gnutls_lab import Lab
from gnutls_lab.analysis._decode import REDACTED, decode
from gnutls_lab.faces import session_to_dict
from gnutls_lab.errors import BlobFormatError, GnuTLSError, UsageError
from gnutls_lab.formats import DUMMY_SESSION, parse_session
from gnutls_lab.formats._session_blob import SessionBlob

SESSIONS = session_corpus()
REAL = session_corpus(dummy=False)
NAMES = [name for name, _, _ in SESSIONS]
NST = 4


@pytest.mark.parametrize("name,entry,blob", SESSIONS, ids=NAMES)
def test_corpus_blob_decodes_to_the_manifest(name, entry, blob):
    s = decode(blob)
    if blob == b"\0\0\0\0":
        assert s.dummy and "no-op" in s.dummy_reason and s.protocol is None
        assert session_to_dict(s)["dummy"] is True
        return
    assert s.gnutls_version == entry["gnutls_version"] == name.split("_")[0].split("-")[1]
    assert s.protocol == entry["protocol"]
    assert s.cipher_suite == entry["cipher_suite"]
    assert s.entity == entry["entity"].upper()
    assert s.auth_type == entry["auth_type"].upper()
    assert s.session_id.hex() == entry["session_id"]
    assert [hashlib.sha256(c).hexdigest() for c in s.peer_certificates] == entry["peer_certificates_sha256"]
    if s.protocol == "TLS1.2":
        assert s.master_secret.hex() == entry["master_secret"]
        assert s.tls13 is None
    nst = entry.get("last_new_session_ticket")
    if s.protocol == "TLS1.3" and s.entity == "CLIENT":
        assert (s.tls13.lifetime, s.tls13.ticket_age_add) == (nst["lifetime"], nst["age_add"])
        assert (s.tls13.nonce.hex(), s.tls13.ticket.hex()) == (nst["nonce"], nst["ticket"])
        # what each captured version really stores in a TLS 1.3 client blob
        assert s.tls13.max_early_data_size == {"3.7.9": 0xFFFFFFFF, "3.8.9": 0, "3.8.13": 0}[s.gnutls_version]
    elif nst:  # TLS 1.2 client with a ticket: stored as extension 13
        assert s.ticket.hex() == nst["ticket"]
    assert s.to_bytes() == blob


@pytest.mark.parametrize("name,entry,blob", REAL, ids=[n for n, _, _ in REAL])
def test_plain_and_annotated_decodes_are_the_schema_parse_on_the_corpus(name, entry, blob):
    assert decode(blob, annotate=False).tree == SessionBlob.parse(blob)
    assert decode(blob).tree == decode(blob, annotate=False).tree


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sessions())
def test_plain_and_annotated_decodes_are_the_schema_parse_on_generated_sessions(tree):
    blob = SessionBlob.build(tree)
    decoded = decode(blob, annotate=False)
    assert decoded.tree == SessionBlob.parse(blob) == decode(blob).tree
    assert decoded.to_bytes() == blob
    session_to_dict(decoded, show_secrets=True)  # every generated value has a JSON view (no exception)


def test_byte_ranges_locate_each_value():
    for _, _, blob in REAL[:6]:
        s = decode(blob)
        assert s.ranges["magic"] == (0, 4) and s.ranges["auth_type"] == (12, 13)
        for field in s.fields:
            raw = blob[field.start : field.end]
            if isinstance(field.value, bytes):
                assert raw.endswith(field.value), field.path
            elif isinstance(field.value, int):
                assert int.from_bytes(raw, "big") == field.value, field.path
        leaves = {f.path for f in s.fields}
        assert "security_parameters.session_id" in leaves
        assert s.field_at(s.ranges["security_parameters.session_id"][0] + 3).path == "security_parameters.session_id"


def test_names_types_and_times():
    name, entry, blob = next(c for c in REAL if c[1]["case"] == "tls13_client")
    s = decode(blob)
    assert s.start_time == datetime.fromtimestamp(s.timestamp, timezone.utc)
    assert s.expires_at == datetime.fromtimestamp(s.timestamp + 21600, timezone.utc)
    assert s.tls13.arrival_time.tzinfo is timezone.utc
    assert abs(s.tls13.arrival_time.timestamp() - s.timestamp) < 120
    assert s.prf == "SHA384" and s.client_certificate_type == "X.509"
    name, entry, blob = next(c for c in REAL if c[1]["case"] == "tls12_ticket_server")
    s = decode(blob)
    assert s.group in ("SECP256R1", "X25519") and s.extended_master_secret is True
    assert s.server_name == "gnutls-lab.test"
    assert "ECDSA-SHA256" in s.signature_algorithms  # the client's list, TLS 1.2 code points
    assert s.server_signature_algorithm.startswith("ECDSA")  # the lab certificate is ECDSA P-256


def test_json_view_has_the_cli_keys_and_redacts():
    name, entry, blob = next(c for c in REAL if c[1]["case"] == "tls12_ticket_client")
    view = session_to_dict(decode(blob))
    for key in ("gnutls_version", "dummy", "entity", "timestamp", "expire_time", "auth_type", "protocol",
                "cipher_suite", "session_id", "peer_certificates", "master_secret", "tls13"):
        assert key in view
    assert view["master_secret"] == REDACTED and view["entity"] == "client" and view["auth_type"] == "certificate"
    assert session_to_dict(decode(blob), show_secrets=True)["master_secret"] == entry["master_secret"]
    name, entry, blob = next(c for c in REAL if c[1]["case"] == "tls13_client")
    tls13 = session_to_dict(decode(blob))["tls13"]
    assert set(tls13) >= {"lifetime", "ticket_age_add", "nonce", "ticket", "resumption_master_secret",
                          "arrival_time", "max_early_data_size"}
    assert tls13["resumption_master_secret"] == REDACTED
    assert len(session_to_dict(decode(blob), show_secrets=True)["tls13"]["resumption_master_secret"]) == 96


# -- errors --------------------------------------------------------------------------------------
def _tls13_blob() -> bytes:
    return next(c for c in REAL if c[1]["case"] == "tls13_client")[2]


def test_truncation_names_field_and_offset():
    blob = _tls13_blob()
    with pytest.raises(BlobFormatError) as info:
        decode(blob[:100])
    assert info.value.path == "auth_info" and info.value.offset == 13
    with pytest.raises(BlobFormatError) as info:
        decode(blob[:-2])
    assert info.value.path == "tls13" and "exceeds" in str(info.value)
    with pytest.raises(BlobFormatError) as info:
        decode(b"")
    assert info.value.offset == 0


def test_trailing_garbage_is_an_error_that_says_libgnutls_ignores_it():
    blob = _tls13_blob()
    with pytest.raises(BlobFormatError) as info:
        decode(blob + b"junk")
    assert info.value.offset == len(blob) and "libgnutls" in str(info.value) and "ignore" in str(info.value)


def test_absurd_lengths_and_counts():
    blob = bytearray(_tls13_blob())
    struct.pack_into(">I", blob, 13, 0xFFFFFFFF)
    with pytest.raises(BlobFormatError) as info:
        decode(bytes(blob))
    assert "4294967295" in str(info.value) and info.value.offset == 13
    blob = bytearray(_tls13_blob())
    struct.pack_into(">I", blob, 13 + 4 + 16, 0x7FFFFFFF)  # ncerts
    with pytest.raises(BlobFormatError) as info:
        decode(bytes(blob))
    assert info.value.path == "auth_info.ncerts" and info.value.offset == 33


def test_unknown_magic_and_unsupported_versions():
    s = decode(_tls13_blob())
    with pytest.raises(BlobFormatError, match="unsupported GnuTLS version 3.6.4"):
        decode(s.rebuilt(gnutls_version="3.6.4"))
    with pytest.raises(BlobFormatError, match="unknown magic 0x12345678"):
        decode(b"\x12\x34\x56\x78" + _tls13_blob()[4:])
    assert decode(s.rebuilt(gnutls_version="3.7.2")).cipher_suite == s.cipher_suite


def test_session_id_over_32_bytes():
    blob = bytearray(_tls13_blob())
    at = decode(bytes(blob)).ranges["security_parameters.session_id"][0]
    blob[at] = 33
    with pytest.raises(BlobFormatError) as info:
        decode(bytes(blob))
    assert info.value.path == "security_parameters.session_id" and info.value.offset == at


#: The schema's field paths: dotted names, list items as [i], or the bytes after the session.
FIELD_PATH = re.compile(r"^(\(after end\)|\w+(\[\d+\])?(\.\w+(\[\d+\])?)*)$")
TOP_LEVEL = {"magic", "timestamp", "expire_time", "auth_type", "auth_info", "security_parameters", "tls13",
             "extensions", "(after end)"}
#: A count refuses what its list cannot hold: the list is where the cut is.
COUNTED = {"ncerts": "raw_certificate_list", "nocsp": "raw_ocsp_list", "sign_algorithms_size": "sign_algorithms",
           "profiles_size": "profiles"}


def _assert_refusal_contract(exc: BlobFormatError, data: bytes) -> None:
    """A refusal names a field path of the schema and a byte offset inside the input."""
    assert type(exc) is BlobFormatError
    assert exc.path and FIELD_PATH.match(exc.path), exc.path
    assert exc.path.split(".")[0].split("[")[0] in TOP_LEVEL, exc.path
    assert exc.offset is not None and 0 <= exc.offset <= len(data), (exc.offset, len(data))
    assert f"field {exc.path}" in str(exc) and f"byte offset {exc.offset}" in str(exc)


def _extent(fields: list, path: str) -> tuple[int, int] | None:
    """The bytes of field ``path`` (with everything under it) in a parse's field list; a count spans its list."""
    parent, _, leaf = path.rpartition(".")
    under = [path]
    if leaf in COUNTED:
        under.append(f"{parent}.{COUNTED[leaf]}" if parent else COUNTED[leaf])
    elif leaf == "count":
        under.append(parent)  # extensions.count: the entries are extensions[i]
    ranges = [(start, end) for name, start, end, _ in fields for p in under
              if name == p or name.startswith(p + ".") or name.startswith(p + "[")]
    return (min(s for s, _ in ranges), max(e for _, e in ranges)) if ranges else None


@pytest.mark.parametrize("name,entry,blob", REAL, ids=[n for n, _, _ in REAL])
def test_every_truncation_is_refused_at_the_field_it_cuts(name, entry, blob):
    fields: list = []
    parse_session(blob, fields)
    for size in range(len(blob)):
        with pytest.raises(BlobFormatError) as info:
            decode(blob[:size])
        exc = info.value
        _assert_refusal_contract(exc, blob[:size])
        extent = _extent(fields, exc.path)
        assert extent is not None, f"cut at {size}: {exc.path} is no field of the whole blob"
        start, end = extent
        assert start <= size < end, f"cut at {size}: {exc.path} spans {start}-{end}"
        assert start <= exc.offset <= size, f"cut at {size}: offset {exc.offset} outside {start}-{size}"


@pytest.mark.parametrize("name,entry,blob", REAL, ids=[n for n, _, _ in REAL])
def test_every_byte_flip_decodes_or_is_refused_at_or_after_the_flipped_field(name, entry, blob):
    fields: list = []
    parse_session(blob, fields)
    leaves = [(start, end) for _, start, end, value in fields if value is not None]
    for at in range(len(blob)):
        mutated = bytearray(blob)
        mutated[at] ^= 0xFF
        try:
            s = decode(bytes(mutated))
        except BlobFormatError as exc:
            _assert_refusal_contract(exc, mutated)
            field_start = next(start for start, end in leaves if start <= at < end)
            # everything before the flipped field reads as before: the parse cannot refuse earlier
            assert exc.offset >= field_start, (at, exc.path, exc.offset)
        else:
            assert s.to_bytes() == bytes(mutated)


@settings(max_examples=4000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(REAL), st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255), st.integers(0, 3)),
                                       min_size=1, max_size=6))
def test_random_mutations_only_raise_blob_format_errors(case, edits):
    data = bytearray(case[2])
    for at, value, kind in edits:
        at %= len(data) + 1
        if kind == 0 and at < len(data):
            data[at] = value
        elif kind == 1:
            data.insert(at, value)
        elif kind == 2 and at < len(data):
            del data[at]
        else:
            data[at:at] = struct.pack(">I", 0xFFFFFF00 | value)
    try:
        s = decode(bytes(data))
    except BlobFormatError as exc:
        _assert_refusal_contract(exc, data)
        return
    assert s.to_bytes() == bytes(data)  # whatever decodes also rebuilds byte-identically
    session_to_dict(s)


@settings(max_examples=1500, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_raise_blob_format_errors(data):
    if data == DUMMY_SESSION:
        return
    try:
        s = decode(data)
    except BlobFormatError as exc:
        _assert_refusal_contract(exc, data)
    else:
        assert s.to_bytes() == data


# -- the tamper lab -----------------------------------------------------------------------------
def test_replace_lifetime_and_magic():
    s = decode(_tls13_blob())
    shorter = s.replace(lifetime=10, ticket_age_add=0)
    assert shorter.tls13.lifetime == 10 and shorter.tls13.ticket_age_add == 0
    assert shorter.tls13.ticket == s.tls13.ticket and len(shorter.data) == len(s.data)
    moved = s.replace(gnutls_version="3.8.9")
    assert moved.data[:4] == bytes.fromhex("FAE1C2E6") and moved.data[4:] == s.data[4:]
    longer = s.replace({"tls13.nonce": b"12345678", "security_parameters.entity": "SERVER"})
    assert longer.tls13.nonce == b"12345678" and longer.entity == "SERVER"
    assert len(longer.data) == len(s.data) + 4
    with pytest.raises(UsageError):
        s.replace(no_such_field=1)


def test_flip_a_byte_of_the_ticket():
    s = decode(_tls13_blob())
    flipped = s.flipped("tls13.ticket", index=40)
    diff = [i for i in range(len(flipped)) if flipped[i] != s.data[i]]
    assert diff == [s.ranges["tls13.ticket"][0] + 40]
    assert decode(flipped).tls13.ticket != s.tls13.ticket


# -- the live library ---------------------------------------------------------------------------
@pytest.mark.parametrize("tls,auth", [("1.3", "certificate"), ("1.2", "certificate"), ("1.2", "psk"),
                                      ("1.3", "psk"), ("1.2", "anon")])
def test_fresh_sessions_agree_with_the_api(tls, auth):
    lab = Lab(tls, auth)
    conn = lab.connect()
    s = decode(conn.session_data)
    client = conn.client
    assert (s.protocol, s.cipher_suite) == (conn.protocol, conn.cipher_suite)
    assert s.session_id == client.session_id()
    assert s.peer_certificates == client.peer_certificates()
    assert s.auth_type == auth.upper()
    if s.protocol == "TLS1.2":
        assert s.master_secret == client.master_secret()
        assert (s.client_random, s.server_random) == client.randoms()
    else:
        body = [m.body for m in conn.transcript if m.sender == "server" and m.type == NST][-1]
        lifetime, age_add, nonce_size = struct.unpack_from(">IIB", body)
        assert (s.tls13.lifetime, s.tls13.ticket_age_add) == (lifetime, age_add)
        assert s.tls13.nonce == body[9 : 9 + nonce_size]
    server = conn.server.get_data()
    if not server.dummy:
        assert decode(server).entity == "SERVER" and decode(server).session_id == conn.server.session_id()
    assert decode(server).dummy == (conn.protocol == "TLS1.3")


def test_tampered_blob_is_what_libgnutls_then_uses():
    lab = Lab("1.3")
    first = lab.connect()
    s = decode(first.session_data)
    other = "3.8.9" if s.gnutls_version != "3.8.9" else "3.7.9"
    with pytest.raises(GnuTLSError) as info:  # another release's magic: set_data refuses it
        lab.connect(resume=s.rebuilt(gnutls_version=other))
    assert info.value.code == -30
    assert lab.connect(resume=s.to_bytes()).resumed is True
    assert lab.connect(resume=s.flipped("tls13.ticket.mac", index=0)).resumed is False


@pytest.mark.parametrize("version", ["3.7.9", "3.8.9"])
def test_resumed_tls13_blob_keeps_origin_and_gets_a_new_ticket(version):
    """Reference section 9: same timestamp, session ID and certificates; new ticket and secret."""
    by_case = {entry["case"]: decode(blob) for _, entry, blob in REAL if entry["gnutls_version"] == version}
    first, resumed = by_case["tls13_client"], by_case["tls13_resumed_client"]
    assert (resumed.timestamp, resumed.session_id) == (first.timestamp, first.session_id)
    assert resumed.peer_certificates == first.peer_certificates
    assert resumed.tls13.ticket != first.tls13.ticket
    assert resumed.tls13.resumption_master_secret != first.tls13.resumption_master_secret
