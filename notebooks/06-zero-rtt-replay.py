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
# # 06 · 0-RTT and replay

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
# A TLS 1.3 client that resumes may send application data in its very first flight, before the server
# has said anything: **early data**, or 0-RTT. It saves a round trip. It also gives away something TLS
# otherwise guarantees: nothing in that first flight depends on the server's fresh randomness, so
# whoever recorded it on the wire can send it again, and a server may act on it twice.
#
# What you will learn, each fact computed live with the real libgnutls and checked:
#
# 1. how a ticket allows early data (`max_early_data_size`, in the session data), and how the client
#    sends it (`gnutls_record_send_early_data`);
# 2. what a recorded first flight does when it is replayed to the server: without anti-replay, with a
#    store that forgets, with GnuTLS's anti-replay (`gnutls_anti_replay_*`);
# 3. what the anti-replay window and time change, where the fake clock reaches libgnutls's clock
#    (from 3.8.1) or not (3.7), and the replay that gets through on the real clock, on every version;
# 4. why reusing a ticket is not a replay, and why single-use tickets on the client do not stop one.

# %%
from course.checks import check
from gnutls_lab import (
    AntiReplay,
    FakeClock,
    Lab,
    library_info,
    plot_replay_sweep,
    plot_zero_rtt_flights,
    replay_experiment,
    replay_sweep,
    ZeroRttLab,
)
from gnutls_lab.sessions import first_flight
from gnutls_lab.analysis import (
    decode,
    early_data_on_a_ticket_without_it,
    early_data_with_a_larger_claimed_age,
    replay_case,
)

version = library_info().version_tuple
clock_reaches_anti_replay = FakeClock().drives_ticket_age  # GnuTLS >= 3.8.1
print(f"GnuTLS {library_info().version}: the fake clock {'drives' if clock_reaches_anti_replay else 'does not drive'} "
      "ticket ages and the anti-replay window")

# %% [markdown]
# ## The two flights
# The client's first flight holds the ClientHello (with the ticket and a *binder*, an HMAC that proves
# the client knows the ticket's secret) and, right behind it, the early data, encrypted with a key derived
# from the ticket and the ClientHello only. The attacker records both and sends them to another process
# of the same server, which shares the ticket key:

# %%
plot_zero_rtt_flights()

# %% [markdown]
# ## A ticket that allows early data
# A GnuTLS server allows early data with `GNUTLS_ENABLE_EARLY_DATA` and
# `gnutls_record_set_max_early_data_size`; the size goes into every NewSessionTicket it sends, and the
# client keeps it in its session data: the decoder shows it as `tls13.max_early_data_size`.

# %%
lab = Lab("1.3")
zero_rtt = ZeroRttLab(lab, early_data=4096, anti_replay=AntiReplay(window=10))
ticket = zero_rtt.issue_ticket()
stored = decode(ticket).tls13.max_early_data_size
print("max_early_data_size in the session data:", stored)
check(stored == 4096, "the session data carries the server's early-data limit, 4096 bytes")

# %% [markdown]
# A server without early data writes no limit into its tickets; what the client then stores depends
# on the release: 0xFFFFFFFF ("no limit") in 3.7.x and 3.8.0 to 3.8.8, 0 from 3.8.9 (gnutls#1619). So a
# program must test the stored value, not the version. And what the client does with that value
# matters: RFC 8446 §4.2.10 says a client must not send early data on a ticket that did not allow it.
# Here a ticket issued without early data is used for a 0-RTT attempt against a server that now allows
# it:

# %%
with lab.connect() as plain:
    plain_limit = decode(plain.session_data).tls13.max_early_data_size
without = early_data_on_a_ticket_without_it()
print(f"GnuTLS {library_info().version}, without early data on the server: max_early_data_size {plain_limit:#x}; "
      f"0-RTT on that ticket: {without}")
check(plain_limit in (0, 0xFFFFFFFF), f"the stored limit is {plain_limit:#x}: 0 or 'no limit'")
if plain_limit == 0:
    check(without.error == "GNUTLS_E_RECORD_LIMIT_REACHED" and not without.client_sent_early_data,
          "0 stored: gnutls_record_send_early_data refuses (GNUTLS_E_RECORD_LIMIT_REACHED), nothing is sent")
else:
    check(without.client_sent_early_data and without.resumed and not without.early_data_accepted,
          "0xFFFFFFFF stored: the client sends early data on a ticket that did not allow it (RFC 8446 §4.2.10: "
          "it must not); the server resumes and skips the early data")

# %% [markdown]
# ## The client sends early data, the attacker records the first flight
# `ZeroRttLab.resume` queues the bytes with `gnutls_record_send_early_data` before the handshake. The
# wire tap records what a passive observer sees; the first flight is every client chunk before the
# server's first answer.

# %%
request = b"POST /transfer amount=100&to=mallory"
first = zero_rtt.resume(ticket, request)
flight = first_flight(first.wire)
print(first, "| the server's application got:", first.server.early_data)
print(f"first flight: {len(flight)} bytes, records of type", [hex(b) for b in (flight[0], flight[5 + int.from_bytes(flight[3:5], 'big')])])
check(first.server.early_data == request, "the server delivered the early data before the handshake ended")
check(first.client.early_data_accepted and first.server.early_data_accepted,
      "both ends report GNUTLS_SFLAGS_EARLY_DATA")
first.close()

# %% [markdown]
# ## The replay
# `zero_rtt.replay(flight)` feeds those bytes to a fresh server session with the same ticket key and
# the same anti-replay state. The server checks the ticket and the binder, both valid, answers, and
# waits for a client Finished the attacker cannot produce. What matters is whether it handed the early
# data to its application before that.

# %%
replayed = zero_rtt.replay(flight)
print(replayed)
check(replayed.resumed, "the replayed ClientHello resumes: the ticket and its binder are genuine")
check(replayed.early_data == b"", "with GnuTLS's anti-replay the replayed early data is not delivered")
check(zero_rtt.replay(flight).early_data == b"", "nor a third time: never twice")
print(zero_rtt.anti_replay, [fresh for _, _, fresh in zero_rtt.anti_replay.events])

# %% [markdown]
# The anti-replay store keyed this ClientHello by the start of its recording period (12 bytes) and the
# PSK binder. The replay carries the same binder, so the add function answered
# `GNUTLS_E_DB_ENTRY_EXISTS`.
#
# ## Every case, live
# `replay_experiment` runs each story on fresh sessions under a fake clock (the same as
# `gnutls-lab experiment replay --window 10`):

# %%
cases = {case.case: case for case in replay_experiment(window=10)}
for case in cases.values():
    print(f"{case.case:<32} first {'accepted' if case.first_accepted else 'refused':<8}  "
          f"replay {'accepted' if case.replay_accepted else 'refused':<8}  {case.reason}")

# %%
none, forgetful = cases["no anti-replay context"], cases["store that forgets"]
check(not none.first_accepted, "no anti-replay context: libgnutls refuses all early data, even the first")
check(forgetful.first_accepted and forgetful.replay_accepted,
      "an anti-replay whose store forgets (not shared between processes): the same early data twice")
check(cases["replay at once"].first_accepted and not cases["replay at once"].replay_accepted,
      "a remembering store: once inside the window, never twice")
check(not cases["replay after the window"].replay_accepted, "a replay after the window is refused")

# %% [markdown]
# ## The window and the clock
# libgnutls's anti-replay (`lib/tls13/anti_replay.c`) first compares the ticket's age on the server
# with the age the client claims (the obfuscated ticket age minus the ticket's `ticket_age_add`); more
# than the window apart and the early data is refused before the store is asked. Then, when a window
# has passed since the recording period started, it starts a new period: the store is asked with the
# new period's key, and the old keys are never looked at again. Both clocks are libgnutls's
# high-resolution clock, which the fake clock drives from 3.8.1 only.

# %%
late = cases["replay after the window"]
rollover = cases["replay across a period rollover"]
if clock_reaches_anti_replay:
    check(not late.checked, "fake clock: 11 s later the ticket age gives the replay away; the store is not even asked")
    check(rollover.replay_accepted, "fake clock: resumed 9 s after the ticket and replayed 2 s later, across the "
          "period rollover at 10 s: the same early data is delivered twice")
else:
    check(late.checked, f"GnuTLS {library_info().version}: 11 fake seconds are milliseconds of real time for "
          "the anti-replay; the store finds the duplicate")
    check(not rollover.replay_accepted, f"GnuTLS {library_info().version}: the fake clock cannot move the "
          "anti-replay into a new period, so this fake-clock story says nothing about the rollover: the real "
          "clock below does")

# %% [markdown]
# First, though, step one of the check: a client that claims an *older* ticket than the server's own
# age of it (here its `ticket_age_add` copy was raised by 5 s) is refused by
# `lib/tls13/anti_replay.c` before the store is asked. Only the early data is refused: the handshake
# goes on and resumes.

# %%
older_claim = early_data_with_a_larger_claimed_age(5.0)
check(older_claim.client_sent_early_data and not older_claim.early_data_accepted and not older_claim.store_asked,
      "client age > server age: the early data is refused, and the store is not even asked")
check(older_claim.resumed, "but the handshake goes on: the connection resumes, without its early data")

# %% [markdown]
# ## The rollover, on the real clock, on every version
# The rollover is not a fake-clock effect nor a 3.8 one. On the real clock, with a short window (1 s) so
# it takes seconds: the anti-replay context starts its first recording period, the client resumes half
# a window later, and the attacker replays 0.7 window after that. The replay's check starts a new
# period (a window has passed since the first began), its flight is within a window of the original,
# and the store is asked with the new period's key, which it has never seen:

# %%
real_cases = {case.case: case for case in replay_experiment(window=1.0, real_clock=True)}
for case in real_cases.values():
    print(f"{case.case:<32} resumed at {case.resume_after:5.3f} s, replay {case.replay_after:5.3f} s later: "
          f"first {'accepted' if case.first_accepted else 'refused':<8}  "
          f"replay {'accepted' if case.replay_accepted else 'refused':<8}")
check(not real_cases["replay at once"].replay_accepted, "real clock: a replay at once, in the same period, is refused")
check(not real_cases["replay after the window"].replay_accepted, "real clock: a replay 1.5 windows later is refused")
check(real_cases["replay across a period rollover"].replay_accepted,
      f"real clock, GnuTLS {library_info().version}: the replay across the rollover is delivered a second time "
      "(findings/anti-replay-rollover is the standalone C reproducer)")

# %% [markdown]
# A sweep on the fake clock: the client resumes 8 s after getting its ticket, the attacker replays
# after 0 to 30 s, for three windows. A filled dot is a replay whose early data the server delivered.
# (Where the fake clock does not reach the anti-replay, every dot is the same story: a replay
# milliseconds later. The real-clock sweep below is the one to read there.)

# %%
sweep = replay_sweep(windows=(5, 10, 20), delays=tuple(range(0, 31)), resume_after=8)
plot_replay_sweep(sweep)

# %%
if clock_reaches_anti_replay:
    check(sweep.accepted_delays(10) == [float(d) for d in range(3, 11)],
          "window 10 s: replays between 3 and 10 s later are accepted (period rolled at 10 s, age within 10 s)")
    check(sweep.accepted_delays(5) == [], "window 5 s: resumed after the window, the period rolls over at "
          "once, and a later check refuses the now older ticket")
else:
    check(not any(any(row) for row in sweep.accepted), f"GnuTLS {library_info().version}, fake clock: every "
          "replay refused, because every delay is milliseconds for the anti-replay (not because it is immune)")

# %% [markdown]
# The same sweep on the real clock, for one 1 s window: the client resumes 0.5 s after the context
# began, the attacker replays 0, 0.25, 0.7 and 1.6 s later (about 5 s of waiting):

# %%
real_sweep = replay_sweep(windows=(1,), delays=(0, 0.25, 0.7, 1.6), resume_after=0.5, real_clock=True)
plot_replay_sweep(real_sweep)

# %%
check(real_sweep.accepted_delays(1) == [0.7],
      f"real clock, GnuTLS {library_info().version}: only the replay that crosses the rollover (at 1 s) within "
      "a window of the original gets through; before it the store finds it, after a window its age gives it away")

# %% [markdown]
# ## Ticket reuse and single-use tickets
# The store's key is the ClientHello's binder, not the ticket. A client that uses the same ticket twice
# sends two ClientHellos with different randoms and key shares, so two different binders: both get
# their early data in, and the store has no objection. The other way round, a client that uses each
# ticket once does not stop a replay: the attacker replays the flight, not the ticket, and the GnuTLS
# server keeps no record of which tickets were used (its tickets are stateless).

# %%
reuse = cases["ticket reused by the client"]
check(reuse.first_accepted and reuse.replay_accepted,
      "the same ticket twice, two fresh ClientHellos: both connections' early data is accepted")
single_use = replay_case("single-use client, replayed", window=10)  # the client never reuses its ticket
check(not single_use.replay_accepted and single_use.checked,
      "what stops the replay is the server's store of binders, not the client's single use")

# %% [markdown]
# ## Recap
# - A ticket allows early data when the server says so: `max_early_data_size` travels in the ticket
#   and sits in the client's session data. For tickets without it, 3.7.x and 3.8.0-3.8.8 store
#   `0xFFFFFFFF` and their client sends early data anyway; 3.8.9 and later store `0` and refuse to send.
#   Test the value, not the version.
# - The first flight (ClientHello, early data) can be replayed by anyone who recorded it, and the
#   server decrypts the early data before any proof that the peer is live.
# - libgnutls refuses early data unless an anti-replay context is enabled; the context is only as good
#   as its add function's store, which must be shared by every process that holds the ticket key.
# - The window bounds how late a replay may come; a replay across a recording-period rollover gets
#   through within the window, on every version, on the real clock. The fake clock shows it only where
#   it reaches libgnutls's clock (3.8.1 and later).
# - A client claiming an older ticket than the server measured loses its early data, not its handshake.
# - Ticket reuse by the client is not a replay; single-use tickets on the client do not prevent one.
#   Only send in 0-RTT what is safe to receive twice.
