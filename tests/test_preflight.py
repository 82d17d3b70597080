"""The preflight check that keeps corrupted blobs of the running library's own version away from
``gnutls_session_set_data``, which crashes on some of them (see gnutls_lab/_preflight.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from gnutls_lab import BlobFormatError, Lab, library_info
from gnutls_lab.formats._session_blob import magic_of_gnutls_version as library_magic
from gnutls_lab.sessions._preflight import check_session_data
from gnutls_lab.analysis._decode import decode

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "fuzz"))
from blob_fuzz import resume_in_child  # noqa: E402  (one resumption in a forked child: a crash is an outcome)

# One-bit flips in the last byte of a field that kill libgnutls 3.7.9 and 3.8.9 (measured on both).
CRASHERS = [("auth_info.ncerts", 0x02), ("auth_info.nocsp", 0x10), ("extensions[0].gid", 0x80),
            ("auth_info.dh.prime", 0x02)]


@pytest.fixture(scope="module")
def blob12():
    with Lab("1.2").connect() as conn:
        return conn.session_data.data


def _corrupt(blob: bytes, field: str, mask: int) -> bytes:
    offset = decode(blob).ranges[field][1] - 1
    return blob[:offset] + bytes([blob[offset] ^ mask]) + blob[offset + 1:]


def test_the_magic_is_the_library_version():
    assert library_magic((3, 7, 9)) == 0xFAE1C1E6 and library_magic((3, 8, 9)) == 0xFAE1C2E6
    with Lab("1.3").connect() as conn:
        data = conn.session_data.data
    assert int.from_bytes(data[:4], "big") == library_magic(library_info().version_tuple)


def test_real_blobs_the_dummy_and_other_versions_pass(blob12):
    version = library_info().version_tuple
    check_session_data(blob12, version)
    check_session_data(blob12 + b"trailing", version)  # libgnutls ignores trailing bytes too
    check_session_data(b"\x00\x00\x00\x00", version)
    other = (3, 8, 9) if version[:2] != (3, 8) else (3, 7, 9)
    check_session_data(library_magic(other).to_bytes(4, "big") + b"\xff" * 5, version)  # refused by libgnutls


@pytest.mark.parametrize("field, mask", CRASHERS)
def test_corruptions_that_crash_libgnutls_are_refused(blob12, field, mask):
    corrupted = _corrupt(blob12, field, mask)
    with pytest.raises(BlobFormatError) as err:
        check_session_data(corrupted, library_info().version_tuple)
    assert "refused before libgnutls" in str(err.value) and err.value.offset is not None
    lab = Lab("1.2")
    with pytest.raises(BlobFormatError):  # through the public path, before any C call
        lab.connect(resume=corrupted)
    assert lab.connect(resume=blob12).offered_resumption  # the lab is still fine


RAW = textwrap.dedent(r'''
    import sys
    from gnutls_lab import Lab
    from gnutls_lab.binding._library import load
    from gnutls_lab.sessions._session import ClientSession
    from gnutls_lab.sessions._transport import memory_pair
    data = bytes.fromhex(sys.stdin.read())
    ffi, lib = load()[:2]
    client = ClientSession(Lab("1.2").client_credentials, "1.2", endpoint=memory_pair()[0])
    print(lib.gnutls_session_set_data(client._ptr, data, len(data)))  # no preflight: the raw call
''')


def test_why_the_check_exists_the_raw_call_never_succeeds_and_crashes_today(blob12):
    """Without the check, these blobs reach ``_gnutls_session_unpack``. It never accepts them; on
    GnuTLS 3.7.9 and 3.8.9 it dies on each. If a newer libgnutls refuses them cleanly, this test says
    so and the preflight can be narrowed for that version."""
    outcomes = {}
    for field, mask in CRASHERS:
        child = subprocess.run([sys.executable, "-c", RAW], input=_corrupt(blob12, field, mask).hex(),
                               capture_output=True, text=True, timeout=60)
        if child.returncode < 0:
            outcomes[field] = signal.Signals(-child.returncode).name
        else:
            assert child.returncode == 0, child.stderr[-500:]
            rc = int(child.stdout.strip().splitlines()[-1])
            assert rc < 0, f"libgnutls accepted a corrupted {field}"
            outcomes[field] = rc
    if library_info().version_tuple <= (3, 8, 9):
        assert all(isinstance(v, str) for v in outcomes.values()), outcomes


# -- encrypt-then-MAC with a NULL-cipher suite (issue 20, 1.1) ---------------------------------------
# A CBC suite negotiates encrypt-then-MAC (the anon lab's default does; the certificate lab's GCM does not),
# so the blob carries etm = 1. Changing only its cipher suite to one whose bulk cipher is NULL makes the
# resumed handshake dereference a cipher libgnutls never set up. The rule comes from lib/cipher_int.c, and
# the set of suites from the running library's own table (gnutls_cipher_suite_info).
CBC = "NORMAL:-VERS-ALL:+VERS-{}:-CIPHER-ALL:+AES-128-CBC"
ETM_LABS = [("anon", "TLS1.2"), ("certificate", "TLS1.2"), ("psk", "TLS1.2"), ("anon", "TLS1.0")]


def _etm_blob(auth: str, version: str) -> tuple:
    lab = Lab(CBC.format(version), auth=auth)
    with lab.connect() as conn:
        data = conn.session_data.data
    assert decode(data).encrypt_then_mac, "a CBC suite should have negotiated encrypt-then-MAC"
    return lab, data


def test_the_null_cipher_suites_come_from_the_library_table():
    from gnutls_lab.formats._gnutls_ids import CIPHER_SUITES
    from gnutls_lab.sessions._preflight import null_cipher_suites

    suites = null_cipher_suites()
    assert {0x0001, 0x0002, 0xC015} <= suites and len(suites) == 18  # 3.7.9, 3.8.9 and 3.8.13 alike
    assert suites == {suite for suite, name in CIPHER_SUITES.items() if "_WITH_NULL_" in name}


@pytest.mark.parametrize("auth, version", ETM_LABS)
def test_etm_with_every_null_cipher_suite_is_refused(auth, version):
    from gnutls_lab.sessions._preflight import null_cipher_suites

    lab, data = _etm_blob(auth, version)
    session = decode(data)
    for suite in sorted(null_cipher_suites()):
        forged = session.rebuilt(cipher_suite=suite)
        with pytest.raises(BlobFormatError) as err:
            lab.connect(resume=forged)
        assert err.value.path == "security_parameters.etm" and f"0x{suite:04X}" in str(err.value)
        assert forged[err.value.offset:err.value.offset + 4] == b"\x00\x00\x00\x01"
    assert lab.connect(resume=data).resumed  # the real blob still resumes


def test_a_null_suite_without_etm_is_left_to_libgnutls():
    """The rule is the pair, not the suite: without encrypt-then-MAC libgnutls fails that handshake itself."""
    lab, data = _etm_blob("anon", "TLS1.2")
    forged = decode(data).rebuilt({"cipher_suite": 0xC015, "security_parameters.etm": 0})
    check_session_data(forged, library_info().version_tuple)
    with pytest.raises(gnutls_lab_error()):
        lab.connect(resume=forged)


def gnutls_lab_error():
    from gnutls_lab import GnuTLSLabError

    return GnuTLSLabError


RAW_RESUME = textwrap.dedent(r'''
    import sys
    from gnutls_lab import Lab
    from gnutls_lab.analysis._decode import decode
    from gnutls_lab.sessions import _session as session
    lab = Lab("NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC", auth=sys.argv[1])
    with lab.connect() as conn:
        data = decode(conn.session_data.data).rebuilt(cipher_suite=int(sys.argv[2], 0))
    session._checked_blobs.add(data)  # as if it had passed the preflight: straight to set_data
    try:
        with lab.connect(resume=data) as conn:
            print("resumed" if conn.resumed else "full handshake")
    except Exception as exc:
        print(type(exc).__name__, exc)
''')


@pytest.mark.parametrize("auth", ["anon", "certificate", "psk"])
def test_why_the_etm_rule_exists_the_raw_resumption_crashes(auth):
    """Without the preflight, the blob unpacks and the resumed handshake dies with SIGSEGV:
    3.7.9, 3.8.9 and 3.8.13 alike. If a newer libgnutls survives, this test says so."""
    child = subprocess.run([sys.executable, "-c", RAW_RESUME, auth, "0xC015"], capture_output=True, text=True,
                           timeout=120)
    assert child.returncode == -signal.SIGSEGV, (child.returncode, child.stdout, child.stderr[-800:])


# --- the protocol version (findings/set-data-crash: tls13-pversion-4, tls13-pversion-1, tls12-pversion-5) ---

def _with_version(blob: bytes, version: int) -> bytes:
    start, end = decode(blob).ranges["security_parameters.pversion"]
    return blob[:start] + version.to_bytes(end - start, "big") + blob[end:]


def _misread_extension_count(blob: bytes) -> int:
    """The extension count libgnutls reads from a TLS 1.3 blob whose version says TLS <= 1.2: after the
    security parameters it reads three u8-prefixed values and seven u32 fields, then a signed u32 count
    (lib/hello_ext.c keeps it in an int). Positive: it reads an extension id from the ticket and aborts."""
    at = decode(blob).ranges["tls13.length"][0]  # where the security parameters end
    for _ in range(3):
        at += 1 + blob[at]
    at += 7 * 4
    return int.from_bytes(blob[at:at + 4], "big", signed=True)


FLIPS = [("1.3", 4), ("1.3", 1), ("1.2", 5)]


@pytest.mark.parametrize("tls, version", FLIPS)
def test_protocol_version_flips_are_refused_before_libgnutls(tls, version):
    """5 -> 4 and 5 -> 1 on a TLS 1.3 blob, 4 -> 5 on a TLS 1.2 blob: the preflight names the version.
    The resumption runs in a forked child, so a crash would fail this test, not the suite."""
    lab = Lab(tls)
    with lab.connect() as conn:
        flipped = _with_version(conn.session_data.data, version)
    with pytest.raises(BlobFormatError) as err:
        check_session_data(flipped, library_info().version_tuple)
    assert f"protocol version {version} " in str(err.value)
    assert err.value.path == "security_parameters.pversion"
    assert resume_in_child(lab, flipped) == "refused by the preflight"


def test_a_tls12_blob_that_says_ssl3_is_left_to_libgnutls_and_does_not_crash():
    """4 -> 1 keeps the TLS 1.2 layout: libgnutls accepts the bytes and the handshake goes its way."""
    lab = Lab("1.2")
    with lab.connect() as conn:
        flipped = _with_version(conn.session_data.data, 1)
    check_session_data(flipped, library_info().version_tuple)
    assert resume_in_child(lab, flipped) in ("full handshake", "handshake failed")


def test_why_the_version_check_exists_the_raw_call_aborts_when_the_misread_count_is_positive():
    """Without the preflight, a TLS 1.3 blob that says TLS 1.2 aborts inside set_data exactly when the count
    read from its ticket is positive (about one ticket key in two) and is accepted when it is not, on
    3.7.9, 3.8.9 and 3.8.13. Each raw call runs in its own process."""
    outcomes = {"abort": 0, "accepted": 0}
    for _ in range(12):
        with Lab("1.3").connect() as conn:  # a fresh ticket key each time
            blob = conn.session_data.data
        positive = _misread_extension_count(blob) > 0
        child = subprocess.run([sys.executable, "-c", RAW13], input=_with_version(blob, 4).hex(),
                               capture_output=True, text=True, timeout=60)
        if positive:
            assert child.returncode == -signal.SIGABRT, (child.returncode, child.stderr[-300:])
            assert "Assertion" in child.stderr and "MAX_EXT_TYPES" in child.stderr, child.stderr[-300:]
            outcomes["abort"] += 1
        else:
            assert child.returncode == 0 and child.stdout.split()[-1] == "0", (child.returncode, child.stderr[-300:])
            outcomes["accepted"] += 1
    assert outcomes["abort"] > 0, outcomes  # 12 keys all with a negative count: one chance in 4096


RAW13 = RAW.replace('Lab("1.2")', 'Lab("1.3")').replace('"1.2", endpoint', '"1.3", endpoint')


# --- the session ID's length (GNUTLS_MAX_SESSION_ID_SIZE; upstream gnutls#1817, fixed in 3.8.13) ---

def _with_session_id(blob: bytes, session_id: bytes) -> bytes:
    """``blob`` with another session ID (u8 length + bytes) and the security parameters' length to match."""
    ranges = decode(blob).ranges
    start, end = ranges["security_parameters.session_id"]
    length_at = ranges["security_parameters.length"][0]
    size = int.from_bytes(blob[length_at:length_at + 4], "big") + len(session_id) - (end - start - 1)
    out = blob[:start] + bytes([len(session_id)]) + session_id + blob[end:]
    return out[:length_at] + size.to_bytes(4, "big") + out[length_at + 4:]




@pytest.mark.parametrize("tls", ["1.3", "1.2"])
@pytest.mark.parametrize("size", [33, 255])
def test_a_session_id_over_32_bytes_is_refused_by_the_preflight_and_by_debians_libgnutls(tls, size):
    """Upstream GnuTLS before 3.8.13 copies up to 255 bytes into its 32-byte session_id array (a heap
    overflow, gnutls#1817, commit 3d45a63b1); Debian's 3.7.9 and 3.8.9 carry the fix and 3.8.13 has it:
    their set_data returns GNUTLS_E_INVALID_REQUEST. The preflight refuses it for every version."""
    lab = Lab(tls)
    with lab.connect() as conn:
        blob = conn.session_data.data
    longer = _with_session_id(blob, bytes(range(size)))
    assert _with_session_id(blob, decode(blob).session_id) == blob  # the edit itself is exact
    with pytest.raises(BlobFormatError) as err:
        check_session_data(longer, library_info().version_tuple)
    assert "longer than GNUTLS_MAX_SESSION_ID_SIZE (32)" in str(err.value)
    assert err.value.path == "security_parameters.session_id"
    assert resume_in_child(lab, longer) == "refused by the preflight"
    raw = RAW if tls == "1.2" else RAW13
    child = subprocess.run([sys.executable, "-c", raw], input=longer.hex(), capture_output=True, text=True, timeout=60)
    assert child.returncode == 0, (child.returncode, child.stderr[-300:])
    assert int(child.stdout.split()[-1]) == -50, child.stdout  # GNUTLS_E_INVALID_REQUEST, no overflow


def test_a_wrong_section_length_is_not_blamed_on_the_protocol_version():
    with Lab("1.3").connect() as conn:
        blob = conn.session_data.data
    at = decode(blob).ranges["security_parameters.length"][0]
    longer = blob[:at] + (int.from_bytes(blob[at:at + 4], "big") + 2).to_bytes(4, "big") + blob[at + 4:]
    with pytest.raises(BlobFormatError) as err:
        check_session_data(longer, library_info().version_tuple)
    assert err.value.path != "security_parameters.pversion" and "protocol version" not in str(err.value)
