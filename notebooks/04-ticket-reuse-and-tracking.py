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
# # 04 · Ticket reuse and tracking

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
# A resumption credential (a TLS 1.2 session ID or ticket, a TLS 1.3 PSK identity) crosses the wire
# **in clear**. If a client shows the same one twice, anyone on the path learns that the two
# connections come from the same client, even though both are encrypted. RFC 8446 Appendix C.4
# ("Client Tracking Prevention") therefore says:
#
# * clients **SHOULD NOT reuse a ticket** for multiple connections: reuse lets passive observers
#   correlate them;
# * servers should issue **enough tickets** for the connections a client may open in parallel (a
#   browser opens up to six over HTTP/1.1), and **new tickets with every connection**, so that a
#   client always has a fresh one.
#
# GnuTLS's server accepts a TLS 1.3 ticket any number of times, so nothing stops a client that
# reuses. Here we measure the trade-off on real handshakes: a client visits a lab server again and
# again (a fake clock sets the time between visits), resumes with each ticket at most *k* times, and
# a passive observer links whatever it can from the wire.
#
# **What you will learn**
#
# * what a passive observer links when a client reuses a ticket, and when it does not;
# * why single-use tickets are not enough for a GnuTLS client: the `legacy_session_id` of middlebox
#   compatibility mode, which links every visit, and how to switch it off;
# * how TLS 1.3 and TLS 1.2, ticket lifetime and key rotation change what is linked;
# * how the lab's numbers sit beside published measurements (Sy et al. 2018, Springall et al. 2016).

# %%
import statistics
import time

from IPython.display import Markdown, display

from course import tracking
from course.checks import check
from gnutls_lab import (
    ExperimentConfig,
    FakeClock,
    Lab,
    observe_connection,
    plot_compare,
    plot_sweep,
    run_experiment,
    sweep_reuse,
    UsageError,
)
from gnutls_lab.analysis import compat_mode_switch, decode, expiry_on_each_clock, sweep, SY2018_REVISIT_CDF
from gnutls_lab.faces import experiment_explorer, plot_links, time_unit

single = run_experiment(mechanism="tls13-psk", visits=20, max_reuse=1, gap=600)
reused = run_experiment(mechanism="tls13-psk", visits=20, max_reuse=None, gap=600)
print(single)
print(reused)

# %% [markdown]
# Twenty visits, ten minutes apart. Both clients resume on every visit after the first: the server
# does not care whether a ticket is new. What the observer sees differs: the second client shows
# the same PSK identity (`tls.handshake.extensions.psk.identity.identity`) over and over.

# %%
s1, s_inf = single.summary(), reused.summary()
n = s_inf["visits"]
check(s1["success_rate"] == s_inf["success_rate"] == 1.0, "both clients resume on every visit after the first")
check(s1["ticket_linkable_pair_fraction"] == 0.0, "single use: no PSK identity repeats, no pair linked by ticket")
check({r["ticket"] for r in reused.records()[1:]} == {"T2"},
      "the reusing client presents one ticket, the newer of visit 0's two, on every later visit")
check(s_inf["ticket_linkable_pair_fraction"] == (n - 1) * (n - 2) / (n * (n - 1)),
      f"so its ticket links C({n - 1}, 2) of the C({n}, 2) pairs of visits "
      f"({s_inf['ticket_linkable_pair_fraction']:.0%})")

# %% [markdown]
# ## Single-use tickets, and the `legacy_session_id`
# So single use works? Look at the summary once more: with **every** value in clear, the observer
# links **all** pairs of the single-use client too.

# %%
check(s1["linkable_pair_fraction"] == 1.0 and s1["largest_cluster"] == s1["visits"],
      f"k = 1, every value in clear: the observer links all {s1['visits']} visits into one group")
check({r["linked_by"] for r in single.records()[1:]} == {"session_id"},
      "what links each visit to an earlier one is the session ID, not a ticket")

# %% [markdown]
# The culprit is the ClientHello's `legacy_session_id`. TLS 1.3 keeps the field only so that
# middleboxes see something familiar. RFC 8446 §4.1.2 says a client that is not offering a
# pre-TLS 1.3 session "MUST generate a new 32-byte value" in compatibility mode, and that value
# "SHOULD be unpredictable". A GnuTLS TLS 1.3 client instead stores the session ID in its session
# data and **sends it again on every resumption**. The server echoes it in its ServerHello. Here are
# two consecutive visits of the single-use client, as a passive observer reads them (Wireshark field
# names):

# %%
visit1, visit2 = single.observed[1], single.observed[2]
for number, seen in ((1, visit1), (2, visit2)):
    for sender, message, field, value in seen.fields():
        if field in ("tls.handshake.session_id", "tls.handshake.extensions.psk.identity.identity"):
            print(f"visit {number}  {sender:6} {message:12} {field:48} {value}")

# %%
first_id = single.observed[0].client_hello.session_id
check(len(first_id) == 32 and all(seen.client_hello.session_id == first_id for seen in single.observed),
      f"one 32-byte legacy_session_id in all {len(single.observed)} ClientHellos")
check(all(seen.server_hello.session_id == first_id for seen in single.observed), "the server echoes it every time")
check(visit1.client_hello.psk_identities[0].identity != visit2.client_hello.psk_identities[0].identity,
      "while the PSK identities of two consecutive visits differ")
lab = Lab("1.3")  # where the value comes from: the session data the client keeps and gives back to set_data
with lab.connect() as first, lab.connect(resume=first.session_data) as again:
    stored = decode(first.session_data).session_id
    check(again.resumed and observe_connection(again.wire).client_hello.session_id == stored,
          f"the resuming ClientHello sends the session ID stored in the session data ({stored[:4].hex()}…)")

# %% [markdown]
# ### The same visits in Wireshark
# An experiment keeps each visit's wire tap and secrets when asked (`keep_wire=True`), and
# `result.to_pcapng(path)` writes every visit to one pcapng file: visit *n* is TCP stream *n*, at the
# fake clock's time, with the TLS secrets embedded so that Wireshark decrypts it as it is (the file
# is therefore private, mode 0600). In Wireshark, filter `tls.handshake.type == 1` and add
# `tls.handshake.session_id` and `tls.handshake.extensions.psk.identity.identity` as columns
# (right-click the field, Apply as Column): the session ID stays, the PSK identity changes. From a
# shell: `gnutls-lab experiment reuse --visits 20 --max-reuse 1 --pcap reuse.pcapng`.
#
# With the secrets Wireshark also reads what the observer cannot: each visit's NewSessionTickets.
# The PSK identity a client shows in clear at one visit is a ticket the server sent, encrypted, at
# the visit before.

# %%
import os
import shutil
import subprocess
import tempfile

traced = run_experiment(mechanism="tls13-psk", visits=10, max_reuse=1, gap=600, keep_wire=True, progress=False)
reuse_capture = os.path.join(tempfile.mkdtemp(prefix="gnutls-lab-"), "single-use.pcapng")
print(f"open {reuse_capture} in Wireshark:", traced.to_pcapng(reuse_capture)["connections"], "visits, a TCP stream each")
offered = traced.observed[1].client_hello.psk_identities[0].identity  # what the observer reads at visit 1
if shutil.which("tshark") is None:
    print("tshark is not installed here (apt-get install tshark), so only the observer's view is shown:",
          f"visit 1 offers PSK identity {offered[:8].hex()}…")
else:
    rows = [line.split("\t") for line in subprocess.run(
        ["tshark", "-r", reuse_capture, "-Y", "tls.handshake.type == 1 || tls.handshake.type == 4", "-T", "fields",
         "-E", "occurrence=a", "-E", "separator=/t", "-e", "tcp.stream", "-e", "tls.handshake.session_ticket",
         "-e", "tls.handshake.session_id", "-e", "tls.handshake.extensions.psk.identity.identity"],
        capture_output=True, text=True, check=True).stdout.splitlines()]
    issued_at_0 = [bytes.fromhex(t) for row in rows if row[0] == "0" for t in row[1].split(",") if t]
    shown_at_1 = [bytes.fromhex(row[3]) for row in rows if row[0] == "1" and row[3]]
    print(f"tshark: visit 0 received {len(issued_at_0)} tickets (decrypted); visit 1 offers {shown_at_1[0][:8].hex()}…;"
          f" observer: visit 1 offers {offered[:8].hex()}…")
    check(shown_at_1 == [offered], "tshark reads the same PSK identity in clear at visit 1 as the observer")
    check(offered in issued_at_0, "and, decrypting, finds it among the tickets visit 0 received encrypted")
    check({row[2] for row in rows if row[2]} == {traced.observed[0].client_hello.session_id.hex()},
          "Wireshark shows one legacy_session_id in every hello of the 10 visits, as the observer does")

# %% [markdown]
# The experiment reports both variants: `linkable_pair_fraction` counts every value in clear,
# `ticket_linkable_pair_fraction` only tickets and PSK identities, which is what single use protects.
#
# ## The fix: single-use tickets *and* compatibility mode off
# The `legacy_session_id` exists only because of middlebox compatibility mode (RFC 8446 Appendix
# D.4), which libgnutls turns on by default. A client that puts `%DISABLE_TLS13_COMPAT_MODE` in its
# priority string (`compat_mode=False` in the experiment, `--no-compat-mode` on the command line)
# sends an empty field, and the server echoes it empty. The same single-use client, the same server:

# %%
no_compat = run_experiment(mechanism="tls13-psk", visits=20, max_reuse=1, gap=600, compat_mode=False)
no_compat_reused = run_experiment(mechanism="tls13-psk", visits=20, max_reuse=2, gap=600, compat_mode=False)
plot_links([single, no_compat_reused, no_compat],
           ["k = 1, compat mode on (GnuTLS's default)", "k = 2, compat mode off", "k = 1, compat mode off"],
           title="Who is linked to whom: only single use with compatibility mode off leaves nothing to link")

# %%
check(all(seen.client_hello.session_id == b"" == seen.server_hello.session_id for seen in no_compat.observed),
      "compat mode off: the legacy_session_id is empty in every ClientHello and ServerHello")
check(no_compat.summary()["success_rate"] == 1.0, "and the client still resumes on every visit")
check(no_compat.summary()["linkable_pair_fraction"] == 0.0,
      "single-use tickets plus compat mode off: the observer links no pair of visits at all")
check(no_compat_reused.summary()["linkable_pair_fraction"] > 0.0,
      "compat mode off is not enough alone: a ticket shown twice still links its two visits")

# %% [markdown]
# **The switch needs fresh session data.** The runs above had compat mode off from their first
# handshake. A client that already holds session data from a compat-mode handshake and then turns
# `%DISABLE_TLS13_COMPAT_MODE` on is another story: the `legacy_session_id` it sends comes from its
# session data, and every blob it gets on resuming keeps it. Two clients of one server, four visits
# each: one switched compat mode off after its first (full) handshake, one had it off from the start.

# %%
switch = compat_mode_switch(visits=4)
for name, ids in (("switched after visit 1", switch.switched), ("off from the start", switch.fresh)):
    print(f"{name:24}", [f"{len(i)} bytes" + (f" {i[:4].hex()}…" if i else "") for i in ids])
check(switch.resumed[1:] == (True, True, True), "the switched client resumes on every later visit")
check(len(switch.switched[0]) == 32 and set(switch.switched) == {switch.switched[0]},
      "and keeps sending its first handshake's 32-byte ID with compat mode off: the visits stay linked")
check(switch.fresh == (b"",) * 4, "only data from a handshake with compat mode off sends an empty ID")

# %% [markdown]
# So the fix takes one full handshake with compat mode off: drop the stored session data when you turn
# it off (`findings/legacy-session-id` shows the same with a standalone C program).

# %% [markdown]
# ## Other clients on the wire: a GnuTLS habit, or what every client does?
# The lab's client is libgnutls. Do other TLS clients resend their `legacy_session_id` too? Here
# real programs resume against a lab server on 127.0.0.1, each **the way it does by itself**, for
# four visits, TLS 1.3 then TLS 1.2; the server records the bytes and the same passive observer
# links the visits:
#
# * `gnutls-cli` (GnuTLS's command-line client) cannot save a session to a file, so it makes all
#   its visits in one process, with a `^resume^` inline command per visit;
# * `openssl s_client`, `-sess_out` on one visit and `-sess_in` on the next;
# * Python's `ssl` module (OpenSSL underneath), passing `SSLSocket.session` of one visit to the next;
# * the lab's own client, offering the newest session data of the last visit.
#
# A program that is not installed here is reported as missing, and the facts below leave it out.

# %%
from gnutls_lab.network import run_clients
from gnutls_lab.faces import plot_clients

client_runs = run_clients("1.3", visits=4) + run_clients("1.2", visits=4)
for run in client_runs:
    print(f"{run.protocol}  {run.client:36}  " + (f"missing: {run.missing}" if run.missing else
          f"resumed {run.resumed}/{run.visits - 1}, linkable pairs {run.linkable_pair_fraction:.0%} "
          f"(by ticket {run.ticket_linkable_pair_fraction:.0%}), session ID resent: {run.session_id_repeats}"))
plot_clients(client_runs)

# %%
ran = {(run.name, run.protocol): run for run in client_runs if not run.missing}
not_here = sorted({run.name for run in client_runs if run.missing})
if not_here:
    display(Markdown(f"**Not installed here: {', '.join(not_here)}** (`apt-get install gnutls-bin openssl`); "
                     "the checks below cover the clients that ran."))
lab13 = ran["gnutls-lab", "TLS1.3"]
check(lab13.session_id_repeats and lab13.ticket_linkable_pair_fraction == 0.0 == 1.0 - lab13.linkable_pair_fraction,
      "the lab client (libgnutls) offers a fresh ticket each visit, yet its resent legacy_session_id links them all")
for name in ("openssl", "python-ssl"):
    if (name, "TLS1.3") in ran:
        other = ran[name, "TLS1.3"]
        check(other.resumed == other.visits - 1 and not other.session_id_repeats and other.linkable_pair_fraction == 0.0,
              f"{other.client}: resumes every visit with a fresh random legacy_session_id: nothing links its visits")
if ("gnutls-cli", "TLS1.3") in ran:
    cli = ran["gnutls-cli", "TLS1.3"]
    check(cli.session_id_repeats and cli.resumed_visits == [1, 3] and cli.linkage.clusters == ((0, 1), (2, 3)),
          "gnutls-cli (libgnutls too) resends the legacy_session_id; its ^resume^ resumes every other visit, "
          "so its visits link in pairs")
for (name, protocol), run in ran.items():
    if protocol == "TLS1.2" and name != "gnutls-cli":
        check(run.resumed == run.visits - 1 and run.ticket_linkable_pair_fraction == 1.0,
              f"TLS 1.2, {run.client}: no new ticket after a resumption, so the first ticket comes back and links "
              "every visit")

# %% [markdown]
# So the reused `legacy_session_id` is a libgnutls habit: the OpenSSL clients (`s_client` and
# Python's `ssl`) draw a new random one for every TLS 1.3 ClientHello, as RFC 8446 §4.1.2 asks, and
# with the fresh tickets a GnuTLS server hands out on every connection nothing links their visits.
# Under TLS 1.2 the question does not arise: a GnuTLS server sends no new ticket on a resumed
# handshake, so every client that keeps its session shows the same ticket again and again.

# %% [markdown]
# ## How much reuse costs, TLS 1.3 against TLS 1.2
# The same sweep over k for both protocols (30 visits, ten minutes apart).

# %%
by_k13 = sweep_reuse((1, 2, 3, 5, None), mechanism="tls13-psk", visits=30, gap=600)
by_k12 = sweep_reuse((1, 2, 3, 5, None), mechanism="tls12-ticket", visits=30, gap=600)
compare = plot_compare([by_k13, by_k12])
compare

# %% [markdown]
# * The left panel reads resumption two ways: per attempt (filled: of the visits where the client
#   offered a ticket, how many resumed) and per visit (open, dashed: of all visits).
# * TLS 1.3: every attempt succeeds, and the client has a ticket on every visit but the first; what
#   tickets alone reveal grows with k, from nothing at k = 1. The session ID links everything at every k.
# * TLS 1.2: the server's NewSessionTicket travels **in clear**, so the observer sees a ticket issued
#   and then presented. And a GnuTLS TLS 1.2 server issues **no new ticket on a ticket resumption**,
#   so a client with k = 1 has nothing left after one resumption: every other visit is a full
#   handshake (every attempt succeeds, but only half the visits resume), and the chain of linked
#   visits breaks into pairs. A client that reuses its ticket
#   shows the same one every time: one chain.

# %%
r13, r12 = by_k13.records(), by_k12.records()
ticket13 = [r["ticket_linkable_pair_fraction"] for r in r13]
tls12_k1 = by_k12.results[0].records()
check(all(r["success_rate"] == 1.0 for r in r13 + r12), "every resumption attempt succeeds, at every k, in both")
check(ticket13[0] == 0.0 and ticket13 == sorted(ticket13) and ticket13[-1] > ticket13[1],
      "TLS 1.3: tickets alone link nothing at k = 1, and more as k grows")
check(all(r["linkable_pair_fraction"] == 1.0 for r in r13), "TLS 1.3: the session ID links every pair at every k")
check(all(r["tickets_received"] == 0 for r in tls12_k1 if r["resumed"]),
      "TLS 1.2: a ticket resumption brings no new ticket")
check([r["resumed"] for r in tls12_k1] == [False, True] * 15,
      f"so a TLS 1.2 client with k = 1 resumes every other visit only ({r12[0]['resumed']} of 30; "
      f"TLS 1.3: {r13[0]['resumed']})")
drawn = {line.get_label(): list(line.get_ydata()) for line in compare.axes[0].get_lines()}
per_visit_13, per_visit_12 = (values for label, values in drawn.items() if label.endswith("per visit"))
check(per_visit_12[0] == r12[0]["resumed"] / r12[0]["visits"] == 0.5 and per_visit_13[0] == 29 / 30,
      f"the panel's per-visit line shows it: TLS 1.2, k = 1 at {per_visit_12[0]:.0%} of visits "
      f"({r12[0]['resumed']} of {r12[0]['visits']}), TLS 1.3 at {per_visit_13[0]:.0%}, while every attempt succeeds")
check(r12[-1]["ticket_linkable_pair_fraction"] == 1.0, "TLS 1.2, unlimited reuse: one ticket links every visit")

# %% [markdown]
# ## Lifetime and key rotation
# A shorter lifetime means fewer resumptions, and fewer chances to link by ticket (left: visits at
# random, exponential gaps with a mean of 10 minutes, each ticket reused freely). A ticket key that
# the server replaces (forced rotation, `rotate_every`) kills every ticket issued before it (right:
# single-use tickets, a visit every 10 minutes). GnuTLS also rotates on its own, every 3 × lifetime,
# but keeps the previous period's key: notebook 05 shows that this never refuses a live ticket.

# %%
by_lifetime = sweep("lifetime", [300, 900, 3600, 21600], mechanism="tls13-psk", max_reuse=None, visits=30,
                    gap=600, gaps="exponential", seed=3)
by_rotation = sweep("rotate_every", [None, 7200, 3600, 1200], mechanism="tls13-psk", max_reuse=1, visits=30,
                    gap=600)
success_by_lifetime = [r["success_rate"] for r in by_lifetime.records()]
success_by_rotation = [r["success_rate"] for r in by_rotation.records()]
display(plot_sweep(by_lifetime))
plot_sweep(by_rotation, title=f"A forced new ticket key refuses every older ticket:\nresumption success falls from "
                       f"{success_by_rotation[0]:.0%} (no forced rotation) to {success_by_rotation[-1]:.0%} "
                       f"(a new key every 20 min)")

# %%
linked_by_lifetime = [r["ticket_linkable_pair_fraction"] for r in by_lifetime.records()]
check(success_by_lifetime == sorted(success_by_lifetime) and success_by_lifetime[-1] == 1.0,
      f"a longer lifetime, more resumptions: {', '.join(f'{x:.0%}' for x in success_by_lifetime)}")
check(linked_by_lifetime == sorted(linked_by_lifetime), "and more pairs linked by ticket")
check(success_by_rotation[0] == 1.0 and success_by_rotation == sorted(success_by_rotation, reverse=True),
      f"a forced new key more often, fewer resumptions: {', '.join(f'{x:.0%}' for x in success_by_rotation)}")

# %% [markdown]
# Sy et al. (ACSAC 2018) recommend that a ticket issued on a **resumed** session must not extend the
# original lifetime, or a client that keeps coming back can be followed forever ("prolongation").
# GnuTLS does exactly that (since 3.6.3): the new tickets expire with the original. A server with a
# 10-minute lifetime, resumed 4 minutes after the full handshake:

# %%
with FakeClock(start=time.time() - 240) as clock:  # the full handshake, 4 minutes ago
    ten_minutes = Lab("1.3", lifetime=600)
    with ten_minutes.connect() as full:
        data = full.session_data
    clock.set(time.time())  # now
    with ten_minutes.connect(resume=data) as again:
        new_lifetimes = [decode(t).tls13.lifetime for t in again.tickets]
        resumed_after_4_min = again.resumed
check(resumed_after_4_min, "the client resumes 4 minutes after the full handshake")
check(all(355 <= x <= 360 for x in new_lifetimes),
      f"the new tickets live {new_lifetimes} s: 600 − 240, not a fresh 600")

# %% [markdown]
# ## Explore
# Change the reuse limit, lifetime, key rotation, number of visits, the gap between visits, the
# protocol (`mechanism`) and compatibility mode: every change re-runs the experiment on live
# handshakes and redraws. The views: this run (who is linked to whom), the sweep over k, the
# tracking period. Try: k = 1 with compat mode on, then off.

# %%
explorer = experiment_explorer(ExperimentConfig(mechanism="tls13-psk", visits=20, max_reuse=1, gap=600))
explorer

# %% [markdown]
# ## Published measurements beside the lab
# The numbers below come from Sy et al., "Tracking Users across the Web via TLS Session Resumption"
# (ACSAC 2018). The lab does not survey
# the internet; it reproduces the **mechanism** on GnuTLS and measures it. For the tracking rows we
# draw revisit gaps from Sy et al.'s own revisit distribution (`gaps="sy2018"`: ≤ 5 min 17.7 %,
# ≤ 10 min 27.7 %, ≤ 24 h 81.6 %) for several simulated users, each a client of a GnuTLS server
# with that lifetime, and report the median, as the paper does.

# %%
USERS, VISITS = 10, 30
LIFETIMES = {300: ("5 min", "74 min"), 600: ("10 min", "160 min"), 86400: ("24 h", "8 days")}
runs13, runs12 = {}, {}  # lifetime → one run per simulated user
for lifetime in LIFETIMES:
    runs13[lifetime] = [run_experiment(mechanism="tls13-psk", visits=VISITS, max_reuse=1, gaps="sy2018",
                                       seed=user, lifetime=lifetime) for user in range(USERS)]
    runs12[lifetime] = [run_experiment(mechanism="tls12-ticket", visits=VISITS, max_reuse=None, gaps="sy2018",
                                       seed=user, lifetime=lifetime) for user in range(USERS)]
measured = {}
for lifetime in LIFETIMES:
    s13 = [run.summary() for run in runs13[lifetime]]
    s12 = [run.summary() for run in runs12[lifetime]]
    measured[lifetime] = {
        "within": dict(SY2018_REVISIT_CDF)[float(lifetime)],
        "success": sum(s["resumed"] for s in s13) / sum(s["attempts"] for s in s13),
        "ticket13": statistics.median(s["ticket_max_tracking_seconds"] for s in s13),
        "all13": statistics.median(s["max_tracking_seconds"] for s in s13),
        "whole13": all(s["max_tracking_seconds"] == s["duration_seconds"] for s in s13),
        "ticket12": statistics.median(s["ticket_max_tracking_seconds"] for s in s12),
        "whole12": all(s["ticket_max_tracking_seconds"] == s["duration_seconds"] for s in s12),
    }
run_days = statistics.median(run.summary()["duration_seconds"] for run in runs13[300]) / 86400

rows = ["| server ticket lifetime | revisits within it (Sy 2018) | lab: TLS 1.3 resumption success, k = 1 "
        "| median tracking period with prolongation (Sy 2018) | lab: TLS 1.3 k = 1, tickets alone "
        "| lab: TLS 1.3 k = 1, every value in clear | lab: TLS 1.2 tickets, k = ∞ |",
        "|---|---|---|---|---|---|---|"]
for lifetime, (name, published) in LIFETIMES.items():
    m = measured[lifetime]
    shown = []
    for key, whole in (("all13", m["whole13"]), ("ticket12", m["whole12"])):
        divisor, unit = time_unit(m[key])
        shown.append(f"{m[key] / divisor:.3g} {unit}" + (" (whole run, every user)" if whole else ""))
    rows.append(f"| {name} | {m['within']:.1%} | {m['success']:.1%} | {published} | {m['ticket13']:g} s "
                f"| {shown[0]} | {shown[1]} |")
display(Markdown("\n".join(rows)))
print(f"{USERS} users × {VISITS} visits each; a median user's run lasts {run_days:.0f} days")

# %% [markdown]
# What the lab shows, column by column:
#
# * **Resumption success** follows Sy et al.'s revisit share for short lifetimes: a revisit resumes
#   when it comes within the lifetime. For 24 h the lab resumes *less* than the revisit share. That
#   is GnuTLS applying Sy et al.'s own recommendation: the tickets a resumed session gets expire with
#   the original, so some young tickets are refused because their chain is older than the lifetime.
# * **Tickets alone, k = 1**: a TLS 1.3 ticket is encrypted when issued and shown once; nothing links.
# * **Every value in clear**: the `legacy_session_id` above. It is never renewed, so the observer
#   follows every user for the whole run, whatever the lifetime. Even a refused resumption passes it
#   on: the client sends its stored ID, the server echoes it, and the new session keeps it. That
#   holds whichever end drops the expired ticket. Which end does, in these fake-clock runs, depends on
#   which clock the client's age check reads (notebook 03): the fake clock from GnuTLS 3.8.1, so the
#   client drops the ticket; the real clock before, so a 3.7 client offers it and the server refuses
#   it. On the real clock every version's client drops it. Either way the stored session ID goes out.
# * **TLS 1.2 tickets** (Sy et al.'s setting in 2018): a client that keeps its ticket is followed
#   for the whole run too. When a ticket is refused (too old), the server runs a full handshake and
#   issues a new ticket, in clear, in the same connection: the observer sees the old ticket go in
#   and the new one come out.

# %%
young_refused = [r for run in runs13[86400] for r in run.records()
                 if r["attempted"] and not r["resumed"] and r["ticket_age_s"] <= 86400]
check(young_refused and measured[86400]["success"] < measured[86400]["within"],
      f"24 h lifetime: {len(young_refused)} tickets younger than 24 h refused (their chain was older), "
      "so the lab resumes less than the revisit share")
check(all(measured[lifetime]["ticket13"] == 0.0 for lifetime in LIFETIMES),
      "TLS 1.3, k = 1: tickets alone follow nobody, whatever the lifetime")

old_ticket_in_new_ticket_out = [
    (run, r) for run in runs12[300] for r in run.records()
    if r["attempted"] and not r["resumed"] and r["tickets_received"] == 1 and "ticket" in r["linked_by"]]
run, record = old_ticket_in_new_ticket_out[0]
seen = run.observed[record["visit"]]
check(seen.client_hello.session_ticket and len(seen.new_session_tickets) == 1,
      f"TLS 1.2, visit {record['visit']}: a ticket {record['ticket_age_s'] / 86400:.1f} days old goes in, "
      f"refused, and a new one comes out in clear ({seen.new_session_tickets[0].ticket[:8].hex()}…)")

refused13 = [(run, r) for run in runs13[300] for r in run.records()
             if r["attempted"] and not r["resumed"] and r["visit"] + 1 < VISITS]
run, record = refused13[0]
refused_seen, next_seen = run.observed[record["visit"]], run.observed[record["visit"] + 1]
first_id = run.observed[0].client_hello.session_id
check(refused_seen.client_hello.session_id == refused_seen.server_hello.session_id == first_id,
      f"TLS 1.3, GnuTLS {gnutls_lab.library_info().version}: a refused resumption still sends the stored "
      "session ID, and the server echoes it")
check(next_seen.client_hello.session_id == first_id, "and the new session data keeps it for the next visit")
client_clock = expiry_on_each_clock().client_clock  # which clock the loaded client's age check reads
offered = bool(refused_seen.client_hello.psk_identities)
check(offered == (client_clock == "real"),
      f"the client's age check reads the {client_clock} clock, so in this fake-clock run "
      f"{'the client offered the old ticket and the server refused it' if offered else 'the client dropped the old ticket itself'}")
session_ids = {len({seen.client_hello.session_id for seen in run.observed}) for run in runs13[300]}
check(session_ids == {1}, "one legacy_session_id per user's whole run (TLS 1.3, 5-minute lifetime)")
check(all(measured[lifetime]["whole13"] and measured[lifetime]["whole12"] for lifetime in LIFETIMES),
      "every user is followed for the whole run: TLS 1.3 by every value in clear, TLS 1.2 by its ticket")

# %% [markdown]
# In Sy et al.'s measurements a client is followed only while it keeps coming back within the
# lifetime (each resumption renewing it: the prolongation); once its ticket expires it starts afresh
# and the trail ends. The lab's client is plain GnuTLS keeping its last session data: it never starts
# afresh, so no lifetime bounds what it gives away.
#
# The other published numbers, and the same quantity on the lab's GnuTLS:

# %%
with Lab("1.3").connect() as conn:
    default_tickets = [decode(t).tls13.lifetime for t in conn.tickets]
with Lab("1.3", lifetime=604800).connect() as conn:
    week = decode(conn.session_data).tls13.lifetime
try:
    Lab("1.3", lifetime=604801)
    longer_refused = False
except UsageError:
    longer_refused = True
with Lab("1.2", lifetime=300).connect() as conn:
    hint_seen = observe_connection(conn.wire).new_session_tickets[0].lifetime_hint
reuse_success = s_inf["success_rate"]
followed_24h = sum(run.summary()["max_tracking_seconds"] == run.summary()["duration_seconds"]
                   for run in runs13[86400]) / USERS
boundary = (int(time.time()) // 64800 + 1) * 64800  # an 18 h key-period boundary of a default server
stek_server, stek_names = Lab("1.3"), []
for moment in (boundary - 1, boundary + 1):
    with FakeClock(start=moment), stek_server.connect() as conn:
        stek_names.append(decode(conn.session_data).ticket[:16])

published = [
    ("TLS 1.3 ticket_lifetime upper bound", "604800 s (7 days)", "RFC 8446 §4.6.1",
     f"a server set to 604800 s sends lifetime {week}; "
     f"the lab refuses 604801 before libgnutls sees it: {longer_refused}"),
    ("GnuTLS server defaults", "2 TLS 1.3 tickets, lifetime 21600 s", "docs/servers.md (gnutls-serv, the lab)",
     f"{len(default_tickets)} tickets, lifetimes {default_tickets}"),
    ("most common ticket lifetime hint", "5 min (46 % of the top 1M)", "Sy et al. 2018",
     f"what a scan reads: tls.handshake.session_ticket_lifetime_hint = {hint_seen} from a 5-minute lab server"),
    ("clients SHOULD NOT reuse a ticket", "Appendix C.4", "RFC 8446",
     f"GnuTLS's server accepts reuse: {reuse_success:.0%} of {s_inf['attempts']} attempts with one ticket"),
    ("no lifetime extension on resumption", "recommendation", "Sy et al. 2018",
     f"GnuTLS: tickets from a session resumed after 4 of 10 min live {new_lifetimes[0]} s"),
    ("users permanently trackable", "1.3 % with a 24 h lifetime (65 % with 7 days)", "Sy et al. 2018",
     f"{followed_24h:.0%} of {USERS} lab users followed for their whole run (24 h, TLS 1.3, k = 1)"),
    ("ticket key (STEK) kept 7 days or more", "22 % of domains", "Springall et al. 2016",
     f"GnuTLS derives a new key every 3 × lifetime (18 h by default): tickets 2 s apart across the boundary "
     f"carry different key names: {stek_names[0] != stek_names[1]}; the master key stays until replaced (05)"),
]
display(Markdown("| fact | published | source | lab (live) |\n|---|---|---|---|\n"
                 + "\n".join(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in published)))
check(week == 604800 and longer_refused, "604800 s is the longest lifetime, and the lab refuses one second more")
check(hint_seen == 300, "a 5-minute TLS 1.2 server's lifetime hint reads 300 on the wire")
check(default_tickets == [21600, 21600], "a default GnuTLS server sends two TLS 1.3 tickets of 21600 s")
check(reuse_success == 1.0, "GnuTLS's server accepts a reused TLS 1.3 ticket every time")
check(stek_names[0] != stek_names[1], "tickets 2 s apart across an 18 h boundary carry different key names")
check(followed_24h == 1.0, "every lab user of a 24 h server is followed for the whole run (TLS 1.3, k = 1)")

# %% [markdown]
# ## Exercise: what links two visits?
# Write `linkable(first, second)`: given what a passive observer saw of two visits (two
# `ObservedConnection`s, `first` earlier), can it tell that they come from the same client? The stub
# below believes the issue we started from: only a reused TLS 1.3 ticket (PSK identity) links. The
# check runs it on live pairs of visits, TLS 1.3 and TLS 1.2, one client or two. (Useful fields:
# `client_hellos`, `server_hellos` and their `session_id`, `session_ticket`, `psk_identities`;
# `new_session_tickets`.)

# %%
# EXERCISE: complete this function
def linkable(first, second):
    identities = lambda visit: {psk.identity for hello in visit.client_hellos for psk in hello.psk_identities}
    return bool(identities(first) & identities(second))


# %%
tracking.check_linkable(linkable)


# %% [markdown]
# ## Recap
#
# * A GnuTLS server accepts a TLS 1.3 ticket any number of times; a client that reuses one is linked
#   by it on every visit. Single use (RFC 8446 C.4) stops that.
# * It is not enough for a GnuTLS client: in compatibility mode (the default) it sends the session ID
#   stored in its session data on every resumption, even a refused one, in every version. With
#   `%DISABLE_TLS13_COMPAT_MODE` in the client's priority and single-use tickets, the observer links
#   nothing.
# * A GnuTLS TLS 1.2 server gives no new ticket on a ticket resumption: a single-use client resumes
#   every other visit and its visits link in pairs; a reusing client shows one ticket every time.
# * Tickets on a resumed session expire with the original (no prolongation), yet a client that keeps
#   its session data is followed for as long as it keeps it.

