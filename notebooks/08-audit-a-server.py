# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 08 · Auditing a server

# %%
# Environment check: run this cell first. If it fails, open 00-setup-check.ipynb: it says how to fix it.
import sys

try:
    import gnutls_lab
except ImportError as exc:
    raise RuntimeError(f"this kernel ({sys.executable}) cannot import gnutls_lab: run `make lab` from the "
                       "repository root, or `pip install -e .` in this kernel's environment") from exc
print(gnutls_lab.library_info())

# %% [markdown]
# The earlier notebooks looked at resumption from inside: the lab made both ends and read their secrets.
# An operator has only the outside of their server: what a client sees. `gnutls-lab audit HOST:PORT`
# asks the questions of notebooks 03 to 06 from there, with the lab's client (the real libgnutls) and its
# passive observer: does the server resume, how long may a client keep a ticket, does it get a new one,
# for how long can an observer on the path follow one client, is the ticket key guessable, does the same
# key serve two names, does a replayed 0-RTT flight get through?
#
# **What you will learn**
# - what each probe of the audit sends, and what it can and cannot tell from outside (a lifetime it did
#   not wait for is said so, not guessed);
# - how the tracking period of notebook 04 follows from a server's policy: lifetime, reissue, reuse;
# - how a guessable ticket key shows: the client holds its own session secret, so a key that decrypts a
#   ticket to that secret is proof (Hebrok et al., USENIX Security 2023, found such keys deployed);
# - how a replayed 0-RTT flight is judged by someone who cannot decrypt the answer;
# - what gnutls-serv, openssl s_server and nginx do, live where they are installed and recorded where not.

# %%
import json
import shutil
import tempfile
import threading
from pathlib import Path

from IPython.display import Markdown, display

from course.checks import check
from gnutls_lab import LabCertificate, audit, audit_text, plot_audit_key_timeline, plot_tracking_window
from gnutls_lab.network import ExternalServer, LabServer

version = gnutls_lab.library_info().version
installed = {name: shutil.which(name) is not None for name in ("gnutls-serv", "openssl")}
recorded_file = Path("..") / "data" / "audit" / "audit-gnutls-3.7.9.json"
recorded = json.loads(recorded_file.read_text())
print("installed here:", installed)
print("recorded audits:", recorded["provenance"])

# %% [markdown]
# ## A server with every flaw the audit looks for
# The lab server speaks TLS 1.3 and 1.2, with an **all-zero** 64-byte ticket master key, 0-RTT on, and an
# anti-replay store that forgets everything (as a server whose replay cache is not shared between its
# processes would). We audit it under two server names, and with `replay=True` (the 0-RTT request is then
# sent twice: do that only to a server you run).

# %%
flawed = LabServer(0, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", ticket_key=bytes(64), early_data=4096,
                   anti_replay="forget", idle_timeout=0.5)
serving = threading.Thread(target=flawed.serve_forever, daemon=True)
serving.start()
report = audit("127.0.0.1", flawed.port, replay=True, server_names=("a.example", "b.example"))
print(audit_text(report))

# %% [markdown]
# The verdict comes first, in words; the evidence under it names the number each sentence rests on.
# Each finding is checked here against what we configured, and against the server's own records:

# %%
found = report.findings()
check(found["verdict"]["risk"] == "high", "the verdict is 'high risk'")
opened = {(hit.protocol, hit.layout, hit.key_label) for hit in found["weak_keys"] if hit.what == "decrypted"}
check(opened == {("TLS1.3", "gnutls", "all-zero"), ("TLS1.2", "gnutls", "all-zero")},
      "the all-zero GnuTLS master key opens its TLS 1.3 and TLS 1.2 tickets")
kinds = {hit.protocol: hit.secret_kind for hit in found["weak_keys"]}
check(kinds == {"TLS1.3": "resumption_master_secret", "TLS1.2": "master_secret"},
      "and the plaintext holds the client's own secret: the resumption master secret, the master secret")
check(found["fingerprint"].best.layout == "gnutls" and found["fingerprint"].best.confidence == "certain",
      "the ticket layout is GnuTLS's, certainly (a guessed key opened it)")
check(found["key_names"]["shared_across_names"] and found["key_names"]["cross_name_resumption"],
      "one key serves a.example and b.example: a ticket of one name resumes under the other")
check(found["zero_rtt"]["replay"]["verdict"] == "accepted", "the replayed 0-RTT flight is judged accepted")
served = flawed.wait_served(len(report.connections) + 1, 10)
early = [record.early_data for record in served if record.early_data]
check(len(early) == 2 and early[0] == early[1],
      "the server's own records agree: the same early data reached its application twice")

# %% [markdown]
# ## How long an observer follows one client
# The audit measured the policy (lifetime, new tickets on resumption or not, a ticket accepted twice or
# not) and runs notebook 04's computation on it: one client's visits, every value that crosses the wire in
# clear, linked into clusters; the tracking period is the longest span of one cluster. Two clients: one
# that keeps its ticket until refused, one that uses each ticket once (RFC 8446 C.4). A bar joins the
# visits an observer links.

# %%
plot_tracking_window(report)

# %%
windows = {(w["window"].policy.mechanism, w["window"].client): w["window"] for w in found["tracking"]}
check(windows[("tls12-ticket", "keeps")].unbounded,
      "TLS 1.2 tickets: a client that keeps its ticket is followed for as long as it comes back")
check(windows[("tls12-ticket", "single-use")].seconds == windows[("tls12-ticket", "single-use")].gap,
      "a TLS 1.2 client that uses each ticket once is linked in pairs: GnuTLS gives no new ticket on a "
      "resumption, so it does a full handshake every other visit")
check(windows[("tls13-psk", "single-use")].seconds == 0,
      "a TLS 1.3 client that uses each ticket once is never linked by its tickets (they are encrypted when issued)")
keeps13 = windows[("tls13-psk", "keeps")]
check(keeps13.policy.lifetime - 2 * keeps13.gap <= keeps13.seconds <= keeps13.policy.lifetime,
      f"a TLS 1.3 client that keeps its ticket is followed for as long as it lives ({keeps13.policy.lifetime:g} s)")

# %% [markdown]
# ## Key names over time
# Every ticket of GnuTLS and OpenSSL starts with the name of the key that made it. One row per (server
# name, key name): a rotation would start a new row; here one key serves both names for the whole audit
# (a few seconds: a key rotated daily cannot show in that time, and the report says over how long it
# looked).

# %%
plot_audit_key_timeline(report)

# %%
check(found["key_names"]["distinct"] == 1, "one key name in every ticket of the audit")
flawed.stop()
serving.join()
flawed.close()

# %% [markdown]
# ## gnutls-serv and openssl s_server
# The same audit, against two servers nobody here wrote, each with 0-RTT on: `gnutls-serv --earlydata`
# (GnuTLS's anti-replay on) and `openssl s_server -early_data -no_anti_replay`. They run **live** where
# installed; where not (Binder has neither), the audit recorded in `data/audit/` is shown instead, labelled.

# %%
results = {}
with tempfile.TemporaryDirectory() as folder:
    cert, key = LabCertificate().write_files(folder)
    for name, kind, args, program in (("gnutls-serv --earlydata", "gnutls-serv", ("--earlydata",), "gnutls-serv"),
                                      ("openssl s_server -early_data -no_anti_replay", "openssl",
                                       ("-early_data", "-no_anti_replay"), "openssl")):
        if installed[program]:
            with ExternalServer(kind, cert, key, "1.3", extra_args=args) as server:
                results[name] = ("live", audit("127.0.0.1", server.port, replay=True).to_dict())
        else:
            results[name] = ("recorded", next(r["audit"] for r in recorded["runs"] if r["server"] == name))
rows = ["| server | source | risk | TLS 1.3 resumed | lifetime hint | new ticket on resumption | layout | 0-RTT replay |",
        "|---|---|---|---|---|---|---|---|"]
for name, (source, doc) in results.items():
    f = doc["findings"]
    rows.append(f"| {name} | {source} | {doc['verdict']['risk']} | {f['resumption']['tls13-psk']['resumed']} of "
                f"{f['resumption']['tls13-psk']['attempts']} | {f['lifetime']['TLS1.3']['hint']} s | "
                f"{f['reissue']['TLS1.3']['with_new_tickets']} of {f['reissue']['TLS1.3']['resumptions']} "
                f"({f['reissue']['TLS1.3']['lifetime_policy']}) | {f['fingerprint']['layout']} "
                f"({f['fingerprint']['confidence']}) | {f['zero_rtt']['replay']['verdict']} |")
display(Markdown("\n".join(rows)))

# %%
gserv = results["gnutls-serv --earlydata"][1]["findings"]
ossl = results["openssl s_server -early_data -no_anti_replay"][1]["findings"]
check(gserv["fingerprint"]["layout"] == "gnutls" and ossl["fingerprint"]["layout"] == "openssl",
      "each server's tickets are recognised by their layout: GnuTLS's length field, OpenSSL's 32-byte HMAC")
check(gserv["reissue"]["TLS1.3"]["lifetime_policy"] == "remaining" and ossl["reissue"]["TLS1.3"]["lifetime_policy"] == "fresh",
      "both reissue on resumption; GnuTLS's new tickets expire with the first, OpenSSL's start afresh")
check(gserv["zero_rtt"]["replay"]["verdict"].startswith("refused (the ticket was taken"),
      "gnutls-serv takes the replayed ticket but refuses its early data (its anti-replay remembered the flight)")
check(ossl["zero_rtt"]["replay"]["verdict"] == "accepted",
      "openssl s_server -no_anti_replay accepts the replayed early data")

# %% [markdown]
# How a replay is judged without the keys: the ServerHello is in clear (no `pre_shared_key`: the ticket
# was refused), and when the ticket is taken, the server's EncryptedExtensions carries the 4-byte
# `early_data` extension only if it accepts the early data. The replayer compares the sizes of the
# server's encrypted records with those of the original connection, whose early data the client saw
# accepted:

# %%
for name, (source, doc) in results.items():
    replay = doc["findings"]["zero_rtt"]["replay"]
    print(f"{name} [{source}]: {replay['verdict']}\n    {replay['evidence']}")

# %% [markdown]
# ## nginx with a guessable key
# nginx takes its ticket keys from a file (`ssl_session_ticket_key`, 80 bytes: name, HMAC key, AES key).
# Here nginx runs with an **all-zero** file, TLS 1.2 and 1.3, `ssl_early_data on` and two server names
# (`start_real_server`, which writes nginx's own configuration on 127.0.0.1), and is audited with `--replay`.
# The audit reads OpenSSL's layout (key name, IV, AES-CBC, HMAC-SHA256) and tries the guessable keys as
# nginx splits its file. Where nginx is not installed, the audit recorded in `data/audit/` is shown instead.

# %%
from gnutls_lab.network import LAB_NAMES, RealServerConfig, start_real_server, write_ticket_key_file

if shutil.which("nginx"):
    with tempfile.TemporaryDirectory() as folder:
        key_file = str(Path(folder) / "ticket.key")
        write_ticket_key_file("nginx", key_file, [bytes(80)])
        config = RealServerConfig(ticket_key_file=key_file, early_data=True, names=LAB_NAMES)
        with start_real_server("nginx", config) as server:
            nginx_doc = audit(server.host, server.port, server_names=server.names, replay=True).to_dict()
            nginx_source = f"live, {server.version}"
else:
    recorded_nginx = next(r for r in recorded["runs"] if r["server"].startswith("nginx"))
    nginx_doc = recorded_nginx["audit"]
    nginx_source = f"recorded {recorded['provenance']['date']}, {recorded_nginx['server_version']}"
print(f"nginx ({nginx_source})")
print(nginx_doc["verdict"]["summary"])
weak = nginx_doc["findings"]["weak_keys"]
for hit in weak:
    print(f"  {hit['protocol']}: {hit['role']} = {hit['key']}: {hit['what']}"
          + (f", {hit['secret_found']} found at offset {hit['secret_offset']}" if hit["secret_found"] else ""))

# %%
decrypted = {hit["protocol"]: hit["secret_found"] for hit in weak if hit["what"] == "decrypted"}
check(decrypted == {"TLS1.3": "psk", "TLS1.2": "master_secret"},
      "the all-zero AES key opens nginx's tickets: the TLS 1.3 ticket holds the PSK, the TLS 1.2 one the master secret")
check(nginx_doc["findings"]["zero_rtt"]["replay"]["verdict"] == "accepted",
      "nginx with ssl_early_data on accepted the replayed 0-RTT request")
check(nginx_doc["findings"]["key_names"]["shared_across_names"],
      "one key file serves both server names")

# %% [markdown]
# ## What the audit did not wait for
# A lifetime is announced in each NewSessionTicket; whether the server keeps to it shows only by waiting.
# The audit offers tickets at 1/4, 1/2 and all of `max_wait` seconds and says what it did not wait for.
# A lab server whose tickets live 3 seconds, audited with `max_wait=8`: offers at 2 s (inside the lifetime), 4 s
# and 8 s (past it). Not at the lifetime itself: libgnutls counts whole seconds, so an offer at exactly 3 s
# is accepted or refused by where the second boundaries fall.

# %%
short = LabServer(0, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", lifetime=3, idle_timeout=0.5)
serving = threading.Thread(target=short.serve_forever, daemon=True)
serving.start()
aged = audit("127.0.0.1", short.port, max_wait=8).findings()["lifetime"]
short.stop()
serving.join()
short.close()
for protocol, row in aged.items():
    print(f"{protocol:18} hint {row['hint']}  accepted at {row['accepted_ages']}  refused at {row['refused_ages']}  "
          f"not offered at {row['not_offered_ages']}")

# %%
check(aged["TLS1.2"]["accepted_ages"] and max(aged["TLS1.2"]["accepted_ages"]) < 3,
      "a TLS 1.2 ticket younger than its 3 s lifetime is accepted")
check(aged["TLS1.2"]["refused_at"] is not None and aged["TLS1.2"]["refused_at"] > 3,
      "a TLS 1.2 ticket older than its 3 s lifetime is offered and refused by the server")
check(aged["TLS1.3"]["not_offered_ages"] and not aged["TLS1.3"]["refused_ages"],
      f"a TLS 1.3 ticket past its lifetime is not even offered: libgnutls {version} drops it on the client")

# %% [markdown]
# ## Recap
# - `gnutls-lab audit HOST:PORT` makes a bounded number of real handshakes and reads them as an observer
#   and as the client: resumption k of N, lifetimes announced and accepted, reissue, key names, the ticket
#   layout, guessable keys, 0-RTT and its replay. What it did not wait for, it says.
# - The tracking period is notebook 04's computation on the server's measured policy: TLS 1.2 tickets
#   chain a client's visits for as long as it comes back; a TLS 1.3 client that uses each ticket once is
#   not linked by its tickets, one that keeps a ticket is followed for its lifetime.
# - A guessable key is proven, not guessed: the client holds its own secret and finds it in the plaintext.
# - A replayed 0-RTT flight is judged from outside by the ServerHello and the size of the server's
#   encrypted EncryptedExtensions.
#
# Try it on a server of your own: `gnutls-lab audit 127.0.0.1:PORT --sni a.example,b.example --replay`
# (add `--allow-remote` for a server you run elsewhere; `docs/audit.md` describes every probe).
