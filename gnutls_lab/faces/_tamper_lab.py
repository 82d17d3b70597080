"""The tamper lab: change one field of a live session blob, rebuild it, offer it to the lab server, and
see what happened.

What may be changed and how is :mod:`gnutls_lab.faces._tamper_policy`; :func:`tamper_outcome` runs one
attempt against a :class:`~gnutls_lab.Lab` and names the verdict.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..analysis import DecodedSession, decode
from ..binding import library_info
from ..errors import BlobFormatError, GnuTLSError, UsageError
from ._plots import OKABE_ITO
from ._tamper_policy import TAMPER_FIELDS, current_value, field_present, refusal, tampered_blob, value_hint
from ._widget_parts import SERVER_COLOUR

__all__ = ["TamperLab", "tamper_lab", "tamper_outcome", "TAMPER_FIELDS"]


def tamper_outcome(lab, blob: bytes) -> tuple:
    """Offer ``blob`` to ``lab`` (a :class:`~gnutls_lab.Lab`) and say what happened, as
    ``(verdict, detail)``: ``"refused by gnutls-lab"`` (the preflight walk, before libgnutls sees the
    bytes), ``"refused by libgnutls"`` (``gnutls_session_set_data`` returned an error),
    ``"handshake failed"``, ``"resumed"`` or ``"full handshake"`` (accepted, but the server did not
    resume)."""
    try:
        conn = lab.connect(resume=blob)
    except BlobFormatError as exc:
        return "refused by gnutls-lab", str(exc)
    except GnuTLSError as exc:
        if exc.function == "gnutls_session_set_data":
            return "refused by libgnutls", f"{exc.name} from gnutls_session_set_data"
        return "handshake failed", f"{exc.name} from {exc.function or 'the handshake'}"
    with conn:
        if conn.resumed:
            return "resumed", "set_data accepted the bytes and the server resumed the session"
        return "full handshake", "set_data accepted the bytes; the server did not resume (a full handshake)"


_VERDICT_COLOURS = {"resumed": OKABE_ITO["bluish_green"], "full handshake": OKABE_ITO["orange"],
                    "refused by libgnutls": SERVER_COLOUR, "handshake failed": SERVER_COLOUR,
                    "refused by gnutls-lab": OKABE_ITO["reddish_purple"], "cannot build": "#666666"}


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

    def _show_field(self) -> None:
        key = self.field.value
        about = TAMPER_FIELDS[key][2]
        self.about.value = (f"<p style='margin:2px 0'>{html.escape(about)}. <i>Value: "
                            f"{html.escape(value_hint(self.original, key))}; now {html.escape(self.current())}.</i></p>")
        self.value.value = self.current()

    def built(self) -> bytes:
        """The blob with the selected change (a :class:`UsageError` when the value does not fit)."""
        return tampered_blob(self.original, self.field.value, self.value.value)

    def try_it(self) -> str:
        """Rebuild with the current field and value, offer the bytes to the lab server, show the verdict."""
        crash = refusal(self.field.value, library_info().version_tuple, psk_credentials=self.lab.auth == "psk")
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
