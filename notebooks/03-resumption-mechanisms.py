# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
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
# # 03 · Three ways to resume, expiry, tampering, and real bugs
#
# | mechanism | where the server keeps the session | what the client presents |
# |---|---|---|
# | TLS 1.2 **session ID** | in a server-side cache, keyed by the ID | the 32-byte session ID, in clear |
# | TLS 1.2 **session ticket** (RFC 5077) | nowhere: encrypted inside the ticket | the ticket, in clear |
# | TLS 1.3 **PSK** from a NewSessionTicket (RFC 8446 §4.6.1) | nowhere: encrypted inside the ticket | the ticket as a PSK identity, in clear, plus a binder |
#
# We run each one live and check the table.

# %%
from gnutls_lab import BlobFormatError, ClientSession, FakeClock, GnuTLSError, Lab, ServerSession, memory_pair, pump
from gnutls_lab.analysis.decode import decode
from gnutls_lab.analysis.observer import observe_connection
from course import exercises

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
    print(f"{name:20} resumed={again.resumed}  messages: full {len(first.transcript)}, resumed "
          f"{len(again.transcript)}  | {observe_connection(again.wire).resumption_evidence}")
    assert again.resumed

# %% [markdown]
# **Session ID.** The server stored the session in its cache (`store`) after the full handshake and
# found it again (`retrieve`) when the client offered the ID. The client's data holds no ticket.

# %%
print(by_id.cache.events)
assert [op for op, _, _ in by_id.cache.events] == ["store", "retrieve"]
blob_id = decode(first_id.session_data)
assert blob_id.ticket is None and len(blob_id.session_id) == 32
assert by_id.cache.events[0][1] == blob_id.session_id.hex()  # the cache key is the session ID
assert observe_connection(again_id.wire).client_hello.session_id == blob_id.session_id  # in clear

# %% [markdown]
# **TLS 1.2 ticket.** No cache: the ticket *is* the server's state, encrypted under its ticket key.
# It rides in the `session_ticket` extension, in clear, and no new ticket is issued on a successful
# ticket resumption.

# %%
blob_t12 = decode(first_t12.session_data)
hello = observe_connection(again_t12.wire).client_hello
assert hello.session_ticket == blob_t12.ticket  # the observer sees the same bytes again
assert [e.name for e in blob_t12.extensions if e.gid == 13], "the ticket is stored as hello extension 13"
assert again_t12.tickets == [] and "NEW SESSION TICKET" not in [m.name for m in again_t12.transcript]

# %% [markdown]
# **TLS 1.3 PSK.** The ticket sits in the blob's TLS 1.3 section with the resumption master secret;
# the ClientHello presents it as a `pre_shared_key` identity. Unlike TLS 1.2, the server sends fresh
# tickets on every resumption, so a client never has to reuse one.

# %%
blob_psk = decode(first_psk.session_data)
hello = observe_connection(again_psk.wire).client_hello
assert [psk.identity for psk in hello.psk_identities] == [blob_psk.ticket]
assert len(again_psk.tickets) == 2  # new tickets after a resumption

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
    drives_ticket_age = clock.drives_ticket_age

print("after 1 h:", one_hour_later.explain())
print("after 2 h 1 min:", too_late.explain())
assert one_hour_later.resumed and not too_late.resumed

# %% [markdown]
# *Who* refused depends on the GnuTLS version. The fake clock drives the server's expiry checks in
# every version; only from 3.8.1 does it also drive the client's ticket-age clock. On older versions
# the client still offers the stale ticket (an observer sees it) and the server refuses it; from 3.8.1
# the client drops it itself.

# %%
offered_on_the_wire = bool(observe_connection(too_late.wire).client_hello.psk_identities)
print(f"GnuTLS {gnutls_lab.library_info().version}: the client offered the expired ticket: {offered_on_the_wire}")
assert offered_on_the_wire == (not drives_ticket_age)

# %% [markdown]
# The TLS 1.2 session cache expires the same way (`gnutls_db_set_cache_expiration`).

# %%
with FakeClock() as clock:
    cached = Lab("1.2", tickets=False, session_cache=True, lifetime=600)
    data = cached.connect().session_data
    clock.advance(540)
    assert cached.connect(resume=data).resumed
    clock.advance(120)
    assert not cached.connect(resume=data).resumed

# %% [markdown]
# ## The tamper lab
# The decoder can change a field and rebuild the blob (`rebuilt(...)`, lengths recomputed) or flip one
# bit (`flipped(path, index)`). What does libgnutls do with the result? Each row is a live attempt.

# %%
lab = Lab("1.3")
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
outcome = {}
for what, blob in attempts.items():
    try:
        outcome[what] = "resumed" if lab.connect(resume=blob).resumed else "full handshake"
    except GnuTLSError as exc:
        outcome[what] = f"error {exc.name}" + (" in set_data" if exc.function == "gnutls_session_set_data" else "")
    except BlobFormatError:  # gnutls-lab's own check, before libgnutls sees the bytes
        outcome[what] = "refused before libgnutls"
    print(f"{what:42} → {outcome[what]}")

# %% [markdown]
# What the library told us:
#
# * Fields only the **client** reads (its copy of the lifetime, the timestamps) change nothing the
#   server checks: still resumed.
# * The **obfuscated ticket age** is checked, loosely: an hour off still fits in the 6-hour lifetime,
#   seven hours off does not.
# * The **ticket** is authenticated (HMAC-SHA1): one flipped bit and the server quietly falls back to a
#   full handshake. Not an error: that is what a server does with a ticket it cannot use.
# * The **resumption master secret** feeds the PSK binder: a wrong one makes the server abort the
#   handshake.
# * `set_data` itself refuses blobs of another release: it reads the magic first.
# * A blob of the running release that is **malformed** (truncated here) never reaches libgnutls:
#   gnutls-lab walks it first and refuses it, because `gnutls_session_set_data` of GnuTLS 3.7.9 and
#   3.8.9 crashes the whole process on some one-bit corruptions of its own blobs (a certificate
#   count, a DH length, an extension id). `tests/test_preflight.py` shows the crash.

# %%
assert outcome["unchanged"] == "resumed"
assert outcome["lifetime cut to 1 s (client's copy)"] == "resumed"
assert outcome["expire_time and timestamp rewritten"] == "resumed"
assert outcome["ticket_age_add shifted by 1 h"] == "resumed"
assert outcome["ticket_age_add shifted by 7 h"] == "full handshake"
assert outcome["one bit of the ticket's MAC"] == outcome["one bit of the encrypted state"] == "full handshake"
assert outcome["one bit of the resumption master secret"].startswith("error")
assert outcome["magic of another GnuTLS release"] == "error GNUTLS_E_DB_ERROR in set_data"
assert outcome["truncated to 100 bytes"] == "refused before libgnutls"

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
lab_nb = Lab("1.3")
client_end, server_end = memory_pair([])
server = ServerSession(lab_nb.server_credentials, lab_nb.priority, endpoint=server_end, ticket_key=lab_nb.ticket_key)
client = ClientSession(lab_nb.client_credentials, lab_nb.priority, endpoint=client_end,
                       flags=8)  # GNUTLS_NONBLOCK
pump(client, server)
assert client.handshake_done and not client.ticket_received  # the tickets are there, but unread

hasty = client.get_data()
print(hasty)
assert hasty.dummy and hasty.waited_ms == ()  # no wait at all, and the dummy
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
