"""``gnutls-lab info``, ``handshake`` and ``capture``: the library and live in-process handshakes."""

from __future__ import annotations

import json
import sys

from ...errors import UsageError
from ...sessions import write_private_file
from . import add_output_argument, printable

__all__ = ["register", "connection_record", "print_connections", "add_capture_arguments", "write_capture_files"]


def add_tls_argument(parser) -> None:
    parser.add_argument("--tls", choices=("1.3", "1.2"), default="1.3", help="protocol version (default 1.3)")


def add_capture_arguments(parser) -> None:
    add_output_argument(parser, "--pcap", metavar="FILE",
                        help="also write the connections as a pcapng file for Wireshark, secrets embedded "
                             "so it decrypts without a key log (the file holds secrets: mode 0600)")
    add_output_argument(parser, "--keylog", metavar="FILE",
                        help="also write the key log (SSLKEYLOGFILE format; holds secrets: mode 0600)")


def connection_record(conn) -> dict:
    """The JSON shape of one connection, shared by ``handshake`` and ``connect``."""
    data = conn.session_data
    return {
        "protocol": conn.protocol,
        "cipher_suite": conn.cipher_suite,
        "resumed": conn.resumed,
        "offered_resumption": conn.offered_resumption,
        "session_data_dummy": data.dummy,
        "session_data_length": len(data),
        # In wire order where the server's side is known (in-process), else as the client saw them.
        "messages": [{"sender": m.sender, "type": m.name} for m in getattr(conn, "transcript_on_wire", conn.transcript)],
        "explanation": conn.explain(),
        # what the wire tap kept: over TCP at most MAX_TAP_BYTES, and said so
        "wire_tap": {"kept_bytes": sum(len(chunk.data) for chunk in conn.wire),
                     "capped": bool(getattr(conn, "wire_capped", False)),
                     "dropped_bytes": int(getattr(conn, "wire_dropped_bytes", 0))},
    }


def print_connection(index: int, record: dict, out=None) -> None:
    out = out or sys.stdout  # looked up now: sys.stdout may have been replaced since import
    label = "full handshake" if index == 0 else f"resumption attempt {index}"
    verdict = "RESUMED" if record["resumed"] else "full handshake"
    print(f"== connection {index} ({label}): {record['protocol']} {record['cipher_suite']}: {verdict}", file=out)
    for message in record["messages"]:
        arrow = "client -> server" if message["sender"] == "client" else "server -> client"
        print(f"   {arrow}  {message['type']}", file=out)
    dummy = " (DUMMY: cannot resume)" if record["session_data_dummy"] else ""
    print(f"   session data: {record['session_data_length']} bytes{dummy}", file=out)
    tap = record.get("wire_tap") or {}
    if tap.get("capped"):
        print(f"   wire tap capped: kept the first {tap['kept_bytes']} bytes, {tap['dropped_bytes']} more bytes "
              "seen and not kept", file=out)
    print(f"   {record['explanation']}", file=out)


def _info(args) -> int:
    from ...binding import library_info, native_pipe_status
    from ...sessions import PRIORITY_PRESETS, FakeClock

    info = library_info()

    protocols = []
    from ...sessions import Lab

    for version in ("1.3", "1.2"):
        try:
            with Lab(version, observe=False).connect() as conn:
                protocols.append(conn.protocol)
        except Exception:  # noqa: BLE001 - a version this build cannot do is simply not listed
            pass
    record = {
        "library_path": info.path,
        "gnutls_version": info.version,
        "supported_protocols": protocols,
        "priority_presets": PRIORITY_PRESETS,
        "fake_clock_drives_ticket_age": FakeClock().drives_ticket_age,
        "in_memory_pipe": native_pipe_status(),
    }
    if args.json:
        json.dump(record, sys.stdout, indent=2)
        print()
    else:
        print(f"libgnutls: {info.path}")
        print(f"version:   {info.version}")
        print(f"protocols: {', '.join(protocols)} (checked with a live in-process handshake each)")
        print("fake clock moves TLS 1.3 ticket ages: " + ("yes (3.8.1+)" if record["fake_clock_drives_ticket_age"] else "no (before 3.8.1)"))
        print(f"in-memory pipe: {record['in_memory_pipe']}")
    return 0


def _handshake(args) -> int:
    from ...binding import library_info
    from ...sessions import Lab

    if args.resume < 0:
        raise UsageError("--resume takes a count of 0 or more")
    captures = [] if args.pcap or args.keylog else None
    lab = Lab(args.tls, client_tickets=not args.no_tickets, tickets=not args.no_tickets,
              keylog=captures is not None)
    records = []
    with lab.connect() as first:
        records.append(connection_record(first))
        data = first.session_data
        if captures is not None:
            captures.append(first.capture())
    for _ in range(args.resume):
        with lab.connect(resume=data) as conn:
            records.append(connection_record(conn))
            if captures is not None:
                captures.append(conn.capture())
            if conn.protocol == "TLS1.3" and conn.resumed and args.fresh_ticket:
                fresh = conn.session_data
                data = fresh if not fresh.dummy else data
    result = {"gnutls_version": library_info().version, "connections": records}
    if captures is not None:
        result["capture"] = write_capture_files(captures, args.pcap, args.keylog, args.json)
    print_connections(result, args.json, "in-process lab client and server")
    return 0


def write_capture_files(captures: list, pcap: str | None, keylog: str | None, quiet: bool) -> dict:
    """``--pcap FILE`` / ``--keylog FILE``: write them, say so on stderr (unless ``quiet``) and
    return the JSON record of what was written."""
    from ...sessions import write_keylog, write_pcapng

    if pcap:
        written = write_pcapng(captures, pcap, keylog_path=keylog or None)
    else:
        written = {"path": None, "connections": len(captures), "packets": 0,
                   "keylog_lines": write_keylog(captures, keylog), "keylog_path": keylog}
    if not quiet:
        if pcap:
            print(f"wrote {written['connections']} connections ({written['packets']} packets) to {printable(pcap)}, "
                  "with their TLS secrets embedded (mode 0600): Wireshark decrypts it as it is", file=sys.stderr)
        if keylog:
            print(f"wrote the key log ({written['keylog_lines']} lines, SSLKEYLOGFILE format, mode 0600) "
                  f"to {printable(keylog)}", file=sys.stderr)
    return {"pcapng": written["path"], "connections": written["connections"], "packets": written["packets"],
            "keylog": written["keylog_path"], "keylog_lines": written["keylog_lines"], "holds_secrets": True}


def print_connections(result: dict, as_json: bool, where: str, out=None) -> None:
    """The ``handshake``/``connect`` output: the JSON document, or a transcript per connection."""
    out = out or sys.stdout
    if as_json:
        json.dump(result, out, indent=2)
        print(file=out)
        return
    print(f"GnuTLS {result['gnutls_version']}, {where}", file=out)
    for index, record in enumerate(result["connections"]):
        print_connection(index, record, out)


def _capture(args) -> int:
    from ...sessions import Lab

    lab = Lab(args.tls, client_tickets=not args.no_tickets, tickets=not args.no_tickets)
    with lab.connect() as conn:
        data = conn.session_data
        protocol = conn.protocol
    if data.dummy and not args.allow_dummy:
        raise UsageError(f"refusing to write dummy session data: {data.reason} (use --allow-dummy to write it anyway)")
    if args.ticket_key_out and args.no_tickets:
        raise UsageError("--ticket-key-out needs tickets: with --no-tickets there is no ticket to decrypt")
    if args.output == "-":
        if args.ticket_key_out:
            raise UsageError("--ticket-key-out goes with -o FILE, not - (the key and the blob belong together)")
        if args.json:
            raise UsageError("--json describes the file written: give -o FILE, not -")
        sys.stdout.buffer.write(data.data)
        return 0
    data.save(args.output)  # both paths were checked (and told apart) before the handshake  # mode 0600 (the blob holds the session's secret), never half-written
    if args.ticket_key_out:
        write_private_file(args.ticket_key_out, lab.ticket_key)
        print(f"wrote the server's 64-byte ticket key to {printable(args.ticket_key_out)} (mode 0600; it decrypts "
              "the ticket in the session data)", file=sys.stderr)
    if args.json:
        json.dump({"path": args.output, "bytes": len(data), "protocol": protocol, "dummy": data.dummy,
                   "reason": data.reason or None, "ticket_key_path": args.ticket_key_out}, sys.stdout, indent=2)
        print()
    else:
        kind = "dummy" if data.dummy else protocol
        print(f"wrote {len(data)} bytes of {kind} client session data to {printable(args.output)}", file=sys.stderr)
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("info", help="which libgnutls is used, its version and protocols")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_info)

    p = subparsers.add_parser("handshake", help="a live in-process handshake, then N resumptions")
    add_tls_argument(p)
    p.add_argument("--resume", type=int, default=0, metavar="N", help="resumption attempts with the session data")
    p.add_argument("--no-tickets", action="store_true", help="client and server without session tickets")
    p.add_argument("--fresh-ticket", action="store_true",
                   help="TLS 1.3: resume each time with the newest ticket instead of reusing the first")
    add_capture_arguments(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_handshake)

    p = subparsers.add_parser("capture", help="write the client's session data from a live handshake")
    add_tls_argument(p)
    p.add_argument("--no-tickets", action="store_true", help="client and server without session tickets")
    p.add_argument("--allow-dummy", action="store_true", help="write the 4-byte dummy too")
    add_output_argument(p, "-o", "--output", required=True, metavar="FILE", help="output file, or - for stdout")
    add_output_argument(p, "--ticket-key-out", metavar="FILE",
                   help="also write the lab server's 64-byte ticket key (mode 0600), for decode --ticket-key")
    p.add_argument("--json", action="store_true", help="describe the file written, as JSON")
    p.set_defaults(func=_capture)
