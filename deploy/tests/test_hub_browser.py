"""Two participants in a browser (Debian's chromium, driven by Playwright as tests/test_browser.py does): each
logs in through the form of the hub `make hub` started, with the workshop code, lands in JupyterLab on their own workspace, opens
notebook 01 (not marked modified), runs its first cell, and sees none of the other's files, nor their server.
Screenshots go to artifacts/ (hub-browser-*.png)."""

from __future__ import annotations

import json
import os
import pathlib
import pwd

import pytest
from conftest import ARTIFACTS

import throwaway

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser_hub(install):
    """`make hub` itself (install step taken as done: make test-hub ran it), on its own port and state."""
    with throwaway.ThrowawayHub(install, server_args="--LabApp.expose_app_in_browser=True", via_make=True) as running:
        yield running


def _log_in(context, hub, name: str, password: str):
    page = context.new_page()
    page.set_viewport_size({"width": 1300, "height": 900})
    page.goto(f"{hub.url}/hub/login", timeout=60_000)
    page.fill("#username_input", name)
    page.fill("#password_input", password)
    page.fill("#otp_input", hub.code)
    page.screenshot(path=str(ARTIFACTS / "hub-browser-login.png"))
    page.click("#login_submit")
    page.wait_for_selector(".jp-DirListing-item", timeout=300_000)  # through spawn-pending to JupyterLab
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=60_000)
    return page


def _listing(page) -> list:
    page.evaluate("async () => { await window.jupyterapp.commands.execute('filebrowser:refresh'); }")
    page.wait_for_timeout(500)
    return sorted(page.locator(".jp-DirListing-item .jp-DirListing-itemText").all_inner_texts())


def _open_and_run_first_cell(page, name: str) -> str:
    page.evaluate(f"async () => {{ await window.jupyterapp.commands.execute('docmanager:open', {{path: {json.dumps(name)}}}); }}")
    page.wait_for_function(
        "name => { const w = window.jupyterapp.shell.currentWidget;"
        " const k = w && w.context && w.context.path === name && w.sessionContext.session"
        "   && w.sessionContext.session.kernel; return k && k.status === 'idle'; }", arg=name, timeout=120_000)
    page.wait_for_timeout(1500)
    dirty = page.evaluate("() => window.jupyterapp.shell.currentWidget.context.model.dirty")
    assert not dirty, f"{name} shows as modified right after it opened"
    # the first code cell (a notebook opens with its title, then the environment check: STYLE.md)
    first = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets"
                          ".findIndex(c => c.model.type === 'code')")
    assert first >= 0, f"{name} has no code cell"
    page.evaluate("async index => { const w = window.jupyterapp.shell.currentWidget; w.content.activeCellIndex = index;"
                  " await window.jupyterapp.commands.execute('notebook:run-cell'); }", first)
    page.wait_for_function(
        "index => { const c = window.jupyterapp.shell.currentWidget.content.widgets[index];"
        " return c.model.executionCount !== null && c.model.outputs.length > 0; }", arg=first, timeout=120_000)
    outputs = page.evaluate("index => window.jupyterapp.shell.currentWidget.content.widgets[index].model.outputs"
                            ".toJSON()", first)
    assert not [o for o in outputs if o["output_type"] == "error"], outputs
    return json.dumps(outputs)


def test_two_participants_in_a_browser_each_in_their_own_workspace(browser_hub):
    from playwright.sync_api import sync_playwright

    hub = browser_hub
    assert pathlib.Path(CHROMIUM).exists(), "Debian's chromium is missing: apt-get install chromium"
    assert f"workshop code {hub.code}" in hub.log.read_text()  # make hub tells the facilitator the code
    ARTIFACTS.mkdir(exist_ok=True)
    notebooks = sorted(p.name for p in (hub.install / "share" / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            pages = {}
            for name in ("gwen", "hugo"):  # a context each: two people, two sets of cookies
                pages[name] = _log_in(browser.new_context(), hub, name, f"{name}-password")
            homes = {name: pwd.getpwnam(f"glhubt-{name}").pw_dir for name in pages}
            with open(os.path.join(homes["hugo"], "workspace", "hugo-only.txt"), "w") as private:
                private.write("hugo's")
            for name, page in pages.items():
                output = _open_and_run_first_cell(page, "01-live-handshake.ipynb")
                assert "GnuTLS" in output, output[:500]
                page.screenshot(path=str(ARTIFACTS / f"hub-browser-{name}.png"))
            assert _listing(pages["gwen"]) == sorted(notebooks + ["course"])
            assert "hugo-only.txt" in _listing(pages["hugo"])
            # Gwen asks for Hugo's server: the hub refuses (a participant is no admin).
            reply = pages["gwen"].goto(f"{hub.url}/user/glhubt-hugo/lab", timeout=60_000)
            assert reply.status in (403, 404) or "glhubt-gwen" in pages["gwen"].url, (reply.status, pages["gwen"].url)
            assert "hugo-only" not in pages["gwen"].content()
            pages["gwen"].screenshot(path=str(ARTIFACTS / "hub-browser-refused.png"))
        finally:
            browser.close()
