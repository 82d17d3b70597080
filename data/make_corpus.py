"""Capture the session-blob corpus from the libgnutls this Python uses: ``data/corpus/``.

Run it once per GnuTLS version (see data/README.md for the exact commands)::

    python data/make_corpus.py                       # host libgnutls (3.7.9 on Debian 12)
    $GNUTLS_ENV 3.8 -- sh -c '...'    # 3.8.9 in a Debian 13 rootfs
    $GNUTLS_ENV newest -- sh -c '...' # 3.8.13 in a Debian sid rootfs

Each case makes a live in-process handshake with :class:`gnutls_lab.Lab`, saves the blob as
``gnutls-<version>_<case>.bin`` and records in ``manifest.json`` how it was made and what the
library's API said about that session (protocol, cipher suite, session ID, TLS 1.2 master secret,
peer certificate hash, the last NewSessionTicket's lifetime/age_add/nonce, the ticket master key).
Those are lab secrets of throw-away sessions, stored on purpose as test fixtures.
Entries of other versions already in the manifest are kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import sys

from gnutls_lab import Lab, library_info

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
MANIFEST = os.path.join(CORPUS, "manifest.json")
NEW_SESSION_TICKET = 4


def _last_nst(conn) -> dict | None:
    """lifetime / age_add / nonce / ticket of the last NewSessionTicket the client received."""
    bodies = [m.body for m in conn.transcript if m.sender == "server" and m.type == NEW_SESSION_TICKET]
    if not bodies:
        return None
    body = bodies[-1]
    if conn.protocol == "TLS1.2":  # RFC 5077: u32 lifetime hint, u16 ticket
        (lifetime, size) = struct.unpack_from(">IH", body)
        return {"lifetime": lifetime, "ticket": body[6 : 6 + size].hex()}
    lifetime, age_add, nonce_size = struct.unpack_from(">IIB", body)
    nonce = body[9 : 9 + nonce_size]
    (size,) = struct.unpack_from(">H", body, 9 + nonce_size)
    ticket = body[11 + nonce_size : 11 + nonce_size + size]
    return {"lifetime": lifetime, "age_add": age_add, "nonce": nonce.hex(), "ticket": ticket.hex()}


def _facts(session, conn, lab, side: str) -> dict:
    facts = {
        "protocol": conn.protocol,
        "cipher_suite": conn.cipher_suite,
        "entity": side,
        "auth_type": lab.auth,
        "resumed": conn.resumed,
        "session_id": session.session_id().hex(),
        "peer_certificates_sha256": [hashlib.sha256(c).hexdigest() for c in session.peer_certificates()],
    }
    if conn.protocol == "TLS1.2":
        facts["master_secret"] = session.master_secret().hex()
    if side == "client":
        nst = _last_nst(conn)
        if nst:
            facts["last_new_session_ticket"] = nst
    if lab.tickets:
        facts["ticket_key"] = lab.ticket_key.hex()
    return facts


def capture() -> dict[str, tuple[bytes, dict]]:
    """case name -> (blob, manifest entry)."""
    cases: dict[str, tuple[bytes, dict]] = {}

    def add(name: str, data, how: str, facts: dict) -> None:
        cases[name] = (bytes(data), {"how": how, **facts})

    def client_and_server(prefix: str, lab: Lab, how: str, server_too: bool = True, resume=None):
        conn = lab.connect(resume=resume)
        data = conn.session_data  # reads the TLS 1.3 tickets first, so the transcript has them
        add(f"{prefix}_client", data, how + "; conn.session_data (client get_data2)",
            _facts(conn.client, conn, lab, "client"))
        if server_too:
            add(f"{prefix}_server", conn.server.get_data(), how + "; conn.server.get_data() (server get_data2)",
                _facts(conn.server, conn, lab, "server"))
        return conn, data

    lab13 = Lab("1.3", extra_tickets=1)
    first, data13 = client_and_server("tls13", lab13, "Lab('1.3', extra_tickets=1).connect()")
    ticket13 = first.session_data.data
    add("tls13_ticket_envelope", bytes.fromhex(_last_nst(first)["ticket"]),
        "the PSK identity of the last NewSessionTicket of case tls13_client (raw server ticket)",
        {"kind": "ticket", "protocol": "TLS1.3", "ticket_key": lab13.ticket_key.hex(), "of_case": "tls13_client"})
    client_and_server("tls13_resumed", lab13, "same lab, connect(resume=<tls13_client blob>)",
                      server_too=False, resume=ticket13)
    client_and_server("tls13_psk", Lab("1.3", "psk"), "Lab('1.3', 'psk').connect()", server_too=False)
    quiet = Lab("1.3", auto_tickets=False)
    client_and_server("tls13_dummy", quiet, "Lab('1.3', auto_tickets=False).connect(): no ticket sent, "
                      "so get_data2 returns the dummy", server_too=False)

    lab12 = Lab("1.2")
    conn12, _ = client_and_server("tls12_ticket", lab12, "Lab('1.2').connect()")
    nst12 = _last_nst(conn12)
    add("tls12_ticket_envelope", bytes.fromhex(nst12["ticket"]), "the SessionTicket of case tls12_ticket_client",
        {"kind": "ticket", "protocol": "TLS1.2", "ticket_key": lab12.ticket_key.hex(), "of_case": "tls12_ticket_client"})
    client_and_server("tls12_sessionid", Lab("1.2", tickets=False, session_cache=True),
                      "Lab('1.2', tickets=False, session_cache=True).connect()")
    client_and_server("tls12_psk", Lab("1.2", "psk"), "Lab('1.2', 'psk').connect()")
    client_and_server("tls12_anon", Lab("1.2", "anon"), "Lab('1.2', 'anon').connect()")
    # Finite-field DH fills the DH quartet of the auth info (ECDHE leaves it empty).
    ffdhe_only = "NORMAL:-VERS-ALL:+VERS-TLS1.2:-GROUP-ALL:+GROUP-FFDHE2048"
    client_and_server("tls12_anon_dh", Lab(ffdhe_only, "anon"), f"Lab({ffdhe_only!r}, 'anon').connect()")
    dhe_rsa = "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+DHE-RSA"
    client_and_server("tls12_dhe_rsa", Lab(dhe_rsa, certificate="rsa"),
                      f"Lab({dhe_rsa!r}, certificate='rsa').connect()", server_too=False)
    return cases


def main() -> int:
    version = library_info().version
    os.makedirs(CORPUS, exist_ok=True)
    manifest = {}
    if os.path.exists(MANIFEST):
        with open(MANIFEST) as handle:
            manifest = {k: v for k, v in json.load(handle).items() if v.get("gnutls_version") != version}
    for case, (blob, entry) in capture().items():
        name = f"gnutls-{version}_{case}.bin"
        with open(os.path.join(CORPUS, name), "wb") as handle:
            handle.write(blob)
        manifest[name] = {"gnutls_version": version, "case": case, "kind": "session", "size": len(blob), **entry}
        print(f"{name}: {len(blob)} bytes")
    with open(MANIFEST, "w") as handle:
        json.dump(dict(sorted(manifest.items())), handle, indent=2)
        handle.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
