"""Layer 5, network: TCP on 127.0.0.1, and real programs as peers.

Modules (private; this face re-exports what users and the faces use):

- ``_server``: the lab server for real clients (``LabServer``), with ``_http`` for HTTP answers.
- ``_http``: the small HTTP/1.1 responder behind ``serve --http``, with ``_static`` for ``--root DIR``.
- ``_static``: files from one folder, opened so that no path or link leads out of it.
- ``_ticket_guard``: the server's check of offered tickets before libgnutls unpacks them (forged ones).
- ``_client``: the lab client against real servers (``connect``, ``connect_and_resume``).
- ``_peers``: gnutls-cli/gnutls-serv and openssl s_client/s_server run as peers.
- ``_clients_experiment``: other TLS clients (gnutls-cli, openssl, Python's ssl) against the lab server.
- ``_spy``: real programs run under the spy library, and the recorded scenarios of notebook 07.
- ``_audit``: the connections of ``gnutls-lab audit`` (a real server's resumption, tickets and 0-RTT).
- ``_starttls``: the SMTP STARTTLS preamble (RFC 3207), for the audit's client and the lab server.
- ``_real_servers`` (with ``_real_server_kinds``, ``_real_server_basics``, ``_real_servers_lab``): nginx,
  Apache, HAProxy, Caddy, lighttpd (four TLS libraries), Exim, gnutls-serv, openssl s_server and the lab's own
  server started on 127.0.0.1 with a chosen configuration, with the facts their documentation implies.
"""

from ._audit import DEFAULT_MAX_WAIT, DEFAULT_TRIES, REMOTE_CAP, REMOTE_RATE, audit
from ._client import check_host, connect, connect_and_resume, parse_address
from ._clients_experiment import run_clients
from ._peers import (
    ExternalServer,
    openssl_client_session,
    openssl_session_certificate,
    openssl_session_fields,
    openssl_session_text,
    require_program,
)
from ._real_servers import (
    LAB_NAMES,
    REAL_SERVERS,
    RealServerConfig,
    ServerMissing,
    start_real_server,
    write_ticket_key_file,
)
from ._server import LabServer, save_ticket_key
from ._spy import SCENARIOS, build_curl_client, links_libgnutls, program_version, recorded_runs_for, run_spied, \
    scenario_runs, spy_against_lab

__all__ = [
    # the lab's own server and client over TCP
    "LabServer",
    "save_ticket_key",
    "connect",
    "connect_and_resume",
    "parse_address",
    "check_host",
    # auditing a real server (gnutls-lab audit)
    "audit",
    "DEFAULT_MAX_WAIT",
    "DEFAULT_TRIES",
    "REMOTE_RATE",
    "REMOTE_CAP",
    # real programs as peers
    "require_program",
    "ExternalServer",
    "openssl_client_session",
    "openssl_session_text",
    "openssl_session_fields",
    "openssl_session_certificate",
    "run_clients",
    # real programs watched by the spy
    "run_spied",
    "links_libgnutls",
    "program_version",
    "spy_against_lab",
    "scenario_runs",
    "recorded_runs_for",
    "build_curl_client",
    "SCENARIOS",
    # real servers with a chosen configuration (the audit's tests, notebook 08)
    "start_real_server",
    "RealServerConfig",
    "REAL_SERVERS",
    "ServerMissing",
    "write_ticket_key_file",
    "LAB_NAMES",
]
