"""gnutls_lab.faces._views: the sess_id-like report, the annotated hex dump and the HTML view, on corpus blobs."""

from __future__ import annotations

import hashlib
import re

from blob_fixtures import session_corpus
from gnutls_lab.analysis._decode import decode
from gnutls_lab.faces._views import hexdump, html_view, leaf_fields, text_report, ticket_report

REAL = session_corpus(dummy=False)


def _case(case: str, version: str = "3.7.9"):
    return next(decode(blob) for name, entry, blob in REAL if entry["case"] == case and entry["gnutls_version"] == version)


def test_report_uses_openssl_labels_tls13():
    s = _case("tls13_client")
    report = text_report(s)
    for label in ("Protocol  : TLS1.3", "Cipher    : TLS_AES_256_GCM_SHA384 (0x1302)",
                  f"Session-ID: {s.session_id.hex().upper()}", "Resumption PSK: redacted",
                  f"TLS session ticket lifetime hint: {s.tls13.lifetime} (seconds)", f"Start Time: {s.timestamp}",
                  f"Timeout   : {s.expire_time} (sec)", "bearer credential"):
        assert label in report
    assert s.tls13.resumption_master_secret.hex().upper() not in report
    assert s.tls13.resumption_master_secret.hex().upper() in text_report(s, show_secrets=True)
    assert hashlib.sha256(s.peer_certificates[0]).hexdigest() in report


def test_report_tls12_master_key_and_extensions():
    s = _case("tls12_ticket_server", "3.8.9")
    report = text_report(s)
    assert "Master-Key: redacted" in report and s.master_secret.hex().upper() not in report
    assert f"Master-Key: {s.master_secret.hex().upper()}" in text_report(s, show_secrets=True)
    assert "Extension 18 (server_name): server_name=gnutls-lab.test" in report
    assert "ECDSA-SHA256" in report and "Packed by : GnuTLS 3.8.9" in report


def test_report_of_the_dummy_explains_it():
    report = text_report(decode(b"\0\0\0\0"))
    assert "dummy" in report and "Not an error" in report


def test_hexdump_covers_every_byte_in_order_and_masks_secrets():
    for case in ("tls13_client", "tls12_psk_client"):
        s = _case(case)
        dump = hexdump(s, full=True)
        rows = [line for line in dump.splitlines()[1:] if re.match(r"^[0-9a-f]{6}  ", line)]
        shown = "".join(row[8:56].replace(" ", "") for row in rows)
        secret = s.tls13.resumption_master_secret if s.tls13 else s.master_secret
        assert len(shown) == 2 * len(s.data)
        masked = bytes.fromhex(shown.replace("**", "00"))
        assert shown.count("**") == len(secret)
        assert secret.hex() not in shown
        revealed = "".join(r[8:56].replace(" ", "") for r in hexdump(s, show_secrets=True, full=True).splitlines()[1:]
                           if re.match(r"^[0-9a-f]{6}  ", r))
        assert bytes.fromhex(revealed) == s.data
        assert sum(a != b for a, b in zip(masked, s.data)) <= len(secret)
    assert "magic = 0xFAE1C1E6 = 0xFADEBADD + GnuTLS 3.7.9" in hexdump(_case("tls13_client"))


def test_leaf_fields_tile_the_blob():
    for name, entry, blob in REAL:
        leaves = leaf_fields(decode(blob))
        assert leaves[0].start == 0 and leaves[-1].end == len(blob)
        assert all(a.end == b.start for a, b in zip(leaves, leaves[1:])), name


def test_html_view_is_self_contained_highlights_and_redacts():
    s = _case("tls13_client")
    page = html_view(s)
    assert "<script" not in page.lower()
    leaves = leaf_fields(s)
    for index, field in enumerate(leaves):
        assert f".gl-blob:has(.f{index}:hover) .f{index}" in page
        assert field.path in page
    assert page.count("<span class='gl-byte f") == len(s.data)  # the one HTML hex dump, faces._views.hex_dump_html
    assert s.tls13.resumption_master_secret.hex() not in page.replace(" ", "")
    assert "··" in page and "··" not in html_view(s, show_secrets=True)
    assert "#f9f4b8" in page  # Okabe-Ito yellow tint marks the TLS 1.3 section


def test_repr_is_one_helpful_line():
    s = _case("tls13_client")
    text = repr(s)
    assert "3.7.9" in text and "TLS1.3" in text and "TLS_AES_256_GCM_SHA384" in text and "\n" not in text
    assert "dummy" in repr(decode(b"\0\0\0\0"))


def test_ticket_report_shows_the_inner_state():
    name, entry, blob = next(c for c in REAL if c[1]["case"] == "tls13_client")
    s = decode(blob)
    report = ticket_report(s.decrypt_ticket(bytes.fromhex(entry["ticket_key"])))
    assert "Ticket state (TLS1.3" in report and f"ticket_age_add: {s.tls13.ticket_age_add}" in report
    assert "resumption_master_secret: redacted" in report and "SERVER" in report


def test_a_field_after_a_length_prefix_says_so_and_its_sizes_add_up():
    from gnutls_lab import Lab
    from gnutls_lab.analysis._decode import decode
    from gnutls_lab.faces._views import describe_field, field_extent

    session = decode(Lab("1.3").connect().session_data)
    field = next(f for f in session.fields if f.path == "tls13.resumption_master_secret")
    size = field.end - field.start
    assert size == len(field.value) + 1  # a u8 length, then the secret
    assert field_extent(field) == (f"bytes [{field.start}:{field.end}] ({size} bytes: a 1-byte length, "
                                   f"then the {len(field.value)}-byte value)")
    assert describe_field(session, field) == f"({len(field.value)} bytes after a 1-byte length, redacted)"
    mac = next(f for f in session.fields if f.path == "tls13.ticket.mac")  # no prefix: nothing added
    assert field_extent(mac) == f"bytes [{mac.start}:{mac.end}] (20 bytes)"
    assert describe_field(session, mac).startswith("20 bytes: ")
