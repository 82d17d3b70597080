"""Where gnutls-lab looks for libgnutls, by platform: a conda prefix first (environment.yml, Binder,
laptops), then the system's loader. No macOS machine runs the suite, so the macOS order is checked
on a temporary folder laid out like a conda prefix, with the platform given as "darwin"."""

from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys

from gnutls_lab.binding._library import _candidates


def _fake_prefix(tmp_path, name: str):
    lib = tmp_path / "prefix" / "lib"
    lib.mkdir(parents=True)
    (lib / name).write_bytes(b"not really a library")
    return tmp_path / "prefix"


def test_macos_looks_for_the_dylib_in_the_conda_prefix_first(tmp_path):
    prefix = _fake_prefix(tmp_path, "libgnutls.30.dylib")
    names = [name for name, _ in _candidates(platform="darwin", prefix=str(prefix), environ={})]
    assert names[:2] == [str(prefix / "lib" / "libgnutls.30.dylib"), "libgnutls.30.dylib"]
    assert not any(name.endswith(".so.30") for name in names[:2])
    found = ctypes.util.find_library("gnutls")  # this machine's answer comes last, once
    assert names[-1] == (found if found and found not in names[:-1] else names[-1])
    assert len(names) == len(set(names))


def test_macos_without_the_library_in_the_prefix_asks_the_loader(tmp_path):
    names = [name for name, _ in _candidates(platform="darwin", prefix=str(tmp_path), environ={})]
    assert names[0] == "libgnutls.30.dylib"
    homebrew = [name for name in names if name.startswith(("/opt/homebrew/", "/usr/local/lib/"))]
    assert homebrew == [p for p in ("/opt/homebrew/lib/libgnutls.30.dylib", "/usr/local/lib/libgnutls.30.dylib")
                        if os.path.exists(p)]


def test_linux_looks_for_the_soname_in_the_conda_prefix_first(tmp_path):
    prefix = _fake_prefix(tmp_path, "libgnutls.so.30")
    candidates = _candidates(platform="linux", prefix=str(prefix), environ={})
    assert [name for name, _ in candidates][:2] == [str(prefix / "lib" / "libgnutls.so.30"), "libgnutls.so.30"]
    assert not any(name.endswith(".dylib") for name, _ in candidates)
    assert not any(explicit for _, explicit in candidates)


def test_the_environment_variable_wins_on_every_platform(tmp_path):
    prefix = _fake_prefix(tmp_path, "libgnutls.30.dylib")
    for platform in ("darwin", "linux"):
        assert _candidates(platform=platform, prefix=str(prefix), environ={"GNUTLS_LAB_LIBGNUTLS": "/x/libgnutls.so"}) \
            == [("/x/libgnutls.so", True)]


def test_the_library_in_a_prefix_is_the_one_loaded(tmp_path):
    """A prefix whose lib/ holds a copy of the real libgnutls: the lab loads that copy, not the system's."""
    import shutil

    import gnutls_lab

    lib = tmp_path / "env" / "lib"
    lib.mkdir(parents=True)
    shutil.copy(gnutls_lab.library_info().path, lib / "libgnutls.so.30")
    code = (f"import sys; sys.prefix = {str(tmp_path / 'env')!r}; import gnutls_lab; "
            "print(gnutls_lab.library_info().path)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={k: v for k, v in os.environ.items() if k != "GNUTLS_LAB_LIBGNUTLS"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(lib / "libgnutls.so.30")
