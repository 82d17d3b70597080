"""``gnutls-lab serve`` and ``gnutls-lab connect``: the lab against real peers over TCP on this machine.

``serve`` runs :class:`gnutls_lab.network._server.LabServer` on 127.0.0.1 (always) until Ctrl-C, SIGTERM or
``--max-connections``; it announces ``listening on 127.0.0.1:PORT`` on stderr and prints one line per
connection on stdout (one JSON object per line with ``--json``). ``connect`` runs
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


def _serve(args) -> int:
    from ...network import LabServer
    from ...sessions import validate_lifetime

    if args.lifetime is not None:
        validate_lifetime(args.lifetime)  # before anything, and long before libgnutls sees it
    if args.max_connections is not None and args.max_connections < 1:
        raise UsageError("--max-connections takes a count of 1 or more")
    key, key_note = _ticket_key(args.ticket_key if not args.no_tickets else None)
    log_file = open_private_log(args.log) if args.log else None  # 0600: it names the tickets clients presented

    def log(record) -> None:
        if args.json:
            print(json.dumps(record.to_dict()), flush=True)
        else:
            print(record.log_line(), flush=True)
        if log_file is not None:
            log_file.write(json.dumps(record.log_entry()) + "\n")
            log_file.flush()

    with LabServer(args.port, args.tls, lifetime=args.lifetime, ticket_key=key, tickets=not args.no_tickets,
                   extra_tickets=args.tickets, idle_timeout=args.idle_timeout, log=log, http=args.http) as server:
        previous = {sig: signal.signal(sig, lambda *_: server.stop()) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            lifetime = f"{args.lifetime} s" if args.lifetime is not None else "21600 s (libgnutls default)"
            tickets = "off" if args.no_tickets else f"on ({key_note})"
            print(f"gnutls-lab serve: listening on 127.0.0.1:{server.port}, TLS {args.tls}, lifetime {lifetime}, "
                  f"tickets {tickets}", file=sys.stderr, flush=True)
            served = server.serve_forever(args.max_connections)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    resumed = sum(1 for record in served if record.resumed)
    print(f"gnutls-lab serve: stopped after {len(served)} connections ({resumed} resumed)",
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
    p.add_argument("--tickets", type=int, default=0, metavar="K", help="extra TLS 1.3 tickets per connection")
    p.add_argument("--no-tickets", action="store_true", help="no tickets (TLS 1.2 resumes by session ID)")
    p.add_argument("--max-connections", type=int, metavar="N", help="stop after N connections")
    p.add_argument("--idle-timeout", type=float, default=2.0, metavar="S",
                   help="close a connection whose client stays silent this long (default 2)")
    p.add_argument("--http", action="store_true",
                   help="answer each request with a small HTTP/1.1 response, so HTTP clients finish normally")
    add_output_argument(p, "--log", metavar="FILE", help="append one JSON line per connection (resumed, ticket_id)")
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
