"""The ABI-mode declarations, compiled in cffi API mode against the real <gnutls/gnutls.h>.

A misdeclared signature, constant or struct layout then fails here (gcc or cffi's own checks)
instead of corrupting memory in a student's notebook.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys

import pytest
from cffi import FFI

from gnutls_lab._cdef import CDEF

HEADER = "/usr/include/gnutls/gnutls.h"
STRICT = [
    "-Werror=incompatible-pointer-types",
    "-Werror=int-conversion",
    "-Werror=implicit-function-declaration",
    "-Wno-deprecated-declarations",
]


def _compile(tmp_path, cdef: str, name: str):
    ffi = FFI()
    # API mode may leave the exact integer type of time_t to the compiler.
    ffi.cdef(cdef.replace("typedef long time_t;", "typedef long... time_t;"))
    ffi.set_source(name, "#include <gnutls/gnutls.h>\n#include <gnutls/x509.h>\n", libraries=["gnutls"],
                   extra_compile_args=STRICT)
    path = ffi.compile(tmpdir=str(tmp_path))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _require_toolchain():
    # CI installs both (scripts/system-packages.sh test); their absence is a failure, not a skip.
    assert shutil.which("gcc"), "gcc missing: apt-get install gcc"
    assert os.path.exists(HEADER), f"{HEADER} missing: apt-get install libgnutls28-dev"


def test_declarations_compile_against_the_real_header(tmp_path):
    _require_toolchain()
    module = _compile(tmp_path, CDEF, "_gnutls_lab_cdef_check")
    ffi, lib = module.ffi, module.lib
    # Constants: cffi compares every #define with the header at import; touch them all.
    for name in dir(lib):
        if name.startswith("GNUTLS_"):
            getattr(lib, name)
    # Struct layout: checked on first use.
    datum = ffi.new("gnutls_datum_t *")
    assert ffi.offsetof("gnutls_datum_t", "size") == ffi.sizeof("unsigned char *")
    assert datum.size == 0
    assert ffi.string(lib.gnutls_check_version(ffi.NULL)).decode().startswith("3.")


@pytest.mark.parametrize(
    "broken, expect",
    [
        (("#define GNUTLS_NO_TICKETS 1024", "#define GNUTLS_NO_TICKETS 1025"), "GNUTLS_NO_TICKETS"),
        (("int gnutls_session_set_data(gnutls_session_t session, const void *session_data, size_t session_data_size);",
          "int gnutls_session_set_data(gnutls_session_t session, size_t session_data_size, const void *session_data);"),
         "CompileError"),
        (("    unsigned char *data;\n    unsigned int size;", "    unsigned int size;\n    unsigned char *data;"),
         "wrong offset"),
    ],
    ids=["constant", "signature", "struct-layout"],
)
def test_the_check_catches_a_misdeclaration(tmp_path, broken, expect):
    _require_toolchain()
    old, new = broken
    assert old in CDEF
    with pytest.raises(Exception) as info:
        module = _compile(tmp_path, CDEF.replace(old, new), f"_gnutls_lab_broken_{abs(hash(new)) % 10**8}")
        for name in dir(module.lib):
            if name.startswith("GNUTLS_"):
                getattr(module.lib, name)
        module.ffi.new("gnutls_datum_t *")
    assert expect in f"{type(info.value).__name__} {info.value}"
    sys.modules.pop("_gnutls_lab_broken", None)
