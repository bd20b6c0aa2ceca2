#!/usr/bin/env python
"""Real-browser test of the course's widgets (`make browser-test`, run by .ci/run after `make test`).

Starts JupyterLab on localhost, drives Debian's Chromium (/usr/bin/chromium) with Playwright (no browser download),
opens notebooks, runs all their cells, and checks that the widgets render and react: notebook 03's playground
(step / play, a setting changed -> the picture changes) and notebook 04's kernel explorer (kernel changed -> the
output image changes). Then a student's pass over the student edition of 01 and 03 (student_in_browser.py): an
exercise answered wrong, with a syntax error, then right; the playground driven, refused values put back. Screenshots
go to build/browser-test/ (the student's under build/browser-test/student/) as artifacts. Exit code 0 only if every
check passed.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import CHROMIUM, FAILURES, OUT, PASSED, ROOT, expect, log  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A JupyterLab server on 127.0.0.1 with a token, notebooks rendered without windowing."""

    def __init__(self):
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.settings = Path(tempfile.mkdtemp(prefix="lab-settings-"))
        tracker = self.settings / "@jupyterlab" / "notebook-extension"
        tracker.mkdir(parents=True)
        (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
        news = self.settings / "@jupyterlab" / "apputils-extension"
        news.mkdir(parents=True)  # no "get notified about Jupyter news?" toast over the screenshots
        (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
        self.workspaces = Path(tempfile.mkdtemp(prefix="lab-ws-"))
        # serve a copy: running cells in the browser must never write outputs into the committed notebooks
        self.root = Path(tempfile.mkdtemp(prefix="lab-notebooks-"))
        for nb in (ROOT / "notebooks").glob("*.ipynb"):
            shutil.copy(nb, self.root / nb.name)
        from student_in_browser import write_student_edition
        write_student_edition(self.root)   # student/: built from the sources now, as make student would

    def __enter__(self):
        jupyter = Path(sys.executable).with_name("jupyter")
        cmd = [str(jupyter), "lab", "--no-browser", f"--port={self.port}", "--ip=127.0.0.1",
               f"--ServerApp.token={self.token}", f"--ServerApp.root_dir={self.root}",
               f"--LabApp.user_settings_dir={self.settings}", f"--LabApp.workspaces_dir={self.workspaces}",
               "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        self.logf = open(OUT / "jupyterlab.log", "w")
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT, env=dict(os.environ))
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"{self.base}/api/status?token={self.token}", timeout=2)
                return self
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("JupyterLab did not start within 90 s; see build/browser-test/jupyterlab.log")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, notebook: str) -> str:
        return f"{self.base}/lab/tree/{notebook}?token={self.token}&reset"

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.logf.close()
        shutil.rmtree(self.settings, ignore_errors=True)
        shutil.rmtree(self.workspaces, ignore_errors=True)
        shutil.rmtree(self.root, ignore_errors=True)


def run_all_cells(page, timeout_s: float = 600) -> None:
    """Run every cell through JupyterLab's own command (Run > Run All Cells), wait until the kernel is done."""
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
    page.click(".jp-Notebook")
    page.click("li.lm-MenuBar-item:has-text('Run')")
    page.click("li.lm-Menu-item:has-text('Run All Cells')")
    time.sleep(2)
    deadline = time.time() + timeout_s
    stopped_since = None
    while time.time() < deadline:
        prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
        busy = any("*" in p for p in prompts)
        numbered = [p for p in prompts if any(ch.isdigit() for ch in p)]
        last_done = bool(prompts) and any(ch.isdigit() for ch in prompts[-1])
        if not busy and last_done and len(numbered) >= len(prompts) // 2:
            return
        # nothing queued any more but the last cell never ran: Run All stopped at an error (say which at once)
        stopped_since = (stopped_since or time.time()) if numbered and not busy else None
        if stopped_since and time.time() - stopped_since > 10:
            errs = errors_in_page(page)
            raise RuntimeError(f"Run All stopped after {len(numbered)} of {len(prompts)} code cells"
                               + (f": {errs[0]!r}" if errs else " with no error shown"))
        time.sleep(1)
    raise TimeoutError("cells still running after %d s" % timeout_s)


def errors_in_page(page) -> list[str]:
    texts = page.locator(".jp-OutputArea-output").all_inner_texts()
    bad = [t for t in texts if "Traceback (most recent call last)" in t or "Error displaying widget" in t
           or "CHECK FAILED" in t or "Error rendering" in t]
    return [b[:300] for b in bad]


def digest(locator) -> str:
    return hashlib.sha256(locator.screenshot()).hexdigest()


def wait_for_change(locator, before: str, timeout_s: float = 20) -> bool:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if digest(locator) != before:
            return True
        time.sleep(0.5)
    return False


def shot_path(name: str, what: str) -> Path:
    """build/browser-test/<folder of the notebook in the Lab>/<notebook stem>_<what>.png"""
    return (OUT / name).with_name(f"{Path(name).stem}_{what}.png")


def open_notebook(page, lab: Lab, name: str):
    log(f"{name}: opening and running all cells")
    page.goto(lab.url(name))
    t0 = time.time()
    run_all_cells(page)
    log(f"  all cells executed in {time.time() - t0:.0f} s")
    page.screenshot(path=str(shot_path(name, "full")), full_page=False)
    errs = errors_in_page(page)
    expect(not errs, f"{name}: no error in any output" + (f" (found: {errs[0]!r})" if errs else ""))


# ---- notebook-specific interactions -------------------------------------------------------------
def check_basic(page, lab: Lab, name: str) -> None:
    open_notebook(page, lab, name)


SCENARIOS: dict[str, callable] = {"01_perceptron.ipynb": check_basic}
# the widget scenarios, kept beside this file, import this module by name: make that name this very module
# (also when it runs as a script), so that their checks land in the same FAILURES / PASSED lists
sys.modules.setdefault("widgets_in_browser", sys.modules[__name__])
sys.path.insert(0, str(Path(__file__).parent))
from scenarios import SCENARIOS as EXTRA  # noqa: E402
from student_in_browser import SCENARIOS as STUDENT  # noqa: E402

SCENARIOS.update(EXTRA)
SCENARIOS.update(STUDENT)   # last: the student's pass after the instructor notebooks


def main(argv=None) -> int:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    names = argv or [n for n in SCENARIOS if (ROOT / "notebooks" / Path(n).name).exists()]
    if not Path(CHROMIUM).exists():
        log(f"Chromium not found at {CHROMIUM}: install Debian's chromium (apt-get install chromium)")
        return 2
    with Lab() as lab, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.set_default_timeout(60_000)
        for name in names:
            t0 = time.time()
            try:
                SCENARIOS[name](page, lab, name)
            except Exception as exc:  # a scenario that crashes is a failure, with a screenshot
                page.screenshot(path=str(shot_path(name, "crash")))
                expect(False, f"{name}: {type(exc).__name__}: {exc}")
            log(f"  {name}: {time.time() - t0:.0f} s")
        browser.close()
    log(f"screenshots in {OUT}")
    for f in FAILURES:
        log(f"FAILED: {f}")
    log(f"browser: {len(PASSED)} passed, {len(FAILURES)} failed")
    return 1 if FAILURES or not PASSED else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
