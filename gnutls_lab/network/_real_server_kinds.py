"""Each real server's configuration, written from a :class:`RealServerConfig`, and what it implies.

One builder per kind turns the configuration into that server's own files and command line, and
states the facts the server's documentation implies (:class:`Expected`, each with its source). What
a kind cannot do is in :data:`CAPABILITIES`; :func:`check_supported` turns a request it cannot meet
into one :class:`UnsupportedConfig` line. Every server listens on 127.0.0.1 only, runs in the
foreground (``nginx -g 'daemon off;'``, ``apache2 -DFOREGROUND``, ``exim -bdf``, ``lighttpd -D``,
``haproxy -db``, ``caddy run``) and keeps its pid, logs, caches and runtime files in its own folder,
never in the Debian service's (``/etc``, ``/var/run``, ``/var/log``).

The facts, by name (``tls12.*`` only when TLS 1.2 is enabled, ``tls13.*`` when 1.3 is):

- ``tls12.ticket_issued``: a full TLS 1.2 handshake ends with a NewSessionTicket.
- ``tls12.lifetime_hint``: its ``ticket_lifetime_hint`` in seconds (0: no hint).
- ``tls12.ticket_resumes`` / ``tls12.session_id_resumes``: resumption by ticket / by session ID works.
- ``tls12.new_ticket_on_resumption``: a resumption by ticket gets a new ticket.
- ``tls13.tickets_per_handshake``: NewSessionTickets after a full handshake.
- ``tls13.ticket_lifetime``: their ``ticket_lifetime`` in seconds.
- ``tls13.resumes``: a TLS 1.3 PSK resumption works.
- ``tls13.new_ticket_on_resumption``: a resumed handshake gets a new ticket.
- ``tls13.max_early_data``: the ``max_early_data_size`` in its tickets (0: no 0-RTT).
- ``key.shared_across_names``: (two names) one ticket key behind both names.
- ``key.name``: (a key file) the key name, hex, at the front of every ticket.
- ``key.rotation``: when the server changes its ticket key by itself (words, with the period).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from dataclasses import dataclass

from ..sessions import LabCertificate, write_file, write_private_file
from ._real_server_basics import (LAB_NAMES, STEK_VALID_FOR, TICKET_KEY_FORMATS, Expected, Launch, UnsupportedConfig,
                                  version_tuple)

__all__ = ["BUILDERS", "CAPABILITIES", "Context", "check_supported", "unsupported_reason"]

E = Expected


@dataclass
class Context:
    """What a builder works with: the request, the server's folder and port."""

    kind: str
    config: object
    folder: str
    port: int
    version: str
    _cert: tuple | None = None

    def path(self, name: str) -> str:
        return os.path.join(self.folder, name)

    def write(self, name: str, text: str) -> str:
        return write_file(self.path(name), text.encode())

    def certificate(self) -> tuple[str, str]:
        """A fresh lab certificate for both lab names and ``localhost``: (certificate PEM, key PEM)."""
        if self._cert is None:
            cert = LabCertificate("ecdsa", common_name=LAB_NAMES[0], dns_names=("localhost", *LAB_NAMES))
            self._cert = cert.write_files(self.folder)  # lab-cert.pem, lab-key.pem (0600)
        return self._cert

    @property
    def tls12(self) -> bool:
        return "1.2" in self.config.tls

    @property
    def tls13(self) -> bool:
        return "1.3" in self.config.tls

    def key_name(self, fmt_kind: str | None = None) -> str | None:
        """The key name (hex) of the key in the configured key file, encrypting key for several."""
        if not self.config.ticket_key_file:
            return None
        fmt = TICKET_KEY_FORMATS[fmt_kind or self.kind]
        if fmt.name is None:
            return None
        with open(self.config.ticket_key_file, "rb") as f:
            data = f.read()
        if fmt.encoding == "base64-lines":
            import base64

            keys = [base64.b64decode(line) for line in data.split() if line.strip()]
            key = keys[-fmt.keys:][fmt.encrypting]
        elif fmt.encoding == "lighttpd-stek":
            key = data[12:]
        else:
            key = data
        return fmt.key_name(key).hex()


# What each kind can be asked for. A missing entry is what it lacks, said in the error.
_ALL = {"tickets_off", "lifetime", "key_file", "rotation", "two_names", "early_data", "cache_on", "cache_off",
        "tls12", "tls13"}
CAPABILITIES = {
    "gnutls-serv": _ALL - {"lifetime", "key_file", "rotation"},
    "openssl": _ALL - {"lifetime", "key_file", "rotation"},
    "nginx": _ALL - {"rotation"},
    "apache": _ALL - {"rotation", "early_data"},
    "haproxy": _ALL - {"rotation"},
    "caddy": _ALL - {"lifetime", "key_file", "early_data", "cache_on"},
    "exim": _ALL - {"lifetime", "key_file", "rotation", "early_data", "cache_on"},
    "lighttpd-openssl": _ALL - {"lifetime", "rotation", "early_data"},
    "lighttpd-wolfssl": _ALL - {"lifetime", "rotation", "early_data"},
    "lighttpd-gnutls": _ALL - {"lifetime", "rotation", "early_data", "cache_on"},
    "lighttpd-mbedtls": _ALL - {"lifetime", "rotation", "early_data", "cache_on", "tls13"},
    "lab": _ALL - {"rotation", "early_data", "cache_off"},
}
_LACKS = {
    "tickets_off": "no way to turn session tickets off",
    "lifetime": "no setting for the session/ticket lifetime",
    "key_file": "no ticket-key file setting",
    "rotation": "no ticket-key rotation timer to set",
    "two_names": "no name-based virtual hosts",
    "early_data": "no 0-RTT (early data) support",
    "cache_on": "no TLS 1.2 session-ID cache",
    "cache_off": "no way to turn its session cache off",
    "tls12": "no TLS 1.2",
    "tls13": "no TLS 1.3",
}
_WHY = {  # the kind-specific reason, where there is one worth a line
    ("gnutls-serv", "lifetime"): "libgnutls's default of 21600 s applies",
    ("openssl", "lifetime"): "s_server keeps OpenSSL's default session timeout",
    ("caddy", "lifetime"): "Go's crypto/tls fixes ticket lifetimes at 7 days",
    ("caddy", "cache_on"): "Go's crypto/tls servers keep no session cache",
    ("caddy", "early_data"): "Go's crypto/tls has no 0-RTT",
    ("exim", "cache_on"): "Exim with GnuTLS resumes by ticket only",
    ("exim", "lifetime"): "Exim fixes it (spec 43.17)",
    ("lighttpd-mbedtls", "tls13"): "lighttpd 1.4.69 with mbedTLS 2.28 serves TLS 1.2 only",
    ("lab", "rotation"): "libgnutls rotates every 3 x lifetime: set lifetime",
    ("lab", "cache_off"): "LabServer always keeps a session-ID cache",
    ("nginx", "rotation"): "nginx before 1.23.2 changes keys only with a new key file and a reload",
    ("apache", "rotation"): "mod_ssl changes keys only with a new key file and a restart",
    ("haproxy", "rotation"): "HAProxy rotates by a new key line and a reload, or `set ssl tls-key`",
}
for _kind in ("lighttpd-openssl", "lighttpd-wolfssl", "lighttpd-gnutls", "lighttpd-mbedtls"):
    _WHY[(_kind, "lifetime")] = "lighttpd sets none (the TLS library's default applies)"
    _WHY[(_kind, "rotation")] = "lighttpd rotates on its own schedule (8 h or 24 h) or when ssl.stek-file changes"


def _needs(config) -> list[str]:
    needs = []
    if config.tickets is False:
        needs.append("tickets_off")
    if config.lifetime is not None:
        needs.append("lifetime")
    if config.ticket_key_file:
        needs.append("key_file")
    if config.rotation is not None:
        needs.append("rotation")
    if len(config.names) > 1:
        needs.append("two_names")
    if config.early_data:
        needs.append("early_data")
    if config.session_cache is True:
        needs.append("cache_on")
    if config.session_cache is False:
        needs.append("cache_off")
    needs += [f"tls{version.replace('.', '')}" for version in config.tls]
    return needs


def unsupported_reason(kind: str, config) -> str | None:
    """None when ``kind`` can be configured as ``config`` asks; else the one-line reason."""
    for need in _needs(config):
        if need not in CAPABILITIES[kind]:
            why = _WHY.get((kind, need))
            return f"{kind}: {_LACKS[need]}" + (f" ({why})" if why else "")
    if config.early_data and "1.3" not in config.tls:
        return f"{kind}: 0-RTT needs TLS 1.3"
    if config.ticket_key_file and not os.path.isfile(config.ticket_key_file):
        return f"{kind}: ticket-key file {config.ticket_key_file} does not exist"
    return None


def check_supported(kind: str, config) -> None:
    reason = unsupported_reason(kind, config)
    if reason:
        raise UnsupportedConfig(reason)


def _openssl_reissue(callback: bool, why: str) -> Expected:
    """Whether an OpenSSL 3.0 server sends a ticket after a TLS 1.3 resumption: always with its own keys,
    only when the application's key callback returns 2 (renew) otherwise (measured; docs/servers.md)."""
    if callback:
        return E(False, f"OpenSSL sends no ticket after a TLS 1.3 resumption unless the ticket key callback asks "
                        f"for renewal (SSL_CTX_set_tlsext_ticket_key_evp_cb(3): return 2); {why}")
    return E(True, "OpenSSL sends a ticket after a TLS 1.3 resumption with its own keys (SSL_CTX_set_num_tickets(3))")


# --------------------------------------------------------------------------------------- gnutls-serv

def _gnutls_serv(ctx: Context) -> Launch:
    from ._peers import loopback_preload

    config = ctx.config
    cert, key = ctx.certificate()
    versions = ":".join(f"+VERS-TLS{v}" for v in config.tls)
    argv = ["gnutls-serv", "--port", str(ctx.port), "--x509certfile", cert, "--x509keyfile", key, "-a",
            "--http", "--priority", f"NORMAL:-VERS-ALL:{versions}"]
    tickets = config.tickets is not False
    cache = config.session_cache is not False
    if not tickets:
        argv.append("--noticket")
    if not cache:
        argv.append("--nodb")
    if config.early_data:
        argv += ["--earlydata", "--maxearlydata", "16384"]
    man = "gnutls-serv(1)"
    expected = {}
    if ctx.tls12:
        expected.update({
            "tls12.ticket_issued": E(tickets, f"{man}: --noticket"),
            "tls12.lifetime_hint": E(21600 if tickets else 0, "GnuTLS manual, gnutls_db_set_cache_expiration: "
                                     "default 21600 s; gnutls-serv sets none"),
            "tls12.ticket_resumes": E(tickets, f"{man}: --noticket"),
            "tls12.session_id_resumes": E(cache, f"{man}: --nodb (no resumption database)"),
            "tls12.new_ticket_on_resumption": E(False, "GnuTLS sends no new ticket on a TLS 1.2 ticket "
                                                "resumption (lib/handshake.c; docs/servers.md)"),
        })
    if ctx.tls13:
        expected.update({
            "tls13.tickets_per_handshake": E(2 if tickets else 0, "GnuTLS sends two tickets after each handshake "
                                             "(lib/handshake.c TLS13_TICKETS_TO_SEND)"),
            "tls13.ticket_lifetime": E(21600, "GnuTLS: the ticket lifetime is the cache expiration, default 21600 s"),
            "tls13.resumes": E(tickets, f"{man}: --noticket"),
            "tls13.new_ticket_on_resumption": E(tickets, "GnuTLS sends a ticket after every TLS 1.3 handshake"),
            "tls13.max_early_data": E(16384 if config.early_data and tickets else 0,
                                      f"{man}: --earlydata --maxearlydata 16384"),
        })
    expected["key.rotation"] = E("every 64800 s (3 x the 21600 s lifetime), derived from a random master key "
                                 "made at start", "GnuTLS manual, Session resumption: ticket key rotation "
                                 "(lib/stek.c)")
    if len(config.names) > 1:
        expected["key.shared_across_names"] = E(True, "gnutls-serv has one ticket key for every name it answers")
    env = dict(os.environ, LD_PRELOAD=loopback_preload())  # it cannot be told its address
    return Launch(argv, expected, env=env)


# --------------------------------------------------------------------------------------- openssl s_server

def _openssl(ctx: Context) -> Launch:
    config = ctx.config
    cert, key = ctx.certificate()
    # -www answers a GET and closes; s_server refuses -early_data with it, so 0-RTT runs it as an echo
    # server, which never closes (Launch.answers None).
    argv = ["openssl", "s_server", "-accept", f"127.0.0.1:{ctx.port}", "-cert", cert, "-key", key]
    argv += [] if config.early_data else ["-www"]
    for version in ("1.2", "1.3"):
        if version not in config.tls:
            argv.append(f"-no_tls{version.replace('.', '_')}")
    tickets = config.tickets is not False
    cache = config.session_cache is not False
    if not tickets:
        argv.append("-no_ticket")
    if not cache:
        argv.append("-no_cache")
    if config.early_data:
        argv.append("-early_data")
    if len(config.names) > 1:
        argv += ["-servername", config.names[1], "-cert2", cert, "-key2", key]
    man = "openssl-s_server(1)"
    timeout = "SSL_CTX_set_timeout(3); the TLS methods' default is 7200 s (ssl/t1_lib.c tls1_default_timeout)"
    expected = {}
    if ctx.tls12:
        expected.update({
            "tls12.ticket_issued": E(tickets, f"{man}: -no_ticket"),
            "tls12.lifetime_hint": E(7200 if tickets else 0, timeout),
            "tls12.ticket_resumes": E(tickets, f"{man}: -no_ticket"),
            "tls12.session_id_resumes": E(cache, f"{man}: -no_cache"),
            "tls12.new_ticket_on_resumption": E(False, "OpenSSL renews a TLS 1.2 ticket only when its key "
                                                "callback asks (SSL_CTX_set_tlsext_ticket_key_evp_cb(3))"),
        })
    if ctx.tls13:
        # With -no_ticket OpenSSL still sends TLS 1.3 tickets: stateful ones, naming a cache entry.
        resumes = tickets or cache
        expected.update({
            "tls13.tickets_per_handshake": E(2, "SSL_CTX_set_num_tickets(3): 2 by default; "
                                             "SSL_OP_NO_TICKET makes them stateful, not absent"),
            "tls13.ticket_lifetime": E(7200, timeout),
            "tls13.resumes": E(resumes, f"{man}: -no_ticket (stateful tickets need the cache, -no_cache)"),
            "tls13.new_ticket_on_resumption": E(True, "SSL_CTX_set_num_tickets(3): one ticket after a resumption"),
            "tls13.max_early_data": E(16384 if config.early_data else 0, f"{man}: -early_data (max_early_data "
                                      "defaults to 16384)"),
        })
    expected["key.rotation"] = E("never: one random key per SSL_CTX for the life of the process",
                                 "SSL_CTX_set_tlsext_ticket_key_evp_cb(3)")
    if len(config.names) > 1:
        expected["key.shared_across_names"] = E(True, "OpenSSL encrypts tickets with the first SSL_CTX's keys "
                                                "(the session context) even after the servername callback "
                                                "switches contexts")
    return Launch(argv, expected, stdin_pipe=True, answers=None if config.early_data else "http")


# --------------------------------------------------------------------------------------- nginx

def _nginx(ctx: Context) -> Launch:
    config = ctx.config
    cert, key = ctx.certificate()
    tickets = config.tickets is not False
    cache = bool(config.session_cache)  # nginx's default is "none": tickets only
    lifetime = config.lifetime if config.lifetime is not None else 300
    protocols = " ".join(f"TLSv{v}" for v in config.tls)
    server_lines = [
        f"ssl_certificate {cert};", f"ssl_certificate_key {key};", f"ssl_protocols {protocols};",
        f"ssl_session_tickets {'on' if tickets else 'off'};",
        f"ssl_session_timeout {lifetime}s;" if config.lifetime is not None else "",
        "ssl_session_cache shared:LAB:1m;" if config.session_cache else
        ("ssl_session_cache off;" if config.session_cache is False else ""),
        f"ssl_session_ticket_key {config.ticket_key_file};" if config.ticket_key_file else "",
        "ssl_early_data on;" if config.early_data else "",
        'location / { return 200 "gnutls-lab nginx\\n"; }',
    ]
    servers = "".join(
        f"  server {{\n    listen 127.0.0.1:{ctx.port} ssl{' default_server' if i == 0 else ''};\n"
        f"    server_name {name};\n" + "".join(f"    {line}\n" for line in server_lines if line) + "  }\n"
        for i, name in enumerate(config.names))
    temp = "".join(f"  {kind}_temp_path {ctx.path('tmp-' + kind)};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = (f"pid {ctx.path('nginx.pid')};\nerror_log {ctx.path('error.log')} info;\nworker_processes 1;\n"
            "events { worker_connections 64; }\n"
            f"http {{\n  access_log {ctx.path('access.log')};\n{temp}{servers}}}\n")
    conf_path = ctx.write("nginx.conf", conf)
    argv = ["nginx", "-p", ctx.folder + "/", "-e", ctx.path("error.log"), "-c", conf_path, "-g", "daemon off;"]
    doc = "nginx docs, ngx_http_ssl_module"
    rotates = version_tuple(ctx.version) >= (1, 23, 2) and cache and not config.ticket_key_file
    expected = {}
    if ctx.tls12:
        expected.update({
            "tls12.ticket_issued": E(tickets, f"{doc}: ssl_session_tickets"),
            "tls12.lifetime_hint": E(lifetime if tickets else 0, f"{doc}: ssl_session_timeout (default 5m)"),
            "tls12.ticket_resumes": E(tickets, f"{doc}: ssl_session_tickets"),
            "tls12.session_id_resumes": E(cache, f"{doc}: ssl_session_cache (default none: no cache)"),
            "tls12.new_ticket_on_resumption": E(False, "nginx renews a ticket only when it was made with an older "
                                                "key (ngx_ssl_ticket_key_callback returns 2)"),
        })
    if ctx.tls13:
        resumes = tickets or cache
        expected.update({
            "tls13.tickets_per_handshake": E(2, "OpenSSL: 2 tickets (SSL_CTX_set_num_tickets(3)); stateful "
                                             "ones with ssl_session_tickets off"),
            "tls13.ticket_lifetime": E(lifetime, f"{doc}: ssl_session_timeout (default 5m)"),
            "tls13.resumes": E(resumes, f"{doc}: ssl_session_tickets, ssl_session_cache"),
            "tls13.new_ticket_on_resumption": E(True, "OpenSSL sends a ticket after a resumption"),
            "tls13.max_early_data": E(16384 if config.early_data else 0, f"{doc}: ssl_early_data"),
        })
    if config.ticket_key_file:
        expected["key.name"] = E(ctx.key_name(), f"{doc}: ssl_session_ticket_key (the first 16 bytes name the key)")
        expected["key.rotation"] = E("never: the key file's key until a reload with another file",
                                     f"{doc}: ssl_session_ticket_key")
    else:
        expected["key.rotation"] = E("every hour (keys shared with the session cache)" if rotates else
                                     "never: random keys made at start",
                                     f"{doc}: ssl_session_ticket_key ('if not set, keys are rotated "
                                     "automatically when ssl_session_cache shared memory is used', 1.23.2+)")
    if len(config.names) > 1:
        expected["key.shared_across_names"] = E(True, "the same ssl_session_ticket_key file in both server blocks"
                                                if config.ticket_key_file else
                                                "OpenSSL uses the default server's ticket keys for every name")
    # SIGHUP: the master reads nginx.conf and the key files again, starts new workers, retires the old ones
    return Launch(argv, expected, logs=[ctx.path("error.log")], reload_signal=signal.SIGHUP)


# --------------------------------------------------------------------------------------- Apache

def _apache(ctx: Context) -> Launch:
    config = ctx.config
    cert, key = ctx.certificate()
    tickets = config.tickets is not False
    cache = config.session_cache is not False  # our default: a shmcb cache, as Debian's ssl.conf has
    lifetime = config.lifetime if config.lifetime is not None else 300
    modules = "/usr/lib/apache2/modules"
    os.makedirs(ctx.path("htdocs"), exist_ok=True)
    write_file(ctx.path("htdocs/index.html"), b"gnutls-lab apache\n")
    os.chmod(ctx.path("htdocs"), 0o755)
    protocols = " ".join(f"+TLSv{v}" for v in config.tls)
    vhosts = "".join(
        f"<VirtualHost 127.0.0.1:{ctx.port}>\n  ServerName {name}\n  SSLEngine on\n"
        f"  SSLCertificateFile {cert}\n  SSLCertificateKeyFile {key}\n"
        + (f"  SSLSessionTicketKeyFile {config.ticket_key_file}\n" if config.ticket_key_file else "")
        + "</VirtualHost>\n" for name in config.names)
    conf = (
        f"ServerRoot {ctx.folder}\nDefaultRuntimeDir {ctx.folder}\nPidFile {ctx.path('apache.pid')}\n"
        f"Mutex file:{ctx.folder} default\n"
        f"LoadModule mpm_event_module {modules}/mod_mpm_event.so\n"
        f"LoadModule authz_core_module {modules}/mod_authz_core.so\n"
        f"LoadModule dir_module {modules}/mod_dir.so\n"
        f"LoadModule socache_shmcb_module {modules}/mod_socache_shmcb.so\n"
        f"LoadModule ssl_module {modules}/mod_ssl.so\n"
        "User www-data\nGroup www-data\nStartServers 1\nServerLimit 1\nThreadsPerChild 8\nMaxRequestWorkers 8\n"
        f"ServerName {config.names[0]}\nListen 127.0.0.1:{ctx.port} https\n"
        f"ErrorLog {ctx.path('error.log')}\nLogLevel info ssl:info\n"
        f"DocumentRoot {ctx.path('htdocs')}\nDirectoryIndex index.html\n"
        f'<Directory "{ctx.path("htdocs")}">\n  Require all granted\n</Directory>\n'
        f"SSLProtocol -all {protocols}\n"
        f"SSLSessionCache {'shmcb:' + ctx.path('ssl_scache') + '(512000)' if cache else 'none'}\n"
        f"SSLSessionCacheTimeout {lifetime}\nSSLSessionTickets {'on' if tickets else 'off'}\n"
        + vhosts)
    conf_path = ctx.write("apache2.conf", conf)
    argv = ["apache2", "-f", conf_path, "-DFOREGROUND"]
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin"), "LANG": "C"}
    doc = "Apache mod_ssl docs"
    expected = {}
    if ctx.tls12:
        expected.update({
            "tls12.ticket_issued": E(tickets, f"{doc}: SSLSessionTickets (default on)"),
            "tls12.lifetime_hint": E(lifetime if tickets else 0, f"{doc}: SSLSessionCacheTimeout (default 300; "
                                     "'also for sessions resumed by TLS session resumption (RFC 5077)')"),
            "tls12.ticket_resumes": E(tickets, f"{doc}: SSLSessionTickets"),
            "tls12.session_id_resumes": E(cache, f"{doc}: SSLSessionCache"),
            "tls12.new_ticket_on_resumption": E(False, "OpenSSL renews a TLS 1.2 ticket only when asked"),
        })
    if ctx.tls13:
        expected.update({
            "tls13.tickets_per_handshake": E(2, "OpenSSL: 2 tickets (SSL_CTX_set_num_tickets(3))"),
            "tls13.ticket_lifetime": E(lifetime, f"{doc}: SSLSessionCacheTimeout"),
            "tls13.resumes": E(tickets or cache, f"{doc}: SSLSessionTickets, SSLSessionCache"),
            "tls13.new_ticket_on_resumption": _openssl_reissue(bool(config.ticket_key_file),
                                                               "mod_ssl's key callback returns 1 for its key"),
            "tls13.max_early_data": E(0, f"{doc}: mod_ssl has no early-data directive"),
        })
    if config.ticket_key_file:
        expected["key.name"] = E(ctx.key_name(), f"{doc}: SSLSessionTicketKeyFile (48 bytes; first 16 name the key)")
    expected["key.rotation"] = E("never: the key (file or random at start) lives until a restart",
                                 f"{doc}: SSLSessionTicketKeyFile ('should be rotated... restart')")
    if len(config.names) > 1:
        expected["key.shared_across_names"] = E(
            True, f"{doc}: the same SSLSessionTicketKeyFile in both virtual hosts" if config.ticket_key_file else
            "OpenSSL uses the first virtual host's ticket keys for every name")
    # SIGUSR1: a graceful restart (apachectl graceful): the configuration and the key file read again
    return Launch(argv, expected, env=env, logs=[ctx.path("error.log")], reload_signal=signal.SIGUSR1)


# --------------------------------------------------------------------------------------- HAProxy

def _haproxy(ctx: Context) -> Launch:
    config = ctx.config
    cert, key = ctx.certificate()
    with open(cert) as c, open(key) as k:
        combined = c.read() + k.read()

    bundle = write_private_file(ctx.path("lab-bundle.pem"), combined.encode())
    tickets = config.tickets is not False
    cache = config.session_cache is not False
    lifetime = config.lifetime if config.lifetime is not None else 300
    bind = [f"bind 127.0.0.1:{ctx.port} ssl crt {bundle}",
            f"ssl-min-ver TLSv{config.tls[0]} ssl-max-ver TLSv{config.tls[-1]}"]
    if not tickets:
        bind.append("no-tls-tickets")
    if config.ticket_key_file:
        bind.append(f"tls-ticket-keys {config.ticket_key_file}")
    if config.early_data:
        bind.append("allow-0rtt")
    conf = (
        "global\n"
        f"  pidfile {ctx.path('haproxy.pid')}\n"
        f"  tune.ssl.lifetime {lifetime}\n" + ("" if cache else "  tune.ssl.cachesize 0\n") +
        f"  stats socket {ctx.path('admin.sock')} mode 600 level admin\n"
        "defaults\n  mode http\n  timeout client 5s\n  timeout connect 5s\n  timeout server 5s\n"
        "frontend lab\n  " + " ".join(bind) + "\n"
        "  http-request return status 200 content-type text/plain string \"gnutls-lab haproxy\"\n")
    conf_path = ctx.write("haproxy.cfg", conf)
    argv = ["haproxy", "-db", "-f", conf_path]
    doc = "HAProxy configuration.txt"
    expected = {}
    if ctx.tls12:
        expected.update({
            "tls12.ticket_issued": E(tickets, f"{doc}: bind no-tls-tickets"),
            "tls12.lifetime_hint": E(lifetime if tickets else 0, f"{doc}: tune.ssl.lifetime (default 300)"),
            "tls12.ticket_resumes": E(tickets, f"{doc}: bind no-tls-tickets"),
            "tls12.session_id_resumes": E(cache, f"{doc}: tune.ssl.cachesize (0 disables the cache)"),
            "tls12.new_ticket_on_resumption": E(False, "HAProxy renews a ticket only when its key is not the "
                                                "encrypting one (ssl_tlsext_ticket_key_cb returns 2)"),
        })
    if ctx.tls13:
        expected.update({
            "tls13.tickets_per_handshake": E(2, "OpenSSL: 2 tickets (SSL_CTX_set_num_tickets(3))"),
            "tls13.ticket_lifetime": E(lifetime, f"{doc}: tune.ssl.lifetime"),
            "tls13.resumes": E(tickets or cache, f"{doc}: no-tls-tickets, tune.ssl.cachesize"),
            "tls13.new_ticket_on_resumption": _openssl_reissue(bool(config.ticket_key_file),
                                                               "HAProxy's key callback returns 1 for the encrypting "
                                                               "key"),
            "tls13.max_early_data": E(15360 if config.early_data else 0, f"{doc}: bind allow-0rtt; the size is "
                                      "tune.bufsize minus tune.maxrewrite (16384 - 1024), ssl_sock.c"),
        })
    if config.ticket_key_file:
        expected["key.name"] = E(ctx.key_name(), f"{doc}: tls-ticket-keys ('the penultimate one [is used] for "
                                 "encryption')")
        expected["key.rotation"] = E("when a key is appended and HAProxy reloads, or `set ssl tls-key` on its "
                                     "stats socket", f"{doc}: tls-ticket-keys; management.txt: set ssl tls-key")
    else:
        expected["key.rotation"] = E("never: random keys made at start", f"{doc}: tls-ticket-keys")
    if len(config.names) > 1:
        expected["key.shared_across_names"] = E(True, f"{doc}: the keys belong to the bind line, whatever "
                                                "certificate the name selects")
    return Launch(argv, expected)


# --------------------------------------------------------------------------------------- Caddy

def _caddy(ctx: Context) -> Launch:
    config = ctx.config
    cert, key = ctx.certificate()
    tickets = config.tickets is not False
    session_tickets = {"disabled": not tickets}
    if config.rotation is not None:
        session_tickets["rotation_interval"] = f"{config.rotation}s"
    conf = {
        "admin": {"disabled": True, "config": {"persist": False}},
        "logging": {"logs": {"default": {"level": "INFO"}}},
        "storage": {"module": "file_system", "root": ctx.path("data")},
        "apps": {
            "http": {"servers": {"lab": {
                "listen": [f"127.0.0.1:{ctx.port}"],
                "protocols": ["h1", "h2"],  # no HTTP/3: nothing on UDP
                "automatic_https": {"disable": True},
                "tls_connection_policies": [{"protocol_min": f"tls{config.tls[0]}",
                                             "protocol_max": f"tls{config.tls[-1]}"}],
                "routes": [{"handle": [{"handler": "static_response", "body": "gnutls-lab caddy\n"}]}],
            }}},
            "tls": {"certificates": {"load_files": [{"certificate": cert, "key": key}]},
                    "session_tickets": session_tickets},
        },
    }
    conf_path = ctx.write("caddy.json", json.dumps(conf, indent=2))
    home = ctx.path("home")
    os.makedirs(home, exist_ok=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "XDG_DATA_HOME": ctx.path("data"),
           "XDG_CONFIG_HOME": ctx.path("config")}
    argv = ["caddy", "run", "--config", conf_path]
    doc = "Caddy JSON docs, apps/tls/session_tickets"
    rotation = config.rotation if config.rotation is not None else 12 * 3600
    go = "Go crypto/tls (handshake_server_tls13.go, ticket.go)"
    expected = {}
    if ctx.tls12:
        expected.update({
            "tls12.ticket_issued": E(tickets, f"{doc}: disabled"),
            "tls12.lifetime_hint": E(0, f"{go}: TLS 1.2 tickets carry no lifetime hint"),
            "tls12.ticket_resumes": E(tickets, f"{doc}: disabled"),
            "tls12.session_id_resumes": E(False, f"{go}: the server keeps no session cache"),
            "tls12.new_ticket_on_resumption": E(False, f"{go}: a new ticket only when the old one's key is not "
                                                "the newest"),
        })
    if ctx.tls13:
        expected.update({
            "tls13.tickets_per_handshake": E(1 if tickets else 0, f"{go}: one ticket after each handshake"),
            "tls13.ticket_lifetime": E(7 * 86400, f"{go}: maxSessionTicketLifetime, 7 days"),
            "tls13.resumes": E(tickets, f"{doc}: disabled"),
            "tls13.new_ticket_on_resumption": E(tickets, f"{go}: a ticket after every handshake"),
            "tls13.max_early_data": E(0, f"{go}: no 0-RTT"),
        })
    expected["key.rotation"] = E(f"every {rotation} s, keeping 4 keys", f"{doc}: rotation_interval (default "
                                 "12h), max_keys (default 4)")
    if len(config.names) > 1:
        expected["key.shared_across_names"] = E(True, f"{doc}: one set of keys for the whole tls app")
    return Launch(argv, expected, env=env)


# --------------------------------------------------------------------------------------- Exim

def _exim(ctx: Context) -> Launch:
    config = ctx.config
    cert, key = ctx.certificate()
    tickets = bool(config.tickets)  # Exim's default: tls_resumption_hosts unset, so no tickets
    for sub in ("spool", "log"):
        os.makedirs(ctx.path(sub), exist_ok=True)
    os.chown(ctx.path("spool"), *_exim_ids())
    os.chown(ctx.path("log"), *_exim_ids())
    for path in (cert, key):  # the receiving process reads them after dropping root
        os.chown(path, *_exim_ids())
    versions = ":".join(f"+VERS-TLS{v}" for v in config.tls)
    conf = (
        f"primary_hostname = {config.names[0]}\n"
        f"spool_directory = {ctx.path('spool')}\n"
        f"log_file_path = {ctx.path('log')}/%slog\n"
        "local_interfaces = <; 127.0.0.1\n"
        f"daemon_smtp_ports = {ctx.port}\n"
        "rfc1413_hosts =\nhost_lookup =\n"
        "tls_advertise_hosts = *\n"
        f"tls_certificate = {cert}\n"
        f"tls_privatekey = {key}\n"
        f"tls_require_ciphers = NORMAL:-VERS-ALL:{versions}\n"
        + ("tls_resumption_hosts = *\n" if tickets else "")
        + "acl_smtp_rcpt = acl_check_rcpt\n"
        "begin acl\nacl_check_rcpt:\n  deny message = gnutls-lab test server accepts no mail\n")
    conf_path = ctx.write("exim.conf", conf)
    os.chmod(conf_path, 0o644)
    argv = ["exim", "-C", conf_path, "-bdf", "-oX", str(ctx.port)]
    spec = "Exim spec 43.17 TLS Resumption"
    expected = {}
    if ctx.tls12:
        expected.update({
            "tls12.ticket_issued": E(tickets, f"{spec}: tls_resumption_hosts (default unset: not offered)"),
            "tls12.lifetime_hint": E(7200 if tickets else 0, f"{spec}: 'Tickets have limited lifetime (... GnuTLS 2hr)'"),
            "tls12.ticket_resumes": E(tickets, f"{spec}: tls_resumption_hosts"),
            "tls12.session_id_resumes": E(False, "Exim with GnuTLS keeps no session-ID cache"),
            "tls12.new_ticket_on_resumption": E(False, "GnuTLS sends no new ticket on a TLS 1.2 ticket resumption"),
        })
    if ctx.tls13:
        expected.update({
            "tls13.tickets_per_handshake": E(2 if tickets else 0, f"{spec}: tls_resumption_hosts; GnuTLS sends "
                                             "two"),
            "tls13.ticket_lifetime": E(7200, f"{spec}: GnuTLS 2hr"),
            "tls13.resumes": E(tickets, f"{spec}: tls_resumption_hosts"),
            "tls13.new_ticket_on_resumption": E(tickets, "GnuTLS sends a ticket after every TLS 1.3 handshake"),
            "tls13.max_early_data": E(0, "Exim: no early-data option"),
        })
    expected["key.rotation"] = E("Exim: 'rotated regularly (... GnuTLS 6hr)'; not stored", spec)
    if len(config.names) > 1:
        expected["key.shared_across_names"] = E(True, "Exim has one ticket key for every name")
    return Launch(argv, expected, starttls="smtp", answers="smtp",
                  logs=[ctx.path("log/mainlog"), ctx.path("log/paniclog")])


def _exim_ids() -> tuple[int, int]:
    import pwd

    try:
        entry = pwd.getpwnam("Debian-exim")
    except KeyError:
        return 0, 0
    return entry.pw_uid, entry.pw_gid


# --------------------------------------------------------------------------------------- lighttpd

_LIGHTTPD_DEFAULTS = {  # TLS 1.2 hint, TLS 1.3 lifetime, rotation, TLS 1.3 tickets per handshake / on resumption
    "openssl": (7200, 7200, "every 8 h, the two previous keys still accepted (24 h)", 2, False),
    "wolfssl": (300, 300, "every 8 h, the two previous keys still accepted (24 h)", 1, True),
    "gnutls": (21600, 21600, "a new master key every 24 h; libgnutls rotates within it every 3 x 21600 s", 2, True),
    "mbedtls": (43200, None, "mbedTLS rotates every 2 x 43200 s", 0, False),
}
_LIGHTTPD_WHY = {  # where the value comes from, beyond lighttpd's own source
    "openssl": "OpenSSL's 7200 s session timeout; after a resumption OpenSSL sends a ticket only when the key "
               "callback asks for renewal, and lighttpd's asks only for an older key (measured: none)",
    "wolfssl": "wolfSSL's default session timeout, 300 s (WOLFSSL_SESSION_TIMEOUT)",
    "gnutls": "libgnutls's default expiration, 21600 s, two tickets per handshake",
    "mbedtls": "mbedtls_ssl_ticket_setup(..., 43200) in mod_mbedtls.c; mbedTLS 2.28 has no TLS 1.3 server",
}


def _lighttpd(ctx: Context) -> Launch:
    config = ctx.config
    library = ctx.kind.split("-", 1)[1]
    cert, key = ctx.certificate()
    tickets = config.tickets is not False
    cache = bool(config.session_cache)
    os.makedirs(ctx.path("htdocs"), exist_ok=True)
    write_file(ctx.path("htdocs/index.html"), b"gnutls-lab lighttpd\n")
    conf_cmd = {"MinProtocol": f"TLSv{config.tls[0]}", "MaxProtocol": f"TLSv{config.tls[-1]}"}
    if not tickets:
        conf_cmd["Options"] = "-SessionTicket"
    cmds = ", ".join(f'"{k}" => "{v}"' for k, v in conf_cmd.items())
    lines = [
        f'server.document-root = "{ctx.path("htdocs")}"',
        'server.bind = "127.0.0.1"', f"server.port = {ctx.port}",
        f'server.errorlog = "{ctx.path("error.log")}"',
        f'server.modules = ( "mod_{library}" )',
        'index-file.names = ( "index.html" )',
        'ssl.engine = "enable"',
        f'ssl.pemfile = "{cert}"', f'ssl.privkey = "{key}"',
        f"ssl.openssl.ssl-conf-cmd = ( {cmds} )",
    ]
    if library == "wolfssl":
        # wolfSSL answers a client's status_request (gnutls-cli always sends one) by building an OCSP request,
        # which needs the certificate's issuer: without it the handshake ends with "ASN self-signed certificate
        # error" (-275, measured with wolfSSL 5.5.4). The lab certificate is self-signed: it is its own issuer.
        lines.append(f'ssl.ca-file = "{cert}"')
    if config.ticket_key_file:
        lines.append(f'ssl.stek-file = "{config.ticket_key_file}"')
    if cache:
        lines.append('server.feature-flags = ( "ssl.session-cache" => "enable" )')
    for name in config.names[1:]:  # a name-based virtual host with its own certificate setting
        lines.append(f'$HTTP["host"] == "{name}" {{\n  ssl.pemfile = "{cert}"\n  ssl.privkey = "{key}"\n}}')
    conf_path = ctx.write("lighttpd.conf", "\n".join(lines) + "\n")
    argv = ["lighttpd", "-D", "-f", conf_path, "-m", "/usr/lib/lighttpd"]
    hint, lifetime, rotation, per_handshake, reissue = _LIGHTTPD_DEFAULTS[library]
    src = f"lighttpd src/mod_{library}.c (header comment); Docs_SSL"
    why = f"{src}; {_LIGHTTPD_WHY[library]}"
    expected = {}
    if ctx.tls12:
        expected.update({
            "tls12.ticket_issued": E(tickets, f"{src}: ssl.openssl.ssl-conf-cmd Options -SessionTicket"),
            "tls12.ticket_resumes": E(tickets, f"{src}: Options -SessionTicket"),
            "tls12.session_id_resumes": E(cache, f"{src}: server.feature-flags ssl.session-cache (default off)"),
            "tls12.new_ticket_on_resumption": E(False, "a new ticket only for a ticket of an older key"),
        })
        if library == "mbedtls" and config.ticket_key_file:
            hint, why = STEK_VALID_FOR, (f"{src}: with ssl.stek-file mbedTLS's lifetime is the key's expiry minus "
                                         f"its activation ({STEK_VALID_FOR} s as write_ticket_key_file writes it)")
        if hint is not None:
            expected["tls12.lifetime_hint"] = E(hint if tickets else 0, why)
    if ctx.tls13:
        # wolfSSL applies SSL_OP_NO_TICKET (lighttpd's "-SessionTicket") to TLS 1.2 only (measured, 5.5.4)
        tickets13 = tickets or library == "wolfssl"
        off = "" if tickets13 == tickets else "; -SessionTicket leaves TLS 1.3 tickets on with wolfSSL (measured)"
        resumes13, reissue13 = tickets13, tickets13 and reissue
        if library == "openssl" and not tickets:
            # SSL_OP_NO_TICKET under TLS 1.3 turns OpenSSL's tickets stateful: still two per handshake (a
            # 32-byte session ID each), resumable only from the session cache, which renews one on resumption
            off = ("; under TLS 1.3 -SessionTicket makes OpenSSL's tickets stateful (SSL_CTX_set_options(3), "
                   "SSL_OP_NO_TICKET): resumable only with ssl.session-cache (measured)")
            tickets13, resumes13, reissue13 = True, cache, cache
        expected.update({
            "tls13.tickets_per_handshake": E(per_handshake if tickets13 else 0, why + off),
            "tls13.resumes": E(resumes13, f"{src}: Options -SessionTicket{off}"),
            "tls13.new_ticket_on_resumption": E(reissue13, why + off),
            "tls13.max_early_data": E(0, f"{src}: lighttpd enables no early data"),
        })
        if lifetime is not None:
            expected["tls13.ticket_lifetime"] = E(lifetime, why)
    if config.ticket_key_file and TICKET_KEY_FORMATS[ctx.kind].name is not None:
        expected["key.name"] = E(ctx.key_name(), f"{src}: ssl.stek-file (key name after the 12-byte header)")
    if config.ticket_key_file:
        expected["key.rotation"] = E("when ssl.stek-file changes (checked every 64 s)", f"{src}: ssl.stek-file")
    else:
        expected["key.rotation"] = E(rotation, src)
    if len(config.names) > 1:
        expected["key.shared_across_names"] = E(True, f"{src}: one STEK for the whole server (ssl.stek-file is "
                                                "global)")
    return Launch(argv, expected, logs=[ctx.path("error.log")])


# --------------------------------------------------------------------------------------- the lab

def _lab(ctx: Context) -> Launch:
    config = ctx.config
    tickets = config.tickets is not False
    lifetime = config.lifetime if config.lifetime is not None else 21600
    argv = [sys.executable, "-m", "gnutls_lab.network._real_servers_lab", "--port", str(ctx.port),
            "--tls", ",".join(config.tls), "--lifetime", str(lifetime)]
    if not tickets:
        argv.append("--no-tickets")
    if config.ticket_key_file:
        argv += ["--ticket-key", config.ticket_key_file]
    src = "gnutls-lab LabServer (gnutls_session_ticket_enable_server, gnutls_db_set_cache_expiration)"
    expected = {}
    if ctx.tls12:
        expected.update({
            "tls12.ticket_issued": E(tickets, src),
            "tls12.lifetime_hint": E(lifetime if tickets else 0, src),
            "tls12.ticket_resumes": E(tickets, src),
            "tls12.session_id_resumes": E(True, "LabServer keeps a session-ID cache"),
            "tls12.new_ticket_on_resumption": E(False, "GnuTLS sends no new ticket on a TLS 1.2 ticket resumption"),
        })
    if ctx.tls13:
        expected.update({
            "tls13.tickets_per_handshake": E(2 if tickets else 0, "GnuTLS sends two tickets after each handshake"),
            "tls13.ticket_lifetime": E(lifetime, src),
            "tls13.resumes": E(tickets, src),
            "tls13.new_ticket_on_resumption": E(tickets, "GnuTLS sends a ticket after every TLS 1.3 handshake"),
            "tls13.max_early_data": E(0, "LabServer enables no early data"),
        })
    expected["key.rotation"] = E(f"every {3 * lifetime} s (3 x lifetime), derived from the master key",
                                 "GnuTLS manual, Session resumption (lib/stek.c)")
    if len(config.names) > 1:
        expected["key.shared_across_names"] = E(True, "LabServer has one ticket key for every name")
    return Launch(argv, expected)


BUILDERS = {
    "gnutls-serv": _gnutls_serv, "openssl": _openssl, "nginx": _nginx, "apache": _apache, "haproxy": _haproxy,
    "caddy": _caddy, "exim": _exim, "lab": _lab,
    "lighttpd-gnutls": _lighttpd, "lighttpd-openssl": _lighttpd, "lighttpd-mbedtls": _lighttpd,
    "lighttpd-wolfssl": _lighttpd,
}
