"""The processes of a spied run, and what the spy could not see in them.

Theory of operation. Besides one record per libgnutls call, the spy library writes a ``start`` record
when a process starts (its executable, ``argv[0]``, its parent, and ``gnutls``: ``linked`` when
libgnutls was in the global scope from the start, else ``none`` or ``local``) and an ``exit`` record
when it exits normally (``gnutls``: ``none``, ``global`` or ``local``: where libgnutls is then). A
process that ``exec``s logs one ``start`` per program under the same pid; one killed or ending with
``_exit`` logs no ``exit``.

From those, :func:`processes` tells per process whether it linked libgnutls, loaded it later with
``dlopen`` into the global scope (seen like a linked one), or loaded it with ``RTLD_LOCAL`` (Python's
``ctypes`` and ``cffi``, plugin loaders). In that last case the calls the program makes through its own
handle go straight to libgnutls and never reach the spy; the spy sees only calls from libraries that
link libgnutls (a plugin), marked ``local``, and calls libgnutls makes to its own public functions
(``gnutls_session_get_data`` calling ``gnutls_session_get_data2``), marked ``from: libgnutls``.
:func:`blind_spots` says so in sentences, and :func:`nothing_seen` says why a run has no session at all
(``sh -c ...`` does not link libgnutls, but its children may).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["SpyProcess", "processes", "blind_spots", "nothing_seen"]

#: What ``SpyProcess.gnutls`` says, in words.
GNUTLS_STATES = {
    "linked": "links libgnutls",
    "dlopened": "loaded libgnutls with dlopen (global scope: seen as if linked)",
    "local": "loaded libgnutls with dlopen(RTLD_LOCAL)",
    "none": "does not load libgnutls",
    "unknown": "did not link libgnutls, and ended without exiting normally (whether it loaded it later is unknown)",
}


@dataclass
class SpyProcess:
    """One process of the run: its programs (one per ``exec``), and what it did with libgnutls."""

    pid: int
    ppid: int | None = None
    programs: list = field(default_factory=list)  # argv[0]'s last component, in exec order
    exe: str = ""
    gnutls: str = "unknown"  # a key of GNUTLS_STATES
    sessions: int = 0  # TLS sessions of this process in the report
    local_calls: int = 0  # calls that found libgnutls outside the global scope
    library_calls: dict = field(default_factory=dict)  # call -> count: libgnutls calling itself, unattributed

    @property
    def program(self) -> str:
        return self.programs[-1] if self.programs else "?"

    def to_dict(self) -> dict:
        return {"pid": self.pid, "ppid": self.ppid, "program": self.program, "programs": list(self.programs),
                "exe": self.exe, "gnutls": self.gnutls, "sessions": self.sessions,
                "local_calls": self.local_calls, "library_calls": dict(self.library_calls)}


def processes(records: list, session_pids: Counter, unattributed: list) -> list:
    """Every process that logged a record, in the order they started.

    ``session_pids``: TLS sessions per pid in the report; ``unattributed``: records of calls libgnutls made
    to itself for sessions the spy never saw begin (the program's own calls bypassed it)."""
    found: dict = {}
    order = sorted(records, key=lambda r: r.get("mono_ns", 0))

    def get(pid: int) -> SpyProcess:
        if pid not in found:
            found[pid] = SpyProcess(pid)
        return found[pid]

    exits = {}
    for r in order:
        event, pid = r.get("ev"), r.get("pid")
        if pid is None:
            continue
        p = get(pid)
        if event == "start":
            p.ppid, p.exe = r.get("ppid"), r.get("exe", "")
            p.programs.append(r.get("program") or p.exe.rsplit("/", 1)[-1] or "?")
            p.gnutls = "linked" if r.get("gnutls") == "linked" else "unknown"
        elif event == "exit":
            p.ppid = r.get("ppid", p.ppid)
            exits[pid] = r.get("gnutls")
        if r.get("local"):
            p.local_calls += 1
    for pid, p in found.items():
        if not p.programs and p.ppid in found and found[p.ppid].programs:
            p.programs.append(found[p.ppid].program)  # a forked child that did not exec
        at_exit = exits.get(pid)
        if p.gnutls != "linked":
            if at_exit == "global":
                p.gnutls = "dlopened"
            elif at_exit == "local" or p.local_calls:
                p.gnutls = "local"
            elif at_exit == "none":
                p.gnutls = "none"
        p.sessions = session_pids.get(pid, 0)
    for r in unattributed:
        calls = get(r["pid"]).library_calls
        name = f"gnutls_session_{r['ev']}" if r["ev"] in ("get_data", "get_data2", "set_data", "is_resumed") else \
            f"gnutls_{r['ev']}"
        calls[name] = calls.get(name, 0) + 1
    return list(found.values())


def _count(n: int, word: str, plural: str = "") -> str:
    return f"{n} {word}" if n == 1 else f"{n} {plural or word + 's'}"


def blind_spots(procs: list, records: list) -> list:
    """Sentences on what the spy could not see in this run (empty when it saw every libgnutls call)."""
    said = []
    for p in procs:
        if p.gnutls != "local":
            continue
        sentence = (f"{p.program} (pid {p.pid}) loaded libgnutls with dlopen(RTLD_LOCAL), as Python's ctypes and "
                    "cffi and plugin loaders do: the calls it made through that handle went straight to libgnutls, "
                    "so its own TLS sessions are not in this report")
        if p.sessions:
            sentence += (f"; {_count(p.sessions, 'TLS session')} opened by a library that links libgnutls "
                         "(a plugin) went through the spy and are reported")
        if p.library_calls:
            calls = ", ".join(f"{name} x{n}" for name, n in sorted(p.library_calls.items()))
            sentence += f"; the spy saw only calls libgnutls made to itself ({calls}), which it does not attribute"
        said.append(sentence + ".")
    unresolved = Counter((r["pid"], r.get("function", "?")) for r in records if r.get("ev") == "unresolved")
    for (pid, function), n in sorted(unresolved.items()):
        said.append(f"In pid {pid} the spy could not find the real {function} ({_count(n, 'call')}) and returned "
                    "GNUTLS_E_INTERNAL_ERROR: that program's behaviour was changed.")
    return said


def nothing_seen(procs: list) -> str | None:
    """Why a run has no TLS session, in one sentence; None when the spy logged no process at all
    (a static or set-uid program, which ignores LD_PRELOAD)."""
    if not procs:
        return None
    local = [p for p in procs if p.gnutls == "local"]
    if local:
        p = local[0]
        return (f"{p.program} (pid {p.pid}) loaded libgnutls with dlopen(RTLD_LOCAL) (Python ctypes, cffi, a plugin "
                "loader): its calls through that handle go straight to libgnutls, where the spy cannot see them")
    first, children = procs[0], procs[1:]
    what = {"linked": f"{first.program} links libgnutls but called no gnutls_init",
            "dlopened": f"{first.program} loaded libgnutls but called no gnutls_init"}.get(
        first.gnutls, f"{first.program} does not link libgnutls")
    if not children:
        return what
    tls = [p for p in children if p.gnutls in ("linked", "dlopened")]
    others = Counter(p.program for p in children if p not in tls)
    parts = [f"{p.program} (pid {p.pid}) links libgnutls but called no gnutls_init" for p in tls]
    if others:
        names = ", ".join(name if n == 1 else f"{name} x{n}" for name, n in others.items())
        parts.append(f"{_count(sum(others.values()), 'other')} that do not link it ({names})")
    return f"{what}; of the {_count(len(children), 'process', 'processes')} it started: " + "; ".join(parts)
