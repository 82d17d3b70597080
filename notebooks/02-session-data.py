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
# # 02 · `gnutls_session_get_data2`, as the man page tells it
#
# A client that wants to resume keeps the bytes `gnutls_session_get_data2()` returns and gives them
# to the next session with `gnutls_session_set_data()`. The man page promises, in short:
#
# 1. call it after a successful handshake;
# 2. under TLS 1.3 resumption needs a **session ticket** from the server. Check
#    `GNUTLS_SFLAGS_SESSION_TICKET`; without a ticket the function **waits about one round trip**,
#    then returns **dummy data that cannot resume**;
# 3. each call after a ticket returns the data of the **last** ticket received.
#
# We check each promise against the library itself, one step at a time. Instead of `Lab.connect()`
# (which runs the whole handshake) we build the two sessions ourselves and drive them.

# %%
from gnutls_lab import ClientSession, GnuTLSError, Lab, ServerSession, library_info, memory_pair, pump
from gnutls_lab.decode import decode
from gnutls_lab.formats.wire import NewSessionTicketTLS13
from gnutls_lab.views import text_report
from gnutls_lab.widgets import blob_inspector

lab = Lab("1.3", auto_tickets=False)  # this server sends tickets only when we tell it to
client_end, server_end = memory_pair([])
server = ServerSession(lab.server_credentials, lab.priority, endpoint=server_end,
                       ticket_key=lab.ticket_key, auto_tickets=False)
client = ClientSession(lab.client_credentials, lab.priority, endpoint=client_end, server_name=lab.server_name)

# %% [markdown]
# ## Before the handshake: an error … mostly
# First a surprise. *Before the first handshake step*, this TLS-1.3-only client does not fail: the
# session's version already reads TLS 1.3 (taken from the priority string), no ticket has arrived,
# so the library takes the "no ticket yet" path and returns the dummy.

# %%
too_early = client.get_data()
print(too_early)
assert too_early.dummy

# %% [markdown]
# Once the handshake is under way (the ClientHello is out, nothing has come back), the call fails
# with the library's error, which gnutls-lab raises as a `GnuTLSError`:

# %%
assert client.handshake_step() is False  # ClientHello sent; the client now waits for the server
try:
    client.get_data()
    error = None
except GnuTLSError as exc:
    error = exc
print(repr(error))
assert isinstance(error, GnuTLSError) and error.code < 0
print("code", error.code, "=", error.name)

# %% [markdown]
# ## After the handshake, before a ticket: the dummy, after a wait
# We finish the handshake. This server has sent no ticket, so `GNUTLS_SFLAGS_SESSION_TICKET` is
# not among the client's flags.

# %%
pump(client, server)
print("client flags:", client.flags)
assert client.handshake_done and client.protocol == "TLS1.3"
assert not client.ticket_received  # GNUTLS_SFLAGS_SESSION_TICKET (0x80) is not set

data = client.get_data()
data

# %% [markdown]
# The call *succeeded*: no error, four bytes `00 00 00 00`. gnutls-lab marks them `dummy` and says why.
# The wait is visible too: libgnutls asked the transport's pull-timeout callback to wait
# `ertt + 60` ms for a ticket (`waited_ms`; in-process the measured round trip `ertt` is 0, and
# our in-memory transport answers at once instead of sleeping).

# %%
print("dummy:", data.dummy, "| bytes:", data.hex(" "), "| waited_ms:", data.waited_ms)
assert data.dummy and data.data == b"\x00\x00\x00\x00"
assert data.waited_ms and data.waited_ms[0] >= 60
print(data.reason)

# %% [markdown]
# A TLS 1.3 **server** never receives tickets, so its `get_data2` is always the dummy.

# %%
server_data = server.get_data()
assert server_data.dummy
server_data

# %% [markdown]
# ## After tickets: the last one wins
# The server now sends three NewSessionTickets (`gnutls_session_ticket_send`). The client notices
# only when it reads: each `get_data2` call reads at most one waiting record.

# %%
server.send_tickets(3)
assert not client.ticket_received  # sent, but not yet read

after_one = client.get_data()  # reads one record: the first ticket
assert client.ticket_received and not after_one.dummy
print("flags now:", client.flags)

client.read_available()  # process the other two
after_three = client.get_data()
ticket_messages = [m for m in client.transcript if m.name == "NEW SESSION TICKET"]
assert len(ticket_messages) == 3 and after_three != after_one

# the ticket inside the blob is the one carried by the LAST NewSessionTicket message
last_ticket = NewSessionTicketTLS13.parse(ticket_messages[-1].body).session_ticket
first_ticket = NewSessionTicketTLS13.parse(ticket_messages[0].body).session_ticket
assert decode(after_three).ticket == last_ticket and decode(after_one).ticket == first_ticket
print(len(after_three), "bytes; ticket", last_ticket[:8].hex(), "… = the third NewSessionTicket")

# %% [markdown]
# `Lab.connect()` does the same bookkeeping for you: `conn.tickets` is one blob per ticket, in
# arrival order, and `conn.session_data` is the last.

# %%
lab3 = Lab("1.3", extra_tickets=1)  # 2 tickets with the handshake + 1 sent afterwards
conn = lab3.connect()
print(conn.tickets)
assert len(conn.tickets) == 3 and len({t.data for t in conn.tickets}) == 3
assert conn.session_data == conn.tickets[-1] == conn.client.get_data()

# %% [markdown]
# ## The blob, field by field
# `gnutls_lab.decode` names every byte (the layout is `lib/session_pack.c` of GnuTLS). Select a
# field in the list: its bytes light up in the dump. The **resumption master secret**, from which
# every ticket's PSK is derived, is redacted until you press *reveal secrets*.

# %%
decoded = decode(conn.session_data)
assert decoded.gnutls_version == library_info().version  # the magic number names the library
assert decoded.entity == "CLIENT" and decoded.protocol == "TLS1.3"
assert decoded.tls13.lifetime == 21600  # the server's default ticket lifetime, 6 hours
start, end = decoded.ranges["tls13.ticket"]  # where the ticket sits: a length prefix, then its bytes
assert conn.session_data.data[end - len(decoded.ticket):end] == decoded.ticket
print(f"the ticket: bytes {start}-{end} of {len(decoded.data)}, {len(decoded.ticket)} bytes after its length prefix")

inspector = blob_inspector(decoded)
inspector.select("tls13.ticket.key_name")
inspector

# %%
print(text_report(decoded))

# %% [markdown]
# Redacted by default, revealed on request. The same switch exists in every view
# (`to_dict(show_secrets=True)`, `text_report(..., show_secrets=True)`, the inspector's toggle):

# %%
secret = decoded.tls13.resumption_master_secret
assert decoded.to_dict()["tls13"]["resumption_master_secret"] == "redacted"
assert secret.hex() not in text_report(decoded)
assert decoded.to_dict(show_secrets=True)["tls13"]["resumption_master_secret"] == secret.hex()
print(f"resumption_master_secret: {len(secret)} bytes, {secret[:4].hex()}… (revealed on request)")

# %% [markdown]
# ## `gnutls_session_set_data` and a resumed handshake

# %%
again = lab3.connect(resume=conn.session_data)
print(again.explain())
assert again.resumed

# the dummy is accepted by set_data, and does nothing: a full handshake follows
no_luck = lab.connect(resume=data)
print(no_luck.explain())
assert not no_luck.resumed

# %% [markdown]
# Under TLS 1.2 the data is the packed session itself, and a resumed session hands back **the very
# bytes it was given**:

# %%
lab12 = Lab("1.2")
first12 = lab12.connect()
again12 = lab12.connect(resume=first12.session_data)
assert again12.resumed and again12.client.get_data() == first12.session_data

# %% [markdown]
# ## Exercises
# Each check cell runs your function against fresh live handshakes and tells you whether it is
# right. (Instructors: reference solutions are in `notebooks/solutions/`.)
#
# **1.** Write `is_resumable(data)`: `True` only for data that can resume a session. `data` may be a
# `SessionData` or plain `bytes`.

# %%
# EXERCISE: complete this function
def is_resumable(data):
    return len(data) > 0


# %%
from gnutls_lab import exercises

exercises.check_is_resumable(is_resumable)

# %% [markdown]
# **2.** Write `ticket_lifetime(data)`: the ticket lifetime in seconds, read from TLS 1.3 session
# data. (The check uses servers with random lifetimes.)

# %%
# EXERCISE: complete this function
def ticket_lifetime(data):
    return 21600


# %%
exercises.check_ticket_lifetime(ticket_lifetime)

# %%
for c in (client, server, conn, again, no_luck, first12, again12):
    c.close()
