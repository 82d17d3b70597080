"""Real TLS servers nobody here wrote, started on 127.0.0.1 with a configuration the caller chooses.

Theory of operation. :func:`start_real_server` takes a kind from :data:`REAL_SERVERS` (``nginx``,
``apache``, ``haproxy``, ``exim``...) and a :class:`RealServerConfig` (tickets on or off, a lifetime, a
ticket-key file, 0-RTT, a session cache, one or two server names), writes that server's own
configuration and a fresh lab certificate (``O=gnutls-lab (lab key)``) into a new temporary folder,
and runs the program in the foreground in its own process group, on a port that was free a moment
before, bound to 127.0.0.1 only. It is ready when a TLS handshake succeeds (after ``STARTTLS`` for
Exim), within a bounded wait; if not, the error carries the tail of the server's logs. The returned
:class:`RealServer` is a context manager; :meth:`RealServer.stop` kills the process group by PID and
removes the folder.

What each server should do with that configuration is in :attr:`RealServer.expected`: the facts its
documentation (or the source where the documentation is silent) implies, each an :class:`Expected`
with the directive or page it comes from. A peer (``openssl s_client``, ``gnutls-cli``, sslyze,
testssl.sh) or ``gnutls-lab audit`` can be checked against them; ``docs/servers.md`` says where the
servers surprised us.

A combination a server cannot express is an :class:`UnsupportedConfig` naming the server and what it
lacks; a program that is not installed is a :class:`ServerMissing`: ``nginx: not installed
(apt-get install nginx)``. Ticket-key files are written with :func:`write_ticket_key_file` in the
format each server reads (:data:`TICKET_KEY_FORMATS`), so a test knows the key behind the tickets.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, replace

from ..errors import UsageError
from ..sessions import write_private_file
from . import _real_server_kinds as kinds
from ._peers import die_with_parent, free_port
from ._real_server_basics import (LAB_NAMES, LONG_LIFETIME, LOOPBACK, SHORT_LIFETIME, STEK_VALID_FOR,
                                  TICKET_KEY_FORMATS, Expected, Launch, ServerMissing, ServerStartError,
                                  TicketKeyFormat, UnsupportedConfig, version_tuple)

__all__ = ["REAL_SERVERS", "RealServerConfig", "RealServer", "Expected", "ServerMissing", "UnsupportedConfig",
           "ServerStartError", "TicketKeyFormat", "TICKET_KEY_FORMATS", "write_ticket_key_file",
           "start_real_server", "server_version", "LAB_NAMES", "SHORT_LIFETIME", "LONG_LIFETIME",
           "STEK_VALID_FOR", "Launch", "version_tuple", "smtp_starttls"]

@dataclass(frozen=True)
class RealServerConfig:
    """How to configure a real server. ``None`` means "as the server ships" (its default).

    ``tls``: the versions to enable (``"1.2"``, ``"1.3"``). ``tickets``: session tickets on or off.
    ``lifetime``: the session/ticket lifetime in seconds (:data:`SHORT_LIFETIME`, :data:`LONG_LIFETIME`).
    ``ticket_key_file``: a file in the server's key format (:func:`write_ticket_key_file`), used for
    every name. ``rotation``: seconds between ticket-key changes, for a server with a rotation timer.
    ``names``: the server names (virtual hosts) to serve; two names share ``ticket_key_file``.
    ``early_data``: 0-RTT. ``session_cache``: the TLS 1.2 session-ID cache.
    """

    tls: tuple = ("1.2", "1.3")
    tickets: bool | None = None
    lifetime: int | None = None
    ticket_key_file: str | None = None
    rotation: int | None = None
    names: tuple = LAB_NAMES[:1]
    early_data: bool | None = None
    session_cache: bool | None = None

    def __post_init__(self):
        tls = tuple(self.tls)
        if not tls or any(version not in ("1.2", "1.3") for version in tls):
            raise UsageError(f"tls must name '1.2' and/or '1.3', not {self.tls!r}")
        object.__setattr__(self, "tls", tuple(sorted(set(tls))))
        if self.lifetime is not None and not (isinstance(self.lifetime, int) and 1 <= self.lifetime <= 604800):
            raise UsageError(f"lifetime must be 1..604800 seconds, not {self.lifetime!r}")
        if self.rotation is not None and not (isinstance(self.rotation, int) and self.rotation >= 1):
            raise UsageError(f"rotation must be a whole number of seconds, not {self.rotation!r}")
        names = tuple(self.names)
        if not 1 <= len(names) <= 2 or any(name not in LAB_NAMES for name in names):
            raise UsageError(f"names must be one or two of {', '.join(LAB_NAMES)} (the lab certificate's), "
                             f"not {self.names!r}")
        object.__setattr__(self, "names", names)

    def with_(self, **changes) -> RealServerConfig:
        """A copy with ``changes`` (``config.with_(tickets=False)``)."""
        return replace(self, **changes)

    def describe(self) -> str:
        parts = [f"TLS {'+'.join(self.tls)}"]
        for name in ("tickets", "lifetime", "rotation", "early_data", "session_cache"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={value}")
        if self.ticket_key_file:
            parts.append("key file")
        if len(self.names) > 1:
            parts.append("names=" + ",".join(self.names))
        return " ".join(parts)


# --------------------------------------------------------------------------------------- ticket keys

def write_ticket_key_file(kind: str, path: str, keys: list | None = None, *, valid_for: int = STEK_VALID_FOR) -> list:
    """Write a ticket-key file for ``kind`` at ``path`` (mode 0600); return the key(s) written.

    ``keys``: the raw keys (each :attr:`TicketKeyFormat.size` bytes, or 64 for ``lighttpd-gnutls``
    padded to 80 with zeros); fresh random ones when None. Give an all-zero key to make a server whose
    tickets anyone can decrypt (the weak-key probe's known positive). ``valid_for``: lighttpd's expiry.
    """
    fmt = _key_format(kind)
    count = fmt.keys
    if keys is None:
        keys = [os.urandom(fmt.size) for _ in range(count)]
    keys = [bytes(key) for key in keys]
    for key in keys:
        if len(key) != fmt.size:
            raise UsageError(f"{kind}: a ticket key is {fmt.size} bytes, not {len(key)}")
    if len(keys) < count:
        raise UsageError(f"{kind}: the key file needs at least {count} keys ({fmt.source})")
    if fmt.encoding == "raw":
        if len(keys) != 1:
            raise UsageError(f"{kind}: one key per file (a second key is a second file)")
        data = keys[0]
    elif fmt.encoding == "base64-lines":
        import base64

        data = b"".join(base64.b64encode(key) + b"\n" for key in keys)
    else:  # lighttpd-stek: version 0, active now, expires after valid_for, in the host's byte order
        if len(keys) != 1:
            raise UsageError(f"{kind}: one key per STEK file (lighttpd keeps the earlier ones itself)")
        now = int(time.time())
        header = b"".join(value.to_bytes(4, "little" if _little_endian() else "big", signed=True)
                          for value in (0, now, now + valid_for))
        data = header + keys[0]
    write_private_file(path, data)
    return keys


def _little_endian() -> bool:
    import sys

    return sys.byteorder == "little"


def _key_format(kind: str) -> TicketKeyFormat:
    _kind_of(kind)
    fmt = TICKET_KEY_FORMATS.get(kind)
    if fmt is None:
        raise UnsupportedConfig(f"{kind}: takes no ticket-key file ({REAL_SERVERS[kind].no_key_file})")
    return fmt


# --------------------------------------------------------------------------------------- the kinds

@dataclass(frozen=True)
class ServerKind:
    """One kind of real server: the program it needs and the Debian package that brings it."""

    kind: str
    program: str
    package: str
    library: str  # the TLS library behind it
    description: str
    no_key_file: str = "it has no option for one"
    extra_files: tuple = ()  # further files the kind needs (a TLS module), each (path, package)

    def missing(self) -> str | None:
        """None if installed, else the one-line reason."""
        if shutil.which(self.program) is None and not os.path.exists(self.program):
            return f"{self.kind}: not installed (apt-get install {self.package})"
        for path, package in self.extra_files:
            if not os.path.exists(path):
                return f"{self.kind}: not installed (apt-get install {package})"
        return None


_LIGHTTPD_MODULES = "/usr/lib/lighttpd"
REAL_SERVERS = {
    "gnutls-serv": ServerKind("gnutls-serv", "gnutls-serv", "gnutls-bin", "GnuTLS",
                              "GnuTLS's test server (--http)", "gnutls-serv makes its own key at start"),
    "openssl": ServerKind("openssl", "openssl", "openssl", "OpenSSL", "openssl s_server -www",
                          "s_server makes its own key at start"),
    "nginx": ServerKind("nginx", "nginx", "nginx", "OpenSSL", "nginx, ngx_http_ssl_module"),
    "apache": ServerKind("apache", "apache2", "apache2", "OpenSSL", "Apache httpd, mod_ssl"),
    "haproxy": ServerKind("haproxy", "haproxy", "haproxy", "OpenSSL", "HAProxy, bind ... ssl"),
    "caddy": ServerKind("caddy", "caddy", "caddy", "Go crypto/tls", "Caddy (JSON config)",
                        "Caddy keeps its keys in memory (key_source standard) and has no key-file provider"),
    "exim": ServerKind("exim", "exim", "exim4-daemon-heavy", "GnuTLS", "Exim, STARTTLS on SMTP",
                       "Exim makes and rotates its own key (spec 43.17)"),
    "lab": ServerKind("lab", "python3", "python3", "GnuTLS", "gnutls-lab's own LabServer"),
}
for _library in ("gnutls", "openssl", "mbedtls", "wolfssl"):
    REAL_SERVERS[f"lighttpd-{_library}"] = ServerKind(
        f"lighttpd-{_library}", "lighttpd", "lighttpd", {"gnutls": "GnuTLS", "openssl": "OpenSSL",
                                                         "mbedtls": "mbedTLS", "wolfssl": "wolfSSL"}[_library],
        f"lighttpd with mod_{_library}",
        extra_files=((f"{_LIGHTTPD_MODULES}/mod_{_library}.so", f"lighttpd-mod-{_library}"),))


def _kind_of(kind: str) -> ServerKind:
    try:
        return REAL_SERVERS[kind]
    except KeyError:
        raise UsageError(f"unknown server kind {kind!r}: one of {', '.join(REAL_SERVERS)}") from None


_VERSION_COMMANDS = {
    "gnutls-serv": (["gnutls-serv", "--version"], r"gnutls-serv (\S+)", "gnutls-serv {}"),
    "openssl": (["openssl", "version"], r"OpenSSL (\S+)", "OpenSSL {}"),
    "nginx": (["nginx", "-v"], r"nginx/(\S+)", "nginx/{}"),
    "apache": (["apache2", "-v"], r"Apache/(\S+)", "Apache/{}"),
    "haproxy": (["haproxy", "-v"], r"HAProxy version (\S+)", "HAProxy {}"),
    "caddy": (["caddy", "version"], r"v?(\d+\.\d+\.\d+\S*)", "Caddy {}"),
    "exim": (["exim", "-bV"], r"Exim version (\S+)", "Exim {}"),
    "lighttpd": (["lighttpd", "-v"], r"lighttpd/(\S+)", "lighttpd/{}"),
}


def server_version(kind: str) -> str:
    """The server's version string (``nginx/1.22.1``); ServerMissing if it is not installed."""
    server = _kind_of(kind)
    reason = server.missing()
    if reason:
        raise ServerMissing(reason)
    if kind == "lab":
        from ..binding import library_info

        return f"gnutls-lab serve (libgnutls {library_info().version})"
    command, pattern, shape = _VERSION_COMMANDS["lighttpd" if kind.startswith("lighttpd") else kind]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ServerMissing(f"{kind}: `{' '.join(command)}` failed: {exc}") from None
    found = re.search(pattern, result.stdout + result.stderr)
    if not found:
        raise ServerMissing(f"{kind}: cannot read a version from `{' '.join(command)}`")
    version = shape.format(found.group(1))
    if kind.startswith("lighttpd"):
        version += f" mod_{kind.split('-', 1)[1]}"
    return version


# --------------------------------------------------------------------------------------- the process

class RealServer:
    """A running real server (see :func:`start_real_server`); a context manager.

    ``host`` (always 127.0.0.1), ``port``, ``pid``, ``kind``, ``config``, ``names`` (the SNI names it
    serves), ``starttls`` (``"smtp"`` for Exim, else None), ``version``, ``expected`` (fact name →
    :class:`Expected`), ``folder`` (its configuration, certificate and logs; removed by :meth:`stop`),
    :meth:`request` (what to send so that it answers and closes).
    """

    def __init__(self, kind: str, config: RealServerConfig, *, start_timeout: float = 20.0):
        self.kind = kind
        self.config = config
        self.host = LOOPBACK
        self.port = 0
        self.pid: int | None = None
        self.names = config.names
        self.starttls: str | None = None
        self.answers: str | None = "http"
        # what the configuration asks of the kind is refused first, whether or not the server is installed
        kinds.check_supported(kind, config)
        self.version = server_version(kind)
        self.expected: dict = {}
        self.start_timeout = start_timeout
        self.folder: str | None = None
        self.process: subprocess.Popen | None = None
        self._logs: list = []
        self._last_logs = ""
        self._reload_signal: int | None = None

    # -- starting
    def start(self) -> RealServer:
        builder = kinds.BUILDERS[self.kind]
        kinds.check_supported(self.kind, self.config)  # again: a key file may have gone since
        for attempt in range(3):  # a port free when chosen can be taken before the server binds it
            self.folder = tempfile.mkdtemp(prefix=f"gnutls-lab-{self.kind}-")
            os.chmod(self.folder, 0o711)  # servers that drop privileges (nginx, Apache, Exim) reach their files
            self.port = free_port()
            try:
                launch = builder(kinds.Context(self.kind, self.config, self.folder, self.port, self.version))
            except BaseException:
                self._remove_folder()
                raise
            self.expected = launch.expected
            self.starttls = launch.starttls
            self.answers = launch.answers
            self._reload_signal = launch.reload_signal
            log_path = os.path.join(self.folder, "server-output.log")
            self._logs = [log_path, *launch.logs]
            with open(log_path, "wb") as log:
                self.process = subprocess.Popen(
                    launch.argv, stdin=subprocess.PIPE if launch.stdin_pipe else subprocess.DEVNULL,
                    stdout=log, stderr=subprocess.STDOUT, cwd=self.folder, env=launch.env,
                    start_new_session=True, preexec_fn=die_with_parent)
            self.pid = self.process.pid
            problem = self._wait_ready()
            if problem is None:
                return self
            tail = self.log_tail()
            self.stop()
            if "in use" in tail and attempt < 2:
                continue
            raise ServerStartError(f"{self.kind} ({self.version}) did not start on {self.host}:{self.port}: "
                                   f"{problem}\n--- log tail ---\n{tail}")
        raise AssertionError("unreachable")

    def _wait_ready(self) -> str | None:
        deadline = time.monotonic() + self.start_timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return f"it exited with status {self.process.returncode}"
            try:
                self.handshake()
                return None
            except (OSError, ssl.SSLError, UsageError) as exc:
                last = str(exc) or type(exc).__name__
            time.sleep(0.1)
        return f"no TLS handshake within {self.start_timeout:g} s (last try: {last})"

    def handshake(self, server_name: str | None = None, timeout: float = 3.0) -> str:
        """One TLS handshake with Python's ``ssl`` (after STARTTLS for Exim); the protocol it agreed."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        versions = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
        context.minimum_version = versions[self.config.tls[0]]
        context.maximum_version = versions[self.config.tls[-1]]
        with socket.create_connection((self.host, self.port), timeout=timeout) as sock:
            if self.starttls == "smtp":
                smtp_starttls(sock)
            with context.wrap_socket(sock, server_hostname=server_name or self.names[0]) as tls:
                return tls.version()

    def request(self, server_name: str | None = None) -> bytes | None:
        """Bytes the server answers and then closes the connection after (an HTTP/1.0 GET, or SMTP QUIT
        once TLS is up), so a client sees every TLS 1.3 ticket; None for a server that never closes."""
        if self.answers == "http":
            return f"GET / HTTP/1.0\r\nHost: {server_name or self.names[0]}\r\n\r\n".encode()
        if self.answers == "smtp":
            return b"QUIT\r\n"
        return None

    # -- reloading
    def reload(self, timeout: float = 15.0) -> None:
        """Have the server read its configuration and ticket-key file again, as an operator's reload does
        (nginx: SIGHUP; Apache: SIGUSR1, its graceful restart): how these servers change ticket keys
        (``key.rotation``). Rewrite the key file with :func:`write_ticket_key_file` first.

        Returns once no worker that served before the signal is left and a handshake succeeds (a worker
        from before would still hold the old key). :class:`UnsupportedConfig` for a kind this harness does
        not reload; :class:`ServerStartError`, with the log tail, if the server exits or keeps its workers."""
        if self.process is None or self.pid is None:
            raise UsageError(f"{self.kind}: not running")
        if self._reload_signal is None:
            raise UnsupportedConfig(f"{self.kind}: no reload signal in this harness (restart it instead)")
        before = _children(self.pid)
        os.kill(self.pid, self._reload_signal)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerStartError(f"{self.kind} ({self.version}) exited on its reload signal "
                                       f"(status {self.process.returncode})\n--- log tail ---\n{self.log_tail()}")
            workers = _children(self.pid)
            if workers and not workers & before:
                try:
                    self.handshake()
                    return
                except (OSError, ssl.SSLError):
                    pass
            time.sleep(0.05)
        raise ServerStartError(f"{self.kind} ({self.version}): its workers were not replaced within {timeout:g} s "
                               f"of the reload signal\n--- log tail ---\n{self.log_tail()}")

    # -- logs
    def log_tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines of each of the server's logs (its output, its error log...)."""
        if self.folder is None or not os.path.isdir(self.folder):
            return self._last_logs
        parts = []
        for path in self._logs:
            try:
                with open(path, errors="replace") as f:
                    text = f.read().strip().splitlines()[-lines:]
            except OSError:
                continue
            if text:
                parts.append(f"[{os.path.basename(path)}]\n" + "\n".join(text))
        return "\n".join(parts) or "(no log output)"

    # -- stopping
    def stop(self) -> None:
        """SIGTERM to the process group, SIGKILL after 5 s; then remove the folder. Idempotent."""
        process, self.process = self.process, None
        if process is not None:
            self._last_logs = self.log_tail()
            for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(process.pid, sig)  # its own session: the group id is its PID
                except ProcessLookupError:
                    break
                try:
                    process.wait(timeout=wait)
                    # the leader is gone; workers it left (nginx, Apache children) get the same signal
                    try:
                        os.killpg(process.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    break
                except subprocess.TimeoutExpired:
                    continue
            if process.stdin:
                process.stdin.close()
        self._remove_folder()

    def _remove_folder(self) -> None:
        folder, self.folder = self.folder, None
        if folder and os.path.isdir(folder):
            shutil.rmtree(folder, ignore_errors=True)

    def __enter__(self) -> RealServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.process is not None and self.process.poll() is None else "stopped"
        return (f"<RealServer {self.kind} {self.version} {self.host}:{self.port} pid={self.pid} {state}; "
                f"{self.config.describe()}>")


def _children(pid: int) -> set:
    """The PIDs whose parent is ``pid`` (from /proc: a server's workers)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rfind(b")") + 2:].split()  # after "pid (comm) ": state, ppid, ...
        if len(fields) > 1 and int(fields[1]) == pid:
            found.add(int(entry))
    return found


def smtp_starttls(sock: socket.socket, helo: str = "gnutls-lab.test") -> None:
    """Greeting, EHLO, STARTTLS on a connected SMTP socket; UsageError if the server will not start TLS.

    Replies are read a byte at a time, so nothing after the last reply is taken from the socket (the
    TLS handshake that follows must find the socket as the server left it)."""

    def line() -> bytes:
        data = b""
        while not data.endswith(b"\n"):
            byte = sock.recv(1)
            if not byte:
                raise UsageError("the SMTP server closed the connection")
            data += byte
            if len(data) > 2048:
                raise UsageError("the SMTP server sent a line longer than 2048 bytes")
        return data

    def reply() -> tuple[int, str]:
        lines = []
        while True:
            text = line()
            lines.append(text.decode(errors="replace").rstrip())
            if len(text) < 4 or text[3:4] != b"-":
                return int(text[:3]) if text[:3].isdigit() else 0, "\n".join(lines)

    code, text = reply()
    if code != 220:
        raise UsageError(f"SMTP greeting was not 220: {text[:200]}")
    sock.sendall(f"EHLO {helo}\r\n".encode())
    code, text = reply()
    if code != 250 or "STARTTLS" not in text.upper():
        raise UsageError(f"the SMTP server does not offer STARTTLS: {text[:200]}")
    sock.sendall(b"STARTTLS\r\n")
    code, text = reply()
    if code != 220:
        raise UsageError(f"STARTTLS refused: {text[:200]}")


def start_real_server(kind: str, config: RealServerConfig | None = None, *, start_timeout: float = 20.0) -> RealServer:
    """Start ``kind`` with ``config`` on 127.0.0.1 (a free port); a running :class:`RealServer`.

    ServerMissing when the program is not installed, UnsupportedConfig when the server cannot be
    configured that way, ServerStartError (with the log tail) when it does not answer a TLS handshake
    within ``start_timeout`` seconds. Use it in a ``with`` block, or call :meth:`RealServer.stop`.
    """
    server = RealServer(kind, config or RealServerConfig(), start_timeout=start_timeout)
    return server.start()
