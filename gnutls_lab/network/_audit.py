"""``gnutls-lab audit``: the connections that probe a real server's resumption, tickets and 0-RTT.

Theory of operation. Every probe is a handful of real handshakes made by the lab's client (libgnutls,
:func:`gnutls_lab.network.connect`), each one observed on the wire; this module only makes the
connections, in a bounded number and with bounded waits, and writes down what each one showed in an
:class:`~gnutls_lab.analysis.AuditReport`. What the records mean is computed there (layer 4).

The probes, per protocol the server speaks (``tls``):

- ``tls13-psk``: a full handshake, then ``tries`` resumptions: half with a ticket never used before (the
  newest, so a server that reissues shows it), half with the first ticket again (reuse);
  ``tls13-psk-modes``: one resumption offering only ``psk_dhe_ke``, one only ``psk_ke``;
- ``tls12-session-id``: a client without tickets (``GNUTLS_NO_TICKETS``), a full handshake and
  ``tries - 1`` resumptions by session ID; ``tls12-ticket``: as ``tls13-psk`` with TLS 1.2 tickets;
- ``*-lifetime``: fresh tickets (and a session) taken at the start, offered at the end once they are
  1/4, 1/2 and all of ``max_wait`` seconds old (ages under 1 s are skipped; a refusal ends the series);
- ``sni``: with ``server_names`` a second name: a full handshake under it, and the first name's ticket
  offered under it;
- ``tls13-0rtt``: when a ticket allows early data, a full handshake for a fresh ticket, then a resumption
  that sends a small request as 0-RTT; with ``replay=True`` its first flight is sent again, byte for byte,
  on a new TCP connection.

Politeness. Loopback is the default, as for ``connect``; ``allow_remote=True`` audits another host at
most ``rate`` connections per second (default 2) and ``max_connections`` in all (default 80); the
report's ``sent`` says what went out. A cap reached stops the probes, and the report says which ran.
"""

from __future__ import annotations

import socket
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass

from ..analysis import (
    AuditConnection,
    AuditReport,
    AuditedTicket,
    KnownSecret,
    ProbeRecord,
    Secret,
    decode,
    identify_software,
    judge_replay,
    observe_connection,
    tls13_ticket_psk,
)
from ..binding import library_info
from ..errors import BlobFormatError, GnuTLSLabError, UsageError
from ..formats import NewSessionTicketTLS12, NewSessionTicketTLS13
from ..sessions import CertificateCredentials, check_output_path, first_flight, write_pcapng
from ._client import check_host, connect, linger_close
from ._starttls import STARTTLS_PROTOCOLS, starttls_client

__all__ = ["DEFAULT_MAX_WAIT", "DEFAULT_TRIES", "REMOTE_RATE", "REMOTE_CAP", "audit"]

DEFAULT_MAX_WAIT = 2.0
DEFAULT_TRIES = 4
REMOTE_RATE = 2.0  # connections per second to a host that is not this machine
REMOTE_CAP = 80  # connections in all, to a host that is not this machine
LOCAL_CAP = 400
MAX_WAIT_LIMIT = 7 * 86400  # the longest TLS 1.3 ticket lifetime (RFC 8446 4.6.1)
_PRIORITY = {"1.3": "NORMAL:-VERS-ALL:+VERS-TLS1.3", "1.2": "NORMAL:-VERS-ALL:+VERS-TLS1.2"}
#: A TLS 1.3 client offering one PSK key exchange mode (psk_key_exchange_modes, RFC 8446 4.2.9): libgnutls
#: derives the modes it offers from the key exchanges in its priority.
_PSK_MODE_PRIORITY = {
    "psk_dhe_ke": "NORMAL:-VERS-ALL:+VERS-TLS1.3:-KX-ALL:+ECDHE-RSA:+ECDHE-ECDSA:+DHE-PSK:+ECDHE-PSK",
    "psk_ke": "NORMAL:-VERS-ALL:+VERS-TLS1.3:+PSK:-ECDHE-PSK:-DHE-PSK",
}
_PROTOCOL = {"1.3": "TLS1.3", "1.2": "TLS1.2"}


class _CapReached(Exception):
    """The connection cap was reached: the probes stop."""


@dataclass
class _Held:
    """Session data the audit can resume with: the ticket (number) or session it carries, when it came."""

    data: object
    kind: str  # "psk", "ticket" or "session_id"
    received: float  # monotonic
    ticket: int | None = None
    uses: int = 0
    server_name: str | None = None


class _Pacer:
    """At most ``rate`` connections per second and ``cap`` in all."""

    def __init__(self, rate: float | None, cap: int):
        self.rate, self.cap, self.count, self.last = rate, cap, 0, 0.0

    def take(self) -> None:
        if self.count >= self.cap:
            raise _CapReached
        if self.rate:
            wait = self.last + 1.0 / self.rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        self.last = time.monotonic()
        self.count += 1


class _Run:
    """One audit in progress: the report being filled and the state the probes share."""

    def __init__(self, host, port, address, *, server_names, tls, max_wait, replay, starttls, allow_remote,
                 pcap, tries, rate, cap, progress, timeout):
        self.host, self.port, self.address = host, port, address
        self.names = list(server_names) or ([host] if _is_name(host) else [None])
        self.tls, self.max_wait, self.replay, self.starttls = tls, max_wait, replay, starttls
        self.allow_remote, self.pcap, self.tries, self.timeout = allow_remote, pcap, tries, timeout
        self.pacer = _Pacer(rate, cap)
        self.start = time.monotonic()
        self.report = AuditReport(
            target=f"{host}:{port}", address=address, gnutls_version=library_info().version,
            started_unix=time.time(), server_names=tuple(n for n in self.names if n),
            options={"tls": list(tls), "max_wait": max_wait, "replay": replay, "starttls": starttls,
                     "allow_remote": allow_remote, "tries": tries, "rate": rate, "max_connections": cap})
        self.credentials = CertificateCredentials()
        self.captures: list = []
        self.probes: dict = {}
        self.stopped = False
        self.ticket_wait = {"1.3": 0.5, "1.2": 0.0}
        self.bar = _progress_bar(progress, _planned(tls, tries, max_wait, replay, len(self.names)))

    # -- bookkeeping ---------------------------------------------------------------------------
    def probe(self, name: str) -> ProbeRecord:
        record = self.probes.get(name)
        if record is None:
            record = self.probes[name] = ProbeRecord(name)
            self.report.probes.append(record)
        return record

    def now(self) -> float:
        return time.monotonic() - self.start

    def wait_until(self, moment: float, probe: str) -> None:
        """Sleep until ``moment`` (monotonic), counted as the probe's time."""
        delay = moment - time.monotonic()
        if delay > 0:
            if self.bar is not None:
                self.bar.set_description(f"waiting {delay:.0f} s ({probe})")
            time.sleep(delay)
            self.probe(probe).seconds += delay

    # -- one connection ----------------------------------------------------------------------------
    def connect(self, probe: str, tls: str, *, resume: _Held | None = None, name_index: int = 0,
                no_tickets: bool = False, priority: str | None = None, early_data: bytes | None = None,
                note: str = "", request: bytes | None = None) -> tuple[AuditConnection, _Held | None]:
        """One connection of ``probe``; its record, and the session data it left (None if none)."""
        if self.stopped:
            raise _CapReached
        try:
            self.pacer.take()
        except _CapReached:
            self.stopped = True
            raise
        record = self.probe(probe)
        record.connections += 1
        server_name = self.names[name_index]
        conn = AuditConnection(index=len(self.report.connections), probe=probe, tls=tls, at=self.now(),
                               server_name=server_name, note=note)
        self.report.connections.append(conn)
        if resume is not None:
            resume.uses += 1
            conn.offer_age = time.monotonic() - resume.received
            conn.offered_ticket = resume.ticket
        if self.bar is not None:
            self.bar.set_description(probe)
        started = time.monotonic()
        held = None
        try:
            with connect(self.address, self.port, priority or _PRIORITY[tls], resume=None if resume is None
                         else resume.data, credentials=self.credentials, server_name=server_name,
                         timeout=self.timeout, ticket_wait=self.ticket_wait[tls], allow_remote=True,
                         keylog=self.pcap is not None, no_tickets=no_tickets, early_data=early_data,
                         starttls=self.starttls) as remote:
                held = self._record(conn, remote, tls, no_tickets)
                if request is not None:
                    conn.answer = _ask(remote, request)
                if early_data is not None:
                    conn.early_data_sent = len(early_data)
                    conn.early_data_accepted = remote.early_data_accepted
                    conn.wire = list(remote.wire)  # the replay probe sends its first flight again
        except GnuTLSLabError as exc:
            conn.error = str(exc).splitlines()[0][:300]
        finally:
            conn.seconds = time.monotonic() - started
            record.seconds += conn.seconds
            if self.bar is not None:
                self.bar.update(1)
        return conn, held

    def _record(self, conn: AuditConnection, remote, tls: str, no_tickets: bool) -> _Held | None:
        conn.protocol, conn.cipher_suite, conn.resumed = remote.protocol, remote.cipher_suite, remote.resumed
        try:
            conn.local_port = remote.sock.getsockname()[1]
        except OSError:
            pass
        data = remote.session_data  # first: a TLS 1.3 client reads the tickets that arrive after the handshake
        try:
            seen = observe_connection(remote.wire)
        except BlobFormatError:
            seen = None
        conn.observed = seen
        if seen is not None and seen.client_hello is not None:
            hello = seen.client_hello
            conn.client_session_id = bytes(hello.session_id)
            conn.psk_modes_offered = tuple(hello.psk_ke_modes)
            if hello.psk_identities:
                conn.offered = "psk"
            elif hello.session_ticket:
                conn.offered = "ticket"
            elif remote.offered is not None and hello.session_id and remote.protocol == "TLS1.2":
                conn.offered = "session_id"
            if seen.server_hello is not None:
                conn.server_session_id = bytes(seen.server_hello.session_id)
                conn.server_key_share = 51 in seen.server_hello.extension_types
        if remote.offered is not None and conn.offered is None and not conn.note:
            conn.note = "the client did not offer its session data (libgnutls drops a ticket past its lifetime)"
        elif remote.offered is not None and conn.offered is None:
            conn.note += "; the client did not offer its session data (libgnutls drops a ticket past its lifetime)"
        if self.pcap is not None:
            try:
                self.captures.append(remote.capture())
            except GnuTLSLabError:
                pass
        numbers = self._tickets(conn, remote)
        if data.dummy:
            return None
        if conn.protocol == "TLS1.3":
            return _Held(data, "psk", time.monotonic(), numbers[-1], server_name=conn.server_name) if numbers else None
        if no_tickets or (not numbers and not (conn.resumed and conn.offered == "ticket")):
            return _Held(data, "session_id", time.monotonic(), server_name=conn.server_name)
        # a TLS 1.2 ticket: the new one, or (a resumption without a new ticket) the one offered again
        number = numbers[-1] if numbers else conn.offered_ticket
        return _Held(data, "ticket", time.monotonic(), number, server_name=conn.server_name)

    def _tickets(self, conn: AuditConnection, remote) -> list[int]:
        """Record the tickets this connection brought, with what the client knows of them."""
        arrivals = [m for m in remote.transcript if m.sender == "server" and m.name == "NEW SESSION TICKET"]
        numbers = []
        secrets13 = None
        for message in arrivals:
            try:
                if conn.protocol == "TLS1.3":
                    body = NewSessionTicketTLS13.parse(message.body)
                    early = [e.data.max_early_data_size for e in body.extensions if str(e.type) == "early_data"]
                    if secrets13 is None:
                        secrets13 = self._tls13_secret(remote)
                    secrets = ()
                    if secrets13 is not None:
                        hash_name = "sha384" if "SHA384" in conn.cipher_suite else "sha256"
                        secrets = (KnownSecret("resumption_master_secret", secrets13),
                                   KnownSecret("psk", tls13_ticket_psk(secrets13, bytes(body.session_ticket_nonce),
                                                                       hash_name)))
                    ticket = AuditedTicket(bytes(body.session_ticket), "TLS1.3", conn.index, self.now(), secrets,
                                           conn.server_name, time.time(), body.session_ticket_lifetime_hint,
                                           early[0] if early else 0, conn.resumed)
                else:
                    body = NewSessionTicketTLS12.parse(message.body)
                    secrets = (KnownSecret("master_secret", Secret(remote.client.master_secret())),)
                    ticket = AuditedTicket(bytes(body.session_ticket), "TLS1.2", conn.index, self.now(), secrets,
                                           conn.server_name, time.time(), body.session_ticket_lifetime_hint,
                                           None, conn.resumed)
            except Exception:  # noqa: BLE001 - a ticket message the schema cannot read is not recorded
                continue
            if not ticket.ticket:
                continue
            ticket.number = len(self.report.tickets)
            self.report.tickets.append(ticket)
            numbers.append(ticket.number)
        conn.tickets = numbers
        return numbers

    @staticmethod
    def _tls13_secret(remote):
        try:
            tls13 = decode(remote.session_data, annotate=False).tls13
        except (BlobFormatError, GnuTLSLabError):
            return None
        return None if tls13 is None else Secret(tls13.resumption_master_secret)

    def finish(self) -> AuditReport:
        if self.bar is not None:
            self.bar.close()
        self.credentials.close()
        report = self.report
        report.seconds = self.now()
        for record in report.probes:
            if record.status == "done" and self.stopped and not record.connections:
                record.status = "stopped"
        return report


def _is_name(host: str) -> bool:
    return any(c.isalpha() for c in host) and ":" not in host


def _planned(tls, tries, max_wait, replay, names) -> int:
    ages = len(_ages(max_wait))
    per = {"1.3": 1 + tries + 2 + ages + 2 + (1 if replay else 0), "1.2": 1 + tries + tries + 2 * ages}
    return sum(per[v] + 2 * (names - 1) for v in tls) + 1  # + the identify probe


def _progress_bar(progress, total: int):
    """A tqdm bar on stderr: when asked (True), or by default when stderr is a terminal."""
    if progress is False or (progress is None and not sys.stderr.isatty()):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is a dependency; a broken install just runs without a bar
        return None
    return tqdm(total=total, unit="conn", file=sys.stderr, leave=False, desc="audit")


def _ages(max_wait: float) -> list[float]:
    """The ages the lifetime probes offer tickets at: a quarter, half and all of ``max_wait``, 1 s or more."""
    return sorted({round(max_wait * f, 3) for f in (0.25, 0.5, 1.0) if max_wait * f >= 1.0})


# --- the probes ----------------------------------------------------------------------------------------

def _chain(run: _Run, probe: str, tls: str, first: _Held, pool: list, **options) -> None:
    """``tries`` resumptions: half with tickets never offered before, half with ``first`` again."""
    fresh_tries = (run.tries + 1) // 2
    for i in range(run.tries):
        if i < fresh_tries:
            candidate = next((h for h in reversed(pool) if h.uses == 0), None)
            held, note = (candidate, "fresh ticket") if candidate is not None else (first, "reuse (no unused ticket)")
        else:
            held, note = first, "reuse of the first ticket"
        conn, new = run.connect(probe, tls, resume=held, note=note, **options)
        if new is not None and (new.ticket is None or new.ticket != held.ticket):
            pool.append(new)


def _probe_version(run: _Run, tls: str, aging: list) -> dict:
    """The probes of one protocol version; returns the state later probes need (fresh tickets...)."""
    protocol = _PROTOCOL[tls]
    state: dict = {"pool": [], "first": None}
    ticket_probe = "tls13-psk" if tls == "1.3" else "tls12-ticket"
    conn, first = run.connect(ticket_probe, tls, note="full handshake")
    if conn.error or conn.protocol != protocol:
        run.report.protocols[protocol] = False
        run.probe(ticket_probe).status = "skipped"
        run.probe(ticket_probe).note = f"no {protocol} handshake: {conn.error or 'the server chose ' + conn.protocol}"
        return state
    run.report.protocols[protocol] = True
    if tls == "1.3" and first is None:
        run.ticket_wait["1.3"] = 0.15  # the server sends no tickets: do not wait for them each time
    # tickets for the lifetime probe, taken now so they age while the other probes run
    if tls == "1.2":
        for age in _ages(run.max_wait):
            _, held = run.connect("tls12-session-id-lifetime", tls, no_tickets=True, note=f"session for age {age:g} s")
            if held is not None:
                aging.append(("tls12-session-id-lifetime", tls, age, held, {"no_tickets": True}))
    for age in _ages(run.max_wait):
        _, held = run.connect(f"{ticket_probe}-lifetime", tls, note=f"ticket for age {age:g} s")
        if held is not None and held.kind != "session_id":
            aging.append((f"{ticket_probe}-lifetime", tls, age, held, {}))
    if tls == "1.2":
        _, session = run.connect("tls12-session-id", tls, no_tickets=True, note="full handshake")
        if session is not None:
            for i in range(max(run.tries - 1, 1)):
                run.connect("tls12-session-id", tls, resume=session, no_tickets=True, note="reuse of the session")
    if first is None or first.kind == "session_id":
        run.probe(ticket_probe).note = "the server issued no ticket"
        return state
    state["first"], state["pool"] = first, [first]
    _chain(run, ticket_probe, tls, first, state["pool"])
    if tls == "1.3":
        for mode in ("psk_dhe_ke", "psk_ke"):
            held = next((h for h in reversed(state["pool"]) if h.uses == 0), first)
            _, new = run.connect("tls13-psk-modes", tls, resume=held, priority=_PSK_MODE_PRIORITY[mode],
                                 note=f"only {mode} offered")
            if new is not None:
                state["pool"].append(new)
    return state


def _probe_names(run: _Run, states: dict) -> None:
    """A second server name: its tickets (key names) and a ticket of the first name offered under it."""
    for index in range(1, len(run.names)):
        for tls, state in states.items():
            run.connect("sni", tls, name_index=index, note=f"full handshake as {run.names[index]}")
            held = next((h for h in reversed(state["pool"]) if h.uses == 0), state["first"])
            if held is not None:
                run.connect("sni", tls, resume=held, name_index=index,
                            note=f"a ticket of {run.names[0]} offered as {run.names[index]}")


def _probe_zero_rtt(run: _Run, state: dict) -> None:
    sizes = [t.max_early_data_size for t in run.report.tickets if t.protocol == "TLS1.3" and t.max_early_data_size]
    if not sizes:
        run.report.not_done.append("0-RTT: no ticket allowed early data, so none was sent")
        return
    if run.starttls is not None:
        run.report.not_done.append("0-RTT: not tried over STARTTLS (early data would carry SMTP commands)")
        return
    # A ticket from a full handshake made just now: a server checks a 0-RTT ticket's age against its
    # anti-replay window (GnuTLS: 10 s by default), so the probe must not depend on how long the others took.
    _, held = run.connect("tls13-0rtt", "1.3", note="full handshake for a fresh ticket")
    if held is None:
        held = next((h for h in reversed(state["pool"]) if h.uses == 0), state["first"])
    name = run.names[0] or run.host
    # No "Connection: close": a server that answers the early data at once (0.5-RTT) and then closes would
    # cut the client's own Finished off (nginx does), and the handshake would fail for the wrong reason.
    request = (f"HEAD / HTTP/1.1\r\nHost: {name}\r\nUser-Agent: gnutls-lab-audit ({_UA_NOTE})\r\n"
               "\r\n").encode("ascii", "replace")
    conn, _ = run.connect("tls13-0rtt", "1.3", resume=held, early_data=request, note="0-RTT request")
    if conn.error:  # a transport failure (a reset) says nothing about 0-RTT: one more try, on a fresh ticket
        _, again = run.connect("tls13-0rtt", "1.3", note="full handshake for a fresh ticket (second try)")
        conn, _ = run.connect("tls13-0rtt", "1.3", resume=again or held, early_data=request,
                              note=f"0-RTT request, second try (the first failed: {conn.error[:80]})")
    run.report.sent.append(f"one 0-RTT request as early data: {request.decode().splitlines()[0]!r} with a "
                           f"User-Agent naming gnutls-lab-audit ({len(request)} bytes)")
    if not run.replay:
        run.report.not_done.append("0-RTT replay: not tried (it sends the request twice; run with --replay)")
        return
    if conn.error or not conn.early_data_accepted:
        run.report.replay = {"attempted": False, "verdict": None,
                             "evidence": "the first 0-RTT flight was not accepted, so there is nothing to replay"}
        return
    flight = first_flight(conn.wire)
    try:
        server_bytes = _send_raw(run, flight)
    except _CapReached:
        raise
    except OSError as exc:
        run.report.replay = {"attempted": True, "verdict": None, "evidence": f"could not send it: {exc}"}
        return
    run.report.sent.append("the same 0-RTT first flight once more, byte for byte (--replay)")
    run.report.replay = dict(judge_replay(conn.wire, server_bytes), attempted=True)


@contextmanager
def _plain_connection(run: _Run, probe: str, timeout: float):
    """A TCP connection of ``probe`` outside the lab client (no TLS of ours): paced, counted in the probe's
    connections and seconds and on the progress bar like the others, closed with a short linger."""
    run.pacer.take()
    record = run.probe(probe)
    record.connections += 1
    started = time.monotonic()
    family = socket.AF_INET6 if ":" in run.address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect((run.address, run.port))
            yield sock
            linger_close(sock, 0.1)
    finally:
        record.seconds += time.monotonic() - started
        if run.bar is not None:
            run.bar.update(1)


def _send_raw(run: _Run, flight: bytes, quiet: float = 0.5, limit: float = 3.0) -> bytes:
    """Send recorded bytes on a new TCP connection (after the STARTTLS preamble, if any); what came back."""
    chunks = []
    with _plain_connection(run, "tls13-0rtt-replay", run.timeout) as sock:
        started = time.monotonic()
        starttls_client(run.starttls, sock, f"{run.host}:{run.port}", run.timeout)
        sock.sendall(flight)
        deadline = started + limit
        sock.settimeout(quiet)
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
            except socket.timeout:
                if chunks:
                    break
                continue
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


def _ask(remote, request: bytes, limit: float = 1.0) -> bytes:
    """Send ``request`` on an established connection; what came back within ``limit`` seconds (up to the end
    of an HTTP header, a close, or 16 KiB). A server that does not answer costs ``limit``."""
    remote.client.send(request)
    deadline = time.monotonic() + limit
    answer = b""
    while time.monotonic() < deadline and b"\r\n\r\n" not in answer and len(answer) < 16384:
        try:
            data = remote.client.recv()
        except GnuTLSLabError:
            break
        if data == b"":
            break
        answer += data or b""
    return answer


def _smtp_greeting(run: _Run, limit: float = 3.0) -> bytes:
    """An SMTP server's greeting on a plain TCP connection, closed with QUIT (no TLS)."""
    data = b""
    try:
        with _plain_connection(run, "identify", limit) as sock:
            while b"\r\n" not in data and len(data) < 4096:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
            sock.sendall(b"QUIT\r\n")
    except OSError:
        pass
    return data


def _probe_software(run: _Run) -> None:
    """What the server says it is, so that the advice can name its own directives: the SMTP greeting, or the
    ``Server`` header of its answer to one ``HEAD / HTTP/1.0`` request on a full handshake."""
    if run.starttls == "smtp":
        run.report.software = identify_software("smtp", _smtp_greeting(run))
        run.report.sent.append("one plain SMTP connection for the server's greeting, closed with QUIT")
        return
    if run.starttls is not None:
        return
    version = next((v for v in run.tls if run.report.protocols.get(_PROTOCOL[v])), None)
    if version is None:
        return
    name = run.names[0] or run.host
    request = (f"HEAD / HTTP/1.0\r\nHost: {name}\r\nUser-Agent: gnutls-lab-audit ({_UA_NOTE})\r\n"
               "\r\n").encode("ascii", "replace")
    conn, _ = run.connect("identify", version, note="HEAD / HTTP/1.0: what the server says it is", request=request)
    run.report.software = identify_software("http", b"" if conn.error else conn.answer)
    run.report.sent.append(f"one {request.decode().splitlines()[0]!r} request with a User-Agent naming "
                           "gnutls-lab-audit, for the Server header")


def _probe_lifetimes(run: _Run, aging: list) -> None:
    """Offer each aging ticket once it is old enough, in time order; a refusal (or a client that no longer
    offers it) ends its series."""
    refused: set = set()
    for probe, tls, age, held, options in sorted(aging, key=lambda item: item[3].received + item[2]):
        if probe in refused:
            continue
        run.wait_until(held.received + age, probe)
        conn, _ = run.connect(probe, tls, resume=held, note=f"aged {age:g} s", **options)
        if not conn.resumed and not conn.error:  # refused, or dropped by the client: older is no better
            refused.add(probe)
    if run.max_wait and not _ages(run.max_wait):
        run.report.not_done.append(f"ticket lifetime: --max-wait {run.max_wait:g} s is under 1 s, so no aged ticket "
                                   "was offered")


_UA_NOTE = "https://github.com/gnutls-lab/gnutls-lab, TLS resumption audit"


def audit(host: str, port: int, *, server_names=(), tls=("1.3", "1.2"), max_wait: float = DEFAULT_MAX_WAIT,
          replay: bool = False, starttls: str | None = None, allow_remote: bool = False, pcap: str | None = None,
          tries: int = DEFAULT_TRIES, rate: float | None = None, max_connections: int | None = None,
          progress=None, timeout: float = 10.0) -> AuditReport:
    """Audit the TLS server at ``host:port``; an :class:`~gnutls_lab.analysis.AuditReport`.

    ``server_names``: SNI values (the first for every probe, the others for the key-sharing probe;
    default: ``host`` when it is a name). ``tls``: the versions to probe. ``max_wait``: seconds the
    lifetime probe may wait (tickets are offered at 1/4, 1/2 and all of it). ``replay``: send the 0-RTT
    first flight a second time. ``starttls``: ``"smtp"``. ``allow_remote``: a host other than this machine,
    at ``rate`` connections per second (default 2) and ``max_connections`` in all (default 80). ``pcap``:
    write every connection to this pcapng file, secrets embedded (mode 0600). ``progress``: a bar on
    stderr (None: when stderr is a terminal).
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise UsageError(f"port {port!r} is not a TCP port (1-65535)")
    tls = tuple(dict.fromkeys(str(v) for v in (tls if isinstance(tls, (tuple, list)) else (tls,))))
    if not tls or any(v not in _PRIORITY for v in tls):
        raise UsageError(f"tls must be '1.3' and/or '1.2', not {tls!r}")
    if isinstance(max_wait, bool) or not isinstance(max_wait, (int, float)) or not 0 <= max_wait <= MAX_WAIT_LIMIT:
        raise UsageError(f"--max-wait must be 0 to {MAX_WAIT_LIMIT} seconds (7 days), not {max_wait!r}")
    if isinstance(tries, bool) or not isinstance(tries, int) or not 1 <= tries <= 50:
        raise UsageError(f"tries must be a whole number from 1 to 50, not {tries!r}")
    if starttls is not None and starttls not in STARTTLS_PROTOCOLS:
        raise UsageError(f"unknown STARTTLS protocol {starttls!r}: use one of {', '.join(STARTTLS_PROTOCOLS)}")
    names = tuple(n.strip() for n in server_names if n and n.strip())
    for name in names:
        if len(name) > 253 or not all(part and len(part) <= 63 for part in name.rstrip(".").split(".")) \
                or not all(c.isalnum() or c in "-._" for c in name):
            raise UsageError(f"{name!r} is not a DNS name to send as SNI")
    address = check_host(host, allow_remote)
    remote = not _is_loopback(address)
    if rate is None:
        rate = REMOTE_RATE if remote else None
    elif not rate > 0:
        raise UsageError(f"the rate must be more than 0 connections per second, not {rate!r}")
    cap = max_connections if max_connections is not None else (REMOTE_CAP if remote else LOCAL_CAP)
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
        raise UsageError(f"the connection cap must be a whole number of 1 or more, not {cap!r}")
    if pcap is not None:
        check_output_path(pcap)  # before any connection is made
    run = _Run(host, port, address, server_names=names, tls=tls, max_wait=float(max_wait), replay=replay,
               starttls=starttls, allow_remote=allow_remote, pcap=pcap, tries=tries, rate=rate, cap=cap,
               progress=progress, timeout=timeout)
    try:
        _run_probes(run)
    except _CapReached:
        run.report.not_done.append(f"the connection cap ({cap}) was reached: the probes after it did not run")
    except BaseException:
        run.finish()
        raise
    report = run.finish()
    report.sent.insert(0, _sent_note(run))
    if pcap is not None and run.captures:
        written = write_pcapng(run.captures, pcap)
        report.options["pcap"] = {"path": written["path"], "connections": written["connections"],
                                  "holds_secrets": True}
    return report


def _run_probes(run: _Run) -> None:
    aging: list = []
    states = {}
    for version in run.tls:
        states[version] = _probe_version(run, version, aging)
    if not any(run.report.protocols.values()):
        errors = {c.error for c in run.report.connections if c.error}
        raise UsageError(f"{run.host}:{run.port} completed no TLS handshake "
                         f"({'; '.join(sorted(errors))[:300] or 'no answer'})")
    usable = {v: s for v, s in states.items() if s.get("first") is not None}
    if len(run.names) > 1:
        _probe_names(run, usable)
    elif run.names:
        run.report.not_done.append("key sharing across server names: not probed (give two names: --sni a,b)")
    if "1.3" in usable:
        _probe_zero_rtt(run, usable["1.3"])
    _probe_software(run)
    _probe_lifetimes(run, aging)


def _is_loopback(address: str) -> bool:
    import ipaddress

    return ipaddress.ip_address(address.split("%")[0]).is_loopback


def _sent_note(run: _Run) -> str:
    hellos = {}
    for conn in run.report.connections:
        hellos[conn.tls] = hellos.get(conn.tls, 0) + 1
    versions = ", ".join(f"{count} TLS {version}" for version, count in hellos.items())
    names = ", ".join(n for n in run.names if n) or "no SNI"
    smtp = " after an SMTP EHLO/STARTTLS exchange each," if run.starttls else ""
    return (f"gnutls-lab audit (GnuTLS {run.report.gnutls_version} client) made {len(run.report.connections)} "
            f"TLS connections ({versions} ClientHellos, SNI: {names}),{smtp} each closed after the handshake with "
            f"close_notify; no other application data than said below"
            + (f"; at most {run.pacer.rate:g} connections per second" if run.pacer.rate else ""))
