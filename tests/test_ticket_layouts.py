"""formats/_server_tickets.py: other servers' ticket layouts, read from real tickets where a server here makes
them (openssl s_server, gnutls-serv) and built from parts where none does (wolfSSL, Mbed TLS, Go)."""

from __future__ import annotations

import os

import pytest

from gnutls_lab.errors import BlobFormatError
from gnutls_lab.formats import SERVER_TICKET_LAYOUTS, parse_server_ticket
from gnutls_lab.formats._server_tickets import GoTicket, MbedTlsTicket, OpenSslTicket, WolfSslTicket
from gnutls_lab.analysis import decode
from gnutls_lab.formats import parse_span
from gnutls_lab.network import ExternalServer, connect

LAYOUTS = {layout.name: layout for layout in SERVER_TICKET_LAYOUTS}


def real_ticket(kind: str, tls: str, cert_files, args=()) -> bytes:
    cert, key = cert_files
    with ExternalServer(kind, cert, key, tls, extra_args=args) as server:
        with connect("127.0.0.1", server.port, tls) as conn:
            return decode(conn.session_data).ticket


@pytest.mark.peers
@pytest.mark.parametrize("tls", ["1.3", "1.2"])
def test_openssl_layout_reads_openssl_s_server_tickets(cert_files, tls):
    ticket = real_ticket("openssl", tls, cert_files, ("-www",))
    fields: list = []
    tree = parse_server_ticket(LAYOUTS["openssl"], ticket, fields)
    assert len(tree["key_name"]) == 16 and len(tree["IV"]) == 16 and len(tree["mac"]) == 32
    assert len(tree["encrypted_state"]) % 16 == 0 and len(tree["encrypted_state"]) + 64 == len(ticket)
    assert [path for path, *_ in fields] == ["key_name", "IV", "encrypted_state", "mac"]
    assert fields[-1][1:3] == (len(ticket) - 32, len(ticket))
    assert OpenSslTicket.build(tree) == ticket
    with pytest.raises(BlobFormatError):  # not a GnuTLS envelope: its length field does not match
        parse_server_ticket(LAYOUTS["gnutls"], ticket)


@pytest.mark.peers
@pytest.mark.parametrize("tls", ["1.3", "1.2"])
def test_gnutls_layout_reads_gnutls_serv_tickets_and_refuses_openssls(cert_files, tls):
    ticket = real_ticket("gnutls-serv", tls, cert_files)
    tree = parse_server_ticket(LAYOUTS["gnutls"], ticket)
    assert tree["encrypted_state_len"] + 54 == len(ticket)
    with pytest.raises(BlobFormatError):  # 54 + 16n bytes: not 64 + 16n
        parse_server_ticket(LAYOUTS["openssl"], ticket)


@pytest.mark.parametrize("schema,parts", [
    (WolfSslTicket, {"key_name": b"N" * 16, "IV": b"I" * 16, "encrypted_state": b"S" * 80, "mac": b"M" * 32}),
    (MbedTlsTicket, {"key_name": b"NAME", "IV": b"I" * 12, "encrypted_state": b"S" * 93, "tag": b"T" * 16}),
    (GoTicket, {"IV": b"I" * 16, "encrypted_state": b"S" * 77, "mac": b"M" * 32}),
    (OpenSslTicket, {"key_name": b"N" * 16, "IV": b"I" * 16, "encrypted_state": b"S" * 96, "mac": b"M" * 32}),
])
def test_layouts_build_and_parse_back(schema, parts):
    data = schema.build(parts)
    tree = parse_span(schema, data)
    assert {k: tree[k] for k in parts} == parts
    assert schema.build(tree) == data
    assert len(data) == sum(len(v) for v in parts.values()) + (2 if "encrypted_state_len" in tree else 0)


def test_a_length_field_that_lies_is_refused_with_its_path():
    data = bytearray(WolfSslTicket.build({"key_name": bytes(16), "IV": bytes(16), "encrypted_state": bytes(48),
                                          "mac": bytes(32)}))
    data[33] += 1  # one byte more than there is
    with pytest.raises(BlobFormatError) as caught:
        parse_span(WolfSslTicket, bytes(data))
    assert caught.value.path in ("encrypted_state", "mac")
    with pytest.raises(BlobFormatError, match="after the tag"):
        parse_span(MbedTlsTicket, MbedTlsTicket.build({"key_name": b"abcd", "IV": bytes(12), "encrypted_state": b"x",
                                                       "tag": bytes(16)}) + b"!")


def test_rest_leaves_the_trailer_and_refuses_too_short_input():
    with pytest.raises(BlobFormatError) as caught:
        parse_span(OpenSslTicket, os.urandom(40))  # name and IV, then 8 bytes: no room for a 32-byte MAC
    assert caught.value.path == "encrypted_state" and "truncated" in str(caught.value)
    with pytest.raises(BlobFormatError, match="do not fit"):  # a CBC ciphertext that is not whole blocks
        parse_server_ticket(LAYOUTS["openssl"], os.urandom(64 + 20))
    with pytest.raises(BlobFormatError, match="do not fit"):
        parse_server_ticket(LAYOUTS["go"], os.urandom(48))  # an empty ciphertext


def test_every_layout_names_its_source_and_sizes():
    for layout in SERVER_TICKET_LAYOUTS:
        assert layout.source and layout.implementations and layout.mac_size in (16, 20, 32)
        empty = bytes(layout.key_name_size + layout.iv_size + (2 if layout.length_field else 0) + layout.mac_size)
        with pytest.raises(BlobFormatError):
            parse_server_ticket(layout, empty)
