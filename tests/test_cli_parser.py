"""The command line's parser: one-line usage errors, suggestions for typos, help texts for users."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys

import pytest

from gnutls_lab.faces.cli import build_parser, main


def all_parsers(parser=None):
    parser = parser or build_parser()
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from all_parsers(sub)


def is_leaf(parser) -> bool:
    return not any(isinstance(action, argparse._SubParsersAction) for action in parser._actions)


PARSERS = {parser.prog: parser for parser in all_parsers()}


@pytest.mark.parametrize("prog", sorted(PARSERS))
def test_every_help_mentions_json_and_no_internals(prog):
    text = PARSERS[prog].format_help()
    assert "--json" in text
    assert not re.search(r"``|:mod:|:class:|:func:|:meth:|gnutls_lab\.\w|\w+\.py\b|\.\./shared", text), text


@pytest.mark.parametrize("prog", sorted(p for p in PARSERS if is_leaf(PARSERS[p])))
def test_every_command_refuses_a_bad_option_in_one_line(prog, capsys):
    argv = prog.split()[1:] + ["--no-such-option"]
    with pytest.raises(SystemExit) as info:
        exit_code = main(argv)
        raise SystemExit(exit_code)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"{prog}: ") and err.rstrip().endswith(f"(see {prog} --help)")


@pytest.mark.parametrize("argv, expected", [
    (["decod", "x"], "gnutls-lab: unknown command 'decod'; did you mean decode? (see gnutls-lab --help)"),
    (["handshak"], "did you mean handshake?"),
    (["nonsense"], "gnutls-lab: unknown command 'nonsense' (choose from info, handshake, capture, decode, "
                   "experiment, serve, connect, spy, audit)"),  # nothing close: the list, not a wrong guess
    (["experiment", "reus"], "gnutls-lab experiment: unknown command 'reus'; did you mean reuse?"),
    (["handshake", "--tls", "1.4"], "gnutls-lab handshake: unknown value for --tls '1.4'; did you mean 1.3?"),
    (["capture"], "gnutls-lab capture: the following arguments are required: -o/--output "
                  "(see gnutls-lab capture --help)"),
    (["experiment", "reuse", "--visits", "many"], "gnutls-lab experiment reuse: argument --visits: invalid int"),
    ([], "gnutls-lab: a command is required (see gnutls-lab --help)"),
    (["experiment"], "gnutls-lab experiment: an experiment is required"),
])
def test_usage_errors_are_one_line_with_a_pointer_to_help(argv, expected):
    result = subprocess.run([sys.executable, "-m", "gnutls_lab", *argv], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert expected in result.stderr
    assert result.stdout == ""


def test_tls12_without_tickets_resumes_by_session_id(capsys):
    assert main(["handshake", "--tls", "1.2", "--no-tickets", "--resume", "2", "--json"]) == 0
    connections = json.loads(capsys.readouterr().out)["connections"]
    assert [c["resumed"] for c in connections] == [False, True, True]
    assert all(c["protocol"] == "TLS1.2" for c in connections)


def test_lab_without_tickets_keeps_a_session_cache():
    from gnutls_lab import Lab

    lab = Lab("1.2", tickets=False)
    first = lab.connect()
    assert lab.cache is not None and len(lab.cache) == 1
    assert lab.connect(resume=first.session_data).resumed
    assert [event[0] for event in lab.cache.events] == ["store", "retrieve"]
    assert Lab("1.2").cache is None  # with tickets, no cache unless asked for
    assert not Lab("1.2", tickets=False, session_cache=False).connect(resume=first.session_data).resumed
