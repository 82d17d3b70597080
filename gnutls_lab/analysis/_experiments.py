"""Experiments: resumption success and what a passive observer links, versus ticket reuse.

Theory of operation
-------------------
A *run* is a sequence of ``visits`` from one lab client to one lab server (:class:`~gnutls_lab.Lab`),
each a real libgnutls handshake. A :class:`~gnutls_lab.FakeClock` sets the time between visits (the
*gaps*, fixed or drawn with ``seed``), so lifetimes and key periods of hours pass in milliseconds.
Before each visit the client picks session data from the tickets it holds (client policy); after it,
it keeps the new tickets the server sent. Every visit's wire tap goes to one
:class:`~gnutls_lab.analysis._linkage.Observer`, which links visits that show the same value in clear.

Client policy (:class:`ExperimentConfig`):

* ``max_reuse`` = k: offer each ticket at most k times (1 = single use, as RFC 8446 Appendix C.4
  advises; ``None`` = unlimited; 0 = never resume). A ticket the server refused is dropped.
* ``choice``: ``"reuse"`` (default) offers the same ticket again until it has been offered k times,
  then moves to the newest ticket received; ``"newest"`` always offers the ticket received last (so
  under TLS 1.3, where every resumption brings new tickets, k hardly matters); ``"pool"`` keeps every
  ticket received and spends the oldest first.
* ``mechanism``: a name of :data:`gnutls_lab.sessions.MECHANISMS`: ``"tls13-psk"``, ``"tls13-psk-ke"``
  (no (EC)DHE on resumption), ``"tls12-ticket"`` (RFC 5077) or ``"tls12-session-id"`` (server session
  cache, no tickets). Under TLS 1.2 the "ticket" a client holds is its packed session data.
* ``compat_mode``: True (libgnutls's default) sends TLS 1.3's ``legacy_session_id`` (middlebox
  compatibility mode, RFC 8446 Appendix D.4), which a GnuTLS client keeps in its session data and
  sends again on every resumption; False puts ``%DISABLE_TLS13_COMPAT_MODE`` in the client's
  priority, and the field is empty on every visit. No effect on TLS 1.2.

Server policy: ``lifetime`` (``gnutls_db_set_cache_expiration``; None = libgnutls's 21600 s),
``tickets`` and ``session_cache`` on/off (None = what the mechanism needs), ``tickets_per_handshake``
(TLS 1.3; None = libgnutls's 2), ``rotate_every`` (force a fresh ticket master key every R seconds;
the natural GnuTLS rotation every 3 x lifetime always runs). A forced rotation kills every earlier
ticket at once; a natural one leaves the previous period's key valid.

The fake clock starts (``start=None``) at the first ticket-key period boundary after the real time,
so key periods are the same in every run, and so that GnuTLS 3.7, whose TLS 1.3 ticket lifetimes
mix the fake ``gnutls_time`` with the real high-resolution clock, still issues tickets on resumed
sessions (a start in the past makes it stop).

Metrics (per run, :meth:`ExperimentResult.summary`)
---------------------------------------------------
* ``attempts`` A: visits where the client offered real session data. ``resumed`` R: those the
  library resumed (``gnutls_session_is_resumed`` on the client).
* ``success_rate`` = R / A (None when A = 0), with the Wilson score interval at 95 %
  (:func:`wilson_interval`): ``success_low``, ``success_high``.
* From the observer's :class:`~gnutls_lab.analysis._linkage.Linkage` over all N visits (every value in clear:
  session IDs, TLS 1.2 tickets, TLS 1.3 PSK identities): ``linkable_pair_fraction`` =
  Σ_c C(|c|,2) / C(N,2); ``largest_cluster`` = max |c|; ``max_tracking_seconds`` =
  max_c (max t − min t), the tracking period of Sy et al. (ACSAC 2018).
* ``ticket_linkable_pair_fraction``, ``ticket_largest_cluster``, ``ticket_max_tracking_seconds``:
  the same with ticket evidence only (TLS 1.2 ``session_ticket``, TLS 1.3 PSK identity), i.e. what
  single-use tickets are meant to prevent, without the session IDs.
* ``linked_visit_fraction`` = (visits in a cluster of 2 or more) / N.
* ``observer_agreement`` = fraction of visits where the observer's "resumed" verdict from the wire
  equals the library's.
"""

from __future__ import annotations

import html
import math
import random
import sys
import time as _time
from dataclasses import asdict, dataclass, replace
from typing import Sequence

from ..sessions import CLOCK_HORIZON, FakeClock, check_clock_value, check_seconds
from ..errors import UsageError
from ..sessions import MECHANISMS, Lab, mechanism
from ..sessions import MAX_EXTRA_TICKETS, validate_lifetime
from ._linkage import TICKET_LINK_KINDS, Observer

__all__ = [
    "DEFAULT_LIFETIME",
    "MECHANISMS",
    "CHOICES",
    "GAP_DISTRIBUTIONS",
    "SY2018_REVISIT_CDF",
    "wilson_interval",
    "draw_gaps",
    "ExperimentConfig",
    "ExperimentResult",
    "SweepResult",
    "run_experiment",
    "sweep",
    "sweep_reuse",
    "MAX_VISITS",
    "MAX_SWEEP_VISITS",
]

#: The most visits of one run. Every visit's records and observed connection stay in memory (about
#: 6 KB a visit; 20,000 visits: 146 MB, 43 s on a shared machine), so 100,000 visits hold about 0.6 GB.
MAX_VISITS = 100_000
#: The most visits of a whole sweep (every run's results are kept): about 1.2 GB.
MAX_SWEEP_VISITS = 200_000

DEFAULT_LIFETIME = 21600  # libgnutls's expire_time when gnutls_db_set_cache_expiration is not called


CHOICES = ("reuse", "newest", "pool")
GAP_DISTRIBUTIONS = ("fixed", "exponential", "uniform", "sy2018")

#: Revisit intervals of Sy et al., "Tracking Users across the Web via TLS Session Resumption" (ACSAC 2018) as CDF
#: knots (seconds, P[gap <= seconds]). The paper stops at 48 h (87.3 %); the remaining 12.7 % is
#: spread up to 7 days (604800 s, the longest TLS 1.3 ticket lifetime), an assumption of ours.
SY2018_REVISIT_CDF = (
    (0.0, 0.0), (300.0, 0.177), (600.0, 0.277), (1800.0, 0.405), (3600.0, 0.483),
    (86400.0, 0.816), (172800.0, 0.873), (604800.0, 1.0),
)

_Z95 = 1.959963984540054


def wilson_interval(successes: int, trials: int, z: float = _Z95) -> tuple:
    """Wilson score interval for a proportion: (low, high), or (0.0, 1.0) when trials = 0.

    With p = s/n: centre = (p + z²/2n) / (1 + z²/n), half-width =
    z / (1 + z²/n) · sqrt(p(1−p)/n + z²/4n²). It stays inside [0, 1] and is sensible at p = 0 or 1,
    where the normal approximation collapses to a zero-width interval.
    """
    if trials <= 0:
        return (0.0, 1.0)
    if not 0 <= successes <= trials:
        raise UsageError(f"{successes} successes out of {trials} trials is not a proportion")
    p, n = successes / trials, trials
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exact at the ends, no rounding residue
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return (low, high)


def _sy2018_gap(u: float) -> float:
    for (x0, p0), (x1, p1) in zip(SY2018_REVISIT_CDF, SY2018_REVISIT_CDF[1:]):
        if u <= p1:
            return x0 + (x1 - x0) * (u - p0) / (p1 - p0)
    return SY2018_REVISIT_CDF[-1][0]


def draw_gaps(kind: str, count: int, gap: float = 60.0, seed: int = 0) -> list:
    """``count`` gaps in seconds, reproducible from ``seed`` (``random.Random``, no numpy).

    ``fixed``: every gap = ``gap``. ``exponential``: mean ``gap`` (a Poisson visit process).
    ``uniform``: on [0, 2·gap] (mean ``gap``). ``sy2018``: inverse-CDF sampling, linear between the
    knots of :data:`SY2018_REVISIT_CDF` (``gap`` unused).
    """
    if kind not in GAP_DISTRIBUTIONS:
        raise UsageError(f"unknown gap distribution {kind!r}: use one of {', '.join(GAP_DISTRIBUTIONS)}")
    if not gap >= 0 or math.isinf(gap):
        raise UsageError(f"the gap between visits must be a finite number of seconds >= 0, not {gap!r}")
    rng = random.Random(seed)
    if kind == "fixed":
        return [float(gap)] * count
    if kind == "exponential":
        return [rng.expovariate(1.0 / gap) if gap else 0.0 for _ in range(count)]
    if kind == "uniform":
        return [rng.uniform(0.0, 2.0 * gap) for _ in range(count)]
    return [_sy2018_gap(rng.random()) for _ in range(count)]


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that defines a run; two equal configs give the same records (ticket bytes aside).

    ``gaps``: a distribution name (see :func:`draw_gaps`, with ``gap`` and ``seed``) or an explicit
    sequence of ``visits − 1`` gaps in seconds. ``keep_wire``: keep every visit's wire tap and
    secrets, for :meth:`ExperimentResult.to_pcapng` (slower; off by default).
    """

    mechanism: str = "tls13-psk"
    visits: int = 20
    max_reuse: int | None = 1
    choice: str = "reuse"
    gaps: str | tuple = "fixed"
    gap: float = 60.0
    seed: int = 0
    lifetime: int | None = None
    tickets: bool | None = None
    session_cache: bool | None = None
    tickets_per_handshake: int | None = None
    rotate_every: float | None = None
    start: float | None = None
    compat_mode: bool = True
    keep_wire: bool = False

    def __post_init__(self):
        mechanism(self.mechanism)  # a known name, or a one-line error listing them
        if isinstance(self.visits, bool) or not isinstance(self.visits, int) or self.visits < 1:
            raise UsageError(f"a run needs at least one visit, not {self.visits!r}")
        if self.visits > MAX_VISITS:
            raise UsageError(f"{self.visits} visits refused: at most {MAX_VISITS} per run (MAX_VISITS; every "
                             "visit's records stay in memory, about 6 KB each)")
        if self.max_reuse is not None and (not isinstance(self.max_reuse, int) or self.max_reuse < 0):
            raise UsageError(f"max_reuse is a whole number >= 0 or None (unlimited), not {self.max_reuse!r}")
        if self.choice not in CHOICES:
            raise UsageError(f"choice {self.choice!r}: use one of {', '.join(CHOICES)}")
        if not isinstance(self.gaps, str):
            object.__setattr__(self, "gaps", tuple(float(g) for g in self.gaps))
            if len(self.gaps) != self.visits - 1 or any(g < 0 for g in self.gaps):
                raise UsageError(f"{self.visits} visits need {self.visits - 1} gaps >= 0, got {list(self.gaps)}")
        else:
            draw_gaps(self.gaps, 0, self.gap)  # validates the name and gap now, not mid-run
        if self.tickets_per_handshake is not None and self.tickets_per_handshake < 0:
            raise UsageError("tickets_per_handshake must be 0 or more")
        if self.tickets_per_handshake is not None and self.tickets_per_handshake > MAX_EXTRA_TICKETS + 2:
            raise UsageError(f"tickets_per_handshake {self.tickets_per_handshake} refused: at most "
                             f"{MAX_EXTRA_TICKETS + 2} (libgnutls's 2 automatic tickets and {MAX_EXTRA_TICKETS} more)")
        if self.rotate_every is not None and not self.rotate_every > 0:
            raise UsageError(f"rotate_every must be a positive number of seconds, not {self.rotate_every!r}")
        self._check_times()

    def _check_times(self) -> None:
        """Refuse times libgnutls cannot hold (32-bit seconds) before any callback sees them."""
        if self.lifetime is not None:
            validate_lifetime(self.lifetime)  # 0: libgnutls divides by it
        check_seconds(self.gap, "the gap between visits")
        if isinstance(self.gaps, tuple):
            for gap in self.gaps:
                check_seconds(gap, "a gap between visits")
        if self.rotate_every is not None:
            check_seconds(self.rotate_every, "rotate_every", allow_zero=False)
        first = self.start
        if first is None:
            first = (math.floor(_time.time() / self.key_period) + 1) * self.key_period
        first = check_clock_value(first, "the clock start")
        last = first + sum(self.gap_list())
        if last > CLOCK_HORIZON:
            raise UsageError(f"{self.visits} visits with these gaps end {last - first:g} s after the start, past "
                             f"{CLOCK_HORIZON} (the year 2106), the last second libgnutls can represent; "
                             "use shorter gaps or fewer visits")

    @property
    def protocol(self) -> str:
        return MECHANISMS[self.mechanism].tls

    @property
    def effective_lifetime(self) -> int:
        return DEFAULT_LIFETIME if self.lifetime is None else self.lifetime

    @property
    def key_period(self) -> int:
        """GnuTLS's ticket-key period: 3 × lifetime seconds (``lib/stek.c``)."""
        return 3 * self.effective_lifetime

    @property
    def reuse_label(self) -> str:
        return "unlimited" if self.max_reuse is None else str(self.max_reuse)

    def gap_list(self) -> list:
        if isinstance(self.gaps, tuple):
            return list(self.gaps)
        return draw_gaps(self.gaps, self.visits - 1, self.gap, self.seed)

    def make_lab(self) -> Lab:
        options = MECHANISMS[self.mechanism].lab_options()
        if self.tickets is not None:
            options["tickets"] = self.tickets
        if self.session_cache is not None:
            options["session_cache"] = self.session_cache
        per_handshake = self.tickets_per_handshake
        auto, extra = True, 0
        if per_handshake is not None and self.protocol == "1.3":
            auto, extra = (True, per_handshake - 2) if per_handshake >= 2 else (False, per_handshake)
        return Lab(**options, lifetime=self.lifetime, auto_tickets=auto, extra_tickets=extra,
                   compat_mode=self.compat_mode)


class _Ticket:
    __slots__ = ("label", "data", "issued_at", "uses")

    def __init__(self, label: str, data, issued_at: float):
        self.label, self.data, self.issued_at, self.uses = label, data, issued_at, 0


def _new_session_data(conn) -> list:
    """What the client keeps after a visit: TLS 1.3, one blob per NewSessionTicket; TLS 1.2, its
    packed session after a full handshake (a GnuTLS TLS 1.2 server issues no new ticket when it
    resumes from one, and ``get_data2`` then returns the offered bytes unchanged)."""
    if conn.protocol == "TLS1.3":
        return list(conn.tickets)
    if conn.resumed:
        return []
    data = conn.session_data
    return [] if data.dummy else [data]


def _offered_in_clear(seen) -> str:
    """The resumption values the ClientHello showed in clear, as link kinds ("" for none)."""
    hello = seen.client_hello
    if hello is None:
        return ""
    kinds = [kind for kind, present in (("psk_identity", hello.psk_identities), ("session_id", hello.session_id),
                                        ("ticket", hello.session_ticket)) if present]
    return ",".join(kinds)


def _progress(total: int, progress, desc: str):
    """A tqdm.auto bar on stderr: shown after 1 s (``progress=None``), always (True) or never (False)."""
    if progress is False:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is a lab extra, not a core dependency
        return None
    return tqdm(total=total, desc=desc, unit="visit", file=sys.stderr, leave=False,
                delay=0 if progress else 1.0)


def _run(config: ExperimentConfig, bar=None) -> ExperimentResult:
    lab = config.make_lab()
    gaps = config.gap_list()
    period = config.key_period
    start = config.start
    if start is None:
        start = float((math.floor(_time.time() / period) + 1) * period)
    observer = Observer()
    held: list = []  # tickets the client may still offer, oldest first
    last = None  # the ticket offered at the previous visit
    records, observed = [], []
    captures = [] if config.keep_wire else None
    issued = 0
    next_rotation = config.rotate_every
    began = _time.perf_counter()
    with FakeClock(start=start) as clock:
        for visit in range(config.visits):
            gap = gaps[visit - 1] if visit else 0.0
            clock.advance(gap)
            now = clock.elapsed
            rotated = False
            if next_rotation is not None and now >= next_rotation:
                lab.rotate_ticket_key()
                rotated = True
                next_rotation = (math.floor(now / config.rotate_every) + 1) * config.rotate_every
            ticket = None
            if config.max_reuse != 0 and held:
                if config.choice == "pool":
                    ticket = held[0]
                elif config.choice == "reuse" and last is not None and last in held:
                    ticket = last
                else:
                    ticket = held[-1]
            conn = lab.connect(resume=ticket.data if ticket is not None else None, observe="wire",
                               keylog=config.keep_wire)
            try:
                if captures is not None:
                    captures.append(conn.capture())
                resumed = conn.resumed
                fresh = _new_session_data(conn)
                links_before = len(observer.links)
                seen = observer.observe(conn.wire, time=now)
                protocol = conn.protocol
            finally:
                conn.close()
            if ticket is not None:
                ticket.uses += 1
                limit_reached = config.max_reuse is not None and ticket.uses >= config.max_reuse
                if limit_reached or not resumed:
                    held.remove(ticket)
            last = ticket
            new = []
            for data in fresh:
                issued += 1
                new.append(_Ticket(f"T{issued}", data, now))
            if config.choice == "pool":
                held.extend(new)
            elif new:  # only the newest spare (and, for "reuse", the ticket in use) can be offered again
                held = [t for t in held if t is ticket] + new[-1:]
            observed.append(seen)
            links_here = sorted({link.kind for link in observer.links[links_before:]})
            records.append({
                "visit": visit,
                "time_s": now,
                "gap_s": gap,
                "key_period": int(math.floor(clock.now / period) - math.floor(start / period)),
                "key_rotated": rotated,
                "mechanism": config.mechanism,
                "protocol": protocol,
                "reuse_limit": config.max_reuse,
                "attempted": ticket is not None,
                "ticket": ticket.label if ticket is not None else None,
                "ticket_use": ticket.uses if ticket is not None else None,
                "ticket_age_s": now - ticket.issued_at if ticket is not None else None,
                "resumed": resumed,
                "observer_resumed": seen.resumed,
                "offered_in_clear": _offered_in_clear(seen),
                "tickets_received": len(new),
                "tickets_held": len(held),
                "linked_by": ",".join(links_here),
            })
            if bar is not None:
                bar.update(1)
    elapsed = _time.perf_counter() - began
    linkage = observer.linkage()
    ticket_linkage = linkage.restricted_to(TICKET_LINK_KINDS)
    for cluster in linkage.clusters:
        for visit in cluster:
            records[visit]["cluster"] = cluster[0]
            records[visit]["cluster_size"] = len(cluster)
    return ExperimentResult(config, records, observed, linkage, ticket_linkage, start, elapsed, captures)


def run_experiment(config: ExperimentConfig | None = None, *, progress=None, **options) -> ExperimentResult:
    """One run: ``run_experiment(mechanism="tls13-psk", visits=50, max_reuse=2, gap=600, seed=1)``.

    ``options`` are :class:`ExperimentConfig` fields (they override ``config``). ``progress``: None
    shows a tqdm bar on stderr if the run lasts more than a second, True always, False never.
    Uses the process-wide fake clock: no other :class:`~gnutls_lab.FakeClock` may be active.
    """
    config = replace(config, **options) if config is not None else ExperimentConfig(**options)
    bar = _progress(config.visits, progress, f"{config.mechanism} k={config.reuse_label}")
    try:
        return _run(config, bar)
    finally:
        if bar is not None:
            bar.close()


def sweep(parameter: str, values: Sequence, config: ExperimentConfig | None = None, *, progress=None,
          **options) -> SweepResult:
    """One run per value of one :class:`ExperimentConfig` field, everything else equal (same seed,
    so the same visit times): ``sweep("lifetime", [300, 600, 3600], max_reuse=None, gap=120)``."""
    if parameter not in ExperimentConfig.__dataclass_fields__:
        raise UsageError(f"cannot sweep {parameter!r}: not an ExperimentConfig field")
    base = replace(config, **options) if config is not None else ExperimentConfig(**options)
    values = list(values)
    if not values:
        raise UsageError(f"a sweep of {parameter} needs at least one value")
    if parameter != "visits" and len(values) * base.visits > MAX_SWEEP_VISITS:
        raise UsageError(f"{len(values)} runs of {base.visits} visits refused: at most {MAX_SWEEP_VISITS} visits "
                         "in one sweep (MAX_SWEEP_VISITS; every run's results stay in memory)")
    configs = [replace(base, **{parameter: value}) for value in values]
    if sum(c.visits for c in configs) > MAX_SWEEP_VISITS:
        raise UsageError(f"{sum(c.visits for c in configs)} visits refused: at most {MAX_SWEEP_VISITS} in one "
                         "sweep (MAX_SWEEP_VISITS; every run's results stay in memory)")
    bar = _progress(sum(c.visits for c in configs), progress, f"{base.mechanism} {parameter} sweep")
    try:
        return SweepResult([_run(c, bar) for c in configs], parameter)
    finally:
        if bar is not None:
            bar.close()


def sweep_reuse(ks: Sequence = (1, 2, 3, 5, None), config: ExperimentConfig | None = None, *,
                progress=None, **options) -> SweepResult:
    """One run per reuse limit k in ``ks`` (None = unlimited, 0 = no resumption)."""
    return sweep("max_reuse", ks, config, progress=progress, **options)


def _percent(x) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def _dataframe(rows: list):
    try:
        import pandas
    except ImportError:
        raise UsageError("to_dataframe needs pandas (pip install pandas); records() gives the same "
                         "table as a list of dicts") from None
    return pandas.DataFrame(rows)


def _html_rows(rows: list, columns: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(row.get(c)))}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


class ExperimentResult:
    """One run: ``records()`` (one dict per visit), ``summary()`` (the metrics), ``plot()``.

    A visit record: ``visit`` (index), ``time_s`` (fake seconds since the first visit), ``gap_s``,
    ``key_period`` (natural ticket-key periods since the start), ``key_rotated`` (a forced rotation
    just before it), ``mechanism``, ``protocol``, ``reuse_limit`` (k; None = unlimited),
    ``attempted`` (real session data offered), ``ticket`` (client-side label ``T<n>`` in order of
    receipt), ``ticket_use`` (1..k), ``ticket_age_s``, ``resumed`` (the library's verdict),
    ``observer_resumed`` (the observer's, from the wire), ``offered_in_clear`` (what the ClientHello
    showed: ``psk_identity``, ``session_id``, ``ticket``), ``tickets_received``, ``tickets_held``,
    ``linked_by`` (kinds of value linking it to an earlier visit), ``cluster`` (first visit of its
    observer cluster) and ``cluster_size``.

    Also kept: ``config``, ``observed`` (the observer's :class:`~gnutls_lab.analysis._observer.ObservedConnection`
    per visit), ``linkage`` (all evidence) and ``ticket_linkage`` (ticket evidence only),
    ``clock_start`` (the fake clock's start, Unix seconds) and ``elapsed_seconds`` (wall time);
    with ``keep_wire=True``, ``captures``: each visit's wire tap, secrets and time, for
    :meth:`to_pcapng` (None otherwise).
    """

    def __init__(self, config, records, observed, linkage, ticket_linkage, clock_start, elapsed_seconds,
                 captures=None):
        self.config = config
        self._records = records
        self.observed = observed
        self.linkage = linkage
        self.ticket_linkage = ticket_linkage
        self.clock_start = clock_start
        self.elapsed_seconds = elapsed_seconds
        self.captures = captures

    def to_pcapng(self, path, *, keylog_path=None) -> dict:
        """Every visit as one TCP stream of a pcapng file that Wireshark opens and decrypts by itself
        (``tcp.stream`` = visit index, times from the fake clock); ``keylog_path`` also writes the
        key log. Both files hold secrets and are created with mode 0600. Needs ``keep_wire=True``."""
        if self.captures is None:
            raise UsageError("this run kept no wire taps: run it with keep_wire=True to write a capture file")
        from ..sessions import write_pcapng

        return write_pcapng(self.captures, path, keylog_path=keylog_path)

    def records(self) -> list:
        """The tidy table: one dict per visit (copies; edit freely)."""
        return [dict(r) for r in self._records]

    def to_dataframe(self):
        """``records()`` as a pandas DataFrame (pandas is optional; UsageError without it)."""
        return _dataframe(self.records())

    def summary(self) -> dict:
        """The run's metrics (module docstring), plus its policy, as plain JSON-ready values."""
        records = self._records
        attempts = sum(r["attempted"] for r in records)
        resumed = sum(r["attempted"] and r["resumed"] for r in records)
        low, high = wilson_interval(resumed, attempts)
        n = len(records)
        linkage, tickets = self.linkage, self.ticket_linkage
        return {
            "mechanism": self.config.mechanism,
            "reuse_limit": self.config.max_reuse,
            "choice": self.config.choice,
            "lifetime": self.config.effective_lifetime,
            "rotate_every": self.config.rotate_every,
            "tickets_per_handshake": self.config.tickets_per_handshake,
            "compat_mode": self.config.compat_mode,
            "gaps": self.config.gaps if isinstance(self.config.gaps, str) else "explicit",
            "gap": self.config.gap,
            "seed": self.config.seed,
            "visits": n,
            "attempts": attempts,
            "resumed": resumed,
            "full_handshakes": sum(not r["resumed"] for r in records),
            "success_rate": resumed / attempts if attempts else None,
            "success_low": low,
            "success_high": high,
            "linkable_pair_fraction": linkage.linkable_pair_fraction,
            "largest_cluster": linkage.largest_cluster,
            "max_tracking_seconds": linkage.max_tracking_seconds,
            "linked_visit_fraction": sum(len(c) for c in linkage.clusters if len(c) > 1) / n,
            "ticket_linkable_pair_fraction": tickets.linkable_pair_fraction,
            "ticket_largest_cluster": tickets.largest_cluster,
            "ticket_max_tracking_seconds": tickets.max_tracking_seconds,
            "observer_agreement": sum(r["resumed"] == r["observer_resumed"] for r in records) / n,
            "duration_seconds": records[-1]["time_s"],
        }

    def __repr__(self) -> str:
        s = self.summary()
        return (f"<ExperimentResult {s['mechanism']} k={self.config.reuse_label} ({s['choice']}), "
                f"{s['visits']} visits over {s['duration_seconds']:g} s: resumed {s['resumed']}/{s['attempts']} "
                f"({_percent(s['success_rate'])}, 95% CI {_percent(s['success_low'])}–{_percent(s['success_high'])}); "
                f"observer links {s['linkable_pair_fraction']:.1%} of pairs ({s['ticket_linkable_pair_fraction']:.1%} "
                f"by tickets alone), follows one client up to {s['max_tracking_seconds']:g} s>")

    def _repr_html_(self) -> str:
        s = self.summary()
        columns = ("visit", "time_s", "ticket", "ticket_use", "attempted", "resumed", "observer_resumed",
                   "tickets_received", "cluster", "linked_by")
        shown = self._records if len(self._records) <= 30 else self._records[:15] + self._records[-15:]
        return (f"<div><p><b>{html.escape(repr(self)[1:-1])}</b></p>"
                f"{_html_rows([{'metric': k, 'value': v} for k, v in s.items()], ('metric', 'value'))}<p>Visits{' (first and last 15)' if shown is not self._records else ''}:</p>"
                f"{_html_rows(shown, columns)}</div>")


class SweepResult:
    """Runs that differ in one config field, ``parameter`` (``max_reuse`` for :func:`sweep_reuse`):
    ``records()`` is one summary row per run, ``values`` the swept values in order."""

    def __init__(self, results: Sequence[ExperimentResult], parameter: str = "max_reuse"):
        self.results = list(results)
        self.parameter = parameter

    @property
    def values(self) -> list:
        return [getattr(r.config, self.parameter) for r in self.results]

    @property
    def reuse_limits(self) -> list:
        return [r.config.max_reuse for r in self.results]

    def records(self) -> list:
        """One dict per run: :meth:`ExperimentResult.summary`."""
        return [r.summary() for r in self.results]

    def visit_records(self) -> list:
        """Every visit of every run, one dict each (``reuse_limit`` tells the runs apart)."""
        return [row for r in self.results for row in r.records()]

    def to_dataframe(self, visits: bool = False):
        return _dataframe(self.visit_records() if visits else self.records())

    def config(self) -> dict:
        """The shared configuration (without the swept field)."""
        d = asdict(self.results[0].config)
        d.pop(self.parameter)
        return d

    def __repr__(self) -> str:
        first = self.results[0].config
        lines = [f"<SweepResult of {self.parameter}, {first.mechanism}, {first.visits} visits per run:"]
        for value, s in zip(self.values, self.records()):
            k = "unlimited" if value is None and self.parameter == "max_reuse" else value
            lines.append(f"  {'k' if self.parameter == 'max_reuse' else self.parameter}={k}: resumed {s['resumed']}/{s['attempts']} ({_percent(s['success_rate'])}), "
                         f"linkable pairs {s['linkable_pair_fraction']:.1%} (tickets alone "
                         f"{s['ticket_linkable_pair_fraction']:.1%}), max tracking {s['max_tracking_seconds']:g} s")
        return "\n".join(lines) + ">"

    def _repr_html_(self) -> str:
        columns = ("reuse_limit", "lifetime", "rotate_every", "attempts", "resumed", "success_rate", "success_low", "success_high",
                   "linkable_pair_fraction", "ticket_linkable_pair_fraction", "largest_cluster",
                   "max_tracking_seconds")
        return (f"<div><p><b>Sweep of {html.escape(self.parameter)}, "
                f"{html.escape(self.results[0].config.mechanism)}</b></p>"
                f"{_html_rows(self.records(), columns)}</div>")
