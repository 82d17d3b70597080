"""The blob inspector: the fields of a decoded ``gnutls_session_get_data2`` blob beside its hex dump.

Selecting a field highlights its bytes and describes it; secrets stay redacted until the toggle reveals
them. Fields, ranges and descriptions come from :mod:`gnutls_lab.faces._views` (over the construct parse
of :mod:`gnutls_lab.formats`), the dump is its :func:`~gnutls_lab.faces._views.hex_dump_html`.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..analysis import DecodedSession, decode, is_secret
from ..errors import UsageError
from ._views import byte_range, describe_field, field_extent, hex_dump_html, leaf_fields, text_report

__all__ = ["BlobInspector", "blob_inspector"]


def _secret_bytes(field) -> tuple:
    """The range of a secret's own bytes (its length prefix stays visible, as in views.hexdump)."""
    prefix = (field.end - field.start) - len(field.value) if isinstance(field.value, bytes) else 0
    return field.start + prefix, field.end


class BlobInspector(widgets.VBox):
    """Fields of a decoded session beside its hex dump. ``field_list`` selects a field (its bytes are
    highlighted in ``hexdump``, described in ``detail``); ``reveal`` shows the secrets; ``report``
    holds :func:`gnutls_lab.faces.text_report` under the same redaction."""

    def __init__(self, session: DecodedSession):
        if session.fields is None:
            session = decode(session.data)
        self.session = session
        self.leaves = leaf_fields(session)
        self.secret_ranges = [_secret_bytes(f) for f in self.leaves if is_secret(f.path)]
        self.summary = widgets.HTML(self._summary())
        self.reveal = widgets.ToggleButton(value=False, description="reveal secrets", icon="eye",
                                           tooltip="show master_secret / resumption_master_secret")
        self.field_list = widgets.Select(options=self._options(), rows=18,
                                         layout=widgets.Layout(width="48%"))
        self.hexdump = widgets.HTML(layout=widgets.Layout(width="52%"))
        self.detail = widgets.HTML()
        self.report = widgets.HTML()
        self.field_list.observe(lambda _: self._render(), names="value")
        self.reveal.observe(self._toggle, names="value")
        report = widgets.Accordion(children=[self.report], titles=("text report (text_report)",))
        super().__init__([self.summary, self.reveal, self.detail,
                          widgets.HBox([self.field_list, self.hexdump]), report])
        self.add_class("gl-blob-inspector")
        self._render()

    def _summary(self) -> str:
        s = self.session
        if s.dummy:
            return f"<p><b>Dummy session data</b> <code>00 00 00 00</code>: {html.escape(s.dummy_reason)}</p>"
        return (f"<p><b>{len(s.data)}-byte session</b> packed by GnuTLS {s.gnutls_version}: {s.entity} side,"
                f" {s.protocol}, {s.cipher_suite}. Select a field to highlight its bytes.</p>")

    def _options(self) -> list:
        return [(f"{byte_range(f.start, f.end)} {f.path} = {describe_field(self.session, f, self.reveal.value)}"[:100], f.path)
                for f in self.leaves]

    def _toggle(self, _change) -> None:
        selected = self.field_list.value
        self.field_list.options = self._options()
        self.field_list.value = selected
        self._render()

    def _render(self) -> None:
        shown = self.reveal.value
        field = next((f for f in self.leaves if f.path == self.field_list.value), None)
        spans = [(f.path, f.start, f.end) for f in self.leaves]
        masked = () if shown else self.secret_ranges
        self.hexdump.value = hex_dump_html(self.session.data, spans, highlight=(field.start, field.end) if field
                                           else None, masked=masked, max_height="460px",
                                           scroll_to=field.start if field else None)
        self.report.value = f"<pre style='font-size:11px'>{html.escape(text_report(self.session, shown))}</pre>"
        if field is None:
            self.detail.value = "<p>No field selected.</p>"
            return
        secret = is_secret(field.path)
        value = describe_field(self.session, field, shown)
        if secret and not shown:
            value += " (a secret: toggle “reveal secrets” to show it)"
        elif isinstance(field.value, bytes) and 16 < len(field.value) <= 64:
            value = field.value.hex(" ")
        rows = hex_dump_html(self.session.data, spans, highlight=(field.start, field.end), masked=masked,
                             window=(field.start, field.end))
        self.detail.value = (f"<p class='gl-field'><code>{html.escape(field.path)}</code>: "
                             f"{html.escape(field_extent(field))}{' <b>secret</b>' if secret else ''}"
                             f"<br><span class='gl-value'>{html.escape(value)}</span></p>{rows}")

    def select(self, path: str) -> None:
        """Select a field by path (``tls13.lifetime``); raises UsageError for an unknown one."""
        if path not in {f.path for f in self.leaves}:
            raise UsageError(f"no field {path!r} to select; the inspector lists {self.leaves[0].path!r}"
                             f" … {self.leaves[-1].path!r} (see .leaves)")
        self.field_list.value = path


def blob_inspector(data) -> BlobInspector:
    """A widget over session data: a ``SessionData``, bytes, or a :class:`DecodedSession`."""
    session = data if isinstance(data, DecodedSession) else decode(data)
    return BlobInspector(session)
