"""The text report of an audit (:class:`~gnutls_lab.analysis.AuditReport`): what ``gnutls-lab audit`` prints.

The verdict first (one paragraph and the risk), then the evidence, what to change, the guessable keys
(redacted unless ``show_secrets``), the probes with their connections and seconds, what was not done and
what was sent. Lines are wrapped at 100 columns. Notebooks print it too: ``print(audit_text(report))``.
"""

from __future__ import annotations

import textwrap

__all__ = ["audit_text"]


def _wrap(text: str, indent: str = "  ") -> list[str]:
    return textwrap.wrap(text, width=100, initial_indent=indent, subsequent_indent=indent) or [indent]


def _bullets(items, indent: str = "  - ") -> list[str]:
    lines = []
    for item in items:
        lines += textwrap.wrap(item, width=100, initial_indent=indent, subsequent_indent=" " * len(indent))
    return lines


def audit_text(report, show_secrets: bool = False) -> str:
    """The text report of ``gnutls-lab audit`` (also for notebooks: ``print(audit_text(report))``)."""
    found = report.findings()
    verdict = found["verdict"]
    lines = [f"gnutls-lab audit {report.target} (GnuTLS {report.gnutls_version} client): "
             f"{len(report.connections)} connections in {report.seconds:.1f} s",
             "", f"Verdict (risk: {verdict['risk']})"]
    lines += _wrap(verdict["summary"])
    if verdict["tracking"]:
        worst = verdict["tracking"]
        thing = "session" if worst["mechanism"] == "tls12-session-id" else "ticket"
        lines += _wrap(f"Longest tracking window: {worst['text']} ({worst['mechanism']}, a client that "
                       f"{'keeps its ' + thing if worst['client'] == 'keeps' else 'uses each ' + thing + ' once'}).")
    lines += ["", "Evidence"] + _bullets(verdict["evidence"])
    if verdict["advice"]:
        lines += ["", "What to change"] + _bullets(verdict["advice"])
    weak = found["weak_keys"]
    if weak:
        lines += ["", "Guessable keys" + ("" if show_secrets else " (keys and secrets redacted: --show-secrets)")]
        for hit in weak:
            key = bytes(hit.key).hex() if show_secrets else "redacted"
            lines.append(f"  - {hit.protocol} {hit.layout} {hit.role} '{hit.key_label}' ({key}): {hit.what} "
                         f"{hit.tickets} ticket(s)")
            for name, value in hit.reveals.items():
                if isinstance(value, bytes):
                    value = bytes(value).hex() if show_secrets else "redacted"
                lines.append(f"      {name}: {value}")
    lines += ["", "Probes (connections, seconds)"]
    for probe in report.probes:
        note = f"  {probe.status}: {probe.note}" if probe.note or probe.status != "done" else ""
        lines.append(f"  {probe.name:26} {probe.connections:3d}  {probe.seconds:6.2f} s{note}")
    if report.not_done:
        lines += ["", "Not done"] + _bullets(report.not_done)
    if report.sent:
        lines += ["", "What was sent"] + _bullets(report.sent)
    pcap = report.options.get("pcap")
    if isinstance(pcap, dict):
        lines += ["", f"Wrote {pcap['connections']} connections to {pcap['path']} (pcapng, TLS secrets embedded, "
                      "mode 0600)"]
    return "\n".join(lines)
