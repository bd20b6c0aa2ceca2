"""Widget scenarios of the real-browser test (imported by widgets_in_browser.py).

Each scenario opens its notebook, runs every cell in JupyterLab, then drives the widget through the stable CSS
classes the widget code promises (``pg-*`` in utils/widgets/playground.py, ``ke-*`` in utils/widgets/kernel_explorer.py) and checks what a
student would see: the picture changes when a control changes, the epoch counter moves when training runs, a bad
setting gives a readable message instead of a traceback.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

from widgets_in_browser import OUT, digest, expect, log, open_notebook, wait_for_change


def _epoch(page, box) -> int:
    text = box.locator(".pg-epoch").first.inner_text()
    m = re.search(r"(\d[\d,\s]*)", text.replace("\u202f", " "))
    return int(re.sub(r"[^\d]", "", m.group(1))) if m else -1


def _widget(page, lab, name: str, picture_css: str, what: str):
    """Open the notebook, check that the widget's picture shows; return it and the output area holding it (its
    controls are looked up in the same output)."""
    open_notebook(page, lab, name)
    picture = page.locator(picture_css).first
    picture.scroll_into_view_if_needed()
    expect(picture.is_visible(), f"{name}: {what} is visible")
    return picture, page.locator(".jp-OutputArea-output", has=page.locator(picture_css)).first


def playground(page, lab, name: str) -> None:
    """Notebook 03: the first playground (the slide's circle set-up) steps, plays, pauses, resets, re-configures."""
    picture, box = _widget(page, lab, name, "img.pg-picture", "the playground picture")

    e0 = _epoch(page, box)
    before = digest(picture)
    box.locator("button.pg-step").first.click()
    changed = wait_for_change(picture, before)
    e1 = _epoch(page, box)
    expect(changed and e1 == e0 + 1, f"{name}: 'step' trains one epoch ({e0} -> {e1}) and redraws the picture")

    box.locator("button.pg-play").first.click()
    time.sleep(4)
    e2 = _epoch(page, box)
    box.locator("button.pg-play").first.click()  # pause
    time.sleep(1.5)
    e3 = _epoch(page, box)
    time.sleep(2)
    e4 = _epoch(page, box)
    expect(e2 > e1 + 5, f"{name}: 'play' trains continuously (epoch {e1} -> {e2} in 4 s)")
    expect(e4 == e3, f"{name}: 'pause' stops training (epoch {e3} then {e4} two seconds later)")
    page.screenshot(path=str(OUT / "03_playground_played.png"))

    before = digest(picture)
    box.locator(".pg-dataset select").first.select_option("xor")
    expect(wait_for_change(picture, before), f"{name}: choosing the XOR data set redraws the picture")

    before = digest(picture)
    box.locator("button.pg-feature-x1sq").first.click()
    expect(wait_for_change(picture, before), f"{name}: switching the X1^2 feature on redraws the network")

    box.locator("button.pg-reset").first.click()
    time.sleep(2)
    expect(_epoch(page, box) == 0, f"{name}: 'reset' puts the epoch counter back to 0")
    picture.scroll_into_view_if_needed()
    page.screenshot(path=str(OUT / "03_playground_after.png"))
    errors = [t for t in box.locator(".pg-message").all_inner_texts() if "Traceback" in t]
    expect(not errors, f"{name}: no traceback in the playground's message line")


def kernel_explorer(page, lab, name: str) -> None:
    """Notebook 04: the kernel explorer redraws on a new preset and a typed kernel, and explains a bad kernel."""
    picture, box = _widget(page, lab, name, "img.ke-picture", "the kernel explorer's picture")

    preset = box.locator(".ke-preset select").first
    options = [o for o in preset.locator("option").all_inner_texts() if o.strip() and o.strip() != "custom"]
    current = preset.input_value()
    target = next(o for o in options if o != current)
    before = digest(picture)
    preset.select_option(target)
    expect(wait_for_change(picture, before), f"{name}: choosing the preset '{target}' redraws the output image")

    kernel = box.locator(".ke-kernel textarea").first
    before = digest(picture)
    kernel.fill("0 -1 0\n-1 4 -1\n0 -1 0")
    kernel.press("Tab")  # a Textarea sends its value on blur when continuous_update is off
    expect(wait_for_change(picture, before), f"{name}: typing a kernel redraws the output image")

    kernel.fill("1 2\n3")
    kernel.press("Tab")
    time.sleep(2)
    message = box.locator(".ke-message").first.inner_text()
    expect(bool(message.strip()) and "Traceback" not in message,
           f"{name}: a malformed kernel gives a readable message ({message.strip()[:80]!r})")
    picture.scroll_into_view_if_needed()
    page.screenshot(path=str(OUT / "04_kernel_explorer.png"))


SCENARIOS = {
    "03_mlp_playground.ipynb": playground,
    "04_convolution_kernels.ipynb": kernel_explorer,
}
