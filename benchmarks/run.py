"""``make bench``: handshakes per second through gnutls_lab, beside C and Python's ``ssl``.

For each mode (TLS 1.3 full, TLS 1.3 resumed, TLS 1.2 full, TLS 1.2 resumed by ticket) it runs
three loops that do the same work per iteration, each in its own process:

* ``c/handshake_loop.c``: libgnutls from C, compiled here with gcc into ``_build/`` (gitignored);
* ``ssl_loop.py``: the standard library's ``ssl`` module (SSLObject + MemoryBIO);
* ``lab_loop.py``: gnutls_lab's public API.

Each loop's module docstring (or header comment) says exactly what one iteration does. Then it
measures gnutls_lab with observation (hook transcript + wire tap) on against off, and, when the
modules exist, prints the rows of ``bench_decode.py``, ``bench_observer.py``, ``bench_experiment.py``
and ``bench_explorer.py`` (each exposes ``run(seconds=1.0) -> list[dict]`` with ``name``, ``per_second``
and ``target``; the explorer's rows are seconds per redraw after a control moves).

Targets (ratios from the same run): gnutls_lab >= 0.9 of C for TLS 1.3 full, TLS 1.3 resumed
and TLS 1.2 full, >= 0.5 of C for TLS 1.2 resumed, faster than ``ssl`` in every mode;
observation on costs at most 20% more time per handshake than off.

Each mode runs ``--repeat`` interleaved rounds (C, ssl, gnutls_lab, C, ssl, ...) of
``--seconds`` each, and each loop's best round counts: on a shared machine a burst of load
elsewhere then cannot land on one implementation only. This process and its children are
pinned to one core (``--cpu``, default 0) where the OS allows it, so the figures are "on one
core". Compare ratios from one run, not figures across runs.

Usage (from the repository root, with the project's virtualenv):
    python benchmarks/run.py [--seconds 2] [--repeat 5] [--json] [--cpu 0] [--strict]
Exit status: 0 when every loop ran (misses are reported, not fatal, unless --strict),
1 when a loop failed (build error, a resumption that did not resume, an exception).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _timing  # noqa: E402
BUILD = HERE / "_build"
C_SOURCE = HERE / "c" / "handshake_loop.c"
C_BINARY = BUILD / "handshake_loop"

MODES = ["tls13-full", "tls13-resumed", "tls12-full", "tls12-resumed"]
# Minimum gnutls_lab/C ratio per mode.
C_TARGETS = {"tls13-full": 0.9, "tls13-resumed": 0.9, "tls12-full": 0.9, "tls12-resumed": 0.5}
OBSERVATION_MODE = "tls13-full"
OBSERVATION_MAX_COST = 0.20  # extra time per handshake with observation on
EXTRA_MODULES = ["bench_decode", "bench_observer", "bench_experiment", "bench_explorer"]


class LoopFailed(Exception):
    """A benchmark loop could not be built or run, or reported a failure."""


def pin_to_one_core(cpu: int) -> str:
    """Pin this process (and so its children) to `cpu`; say what happened."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity on this OS)"
    allowed = os.sched_getaffinity(0)
    if cpu not in allowed:
        return f"not pinned (cpu {cpu} not in allowed set {sorted(allowed)})"
    os.sched_setaffinity(0, {cpu})
    return f"pinned to cpu {cpu}"


def build_c_loop() -> None:
    """Compile the C loop against the libgnutls that pkg-config finds."""
    try:
        flags = subprocess.run(
            ["pkg-config", "--cflags", "--libs", "gnutls"],
            check=True, capture_output=True, text=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        raise LoopFailed(
            f"pkg-config could not find gnutls ({error}); install libgnutls28-dev and pkg-config"
        ) from error
    BUILD.mkdir(exist_ok=True)
    command = ["gcc", "-O2", "-Wall", "-o", str(C_BINARY), str(C_SOURCE), *shlex.split(flags)]
    try:
        result = subprocess.run(command, capture_output=True, text=True)
    except OSError as error:
        raise LoopFailed(f"cannot run gcc ({error}); install gcc") from error
    if result.returncode != 0:
        raise LoopFailed(f"gcc failed:\n{' '.join(command)}\n{result.stderr}")


def child_env() -> dict[str, str]:
    """The environment of the loop processes: the repository root first on PYTHONPATH, so that
    the working tree's gnutls_lab is measured whatever state its installation is in."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE.parent), env.get("PYTHONPATH")]))
    return env


def run_loop(command: list[str]) -> list[dict]:
    """Run one loop process and parse its JSON lines.

    """
    result = subprocess.run(command, capture_output=True, text=True, cwd=HERE.parent,
                            env=child_env())
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise LoopFailed(f"{' '.join(Path(c).name for c in command[:2])} "
                         f"{' '.join(command[2:])}: exit {result.returncode}: {detail}")
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def loop_commands(mode: str, seconds: float) -> dict[str, list[str]]:
    common = ["--mode", mode, "--seconds", str(seconds)]
    python = sys.executable
    return {
        "c": [str(C_BINARY), *common],
        "ssl": [python, str(HERE / "ssl_loop.py"), *common],
        "gnutls_lab": [python, str(HERE / "lab_loop.py"), *common],
    }


def lab_import_error() -> str | None:
    """Why ``from gnutls_lab import Lab`` fails in this interpreter, or None when it works."""
    result = subprocess.run([sys.executable, "-c", "from gnutls_lab import Lab"],
                            capture_output=True, text=True, cwd=HERE.parent, env=child_env())
    if result.returncode == 0:
        return None
    return (result.stderr.strip().splitlines() or ["(no message)"])[-1]


def per_second(command: list[str]) -> float:
    """Run a loop for one mode and return its handshakes per second."""
    (result,) = run_loop(command)
    return result["per_second"]


def measure_mode(mode: str, seconds: float, repeat: int, skip: dict[str, str]) -> dict:
    """`repeat` interleaved rounds (C, ssl, gnutls_lab, C, ssl, ...) for one mode: the median rate of
    each loop and the median of the per-round (paired) ratios, with min-max and IQR.

    Interleaving keeps a burst of load from elsewhere on the machine from landing on one
    implementation only; pairing the rounds cancels what hits a whole round.
    """
    commands = loop_commands(mode, seconds)
    samples: dict[str, list[float]] = {impl: [] for impl in commands}
    row: dict = {"mode": mode, "errors": {}}
    for _ in range(repeat):
        for impl, command in commands.items():
            if impl in skip or impl in row["errors"]:
                continue
            try:
                samples[impl].append(per_second(command))
            except (LoopFailed, ValueError) as error:
                row["errors"][impl] = str(error)
    for impl in commands:
        row[impl] = _timing.spread(samples[impl])["median"] if samples[impl] and impl not in row["errors"] else None
    row["samples"] = samples
    row["spread"] = {impl: _timing.spread(values) for impl, values in samples.items() if values}
    for key, other in (("ratio_to_c", "c"), ("ratio_to_ssl", "ssl")):
        paired = samples["gnutls_lab"] and samples[other] and row["gnutls_lab"] and row[other]
        figures = _timing.ratio(samples["gnutls_lab"], samples[other]) if paired else None
        row[key] = round(figures["median"], 3) if figures else None
        row[key + "_spread"] = figures
    row["target"] = f">= {C_TARGETS[mode]} of C, > ssl"
    if row["ratio_to_c"] is None or row["ratio_to_ssl"] is None:
        row["verdict"] = "n/a"
    else:
        met = row["ratio_to_c"] >= C_TARGETS[mode] and row["ratio_to_ssl"] > 1.0
        row["verdict"] = "PASS" if met else "MISS"
    return row


def measure_observation(seconds: float, repeat: int, skip: dict[str, str]) -> dict:
    """gnutls_lab with observation off and on: medians of `repeat` interleaved rounds, and the median
    of the per-round (paired) costs with its spread."""
    row: dict = {"name": f"observation on vs off ({OBSERVATION_MODE})", "errors": {}}
    commands = {
        label: [sys.executable, str(HERE / "lab_loop.py"), "--mode", OBSERVATION_MODE,
                "--seconds", str(seconds), flag]
        for label, flag in (("off_per_second", "--no-observe"), ("on_per_second", "--observe"))
    }
    samples: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(repeat if "gnutls_lab" not in skip else 0):
        for label, command in commands.items():
            if label in row["errors"]:
                continue
            try:
                samples[label].append(per_second(command))
            except (LoopFailed, ValueError) as error:
                row["errors"][label] = str(error)
    for label in commands:
        row[label] = _timing.spread(samples[label])["median"] if samples[label] and label not in row["errors"] else None
    row["samples"] = samples
    off, on = row["off_per_second"], row["on_per_second"]
    # Cost as extra time per handshake: (1/on) / (1/off) - 1, per pair of rounds.
    figures = _timing.spread([a / b - 1.0 for a, b in zip(samples["off_per_second"], samples["on_per_second"])]) \
        if off and on else None
    row["cost"] = round(figures["median"], 3) if figures else None
    row["cost_spread"] = figures
    row["target"] = f"<= +{OBSERVATION_MAX_COST:.0%}"
    if row["cost"] is None:
        row["verdict"] = "n/a"
    else:
        row["verdict"] = "PASS" if row["cost"] <= OBSERVATION_MAX_COST else "MISS"
    return row


def run_extra_modules(seconds: float) -> list[dict]:
    """Rows from bench_decode.py, bench_observer.py, bench_experiment.py and bench_explorer.py."""
    rows = []
    if str(HERE.parent) not in sys.path:  # they import the working tree's gnutls_lab, like the loops
        sys.path.insert(0, str(HERE.parent))
    for name in EXTRA_MODULES:
        path = HERE / f"{name}.py"
        if not path.exists():
            continue
        try:
            spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            for result in module.run(seconds=seconds):
                rows.append({"module": name, **result})
        except Exception as error:  # report and go on: one broken module must not hide the rest
            rows.append({"module": name, "name": name, "per_second": None, "target": None,
                         "error": f"{type(error).__name__}: {error}"})
    return rows


def lab_pipe() -> str:
    """Which in-memory pipe the gnutls_lab loop uses (the C pipe, or the Python one and why)."""
    result = subprocess.run([sys.executable, "-c", "from gnutls_lab.binding import native_pipe_status; print(native_pipe_status())"],
                            capture_output=True, text=True, cwd=HERE.parent, env=child_env())
    return result.stdout.strip() or f"unknown ({result.stderr.strip().splitlines()[-1:]})"


def gnutls_version() -> str | None:
    try:
        return subprocess.run(["pkg-config", "--modversion", "gnutls"], check=True,
                              capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def format_rate(value) -> str:
    return "-" if value is None else f"{value:,.0f}"


def format_ratio(value, figures: dict | None = None) -> str:
    """A ratio's median, and its min-max over the paired rounds when known."""
    if value is None:
        return "-"
    return f"{value:.2f}" if not figures else f"{value:.2f} ({figures['min']:.2f}-{figures['max']:.2f})"


def print_table(report: dict) -> None:
    machine = report["machine"]
    print(f"handshakes per second, {machine['pinning']}, median of {report['repeat']} interleaved "
          f"runs of {report['seconds']} s; "
          f"libgnutls {machine['gnutls']} (pkg-config), {machine['openssl']}, "
          f"Python {machine['python']}; gnutls_lab over the {machine['lab_pipe']}")
    header = ("mode", "gnutls_lab/s", "C/s", "ssl/s", "lab/C", "lab/ssl", "target", "")
    widths = (14, 12, 9, 9, 15, 15, 18, 4)
    print("  ".join(h.ljust(w) if i in (0, 6) else h.rjust(w)
                    for i, (h, w) in enumerate(zip(header, widths))).rstrip())
    for row in report["handshakes"]:
        cells = (row["mode"], format_rate(row["gnutls_lab"]), format_rate(row["c"]),
                 format_rate(row["ssl"]), format_ratio(row["ratio_to_c"], row.get("ratio_to_c_spread")),
                 format_ratio(row["ratio_to_ssl"], row.get("ratio_to_ssl_spread")), row["target"], row["verdict"])
        print("  ".join(c.ljust(w) if i in (0, 6) else c.rjust(w)
                        for i, (c, w) in enumerate(zip(cells, widths))).rstrip())
    obs = report["observation"]
    cost = "-" if obs["cost"] is None else f"{obs['cost']:+.0%}"
    if obs.get("cost_spread"):
        cost += f" (min-max {obs['cost_spread']['min']:+.0%} to {obs['cost_spread']['max']:+.0%})"
    print(f"\n{obs['name']}: off {format_rate(obs['off_per_second'])}/s, "
          f"on {format_rate(obs['on_per_second'])}/s, cost {cost} (target {obs['target']}) "
          f"{obs['verdict']}")
    if report["extra"]:
        print()
        for row in report["extra"]:
            rate = format_rate(row.get("per_second")) + "/s"
            if row.get("spread"):
                rate = _timing.describe(row["spread"]) + "/s"
            if row.get("seconds_per_redraw") is not None:  # bench_explorer: a latency, in seconds
                rate = _timing.describe_seconds(row["seconds_spread"], "redraws")
            line = f"{row['module']}: {row.get('name')}: {rate}"
            if row.get("target") is not None:
                line += f" (target {row['target']})"
            if row.get("verdict"):
                line += f"  {row['verdict']}"
            if "error" in row:
                line += f"  ERROR {row['error']}"
            print(line)
    errors = [*report["skipped"].values()]
    errors += [f"{row.get('mode') or row.get('name')} [{impl}]: {message}"
               for row in [*report["handshakes"], obs] for impl, message in row["errors"].items()]
    if errors:
        print("\nerrors:")
        for line in errors:
            print(f"  {line}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="gnutls_lab handshake benchmark (make bench)")
    parser.add_argument("--seconds", type=float, default=2.0, help="per measurement (default 2)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--repeat", type=int, default=5,
                        help="interleaved rounds per mode; each loop's best round counts (default 5)")
    parser.add_argument("--cpu", type=int, default=0, help="core to pin to (default 0)")
    parser.add_argument("--strict", action="store_true", help="exit 1 on any MISS")
    args = parser.parse_args(argv)

    import ssl  # only for its version string; the ssl loop runs in its own process

    if args.repeat < 1 or args.seconds <= 0:
        parser.error("--repeat must be >= 1 and --seconds > 0")
    report: dict = {
        "seconds": args.seconds,
        "repeat": args.repeat,
        "machine": {
            "pinning": pin_to_one_core(args.cpu),
            "gnutls": gnutls_version(),
            "openssl": ssl.OPENSSL_VERSION,
            "python": platform.python_version(),
            "lab_pipe": lab_pipe(),
            "cpu": platform.processor() or platform.machine(),
        },
    }
    try:
        build_c_loop()
    except LoopFailed as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    skip = {}
    import_error = lab_import_error()
    if import_error is not None:
        skip["gnutls_lab"] = f"gnutls_lab not measured: {import_error}"
    report["skipped"] = skip
    report["handshakes"] = [measure_mode(mode, args.seconds, args.repeat, skip) for mode in MODES]
    report["observation"] = measure_observation(args.seconds, args.repeat, skip)
    report["extra"] = run_extra_modules(args.seconds)

    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)

    failed = bool(skip) or any(row["errors"] for row in [*report["handshakes"], report["observation"]]) or any(
        "error" in row for row in report["extra"])
    missed = any(row["verdict"] == "MISS" for row in [*report["handshakes"], report["observation"]])
    return 1 if failed or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
