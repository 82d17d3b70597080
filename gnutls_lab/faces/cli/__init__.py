"""``gnutls-lab``: the command-line face of the lab.

Each sub-command lives in its own private module of this package (``_core``, ``_decode``,
``_experiment`` with ``_experiment_replay`` and ``_experiment_clients``, ``_peers``, ``_spy``, ``_audit``) and
exposes
``register(subparsers)``, which adds its parser and sets ``func`` (``func(args) -> int``). Errors never show a traceback:
any :class:`~gnutls_lab.errors.GnuTLSLabError` becomes one line on stderr and exit status 2.
Set ``GNUTLS_LAB_DEBUG=1`` to see the traceback of an unexpected error.

Output files: a command adds each option that names a file it writes with :func:`add_output_argument`;
before the command runs, all of them are checked together (``sessions.check_output_targets``:
not a device, directory or link, the folder exists, no two options naming one file), so a bad path
costs no work and one file never overwrites another. Every user-given name the CLI prints goes through
:func:`printable` (control characters escaped), and so does every error line.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import sys

from .. import printable  # one escaping for every name and value the CLI prints

#: The command's face: ``main``. ``build_parser``, ``add_output_argument`` and ``printable`` serve the
#: sub-command modules of this package (and its tests).
__all__ = ["main"]

def add_output_argument(parser, *flags, reads_existing: bool = False, **kwargs):
    """``parser.add_argument(*flags, **kwargs)`` for an option naming a file the command writes; main()
    checks every such option of the command before it runs. ``reads_existing``: the command reads the
    file when it exists (``serve --ticket-key``), so only the "one file, two options" check applies."""
    action = parser.add_argument(*flags, **kwargs)
    outputs = dict(parser.get_default("output_options") or {})
    outputs["/".join(action.option_strings)] = (action.dest, reads_existing)
    parser.set_defaults(output_options=outputs)
    return action


def _check_outputs(args) -> None:
    from ...sessions import check_output_targets

    outputs = getattr(args, "output_options", None) or {}
    check_output_targets({option: getattr(args, dest, None) for option, (dest, _) in outputs.items()},
                         reads_existing={option for option, (_, reads) in outputs.items() if reads})

# Order = order in --help (each a private module of this package: _core.py, _decode.py, ...).
_COMMAND_MODULES = ("core", "decode", "experiment", "peers", "spy", "audit")


class LabArgumentParser(argparse.ArgumentParser):
    """argparse with the lab's error style: one line, a pointer to ``--help``, exit status 2.

    A mistyped command or choice suggests the nearest valid one (``decod`` → did you mean decode?).
    Sub-command parsers are of this class too (``add_subparsers`` makes parsers of its parser's class).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_defaults(cli_prog=self.prog)  # the innermost command's name, for errors found later

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")

    def _check_value(self, action, value):
        choices = action.choices
        if choices is None or value in choices:
            return
        names = [str(choice) for choice in choices]
        if isinstance(choices, dict) and not action.option_strings:  # the sub-command names
            what = "command"
        else:
            what = f"value for {'/'.join(action.option_strings) or action.dest}"
        # difflib's own cutoff: at 0.5 "nonsense" was offered "connect"
        close = difflib.get_close_matches(str(value), names, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else f" (choose from {', '.join(names)})"
        raise argparse.ArgumentError(None, f"unknown {what} {value!r}{hint}")


def build_parser() -> argparse.ArgumentParser:
    parser = LabArgumentParser(
        prog="gnutls-lab",
        description="Live TLS session resumption with the real libgnutls: handshakes, "
        "session blobs, tickets and tracking experiments.",
        epilog="Every command takes --json for machine-readable output; errors are one line on stderr "
        "and exit status 2. Run gnutls-lab COMMAND --help for a command's options.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        importlib.import_module(f"{__name__}._{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    from ...errors import GnuTLSLabError

    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        prog = getattr(args, "cli_prog", parser.prog)
        print(f"{prog}: unrecognized arguments: {' '.join(extra)} (see {prog} --help)", file=sys.stderr)
        return 2
    if not getattr(args, "func", None):
        print(f"{parser.prog}: a command is required (see {parser.prog} --help)", file=sys.stderr)
        return 2
    try:
        _check_outputs(args)  # every output path, before any work
        return int(args.func(args) or 0)
    except GnuTLSLabError as exc:
        print(f"gnutls-lab {args.command}: error: {printable(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gnutls-lab {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # files and sockets the user named
        where = f": {exc.filename}" if exc.filename else ""
        print(f"gnutls-lab {args.command}: error: {printable(f'{exc.strerror or exc}{where}')}", file=sys.stderr)
        return 2
    except Exception as exc:  # never a traceback for users; one line, and how to see more
        if os.environ.get("GNUTLS_LAB_DEBUG"):
            raise
        print(
            f"gnutls-lab {args.command}: internal error: {type(exc).__name__}: {printable(exc)} "
            "(set GNUTLS_LAB_DEBUG=1 for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
