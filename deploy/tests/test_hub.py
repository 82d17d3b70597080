"""The workshop hub (`make hub`, deploy/hub/) with real participants' accounts, servers and kernels: who may
log in, what a participant's server opens on, that one participant cannot reach another's files or server,
a room of simulated participants, the facilitator's tools, and idle culling that keeps the work."""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import re
import stat
import subprocess
import sys
import time
import uuid

import httpx
import pytest
from conftest import HUB, Person, server_ports, write_artifact

import simulate
import throwaway

PARTICIPANTS = int(os.environ.get("HUB_TEST_PARTICIPANTS", "8"))  # the CI-sized room; make bench-hub: 30
ARRIVAL = float(os.environ.get("HUB_TEST_ARRIVAL", "60"))


def test_a_name_is_claimed_with_the_workshop_code_and_stays_its_owners(hub, people):
    assert not people("ann", "annpassword", code="wrong-code").logged_in
    assert not people("ann", "short", code=hub.code).logged_in  # a password of 6 characters at least
    first = people("ann", "annpassword")
    assert first.logged_in and first.name == "glhubt-ann"
    assert not people("ann", "someone-else", code=hub.code).logged_in  # the code does not open a claimed name
    again = people("ann", "annpassword", code="")
    assert again.logged_in and again.name == "glhubt-ann"
    assert not people("Ann; rm -rf /", "whatever1").logged_in  # letters and digits only
    root = people("root", "rootpassword")
    assert root.logged_in and root.name == "glhubt-root"  # a prefixed account, never the machine's root
    assert pwd.getpwnam("glhubt-root").pw_uid >= 1000
    stored = (hub.state / "participants.json").read_text()
    assert "annpassword" not in stored and "scrypt$" in stored
    assert stat.S_IMODE(os.stat(hub.state / "participants.json").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(hub.state).st_mode) == 0o700


def test_a_server_opens_on_the_participants_own_workspace(hub, people):
    person = people("bea")
    home = pwd.getpwnam(person.name).pw_dir
    person.server()
    workspace = os.path.join(home, "workspace")
    upstream = sorted(p.name for p in (hub.install / "share" / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    listed = sorted(n for n in os.listdir(workspace) if not n.startswith("."))
    assert len(upstream) >= 8 and listed == sorted(upstream + ["course"])  # no .py twin, no solutions
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
    account = pwd.getpwnam(person.name)
    assert all(os.stat(os.path.join(workspace, n)).st_uid == account.pw_uid for n in listed)
    assert os.stat(os.path.join(workspace, "course")).st_mode & 0o222 == 0  # read-only, as make lab makes it
    assert os.path.realpath(os.path.join(home, "data")) == str(hub.install / "share" / "data")
    # The kernel runs as the participant, in the workspace, with the library installed once for all.
    printed = person.run("import os, gnutls_lab, pwd, sys\nprint(pwd.getpwuid(os.getuid()).pw_name, os.getcwd(),"
                         " sys.prefix, gnutls_lab.library_info().version)")
    name, cwd, prefix, version = printed.split()
    assert (name, cwd, prefix) == (person.name, workspace, str(hub.install / "venv")) and version.startswith("3.")
    # A notebook's copy carries the kernel's language_info (so that opening it does not mark it modified).
    copy = json.loads(open(os.path.join(workspace, "01-live-handshake.ipynb")).read())
    reported = person.run("import sys; print(sys.version.split()[0])")
    assert copy["metadata"]["language_info"]["version"] == reported.strip()


def test_a_terminal_opens_in_the_workspace_with_the_lab_on_its_path(hub, people):
    person = people("cid")
    server = person.server()
    terminal = person.client.post(f"{server}/api/terminals", headers=person.auth).json()["name"]

    async def talk():
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        url = f"{server.replace('http://', 'ws://', 1)}/terminals/websocket/{terminal}"
        connection = await websocket_connect(HTTPRequest(url, headers=person.auth))
        await connection.write_message(json.dumps(["stdin", "echo AT=$(pwd) LAB=$(command -v gnutls-lab) END\r"]))
        seen = ""
        deadline = time.monotonic() + 60
        while not re.search(r"AT=/\S* LAB=\S* END", seen):
            assert time.monotonic() < deadline, f"no answer from the terminal in 60 s: {seen[-500:]!r}"
            message = await asyncio.wait_for(connection.read_message(), deadline - time.monotonic())
            kind, *content = json.loads(message)
            if kind == "stdout":
                seen += content[0]
        connection.close()
        return seen

    seen = asyncio.run(talk())
    home = pwd.getpwnam(person.name).pw_dir
    assert f"AT={home}/workspace " in seen and f"LAB={hub.install}/venv/bin/gnutls-lab" in seen, seen[-500:]


def test_one_participant_cannot_reach_anothers_files_server_or_the_hubs_database(hub, people):
    alice, bob = people("alice"), people("bob")
    bob_home = pwd.getpwnam(bob.name).pw_dir
    bob.server()
    bob.run("open('secret.txt', 'w').write('bob only')")
    assert open(os.path.join(bob_home, "workspace", "secret.txt")).read() == "bob only"
    alice.server()
    ports = server_ports(hub)
    bob_pid = next(int(p) for p in subprocess.run(["pgrep", "-u", bob.name, "-f", "jupyterhub-singleuser"],
                                                  capture_output=True, text=True).stdout.split())
    probe = f"""
import json, os, urllib.request, urllib.error
attempts = {{}}
def attempt(label, action):
    try:
        action()
        attempts[label] = "allowed"
    except PermissionError:
        attempts[label] = "PermissionError"
    except urllib.error.HTTPError as error:
        attempts[label] = f"HTTP {{error.code}}"
bob = {json.dumps(bob_home)}
attempt("read bob's notebook", lambda: open(bob + "/workspace/01-live-handshake.ipynb").read())
attempt("read bob's file", lambda: open(bob + "/workspace/secret.txt").read())
attempt("list bob's home", lambda: os.listdir(bob))
attempt("write into bob's workspace", lambda: open(bob + "/workspace/from-alice.txt", "w").write("x"))
attempt("read the hub's database", lambda: open({json.dumps(str(hub.state / "jupyterhub.sqlite"))}, "rb").read())
attempt("list the hub's state", lambda: os.listdir({json.dumps(str(hub.state))}))
attempt("read bob's server environment", lambda: open("/proc/{bob_pid}/environ", "rb").read())
token = os.environ["JUPYTERHUB_API_TOKEN"]
def get(url):
    request = urllib.request.Request(url, headers={{"Authorization": "token " + token}})
    urllib.request.urlopen(request, timeout=30).read()
attempt("bob's server, straight to its port", lambda: get("http://127.0.0.1:{ports[bob.name]}/user/{bob.name}/api/contents"))
attempt("bob's server, through the proxy", lambda: get("{hub.url}/user/{bob.name}/api/contents"))
attempt("bob's model on the hub", lambda: get("{hub.url}/hub/api/users/{bob.name}"))
attempt("own server (the control)", lambda: get("http://127.0.0.1:{ports[alice.name]}/user/{alice.name}/api/contents"))
print(json.dumps(attempts))
"""
    attempts = json.loads(alice.run(probe).strip().splitlines()[-1])
    write_artifact("hub-isolation.json", attempts)
    control = attempts.pop("own server (the control)")
    assert control == "allowed", "the kernel's own token must reach its own server, or the probe proves nothing"
    assert all(result in ("PermissionError", "HTTP 403", "HTTP 404") for result in attempts.values()), attempts
    assert not os.path.exists(os.path.join(bob_home, "workspace", "from-alice.txt"))
    # The same through the hub with alice's own token (what her browser could do).
    for url in (f"{hub.url}/user/{bob.name}/api/contents/secret.txt", f"{hub.url}/hub/api/users/{bob.name}"):
        assert alice.client.get(url, headers=alice.auth, follow_redirects=False).status_code in (403, 404), url


def test_a_room_of_simulated_participants(hub):
    """PARTICIPANTS arrive over ARRIVAL seconds; each logs in, gets a server, runs every cell of 01 and the first
    exercise of 02 over the kernel's websocket, with no error. The figures go to artifacts/hub-load.json
    (make bench-hub reports them at 30 participants)."""
    figures = asyncio.run(simulate.room(hub.url, hub.code, PARTICIPANTS, ARRIVAL, name_stem="sim",
                                        hub_pids=hub.pids()))
    write_artifact("hub-load.json", figures)
    write_artifact("hub-load.md", simulate.markdown(figures, f"make test-hub (HUB_TEST_PARTICIPANTS={PARTICIPANTS})")
                   + "\n")
    print(simulate.markdown(figures, "make test-hub"))
    assert figures["failures"] == 0, figures["errors"]
    cells = {r["cells_run"] for r in figures["per_participant"]}
    assert len(cells) == 1 and cells.pop() >= 10  # every cell of 01 and the exercise of 02, for everyone
    assert figures["participant_rss_after_mb"]["median"] > figures["participant_rss_ready_mb"]["median"] > 20


def _hubctl(hub, *args) -> subprocess.CompletedProcess:
    env = dict(os.environ, GNUTLS_LAB_HUB_STATE=str(hub.state), GNUTLS_LAB_HUB_USERS=hub.users)
    return subprocess.run([sys.executable, str(HUB / "hubctl.py"), "--prefix", str(hub.install), "--url", hub.url,
                           *args], capture_output=True, text=True, timeout=600, env=env)


def test_the_facilitator_starts_every_server_before_the_room_arrives(hub, people):
    started = _hubctl(hub, "--json", "start", "p01-p03")
    assert started.returncode == 0, started.stderr
    result = json.loads(started.stdout)
    assert (result["servers"], result["ready"], result["failed"]) == (3, 3, 0)
    write_artifact("hub-prestart.json", result)
    status = _hubctl(hub, "status")
    assert all(f"glhubt-p0{i}" in status.stdout for i in (1, 2, 3)) and "ready" in status.stdout
    # The participant then claims the name with the code, and finds the server running.
    before = time.monotonic()
    person = people("p02")
    assert person.logged_in and person.name == "glhubt-p02"
    person.server(timeout=5)
    assert time.monotonic() - before < 60


def test_the_facilitator_has_the_admin_view_and_restarts_a_participants_server(hub, people):
    participant = people("dan")
    participant.server()
    first = participant.client.get(f"/hub/api/users/{participant.name}", headers=participant.auth).json()
    assert not Person(hub, "facilitator", "not-the-password").logged_in
    facilitator = Person(hub, "facilitator", hub.secret("admin-password"))
    try:
        assert facilitator.logged_in and facilitator.name == "glhubt-facilitator"
        admin = facilitator.client.get("/hub/admin")
        assert admin.status_code == 200 and "/hub/admin" in str(admin.url)
        assert participant.client.get("/hub/admin").status_code == 403  # a participant has no admin view
        users = facilitator.client.get("/hub/api/users", headers=facilitator.auth).json()
        assert participant.name in {u["name"] for u in users}
    finally:
        facilitator.close()
    restarted = _hubctl(hub, "restart", "dan")
    assert restarted.returncode == 0, restarted.stderr
    second = participant.client.get(f"/hub/api/users/{participant.name}", headers=participant.auth).json()
    assert second["servers"][""]["ready"] and second["servers"][""]["started"] != first["servers"][""]["started"]


def test_the_solutions_are_handed_out_read_only_and_run(hub, people):
    person = people("eve")
    home = pwd.getpwnam(person.name).pw_dir
    person.server()
    assert not os.path.lexists(os.path.join(home, "workspace", "solutions"))
    solutions = hub.install / "share" / "notebooks" / "solutions"
    try:
        handed = _hubctl(hub, "solutions")
        assert handed.returncode == 0 and "linked into" in handed.stdout, handed.stderr
        assert os.path.islink(os.path.join(home, "workspace", "solutions"))
        printed = person.run("import subprocess, sys\nran = subprocess.run([sys.executable,"
                             " 'solutions/03_resumption_mechanisms.py'], capture_output=True, text=True)\n"
                             "print(ran.returncode, ran.stdout.count('✓'), ran.stderr[-300:])")
        assert printed.split()[0] == "0" and int(printed.split()[1]) > 0, printed
        refused = person.run("try:\n    open('solutions/02_session_data.py', 'a')\nexcept PermissionError:\n"
                             "    print('read-only')")
        assert refused.strip() == "read-only"
    finally:
        subprocess.run(["rm", "-rf", str(solutions)], check=True)


def test_idle_servers_are_culled_and_the_work_is_kept(install):
    """A short idle time (45 s, activity reported every 10 s): the participant's processes end, their memory
    comes back, their files stay, and the next login starts a new server on them."""
    with throwaway.ThrowawayHub(install, idle=45, activity=10) as hub:
        person = Person(hub, "fay", "faypassword", hub.code)
        try:
            uid = pwd.getpwnam(person.name).pw_uid
            person.run("import matplotlib.pyplot, gnutls_lab\nlab = gnutls_lab.Lab('1.3'); lab.connect()\n"
                       "open('my-work.txt', 'w').write('kept')")
            running = simulate.account_usage({uid})[uid][0]
            assert running > 100, f"the participant's server and kernel use {running} MB"
            deadline = time.monotonic() + 240
            while throwaway.processes_of({uid}):
                assert time.monotonic() < deadline, "the idle server was not culled in 240 s"
                time.sleep(2)
            culled_after = round(240 - (deadline - time.monotonic()))
            assert simulate.account_usage({uid})[uid][0] == 0
            home = pwd.getpwnam(person.name).pw_dir
            assert open(os.path.join(home, "workspace", "my-work.txt")).read() == "kept"
            assert "Culling server" in hub.log.read_text() or "culling" in hub.log.read_text().lower()
            write_artifact("hub-culling.json", {"idle_timeout_s": 45, "rss_before_mb": running,
                                                "culled_within_s": culled_after, "rss_after_mb": 0})
            again = Person(hub, "fay", "faypassword")
            try:
                assert again.run("print(open('my-work.txt').read())").strip() == "kept"
            finally:
                again.close()
        finally:
            person.close()


def test_names_and_sweep_use_the_tests_own_prefix(hub):
    """Every account the tests make is glhubt-...; the sweep that runs before and after each hub removes them."""
    assert hub.users == throwaway.TEST_USERS == "glhubt-"
    probe = f"glhubt-probe{uuid.uuid4().hex[:6]}"
    subprocess.run(["useradd", "--create-home", probe], check=True)
    assert probe in throwaway.sweep("glhubt-probe")  # the hub's own participants stay (they are swept at its end)
    with pytest.raises(KeyError):
        pwd.getpwnam(probe)
    assert not os.path.exists(f"/home/{probe}")
    with httpx.Client() as client:
        assert client.get(f"{hub.url}/hub/api/").status_code == 200
