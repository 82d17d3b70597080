"""The handshake as a matplotlib sequence diagram: one arrow per transcript message, client left, server right.

Whether a message crossed the wire in clear is read from the wire tap
(:func:`gnutls_lab.formats.clear_handshake_streams`), as a passive observer would.
"""

from __future__ import annotations

from ..formats import clear_handshake_streams, frame_handshake
from . import _plots as plots
from ._widget_parts import CLIENT_COLOUR, SERVER_COLOUR

__all__ = ["sequence_diagram"]


def sequence_diagram(conn, ax=None, title: str | None = None):
    """The transcript as a sequence diagram: one arrow per handshake message, client left, server right.

    Returns the matplotlib Figure, already closed in pyplot like those of :mod:`gnutls_lab.faces._plots`
    (Jupyter shows the returned figure once). Messages a passive observer sees in clear are drawn
    solid, those encrypted on the wire dashed.
    """
    messages = list(conn.transcript)
    clear = clear_handshake_streams(conn.wire)
    in_clear = [frame_handshake(m.type, m.body) in clear[m.sender] for m in messages]
    if ax is None:
        fig, ax = plots.subplots(figsize=(6.4, 0.42 * len(messages) + 1.3))
    else:
        fig = ax.figure
    n = len(messages)
    for x, name in ((0, "client"), (1, "server")):
        ax.plot([x, x], [0.3, n + 0.5], color="#555", linewidth=1)
        ax.text(x, n + 0.7, name, ha="center", va="bottom", fontweight="bold",
                color=CLIENT_COLOUR if x == 0 else SERVER_COLOUR)
    for i, (m, seen) in enumerate(zip(messages, in_clear)):
        y = n - i
        start, end = (0, 1) if m.sender == "client" else (1, 0)
        colour = CLIENT_COLOUR if m.sender == "client" else SERVER_COLOUR
        ax.annotate("", xy=(end, y), xytext=(start, y),
                    arrowprops=dict(arrowstyle="-|>", color=colour, linestyle="-" if seen else "--"))
        ax.text(0.5, y + 0.08, f"{m.name} ({len(m.body)} B)", ha="center", va="bottom", fontsize=8)
    verdict = "resumed" if conn.resumed else "full handshake"
    ax.set_title(title or f"{conn.protocol} {verdict}: {sum(in_clear)} of {n} handshake messages cross the wire"
                 " in clear\n(solid: in clear, dashed: encrypted)", fontsize=10)
    ax.set_xlim(-0.2, 1.2)
    ax.set_ylim(0.4, n + 1.2)
    ax.axis("off")
    return fig
