"""What Binder (and a repo2docker image on a hub) shows: postBuild installs deploy/binder/'s server config, and
a Jupyter server with it lists no .py twin of a notebook, while the notebooks, course/'s modules and other .py
files stay listed (checked against a real Jupyter server with jupytext, as the image has)."""

from __future__ import annotations

import json
import os
import pathlib
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request

from conftest import HUB
from throwaway import free_port

ROOT = HUB.parent.parent


def test_postbuild_installs_the_file_browser_config_in_an_image(tmp_path):
    prefix = tmp_path / "env"
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "deploy" / "binder", repo / "deploy" / "binder")
    post_build = (ROOT / "postBuild").read_text()
    block = post_build[post_build.index("# The file browser of an image"):]
    installed = prefix / "etc" / "jupyter" / "jupyter_server_config.json"
    installed.parent.mkdir(parents=True)
    installed.write_text(json.dumps({"ServerApp": {"open_browser": False}}))  # a setting already there stays
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    ran = subprocess.run(["bash", "-euc", block], cwd=repo, env=dict(os.environ, REPO_DIR=str(repo),
                         NB_PYTHON_PREFIX=str(prefix), PATH=f"{bin_dir}:{os.environ['PATH']}"),
                         capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    ours = json.loads((ROOT / "deploy/binder/jupyter_server_config.json").read_text())
    assert json.loads(installed.read_text()) == {"ServerApp": {"open_browser": False}, **ours}


def test_the_file_browser_lists_no_py_twin(tmp_path):
    config = tmp_path / "config"
    config.mkdir(parents=True)
    shutil.copy(ROOT / "deploy" / "binder" / "jupyter_server_config.json", config / "jupyter_server_config.json")
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_PATH=str(tmp_path / "config"), JUPYTER_CONFIG_DIR=str(tmp_path / "user"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    server = subprocess.Popen([sys.executable, "-m", "jupyter_server", "--allow-root", f"--port={port}",
                               "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
                               f"--ServerApp.root_dir={ROOT}", "--ServerApp.port_retries=0"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        def listing(path):
            deadline = time.monotonic() + 90
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents/{path}?token={token}",
                                                timeout=10) as reply:
                        return sorted(entry["name"] for entry in json.load(reply)["content"])
                except OSError:
                    assert server.poll() is None and time.monotonic() < deadline, "the Jupyter server did not answer"
                    time.sleep(0.5)

        notebooks = listing("notebooks")
        twins = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.py"))
        assert len(twins) >= 8 and not set(twins) & set(notebooks), notebooks
        assert {p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")} <= set(notebooks)
        assert "exercises.py" in listing("notebooks/course") and "setup.py" in listing("")
    finally:
        server.terminate()
        server.wait(timeout=30)
