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
# # 05 · The server's ticket keys

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
# A ticket is the server's own session state, encrypted by the server for itself. A GnuTLS server
# needs one secret for that: a 64-byte **ticket master key** (`gnutls_session_ticket_key_generate`,
# given to `gnutls_session_ticket_enable_server`). Every lab server holds one (`lab.ticket_key`). With
# it we can do what the server does: open a ticket and read what is inside. Then we look at how the
# key rotates, and at what someone who steals it learns.
#
# **What you will learn**
#
# * what is inside a GnuTLS ticket, and how the server's key opens it;
# * how GnuTLS derives a key per period from its master key, and why its own rotation never refuses
#   a live ticket, while a forced rotation or a restart with another lifetime refuses them all;
# * what a stolen ticket key opens: TLS 1.2 connections, TLS 1.3 early data, plain-PSK resumptions
#   (which a `+PSK` server chooses silently), and resumption as someone else;
# * what a ticket key everyone knew gave away (CVE-2020-13777, GnuTLS 3.6.4-3.6.13).

# %%
import hashlib
import math
import struct
import time

from course import tracking
from course.checks import check
from gnutls_lab import (
    ClientSession,
    decrypt_ticket,
    FakeClock,
    Lab,
    memory_pair,
    observe_connection,
    pump,
    read_recorded_resumption,
    read_recorded_tls12,
    ServerSession,
)
from gnutls_lab.analysis import decode, period_key, period_of, psk_ke_resumption, public_ticket_key_exposure
from gnutls_lab.faces import plot_key_timeline, ticket_report

lab = Lab("1.3")
conn = lab.connect()
blob = decode(conn.session_data)  # what the client keeps
envelope = blob.ticket_envelope()
print({name: (value.hex() if len(value) <= 20 else f"{len(value)} bytes") for name, value in envelope.items()})

# %% [markdown]
# ## Opening a ticket
# The client cannot read its ticket: 16 bytes of key name, a random IV, the AES-256-CBC encrypted
# state and an HMAC-SHA1 tag (`lib/ext/session_ticket.c`). The server's key opens it. Secrets stay
# redacted:

# %%
opened = blob.decrypt_ticket(lab.ticket_key)
report = ticket_report(opened)
print(report)
inside = opened.fields
check("redacted" in report and inside["resumption_master_secret"].hex() not in report,
      "the report redacts the resumption master secret")

# %% [markdown]
# Inside is what the server needs to resume without remembering anything: the hash of the PRF, the
# ticket's `age_add` and lifetime, the **resumption master secret** and the ticket nonce (from which
# the PSK is derived), the creation time, and the server's packed session. The client keeps the same
# values next to the ticket; they match:

# %%
check(inside["resumption_master_secret"] == blob.tls13.resumption_master_secret,
      "the resumption master secret inside the ticket is the client's")
check(inside["age_add"] == blob.tls13.ticket_age_add and inside["lifetime"] == blob.tls13.lifetime == 21600,
      "so are age_add and the lifetime (21600 s)")
check(decode(opened.state).entity == "SERVER", "the packed session inside is the server's")
revealed = ticket_report(opened, show_secrets=True)  # on request: show_secrets=True
check(inside["resumption_master_secret"].hex() in revealed, "show_secrets=True reveals the secret")

# %% [markdown]
# ## The key name, and the period key behind it
# The master key never touches a ticket. For each **period** `t = floor(now / (3 × lifetime))` the
# server derives `SHA3-512(t as 8 big-endian bytes ‖ master key)` and splits the 64 bytes: key name
# `[0:16]`, AES key `[16:48]`, HMAC key `[48:64]` (`lib/stek.c`). With the default lifetime of
# 21600 s a period lasts 18 hours. Recomputed here by hand:

# %%
t = period_of(int(time.time()), 21600)
derived = hashlib.sha3_512(struct.pack(">Q", t) + lab.ticket_key).digest()
check(blob.ticket[:16] == derived[:16] == opened.key.key_name == period_key(lab.ticket_key, t).key_name,
      f"period {t}: the derived key name {derived[:16].hex()} starts the ticket")
check(opened.key.period == t, "the key that opened the ticket is this period's")

# %% [markdown]
# The key name is in clear, and the same in every ticket the server issues during the period, to any
# client: it tells an observer which server key issued a ticket, not which client holds it.

# %%
with lab.connect() as other_client:
    tickets = conn.tickets + other_client.tickets
names = {decode(ticket).ticket[:16] for ticket in tickets}
check(names == {derived[:16]}, f"{len(tickets)} tickets to two clients carry one key name")

# %% [markdown]
# ## Rotation, under the fake clock
# A server with a 10-minute lifetime has 30-minute periods. Let it issue a ticket two minutes before
# a period ends, then come back four minutes later, in the next period.

# %%
LIFETIME = 600
PERIOD = 3 * LIFETIME
boundary = (math.floor(time.time() / PERIOD) + 2) * PERIOD  # a period boundary in the near future
with FakeClock(start=boundary - 120) as clock:
    rotating = Lab("1.3", lifetime=LIFETIME)
    with rotating.connect() as before:
        old = before.session_data
    clock.advance(240)  # into the next period
    with rotating.connect(resume=old) as later:
        resumed_next_period = later.resumed
        new_name = decode(later.tickets[0]).ticket[:16]
    old_ticket = decode(old).ticket
    old_period = decrypt_ticket(old_ticket, rotating.ticket_key, time_hints=[boundary]).key.period
    accepted_now = {period_key(rotating.ticket_key, p).key_name for p in (period_of(clock.now, LIFETIME),
                                                                          period_of(clock.now, LIFETIME) - 1)}
check(resumed_next_period and old_period == period_of(boundary, LIFETIME) - 1,
      f"a ticket of period {old_period} resumes in period {old_period + 1}")
check(new_name != old_ticket[:16], "tickets issued now carry the new period's key name")
check(old_ticket[:16] in accepted_now, "the old name is the previous period's: the server still tries that key")

# %% [markdown]
# The server tries two keys: the current period's and the previous one's (`lib/stek.c`). A period is
# three lifetimes long, so the two periods always reach back further than one lifetime: GnuTLS's own
# rotation never refuses a ticket that is still alive. Tickets of older periods are refused, but
# they have expired anyway. In a picture (each ticket: blue while alive, grey while its key is
# accepted):

# %%
plot_key_timeline(LIFETIME, [boundary + 300, boundary + PERIOD - 1, boundary + PERIOD + 900], start=boundary)

# %% [markdown]
# Here, each ticket is issued one second before a period ends and offered again at different ages:

# %%
outcomes = {}
with FakeClock(start=boundary + PERIOD - 1) as clock:  # one second before the next boundary
    rotating = Lab("1.3", lifetime=LIFETIME)
    for age in (2, LIFETIME - 1, LIFETIME + 60, 2 * PERIOD):
        clock.set(boundary + PERIOD - 1 + 10 * PERIOD * len(outcomes))  # a fresh ticket each time
        with rotating.connect() as issue:
            data = issue.session_data
            issued = clock.now
        clock.advance(age)
        with rotating.connect(resume=data) as attempt:
            periods_later = period_of(clock.now, LIFETIME) - period_of(issued, LIFETIME)
            outcomes[age] = (attempt.resumed, periods_later)
check(outcomes[2] == (True, 1) and outcomes[LIFETIME - 1] == (True, 1),
      "2 s and one lifetime less 1 s after issue, one period later: resumed (the previous period's key)")
check(outcomes[LIFETIME + 60] == (False, 1), "one lifetime and a minute after issue, still one period later: refused")
check(outcomes[2 * PERIOD] == (False, 2), "two periods later: refused (its key is gone, the ticket long expired)")

# %% [markdown]
# Was the ticket offered a lifetime and a minute later refused for its age, or for its key? Ask the
# server: let it issue two tickets in one period, an old one and a young one, and offer both at one
# moment of the next period. Same key name, same moment: only the age differs. (Which side drops
# the old one depends on the version, as notebook 03 showed; the key is not the reason.)

# %%
with FakeClock(start=boundary + 2 * PERIOD - 700) as clock:  # 700 s before a boundary
    rotating = Lab("1.3", lifetime=LIFETIME)
    with rotating.connect() as issue:
        old_data = issue.session_data
    clock.advance(670)  # 30 s before the boundary
    with rotating.connect() as issue:
        young_data = issue.session_data
    clock.advance(40)  # 10 s into the next period: the old ticket is 710 s old, the young one 40 s
    with rotating.connect(resume=old_data) as old_try, rotating.connect(resume=young_data) as young_try:
        tried = {"old": old_try.resumed, "young": young_try.resumed}
    now_period = period_of(clock.now, LIFETIME)
same_name = decode(old_data).ticket[:16] == decode(young_data).ticket[:16]
check(same_name and period_of(boundary + 2 * PERIOD - 700, LIFETIME) == now_period - 1,
      "both tickets carry the key name of the previous period")
check(tried == {"old": False, "young": True},
      "at the same moment the young ticket resumes and the old one does not: the old one ends for its age, "
      "though its key is still accepted")

# %% [markdown]
# Two ways to lose every ticket at once:
#
# * **forced rotation**: a new master key (`lab.rotate_ticket_key()`), as an operator would deploy;
# * **a restart with another lifetime**: the period length is part of the derivation. Same master
#   key, same moment, other lifetime: other period number, other keys. A second server with the same
#   key *and* lifetime (a load balancer's twin) reads the tickets fine.

# %%
with FakeClock(start=boundary + 60) as clock:
    first_server = Lab("1.3", lifetime=LIFETIME)
    with first_server.connect() as issue:
        data = issue.session_data
    twin = Lab("1.3", lifetime=LIFETIME, ticket_key=first_server.ticket_key)
    restarted = Lab("1.3", lifetime=3600, ticket_key=first_server.ticket_key)
    outcome = {name: server.connect(resume=data) for name, server in (("twin, same lifetime", twin),
                                                                       ("restarted with 3600 s", restarted))}
    master = first_server.ticket_key
    first_server.rotate_ticket_key()
    outcome["after a forced rotation"] = first_server.connect(resume=data)
    periods = (period_of(clock.now, LIFETIME), period_of(clock.now, 3600))
resumed = {}
for name, attempt in outcome.items():
    print(f"{name:24} {attempt.explain()}")
    resumed[name] = attempt.resumed
    attempt.close()
check(resumed == {"twin, same lifetime": True, "restarted with 3600 s": False, "after a forced rotation": False},
      "the twin resumes the ticket; the restarted server and the rotated one refuse it")
check(period_key(master, periods[0]).key_name != period_key(master, periods[1]).key_name,
      f"the same instant is period {periods[0]} for a 600 s server and {periods[1]} for a 3600 s one: other keys")

# %% [markdown]
# Did the forced rotation refuse the ticket *because of the key*? At the same moment the twin, which
# kept the old master key, still resumes the very same ticket; the rotated server resumes its own new
# tickets, whose key name the observer sees change.

# %%
with FakeClock(start=boundary + 120):
    with twin.connect(resume=data) as attempt:
        twin_still_resumes = attempt.resumed
    with first_server.connect() as issue:
        after_rotation = issue.session_data
    with first_server.connect(resume=after_rotation) as attempt:
        new_ticket_resumes = attempt.resumed
check(twin_still_resumes, "the twin with the old master key still resumes the ticket the rotated server refused")
check(new_ticket_resumes, "the rotated server resumes a ticket it issued after the rotation")
check(decode(after_rotation).ticket[:16] != decode(data).ticket[:16] and periods[0] == period_of(boundary + 120, LIFETIME),
      "in the same key period, the rotated server's tickets carry another key name: a new key, seen on the wire")

# %% [markdown]
# ### Exercise: predict the key name
# Write `key_name(master_key, unix_time, lifetime)`: the 16 bytes a GnuTLS server with this master
# key and lifetime writes at the start of every ticket it issues at `unix_time`. The stub is what
# GnuTLS 3.6.0–3.6.3 did. The check reads the answer off live tickets, including two issued two
# seconds apart across a period boundary.

# %%
# EXERCISE: complete this function
def key_name(master_key, unix_time, lifetime):
    return master_key[:16]


# %%
tracking.check_key_name(key_name)

# %% [markdown]
# ## What a stolen ticket key gives away
# Rotation does not protect the past from whoever holds the **master key**: every period key follows
# from it. A ticket issued a month ago opens today (the period search tries the last 400 days):

# %%
month_ago = time.time() - 30 * 86400
with FakeClock(start=month_ago):
    with lab.connect() as past:
        past_ticket = decode(past.session_data).ticket
opened_later = decrypt_ticket(past_ticket, lab.ticket_key)
check(opened_later.key.period == period_of(int(month_ago), 21600) < period_of(int(time.time()), 21600),
      f"a ticket of period {opened_later.key.period} opens in period {period_of(int(time.time()), 21600)}")

# %% [markdown]
# ### TLS 1.2: the ticket holds the master secret
# Record a TLS 1.2 connection: a full handshake with ECDHE, which promises forward secrecy, and some
# application data. The server's NewSessionTicket crosses the wire in clear; inside is the server's
# packed session, master secret included. With the randoms (also in clear) that is every key of the
# connection. `read_recorded_tls12` does what an attacker would, from the wire
# and the ticket key only:

# %%
lab12 = Lab("1.2")
recorded = lab12.connect(keylog=True)  # keylog: the session's own secrets, to compare with
recorded.client.send(b"GET /account HTTP/1.1\r\n\r\n")
recorded.server.read_available()
recorded.server.send(b"HTTP/1.1 200 OK\r\n\r\nbalance: 42")
recorded.client.read_available()
print(recorded.cipher_suite, "| tickets in clear:", len(observe_connection(recorded.wire).new_session_tickets))

attack12 = read_recorded_tls12(recorded.wire, lab12.ticket_key)
print("the attacker reads:", attack12.client_data, attack12.server_data)

# %%
check("ECDHE" in recorded.cipher_suite, "the recorded connection used ECDHE, which promises forward secrecy")
check(attack12.master_secret == recorded.client.master_secret(), "the master secret in the ticket is the session's")
check(attack12.keylog_line == recorded.client.keylog_lines()[0], "it gives the key-log line Wireshark needs")
check(attack12.client_data == b"GET /account HTTP/1.1\r\n\r\n" and attack12.server_data.endswith(b"balance: 42"),
      "the attacker reads both directions of the recording")

# %% [markdown]
# Every TLS 1.2 connection whose ticket was seen (the one that received it, every one that presented
# it) is open to the ticket key, for as long as that key, or its master key, exists. Springall et al.
# (IMC 2016) found 22 % of domains keeping a ticket key for 7 days or more.
#
# ### TLS 1.3: the resumption secret, and the key exchange mode
# TLS 1.3 sends the ticket encrypted, so the recording of the full handshake shows no ticket, and the
# resumption master secret inside comes from that handshake's secrets one way only: the full
# handshake stays closed. The **resumption** shows the ticket (its PSK identity). The ticket key
# opens it and gives the PSK. Does that open the resumed connection? It depends on the PSK key
# exchange mode (RFC 8446 §4.2.9): `psk_ke` (1: PSK only) or `psk_dhe_ke` (PSK plus a fresh (EC)DHE).

# %%
first13 = lab.connect()
check(not observe_connection(first13.wire).new_session_tickets, "the full TLS 1.3 handshake shows no ticket in clear")
resumed13 = lab.connect(resume=first13.session_data, keylog=True)
resumed13.client.send(b"GET /account HTTP/1.1\r\n\r\n")
resumed13.server.read_available()
seen13 = observe_connection(resumed13.wire)
print("ClientHello tls.extension.psk_ke_mode:", seen13.client_hello.psk_ke_modes, "(1 = psk_dhe_ke, 0 = psk_ke)")
print("ServerHello extensions:", seen13.server_hello.extension_types, "(51 = key_share, 41 = pre_shared_key)")
check(resumed13.resumed and seen13.client_hello.psk_ke_modes == (1, 0) and 51 in seen13.server_hello.extension_types,
      "the client offers both modes; the default server picks psk_dhe_ke: its ServerHello has a key_share")

attack13 = read_recorded_resumption(resumed13.wire, lab.ticket_key)
keylog13 = dict(resumed13.client.keylog)
for label, secret in attack13.secrets.items():
    print(f"{label:32} attacker's value {'matches' if secret == keylog13[label] else 'differs from'} the session's")

# %% [markdown]
# The GnuTLS client offers both modes; a default GnuTLS server picks `psk_dhe_ke`: its ServerHello
# carries a key_share. The attacker's PSK still gives the **early** secrets (only the PSK goes into
# them: 0-RTT early data would be readable), but from the handshake secret on, the fresh ECDHE secret
# is missing: the handshake keys differ and the recorded data stays closed.

# %%
check(attack13.secrets["CLIENT_EARLY_TRAFFIC_SECRET"] == keylog13["CLIENT_EARLY_TRAFFIC_SECRET"],
      "the ticket key gives the early traffic secret (0-RTT data)")
check(attack13.secrets["CLIENT_HANDSHAKE_TRAFFIC_SECRET"] != keylog13["CLIENT_HANDSHAKE_TRAFFIC_SECRET"],
      "but not the handshake secrets: a fresh ECDHE went into them")
check(attack13.key_share and attack13.client_data is None, "so the recorded data stays closed")

# %% [markdown]
# Now a server whose priority string also enables plain PSK key exchange (`NORMAL:+PSK`, as a server
# that serves PSK clients might): the same client, the same ticket.

# %%
wire = []
client_end, server_end = memory_pair(wire)
server = ServerSession(lab.server_credentials, lab.priority + ":+PSK", endpoint=server_end, ticket_key=lab.ticket_key)
client = ClientSession(lab.client_credentials, lab.priority, endpoint=client_end, server_name=lab.server_name,
                       keylog=True)
client.set_data(first13.session_data)
pump(client, server)
client.send(b"GET /account HTTP/1.1\r\n\r\n")
server.read_available()
server.send(b"HTTP/1.1 200 OK\r\n\r\nbalance: 42")
client.read_available()
plain_psk = read_recorded_resumption(wire, lab.ticket_key)
print("ServerHello extensions:", observe_connection(wire).server_hello.extension_types)
print("the attacker reads:", plain_psk.client_data, plain_psk.server_data)

# %%
check(client.is_resumed() and not plain_psk.key_share, "resumed with psk_ke: no key_share, no (EC)DHE")
check(all(plain_psk.secrets[label] == dict(client.keylog)[label] for label in plain_psk.secrets),
      "every secret the attacker derives matches the session's")
check(plain_psk.client_data == b"GET /account HTTP/1.1\r\n\r\n" and plain_psk.server_data.endswith(b"balance: 42"),
      "the attacker reads the resumed connection")
client.close()
server.close()

# %% [markdown]
# Nothing warned anyone. The server's priority *added* `+PSK`, the plain PSK key exchange, and no
# (EC)DHE-PSK one (`+DHE-PSK`, `+ECDHE-PSK`), so `psk_ke` is the only PSK mode it can resume with.
# The client listed `psk_dhe_ke` too; rather than a full handshake with ECDHE, the server resumes with
# `psk_ke`, the client accepts what the server picks, and `gnutls_session_is_resumed` says "resumed"
# either way. A default GnuTLS TLS 1.3 client against such a server:

# %%
silent = psk_ke_resumption()
print("client's psk_key_exchange_modes:", silent.client_modes, "| resumption:", silent.attempt)
check(1 in silent.client_modes and silent.attempt.resumed and not silent.attempt.key_share,
      "the client offered psk_dhe_ke; the +PSK server resumed with psk_ke (no key_share): no forward secrecy, "
      "and no error or warning on either side")

# %% [markdown]
# ### Resuming as someone else
# The ticket on the wire is a bearer credential that needs its secret: a client resumes with the
# ticket *and* the resumption master secret (for the PSK binder). An eavesdropper has only the
# ticket. The holder of the ticket key opens the ticket and has both: it takes its own session data
# as a template, puts in the recorded ticket and the secrets from inside it, and the server resumes
# the *victim's* session.

# %%
recorded_ticket = seen13.client_hello.psk_identities[0].identity  # the victim's resumption, on the wire
inside_victim = decrypt_ticket(recorded_ticket, lab.ticket_key).fields
with lab.connect() as own:
    template = decode(own.session_data)  # the attacker's own session with the same server
eavesdropper = template.rebuilt(ticket=recorded_ticket)  # the ticket, with the attacker's own secrets
key_thief = template.rebuilt(ticket=recorded_ticket, resumption_master_secret=inside_victim["resumption_master_secret"],
                             ticket_age_add=inside_victim["age_add"], nonce=inside_victim["nonce"])
with lab.connect(resume=eavesdropper) as attempt:
    eavesdropper_resumed = attempt.resumed
with lab.connect(resume=key_thief) as attempt:
    thief_resumed = attempt.resumed
    presented = observe_connection(attempt.wire).client_hello.psk_identities[0].identity
check(not eavesdropper_resumed, "the recorded ticket alone does not resume")
check(thief_resumed and presented == recorded_ticket, "with the secrets from inside it, the victim's ticket resumes")

# %% [markdown]
# ### A key everyone knows: CVE-2020-13777
# GnuTLS 3.6.4 to 3.6.13 had a server bug: until its first key rotation, it encrypted and
# authenticated session tickets with **all-zero key material** instead of the key the application set
# (fixed in 3.6.14, GNUTLS-SA-2020-06-03). For the first rotation period of every server process,
# every ticket was under a key anyone could know. Today's libgnutls derives each period key from the
# master key, so the lab gives a server an all-zero *master* key: the observer's position is the same.
# What could someone who never touched the server do with recordings of that period?

# %%
zero_key = bytes(64)
public = public_ticket_key_exposure(zero_key)
print("TLS 1.2 connection that received a ticket:", public.tls12_data)
print("TLS 1.3 resumption, psk_dhe_ke (default server):", public.tls13_psk_dhe_data)
print("TLS 1.3 resumption, psk_ke (+PSK server):", public.tls13_psk_ke_data)
print("another server (another certificate, same known ticket key) resumed the client:", public.impersonated)

# %%
request, answer = b"GET /account HTTP/1.1\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\nbalance: 42"
check(public.tls12_data == (request, answer),
      "an observer with the all-zero key decrypts a recorded TLS 1.2 connection, both directions")
check(public.tls13_psk_ke_data == (request, answer), "and a TLS 1.3 resumption under psk_ke")
check(public.tls13_psk_dhe_data == (None, None), "but not a TLS 1.3 resumption under psk_dhe_ke")
check(public.impersonated, "and anyone can resume a client's TLS 1.3 session as the server, with no certificate of "
      "the server's: the authentication the full handshake gave is bypassed")

# %% [markdown]
# ### Exercise: which recordings does a stolen key open?
# Write `exposed(seen)`: given what a passive observer recorded of one connection (an
# `ObservedConnection`), will the server's ticket key, stolen later, decrypt it? The stub believes
# that only TLS 1.3 resumptions are at risk. The check records six live connections and finds the
# truth by trying, with the readers used above. (Useful: `seen.server_hello.selected_version`,
# `.psk_selected_identity`, `.extension_types`; `seen.new_session_tickets`;
# `seen.client_hello.session_ticket`.)

# %%
# EXERCISE: complete this function
def exposed(seen):
    return bool(seen.client_hello.psk_identities)


# %%
tracking.check_exposed(exposed)

# %% [markdown]
# What the holder of a GnuTLS ticket key reads, measured above:
#
# | recorded connection | what crosses the wire | the ticket key opens |
# |---|---|---|
# | TLS 1.2, full handshake (ECDHE) that received a ticket | the ticket, in the NewSessionTicket | **everything**: master secret → all keys |
# | TLS 1.2, resumption | the ticket, in the ClientHello | **everything** |
# | TLS 1.3, full handshake | no ticket in clear | nothing |
# | TLS 1.3, resumption with `psk_dhe_ke` (GnuTLS's default) | the ticket as PSK identity | the PSK and early secrets (0-RTT data), not the connection |
# | TLS 1.3, resumption with `psk_ke` (server allows plain PSK) | the ticket as PSK identity | **everything** |
#
# And with any recorded ticket, the key's holder resumes as that ticket's client, or acts as the server
# to that ticket's client. Keep ticket master keys out of backups, replace them (forced rotation) on a
# schedule, and prefer `psk_dhe_ke`.

# %%
for c in (conn, recorded, first13, resumed13):
    c.close()

# %% [markdown]
# ## Recap
#
# * A ticket is the server's session encrypted under a key derived, per period of 3 × lifetime, from
#   one 64-byte master key; the key name in clear says which period, not which client.
# * The server accepts the current and the previous period's key, so its own rotation never refuses a
#   live ticket; a forced new master key or a restart with another lifetime refuses them all.
# * Whoever holds the master key opens every ticket of every period: all of TLS 1.2, TLS 1.3 early
#   data and plain-PSK resumptions, and can resume as any recorded client.
# * A server that adds `+PSK` without (EC)DHE-PSK resumes with `psk_ke` silently: no forward secrecy.
# * A known key is a stolen key for everyone: GnuTLS 3.6.4-3.6.13 used an all-zero one until its first
#   rotation (CVE-2020-13777), which opened TLS 1.2 recordings and let anyone act as the server on a
#   TLS 1.3 resumption.
