"""The C pipe (``gnutls_lab/binding/_memio.c`` through ``binding/native.py``) against the Python pipe, with the real libgnutls.

``transport.py`` promises that the two in-memory pipes behave the same; these tests hold it to that.
Every comparison drives one :class:`~gnutls_lab.sessions._transport.NativeMemoryEndpoint` pair and one
:class:`~gnutls_lab.sessions._transport.MemoryEndpoint` pair identically and compares what Python can observe:
results, errors, transcripts, inboxes, pull-timeout waits and the wire tap's shape (senders and
lengths; the bytes differ by randomness). The labs use RSA certificates so that message lengths are
the same on every run (ECDSA signatures vary by a byte or two).

Crashes are checked in a fresh subprocess, as in ``test_concurrency.py``: a segfault is a failed test
naming the signal, not a dead pytest.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from gnutls_lab import ClientSession, GnuTLSError, Lab, ServerSession, UsageError, decode_session, pump
from gnutls_lab.binding import _native as _native
from gnutls_lab.sessions._transport import MemoryEndpoint, NativeMemoryEndpoint, memory_pair

PIPES = {"c": True, "python": False}  # the ``native`` argument of memory_pair for each pipe


@pytest.fixture(scope="module")
def rsa_labs():
    return {"1.3": Lab("1.3", certificate="rsa"), "1.2": Lab("1.2", certificate="rsa")}


@pytest.fixture
def python_pipe():
    """``Lab.connect`` over the Python pipe for one test (``set_enabled(False)``), then as before."""
    previous = _native.set_enabled(False)
    yield
    _native.set_enabled(previous)


def _sessions(lab, native: bool, *, wire: list | None = None, **server_kwargs):
    """A (client, server) pair of sessions over one pipe, the endpoints reachable as ``session._endpoint``."""
    client_end, server_end = memory_pair(wire, native=native)
    server = ServerSession(lab.server_credentials, lab.priority, endpoint=server_end, ticket_key=lab.ticket_key,
                           **server_kwargs)
    client = ClientSession(lab.client_credentials, lab.priority, endpoint=client_end)
    return client, server


def _shape(wire: list) -> list[tuple[str, int]]:
    return [(chunk.sender, len(chunk.data)) for chunk in wire]


def _names(transcript) -> list[tuple[str, str]]:
    return [(message.sender, message.name) for message in transcript]


# -- the C pipe is there ------------------------------------------------------------------------------

def test_the_c_pipe_is_built_and_used():
    """Test environments always have gcc (scripts/system-packages.sh): a missing C pipe is a failure."""
    assert _native.pipe() is not None, _native.status()
    assert _native.status().startswith("C pipe"), _native.status()
    client_end, server_end = memory_pair()
    assert type(client_end) is NativeMemoryEndpoint and type(server_end) is NativeMemoryEndpoint
    with Lab("1.3").connect() as conn:
        assert type(conn.client._endpoint) is NativeMemoryEndpoint


def test_the_environment_variable_switches_the_c_pipe_off():
    code = ("from gnutls_lab.binding import _native\nfrom gnutls_lab.sessions._transport import memory_pair\n"
            "print(_native.pipe() is None, type(memory_pair()[0]).__name__, _native.status())")
    env = {**os.environ, "GNUTLS_LAB_PIPE": "python"}
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.startswith("True MemoryEndpoint Python pipe (C pipe switched off: GNUTLS_LAB_PIPE=python")


def test_native_true_while_switched_off_is_a_clear_usage_error():
    previous = _native.set_enabled(False)
    try:
        assert _native.set_enabled(False) is False  # returns the previous setting
        assert _native.pipe() is None
        with pytest.raises(UsageError) as error:
            memory_pair(native=True)
        assert str(error.value).startswith("no C pipe: Python pipe (C pipe switched off")
        assert "set_enabled(False)" in str(error.value)
        assert type(memory_pair()[0]) is MemoryEndpoint  # native=None follows the switch
    finally:
        _native.set_enabled(previous)
    assert type(memory_pair(native=False)[0]) is MemoryEndpoint  # False: the Python pipe even when on


# -- the C functions, as libgnutls calls them ------------------------------------------------------------

def test_the_c_functions_follow_the_libgnutls_transport_contract():
    """vec push: a flight in one call, tapped as [sender][length, host order][bytes]; pull: bytes, -1 with
    errno EAGAIN when empty, 0 at EOF; EPIPE into a closed peer. libgnutls reads errno itself."""
    pipe = _native.pipe()
    ffi, lib = pipe.ffi, pipe.lib
    pair = ffi.gc(lib.memio_pair_new(1), lib.memio_pair_free)
    client, server = pair.end + 0, pair.end + 1
    parts = [ffi.new("char[]", b"hello "), ffi.new("char[]", b"world")]
    iov = ffi.new("giovec_t[2]")
    for vector, part, size in zip(iov, parts, (6, 5)):
        vector.iov_base, vector.iov_len = part, size
    assert lib.memio_vec_push(client, iov, 2) == 11
    assert lib.memio_available(server) == 11 and lib.memio_available(client) == 0
    tap = ffi.buffer(pair.log.data, pair.log.size)[:]
    assert tap == b"\x00" + (11).to_bytes(4, sys.byteorder) + b"hello world"

    buffer = ffi.new("char[]", 64)
    server.gate = 3
    assert lib.memio_pull(server, buffer, 64) == 3 and ffi.buffer(buffer, 3)[:] == b"hel"
    ffi.errno = 0
    assert lib.memio_pull(server, buffer, 64) == -1 and ffi.errno == errno.EAGAIN  # gate used up
    server.gate = -1
    assert lib.memio_pull(server, buffer, 64) == 8 and ffi.buffer(buffer, 8)[:] == b"lo world"
    ffi.errno = 0
    assert lib.memio_pull(server, buffer, 64) == -1 and ffi.errno == errno.EAGAIN
    client.closed = 1
    assert lib.memio_pull(server, buffer, 64) == 0  # EOF
    ffi.errno = 0
    assert lib.memio_vec_push(server, iov, 1) == -1 and ffi.errno == errno.EPIPE  # into a closed peer
    ffi.errno = 0
    assert lib.memio_vec_push(client, iov, 1) == -1 and ffi.errno == errno.EPIPE  # from a closed side


# -- same results over both pipes ------------------------------------------------------------------------

def _lab_observations(labs) -> dict:
    """Full then resumed ``Lab.connect`` for each version, as Python sees them."""
    seen = {}
    for tls, lab in labs.items():
        for attempt in ("full", "resumed"):
            resume = seen[tls, "full"]["data"] if attempt == "resumed" else None
            with lab.connect(resume=resume) as conn:
                tickets = conn.tickets
                data = conn.session_data
                seen[tls, attempt] = {
                    "endpoint": type(conn.client._endpoint),
                    "resumed": (conn.resumed, conn.server.is_resumed()),
                    "protocol": conn.protocol,
                    "wire": _shape(conn.wire),
                    "transcript": _names(conn.transcript),
                    "server transcript": _names(conn.server.transcript),
                    "tickets": [len(ticket) for ticket in tickets],
                    "data length": len(data),
                    "data": data,
                }
    return seen


@pytest.fixture(scope="module")
def over_c_pipe(rsa_labs):
    return _lab_observations(rsa_labs)  # the default pipe: C (test_the_c_pipe_is_built_and_used)


def test_lab_connect_observes_the_same_over_both_pipes(rsa_labs, over_c_pipe, python_pipe):
    over_python = _lab_observations(rsa_labs)
    assert {seen["endpoint"] for seen in over_c_pipe.values()} == {NativeMemoryEndpoint}
    assert {seen["endpoint"] for seen in over_python.values()} == {MemoryEndpoint}
    for key, c_seen in over_c_pipe.items():
        python_seen = over_python[key]
        for field in ("resumed", "protocol", "wire", "transcript", "server transcript", "tickets", "data length"):
            assert c_seen[field] == python_seen[field], (key, field)
        tls, attempt = key
        assert c_seen["resumed"] == ((attempt == "resumed"),) * 2
        assert c_seen["wire"] and c_seen["transcript"][0] == ("client", "CLIENT HELLO")
        for data in (c_seen["data"], python_seen["data"]):  # real session data, not the dummy
            assert not data.dummy and decode_session(data).protocol == c_seen["protocol"]
    # The session data of one pipe resumes over the other (here: C-pipe data over the Python pipe).
    for tls, lab in rsa_labs.items():
        with lab.connect(resume=over_c_pipe[tls, "full"]["data"]) as conn:
            assert conn.resumed and type(conn.client._endpoint) is MemoryEndpoint


@pytest.mark.parametrize("tls", ["1.3", "1.2"])
def test_sessions_over_memory_pair_observe_the_same_over_both_pipes(rsa_labs, tls):
    lab = rsa_labs[tls]
    seen = {}
    for pipe, native in PIPES.items():
        data = None
        for attempt in ("full", "resumed"):
            wire: list = []
            client, server = _sessions(lab, native, wire=wire)
            assert type(client._endpoint) is (NativeMemoryEndpoint if native else MemoryEndpoint)
            with client, server:
                if data is not None:
                    client.set_data(data)
                pump(client, server)
                if tls == "1.3":
                    client.read_available()  # the NewSessionTickets that follow the handshake
                data = client.get_data()
                assert not data.dummy and decode_session(data).protocol == f"TLS{tls}"
                seen[pipe, attempt] = (client.is_resumed(), server.is_resumed(), _shape(wire),
                                       _names(client.transcript), _names(server.transcript), len(data),
                                       client.ticket_received, client.cipher_suite)
    for attempt in ("full", "resumed"):
        assert seen["c", attempt] == seen["python", attempt], attempt
    assert seen["c", "full"][:2] == (False, False) and seen["c", "resumed"][:2] == (True, True)


# -- edge cases -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("pipe", PIPES)
def test_an_empty_inbox_with_the_peer_open_is_try_again(rsa_labs, pipe):
    client, server = _sessions(rsa_labs["1.3"], PIPES[pipe])
    ffi = _native.pipe().ffi
    buffer = ffi.new("char[]", 16)
    with client, server:
        assert server.handshake_step() is False  # nothing from the client yet: EAGAIN, not an error
        server_end = server._endpoint
        assert server_end.pull_into(buffer, 16, ffi.memmove) == -errno.EAGAIN
        assert not server_end.has_data() and server_end.inbox == b""
        assert server_end.wait(25) == 0 and server_end.waits == [25]
        assert client.handshake_step() is False
        assert server_end.has_data() and server_end.wait(0) == 1 and server_end.waits == [25, 0]


def _close_server_after(lab, native: bool, steps: int):
    """Run ``steps`` alternating handshake steps (client first), close the server, step the client twice."""
    client, server = _sessions(lab, native)
    order = [client, server] * 3
    with client:
        for session in order[:steps]:
            session.handshake_step()
        server.close()
        try:
            return [client.handshake_step(), client.handshake_step()], client._endpoint.has_data()
        except GnuTLSError as error:
            return error.name, client._endpoint.has_data()


@pytest.mark.parametrize("tls", ["1.3", "1.2"])
def test_closing_the_server_mid_handshake_fails_the_client_the_same_way(rsa_labs, tls):
    outcomes = {pipe: [_close_server_after(rsa_labs[tls], native, steps) for steps in range(5)]
                for pipe, native in PIPES.items()}
    assert outcomes["c"] == outcomes["python"]
    # Before the ClientHello went out the push fails; waiting for the server's reply it reads EOF.
    assert outcomes["c"][0][0] == "GNUTLS_E_PUSH_ERROR"
    assert outcomes["c"][1][0] == "GNUTLS_E_PREMATURE_TERMINATION"


@pytest.mark.parametrize("pipe", PIPES)
def test_a_closed_peer_means_eof_for_pulls_and_epipe_for_pushes(rsa_labs, pipe):
    client, server = _sessions(rsa_labs["1.3"], PIPES[pipe])
    client_end, server_end = client._endpoint, server._endpoint
    ffi = _native.pipe().ffi
    buffer = ffi.new("char[]", 16)
    with server:
        assert client.handshake_step() is False
        client.close()
        assert client_end.closed and not server_end.closed
        assert server_end.pull_into(buffer, 5, ffi.memmove) == 5  # what was sent before the close stays
        assert server_end.push(b"late") == -errno.EPIPE
        assert client_end.push(b"late") == -errno.EPIPE
        server_end.record_gate = 0
        assert server_end.pull_into(buffer, 16, ffi.memmove) == 0  # nothing more can come: EOF


@pytest.mark.parametrize("pipe", PIPES)
def test_the_record_gate_feeds_one_ticket_at_a_time(rsa_labs, pipe):
    client, server = _sessions(rsa_labs["1.3"], PIPES[pipe])
    with client, server:
        pump(client, server)
        client_end = client._endpoint
        assert [len(record) for record in client_end.pending_records()] == [273, 273]  # two automatic tickets
        server.send_tickets(2)
        records = client_end.pending_records()
        assert len(records) == 4 and b"".join(records) == client_end.inbox
        tickets = client.read_tickets()
        assert len(tickets) == 4 and len({ticket.data for ticket in tickets}) == 4
        assert all(not ticket.dummy for ticket in tickets)
        assert client_end.record_gate is None and client_end.inbox == b"" and not client_end.has_data()
        assert [m.name for m in client.transcript].count("NEW SESSION TICKET") == 4

        server.send(b"0123456789")
        client_end.record_gate = 7  # less than the record's header and body
        assert client_end.record_gate == 7 and client_end.has_data()
        assert client.recv() is None  # a partial record: try again
        assert client_end.record_gate == 0 and not client_end.has_data() and client_end.wait(10) == 0
        client_end.record_gate = None
        assert client.recv() == b"0123456789"


def test_record_gate_reads_and_inboxes_agree_between_the_pipes(rsa_labs):
    seen = {}
    for pipe, native in PIPES.items():
        client, server = _sessions(rsa_labs["1.3"], native)
        with client, server:
            pump(client, server)
            server.send_tickets(2)
            client_end, server_end = client._endpoint, server._endpoint
            before = (len(client_end.inbox), [len(r) for r in client_end.pending_records()], client_end.has_data(),
                      server_end.inbox, server_end.has_data())
            tickets = client.read_tickets()
            seen[pipe] = (before, [len(ticket) for ticket in tickets], len(client_end.inbox), client_end.waits)
    assert seen["c"] == seen["python"]
    assert len(seen["c"][1]) == 4


def test_the_ticket_wait_is_recorded_the_same_over_both_pipes():
    """get_data2 on a TLS 1.3 client without a ticket waits (pull-timeout callback) and gives the dummy; with
    two tickets waiting unread it waits, reads one of them and leaves the other in the inbox."""
    lab = Lab("1.3", certificate="rsa", auto_tickets=False)
    seen = {}
    for pipe, native in PIPES.items():
        client, server = _sessions(lab, native, auto_tickets=False)
        with client, server:
            pump(client, server)
            no_ticket = client.get_data()
            assert no_ticket.dummy and no_ticket.waited_ms and no_ticket.waited_ms[0] >= 60
            assert client._endpoint.waits == list(no_ticket.waited_ms)
            server.send_tickets(2)
            with_tickets = client.get_data()
            assert not with_tickets.dummy and with_tickets.waited_ms
            left = len(client._endpoint.pending_records())
            seen[pipe] = (no_ticket.waited_ms, with_tickets.waited_ms, len(with_tickets), left)
    assert seen["c"] == seen["python"]
    assert seen["c"][3] == 1


# -- the tap is complete whenever Python can look ------------------------------------------------------

def _stepwise(lab, native: bool) -> list:
    """Every call a lab makes, one at a time; after each, what the tap and the inboxes show."""
    wire: list = []
    client, server = _sessions(lab, native, wire=wire)
    ends = {"client": client._endpoint, "server": server._endpoint}
    log = []

    def look(step, result):
        log.append((step, result, _shape(wire), len(ends["client"].inbox), len(ends["server"].inbox)))
        for sender, receiver in (("client", "server"), ("server", "client")):
            # The tap holds every byte pushed so far: what the receiver has not read yet is its tail.
            sent = b"".join(chunk.data for chunk in wire if chunk.sender == sender)
            assert sent.endswith(ends[receiver].inbox), (step, sender)

    with client, server:
        while not (client.handshake_done and server.handshake_done):
            for session in (client, server):
                look(f"{session.role} handshake_step", session.handshake_step())
            assert len(log) < 20
        if lab.priority.endswith("TLS1.3"):
            look("server send_tickets", server.send_tickets(1))
        look("client send", client.send(b"ping"))
        look("server recv", server.recv())
        look("client read_available", client.read_available())
        look("client get_data", len(client.get_data()))
        look("server bye", server.bye())
        look("client recv", client.recv())
    return log


@pytest.mark.parametrize("tls", ["1.3", "1.2"])
def test_the_tap_is_complete_after_every_single_call(rsa_labs, tls):
    over_c = _stepwise(rsa_labs[tls], True)
    over_python = _stepwise(rsa_labs[tls], False)
    assert over_c == over_python
    assert over_c[-1][1] == b""  # the client saw the server's close_notify
    wire_before = [[]] + [wire for _, _, wire, _, _ in over_c]
    steps_that_pushed = [step for (step, _, wire, _, _), before in zip(over_c, wire_before) if wire != before]
    assert "client handshake_step" in steps_that_pushed and "server bye" in steps_that_pushed


def test_the_tap_is_complete_when_a_callback_raised(rsa_labs):
    class Boom(RuntimeError):
        pass

    seen = {}
    for pipe, native in PIPES.items():
        wire: list = []
        client, server = _sessions(rsa_labs["1.3"], native, wire=wire)

        def explode_at_finished(htype, incoming, msg, original=client._on_handshake_message):
            original(htype, incoming, msg)
            if client.transcript[-1].name == "FINISHED" and not incoming:
                raise Boom("after the client's Finished")

        client._on_handshake_message = explode_at_finished
        with client, server, pytest.raises(Boom):
            pump(client, server)
        seen[pipe] = (_shape(wire), _names(client.transcript))
    assert seen["c"] == seen["python"]


# -- bytes from Python ------------------------------------------------------------------------------------

@pytest.mark.parametrize("garbage, expect", [
    (b"\xff" * 64, "GNUTLS_E_RECORD_OVERFLOW"),
    (b"\x16\x03\x01\x00\x04\x01\x00\x00\x00", "GNUTLS_E_UNEXPECTED_PACKET_LENGTH"),
    (b"GET / HTTP/1.1\r\n\r\n", "GNUTLS_E_UNEXPECTED_PACKET"),
], ids=["noise", "empty-client-hello", "http"])
def test_garbage_pushed_from_python_fails_the_handshake_cleanly(rsa_labs, garbage, expect):
    seen = {}
    for pipe, native in PIPES.items():
        wire: list = []
        client, server = _sessions(rsa_labs["1.3"], native, wire=wire)
        with client, server:
            client_end, server_end = client._endpoint, server._endpoint
            assert client_end.push(garbage) == len(garbage)
            assert server_end.inbox == garbage and server_end.has_data()
            with pytest.raises(GnuTLSError) as error:
                for _ in range(3):
                    server.handshake_step()
            seen[pipe] = (error.value.name, _shape(wire), client.handshake_step())
    assert seen["c"] == seen["python"]
    assert seen["c"][:2] == (expect, [("client", len(garbage))])


@pytest.mark.parametrize("pipe", PIPES)
def test_push_and_pull_into_from_python(pipe):
    wire: list = []
    client_end, server_end = memory_pair(wire, native=PIPES[pipe])
    ffi = _native.pipe().ffi
    buffer = ffi.new("char[]", 4)
    assert client_end.push(b"abcdef") == 6 and server_end.push(bytearray(b"xyz")) == 3
    assert wire == [("client", b"abcdef"), ("server", b"xyz")]
    assert server_end.pull_into(buffer, 4, ffi.memmove) == 4 and ffi.buffer(buffer)[:] == b"abcd"
    assert server_end.inbox == b"ef" and client_end.inbox == b"xyz"
    assert server_end.pull_into(buffer, 4, ffi.memmove) == 2 and ffi.buffer(buffer, 2)[:] == b"ef"
    assert server_end.pull_into(buffer, 4, ffi.memmove) == -errno.EAGAIN
    assert server_end.pending_records() == []
    record = b"\x17\x03\x03\x00\x02hi"
    assert client_end.push(record + record[:3]) == 10
    assert server_end.pending_records() == [record]  # complete records only


@pytest.mark.parametrize("pipe", PIPES)
def test_a_side_whose_own_session_is_closed_pulls_eof(rsa_labs, pipe):
    client, server = _sessions(rsa_labs["1.3"], PIPES[pipe])
    client_end = client._endpoint
    ffi = _native.pipe().ffi
    with server:
        client.close()
        assert client_end.pull_into(ffi.new("char[]", 10), 10, ffi.memmove) == 0


@pytest.mark.parametrize("pipe", PIPES)
def test_push_of_a_wide_buffer_moves_and_taps_every_byte(pipe):
    from array import array

    wire: list = []
    client_end, server_end = memory_pair(wire, native=PIPES[pipe])
    assert client_end.push(memoryview(array("H", [0x4141, 0x4242]))) == 4
    assert bytes(server_end.inbox) == b"AABB"
    assert wire == [("client", b"AABB")]


# -- the pump in C (memio_pump) ----------------------------------------------------------------------

def _pump_outcome(client, server, **kwargs):
    """What ``pump`` did: "done", or the exception's type and GnuTLS name/message, plus both done flags."""
    from gnutls_lab.sessions._session import pump as run_pump

    try:
        run_pump(client, server, **kwargs)
        outcome = "done"
    except GnuTLSError as error:
        outcome = ("GnuTLSError", error.name, error.function)
    except Exception as error:  # noqa: BLE001 - compared between the pipes
        outcome = (type(error).__name__, str(error))
    return outcome, client.handshake_done, server.handshake_done


def test_pump_runs_in_c_over_the_c_pipe_only_where_errors_surface_the_same(rsa_labs, monkeypatch):
    import gnutls_lab.sessions._session as session_module

    calls = []
    real = session_module._pump_in_c
    monkeypatch.setattr(session_module, "_pump_in_c", lambda *args: calls.append(1) or real(*args))
    lab = rsa_labs["1.2"]
    cases = {
        "c pipe": (dict(native=True), {}, {}, 1),
        "python pipe": (dict(native=False), {}, {}, 0),
        "key log (its errors do not fail the handshake)": (dict(native=True), {}, {"keylog": True}, 0),
    }
    for name, (pair, server_kwargs, session_kwargs, expected) in cases.items():
        calls.clear()
        client_end, server_end = memory_pair(**pair)
        server = ServerSession(lab.server_credentials, lab.priority, endpoint=server_end, **server_kwargs,
                               **session_kwargs)
        client = ClientSession(lab.client_credentials, lab.priority, endpoint=client_end, **session_kwargs)
        with client, server:
            assert _pump_outcome(client, server) == ("done", True, True), name
        assert len(calls) == expected, name
    # A server with a session cache: its callbacks' errors do not fail the handshake either.
    calls.clear()
    with Lab("1.2", session_cache=True, tickets=False).connect(observe=False) as conn:
        assert conn.server._c_pump is False and not calls


@pytest.mark.parametrize("case", ["version mismatch", "stalled", "hook raises", "closed server"])
def test_pump_fails_the_same_way_over_both_pipes(rsa_labs, case):
    outcomes = {}
    for pipe, native in PIPES.items():
        lab = rsa_labs["1.3"]
        client_end, server_end = memory_pair(native=native)
        server_priority = "1.2" if case == "version mismatch" else lab.priority
        server = ServerSession(lab.server_credentials, server_priority, endpoint=server_end, observe=False)
        client = ClientSession(lab.client_credentials, lab.priority, endpoint=client_end,
                               observe=case == "hook raises")
        kwargs = {"max_steps": 1} if case == "stalled" else {}
        if case == "hook raises":
            def explode(*args):
                raise OverflowError("from the hook")
            client._on_handshake_message = explode
        if case == "closed server":
            server.close()
        with client, server:
            outcomes[pipe] = _pump_outcome(client, server, **kwargs)
    assert outcomes["c"] == outcomes["python"]
    expected = {
        "version mismatch": ("GnuTLSError", "GNUTLS_E_NO_CIPHER_SUITES"),  # what 3.7.9 and 3.8.9 say
        "stalled": ("GnuTLSLabError", "handshake stalled after 1 steps (client done: False, server done: False)"),
        "hook raises": ("OverflowError", "from the hook"),
        "closed server": ("GnuTLSError", "GNUTLS_E_PUSH_ERROR"),
    }[case]
    assert outcomes["c"][0][:2] == expected, outcomes


# -- building it, or not ------------------------------------------------------------------------------

@pytest.mark.parametrize("compiler", ["gcc", "false"])
def test_the_install_goes_on_when_the_c_pipe_cannot_be_built(tmp_path, compiler):
    """setup.py's optional build: with a compiler the extension is built; with one that fails
    (``CC=false``, as on a Binder image without gcc) the build still succeeds and says why."""
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    for name in ("setup.py", "pyproject.toml", "README.md", "gnutls_lab/binding/_memio.c", "gnutls_lab/binding/_spy.c"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / name, tmp_path / name)
    result = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, CC=compiler, LDSHARED=f"{compiler} -shared"))
    assert result.returncode == 0, result.stderr[-2000:]
    built = list((tmp_path / "gnutls_lab" / "binding").glob("_memio*.so"))
    spy = list((tmp_path / "gnutls_lab" / "binding").glob("_spy*.so"))  # the spy: its own, optional extension
    if compiler == "gcc":
        assert len(built) == len(spy) == 1 and "not built" not in result.stdout
    else:
        assert built == spy == []
        assert "gnutls-lab: the C pipe was not built" in result.stdout
        assert "gnutls-lab: the spy was not built" in result.stdout


# -- lifetimes and threads, in a subprocess ----------------------------------------------------------------

def _run_child(code: str) -> dict:
    # glibc fills freed memory with this byte: a read through a freed pair shows as garbage or a crash.
    env = {**os.environ, "MALLOC_PERTURB_": "165"}
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    if child.returncode < 0:
        pytest.fail(f"the child died of {signal.Signals(-child.returncode).name}: {child.stderr[-2000:]}")
    assert child.returncode == 0, child.stderr[-3000:]
    return json.loads(child.stdout.strip().splitlines()[-1])


LIFETIMES = textwrap.dedent(r'''
    import gc, json
    from gnutls_lab import ClientSession, Lab, ServerSession, pump
    from gnutls_lab.binding import _native
    from gnutls_lab.sessions._transport import NativeMemoryEndpoint, memory_pair

    assert _native.pipe() is not None, _native.status()
    labs = [Lab("1.3"), Lab("1.2")]
    counts = dict.fromkeys(["ends", "handshakes", "resumed", "stalled", "eof"], 0)

    def sessions(lab, wire):
        client_end, server_end = memory_pair(wire, native=True)
        assert type(client_end) is NativeMemoryEndpoint
        server = ServerSession(lab.server_credentials, lab.priority, endpoint=server_end, ticket_key=lab.ticket_key)
        client = ClientSession(lab.client_credentials, lab.priority, endpoint=client_end)
        return client_end, server_end, client, server

    for round_ in range(40):
        for lab in labs:
            wire = [] if round_ % 2 else None
            # Endpoints alone, either name dropped first (their Python peer links keep both ends alive
            # until both go; the C block goes with the last one).
            for drop_client_first in (True, False):
                client_end, server_end = memory_pair(wire, native=True)
                client_end.push(b"to the server" * 100)
                server_end.push(b"to the client" * 100)
                if drop_client_first:
                    del client_end
                    gc.collect()
                    survivor, expect = server_end, b"to the server"
                else:
                    del server_end
                    gc.collect()
                    survivor, expect = client_end, b"to the client"
                assert survivor.inbox[:13] == expect and survivor.push(b"into the void") == 13
                del survivor
                gc.collect()
                counts["ends"] += 1

            # Both sessions closed (which unlinks the Python peers), then one end dropped: the other
            # still reads the shared C block.
            for keep_client in (True, False):
                client_end, server_end, client, server = sessions(lab, wire)
                pump(client, server)
                client.close()
                server.close()
                keep = client_end if keep_client else server_end
                inbox = bytes(keep.inbox)
                del client_end, server_end, client, server
                gc.collect()
                assert keep.closed and keep.inbox == inbox and keep.push(b"x") < 0
                assert b"".join(keep.pending_records()) == inbox and keep.record_gate is None
                del keep
                gc.collect()
                counts["ends"] += 1

            # Endpoints referenced only by their sessions, sessions dropped without close.
            client_end, server_end, client, server = sessions(lab, wire)
            del client_end, server_end
            gc.collect()
            pump(client, server)
            data = client.get_data()
            counts["handshakes"] += 1
            del client, server
            gc.collect()

            # Sessions dropped before their endpoints (a resumption, half-way through).
            client_end, server_end, client, server = sessions(lab, wire)
            client.set_data(data)
            client.handshake_step()
            server.handshake_step()
            del client, server
            gc.collect()
            assert client_end.inbox and not client_end.closed  # never closed: no EOF, bytes still there
            client_end.push(b"x")
            del client_end
            gc.collect()
            server_end.pending_records()
            del server_end

            # One session dropped unclosed mid-handshake: the other sees try-again (stall), never EOF.
            client_end, server_end, client, server = sessions(lab, wire)
            del client_end, server_end
            client.handshake_step()
            del client
            gc.collect()
            for _ in range(3):
                server.handshake_step()  # reads the ClientHello, answers, then waits for ever
            counts["stalled"] += server.handshake_done is False
            server.close()
            del server
            gc.collect()

            # One session closed mid-handshake, then dropped: the other sees EOF.
            client_end, server_end, client, server = sessions(lab, wire)
            client.handshake_step()
            server.close()
            del server, server_end
            gc.collect()
            try:
                client.handshake_step()
            except Exception as error:
                counts["eof"] += "PREMATURE_TERMINATION" in getattr(error, "name", "")
            del client, client_end

            # A resumption with the endpoints dropped first and everything collected together.
            client_end, server_end, client, server = sessions(lab, wire)
            client.set_data(data)
            pump(client, server)
            counts["resumed"] += client.is_resumed()
            del client_end, server_end, client, server
            gc.collect()
    print(json.dumps(counts))
''')


def test_dropping_pairs_ends_and_sessions_in_any_order_does_not_crash():
    counts = _run_child(LIFETIMES)
    assert counts == {"ends": 320, "handshakes": 80, "resumed": 80, "stalled": 80, "eof": 80}


THREADS = textwrap.dedent(r'''
    import gc, json, threading
    from gnutls_lab import Lab
    from gnutls_lab.binding import _native
    from gnutls_lab.sessions._transport import NativeMemoryEndpoint

    assert _native.pipe() is not None, _native.status()
    rounds = 60
    start = threading.Barrier(5)
    out = {}

    def worker(name, tls):
        start.wait()
        lab = Lab(tls)
        data, seen = None, []
        for i in range(rounds):
            with lab.connect(resume=data, observe=bool(i % 2)) as conn:
                assert type(conn.client._endpoint) is NativeMemoryEndpoint
                seen.append(conn.resumed)
                if i % 2:
                    assert conn.wire and conn.wire[0].sender == "client"
                if data is None:
                    data = conn.session_data
            if i % 10 == 0:
                lab.connect()  # dropped open, for the collector
        out[name] = seen

    def collector():
        start.wait()
        while any(t.is_alive() for t in threads):
            gc.collect()

    threads = [threading.Thread(target=worker, args=(f"t{n}", tls)) for n, tls in enumerate(["1.3", "1.2"] * 2)]
    helper = threading.Thread(target=collector)
    for thread in threads + [helper]:
        thread.start()
    for thread in threads + [helper]:
        thread.join(timeout=100)
    out["alive"] = [t.is_alive() for t in threads + [helper]]
    print(json.dumps(out))
''')


def test_threads_running_lab_connections_over_the_c_pipe():
    report = _run_child(THREADS)
    assert report.pop("alive") == [False] * 5
    assert len(report) == 4
    for seen in report.values():
        assert seen == [False] + [True] * 59  # every attempt after the first resumed
