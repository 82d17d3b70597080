"""Bounds with a one-line error naming the limit (issue 20, 3.4): extra TLS 1.3 tickets per handshake
(libgnutls's own limit, measured) and the size of a tracking experiment (memory)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gnutls_lab import Lab, UsageError
from gnutls_lab.analysis._experiments import MAX_SWEEP_VISITS, MAX_VISITS, ExperimentConfig, sweep_reuse
from gnutls_lab.binding._library import load
from gnutls_lab.network import LabServer
from gnutls_lab.sessions import MAX_EXTRA_TICKETS, validate_extra_tickets


def test_the_ticket_bound_is_libgnutls_own():
    """One gnutls_session_ticket_send call sends 31 tickets and fails at 32 (GNUTLS_E_INTERNAL_ERROR from
    _gnutls_io_write_flush, MAX_QUEUE 32): 3.7.9, 3.8.9 and 3.8.13 alike. The limit is libgnutls's, not ours."""
    lib = load()[1]
    outcomes = {}
    for count in (MAX_EXTRA_TICKETS, MAX_EXTRA_TICKETS + 1):
        with Lab("1.3").connect(observe=False) as conn:
            outcomes[count] = lib.gnutls_session_ticket_send(conn.server._ptr, count, 0)  # the raw call
    assert MAX_EXTRA_TICKETS == 31
    assert outcomes == {31: 0, 32: lib.GNUTLS_E_INTERNAL_ERROR}


def test_the_largest_ticket_count_libgnutls_sends_works():
    with Lab("1.3", extra_tickets=MAX_EXTRA_TICKETS).connect() as conn:
        assert len(conn.tickets) == MAX_EXTRA_TICKETS + 2  # and libgnutls's two automatic ones (send_tickets(31))


@pytest.mark.parametrize("count", [32, 200_000, -1])
def test_extra_tickets_are_bounded_everywhere_with_the_limit_named(count):
    """One check (validate_extra_tickets) for Lab, LabServer, send_tickets and serve --tickets; before it,
    N >= 32 failed inside libgnutls and 200,000 ran out of memory."""
    for make in (lambda: Lab("1.3", extra_tickets=count), lambda: LabServer(0, "1.3", extra_tickets=count)):
        with pytest.raises(UsageError, match=f"extra_tickets {count} refused: 0 to 31, at most 31 tickets"):
            make()
    with Lab("1.3").connect() as conn:
        with pytest.raises(UsageError, match="at most 31"):
            conn.server.send_tickets(count)  # refused before libgnutls sees it
    result = subprocess.run([sys.executable, "-m", "gnutls_lab", "serve", "--port", "0", "--tickets", str(count)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert f"--tickets {count} refused: 0 to 31" in result.stderr and "Traceback" not in result.stderr


def test_ticket_counts_are_whole_numbers_and_experiments_follow_the_bound():
    for value in (2.5, True, "3"):
        with pytest.raises(UsageError, match="whole number"):
            validate_extra_tickets(value)
    with pytest.raises(UsageError, match="tickets_per_handshake 34 refused: at most 33"):
        ExperimentConfig(tickets_per_handshake=34)


def test_an_experiment_is_bounded_before_it_starts():
    with pytest.raises(UsageError, match=f"at most {MAX_VISITS} per run"):
        ExperimentConfig(visits=10_000_000, gap=0)
    with pytest.raises(UsageError, match=f"at most {MAX_SWEEP_VISITS} visits in one sweep"):
        sweep_reuse([1, 2, 3], visits=MAX_VISITS, gap=0, progress=False)
    ExperimentConfig(visits=MAX_VISITS, gap=0)  # the limit itself is allowed


@pytest.mark.parametrize("argv, message", [
    (["--visits", "10000000", "--gap", "0"], "10000000 visits refused: at most 100000 per run"),
    (["--visits", "10", "--max-reuse", "1000000000"], "1000000000 runs of 10 visits refused: at most 200000"),
])
def test_cli_experiment_bounds_are_one_line(argv, message):
    """Before: --visits 10000000 --gap 0 grew about 7 MB/s towards running out of memory."""
    result = subprocess.run([sys.executable, "-m", "gnutls_lab", "experiment", "reuse", *argv],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr and result.stdout == ""
