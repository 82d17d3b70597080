"""Other TLS clients on the lab's wire: which of them can a passive observer follow from visit to visit?

Theory of operation. For each client, a fresh :class:`~gnutls_lab.network._server.LabServer` on
127.0.0.1 (one ticket key, tickets on, TLS 1.3 or 1.2 only) records every byte of every connection.
The client then makes ``visits`` connections to it, resuming the way it does by itself:

* ``gnutls-cli`` (GnuTLS's command-line client) has no option to save a session to a file and load it
  in another run, so it makes all its visits in one process: ``--inline-commands``, and one
  ``^resume^`` line on its standard input per further visit (it closes the connection and opens a new
  one with the session data it holds).
* ``openssl`` (OpenSSL's ``s_client``): one process per visit, ``-sess_out FILE`` saving the newest
  session and ``-sess_in FILE`` offering it on the next visit.
* ``python-ssl`` (CPython's :mod:`ssl`, i.e. OpenSSL): one socket per visit; the ``SSLSocket.session``
  of the last visit is passed as ``session=`` to the next one.
* ``gnutls-lab``: the lab's own client (:func:`~gnutls_lab.network._client.connect`, libgnutls),
  offering the newest session data (``gnutls_session_get_data2``) of the last visit.

Each connection's recorded bytes go through the passive observer
(:func:`~gnutls_lab.analysis._observer.observe_connection`) and the visits are linked
(:func:`~gnutls_lab.analysis._linkage.link_visits`) as in the reuse experiment: two visits are linked
when one value crossed the wire in clear in both. Metrics, per client (:class:`ClientRun`):

* ``linkable_pair_fraction`` = Σ_c C(|c|, 2) / C(N, 2) over the clusters of linked visits;
* ``ticket_linkable_pair_fraction``: the same, counting only ticket evidence (a TLS 1.2 ticket, a
  TLS 1.3 PSK identity), i.e. without session IDs;
* ``session_id_repeats``: a ClientHello carried a non-empty session ID (in TLS 1.3 the
  ``legacy_session_id``) that had already crossed the wire in an earlier visit.

A client whose program is not installed gives a record with ``missing`` set (what to install), not an
error, so that one missing program does not hide what the others do.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field

from ..analysis import TICKET_LINK_KINDS, Linkage, link_visits
from ..analysis import observe_connection
from ..binding import library_info
from ..errors import GnuTLSLabError, UsageError
from ._client import connect
from ._peers import die_with_parent, openssl_client_session, require_program
from ._server import LabServer

__all__ = ["CLIENTS", "ClientRun", "run_client", "run_clients"]

#: The clients, in the order they are reported.
CLIENTS = ("gnutls-cli", "openssl", "python-ssl", "gnutls-lab")

_HOST = "127.0.0.1"
_SETTLE_SECONDS = 0.3  # server idle time before it closes: its tickets have long arrived by then


@dataclass
class ClientRun:
    """What one client did over ``visits`` connections to the lab server, and what an observer links.

    ``client``: program and version. ``missing``: why the client could not run (nothing else is set
    then). ``how``: how the client resumed. ``observed``: each visit as the passive observer saw it
    (:class:`~gnutls_lab.analysis._observer.ObservedConnection`); ``linkage``: the observer's clusters.
    """

    name: str
    client: str
    protocol: str
    visits: int = 0
    resumed: int = 0
    linkable_pair_fraction: float | None = None
    ticket_linkable_pair_fraction: float | None = None
    session_id_repeats: bool | None = None
    missing: str | None = None
    how: str = ""
    observed: list = field(default_factory=list, repr=False)
    resumed_visits: list = field(default_factory=list)
    linkage: Linkage | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        """The record as plain values, for JSON (without the observed connections)."""
        record = {"client": self.client, "name": self.name, "protocol": self.protocol, "visits": self.visits,
                  "resumed": self.resumed, "linkable_pair_fraction": self.linkable_pair_fraction,
                  "ticket_linkable_pair_fraction": self.ticket_linkable_pair_fraction,
                  "session_id_repeats": self.session_id_repeats, "resumed_visits": self.resumed_visits,
                  "how": self.how}
        if self.missing:
            record["missing"] = self.missing
        return record


# --- the clients --------------------------------------------------------------------------------


def _program_version(command: list) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    return (result.stdout.strip().splitlines() or ["unknown version"])[0]


def _gnutls_cli_visits(port: int, tls: str, visits: int, timeout: float) -> str:
    """One gnutls-cli process; a ``^resume^`` line per further visit, sent once the last handshake is done."""
    program = require_program("gnutls-cli")
    version = _program_version([program, "--version"])
    command = [program, "--insecure", "--inline-commands", "--priority", f"NORMAL:-VERS-ALL:+VERS-TLS{tls}",
               "--port", str(port), _HOST]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, preexec_fn=die_with_parent)
    lines: list = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()

    def wait_for_handshakes(count: int) -> None:
        deadline = time.monotonic() + timeout
        while sum("Handshake was completed" in line for line in lines) < count:
            if process.poll() is not None or time.monotonic() > deadline:
                tail = [line.strip() for line in lines if line.strip()][-1:] or ["no output"]
                raise UsageError(f"gnutls-cli did not complete handshake {count} with {_HOST}:{port}: {tail[0]}")
            time.sleep(0.02)

    try:
        wait_for_handshakes(1)
        for visit in range(1, visits):
            time.sleep(_SETTLE_SECONDS)  # the server's tickets arrive after the handshake
            process.stdin.write("^resume^\n")
            process.stdin.flush()
            wait_for_handshakes(visit + 1)
        time.sleep(_SETTLE_SECONDS)
        process.stdin.close()
        process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(timeout=5)
    return version


def _openssl_visits(port: int, tls: str, visits: int, timeout: float) -> str:
    program = require_program("openssl")
    version = " ".join(_program_version([program, "version"]).split()[:2])
    with tempfile.TemporaryDirectory(prefix="gnutls-lab-openssl-") as folder:
        offer = None
        for visit in range(visits):
            path = os.path.join(folder, f"session-{visit}.pem")
            openssl_client_session(_HOST, port, tls, path, timeout=timeout, resume_from=offer)
            if os.path.exists(path) and os.path.getsize(path):
                offer = path  # the newest session; a resumed TLS 1.2 visit writes none, keep the last
    return version


def _python_ssl_visits(port: int, tls: str, visits: int, timeout: float) -> str:
    try:
        import socket
        import ssl
        import sys
    except ImportError:  # a Python built without OpenSSL
        raise UsageError("python ssl not found: this Python was built without OpenSSL (install libssl-dev "
                         "and rebuild Python, or use Debian's python3)") from None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the lab server's certificate is self-signed
    version = ssl.TLSVersion.TLSv1_3 if tls == "1.3" else ssl.TLSVersion.TLSv1_2
    context.minimum_version = context.maximum_version = version
    session = None
    for _ in range(visits):
        with socket.create_connection((_HOST, port), timeout=timeout) as raw:
            with context.wrap_socket(raw, session=session) as tls_socket:
                try:
                    while tls_socket.recv(4096):  # tickets, then the server's close_notify
                        pass
                except (ssl.SSLError, OSError):
                    pass  # the server closed without waiting for us: what arrived still counts
                session = tls_socket.session
    return f"Python {sys.version.split()[0]} ssl ({' '.join(ssl.OPENSSL_VERSION.split()[:2])})"


def _lab_visits(port: int, tls: str, visits: int, timeout: float) -> str:
    data = None
    for _ in range(visits):
        with connect(_HOST, port, tls, resume=data, timeout=timeout) as connection:
            session_data = connection.session_data
        if not session_data.dummy:
            data = session_data
    return f"gnutls-lab (libgnutls {library_info().version})"


#: name → (run the visits, how it resumes, server idle timeout in seconds)
_DRIVERS = {
    "gnutls-cli": (_gnutls_cli_visits, "one process, --inline-commands with ^resume^ per visit", 30.0),
    "openssl": (_openssl_visits, "s_client per visit, -sess_out then -sess_in of the newest session", _SETTLE_SECONDS),
    "python-ssl": (_python_ssl_visits, "a socket per visit, SSLSocket.session of the last visit", _SETTLE_SECONDS),
    "gnutls-lab": (_lab_visits, "a connection per visit, the newest gnutls_session_get_data2", 30.0),
}


# --- the experiment -----------------------------------------------------------------------------


def _session_id_repeats(observed: list) -> bool:
    """True when a ClientHello resent a session ID that crossed the wire in an earlier visit."""
    seen: set = set()
    for connection in observed:
        hello = connection.client_hello
        if hello is not None and hello.session_id and hello.session_id in seen:
            return True
        seen.update(h.session_id for h in (*connection.client_hellos, *connection.server_hellos) if h.session_id)
    return False


def run_client(name: str, tls: str = "1.3", visits: int = 5, *, timeout: float = 20.0) -> ClientRun:
    """``visits`` connections of client ``name`` (one of :data:`CLIENTS`) to a fresh lab server."""
    if name not in _DRIVERS:
        raise UsageError(f"unknown client {name!r}: use one of {', '.join(CLIENTS)}")
    if tls not in ("1.3", "1.2"):
        raise UsageError(f"tls must be '1.3' or '1.2', not {tls!r}")
    if visits < 2:
        raise UsageError(f"at least 2 visits are needed to link anything (got {visits})")
    drive, how, idle = _DRIVERS[name]
    protocol = f"TLS{tls}"
    server = LabServer(0, tls, idle_timeout=idle, record_wire=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        try:
            client = drive(server.port, tls, visits, timeout)
        except UsageError as exc:
            if "not found" in str(exc):
                return ClientRun(name, name, protocol, missing=str(exc), how=how)
            raise
        served = server.wait_served(visits, timeout)  # in the order of the visits
    finally:
        server.close()
        serving.join(timeout=5)
    failed = [record for record in served if record.error]
    if len(served) != visits or failed:
        detail = failed[0].log_line() if failed else f"the server saw {len(served)} connections"
        raise GnuTLSLabError(f"{name} made {visits} visits to the lab server, but {detail}")
    observed = [observe_connection(record.wire, time=float(index)) for index, record in enumerate(served)]
    linkage = link_visits(observed)
    return ClientRun(
        name, client, protocol, visits=visits, resumed=sum(record.resumed for record in served),
        linkable_pair_fraction=linkage.linkable_pair_fraction,
        ticket_linkable_pair_fraction=linkage.restricted_to(TICKET_LINK_KINDS).linkable_pair_fraction,
        session_id_repeats=_session_id_repeats(observed), how=how, observed=observed,
        resumed_visits=[record.index for record in served if record.resumed], linkage=linkage)


def run_clients(tls: str = "1.3", visits: int = 5, clients=CLIENTS, *, timeout: float = 20.0) -> list:
    """:func:`run_client` for each of ``clients``, in order: one :class:`ClientRun` each."""
    return [run_client(name, tls, visits, timeout=timeout) for name in clients]
