"""Where the session-data spy is: the shared library ``gnutls-lab spy`` preloads into other programs.

The spy (``_spy.c`` beside this file) is compiled at install time like the C pipe, and like it is
optional: without a C compiler the install goes on and :func:`spy_library` returns None.
"""

from __future__ import annotations

import importlib.machinery
import os

__all__ = ["SPY_LOG_VARIABLE", "spy_library"]

#: The environment variable that names the spy's log file (one JSON object per line).
SPY_LOG_VARIABLE = "GNUTLS_LAB_SPY_LOG"


def spy_library() -> str | None:
    """Absolute path of the built spy library, or None when the install could not compile it."""
    here = os.path.dirname(os.path.abspath(__file__))
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(here, "_spy" + suffix)
        if os.path.isfile(path):
            return path
    return None
