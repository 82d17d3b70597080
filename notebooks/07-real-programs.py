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
# # 07 · What real programs do with session data

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
# The earlier notebooks asked `gnutls_session_get_data2()` questions about sessions the lab made itself.
# Here we ask them about programs you use: `gnutls-cli`, `wget`, `wget2` and a small libcurl client
# (Debian's GnuTLS flavour of libcurl), unmodified, against the lab server on 127.0.0.1.
#
# **What you will learn**
# - how to watch any GnuTLS program's session-data calls without changing it: `gnutls-lab spy`, a small
#   library preloaded with `LD_PRELOAD` that records every `get_data`/`get_data2`, `set_data` and
#   handshake, and asks `gnutls_session_is_resumed` itself after each handshake;
# - which programs store a real ticket and which store the **4-byte dummy**, and why (when they ask,
#   and whether the library can wait for a ticket);
# - which programs give the data back (`gnutls_session_set_data`) and resume, and which offer one
#   TLS 1.3 ticket again and again (RFC 8446 C.4);
# - how the spy's story is checked against the other side: the lab server's own record of each
#   connection (resumed or not, and the ticket presented, named by the same short hash).
#
# Tickets are named by a short SHA-256 (`ticket:1a2b…`): enough to see two connections offered the same
# one, never the ticket itself.

# %%
import json
from pathlib import Path

from course.checks import check
from gnutls_lab import plot_spy_timelines
from gnutls_lab.binding import spy_library
from gnutls_lab.analysis import server_disagreements
from gnutls_lab.network import program_version, recorded_runs_for, scenario_runs

version = gnutls_lab.library_info().version
print("spy library:", "built" if spy_library() else "NOT built (no C compiler at install): every run below is recorded")
print({name: program_version(name) or "not installed" for name in ("gnutls-cli", "wget", "wget2", "curl_resume")})

# %% [markdown]
# ## Running the programs under the spy
# Each scenario starts a fresh lab server (`LabServer(http=True)`: it answers each request with a small
# HTTP/1.1 response, so HTTP clients finish normally) and runs the program with the spy preloaded. The
# server sends its TLS 1.3 tickets **after the client's Finished** (`ticket_timing="after-handshake"`,
# `gnutls-lab serve --ticket-timing after-handshake`), as OpenSSL servers and `gnutls-serv` do: left to
# itself libgnutls would send them with its Finished, in the same flight, and every program would find
# them already there. What is installed here runs **live**; a scenario whose program is missing here (on
# Binder, say) is taken from a **recorded** run shipped in `data/spy/`, with its provenance, and
# labelled as such.

# %%
recorded_file = Path(recorded_runs_for(Path("..") / "data" / "spy"))  # the recording nearest the loaded GnuTLS
recorded_version = json.loads(recorded_file.read_text())["runs"][0]["gnutls_version"]
print("recorded runs:", recorded_file.name, json.loads(recorded_file.read_text())["provenance"])
check(recorded_version.split(".")[:2] == version.split(".")[:2] or not any(
      f.name.startswith(f"runs-gnutls-{'.'.join(version.split('.')[:2])}.") for f in recorded_file.parent.iterdir()),
      f"recorded runs of GnuTLS {recorded_version} for the loaded GnuTLS {version} (the same series when one was recorded)")
runs = scenario_runs(str(recorded_file))
print(f"{sum(r['source'] == 'live' for r in runs)} live runs, {sum(r['source'] != 'live' for r in runs)} recorded")

# %% [markdown]
# ## The spy agrees with the server
# The spy sees the client's side; the lab server logs its own. For every run, the list of resumed
# connections must be the same on both sides, and the ticket a client gave `gnutls_session_set_data`
# must be the ticket the server resumed from:

# %%
for run in runs:
    check(not server_disagreements(run["report"], run["served"], run["tls"]),
          f"{run['scenario']}, TLS {run['tls']}: spy and server agree on which connections resumed, and with which ticket")

# %% [markdown]
# ## One table
# One line per run: how many TLS connections, how many resumed (`gnutls_session_is_resumed`), how many
# `get_data`/`get_data2` results were the dummy, and the most connections that offered one ticket.

# %%
header = f"{'scenario':<48} {'TLS':>4} {'conns':>5} {'resumed':>7} {'stored':>6} {'dummy':>5} {'offered':>7} {'max offers':>10}  source"
print(header)
print("-" * len(header))
for run in runs:
    s = run["report"]["summary"]
    print(f"{run['scenario']:<48} {run['tls']:>4} {s['handshakes']:>5} {s['resumed']:>7} {s['stored']:>6} "
          f"{s['stored_dummy']:>5} {s['offered']:>7} {s['max_ticket_offers']:>10}  {run['source']}")

# %% [markdown]
# ## One picture
# Each row is one run under TLS 1.3: grey bars are TLS sessions (`gnutls_init` to `gnutls_deinit`),
# squares full handshakes, diamonds resumed ones; orange triangles mark when a NewSessionTicket was
# seen, green triangles a `get_data2` that returned real data and hollow red ones the 4-byte dummy.
# A dummy to the left of the ticket is a program asking too early.

# %%
tls13 = [run for run in runs if run["tls"] == "1.3"]
plot_spy_timelines(tls13, [f"{r['scenario']}{'' if r['source'] == 'live' else ' (recorded)'}" for r in tls13],
                   title=f"TLS 1.3: when each program asked for its session data (GnuTLS {version})")

# %% [markdown]
# ## How long each program's `get_data2` waited for its ticket
# The spy times every `get_data`/`get_data2` call, and the part of it spent in the pull-timeout wait for
# a NewSessionTicket. Against a server that sends its tickets after the client's Finished, a blocking
# program that asks right after the handshake waits for them (a round trip, or longer when the client's
# Finished sits in its TCP buffer); a program that cannot wait gets the dummy at once.

# %%
for run in tls13:
    stored = [st for session in run["report"]["sessions"] for st in session["stored"]]
    waits = ", ".join(f"{st['waited_ms']:.3f} ms{' (dummy)' if st['dummy'] else ''}" for st in stored) or "no call"
    print(f"{run['scenario']:<48} server tickets: {run.get('ticket_timing', 'with-finished'):<15} waited: {waits}")

# %% [markdown]
# ## What each finding means for a user of the program
# The spy's findings, per run, in the man page's terms:

# %%
for run in runs:
    print(f"{run['scenario']}, TLS {run['tls']} [{run['source']}]")
    for finding in run["report"]["findings"]:
        print("   -", finding)

# %% [markdown]
# Program by program, each fact checked on the runs above:

# %%
by = {(r["scenario"], r["tls"]): r["report"] for r in runs}
cli13 = by[("gnutls-cli --resume", "1.3")]
check(cli13["summary"]["resumed"] == 1 and cli13["summary"]["stored_dummy"] == 0,
      "gnutls-cli --resume stores real session data right after the handshake and resumes with it")
wget13 = by[("wget, 3 URLs", "1.3")]
check(wget13["summary"]["stored"] >= 3 and wget13["summary"]["offered"] == 0 and wget13["summary"]["resumed"] == 0,
      "wget asks for session data on every HTTPS connection but never gives it back: every connection is a full handshake")
w2 = by[("wget2 --tls-resume, 3 runs", "1.3")]
check(w2["summary"]["resumed"] == 2 and w2["summary"]["max_ticket_offers"] == 2,
      "wget2 --tls-resume resumes, but offers the one TLS 1.3 ticket it saved in every later run (RFC 8446 C.4)")

# %% [markdown]
# - **gnutls-cli `--resume`** does what the man page asks: it calls `get_data2` after the handshake; the
#   tickets come after its own Finished, so `get_data2` waits for them (it can: a blocking session with
#   the default pull-timeout function), and gives the blob to the next connection, which resumes.
# - **wget** calls `gnutls_session_get_data2` on every HTTPS connection, but (for HTTP) never passes the
#   data to `gnutls_session_set_data`: each new connection is a full handshake. Its keep-alive is what
#   saves it handshakes, not resumption.
# - **wget2 `--tls-resume`** saves the session in its file on the first run and resumes later runs
#   with it; it does not ask again after a resumed handshake, so every later run shows the same TLS 1.3
#   ticket, which links those runs for a passive observer (RFC 8446 C.4). With
#   `--no-tls-false-start` it asks right after the handshake on a non-blocking session
#   (`GNUTLS_NONBLOCK`: `get_data2` does not wait there), gets the dummy, and never resumes.
# - **libcurl (GnuTLS flavour)** reads through its own pull function and sets no pull-timeout
#   function, so `get_data` right after the handshake cannot wait for a ticket: under TLS 1.3 it stores
#   the dummy. Debian 12's libcurl 7.88 also creates its sessions with `GNUTLS_NO_TICKETS`; TLS 1.2
#   resumes by session ID, in both modes (one handle, and a shared `CURLSH` SSL session cache).

# %%
curl13 = by[("libcurl-gnutls, one handle", "1.3")]
curl12 = by[("libcurl-gnutls, one handle", "1.2")]
check(curl12["summary"]["resumed"] == 2, "libcurl-gnutls resumes TLS 1.2 by session ID")
curl_dummies = curl13["summary"]["stored_dummy"] == curl13["summary"]["stored"] > 0
check((curl13["summary"]["stored_dummy"] > 0) == any("4-byte dummy" in f for f in curl13["findings"]),
      "the spy's findings name the 4-byte dummy exactly when libcurl stored one")
print("libcurl-gnutls under TLS 1.3:", "stores only the dummy, so it never resumes" if curl_dummies
      else "stores real session data")

# %% [markdown]
# ## Recap
# - `gnutls-lab spy -- PROGRAM` watches an unmodified GnuTLS program's session-data calls; the lab
#   server's `--log` is the other side's truth, and the two agree connection by connection.
# - The dummy is what a program gets when it asks before a NewSessionTicket has arrived and the library
#   cannot wait: a non-blocking session, or a custom pull function without a pull-timeout function.
# - Storing session data is not resuming: the program must give it back to `gnutls_session_set_data`.
# - A program that saves one ticket and never refreshes it offers that ticket on every visit; under
#   TLS 1.3 that makes the visits linkable (RFC 8446 C.4).
#
# Try it on a program of your own: `gnutls-lab serve --port 4433 --http --log served.jsonl` in one
# terminal, `gnutls-lab spy -- YOUR-PROGRAM https://127.0.0.1:4433/` in another.
