"""Where the session-data spy is: the shared library ``gnutls-lab spy`` preloads into other programs.

The spy (``_spy.c`` beside this file) is compiled at install time like the C pipe, and like it is
optional: without a C compiler the install goes on and :func:`spy_library` returns None.
"""

from __future__ import annotations

import importlib.util

__all__ = ["SPY_LOG_VARIABLE", "spy_library"]

#: The environment variable that names the spy's log file (one JSON object per line).
SPY_LOG_VARIABLE = "GNUTLS_LAB_SPY_LOG"


def spy_library() -> str | None:
    """Absolute path of the built spy library, or None when the install could not compile it."""
    # Found as the C pipe is (native.py): by its extension-module name, never imported (no PyInit).
    spec = importlib.util.find_spec("gnutls_lab.binding._spy")
    return spec.origin if spec is not None and spec.origin else None
