"""No repr, str, JSON or HTML view of a decoded session or decrypted ticket shows a secret unless asked.

Secrets: the master secret (TLS <= 1.2), the resumption master secret (TLS 1.3), the SRP password,
and the same values inside decrypted ticket states. Checked for every corpus session (TLS 1.2 and
1.3, certificate, anon, PSK, client and server) of GnuTLS 3.7.9 and 3.8.9.
"""

from __future__ import annotations

import json

import pytest

import gnutls_lab.faces._views as views
from blob_fixtures import corpus, session_corpus
from gnutls_lab.analysis._decode import DecodedSession, decode
from gnutls_lab.faces import session_to_dict, ticket_state_to_dict

SESSIONS = session_corpus(dummy=False)


def _secrets(session: DecodedSession) -> list[bytes]:
    found = [session.master_secret, session.tls13.resumption_master_secret if session.tls13 else None]
    return [bytes(s) for s in found if s]


def _leaks(text: str, secrets: list[bytes]) -> list[str]:
    return [s.hex() for s in secrets if s.hex() in text.lower() or repr(s)[2:-1] in text]


def _displays(obj) -> list[str]:
    shown = [repr(obj), str(obj)]
    html = getattr(obj, "_repr_html_", None)
    if callable(html):
        shown.append(html() or "")
    return shown


def _session_displays(session: DecodedSession) -> list[str]:
    shown = _displays(session)
    for name in dir(type(session)):
        if name.startswith("_") or name == "master_secret":
            continue  # .master_secret is asking for the value (it is still a redacting Secret)
        value = getattr(session, name)
        if callable(value):
            continue
        shown += _displays(value)
    shown += [json.dumps(session_to_dict(session)), repr(session_to_dict(session)), repr(session.tree), str(session.fields)]
    shown += [views.text_report(session), views.hexdump(session), views.hexdump(session, full=True),
              views.html_view(session)]
    shown += [views.describe_field(session, field) for field in session.fields or ()]
    return shown


@pytest.mark.parametrize("name,entry,blob", SESSIONS, ids=[n for n, _, _ in SESSIONS])
def test_no_display_of_a_decoded_session_shows_a_secret(name, entry, blob):
    for session in (decode(blob), decode(blob, annotate=False)):
        secrets = _secrets(session)
        assert secrets, f"{name}: every corpus session holds a master or resumption secret"
        for text in _session_displays(session):
            assert not _leaks(text, secrets), f"{name}: a display shows a secret: {text[:200]}"
        # asked for, they are shown
        assert any(_leaks(json.dumps(session_to_dict(session, show_secrets=True)), secrets) for _ in [0])
        assert _leaks(views.text_report(session, show_secrets=True), secrets)


def test_the_secret_values_are_still_the_bytes():
    session = decode(SESSIONS[0][2])
    secret = session.master_secret or session.tls13.resumption_master_secret
    assert isinstance(secret, bytes) and secret == bytes(secret) and len(secret.hex()) == 2 * len(secret)
    assert "redacted" in repr(secret) and "redacted" in f"{secret}"


TICKETS = [(n, e, b) for n, e, b in corpus() if e["kind"] == "session" and e.get("ticket_key") and len(b) > 4
           and decode(b).ticket is not None and decode(b).entity == "CLIENT"]


@pytest.mark.parametrize("name,entry,blob", TICKETS, ids=[n for n, _, _ in TICKETS])
def test_no_display_of_a_decrypted_ticket_shows_a_secret(name, entry, blob):
    session = decode(blob)
    decrypted = session.decrypt_ticket(bytes.fromhex(entry["ticket_key"]))
    state = decode(decrypted.state)
    secrets = _secrets(session) + _secrets(state) + [bytes.fromhex(entry["ticket_key"])]
    shown = [repr(decrypted), str(decrypted), repr(decrypted.fields), repr(ticket_state_to_dict(decrypted)),
             views.ticket_report(decrypted)] + _session_displays(state)
    for text in shown:
        assert not _leaks(text, secrets), f"{name}: a display shows a secret: {text[:200]}"
    assert _leaks(repr(ticket_state_to_dict(decrypted, show_secrets=True)), secrets)


def test_both_protocols_and_ticket_kinds_are_covered():
    protocols = {decode(b).protocol for _, _, b in SESSIONS}
    auths = {decode(b).auth_type for _, _, b in SESSIONS}
    assert protocols == {"TLS1.2", "TLS1.3"} and {"CERTIFICATE", "ANON", "PSK"} <= auths
    assert {decode(b).protocol for _, _, b in TICKETS} == {"TLS1.2", "TLS1.3"}
