"""``gnutls-lab experiment clients``: which real TLS clients a passive observer links across visits.

Each client (gnutls-cli, openssl s_client, Python's ssl, the lab's own client) makes ``--visits``
connections to a fresh lab server on 127.0.0.1, resuming the way it does by itself; see
:mod:`gnutls_lab.network._clients_experiment`. JSON (``--json``)::

    {"experiment": "clients", "tls": "1.3", "visits": 5,
     "results": [{"client": "gnutls-cli 3.7.9", "protocol": "TLS1.3", "visits": 5, "resumed": 2,
                  "linkable_pair_fraction": 0.2, "ticket_linkable_pair_fraction": 0.0,
                  "session_id_repeats": true, ...}, ...]}

A client whose program is not installed has ``"missing"`` (what to install) and null metrics.
"""

from __future__ import annotations

import json
import sys

from ...errors import UsageError
from ._core import add_tls_argument

__all__ = ["register"]


def _fraction(value) -> str:
    return "-" if value is None else f"{value:.1%}"


def _clients(args) -> int:
    from ...network import run_clients

    if args.visits < 2:
        raise UsageError(f"--visits must be at least 2 (got {args.visits}): one visit links nothing")
    runs = run_clients(args.tls, args.visits)
    if args.json:
        json.dump({"experiment": "clients", "tls": args.tls, "visits": args.visits,
                   "results": [run.to_dict() for run in runs]}, sys.stdout, indent=2)
        print()
        return 0
    print(f"TLS {args.tls}, {args.visits} visits per client to a lab server on 127.0.0.1")
    print(f"{'client':<36}  {'resumed':>7}  {'linkable pairs':>14}  {'by ticket':>9}  session ID resent")
    for run in runs:
        if run.missing:
            print(f"{run.client:<36}  missing: {run.missing}")
            continue
        print(f"{run.client:<36}  {run.resumed:>3}/{run.visits - 1:<3}  {_fraction(run.linkable_pair_fraction):>14}  "
              f"{_fraction(run.ticket_linkable_pair_fraction):>9}  {'yes' if run.session_id_repeats else 'no'}")
    return 0


def register(subparsers) -> None:
    """Add ``clients`` to the ``experiment`` subcommands."""
    c = subparsers.add_parser(
        "clients", help="which real TLS clients (gnutls-cli, openssl, python ssl, the lab) an observer links",
        description="Each client makes N visits to a lab server on 127.0.0.1, resuming the way it does by "
                    "itself; a passive observer on the wire links the visits it can.")
    add_tls_argument(c)
    c.add_argument("--visits", type=int, default=5, metavar="N", help="visits per client (default 5)")
    c.add_argument("--json", action="store_true", help="machine-readable output")
    c.set_defaults(func=_clients)
