"""Self-checks for the workshop exercises: each runs the participant's function against live handshakes.

A notebook cell holds an exercise stub (a function to complete); the cell below calls a ``check_*``
function from here with it. The check builds fresh connections with the real libgnutls, runs the
function in several scenarios and returns a :class:`CheckResult` that lists, per scenario, what was
expected, what came back and why it matters. Nothing is compared with a stored answer: the expected
value is computed live, so a check is as true as the library it runs on.

Exercises (notebook → check):

- 02 ``is_resumable(data)`` → :func:`check_is_resumable`: tell real session data from the dummy.
- 02 ``ticket_lifetime(data)`` → :func:`check_ticket_lifetime`: read the lifetime out of the blob.
- 03 ``resumable_data(client)`` → :func:`check_resumable_data`: get the data right after a TLS 1.3
  handshake: real data when a ticket has come, ``None`` (never the dummy) when none has.
- 03 ``nonblocking_data(client)`` → :func:`check_nonblocking_data`: the same under ``GNUTLS_NONBLOCK``,
  where ``gnutls_session_get_data2`` does not wait for the ticket.
- 03 ``did_resume(conn)`` → :func:`check_did_resume`: offering data is not being resumed.

Reference solutions for instructors live in ``notebooks/solutions/`` (tests run them through these
checks).

Hints come when asked. The starting code of an exercise (what the notebook's cell holds, run by "Run
All") is not an attempt: its check shows what fails and no hint. A changed function that fails shows the
first hint, a nudge that never gives the answer; each further hint, the last being the formula, and then
the reasons behind each failing case (each said once) come only from the check's "next hint" button
(:meth:`CheckResult.next_hint`), never from running the check again.
"""

from __future__ import annotations

import html
import random
import time
import types
from typing import Callable, NamedTuple

from gnutls_lab import ClientSession, FakeClock, Lab, memory_pair, pump, ServerSession, SessionData
from gnutls_lab.errors import GnuTLSLabError
from gnutls_lab.analysis import decode
from gnutls_lab.binding import load

__all__ = [
    "CheckResult",
    "Scenario",
    "check_is_resumable",
    "check_ticket_lifetime",
    "check_resumable_data",
    "check_nonblocking_data",
    "check_did_resume",
    "lab_sessions",
    "nonblocking_client",
    "reset_hints",
    "is_starting_code",
    "STARTING_CODE",
]

GNUTLS_NONBLOCK = load()[1].GNUTLS_NONBLOCK  # gnutls_init flag: the session never waits, not even get_data2 for a ticket


class Scenario(NamedTuple):
    """One live case: what it was, what was expected, what the function returned, and whether it matched."""

    name: str
    expected: str
    got: str
    passed: bool
    why: str


#: The function each exercise cell starts with, as the notebooks hold it (tests/test_exercises.py checks
#: that every notebook stub is recognised): running it unchanged is not an attempt.
STARTING_CODE = {
    "is_resumable": "def is_resumable(data):\n    return len(data) > 0\n",
    "ticket_lifetime": "def ticket_lifetime(data):\n    return 21600\n",
    "resumable_data": "def resumable_data(client):\n    return client.get_data()\n",
    "nonblocking_data": "def nonblocking_data(client):\n    return client.get_data()\n",
    "did_resume": "def did_resume(conn):\n    return conn.offered is not None\n",
    "linkable": ("def linkable(first, second):\n"
                 "    identities = lambda visit: {psk.identity for hello in visit.client_hellos"
                 " for psk in hello.psk_identities}\n"
                 "    return bool(identities(first) & identities(second))\n"),
    "key_name": "def key_name(master_key, unix_time, lifetime):\n    return master_key[:16]\n",
    "exposed": "def exposed(seen):\n    return bool(seen.client_hello.psk_identities)\n",
}


def _fingerprint(code: types.CodeType) -> tuple:
    """What a function does, without where it was written (line numbers, file, qualified names)."""
    consts = tuple(_fingerprint(c) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    return code.co_code, consts, code.co_names, code.co_varnames, code.co_argcount


def is_starting_code(exercise: str, function) -> bool:
    """Whether ``function`` is the exercise's starting code, unchanged (:data:`STARTING_CODE`)."""
    source, code = STARTING_CODE.get(exercise), getattr(function, "__code__", None)
    if source is None or code is None:
        return False
    namespace: dict = {}
    exec(compile(source, f"<starting code of {exercise}>", "exec"), namespace)  # noqa: S102 - our own text
    start = next(v for k, v in namespace.items() if k != "__builtins__")
    return _fingerprint(start.__code__) == _fingerprint(code)


_hints_shown: dict = {}  # exercise -> how many of its hints this kernel has shown (asked for)


def reset_hints(exercise: str | None = None) -> None:
    """Start the hints over (for one exercise, or all): the next failing attempt shows hint 1."""
    if exercise is None:
        _hints_shown.clear()
    else:
        _hints_shown.pop(exercise, None)


class CheckResult:
    """The verdict of one check: truthy when every scenario passed.

    ``hints``: from a nudge to the formula. ``attempt``: the participant's function; its starting code
    (:func:`is_starting_code`) is no attempt and shows no hint. A failing attempt shows the hints asked
    for so far, at least the first (never the last, the formula, unless there is only one);
    :meth:`next_hint` (the "next hint" button) shows one more.
    """

    def __init__(self, exercise: str, scenarios: list[Scenario], hints: tuple = (), attempt=None):
        self.exercise = exercise
        self.scenarios = scenarios
        self.hints = tuple(hints)
        self.starting_code = attempt is not None and is_starting_code(exercise, attempt)
        if not self.passed and not self.starting_code and self.hints:
            _hints_shown[exercise] = max(_hints_shown.get(exercise, 0), 1)
        self.hint_level = 0 if self.passed else min(_hints_shown.get(exercise, 0), len(self.hints))

    def next_hint(self) -> int:
        """Show one more hint (the "next hint" button); returns how many are shown."""
        if not self.passed and self.hint_level < len(self.hints):
            self.hint_level += 1
            _hints_shown[self.exercise] = max(_hints_shown.get(self.exercise, 0), self.hint_level)
        return self.hint_level

    def shown_hints(self) -> list:
        """The hint lines a failing result shows (none when it passed), reasons last."""
        if self.passed:
            return []
        lines = []
        if self.starting_code:
            lines.append("this is the starting code, unchanged: not an attempt. Change the function, run its "
                         "cell, then this check.")
        lines += [f"hint {i + 1} of {len(self.hints)}: {self.hints[i]}" for i in range(self.hint_level)]
        if self.hint_level < len(self.hints):
            lines.append("(press “next hint” when you want one)")
        else:
            reasons = []
            for s in self.scenarios:
                if not s.passed and s.why not in reasons:
                    reasons.append(s.why)
            lines += [f"why: {why}" for why in reasons]
        return lines

    @property
    def passed(self) -> bool:
        return bool(self.scenarios) and all(s.passed for s in self.scenarios)

    def __bool__(self) -> bool:
        return self.passed

    def widget(self):
        """The result with its "next hint" button (no button once it passed or every hint is shown)."""
        import ipywidgets as widgets

        view = widgets.HTML(self._repr_html_())
        button = widgets.Button(description="next hint", icon="lightbulb-o", tooltip="show the next hint")

        def more(_):
            self.next_hint()
            view.value = self._repr_html_()
            button.disabled = self.hint_level >= len(self.hints)

        button.on_click(more)
        button.disabled = self.passed or self.hint_level >= len(self.hints)
        box = widgets.VBox([view, button])
        box.add_class("gl-check-hints")
        self.button = button
        return box

    def _ipython_display_(self) -> None:
        from IPython.display import HTML, display

        if self.passed or self.hint_level >= len(self.hints):
            display(HTML(self._repr_html_()))  # nothing left to ask
        else:
            display(self.widget())

    def __repr__(self) -> str:
        head = (f"✓ {self.exercise}: right, in all {len(self.scenarios)} live scenarios." if self.passed
                else f"✗ {self.exercise}: not yet ({sum(not s.passed for s in self.scenarios)} of "
                     f"{len(self.scenarios)} scenarios fail).")
        lines = [head]
        for s in self.scenarios:
            mark = "✓" if s.passed else "✗"
            lines.append(f"  {mark} {s.name}: expected {s.expected}, got {s.got}")
        lines += [f"  {line}" for line in self.shown_hints()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colour = "#009E73" if self.passed else "#D55E00"
        rows = "".join(
            f"<tr><td>{'✓' if s.passed else '✗'}</td><td>{html.escape(s.name)}</td><td>{html.escape(s.expected)}</td>"
            f"<td>{html.escape(s.got)}</td></tr>"
            for s in self.scenarios)
        head = html.escape(repr(self).splitlines()[0])
        hints = "".join(f"<p style='margin:2px 0'>{html.escape(line)}</p>" for line in self.shown_hints())
        return (f"<div class='gl-check'><b style='color:{colour}'>{head}</b><table><tr><th></th><th>scenario</th>"
                f"<th>expected</th><th>got</th></tr>{rows}</table>{hints}</div>")


def _show(value) -> str:
    if isinstance(value, SessionData):
        return "the dummy 00 00 00 00" if value.dummy else f"{len(value)} bytes of real session data"
    if isinstance(value, (bytes, bytearray)):
        return "the dummy 00 00 00 00" if bytes(value) == b"\0\0\0\0" else f"{len(value)} bytes"
    return repr(value)


def call_student(fn: Callable, *args):
    """Call the participant's function; an exception is an answer too (shown, not raised)."""
    try:
        return fn(*args), None
    except Exception as exc:  # the participant's bug must not stop the notebook
        return None, f"raised {type(exc).__name__}: {exc}"


def make_scenario(name: str, expected: str, result, error, ok: Callable, why: str) -> Scenario:
    if error is not None:
        return Scenario(name, expected, error, False, why)
    try:
        passed = bool(ok(result))
    except Exception:
        passed = False
    return Scenario(name, expected, _show(result), passed, why)


def yes_no_scenario(name: str, expected: bool, fn: Callable, args: tuple, why: str) -> Scenario:
    """The participant's ``fn(*args)`` must answer exactly ``expected`` (a bool, not merely truthy)."""
    result, error = call_student(fn, *args)
    return make_scenario(name, repr(expected), result, error, lambda r: isinstance(r, bool) and r == expected, why)


def lab_sessions(lab: Lab, wire: list | None = None, *, flags: int = 0, server_priority: str | None = None):
    """A client and a server of ``lab`` on an in-process pipe (``wire``: the tap, or None), before
    the handshake: for what :meth:`Lab.connect` does not set, client ``flags`` of ``gnutls_init`` or
    a ``server_priority`` other than the client's. Returns ``(client, server)``; close both."""
    client_end, server_end = memory_pair(wire)
    server = ServerSession(lab.server_credentials, server_priority or lab.priority, endpoint=server_end,
                           ticket_key=lab.ticket_key if lab.tickets else None, cache=lab.cache)
    client = ClientSession(lab.client_credentials, lab.priority, endpoint=client_end, flags=flags,
                           server_name=lab.server_name)
    return client, server


def nonblocking_client(lab: Lab):
    """A handshake whose client was made with ``GNUTLS_NONBLOCK``; returns ``(client, server)``, open.

    The server's TLS 1.3 tickets are already waiting in the client's inbox when this returns.
    """
    client, server = lab_sessions(lab, flags=GNUTLS_NONBLOCK)
    pump(client, server)
    return client, server


# --- notebook 02 ----------------------------------------------------------------------------------


#: The ticket lifetime of the expired-ticket case of :func:`check_is_resumable`, and how long after the
#: ticket came the participant's function sees it (real clock: the client's own check reads it).
SHORT_LIFETIME, SHORT_LIFETIME_WAIT = 1, 2.2


def check_is_resumable(is_resumable: Callable) -> CheckResult:
    """``is_resumable(data) -> bool``: True only for data that can resume a session. The expected answer of
    each case with real data is what a resumption with it does, right after the function answered."""
    scenarios = []
    short = Lab("1.3", lifetime=SHORT_LIFETIME)
    with short.connect() as conn:
        expiring = conn.session_data  # the clock runs from here: the cases below take some of the wait
    came = time.monotonic()
    with Lab("1.3", auto_tickets=False).connect() as conn:
        dummy = conn.client.get_data()  # no ticket was sent: the dummy
    fresh = Lab("1.3")
    with fresh.connect() as conn:
        real13 = conn.session_data
    tls12 = Lab("1.2")
    with tls12.connect() as conn:
        real12 = conn.session_data
    cases = [
        ("TLS 1.3 client, no ticket yet (a SessionData)", dummy, fresh,
         "get_data2 returned successfully, but these 4 bytes are the dummy: set_data accepts them and "
         "the next handshake is a full one. Length or a return code does not tell; the content does."),
        ("the same dummy as plain bytes", bytes(dummy), fresh,
         "the dummy is 00 00 00 00 whatever type holds it"),
        ("TLS 1.3 client after a NewSessionTicket", real13, fresh, "a real blob (magic FA E1 ...) resumes"),
        ("TLS 1.2 client with a ticket", real12, tls12, "TLS 1.2 session data is never the dummy"),
        ("the same TLS 1.3 blob as plain bytes", bytes(real13), fresh, "bytes or SessionData: same answer"),
        (f"TLS 1.3 data whose ticket lifetime ({SHORT_LIFETIME} s) ran out {SHORT_LIFETIME_WAIT:g} s ago",
         expiring, short,
         f"{len(expiring)} bytes of real session data, and still no use: the client itself stops offering a "
         "ticket older than its copy of the lifetime (tls13.lifetime, from tls13.arrival_time on)"),
    ]
    for name, data, lab, why in cases:
        if lab is short:
            time.sleep(max(0.0, came + SHORT_LIFETIME_WAIT - time.monotonic()))
        result, error = call_student(is_resumable, data)
        with lab.connect(resume=bytes(data)) as again:  # the dummy too: set_data takes it and does nothing
            expected = again.resumed
        scenarios.append(make_scenario(name, repr(expected), result, error,
                                       lambda r, e=expected: isinstance(r, bool) and r == e, why))
    return CheckResult("is_resumable", scenarios, (
        "print what your function receives in the cases that fail: what do those bytes look like?",
        "get_data2 reports success even when it has nothing to give: neither the type, the length nor the return "
        "code tells; the content does, and for TLS 1.3 so does the ticket's age",
        "not the dummy (bytes(data) != bytes(4)), and for TLS 1.3 (decode(data).tls13) a ticket younger than "
        "tls13.lifetime seconds since tls13.arrival_time",
    ), attempt=is_resumable)


def check_ticket_lifetime(ticket_lifetime: Callable) -> CheckResult:
    """``ticket_lifetime(data) -> int``: the ticket lifetime (seconds) stored in TLS 1.3 session data."""
    scenarios = []
    for lifetime in (random.randint(60, 3600), random.randint(3601, 86400)):
        lab = Lab("1.3", lifetime=lifetime)
        with lab.connect() as conn:
            data = conn.session_data
            hint = decode(data).tls13.lifetime
        result, error = call_student(ticket_lifetime, data)
        scenarios.append(make_scenario(
            f"server lifetime set to {lifetime} s", str(lifetime), result, error,
            lambda r, h=hint: isinstance(r, int) and not isinstance(r, bool) and r == h,
            "decode(data) names every field; the TLS 1.3 section holds the last NewSessionTicket's lifetime"))
    return CheckResult("ticket_lifetime", scenarios, (
        "the lifetime is one of the blob's fields: find it in the inspector above",
        "decode(data) names every field; the TLS 1.3 part keeps what the last NewSessionTicket said",
        "decode(data).tls13.lifetime",
    ), attempt=ticket_lifetime)


# --- notebook 03 ----------------------------------------------------------------------------------


def _resumes(lab: Lab, result) -> bool:
    """Whether ``result`` resumes a new connection to ``lab`` (refused data, not an exception, is False)."""
    if not isinstance(result, (SessionData, bytes, bytearray)) or len(result) <= 4:
        return False
    try:
        with lab.connect(resume=bytes(result)) as again:
            return again.resumed
    except GnuTLSLabError:  # set_data refused the bytes (not a session of this library)
        return False


def check_resumable_data(resumable_data: Callable) -> CheckResult:
    """``resumable_data(client) -> SessionData | None``, called right after a TLS 1.3 handshake."""
    scenarios = []
    lab = Lab("1.3")
    with lab.connect() as conn:
        result, error = call_student(resumable_data, conn.client)
        resumed = _resumes(lab, result)
        scenarios.append(make_scenario(
            "the server's tickets are already on their way", "real data that resumes", result, error,
            lambda r, ok=resumed: ok, "the tickets are there: read them, then take the data"))
    quiet = Lab("1.3", auto_tickets=False)
    with quiet.connect() as conn:
        result, error = call_student(resumable_data, conn.client)
        scenarios.append(make_scenario(
            "the server sent no ticket (GNUTLS_NO_AUTO_SEND_TICKET)", "None", result, error,
            lambda r: r is None,
            "without a ticket get_data2 still succeeds and hands back the 4-byte dummy; check "
            "GNUTLS_SFLAGS_SESSION_TICKET (client.ticket_received) and say 'nothing yet' instead"))
        conn.server.send_tickets(1)
        result, error = call_student(resumable_data, conn.client)
        resumed = _resumes(quiet, result)
        scenarios.append(make_scenario(
            "the same connection, after the server sent a ticket later", "real data that resumes", result, error,
            lambda r, ok=resumed: ok, "a late ticket counts: the data changes with every ticket received"))
    return CheckResult("resumable_data", scenarios, (
        "two questions come before get_data2: has a ticket arrived, and has the client read what is waiting?",
        "client.ticket_received is GNUTLS_SFLAGS_SESSION_TICKET; tickets sent with the handshake count only once "
        "the client has read them",
        "client.read_available(); then None if not client.ticket_received, else client.get_data()",
    ), attempt=resumable_data)


def check_nonblocking_data(nonblocking_data: Callable) -> CheckResult:
    """``nonblocking_data(client) -> SessionData``, on a ``GNUTLS_NONBLOCK`` client with tickets waiting."""
    scenarios = []
    for round_ in (1, 2):
        lab = Lab("1.3")
        client, server = nonblocking_client(lab)
        try:
            result, error = call_student(nonblocking_data, client)
            resumed = _resumes(lab, result)
        finally:
            client.close()
            server.close()
        scenarios.append(make_scenario(
            f"GNUTLS_NONBLOCK client, tickets waiting unread (run {round_})", "real data that resumes",
            result, error, lambda r, ok=resumed: ok,
            "with GNUTLS_NONBLOCK get_data2 does not wait (waited_ms is empty) and returns the dummy: "
            "process the waiting records first (client.read_available()), then ask"))
    return CheckResult("nonblocking_data", scenarios, (
        "in this mode get_data2 never waits: what has to happen before you ask it?",
        "the server's tickets are already in the client's inbox, unread",
        "client.read_available(), then client.get_data()",
    ), attempt=nonblocking_data)


def check_did_resume(did_resume: Callable) -> CheckResult:
    """``did_resume(conn) -> bool`` for connections with and without offered session data."""
    lab = Lab("1.3", lifetime=600)
    first = lab.connect()
    good = first.session_data
    cases = [("no session data offered", lab.connect(), False)]
    with Lab("1.3", auto_tickets=False).connect() as quiet:
        dummy = quiet.client.get_data()
    cases.append(("the dummy offered", lab.connect(resume=dummy), False))
    cases.append(("a fresh ticket offered", lab.connect(resume=good), True))
    with FakeClock() as clock:
        expiring = Lab("1.3", lifetime=600)
        with expiring.connect() as seed:
            old = seed.session_data
        clock.advance(660)
        cases.append(("a ticket offered 11 minutes into a 10-minute lifetime", expiring.connect(resume=old), False))
    rotated = Lab("1.3")
    with rotated.connect() as seed:
        stale = seed.session_data
    rotated.rotate_ticket_key()
    cases.append(("a ticket offered after the server replaced its ticket key", rotated.connect(resume=stale), False))
    scenarios = []
    for name, conn, expected in cases:
        assert conn.resumed == expected, f"the library disagrees with the exercise about {name!r}"
        scenarios.append(yes_no_scenario(
            name, expected, did_resume, (conn,),
            "offering data is the client's wish; only gnutls_session_is_resumed (conn.resumed, "
            "client.is_resumed()) says whether the server accepted it"))
        conn.close()
    first.close()
    return CheckResult("did_resume", scenarios, (
        "offering session data is the client's wish: who decides whether it is taken?",
        "libgnutls says so after the handshake, on the client's session",
        "conn.client.is_resumed() (gnutls_session_is_resumed); conn.resumed says the same",
    ), attempt=did_resume)
