"""Bytes that lie about themselves (issue 20, 1.4): a ``bytes`` subclass can fake ``__eq__``, ``__hash__``,
``__len__``, ``__bytes__`` and ``__getitem__``. The lab checks, caches and hands to libgnutls only the
bytes an object really holds (``gnutls_lab.binding._library.exact_bytes``), so a lie neither gets past the
preflight's cache nor makes libgnutls read past a buffer."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from gnutls_lab import Lab, UsageError
from gnutls_lab.binding._library import exact_bytes

LIAR = textwrap.dedent('''
    class Liar(bytes):
        """Equal to everything, hashed as ``twin``, long as ``length``, and bytes() of it is itself."""
        twin = b""
        length = None
        def __eq__(self, other): return True
        def __ne__(self, other): return False
        def __hash__(self): return hash(self.twin)
        def __bytes__(self): return self
        def __len__(self): return len(bytes.__getitem__(self, slice(None))) if self.length is None else self.length
        def __getitem__(self, index): return bytes.__getitem__(self.twin, index)
''')
exec(LIAR)  # noqa: S102 - the same class in this process and in the child below


def liar(real: bytes, twin: bytes = b"", length: int | None = None):
    value = Liar(real)  # noqa: F821 - defined by exec above
    value.twin, value.length = twin, length
    return value


def test_exact_bytes_reads_the_storage_whatever_the_subclass_says():
    value = liar(b"real", twin=b"fake", length=1000)
    assert len(value) == 1000 and value[:4] == b"fake" and bytes(value) is value  # the lies
    copy = exact_bytes(value)
    assert type(copy) is bytes and copy == b"real" and len(copy) == 4

    class LyingArray(bytearray):
        def __bytes__(self):
            return b"lie"

        def __getitem__(self, index):
            return b"x"

    assert exact_bytes(LyingArray(b"array")) == b"array"
    assert exact_bytes(memoryview(b"view")) == b"view"
    plain = b"same object"
    assert exact_bytes(plain) is plain
    with pytest.raises(UsageError, match="a ticket key must be bytes, not str"):
        exact_bytes("text", "a ticket key")


CHILD = LIAR + textwrap.dedent('''
    from gnutls_lab import Lab
    from gnutls_lab.analysis._decode import decode
    lab = Lab("1.2")
    with lab.connect() as conn:
        good = conn.session_data.data
    with lab.connect(resume=good) as conn:   # the good blob is now in the preflight's cache
        assert conn.resumed
    bad = decode(good).flipped("extensions[0].gid", 3, 0x80)  # an extension id that aborts libgnutls
    forged = Liar(bad)
    forged.twin = good
    try:
        lab.connect(resume=forged)
        print("connected")
    except Exception as exc:
        print(type(exc).__name__, exc)
''')


def test_a_subclass_faking_eq_and_hash_does_not_pass_the_preflight_cache():
    """Before: the lie matched the cached good blob, the bad bytes went to set_data, SIGABRT."""
    child = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, (child.returncode, child.stderr[-600:])
    assert child.stdout.startswith("BlobFormatError refused before libgnutls"), child.stdout
    assert "extensions[0].gid" in child.stdout


def test_session_data_holds_exact_bytes_and_compares_by_them():
    from gnutls_lab import SessionData

    data = SessionData(liar(b"\0\0\0\0", twin=b"x"))
    assert type(data.data) is bytes and data.dummy
    assert data != liar(b"other", twin=b"\0\0\0\0")  # its __eq__ would say equal
    assert data == b"\0\0\0\0"


def test_record_and_early_data_send_the_stored_bytes_only():
    """Before: ``gnutls_record_send(data, len(data))`` read 4096 bytes of a 5-byte object."""
    with Lab("1.3").connect() as conn:
        sent = conn.client.send(liar(b"hello", length=4096))
        assert sent == 5
        assert conn.server.recv() == b"hello"
    from gnutls_lab import ZeroRttLab

    zero = ZeroRttLab()
    ticket = zero.issue_ticket()
    with zero.resume(ticket, early_data=liar(b"early", length=4096)) as conn:
        assert conn.client.early_data_sent == b"early"


def test_keys_are_taken_at_their_stored_length():
    """Before: a 4-byte key claiming 64 passed the size check and libgnutls read 60 bytes past it."""
    with pytest.raises(UsageError, match="64 bytes, not 4"):
        Lab("1.3", ticket_key=liar(b"four", length=64))
    key = bytes(range(64))
    lab = Lab("1.3", ticket_key=liar(key, twin=b"", length=64))
    assert type(lab.ticket_key) is bytes and lab.ticket_key == key
    with lab.connect() as first, lab.connect(resume=first.session_data) as again:
        assert again.resumed
    psk = Lab("1.2", auth="psk", psk_key=liar(b"k" * 16, length=4096))
    assert type(psk.client_credentials.keys["lab-user"]) is bytes
    assert psk.connect().cipher_suite  # the handshake agrees: both sides hold the same 16 bytes


def test_decode_and_load_ticket_key_read_the_stored_bytes():
    from gnutls_lab.analysis._decode import decode
    from gnutls_lab.analysis._ticket_keys import load_ticket_key

    with Lab("1.3").connect() as conn:
        blob = conn.session_data.data
    assert decode(liar(blob, twin=b"\0\0\0\0", length=4)).to_bytes() == blob
    key = bytes(range(64))
    assert load_ticket_key(liar(key, twin=b"z" * 128, length=128)) == key


def test_a_session_data_subclass_cannot_hand_over_lying_bytes():
    from gnutls_lab import SessionData
    from gnutls_lab.sessions._session import session_data_bytes

    class Sneaky(SessionData):
        __slots__ = ()

        def __init__(self):  # nothing stored: .data below answers
            pass

        @property
        def data(self):
            return liar(b"\xfa" * 8, twin=b"\0\0\0\0", length=4)

    raw = session_data_bytes(Sneaky())
    assert type(raw) is bytes and raw == b"\xfa" * 8  # what it really holds, not what it claims
