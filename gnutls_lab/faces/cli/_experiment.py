"""``gnutls-lab experiment reuse``: resumption success and linkability versus ticket reuse, per k.

One run per reuse limit k = 1..K (and k = unlimited with ``--unlimited``), each a sequence of real
in-process handshakes under a fake clock; see :mod:`gnutls_lab.analysis._experiments` for the policies and the
metric definitions. JSON (``--json``)::

    {"experiment": "reuse", "gnutls_version": "3.7.9", "config": {...},
     "results": [{"reuse_limit": 1, "attempts": ..., "resumed": ..., "success_rate": ...,
                  "success_low": ..., "success_high": ..., "linkable_pair_fraction": ...,
                  "max_tracking_seconds": ..., ...}, ...]}

``reuse_limit`` is null for unlimited reuse; ``success_rate`` is null when nothing was attempted.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import sys
from dataclasses import replace

from ...errors import UsageError
from ...sessions import MECHANISMS, write_file
from . import add_output_argument, printable
from ._core import add_tls_argument, write_capture_files

__all__ = ["register"]

# Further experiments, each a module of this package with ``register(experiment_subparsers)``; order = --help.
_MORE_EXPERIMENTS: tuple[str, ...] = ("experiment_replay", "experiment_clients")

#: (--tls, --mechanism) → the mechanism's name (gnutls_lab.sessions.MECHANISMS)
_MECHANISM = {(m.tls, m.cli): name for name, m in MECHANISMS.items()}
_WORDS = tuple(dict.fromkeys(m.cli for m in MECHANISMS.values()))


def _reuse(args) -> int:
    from ...binding import library_info
    from ...analysis import MAX_SWEEP_VISITS, ExperimentConfig, sweep_reuse

    if args.max_reuse < 1:
        raise UsageError(f"--max-reuse must be at least 1 (got {args.max_reuse}); k = 1 is single use")
    if args.visits < 2:
        raise UsageError(f"--visits must be at least 2 (got {args.visits}): a single visit has nothing to resume")
    mechanism = _MECHANISM.get((args.tls, args.mechanism))
    if mechanism is None:
        versions = " or ".join(sorted({tls for tls, word in _MECHANISM if word == args.mechanism}))
        raise UsageError(f"--mechanism {args.mechanism} exists only with --tls {versions} "
                         f"(--tls {args.tls}: {', '.join(word for tls, word in _MECHANISM if tls == args.tls)})")
    if args.plot and os.path.splitext(args.plot)[1].lower() not in (".png", ".svg"):
        raise UsageError(f"--plot writes .png or .svg files, not {printable(args.plot)}")
    config = ExperimentConfig(mechanism=mechanism, visits=args.visits, choice=args.choice, gaps=args.gaps,
                              gap=args.gap, seed=args.seed, lifetime=args.lifetime,
                              rotate_every=args.rotate_every, compat_mode=args.compat_mode)
    runs = args.max_reuse + (1 if args.unlimited else 0)
    if runs * args.visits > MAX_SWEEP_VISITS:  # before a list of runs is even made
        raise UsageError(f"{runs} runs of {args.visits} visits refused: at most {MAX_SWEEP_VISITS} visits in one "
                         "sweep (every run's results stay in memory); lower --max-reuse or --visits")
    ks = list(range(1, args.max_reuse + 1)) + ([None] if args.unlimited else [])
    if args.pcap or args.keylog:
        config = replace(config, keep_wire=True)
    sweep = sweep_reuse(ks, config, progress=False if args.json else None)
    results = sweep.records()
    capture = None
    if args.pcap or args.keylog:  # every run's visits, k = 1 first: tcp.stream numbers them in that order
        captures = [c for run in sweep.results for c in run.captures]
        capture = write_capture_files(captures, args.pcap, args.keylog, args.json)
    if args.plot:
        from .. import plot_sweep  # matplotlib: loaded only for --plot

        figure = io.BytesIO()  # rendered first, then written safely like every file the tool writes
        plot_sweep(sweep).savefig(figure, format=os.path.splitext(args.plot)[1].lower().lstrip("."))
        write_file(args.plot, figure.getvalue())
    if args.json:
        json.dump({"experiment": "reuse", "gnutls_version": library_info().version,
                   "config": sweep.config(), "results": results, **({"capture": capture} if capture else {})},
                  sys.stdout, indent=2)
        print()
        return 0
    first = sweep.results[0].config
    print(f"{first.mechanism}: {first.visits} visits per run, gaps {first.gaps} ({first.gap:g} s), seed {first.seed}, "
          f"lifetime {first.effective_lifetime} s, GnuTLS {library_info().version}"
          + ("" if first.compat_mode else ", compat mode off"))
    print(f"{'k':>9}  {'resumed':>9}  {'success (95% CI)':>20}  {'linkable pairs':>14}  {'by ticket':>9}  "
          f"{'max tracking':>12}")
    for r in results:
        k = "unlimited" if r["reuse_limit"] is None else r["reuse_limit"]
        rate = "n/a" if r["success_rate"] is None else (
            f"{r['success_rate']:.0%} ({r['success_low']:.0%}–{r['success_high']:.0%})")
        print(f"{k:>9}  {r['resumed']:>4}/{r['attempts']:<4}  {rate:>20}  {r['linkable_pair_fraction']:>14.1%}  "
              f"{r['ticket_linkable_pair_fraction']:>9.1%}  {r['max_tracking_seconds']:>10g} s")
    if args.plot:
        print(f"figure written to {printable(args.plot)}", file=sys.stderr)
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("experiment", help="tracking experiments on real handshakes (ticket reuse)",
                              epilog="Each experiment takes --json for machine-readable output; see "
                                     "gnutls-lab experiment EXPERIMENT --help.")
    sub = p.add_subparsers(dest="experiment", metavar="EXPERIMENT")
    p.set_defaults(func=lambda args: (print("gnutls-lab experiment: an experiment is required "
                                            "(see gnutls-lab experiment --help)", file=sys.stderr), 2)[1])

    r = sub.add_parser("reuse", help="resumption success and observer linkability for reuse limits k = 1..K",
                       description="One run per reuse limit k: real in-process handshakes under a fake clock, "
                                   "a passive observer on the wire. Success is the share of resumption attempts the "
                                   "server accepted; linkable pairs, the share of visit pairs the observer can link.")
    add_tls_argument(r)
    r.add_argument("--mechanism", choices=_WORDS, default="ticket",
                   help="how to resume: tickets (default; TLS 1.3: a PSK with (EC)DHE), session-id (TLS 1.2: the "
                        "server's session cache) or psk-ke (TLS 1.3: a PSK without (EC)DHE)")
    r.add_argument("--visits", type=int, default=20, metavar="N",
                   help="visits per run, 2 to 100000 (default 20)")
    r.add_argument("--max-reuse", type=int, default=3, metavar="K",
                   help="runs for k = 1..K (default 3); at most 200000 visits in all runs together")
    r.add_argument("--unlimited", action="store_true", help="also run k = unlimited (reuse_limit null in JSON)")
    r.add_argument("--choice", choices=("reuse", "newest", "pool"), default="reuse",
                   help="which ticket the client offers (default reuse: the same one k times, then the newest)")
    r.add_argument("--lifetime", type=int, metavar="S", help="server ticket lifetime in seconds (default libgnutls's 21600)")
    r.add_argument("--gap", type=float, default=60.0, metavar="S", help="seconds between visits, or their mean (default 60)")
    r.add_argument("--gaps", choices=("fixed", "exponential", "uniform", "sy2018"), default="fixed",
                   help="distribution of the gaps (default fixed; sy2018: revisit times of Sy et al. 2018)")
    r.add_argument("--rotate-every", type=float, metavar="S", help="force a fresh ticket key every S seconds")
    r.add_argument("--seed", type=int, default=0, metavar="N", help="seed for the gaps (default 0)")
    r.add_argument("--no-compat-mode", dest="compat_mode", action="store_false",
                   help="TLS 1.3: the client sends an empty legacy_session_id (%%DISABLE_TLS13_COMPAT_MODE) "
                        "instead of the stored one that links its visits")
    r.add_argument("--json", action="store_true", help="machine-readable output (no progress bar)")
    add_output_argument(r, "--plot", metavar="FILE", help="write the figure to FILE.png or FILE.svg")
    add_output_argument(r, "--pcap", metavar="FILE",
                   help="also write every visit of every run as a pcapng file for Wireshark (one TCP stream per "
                        "visit, runs in order of k, fake-clock times, secrets embedded: mode 0600)")
    add_output_argument(r, "--keylog", metavar="FILE", help="also write the key log (SSLKEYLOGFILE format; mode 0600)")
    r.set_defaults(func=_reuse)
    for name in _MORE_EXPERIMENTS:
        importlib.import_module(f"{__package__}._{name}").register(sub)
