"""Real TLS peers nobody here wrote: find their programs, run them on 127.0.0.1, read OpenSSL's session text.

- :func:`require_program`: the path of a program, or one :class:`~gnutls_lab.errors.UsageError` line
  naming what is missing and the Debian package that brings it.
- :class:`ExternalServer`: ``gnutls-serv`` or ``openssl s_server`` started on a free port with a lab
  certificate, ready when it says it listens, stopped (TERM, then KILL) when the ``with`` block ends.
- :func:`openssl_client_session`: ``openssl s_client -ign_eof -sess_out FILE`` run so that it saves
  the TLS 1.3 tickets that arrive after the handshake (the server must close the connection).
- :func:`openssl_session_text`: ``openssl sess_id -in FILE -noout -text``, OpenSSL's description of
  a session it saved with ``s_client -sess_out``, to set beside ``gnutls-lab decode``;
  :func:`openssl_session_fields` reads that text back into label → value;
  :func:`openssl_session_certificate`: the server certificate stored in the file (``sess_id -cert``).

What the real servers need, observed with gnutls-bin 3.7.9 and OpenSSL 3.0: ``gnutls-serv`` issues
tickets and keeps a session-ID cache by default (``--noticket`` / ``--nodb`` turn them off); it has no
option to choose its address and would listen on 0.0.0.0 and ``::``, so it runs with a small
``LD_PRELOAD`` shim (:func:`loopback_preload`, ``loopback_bind.c``) that turns its binds into
127.0.0.1 and refuses IPv6: the lab's servers listen on loopback only. ``-a`` stops it from asking for a
client certificate (that would move its TLS 1.3 tickets after the client's Finished).
``openssl s_server`` listens where ``-accept 127.0.0.1:PORT`` says, sends 2 TLS 1.3 tickets by default
(``-num_tickets N``) and stops when its standard input ends, so it gets an open pipe.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import ssl
import time

from ._client import check_host
from ..errors import UsageError

__all__ = ["require_program", "ExternalServer", "openssl_client_session", "openssl_session_text",
           "openssl_session_fields", "openssl_session_certificate", "free_port", "die_with_parent",
           "loopback_preload"]

PACKAGES = {"gnutls-cli": "gnutls-bin", "gnutls-serv": "gnutls-bin", "openssl": "openssl",
            "chromium": "chromium", "gcc": "gcc"}


def require_program(name: str, package: str | None = None) -> str:
    """The full path of ``name`` on ``$PATH``, or a UsageError saying how to install it."""
    path = shutil.which(name)
    if path is None:
        package = package or PACKAGES.get(name, name)
        raise UsageError(f"{name} not found: install it with `apt-get install {package}`")
    return path


def die_with_parent() -> None:
    """``preexec_fn`` for peer processes: Linux sends them SIGTERM if the process that started them
    dies (``prctl(PR_SET_PDEATHSIG)``), so even a crashed test run leaves no server behind."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (AttributeError, OSError):  # not Linux: the context manager's stop() still applies
        pass


def loopback_preload() -> str:
    """Path of the loopback bind shim (``loopback_bind.c``), compiled with gcc on first use."""
    source = os.path.join(os.path.dirname(__file__), "loopback_bind.c")
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "gnutls-lab")
    with open(source, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    target = os.path.join(cache, f"loopback-bind-{digest}.so")
    if not os.path.exists(target):
        gcc = require_program("gcc")
        os.makedirs(cache, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=cache, prefix=".loopback-bind-", suffix=".so.tmp")  # not guessable
        os.close(fd)
        try:
            build = subprocess.run([gcc, "-O2", "-shared", "-fPIC", "-o", partial, source, "-ldl"],
                                   capture_output=True, text=True)
            if build.returncode != 0:
                raise UsageError(f"could not build the loopback bind shim: {build.stderr.strip()[-300:]}")
            os.chmod(partial, 0o755)
            os.replace(partial, target)
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
    return target


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the caller retries if it is taken since)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def openssl_session_text(path: str) -> str:
    """OpenSSL's own description of a session file from ``openssl s_client -sess_out FILE``."""
    openssl = require_program("openssl")
    result = subprocess.run([openssl, "sess_id", "-in", os.fspath(path), "-noout", "-text"],
                            capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no message"])[0]
        raise UsageError(f"openssl sess_id could not read {path}: {detail}")
    return result.stdout


def openssl_client_session(host: str, port: int, tls: str, path: str, *, send: bytes = b"",
                           timeout: float = 10.0, resume_from: str | None = None) -> str:
    """One ``openssl s_client`` connection that saves its session to ``path`` (``-sess_out``); its stdout.

    TLS 1.3 tickets come after the handshake, and s_client sees them only while it reads. So it runs
    with ``-ign_eof``: it writes ``send`` (then end of file), keeps reading until the **server** closes
    the connection, and rewrites ``path`` each time a session arrives (its new-session callback), so the
    file holds the last ticket. The server must therefore end the connection: a
    :class:`~gnutls_lab.network._server.LabServer` with an ``idle_timeout``, or ``openssl s_server -www``
    answering ``send=b"GET / HTTP/1.0\\r\\n\\r\\n"``. One that stays open is a UsageError after
    ``timeout`` seconds (s_client is killed). Loopback hosts only, like :func:`gnutls_lab.network._client.connect`.

    ``resume_from``: a session file to offer (``-sess_in``). A resumed TLS 1.2 session brings no new
    session, so then ``path`` may stay unwritten: keep offering ``resume_from``.
    """
    if tls not in ("1.3", "1.2"):
        raise UsageError(f"tls must be '1.3' or '1.2', not {tls!r}")
    address = check_host(host)  # the checked address is the one s_client connects to
    openssl = require_program("openssl")
    path = os.fspath(path)
    if os.path.exists(path):
        os.remove(path)  # a file left from an earlier run must not pass for this session
    command = [openssl, "s_client", "-tls1_3" if tls == "1.3" else "-tls1_2", "-ign_eof",
               "-connect", f"[{address}]:{port}" if ":" in address else f"{address}:{port}", "-sess_out", path]
    if resume_from is not None:
        command += ["-sess_in", os.fspath(resume_from)]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               preexec_fn=die_with_parent)
    try:
        stdout, stderr = process.communicate(send, timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise UsageError(f"the server at {host}:{port} did not close the connection within {timeout} s, so "
                         "openssl s_client (-ign_eof) never finished: give the server an idle timeout, or "
                         "send it a request it answers and then closes") from None
    out, err = stdout.decode(errors="replace"), stderr.decode(errors="replace")
    if process.returncode != 0:
        lines = [line for line in err.strip().splitlines() if line.strip()]
        raise UsageError(f"openssl s_client to {host}:{port} failed (exit {process.returncode}): "
                         f"{lines[-1] if lines else 'no message'}")
    if resume_from is None and (not os.path.exists(path) or os.path.getsize(path) == 0):
        raise UsageError(f"openssl s_client to {host}:{port} received no session to save in {path}")
    return out


_TICKET_ROW = re.compile(r"^\s+[0-9a-f]{4} - ((?:[0-9a-f]{2}[ -]){0,15}[0-9a-f]{2})", re.M)


def openssl_session_fields(text: str) -> dict:
    """``openssl sess_id -text`` read back: ``{"Protocol": "TLSv1.3", ...}`` with OpenSSL's labels.

    Each ``Label: value`` line gives one entry (values as printed; empty ones as ``""``). The ticket's
    hex dump becomes ``"TLS session ticket"``: bytes (``b""`` when the session has none).
    """
    fields: dict = {}
    for line in text.splitlines():
        label, colon, value = line.partition(":")
        if colon and line.startswith("    ") and not re.fullmatch(r"\s+[0-9a-f]{4} - .*", line):
            fields.setdefault(label.strip(), value.strip())
    fields["TLS session ticket"] = bytes.fromhex("".join(_TICKET_ROW.findall(text)).replace("-", " "))
    return fields


def openssl_session_certificate(path: str) -> bytes | None:
    """The peer (server) certificate OpenSSL stored in a session file, DER; None if it holds none."""
    openssl = require_program("openssl")
    # -cert writes the certificate in place of the session (with -noout, OpenSSL 3.0 writes nothing)
    result = subprocess.run([openssl, "sess_id", "-in", os.fspath(path), "-cert"],
                            capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no message"])[0]
        raise UsageError(f"openssl sess_id could not read {path}: {detail}")
    found = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", result.stdout, re.S)
    return ssl.PEM_cert_to_DER_cert(found.group(0)) if found else None


class ExternalServer:
    """A real TLS server process on 127.0.0.1 with a lab certificate; a context manager.

    ``kind``: ``"gnutls-serv"`` or ``"openssl"``. ``tls``: ``"1.3"`` or ``"1.2"``. ``cert_file`` and
    ``key_file``: PEM files, e.g. from :meth:`~gnutls_lab.sessions._credentials.LabCertificate.write_files`.
    ``extra_args``: appended to the command line. :attr:`output` is what the server printed so far.
    """

    KINDS = ("gnutls-serv", "openssl")

    def __init__(self, kind: str, cert_file: str, key_file: str, tls: str = "1.3", *,
                 extra_args: tuple = (), start_timeout: float = 10.0):
        if kind not in self.KINDS:
            raise UsageError(f"unknown server {kind!r}: use 'gnutls-serv' or 'openssl'")
        if tls not in ("1.3", "1.2"):
            raise UsageError(f"tls must be '1.3' or '1.2', not {tls!r}")
        self.kind, self.tls = kind, tls
        self.cert_file, self.key_file = cert_file, key_file
        self.extra_args = tuple(extra_args)
        self.start_timeout = start_timeout
        self.program = require_program("gnutls-serv" if kind == "gnutls-serv" else "openssl")
        self.port = 0
        self.process: subprocess.Popen | None = None
        self._log = None
        self._last_output = ""

    def command(self, port: int) -> list[str]:
        if self.kind == "gnutls-serv":
            version = "+VERS-TLS1.3" if self.tls == "1.3" else "+VERS-TLS1.2"
            return [self.program, "--port", str(port), "--x509certfile", self.cert_file,
                    "--x509keyfile", self.key_file, "-a", "--priority", f"NORMAL:-VERS-ALL:{version}",
                    *self.extra_args]
        version = "-tls1_3" if self.tls == "1.3" else "-tls1_2"
        return [self.program, "s_server", "-accept", f"127.0.0.1:{port}", "-cert", self.cert_file,
                "-key", self.key_file, version, *self.extra_args]

    def _accepts_connections(self) -> bool:
        """A bare TCP connect succeeds (the server sees it as a failed handshake and carries on)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    @property
    def output(self) -> str:
        if self._log is None or self._log.closed:
            return self._last_output
        self._log.flush()
        with open(self._log.name, errors="replace") as f:
            return f.read()

    def start(self) -> ExternalServer:
        for _ in range(3):  # a port free when chosen can be taken before the server binds it
            self.port = free_port()
            self._log = tempfile.NamedTemporaryFile("w+", prefix=f"{self.kind}-", suffix=".log")
            env = None
            if self.kind == "gnutls-serv":  # it cannot be told its address: keep it on 127.0.0.1
                env = dict(os.environ, LD_PRELOAD=loopback_preload())
            self.process = subprocess.Popen(self.command(self.port), stdin=subprocess.PIPE,
                                            stdout=self._log, stderr=subprocess.STDOUT,
                                            preexec_fn=die_with_parent, env=env)
            deadline = time.monotonic() + self.start_timeout
            while time.monotonic() < deadline and self.process.poll() is None:
                if self._accepts_connections():
                    return self
                time.sleep(0.02)
            output = self.output
            self.stop()
            if "in use" not in output:
                break
        lines = output.strip().splitlines()
        raise UsageError(f"{self.kind} did not start on 127.0.0.1:{self.port}: "
                         f"{lines[-1] if lines else 'no output'}")

    def stop(self) -> None:
        """TERM, then KILL after 5 s; idempotent."""
        process, self.process = self.process, None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
            if process.stdin:
                process.stdin.close()
        if self._log is not None and not self._log.closed:
            self._last_output = self.output
            self._log.close()

    def __enter__(self) -> ExternalServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.process is not None and self.process.poll() is None else "stopped"
        return f"<ExternalServer {self.kind} TLS {self.tls} 127.0.0.1:{self.port} {state}>"
