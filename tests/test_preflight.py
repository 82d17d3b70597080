"""The preflight check that keeps corrupted blobs of the running library's own version away from
``gnutls_session_set_data``, which crashes on some of them (see gnutls_lab/_preflight.py)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

from gnutls_lab import BlobFormatError, Lab, library_info
from gnutls_lab.formats._session_blob import magic_of_gnutls_version as library_magic
from gnutls_lab.sessions._preflight import check_session_data
from gnutls_lab.analysis._decode import decode

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
