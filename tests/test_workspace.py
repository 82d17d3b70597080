"""The participants' folder (scripts/workspace.py): what `make lab` and Binder's postBuild put in front
of participants, and that using it never touches a file git tracks."""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SCRIPT = ROOT / "scripts" / "workspace.py"
UPSTREAM = sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


def _run(*args: str, status: int = 0) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == status, result.stderr
    return result


def _tree_digest(folder: pathlib.Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


@pytest.fixture
def upstream(tmp_path) -> pathlib.Path:
    """A copy of the repository's notebooks/ folder, which a test may change like a `git pull` would."""
    copy = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, copy, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    return copy


def test_copies_every_numbered_notebook_and_the_course_checks_and_nothing_else(tmp_path):
    workspace = tmp_path / "workspace"
    output = _run("--workspace", str(workspace)).stdout
    assert len(UPSTREAM) >= 6 and "00-setup-check.ipynb" in UPSTREAM
    visible = sorted(p.name for p in workspace.iterdir() if not p.name.startswith("."))
    assert visible == sorted(UPSTREAM + ["course"])  # one entry per notebook: no .py twin, no solutions/
    assert not list(workspace.rglob("*solution*")) and not list(workspace.glob("*.py"))
    assert sorted(p.name for p in (workspace / "course").glob("*.py")) == sorted(
        p.name for p in (NOTEBOOKS / "course").glob("*.py"))
    for name in UPSTREAM:
        assert f"copied {name}" in output
        mine, theirs = json.loads((workspace / name).read_text()), json.loads((NOTEBOOKS / name).read_text())
        assert mine["cells"] == theirs["cells"]
        assert "jupytext" in theirs["metadata"] and "jupytext" not in mine["metadata"]  # saving writes no twin


def test_a_new_notebook_upstream_is_copied_on_the_next_run(tmp_path, upstream):
    workspace = tmp_path / "workspace"
    _run("--notebooks", str(upstream), "--workspace", str(workspace))
    shutil.copy(upstream / "01-live-handshake.ipynb", upstream / "99-added-later.ipynb")
    assert "copied 99-added-later.ipynb" in _run("--notebooks", str(upstream), "--workspace", str(workspace)).stdout
    assert (workspace / "99-added-later.ipynb").exists()


def test_never_overwrites_a_participants_notebook_and_offers_the_update_beside_it(tmp_path, upstream):
    workspace = tmp_path / "workspace"
    args = ("--notebooks", str(upstream), "--workspace", str(workspace))
    _run(*args)
    mine = workspace / "02-session-data.ipynb"
    edited = json.loads(mine.read_text())
    edited["cells"][0]["source"] = "print('my own work')"
    mine.write_text(json.dumps(edited))
    participant_bytes = mine.read_bytes()

    assert "updated" not in _run(*args).stdout  # nothing new upstream: nothing offered
    assert mine.read_bytes() == participant_bytes

    notebook = json.loads((upstream / "02-session-data.ipynb").read_text())
    notebook["cells"].append({"cell_type": "markdown", "id": "new-upstream", "metadata": {}, "source": "New."})
    (upstream / "02-session-data.ipynb").write_text(json.dumps(notebook))
    output = _run(*args).stdout
    offered = workspace / "02-session-data (updated).ipynb"
    assert "the new version is 02-session-data (updated).ipynb" in output
    assert mine.read_bytes() == participant_bytes
    assert json.loads(offered.read_text())["cells"][-1]["source"] == "New."

    # A participant's edit of the offered copy is theirs too: a later update does not replace it.
    offered.write_text(offered.read_text().replace('"New."', '"Mine."'))
    notebook["cells"].append({"cell_type": "markdown", "id": "newer-upstream", "metadata": {}, "source": "Newer."})
    (upstream / "02-session-data.ipynb").write_text(json.dumps(notebook))
    _run(*args)
    assert '"Mine."' in offered.read_text() and mine.read_bytes() == participant_bytes


def test_course_is_refreshed_every_time_read_only_and_importable_beside_the_notebooks(tmp_path, upstream):
    workspace = tmp_path / "workspace"
    args = ("--notebooks", str(upstream), "--workspace", str(workspace))
    _run(*args)
    course = workspace / "course"
    assert all(p.stat().st_mode & 0o222 == 0 for p in [course, *course.iterdir()])
    (upstream / "course" / "exercises.py").write_text(
        (upstream / "course" / "exercises.py").read_text() + "\nREFRESHED = True\n")
    (upstream / "course" / "tracking.py").unlink()
    _run(*args)
    assert "REFRESHED = True" in (course / "exercises.py").read_text()
    assert not (course / "tracking.py").exists()  # a fresh copy, not a merge
    imported = subprocess.run([sys.executable, "-c", "from course import exercises; print(exercises.REFRESHED)"],
                              cwd=workspace, capture_output=True, text=True, timeout=120)
    assert imported.returncode == 0 and imported.stdout.strip() == "True", imported.stderr


def test_refuses_a_notebook_path_that_is_not_a_regular_file(tmp_path, upstream):
    workspace = tmp_path / "workspace"
    (workspace / "01-live-handshake.ipynb" / "inside").mkdir(parents=True)
    refused = _run("--notebooks", str(upstream), "--workspace", str(workspace), status=2)
    assert refused.stderr.count("\n") == 1 and "01-live-handshake.ipynb exists and is not a regular file" in refused.stderr
    assert (workspace / "01-live-handshake.ipynb" / "inside").is_dir()


def test_the_default_workspace_is_ignored_by_git_and_no_tracked_file_changes():
    before = _tree_digest(NOTEBOOKS)
    _run("-q")
    assert (ROOT / "workspace" / "01-live-handshake.ipynb").is_file()
    paths = ["workspace/01-live-handshake.ipynb", "workspace/course/exercises.py", "workspace/.workspace.json"]
    ignored = subprocess.run(["git", "check-ignore", *paths], cwd=ROOT, capture_output=True, text=True)
    assert ignored.stdout.split() == paths, "workspace/ must be in .gitignore"
    tracked = subprocess.run(["git", "ls-files", "workspace"], cwd=ROOT, capture_output=True, text=True).stdout
    assert tracked == ""
    assert _tree_digest(NOTEBOOKS) == before  # the script only reads notebooks/


def test_files_the_notebooks_read_by_relative_path_are_reached_from_the_workspace_too():
    """A notebook may read ``../data/...`` (relative to notebooks/); workspace/ sits beside notebooks/, so
    the same path reaches the same file from the participants' copy."""
    default = ROOT / "workspace"
    assert default.parent == NOTEBOOKS.parent
    relative = re.compile(r"""Path\(\s*["']\.\.["']\s*\)((?:\s*/\s*["'][^"']+["'])+)|["']\.\./([^"'\s]+)["']""")
    found = []
    for twin in sorted(NOTEBOOKS.glob("[0-9][0-9]-*.py")):
        for joined, literal in relative.findall(twin.read_text()):
            parts = re.findall(r"""["']([^"']+)["']""", joined) if joined else literal.split("/")
            found.append((twin.name, pathlib.Path(*parts)))
    for name, path in found:
        assert (NOTEBOOKS / ".." / path).resolve() == (default / ".." / path).resolve()
        assert (default / ".." / path).exists(), f"{name} reads ../{path}, which is not in the repository"


def test_make_lab_and_postbuild_serve_the_workspace():
    makefile, post_build = (ROOT / "Makefile").read_text(), (ROOT / "postBuild").read_text()
    lab = makefile.split("\nlab:", 1)[1].split("\n\n", 1)[0]
    assert "scripts/workspace.py" in lab and "--ServerApp.root_dir=$(WORKSPACE)" in lab
    assert re.search(r"^WORKSPACE \?= workspace$", makefile, re.M)
    assert "python scripts/workspace.py" in post_build
    readme = (ROOT / "README.md").read_text()
    assert "urlpath=lab/tree/workspace/01-live-handshake.ipynb" in readme


def test_no_emoji_in_what_participants_see():
    """✅/❌ and other emoji render as empty boxes without an emoji font (Debian's chromium has none by
    default); the marks in use are ✓ U+2713 and ✗ U+2717, which DejaVu Sans has."""
    emoji = re.compile("[\U0001F000-\U0001FFFF\u2600-\u26FF\u2700-\u2711\u2714\u2716\u2718-\u27BF\u2B00-\u2BFF]")
    files = [*NOTEBOOKS.glob("[0-9][0-9]-*.py"), *(NOTEBOOKS / "course").glob("*.py"),
             *(ROOT / "gnutls_lab" / "faces").rglob("*.py")]
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not emoji.search(line), f"{path.relative_to(ROOT)}:{number}: {line.strip()}"


@pytest.mark.notebooks
def test_notebook_02_carries_on_without_the_openssl_program(tmp_path):
    """Run All of the participants' 02 on a PATH without `openssl`: no error, and one line says how to
    install it (the OpenSSL comparison is skipped, everything else runs)."""
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    workspace = tmp_path / "workspace"
    _run("--workspace", str(workspace), "-q")
    no_openssl = tmp_path / "bin"
    no_openssl.mkdir()
    for folder in os.environ["PATH"].split(os.pathsep):
        for program in pathlib.Path(folder).glob("*") if os.path.isdir(folder) else ():
            if program.name != "openssl" and not (no_openssl / program.name).exists():
                (no_openssl / program.name).symlink_to(program)
    assert shutil.which("openssl") and not shutil.which("openssl", path=str(no_openssl))
    kernel = tmp_path / "kernels" / "no-openssl"
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "no openssl", "language": "python",
        "env": {"PATH": str(no_openssl), "MPLBACKEND": "module://matplotlib_inline.backend_inline"}}))
    notebook = nbformat.read(workspace / "02-session-data.ipynb", as_version=4)
    manager = KernelManager(kernel_name="no-openssl", kernel_spec_manager=KernelSpecManager(
        kernel_dirs=[str(kernel.parent)]))
    client = NotebookClient(notebook, km=manager, timeout=120, resources={"metadata": {"path": str(workspace)}})
    try:
        client.execute()  # raises CellExecutionError on the first failing cell
    finally:
        if client.kc is not None:
            client.kc.stop_channels()
        if manager.has_kernel:
            manager.shutdown_kernel(now=True)
    printed = "".join(output.get("text", "") + output.get("data", {}).get("text/plain", "")
                      for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs)
    assert printed.count("This section is skipped: openssl not found: install it with `apt-get install openssl`") == 1
    assert "openssl sess_id -in" not in printed  # the comparison did not run
    assert "✗ ticket_lifetime: not yet" in printed  # the exercise check before it ran (on the stub)


# --- A workspace that is, holds, sits inside or links into a tracked folder is refused before anything
# is touched (scripts/workspace.py used to remove notebooks/course/, uncommitted edits and all, first).

def _clone_with_an_edit(tmp_path) -> pathlib.Path:
    """A git clone of this repository (its committed files) with an uncommitted edit in notebooks/course/."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(clone)], check=True, timeout=120)
    shutil.copy(SCRIPT, clone / "scripts" / "workspace.py")  # the script under test, committed or not
    subprocess.run(["git", "update-index", "--assume-unchanged", "scripts/workspace.py"], cwd=clone, check=True)
    with open(clone / "notebooks" / "course" / "checks.py", "a") as edit:
        edit.write("\n# a facilitator's uncommitted edit\n")
    return clone


def _state(clone: pathlib.Path) -> tuple:
    """git's view of the clone, and the bytes and mode of every file and folder (but .git)."""
    status = subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=clone, capture_output=True,
                            text=True, check=True).stdout
    entries = {}
    for path in sorted(clone.rglob("*")):
        if ".git" in path.relative_to(clone).parts:
            continue
        info = path.lstat()
        entries[str(path.relative_to(clone))] = (info.st_mode, path.read_bytes() if path.is_file()
                                                  and not path.is_symlink() else None)
    return status, entries


def _refused(clone: pathlib.Path, workspace: str, expected: str) -> None:
    before = _state(clone)
    result = subprocess.run([sys.executable, str(clone / "scripts" / "workspace.py"), "--workspace", workspace],
                            cwd=clone, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1 and expected in result.stderr and "Traceback" not in result.stderr, \
        result.stderr
    assert result.stdout == ""
    assert _state(clone) == before, "the refused run changed a file, a mode or git's status"


def test_refuses_the_notebooks_folder_itself_as_the_workspace(tmp_path):
    clone = _clone_with_an_edit(tmp_path)
    _refused(clone, "notebooks", "notebooks is " + str(clone / "notebooks"))
    assert "uncommitted edit" in (clone / "notebooks" / "course" / "checks.py").read_text()


def test_make_lab_refuses_the_notebooks_folder_before_starting(tmp_path):
    clone = _clone_with_an_edit(tmp_path)
    before = _state(clone)
    venv = pathlib.Path(sys.prefix)
    result = subprocess.run(["make", "--no-print-directory", "-o", f"{venv}/.lab-installed", "lab", f"VENV={venv}",
                             "WORKSPACE=notebooks", "PORT=1"], cwd=clone, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode != 0 and "a folder of the repository" in result.stderr, result.stderr[-2000:]
    assert "JupyterLab on" not in result.stdout
    assert _state(clone) == before


def test_refuses_a_workspace_inside_or_holding_a_tracked_folder(tmp_path):
    clone = _clone_with_an_edit(tmp_path)
    _refused(clone, "notebooks/mine", "is inside " + str(clone / "notebooks"))
    _refused(clone, "data/spy/mine", "is inside " + str(clone / "data"))
    _refused(clone, ".", "contains ")
    _refused(clone, str(tmp_path), "contains ")


def test_refuses_a_workspace_that_is_a_link_to_a_tracked_folder(tmp_path):
    clone = _clone_with_an_edit(tmp_path)
    (clone / "workspace").symlink_to("notebooks")
    _refused(clone, "workspace", f"(through a link, it is {clone / 'notebooks'}) is ")
    (clone / "workspace").unlink()
    (clone / "workspace").symlink_to("data")
    _refused(clone, "workspace", f"(through a link, it is {clone / 'data'}) is ")


def test_refuses_a_course_folder_linked_into_the_repository(tmp_path):
    clone = _clone_with_an_edit(tmp_path)
    (clone / "workspace").mkdir()
    (clone / "workspace" / "course").symlink_to("../notebooks/course")
    _refused(clone, "workspace", "workspace/course is a link")
    assert (clone / "notebooks" / "course").stat().st_mode & 0o222  # still writable: its mode is untouched
    (clone / "workspace" / "course").unlink()
    (clone / "workspace" / "01-live-handshake.ipynb").symlink_to("../notebooks/01-live-handshake.ipynb")
    _refused(clone, "workspace", "01-live-handshake.ipynb is a link")


def test_a_workspace_beside_the_notebooks_of_a_clone_is_still_made(tmp_path):
    clone = _clone_with_an_edit(tmp_path)
    result = subprocess.run([sys.executable, str(clone / "scripts" / "workspace.py")], cwd=clone,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (clone / "workspace" / "01-live-handshake.ipynb").is_file()
    assert (clone / "workspace" / "course" / "checks.py").is_file()


def test_copies_carry_the_kernels_language_info_so_opening_one_changes_nothing(tmp_path):
    """JupyterLab writes the kernel's ``language_info`` into a notebook as it opens it; a copy without it
    showed the "modified" dot at once (tests/test_browser.py checks the dot itself)."""
    from ipykernel.ipkernel import IPythonKernel

    workspace = tmp_path / "workspace"
    _run("--workspace", str(workspace), "-q")
    for name in UPSTREAM:
        assert json.loads((workspace / name).read_text())["metadata"]["language_info"] == IPythonKernel.language_info


def test_copies_made_before_language_info_are_not_offered_again(tmp_path, upstream):
    """A workspace made by the previous version of the script (copies without ``language_info``) counts as
    up to date: no "(updated)" copy for a notebook that did not change upstream."""
    workspace = tmp_path / "workspace"
    args = ("--notebooks", str(upstream), "--workspace", str(workspace))
    _run(*args)
    manifest = json.loads((workspace / ".workspace.json").read_text())
    for name in UPSTREAM:
        notebook = json.loads((workspace / name).read_text())
        del notebook["metadata"]["language_info"]
        old = (json.dumps(notebook, indent=1, ensure_ascii=False) + "\n").encode()
        (workspace / name).write_bytes(old)
        manifest[name] = {"copied": hashlib.sha256(old).hexdigest()}
    (workspace / ".workspace.json").write_text(json.dumps(manifest))
    assert "updated" not in _run(*args).stdout
    assert not list(workspace.glob("*(updated)*"))
