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
# # 02 · `gnutls_session_get_data2`, as the man page tells it

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
#
# **What you will learn**
#
# * what `gnutls_session_get_data2` returns before, during and after a handshake, and when it is the
#   4-byte dummy that cannot resume;
# * that each call reads at most one waiting ticket, and that the last ticket wins;
# * what is inside the blob, byte by byte, with its secrets redacted until you ask;
# * how `gnutls_session_set_data` resumes, under TLS 1.3 and TLS 1.2.

# %%
from course.checks import check
from gnutls_lab import ClientSession, GnuTLSError, Lab, library_info, memory_pair, pump, ServerSession
from gnutls_lab.formats import NewSessionTicketTLS13
from gnutls_lab.analysis import decode
from gnutls_lab.faces import blob_inspector, session_to_dict, text_report

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
check(too_early.dummy, "before the first handshake step, a TLS 1.3 client gets the 4-byte dummy")

# %% [markdown]
# Once the handshake is under way (the ClientHello is out, nothing has come back), the call fails
# with the library's error, which gnutls-lab raises as a `GnuTLSError`:

# %%
check(client.handshake_step() is False, "one step: the ClientHello is out, the client waits for the server")
try:
    client.get_data()
    error = None
except GnuTLSError as exc:
    error = exc
print(repr(error))
check(isinstance(error, GnuTLSError) and error.code < 0,
      f"now get_data2 fails, even with TLS 1.3: {error.name if error else None} ({error.code if error else ''})")

# %% [markdown]
# Does the dummy need a TLS-1.3-*only* client? Ask two more clients, before their first step and
# after it: one that allows TLS 1.2 and 1.3 (libgnutls's `NORMAL`), and one with TLS 1.2 only.

# %%
before_handshake = {}
for name, priority in (("TLS 1.2 and 1.3", "NORMAL"), ("TLS 1.2 only", Lab("1.2").priority)):
    other_client = ClientSession(lab.client_credentials, priority, endpoint=memory_pair([])[0],
                                 server_name=lab.server_name)
    answers = []
    for moment in ("before the first step", "after the ClientHello"):
        if moment == "after the ClientHello":
            other_client.handshake_step()
        try:
            answers.append("the dummy" if other_client.get_data().dummy else "real data")
        except GnuTLSError as exc:
            answers.append(exc.name)
    before_handshake[name] = answers
    other_client.close()
    print(f"{name:16} before the first step: {answers[0]:24} after the ClientHello: {answers[1]}")
check(before_handshake["TLS 1.2 and 1.3"][0] == "the dummy", "with TLS 1.3 enabled at all, the dummy comes first")
check(before_handshake["TLS 1.2 only"][0] == error.name, "with TLS 1.2 only, get_data2 fails from the start")
check(all(answers[1] == error.name for answers in before_handshake.values()),
      "once the ClientHello is out, it fails for every client until the handshake ends")

# %% [markdown]
# ## After the handshake, before a ticket: the dummy, after a wait
# We finish the handshake. This server has sent no ticket, so `GNUTLS_SFLAGS_SESSION_TICKET` is
# not among the client's flags.

# %%
pump(client, server)
print("client flags:", client.flags)
check(client.handshake_done and client.protocol == "TLS1.3", "the TLS 1.3 handshake is done")
check(not client.ticket_received, "GNUTLS_SFLAGS_SESSION_TICKET (0x80) is not among the client's flags")

data = client.get_data()
data

# %% [markdown]
# The call *succeeded*: no error, four bytes `00 00 00 00`. gnutls-lab marks them `dummy` and says why.
# The wait is visible too: libgnutls asked the transport's pull-timeout callback to wait
# `ertt + 60` ms for a ticket (`waited_ms`; in-process the measured round trip `ertt` is 0, and
# our in-memory transport answers at once instead of sleeping).

# %%
check(data.dummy and data.data == b"\x00\x00\x00\x00", "get_data2 succeeded with the dummy: 00 00 00 00")
check(data.waited_ms and data.waited_ms[0] >= 60, f"after asking the transport to wait {data.waited_ms[0]} ms")
print(data.reason)

# %% [markdown]
# A TLS 1.3 **server** never receives tickets, so its `get_data2` is always the dummy.

# %%
server_data = server.get_data()
check(server_data.dummy, "a TLS 1.3 server's get_data2 is the dummy")

# %% [markdown]
# ## After tickets: the last one wins
# The server now sends three NewSessionTickets (`gnutls_session_ticket_send`). The client notices
# only when it reads: each `get_data2` call reads at most one waiting record.

# %%
server.send_tickets(3)
check(not client.ticket_received, "three tickets sent, none read yet")

after_one = client.get_data()  # reads one record: the first ticket
check(client.ticket_received and not after_one.dummy, "one get_data2 call reads one ticket: real data now")

client.read_available()  # process the other two
after_three = client.get_data()
ticket_messages = [m for m in client.transcript if m.name == "NEW SESSION TICKET"]
last_ticket = NewSessionTicketTLS13.parse(ticket_messages[-1].body).session_ticket
first_ticket = NewSessionTicketTLS13.parse(ticket_messages[0].body).session_ticket
check(len(ticket_messages) == 3 and after_three != after_one, "after reading the rest, the data changed")
check(decode(after_one).ticket == first_ticket, "the first call's blob holds the first ticket")
check(decode(after_three).ticket == last_ticket, "the last call's blob holds the last ticket: the last one wins")

# %% [markdown]
# `Lab.connect()` does the same bookkeeping for you: `conn.tickets` is one blob per ticket, in
# arrival order, and `conn.session_data` is the last.

# %%
lab3 = Lab("1.3", extra_tickets=1)  # 2 tickets with the handshake + 1 sent afterwards
conn = lab3.connect()
check(len(conn.tickets) == 3 and len({t.data for t in conn.tickets}) == 3, "three tickets, three different blobs")
check(conn.session_data == conn.tickets[-1] == conn.client.get_data(), "session_data is the last, as get_data2 says")

# %% [markdown]
# ## The blob, field by field
# `gnutls_lab.analysis.decode` names every byte: it parses the blob with the construct schema in
# `gnutls_lab/formats/_session_blob.py` (the layout is `lib/session_pack.c` of GnuTLS; `docs/formats.md`
# explains every field). Select a field in the list: its bytes light up in the dump. The **resumption master secret**, from which
# every ticket's PSK is derived, is redacted until you press *reveal secrets*.

# %%
decoded = decode(conn.session_data)
start, end = decoded.ranges["tls13.ticket"]  # where the ticket sits: a length prefix, then its bytes
check(decoded.gnutls_version == library_info().version, f"the magic number names the library: {decoded.gnutls_version}")
check(decoded.entity == "CLIENT" and decoded.protocol == "TLS1.3", "a TLS 1.3 client's session")
check(decoded.tls13.lifetime == 21600, "the ticket lifetime is the server's default, 21600 s (6 hours)")
check(conn.session_data.data[end - len(decoded.ticket):end] == decoded.ticket,
      f"the ticket: bytes [{start}:{end}], {end - start - len(decoded.ticket)} bytes of length, then "
      f"{len(decoded.ticket)} of ticket")

inspector = blob_inspector(decoded)
inspector.select("tls13.ticket.key_name")
inspector

# %%
print(text_report(decoded))

# %% [markdown]
# Redacted by default, revealed on request. The same switch exists in every view
# (`session_to_dict(decoded, show_secrets=True)`, `text_report(..., show_secrets=True)`, the inspector's toggle):

# %%
secret = decoded.tls13.resumption_master_secret
check(session_to_dict(decoded)["tls13"]["resumption_master_secret"] == "redacted" and secret.hex() not in text_report(decoded),
      "the resumption master secret is redacted by default")
check(session_to_dict(decoded, show_secrets=True)["tls13"]["resumption_master_secret"] == secret.hex(),
      f"and revealed on request ({len(secret)} bytes)")

# %% [markdown]
# ## `gnutls_session_set_data` and a resumed handshake

# %%
again = lab3.connect(resume=conn.session_data)
check(again.resumed, "set_data with the last ticket's data: resumed")
no_luck = lab.connect(resume=data)
check(not no_luck.resumed, "set_data accepts the dummy and does nothing: a full handshake")

# %% [markdown]
# Under TLS 1.2 the data is the packed session itself, and a resumed session hands back **the very
# bytes it was given**:

# %%
lab12 = Lab("1.2")
first12 = lab12.connect()
again12 = lab12.connect(resume=first12.session_data)
check(again12.resumed and again12.client.get_data() == first12.session_data,
      "TLS 1.2: resumed, and get_data2 gives back the very bytes set_data was given")

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
from course import exercises

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

# %% [markdown]
# ## Side by side: OpenSSL's `sess_id -text` and gnutls-lab's report
# gnutls-lab's `text_report` borrows OpenSSL's labels. Do the two libraries mean the same thing by
# them? We ask **one real OpenSSL server** on 127.0.0.1 for a TLS 1.3 session twice:
#
# - `openssl s_client -sess_out FILE` saves OpenSSL's session. Tickets come *after* the handshake, so
#   `openssl_client_session` runs it with `-ign_eof` and lets the server end the connection
#   (`s_server -www` answers one HTTP request, then closes);
# - gnutls-lab's TCP client (`gnutls_lab.network.connect`) saves the `gnutls_session_get_data2` blob.
#
# This section needs the `openssl` program; without it, the first cell below says how to install it
# and the section is skipped (the rest of the notebook runs).

# %%
import hashlib
import os
import ssl
import tempfile

from gnutls_lab import LabCertificate, UsageError
from gnutls_lab.formats import ClientHello
from gnutls_lab.network import (
    connect,
    ExternalServer,
    openssl_client_session,
    openssl_session_certificate,
    openssl_session_fields,
    openssl_session_text,
    require_program,
)

workdir = tempfile.TemporaryDirectory(prefix="gnutls-lab-02-")
try:
    require_program("openssl")
    have_openssl = True
except UsageError as missing:  # the rest of the notebook runs without it
    have_openssl = False
    print(f"This section is skipped: {missing} (with conda: `conda install -c conda-forge openssl`), "
          "then run it again.")

if have_openssl:
    cert_file, key_file = LabCertificate().write_files(workdir.name)
    openssl_file = os.path.join(workdir.name, "openssl-session.pem")

    with ExternalServer("openssl", cert_file, key_file, "1.3", extra_args=("-www",)) as openssl_server:
        s_client_output = openssl_client_session("127.0.0.1", openssl_server.port, "1.3", openssl_file,
                                                 send=b"GET / HTTP/1.0\r\n\r\n")
        with connect("127.0.0.1", openssl_server.port, "1.3") as remote:
            gnutls_data = remote.session_data
            hello = ClientHello.parse(next(m for m in remote.transcript if m.name == "CLIENT HELLO").body)
            remote_tickets = [NewSessionTicketTLS13.parse(m.body) for m in remote.transcript
                              if m.name == "NEW SESSION TICKET"]
        print(openssl_server)

    openssl_text = openssl_session_text(openssl_file)
    gnutls_decoded = decode(gnutls_data)
    print("openssl sess_id -in openssl-session.pem -noout -text\n")
    print(openssl_text)
    print("gnutls_lab.faces.text_report(decode(blob))  (secrets redacted)\n")
    print(text_report(gnutls_decoded))

# %% [markdown]
# **A secret in clear.** OpenSSL prints the `Resumption PSK` in hex: anyone who reads it (and the
# ticket above it) can resume this session. It is harmless here (a lab server that is already gone),
# but it is why gnutls-lab redacts its own secret unless you ask. We add no secret of our own to
# this output, and the table below names OpenSSL's only by its length.
#
# Which ticket did each keep? The server sent two tickets to each client, and each client kept the
# **last** one (s_client rewrites its file at every ticket; `get_data2` returns the
# last ticket, as seen above).

# %%
if have_openssl:
    openssl_fields = openssl_session_fields(openssl_text)
    openssl_ticket = openssl_fields["TLS session ticket"]
    last_printed_by_s_client = openssl_session_fields(
        s_client_output.rsplit("Post-Handshake New Session Ticket arrived:", 1)[1].split("\n---", 1)[0])
    tls13 = gnutls_decoded.tls13

    check(s_client_output.count("Post-Handshake New Session Ticket arrived:") == len(remote_tickets) == 2,
          "the server sent two tickets to each client")
    check(openssl_ticket == last_printed_by_s_client["TLS session ticket"], "OpenSSL kept the last one it printed")
    check(tls13.ticket == remote_tickets[-1].session_ticket != remote_tickets[0].session_ticket
          and tls13.nonce == remote_tickets[-1].session_ticket_nonce, "GnuTLS kept the last one too, with its nonce")

# %% [markdown]
# ## The fields both describe
# Computed from the two texts above (OpenSSL's read back with `openssl_session_fields`) and from
# the decoded blob; every row is checked, one line each, in the next cell.

# %%
if have_openssl:
    openssl_psk = bytes.fromhex(openssl_fields["Resumption PSK"])
    openssl_certificate = openssl_session_certificate(openssl_file)  # openssl sess_id -cert
    gnutls_certificate = gnutls_decoded.peer_certificates[0]
    gnutls_version = tuple(int(part) for part in library_info().version.split(".")[:3])
    rows = [
        ("", "OpenSSL sess_id -text", "gnutls-lab text_report"),
        ("Protocol", openssl_fields["Protocol"], gnutls_decoded.protocol),
        ("Cipher", openssl_fields["Cipher"], gnutls_decoded.cipher_suite),
        ("Session-ID", f"{len(bytes.fromhex(openssl_fields['Session-ID']))} bytes = SHA-256 of the ticket",
         f"{len(gnutls_decoded.session_id)} bytes = ClientHello legacy_session_id"),
        ("ticket lifetime hint (s)", openssl_fields["TLS session ticket lifetime hint"].split()[0], tls13.lifetime),
        ("ticket", f"{len(openssl_ticket)} bytes, starts {openssl_ticket[:4].hex()}…",
         f"{len(tls13.ticket)} bytes, starts {tls13.ticket[:4].hex()}…"),
        ("resumption secret", f"PSK of this ticket, {len(openssl_psk)} bytes, in clear",
         f"resumption master secret, {len(tls13.resumption_master_secret)} bytes, redacted; + nonce"),
        ("Start Time (Unix s)", openssl_fields["Start Time"], gnutls_decoded.timestamp),
        ("Timeout (s)", openssl_fields["Timeout"].split()[0], gnutls_decoded.expire_time),
        ("Max Early Data", openssl_fields["Max Early Data"], tls13.max_early_data_size),
        ("server certificate", f"{len(openssl_certificate)} bytes DER (sess_id -cert)",
         f"{len(gnutls_certificate)} bytes DER"),
    ]
    for concept, in_openssl, in_gnutls in rows:
        print(f"{concept:<25} {in_openssl!s:<40} {in_gnutls}")

# %% [markdown]
# What the rows say:
#
# - **Same server, same choices**: TLS 1.3 (`TLSv1.3` / `TLS1.3`), the same cipher suite, the same
#   lifetime hint, and tickets of the same length that begin with the same 16 bytes: OpenSSL's
#   ticket starts with the name of the server's ticket key, then an IV, the encrypted session and an
#   HMAC (`ssl/statem/statem_srvr.c:construct_stateless_ticket`).
# - **Session-ID: same label, different meaning.** TLS 1.3 has no session IDs. OpenSSL files the
#   session under the SHA-256 of its ticket; GnuTLS keeps the random `legacy_session_id` its
#   ClientHello sent (RFC 8446 §4.1.2, middlebox compatibility).
# - **The secret, at two stages.** OpenSSL derives this ticket's PSK as soon as the ticket arrives,
#   `HKDF-Expand-Label(resumption master secret, "resumption", nonce)`, and keeps only the PSK
#   (`ssl/statem/statem_clnt.c:tls_process_new_session_ticket`), so its text has no nonce. GnuTLS
#   keeps the resumption master secret and the nonce and derives the PSK when it resumes. Both are
#   48 bytes, the output of SHA-384, the suite's hash.
# - **Start Time**: OpenSSL resets it when a ticket arrives (same function), so it is the second
#   the ticket came; GnuTLS keeps the handshake's time and the ticket's arrival separately.
# - **Timeout is each client's own default**, not the server's hint: 7200 s in OpenSSL, 21600 s in
#   GnuTLS (`gnutls_db_set_cache_expiration`). (Against a server whose hint is 3600 s OpenSSL still
#   says 7200: `tests/test_peers.py` checks it.)
# - **Max Early Data**: this server's tickets carry no `early_data` extension. OpenSSL says 0; a GnuTLS
#   client keeps its own default, `0xFFFFFFFF` up to GnuTLS 3.8.8 and 0 from 3.8.9
#   (`lib/state.c:gnutls_init`).
# - **Both keep the server's certificate**, the very same bytes (OpenSSL's text does not show it;
#   `sess_id -cert` does).

# %%
if have_openssl:
    with open(cert_file) as pem:
        server_certificate = ssl.PEM_cert_to_DER_cert(pem.read())
    check(openssl_fields["Protocol"] == "TLSv1.3" and gnutls_decoded.protocol == "TLS1.3"
          and openssl_fields["Cipher"] == gnutls_decoded.cipher_suite, "same protocol, same cipher suite")
    check(openssl_fields["Extended master secret"] == "no" and gnutls_decoded.extended_master_secret is None,
          "extended master secret: OpenSSL says no, GnuTLS stores nothing (TLS 1.3 does not have it)")
    check(bytes.fromhex(openssl_fields["Session-ID"]) == hashlib.sha256(openssl_ticket).digest(),
          "OpenSSL's Session-ID is the SHA-256 of its ticket")
    check(gnutls_decoded.session_id == hello.session_id and len(hello.session_id) == 32,
          "GnuTLS's is the 32-byte legacy_session_id its ClientHello sent")
    check(int(openssl_fields["TLS session ticket lifetime hint"].split()[0]) == tls13.lifetime,
          f"the same lifetime hint: {tls13.lifetime} s")
    check(len(openssl_ticket) == len(tls13.ticket) and openssl_ticket[:16] == tls13.ticket[:16]
          and openssl_ticket[16:32] != tls13.ticket[16:32],
          "tickets of one length, one key name (16 bytes), then each its own IV")
    check(gnutls_decoded.prf == "SHA384"
          and len(openssl_psk) == len(tls13.resumption_master_secret) == hashlib.sha384().digest_size,
          "the PSK (OpenSSL) and the resumption master secret (GnuTLS) are both 48 bytes: SHA-384")
    check("nonce" not in openssl_text.lower(), "OpenSSL keeps no nonce: it derived the PSK already")
    check(abs(int(openssl_fields["Start Time"]) - tls13.arrival_time.timestamp()) <= 2
          and abs(gnutls_decoded.timestamp - tls13.arrival_time.timestamp()) <= 2,
          "both start times are within 2 s of the ticket's arrival")
    check(openssl_fields["Timeout"] == "7200 (sec)" and gnutls_decoded.expire_time == 21600,
          "each Timeout is the client's own default: 7200 s in OpenSSL, 21600 s in GnuTLS")
    check(openssl_fields["Max Early Data"] == "0"
          and all(e.type != "early_data" for ticket in remote_tickets for e in ticket.extensions),
          "no early_data in the tickets: OpenSSL says 0")
    check(tls13.max_early_data_size == (0xFFFFFFFF if gnutls_version < (3, 8, 9) else 0),
          f"GnuTLS keeps its own default: {tls13.max_early_data_size:#x} on {library_info().version}")
    check(openssl_certificate == gnutls_certificate == server_certificate, "both keep the server's certificate")

# %% [markdown]
# ## What only one of them shows
# Every label of OpenSSL's text that the table above did not use, and every field of the decoded
# GnuTLS blob that it did not use (fields that are empty in this session left out):

# %%
if have_openssl:
    used_openssl = {"Protocol", "Cipher", "Session-ID", "TLS session ticket lifetime hint", "TLS session ticket",
                    "Resumption PSK", "Start Time", "Timeout", "Max Early Data"}
    used_gnutls = {"protocol", "cipher_suite", "session_id", "peer_certificates", "timestamp", "expire_time",
                   "tls13.lifetime", "tls13.ticket", "tls13.resumption_master_secret", "tls13.nonce",
                   "tls13.max_early_data_size"}
    restated = {"dummy", "size", "gnutls_version", "cipher_suite_id", "timestamp_utc", "expires_at_utc",
                "tls13.arrival_time_raw"}  # other spellings of fields listed already
    gnutls_dict = session_to_dict(gnutls_decoded)
    gnutls_fields = {**{k: v for k, v in gnutls_dict.items() if k != "tls13"},
                     **{f"tls13.{k}": v for k, v in gnutls_dict["tls13"].items()}}
    only_openssl = {label: value for label, value in openssl_fields.items() if label not in used_openssl}
    only_gnutls = {name: value for name, value in gnutls_fields.items()
                   if name not in used_gnutls | restated and value not in (None, "", [], [""], {})
                   and not isinstance(value, dict)}
    print("only in OpenSSL's text:", only_openssl)
    print("only in the GnuTLS blob:", sorted(only_gnutls))
    check(only_openssl["Verify return code"].startswith("18 "), "OpenSSL keeps its verification verdict: 18, self-signed")
    check({"tls13.ticket_age_add", "tls13.arrival_time", "prf", "entity", "magic"} <= set(only_gnutls),
          "GnuTLS keeps the ticket's age_add, its arrival time, the PRF, the entity and the magic")

# %% [markdown]
# OpenSSL keeps its **certificate verification result** (18: self-signed), prints empty slots for
# PSK/SRP identities, and says `Extended master secret: no`, which TLS 1.3 does not have (its key
# schedule always binds the handshake); GnuTLS stores nothing for it under TLS 1.3.
# GnuTLS shows **the ticket's age_add and its arrival time**, to the nanosecond (the two make the
# obfuscated ticket age of RFC 8446 §4.2.11), the PRF, the entity and certificate types, and names
# its own version in the magic number. OpenSSL keeps an age_add too (`tick_age_add`, set in the same
# `tls_process_new_session_ticket`) but its text does not print it: `openssl asn1parse -in FILE`
# shows every field of its file.

# %%
workdir.cleanup()

# %% [markdown]
# ## Recap
#
# * `gnutls_session_get_data2` returns the 4-byte dummy, not an error, whenever a TLS 1.3 client has
#   no ticket: before its first handshake step and after the handshake (after waiting about one round
#   trip). From the ClientHello to the end of the handshake it fails, with TLS 1.3 or without.
# * Each call reads at most one waiting record; the blob holds the last ticket read.
# * The blob is `lib/session_pack.c`'s packed session: its magic names the GnuTLS release, the TLS 1.3
#   part holds the ticket, its lifetime, age_add, nonce and the resumption master secret.
# * `set_data` with real data resumes; with the dummy it does nothing. Under TLS 1.2 a resumed session
#   hands back the very bytes it was given.
