#!/usr/bin/env python3
"""Create or update the participants' folder, ``workspace/``, from ``notebooks/``.

    python scripts/workspace.py            # then: jupyter lab workspace/   (`make lab` does both)

``workspace/`` is not tracked by git (it is in .gitignore): participants open, run, edit and save
the notebooks there, and a ``git pull`` of the repository never conflicts with their work.

What it holds, and what happens on every run:

- ``NN-topic.ipynb``: a copy of each ``notebooks/NN-topic.ipynb``, made only when the participant
  has none. A participant's notebook is never overwritten. When the repository's notebook changed
  since the participant's copy was made, the new version is offered beside it as
  ``NN-topic (updated).ipynb`` (refreshed on later runs unless the participant edited it).
  The copies lose their jupytext pairing, so saving one never writes a ``.py`` twin beside it.
- ``course/``: the exercise checks the notebooks import (``from course import exercises``),
  replaced by a fresh copy on every run and marked read-only.
- Not copied: the ``.py`` twins and the exercise solutions (``notebooks/solutions/``).

Files the notebooks read from the repository (``../data/...``: paths relative
to ``notebooks/``) are not copied: ``workspace/`` sits beside ``notebooks/``, so the same relative paths
reach the same files from either folder. A workspace elsewhere (``--workspace``) gets a warning unless
a ``data`` beside it leads to the same folder (the hub's participants have a link ``~/data``).

The workspace must be the participants' own: it is refused, before anything is written, when it is,
contains or is inside a folder that holds tracked files of the repository (``notebooks/``, ``data/``...;
the repository's top folder only may hold it, as it holds ``workspace/``), or the notebooks folder it
copies from, whether named directly or reached through a link; and when an entry the script writes
(``course/``, a notebook's copy, the manifest) is a link.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pathlib
import shutil
import stat
import subprocess
import sys
import tempfile

REPOSITORY = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOK_PATTERN = "[0-9][0-9]-*.ipynb"
MANIFEST = ".workspace.json"  # which repository version each copy came from (hidden in JupyterLab)
READ_ONLY_FILE = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
READ_ONLY_DIR = READ_ONLY_FILE | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH


class WorkspaceError(Exception):
    """Something in the participants' folder this script must not replace."""


def tracked_folders(repository: pathlib.Path) -> set[pathlib.Path]:
    """The folders (resolved) below ``repository`` that hold files git tracks, the top folder excepted;
    empty when git is not installed or ``repository`` is not a git work tree (a Binder image may have no
    ``.git``)."""
    try:
        listed = subprocess.run(["git", "-C", str(repository), "ls-files", "-z"], capture_output=True,
                                timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    top = repository.resolve()
    folders = set()
    for name in listed.decode("utf-8", "surrogateescape").split("\0"):
        for parent in pathlib.PurePosixPath(name).parents:
            if str(parent) != ".":
                folders.add(top / parent)
    return folders


def check_workspace(notebooks: pathlib.Path, workspace: pathlib.Path, protected: set[pathlib.Path]) -> None:
    """Refuse a workspace that would write into, replace or change the mode of a tracked folder.

    ``protected`` holds resolved folders (tracked ones, and the notebooks folder): the workspace, once
    every link on its way is followed, must not be one of them, hold one, or sit inside one. Nothing is
    created or changed here; this runs before anything else does."""
    target = workspace.resolve()
    for folder in sorted({notebooks.resolve(), *protected}):
        if target == folder:
            relation = "is"
        elif folder.is_relative_to(target):
            relation = "contains"
        elif target.is_relative_to(folder):
            relation = "is inside"
        else:
            continue
        through = "" if target == workspace.absolute() else f" (through a link, it is {target})"
        raise WorkspaceError(f"{workspace}{through} {relation} {folder}, a folder of the repository: the"
                             " workspace must be a folder of its own (the default is workspace/ beside notebooks/)")
    if target.is_dir():
        entries = [MANIFEST, "course", *(p.name for p in notebooks.glob(NOTEBOOK_PATTERN))]
        entries += [f"{pathlib.Path(name).stem} (updated).ipynb" for name in entries[2:]]
        for name in entries:
            if (target / name).is_symlink():
                raise WorkspaceError(f"{target / name} is a link; the workspace's files must be its own:"
                                     " move it away and run again")


def language_info() -> dict:
    """The ``language_info`` metadata the kernel reports (ipykernel's ``IPythonKernel.language_info``), for
    the Python that runs this script, which is the kernel's in ``make lab``, on the hub and on Binder.

    JupyterLab writes the kernel's ``language_info`` into a notebook as it opens: a copy without it (or
    with another Python's version) shows the "modified" dot at once and asks to be saved on close."""
    return {"codemirror_mode": {"name": "ipython", "version": sys.version_info[0]}, "file_extension": ".py",
            "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
            "pygments_lexer": f"ipython{sys.version_info[0]}", "version": sys.version.split()[0]}


def _serialise(notebook: dict) -> bytes:
    return (json.dumps(notebook, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def participant_copy(source: pathlib.Path) -> bytes:
    """The notebook as participants get it: the same cells, without the jupytext pairing, with the
    kernel's ``language_info`` (so that opening it changes nothing)."""
    notebook = json.loads(source.read_text(encoding="utf-8"))
    notebook.get("metadata", {}).pop("jupytext", None)
    notebook.setdefault("metadata", {})["language_info"] = language_info()
    return _serialise(notebook)


def digest(data: bytes) -> str:
    """The digest of a copy's content: its bytes as this script writes them, ``language_info`` left out (it
    follows the Python in use, and copies made before it was added must count as the same version)."""
    try:
        notebook = json.loads(data)
        notebook.get("metadata", {}).pop("language_info", None)
        data = _serialise(notebook)
    except (ValueError, AttributeError):
        pass  # not a notebook (or not one any more): its raw bytes
    return hashlib.sha256(data).hexdigest()


def write_new_file(path: pathlib.Path, data: bytes) -> None:
    """Write ``path`` through a temporary file in the same folder, then rename it into place."""
    if path.exists() and not path.is_file():
        raise WorkspaceError(f"{path} exists and is not a regular file; move it away and run again")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def refresh_course(source: pathlib.Path, target: pathlib.Path) -> None:
    """Replace ``target`` with a read-only copy of ``source`` (no byte-code caches)."""
    if target.exists():
        for folder, _, _ in os.walk(target):
            os.chmod(folder, stat.S_IRWXU)
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for folder, _, files in os.walk(target, topdown=False):
        for name in files:
            os.chmod(os.path.join(folder, name), READ_ONLY_FILE)
        os.chmod(folder, READ_ONLY_DIR)


def update_workspace(notebooks: pathlib.Path, workspace: pathlib.Path) -> list[str]:
    """Bring ``workspace`` up to date with ``notebooks``; return one line per thing done."""
    workspace.mkdir(exist_ok=True)
    manifest_path = workspace / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        manifest = {}
    done = []
    for source in sorted(notebooks.glob(NOTEBOOK_PATTERN)):
        data = participant_copy(source)
        copy = workspace / source.name
        offered = copy.with_name(f"{copy.stem} (updated){copy.suffix}")
        record = manifest.setdefault(source.name, {})
        for path in (copy, offered):
            if path.exists() and not path.is_file():
                raise WorkspaceError(f"{path} exists and is not a regular file; move it away and run again")
        if not copy.exists():
            write_new_file(copy, data)
            record.update(copied=digest(data))
            record.pop("offered", None)
            done.append(f"copied {source.name}")
        elif record.get("copied") not in (None, digest(data)) and digest(copy.read_bytes()) != digest(data):
            untouched_offer = not offered.exists() or digest(offered.read_bytes()) == record.get("offered")
            if untouched_offer and record.get("offered") != digest(data):
                write_new_file(offered, data)
                record["offered"] = digest(data)
                done.append(f"{source.name} changed in the repository: the new version is {offered.name}")
        elif record.get("copied") is None:
            record["copied"] = digest(copy.read_bytes())  # a copy made before the manifest existed
    refresh_course(notebooks / "course", workspace / "course")
    done.append("refreshed course/ (read-only)")
    write_new_file(manifest_path, (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Create or update the participants' folder from notebooks/.")
    parser.add_argument("--notebooks", type=pathlib.Path, default=REPOSITORY / "notebooks",
                        help="the repository's notebooks folder (default: notebooks/ of this repository)")
    parser.add_argument("--workspace", type=pathlib.Path, default=REPOSITORY / "workspace",
                        help="the participants' folder (default: workspace/ of this repository)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing when all went well")
    args = parser.parse_args(argv)
    try:
        check_workspace(args.notebooks, args.workspace, tracked_folders(REPOSITORY))
    except (WorkspaceError, OSError) as exc:
        print(f"workspace: {exc}", file=sys.stderr)
        return 2
    if (args.workspace.resolve().parent / "data").resolve() != (args.notebooks.resolve().parent / "data").resolve():
        print(f"workspace: note: {args.workspace} is not beside {args.notebooks} (nor is a link to its data/"
              " beside it), so notebooks that read ../data/... will not find it there", file=sys.stderr)
    try:
        done = update_workspace(args.notebooks, args.workspace)
    except (WorkspaceError, OSError) as exc:
        print(f"workspace: {exc}", file=sys.stderr)
        return 2
    for line in done:
        if not args.quiet:
            print(f"workspace: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
