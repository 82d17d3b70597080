"""``gnutls-lab decode FILE|- [--json] [--show-secrets] [--hexdump] [--ticket-key KEYFILE]``.

Reads a session blob (raw bytes, or the same bytes as hex text) from a file or stdin and prints the
report (default), the annotated hex dump or JSON. With ``--ticket-key`` the server ticket inside is
verified and decrypted with that 64-byte master key (raw, hex or base64 file) and its inner state
printed too (JSON: a ``ticket_state`` object). Bad input exits 2 with one line naming the field path
and byte offset (the dispatcher in ``gnutls_lab.faces.cli`` turns our errors into that line).
"""

from __future__ import annotations

import json
import os
import re
import sys

from ...analysis import decode
from ...errors import UsageError
from ...formats import MAX_BLOB_SIZE
from ...sessions import MAX_KEY_FILE_BYTES, read_user_file
from .. import hexdump, session_to_dict, text_report, ticket_report, ticket_state_to_dict

__all__ = ["register", "run", "read_input"]

_HEX_TEXT = re.compile(rb"^[0-9a-fA-F\s]+$")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "decode",
        help="decode a gnutls_session_get_data2 blob (and its server ticket, given the key)",
        description="Reads a session blob (raw bytes, or the same bytes as hex text) from a file or stdin and "
        "prints the report (default), the annotated hex dump or JSON. With --ticket-key the server ticket "
        "inside is verified and decrypted with that 64-byte master key (raw, hex or base64 file) and its "
        "inner state printed too (JSON: a ticket_state object). Bad input exits 2 with one line naming the "
        "field and byte offset.",
    )
    parser.add_argument("file", metavar="FILE|-", help="the blob: a file, or - for stdin (raw bytes or hex)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the text report")
    parser.add_argument("--show-secrets", action="store_true",
                        help="show master secret, resumption master secret and SRP password")
    parser.add_argument("--hexdump", action="store_true", help="add an annotated hex dump (offset, bytes, field)")
    parser.add_argument("--ticket-key", metavar="KEYFILE",
                        help="the server's 64-byte ticket master key (raw, hex or base64) to decrypt the "
                             "ticket; - reads it from standard input")
    parser.set_defaults(func=run)


def read_input(name: str) -> bytes:
    """The bytes of FILE or stdin; hex text (whitespace allowed) is turned into bytes first.

    At most ``MAX_BLOB_SIZE`` + 1 bytes are read: a larger input (``/dev/zero``) is refused at once.
    """
    if name == "-":
        data = sys.stdin.buffer.read(MAX_BLOB_SIZE + 1)
        if len(data) > MAX_BLOB_SIZE:
            raise UsageError(f"standard input holds more than {MAX_BLOB_SIZE} bytes (the limit for a session "
                             "blob); not decoded")
    else:
        data = read_user_file(name, MAX_BLOB_SIZE, "session blob")
    # A real blob starts with 0xFA (magic) or 0x00 (dummy), never with an ASCII hex digit.
    if data and _HEX_TEXT.match(data):
        compact = b"".join(data.split())
        if len(compact) % 2 == 0:
            return bytes.fromhex(compact.decode("ascii"))
    return data


def run(args) -> int:
    session = decode(read_input(args.file))
    decrypted = None
    if args.ticket_key:
        from ...analysis import load_ticket_key

        if args.ticket_key == "-":
            if args.file == "-":
                raise UsageError("the blob and the ticket key cannot both come from standard input")
            key_source = sys.stdin.buffer.read(MAX_KEY_FILE_BYTES + 1)
            if len(key_source) > MAX_KEY_FILE_BYTES:
                raise UsageError(f"standard input holds more than {MAX_KEY_FILE_BYTES} bytes: not a ticket key")
        elif not os.path.lexists(args.ticket_key):  # a file: never key text typed on the command line
            raise UsageError(f"cannot read ticket key file {args.ticket_key}: no such file")
        else:
            key_source = args.ticket_key
        decrypted = session.decrypt_ticket(load_ticket_key(key_source))
    if args.json:
        view = session_to_dict(session, show_secrets=args.show_secrets)
        if decrypted is not None:
            view["ticket_state"] = ticket_state_to_dict(decrypted, args.show_secrets)
        print(json.dumps(view, indent=2))
        return 0
    sys.stdout.write(text_report(session, show_secrets=args.show_secrets))
    if decrypted is not None:
        sys.stdout.write(ticket_report(decrypted, show_secrets=args.show_secrets))
    if args.hexdump:
        sys.stdout.write("\n" + hexdump(session, show_secrets=args.show_secrets))
    return 0
