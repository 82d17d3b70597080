"""The lab's own server as a real-server process: ``python -m gnutls_lab.network._real_servers_lab``.

:func:`gnutls_lab.network.start_real_server` runs it for the ``lab`` kind, so the lab server is started,
found and stopped (by PID) like nginx or Exim. It is :class:`~gnutls_lab.network.server.LabServer` with
HTTP answers, both TLS versions if asked (``--tls 1.2,1.3``) and the ticket key the caller wrote (an
all-zero key makes the weak-key probe's known positive). It binds 127.0.0.1 only and stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys

from ..analysis import load_ticket_key
from ._server import LabServer

__all__ = ["main"]

_VERSIONS = {"1.2": "+VERS-TLS1.2", "1.3": "+VERS-TLS1.3"}


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gnutls_lab.network._real_servers_lab")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tls", default="1.2,1.3")
    parser.add_argument("--lifetime", type=int)
    parser.add_argument("--ticket-key")
    parser.add_argument("--no-tickets", action="store_true")
    args = parser.parse_args(argv)
    versions = [v for v in args.tls.split(",") if v]
    if not versions or any(v not in _VERSIONS for v in versions):
        parser.error(f"--tls takes 1.2 and/or 1.3, not {args.tls!r}")
    priority = "NORMAL:-VERS-ALL:" + ":".join(_VERSIONS[v] for v in sorted(versions, reverse=True))
    key = load_ticket_key(args.ticket_key) if args.ticket_key else None
    with LabServer(args.port, priority, lifetime=args.lifetime, ticket_key=key, tickets=not args.no_tickets,
                   http=True, log=lambda record: print(record.log_line(), flush=True)) as server:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: server.stop())
        print(f"lab server listening on 127.0.0.1:{server.port} ({priority})", file=sys.stderr, flush=True)
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
