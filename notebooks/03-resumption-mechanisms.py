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
# # 03 · Three ways to resume, expiry, tampering, and real bugs

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
# | mechanism | where the server keeps the session | what the client presents |
# |---|---|---|
# | TLS 1.2 **session ID** | in a server-side cache, keyed by the ID | the 32-byte session ID, in clear |
# | TLS 1.2 **session ticket** (RFC 5077) | nowhere: encrypted inside the ticket | the ticket, in clear |
# | TLS 1.3 **PSK** from a NewSessionTicket (RFC 8446 §4.6.1) | nowhere: encrypted inside the ticket | the ticket as a PSK identity, in clear, plus a binder |
#
# **What you will learn**
#
# * who keeps what in each of the three mechanisms, and what crosses the wire in clear;
# * how expiry works, which side drops an expired TLS 1.3 ticket and which clock decides that, and
#   the server's two checks;
# * what libgnutls does with session data you change by hand (the tamper lab), including the changes
#   that abort `gnutls_session_set_data` and the errors after which a session is half-loaded;
# * three mistakes from real client code, as exercises.
#
# We run each one live and check the table. First the picture:

# %%
from course import exercises
from course.checks import check
from gnutls_lab import FakeClock, Lab, observe_connection
from gnutls_lab.analysis import (
    client_lifetime_copy,
    decode,
    expiry_on_each_clock,
    partial_set_data,
    server_expiry_rules,
    tickets_without_psk_key_exchange_modes,
    version_flip_in_set_data,
)
from gnutls_lab.faces import plot_mechanisms, tamper_lab, tamper_outcome

plot_mechanisms()

# %%

by_id = Lab("1.2", tickets=False, session_cache=True)  # tickets off, a session-ID cache on
first_id = by_id.connect()
again_id = by_id.connect(resume=first_id.session_data)

by_ticket12 = Lab("1.2")
first_t12 = by_ticket12.connect()
again_t12 = by_ticket12.connect(resume=first_t12.session_data)

by_psk = Lab("1.3")
first_psk = by_psk.connect()
again_psk = by_psk.connect(resume=first_psk.session_data)

for name, first, again in (("TLS 1.2 session ID", first_id, again_id), ("TLS 1.2 ticket", first_t12, again_t12),
                           ("TLS 1.3 PSK", first_psk, again_psk)):
    check(again.resumed, f"{name}: resumed, {len(again.transcript)} handshake messages instead of "
                         f"{len(first.transcript)}; the observer sees {observe_connection(again.wire).resumption_evidence}")

# %% [markdown]
# **Session ID.** The server stored the session in its cache (`store`) after the full handshake and
# found it again (`retrieve`) when the client offered the ID. The client's data holds no ticket.

# %%
blob_id = decode(first_id.session_data)
check([op for op, _, _ in by_id.cache.events] == ["store", "retrieve"],
      "the server's cache stored the session, then retrieved it")
check(blob_id.ticket is None and len(blob_id.session_id) == 32, "the client's data holds a 32-byte ID and no ticket")
check(by_id.cache.events[0][1] == blob_id.session_id.hex(), "the cache key is that session ID")
check(observe_connection(again_id.wire).client_hello.session_id == blob_id.session_id,
      "and the resuming ClientHello shows it in clear")

# %% [markdown]
# **TLS 1.2 ticket.** No cache: the ticket *is* the server's state, encrypted under its ticket key.
# It rides in the `session_ticket` extension, in clear, and no new ticket is issued on a successful
# ticket resumption.

# %%
blob_t12 = decode(first_t12.session_data)
hello = observe_connection(again_t12.wire).client_hello
check(hello.session_ticket == blob_t12.ticket, "the ClientHello's session_ticket is the ticket the client keeps")
check([e.name for e in blob_t12.extensions if e.gid == 13], "the client keeps it as hello extension 13")
check(again_t12.tickets == [] and "NEW SESSION TICKET" not in [m.name for m in again_t12.transcript],
      "a ticket resumption brings no new ticket")

# %% [markdown]
# **TLS 1.3 PSK.** The ticket sits in the blob's TLS 1.3 section with the resumption master secret;
# the ClientHello presents it as a `pre_shared_key` identity. Unlike TLS 1.2, the server sends fresh
# tickets on every resumption, so a client never has to reuse one.

# %%
blob_psk = decode(first_psk.session_data)
hello = observe_connection(again_psk.wire).client_hello
check([psk.identity for psk in hello.psk_identities] == [blob_psk.ticket],
      "the ClientHello's one PSK identity is the ticket the client keeps")
check(len(again_psk.tickets) == 2, "a TLS 1.3 resumption brings two new tickets")

# %% [markdown]
# A client says which PSK key exchanges it can use in a `psk_key_exchange_modes` extension; a client
# that sends none can never resume with a ticket. RFC 8446 §4.2.9: "Servers SHOULD NOT send
# NewSessionTicket with tickets that are not compatible with the advertised modes." A GnuTLS client
# made with `GNUTLS_NO_TICKETS` sends no such extension. Does the server still send tickets?

# %%
modes_sent, tickets_sent = tickets_without_psk_key_exchange_modes()
check(modes_sent == () and tickets_sent > 0,
      f"a ClientHello without psk_key_exchange_modes, and the GnuTLS server still sent {tickets_sent} tickets "
      "the client can never use (bytes on the wire, and work for the server)")

# %% [markdown]
# ## Expiry, with a fake clock
# `FakeClock` replaces libgnutls's clock (`gnutls_global_set_time_function`), so hours pass in
# microseconds. A server with a 2-hour lifetime accepts its ticket one hour later, not after two.

# %%
with FakeClock() as clock:
    short = Lab("1.3", lifetime=7200)
    data = short.connect().session_data
    clock.advance(3600)
    one_hour_later = short.connect(resume=data)
    clock.advance(3660)
    too_late = short.connect(resume=data)

check(one_hour_later.resumed, "one hour later the ticket resumes")
check(not too_late.resumed, "two hours and one minute later it does not")

# %% [markdown]
# *Who* dropped the expired ticket? The wire says. If the client still offers it, its ClientHello
# carries a `pre_shared_key` extension with the ticket as identity, and the server, which refuses
# it, answers without one. If the client drops it, no `pre_shared_key` leaves the client at all.

# %%
expired_hello = observe_connection(too_late.wire).client_hello
expired_reply = observe_connection(too_late.wire).server_hello
offered = [psk.identity for psk in expired_hello.psk_identities]
dropped_by = "the server (refused it)" if offered else "the client (never offered it)"
check(offered in ([], [decode(data).ticket]), "the client offers that ticket or nothing")
check(not offered or expired_reply.psk_selected_identity is None,
      "an offered expired ticket is not selected: no pre_shared_key in the ServerHello")
check(observe_connection(one_hour_later.wire).client_hello.psk_identities,
      "the same client offered the ticket one hour earlier")
version = gnutls_lab.library_info().version
print(f"GnuTLS {version}, fake clock: the expired ticket was dropped by {dropped_by}")

# %% [markdown]
# Both ends check. The client checks before it offers: in `lib/ext/pre_shared_key.c` it compares the
# ticket's age with its copy of the lifetime and drops an expired ticket. The server checks what it
# finds inside the ticket (below). So which end dropped the ticket above depends on **which clock the
# client's check reads**: libgnutls's high-resolution clock, which `gnutls_global_set_time_function`
# (the fake clock) reaches only from GnuTLS 3.8.1. On an older library the client measures the ticket's
# age in real time, a few milliseconds, and offers a ticket the fake clock made stale; the server, on
# the fake clock, refuses it. On the **real clock** every version's client drops an expired ticket.
# Both, live on the loaded library: a ticket of 60 s offered 120 fake seconds later, and a ticket of
# 1 s offered 2.2 real seconds later.

# %%
clocks = expiry_on_each_clock(real_wait=2.2)
print(f"GnuTLS {version}: the client's age check reads the {clocks.client_clock} clock; fake clock: "
      f"{clocks.fake_clock.who}; real clock: {clocks.real_clock.who}")
check(clocks.real_clock.who == "the client dropped the ticket",
      "real clock: the client itself drops the expired ticket (no pre_shared_key leaves it)")
check(clocks.fake_clock.who == ("the client dropped the ticket" if clocks.client_clock == "fake"
                                else "the server refused it"),
      f"fake clock: the client's check reads the {clocks.client_clock} clock, so "
      f"{clocks.fake_clock.who} (as in the cell above: {dropped_by})")
check(clocks.fake_clock.who.startswith(dropped_by.split(" (")[0]),
      "the same answer as the 2-hour ticket above")

# %% [markdown]
# **The server's two checks.** Inside the ticket the server finds the session's original timestamp
# (when the *first*, full handshake happened) and the ticket's lifetime; from the ClientHello it gets
# the age the client claims (`obfuscated_ticket_age` minus `ticket_age_add`). It refuses a ticket when
# the session began longer ago than **its own** lifetime setting (`lib/db.c`), or when the claimed
# age exceeds the **ticket's** lifetime (`lib/ext/pre_shared_key.c`). Each check refuses on its own;
# the client's copies were tampered with below so that the client offers what it otherwise would not:

# %%
rules = server_expiry_rules()
for case, attempt in rules.items():
    print(f"{case:42} → {attempt.who}")
check(rules["control"].resumed, "control: the untouched ticket, 10 s later, resumes")
check(rules["older claim on a fresh session"].who == "the server refused it",
      "a claimed age of 160 s on a 100 s ticket: refused by the claimed-age check, the session is 10 s old")
check(rules["younger claim past the session's end"].who == "the server refused it",
      "a claimed age of 70 s, but the session began 130 s ago: refused by the timestamp check")
check(rules["server lifetime shortened"].who == "the server refused it",
      "a 600 s ticket after the server's lifetime became 150 s: refused 200 s later by its own lifetime")
check(rules["chain: a fresh ticket of an old session"].who == "the server refused it",
      "a ticket from a resumption at 60 s, offered 50 s later: the session began 110 s ago, refused")

# %% [markdown]
# The TLS 1.2 session cache expires the same way (`gnutls_db_set_cache_expiration`).

# %%
with FakeClock() as clock:
    cached = Lab("1.2", tickets=False, session_cache=True, lifetime=600)
    data = cached.connect().session_data
    clock.advance(540)
    check(cached.connect(resume=data).resumed, "a 10-minute session cache resumes after 9 minutes")
    clock.advance(120)
    check(not cached.connect(resume=data).resumed, "and not after 11")

# %% [markdown]
# ## The tamper lab
# Your session data is just bytes: what if you change one field? Pick a field below, type a new
# value, and press **rebuild and resume**: gnutls-lab rebuilds the blob (lengths recomputed) and
# offers it to the lab server. Five things can happen: gnutls-lab refuses it before libgnutls sees it
# (a malformed blob), `gnutls_session_set_data` refuses it, the client does not offer it (its own copy of
# the lifetime says it expired), the handshake fails, or the handshake succeeds, resumed or not. The
# verdict says which end did what, read from the wire. Try the lifetime first, then one bit of the ticket's MAC.

# %%
lab = Lab("1.3")
tamper_lab(lab)

# %% [markdown]
# The same, scripted, for a set of changes worth comparing (`rebuilt(...)` changes a field,
# `flipped(path, index)` one bit). Each row is a live attempt:

# %%
original = decode(lab.connect().session_data)
age_add = original.tls13.ticket_age_add
attempts = {
    "unchanged": original.data,
    "lifetime cut to 1 s (client's copy)": original.rebuilt(lifetime=1),
    "expire_time and timestamp rewritten": original.rebuilt(expire_time=1, timestamp=original.timestamp - 10**6),
    "ticket_age_add shifted by 1 h": original.rebuilt(ticket_age_add=(age_add + 3_600_000) % 2**32),
    "ticket_age_add shifted by 7 h": original.rebuilt(ticket_age_add=(age_add + 25_200_000) % 2**32),
    "one bit of the ticket's MAC": original.flipped("tls13.ticket.mac", 0),
    "one bit of the encrypted state": original.flipped("tls13.ticket.encrypted_state", 5),
    "one bit of the resumption master secret": original.flipped("tls13.resumption_master_secret", 3),
    "magic of another GnuTLS release": original.rebuilt(gnutls_version="3.6.16"),
    "truncated to 100 bytes": original.data[:100],
}
outcome, detail = {}, {}
for what, blob in attempts.items():
    outcome[what], detail[what] = tamper_outcome(lab, blob)
    print(f"{what:42} → {outcome[what]}")

# %% [markdown]
# What the library told us:
#
# * Fields only the **client** reads (its copy of the lifetime, the timestamps) are never sent to the
#   server, which checks its own copies inside the ticket: still resumed. But the client *uses* its
#   lifetime copy: it decides whether to offer the ticket at all (below).
# * The **obfuscated ticket age** is checked, loosely: an hour off still fits in the 6-hour lifetime,
#   seven hours off does not.
# * The **ticket** is authenticated (HMAC-SHA1): one flipped bit and the server quietly falls back to a
#   full handshake. Not an error: that is what a server does with a ticket it cannot use.
# * The **resumption master secret** feeds the PSK binder: a wrong one makes the server abort the
#   handshake.
# * `set_data` itself refuses blobs of another release: it reads the magic first.
# * A blob of the running release that is **malformed** (truncated here) never reaches libgnutls:
#   gnutls-lab walks it first and refuses it, because GnuTLS 3.7.9, 3.8.9 and 3.8.13 can kill the
#   whole process on some one-field corruptions of their own blobs. Mostly `gnutls_session_set_data`
#   returns an error and the process dies later, in the next handshake or in `gnutls_deinit` (after a
#   bad certificate or OCSP count it freed the certificate list but kept its count). Two kinds abort
#   inside `set_data` itself: a TLS 1.2 extension id out of range, and a TLS 1.3 blob whose protocol
#   version was changed (below). The repository's `findings/set-data-crash/` has minimal C programs.

# %%
check(outcome["unchanged"] == "resumed", "the unchanged blob resumes")
check(outcome["lifetime cut to 1 s (client's copy)"] == outcome["expire_time and timestamp rewritten"] == "resumed",
      "the client's own copies of lifetime and times change nothing the server checks")
check(outcome["ticket_age_add shifted by 1 h"] == "resumed", "a ticket age one hour off still resumes")
check(outcome["ticket_age_add shifted by 7 h"] == "full handshake", "seven hours off: the server does not resume")
check(outcome["one bit of the ticket's MAC"] == outcome["one bit of the encrypted state"] == "full handshake",
      "one flipped bit of the ticket: the server quietly runs a full handshake")
check(outcome["one bit of the resumption master secret"] == "handshake failed",
      f"a wrong resumption secret makes a wrong binder: the handshake fails ({detail['one bit of the resumption master secret']})")
check(outcome["magic of another GnuTLS release"] == "refused by libgnutls"
      and detail["magic of another GnuTLS release"].startswith("GNUTLS_E_DB_ERROR"),
      "set_data refuses another release's magic (GNUTLS_E_DB_ERROR)")
check(outcome["truncated to 100 bytes"] == "refused by gnutls-lab", "gnutls-lab refuses a truncated blob itself")

# %% [markdown]
# **The client's lifetime copy decides when it stops offering.** Set to 1 s, the ticket resumes at
# once (its age is under a second), and a moment later the *client* drops it: no `pre_shared_key`
# leaves it, although the server, whose own lifetime is 6 hours, would still accept the ticket. Real
# clock, so every version measures the same age (its check compares whole seconds, so "a moment" is
# two of them):

# %%
copy = client_lifetime_copy(lifetime=1, wait=2.2)
check(copy.at_once.offered and copy.at_once.resumed, "lifetime copy 1 s: offered and resumed at once")
check(copy.later.who == "the client dropped the ticket",
      f"{copy.wait:g} s later: {copy.later.who} (its ClientHello has no pre_shared_key); the server never saw it")

# %% [markdown]
# **A protocol version changed by hand.** GnuTLS numbers its versions (4 = TLS 1.2, 5 = TLS 1.3, 1 =
# SSL 3.0). A TLS 1.3 blob whose version says TLS 1.2 or SSL 3.0 is not refused by `set_data`:
# `unpack_security_parameters` reads the TLS 1.2 fields on into the ticket, then reads the ticket's
# bytes as a TLS 1.2 extension list, and **aborts the process** on an assertion whenever the count it
# reads there is positive. Whether it is depends on the ticket's bytes, so on the server's ticket key:
# about one key in two. gnutls-lab refuses every such flip before libgnutls sees it:

# %%
as_tls12 = original.flipped("security_parameters.pversion", 3, 5 ^ 4)  # 5 → 4 in the low byte
as_ssl3 = original.flipped("security_parameters.pversion", 3, 5 ^ 1)  # 5 → 1
for what, blob in (("TLS 1.3 blob saying TLS 1.2", as_tls12), ("TLS 1.3 blob saying SSL 3.0", as_ssl3)):
    verdict, why = tamper_outcome(lab, blob)
    print(f"{what}: {verdict}: {why}")
    check(verdict == "refused by gnutls-lab" and "protocol version" in why,
          f"{what}: gnutls-lab's preflight refuses it and says why")

# %% [markdown]
# What libgnutls itself does with those bytes, on servers with new ticket keys: each blob goes to a raw
# `gnutls_session_set_data` in a forked child process, so an abort kills the child, not this notebook.

# %%
for to in (4, 1):
    flip = version_flip_in_set_data("1.3", to, keys=16)
    print(f"5 → {to}: of {flip.keys} blobs, set_data aborted the process on {flip.aborted}, "
          f"returned 0 on {flip.accepted}, an error on {flip.error}")
    check(flip.aborted > 0 and flip.other_death == 0,
          f"5 → {to}: libgnutls {version} aborts inside set_data on {flip.aborted} of {flip.keys} ticket keys")

# %% [markdown]
# **A failed `set_data` is not a clean failure.** When `gnutls_session_set_data` returns an error, it
# has already copied into the session whatever it unpacked before the bad byte. A TLS 1.3 blob missing
# its last 4 bytes (`max_early_data_size`) gets `GNUTLS_E_PARSING_ERROR`, and the next handshake on
# the same session **resumes anyway**; cut 17 bytes or more (into the resumption master secret), the
# ticket is kept but its secret is not set, and the handshake fails with `GNUTLS_E_INTERNAL_ERROR`.
# wget2 stores such a short blob and ignores the error (`docs/spy.md`). Live, raw calls in a child
# process (`findings/set-data-partial/` is the C reproducer):

# %%
short4, short17 = partial_set_data(4), partial_set_data(17)
for partial in (short4, short17):
    print(f"{partial.cut} bytes cut: set_data {partial.set_data}; the handshake: "
          f"{'succeeded' if partial.handshake == '0' else partial.handshake}, resumed: {partial.resumed}")
check(short4.set_data == "GNUTLS_E_PARSING_ERROR" and short4.resumed,
      "4 bytes short: set_data returns an error, and the handshake on that session resumes all the same")
check(short17.set_data == "GNUTLS_E_PARSING_ERROR" and short17.handshake == "GNUTLS_E_INTERNAL_ERROR",
      "17 bytes short: set_data returns an error, and the next handshake fails with GNUTLS_E_INTERNAL_ERROR")

# %% [markdown]
# *What should a client do?* Treat any error from `gnutls_session_set_data` as "this session object is
# spoiled": throw the data away, `gnutls_deinit` the session and start a new one (`gnutls_init`) for a
# full handshake, never go on with the session `set_data` failed on. A resumption that happens after an
# error is luck, and the internal error is what the luck looks like when it runs out.

# %% [markdown]
# ## Real bugs, as exercises
# Each is a mistake found in real client code. The check cells run your function against fresh
# handshakes. (Instructors: reference solutions are in `notebooks/solutions/`.)
#
# ### Bug 1: taking the data right after a TLS 1.3 handshake
# Many clients call `get_data2` as soon as `gnutls_handshake` returns. Under TLS 1.2 that works.
# Under TLS 1.3 the ticket may not have arrived, or may not have been *sent* yet, and the call
# still succeeds, with the dummy. Write `resumable_data(client)`: real session data when a ticket
# has arrived, `None` when none has. Never the dummy. (`client.ticket_received` is
# `GNUTLS_SFLAGS_SESSION_TICKET`; `client.read_available()` processes the records waiting.)

# %%
# EXERCISE: complete this function
def resumable_data(client):
    return client.get_data()


# %%
exercises.check_resumable_data(resumable_data)

# %% [markdown]
# ### Bug 2: non-blocking mode
# A client made with `GNUTLS_NONBLOCK` (flag 8 of `gnutls_init`) never waits, and `get_data2`
# does not either: the server's two tickets are already in its inbox (they came with the server's
# Finished), yet it returns the dummy at once.

# %%
client, server = exercises.nonblocking_client(Lab("1.3"))  # gnutls_init(..., GNUTLS_CLIENT | GNUTLS_NONBLOCK)
check(client.handshake_done and not client.ticket_received, "handshake done; the tickets are there, but unread")

hasty = client.get_data()
check(hasty.dummy and hasty.waited_ms == (), "get_data2 returns the dummy at once, without waiting")
client.close()
server.close()

# %% [markdown]
# Write `nonblocking_data(client)` that returns real data from such a client.

# %%
# EXERCISE: complete this function
def nonblocking_data(client):
    return client.get_data()


# %%
exercises.check_nonblocking_data(nonblocking_data)

# %% [markdown]
# ### Bug 3: offering data is not being resumed
# Code that logs "resumed" because it called `set_data` is wrong whenever the server refuses: an
# expired ticket, a rotated ticket key, the dummy. Write `did_resume(conn)` for a `Connection`
# (`conn.offered` is the data the client offered, `conn.client` its session).

# %%
# EXERCISE: complete this function
def did_resume(conn):
    return conn.offered is not None


# %%
exercises.check_did_resume(did_resume)

# %%
for c in (first_id, again_id, first_t12, again_t12, first_psk, again_psk, one_hour_later, too_late):
    c.close()

# %% [markdown]
# ## Recap
#
# * TLS 1.2 session IDs need the server's cache; TLS 1.2 tickets and TLS 1.3 PSKs carry the session
#   to the server, encrypted under its ticket key. All three show their credential in clear.
# * A TLS 1.2 ticket resumption brings no new ticket; a TLS 1.3 one brings two.
# * Both ends check expiry. The client drops an expired ticket itself, by its own lifetime copy, on
#   whatever clock its check reads (the fake clock from 3.8.1, the real clock before); the
#   ClientHello's `pre_shared_key` tells which end dropped it.
# * The server checks what it encrypted: the session's original timestamp against its own lifetime,
#   the claimed age against the ticket's lifetime, the binder. It sends tickets even to a client that
#   cannot use them (no `psk_key_exchange_modes`).
# * gnutls-lab refuses malformed blobs before `gnutls_session_set_data`, which can abort on them (a
#   changed protocol version, on about one key in two); and a `set_data` that returns an error has
#   already loaded part of the blob: start a new session.
# * Resumption data is real only after a ticket arrived, and a connection resumed only if
#   `gnutls_session_is_resumed` says so.
