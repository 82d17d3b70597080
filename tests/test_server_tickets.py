"""The lab server's tickets: forged ones do not kill it, how many it sends and when.

Forged tickets (issue 20, 1.2): with the server's ticket key anyone can change the state inside a real
ticket, encrypt and MAC it again, and offer it; libgnutls's unpacker then kills the server's process on
some states (``findings/forged-ticket-crash/``). The server runs here as its own process
(``python -m gnutls_lab serve --tls 1.2 --ticket-key K``); the test fails if it dies. The forging uses
only the key file the server wrote and the lab's ticket decoder.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from gnutls_lab import Lab
from gnutls_lab.analysis import decode
from gnutls_lab.errors import GnuTLSLabError
from gnutls_lab.network import connect
from gnutls_lab.network import LabServer
from test_server import ServeProcess, serve  # noqa: F401  (serve: the fixture that starts and stops them)

pytestmark = [pytest.mark.peers, pytest.mark.timeout(300)]


def forge(opened, state: bytes) -> bytes:
    """A ticket carrying ``state`` in place of the opened one's, encrypted and MACed with its period key."""
    key = opened.key
    plain = state + b"\0" * (-len(state) % 16)  # GnuTLS pads with zeros to the AES block
    iv = os.urandom(16)
    encryptor = Cipher(algorithms.AES(key.aes_key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(plain) + encryptor.finalize()
    body = key.key_name + iv + len(ciphertext).to_bytes(2, "big") + ciphertext
    return body + hmac.new(key.mac_key, body, hashlib.sha1).digest()


def with_field(state: bytes, ranges: dict, path: str, value: int) -> bytes:
    start, end = ranges[path]
    return state[:start] + value.to_bytes(end - start, "big") + state[end:]


def _by_index(lines: list[str]) -> list[dict]:
    """``--json`` lines in connection order (they are printed as connections end)."""
    return sorted((json.loads(line) for line in lines), key=lambda record: record["index"])


def offer(port: int, tls: str, blob: bytes) -> str:
    """Resume with ``blob`` against the server; what happened, in a word or an error."""
    try:
        with connect("127.0.0.1", port, tls, resume=blob, timeout=10) as conn:
            return "resumed" if conn.resumed else "full"
    except GnuTLSLabError as exc:
        return f"error: {exc}"


@pytest.fixture
def forged_server(tmp_path):
    """``serve`` with a ticket key file, and what a client needs to forge its tickets."""
    started = []

    def start(tls: str):
        key_file = tmp_path / f"key-{tls}"
        server = ServeProcess(tmp_path, "--tls", tls, "--ticket-key", str(key_file), "--json")
        started.append(server)
        with connect("127.0.0.1", server.port, tls) as conn:
            data = conn.session_data
        session = decode(data)
        opened = session.decrypt_ticket(key_file.read_bytes())
        ticket_path = "tls13.ticket" if tls == "1.3" else "extensions[0].ticket"
        assert ticket_path in session.ranges
        return server, session, opened, ticket_path

    yield start
    for server in started:
        server.stop()


NAMED = [("auth_info.ncerts", 1), ("auth_info.nocsp", 0xFFFFFFFF), ("extensions[0].gid", 0xFFFFFFFF)]


def test_forged_tls12_tickets_are_refused_and_the_server_lives(forged_server):
    server, session, opened, ticket_path = forged_server("1.2")
    state = decode(opened.state)
    for path, value in NAMED:  # each kills a plain GnuTLS server (findings/forged-ticket-crash)
        forged = forge(opened, with_field(opened.state, state.ranges, path, value))
        outcome = offer(server.port, "1.2", session.rebuilt({ticket_path: forged}))
        assert outcome.startswith("error"), f"{path}={value:#x}: {outcome}"
        assert server.process.poll() is None, f"the server died on {path}={value:#x}: {server.err_path.read_text()}"
    # The same state re-encrypted unchanged (the forging itself is right) resumes, then the original does.
    assert offer(server.port, "1.2", session.rebuilt({ticket_path: forge(opened, opened.state)})) == "resumed"
    assert offer(server.port, "1.2", session.data) == "resumed"
    records = _by_index(server.wait_for_lines(1 + len(NAMED) + 2))
    refused = records[1:1 + len(NAMED)]
    assert all(r["error"].startswith("refused before libgnutls: a forged TLS 1.2 session ticket") for r in refused)
    assert "auth_info" in refused[0]["error"] and "nocsp" in refused[1]["error"]
    assert "unknown extension id 4294967295" in refused[2]["error"]
    assert [r["resumed"] for r in records[-2:]] == [True, True]
    assert all(r["identity_issued"] for r in records[-2:])


def test_random_field_changes_of_a_tls12_ticket_never_kill_the_server(forged_server):
    # Random u32 fields of the state set to random values (the hostile run's kind of mutation: 23 of
    # its 200 killed the server), then single bit flips.
    server, session, opened, ticket_path = forged_server("1.2")
    rng = random.Random(20)
    state, outcomes = opened.state, []
    words = [(start, end) for path, (start, end) in decode(state).ranges.items() if end - start == 4]
    for _ in range(100):
        start, end = rng.choice(words)
        changed = state[:start] + rng.choice([1, 2, 0xFF, 0xFFFF, 0xFFFFFFFF, rng.getrandbits(32)]).to_bytes(4, "big") + state[end:]
        outcomes.append(offer(server.port, "1.2", session.rebuilt({ticket_path: forge(opened, changed)})))
        assert server.process.poll() is None, f"the server died: {server.err_path.read_text()}"
    for _ in range(100):
        flipped = bytearray(state)
        flipped[rng.randrange(len(state))] ^= 1 << rng.randrange(8)
        outcomes.append(offer(server.port, "1.2", session.rebuilt({ticket_path: forge(opened, bytes(flipped))})))
        assert server.process.poll() is None, f"the server died: {server.err_path.read_text()}"
    assert sum(o.startswith("error") for o in outcomes) > 0  # some were refused: the guard was exercised
    assert offer(server.port, "1.2", session.data) == "resumed"


def test_forged_tls13_ticket_states_are_checked_too(forged_server):
    server, session, opened, ticket_path = forged_server("1.3")
    nested = decode(opened.state)
    start, end = nested.ranges["auth_type"]
    bad_auth = opened.state[:start] + b"\x05" + opened.state[end:]  # GNUTLS_CRD_IA: no session has it
    plaintext = opened.plaintext.replace(opened.state, bad_auth)
    outcome = offer(server.port, "1.3", session.rebuilt({ticket_path: forge(opened, plaintext)}))
    assert outcome.startswith("error"), outcome
    assert offer(server.port, "1.3", session.data) == "resumed"
    records = _by_index(server.wait_for_lines(3))
    assert "TLS 1.3 PSK identity" in records[1]["error"] and "auth type" in records[1]["error"]
    assert server.process.poll() is None


def test_a_ticket_another_key_issued_goes_to_libgnutls_and_is_named_so():
    other = Lab("1.2")
    with other.connect() as conn:
        foreign = conn.session_data
    with LabServer(0, "1.2") as server:
        import threading

        worker = threading.Thread(target=server.serve_forever, kwargs={"max_connections": 1}, daemon=True)
        worker.start()
        assert offer(server.port, "1.2", foreign) == "full"
        worker.join(20)
    record = server.served[0]
    assert record.identity_kind == "session_ticket" and record.identity_issued is False
    assert "not issued by this server" in record.log_line() and not record.error


# --- when the tickets go out (how many: tests/test_bounds.py) ----------------------------------------------------------------------


def _names(messages) -> list[str]:
    return [f"{m['sender']}:{m['type']}" for m in messages]


@pytest.mark.parametrize("timing", ["with-finished", "after-handshake"])
def test_ticket_timing_puts_the_tickets_where_the_wire_has_them(timing):
    import threading

    with LabServer(0, "1.3", ticket_timing=timing, extra_tickets=1) as server:
        worker = threading.Thread(target=server.serve_forever, kwargs={"max_connections": 1}, daemon=True)
        worker.start()
        with connect("127.0.0.1", server.port, "1.3") as conn:
            data = conn.client.get_data()  # right after the handshake, as gnutls-cli --resume does
        worker.join(20)
    record = server.served[0]
    names = _names(record.messages)
    client_finished = names.index("client:FINISHED")
    tickets = [i for i, name in enumerate(names) if name == "server:NEW SESSION TICKET"]
    assert len(tickets) == record.tickets_sent == 3
    assert not data.dummy  # a blocking client's get_data2 waits for the ticket in both cases
    if timing == "with-finished":  # libgnutls's default: two in the server's first flight
        assert tickets[:2] == [names.index("server:FINISHED") + 1, names.index("server:FINISHED") + 2]
        assert tickets[2] > client_finished
    else:  # as OpenSSL servers and gnutls-serv: all after the client's Finished
        assert min(tickets) > client_finished


def test_serve_cli_takes_the_ticket_timing(serve):
    server = serve("--json", "--ticket-timing", "after-handshake", "--max-connections", "1")
    with connect("127.0.0.1", server.port, "1.3") as conn:
        assert not conn.session_data.dummy
    record = json.loads(server.wait_for_lines(1)[0])
    names = _names(record["messages"])
    assert names.index("client:FINISHED") < names.index("server:NEW SESSION TICKET")
    assert server.wait() == 0


def test_handshake_command_orders_new_session_tickets_as_on_the_wire():
    result = subprocess.run([sys.executable, "-m", "gnutls_lab", "handshake", "--tls", "1.3", "--json"],
                            capture_output=True, text=True, timeout=60)
    names = _names(json.loads(result.stdout)["connections"][0]["messages"])
    # The server sent both tickets with its Finished, before the client's Finished was on the wire.
    assert names[-3:] == ["server:NEW SESSION TICKET", "server:NEW SESSION TICKET", "client:FINISHED"]


@pytest.mark.parametrize("kind, extra, after", [
    ("gnutls-serv", (), True),  # it asks for a client certificate: libgnutls holds the tickets back
    ("gnutls-serv", ("--disable-client-cert",), False),  # libgnutls's default: with its Finished
    ("openssl", (), True),  # OpenSSL always sends them after the client's Finished
])
def test_where_real_servers_put_their_tls13_tickets(kind, extra, after, tmp_path):
    # What --ticket-timing imitates, read from the servers' own message logs.
    import re

    from gnutls_lab.network import ExternalServer
    from gnutls_lab.sessions import LabCertificate

    cert, key = LabCertificate().write_files(str(tmp_path))
    debug = ("-d", "4") if kind == "gnutls-serv" else ("-msg",)
    server = ExternalServer(kind, cert, key, "1.3", extra_args=(*extra, *debug))
    plain = server.command
    server.command = lambda port: [arg for arg in plain(port) if arg != "-a"]  # -a: --disable-client-cert
    with server:
        with connect("127.0.0.1", server.port, "1.3") as conn:
            assert not conn.session_data.dummy
        output = server.output
    if kind == "gnutls-serv":
        last = output[output.rindex("CLIENT HELLO (1) was received"):]
        events = re.findall(r"(FINISHED was queued|FINISHED \(20\) was received|NEW SESSION TICKET was queued)", last)
        events = ["server Finished" if e.startswith("FINISHED was") else "client Finished" if "received" in e
                  else "ticket" for e in events]
    else:
        events = re.findall(r"^(>>>|<<<) .*?(Finished|NewSessionTicket)\s*$", output, re.M)
        events = ["ticket" if what == "NewSessionTicket" else "server Finished" if way == ">>>" else "client Finished"
                  for way, what in events]
    assert events.count("ticket") == 2 and events[0] == "server Finished", events
    client_finished = events.index("client Finished")
    assert all((i > client_finished) == after for i, e in enumerate(events) if e == "ticket"), events
