"""The workshop as a participant sees it: JupyterLab in Debian's chromium, driven by Playwright.

Starts JupyterLab (this interpreter, 127.0.0.1, a free port, a random token) on a temporary copy of
``notebooks/``, opens ``01-live-handshake.ipynb``, runs all cells, checks that the handshake stepper
rendered as a live widget (its buttons reach the kernel) and that the resumed verdict is shown, and
saves a screenshot to ``artifacts/`` (gitignored). JupyterLab is shut down whatever happens.
Playwright drives the system chromium (``/usr/bin/chromium``); it never downloads a browser.
"""

from __future__ import annotations

import json
import os
import pathlib
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

pytestmark = pytest.mark.browser

ROOT = pathlib.Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
NOTEBOOK = "01-live-handshake.ipynb"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab server on a copy of the notebooks; yields (base_url, token, log_path)."""
    workdir = tmp_path / "notebooks"
    workdir.mkdir()
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):  # not the .py twins: jupytext would pair them
        shutil.copy(notebook, workdir)
    config = tmp_path / "config"
    (config / "labconfig").mkdir(parents=True)
    # No "receive Jupyter news?" toast over the screenshot (the announcements plugin).
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               MPLBACKEND="module://matplotlib_inline.backend_inline")
    log = tmp_path / "jupyterlab.log"
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={workdir}", f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
               "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None"]
    if os.geteuid() == 0:  # containers and CI run as root; the server is still bound to 127.0.0.1 only
        command.append("--allow-root")
    with open(log, "w") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=workdir)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            assert server.poll() is None, f"JupyterLab exited:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"JupyterLab did not answer in 60 s:\n{log.read_text()[-3000:]}"
            time.sleep(0.3)
        yield base, token, log
    finally:
        try:
            request = urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST")
            urllib.request.urlopen(request, timeout=5).close()
            server.wait(timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def test_live_handshake_notebook_runs_in_jupyterlab(jupyterlab):
    from playwright.sync_api import sync_playwright

    base, token, log = jupyterlab
    assert pathlib.Path(CHROMIUM).exists(), "Debian's chromium is missing: apt-get install chromium"
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "browser-01-live-handshake.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}", timeout=60_000)
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
            # Wait for the kernel, then run everything through JupyterLab's own command.
            page.wait_for_function(
                "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                " const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;"
                " return k && k.status === 'idle'; }", timeout=60_000)
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
            # Done when every code cell has an execution count and the kernel is idle again.
            page.wait_for_function(
                "() => { const w = window.jupyterapp.shell.currentWidget;"
                " const cells = w.content.widgets.filter(c => c.model.type === 'code');"
                " return cells.every(c => c.model.executionCount !== null)"
                "   && w.sessionContext.session.kernel.status === 'idle'; }", timeout=90_000)
            errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
                                  ":has-text('Traceback'), .jp-OutputArea-output:has-text('Traceback (most recent')")
            assert errors.count() == 0, errors.first.inner_text()
            # The steppers rendered as live widgets, not as their text repr.
            steppers = page.locator(".gl-handshake-stepper")
            assert steppers.count() == 2, "expected two handshake steppers (the full and the resumed handshake)"
            assert page.locator("text=HandshakeStepper(").count() == 0
            last = steppers.last
            last.scroll_into_view_if_needed()
            verdict = last.locator(".gl-verdict")
            assert "resumed" in verdict.inner_text() and "full handshake" not in verdict.inner_text()
            # The widget talks to the kernel: "next" moves to the second message of the resumed handshake.
            assert "Message 1 of" in last.locator(".gl-step").inner_text()
            last.locator("button:has-text('next')").click()
            page.wait_for_function(
                "() => [...document.querySelectorAll('.gl-handshake-stepper')].pop()"
                ".querySelector('.gl-step').innerText.includes('Message 2 of')", timeout=20_000)
            assert "SERVER HELLO" in last.locator(".gl-step").inner_text()
            # The connection's own HTML verdict and the sequence diagram are on the page too.
            assert page.locator(".jp-OutputArea-output img").count() == 2  # two sequence diagrams, each once
            page.wait_for_timeout(300)
            last.screenshot(path=str(screenshot))
            page.screenshot(path=str(ARTIFACTS / "browser-01-live-handshake-page.png"))
        finally:
            browser.close()
    assert screenshot.stat().st_size > 10_000
