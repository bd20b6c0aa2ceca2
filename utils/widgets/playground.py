"""Notebook 03's TensorFlow-Playground widget: ipywidgets controls around :class:`utils.playground_engine.Engine`.

The picture (network diagram with a heat-map per neuron, links coloured by the weight's sign and as thick as |w|,
the output heat-map over [-6, 6]^2 with the data, the loss curves) is drawn by matplotlib into a PNG shown in an
``ipywidgets.Image``. Every callback is a plain method (:meth:`Playground.set`, :meth:`~Playground.step`,
:meth:`~Playground.reset`, :meth:`~Playground.regenerate`), so a notebook drives the widget from code and runs
headless; only play / pause needs a live kernel (an asyncio task on Jupyter's event loop).

Stable hooks for browser tests: every control has a ``description`` and a CSS class ``pg-<name>``: pg-play,
pg-step, pg-reset, pg-regenerate, pg-dataset, pg-problem, pg-ratio, pg-noise, pg-batch, pg-show-test,
pg-discretize, pg-feature-<x1|x2|x1sq|x2sq|x1x2|sinx1|sinx2>, pg-hidden, pg-add-layer, pg-remove-layer,
pg-activation, pg-lr, pg-regularization, pg-reg-rate; the picture is pg-picture, the epoch counter pg-epoch and
messages pg-message.
"""
from __future__ import annotations

import asyncio
import io
import time

import numpy as np

from ..errors import SettingError
from ..playground_engine import ACTIVATIONS, DATASETS, DOMAIN, FEATURES, MAX_LAYERS, MAX_NEURONS, Engine

__all__ = ["Playground", "render", "Renderer", "plot_output", "CMAP_COLORS"]

#: the page's colours: orange for negative, blue for positive values
CMAP_COLORS = ["#f59322", "#e8eaeb", "#0877bd"]
_CSS_FEATURE = {"x1": "x1", "x2": "x2", "x1^2": "x1sq", "x2^2": "x2sq", "x1*x2": "x1x2", "sin(x1)": "sinx1",
                "sin(x2)": "sinx2"}


def _cmap():
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("playground", CMAP_COLORS)


def _grid(n):
    t = np.linspace(-DOMAIN, DOMAIN, n)
    g1, g2 = np.meshgrid(t, t[::-1])           # row 0 at the top: x2 = +6
    return np.column_stack([g1.ravel(), g2.ravel()])


class Renderer:
    """Draws an engine's state into one matplotlib figure, reusing the figure between redraws (fast)."""

    def __init__(self, figsize=(12.5, 4.8), dpi=80, out_res=64, neuron_res=20):
        from matplotlib.figure import Figure
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.fig = Figure(figsize=figsize, dpi=dpi, layout="none")
        FigureCanvasAgg(self.fig)
        self.ax_net = self.fig.add_axes([0.005, 0.02, 0.60, 0.92])
        side = 0.58 * figsize[1] / figsize[0]
        self.ax_out = self.fig.add_axes([0.655, 0.31, side, 0.58])
        self.ax_loss = self.fig.add_axes([0.67, 0.115, 0.235, 0.13])
        self.cmap = _cmap()
        self.out_grid, self.neuron_grid = _grid(out_res), _grid(neuron_res)
        self.out_res, self.neuron_res = out_res, neuron_res
        self._signature = None
        self._background = None
        self._build_output()

    # ---- network diagram ------------------------------------------------------------------------
    def _layout(self, eng):
        """Node centres in 'map pixel' units: a neuron's square is exactly one r x r heat-map."""
        r = self.neuron_res
        self.col_step, self.row_step = int(round(3.1 * r)), 2 * int(round(0.7 * r))
        pos = []
        for k, n in enumerate(eng.sizes):
            ys = ((n - 1) / 2 - np.arange(n)) * self.row_step        # integers (row_step is even)
            pos.append(np.column_stack([np.full(n, k * self.col_step + r / 2), ys]))
        return pos

    def _build_net(self, eng):
        from matplotlib.collections import LineCollection, PatchCollection
        from matplotlib.patches import Rectangle

        ax = self.ax_net
        ax.clear()
        ax.set_axis_off()
        pos = self.pos = self._layout(eng)
        r = self.neuron_res
        h = r / 2  # half size of a neuron's square
        segs = [[(a[0] + h, a[1]), (b[0] - h, b[1])] for k in range(len(pos) - 1) for a in pos[k] for b in pos[k + 1]]
        self.links = LineCollection(segs, zorder=1, animated=True)
        ax.add_collection(self.links)
        # all neuron heat-maps live in one transparent image (one image draws much faster than thirty)
        self.half_height = int(MAX_NEURONS * self.row_step / 2)
        width = len(pos) * self.col_step
        self.canvas = np.full((2 * self.half_height, width), np.nan)
        self.net_image = ax.imshow(self._rgba(self.canvas), extent=(0, width, -self.half_height, self.half_height),
                                   interpolation="nearest", zorder=2, animated=True)
        self.blocks = [[(int(self.half_height - (y + h)), int(x - h)) for x, y in p] for p in pos]
        ax.add_collection(PatchCollection([Rectangle((x - h, y - h), r, r) for p in pos for x, y in p],
                                          facecolor="none", edgecolor="0.35", linewidth=0.8, zorder=3))
        names = [FEATURES[f][0] for f in eng.settings["features"]]
        for (x, y), name in zip(pos[0], names):
            ax.text(x - h - 3, y, name, ha="right", va="center", fontsize=11)
        top = max(len(p) for p in pos) * self.row_step / 2
        for k in range(1, len(pos) - 1):
            n = len(pos[k])
            ax.text(pos[k][0, 0], top, f"{n} neuron{'s' if n > 1 else ''}", ha="center", va="bottom", fontsize=11)
        ax.text(pos[0][0, 0], top, "features", ha="center", va="bottom", fontsize=11)
        ax.text(pos[-1][0, 0], top, "output", ha="center", va="bottom", fontsize=11)
        n_hidden = len(pos) - 2
        ax.set_title(f"{n_hidden} hidden layer{'s' if n_hidden != 1 else ''}: colours show data, neuron and "
                     "weight values (blue > 0, orange < 0)", fontsize=11)
        x0, x1, y0, y1 = -2.2 * r, width, -top - 0.5 * r, top + 1.2 * r
        ax.set_aspect("auto")                       # squares stay square through the limits below
        bbox = ax.get_position(original=True)
        ratio = (bbox.width * self.fig.get_figwidth()) / (bbox.height * self.fig.get_figheight())
        if (x1 - x0) / (y1 - y0) < ratio:            # widen or heighten the limits so that squares stay square
            pad = ((y1 - y0) * ratio - (x1 - x0)) / 2
            x0, x1 = x0 - pad, x1 + pad
        else:
            pad = ((x1 - x0) / ratio - (y1 - y0)) / 2
            y0, y1 = y0 - pad, y1 + pad
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        self._background = None                     # the static parts changed: draw them again

    # ---- whole picture --------------------------------------------------------------------------
    def draw(self, eng, show_test=False, discretize=False):
        """Update every artist from the engine's current state."""
        s = eng.settings
        sig = (tuple(s["features"]), tuple(s["hidden"]))
        if sig != self._signature:
            self._build_net(eng)
            self._signature = sig
        # neuron heat-maps (inputs and hidden neurons scaled to [-1, 1] when they leave it)
        r = self.neuron_res
        outs = eng.neuron_outputs(self.neuron_grid)
        for k, (blocks, A) in enumerate(zip(self.blocks, outs)):
            scale = np.maximum(np.abs(A).max(axis=0), 1.0) if k < len(outs) - 1 else np.ones(A.shape[1])
            A = np.nan_to_num(A / scale, nan=0.0)
            for j, (row, col) in enumerate(blocks):
                self.canvas[row:row + r, col:col + r] = A[:, j].reshape(r, r)
        self.net_image.set_data(self._rgba(self.canvas))
        # links: colour by sign, thickness by |w|
        w = np.concatenate([W.ravel() for W in eng.W])
        w = np.nan_to_num(w)
        self.links.set_color(np.where(w[:, None] > 0, _rgba(CMAP_COLORS[2]), _rgba(CMAP_COLORS[0])))
        self.links.set_linewidth(np.clip(0.4 + 1.6 * np.abs(w), 0.4, 8.0))
        # output heat-map with the data
        self._draw_output(eng, show_test, discretize)
        self._draw_loss(eng)

    def _build_output(self):
        ax = self.ax_out
        self.out_image = ax.imshow(self._rgba(np.zeros((2, 2))), extent=(-DOMAIN, DOMAIN, -DOMAIN, DOMAIN),
                                   interpolation="bilinear", animated=True)
        # classification: four marker lines (fast to draw); regression: scatters coloured by the label
        mk = dict(ls="none", marker="o", ms=4, mew=0.8)
        self.dots = {(part, sign): ax.plot([], [], mfc=CMAP_COLORS[2 if sign > 0 else 0],
                                           mec="white" if part == "train" else "black", animated=True, **mk)[0]
                     for part in ("train", "test") for sign in (1, -1)}
        kw = dict(cmap=self.cmap, vmin=-1, vmax=1, s=14, linewidths=0.8)
        self.reg_dots = {part: ax.scatter([], [], c=[], edgecolors="white" if part == "train" else "black",
                                          animated=True, **kw)
                         for part in ("train", "test")}
        ax.set_xlim(-DOMAIN, DOMAIN)
        ax.set_ylim(-DOMAIN, DOMAIN)
        ax.set_xticks([-6, 6])
        ax.set_yticks([-6, 6])
        ax.grid(False)
        ax.set_xlabel("x1", labelpad=-8)
        ax.set_ylabel("x2", labelpad=-8)
        self.out_title = ax.set_title("", fontsize=11)
        self.out_title.set_animated(True)
        ax = self.ax_loss                      # log10 of the loss on a linear axis: cheaper than a log axis
        (self.train_line,) = ax.plot([], [], color="0.2", lw=1.2, label="training", animated=True)
        (self.test_line,) = ax.plot([], [], color="#0877bd", lw=1.2, label="test", animated=True)
        from matplotlib.ticker import FuncFormatter, MaxNLocator

        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{10 ** v:.2g}"))
        ax.tick_params(labelsize=10)
        ax.set_xlabel("epoch", fontsize=10, labelpad=0)
        ax.set_ylabel("loss", fontsize=10)
        ax.legend(fontsize=9, loc="center left", bbox_to_anchor=(1.01, 0.5), handlelength=1.2, frameon=False)
        self._loss_limits = None               # the frame and ticks are redrawn only when these change

    def _draw_output(self, eng, show_test, discretize):
        out = eng.predict(self.out_grid).reshape(self.out_res, self.out_res)
        if discretize:
            out = np.where(out >= 0, 1.0, -1.0)
        self.out_image.set_data(self._rgba(out))
        self.out_image.set_interpolation("nearest" if discretize else "bilinear")
        classify = eng.settings["problem"] == "classification"
        for part, X, y in (("train", eng.X_train, eng.y_train), ("test", eng.X_test, eng.y_test)):
            shown = part == "train" or show_test
            for sign in (1, -1):
                sel = (y * sign > 0) if (classify and shown) else np.zeros(len(y), bool)
                self.dots[(part, sign)].set_data(X[sel, 0], X[sel, 1])
            dots = self.reg_dots[part]
            dots.set_offsets(X if (shown and not classify) else np.empty((0, 2)))
            dots.set_array(y if (shown and not classify) else np.empty(0))
        self.out_title.set_text(f"output  ·  epoch {eng.epoch}\ntest loss {eng.loss_test:.3f}  ·  training loss "
                                f"{eng.loss_train:.3f}")

    def _draw_loss(self, eng):
        h = eng.history
        with np.errstate(divide="ignore", invalid="ignore"):
            tr, te = np.log10(np.asarray(h["train"], float)), np.log10(np.asarray(h["test"], float))
        self.train_line.set_data(h["epoch"], tr)
        self.test_line.set_data(h["epoch"], te)
        both = np.concatenate([tr, te])
        both = both[np.isfinite(both)]
        lo, hi = (both.min(), both.max()) if len(both) else (-3.0, 0.0)
        # rounded limits (whole decades of loss, epochs 1, 2, 5, 10, 20 ...): they change seldom, so the frame and
        # ticks stay in the background and a redraw draws only the two curves
        bottom = np.floor(lo - 0.2)
        limits = (bottom, max(np.ceil(hi + 0.2), bottom + 1), _nice_ceil(max(1, eng.epoch)))
        if limits != self._loss_limits:
            self.ax_loss.set_ylim(limits[0], limits[1])
            self.ax_loss.set_xlim(0, limits[2])
            self._loss_limits = limits
            self._background = None

    def _rgba(self, values):
        """Values in [-1, 1] (NaN: transparent) as an RGBA image: cheaper to draw than a colour-mapped array."""
        return self.cmap.with_extremes(bad=(0, 0, 0, 0))((np.asarray(values) + 1) / 2, bytes=True)

    def png(self) -> bytes:
        """The figure as PNG bytes. The static parts (texts, frames) are drawn once and kept as a background;
        each redraw pastes it and draws only the changing artists (blitting), then encodes at a fast zlib level."""
        from PIL import Image

        canvas = self.fig.canvas
        if self._background is None:
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.fig.bbox)
        else:
            canvas.restore_region(self._background)
        for artist in (self.links, self.net_image, self.out_image, *self.dots.values(), *self.reg_dots.values(),
                       self.out_title, self.train_line, self.test_line):
            self.fig.draw_artist(artist)
        buf = io.BytesIO()
        Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3]).save(buf, format="png", compress_level=1)
        return buf.getvalue()


def _nice_ceil(x: float) -> float:
    """The smallest of 1, 2, 5, 10, 20, 50 ... that is at least ``x``."""
    k = 10.0 ** np.floor(np.log10(x))
    return float(next(m * k for m in (1, 2, 5, 10) if m * k >= x))


def _rgba(hex_color):
    from matplotlib.colors import to_rgba

    return np.array(to_rgba(hex_color, 0.85))


def render(engine: Engine, show_test: bool = False, discretize: bool = False, renderer: Renderer | None = None):
    """Draw ``engine`` and return the matplotlib figure (for notebooks and saved PNGs)."""
    renderer = renderer or Renderer()
    renderer.draw(engine, show_test, discretize)
    return renderer.fig


def plot_output(engine: Engine, ax=None, title=None, show_test=True):
    """The output heat-map over [-6, 6]^2 with the data (orange -1, blue +1), in a matplotlib axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(3.6, 3.6))
    grid = _grid(80)
    ax.imshow(engine.predict(grid).reshape(80, 80), extent=(-DOMAIN, DOMAIN, -DOMAIN, DOMAIN), cmap=_cmap(),
              vmin=-1, vmax=1, interpolation="bilinear")
    kw = dict(cmap=_cmap(), vmin=-1, vmax=1, s=10, linewidths=0.6)
    ax.scatter(engine.X_train[:, 0], engine.X_train[:, 1], c=engine.y_train, edgecolors="white", **kw)
    if show_test:
        ax.scatter(engine.X_test[:, 0], engine.X_test[:, 1], c=engine.y_test, edgecolors="black", **kw)
    ax.set_xlim(-DOMAIN, DOMAIN)
    ax.set_ylim(-DOMAIN, DOMAIN)
    ax.grid(False)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    if title is not None:
        ax.set_title(title, fontsize=10)
    return ax


# ----------------------------------------------------------------------------------------------
# the widget
# ----------------------------------------------------------------------------------------------
def _parse_hidden(text) -> list:
    """Neuron counts from the text box ('4, 2') or a list (checked by the engine's ``validate``)."""
    if isinstance(text, (list, tuple)):
        return list(text)
    text = str(text).strip().strip("[]()")
    if not text:
        return []
    try:
        return [int(v) for v in text.replace(";", ",").split(",") if v.strip()]
    except ValueError:
        raise SettingError(f"hidden layers: write neuron counts separated by commas, such as '4, 2' "
                           f"(got {text!r})") from None


class Playground:
    """The TensorFlow Playground in a notebook. ``pg = Playground(dataset="xor")``; display it with ``pg``.

    Drive it from code with :meth:`set` (any engine setting, also ``show_test`` and ``discretize``), :meth:`step`,
    :meth:`reset`, :meth:`regenerate`; :meth:`play` / :meth:`pause` run training live in Jupyter. The engine
    (:attr:`engine`) holds the data and weights; :meth:`state_dict` / :meth:`load_state_dict` save and restore
    everything; :meth:`to_torch` exports the network.
    """

    def __init__(self, engine: Engine | None = None, **settings):
        import ipywidgets as W

        view_opts = {k: settings.pop(k) for k in ("show_test", "discretize") if k in settings}
        self.engine = engine if engine is not None else Engine(**settings)
        self.renderer = Renderer()
        self.redraw_seconds = float("nan")
        self._syncing = False
        self._task = None
        self.playing = False
        s = self.engine.settings
        lay = W.Layout
        c = {}
        c["play"] = W.ToggleButton(value=False, description="play", icon="play", tooltip="play / pause training",
                                   layout=lay(width="90px"))
        c["step"] = W.Button(description="step", icon="step-forward", tooltip="train one epoch",
                             layout=lay(width="90px"))
        c["reset"] = W.Button(description="reset", icon="undo", tooltip="new random weights, epoch 0",
                              layout=lay(width="90px"))
        c["dataset"] = W.Dropdown(options=list(DATASETS), value=s["dataset"], description="dataset",
                                  layout=lay(width="220px"))
        c["problem"] = W.Dropdown(options=["classification", "regression"], value=s["problem"],
                                  description="problem type", style={"description_width": "initial"},
                                  layout=lay(width="250px"))
        c["regenerate"] = W.Button(description="regenerate", tooltip="draw new data", layout=lay(width="110px"))
        c["train_ratio"] = W.IntSlider(value=s["train_ratio"], min=10, max=90, step=10,
                                       description="train ratio %", continuous_update=False,
                                       style={"description_width": "initial"})
        c["noise"] = W.IntSlider(value=s["noise"], min=0, max=50, step=5, description="noise",
                                 continuous_update=False)
        c["batch_size"] = W.IntSlider(value=s["batch_size"], min=1, max=30, description="batch size",
                                      continuous_update=False)
        c["show_test"] = W.Checkbox(value=view_opts.get("show_test", False), description="show test data",
                                    indent=False, layout=lay(width="140px"))
        c["discretize"] = W.Checkbox(value=view_opts.get("discretize", False), description="discretize output",
                                     indent=False, layout=lay(width="150px"))
        for f, (label, _) in FEATURES.items():
            c[f"feature:{f}"] = W.ToggleButton(value=f in s["features"], description=label,
                                               tooltip=f"use feature {label}", layout=lay(width="72px"))
        c["hidden"] = W.Text(value=", ".join(map(str, s["hidden"])), description="hidden layers",
                             placeholder="e.g. 4, 2", continuous_update=False,
                             style={"description_width": "initial"}, layout=lay(width="220px"))
        c["add_layer"] = W.Button(description="+ layer", tooltip="add a hidden layer", layout=lay(width="80px"))
        c["remove_layer"] = W.Button(description="- layer", tooltip="remove the last hidden layer",
                                     layout=lay(width="80px"))
        c["activation"] = W.Dropdown(options=list(ACTIVATIONS), value=s["activation"], description="activation",
                                     layout=lay(width="200px"))
        c["lr"] = W.FloatText(value=s["lr"], description="learning rate", style={"description_width": "initial"},
                              layout=lay(width="190px"))
        c["regularization"] = W.Dropdown(options=["none", "L1", "L2"], value=s["regularization"],
                                         description="regularization", style={"description_width": "initial"},
                                         layout=lay(width="200px"))
        c["reg_rate"] = W.FloatText(value=s["reg_rate"], description="reg. rate",
                                    style={"description_width": "initial"}, layout=lay(width="160px"))
        css = {"train_ratio": "ratio", "batch_size": "batch", "show_test": "show-test", "add_layer": "add-layer",
               "remove_layer": "remove-layer", "reg_rate": "reg-rate"}
        for k, w in c.items():
            name = ("feature-" + _CSS_FEATURE[k.split(":", 1)[1]]) if k.startswith("feature:") else css.get(k, k)
            w.add_class(f"pg-{name}")
        self.controls = c
        self.epoch_label = W.HTML(layout=lay(width="auto", min_width="400px"))   # one line: see redraw()
        self.epoch_label.add_class("pg-epoch")
        self.message = W.HTML()
        self.message.add_class("pg-message")
        self.picture = W.Image(format="png", layout=lay(width="1000px"))
        self.picture.add_class("pg-picture")

        # wiring: each control calls a plain method
        c["step"].on_click(lambda _: self.step(1))
        c["reset"].on_click(lambda _: self.reset())
        c["regenerate"].on_click(lambda _: self.regenerate())
        c["add_layer"].on_click(lambda _: self._add_layer(+1))
        c["remove_layer"].on_click(lambda _: self._add_layer(-1))
        c["play"].observe(lambda ch: self.play() if ch["new"] else self.pause(), "value")
        for key in ("dataset", "problem", "train_ratio", "noise", "batch_size", "activation", "lr",
                    "regularization", "reg_rate", "hidden", "show_test", "discretize"):
            c[key].observe(lambda ch, key=key: self._on_control(key, ch["new"]), "value")
        for f in FEATURES:
            c[f"feature:{f}"].observe(lambda ch: self._on_control("features", self._features_from_controls()),
                                      "value")

        row = W.HBox
        self.view = W.VBox([
            row([c["play"], c["step"], c["reset"], self.epoch_label]),
            row([c["problem"], c["dataset"], c["regenerate"], c["show_test"], c["discretize"]]),
            row([c["train_ratio"], c["noise"], c["batch_size"]]),
            row([W.Label("features:")] + [c[f"feature:{f}"] for f in FEATURES]),
            row([c["hidden"], c["add_layer"], c["remove_layer"], c["activation"]]),
            row([c["lr"], c["regularization"], c["reg_rate"]]),
            self.message, self.picture,
        ])
        self.redraw()

    # ---- display --------------------------------------------------------------------------------
    def _ipython_display_(self):  # ipywidgets 7 (Colab's) and 8 alike: show the widget box
        from IPython.display import display

        display(self.view)

    def __repr__(self):
        return f"Playground({self.engine!r})"

    # ---- plain callbacks (also called from code) ------------------------------------------------
    def set(self, **changes) -> bool:
        """Change settings as if the controls had been used; returns False (and shows why) on a bad value."""
        view = {k: changes.pop(k) for k in ("show_test", "discretize") if k in changes}
        if "hidden" in changes:
            try:
                changes["hidden"] = _parse_hidden(changes["hidden"])
            except SettingError as exc:
                return self._refuse(exc, ["hidden"])
        try:
            self.engine.set(**changes)
        except SettingError as exc:
            return self._refuse(exc, list(changes))
        for k, v in view.items():
            self._sync(k, bool(v))
        self._sync_all()
        self.message.value = ""
        self.redraw()
        return True

    def step(self, epochs: int = 1):
        """Train ``epochs`` epochs and redraw."""
        self.engine.train(epochs)
        self._warn_if_diverged()
        self.redraw()
        return self

    def reset(self):
        """New random weights (the next weight seed, as the page's reset button draws new ones), epoch 0."""
        self.engine.set(init_seed=self.engine.settings["init_seed"] + 1)
        self.message.value = ""
        self.redraw()

    def regenerate(self):
        """Draw new data (next data seed)."""
        self.engine.regenerate()
        self.redraw()

    def play(self):
        """Train continuously (Jupyter only): an asyncio task steps and redraws until :meth:`pause`."""
        if self._task is not None and not self._task.done():
            return
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:
            loop = None
        if loop is None or not loop.is_running():
            self._fail("play needs a running Jupyter kernel; from code use pg.step(n)")
            self._sync("play", False)
            return
        self.playing = True
        self._sync("play", True)
        self._task = loop.create_task(self._run())

    def pause(self):
        self.playing = False
        self._sync("play", False)

    async def _run(self, frame_seconds: float = 0.08):
        epochs = 1
        while self.playing and not self.engine.diverged:
            t0 = time.perf_counter()
            self.engine.train(epochs)
            dt = time.perf_counter() - t0
            epochs = int(np.clip(epochs * frame_seconds / max(dt, 1e-4), 1, 50))  # about one frame of training
            self.redraw()
            await asyncio.sleep(0.01)
        self._warn_if_diverged()
        self.pause()

    # ---- save / restore / export ----------------------------------------------------------------
    def state_dict(self) -> dict:
        return self.engine.state_dict()

    def load_state_dict(self, state: dict):
        self.engine.load_state_dict(state)
        self._sync_all()
        self.redraw()

    def to_torch(self):
        return self.engine.to_torch()

    # ---- drawing --------------------------------------------------------------------------------
    def redraw(self):
        """Redraw the picture (timed in :attr:`redraw_seconds`, CPU time in :attr:`redraw_cpu_seconds`)."""
        t0, c0 = time.perf_counter(), time.process_time()
        c = self.controls
        self.renderer.draw(self.engine, c["show_test"].value, c["discretize"].value)
        self.picture.value = self.renderer.png()
        self.redraw_seconds = time.perf_counter() - t0
        self.redraw_cpu_seconds = time.process_time() - c0     # without the waiting on a busy machine
        e = self.engine
        self.epoch_label.value = (f"<span style='white-space:nowrap'><b>epoch {e.epoch}</b> &nbsp; test loss "
                                  f"{e.loss_test:.3f} &nbsp; training loss {e.loss_train:.3f}</span>")

    def snapshot(self):
        """The current picture as a static image (stays visible in exported notebooks and slides)."""
        from IPython.display import Image

        return Image(self.picture.value)

    def save_png(self, path):
        """Write the current picture to ``path``."""
        with open(path, "wb") as fh:
            fh.write(self.picture.value)

    # ---- helpers --------------------------------------------------------------------------------
    def _fail(self, exc) -> bool:
        self.message.value = f"<span style='color:#c0392b'><b>&#9888; {exc}</b></span>"
        self.last_error = str(exc)
        return False

    def _refuse(self, exc, keys) -> bool:
        """A refused setting: every control goes back to the value in force, and the message says which it is."""
        self._sync_all()
        return self._fail(f"{str(exc).rstrip('.')}. Kept: {self._in_force(keys)}.")

    def _in_force(self, keys) -> str:
        s, c = self.engine.settings, self.controls
        said = []
        for k in keys:
            if k == "features":
                said.append("features " + ", ".join(FEATURES[f][0] for f in s["features"]))
            elif k == "hidden":
                said.append("hidden layers " + (", ".join(map(str, s["hidden"])) or "none"))
            elif k in s:
                said.append(f"{c[k].description if k in c else k} {s[k]}")
        return "; ".join(said)

    def _warn_if_diverged(self):
        if self.engine.diverged:
            self._fail(f"training diverged at epoch {self.engine.epoch} (the loss is no longer finite): lower "
                       "the learning rate and press reset")

    def _features_from_controls(self):
        return [f for f in FEATURES if self.controls[f"feature:{f}"].value]

    def _on_control(self, key, value):
        if self._syncing:
            return
        if key in ("show_test", "discretize"):
            self.redraw()
            return
        self.set(**{key: value})

    def _add_layer(self, delta):
        hidden = list(self.engine.settings["hidden"])
        if delta > 0:
            if len(hidden) >= MAX_LAYERS:
                return self._fail(f"at most {MAX_LAYERS} hidden layers")
            hidden.append(2 if not hidden else min(hidden[-1], MAX_NEURONS))
        elif hidden:
            hidden.pop()
        return self.set(hidden=hidden)

    def _sync(self, key, value):
        self._syncing = True
        try:
            self.controls[key].value = value
        finally:
            self._syncing = False

    def _sync_all(self):
        s = self.engine.settings
        for k in ("dataset", "problem", "train_ratio", "noise", "batch_size", "activation", "lr", "regularization",
                  "reg_rate"):
            self._sync(k, s[k])
        self._sync("hidden", ", ".join(map(str, s["hidden"])))
        for f in FEATURES:
            self._sync(f"feature:{f}", f in s["features"])
