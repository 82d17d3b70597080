"""The audit's verdict: one paragraph an operator understands, the evidence under it, and what to change.

Every sentence is built from a finding of :class:`~gnutls_lab.analysis.AuditReport` and names the
number it rests on; nothing here measures anything. The risk levels:

- **high**: someone outside can read or forge what tickets protect (a guessable key opened a ticket or
  made its MAC, a ticket carries its secret in clear or two tickets share a keystream), or a replayed 0-RTT
  flight was accepted again;
- **medium**: an observer can follow a client for as long as it keeps coming back (a TLS 1.2 ticket or
  session-ID chain), or for more than a day, or one ticket key links a client across server names;
- **low**: nothing above.

The advice names the configuration knobs of the implementation family the ticket layout points to
(:data:`ADVICE`); they were read from each server's documentation and sources, named beside them.
"""

from __future__ import annotations

__all__ = ["ADVICE", "SERVERS", "verdict", "human_seconds", "identify_software"]

#: Layout family → knob → what to write. Sources: nginx ngx_http_ssl_module docs; Apache mod_ssl docs;
#: HAProxy configuration manual; OpenSSL s_server(1); GnuTLS manual (gnutls-serv(1), the
#: gnutls_db_set_cache_expiration and gnutls_anti_replay_enable pages); Go crypto/tls (common.go).
ADVICE = {
    "gnutls": {
        "server": "a GnuTLS server (gnutls-serv, Exim, lighttpd mod_gnutls, or an application on libgnutls)",
        "tickets_off": "gnutls-serv --noticket; in an application, do not call gnutls_session_ticket_enable_server",
        "lifetime": "gnutls_db_set_cache_expiration(session, SECONDS): the ticket lifetime, and one third of the "
                    "key period (GnuTLS derives a new ticket key every 3 x lifetime)",
        "key": "replace the 64-byte master key from gnutls_session_ticket_key_generate (restart with a new one)",
        "zero_rtt": "without GNUTLS_ENABLE_EARLY_DATA no 0-RTT; with it, gnutls_anti_replay_enable with a store "
                    "shared by every process of the server",
        "per_name": "give each virtual host its own master key (one gnutls_session_ticket_enable_server key per name)",
        "cache_off": "gnutls-serv --nodb; in an application, set no gnutls_db_set_retrieve_function (no cache)",
    },
    "openssl": {
        "server": "a server on OpenSSL's ticket layout (nginx, Apache mod_ssl, HAProxy, lighttpd mod_openssl, "
                  "openssl s_server)",
        "tickets_off": "nginx: ssl_session_tickets off; Apache: SSLSessionTickets off; HAProxy: no-tls-tickets; "
                       "OpenSSL: SSL_OP_NO_TICKET (s_server -no_ticket)",
        "lifetime": "nginx: ssl_session_timeout; Apache: SSLSessionCacheTimeout; HAProxy: tune.ssl.lifetime; "
                    "OpenSSL: SSL_CTX_set_timeout",
        "key": "nginx: ssl_session_ticket_key FILE (80 random bytes, replaced and reloaded regularly); Apache: "
               "SSLSessionTicketKeyFile; HAProxy: tls-ticket-keys (rotated with 'set ssl tls-key')",
        "zero_rtt": "nginx: ssl_early_data off; HAProxy: drop allow-0rtt; OpenSSL: keep its anti-replay on "
                    "(never -no_anti_replay / SSL_OP_NO_ANTI_REPLAY)",
        "per_name": "nginx: a distinct ssl_session_ticket_key in each server block; HAProxy: tls-ticket-keys per bind",
        "cache_off": "nginx: ssl_session_cache off; Apache: SSLSessionCache none; HAProxy: tune.ssl.cachesize 0; "
                     "OpenSSL: SSL_SESS_CACHE_OFF (s_server -no_cache)",
    },
    "go": {
        "server": "a Go crypto/tls server (Caddy)",
        "tickets_off": "tls.Config.SessionTicketsDisabled = true",
        "lifetime": "Go accepts tickets for 7 days (maxSessionTicketLifetime)",
        "key": "Go rotates its automatic keys every 24 h and keeps them 7 days; with SetSessionTicketKeys, "
               "feed it random keys",
        "zero_rtt": "Go servers do not accept 0-RTT",
        "per_name": "a separate tls.Config (and keys) per name",
        "cache_off": "Go keeps no session-ID cache",
    },
}
ADVICE["go-legacy"] = ADVICE["go"]
ADVICE["wolfssl"] = ADVICE["mbedtls"] = {
    "server": "a server on wolfSSL or Mbed TLS (lighttpd mod_wolfssl, mod_mbedtls)",
    "tickets_off": "turn session tickets off in the server's TLS settings",
    "lifetime": "the ticket lifetime of the library's ticket context",
    "key": "lighttpd: ssl.stek-file with random bytes, replaced regularly",
    "zero_rtt": "leave early data off",
    "per_name": "a separate ticket key per name",
    "cache_off": "turn the TLS session cache off",
}

#: Recognised server → knob → the directive to write, in that server's own configuration language, and
#: ``directives``: the name of each directive (``tests/test_audit_real_servers.py`` checks that each one is
#: the directive the harness writes into that server's configuration to get that behaviour). A server is
#: recognised by what it says of itself (the HTTP ``Server`` header, the SMTP greeting: ``identify_software``).
#: Sources: nginx ngx_http_ssl_module; Apache mod_ssl; lighttpd Docs_SSL and mod_*.c; Caddy JSON config
#: apps/tls/session_tickets; Exim spec 43.17; HAProxy configuration.txt (no Server header of its own: its
#: directives are in the OpenSSL family's advice).
SERVERS = {
    "nginx": {
        "server": "nginx",
        "tickets_off": "write `ssl_session_tickets off;` in the server (or http) block and reload",
        "lifetime": "set `ssl_session_timeout` to the shortest time you accept (default 5m; it is the lifetime of "
                    "both the session cache and the tickets)",
        "cache_off": "`ssl_session_cache off;` (or no ssl_session_cache at all, the default)",
        "key": "`ssl_session_ticket_key /etc/nginx/ticket.key;` with 80 random bytes (`openssl rand 80`), replaced "
               "and reloaded (`nginx -s reload`) regularly, the previous file listed after it",
        "zero_rtt": "`ssl_early_data off;` (the default); with it on, pass `$ssl_early_data` to the application and "
                    "refuse unsafe requests in early data (HTTP 425)",
        "per_name": "a different `ssl_session_ticket_key` file in each `server` block",
        "directives": {"tickets_off": "ssl_session_tickets", "lifetime": "ssl_session_timeout",
                       "key": "ssl_session_ticket_key", "zero_rtt": "ssl_early_data", "cache_off": "ssl_session_cache"},
    },
    "apache": {
        "server": "Apache httpd (mod_ssl)",
        "tickets_off": "write `SSLSessionTickets off` (server config or <VirtualHost>) and restart",
        "lifetime": "set `SSLSessionCacheTimeout` to the shortest time you accept (default 300 s; the lifetime of "
                    "the session cache and of the tickets)",
        "cache_off": "`SSLSessionCache none`",
        "key": "`SSLSessionTicketKeyFile /etc/apache2/ticket.key` with 48 random bytes, replaced regularly and "
               "followed by `apachectl graceful` (mod_ssl reads it with the configuration; old tickets then fail)",
        "zero_rtt": "mod_ssl accepts no 0-RTT",
        "per_name": "a different `SSLSessionTicketKeyFile` in each <VirtualHost>",
        "directives": {"tickets_off": "SSLSessionTickets", "lifetime": "SSLSessionCacheTimeout",
                       "key": "SSLSessionTicketKeyFile", "cache_off": "SSLSessionCache"},
    },
    "lighttpd": {
        "server": "lighttpd",
        "tickets_off": "`ssl.openssl.ssl-conf-cmd = (\"Options\" => \"-SessionTicket\")` (every TLS module reads "
                       "it; with mod_wolfssl it turns off TLS 1.2 tickets only, TLS 1.3 tickets stay on)",
        "lifetime": "lighttpd has no setting for it: the TLS library's own (OpenSSL 7200 s, GnuTLS 21600 s, wolfSSL "
                    "300 s, Mbed TLS 43200 s); turn tickets off instead",
        "key": "`ssl.stek-file = \"/etc/lighttpd/stek\"` rewritten with random keys by a timer (lighttpd reads it "
               "at its next check, every 64 s, if the file is a second newer than its last read); without it lighttpd "
               "makes its own key every 8 h",
        "zero_rtt": "lighttpd enables no 0-RTT",
        "cache_off": "leave `\"ssl.session-cache\"` out of `server.feature-flags` (off by default)",
        "per_name": "lighttpd has one ticket key for every name (`ssl.stek-file` is global): separate lighttpd "
                    "instances for names that must not be linked",
        "directives": {"tickets_off": "ssl.openssl.ssl-conf-cmd", "key": "ssl.stek-file",
                       "cache_off": "ssl.session-cache"},
    },
    "caddy": {
        "server": "Caddy",
        "tickets_off": "`\"session_tickets\": {\"disabled\": true}` in the JSON configuration's tls app "
                       "(apps.tls.session_tickets)",
        "lifetime": "Go fixes it (TLS 1.3 tickets: 7 days); turn tickets off to shorten it",
        "key": "`\"session_tickets\": {\"rotation_interval\": \"1h\", \"max_keys\": 2}` (default 12h and 4)",
        "zero_rtt": "Go servers accept no 0-RTT",
        "cache_off": "Go keeps no session-ID cache",
        "per_name": "one ticket key set serves every name of a Caddy instance: separate instances",
        "directives": {"tickets_off": "session_tickets", "key": "rotation_interval"},
    },
    "exim": {
        "server": "Exim",
        "tickets_off": "unset `tls_resumption_hosts` (the default: no resumption), or list fewer hosts in it",
        "lifetime": "Exim fixes it (2 h with GnuTLS); narrow `tls_resumption_hosts` instead",
        "key": "Exim makes and rotates its own keys",
        "zero_rtt": "Exim accepts no 0-RTT",
        "cache_off": "Exim keeps no session-ID cache",
        "per_name": "one Exim process has one ticket key for all its names",
        "directives": {"tickets_off": "tls_resumption_hosts"},
    },
}

_GENERIC = {
    "server": "this server",
    "tickets_off": "turn TLS 1.2 session tickets off in the server's TLS settings",
    "lifetime": "shorten the ticket (session) lifetime in the server's TLS settings",
    "key": "use random ticket keys and replace them regularly",
    "zero_rtt": "turn 0-RTT off, or keep a replay cache shared by every server process",
    "per_name": "use a separate ticket key per server name",
    "cache_off": "turn the TLS session(-ID) cache off",
}


def human_seconds(seconds: float) -> str:
    """``7200`` → ``2 h``, ``90`` → ``1.5 min``, ``604800`` → ``7 days``."""
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            value = seconds / size
            text = f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"
            return f"{text} {'day' if unit == 'days' and text == '1' else unit}"
    return f"{seconds:.3g} s"


def _rate(row: dict) -> str:
    return f"{row['resumed']} of {row['attempts']}"


def verdict(report, found: dict) -> dict:
    """The verdict of one audit: ``risk``, ``summary`` (a paragraph), ``evidence`` and ``advice`` lists,
    ``recognised`` (the implementation family, with how sure), ``tracking`` (the worst window, in words)."""
    evidence: list[str] = []
    advice: list[str] = []
    risks: list[str] = []
    sentences: list[str] = []
    layout = found["fingerprint"].best
    family = layout.layout if layout is not None else None
    software = found.get("software") or {}
    product = software.get("product")
    knobs = SERVERS[product] if product in SERVERS else ADVICE.get(family, _GENERIC)

    resumption = found["resumption"]
    resumes = {m: r for m, r in resumption.items() if r["resumed"]}
    names = {"tls13-psk": "TLS 1.3 tickets", "tls12-ticket": "TLS 1.2 tickets", "tls12-session-id": "TLS 1.2 session IDs"}
    if resumes:
        sentences.append(f"{report.target} resumes sessions with "
                         + ", ".join(f"{names[m]} ({_rate(r)})" for m, r in resumes.items()) + ".")
    else:
        sentences.append(f"{report.target} resumed no session in this audit, so no resumption credential links its "
                         "clients.")
    for mechanism, row in resumption.items():
        if not row["attempts"]:
            evidence.append(f"{names[mechanism]}: none issued, so none offered")
            continue
        evidence.append(f"{names[mechanism]}: resumed {_rate(row)} (95 % interval {row['low']:.0%}-{row['high']:.0%})")

    # -- tracking ------------------------------------------------------------------------------------
    windows = [w["window"] for w in found["tracking"]]
    unbounded = [w for w in windows if w.unbounded]
    by_mechanism: dict = {}
    for w in windows:
        by_mechanism.setdefault(w.policy.mechanism, {})[w.client] = w
    parts = []
    for mechanism, pair in by_mechanism.items():
        keeps, careful = pair.get("keeps"), pair.get("single-use")
        label = names[mechanism]
        if keeps is not None and keeps.unbounded:
            parts.append(f"over {label} for as long as the client keeps coming back")
        elif keeps is not None and keeps.seconds > keeps.gap:
            # bounded by the lifetime: the span runs from the first revisit to the last one inside it
            span = _window_text(keeps)
            parts.append(f"over {label} for up to {span} when the client reuses its ticket")
        elif keeps is not None and keeps.seconds:
            parts.append(f"over {label} across two visits in a row when the client reuses its ticket (the second "
                         "offer of a ticket is refused, but shows it again)")
        if careful is not None and careful.unbounded:
            parts.append(f"over {label} even when the client uses each ticket once")
        for w in (keeps, careful):
            if w is not None:
                evidence.append(f"tracking, {label}, {w.explanation} (visits every {human_seconds(w.gap)}, "
                                f"lifetime {human_seconds(w.policy.lifetime)})")
    if parts:
        sentences.append("A passive observer can link a returning client " + "; ".join(parts) + ".")
    careful13 = by_mechanism.get("tls13-psk", {}).get("single-use")
    if careful13 is not None and careful13.seconds == 0:
        sentences.append("A TLS 1.3 client that uses each ticket once is not linked by its tickets.")
    if unbounded or any(w.seconds > 86400 for w in windows):
        risks.append("medium")
    if any(w.policy.mechanism == "tls12-session-id" and w.unbounded and w.client == "keeps" for w in windows):
        advice.append("a TLS 1.2 session ID is shown in clear on every resumption, and when it expires the refused ID "
                      "and the new one cross the wire together, so it chains a client's visits whatever its lifetime: "
                      f"{knobs['cache_off']} (or serve TLS 1.3 only)")
    if any(w.policy.mechanism == "tls12-ticket" and w.unbounded for w in windows):
        advice.append(f"TLS 1.2 tickets cross the wire in clear and chain a client's visits: {knobs['tickets_off']} "
                      "(or serve TLS 1.3 only)")
    long13 = by_mechanism.get("tls13-psk", {}).get("keeps")
    if long13 is not None and long13.seconds > 3600:
        advice.append(f"a ticket lives {human_seconds(long13.policy.lifetime)}: a client that keeps one is linked that "
                      f"long ({knobs['lifetime']})")

    # -- lifetimes -----------------------------------------------------------------------------------
    for protocol, row in found["lifetime"].items():
        line = f"{protocol}: lifetime hint {row['hint']} s" if row["hint"] is not None else f"{protocol}: no lifetime hint"
        if row["confirmed_up_to"] is not None:
            line += f"; accepted at ages up to {row['confirmed_up_to']:g} s"
        if row["refused_at"] is not None:
            line += f"; refused at {row['refused_at']:g} s"
        if row["not_offered_ages"]:
            line += (f"; not offered at {', '.join(f'{a:g}' for a in row['not_offered_ages'])} s (the client drops "
                     "tickets past their lifetime)")
        evidence.append(line)
        if row["not_waited"]:
            evidence.append(f"{protocol}: {row['not_waited']}")
        if row["hint"] and row["refused_at"] is not None and row["refused_at"] < row["hint"]:
            sentences.append(f"Its {protocol} tickets announce {row['hint']} s but were refused at {row['refused_at']:g} s.")

    # -- reissue and session IDs ----------------------------------------------------------------------
    for protocol, row in found["reissue"].items():
        evidence.append(f"{protocol}: {row['with_new_tickets']} of {row['resumptions']} resumptions brought new tickets"
                        + (f" (lifetimes {row['new_ticket_lifetimes']}, {row['lifetime_policy']})"
                           if row["new_ticket_lifetimes"] else ""))
    ids = found["session_ids"]
    echo = ids.get("tls13_legacy_session_id_echo")
    if echo:
        evidence.append(f"TLS 1.3: the server echoed the client's legacy_session_id in {echo['echoed']} of "
                        f"{echo['connections']} ServerHellos (RFC 8446 4.1.3 requires it), so a client that resends "
                        "the same one (a GnuTLS client in compatibility mode) is linked on every visit whatever the "
                        "server does")
    sid = ids.get("tls12_session_id")
    if sid and sid["resumptions"]:
        evidence.append(f"TLS 1.2 session IDs: the same ID on {sid['resumptions']} resumptions "
                        f"({sid['distinct_server_ids']} distinct in {sid['connections']} connections)")

    # -- key names -----------------------------------------------------------------------------------
    keys = found["key_names"]
    if keys and not keys["prefix_size"]:
        evidence.append(f"key names: {keys['note']}")
        if keys["cross_name_resumption"]:
            sentences.append("A ticket issued under one server name resumed under another: one key serves both.")
            risks.append("medium")
    elif keys:
        span = human_seconds(keys["span_seconds"]) if keys["span_seconds"] >= 1 else f"{keys['span_seconds']:.2f} s"
        if keys["distinct"] == 1:
            key_text = f"The ticket key did not change during the audit ({span}; a daily rotation cannot show in that time)"
        else:
            longest = keys["longest_seen_seconds"]
            key_text = (f"The ticket key changed {keys['distinct'] - 1} time{'s' * (keys['distinct'] > 2)} during the "
                        f"audit ({span}, at {', '.join(f'{t:.1f}' for t in keys['changed_at'])} s; no key name was "
                        f"seen for longer than {human_seconds(longest) if longest >= 1 else f'{longest:.2f} s'}, so it rotates "
                        "at least that often)")
        if keys["shared_across_names"]:
            names_text = ", ".join(n or "(no SNI)" for n in keys["by_server_name"])
            key_text += f"; the same key serves {names_text}, so a ticket links a client across them"
            risks.append("medium")
            advice.append(f"one ticket key behind several names links a client across them: {knobs['per_name']}")
        if keys["cross_name_resumption"]:
            key_text += " (a ticket from one name resumed on another)"
        if family not in (None, "go"):
            sentences.append(key_text + ".")
        evidence.append(f"key names: {keys['distinct']} distinct in {len(report.tickets)} tickets over {span}")

    # -- tickets themselves ---------------------------------------------------------------------------
    fp = found["fingerprint"]
    if fp.best is not None:
        evidence.append(f"ticket layout: {fp.best.layout} ({fp.best.implementations}), {fp.best.confidence}: "
                        f"{fp.best.reason}; lengths {list(fp.lengths)}")
    elif fp.tickets:
        evidence.append(f"ticket layout: none of the known layouts fits (lengths {list(fp.lengths)}, shared prefix "
                        f"{fp.shared_prefix} bytes)")
    weak = found["weak_keys"]
    decrypted = [h for h in weak if h.what == "decrypted"]
    if decrypted:
        hit = decrypted[0]
        sentences.append(f"Its tickets open with a guessable key ({hit.key_label}, {hit.role}): anyone who recorded a "
                         "session can read it and can resume it as the client.")
        risks.append("high")
        advice.append(f"replace the ticket key with random bytes now, and treat recorded sessions as exposed: {knobs['key']}")
    elif weak:
        hit = weak[0]
        sentences.append(f"Its ticket MAC key is guessable ({hit.key_label}): tickets can be forged or altered.")
        risks.append("high")
        advice.append(f"replace the ticket key with random bytes: {knobs['key']}")
    for hit in weak:
        where = f" ({hit.secret_kind} at offset {hit.secret_offset})" if hit.secret_kind else ""
        evidence.append(f"weak key: {hit.layout} layout, {hit.protocol}, {hit.role} = {hit.key_label}: {hit.what} "
                        f"{hit.tickets} ticket{'s' * (hit.tickets > 1)}{where}")
    if not weak and report.tickets:
        evidence.append(f"weak keys: none of {len(_weak_labels())} guessable keys opened or signed "
                        f"{min(len(report.tickets), 8)} tickets")
    for hit in found["plain_secrets"]:
        sentences.append(f"A {hit.protocol} ticket carries the session's {hit.kind} in clear: an observer reads it.")
        risks.append("high")
        evidence.append(f"plain secret: the {hit.kind} at offset {hit.offset} of ticket from connection {hit.index}")
    for hit in found["keystream_reuse"]:
        sentences.append("Two tickets share a keystream (a repeated nonce): XORing them exposes their secrets.")
        risks.append("high")
        evidence.append(f"keystream reuse: tickets of connections {hit.first} and {hit.second} ({hit.kind}, offset "
                        f"{hit.offset})")

    # -- 0-RTT ---------------------------------------------------------------------------------------
    zero = found["zero_rtt"]
    if zero["max_early_data_size"]:
        line = f"0-RTT: tickets allow {zero['max_early_data_size']} bytes of early data"
        if zero["early_data_accepted"] is not None:
            line += "; early data was " + ("accepted" if zero["early_data_accepted"] else "refused")
        evidence.append(line)
        replay = zero["replay"]
        if replay and replay.get("verdict") == "accepted":
            sentences.append("It accepts 0-RTT early data, and a replayed first flight was accepted again: a recorded "
                             "request can be replayed.")
            risks.append("high")
            advice.append(f"a replayed 0-RTT request was accepted: {knobs['zero_rtt']}")
        elif replay and replay.get("verdict"):
            sentences.append(f"It accepts 0-RTT early data; a replayed first flight was {replay['verdict']}.")
        elif zero["early_data_accepted"]:
            sentences.append("It accepts 0-RTT early data (replay not tried: run with --replay).")
        if replay:
            evidence.append(f"0-RTT replay: {replay.get('verdict')}: {replay.get('evidence')}")
    elif zero["max_early_data_size"] == 0:
        evidence.append("0-RTT: no ticket allows early data")

    if software.get("said"):
        evidence.append(f"server software: it says '{software['said']}' ({software['how']})"
                        + (f": the advice names {knobs['server']}'s own directives" if product else
                           ": not one the audit has directives for"))
    elif software:
        evidence.append(f"server software: not recognised ({software['how']})")

    risk = "high" if "high" in risks else "medium" if "medium" in risks else "low"
    recognised = None
    if layout is not None or product:
        recognised = {"family": family, "server": knobs["server"],
                      "confidence": layout.confidence if layout is not None else None,
                      "product": product, "said": software.get("said")}
        if advice and product:
            advice.append(f"(advice for {knobs['server']}: its {software['how']} says '{software['said']}'"
                          + (f"; its tickets have the {family} layout, {layout.confidence})" if layout else ")"))
        elif advice:
            advice.append(f"(advice for {knobs['server']}, recognised from the ticket layout, {layout.confidence})")
    worst = max(windows, key=lambda w: (w.unbounded, w.seconds), default=None)
    return {
        "risk": risk,
        "summary": " ".join(sentences),
        "evidence": evidence,
        "advice": advice,
        "recognised": recognised,
        "tracking": None if worst is None else {
            "mechanism": worst.policy.mechanism, "client": worst.client, "seconds": worst.seconds,
            "unbounded": worst.unbounded,
            "text": _window_text(worst)},
    }


def _window_text(window) -> str:
    """A tracking window in words; one bounded by the lifetime says so (the model's span runs from the first
    revisit to the last one inside the lifetime, a gap or two short of it)."""
    if window.unbounded:
        return "for as long as the client keeps coming back"
    if not window.seconds:
        return "not at all"
    if window.seconds <= window.gap:
        return "two visits in a row"
    if window.seconds >= window.policy.lifetime - 2 * window.gap:
        return f"{human_seconds(window.policy.lifetime)} (the ticket lifetime)"
    return human_seconds(window.seconds)


def _weak_labels() -> list:
    from ._ticket_audit import WEAK_KEYS

    return [label for label, _ in WEAK_KEYS]


#: What a server's own words say it is: (pattern in the Server header or SMTP greeting, SERVERS key).
_SOFTWARE = (("nginx", "nginx"), ("apache", "apache"), ("lighttpd", "lighttpd"), ("caddy", "caddy"),
             ("exim", "exim"))


def identify_software(protocol: str, answer: bytes) -> dict:
    """What a server says it is: ``protocol`` ``"http"`` (``answer``: the start of its answer to a ``HEAD``
    request) or ``"smtp"`` (its greeting). ``{"protocol", "said", "product", "how"}``: ``said`` the words it
    used (the ``Server`` header's value, the greeting's text; None), ``product`` a :data:`SERVERS` key or None.
    A server that says nothing of itself, or echoes the request back, is not recognised."""
    text = bytes(answer[:16384]).decode("latin-1")
    said, how = None, "no answer"
    if protocol == "smtp":
        line = text.split("\r\n", 1)[0].strip()
        if line.startswith("220"):
            said, how = line[3:].lstrip(" -")[:200], "SMTP greeting"
        elif line:
            how = "not an SMTP greeting"
    elif text.startswith(("HEAD ", "GET ")):
        how = "the server echoed the request back (an echo server)"
    elif text.startswith("HTTP/"):
        how = "no Server header in its HTTP answer"
        head = text.split("\r\n\r\n", 1)[0]
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "server":
                said, how = value.strip()[:200], "Server header"
                break
    elif text:
        how = "an answer that is not HTTP"
    product = None
    if said:
        lowered = said.lower()
        product = next((key for word, key in _SOFTWARE if word in lowered), None)
    return {"protocol": protocol, "said": said, "product": product, "how": how}
