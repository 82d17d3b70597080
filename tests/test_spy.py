"""gnutls-lab spy: real GnuTLS programs (gnutls-cli, wget, wget2, a libcurl-gnutls client) against the lab
server on 127.0.0.1, and what the spy reports checked against the server's own record of each connection.

Every program runs with the spy preloaded; the server (LabServer(http=True)) records per connection
whether it resumed and which ticket or session ID the client presented. The spy's per-session verdict
(libgnutls's gnutls_session_is_resumed in the client) and the ticket it names must agree with it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading

import pytest

from gnutls_lab import LabCertificate
from gnutls_lab.analysis._spy import analyse, identity_id, pair_with_server, server_disagreements, ticket_id
from gnutls_lab.binding._library import library_info
from gnutls_lab.binding._preload import spy_library
from gnutls_lab.network._server import LabServer
from gnutls_lab.network._spy import build_curl_client, links_libgnutls, run_spied
from gnutls_lab.network._spy import spy_against_lab as lab_spy_against_lab

pytestmark = [pytest.mark.peers, pytest.mark.timeout(180)]

HERE = os.path.dirname(os.path.abspath(__file__))
CLI = [sys.executable, "-m", "gnutls_lab"]


def spy_against_lab(tls: str, command: str, connections: int) -> tuple[dict, list]:
    """Run ``sh -c command`` (``{port}`` filled in) under the spy against a fresh lab HTTP server.

    Returns (report dict, the server's log entries in connection order), from the library's
    :func:`gnutls_lab.network._spy.spy_against_lab`, which waits (bounded) for the server to record
    the ``connections`` it expects.
    """
    result = lab_spy_against_lab(command, tls, connections, timeout=120)
    returncode = result["report"]["returncode"]
    assert returncode == 0, f"{command} failed under the spy (exit {returncode})"
    assert result["tls"] == tls and result["gnutls_version"] == library_info().version
    return result["report"], result["served"]


def clients(report: dict) -> list:
    return sorted((s for s in report["sessions"] if s["role"] == "client" and s["handshake_rc"] == 0),
                  key=lambda s: s["handshake_ms"])


def assert_agrees_with_server(report: dict, served: list, tls: str) -> None:
    """The spy and the server saw the same connections, resumed the same ones, with the same tickets."""
    assert server_disagreements(report, served, tls) == []
    assert len(clients(report)) == len(served) > 0


@pytest.fixture(scope="module")
def curl_resume(tmp_path_factory):
    """The package's libcurl client, compiled against Debian's libcurl-gnutls."""
    binary = build_curl_client(str(tmp_path_factory.mktemp("curl")))
    assert links_libgnutls(binary), "curl_resume must use the GnuTLS flavour of libcurl"
    return binary


def libcurl_version() -> tuple:
    text = subprocess.run(["pkg-config", "--modversion", "libcurl"], capture_output=True, text=True).stdout
    return tuple(int(part) for part in text.strip().split(".")[:2])


def test_the_spy_is_built_and_loads_only_libc():
    path = spy_library()
    assert path and os.path.isfile(path)
    needed = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
    assert "libpython" not in needed and "libgnutls" not in needed


@pytest.mark.parametrize("tls", ["1.3", "1.2"])
def test_gnutls_cli_resume_stores_a_real_ticket_and_resumes_with_it(tls):
    report, served = spy_against_lab(tls, "gnutls-cli --insecure --resume -p {port} 127.0.0.1 </dev/null", 2)
    assert_agrees_with_server(report, served, tls)
    first, second = clients(report)
    assert [first["resumed"], second["resumed"]] == [False, True]
    assert not first["stored"][0]["dummy"]
    # gnutls-cli stores after the first handshake and offers exactly that to the second connection
    assert second["ticket_id_offered"] == first["stored"][0]["ticket_id"] is not None
    assert report["summary"]["max_ticket_offers"] == 1
    assert any("resumed 1 of 2 connections" in finding for finding in report["findings"])


@pytest.mark.parametrize("tls", ["1.3", "1.2"])
def test_wget_stores_session_data_it_never_gives_back(tls):
    urls = " ".join(f"https://127.0.0.1:{{port}}/{name}" for name in "abc")
    report, served = spy_against_lab(
        tls, f"wget -q -O /dev/null --no-http-keep-alive --no-check-certificate {urls}", 3)
    assert_agrees_with_server(report, served, tls)
    assert report["summary"]["resumed"] == 0 and report["summary"]["offered"] == 0
    assert report["summary"]["stored"] >= 3
    assert [r["http_requests"] for r in served] == [1, 1, 1]
    assert any("never gave any back to gnutls_session_set_data" in finding for finding in report["findings"])


def test_wget_keep_alive_uses_one_connection_for_every_url():
    urls = " ".join(f"https://127.0.0.1:{{port}}/{name}" for name in "abc")
    report, served = spy_against_lab("1.3", f"wget -q -O /dev/null --no-check-certificate {urls}", 1)
    assert_agrees_with_server(report, served, "1.3")
    assert [r["http_requests"] for r in served] == [3]


def _wget2_runs(extra: str, runs: int = 3) -> str:
    one = (f"wget2 -q -O /dev/null --no-check-certificate {extra} --tls-resume --tls-session-file=$F "
           "https://127.0.0.1:{port}/x")
    return f"F=$(mktemp -u); for i in $(seq {runs}); do {one} || exit 1; done; rm -f $F"


@pytest.mark.parametrize("tls", ["1.3", "1.2"])
def test_wget2_tls_resume_offers_one_ticket_in_every_later_run(tls):
    report, served = spy_against_lab(tls, _wget2_runs(""), 3)
    assert_agrees_with_server(report, served, tls)
    sessions = clients(report)
    assert len({s["pid"] for s in sessions}) == 3  # three processes, one log
    assert [s["resumed"] for s in sessions] == [False, True, True]
    offered = {s["ticket_id_offered"] for s in sessions[1:]}
    assert len(offered) == 1 and report["summary"]["max_ticket_offers"] == 2
    assert [r["ticket_id"] for r in served[1:]] == [offered.pop()] * 2
    wanted = "It offered one TLS 1.3 ticket" if tls == "1.3" else "It offered one TLS 1.2 ticket"
    assert any(finding.startswith(wanted) for finding in report["findings"])
    if tls == "1.3":
        assert any("RFC 8446 C.4" in finding for finding in report["findings"])


def test_wget2_without_false_start_stores_what_the_library_gives_right_after_the_handshake():
    report, served = spy_against_lab("1.3", _wget2_runs("--no-tls-false-start"), 3)
    assert_agrees_with_server(report, served, "1.3")
    sessions = clients(report)
    assert all("GNUTLS_NONBLOCK" in s["init_flags"] for s in sessions)
    first = sessions[0]["stored"][0]
    if first["dummy"]:  # asked before the ticket, and a non-blocking session does not wait for one
        assert report["summary"]["resumed"] == 0 and report["summary"]["stored_dummy"] == 3
        assert sessions[0]["ticket_arrival_ms"] > first["at_ms"]
        assert any("GNUTLS_NONBLOCK" in finding and "4-byte dummy" in finding for finding in report["findings"])
    else:
        assert [s["resumed"] for s in sessions] == [False, True, True]


@pytest.mark.parametrize("mode", ["handle", "share"])
@pytest.mark.parametrize("tls", ["1.3", "1.2"])
def test_libcurl_gnutls_session_cache(curl_resume, tls, mode):
    report, served = spy_against_lab(tls, f"{curl_resume} https://127.0.0.1:{{port}}/ 3 {mode}", 3)
    assert_agrees_with_server(report, served, tls)
    sessions = clients(report)
    assert all(s["custom_pull"] for s in sessions)  # libcurl reads through its own pull function
    if tls == "1.2":  # the session ID cache works: every later request resumes the first session
        assert [s["resumed"] for s in sessions] == [False, True, True]
        assert report["summary"]["max_ticket_offers"] == 2
        return
    flags = set(sessions[0]["init_flags"])
    stored = [st for s in sessions for st in s["stored"]]
    if "GNUTLS_NO_TICKETS" in flags:  # libcurl 7.x: TLS 1.3 never resumes
        assert report["summary"]["resumed"] == 0
        assert any("GNUTLS_NO_TICKETS" in finding for finding in report["findings"])
    if stored and all(st["dummy"] for st in stored):  # asked right after the handshake, before the ticket
        assert not any(s["pull_timeout"] for s in sessions)
        assert any("no pull-timeout function" in finding for finding in report["findings"])
    if libcurl_version() < (8, 0):
        assert "GNUTLS_NO_TICKETS" in flags and stored and all(st["dummy"] for st in stored)


def test_threads_and_a_fork_keep_every_record_whole(curl_resume, tmp_path):
    """4 threads x 2 connections in a parent and in its forked child: 16 TLS sessions, all seen."""
    with LabServer(0, "1.2", http=True, idle_timeout=1.0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        run = run_spied([curl_resume, f"https://127.0.0.1:{server.port}/", "4", "threads"], keep_log=str(tmp_path),
                        stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL, timeout=120)
        served = server.wait_served(16, 30)
        server.stop()
        thread.join(30)
    assert run.returncode == 0
    lines = open(run.log_path).read().splitlines()
    assert len(lines) == len(run.records)  # every line is one whole JSON record: nothing interleaved
    report = analyse(run.records, ["curl_resume"], library_info().version, run.returncode).to_dict()
    sessions = clients(report)
    assert len(sessions) == len(served) == 16
    assert len({s["pid"] for s in sessions}) == 2  # the parent and the forked child, each under its own pid
    assert len({(r["pid"], r["tid"]) for r in run.records if r["ev"] == "init"}) == 8  # 4 threads in each
    assert sum(s["resumed"] for s in sessions) == sum(r.resumed for r in served)
    assert sorted(s["ticket_id_offered"] for s in sessions if s["resumed"]) == sorted(
        identity_id(r.identity_kind, r.identity) for r in served if r.resumed)


def test_cli_spy_json_and_text(tmp_path):
    with LabServer(0, "1.3", http=True, idle_timeout=1.0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        command = ["gnutls-cli", "--insecure", "--resume", "-p", str(server.port), "127.0.0.1"]
        result = subprocess.run([*CLI, "spy", "--json", "--keep-log", str(tmp_path), "--", *command],
                                capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
        text = subprocess.run([*CLI, "spy", "--", *command], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=120)
        server.stop()
        thread.join(30)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) >= {"program", "gnutls_version", "sessions", "summary", "findings"}
    assert report["program"] == command and report["gnutls_version"] == library_info().version
    assert report["summary"]["sessions"] == 2 and report["summary"]["resumed"] == 1
    logs = list(tmp_path.iterdir())
    assert len(logs) == 1 and oct(logs[0].stat().st_mode & 0o777) == "0o600"
    assert text.returncode == 0 and "TLS session #1" in text.stdout and "Resumed:          yes" in text.stdout
    assert "Findings:" in text.stdout
    # tickets are named by a hash, never shown: no long hex run in the report
    stored = report["sessions"][0]["stored"][0]
    assert stored["ticket_id"].startswith("ticket:") and len(stored["ticket_id"]) == len("ticket:") + 12


def test_ticket_ids_name_the_server_side_identity_the_same_way():
    from gnutls_lab import Lab, decode_session

    lab = Lab("1.3")
    data = lab.connect().session_data
    ticket = decode_session(bytes(data)).ticket
    assert ticket_id(bytes(data)) == identity_id("psk_identity", ticket)
    assert ticket_id(b"\0\0\0\0") is None


def test_a_program_without_libgnutls_is_one_line():
    result = subprocess.run([*CLI, "spy", "--", "true"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "no gnutls_init seen" in result.stderr
    assert "does not link libgnutls" in result.stderr


def test_a_missing_program_is_one_line():
    result = subprocess.run([*CLI, "spy", "--", "no-such-program-here"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "no such program" in result.stderr


def test_without_the_spy_library_spy_says_so_in_one_line(tmp_path):
    # A copy of the package without the compiled spy, as an install without a compiler leaves it.
    copy = tmp_path / "gnutls_lab"
    shutil.copytree(os.path.dirname(os.path.dirname(spy_library())), copy,
                    ignore=shutil.ignore_patterns("_spy.*.so", "__pycache__"))
    result = subprocess.run([*CLI, "spy", "--", "gnutls-cli", "--version"], capture_output=True, text=True,
                            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)}, timeout=60)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "spy library was not built" in result.stderr


def test_the_program_keeps_its_behaviour_and_exit_status():
    # errno and return values pass through: gnutls-cli failing to connect fails the same way under the spy
    plain = subprocess.run(["gnutls-cli", "-p", "1", "127.0.0.1"], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=60)
    run = run_spied(["gnutls-cli", "-p", "1", "127.0.0.1"], stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                    timeout=60)
    assert plain.returncode == run.returncode != 0


def test_a_spy_that_fails_to_build_does_not_stop_the_c_pipe(tmp_path):
    root = os.path.dirname(HERE)
    for name in ("setup.py", "pyproject.toml", "README.md", "gnutls_lab/binding/_memio.c"):
        os.makedirs(os.path.dirname(tmp_path / name), exist_ok=True)
        shutil.copy(os.path.join(root, name), tmp_path / name)
    (tmp_path / "gnutls_lab" / "binding" / "_spy.c").write_text("this is not C\n")
    result = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    binding = tmp_path / "gnutls_lab" / "binding"
    assert len(list(binding.glob("_memio*.so"))) == 1 and list(binding.glob("_spy*.so")) == []
    assert "gnutls-lab: the spy was not built" in result.stdout and "C pipe was not built" not in result.stdout


@pytest.mark.parametrize("path", sorted(os.path.join(os.path.dirname(HERE), "data", "spy", name)
                                        for name in os.listdir(os.path.join(os.path.dirname(HERE), "data", "spy"))
                                        if name.startswith("runs-") and name.endswith(".json")))
def test_recorded_runs_tell_one_story(path):
    """The recorded runs notebook 07 shows where programs are missing pass the same agreement check."""
    with open(path, encoding="utf-8") as handle:
        runs = json.load(handle)["runs"]
    assert len(runs) == 12
    for run in runs:
        assert server_disagreements(run["report"], run["served"], run["tls"]) == [], (run["scenario"], run["tls"])



# ---- hostile cases (issue 20): programs the spy must watch without changing them, and say what it missed

PROGRAMS = os.path.join(HERE, "programs")


@pytest.fixture(scope="module")
def spy_programs(tmp_path_factory):
    """tests/programs/*.c built here: ``spy_client`` (linked with libgnutls), ``spy_client_plugin.so`` (the same
    client as a plugin) and ``dlopen_local`` (a host that loads libraries with RTLD_LOCAL)."""
    folder = tmp_path_factory.mktemp("programs")
    source = os.path.join(PROGRAMS, "spy_client.c")
    builds = {
        "spy_client": ["-pthread", "-o", folder / "spy_client", source, "-lgnutls"],
        "spy_client_plugin.so": ["-pthread", "-fPIC", "-shared", "-DPLUGIN", "-o", folder / "spy_client_plugin.so",
                                 source, "-lgnutls"],
        "dlopen_local": ["-o", folder / "dlopen_local", os.path.join(PROGRAMS, "dlopen_local.c"), "-ldl"],
    }
    for name, arguments in builds.items():
        built = subprocess.run(["gcc", "-O1", *map(str, arguments)], capture_output=True, text=True)
        assert built.returncode == 0, f"{name} did not build (gcc and libgnutls28-dev needed): {built.stderr[-500:]}"
    return {name: str(folder / name) for name in builds}


class ServerThread:
    """A lab server on 127.0.0.1 in a thread; stopped, waited for and closed by the context manager."""

    def __init__(self, tls: str = "1.3", **options):
        self.server = LabServer(0, tls, idle_timeout=1.0, **options)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LabServer:
        self.thread.start()
        return self.server

    def __exit__(self, *exc):
        self.server.stop()
        self.thread.join(30)
        self.server.close()


def spied(argv: list, tmp_path, **options) -> tuple:
    """``argv`` under the spy: (the run, its report dict, what the program printed)."""
    output = tmp_path / f"stdout-{len(list(tmp_path.iterdir()))}"
    with open(output, "wb") as stdout:
        run = run_spied([str(part) for part in argv], stdout=stdout, stdin=subprocess.DEVNULL, timeout=120, **options)
    report = analyse(run.records, [str(part) for part in argv], library_info().version, run.returncode).to_dict()
    return run, report, output.read_text()


def cli_spy(*arguments, **options) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, "spy", *map(str, arguments)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120, **options)


def test_a_program_that_dlopens_libgnutls_rtld_local_is_not_changed(spy_programs, tmp_path):
    """dlopen(RTLD_LOCAL) keeps libgnutls out of the global scope, yet libgnutls calls its own
    gnutls_session_get_data2 through the preloaded name: the spy used to call a NULL function there."""
    argv = [spy_programs["dlopen_local"], "gnutls"]
    plain = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert plain.returncode == 0 and "gnutls_session_get_data: -50\ndone" in plain.stdout
    run, report, output = spied(argv, tmp_path)
    assert run.returncode == 0 and output == plain.stdout
    assert report["sessions"] == []  # the program's own calls went straight to libgnutls
    (process,) = report["processes"]
    assert process["program"] == "dlopen_local" and process["gnutls"] == "local"
    assert process["library_calls"] == {"gnutls_session_get_data2": 1}  # libgnutls calling itself
    assert "dlopen(RTLD_LOCAL)" in report["not_seen"][0] and "gnutls_session_get_data2 x1" in report["not_seen"][0]
    cli = cli_spy("--", *argv)
    assert cli.returncode == 2 and cli.stderr.startswith(plain.stdout)  # the program's output, then one line
    message = cli.stderr[len(plain.stdout):]
    assert message.count("\n") == 1 and "dlopen(RTLD_LOCAL)" in message and "does not link" not in message


PYTHON_CTYPES_CLIENT = r"""
import ctypes, socket, sys
g = ctypes.CDLL("libgnutls.so.30")  # ctypes loads with RTLD_LOCAL
session, credentials = ctypes.c_void_p(), ctypes.c_void_p()
assert g.gnutls_certificate_allocate_credentials(ctypes.byref(credentials)) == 0
assert g.gnutls_init(ctypes.byref(session), 2) == 0  # GNUTLS_CLIENT
assert g.gnutls_set_default_priority(session) == 0
assert g.gnutls_credentials_set(session, 1, credentials) == 0  # GNUTLS_CRD_CERTIFICATE
sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
g.gnutls_transport_set_int2(session, sock.fileno(), sock.fileno())
print("handshake", g.gnutls_handshake(session))
size = ctypes.c_size_t(0)
print("get_data", g.gnutls_session_get_data(session, None, ctypes.byref(size)), size.value > 4)
g.gnutls_bye(session, 1)  # GNUTLS_SHUT_WR
g.gnutls_deinit(session)
"""


def test_python_ctypes_keeps_its_behaviour_and_the_report_says_what_the_spy_missed(tmp_path):
    script = tmp_path / "client.py"
    script.write_text(PYTHON_CTYPES_CLIENT)
    with ServerThread("1.3") as server:
        argv = [sys.executable, script, server.port]
        plain = subprocess.run(list(map(str, argv)), capture_output=True, text=True, timeout=60)
        run, report, output = spied(argv, tmp_path)
        cli = cli_spy("--", *argv)
    assert plain.returncode == 0 and plain.stdout == "handshake 0\nget_data -51 True\n"  # the size query: GNUTLS_E_SHORT_MEMORY_BUFFER
    assert run.returncode == 0 and output == plain.stdout
    assert report["sessions"] == [] and "RTLD_LOCAL" in report["nothing_seen"]
    assert [p["gnutls"] for p in report["processes"]].count("local") == 1
    assert cli.returncode == 2 and cli.stderr.startswith(plain.stdout)  # the program's output, then one line
    message = cli.stderr[len(plain.stdout):]
    assert message.count("\n") == 1 and "RTLD_LOCAL" in message and "does not link libgnutls" not in message


def test_a_plugin_that_links_libgnutls_loaded_rtld_local_is_seen_whole(spy_programs, tmp_path):
    """A plugin's calls bind to the spy's names first; the spy finds the real functions in the plugin's scope."""
    with ServerThread("1.3") as server:
        run, report, output = spied([spy_programs["dlopen_local"], spy_programs["spy_client_plugin.so"], "resume",
                                     server.port], tmp_path)
        served = [record.log_entry() for record in server.wait_served(2, 30)]
    assert run.returncode == 0 and output == "connection 0: resumed 0\nconnection 1: resumed 1\n"
    sessions = clients(report)
    assert [s["resumed"] for s in sessions] == [False, True] and all(s["local_scope"] for s in sessions)
    assert server_disagreements(report, served, "1.3") == []
    assert any("opened by a library that links libgnutls" in sentence for sentence in report["not_seen"])


def test_a_program_that_closes_every_descriptor_never_gets_a_spy_record(spy_programs, tmp_path):
    """The program closes descriptors 3 and up, then opens its own file (descriptor 3 again)."""
    own = tmp_path / "own.txt"
    run, report, output = spied([spy_programs["spy_client"], "closefds", own], tmp_path, keep_log=str(tmp_path))
    assert run.returncode == 0 and output.startswith("get_data2 before a handshake: -")
    assert own.read_text() == "the program's own first line\nthe program's own second line\n"
    lines = open(run.log_path).read().splitlines()
    assert len(lines) == len(run.records)  # the log is intact: every line one whole record
    events = [r["ev"] for r in run.records if r.get("pid") == report["processes"][0]["pid"]]
    assert events == ["start", "init", "get_data2", "set_data", "deinit", "exit"]


@pytest.mark.parametrize("tls", ["1.3", "1.2"])
def test_threads_are_paired_with_the_server_by_address_not_by_order(spy_programs, tmp_path, tls):
    """4 connections in parallel: accepted in one order, their handshakes end in another."""
    with ServerThread(tls) as server:
        port = server.port
        run, report, output = spied([spy_programs["spy_client"], "threads", port, 4], tmp_path)
        served = [record.log_entry() for record in server.wait_served(5, 30)]
    assert run.returncode == 0, output
    assert server_disagreements(report, served, tls) == []
    assert all(r["client_address"] == "127.0.0.1" and r["client_port"] for r in served)
    sessions = clients(report)
    by_port = {r["client_port"]: r["connection"] for r in served}
    handshake_order = [by_port[s["local_port"]] for s in sessions]
    assert handshake_order != sorted(handshake_order)  # the case order-pairing got wrong
    assert all(s["peer_port"] == port and s["peer_address"] == "127.0.0.1" for s in sessions)
    pairs = pair_with_server(report, served)
    assert [how for _, _, how in pairs] == ["address"] * 5
    assert sum(s["resumed"] for s in sessions) == sum(r["resumed"] for r in served) == 2


def test_session_data_over_8_kb_is_logged_whole(tmp_path):
    """A 12 KB certificate makes the client's session data larger than 8 KB; the spy used to cut it."""
    big = LabCertificate(dns_names=tuple(f"host-{i:04d}.gnutls-lab.test" for i in range(450)))
    assert len(big.der) > 12000
    with ServerThread("1.3", certificate=big) as server:
        run, report, _ = spied(["gnutls-cli", "--insecure", "--resume", "-p", server.port, "127.0.0.1"], tmp_path)
        served = [record.log_entry() for record in server.wait_served(2, 30)]
    assert run.returncode == 0
    first, second = clients(report)
    stored = first["stored"][0]
    assert stored["bytes"] > 12000 and stored["ticket_id"].startswith("ticket:")  # decoded whole, not "undecoded:"
    assert second["ticket_id_offered"] == stored["ticket_id"] == served[1]["ticket_id"] and second["resumed"]
    assert stored["spy_kept_bytes"] is None
    assert second["offered_cut_bytes"] is None and report["not_seen"] == []
    assert server_disagreements(report, served, "1.3") == []


def test_spy_exits_with_the_programs_status(tmp_path):
    with ServerThread("1.3") as server:
        connect = f"gnutls-cli --insecure -p {server.port} 127.0.0.1 </dev/null >/dev/null"
        failed = cli_spy("--", "sh", "-c", f"{connect}; exit 3")
        killed = cli_spy("--json", "--", "sh", "-c", f"{connect}; kill -TERM $$")
        refused = cli_spy("--", "gnutls-cli", "--insecure", "--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.2", "-p",
                          server.port, "127.0.0.1")
    assert failed.returncode == 3 and "TLS session #0" in failed.stdout and "exited with status 3" in failed.stderr
    assert killed.returncode == 128 + 15 and json.loads(killed.stdout)["returncode"] == -15
    # the server speaks TLS 1.3 only: gnutls-cli fails, and the report names the error
    assert refused.returncode == 1 and "Handshake:        failed (GNUTLS_E_" in refused.stdout


def test_a_shell_whose_children_link_libgnutls_is_described_by_its_children():
    result = cli_spy("--", "sh", "-c", "gnutls-cli --version >/dev/null; true")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "sh does not link libgnutls" in result.stderr
    assert "gnutls-cli (pid" in result.stderr and "links libgnutls but called no gnutls_init" in result.stderr


def test_timeout_stops_the_whole_process_group(tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    # the grandchild lets go of our pipes, so nothing but the process group ties it to the run
    script = f'sh -c "echo \\$\\$ > {pid_file}; exec sleep 60" </dev/null >/dev/null 2>&1 & wait'
    result = cli_spy("--timeout", "1", "--", "sh", "-c", script)
    grandchild = int(pid_file.read_text())
    try:
        with open(f"/proc/{grandchild}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        state = "gone"
    if state not in ("gone", "Z", "X"):
        os.kill(grandchild, signal.SIGKILL)  # the sleep this test started
        raise AssertionError(f"the grandchild {grandchild} was left running (state {state})")
    assert result.returncode == 124 and "did not finish within 1 s" in result.stderr


def test_a_spy_library_path_with_a_space_is_still_preloaded(tmp_path):
    folder = tmp_path / "with space: and colon"
    shutil.copytree(os.path.dirname(os.path.dirname(spy_library())), folder / "gnutls_lab",
                    ignore=shutil.ignore_patterns("__pycache__"))
    with ServerThread("1.3") as server:
        result = cli_spy("--json", "--", "gnutls-cli", "--insecure", "-p", server.port, "127.0.0.1", cwd=folder,
                         env={**os.environ, "PYTHONPATH": str(folder)})
    assert "cannot be preloaded" not in result.stderr
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["summary"]["handshakes"] == 1
def test_recorded_runs_match_the_loaded_gnutls_series(tmp_path):
    """Notebook 07 takes recorded runs where a program is missing (Binder): those of the loaded GnuTLS's series
    (it always took 3.7.9's, though Binder's conda-forge GnuTLS is 3.8.x and 3.8.9's are recorded)."""
    import pathlib

    from gnutls_lab.binding import library_info
    from gnutls_lab.errors import UsageError
    from gnutls_lab.network import recorded_runs_for

    for version in ("3.7.9", "3.8.9"):
        (tmp_path / f"runs-gnutls-{version}.json").write_text("{}")
    (tmp_path / "README.md").write_text("not a recording")
    chosen = {v: pathlib.Path(recorded_runs_for(tmp_path, v)).name for v in
              ("3.7.9", "3.7.2", "3.8.9", "3.8.11", "3.8.0", "3.9.1", "3.6.16")}
    assert chosen == {"3.7.9": "runs-gnutls-3.7.9.json", "3.7.2": "runs-gnutls-3.7.9.json",
                      "3.8.9": "runs-gnutls-3.8.9.json", "3.8.11": "runs-gnutls-3.8.9.json",
                      "3.8.0": "runs-gnutls-3.8.9.json", "3.9.1": "runs-gnutls-3.8.9.json",
                      "3.6.16": "runs-gnutls-3.7.9.json"}
    shipped = pathlib.Path(__file__).resolve().parent.parent / "data" / "spy"
    loaded = library_info().version
    series = ".".join(loaded.split(".")[:2])
    expected = f"runs-gnutls-{loaded}.json" if (shipped / f"runs-gnutls-{loaded}.json").exists() else \
        f"runs-gnutls-{ {'3.7': '3.7.9', '3.8': '3.8.9'}[series] }.json"  # 3.8.13 takes the shipped 3.8.9
    assert pathlib.Path(recorded_runs_for(shipped)).name == expected
    with pytest.raises(UsageError, match="no recorded runs"):
        recorded_runs_for(tmp_path / "..")
