"""The checks a session blob passes before the binding hands it to ``gnutls_session_set_data``.

Why this exists. ``_gnutls_session_unpack`` (``lib/session_pack.c``) trusts the blob once its magic
matches the running library, and GnuTLS 3.7.9, 3.8.9 and 3.8.13 die with SIGSEGV or SIGABRT on some
one-field corruptions of their own blobs:

- a bad certificate or OCSP count (some bits of the DH lengths do the same): ``set_data`` returns an
  error and the process dies later, in the next handshake or in ``gnutls_deinit``, because the unpacker
  frees the certificate list, setting it to NULL, but keeps its count;
- a TLS 1.2 extension id out of range: an assertion aborts inside ``set_data`` itself;
- the protocol version of a TLS 1.3 blob changed to any other version (TLS 1.2, SSL 3.0, ...):
  ``unpack_security_parameters`` reads the TLS 1.2 fields from the whole blob, not from its section, so
  it reads on into the ticket, then reads the ticket's bytes as a TLS 1.2 extension list, and aborts on
  the extension-id assertion whenever the count it reads there is positive (about one ticket key in two).
  The opposite flip (a TLS 1.2 blob that says TLS 1.3) makes ``set_data`` return an error, no crash.

The project's ``findings/set-data-crash/`` holds minimal C reproducers; ``tests/test_hostile.py``
found the first ones. gnutls-lab promises never to crash the process, so a blob that carries the
running library's magic is first parsed with the decoder's schema
(:data:`gnutls_lab.formats._session_blob.PackedSession`); a blob with another
magic goes straight to libgnutls, which refuses it safely at the magic (``GNUTLS_E_DB_ERROR``), and
that refusal is worth seeing in the tamper lab.

The checks mirror what the unpacker dereferences: every length inside its section (the security
parameters must hold exactly the fields their protocol version calls for, which is what refuses a
version flip), counts that fit, a session ID of at most 32 bytes (GnuTLS before 3.8.13 copies up to
255 bytes into its 32-byte array unless patched, as Debian's 3.7.9 and 3.8.9 are), a protocol version
and extension ids that exist. Trailing bytes are allowed, as libgnutls allows them.
One check is not about unpacking: a TLS 1.2 blob that sets encrypt-then-MAC on a NULL-cipher suite
unpacks fine and crashes the resumed handshake (see :func:`_check_etm_cipher`).
"""

from __future__ import annotations

from ..binding import load
from ..errors import BlobFormatError
from ..formats import CREDENTIALS, EXTENSION_GIDS, PROTOCOLS
from ..formats import DUMMY_SESSION, PROTOCOL_TLS13, magic_of, magic_of_gnutls_version, parse_session

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
        tree = parse_session(data, strict=False)  # libgnutls ignores trailing bytes
    except BlobFormatError as exc:
        mismatch = _version_mismatch(data)
        if mismatch is not None:
            raise _refuse(*mismatch) from None
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


def _version_mismatch(data: bytes) -> tuple | None:
    """``(reason, path, offset)`` when a blob that did not parse has a protocol version that does not
    fit its security parameters (they hold another version's fields); read from a partial annotated parse."""
    fields: list = []
    try:
        parse_session(data, fields, strict=False)
    except BlobFormatError:
        pass
    values = {name: value for name, _start, _end, value in fields}
    starts = {name: start for name, start, _end, _value in fields}
    version, length = values.get("security_parameters.pversion"), values.get("security_parameters.length")
    session_id = values.get("security_parameters.session_id")
    if version is None or length is None or session_id is None:
        return None
    # A TLS 1.3 body: entity, prf, two auth types, session ID, version, two certificate types, suite; a
    # TLS <= 1.2 body adds the 48-byte master secret and two 32-byte randoms (u8-prefixed), the two record
    # sizes, the group, two signature algorithms, EMS and ETM (docs/formats.md). Only a length that is
    # exactly the other version's body blames the version; any other length is the length's own defect.
    tls13_body = 4 * 4 + 1 + len(session_id) + 4 * 3 + 2
    tls12_body = tls13_body + (1 + 48) + 2 * (1 + 32) + 7 * 4
    name = PROTOCOLS.get(version, str(version))
    path = "security_parameters.pversion"
    if version != PROTOCOL_TLS13 and length == tls13_body:
        return (f"protocol version {version} ({name}) on a TLS 1.3 session: libgnutls would read the ticket "
                "as TLS 1.2 fields and extensions, and abort on an extension id (findings/set-data-crash)",
                path, starts[path])
    if version == PROTOCOL_TLS13 and length == tls12_body:
        return (f"protocol version {version} ({name}) on a TLS 1.2 session's security parameters",
                path, starts[path])
    return None


def _offset(data: bytes, path: str) -> int | None:
    """Where field ``path`` starts: an annotated parse, only for a blob being refused."""
    fields: list = []
    parse_session(data, fields, strict=False)
    return next((start for name, start, _end, _value in fields if name == path), None)
