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
# # 01 · A live handshake, message by message

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
# A TLS client and a TLS server, both the real libgnutls, run in this Python process and talk over an
# in-memory pipe. Two taps record what happens:
#
# * the **hook transcript**: `gnutls_handshake_set_hook_function` hands us every handshake message,
#   decrypted, in both directions (`conn.transcript`);
# * the **wire tap**: every byte the two sides write, exactly what a passive observer on the network
#   would capture (`conn.wire`).
#
# Comparing the two shows what TLS hides, and what it does not.
#
# **What you will learn**
#
# * the messages of a TLS 1.3 and a TLS 1.2 handshake, who sends each, and which are encrypted;
# * what every byte of a ClientHello is for, and what a passive observer reads in clear;
# * where the session tickets come from, and what a resumed handshake leaves out;
# * how to open the same connections in Wireshark.

# %%
from course.checks import check
from gnutls_lab import Lab, observe_connection
from gnutls_lab.analysis import decode
from gnutls_lab.faces import handshake_stepper, sequence_diagram, split_records

lab = Lab("1.3")  # a server (fresh ECDSA certificate, ticket key) and a client, in this process
conn = lab.connect()
conn

# %%
names = [m.name for m in conn.transcript]
check(conn.protocol == "TLS1.3" and not conn.resumed, "a full TLS 1.3 handshake")
check(names == ["CLIENT HELLO", "SERVER HELLO", "ENCRYPTED EXTENSIONS", "CERTIFICATE",
                "CERTIFICATE VERIFY", "FINISHED", "FINISHED"], "seven messages: " + ", ".join(names))

# %% [markdown]
# Seven messages, one round trip: the client says hello with a key share, the server answers with
# its own, and everything after the ServerHello is encrypted. Where are the session tickets? The
# server sent two NewSessionTickets with its Finished, but the client only *processes* them when it
# reads from the connection after the handshake. Reading them (`conn.tickets`) adds them to the
# transcript:

# %%
tickets = conn.tickets
names = [m.name for m in conn.transcript]
check(len(tickets) == 2 and names[-2:] == ["NEW SESSION TICKET", "NEW SESSION TICKET"],
      "reading them adds two NewSessionTickets to the end of the transcript")

# %% [markdown]
# ## Step through it
# Each step shows who sent the message, its type, and its bytes with the fields named after
# Wireshark's display filters (`tls.handshake.random`, `tls.handshake.session_id` ...). The colour
# beside each field in the table is the colour of its bytes in the dump below it, and for the
# hellos and tickets a last column says why the field is there. Switch to **wire records** to step
# through what actually crossed the pipe.

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
check(len(in_clear) == 2, "two handshake records in clear: the ClientHello and the ServerHello")
check(sum(1 for _, record in records if record[0] == 23) >= 5,
      "the rest are application_data records: EncryptedExtensions to Finished, the tickets")

seen = observe_connection(conn.wire)
seen

# %% [markdown]
# The observer reads the server name (SNI) in clear, but it cannot see the tickets: in TLS 1.3 a
# NewSessionTicket is an encrypted record like any other.

# %%
check(seen.client_hello.server_name == "gnutls-lab.test", "the observer reads the server name: gnutls-lab.test")
check(seen.new_session_tickets == () and not seen.resumed, "but no ticket, and it sees a full handshake")

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
check(conn12.protocol == "TLS1.2" and names12 == [
    "CLIENT HELLO", "SERVER HELLO", "CERTIFICATE", "SERVER KEY EXCHANGE", "SERVER HELLO DONE",
    "CLIENT KEY EXCHANGE", "FINISHED", "NEW SESSION TICKET", "FINISHED"],
    "TLS 1.2: nine messages, the NewSessionTicket before the server's Finished")
sequence_diagram(conn12)

# %%
seen12 = observe_connection(conn12.wire)
ticket_on_the_wire = seen12.new_session_tickets[0].ticket
ticket_in_the_blob = decode(conn12.session_data).ticket
check(ticket_on_the_wire == ticket_in_the_blob,
      f"the {len(ticket_on_the_wire)}-byte ticket in clear on the wire is the one the client keeps "
      f"({ticket_on_the_wire[:8].hex()}…)")

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
seen_again = observe_connection(resumed.wire)
check(resumed.resumed, "gnutls_session_is_resumed says the client resumed")
check("CERTIFICATE" not in resumed_names and "CERTIFICATE VERIFY" not in resumed_names,
      "no Certificate, no CertificateVerify: " + ", ".join(resumed_names))
check(seen_again.resumed, "the observer sees it too: the ServerHello's pre_shared_key gives it away")
check(seen_again.client_hello.psk_identities[0].identity == decode(conn.session_data).ticket,
      "the PSK identity on the wire is the ticket the client kept")
resumed

# %% [markdown]
# Step through the resumed handshake: the ClientHello now carries a `pre_shared_key` extension
# (the ticket, as a PSK identity, and a binder proving the client knows the resumption secret).

# %%
stepper = handshake_stepper(resumed)
stepper

# %% [markdown]
# ## Open it in Wireshark
# `gnutls_lab.write_pcapng(connections, path)` (or `conn.to_pcapng(path)` for one) writes lab
# connections as a pcapng capture file: one TCP stream on 127.0.0.1 per connection, synthetic TCP
# around the exact bytes of the wire tap, and the TLS secrets in a *Decryption Secrets Block*. Open
# the file in Wireshark (File → Open), type `tls` as display filter, and the encrypted messages
# (EncryptedExtensions, Certificate, Finished, the tickets) show decrypted, with no key log file to
# set up. TLS 1.3 secrets exist only where the lab records them: `Lab(..., keylog=True)`. From a
# shell: `gnutls-lab handshake --resume 1 --pcap handshakes.pcapng`.
#
# **The file holds the connections' secrets**, so it is created readable by you only (mode 0600).
# Before sharing a capture, `editcap --discard-all-secrets in.pcapng out.pcapng` strips them.

# %%
import os
import shutil
import subprocess
import tempfile

import gnutls_lab

wlab = Lab("1.3", keylog=True)  # records the secrets Wireshark needs
full_w = wlab.connect()
resumed_w = wlab.connect(resume=full_w.session_data)
capture_path = os.path.join(tempfile.mkdtemp(prefix="gnutls-lab-"), "handshakes.pcapng")
written = gnutls_lab.write_pcapng([full_w, resumed_w], capture_path)
print(f"open {capture_path} in Wireshark: {written['connections']} TCP streams, {written['packets']} packets, "
      f"{written['keylog_lines']} secrets embedded")
check(written["connections"] == 2 and os.stat(capture_path).st_mode & 0o777 == 0o600,
      "two connections written, to a file only you can read (it holds their secrets)")

# %% [markdown]
# ### Wireshark's view beside the observer's
# Where `tshark`, Wireshark's command-line twin, is installed, it reads the file with Wireshark's
# own TLS dissector. For the resumed handshake (TCP stream 1) it reports the same values as the
# observer, and, with the secrets, the messages the observer could not read.

# %%
observer_view = observe_connection(resumed_w.wire)
if shutil.which("tshark") is None:
    print("tshark is not installed here (apt-get install tshark), so only the observer's view is shown.")
    print(observer_view)
else:
    tshark_rows = subprocess.run(
        ["tshark", "-r", capture_path, "-Y", "tcp.stream == 1 && tls.handshake", "-T", "fields",
         "-E", "occurrence=a", "-E", "separator=/t", "-e", "tcp.srcport", "-e", "tls.handshake.type",
         "-e", "tls.handshake.session_id", "-e", "tls.handshake.extensions_server_name",
         "-e", "tls.handshake.extensions.psk.identity.selected"],
        capture_output=True, text=True, check=True).stdout.splitlines()
    client_hello = next(r.split("\t") for r in tshark_rows if r.split("\t")[1].startswith("1"))
    server_hello = next(r.split("\t") for r in tshark_rows if r.split("\t")[1].startswith("2"))
    beside = [
        ("ClientHello tls.handshake.session_id", observer_view.client_hello.session_id.hex(), client_hello[2]),
        ("ClientHello tls.handshake.extensions_server_name", observer_view.client_hello.server_name, client_hello[3]),
        ("ServerHello tls.handshake.session_id", observer_view.server_hello.session_id.hex(), server_hello[2]),
        ("ServerHello tls.handshake.extensions.psk.identity.selected",
         str(observer_view.server_hello.psk_selected_identity), server_hello[4]),
    ]
    for field, ours, theirs in beside:
        print(f"{field:58} observer {ours[:16]:16}  tshark {theirs[:16]}")
    check(all(ours == theirs for _, ours, theirs in beside), "Wireshark reads the same values as the observer")
    wireshark_types = {int(t) for r in tshark_rows for t in r.split("\t")[1].split(",")}
    observer_types = {t for _, t in observer_view.handshake_types}
    print("handshake types: observer", sorted(observer_types), "· tshark with the secrets", sorted(wireshark_types))
    check(observer_types == {1, 2} and {8, 20} <= wireshark_types,
          "with the secrets, Wireshark also reads EncryptedExtensions (8) and Finished (20)")

# %%
for c in (conn, conn12, resumed, full_w, resumed_w):
    c.close()

# %% [markdown]
# ## Recap
#
# * TLS 1.3: seven messages in one round trip; only the two hellos cross in clear, and the tickets
#   come encrypted after the handshake. TLS 1.2: two round trips, the certificate and the ticket in
#   clear.
# * Every ClientHello field has a reason (the stepper says it); the observer reads the server name,
#   the `legacy_session_id` and, when resuming, the ticket as PSK identity.
# * A resumed TLS 1.3 handshake skips the certificate; `gnutls_session_is_resumed` is the verdict,
#   and the ServerHello's `pre_shared_key` tells the observer.
