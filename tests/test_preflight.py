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
