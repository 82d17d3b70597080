"""Record `gnutls-lab audit` runs of real servers into data/audit/ (notebook 08 shows them where a server is
not installed or cannot be started there).

Each server runs on 127.0.0.1 with a fresh lab certificate in a temporary folder, is audited with the
options named beside it, and is stopped by its PID. The file written, ``audit-gnutls-<version>.json``,
holds for each server the audit's JSON document (``gnutls-lab audit --json``, secrets redacted), the
configuration, the server's version and the date. Run from the repository root::

    .venv/bin/python data/make_audit_runs.py

nginx is started here with a minimal configuration of its own (``daemon off; master_process off``) and
an **all-zero 80-byte** ``ssl_session_ticket_key`` file: the guessable key Hebrok et al. found deployed,
so the recording shows the audit opening a real nginx ticket. Servers that are not installed are listed
as such in the file and skipped.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from gnutls_lab import LabCertificate, library_info
from gnutls_lab.network import ExternalServer, audit

HERE = os.path.dirname(os.path.abspath(__file__))

NGINX_CONF = """daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name a.example b.example;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_tickets on;
        ssl_session_ticket_key {d}/ticket.key;
        ssl_session_timeout 1h;
        ssl_early_data on;
        location / {{ return 200 "ok\\n"; }}
    }}
}}
"""


def _version(command: list) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except OSError:
        return "not installed"
    return (done.stdout + done.stderr).strip().splitlines()[0]


@contextlib.contextmanager
def nginx(folder: str, cert: str, key: str):
    program = shutil.which("nginx")
    if program is None:
        raise FileNotFoundError("nginx")
    with socket.socket() as probe:  # a port free a moment ago, on loopback
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with open(os.path.join(folder, "ticket.key"), "wb") as f:
        f.write(bytes(80))
    os.chmod(os.path.join(folder, "ticket.key"), 0o600)
    conf = os.path.join(folder, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(d=folder, port=port, cert=cert, key=key))
    process = subprocess.Popen([program, "-p", folder, "-c", conf], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            time.sleep(0.05)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)


def recorded(report) -> dict:
    """The audit's JSON document as recorded: the tickets' bytes left out (their length, key name and
    lifetime stay), so the file stays small and holds nothing a session could be resumed with."""
    document = report.to_dict()
    for ticket in document["tickets"]:
        ticket["ticket"] = ""
    return document


def main() -> int:
    version = library_info().version
    runs, missing = [], []
    with tempfile.TemporaryDirectory() as folder:
        cert, key = LabCertificate().write_files(folder)
        servers = [
            ("gnutls-serv --earlydata", "gnutls-serv", ("--earlydata",), "1.3",
             ["gnutls-serv", "--version"], {"replay": True}),
            ("openssl s_server -early_data -no_anti_replay", "openssl", ("-early_data", "-no_anti_replay"), "1.3",
             ["openssl", "version"], {"replay": True}),
            ("openssl s_server -www (TLS 1.2)", "openssl", ("-www",), "1.2", ["openssl", "version"], {}),
        ]
        for name, kind, args, tls, version_command, options in servers:
            if shutil.which(version_command[0]) is None:
                missing.append(name)
                continue
            with ExternalServer(kind, cert, key, tls, extra_args=args) as server:
                report = audit("127.0.0.1", server.port, **options)
            runs.append({"server": name, "config": {"args": list(args), "tls": tls, "audit": options},
                         "server_version": _version(version_command), "audit": recorded(report)})
        try:
            with nginx(folder, cert, key) as port:
                options = {"replay": True, "server_names": ["a.example", "b.example"]}
                report = audit("127.0.0.1", port, **options)
            runs.append({"server": "nginx (all-zero ssl_session_ticket_key, ssl_early_data on)",
                         "config": {"conf": NGINX_CONF.replace("{{", "{").replace("}}", "}"),
                                    "ticket_key": "80 zero bytes", "audit": options},
                         "server_version": _version(["nginx", "-v"]), "audit": recorded(report)})
        except FileNotFoundError:
            missing.append("nginx")
    document = {
        "provenance": {"gnutls": version, "python": sys.version.split()[0],
                       "date": datetime.date.today().isoformat(),
                       "command": ".venv/bin/python data/make_audit_runs.py",
                       "missing": missing},
        "runs": runs,
    }
    path = os.path.join(HERE, "audit", f"audit-gnutls-{version}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(document, f, indent=1, sort_keys=False)
        f.write("\n")
    print(f"wrote {len(runs)} audits to {path} (missing: {', '.join(missing) or 'none'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
