"""Run an unmodified program under the session-data spy and collect what it logged.

:func:`run_spied` starts ``argv`` with the spy library in ``LD_PRELOAD`` and ``GNUTLS_LAB_SPY_LOG``
naming a fresh log file (created 0600: it holds the program's session data, secrets included). Child
processes inherit both, so a program that forks or runs helpers is followed too. The program's standard
output goes to our standard error, so ``--json`` output stays clean; its standard input is ours.
:func:`gnutls_lab.analysis.spy.analyse` turns the records into a report.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from ..binding.preload import SPY_LOG_VARIABLE, spy_library
from ..errors import UsageError

__all__ = ["SpiedRun", "run_spied", "links_libgnutls"]


@dataclass
class SpiedRun:
    """One program run under the spy: its command, exit status and the spy's records (dicts)."""

    argv: list
    returncode: int
    records: list
    log_path: str | None  # kept log file, or None when it was a temporary one


def links_libgnutls(program: str) -> bool | None:
    """Whether ``ldd`` lists libgnutls for ``program`` (None when that cannot be told)."""
    path = shutil.which(program) or program
    ldd = shutil.which("ldd")
    if not ldd or not os.path.isfile(path):
        return None
    try:
        out = subprocess.run([ldd, path], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return "libgnutls" in out


def read_records(path: str) -> list:
    """The spy's JSON lines; a line cut short (a program killed mid-write) is skipped."""
    records = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
    return records


def run_spied(argv: list, *, keep_log: str | None = None, timeout: float | None = None,
              env: dict | None = None, stdout=None, stdin=None) -> SpiedRun:
    """Run ``argv`` under the spy; ``keep_log``: a folder to keep the log in (else it is deleted).

    Raises :class:`~gnutls_lab.errors.UsageError` when the spy was not built or the program cannot be
    started. ``stdout``: where the program's output goes (default: our standard error).
    """
    library = spy_library()
    if library is None:
        raise UsageError("the spy library was not built (no C compiler at install time); install gcc and "
                         "reinstall gnutls-lab to use `gnutls-lab spy`")
    if not argv:
        raise UsageError("name a program to run: gnutls-lab spy -- PROGRAM [ARGS...]")
    if shutil.which(argv[0]) is None:
        raise UsageError(f"{argv[0]}: no such program")
    folder = keep_log if keep_log is not None else tempfile.mkdtemp(prefix="gnutls-lab-spy-")
    if keep_log is not None and not os.path.isdir(keep_log):
        raise UsageError(f"--keep-log {keep_log}: not a folder")
    fd, log_path = tempfile.mkstemp(prefix="spy-", suffix=".jsonl", dir=folder)  # 0600
    os.close(fd)
    child_env = dict(os.environ if env is None else env)
    preload = child_env.get("LD_PRELOAD", "")
    child_env["LD_PRELOAD"] = f"{library} {preload}".strip()
    child_env[SPY_LOG_VARIABLE] = log_path
    try:
        try:
            completed = subprocess.run(argv, env=child_env, timeout=timeout, stdin=stdin,
                                       stdout=sys.stderr if stdout is None else stdout)
        except subprocess.TimeoutExpired:
            raise UsageError(f"{argv[0]} did not finish within {timeout} s") from None
        except OSError as exc:
            raise UsageError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
        records = read_records(log_path)
    finally:
        if keep_log is None:
            shutil.rmtree(folder, ignore_errors=True)
    return SpiedRun(list(argv), completed.returncode, records, log_path if keep_log is not None else None)
