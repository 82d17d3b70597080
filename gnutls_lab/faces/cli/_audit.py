"""``gnutls-lab audit HOST:PORT``: how trackable are a server's clients, and how safe are its tickets.

Runs :func:`gnutls_lab.network.audit` and prints its :class:`~gnutls_lab.analysis.AuditReport` with
:func:`gnutls_lab.faces.audit_text`: the verdict first (one paragraph, the risk), then the evidence, what
to change, the probes (connections and seconds each), what was not done and what was sent. ``--json`` prints the document described in
``docs/audit.md`` (with its JSON schema). Secrets (keys that opened tickets, what they revealed) are
redacted unless ``--show-secrets``. A progress bar runs on stderr when it is a terminal (``--progress``
forces it, ``--no-progress`` hides it).
"""

from __future__ import annotations

import argparse
import json
import sys

from ...errors import UsageError

__all__ = ["register"]


def _names(text: str) -> tuple:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise UsageError("--sni takes one name or more, separated by commas (a.example,b.example)")
    return names


def _audit(args) -> int:
    from ...network import audit, parse_address
    from .. import audit_text

    host, port = parse_address(args.address)
    versions = (args.tls,) if args.tls else ("1.3", "1.2")
    if args.max_wait is not None and not args.max_wait >= 0:
        raise UsageError("--max-wait takes a number of seconds, 0 or more")
    if args.plot:
        from ...sessions import check_output_path

        check_output_path(args.plot)
    report = audit(host, port, server_names=_names(args.sni) if args.sni else (), tls=versions,
                   max_wait=args.max_wait, replay=args.replay, starttls=args.starttls, allow_remote=args.allow_remote,
                   pcap=args.pcap, tries=args.tries, rate=args.rate, max_connections=args.max_connections,
                   progress=args.progress)
    if args.plot:
        _write_plot(report, args.plot)
    if args.json:
        json.dump(report.to_dict(show_secrets=args.show_secrets), sys.stdout, indent=2, default=str)
        print()
    else:
        print(audit_text(report, show_secrets=args.show_secrets))
    return 0


def _write_plot(report, path: str) -> None:
    from .. import plot_audit

    plot_audit(report).savefig(path, dpi=120)
    print(f"wrote the tracking window and the key timeline to {path}", file=sys.stderr)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes seconds, not {text!r}") from None
    if not 0 <= value <= 7 * 86400:
        raise argparse.ArgumentTypeError(f"must be 0 to 604800 seconds (7 days), not {text}")
    return value


def register(subparsers) -> None:
    from ...network import DEFAULT_MAX_WAIT, DEFAULT_TRIES, REMOTE_CAP, REMOTE_RATE

    p = subparsers.add_parser("audit", help="audit a TLS server's resumption: tracking, ticket keys, 0-RTT")
    p.add_argument("address", metavar="HOST:PORT")
    p.add_argument("--sni", metavar="NAME[,NAME]",
                   help="server names to send; with two, also whether one ticket key serves both")
    p.add_argument("--tls", choices=("1.3", "1.2"), help="probe one protocol version only (default: both)")
    p.add_argument("--max-wait", type=_seconds, default=DEFAULT_MAX_WAIT, metavar="S",
                   help=f"seconds the lifetime probe may wait (default {DEFAULT_MAX_WAIT:g}; tickets are offered "
                        "at 1/4, 1/2 and all of it)")
    p.add_argument("--replay", action="store_true",
                   help="send the 0-RTT first flight a second time (the request then reaches the server twice)")
    p.add_argument("--starttls", choices=("smtp",), help="speak SMTP STARTTLS (RFC 3207) before TLS")
    p.add_argument("--pcap", metavar="FILE",
                   help="write every connection to a pcapng file, TLS secrets embedded (mode 0600)")
    p.add_argument("--plot", metavar="FILE", help="write the tracking window and the key timeline as an image")
    p.add_argument("--tries", type=int, default=DEFAULT_TRIES, metavar="N",
                   help=f"resumption attempts per mechanism (default {DEFAULT_TRIES})")
    p.add_argument("--allow-remote", action="store_true",
                   help=f"audit a host that is not this machine (only servers you run or may test); then at most "
                        f"--rate connections per second (default {REMOTE_RATE:g}) and --max-connections "
                        f"(default {REMOTE_CAP})")
    p.add_argument("--rate", type=float, metavar="R", help="connections per second at most")
    p.add_argument("--max-connections", type=int, metavar="N", help="connections in all at most")
    p.add_argument("--show-secrets", action="store_true", help="show keys that opened tickets and what they revealed")
    bar = p.add_mutually_exclusive_group()
    bar.add_argument("--progress", action="store_true", default=None,
                     help="show a progress bar on stderr (default: when stderr is a terminal)")
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="never show a progress bar")
    p.add_argument("--json", action="store_true", help="the report as JSON (schema: docs/audit.md)")
    p.set_defaults(func=_audit)
