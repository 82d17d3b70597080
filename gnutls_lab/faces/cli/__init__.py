"""``gnutls-lab``: the command-line face of the lab.

Each sub-command lives in its own module of this package and exposes ``register(subparsers)``,
which adds its parser and sets ``func`` (``func(args) -> int``). Errors never show a traceback:
any :class:`~gnutls_lab.errors.GnuTLSLabError` becomes one line on stderr and exit status 2.
Set ``GNUTLS_LAB_DEBUG=1`` to see the traceback of an unexpected error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

__all__ = ["main", "build_parser"]

# Order = order in --help.
_COMMAND_MODULES = ("core", "decode", "experiment", "peers", "spy")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gnutls-lab",
        description="Live TLS session resumption with the real libgnutls: handshakes, "
        "session blobs, tickets and tracking experiments.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    from ...errors import GnuTLSLabError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except GnuTLSLabError as exc:
        print(f"gnutls-lab {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gnutls-lab {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # files and sockets the user named
        where = f": {exc.filename}" if exc.filename else ""
        print(f"gnutls-lab {args.command}: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except Exception as exc:  # never a traceback for users; one line, and how to see more
        if os.environ.get("GNUTLS_LAB_DEBUG"):
            raise
        print(
            f"gnutls-lab {args.command}: internal error: {type(exc).__name__}: {exc} "
            "(set GNUTLS_LAB_DEBUG=1 for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
