"""Hostile sizes: the decoder refuses inputs over MAX_BLOB_SIZE at once, and its views stay bounded."""

from __future__ import annotations

import subprocess
import sys

import pytest

import gnutls_lab
from blob_fixtures import session_corpus
from gnutls_lab import BlobFormatError
from gnutls_lab.analysis._decode import decode
from gnutls_lab.faces import _views as views
from gnutls_lab.formats._session_blob import MAX_BLOB_SIZE, SessionBlob

CLIENT12 = next(b for n, e, b in session_corpus(dummy=False) if "3.7.9_tls12_dhe_rsa_client" in n)


def test_the_cap_is_64_kib_and_real_blobs_are_far_below():
    assert MAX_BLOB_SIZE == 64 * 1024
    assert max(len(b) for _, _, b in session_corpus()) < 4096


@pytest.mark.parametrize("entry", [decode, gnutls_lab.decode_session])
def test_inputs_over_the_cap_are_refused_naming_the_size(entry):
    with pytest.raises(BlobFormatError, match=f"{MAX_BLOB_SIZE + 1} bytes is over the {MAX_BLOB_SIZE}-byte limit"):
        entry(CLIENT12 + bytes(MAX_BLOB_SIZE + 1 - len(CLIENT12)))
    with pytest.raises(BlobFormatError, match="over the"):
        entry(bytearray(10 * MAX_BLOB_SIZE))


def test_cli_decode_of_an_endless_file_is_refused_at_once():
    done = subprocess.run([sys.executable, "-m", "gnutls_lab", "decode", "/dev/zero"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "it is a character device, not a regular file" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_decode_of_stdin_over_the_cap_is_refused(tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(MAX_BLOB_SIZE + 1))
    with open(big, "rb") as handle:
        done = subprocess.run([sys.executable, "-m", "gnutls_lab", "decode", "-"], stdin=handle,
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "more than" in done.stderr


def _large_valid_blob() -> bytes:
    tree = SessionBlob.parse(CLIENT12)
    tree["auth_info"]["body"]["raw_certificate_list"] = [b"\x30" * 30000, b"\x31" * 30000]
    data = SessionBlob.build(tree)
    assert 60000 < len(data) <= MAX_BLOB_SIZE
    return data


def test_views_of_a_blob_at_the_cap_stay_bounded():
    session = decode(_large_valid_blob())
    page = views.html_view(session)
    assert len(page) < 100 * views.HTML_GRID_BYTES + 300 * views.HTML_LEGEND_FIELDS  # not ~70 per byte of 64 KiB
    assert "more bytes (the first 4096 are shown)" in page
    dump = views.hexdump(session, full=True)
    assert dump.count("\n") < 2 * views.HEXDUMP_FULL_ROWS + 200 and "more bytes of auth_info.raw_certificate_list[0]" in dump
    assert views.hexdump(session).count("\n") < 200
