#!/usr/bin/env python3
"""The workshop hub under a room of simulated participants (`make bench-hub`, HUB_N=30 by default).

Two runs on a throwaway hub (deploy/hub/throwaway.py: the `make hub` configuration, its own ports, glhubt-
accounts removed afterwards), each with N participants arriving over ``--arrival`` seconds who log in, get a
server, run every cell of notebook 01 and the first exercise of 02 (deploy/hub/simulate.py):

1. **cold**: every server starts when its participant logs in;
2. **pre-started**: the facilitator starts every server first (`hubctl.py start`), timed, then the room arrives.

Prints markdown tables to paste into the README and docs/workshop.md, with the machine's load before and
after (figures taken on a loaded machine are not the machine's: run it on a quiet one). ``--json FILE``
keeps every figure.

    .venv/bin/python benchmarks/bench_hub.py --prefix /var/tmp/gnutls-lab-hub-test -n 30
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "deploy" / "hub"))

import hubctl  # noqa: E402
import simulate  # noqa: E402
import throwaway  # noqa: E402


def run(prefix: pathlib.Path, count: int, arrival: float, prestarted: bool, every_notebook: bool = False) -> dict:
    with throwaway.ThrowawayHub(prefix) as hub:
        time.sleep(5)  # the hub's own start-up settles
        prestart = None
        stem = "all" if every_notebook else "pre" if prestarted else "sim"
        if prestarted:
            facilitator = hubctl.Hub(hub.url, hub.secret("facilitator-token"), hub.users)
            prestart = hubctl.prestart(facilitator, [f"{stem}{i + 1:03d}" for i in range(count)])
            idle = simulate.account_usage({simulate.uid_of(f"{hub.users}{stem}{i + 1:03d}") for i in range(count)})
            prestart["idle_rss_total_mb"] = round(sum(rss for rss, _ in idle.values()), 1)
        figures = asyncio.run(simulate.room(hub.url, hub.code, count, arrival, name_stem=stem, hub_pids=hub.pids(),
                                            every_notebook=every_notebook))
        figures["prestart"] = prestart
        return figures


def extrapolate(figures: dict, day: dict | None, cores: int) -> str:
    """What 60, 100 and 300 would need, from this run's per-participant memory and CPU (extrapolated, not run)."""
    rss = figures["participant_rss_after_mb"]["median"] or 0
    full = (day["participant_rss_after_mb"]["median"] or 0) if day else None
    cpu = figures["participant_cpu_s"]["median"] or 0
    hub = figures["hub_and_proxy_rss_mb"]["after"]
    lines = ["| participants | memory, 01 + 02's exercise | memory, every notebook's kernel running | CPU seconds to"
             f" start and run 01 for all, over {cores} cores |", "|---:|---:|---:|---:|"]
    for n in (figures["participants"], 60, 100, 300):
        day_text = f"{(n * full + hub) / 1024:.1f} GB" if full else "-"
        lines.append(f"| {n} | {(n * rss + hub) / 1024:.1f} GB | {day_text} | {n * cpu / cores:.0f} s |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", type=pathlib.Path, required=True, help="the hub's installation (make hub-install)")
    parser.add_argument("-n", "--participants", type=int, default=30)
    parser.add_argument("--arrival", type=float, default=60.0)
    parser.add_argument("--full-day", type=int, default=2, metavar="N",
                        help="then N participants who run every notebook (their memory with eight kernels); 0: none")
    parser.add_argument("--json", type=pathlib.Path, help="write every figure to this file")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    command = f"make bench-hub HUB_N={args.participants}"
    print(f"load average before: {load_before[0]:.1f} {load_before[1]:.1f} {load_before[2]:.1f} "
          f"({os.cpu_count()} cores){'  -- the machine is busy: these figures are not a quiet machine’s' if load_before[0] > 1.5 else ''}",
          flush=True)
    cold = run(args.prefix, args.participants, args.arrival, prestarted=False)
    warm = run(args.prefix, args.participants, args.arrival, prestarted=True)
    day = run(args.prefix, args.full_day, 10.0, prestarted=False, every_notebook=True) if args.full_day else None
    load_after = os.getloadavg()
    print()
    print("### Every server started at login\n")
    print(simulate.markdown(cold, command))
    print("\n### Servers started by the facilitator before the room arrived (`hubctl.py start`)\n")
    pre = warm["prestart"]
    print(f"`hubctl.py start` of {pre['servers']} servers: {pre['ready']} ready, {pre['failed']} failed, all ready "
          f"after {pre['all_ready_s']} s; idle, they hold {pre['idle_rss_total_mb']} MB RSS together.\n")
    print(simulate.markdown(warm, command))
    if day:
        print("\n### A full day: every notebook run, each kernel left running (closing a tab does not stop it)\n")
        print(simulate.markdown(day, command))
    print("\n### Extrapolated from the cold run (not measured)\n")
    print(extrapolate(cold, day, os.cpu_count() or 1))
    print(f"\nload average before {load_before[0]:.1f}, after {load_after[0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps({"cold": cold, "prestarted": warm, "full_day": day, "load_before": load_before,
                                         "load_after": load_after}, indent=1))
    return 0 if cold["failures"] == 0 and warm["failures"] == 0 and (not day or day["failures"] == 0) else 1


if __name__ == "__main__":
    sys.exit(main())
