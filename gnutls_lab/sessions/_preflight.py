"""The checks a session blob passes before the binding hands it to ``gnutls_session_set_data``.

Why this exists. ``_gnutls_session_unpack`` (``lib/session_pack.c``) trusts the blob once its magic
matches the running library, and GnuTLS 3.7.9 and 3.8.9 die with SIGSEGV or SIGABRT on some one-bit
corruptions of their own blobs. Mostly ``gnutls_session_set_data`` returns an error and the process
dies later, in the next handshake or in ``gnutls_deinit``: after a bad certificate or OCSP count
(some bits of the DH lengths do the same) the unpacker frees the certificate list, setting it to
NULL, but keeps its count. Only a TLS 1.2 extension id out of range aborts inside ``set_data`` itself
(an assertion). No flip of the protocol version crashed; it is checked only as a value that must
exist. The project's ``findings/set-data-crash/`` holds minimal C reproducers; ``tests/test_hostile.py``
found them. gnutls-lab promises never to crash the process, so a blob that
carries the running library's magic is first parsed with the decoder's schema
(:data:`gnutls_lab.formats._session_blob.PackedSession`); a blob with another
magic goes straight to libgnutls, which refuses it safely at the magic (``GNUTLS_E_DB_ERROR``), and
that refusal is worth seeing in the tamper lab.

The checks mirror what the unpacker dereferences: every length inside its section, counts that fit,
a protocol version and extension ids that exist. Trailing bytes are allowed, as libgnutls allows them.
One check is not about unpacking: a TLS 1.2 blob that sets encrypt-then-MAC on a NULL-cipher suite
unpacks fine and crashes the resumed handshake (see :func:`_check_etm_cipher`).
"""

from __future__ import annotations

from ..binding import load
from ..errors import BlobFormatError
from ..formats import CREDENTIALS, EXTENSION_GIDS, PROTOCOLS
from ..formats import DUMMY_SESSION, magic_of, magic_of_gnutls_version, parse_session

__all__ = ["check_session_data", "null_cipher_suites"]

#: ``GNUTLS_CRD_IA``: in the credentials table for naming, but no session can have it.
_CRD_IA = 5


def _refuse(reason: str, path: str, offset: int) -> BlobFormatError:
    return BlobFormatError(f"refused before libgnutls (its set_data can crash on a malformed blob): {reason}",
                           path=path, offset=offset)


def check_session_data(data: bytes, version_tuple: tuple) -> None:
    """Raise :class:`BlobFormatError` if libgnutls ``version_tuple`` must not be handed ``data``."""
    if data == DUMMY_SESSION or magic_of(data) != magic_of_gnutls_version(tuple(version_tuple)):
        return  # the dummy is a no-op; another magic is refused by libgnutls itself, safely
    try:
        tree = parse_session(data, strict=False, containers=True)  # compiled; libgnutls ignores trailing bytes
    except BlobFormatError as exc:
        raise _refuse(exc.reason, exc.path, exc.offset) from None
    if tree["auth_type"] not in CREDENTIALS or tree["auth_type"] == _CRD_IA:
        raise _refuse(f"unknown auth type {tree['auth_type']}", "auth_type", _offset(data, "auth_type"))
    version = tree["security_parameters"]["body"]["pversion"]
    if version not in PROTOCOLS:
        path = "security_parameters.pversion"
        raise _refuse(f"unknown protocol version {version}", path, _offset(data, path))
    for index, extension in enumerate((tree["extensions"] or {}).get("entries", ())):
        if extension["gid"] not in EXTENSION_GIDS:
            path = f"extensions[{index}].gid"
            raise _refuse(f"unknown extension id {extension['gid']}", path, _offset(data, path))
    _check_etm_cipher(data, tree["security_parameters"]["body"])


def _check_etm_cipher(data: bytes, parameters) -> None:
    """Encrypt-then-MAC on a suite whose bulk cipher is NULL: the record layer dereferences a cipher
    it never set up (``lib/cipher_int.c``: ``handle->cipher.e->type`` when ``etm`` is set, and a NULL
    cipher leaves ``handle->cipher`` zeroed), SIGSEGV at the first protected record of the resumed
    handshake. libgnutls itself sets ``etm`` only for block ciphers (``lib/ext/etm.c``), so no real
    session has this pair; the blob's suite is taken without the priority check a ServerHello gets.
    Every credential kind and TLS 1.0-1.2 alike (a CBC suite negotiates ETM; GCM does not)."""
    if not parameters.get("etm"):  # absent under TLS 1.3, 0 unless a CBC suite negotiated it
        return
    suite = parameters.get("cs")
    if suite in null_cipher_suites():
        path = "security_parameters.etm"
        raise _refuse(f"encrypt-then-MAC with the NULL-cipher suite 0x{suite:04X}, a pair libgnutls never "
                      "writes and crashes on", path, _offset(data, path))


_null_suites: frozenset | None = None


def null_cipher_suites() -> frozenset:
    """The cipher suite ids (e.g. 0x0001) whose bulk cipher is ``GNUTLS_CIPHER_NULL``, read from the
    running library's own table (``gnutls_cipher_suite_info``)."""
    global _null_suites
    if _null_suites is None:
        ffi, lib = load()[:2]
        suite_id = ffi.new("unsigned char[2]")
        cipher = ffi.new("unsigned int *")
        found, index = set(), 0
        while lib.gnutls_cipher_suite_info(index, suite_id, ffi.NULL, cipher, ffi.NULL, ffi.NULL) != ffi.NULL:
            if cipher[0] == lib.GNUTLS_CIPHER_NULL:
                found.add(suite_id[0] << 8 | suite_id[1])
            index += 1
        _null_suites = frozenset(found)
    return _null_suites


def _offset(data: bytes, path: str) -> int | None:
    """Where field ``path`` starts: an annotated parse, only for a blob being refused."""
    fields: list = []
    parse_session(data, fields, strict=False)
    return next((start for name, start, _end, _value in fields if name == path), None)
