"""What the tamper lab lets a participant change in a session blob, how each change is built, and what it
refuses to try.

:data:`TAMPER_FIELDS` lists the changes; :func:`tampered_blob` builds one from the text a participant typed
(a :class:`~gnutls_lab.errors.UsageError` when it does not fit); :func:`refusal` says why a change must not
be offered to the loaded libgnutls (a known crash, :func:`gnutls_lab.analysis.known_crash`), or None.
"""

from __future__ import annotations

from ..analysis import known_crash
from ..errors import UsageError

__all__ = ["TAMPER_FIELDS", "field_present", "current_value", "value_hint", "tampered_blob", "refusal"]

#: What the tamper lab lets you change: key -> (label, kind, what the field is for). ``number`` fields
#: go through :meth:`DecodedSession.rebuilt` (lengths recomputed), ``overwrite`` fields get the new
#: number written over their own bytes (the rest of the blob, its layout included, stays as it was),
#: ``flip`` fields XOR bit 0 of the byte at the given index, ``version`` rewrites the 4-byte magic,
#: ``truncate`` keeps the first N bytes.
TAMPER_FIELDS = {
    "lifetime": ("lifetime (the client's copy)", "number",
                 "the client keeps it to know when to stop offering the ticket; the server has its own copy "
                 "inside the encrypted ticket"),
    "ticket_age_add": ("ticket_age_add", "number",
                       "the client adds it to the ticket's age it reports (obfuscated_ticket_age); the server "
                       "subtracts its own copy and checks the age"),
    "expire_time": ("expire_time", "number", "the session's lifetime as the client stored it"),
    "timestamp": ("timestamp", "number", "when the session began, in the client's copy"),
    "security_parameters.pversion": ("the protocol version (pversion)", "overwrite",
                                     "GnuTLS's own numbers: 4 = TLS 1.2, 5 = TLS 1.3; the rest of the blob keeps "
                                     "the layout of the version it was written for"),
    "gnutls_version": ("magic: the GnuTLS release that wrote the blob", "version",
                       "set_data reads it first and refuses any release but its own"),
    "tls13.ticket.mac": ("one bit of the ticket's MAC", "flip",
                         "the HMAC that authenticates the ticket for the server; value = byte index"),
    "tls13.ticket.encrypted_state": ("one bit of the ticket's encrypted state", "flip",
                                     "the server's session, AES-encrypted for itself; value = byte index"),
    "tls13.resumption_master_secret": ("one bit of the resumption master secret", "flip",
                                       "the client derives the PSK binder from it; value = byte index"),
    "truncate": ("the blob's length (truncate it)", "truncate", "keep only the first N bytes"),
}

_NUMBERS = {"lifetime": lambda s: s.tls13.lifetime, "ticket_age_add": lambda s: s.tls13.ticket_age_add,
            "expire_time": lambda s: s.expire_time, "timestamp": lambda s: s.timestamp}


def _field(session, key: str):
    return next(f for f in session.fields if f.path == key)


def field_present(session, key: str) -> bool:
    """Whether ``session`` (a decoded blob) has the field ``key`` to change."""
    kind = TAMPER_FIELDS[key][1]
    if kind in ("flip", "overwrite"):
        return key in session.ranges
    if key in ("lifetime", "ticket_age_add"):
        return session.tls13 is not None
    return True


def current_value(session, key: str) -> str:
    """The value a change of ``key`` starts from, as the value box shows it."""
    kind = TAMPER_FIELDS[key][1]
    if kind == "flip":
        return "0"
    if kind == "truncate":
        return str(len(session.data) // 2)
    if kind == "version":
        return str(session.gnutls_version)
    if kind == "overwrite":
        return str(int(_field(session, key).value))
    return str(_NUMBERS[key](session))


def value_hint(session, key: str) -> str:
    """What the value box takes for ``key``, in a few words."""
    return {"number": "a whole number", "overwrite": "a whole number",
            "flip": "the index of the byte whose lowest bit flips", "version": "a release such as 3.6.16",
            "truncate": f"a length below {len(session.data)}"}[TAMPER_FIELDS[key][1]]


def tampered_blob(session, key: str, text: str) -> bytes:
    """``session``'s bytes with ``key`` changed as ``text`` says (a :class:`UsageError` when it does not fit)."""
    label, kind, _ = TAMPER_FIELDS[key]
    text = text.strip()
    if kind == "version":
        return session.rebuilt(gnutls_version=text)
    try:
        number = int(text, 0)
    except ValueError:
        raise UsageError(f"{label}: {text!r} is not a whole number") from None
    if kind == "flip":  # an index into the value, after any length prefix
        field = _field(session, key)
        size = len(field.value) if isinstance(field.value, bytes) else field.end - field.start
        if not 0 <= number < size:
            raise UsageError(f"{label}: the value has {size} bytes; {number} is outside it")
        return session.flipped(key, field.end - field.start - size + number)
    if kind == "overwrite":
        start, end = session.ranges[key]
        if not 0 <= number < 256 ** (end - start):
            raise UsageError(f"{label}: {number} does not fit in its {end - start} bytes")
        return session.data[:start] + number.to_bytes(end - start, "big") + session.data[end:]
    if kind == "truncate":
        if not 0 <= number < len(session.data):
            raise UsageError(f"keep 0 to {len(session.data) - 1} bytes, not {number}")
        return session.data[:number]
    return session.rebuilt(**{key: number})


def refusal(key: str, version: tuple, *, psk_credentials: bool = False) -> str | None:
    """Why the tamper lab will not offer a change of ``key`` to libgnutls ``version`` (a tuple such as
    ``(3, 8, 11)``), or None: a release known to crash on it (:func:`gnutls_lab.analysis.known_crash`).
    This is the one place the widget decides it; the sentence is what the participant reads."""
    reason = known_crash(key, version, psk_credentials=psk_credentials)
    if reason is None:
        return None
    return f"not tried on GnuTLS {'.'.join(str(part) for part in tuple(version)[:3])}: {reason}"
