"""``gnutls-lab serve`` and ``gnutls-lab connect``: the lab against real peers over TCP on this machine.

``serve`` runs :class:`gnutls_lab.network._server.LabServer` on 127.0.0.1 (always) until Ctrl-C, SIGTERM or
``--max-connections``; it announces ``listening on 127.0.0.1:PORT`` on stderr and prints one line per
connection on stdout (one JSON object per line with ``--json``), and with ``--log`` appends one JSON line
per connection to a file. It keeps no records in memory: those lines are the record. So a line that cannot
be written (standard output into a closed pipe or onto a full device, the log on a full disk) stops the
server: it serves no new connection, says once on stderr where and why and how many connections went
unlogged, and exits with status 2; the log file keeps whole lines. ``connect`` runs
:func:`gnutls_lab.network._client.connect_and_resume` and prints what ``gnutls-lab handshake`` prints, with the
same JSON shape (``gnutls_version`` and ``connections``).
"""

from __future__ import annotations

import json
import os
import signal
import sys

from ...errors import UsageError
from ...sessions import open_private_log
from . import add_output_argument, printable
from ._core import add_tls_argument, connection_record, print_connections

_TICKET_TIMINGS = ("with-finished", "after-handshake")  # network's TICKET_TIMINGS, without importing it here

__all__ = ["register"]


def _ticket_key(path: str | None) -> tuple[bytes | None, str]:
    """Load the key in ``path``, or write a fresh one there; (key, what happened)."""
    from ...network import save_ticket_key
    from ...sessions import generate_ticket_key
    from ...analysis import load_ticket_key

    if path is None:
        return None, "a fresh ticket key (not saved; use --ticket-key FILE to keep it)"
    if os.path.exists(path):
        return load_ticket_key(path), f"ticket key loaded from {printable(path)}"
    key = generate_ticket_key()
    save_ticket_key(path, key)
    return key, (f"new ticket key written to {printable(path)} (mode 0600; it decrypts every ticket this "
                 "server issues)")


class _LogLines:
    """Where ``serve`` writes one line per connection: standard output, and the ``--log`` file.

    Each line goes out with one ``os.write`` and nothing is buffered, so a write that fails fails once,
    at that line, and nothing is left to fail again at exit. A line the log file took only in part (a
    full disk) is cut off again, so the file stays whole JSON lines.
    """

    def __init__(self, json_output: bool, log_file, log_path: str | None = None):
        self.json_output = json_output
        self.log_file = log_file
        self.log_path = log_path

    @staticmethod
    def _write(fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]

    def __call__(self, record) -> None:
        line = json.dumps(record.to_dict()) if self.json_output else record.log_line()
        try:
            stdout = sys.stdout.fileno()
        except (AttributeError, OSError, ValueError):  # a replaced sys.stdout (a test, a notebook)
            print(line, flush=True)
        else:
            sys.stdout.flush()
            try:
                self._write(stdout, (line + "\n").encode())
            except OSError as exc:
                raise OSError(exc.errno, exc.strerror, "standard output") from None
        if self.log_file is not None:
            fd = self.log_file.fileno()
            size = os.fstat(fd).st_size
            try:
                self._write(fd, (json.dumps(record.log_entry()) + "\n").encode())
            except OSError as exc:
                try:
                    os.ftruncate(fd, size)  # no half line left behind
                except OSError:
                    pass
                raise OSError(exc.errno, exc.strerror, self.log_path) from None


def _silence_stdout() -> None:
    """After standard output failed: point it at /dev/null, so that nothing tries it again at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):
        pass


def _serve(args) -> int:
    from ...network import LabServer
    from ...sessions import validate_extra_tickets, validate_lifetime

    if args.lifetime is not None:
        validate_lifetime(args.lifetime)  # before anything, and long before libgnutls sees it
    validate_extra_tickets(args.tickets, "--tickets")
    if args.max_connections is not None and args.max_connections < 1:
        raise UsageError("--max-connections takes a count of 1 or more")
    if (args.close_after is not None or args.root is not None) and not args.http:
        raise UsageError(f"{'--close-after' if args.close_after is not None else '--root'} is for HTTP: add --http")
    if args.close_after is not None and args.close_after < 1:
        raise UsageError("--close-after takes a count of 1 or more requests")
    key, key_note = _ticket_key(args.ticket_key if not args.no_tickets else None)
    log_file = open_private_log(args.log) if args.log else None  # 0600: it names the tickets clients presented
    lines = _LogLines(args.json, log_file, args.log)
    try:
        with LabServer(args.port, args.tls, lifetime=args.lifetime, ticket_key=key, tickets=not args.no_tickets,
                       extra_tickets=args.tickets, ticket_timing=args.ticket_timing, idle_timeout=args.idle_timeout,
                       handshake_timeout=args.handshake_timeout, request_timeout=args.request_timeout, log=lines,
                       http=args.http, close_after=args.close_after, root=args.root, keep_records=0) as server:
            previous = {sig: signal.signal(sig, lambda *_: server.stop()) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                lifetime = f"{args.lifetime} s" if args.lifetime is not None else "21600 s (libgnutls default)"
                tickets = "off" if args.no_tickets else f"on, {args.ticket_timing} ({key_note})"
                print(f"gnutls-lab serve: listening on 127.0.0.1:{server.port}, TLS {args.tls}, lifetime {lifetime}, "
                      f"tickets {tickets}", file=sys.stderr, flush=True)
                server.serve_forever(args.max_connections)
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
    finally:
        if log_file is not None:
            log_file.close()
    totals = server.totals
    if server.log_error is not None:
        error = server.log_error
        if getattr(error, "filename", None) == "standard output":
            _silence_stdout()
        where = getattr(error, "filename", None) or "the log"
        reason = getattr(error, "strerror", None) or str(error)
        print(f"gnutls-lab serve: error: cannot write to {where}: {reason}; stopped after {totals['connections']} "
              f"connections, {totals['not_logged']} of them not logged", file=sys.stderr, flush=True)
        return 2
    print(f"gnutls-lab serve: stopped after {totals['connections']} connections ({totals['resumed']} resumed)",
          file=sys.stderr, flush=True)
    return 0


def _connect(args) -> int:
    from ...binding import library_info
    from ...network import check_host, connect_and_resume, parse_address

    host, port = parse_address(args.address)
    check_host(host, args.allow_remote)
    summaries = connect_and_resume(host, port, args.tls, resume=args.resume, fresh_ticket=args.fresh_ticket,
                                   server_name=args.server_name, allow_remote=args.allow_remote)
    records = [connection_record(summary) for summary in summaries]
    if args.save:
        _save([summary.session_data for summary in summaries], args.save)
    result = {"gnutls_version": library_info().version, "server": f"{host}:{port}", "connections": records}
    print_connections(result, args.json, f"lab client against {printable(host)}:{port}")
    return 0


def _save(datas: list, path: str) -> None:
    """Write the newest real session data (never the dummy) to ``path``, safely (mode 0600)."""
    real = [data for data in datas if not data.dummy]
    if not real:
        raise UsageError(f"not writing {path}: every connection gave the dummy session data ({datas[-1].reason})")
    real[-1].save(path)  # mode 0600 through an exclusive temporary file, never in place
    print(f"wrote {len(real[-1])} bytes of {real[-1].protocol} client session data to {printable(path)}",
          file=sys.stderr)


def register(subparsers) -> None:
    p = subparsers.add_parser("serve", help="a lab TLS server on 127.0.0.1 for real clients to resume against")
    p.add_argument("--port", type=int, required=True, metavar="P", help="TCP port on 127.0.0.1 (0: any free one)")
    add_tls_argument(p)
    p.add_argument("--lifetime", type=int, metavar="S", help="ticket lifetime / cache expiry, 1..604800 s")
    add_output_argument(p, "--ticket-key", metavar="FILE", reads_existing=True,
                        help="64-byte ticket master key: loaded if FILE exists, else a new one is written there")
    p.add_argument("--tickets", type=int, default=0, metavar="K",
                   help="extra TLS 1.3 tickets per connection, 0-31 (libgnutls sends at most 31 at once)")
    p.add_argument("--ticket-timing", choices=_TICKET_TIMINGS, default="with-finished",
                   help="when TLS 1.3 tickets go out: with the server's Finished (libgnutls's default) or "
                        "after-handshake, after the client's Finished, as OpenSSL servers and gnutls-serv do")
    p.add_argument("--no-tickets", action="store_true", help="no tickets (TLS 1.2 resumes by session ID)")
    p.add_argument("--max-connections", type=int, metavar="N", help="stop after N connections")
    p.add_argument("--handshake-timeout", type=float, default=5.0, metavar="S",
                   help="the longest a handshake may take in all, however the client trickles it (default 5)")
    p.add_argument("--idle-timeout", type=float, default=2.0, metavar="S",
                   help="close a connection whose client stays silent this long (default 2)")
    p.add_argument("--request-timeout", type=float, default=10.0, metavar="S",
                   help="the longest a client may take to send one HTTP request, or without --http to "
                        "finish sending data (default 10)")
    p.add_argument("--http", action="store_true",
                   help="answer each request with a small HTTP/1.1 response, so HTTP clients finish normally")
    p.add_argument("--root", metavar="DIR",
                   help="with --http: answer GET/HEAD with the files of DIR (no links followed, nothing outside "
                        "it), e.g. a bare git repository after git update-server-info, for git clone")
    p.add_argument("--close-after", type=int, metavar="N",
                   help="with --http: close each connection after N requests, so clients connect (and resume) again")
    add_output_argument(p, "--log", metavar="FILE",
                        help="append one JSON line per connection (resumed, ticket_id); a line that cannot be "
                             "written (or a failed standard output) stops the server, exit status 2")
    p.add_argument("--json", action="store_true", help="one JSON object per connection")
    p.set_defaults(func=_serve)

    p = subparsers.add_parser("connect", help="a lab client against a real TLS server, then N resumptions")
    p.add_argument("address", metavar="HOST:PORT")
    add_tls_argument(p)
    p.add_argument("--resume", type=int, default=0, metavar="N", help="resumption attempts (new connections)")
    p.add_argument("--fresh-ticket", action="store_true",
                   help="resume each time with the newest session data instead of the first")
    add_output_argument(p, "--save", metavar="FILE", help="write the newest session data (the blob to resume from)")
    p.add_argument("--server-name", metavar="NAME", help="SNI to send")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a host that is not this machine (only servers you control)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_connect)
