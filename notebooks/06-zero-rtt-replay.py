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
# # 06 · 0-RTT and replay
#
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
# 3. what the anti-replay window and time change, and where the fake clock reaches libgnutls's clock
#    (3.8) or not (3.7);
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
from gnutls_lab.analysis import decode, replay_case

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
# on the version:

# %%
with lab.connect() as plain:
    plain_limit = decode(plain.session_data).tls13.max_early_data_size
print("without early data on the server:", plain_limit)
if version >= (3, 8):
    check(plain_limit == 0, "GnuTLS 3.8 stores 0: its client refuses to queue early data for this ticket")
else:
    check(plain_limit == 0xFFFFFFFF, "GnuTLS 3.7 stores 0xFFFFFFFF ('no limit'): its client queues early data "
          "that the server will skip")

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
    check(not late.checked, "3.8: 11 s later the ticket age gives the replay away; the store is not even asked")
    check(rollover.replay_accepted, "3.8: resumed 9 s after the ticket and replayed 2 s later, across the "
          "period rollover at 10 s: the same early data is delivered twice")
else:
    check(late.checked, "3.7: 11 fake seconds are milliseconds of real time for the anti-replay; the store "
          "finds the duplicate")
    check(not rollover.replay_accepted, "3.7: the fake clock cannot move the anti-replay into a new period, "
          "so the store catches this replay too")

# %% [markdown]
# A sweep: the client resumes 8 s after getting its ticket, the attacker replays after 0 to 30 s,
# for three windows. A filled dot is a replay whose early data the server delivered.

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
    check(not any(any(row) for row in sweep.accepted), "3.7: every replay refused; the delays live on the "
          "fake clock only")

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
#   and sits in the client's session data (3.7 stores `0xFFFFFFFF` for tickets without it, 3.8 `0`).
# - The first flight (ClientHello, early data) can be replayed by anyone who recorded it, and the
#   server decrypts the early data before any proof that the peer is live.
# - libgnutls refuses early data unless an anti-replay context is enabled; the context is only as good
#   as its add function's store, which must be shared by every process that holds the ticket key.
# - The window bounds how late a replay may come; on 3.8 (fake clock) a replay across a recording-period
#   rollover gets through within the window; on 3.7 the anti-replay runs on real time.
# - Ticket reuse by the client is not a replay; single-use tickets on the client do not prevent one.
#   Only send in 0-RTT what is safe to receive twice.
