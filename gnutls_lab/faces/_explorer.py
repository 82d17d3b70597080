"""The experiment explorer: controls over the ticket-reuse experiment
(:func:`gnutls_lab.analysis.run_experiment`, :func:`~gnutls_lab.analysis.sweep_reuse`); each change re-runs it
(live handshakes under a fake clock) and redraws its plot (:mod:`gnutls_lab.faces._plots`) in place.

The plot is drawn here, once, into a PNG that an ``Image`` widget shows: the redraw is done when
:meth:`ExperimentExplorer.run` returns (``benchmarks/bench_explorer.py`` times a control change to that
point; the target is 0.3 s), and Jupyter's inline backend does not draw the figure a second time.
"""

from __future__ import annotations

import html
import io
from dataclasses import replace

import ipywidgets as widgets
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image as PILImage

from ..analysis import MECHANISMS, ExperimentConfig, run_experiment, sweep_reuse
from ..errors import GnuTLSLabError
from . import _plots as plots
from ._widget_parts import SERVER_COLOUR

__all__ = ["ExperimentExplorer", "experiment_explorer"]

_UNLIMITED = "unlimited"
_LIFETIMES = (("5 min", 300), ("1 h", 3600), ("6 h (default)", 21600), ("1 day", 86400), ("7 days", 604800))
_GAPS = (("1 min", 60.0), ("10 min", 600.0), ("1 h", 3600.0), ("6 h", 21600.0))
_ROTATIONS = (("off: GnuTLS's own (3 × lifetime)", 0.0), ("every 10 min", 600.0), ("every hour", 3600.0),
              ("every 6 h", 21600.0))


class ExperimentExplorer(widgets.VBox):
    """Controls over an :class:`~gnutls_lab.analysis.ExperimentConfig`; every change re-runs the experiment
    and redraws its plot in ``output``. ``result`` and ``figure`` hold the last run, ``summary`` its table."""

    def __init__(self, config=None, reuse_values=(1, 2, 3, 5, None)):
        base = config if config is not None else ExperimentConfig()
        self.base, self.reuse_values = base, tuple(reuse_values)
        self.result = self.figure = None
        self._sweep = None  # (config, SweepResult) of the last sweep
        # wide enough for every option's label (the longest, "off: GnuTLS's own (3 × lifetime)", uncut)
        wide = dict(style={"description_width": "7em"}, layout=widgets.Layout(width="28em"))
        self.mechanism = widgets.Dropdown(options=[(m.label, name) for name, m in MECHANISMS.items()],
                                          value=base.mechanism, description="mechanism", **wide)
        self.max_reuse = widgets.Dropdown(
            options=[("0: never resume", 0), ("1: single use (RFC 8446 C.4)", 1), ("2", 2), ("3", 3), ("5", 5),
                     ("unlimited", _UNLIMITED)],
            value=_UNLIMITED if base.max_reuse is None else base.max_reuse, description="reuse k", **wide)
        lifetimes = dict(_LIFETIMES)
        if base.effective_lifetime not in lifetimes.values():
            lifetimes[f"{base.effective_lifetime} s"] = base.effective_lifetime
        self.lifetime = widgets.SelectionSlider(options=list(lifetimes.items()), value=base.effective_lifetime,
                                                description="lifetime", continuous_update=False, **wide)
        rotations = dict(_ROTATIONS)
        if base.rotate_every and base.rotate_every not in rotations.values():
            rotations[f"every {base.rotate_every:g} s"] = float(base.rotate_every)
        self.rotate_every = widgets.Dropdown(options=list(rotations.items()), value=float(base.rotate_every or 0.0),
                                             description="key rotation", **wide)
        self.visits = widgets.IntSlider(value=base.visits, min=2, max=200, description="visits",
                                        continuous_update=False, **wide)
        gaps = dict(_GAPS)
        if float(base.gap) not in gaps.values():
            gaps[f"{base.gap:g} s"] = float(base.gap)
        self.gap = widgets.SelectionSlider(options=list(gaps.items()), value=float(base.gap), description="gap",
                                           continuous_update=False, **wide)
        self.compat_mode = widgets.Checkbox(value=base.compat_mode, indent=False,
                                            description="TLS 1.3 compatibility mode (legacy_session_id)",
                                            layout=widgets.Layout(width="30em"))
        self.view = widgets.ToggleButtons(options=[("this run: who is linked", "run"), ("sweep over k", "sweep"),
                                                   ("tracking period", "tracking")], value="run",
                                          style={"button_width": "auto"})  # each button as wide as its label
        self.summary = widgets.HTML()
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))
        controls = (self.mechanism, self.max_reuse, self.lifetime, self.rotate_every, self.visits, self.gap,
                    self.compat_mode, self.view)
        self._enable_compat_mode()
        self.mechanism.observe(lambda _: self._enable_compat_mode(), names="value")
        for control in controls:
            control.observe(lambda _: self.run(), names="value")
        super().__init__([widgets.HBox([widgets.VBox(list(controls[:3])), widgets.VBox(list(controls[3:6]))]),
                          self.compat_mode, self.view, self.image, self.summary])
        self.add_class("gl-experiment-explorer")
        self.run()

    def _enable_compat_mode(self) -> None:
        """The compatibility mode is TLS 1.3's (RFC 8446 D.4): its checkbox is off-limits for TLS 1.2."""
        self.compat_mode.disabled = MECHANISMS[self.mechanism.value].tls != "1.3"

    def config(self):
        """The :class:`~gnutls_lab.analysis.ExperimentConfig` the controls describe."""
        reuse = None if self.max_reuse.value == _UNLIMITED else self.max_reuse.value
        return replace(self.base, mechanism=self.mechanism.value, max_reuse=reuse, lifetime=self.lifetime.value,
                       rotate_every=self.rotate_every.value or None, visits=self.visits.value, gap=self.gap.value,
                       compat_mode=self.compat_mode.value)

    def run(self) -> None:
        """Re-run with the current controls and redraw (the PNG is in ``image`` when this returns)."""
        try:
            config = self.config()
            if self.view.value == "run":
                result = run_experiment(config)
                figure = plots.plot_timeline(result)
            else:  # the sweep and the tracking view plot the same sweep: switching between them re-runs nothing
                if self._sweep is None or self._sweep[0] != config:
                    self._sweep = (config, sweep_reuse(self.reuse_values, config))
                result = self._sweep[1]
                figure = (plots.plot_sweep if self.view.value == "sweep" else plots.plot_tracking)(result)
        except GnuTLSLabError as exc:
            self.summary.value = f"<p class='gl-error' style='color:{SERVER_COLOUR}'>{html.escape(str(exc))}</p>"
            return
        self.result, self.figure = result, figure
        self.summary.value = _compact_summary(result)
        self.image.value = render_png(figure)


def render_png(figure) -> bytes:
    """``figure`` as a PNG, drawn once: its layout engine (constrained) runs inside that draw.

    ``savefig`` draws a figure with a layout engine twice (once unrendered, to lay it out, then to render),
    and compresses harder. Here the Agg canvas draws once and Pillow writes the pixels at zlib level 1: the
    same pixels at the same dpi (tests/test_widgets.py), a file within a few percent of savefig's. The redraw
    is what a participant waits for on every control (``benchmarks/bench_explorer.py``)."""
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    size = canvas.get_width_height(physical=True)
    image = PILImage.frombuffer("RGBA", size, canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    png = io.BytesIO()
    image.save(png, format="png", compress_level=1)
    return png.getvalue()


def _compact_summary(result) -> str:
    """A few lines under the explorer's plot: one row per run, the numbers the plot shows."""
    runs = getattr(result, "results", [result])
    rows = []
    for run in runs:
        s = run.summary()
        divisor, unit = plots.time_unit(max(s["max_tracking_seconds"], 1.0))
        rate = "n/a" if s["success_rate"] is None else f"{s['success_rate']:.0%}"
        rows.append(f"<tr><td>{html.escape(run.config.reuse_label)}</td><td>{s['resumed']}/{s['attempts']} "
                    f"({rate})</td><td>{s['linkable_pair_fraction']:.0%}</td>"
                    f"<td>{s['ticket_linkable_pair_fraction']:.0%}</td>"
                    f"<td>{s['max_tracking_seconds'] / divisor:.3g} {unit}</td></tr>")
    first = runs[0].summary()
    compat = ("on" if first["compat_mode"] else "off") if MECHANISMS[first["mechanism"]].tls == "1.3" else "n/a"
    return (f"<p style='margin:2px 0'>{first['visits']} visits, {html.escape(first['mechanism'])}, "
            f"compat mode {compat}, lifetime {first['lifetime']} s</p>"
            "<table style='font-size:12px'><tr><th>k</th><th>resumed</th><th>pairs linked</th>"
            f"<th>by ticket</th><th>followed for</th></tr>{''.join(rows)}</table>")


def experiment_explorer(config=None, reuse_values=(1, 2, 3, 5, None)) -> ExperimentExplorer:
    """Sliders and dropdowns over the ticket-reuse experiment: each change re-runs it and redraws the plot in
    place. ``reuse_values``: the k of the sweep views."""
    return ExperimentExplorer(config, reuse_values)
