"""The table of docs/audit.md, "What the audit found, server by server": every real server of
``start_real_server`` audited on 127.0.0.1, one row per server and configuration.

Each server is started in its default configuration (both names where it serves two), with an **all-zero**
ticket-key file where it reads one (the guessable key), and with 0-RTT where it has it (audited with
``replay=True``); a server not installed is one line. Run from the repository root::

    .venv/bin/python scripts/audit_table.py > /tmp/table.md

Columns: resumption k of N per mechanism (TLS 1.3 PSK / TLS 1.2 ticket / TLS 1.2 session ID; - not spoken),
the lifetime hints (1.3 / 1.2), new tickets on a resumption (1.3 / 1.2), the ticket layout, key names across
the two names, a guessable key that opened a ticket, 0-RTT (early data accepted, replay verdict), what the
server says it is, the risk and the longest tracking window.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script from a checkout: use the working tree's package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gnutls_lab.errors import GnuTLSLabError  # noqa: E402
from gnutls_lab.network import (LAB_NAMES, REAL_SERVERS, RealServerConfig, audit, start_real_server,  # noqa: E402
                                write_ticket_key_file)


def configurations(kind: str, folder: str) -> list:
    """(name, config) pairs for ``kind``; what it cannot do (no TLS 1.3, one name, no key file, no 0-RTT)
    shows as the harness's one-line refusal, and the next variant is tried."""
    extra = {"tickets": True} if kind == "exim" else {}
    found = [("default", [RealServerConfig(tls=tls, names=names, **extra)
                          for tls in (("1.2", "1.3"), ("1.2",)) for names in (LAB_NAMES, LAB_NAMES[:1])])]
    path = os.path.join(folder, f"{kind}.key")
    try:
        keys = write_ticket_key_file(kind, path)  # the format's sizes, then the same sizes all zero
        write_ticket_key_file(kind, path, [bytes(len(key)) for key in keys])
    except GnuTLSLabError:
        pass  # no key file for this server
    else:
        found.append(("all-zero key file", [RealServerConfig(tls=tls, names=names, ticket_key_file=path)
                                            for tls in (("1.2", "1.3"), ("1.2",))
                                            for names in (LAB_NAMES, LAB_NAMES[:1])]))
    found.append(("0-RTT", [RealServerConfig(tls=("1.3",), early_data=True)]))
    return found


def _rate(resumption: dict, mechanism: str) -> str:
    row = resumption.get(mechanism)
    return "-" if row is None else f"{row['resumed']}/{row['attempts']}"


def row(kind: str, name: str, config: RealServerConfig) -> str:
    with start_real_server(kind, config) as server:
        report = audit(server.host, server.port, server_names=server.names, starttls=server.starttls,
                       tls=config.tls, replay=bool(config.early_data), progress=False)
        version = server.version
    found = report.findings()
    resumption, lifetime, reissue = found["resumption"], found["lifetime"], found["reissue"]
    hints = " / ".join(str((lifetime.get(p) or {}).get("hint") or "-") for p in ("TLS1.3", "TLS1.2"))
    again = " / ".join("-" if p not in reissue else ("yes" if reissue[p]["with_new_tickets"] else "no")
                       for p in ("TLS1.3", "TLS1.2"))
    best = found["fingerprint"].best
    keys = found["key_names"]
    shared = "-" if not keys or keys.get("shared_across_names") is None else \
        ("one key" if keys["shared_across_names"] else "two keys")
    opened = sorted({f"{h.layout} {h.key_label}" for h in found["weak_keys"] if h.what == "decrypted"})
    zero = found["zero_rtt"]
    early = "-" if not zero["max_early_data_size"] else (
        f"{zero['max_early_data_size']} B, " + ("accepted" if zero["early_data_accepted"] else "refused")
        + (f", replay {zero['replay']['verdict']}" if zero["replay"] and zero["replay"].get("verdict") else ""))
    software = (found["software"] or {}).get("product") or "-"
    worst = found["verdict"]["tracking"]
    window = "-" if worst is None else f"{worst['text']} ({worst['mechanism']})"
    cells = [f"{kind} ({version})", name,
             " / ".join(_rate(resumption, m) for m in ("tls13-psk", "tls12-ticket", "tls12-session-id")),
             hints, again, best.layout if best else "-", shared, ", ".join(opened) or "no", early, software,
             found["verdict"]["risk"], window]
    return "| " + " | ".join(cells) + " |"


def main() -> int:
    print("| server | configuration | resumed 1.3 / 1.2 ticket / 1.2 ID | hint 1.3 / 1.2 (s) | new ticket on "
          "resumption 1.3 / 1.2 | layout | two names | guessable key opened | 0-RTT | says it is | risk | "
          "longest tracking window |")
    print("|" + "---|" * 12)
    with tempfile.TemporaryDirectory() as folder:
        for kind in REAL_SERVERS:
            for name, variants in configurations(kind, folder):
                refused = ""
                for config in variants:
                    try:
                        print(row(kind, name, config), flush=True)
                        refused = ""
                        break
                    except GnuTLSLabError as exc:
                        refused = str(exc).splitlines()[0][:120]
                        if not refused.startswith(f"{kind}: no "):  # not a refused configuration: stop
                            break
                if refused and (name == "default" or not refused.startswith(f"{kind}: no ")):
                    print(f"| {kind} | {name} | {refused} |" + " |" * 10, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
