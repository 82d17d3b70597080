"""The workshop as a participant sees it: JupyterLab in Debian's chromium, driven by Playwright.

JupyterLab is started by ``make lab`` itself (this interpreter's environment as the venv, the install
step taken as done, 127.0.0.1, a free port, a random token), on a temporary participants' folder that
``scripts/workspace.py`` fills as it does for a workshop. In that lab the test:

- lists the file browser: one entry per notebook and ``course/``, no twin, no solutions;
- opens every notebook, finds it not marked modified, runs all its cells, finds no error output, saves it
  and closes it;
- moves one control of every widget and sees its output change (the widgets of each notebook are
  found on the page; an unknown kind of widget fails the test until it is taught here);
- finds ``gnutls-lab`` on the PATH of a lab terminal and of a kernel's subprocess;
- finds no tracked file of the repository changed, and no new entry in the file browser.

Screenshots go to ``artifacts/`` (gitignored). JupyterLab is shut down whatever happens. Playwright
drives the system chromium (``/usr/bin/chromium``); it never downloads a browser.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import secrets
import signal
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
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
VENV = pathlib.Path(sys.prefix)
KERNEL_START = 90_000  # ms: a first kernel on a busy 2-core machine
WIDGET_OUTPUT = ".jp-OutputArea-output:has(> .jupyter-widgets)"  # a widget view shown by a cell
# The widgets the notebooks show, by the CSS class of their root: gnutls-lab's own (gnutls_lab.faces: _stepper, _blob_inspector...,
# class "gl-...") and a plain ipywidgets slider (00); anything else fails the test.
PLAIN_WIDGETS = ("widget-slider",)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tracked_state() -> tuple:
    """What git says about the tracked files of notebooks/ (the rest of the tree may be someone's work in
    progress), and the bytes of each of them."""
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "notebooks"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    listed = subprocess.run(["git", "ls-files", "notebooks"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.split()
    digests = {name: hashlib.sha256((ROOT / name).read_bytes()).hexdigest() for name in listed
               if (ROOT / name).is_file()}
    return status, digests


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """``make lab`` on a temporary workspace; yields (base_url, token, workspace, log_path)."""
    tmp = tmp_path_factory.mktemp("lab")
    # The workspace sits beside notebooks/ as in a clone, so that notebooks reading ../data/... find it:
    # a folder that links to every top-level entry of the repository, and holds its own workspace/.
    clone = tmp / "repository"
    clone.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in ("workspace", ".git"):
            (clone / entry.name).symlink_to(entry)
    workspace = clone / "workspace"
    config = tmp / "config"
    (config / "labconfig").mkdir(parents=True)
    # No "receive Jupyter news?" toast over the screenshots (the announcements plugin).
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")}
    env.update(JUPYTER_CONFIG_DIR=str(config), JUPYTER_RUNTIME_DIR=str(tmp / "runtime"))
    lab_args = (f"--IdentityProvider.token={token} --ServerApp.port_retries=0 --LabApp.news_url=None "
                f"--LabApp.workspaces_dir={tmp / 'lab-workspaces'} --LabApp.expose_app_in_browser=True")
    # -o: the install step counts as done (this environment is the venv); the recipe runs as written.
    command = ["make", "--no-print-directory", "-o", f"{VENV}/.lab-installed", "lab", f"VENV={VENV}",
               f"PORT={port}", f"WORKSPACE={workspace}", f"LAB_ARGS={lab_args}"]
    log = tmp / "make-lab.log"
    with open(log, "w") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            assert server.poll() is None, f"make lab exited:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"JupyterLab did not answer in 120 s:\n{log.read_text()[-3000:]}"
            time.sleep(0.3)
        yield base, token, workspace, log
    finally:
        try:
            request = urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST")
            urllib.request.urlopen(request, timeout=5).close()
            server.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            os.killpg(server.pid, signal.SIGTERM)  # make, its shell and JupyterLab: the group we started
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


@pytest.fixture(scope="module")
def page(lab):
    from playwright.sync_api import sync_playwright

    base, token, _, _ = lab
    assert pathlib.Path(CHROMIUM).exists(), "Debian's chromium is missing: apt-get install chromium"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 1000})
            tab.goto(f"{base}/lab?token={token}", timeout=60_000)
            tab.wait_for_selector(".jp-DirListing-item", timeout=60_000)
            yield tab
        finally:
            browser.close()


def _listing(page) -> list:
    page.evaluate("async () => { await window.jupyterapp.commands.execute('filebrowser:refresh'); }")
    page.wait_for_timeout(500)
    return sorted(page.locator(".jp-DirListing-item .jp-DirListing-itemText").all_inner_texts())


def _open_and_run(page, name: str) -> None:
    page.evaluate(f"async () => {{ await window.jupyterapp.commands.execute('docmanager:open', {{path: {json.dumps(name)}}}); }}")
    page.wait_for_function(
        "name => { const w = window.jupyterapp.shell.currentWidget;"
        " return w && w.context && w.context.path === name && w.content.widgets.length > 0; }",
        arg=name, timeout=60_000)
    page.wait_for_function(
        "() => { const w = window.jupyterapp.shell.currentWidget;"
        " const k = w.sessionContext.session && w.sessionContext.session.kernel;"
        " return k && k.status === 'idle'; }", timeout=KERNEL_START)
    # Opening it changed nothing: no "modified" dot (the copy carries the kernel's language_info).
    page.wait_for_timeout(1000)
    assert not page.evaluate("() => window.jupyterapp.shell.currentWidget.context.model.dirty"), \
        f"{name} shows as modified right after it opened"
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    # Done when every code cell ran (an execution count) and the kernel is idle again.
    page.wait_for_function(
        "() => { const w = window.jupyterapp.shell.currentWidget;"
        " const cells = w.content.widgets.filter(c => c.model.type === 'code');"
        " return cells.every(c => c.model.executionCount !== null)"
        "   && w.sessionContext.session.kernel.status === 'idle'; }", timeout=120_000)


def _errors(page) -> list:
    """The error outputs of the open notebook (from its model: what a saved file would hold)."""
    return page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.widgets.filter(c => c.model.type === 'code')"
        ".flatMap(c => c.model.outputs.toJSON()).filter(o => o.output_type === 'error')"
        ".map(o => o.ename + ': ' + o.evalue)")


def _snapshot(widget) -> str:
    """What a widget shows: its text and the images it draws."""
    return widget.evaluate("w => w.textContent + [...w.querySelectorAll('img')].map(i => i.src).join('')")


def _move_one_control(page, widget) -> str:
    """Operate one control of ``widget`` (a list, a toggle, a slider) and wait until what it shows
    changes; return what was done."""
    before = _snapshot(widget)
    select = widget.locator("select").first
    toggle = widget.locator("button.jupyter-button:not(.mod-active)").first
    slider = widget.locator(".noUi-handle, .slider-handle").first
    if select.count():
        current = select.evaluate("s => s.selectedIndex")
        count = select.evaluate("s => s.options.length")
        select.select_option(index=(current + 1) % count)
        action = f"picked option {(current + 1) % count} of a list"
    elif toggle.count():
        action = f"clicked {toggle.inner_text().strip()!r}"
        toggle.click()
    elif slider.count():
        slider.focus()
        slider.press("ArrowRight")
        action = "moved a slider"
    else:
        raise AssertionError(f"a widget without a list, button or slider: {before[:200]!r}")
    deadline = time.monotonic() + 60
    while _snapshot(widget) == before:
        assert time.monotonic() < deadline, f"{action}: the widget did not change in 60 s"
        page.wait_for_timeout(200)
    return action


def _exercise_widgets(page, name: str) -> list:
    """Every widget output of the open notebook: its kind, and one control moved."""
    done = []
    outputs = page.locator(f".jp-NotebookPanel:visible {WIDGET_OUTPUT}")
    for index in range(outputs.count()):
        output = outputs.nth(index)
        output.scroll_into_view_if_needed()
        kinds = output.evaluate(
            "(o, plain) => { const root = o.querySelector(':scope > .jupyter-widgets');"
            " return [...root.classList].filter(c => c.startsWith('gl-') || plain.includes(c)); }",
            list(PLAIN_WIDGETS))
        if not kinds and output.locator(".widget-progress").count():
            continue  # a tqdm progress bar (a run that took more than a second): nothing to move
        assert kinds, (f"{name}: a widget of an unknown kind; teach tests/test_browser.py how to move it: "
                       f"{output.evaluate('o => o.innerHTML')[:300]}")
        widget = output.locator("." + kinds[0]).first
        if kinds[0] == "gl-handshake-stepper":  # "next" reaches the kernel and moves to the second message
            assert "Message 1 of" in widget.locator(".gl-step").text_content()
            widget.locator("button:has-text('next')").click()
            widget.locator(".gl-step:has-text('Message 2 of')").wait_for(timeout=30_000)
        done.append((kinds[0], _move_one_control(page, widget)))
    return done


def _cut_labels(page, root: str) -> list:
    """Labels of the buttons and of every option of the lists inside ``root`` (in the notebook on show) that
    do not fit their control: an ellipsis where a participant should read the whole label."""
    return page.evaluate(
        """root => {
            const panel = [...document.querySelectorAll('.jp-NotebookPanel')].find(p => p.offsetParent !== null);
            const canvas = document.createElement('canvas').getContext('2d');
            const cut = [];
            for (const widget of panel.querySelectorAll(root)) {
                for (const button of widget.querySelectorAll('button'))
                    if (button.scrollWidth > button.clientWidth + 1) cut.push(button.textContent.trim());
                for (const select of widget.querySelectorAll('select')) {
                    canvas.font = getComputedStyle(select).font;
                    for (const option of select.options)  // the arrow and padding take about 24 px
                        if (canvas.measureText(option.text).width > select.clientWidth - 24) cut.push(option.text);
                }
            }
            return cut;
        }""", root)


def _run_in_terminal(page, command: str, marker: str) -> str:
    """Open a lab terminal, type ``command``, and return its output once ``marker`` appears."""
    return page.evaluate(
        """async ([command, marker]) => {
            const terminals = window.jupyterapp.serviceManager.terminals;
            const session = await terminals.startNew();
            let out = '';
            session.messageReceived.connect((_, msg) => { if (msg.type === 'stdout') out += msg.content[0]; });
            const started = Date.now();
            while (session.connectionStatus !== 'connected' && Date.now() - started < 30000)
                await new Promise(r => setTimeout(r, 100));
            session.send({type: 'stdin', content: [command + '\\r']});
            while (!out.includes(marker) && Date.now() - started < 60000)
                await new Promise(r => setTimeout(r, 100));
            await session.shutdown();
            return out;
        }""", [command, marker])


def _run_in_kernel(page, code: str) -> str:
    return page.evaluate(
        """async code => {
            const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
            let out = '';
            const future = kernel.requestExecute({code});
            future.onIOPub = msg => { if (msg.header.msg_type === 'stream') out += msg.content.text; };
            await future.done;
            return out;
        }""", code)


def test_the_workshop_in_jupyterlab(lab, page):
    base, token, workspace, log = lab
    tracked_before = _tracked_state()
    assert len(NOTEBOOKS) >= 6

    # The participants' folder: one entry per notebook, the exercise checks, no twins, no solutions.
    listed = _listing(page)
    assert listed == sorted(NOTEBOOKS + ["course"]), listed
    assert not any("solution" in entry for entry in listed)
    page.screenshot(path=str(ARTIFACTS / "browser-file-browser.png"))

    widgets_moved = {}
    for name in NOTEBOOKS:
        _open_and_run(page, name)
        errors = _errors(page)
        assert not errors, f"{name}: {errors[0][:2000]}"
        widgets_moved[name] = _exercise_widgets(page, name)
        if name == "04-ticket-reuse-and-tracking.ipynb":
            assert not _cut_labels(page, ".gl-experiment-explorer"), _cut_labels(page, ".gl-experiment-explorer")
        if name == NOTEBOOKS[0]:
            # A kernel's subprocess finds the command line as the README writes it.
            found = _run_in_kernel(page, "import shutil, subprocess\nprint(shutil.which('gnutls-lab'))\n"
                                         "print(subprocess.run(['gnutls-lab', 'info', '--json'], capture_output=True,"
                                         " text=True).stdout)")
            assert found.splitlines()[0] == str(VENV / "bin" / "gnutls-lab"), found
            assert json.loads(found.split("\n", 1)[1])["gnutls_version"]
        if name == "02-session-data.ipynb":  # ✓ and ✗ are drawn as glyphs, not as empty boxes
            check = page.locator(".jp-NotebookPanel:visible .gl-check").first
            check.scroll_into_view_if_needed()
            check.screenshot(path=str(ARTIFACTS / "browser-exercise-check.png"))
        page.screenshot(path=str(ARTIFACTS / f"browser-{pathlib.Path(name).stem}.png"))
        page.evaluate("async () => { await window.jupyterapp.commands.execute('docmanager:save'); }")
        page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000)
        page.evaluate("async () => { const w = window.jupyterapp.shell.currentWidget;"
                      " await w.sessionContext.shutdown(); w.close(); }")

    # The widgets the notebooks hold today, each moved once (a notebook may add more).
    assert [kind for kind, _ in widgets_moved["00-setup-check.ipynb"]] == ["widget-slider"]
    assert [kind for kind, _ in widgets_moved["01-live-handshake.ipynb"]] == ["gl-handshake-stepper"] * 2
    assert "gl-blob-inspector" in [kind for kind, _ in widgets_moved["02-session-data.ipynb"]]
    assert "gl-experiment-explorer" in [kind for kind, _ in widgets_moved["04-ticket-reuse-and-tracking.ipynb"]]
    (ARTIFACTS / "browser-widgets-moved.json").write_text(json.dumps(widgets_moved, indent=1))

    # A lab terminal has the venv first on PATH: `gnutls-lab` works as the README writes it.
    output = _run_in_terminal(page, "command -v gnutls-lab; gnutls-lab info --json >/dev/null && echo RESULT-$((6*7))",
                              "RESULT-42")
    assert "RESULT-42" in output and str(VENV / "bin" / "gnutls-lab") in output, output[-2000:]

    # Running and saving changed no tracked file, and left no new entry (no .py twin) beside the notebooks.
    assert _listing(page) == sorted(NOTEBOOKS + ["course"])
    assert sorted(p.name for p in workspace.iterdir() if not p.name.startswith(".")) == sorted(NOTEBOOKS + ["course"])
    saved = json.loads((workspace / "01-live-handshake.ipynb").read_text())
    assert any(cell.get("outputs") for cell in saved["cells"]), "the saved copy holds the run's outputs"
    assert _tracked_state() == tracked_before
