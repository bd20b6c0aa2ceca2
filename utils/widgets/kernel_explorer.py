"""Notebook 04's kernel explorer (ipywidgets): choose an image, a preset or typed kernel, padding, stride and pooling,
and see input, kernel and output side by side; its callback is :func:`utils.images.explore`.

Stable hooks for browser tests: every control has a ``description`` and a CSS class ``ke-<name>``: ke-image,
ke-preset, ke-kernel, ke-padding, ke-stride, ke-pooling; the picture is ke-picture and the message line ke-message.
"""
from __future__ import annotations

import numpy as np

from ..errors import SettingError
from ..images import KERNEL_TEXT, KERNELS, POOLINGS, _image, _kernel_label, explore, render_explore

__all__ = ["KernelExplorer"]


class KernelExplorer:
    """Choose an image, a preset kernel (or type nine numbers), padding, stride and pooling; see input, kernel
    and output side by side. ``images`` maps names to 2-D arrays. Drive it from code with :meth:`set`
    (returns False and shows the message on a bad setting); :attr:`result` is the last :func:`explore`."""

    def __init__(self, images: dict, kernel: str = "edge detection 3", padding: int = 0, stride: int = 1,
                 pooling: str = "none"):
        import ipywidgets as W

        if not images:
            raise SettingError("KernelExplorer needs at least one image")
        self.images = {str(k): _image(v, f"image {k!r}") for k, v in images.items()}
        first = next(iter(self.images))
        lay, wide = W.Layout, {"description_width": "initial"}
        c = {
            "image": W.Dropdown(options=list(self.images), value=first, description="image", style=wide,
                                layout=lay(width="300px")),
            "preset": W.Dropdown(options=list(KERNELS) + ["custom"], value="custom", description="preset kernel",
                                 style=wide, layout=lay(width="330px")),
            "kernel": W.Textarea(value="", description="kernel (3 rows of 3 numbers)", style=wide,
                                 placeholder="0 -1 0\n-1 5 -1\n0 -1 0", continuous_update=False,
                                 layout=lay(width="330px", height="80px")),
            "padding": W.IntSlider(value=0, min=0, max=3, description="padding", continuous_update=False),
            "stride": W.IntSlider(value=1, min=1, max=3, description="stride", continuous_update=False),
            "pooling": W.Dropdown(options=list(POOLINGS), value="none", description="pooling",
                                  layout=lay(width="220px")),
        }
        for k, w in c.items():
            w.add_class(f"ke-{k}")
        self.controls = c
        self.message = W.HTML()
        self.message.add_class("ke-message")
        self.picture = W.Image(format="png", layout=lay(width="840px"))
        self.picture.add_class("ke-picture")
        self.result = None
        self._syncing = False
        self.settings = {"image": first, "kernel": "identity", "padding": 0, "stride": 1, "pooling": "none"}
        c["preset"].observe(lambda ch: self._on_preset(ch["new"]), "value")
        c["kernel"].observe(lambda ch: self._on_control("kernel", ch["new"]), "value")
        for key in ("image", "padding", "stride", "pooling"):
            c[key].observe(lambda ch, key=key: self._on_control(key, ch["new"]), "value")
        self.view = W.VBox([W.HBox([c["image"], c["preset"], c["pooling"]]),
                            W.HBox([c["kernel"], W.VBox([c["padding"], c["stride"]])]),
                            self.message, self.picture])
        if not self.set(kernel=kernel, padding=padding, stride=stride, pooling=pooling):
            raise SettingError(self.last_error)

    def _ipython_display_(self):  # ipywidgets 7 (Colab's) and 8 alike: show the widget box
        from IPython.display import display

        display(self.view)

    def __repr__(self):
        return f"KernelExplorer({self.settings})"

    # ---- plain callbacks ------------------------------------------------------------------------
    def set(self, **changes) -> bool:
        """Change settings (image, kernel, padding, stride, pooling) as the controls would; redraw. On a bad
        setting, keep the last picture, show the message and return False."""
        unknown = set(changes) - set(self.settings)
        if unknown:
            return self._fail(SettingError(f"unknown setting(s) {sorted(unknown)}; use {sorted(self.settings)}"))
        new = {**self.settings, **changes}
        if new["image"] not in self.images:
            return self._fail(SettingError(f"image must be one of {list(self.images)}, got {new['image']!r}"))
        try:
            result = explore(self.images[new["image"]], new["kernel"], new["padding"], new["stride"], new["pooling"])
        except SettingError as exc:
            return self._fail(exc)
        self.settings, self.result, self.last_error = new, result, None
        self.picture.value = render_explore(result)
        self.message.value = f"<span style='color:#2a7'>{result['summary']}</span>"
        self._sync()
        return True

    def _fail(self, exc) -> bool:
        self.last_error = str(exc)
        self.message.value = f"<b style='color:#c00'>\u26a0 {exc}</b>"
        return False

    def _sync(self):
        """Show the current settings in the controls without triggering callbacks."""
        self._syncing = True
        try:
            s, c = self.settings, self.controls
            k = s["kernel"]
            preset = k if isinstance(k, str) and k.strip() in KERNELS else None
            if preset is None:
                K = self.result["kernel"]
                preset = next((n for n, P in KERNELS.items() if np.allclose(P, K)), "custom")
            c["preset"].value = preset
            c["kernel"].value = KERNEL_TEXT[preset] if preset in KERNEL_TEXT else (
                k if isinstance(k, str) else "\n".join(" ".join(_kernel_label(v) for v in row)
                                                       for row in self.result["kernel"]))
            for key in ("image", "padding", "stride", "pooling"):
                c[key].value = s[key]
        finally:
            self._syncing = False

    def _on_preset(self, name):
        if not self._syncing and name != "custom":
            self.set(kernel=name)

    def _on_control(self, key, value):
        if not self._syncing:
            self.set(**{key: value})
