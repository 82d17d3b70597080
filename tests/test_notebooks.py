"""The workshop notebooks: each runs headless without error, is committed without outputs, matches its
py:percent twin, and keeps to STYLE.md (the title, then the environment check, no library code in the notebook).

Every ``notebooks/*.ipynb`` is picked up, so a notebook added later is covered without editing this file.
The kernel is this interpreter (``sys.executable``), registered in a temporary kernelspec directory, so
a fresh clone's ``.venv`` runs the notebooks against the package installed in it.
"""

from __future__ import annotations

import json
import pathlib
import re
import sys
import tempfile
import time

import jupytext
import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

pytestmark = pytest.mark.notebooks

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
TWINS = sorted(NOTEBOOK_DIR.glob("*.py"))
KERNEL = "gnutls-lab-test"
IDS = [p.stem for p in NOTEBOOKS]


def test_the_workshop_notebooks_are_there():
    names = {p.stem for p in NOTEBOOKS}
    for expected in ("00-setup-check", "01-live-handshake", "02-session-data", "03-resumption-mechanisms",
                     "06-zero-rtt-replay", "07-real-programs", "08-audit-a-server"):
        assert expected in names
    assert all(re.fullmatch(r"\d\d-[a-z0-9-]+", n) for n in names), names


@pytest.fixture(scope="module")
def kernel_specs(tmp_path_factory) -> KernelSpecManager:
    """A kernelspec that runs this very interpreter, whatever kernels the machine has installed."""
    directory = tmp_path_factory.mktemp("kernels") / KERNEL
    directory.mkdir()
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "gnutls-lab test kernel", "language": "python",
            "env": {"MPLBACKEND": "module://matplotlib_inline.backend_inline"}}
    (directory / "kernel.json").write_text(json.dumps(spec))
    return KernelSpecManager(kernel_dirs=[str(directory.parent)])


class _Executed(dict):
    """Notebook name -> (error or None, seconds, executed notebook), each notebook run on first use only,
    so ``-k 03`` runs notebook 03 and no other."""

    def __init__(self, kernel_specs):
        super().__init__()
        self.kernel_specs = kernel_specs

    def __missing__(self, name):
        self[name] = _execute(NOTEBOOK_DIR / f"{name}.ipynb", self.kernel_specs)
        return self[name]


@pytest.fixture(scope="module")
def executed(kernel_specs) -> dict:
    """Each notebook run once, in its own directory, when a test first asks for it."""
    return _Executed(kernel_specs)


def _execute(path, kernel_specs) -> tuple:
    """Run one notebook; its error (or None), duration and executed cells."""
    nb = nbformat.read(path, as_version=4)
    km = KernelManager(kernel_name=KERNEL, kernel_spec_manager=kernel_specs)
    client = NotebookClient(nb, km=km, timeout=120, resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    start = time.perf_counter()
    try:
        client.execute()
        error = None
    except CellExecutionError as exc:
        error = str(exc)
    finally:  # a kernel manager we made is ours to stop (nbclient only stops the ones it made)
        if client.kc is not None:
            client.kc.stop_channels()
        if km.has_kernel:
            km.shutdown_kernel(now=True)
    return error, time.perf_counter() - start, nb


@pytest.mark.parametrize("name", IDS)
def test_notebook_runs_without_error(executed, name):
    error, seconds, _ = executed[name]
    assert error is None, f"{name}.ipynb failed after {seconds:.1f} s:\n{error}"


def test_executed_notebooks_show_their_widgets(executed):
    """The widgets in 01 to 04 came out as widget views, not as text."""
    for name, mime_needed in (("01-live-handshake", "application/vnd.jupyter.widget-view+json"),
                              ("02-session-data", "application/vnd.jupyter.widget-view+json"),
                              ("03-resumption-mechanisms", "application/vnd.jupyter.widget-view+json"),
                              ("04-ticket-reuse-and-tracking", "application/vnd.jupyter.widget-view+json")):
        _, _, nb = executed[name]
        kinds = {key for cell in nb.cells if cell.cell_type == "code"
                 for out in cell.get("outputs", []) for key in out.get("data", {})}
        assert mime_needed in kinds, (name, kinds)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name} cell {index} has outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_in_sync_with_its_py_percent_twin(path):
    twin = path.with_suffix(".py")
    assert twin.exists(), f"{path.name} has no py:percent twin; run `jupytext --set-formats ipynb,py:percent {path.name}`"
    notebook, script = jupytext.read(path), jupytext.read(twin)
    cells = lambda nb: [(c.cell_type, c.source.strip()) for c in nb.cells]  # noqa: E731
    assert cells(notebook) == cells(script), f"{path.name} and {twin.name} differ: run `make notebooks-sync`"
    assert "py:percent" in notebook.metadata.get("jupytext", {}).get("formats", ""), path.name


def test_every_twin_has_a_notebook():
    assert {p.stem for p in TWINS} == {p.stem for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_keeps_to_the_style(path):
    nb = nbformat.read(path, as_version=4)
    title, first = nb.cells[0], nb.cells[1]  # the title, then the environment check before anything runs
    assert title.cell_type == "markdown" and re.fullmatch(rf"# {path.stem[:2]} · [^\n]+", title.source.strip()), (
        f"{path.name}: the first cell is the title alone ('# NN · ...')")
    assert first.cell_type == "code" and "Environment check" in first.source and "gnutls_lab" in first.source
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and re.search(r"^\s*(def|class)\s", cell.source, re.M):
            assert cell.source.lstrip().startswith("# EXERCISE"), (
                f"{path.name} cell {index} defines a function or class: library code belongs in gnutls_lab")
    text = path.read_text() + path.with_suffix(".py").read_text()
    for machine_path in _machine_paths():
        assert machine_path not in text, f"{path.name} holds an absolute path of this machine: {machine_path}"


TEACHING = [p for p in NOTEBOOKS if p.stem[:2] in ("00", "01", "02", "03", "04", "05")]


@pytest.mark.parametrize("path", TEACHING, ids=[p.stem for p in TEACHING])
def test_opens_with_what_you_will_learn_ends_with_a_recap_and_checks_in_one_line(path):
    nb = nbformat.read(path, as_version=4)
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert "What you will learn" in "\n".join(markdown[:2]), f"{path.name}: no 'What you will learn' at the top"
    assert markdown[-1].lstrip().startswith("## Recap"), f"{path.name}: the last markdown cell is not a recap"
    assert any("check(" in source for source in code), f"{path.name}: no one-line check()"
    widget_driving = re.compile(r"^\s*\w+\.\w+\.value\s*=", re.M)  # explorer.mechanism.value = ...
    assert not any(widget_driving.search(source) for source in code), (
        f"{path.name} drives a widget from code; tests/test_widgets.py does that")


def _machine_paths() -> set:
    """Directories of the machine running the tests that must never appear in a notebook: the checkout
    and the folder holding it, the home and temporary directories, the Python environment."""
    home = pathlib.Path.home()
    paths = {ROOT, ROOT.parent, home, home.parent, pathlib.Path(tempfile.gettempdir()), pathlib.Path(sys.prefix)}
    return {str(p) + "/" for p in paths if len(p.parts) > 1}



def test_binder_environment_matches_the_package():
    """environment.yml (conda-forge, for Binder) provides every runtime dependency of pyproject.toml,
    libgnutls and JupyterLab; postBuild installs the package without letting pip pull dependencies."""
    import yaml

    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert environment["channels"][0] == "conda-forge"
    conda = {re.split(r"[<>=\s]", d, maxsplit=1)[0]: d for d in environment["dependencies"] if isinstance(d, str)}
    assert conda["python"] == "python=3.11" and conda["construct"] == "construct=2.10"
    # openssl: notebook 02 sets `openssl sess_id -text` beside gnutls-lab decode.
    for needed in ("gnutls", "jupyterlab", "ipykernel", "ipywidgets", "cffi", "cryptography", "tqdm", "jupytext",
                   "openssl"):
        assert needed in conda, needed
    assert "matplotlib" in conda or "matplotlib-base" in conda
    pyproject = (ROOT / "pyproject.toml").read_text()
    runtime = re.search(r"^dependencies = \[(.*?)^\]", pyproject, re.S | re.M).group(1)
    for requirement in re.findall(r'"([A-Za-z0-9_.-]+)', runtime):
        assert requirement in conda or f"{requirement}-base" in conda, f"{requirement} missing from environment.yml"
    post_build = (ROOT / "postBuild").read_text()
    assert "pip install --no-deps -e ." in post_build
    assert (ROOT / "postBuild").stat().st_mode & 0o111, "postBuild must be executable"
