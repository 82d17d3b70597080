"""The package's front door (gnutls_lab/__init__.py): ``import gnutls_lab`` loads the library and the
sessions layer only; every other public name is imported on first use and is the object its module defines."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import gnutls_lab

CHILD = r'''
import json, sys
import gnutls_lab

eager = sorted(m for m in sys.modules if m.split(".")[0] in ("construct", "matplotlib", "scapy", "cryptography",
                                                            "ipywidgets")
               or m.startswith(("gnutls_lab.analysis", "gnutls_lab.network", "gnutls_lab.faces")))
lab = gnutls_lab.Lab("1.2")
decoded = gnutls_lab.decode_session(lab.connect().session_data)
print(json.dumps({"eager": eager}))
'''


def test_import_is_light():
    result = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["eager"] == []


#: A Jupyter kernel in a fresh process: IPython's shell exists before the notebook imports anything; the
#: decoded session is displayed as Jupyter would (the shell's formatters), after the imports of ``FIRST``.
DISPLAY_CHILD = r'''
import json, sys
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()
exec(sys.argv[1])
from gnutls_lab.sessions import Lab
from gnutls_lab.analysis import decode

decoded = decode(Lab("1.2").connect().session_data)
shown, _ = shell.display_formatter.format(decoded)
print(json.dumps({"html": shown.get("text/html", ""), "faces": "gnutls_lab.faces" in sys.modules}))
'''


@pytest.mark.parametrize("first", ["import gnutls_lab.analysis", "from gnutls_lab.faces import html_view",
                                   "import gnutls_lab", "from gnutls_lab import decode_session"])
def test_a_decoded_session_shows_its_html_view_whatever_is_imported_first(first):
    result = subprocess.run([sys.executable, "-c", DISPLAY_CHILD, first], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["html"].startswith('<div class="gl-blob">') and "TLS1.2" in report["html"], report["html"][:300]
    assert report["faces"]  # the view came from the faces layer, imported when the first session was shown


def test_every_public_name_resolves_to_the_object_its_layer_face_exports():
    import importlib

    for name in gnutls_lab.__all__:
        assert getattr(gnutls_lab, name) is not None, name
    for name, (face, attribute) in gnutls_lab._HOME.items():
        assert getattr(gnutls_lab, name) is getattr(importlib.import_module(face), attribute), name
    from gnutls_lab.analysis import DecodedSession, decode

    assert gnutls_lab.decode_session is decode and gnutls_lab.DecodedSession is DecodedSession
    assert set(gnutls_lab._HOME) <= set(dir(gnutls_lab))


def test_each_face_exports_names_its_modules_define_and_list():
    """A layer's face re-exports names from its private modules, each listed in that module's ``__all__``."""
    import importlib
    import pkgutil

    for face in ("binding", "formats", "sessions", "analysis", "network", "faces"):
        module = importlib.import_module(f"gnutls_lab.{face}")
        assert module.__doc__ and len(module.__all__) == len(set(module.__all__)), face
        c_parts = ("gnutls_lab.binding._memio", "gnutls_lab.binding._spy")  # built C libraries, not Python modules
        private = [importlib.import_module(f"{module.__name__}.{info.name}")
                   for info in pkgutil.iter_modules(module.__path__)
                   if info.name.startswith("_") and f"{module.__name__}.{info.name}" not in c_parts]
        for name in module.__all__:
            value = getattr(module, name)
            assert any(getattr(home, n, None) is value for home in private for n in home.__all__), \
                f"gnutls_lab.{face}.{name} is in no private module's __all__"
        for home in private:
            assert isinstance(home.__all__, (list, tuple)) and home.__doc__, home.__name__


FACES = ("gnutls_lab", "gnutls_lab.binding", "gnutls_lab.formats", "gnutls_lab.sessions", "gnutls_lab.analysis",
         "gnutls_lab.network", "gnutls_lab.faces", "gnutls_lab.faces.cli")


def test_the_readme_lists_each_face_and_its_names():
    """README.md, "Layout": one line per layer face with every name of its ``__all__``, and no other."""
    import importlib
    import pathlib
    import re

    readme = (pathlib.Path(__file__).resolve().parent.parent / "README.md").read_text()
    listed = {m.group(1): (int(m.group(2)), re.findall(r"`(\w+)`", m.group(3)))
              for m in re.finditer(r"^- `(gnutls_lab[\w.]*)` \((\d+)\): (.*)$", readme, re.M)}
    assert set(listed) == set(FACES)
    for face in FACES:
        names = importlib.import_module(face).__all__
        count, shown = listed[face]
        assert sorted(shown) == sorted(names) and count == len(names), face
        assert len(names) == len(set(names)), f"{face}.__all__ names something twice"
