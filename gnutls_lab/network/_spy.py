"""Run an unmodified program under the session-data spy and collect what it logged.

:func:`run_spied` starts ``argv`` with the spy library in ``LD_PRELOAD`` and ``GNUTLS_LAB_SPY_LOG``
naming a fresh log file (created 0600: it holds the program's session data, secrets included). Child
processes inherit both, so a program that forks or runs helpers is followed too. The program's standard
output goes to our standard error, so ``--json`` output stays clean; its standard input is ours.
:func:`gnutls_lab.analysis._spy.analyse` turns the records into a report.

``LD_PRELOAD`` splits its value on spaces and colons, with no quoting: a library path holding either
is reached through a link in a fresh temporary folder. With a ``timeout`` the program runs in a session
(and process group) of its own, so that when the time is up every process it started is stopped with
it (SIGTERM, then SIGKILL 2 s later); a process that starts its own session escapes that.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

from ..analysis import analyse_spy_log, server_disagreements
from ..binding import library_info
from ..binding import SPY_LOG_VARIABLE, spy_library
from ..errors import UsageError
from ._server import LabServer

__all__ = ["SpiedRun", "run_spied", "links_libgnutls", "SCENARIOS", "spy_against_lab", "program_version",
           "build_curl_client", "scenario_runs", "recorded_runs_for"]


@dataclass
class SpiedRun:
    """One program run under the spy: its command, exit status and the spy's records (dicts)."""

    argv: list
    returncode: int  # negative: killed by that signal
    records: list
    log_path: str | None  # kept log file, or None when it was a temporary one
    timed_out: bool = False  # stopped (with every process it started) when the timeout ran out

    @property
    def exit_status(self) -> int:
        """The status a shell would report: the program's, 128 + N when signal N killed it, 124 when
        the timeout stopped it (as ``timeout(1)``)."""
        if self.timed_out:
            return 124
        return 128 - self.returncode if self.returncode < 0 else self.returncode


#: The libcurl client of the "libcurl-gnutls" scenarios, shipped with the package.
CURL_CLIENT_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "curl_resume.c")


def build_curl_client(folder: str) -> str:
    """Compile :data:`CURL_CLIENT_SOURCE` against Debian's libcurl-gnutls into ``folder``; its path.

    A missing compiler, pkg-config or ``libcurl4-gnutls-dev``, or a libcurl of another TLS flavour, is a
    :class:`UsageError` that says what to install."""
    if not shutil.which("gcc") or not shutil.which("pkg-config"):
        raise UsageError("building the libcurl client needs gcc and pkg-config: apt-get install gcc pkg-config")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libcurl"], capture_output=True, text=True)
    if flags.returncode != 0:
        raise UsageError("building the libcurl client needs libcurl's headers: apt-get install libcurl4-gnutls-dev")
    binary = os.path.join(folder, "curl_resume")
    built = subprocess.run(["gcc", "-O1", "-pthread", "-o", binary, CURL_CLIENT_SOURCE, *flags.stdout.split()],
                           capture_output=True, text=True)
    if built.returncode != 0:
        raise UsageError(f"the libcurl client did not build: {built.stderr.strip().splitlines()[-1:]}")
    if links_libgnutls(binary) is False:
        raise UsageError("the libcurl client links a libcurl without GnuTLS: apt-get install libcurl4-gnutls-dev")
    return binary


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


#: The characters LD_PRELOAD separates paths with (glibc: spaces and colons; no quoting).
_PRELOAD_SEPARATORS = frozenset(" :\t\n")
_GRACE_SECONDS = 2.0


def _preload_path(library: str, folder: str) -> str:
    """``library`` as LD_PRELOAD can name it: itself, or a link to it in ``folder`` (a fresh private folder)."""
    if not _PRELOAD_SEPARATORS & set(library):
        return library
    link = os.path.join(folder, "libgnutls-lab-spy.so")
    if _PRELOAD_SEPARATORS & set(link):
        raise UsageError(f"the spy library's path {library!r} holds a space or a colon, which LD_PRELOAD cannot "
                         f"hold, and so does the temporary folder {folder!r}: set TMPDIR to a folder without them")
    os.symlink(library, link)
    return link


def _exited(pid: int) -> bool:
    """Whether our child ``pid`` has exited, without reaping it (so its pid, and its process group's id,
    cannot be reused while we still signal the group)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the program's process group, SIGKILL 2 s later; the program is reaped afterwards."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        if sig == signal.SIGTERM:
            deadline = time.monotonic() + _GRACE_SECONDS
            while not _exited(process.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
    process.wait()


def run_spied(argv: list, *, keep_log: str | None = None, timeout: float | None = None,
              env: dict | None = None, stdout=None, stdin=None) -> SpiedRun:
    """Run ``argv`` under the spy; ``keep_log``: a folder to keep the log in (else it is deleted).

    Raises :class:`~gnutls_lab.errors.UsageError` when the spy was not built or the program cannot be
    started. ``stdout``: where the program's output goes (default: our standard error). ``timeout``:
    seconds after which the program and every process it started are stopped (``timed_out`` is then set).
    """
    library = spy_library()
    if library is None:
        raise UsageError("the spy library was not built (no C compiler at install time); install gcc and "
                         "reinstall gnutls-lab to use `gnutls-lab spy`")
    if not argv:
        raise UsageError("name a program to run: gnutls-lab spy -- PROGRAM [ARGS...]")
    if shutil.which(argv[0]) is None:
        raise UsageError(f"{argv[0]}: no such program")
    if timeout is not None and not timeout > 0:
        raise UsageError(f"--timeout must be more than 0 seconds, not {timeout:g}")
    if keep_log is not None and not os.path.isdir(keep_log):
        raise UsageError(f"--keep-log {keep_log}: not a folder")
    work = tempfile.mkdtemp(prefix="gnutls-lab-spy-")  # absolute, 0700: the temporary log, the link
    timed_out = False
    try:
        preload_path = _preload_path(library, work)
        # The spy writes only to an absolute path (the program may change its directory).
        folder = os.path.abspath(keep_log) if keep_log is not None else work
        fd, log_path = tempfile.mkstemp(prefix="spy-", suffix=".jsonl", dir=folder)  # 0600
        os.close(fd)
        child_env = dict(os.environ if env is None else env)
        preload = child_env.get("LD_PRELOAD", "")
        child_env["LD_PRELOAD"] = f"{preload_path} {preload}".strip()
        child_env[SPY_LOG_VARIABLE] = log_path
        try:
            process = subprocess.Popen(argv, env=child_env, stdin=stdin, start_new_session=timeout is not None,
                                       stdout=sys.stderr if stdout is None else stdout)
        except OSError as exc:
            raise UsageError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _stop_group(process)
        except BaseException:  # an interrupt: a program in its own session does not get the terminal's ^C
            if timeout is not None:
                _stop_group(process)
            else:
                process.kill()
                process.wait()
            raise
        records = read_records(log_path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return SpiedRun(list(argv), process.returncode, records, log_path if keep_log is not None else None,
                    timed_out)


_WGET2 = ("F=$(mktemp -u); for i in 1 2 3; do wget2 -q -O /dev/null --no-check-certificate {extra}--tls-resume "
          "--tls-session-file=$F https://127.0.0.1:{port}/x || exit 1; done; rm -f $F")
#: Real programs against the lab server: name -> (shell command, connections it makes, programs it needs).
#: ``{port}`` is the lab server's port; ``{curl_resume}`` the libcurl client of :func:`build_curl_client`.
SCENARIOS = {
    "gnutls-cli --resume": ("gnutls-cli --insecure --resume -p {port} 127.0.0.1 </dev/null", 2, ["gnutls-cli"]),
    "wget, 3 URLs": ("wget -q -O /dev/null --no-http-keep-alive --no-check-certificate "
                     "https://127.0.0.1:{port}/a https://127.0.0.1:{port}/b https://127.0.0.1:{port}/c", 3, ["wget"]),
    "wget2 --tls-resume, 3 runs": (_WGET2.format(extra="", port="{port}"), 3, ["wget2"]),
    "wget2 --tls-resume --no-tls-false-start, 3 runs": (
        _WGET2.format(extra="--no-tls-false-start ", port="{port}"), 3, ["wget2"]),
    "libcurl-gnutls, one handle": ("{curl_resume} https://127.0.0.1:{port}/ 3 handle", 3, ["curl_resume"]),
    "libcurl-gnutls, shared cache": ("{curl_resume} https://127.0.0.1:{port}/ 3 share", 3, ["curl_resume"]),
}


def program_version(program: str) -> str:
    """The first line of ``PROGRAM --version`` (libcurl: its pkg-config version), or ``""``."""
    command = ["pkg-config", "--modversion", "libcurl"] if program == "curl_resume" else [program, "--version"]
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    first = out.strip().splitlines()[0] if out.strip() else ""
    return f"libcurl {first} (GnuTLS flavour)" if program == "curl_resume" and first else first


def spy_against_lab(command: str, tls: str = "1.3", connections: int = 1, *, curl_resume: str = "",
                    timeout: float = 120, ticket_timing: str = "after-handshake") -> dict:
    """Run a shell ``command`` (``{port}``, ``{curl_resume}`` filled in) under the spy against a fresh lab HTTP server.

    The server sends its TLS 1.3 tickets after the client's Finished (``ticket_timing``), as OpenSSL
    servers and gnutls-serv do, so the spy's waits are those a program sees in the field.

    Returns a JSON-ready dict: ``report`` (:meth:`SpyReport.to_dict`), ``served`` (the server's record of
    each connection, :meth:`~gnutls_lab.network._server.ServedConnection.log_entry`) and the provenance:
    ``command``, ``tls``, ``date``, ``gnutls_version``.
    """
    with LabServer(0, tls, http=True, idle_timeout=1.0, ticket_timing=ticket_timing) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        shell = command.format(port=server.port, curl_resume=curl_resume)
        argv = ["sh", "-c", shell]
        try:
            run = run_spied(argv, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL, timeout=timeout)
            if run.timed_out:
                raise UsageError(f"{command} did not finish within {timeout} s")
            server.wait_served(connections, 30)
        finally:
            server.stop()
            thread.join(30)
        served = sorted(server.served, key=lambda record: record.index)
    version = library_info().version
    report = analyse_spy_log(run.records, argv, version, run.returncode).to_dict()
    return {"command": command, "tls": tls, "ticket_timing": ticket_timing,
            "date": datetime.date.today().isoformat(), "gnutls_version": version,
            "report": report, "served": [record.log_entry() for record in served]}


def recorded_runs_for(folder, version: str | None = None) -> str:
    """The recorded runs in ``folder`` (``runs-gnutls-X.Y.Z.json``, made by ``data/make_spy_runs.py``) that best
    match ``version`` (default: the loaded libgnutls's): the same version, else the newest of the same
    major.minor (Binder's conda-forge 3.8.x gets 3.8.9's), else the nearest one below, else the oldest."""
    def key(text):
        return tuple(int(part) for part in text.split("."))

    found = {}
    for name in os.listdir(folder):
        if name.startswith("runs-gnutls-") and name.endswith(".json"):
            try:
                found[key(name[len("runs-gnutls-"):-len(".json")])] = os.path.join(folder, name)
            except ValueError:
                continue
    if not found:
        raise UsageError(f"no recorded runs (runs-gnutls-X.Y.Z.json) in {folder}")
    wanted = key(version or library_info().version)
    same_series = [v for v in found if v[:2] == wanted[:2]]
    below = [v for v in found if v <= wanted]
    choice = (wanted if wanted in found else max(same_series) if same_series else max(below) if below
              else min(found))
    return found[choice]


def scenario_runs(recorded_file: str, tls_versions=("1.3", "1.2")) -> list[dict]:
    """Every :data:`SCENARIOS` entry per TLS version: run live under the spy where the spy library and the
    scenario's programs are here, else taken from ``recorded_file`` (made by ``data/make_spy_runs.py``).

    Each run is :func:`spy_against_lab`'s dict plus ``scenario``, ``programs`` (live) and ``source``:
    ``"live"``, or ``"RECORDED <date> with GnuTLS <version>"``. A live run whose spy report and server
    record disagree (:func:`~gnutls_lab.analysis._spy.server_disagreements`) is an error.
    """
    with open(recorded_file, encoding="utf-8") as handle:
        recorded = json.load(handle)["runs"]
    folder = tempfile.mkdtemp(prefix="gnutls-lab-curl-")
    try:
        have = {name: shutil.which(name) is not None for name in ("gnutls-cli", "wget", "wget2")}
        try:
            curl_resume = build_curl_client(folder)
        except UsageError:
            curl_resume = ""
        have["curl_resume"] = bool(curl_resume)
        live = spy_library() is not None
        runs = []
        for tls in tls_versions:
            for name, (command, connections, programs) in SCENARIOS.items():
                if live and all(have[program] for program in programs):
                    run = spy_against_lab(command, tls, connections, curl_resume=curl_resume)
                    problems = server_disagreements(run["report"], run["served"], tls)
                    if problems:
                        raise UsageError(f"{name}, TLS {tls}: the spy and the server disagree: {problems[0]}")
                    run.update(scenario=name, source="live", programs={p: program_version(p) for p in programs})
                else:
                    run = next(r for r in recorded if r["scenario"] == name and r["tls"] == tls)
                    run = {**run, "source": f"RECORDED {run['date']} with GnuTLS {run['gnutls_version']}"}
                runs.append(run)
        return runs
    finally:
        shutil.rmtree(folder, ignore_errors=True)
