"""Notebook 04's image helpers: a synthetic polycrystal micrograph, the slide's kernel presets, the kernel table
figure and the plain, unit-tested callback of the kernel explorer, :func:`explore` (the widget itself:
:mod:`utils.widgets.kernel_explorer`). The convolution is written out in the notebook; here it is only re-used
(through ``torch``) by the explorer.
"""
from __future__ import annotations

import io
import re
from fractions import Fraction

import numpy as np

from ._checks import finite, number, whole
from .errors import SettingError

__all__ = ["micrograph", "Micrograph", "KERNELS", "KERNEL_LATEX", "parse_kernel", "explore", "render_explore",
           "plot_kernel_table", "POOLINGS"]

# ----------------------------------------------------------------------------------------------
# the slide's kernel table ("Image convolution"), in its order
# ----------------------------------------------------------------------------------------------
KERNELS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], float),
    "edge detection 1": np.array([[1, 0, -1], [0, 0, 0], [-1, 0, 1]], float),
    "edge detection 2": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], float),
    "edge detection 3": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], float),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], float),
    "box blur (normalised)": np.ones((3, 3)) / 9,
    "Gaussian blur (approximation)": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], float) / 16,
}
#: how each kernel is written on the slide (for figure labels and the explorer's text box)
KERNEL_TEXT = {
    "identity": "0 0 0\n0 1 0\n0 0 0",
    "edge detection 1": "1 0 -1\n0 0 0\n-1 0 1",
    "edge detection 2": "0 1 0\n1 -4 1\n0 1 0",
    "edge detection 3": "-1 -1 -1\n-1 8 -1\n-1 -1 -1",
    "sharpen": "0 -1 0\n-1 5 -1\n0 -1 0",
    "box blur (normalised)": "1/9 1/9 1/9\n1/9 1/9 1/9\n1/9 1/9 1/9",
    "Gaussian blur (approximation)": "1/16 2/16 1/16\n2/16 4/16 2/16\n1/16 2/16 1/16",
}
KERNEL_LATEX = {k: None for k in KERNELS}  # filled below
_PREFIX = {"box blur (normalised)": (r"\frac{1}{9}", 9), "Gaussian blur (approximation)": (r"\frac{1}{16}", 16)}
for _k, _K in KERNELS.items():
    _pre, _f = _PREFIX.get(_k, ("", 1))
    _rows = r" \\ ".join(" & ".join(f"{int(round(v * _f))}" for v in row) for row in _K)
    KERNEL_LATEX[_k] = _pre + r"\begin{bmatrix}" + _rows + r"\end{bmatrix}"

POOLINGS = ("none", "max 2x2", "average 2x2")


# ----------------------------------------------------------------------------------------------
# a synthetic polycrystal micrograph
# ----------------------------------------------------------------------------------------------
#: largest side of a synthetic micrograph, in pixels (memory grows as size²: about 110 MB at 1024)
MAX_SIZE = 1024


class Micrograph:
    """A synthetic micrograph: ``image`` (float, 0..1, H x W), ``grains`` (int label per pixel, 0..n-1),
    ``n_grains`` (the true number of grains), ``boundary`` (bool, True on grain-boundary pixels)."""

    def __init__(self, image, grains, boundary, seeds):
        self.image, self.grains, self.boundary, self.seeds = image, grains, boundary, seeds
        self.n_grains = int(len(np.unique(grains)))

    def __repr__(self):
        h, w = self.image.shape
        return f"Micrograph({h} x {w} px, {self.n_grains} grains, synthetic)"


def micrograph(size: int = 256, n_grains: int = 60, boundary_width: float = 1.5, boundary_depth: float = 0.45,
               noise: float = 0.04, lloyd: int = 2, illumination: float = 0.6, seed: int = 0) -> Micrograph:
    """A synthetic optical micrograph of an etched polycrystal (made here, not measured).

    Voronoi grains (``n_grains`` random centres, relaxed ``lloyd`` times so that grains are roughly equiaxed, as
    after annealing); each grain has its own grey level (orientation contrast of the etch, 0.45..0.85) with a
    gentle shading; grain boundaries are etched grooves: dark lines of Gaussian profile (width
    ``boundary_width`` px, depth ``boundary_depth``); uneven illumination, as under a real microscope (brightness
    falling by ``illumination`` from one corner to the opposite one, so that no single grey level separates
    boundaries from grains); Gaussian noise of standard deviation ``noise``. The same ``seed`` gives the same image.

    Limits (checked before anything is computed, so that a typo cannot fill the memory): ``size`` 16 to
    :data:`MAX_SIZE` px (about 110 MB at 1024), ``n_grains`` 2 to size² / 16 (a grain of at least 4 x 4 px on average),
    ``lloyd`` 0 to 10.
    """
    from scipy import ndimage
    from scipy.spatial import cKDTree

    size = whole("size", size, 16, MAX_SIZE, hint="the image is size x size pixels")
    n_grains = whole("n_grains", n_grains, 2, size * size // 16,
                     hint=f"at most one grain per 16 pixels, so size={size} allows {size * size // 16}")
    lloyd = whole("lloyd", lloyd, 0, 10)
    boundary_width = number("boundary_width", boundary_width, 0, lo_open=True)
    noise = number("noise", noise, 0)
    boundary_depth, illumination = number("boundary_depth", boundary_depth), number("illumination", illumination)
    seed = whole("seed", seed, 0)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    pix = np.column_stack([yy.ravel(), xx.ravel()]).astype(float) + 0.5
    seeds = rng.uniform(0, size, (n_grains, 2))
    for _ in range(lloyd):  # Lloyd relaxation: move each centre to the centroid of its cell
        lab = cKDTree(seeds).query(pix)[1]
        cnt = np.bincount(lab, minlength=n_grains)
        keep = cnt > 0
        seeds[keep] = np.column_stack([np.bincount(lab, pix[:, 0], n_grains)[keep] / cnt[keep],
                                       np.bincount(lab, pix[:, 1], n_grains)[keep] / cnt[keep]])
    grains = cKDTree(seeds).query(pix)[1].reshape(size, size)
    # boundary pixels: a neighbour (right or below) belongs to another grain
    b = np.zeros((size, size), bool)
    b[:, :-1] |= grains[:, :-1] != grains[:, 1:]
    b[:-1, :] |= grains[:-1, :] != grains[1:, :]
    level = rng.uniform(0.45, 0.85, n_grains)
    grad = rng.normal(0, 0.04, (n_grains, 2)) / size
    img = level[grains] + grad[grains, 0] * (yy - seeds[grains, 0]) + grad[grains, 1] * (xx - seeds[grains, 1])
    dist = ndimage.distance_transform_edt(~b)
    img = img - boundary_depth * np.exp(-0.5 * (dist / boundary_width) ** 2)
    img = img + illumination * (0.5 - (yy + xx) / (2.0 * (size - 1)))  # brighter top-left, darker bottom-right
    img = img + rng.normal(0, noise, img.shape)
    # relabel to 0..n-1 (every centre keeps at least its own pixel after relaxation, but be safe)
    _, grains = np.unique(grains, return_inverse=True)
    return Micrograph(np.clip(img, 0, 1).astype(np.float32), grains.reshape(size, size), b, seeds)


# ----------------------------------------------------------------------------------------------
# the kernel explorer: plain callback first
# ----------------------------------------------------------------------------------------------
#: largest magnitude of a kernel number (beyond it, float32 feature maps overflow)
KERNEL_MAX = 1e6
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?(/[+-]?(\d+(\.\d*)?|\.\d+))?$")


def parse_kernel(kernel) -> np.ndarray:
    """A 3 x 3 float kernel from a preset name, a text of nine numbers (rows on lines or separated by ';',
    fractions such as ``1/9`` allowed) or an array. Numbers must be finite and at most :data:`KERNEL_MAX` in
    magnitude. Raises :class:`SettingError` with a clear message."""
    if isinstance(kernel, str) and kernel.strip() in KERNELS:
        return KERNELS[kernel.strip()].copy()
    if isinstance(kernel, str):
        text = kernel.strip()
        if not text:
            raise SettingError("the kernel is empty: type nine numbers (three rows of three), e.g. '0 -1 0; -1 5 -1; 0 -1 0'")
        if text[0].isalpha():                               # a name, not numbers: a preset that does not exist
            import difflib

            lower = {k.lower(): k for k in KERNELS}
            close = [lower[k] for k in difflib.get_close_matches(text.lower(), lower, n=1, cutoff=0.6)]
            raise SettingError(f"{text!r:.40} is not a preset kernel" + (f" (did you mean {close[0]!r}?)" if close
                                                                          else "")
                               + f": choose one of {', '.join(map(repr, KERNELS))}, or type nine numbers such as "
                                 f"'0 -1 0; -1 5 -1; 0 -1 0'")
        rows = [r for r in re.split(r"[;\n]", text) if r.strip()]
        values = []
        for r in rows:
            toks = [t for t in re.split(r"[,\s]+", r.strip().strip("[]")) if t]
            for t in toks:
                if not _NUMBER.match(t):
                    raise SettingError(f"'{t}' is not a number: the kernel needs numbers such as 2, -0.5 or 1/9")
                num, _, den = t.partition("/")
                try:
                    v = float(Fraction(num) / Fraction(den or 1))
                except ZeroDivisionError:
                    raise SettingError(f"'{t}' is a division by zero: the kernel needs numbers such as 1/9") from None
                except OverflowError:
                    v = float("inf")
                if not abs(v) <= KERNEL_MAX:
                    raise SettingError(f"'{t}' is too large: kernel numbers must lie between -{KERNEL_MAX:,.0f} and "
                                       f"{KERNEL_MAX:,.0f}")
                values.append(v)
            if toks and len(toks) != 3 and len(rows) > 1:
                raise SettingError(f"each row needs 3 numbers; the row '{r.strip()}' has {len(toks)}")
        if len(values) != 9:
            raise SettingError(f"a 3 x 3 kernel needs 9 numbers, got {len(values)}")
        return np.array(values, float).reshape(3, 3)
    try:
        arr = np.asarray(kernel, dtype=float)
    except (TypeError, ValueError):
        raise SettingError(f"cannot read a kernel from {type(kernel).__name__}: give a preset name, "
                           "nine numbers as text, or a 3 x 3 array") from None
    if arr.shape != (3, 3):
        raise SettingError(f"the kernel must be 3 x 3, got shape {arr.shape}")
    finite("the kernel", arr)
    if np.abs(arr).max() > KERNEL_MAX:
        raise SettingError(f"the kernel's numbers must lie between -{KERNEL_MAX:,.0f} and {KERNEL_MAX:,.0f}, got "
                           f"{np.abs(arr).max():g} in magnitude")
    return arr


def _image(image, name="the image") -> np.ndarray:
    """``image`` as a finite float32 2-D array of at least 3 x 3 pixels, or a clear message."""
    try:
        x = np.asarray(image, dtype=np.float32)
    except (TypeError, ValueError):
        raise SettingError(f"{name} must be a 2-D array of numbers, got {type(image).__name__}") from None
    if x.ndim != 2 or min(x.shape) < 3:
        raise SettingError(f"{name} must be a 2-D array of at least 3 x 3 pixels, got shape {x.shape}")
    return finite(name, x, "replace missing pixels first, e.g. with np.nan_to_num")


def explore(image, kernel="identity", padding: int = 0, stride: int = 1, pooling: str = "none") -> dict:
    """The kernel explorer's callback, as a plain function: cross-correlate ``image`` (2-D array) with a 3 x 3
    ``kernel`` (preset name, text or array) using zero ``padding`` and ``stride``, then optional 2 x 2
    ``pooling`` ('none', 'max 2x2', 'average 2x2'). Returns a dict with ``input``, ``kernel``, ``conv`` (the
    feature map), ``output`` (after pooling) and ``summary`` (a line with the shapes). Bad settings, and an image
    with NaN or infinite pixels, raise :class:`SettingError` with a message saying what to change."""
    import torch
    import torch.nn.functional as F

    x = _image(image)
    K = parse_kernel(kernel)
    padding = whole("padding", padding, 0, 10)
    stride = whole("stride", stride, 1, 10)
    if pooling not in POOLINGS:
        raise SettingError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    n_h, n_w = x.shape
    out_h, out_w = (n_h + 2 * padding - 3) // stride + 1, (n_w + 2 * padding - 3) // stride + 1
    if out_h < 1 or out_w < 1:
        raise SettingError(f"stride {stride} leaves no output on a {n_h} x {n_w} image: use a smaller stride or more "
                           "padding")
    with torch.no_grad():
        t = torch.from_numpy(x)[None, None]
        conv = F.conv2d(t, torch.from_numpy(K.astype(np.float32))[None, None], padding=padding, stride=stride)
        out = conv
        if pooling != "none":
            if min(conv.shape[-2:]) < 2:
                raise SettingError(f"the feature map ({out_h} x {out_w}) is too small for 2 x 2 pooling: use "
                                   "pooling 'none' or a smaller stride")
            out = F.max_pool2d(conv, 2) if pooling.startswith("max") else F.avg_pool2d(conv, 2)
    finite("the feature map", out, "use smaller kernel numbers or pixel values (float32 ends at 3.4e38)")
    conv, out = conv[0, 0].numpy(), out[0, 0].numpy()
    summary = (f"input {n_h}\u00d7{n_w} \u2192 conv 3\u00d73 (padding {padding}, stride {stride}) "
               f"{conv.shape[0]}\u00d7{conv.shape[1]}")
    if pooling != "none":
        summary += f" \u2192 {pooling} pooling {out.shape[0]}\u00d7{out.shape[1]}"
    return {"input": x, "kernel": K, "conv": conv, "output": out, "summary": summary}


def _kernel_label(v: float) -> str:
    f = Fraction(v).limit_denominator(64)
    return f"{f.numerator}/{f.denominator}" if f.denominator != 1 and abs(float(f) - v) < 1e-9 else f"{v:g}"


def draw_kernel(ax, K, title="kernel"):
    """Draw a small kernel as a coloured grid with its numbers."""
    K = np.asarray(K, float)
    m = max(np.abs(K).max(), 1e-12)
    ax.imshow(K, cmap="coolwarm", vmin=-m, vmax=m)
    ax.grid(False)
    for (i, j), v in np.ndenumerate(K):
        ax.text(j, i, _kernel_label(v), ha="center", va="center", fontsize=10 if K.size <= 9 else 7)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)


def render_explore(result: dict, dpi: int = 80) -> bytes:
    """PNG bytes of an :func:`explore` result: input | kernel | output, side by side (no pyplot state)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10.5, 3.6), dpi=dpi)
    axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 0.55, 1]})
    x, out = result["input"], result["output"]
    axes[0].imshow(x, cmap="gray")
    axes[0].set_title(f"input {x.shape[0]}\u00d7{x.shape[1]} px")
    draw_kernel(axes[1], result["kernel"], "kernel (3\u00d73)")
    lo, hi = np.percentile(out, [2, 98])  # robust grey scale: noise and border pixels do not dominate
    im = axes[2].imshow(out, cmap="gray", vmin=lo, vmax=hi if hi > lo else lo + 1e-9)
    axes[2].set_title(f"output {out.shape[0]}\u00d7{out.shape[1]} px (grey: 2-98 %)")
    fig.colorbar(im, ax=axes[2], fraction=0.046, pad=0.04)
    for ax in (axes[0], axes[2]):
        ax.grid(False)
        ax.set_xlabel("x (px)")
        ax.set_ylabel("y (px)")
    fig.suptitle(result["summary"], fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def plot_kernel_table(kernels: dict, inputs: dict, outputs: dict, size: float = 1.9):
    """The slide's table as a figure: one row per kernel (operation | filter | result on each input image).
    ``outputs[(kernel_name, image_name)]`` holds the filtered images."""
    import matplotlib.pyplot as plt

    names, imgs = list(kernels), list(inputs)
    fig, axes = plt.subplots(len(names) + 1, 1 + len(imgs), figsize=(size * (1.4 + len(imgs)), size * (len(names) + 1)),
                             gridspec_kw={"width_ratios": [0.7] + [1] * len(imgs)}, squeeze=False)
    axes[0, 0].axis("off")
    axes[0, 0].text(0.5, 0.5, "input", ha="center", va="center", fontsize=12, weight="bold")
    for j, im in enumerate(imgs):
        axes[0, j + 1].imshow(inputs[im], cmap="gray")
        axes[0, j + 1].set_title(im, fontsize=10)
    for i, k in enumerate(names):
        draw_kernel(axes[i + 1, 0], kernels[k], k)
        for j, im in enumerate(imgs):
            out = np.asarray(outputs[(k, im)], float)
            lo, hi = np.percentile(out, [2, 98])  # robust grey scale: a few border pixels do not dominate
            axes[i + 1, j + 1].imshow(out, cmap="gray", vmin=lo, vmax=hi if hi > lo else lo + 1e-9)
    for ax in axes[:, 1:].flat:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    fig.suptitle("The slide's kernel table: operation / filter / result\n(grey scale per picture, from its 2nd to its 98th percentile)")
    return fig

