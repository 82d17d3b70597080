"""``gnutls-lab spy -- PROGRAM [ARGS...]``: what an unmodified GnuTLS program does with its session data.

The program runs with the session-data spy preloaded (:func:`gnutls_lab.network._spy.run_spied`); its own
output goes to standard error. The report (:func:`gnutls_lab.analysis._spy.analyse`) has one block per TLS
session, like ``openssl sess_id -text``, then the findings; ``--json`` prints it as one JSON object
(``program``, ``gnutls_version``, ``sessions``, ``summary``, ``findings``, ``processes``, ``not_seen``).
Tickets are named by a short hash, never shown.

Exit status: 0 when the program succeeded and the report was printed; the program's own status when it
failed (128 + N when signal N killed it), after the report; 124 when ``--timeout`` stopped it (and every
process it started); 2 for a usage error, or when the program succeeded but no TLS session was seen
(the one-line message says why: which processes ran, which of them link libgnutls, or that libgnutls
was loaded where the spy cannot see it).
"""

from __future__ import annotations

import json
import shlex
import sys

from ...errors import UsageError
from . import printable

__all__ = ["register", "format_report"]


def _ms(value) -> str:
    return "-" if value is None else f"{value:g} ms"


def _error_name(code: int) -> str:
    """A GnuTLS error code's name (``GNUTLS_E_PREMATURE_TERMINATION``), from the running library."""
    from ...binding import error_name

    return error_name(code)


def format_report(report: dict) -> str:
    """The text form of a report dict (``SpyReport.to_dict()``)."""
    lines = [f"Program: {printable(shlex.join(report['program']))} (exit status {report['returncode']})",
             f"GnuTLS: {report['gnutls_version']}", ""]
    for s in report["sessions"]:
        program = f", {s['program']}" if s.get("program") else ""
        lines.append(f"TLS session #{s['index']} (pid {s['pid']}{program}, {s['role']})")
        rc = s["handshake_rc"]
        # the GnuTLS error name with its number, from the report (a recorded run) or from the library
        failed = f"failed ({s.get('handshake_error') or _error_name(rc)}, {rc})" if rc not in (0, None) else ""
        lines.append(f"    Handshake:        {'ok' if rc == 0 else ('never run' if rc is None else failed)}"
                     f"{' at ' + _ms(s['handshake_ms']) if s['handshake_ms'] is not None else ''}")
        if s.get("local_port") is not None:
            lines.append(f"    Connection:       {_address(s['local_address'], s['local_port'])} -> "
                         f"{_address(s['peer_address'], s['peer_port'])}")
        if s["protocol"]:
            lines.append(f"    Protocol:         {s['protocol']}")
        if s["resumed"] is not None:
            lines.append(f"    Resumed:          {'yes' if s['resumed'] else 'no'} (gnutls_session_is_resumed)")
        if s["offered_bytes"] is None:
            lines.append("    Offered:          nothing (no gnutls_session_set_data)")
        else:
            what = "the 4-byte dummy" if s["offered_dummy"] else f"{s['offered_bytes']} bytes"
            lines.append(f"    Offered:          {what}, {s['ticket_id_offered'] or 'no ticket'}")
        if s["ticket_arrival_ms"] is not None:
            lines.append(f"    Ticket arrived:   by {_ms(s['ticket_arrival_ms'])} (seen in {s['ticket_arrival_seen']})")
        for st in s["stored"]:
            when = ("before the handshake" if st["after_handshake_ms"] is None
                    else f"{_ms(st['after_handshake_ms'])} after the handshake")
            what = "the 4-byte dummy" if st["dummy"] else f"{st['bytes']} bytes, {st['ticket_id']}"
            where = f", from a callback inside {st['from_callback']}" if st.get("from_callback") else ""
            lines.append(f"    Stored:           {st['call']} {when} (waited {_ms(st['waited_ms'])}{where}): {what}")
        if s["custom_pull"]:
            lines.append(f"    Pull timeout:     {'set' if s['pull_timeout'] else 'not set (custom pull function)'}")
        lines.append("")
    summary = report["summary"]
    lines.append(f"Summary: {summary['sessions']} sessions, {summary['resumed']} resumed, "
                 f"{summary['stored']} stored ({summary['stored_dummy']} dummy), {summary['offered']} offered, "
                 f"most offers of one ticket: {summary['max_ticket_offers']}")
    lines.append("")
    lines.append("Findings:")
    lines += [f"  - {finding}" for finding in report["findings"]] or ["  (none)"]
    if report.get("not_seen"):
        lines += ["", "Not seen by the spy:"] + [f"  - {sentence}" for sentence in report["not_seen"]]
    return "\n".join(lines)


def _address(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _spy(args) -> int:
    from ...analysis import analyse_spy_log
    from ...binding import library_info
    from ...network import links_libgnutls, run_spied

    argv = list(args.program)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise UsageError("name a program to run: gnutls-lab spy -- PROGRAM [ARGS...]")
    run = run_spied(argv, keep_log=args.keep_log, timeout=args.timeout)
    if run.timed_out:
        print(f"gnutls-lab spy: {argv[0]} did not finish within {args.timeout:g} s: stopped it and every process "
              "it started", file=sys.stderr)
    report = analyse_spy_log(run.records, argv, library_info().version, run.returncode)
    if run.log_path:
        print(f"gnutls-lab spy: the spy's log is in {printable(run.log_path)} (it holds session data: keep it private)",
              file=sys.stderr)
    if not report.sessions:
        why = report.nothing_seen
        if why is None:  # not even a process record: the loader ignored LD_PRELOAD (static or set-uid)
            linked = links_libgnutls(argv[0])
            why = (f"{argv[0]} does not link libgnutls" if linked is False else
                   f"{argv[0]} did not load the spy (a static or set-uid program ignores LD_PRELOAD)")
        message = f"no gnutls_init seen ({why}); nothing to report"
        if run.exit_status == 0:
            raise UsageError(f"{argv[0]}: {message}")
        print(f"gnutls-lab spy: {argv[0]} exited with status {run.exit_status}; {message}", file=sys.stderr)
        return run.exit_status
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(format_report(report.to_dict()))
    if run.exit_status and not run.timed_out:
        print(f"gnutls-lab spy: {argv[0]} exited with status {run.exit_status}", file=sys.stderr)
    return run.exit_status


def register(subparsers) -> None:
    p = subparsers.add_parser("spy", help="run a GnuTLS program and report what it does with its session data",
                              description="Run PROGRAM with a spy on its libgnutls session-data calls and "
                              "report, per TLS session, what it stored, what it offered and whether it resumed.")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--keep-log", metavar="DIR", help="keep the spy's raw log (JSON lines) in this folder")
    p.add_argument("--timeout", type=float, metavar="S",
                   help="after S seconds, stop the program and every process it started (exit status 124)")
    p.add_argument("program", nargs="+", metavar="-- PROGRAM [ARGS...]")
    p.set_defaults(func=_spy)
