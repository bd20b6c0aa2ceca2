"""Plumbing for notebook 02 (back-propagation): a stratified split, a relative error, and two small plots."""
from __future__ import annotations

import numpy as np

from .errors import SettingError


def stratified_split(y, test_fraction: float = 0.3, seed: int = 0):
    """Indices ``(train, test)`` that keep each class's share: ``round(test_fraction * n_k)`` birds of every
    class ``k`` go to the test set, drawn with a fixed seed. Both index arrays are sorted."""
    if not 0 < test_fraction < 1:
        raise SettingError(f"test_fraction must be between 0 and 1 (got {test_fraction})")
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    test = []
    for k in np.unique(y):
        members = np.flatnonzero(y == k)
        n_test = int(round(test_fraction * len(members)))
        if n_test == 0 or n_test == len(members):
            raise SettingError(f"class {k!r} has {len(members)} examples: too few to split {test_fraction:.0%} off")
        test.extend(rng.choice(members, n_test, replace=False))
    test = np.sort(np.asarray(test, dtype=int))
    train = np.setdiff1d(np.arange(len(y)), test)
    return train, test


def rel_error(a, b) -> float:
    """Relative difference ``||a - b|| / (||a|| + ||b||)`` of two arrays (0 when both are zero)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    den = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if den == 0 else float(np.linalg.norm(a - b) / den)


def plot_surface_2d(predict, X, y, ax=None, lim=(-0.5, 1.5), title="", resolution: int = 121):
    """Colour the plane by ``predict(points)`` (an (n, 2) array to n numbers in [0, 1]) and draw the points
    ``X`` coloured by their labels ``y`` (0 / 1), as for XOR."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3.6))
    g = np.linspace(*lim, resolution)
    G1, G2 = np.meshgrid(g, g)
    out = np.asarray(predict(np.c_[G1.ravel(), G2.ravel()]), dtype=float).reshape(G1.shape)
    im = ax.contourf(G1, G2, out, levels=np.linspace(min(0, out.min()), max(1, out.max()), 21), cmap="RdBu_r")
    ax.contour(G1, G2, out, levels=[0.5], colors="k", linewidths=1.5)
    ax.scatter(X[:, 0], X[:, 1], c=np.asarray(y).ravel(), cmap="RdBu_r", vmin=0, vmax=1, s=120,
               edgecolors="k", zorder=3)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_aspect("equal")
    ax.set_title(title)
    plt.colorbar(im, ax=ax, label="network output", ticks=[0, 0.5, 1])
    return ax


def plot_loss_curves(curves: dict, ax=None, title="", ylabel="loss E", log=True, legend="best", xlabel="epoch"):
    """Draw several loss-versus-epoch curves (``{label: sequence}``); non-finite values (a diverged run) are
    marked with a cross where the run blew up. ``legend``: a matplotlib location, or ``"outside"`` to put it to
    the right of the axes, where no curve can hide it."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8.5, 3.8) if legend == "outside" else (6, 3.8))
    for label, values in curves.items():
        v = np.asarray(values, dtype=float)
        finite = np.isfinite(v) & (np.abs(v) < 1e30)
        line, = ax.plot(np.flatnonzero(finite), v[finite], label=label)
        if not finite.all():
            last = np.flatnonzero(finite)
            if last.size:
                ax.plot(last[-1], v[last[-1]], "x", color=line.get_color(), ms=10, mew=2)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if legend == "outside":
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0))
    else:
        ax.legend(loc=legend)
    return ax
