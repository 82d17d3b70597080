"""The package's layers, enforced: every module sits in one layer folder, imports only its own layer or
lower ones, takes part in no import cycle and uses no other module's private names.

The order (README, "Layout"): errors → binding → formats → sessions → analysis → network → faces; the
package's own ``__init__``/``__main__`` are its public face above them all. Imports inside functions
count: a lazy import of a higher layer is still an arrow pointing up.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gnutls_lab"
LAYERS = ("errors", "binding", "formats", "sessions", "analysis", "network", "faces")
TOP = len(LAYERS)  # gnutls_lab/__init__.py and __main__.py


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] == "__main__":
        return TOP
    if parts[1] not in LAYERS:
        raise AssertionError(f"{module} is in no layer folder; put it in one of {', '.join(LAYERS)}")
    return LAYERS.index(parts[1])


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every import of a gnutls_lab module."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names if alias.name.startswith("gnutls_lab")]
        elif isinstance(node, ast.ImportFrom):
            target = resolve(module, path.name == "__init__.py", node)
            if not target.startswith("gnutls_lab"):
                continue
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                if submodule in MODULES:  # "from . import views": the module itself
                    found.append((submodule, [], node.lineno))
                else:
                    found.append((target, [alias.name], node.lineno))
    return found


def test_every_module_is_in_a_layer():
    for module in MODULES:
        layer_of(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_points_up(module):
    here = layer_of(module)
    for target, _, line in imports_of(module):
        there = layer_of(target)
        assert there <= here, (f"{MODULES[module].relative_to(PACKAGE.parent)}:{line} imports {target} "
                               f"({LAYERS[there] if there < TOP else 'top'}), a higher layer than "
                               f"{LAYERS[here] if here < TOP else 'top'}")


def package_of(module: str) -> str:
    """The package a module sits in (a package's ``__init__`` sits in itself)."""
    return module if MODULES.get(module, Path()).name == "__init__.py" else module.rpartition(".")[0]


def private_module_trespass(importer: str, target: str) -> str | None:
    """Why ``importer`` may not import ``target``, or None. A private module (``_name``) is imported only
    by its siblings: the modules of its own package and that package's face (``__init__``). Every other
    module, the CLI and the package's face included, goes through the face of the target's layer."""
    parts = target.split(".")
    for depth in range(1, len(parts)):
        if parts[depth].startswith("_") and not parts[depth].startswith("__"):
            home = ".".join(parts[:depth])
            if package_of(importer) != home:
                return f"imports private module {'.'.join(parts[:depth + 1])} from outside {home}"
    return None


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_name_or_module_is_used_across_layers(module):
    for target, names, line in imports_of(module):
        if target == module:
            continue
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        assert not private, f"{module}:{line} takes private {private} from {target}"
        trespass = private_module_trespass(module, target)
        assert trespass is None, f"{module}:{line} {trespass}: import it from gnutls_lab.{target.split('.')[1]}"


#: What people read and copy: the notebooks (their .py twins), the course code beside them, the solutions,
#: the docs and the README import from ``gnutls_lab`` or a layer's face, never from a private module.
READERS = sorted([*PACKAGE.parent.glob("notebooks/*.py"), *PACKAGE.parent.glob("notebooks/course/*.py"),
                  *PACKAGE.parent.glob("notebooks/solutions/*.py"), *PACKAGE.parent.glob("docs/*.md"),
                  PACKAGE.parent / "README.md", *PACKAGE.parent.glob("notebooks/solutions/*.md")])


def reader_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every gnutls_lab import in a notebook, course file or document."""
    if path.suffix == ".py":
        found = []
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gnutls_lab"):
                found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
            elif isinstance(node, ast.Import):
                found += [(node.lineno, a.name) for a in node.names if a.name.startswith("gnutls_lab")]
        return found
    found = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        words = line.strip().split()
        if len(words) >= 4 and words[0] == "from" and words[1].startswith("gnutls_lab") and words[2] == "import":
            found += [(number, f"{words[1]}.{name.strip('(),')}") for name in words[3:] if name.strip("(),")]
        elif len(words) >= 2 and words[0] == "import" and words[1].startswith("gnutls_lab"):
            found.append((number, words[1]))
    return found


@pytest.mark.parametrize("path", READERS, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_notebooks_course_and_docs_import_only_faces(path):
    private = [f"{line}: {name}" for line, name in reader_imports(path)
               if private_module_trespass("reader", name)]
    assert not private, f"{path.name} imports private modules (use gnutls_lab or a layer's face): {private}"


def test_the_reader_check_catches_a_private_import(tmp_path):
    sample = tmp_path / "sample.md"
    sample.write_text("```python\nfrom gnutls_lab.analysis._decode import decode\nfrom gnutls_lab import Lab\n```\n")
    assert [(2, "gnutls_lab.analysis._decode.decode"), (3, "gnutls_lab.Lab")] == reader_imports(sample)
    assert private_module_trespass("reader", "gnutls_lab.analysis._decode.decode")
    assert not private_module_trespass("reader", "gnutls_lab.analysis.decode")
    assert len(READERS) > 20


def test_no_import_cycle():
    graph = {m: {t if t in MODULES else t for t, _, _ in imports_of(m)} & set(MODULES) for m in MODULES}
    # A package's __init__ importing its own submodules is how it hands names on, not a cycle.
    for m in graph:
        graph[m] = {t for t in graph[m] if not (t.startswith(m + ".") and MODULES[m].name == "__init__.py")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_the_checks_catch_what_they_are_for(tmp_path):
    """The rules above fail on a tree that breaks them (so they are not vacuous)."""
    source = "from ..faces._views import html_view\nfrom ..sessions._session import _private\n"
    tree = ast.parse(source)
    nodes = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    targets = [resolve("gnutls_lab.analysis._decode", False, n) for n in nodes]
    assert targets == ["gnutls_lab.faces._views", "gnutls_lab.sessions._session"]
    assert layer_of(targets[0]) > layer_of("gnutls_lab.analysis._decode")
    with pytest.raises(AssertionError, match="no layer folder"):
        layer_of("gnutls_lab.somewhere")
    # private modules: siblings only; every other module (the CLI, another layer, the top) uses a face
    assert private_module_trespass("gnutls_lab.sessions._lab", "gnutls_lab.sessions._session") is None
    assert private_module_trespass("gnutls_lab.sessions", "gnutls_lab.sessions._session") is None
    assert private_module_trespass("gnutls_lab.analysis._decode", "gnutls_lab.formats") is None
    assert "outside gnutls_lab.sessions" in private_module_trespass("gnutls_lab.analysis._decode", targets[1])
    assert "outside gnutls_lab.faces" in private_module_trespass("gnutls_lab.faces.cli._decode",
                                                                 "gnutls_lab.faces._views")
    assert "outside gnutls_lab.formats" in private_module_trespass("gnutls_lab", "gnutls_lab.formats._wire")


# --- byte layouts are read in gnutls_lab/formats/ only -------------------------------------------------

#: Calls that read a byte layout by hand. The schemas and readers of gnutls_lab/formats/ are the one
#: place where bytes become fields; everywhere else takes fields from them.
BYTE_READERS = {("struct", "unpack"), ("struct", "unpack_from"), ("struct", "iter_unpack"), ("int", "from_bytes")}
#: Modules outside formats/ allowed to use one of them, each with its reason. Empty: none needs to.
BYTE_READER_ALLOWED: dict[str, str] = {}
COURSE = PACKAGE.parent / "notebooks" / "course"


def byte_reads(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute):
            base = func.value
            owner = base.id if isinstance(base, ast.Name) else base.attr if isinstance(base, ast.Attribute) else None
            if (owner, func.attr) in BYTE_READERS or (owner == "_struct" and func.attr.startswith("unpack")):
                found.append((node.lineno, f"{owner}.{func.attr}"))
            elif func.attr in ("unpack", "unpack_from", "iter_unpack") and isinstance(base, ast.Call) \
                    and getattr(base.func, "attr", getattr(base.func, "id", "")) == "Struct":
                found.append((node.lineno, f"Struct(...).{func.attr}"))  # struct.Struct(">H").unpack(...)
        elif isinstance(func, ast.Name) and func.id in ("unpack", "unpack_from", "iter_unpack"):
            found.append((node.lineno, func.id))  # from struct import unpack
    for node in ast.walk(tree):  # a bound method kept in a name: _u16 = struct.Struct(">H").unpack_from
        if isinstance(node, ast.Attribute) and node.attr in ("unpack", "unpack_from", "iter_unpack", "from_bytes") \
                and not any(node is getattr(c, "func", None) for c in ast.walk(tree) if isinstance(c, ast.Call)):
            found.append((node.lineno, f"reference to .{node.attr}"))
    return found


OUTSIDE_FORMATS = {name: path for name, path in MODULES.items() if ".formats" not in name}
OUTSIDE_FORMATS.update({f"course.{p.stem}": p for p in sorted(COURSE.glob("*.py"))})


@pytest.mark.parametrize("module", sorted(OUTSIDE_FORMATS))
def test_no_module_outside_formats_reads_a_byte_layout(module):
    if module in BYTE_READER_ALLOWED:
        return
    found = byte_reads(ast.parse(OUTSIDE_FORMATS[module].read_text()))
    assert not found, (f"{module} reads bytes by hand at {found}: take the fields from a schema or reader in "
                       "gnutls_lab/formats/ (or add a reader there)")


def test_the_byte_layout_check_catches_each_form():
    caught = byte_reads(ast.parse(
        "import struct\nfrom struct import unpack\n"
        "a = struct.unpack('>H', b'xx')\nb = int.from_bytes(b'x', 'big')\nc = unpack('>H', b'xx')\n"
        "d = struct.Struct('>H').unpack_from(b'xx', 0)\ne = struct.unpack_from\n"
    ))
    assert [line for line, _ in caught] == [3, 4, 5, 6, 7]
    assert not byte_reads(ast.parse("import struct\nx = struct.pack('>Q', 1) + (5).to_bytes(2, 'big')\n"))
    assert len(OUTSIDE_FORMATS) > 30 and not any(".formats." in name for name in OUTSIDE_FORMATS)


def test_cffi_is_used_through_its_public_api():
    """``ffi._backend`` and other private cffi names can change in any cffi release (pyproject allows any)."""
    private = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("_backend", "BVoidP", "_parser", "_cdefsources"):
                private.append(f"{name}:{node.lineno} .{node.attr}")
    assert not private, private


PACKAGES = sorted(p.parent for p in PACKAGE.rglob("__init__.py"))


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_each_package_docstring_lists_all_its_modules(package):
    """A reader opening a layer's face finds every room behind it named there (``_name``, or a subpackage
    ``name/``); the package's own face names its layers."""
    doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text())) or ""
    if package == PACKAGE:
        missing = [layer for layer in LAYERS if layer not in doc]
    else:
        modules = [p.stem for p in package.glob("_*.py") if not p.stem.startswith("__")]
        modules += [f"{p.name}/" for p in package.iterdir() if (p / "__init__.py").is_file()]
        missing = [m for m in sorted(modules) if f"``{m}``" not in doc and f"``{m.rstrip('/')}``" not in doc]
    assert not missing, f"{package.relative_to(PACKAGE.parent)}/__init__.py's docstring leaves out {missing}"
