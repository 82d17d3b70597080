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


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_name_is_used_across_modules(module):
    for target, names, line in imports_of(module):
        if target == module:
            continue
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        assert not private, f"{module}:{line} takes private {private} from {target}"
        assert not target.split(".")[-1].startswith("_"), f"{module}:{line} imports private module {target}"


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
    source = "from ..faces.views import html_view\nfrom ..sessions.session import _private\n"
    tree = ast.parse(source)
    nodes = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    targets = [resolve("gnutls_lab.analysis.decode", False, n) for n in nodes]
    assert targets == ["gnutls_lab.faces.views", "gnutls_lab.sessions.session"]
    assert layer_of(targets[0]) > layer_of("gnutls_lab.analysis.decode")
    with pytest.raises(AssertionError, match="no layer folder"):
        layer_of("gnutls_lab.somewhere")
