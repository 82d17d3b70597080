"""The tamper lab: change one field of a live session blob, rebuild it, offer it to the lab server, and
see what happened, and who did it: whether the client offered the stored session (read from its
ClientHello) and whether the server took it (its ServerHello), as a passive observer reads the wire.

What may be changed and how is :mod:`gnutls_lab.faces._tamper_policy`; :func:`tamper_outcome` runs one
attempt against a :class:`~gnutls_lab.Lab` and names the verdict.
"""

from __future__ import annotations

import html
import time

import ipywidgets as widgets

from ..analysis import DecodedSession, attempt_resumption, decode
from ..binding import library_info
from ..errors import BlobFormatError, GnuTLSError, GnuTLSLabError, UsageError
from ._plots import OKABE_ITO
from ._tamper_policy import TAMPER_FIELDS, current_value, field_present, refusal, tampered_blob, value_hint
from ._widget_parts import SERVER_COLOUR

__all__ = ["TamperLab", "tamper_lab", "tamper_outcome", "who_did_what", "refusal_html", "TAMPER_FIELDS"]


def who_did_what(attempt, tls13: bool = True) -> str:
    """An :class:`~gnutls_lab.analysis.Attempt` (read off the wire) of a TLS 1.3 (or 1.2) client in words,
    with the Wireshark fields: whether the client offered what it stored, and whether the server took it."""
    if tls13:
        said = ("the client offered the ticket (pre_shared_key in its ClientHello)" if attempt.offered
                else "the client did not offer the ticket (no pre_shared_key in its ClientHello)")
        taken = ("the server took it (pre_shared_key in its ServerHello)" if attempt.accepted
                 else "the server did not take it (no pre_shared_key in its ServerHello)")
    else:
        said = ("the client offered its ticket or session ID (session_ticket, session_id in its ClientHello)"
                if attempt.offered else "the client offered nothing to resume (empty session_ticket and session ID)")
        taken = "the server resumed" if attempt.accepted else "the server did not resume (a full handshake)"
    return f"{said}; {taken}" if attempt.offered else said


def _protocol_of(blob: bytes) -> str:
    """The protocol the session data was made with ("" when it does not decode)."""
    try:
        return decode(blob).protocol or ""
    except GnuTLSLabError:
        return ""


def _client_copy(blob: bytes) -> str:
    """The client's own copy of the lifetime and how old its ticket is, when the blob holds them."""
    try:
        stored = decode(blob).tls13
    except GnuTLSLabError:
        return ""
    if stored is None or stored.arrival_time is None:
        return ""
    age = time.time() - stored.arrival_time.timestamp()
    return f"; its copy of the lifetime is {stored.lifetime} s and the ticket arrived {age:.1f} s ago (wall clock)"


def tamper_outcome(lab, blob: bytes) -> tuple:
    """Offer ``blob`` to ``lab`` (a :class:`~gnutls_lab.Lab`) and say what happened, as
    ``(verdict, detail)``: ``"refused by gnutls-lab"`` (the preflight walk, before libgnutls sees the
    bytes), ``"refused by libgnutls"`` (``gnutls_session_set_data`` returned an error),
    ``"handshake failed"`` (the detail names the side that ended it), or the handshake completed, as the
    wire shows it (:func:`gnutls_lab.analysis.attempt_resumption`, :func:`who_did_what`): ``"resumed"``,
    ``"not offered by the client"`` (set_data took the bytes but the client's ClientHello presented nothing
    to resume) or ``"full handshake"`` (the client offered it and the server did not take it)."""
    try:
        attempt = attempt_resumption(lab, blob)  # the verdict reads the wire
    except BlobFormatError as exc:
        return "refused by gnutls-lab", str(exc)
    except GnuTLSError as exc:
        if exc.function == "gnutls_session_set_data":
            return "refused by libgnutls", f"{exc.name} from gnutls_session_set_data"
        side = next((who for who in ("server", "client") if f"({who})" in (exc.function or "")), None)
        ended = f"the {side} ended the handshake" if side else "the handshake ended"
        return "handshake failed", f"{ended}: {exc.name} from {exc.function or 'the handshake'}"
    said = who_did_what(attempt, _protocol_of(blob) != "TLS1.2")
    if attempt.resumed:
        return "resumed", f"set_data accepted the bytes; {said}"
    if not attempt.offered:
        return "not offered by the client", f"set_data accepted the bytes; {said}{_client_copy(blob)}"
    return "full handshake", f"set_data accepted the bytes; {said}"


_VERDICT_COLOURS = {"resumed": OKABE_ITO["bluish_green"], "full handshake": OKABE_ITO["orange"],
                    "not offered by the client": OKABE_ITO["sky_blue"],
                    "refused by libgnutls": SERVER_COLOUR, "handshake failed": SERVER_COLOUR,
                    "refused by gnutls-lab": OKABE_ITO["reddish_purple"], "cannot build": "#666666"}


def refusal_html(reason: str | None) -> str:
    """The note the tamper lab shows under a field it will not try (empty when it tries it)."""
    if reason is None:
        return ""
    return (f"<p class='gl-refusal' style='margin:2px 0;color:{_VERDICT_COLOURS['refused by gnutls-lab']}'>"
            f"<b>refused by gnutls-lab</b>: {html.escape(reason)}.</p>")


class TamperLab(widgets.VBox):
    """Change one field of a live session blob, rebuild it, and offer it to the lab server.

    ``field`` (a dropdown of :data:`TAMPER_FIELDS` present in the blob), ``value`` (a text box,
    filled with the field's current value when the field changes), ``rebuild`` (the button; or call
    :meth:`try_it`). After each attempt: ``outcome`` (a verdict of :func:`tamper_outcome`, or
    ``"cannot build"``), ``detail``, ``blob`` (the bytes offered) and ``history`` (every attempt).
    """

    def __init__(self, lab=None, data=None):
        from ..sessions import Lab

        self.lab = lab if lab is not None else Lab("1.3")
        if data is None:
            with self.lab.connect() as conn:
                data = conn.session_data
        self.original = data if isinstance(data, DecodedSession) else decode(data)
        if self.original.dummy:
            raise UsageError("the dummy has no fields to tamper with: give the tamper lab real session data")
        options = [(label, key) for key, (label, _, _) in TAMPER_FIELDS.items() if field_present(self.original, key)]
        self.field = widgets.Dropdown(options=options, value=options[0][1], description="field",
                                      style={"description_width": "initial"}, layout=widgets.Layout(width="34em"))
        self.value = widgets.Text(description="new value", style={"description_width": "initial"},
                                  layout=widgets.Layout(width="34em"))
        self.about = widgets.HTML()
        self.rebuild = widgets.Button(description="rebuild and resume", button_style="primary",
                                      layout=widgets.Layout(width="14em"))
        self.verdict = widgets.HTML()
        self.attempts = widgets.HTML()
        self.outcome = self.detail = self.blob = None
        self.history: list = []
        self.field.observe(lambda _: self._show_field(), names="value")
        self.rebuild.on_click(lambda _: self.try_it())
        super().__init__([self.field, self.about, widgets.HBox([self.value, self.rebuild]), self.verdict, self.attempts])
        self.add_class("gl-tamper-lab")
        self._show_field()

    def current(self) -> str:
        """The selected field's value in the original blob, as the value box shows it."""
        return current_value(self.original, self.field.value)

    def refused(self) -> str | None:
        """Why the selected change is not tried with the loaded libgnutls (:func:`refusal`), or None."""
        return refusal(self.field.value, library_info().version_tuple, psk_credentials=self.lab.auth == "psk")

    def _show_field(self) -> None:
        key = self.field.value
        about = TAMPER_FIELDS[key][2]
        self.about.value = (f"<p style='margin:2px 0'>{html.escape(about)}. <i>Value: "
                            f"{html.escape(value_hint(self.original, key))}; now {html.escape(self.current())}.</i></p>"
                            + refusal_html(self.refused()))
        self.value.value = self.current()

    def built(self) -> bytes:
        """The blob with the selected change (a :class:`UsageError` when the value does not fit)."""
        return tampered_blob(self.original, self.field.value, self.value.value)

    def try_it(self) -> str:
        """Rebuild with the current field and value, offer the bytes to the lab server, show the verdict."""
        crash = self.refused()
        try:
            blob = self.built()
        except (UsageError, ValueError) as exc:  # the value does not fit the field
            blob, outcome, detail = None, "cannot build", str(exc)
        else:
            if crash is not None:  # a libgnutls with a known crash on this change: never try it
                outcome, detail = "refused by gnutls-lab", crash
            else:
                outcome, detail = tamper_outcome(self.lab, blob)
        self.outcome, self.detail, self.blob = outcome, detail, blob
        label = TAMPER_FIELDS[self.field.value][0]
        self.history.append((label, self.value.value, outcome))
        changed = ""
        if blob is not None and len(blob) == len(self.original.data):
            diff = [i for i, (a, b) in enumerate(zip(blob, self.original.data)) if a != b]
            changed = f" {len(diff)} byte(s) changed" + (f", from offset {diff[0]}" if diff else "") + "."
        elif blob is not None:
            changed = f" {len(blob)} bytes instead of {len(self.original.data)}."
        colour = _VERDICT_COLOURS[outcome]
        self.verdict.value = (f"<p><b style='color:{colour}'>{html.escape(outcome)}</b>: {html.escape(detail)}."
                              f"{html.escape(changed)}</p>")
        rows = "".join(f"<tr><td>{html.escape(f)}</td><td><code>{html.escape(v[:24])}</code></td>"
                       f"<td style='color:{_VERDICT_COLOURS[o]}'>{html.escape(o)}</td></tr>"
                       for f, v, o in self.history[-8:])
        self.attempts.value = (f"<table style='font-size:12px'><tr><th>field</th><th>value</th><th>what happened</th>"
                               f"</tr>{rows}</table>")
        return outcome


def tamper_lab(lab=None, data=None) -> TamperLab:
    """The interactive tamper lab over ``data`` (default: a fresh ticket from ``lab``, default a TLS 1.3
    :class:`~gnutls_lab.Lab`): pick a field, type a value, rebuild, and see what libgnutls does."""
    return TamperLab(lab, data)
