"""Lab credentials, generated at run time with GnuTLS's own x509 API: nothing secret is committed.

- :class:`LabCertificate`: a fresh self-signed certificate and key (ECDSA P-256 by default, or RSA).
- :class:`CertificateCredentials`: ``gnutls_certificate_credentials_t`` for a server (with a
  certificate) or a client (without one; the lab client does not verify, it is a lab).
- :class:`PskCredentials` and :class:`AnonCredentials`: pre-shared-key and anonymous (unauthenticated
  Diffie-Hellman) credentials.

Each credential object owns its C handle and frees it in :meth:`close` (``ffi.gc`` is only a backstop).
A session keeps a reference to its credentials, so they outlive every session that uses them.
"""

from __future__ import annotations

import os
import threading
import time

from ..binding import check, exact_bytes, load, take_datum
from ..errors import UsageError

__all__ = ["LabCertificate", "CertificateCredentials", "PskCredentials", "AnonCredentials", "KIND_NAMES", "kind_name"]

#: The credential kinds, named after ``GNUTLS_CRD_*`` in lower case (their values: the binding's ``lib``).
KIND_NAMES = ("certificate", "anon", "srp", "psk")


def kind_name(kind: int) -> str:
    """The name of a ``GNUTLS_CRD_*`` value (``gnutls_auth_get_type``), ``"unknown"`` for any other."""
    lib = load()[1]
    return next((name for name in KIND_NAMES if getattr(lib, "GNUTLS_CRD_" + name.upper()) == kind), "unknown")


class LabCertificate:
    """A self-signed lab certificate and its private key, made by libgnutls.

    The key never leaves the process unless you ask: :meth:`private_key_pem` is explicit, and
    :meth:`write_files` is for handing a lab key to a real peer (``openssl s_server``) in a test.
    """

    def __init__(self, algorithm: str = "ecdsa", common_name: str = "gnutls-lab.test",
                 dns_names: tuple = ("localhost", "gnutls-lab.test"), days: int = 30):
        ffi, lib = load()[:2]
        algorithm = algorithm.lower()
        if algorithm == "ecdsa":
            # GNUTLS_CURVE_TO_BITS(curve): a macro with arguments, which a cdef cannot declare
            pk, bits = lib.GNUTLS_PK_ECDSA, (1 << 31) | lib.GNUTLS_ECC_CURVE_SECP256R1
        elif algorithm == "rsa":
            pk, bits = lib.GNUTLS_PK_RSA, 2048
        else:
            raise UsageError(f"unknown certificate algorithm {algorithm!r}: use 'ecdsa' or 'rsa'")
        self.algorithm = algorithm
        self.common_name = common_name
        key_p = ffi.new("gnutls_x509_privkey_t *")
        check(lib.gnutls_x509_privkey_init(key_p), "gnutls_x509_privkey_init")
        self._key = ffi.gc(key_p[0], lib.gnutls_x509_privkey_deinit)
        check(lib.gnutls_x509_privkey_generate(self._key, pk, bits, 0), "gnutls_x509_privkey_generate")

        crt_p = ffi.new("gnutls_x509_crt_t *")
        check(lib.gnutls_x509_crt_init(crt_p), "gnutls_x509_crt_init")
        self._crt = ffi.gc(crt_p[0], lib.gnutls_x509_crt_deinit)
        crt = self._crt
        now = int(time.time())
        serial = os.urandom(8)
        check(lib.gnutls_x509_crt_set_version(crt, 3), "gnutls_x509_crt_set_version")
        check(lib.gnutls_x509_crt_set_serial(crt, bytes([serial[0] & 0x7F]) + serial[1:], 8),
              "gnutls_x509_crt_set_serial")
        # Start a day early so that a fake clock set a little in the past still accepts it.
        check(lib.gnutls_x509_crt_set_activation_time(crt, now - 86400), "gnutls_x509_crt_set_activation_time")
        check(lib.gnutls_x509_crt_set_expiration_time(crt, now + days * 86400),
              "gnutls_x509_crt_set_expiration_time")
        err = ffi.new("const char **")
        check(lib.gnutls_x509_crt_set_dn(crt, f"CN={common_name},O=gnutls-lab (lab key)".encode(), err),
              "gnutls_x509_crt_set_dn")
        check(lib.gnutls_x509_crt_set_key(crt, self._key), "gnutls_x509_crt_set_key")
        for name in dns_names:
            raw = exact_bytes(name.encode(), "a DNS name")
            check(lib.gnutls_x509_crt_set_subject_alt_name(crt, lib.GNUTLS_SAN_DNSNAME, raw, len(raw),
                                                        lib.GNUTLS_FSAN_APPEND),
                  "gnutls_x509_crt_set_subject_alt_name")
        usage = lib.GNUTLS_KEY_DIGITAL_SIGNATURE | (lib.GNUTLS_KEY_KEY_ENCIPHERMENT if algorithm == "rsa" else 0)
        check(lib.gnutls_x509_crt_set_key_usage(crt, usage), "gnutls_x509_crt_set_key_usage")
        check(lib.gnutls_x509_crt_set_basic_constraints(crt, 0, -1), "gnutls_x509_crt_set_basic_constraints")
        check(lib.gnutls_x509_crt_sign2(crt, crt, self._key, lib.GNUTLS_DIG_SHA256, 0), "gnutls_x509_crt_sign2")
        self.der = self._export(lib.GNUTLS_X509_FMT_DER)

    def _export(self, fmt: int) -> bytes:
        ffi, lib = load()[:2]
        out = ffi.new("gnutls_datum_t *")
        check(lib.gnutls_x509_crt_export2(self._crt, fmt, out), "gnutls_x509_crt_export2")
        return take_datum(out)

    @property
    def pem(self) -> str:
        return self._export(load()[1].GNUTLS_X509_FMT_PEM).decode()

    def private_key_pem(self) -> str:
        """The lab private key as PKCS#8 PEM. A lab key: generated now, never for real use."""
        ffi, lib = load()[:2]
        out = ffi.new("gnutls_datum_t *")
        check(lib.gnutls_x509_privkey_export2_pkcs8(self._key, lib.GNUTLS_X509_FMT_PEM, ffi.NULL, lib.GNUTLS_PKCS_PLAIN,
                                                     out), "gnutls_x509_privkey_export2_pkcs8")
        return take_datum(out).decode()

    def write_files(self, directory: str) -> tuple[str, str]:
        """Write ``lab-cert.pem`` and ``lab-key.pem`` (mode 0600) for a real peer; return both paths."""
        cert_path = os.path.join(directory, "lab-cert.pem")
        key_path = os.path.join(directory, "lab-key.pem")
        from ._files import write_file, write_private_file

        write_file(cert_path, self.pem.encode())
        write_private_file(key_path, self.private_key_pem().encode())
        return cert_path, key_path

    def __repr__(self) -> str:
        return f"<LabCertificate {self.algorithm} CN={self.common_name} ({len(self.der)} bytes DER)>"


class _Credentials:
    """Owns one credentials handle of libgnutls; ``kind`` is its ``GNUTLS_CRD_*`` value, ``kind_name`` the
    name after that prefix in lower case (``certificate``, ``anon``, ``psk``)."""

    kind_name = ""
    role = "client"

    def __init__(self, handle, free):
        self._handle = load()[0].gc(handle, free)
        self._free = free
        # libgnutls must not free credentials that a live session uses: sessions count themselves in
        # and out (add_user/release_user, from session.py), and a close() asked for meanwhile waits for
        # the last of them. The count is locked: sessions of several threads may share credentials
        # (the lab server's connection threads do).
        self._users = 0
        self._close_pending = False
        self._count_lock = threading.Lock()

    def apply(self, session_ptr) -> None:
        if self._handle is None:
            raise UsageError(f"these {self.kind_name} credentials are closed")
        check(load()[1].gnutls_credentials_set(session_ptr, self.kind, self._handle), "gnutls_credentials_set")

    def add_user(self):
        """Count a session in; returns the handle for ``gnutls_credentials_set``. Closed: UsageError."""
        with self._count_lock:
            if self._handle is None:
                raise UsageError(f"these {self.kind_name} credentials are closed")
            self._users += 1
            return self._handle

    def release_user(self) -> None:
        """Count a session out; frees the handle if a close() was waiting for the last one."""
        with self._count_lock:
            self._users -= 1
            free = self._users == 0 and self._close_pending
        if free:
            self.close()

    def close(self) -> None:
        """Free the handle now, or as soon as the last session using it is closed."""
        with self._count_lock:
            if self._users > 0:
                self._close_pending = True
                return
            handle, self._handle = self._handle, None
        if handle is not None:
            load()[0].release(handle)  # runs the destructor now, once

    @property
    def kind(self) -> int:
        return getattr(load()[1], "GNUTLS_CRD_" + self.kind_name.upper())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.role} {self.kind_name}>"


class CertificateCredentials(_Credentials):
    """X.509 credentials: a server's certificate and key, or a client's (empty) credentials."""

    kind_name = "certificate"

    def __init__(self, certificate: LabCertificate | None = None, role: str | None = None):
        ffi, lib = load()[:2]
        p = ffi.new("gnutls_certificate_credentials_t *")
        check(lib.gnutls_certificate_allocate_credentials(p), "gnutls_certificate_allocate_credentials")
        super().__init__(p[0], lib.gnutls_certificate_free_credentials)
        self.role = role or ("server" if certificate is not None else "client")
        self.certificate = certificate
        if certificate is not None:
            crts = ffi.new("gnutls_x509_crt_t[1]", [certificate._crt])
            if self.role == "server":
                check(lib.gnutls_certificate_set_x509_key(self._handle, crts, 1, certificate._key),
                      "gnutls_certificate_set_x509_key")
            else:  # a client that trusts the lab certificate
                check(lib.gnutls_certificate_set_x509_trust(self._handle, crts, 1),
                      "gnutls_certificate_set_x509_trust")


class AnonCredentials(_Credentials):
    """Anonymous Diffie-Hellman credentials (no authentication; TLS 1.2 only in GnuTLS)."""

    kind_name = "anon"

    def __init__(self, role: str):
        ffi, lib = load()[:2]
        self.role = role
        if role == "server":
            p = ffi.new("gnutls_anon_server_credentials_t *")
            check(lib.gnutls_anon_allocate_server_credentials(p), "gnutls_anon_allocate_server_credentials")
            super().__init__(p[0], lib.gnutls_anon_free_server_credentials)
            check(lib.gnutls_anon_set_server_known_dh_params(self._handle, lib.GNUTLS_SEC_PARAM_MEDIUM),
                  "gnutls_anon_set_server_known_dh_params")
        elif role == "client":
            p = ffi.new("gnutls_anon_client_credentials_t *")
            check(lib.gnutls_anon_allocate_client_credentials(p), "gnutls_anon_allocate_client_credentials")
            super().__init__(p[0], lib.gnutls_anon_free_client_credentials)
        else:
            raise UsageError(f"role must be 'client' or 'server', not {role!r}")


class PskCredentials(_Credentials):
    """Pre-shared-key credentials.

    A client holds one ``(username, key)``; a server holds a dict ``{username: key}`` and answers the
    library's look-up callback from it (the callback reaches it through the session, see
    ``session._psk_lookup``).
    """

    kind_name = "psk"

    def __init__(self, role: str, username: str = "lab-user", key: bytes | None = None,
                 keys: dict | None = None):
        ffi, lib = load()[:2]
        self.role = role
        if role == "client":
            if key is None:
                raise UsageError("a PSK client needs a key")
            key = exact_bytes(key, "a PSK key")
            p = ffi.new("gnutls_psk_client_credentials_t *")
            check(lib.gnutls_psk_allocate_client_credentials(p), "gnutls_psk_allocate_client_credentials")
            super().__init__(p[0], lib.gnutls_psk_free_client_credentials)
            datum = ffi.new("gnutls_datum_t *")
            keep = ffi.from_buffer(key)
            datum.data, datum.size = keep, len(key)
            check(lib.gnutls_psk_set_client_credentials(self._handle, username.encode(), datum,
                                                        lib.GNUTLS_PSK_KEY_RAW),
                  "gnutls_psk_set_client_credentials")
            self.username, self.keys = username, {username: bytes(key)}
        elif role == "server":
            p = ffi.new("gnutls_psk_server_credentials_t *")
            check(lib.gnutls_psk_allocate_server_credentials(p), "gnutls_psk_allocate_server_credentials")
            super().__init__(p[0], lib.gnutls_psk_free_server_credentials)
            from ..binding import callbacks  # the shared, process-lifetime C callbacks

            lib.gnutls_psk_set_server_credentials_function(self._handle, callbacks().psk_server)
            check(lib.gnutls_psk_set_server_known_dh_params(self._handle, lib.GNUTLS_SEC_PARAM_MEDIUM),
                  "gnutls_psk_set_server_known_dh_params")
            self.username = None
            given = keys or ({username: key} if key is not None else {})
            self.keys = {name: exact_bytes(value, "a PSK key") for name, value in given.items()}
        else:
            raise UsageError(f"role must be 'client' or 'server', not {role!r}")

    def __repr__(self) -> str:  # never the keys
        names = ", ".join(sorted(self.keys))
        return f"<PskCredentials {self.role} users=[{names}] keys=redacted>"
