"""The package's front door (gnutls_lab/__init__.py): ``import gnutls_lab`` loads the library and the
sessions layer only; every other public name is imported on first use and is the object its module defines."""

from __future__ import annotations

import json
import subprocess
import sys

import gnutls_lab

CHILD = r'''
import json, sys
import gnutls_lab

eager = sorted(m for m in sys.modules if m.split(".")[0] in ("construct", "matplotlib", "scapy", "cryptography",
                                                            "ipywidgets")
               or m.startswith(("gnutls_lab.analysis", "gnutls_lab.network", "gnutls_lab.faces")))
lab = gnutls_lab.Lab("1.2")
decoded = gnutls_lab.decode_session(lab.connect().session_data)
print(json.dumps({"eager": eager, "html": decoded._repr_html_() or ""}))
'''


def test_import_is_light_and_a_decoded_session_shows_its_html_view():
    result = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["eager"] == []
    assert report["html"].lstrip().startswith("<") and "TLS1.2" in report["html"]


def test_every_public_name_resolves_to_the_object_its_module_defines():
    import importlib

    for name in gnutls_lab.__all__:
        assert getattr(gnutls_lab, name) is not None, name
    for name, (module_name, attribute) in gnutls_lab._LAZY.items():
        assert getattr(gnutls_lab, name) is getattr(importlib.import_module(module_name), attribute), name
    from gnutls_lab.analysis.decode import DecodedSession, decode

    assert gnutls_lab.decode_session is decode and gnutls_lab.DecodedSession is DecodedSession
    assert set(gnutls_lab._LAZY) <= set(dir(gnutls_lab))
