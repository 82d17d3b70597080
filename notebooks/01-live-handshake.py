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
# # 01 · A live handshake, message by message
#
# A TLS client and a TLS server, both the real libgnutls, run in this Python process and talk over an
# in-memory pipe. Two taps record what happens:
#
# * the **hook transcript**: `gnutls_handshake_set_hook_function` hands us every handshake message,
#   decrypted, in both directions (`conn.transcript`);
# * the **wire tap**: every byte the two sides write, exactly what a passive observer on the network
#   would capture (`conn.wire`).
#
# Comparing the two shows what TLS hides, and what it does not.

# %%
from gnutls_lab import Lab
from gnutls_lab.analysis.decode import decode
from gnutls_lab.analysis.observer import observe_connection
from gnutls_lab.faces.widgets import handshake_stepper, sequence_diagram, split_records

lab = Lab("1.3")  # a server (fresh ECDSA certificate, ticket key) and a client, in this process
conn = lab.connect()
conn

# %%
names = [m.name for m in conn.transcript]
print(names)
assert conn.protocol == "TLS1.3" and not conn.resumed
assert names == ["CLIENT HELLO", "SERVER HELLO", "ENCRYPTED EXTENSIONS", "CERTIFICATE",
                 "CERTIFICATE VERIFY", "FINISHED", "FINISHED"]

# %% [markdown]
# Seven messages, one round trip: the client says hello with a key share, the server answers with
# its own, and everything after the ServerHello is encrypted. Where are the session tickets? The
# server sent two NewSessionTickets with its Finished, but the client only *processes* them when it
# reads from the connection after the handshake. Reading them (`conn.tickets`) adds them to the
# transcript:

# %%
tickets = conn.tickets
names = [m.name for m in conn.transcript]
print(len(tickets), "tickets;", names[-3:])
assert len(tickets) == 2 and names[-2:] == ["NEW SESSION TICKET", "NEW SESSION TICKET"]

# %% [markdown]
# ## Step through it
# Each step shows who sent the message, its type, and its bytes with the fields named after
# Wireshark's display filters (`tls.handshake.random`, `tls.handshake.session_id` ...). Switch to
# **wire records** to step through what actually crossed the pipe.

# %%
handshake_stepper(conn)

# %% [markdown]
# ## What a passive observer sees
# The wire tap holds TLS records. Only the first two carry handshake messages in clear; a
# `change_cipher_spec` record follows for middlebox compatibility, and everything else is
# `application_data`, of which an observer learns only the sizes.

# %%
records = split_records(conn.wire)
print([(sender, record[0], len(record)) for sender, record in records])
in_clear = [record for _, record in records if record[0] == 22]
assert len(in_clear) == 2  # ClientHello and ServerHello
assert sum(1 for _, record in records if record[0] == 23) >= 5  # EE+Cert+CV+Fin, tickets, client Fin

seen = observe_connection(conn.wire)
seen

# %% [markdown]
# The observer reads the server name (SNI) in clear, but it cannot see the tickets: in TLS 1.3 a
# NewSessionTicket is an encrypted record like any other.

# %%
assert seen.client_hello.server_name == "gnutls-lab.test"
assert seen.new_session_tickets == () and not seen.resumed

# %% [markdown]
# ## The handshake as a sequence diagram
# Drawn from the hook transcript; a message the observer saw in clear is a solid arrow, an
# encrypted one dashed. Note the order: the client *processes* the tickets last, although the
# server sent them right after its Finished.

# %%
sequence_diagram(conn)

# %% [markdown]
# ## TLS 1.2 for comparison
# Two round trips, and the observer sees almost everything up to ChangeCipherSpec: the
# certificate, the key exchange, **and the session ticket**.

# %%
lab12 = Lab("1.2")
conn12 = lab12.connect()
names12 = [m.name for m in conn12.transcript]
print(names12)
assert conn12.protocol == "TLS1.2"
assert names12 == ["CLIENT HELLO", "SERVER HELLO", "CERTIFICATE", "SERVER KEY EXCHANGE", "SERVER HELLO DONE",
                   "CLIENT KEY EXCHANGE", "FINISHED", "NEW SESSION TICKET", "FINISHED"]
sequence_diagram(conn12)

# %%
seen12 = observe_connection(conn12.wire)
ticket_on_the_wire = seen12.new_session_tickets[0].ticket
ticket_in_the_blob = decode(conn12.session_data).ticket
print(f"{len(ticket_on_the_wire)}-byte ticket, in clear on the wire:", ticket_on_the_wire[:16].hex(), "…")
assert ticket_on_the_wire == ticket_in_the_blob  # what the client will present next time

# %% [markdown]
# That matters for privacy: the client presents the same ticket in its next ClientHello, so anyone
# on the path can link the two visits. Notebook 04 measures it.
#
# ## Resuming
# The client hands the session data it kept (`gnutls_session_get_data2`) to a new connection
# (`gnutls_session_set_data`). The server finds its own state inside the ticket and skips the
# certificate. Whether it resumed is the **library's** verdict, `gnutls_session_is_resumed`.

# %%
resumed = lab.connect(resume=conn.session_data)
resumed_names = [m.name for m in resumed.transcript]
print(resumed_names)
assert resumed.resumed  # gnutls_session_is_resumed() on the client
assert "CERTIFICATE" not in resumed_names and "CERTIFICATE VERIFY" not in resumed_names

seen_again = observe_connection(resumed.wire)
assert seen_again.resumed  # the ServerHello's pre_shared_key extension gives it away
assert seen_again.client_hello.psk_identities[0].identity == decode(conn.session_data).ticket
resumed

# %% [markdown]
# Step through the resumed handshake: the ClientHello now carries a `pre_shared_key` extension
# (the ticket, as a PSK identity, and a binder proving the client knows the resumption secret).

# %%
stepper = handshake_stepper(resumed)
stepper

# %%
for c in (conn, conn12, resumed):
    c.close()
