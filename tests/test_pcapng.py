"""The pcapng export (gnutls_lab/sessions/_pcapng.py), checked by Wireshark's own dissector.

Every file is read back by Debian's ``tshark``: it must open without a malformed packet or an expert
error, decrypt TLS with the secrets embedded in the file (Decryption Secrets Block), carry one clean
TCP stream per connection whose payload is the wire tap byte for byte, and, for every visit of
50-visit experiments, show the values the lab's observer reports, field by field.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys

import pytest

import gnutls_lab
from gnutls_lab import Lab, UsageError, run_experiment
from gnutls_lab.sessions._pcapng import FIRST_CLIENT_PORT, SERVER_PORT, TlsCapture, write_pcapng

TSHARK = shutil.which("tshark")
if TSHARK is None:  # a missing tool is a set-up error here, never a skip
    raise RuntimeError("tests/test_pcapng.py needs Debian's tshark: apt-get install tshark "
                       "(scripts/system-packages.sh test installs it)")

NOT_CLEAN = "_ws.malformed || _ws.expert.severity == error"


def tshark(*args: str) -> str:
    run = subprocess.run([TSHARK, "-n", *args], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return run.stdout


def frames(path, display_filter: str = "") -> list:
    """One JSON object per packet: the TLS layer (duplicate keys merged into lists) and TCP fields."""
    args = ["-r", str(path), "-T", "json", "--no-duplicate-keys", "-J", "tls tcp"]
    if display_filter:
        args += ["-Y", display_filter]
    return [p["_source"]["layers"] for p in json.loads(tshark(*args) or "[]")]


def listed(node) -> list:
    return node if isinstance(node, list) else [node]


def values(node, field: str) -> list:
    """Every value of ``field`` anywhere under ``node``, in document order."""
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == field:
                out += listed(value)
            else:
                out += values(value, field)
    elif isinstance(node, list):
        for item in node:
            out += values(item, field)
    return out


def field_values(path, display_filter: str, *fields: str) -> list:
    """``-T fields`` rows: one list of strings per packet."""
    args = ["-r", str(path), "-Y", display_filter, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a"]
    for field in fields:
        args += ["-e", field]
    return [line.split("\t") for line in tshark(*args).splitlines()]


def assert_clean(path) -> None:
    assert tshark("-r", str(path), "-Y", NOT_CLEAN) == "", f"tshark finds malformed packets or errors in {path}"
    assert "Errors" not in tshark("-r", str(path), "-q", "-z", "expert,error")
    assert tshark("-r", str(path), "-Y", "tcp.analysis.flags") == "", "TCP sequence/ack problems"


def handshake_types(path) -> set:
    return {int(t) for row in field_values(path, "tls.handshake.type", "tls.handshake.type")
            for t in row[0].split(",") if t}


def two_connections(tls: str):
    lab = Lab(tls, keylog=True)
    full = lab.connect()
    resumed = lab.connect(resume=full.session_data)
    assert resumed.resumed
    return full, resumed


# --- Wireshark opens and decrypts each file ------------------------------------------------------------


@pytest.mark.parametrize("tls", ["1.3", "1.2"])
@pytest.mark.parametrize("kind", ["full", "resumed"])
def test_wireshark_reads_and_decrypts_each_handshake(tmp_path, tls, kind):
    full, resumed = two_connections(tls)
    conn = full if kind == "full" else resumed
    path = tmp_path / f"{tls}-{kind}.pcapng"
    written = conn.to_pcapng(path)
    assert written["connections"] == 1 and written["keylog_lines"] >= 1
    assert_clean(path)
    types = handshake_types(path)
    if tls == "1.3":
        # EncryptedExtensions (8) and both Finished (20) exist only decrypted; Certificate (11) only in full
        assert {1, 2, 8, 20} <= types
        assert (11 in types) == (kind == "full")
        selected = field_values(path, "tls.handshake.type == 2", "tls.handshake.extensions.psk.identity.selected")
        assert (selected[0][0] == "0") == (kind == "resumed")
    else:
        assert 20 in types  # the Finished messages follow ChangeCipherSpec: encrypted on the wire
        assert (11 in types) == (kind == "full")
    # The same packets without the Decryption Secrets Block: nothing encrypted can be read.
    bare = tmp_path / "no-secrets.pcapng"
    capture = conn.capture()
    write_pcapng([capture._replace(keylog=())], bare)
    assert_clean(bare)
    hidden = {8, 11, 20} if tls == "1.3" else {20}
    assert not handshake_types(bare) & hidden
    full.close()
    resumed.close()


def test_the_checks_catch_a_malformed_message(tmp_path):
    """The clean-file check can fail: a ServerHello with an extension block longer than the message."""
    body = b"\x03\x03" + bytes(32) + b"\x00" + b"\x13\x01" + b"\x00" + b"\x00\x30\x00\x2b\x00\x02"
    message = b"\x02" + len(body).to_bytes(3, "big") + body
    path = tmp_path / "bad.pcapng"
    write_pcapng([TlsCapture((("server", b"\x16\x03\x03" + len(message).to_bytes(2, "big") + message),), (), 0.0)],
                 path)
    assert tshark("-r", str(path), "-Y", NOT_CLEAN) != ""


# --- TCP framing ------------------------------------------------------------------------------------------


def test_one_clean_tcp_stream_per_connection_carrying_the_wire_tap(tmp_path):
    lab = Lab("1.3", keylog=True)
    first = lab.connect()
    conns = [first, lab.connect(resume=first.session_data), Lab("1.2").connect()]
    path = tmp_path / "three.pcapng"
    assert gnutls_lab.write_pcapng(conns, path)["connections"] == 3
    assert_clean(path)
    rows = field_values(path, "tcp", "tcp.stream", "tcp.srcport", "tcp.dstport", "tcp.flags.str", "tcp.len",
                        "frame.time_epoch")
    streams = sorted({int(r[0]) for r in rows})
    assert streams == [0, 1, 2]
    for stream, conn in zip(streams, conns):
        mine = [r for r in rows if int(r[0]) == stream]
        client_port = FIRST_CLIENT_PORT + stream
        assert {(int(r[1]), int(r[2])) for r in mine} == {(client_port, SERVER_PORT), (SERVER_PORT, client_port)}
        flags = [r[3].replace("·", "") for r in mine]
        assert flags[:3] == ["S", "AS", "A"]  # three-way handshake
        assert flags[-3:] == ["AF", "AF", "A"]  # FIN from each side, last one acknowledged
        assert sum(int(r[4]) for r in mine) == sum(len(c.data) for c in conn.wire)
        # starts when the connection was made, or just after the previous stream (never backwards)
        previous_end = float(rows[rows.index(mine[0]) - 1][5]) if stream else 0.0
        assert float(mine[0][5]) == pytest.approx(max(conn.started_at, previous_end + 0.0001), abs=1e-6)
        # The stream's payload, per direction, is the wire tap byte for byte.
        follow = tshark("-r", str(path), "-q", "-z", f"follow,tcp,raw,{stream}")
        sent = {"client": b"", "server": b""}
        for chunk in conn.wire:
            sent[chunk.sender] += chunk.data
        followed = {"client": "", "server": ""}
        for line in follow.splitlines():
            if line and not line.startswith(("=", "Follow:", "Filter:", "Node ")):
                followed["server" if line.startswith("\t") else "client"] += line.strip()
        assert bytes.fromhex(followed["client"]) == sent["client"]
        assert bytes.fromhex(followed["server"]) == sent["server"]
    times = [float(r[5]) for r in rows]
    assert times == sorted(times)  # never backwards in the file
    for conn in conns:
        conn.close()


# --- the observer checked by Wireshark --------------------------------------------------------------------


def hexbytes(value: str) -> bytes:
    return bytes.fromhex(value.replace(":", ""))


def number(value: str) -> int:
    return int(value, 0)


def tshark_view(path) -> dict:
    """Per TCP stream, what Wireshark shows in clear: records and the hello / ticket fields, in order."""
    view: dict = {}
    for packet in frames(path, "tls"):
        stream = int(values(packet["tcp"], "tcp.stream")[0])
        sender = "server" if int(values(packet["tcp"], "tcp.srcport")[0]) == SERVER_PORT else "client"
        seen = view.setdefault(stream, {"records": [], "types": [], "client_hellos": [], "server_hellos": [],
                                        "tickets": [], "ccs": set()})
        for tls in listed(packet["tls"]):
            for record in listed(tls.get("tls.record", [])):
                opaque = record.get("tls.record.opaque_type")
                outer = number(opaque if opaque is not None else listed(record["tls.record.content_type"])[0])
                seen["records"].append((sender, outer, number(record["tls.record.version"]),
                                        number(record["tls.record.length"])))
                in_clear = opaque is None and sender not in seen["ccs"]
                if outer == 20:
                    seen["ccs"].add(sender)
                if not in_clear or outer != 22:
                    continue
                for message in listed(record.get("tls.handshake", [])):
                    kind = number(message["tls.handshake.type"])
                    seen["types"].append((sender, kind))
                    if kind in (1, 2, 4):
                        seen[{1: "client_hellos", 2: "server_hellos", 4: "tickets"}[kind]].append(message)
    return view


def one(message, field: str):
    found = values(message, field)
    assert len(found) <= 1, (field, found)
    return found[0] if found else None


def compare_visit(observed, seen) -> int:
    """Assert that every field the observer reports equals Wireshark's; return how many were compared."""
    compared = 0

    def same(ours, theirs, what):
        nonlocal compared
        assert ours == theirs, f"{what}: observer {ours!r}, tshark {theirs!r}"
        compared += 1

    same([(r.sender, r.content_type, r.version, r.length) for r in observed.records], seen["records"],
         "tls.record.content_type/opaque_type, version, length")
    same(list(observed.handshake_types), seen["types"], "tls.handshake.type in clear")
    same(len(observed.client_hellos), len(seen["client_hellos"]), "ClientHello count")
    for ours, theirs in zip(observed.client_hellos, seen["client_hellos"]):
        same(ours.random, hexbytes(one(theirs, "tls.handshake.random")), "tls.handshake.random")
        same(ours.session_id, hexbytes(one(theirs, "tls.handshake.session_id") or ""), "tls.handshake.session_id")
        same(ours.server_name, one(theirs, "tls.handshake.extensions_server_name"),
             "tls.handshake.extensions_server_name")
        same(list(ours.ciphersuites), [number(v) for v in values(theirs, "tls.handshake.ciphersuite")],
             "tls.handshake.ciphersuite")
        same(list(ours.extension_types), [number(v) for v in values(theirs, "tls.handshake.extension.type")],
             "tls.handshake.extension.type")
        same([p.identity for p in ours.psk_identities],
             [hexbytes(v) for v in values(theirs, "tls.handshake.extensions.psk.identity.identity")],
             "tls.handshake.extensions.psk.identity.identity")
        same([p.obfuscated_ticket_age for p in ours.psk_identities],
             [number(v) for v in values(theirs, "tls.handshake.extensions.psk.identity.obfuscated_ticket_age")],
             "tls.handshake.extensions.psk.identity.obfuscated_ticket_age")
        same(list(ours.psk_ke_modes), [number(v) for v in values(theirs, "tls.extension.psk_ke_mode")],
             "tls.extension.psk_ke_mode")
        same(list(ours.supported_versions),
             [number(v) for v in values(theirs, "tls.handshake.extensions.supported_version")],
             "tls.handshake.extensions.supported_version")
        ticket_extension = None
        for name, extension in theirs.items():
            for ext in listed(extension):
                if isinstance(ext, dict) and ext.get("tls.handshake.extension.type") == "35":
                    # Wireshark 4.4 (Debian 13) has a field of its own; 4.0 (Debian 12) shows the raw data
                    data = one(ext, "tls.handshake.extensions.session_ticket") or one(ext, "tls.handshake.extension.data")
                    ticket_extension = hexbytes(data or "")
        same(ours.session_ticket, ticket_extension, "session_ticket extension data")
    same(len(observed.server_hellos), len(seen["server_hellos"]), "ServerHello count")
    for ours, theirs in zip(observed.server_hellos, seen["server_hellos"]):
        same(ours.random, hexbytes(one(theirs, "tls.handshake.random")), "tls.handshake.random")
        same(ours.session_id, hexbytes(one(theirs, "tls.handshake.session_id") or ""), "tls.handshake.session_id")
        same(ours.ciphersuite, number(one(theirs, "tls.handshake.ciphersuite")), "tls.handshake.ciphersuite")
        version = one(theirs, "tls.handshake.extensions.supported_version") or one(theirs, "tls.handshake.version")
        same(ours.selected_version, number(version), "tls.handshake.extensions.supported_version")
        selected = one(theirs, "tls.handshake.extensions.psk.identity.selected")
        same(ours.psk_selected_identity, None if selected is None else number(selected),
             "tls.handshake.extensions.psk.identity.selected")
        same(list(ours.extension_types), [number(v) for v in values(theirs, "tls.handshake.extension.type")],
             "tls.handshake.extension.type")
    same(len(observed.new_session_tickets), len(seen["tickets"]), "NewSessionTicket in clear count")
    for ours, theirs in zip(observed.new_session_tickets, seen["tickets"]):
        same(ours.lifetime_hint, number(one(theirs, "tls.handshake.session_ticket_lifetime_hint")),
             "tls.handshake.session_ticket_lifetime_hint")
        same(ours.ticket, hexbytes(one(theirs, "tls.handshake.session_ticket")), "tls.handshake.session_ticket")
    return compared


@pytest.mark.parametrize("mechanism", ["tls13-psk", "tls12-ticket", "tls12-session-id"])
def test_observer_agrees_with_wireshark_on_every_visit(tmp_path, mechanism):
    result = run_experiment(mechanism=mechanism, visits=50, max_reuse=2, gap=600, seed=3, keep_wire=True,
                            progress=False)
    assert len(result.captures) == 50
    path = tmp_path / f"{mechanism}.pcapng"
    written = result.to_pcapng(path)
    assert written["connections"] == 50
    assert_clean(path)
    view = tshark_view(path)
    assert sorted(view) == list(range(50))
    compared = sum(compare_visit(observed, view[visit]) for visit, observed in enumerate(result.observed))
    assert compared >= 50 * 10
    # The field names the observer shows are Wireshark's own.
    listing = subprocess.run([TSHARK, "-G", "fields"], capture_output=True, text=True, timeout=120, check=True)
    known = {line.split("\t")[2] for line in listing.stdout.splitlines() if line.startswith("F\t")}
    shown = {row[2] for seen in result.observed for row in seen.fields() if row[2].startswith("tls.")}
    assert len(shown) >= 5
    assert shown <= known, shown - known  # the session_ticket extension too: 4.0 and 4.4 name it differently
    records = result.records()
    assert any(r["resumed"] for r in records) and any(not r["resumed"] for r in records)
    # Wireshark's own verdict on resumption agrees with the library's on every visit.
    for visit, record in enumerate(records):
        seen = view[visit]
        server_types = {t for s, t in seen["types"] if s == "server"}
        if mechanism == "tls13-psk":
            resumed = "tls.handshake.extensions.psk.identity.selected" in json.dumps(seen["server_hellos"])
        else:
            resumed = 11 not in server_types
        assert resumed == record["resumed"] == record["observer_resumed"], visit
    # Times come from the fake clock: the first packet of each visit at its fake time.
    starts = field_values(path, "tcp.flags.syn == 1 && tcp.flags.ack == 0", "tcp.stream", "frame.time_epoch")
    for stream, epoch in starts:
        assert float(epoch) == pytest.approx(result.clock_start + records[int(stream)]["time_s"], abs=1e-3)


# --- secrets: the key log, permissions, refusals ----------------------------------------------------------


def test_keylog_beside_the_file_decrypts_on_its_own(tmp_path):
    full, resumed = two_connections("1.3")
    keys = tmp_path / "keys.log"
    written = gnutls_lab.write_pcapng([full, resumed], tmp_path / "both.pcapng", keylog_path=keys)
    lines = keys.read_text().splitlines()
    assert written["keylog_lines"] == len(lines) == len(full.keylog_lines()) + len(resumed.keylog_lines())
    client_random = full.client.randoms()[0].hex()
    assert f"CLIENT_HANDSHAKE_TRAFFIC_SECRET {client_random} " in "\n".join(lines)
    bare = tmp_path / "bare.pcapng"
    write_pcapng([c.capture()._replace(keylog=()) for c in (full, resumed)], bare)
    assert 11 not in handshake_types(bare)
    decrypted = tshark("-r", str(bare), "-o", f"tls.keylog_file:{keys}", "-Y", "tls.handshake.type == 11")
    assert decrypted.strip()
    full.close()
    resumed.close()


def test_files_are_private_whatever_the_umask(tmp_path):
    conn = Lab("1.3", keylog=True).connect()
    old = os.umask(0)
    try:
        conn.to_pcapng(tmp_path / "c.pcapng", keylog_path=tmp_path / "c.keys")
        (tmp_path / "existing.pcapng").write_bytes(b"old")
        os.chmod(tmp_path / "existing.pcapng", 0o644)
        conn.to_pcapng(tmp_path / "existing.pcapng")  # replaced, and private too
    finally:
        os.umask(old)
    for name in ("c.pcapng", "c.keys", "existing.pcapng"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600, name
    assert (tmp_path / "existing.pcapng").read_bytes()[:4] == b"\x0a\x0d\x0d\x0a"
    assert sorted(os.listdir(tmp_path)) == ["c.keys", "c.pcapng", "existing.pcapng"]  # no temporary left
    conn.close()


def test_never_writes_through_a_symlink(tmp_path):
    conn = Lab("1.3", keylog=True).connect()
    target = tmp_path / "victim"
    target.write_bytes(b"keep me")
    link = tmp_path / "link.pcapng"
    link.symlink_to(target)
    with pytest.raises(UsageError, match="symbolic link"):
        conn.to_pcapng(link)
    with pytest.raises(UsageError, match="symbolic link"):
        conn.to_pcapng(tmp_path / "ok.pcapng", keylog_path=link)
    assert target.read_bytes() == b"keep me" and link.is_symlink()
    assert not (tmp_path / "ok.pcapng").exists()  # refused before anything was written
    with pytest.raises(UsageError, match="directory"):
        conn.to_pcapng(tmp_path)
    conn.close()


def test_what_an_export_needs(tmp_path):
    with Lab("1.3").connect() as conn:  # no key log: TLS 1.3 could not be decrypted
        with pytest.raises(UsageError, match="keylog=True"):
            conn.to_pcapng(tmp_path / "x.pcapng")
    with Lab("1.3", keylog=True).connect(observe=False) as conn:
        with pytest.raises(UsageError, match="wire tap"):
            conn.to_pcapng(tmp_path / "x.pcapng")
    with pytest.raises(UsageError, match="keep_wire=True"):
        run_experiment(visits=2, progress=False).to_pcapng(tmp_path / "x.pcapng")
    with pytest.raises(UsageError, match="at least one"):
        write_pcapng([], tmp_path / "x.pcapng")
    assert not (tmp_path / "x.pcapng").exists()
    # TLS 1.2 needs no key log: the CLIENT_RANDOM line comes from the master secret, also on a
    # resumed handshake, for which libgnutls calls no key log function at all.
    lab = Lab("1.2", keylog=True)
    full = lab.connect()
    resumed = lab.connect(resume=full.session_data)
    assert [line.split()[0] for line in full.client.keylog_lines()] == ["CLIENT_RANDOM"]
    assert resumed.resumed and resumed.client.keylog_lines() == []
    assert resumed.keylog_lines()[0].startswith(f"CLIENT_RANDOM {resumed.client.randoms()[0].hex()} ")
    plain = Lab("1.2").connect()
    plain.to_pcapng(tmp_path / "plain12.pcapng")
    assert 20 in handshake_types(tmp_path / "plain12.pcapng")
    for conn in (full, resumed, plain):
        conn.close()


# --- the command line -------------------------------------------------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gnutls_lab", *args], capture_output=True, text=True, timeout=300)


def test_cli_handshake_pcap(tmp_path):
    path, keys = tmp_path / "hs.pcapng", tmp_path / "hs.keys"
    run = cli("handshake", "--tls", "1.3", "--resume", "2", "--pcap", str(path), "--keylog", str(keys), "--json")
    assert run.returncode == 0, run.stderr
    capture = json.loads(run.stdout)["capture"]
    assert capture["pcapng"] == str(path) and capture["connections"] == 3 and capture["holds_secrets"]
    assert stat.S_IMODE(os.stat(path).st_mode) == stat.S_IMODE(os.stat(keys).st_mode) == 0o600
    assert_clean(path)
    assert len(field_values(path, "tls.handshake.type == 11", "frame.number")) == 1  # only the full handshake
    text = cli("handshake", "--tls", "1.2", "--pcap", str(tmp_path / "t.pcapng"))
    assert text.returncode == 0 and "secrets embedded" in text.stderr
    refused = cli("handshake", "--pcap", str(tmp_path))
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "directory" in refused.stderr


def test_cli_experiment_pcap(tmp_path):
    path = tmp_path / "reuse.pcapng"
    run = cli("experiment", "reuse", "--visits", "6", "--max-reuse", "2", "--pcap", str(path), "--json")
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    assert document["capture"]["connections"] == 12 and len(document["results"]) == 2
    assert_clean(path)
    streams = {int(r[0]) for r in field_values(path, "tcp", "tcp.stream")}
    assert streams == set(range(12))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


# --- 0-RTT flights (issue 20, 4.7) ---------------------------------------------------------------------

EARLY = b"POST /transfer amount=100&to=mallory"


def decrypted_early_data(path) -> dict:
    """{tcp.stream: the application bytes tshark decrypted in that stream}."""
    found: dict = {}
    for stream, data in field_values(path, "tls.segment.data", "tcp.stream", "tls.segment.data"):
        found[int(stream)] = found.get(int(stream), b"") + bytes.fromhex(data.replace(",", ""))
    return found


def test_zero_rtt_lab_follows_the_labs_keylog(tmp_path):
    """Before: ZeroRttLab ignored Lab(keylog=True), and keylog_lines() asked for keylog=True."""
    from gnutls_lab.sessions._early_data import AntiReplay, ZeroRttLab

    zero = ZeroRttLab(Lab("1.3", keylog=True), anti_replay=AntiReplay())  # without one: no early data at all
    with zero.resume(zero.issue_ticket(), EARLY) as conn:
        assert conn.server.early_data == EARLY
        labels = [line.split()[0] for line in conn.keylog_lines()]
        assert "CLIENT_EARLY_TRAFFIC_SECRET" in labels
        path = tmp_path / "zero.pcapng"
        conn.to_pcapng(path)
    assert_clean(path)
    assert decrypted_early_data(path) == {0: EARLY}
    with ZeroRttLab(Lab("1.3")).resume(ZeroRttLab(Lab("1.3")).issue_ticket()) as plain:
        with pytest.raises(UsageError, match=r"ZeroRttLab\(\.\.\., keylog=True\)"):
            plain.keylog_lines()


def test_a_replayed_flight_goes_to_wireshark_and_its_early_data_decrypts(tmp_path):
    from gnutls_lab.analysis._replay import replay_case

    captures: list = []
    case = replay_case("replay at once", captures=captures)
    assert not case.replay_accepted and len(captures) == 2
    path = tmp_path / "replay.pcapng"
    write_pcapng(captures, path)
    assert_clean(path)
    # Both streams: the honest 0-RTT connection and the attacker's copy of its first flight.
    assert decrypted_early_data(path) == {0: EARLY, 1: EARLY}
    first_hello, replayed_hello = (row[0] for row in field_values(path, "tls.handshake.type == 1",
                                                                   "tls.handshake.random"))
    assert first_hello == replayed_hello  # the same ClientHello, so the same early-traffic key
    bare = tmp_path / "bare.pcapng"
    write_pcapng([c._replace(keylog=()) for c in captures], bare)
    assert decrypted_early_data(bare) == {}


def test_cli_experiment_replay_pcap(tmp_path):
    path, keys = tmp_path / "replay.pcapng", tmp_path / "replay.keys"
    run = cli("experiment", "replay", "--pcap", str(path), "--keylog", str(keys), "--json")
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    cases = len(document["cases"])
    assert document["capture"]["connections"] == 2 * cases and document["capture"]["holds_secrets"]
    assert stat.S_IMODE(os.stat(path).st_mode) == stat.S_IMODE(os.stat(keys).st_mode) == 0o600
    assert_clean(path)
    assert decrypted_early_data(path) == {stream: EARLY for stream in range(2 * cases)}
    assert "CLIENT_EARLY_TRAFFIC_SECRET" in keys.read_text()


# --- the observer names fields as the installed tshark does (issue 20, 4.6) --------------------------------


def test_the_session_ticket_field_is_the_one_the_installed_tshark_knows(tmp_path):
    """Debian 12's tshark (Wireshark 4.0) has no tls.handshake.extensions.session_ticket, which the observer
    printed; Debian 13's (4.4) has it. Run on both (the host and make test-3.8)."""
    from gnutls_lab.analysis._observer import observe_connection, session_ticket_extension_field

    own, generic = "tls.handshake.extensions.session_ticket", "tls.handshake.extension.data"
    assert session_ticket_extension_field({own, generic}) == own
    assert session_ticket_extension_field({generic}) == generic
    assert session_ticket_extension_field(set()) == own  # no tshark: the name a new Wireshark shows
    listing = subprocess.run([TSHARK, "-G", "fields"], capture_output=True, text=True, timeout=120, check=True)
    known = {line.split("\t")[2] for line in listing.stdout.splitlines() if line.startswith("F\t")}
    name = session_ticket_extension_field()
    assert name in known and name == (own if own in known else generic)

    lab = Lab("1.2", keylog=True)
    with lab.connect() as first, lab.connect(resume=first.session_data) as again:
        assert again.resumed
        observed = observe_connection(again.wire)
        path = tmp_path / "ticket.pcapng"
        again.to_pcapng(path)
    ticket = observed.client_hellos[0].session_ticket
    assert len(ticket) > 16
    rows = [row for row in observed.fields() if row[1] == "ClientHello" and row[2] in (own, generic)]
    assert [row[2] for row in rows] == [name]
    # tshark, asked for that very field of the ClientHello's extension 35, gives the ticket the observer saw.
    for packet in frames(path, "tls.handshake.type == 1"):
        extensions = [e for e in _extensions(packet) if e.get("tls.handshake.extension.type") == "35"]
        assert len(extensions) == 1 and hexbytes(one(extensions[0], name)) == ticket


def _extensions(node) -> list:
    """Every dict under ``node`` that is one hello extension (it has ``tls.handshake.extension.type``)."""
    found = []
    if isinstance(node, dict):
        if "tls.handshake.extension.type" in node:
            found.append(node)
        for value in node.values():
            found += _extensions(value)
    elif isinstance(node, list):
        for item in node:
            found += _extensions(item)
    return found
