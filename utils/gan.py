"""Plumbing for notebook 08 (GANs): toy 2-D samplers, mode counting, decision-surface and sample-grid plots,
and a Fréchet distance between two sets of feature vectors."""
from __future__ import annotations

import numpy as np
import torch

from ._checks import array, number, whole
from .errors import SettingError


# ----------------------------------------------------------------------------------------------
# toy 2-D data (synthetic on purpose: the lesson is the method, and everything can be seen)
# ----------------------------------------------------------------------------------------------
def ring_centers(k: int = 8, radius: float = 2.0) -> torch.Tensor:
    """The k centres of a ring of Gaussians, evenly spaced on a circle, shape (k, 2)."""
    k, radius = whole("k", k, 1), number("radius", radius, 0, lo_open=True)
    angle = 2 * np.pi * np.arange(k) / k
    return torch.tensor(np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1), dtype=torch.float32)


def line_centers(k: int = 8, half_width: float = 3.5) -> torch.Tensor:
    """k centres evenly spaced on the segment y = 0, -half_width <= x <= half_width, shape (k, 2)."""
    k, half_width = whole("k", k, 1), number("half_width", half_width, 0)
    x = np.linspace(-half_width, half_width, k)
    return torch.tensor(np.stack([x, np.zeros(k)], 1), dtype=torch.float32)


def sample_mixture(n: int, centers: torch.Tensor, std: float = 0.05, return_mode: bool = False):
    """n points of an equal-weight mixture of isotropic Gaussians (std) around ``centers``.

    With ``return_mode=True`` also returns the index of the Gaussian each point came from.
    """
    n, std = whole("n", n, 0), number("std", std, 0)
    centers = torch.as_tensor(_points("centers", centers), dtype=torch.float32)
    if not len(centers):
        raise SettingError("centers must hold at least one centre (k, d), got none")
    mode = torch.randint(0, len(centers), (n,))
    x = centers[mode] + std * torch.randn(n, centers.shape[1])
    return (x, mode) if return_mode else x


def ring_of_gaussians(n: int, k: int = 8, radius: float = 2.0, std: float = 0.05, return_mode: bool = False):
    """n points of the classic GAN toy: k Gaussians (std) evenly spaced on a circle of the given radius."""
    return sample_mixture(n, ring_centers(k, radius), std, return_mode)


def _points(name, x):
    """Points as a finite float array (n, d): one point per row."""
    return array(name, x, 2, what="(n, d): one point per row",
                 hint="NaN in generated points means that training diverged")


def nearest_mode(x, centers) -> tuple[np.ndarray, np.ndarray]:
    """For each point of ``x`` (n, d), the index of its nearest centre (``centers``, (k, d)) and the distance to it."""
    x, centers = _points("x", x), _points("centers", centers)
    if x.shape[1] != centers.shape[1] or not len(centers):
        raise SettingError(f"x and centers must be points of the same dimension, with at least one centre, got "
                           f"shapes {x.shape} and {centers.shape}")
    d = torch.cdist(torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(centers, dtype=torch.float32))
    dist, idx = d.min(1)
    return idx.numpy(), dist.numpy()


def mode_coverage(x, centers, std: float = 0.05, min_share: float = 0.02) -> dict:
    """How well points ``x`` cover the modes of a mixture.

    A point is *good* when it lies within 3 std of its nearest centre; a mode is *covered* when at least
    ``min_share`` of all points are good points next to it (a fair share is 1/k). Returns a dict with
    ``covered`` (number of modes), ``good`` (share of good points) and ``share`` (per mode, array of k).
    """
    std, min_share = number("std", std, 0, lo_open=True), number("min_share", min_share, 0, 1)
    idx, dist = nearest_mode(x, centers)
    good = dist < 3 * std
    share = np.bincount(idx[good], minlength=len(centers)) / max(len(idx), 1)
    return {"covered": int((share >= min_share).sum()), "good": float(good.mean()), "share": share}


# ----------------------------------------------------------------------------------------------
# plots
# ----------------------------------------------------------------------------------------------
@torch.no_grad()
def plot_decision_surface(ax, D, real, fake, lim: float = 3.0, title: str = "", pack: int = 1, steps: int = 120):
    """Draw D's output sigmoid(D(x)) on a grid (colour: probability of 'real'), with real (black) and
    generated (red) points on top. ``D`` returns logits; with ``pack > 1`` ``D`` is a packed discriminator
    (PacGAN) that groups ``pack`` consecutive rows, so each grid point is fed as ``pack`` identical copies."""
    lim, pack = number("lim", lim, 0, lo_open=True), whole("pack", pack, 1)
    steps = whole("steps", steps, 2, 1000)
    real, fake = _points("real", real), _points("fake", fake)
    g = torch.linspace(-lim, lim, steps)
    xx, yy = torch.meshgrid(g, g, indexing="xy")
    grid = torch.stack([xx.reshape(-1), yy.reshape(-1)], 1)
    was_training = D.training
    D.eval()
    p = torch.sigmoid(D(grid.repeat_interleave(pack, 0))).reshape(steps, steps).numpy()
    D.train(was_training)
    im = ax.contourf(xx.numpy(), yy.numpy(), p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.75)
    ax.scatter(real[:, 0], real[:, 1], s=3, c="k", alpha=0.5, label="real")
    ax.scatter(fake[:, 0], fake[:, 1], s=3, c="orangered", alpha=0.6, label="generated")
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", xlabel="$x_1$", ylabel="$x_2$", title=title)
    ax.grid(False)
    return im


def mosaic(images, nrow: int = 8, pad: int = 1) -> np.ndarray:
    """Tile N square gray images (N x H x H, or N x H*H) into one array with ``nrow`` images per row."""
    nrow, pad = whole("nrow", nrow, 1), whole("pad", pad, 0)
    images = array("images", images)
    n = len(images) if images.ndim else 0
    side = int(round(np.sqrt(images[0].size))) if n else 0
    if images.ndim not in (2, 3) or not n or side * side != images[0].size:
        raise SettingError(f"images must be N >= 1 square gray images, (N, H, H) or (N, H * H), got an array of "
                           f"shape {images.shape}")
    images = images.reshape(n, side, side)
    ncol = nrow
    rows = int(np.ceil(n / ncol))
    out = np.full((rows * (side + pad) + pad, ncol * (side + pad) + pad), np.nan, dtype=float)
    for i, im in enumerate(images):
        r, c = divmod(i, ncol)
        out[pad + r * (side + pad): pad + r * (side + pad) + side, pad + c * (side + pad): pad + c * (side + pad) + side] = im
    return out


def show_grid(ax, images, nrow: int = 8, title: str = "", vmin: float = 0.0, vmax: float = 1.0):
    """Show a grid of gray images (values in [vmin, vmax]) on one axis, without ticks."""
    if not number("vmin", vmin) < number("vmax", vmax):
        raise SettingError(f"vmin must be below vmax, got vmin={vmin} and vmax={vmax}")
    ax.imshow(mosaic(images, nrow), cmap="gray", vmin=vmin, vmax=vmax)
    ax.set_title(title)
    ax.axis("off")
    return ax


# ----------------------------------------------------------------------------------------------
# Fréchet distance between feature sets (here on a small MNIST CNN's features: NOT the Inception FID)
# ----------------------------------------------------------------------------------------------
def frechet_distance(feat_a, feat_b) -> float:
    """Fréchet distance between Gaussians fitted to two sets of feature vectors (rows = samples):

        d^2 = |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2)

    The matrix square root goes through symmetric eigen-decompositions, so it stays real and stable even
    when some features are always zero (dead ReLU units make a covariance singular).
    """
    what = "(n, d): one feature vector per row"
    a = array("feat_a", feat_a, 2, dtype=np.float64, what=what)
    b = array("feat_b", feat_b, 2, dtype=np.float64, what=what)
    if a.shape[1] != b.shape[1] or len(a) < 2 or len(b) < 2:
        raise SettingError(f"feat_a and feat_b must be feature arrays of the same width with at least 2 rows each "
                           f"(a covariance needs 2 samples), got shapes {a.shape} and {b.shape}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    w, v = np.linalg.eigh(s_a)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    cross = np.linalg.eigvalsh(root_a @ s_b @ root_a)
    tr_cross = np.sqrt(np.clip(cross, 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * tr_cross)
