"""The ABI-mode declarations, compiled in cffi API mode against the real <gnutls/gnutls.h> (CDEF) and
against the C pipe's own source, gnutls_lab/binding/_memio.c (MEMIO_CDEF).

A misdeclared signature, constant or struct layout then fails here (gcc or cffi's own checks)
instead of corrupting memory in a student's notebook.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import sysconfig
from pathlib import Path

import pytest
from cffi import FFI

import gnutls_lab
from gnutls_lab.binding._cdef import CDEF, MEMIO_CDEF

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


# -- the C pipe: MEMIO_CDEF against _memio.c itself ----------------------------------------------------

MEMIO_SOURCE = Path(gnutls_lab.__file__).parent / "binding" / "_memio.c"
# MEMIO_CDEF uses giovec_t, which CDEF declares as libgnutls does: struct iovec.
GIOVEC_CDEF = "typedef struct iovec { void *iov_base; size_t iov_len; } giovec_t;\n"
MEMIO_STRUCTS = {
    "struct memio_log": ["data", "size", "capacity"],
    "struct memio_end": ["data", "start", "end", "capacity", "peer", "closed", "sender", "gate", "owner", "tap"],
    "struct memio_pair": ["end", "log"],
}


def _compile_memio(tmp_path, cdef: str, name: str):
    ffi = FFI()
    ffi.cdef(GIOVEC_CDEF + cdef)
    source = f'#include <sys/uio.h>\ntypedef struct iovec giovec_t;\n#include "{MEMIO_SOURCE}"\n'
    ffi.set_source(name, source, include_dirs=[sysconfig.get_paths()["include"]], extra_compile_args=STRICT)
    path = ffi.compile(tmpdir=str(tmp_path))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _touch_memio_layout(module) -> dict:
    """Use every struct (cffi checks a struct's layout against C on first use); return the offsets."""
    ffi = module.ffi
    layout = {}
    for struct, fields in MEMIO_STRUCTS.items():
        ffi.new(f"{struct} *")
        layout[struct] = (ffi.sizeof(struct), [ffi.offsetof(struct, field) for field in fields])
    return layout


def test_the_c_pipe_declarations_match_its_source(tmp_path):
    _require_toolchain()
    assert MEMIO_SOURCE.is_file()
    module = _compile_memio(tmp_path, MEMIO_CDEF, "_gnutls_lab_memio_check")
    ffi, lib = module.ffi, module.lib
    layout = _touch_memio_layout(module)
    # The ABI-mode ffi the lab dlopens the C pipe with computes the same layout from MEMIO_CDEF alone.
    from gnutls_lab.binding._library import load

    abi_ffi = load()[0]
    for struct, fields in MEMIO_STRUCTS.items():
        assert layout[struct] == (abi_ffi.sizeof(struct), [abi_ffi.offsetof(struct, field) for field in fields]), struct
    # And the functions run as declared.
    pair = ffi.gc(lib.memio_pair_new(0), lib.memio_pair_free)
    assert pair.end[0].peer == pair.end + 1 and pair.end[1].sender == 1 and pair.end[0].gate == -1
    assert pair.end[0].tap == ffi.NULL
    assert lib.memio_append(pair.end + 1, b"abc", 3) == 3 and lib.memio_available(pair.end + 1) == 3


@pytest.mark.parametrize(
    "broken, expect",
    [
        (("    int closed;\n    int sender;", "    int sender;\n    int closed;"), "wrong offset for field"),
        (("    long long gate;", "    int gate;"), "wrong size for field 'gate'"),
        (("    void *owner;\n", ""), "wrong offset for field 'tap'"),
        (("ssize_t memio_pull(void *ptr, void *data, size_t size);",
          "ssize_t memio_pull(void *ptr, size_t size, void *data);"), "CompileError"),
    ],
    ids=["field-order", "field-type", "missing-field", "signature"],
)
def test_the_c_pipe_check_catches_a_misdeclaration(tmp_path, broken, expect):
    _require_toolchain()
    old, new = broken
    assert old in MEMIO_CDEF
    with pytest.raises(Exception) as info:
        _touch_memio_layout(_compile_memio(tmp_path, MEMIO_CDEF.replace(old, new),
                                           f"_gnutls_lab_memio_broken_{abs(hash(new)) % 10**8}"))
    assert expect in f"{type(info.value).__name__} {info.value}"
