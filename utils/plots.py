"""Plotting helpers: the course's plot style and small figure utilities kept out of the lesson's way."""
from __future__ import annotations

import numpy as np


def use_course_style() -> None:
    """Readable defaults for notebooks and projectors (larger fonts, light grid, tight layout)."""
    import matplotlib as mpl

    mpl.rcParams.update({
        "figure.figsize": (6.4, 4.2), "figure.dpi": 100, "savefig.dpi": 120, "font.size": 11,
        "axes.titlesize": 12, "axes.labelsize": 11, "axes.grid": True, "grid.alpha": 0.3,
        "axes.spines.top": False, "axes.spines.right": False, "figure.autolayout": True,
        "image.cmap": "viridis", "legend.frameon": False,
    })


def image_grid(images, titles=None, ncols: int = 8, cmap: str = "gray", size: float = 1.4, suptitle=None):
    """Show a list/array of 2-D images in a grid; returns the figure."""
    import matplotlib.pyplot as plt

    images = [np.asarray(getattr(im, "detach", lambda: im)().cpu() if hasattr(im, "cpu") else im).squeeze()
              for im in images]
    n = len(images)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows * (1.15 if titles else 1)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap=cmap)
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def confusion_matrix(y_true, y_pred, n_classes: int | None = None) -> np.ndarray:
    """Counts C[i, j] of true class i predicted as class j."""
    y_true = np.asarray(y_true).astype(int)
    y_pred = np.asarray(y_pred).astype(int)
    k = n_classes or int(max(y_true.max(), y_pred.max()) + 1)
    return np.bincount(k * y_true + y_pred, minlength=k * k).reshape(k, k)


def plot_confusion(cm, labels=None, ax=None, title: str = "Confusion matrix"):
    """Draw a confusion matrix with counts in the cells."""
    import matplotlib.pyplot as plt

    cm = np.asarray(cm)
    if ax is None:
        _, ax = plt.subplots(figsize=(0.5 * len(cm) + 3, 0.5 * len(cm) + 2.5))
    ax.imshow(cm, cmap="Blues")
    ax.grid(False)
    labels = labels if labels is not None else list(range(len(cm)))
    ax.set_xticks(range(len(cm)), labels, rotation=45 if max(len(str(x)) for x in labels) > 3 else 0, ha="right")
    ax.set_yticks(range(len(cm)), labels)
    for i in range(len(cm)):
        for j in range(len(cm)):
            ax.text(j, i, int(cm[i, j]), ha="center", va="center",
                    color="white" if cm[i, j] > cm.max() / 2 else "black", fontsize=9)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    return ax


def draw_neuron(ax=None, n_inputs: int = 3, activation: str = r"$\varphi$"):
    """Schematic of Rosenblatt's artificial neuron: inputs x_n, weights w_n, sum minus threshold w_0, activation."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.6))
    ax.set_xlim(0, 10)
    ax.set_ylim(-1.3, n_inputs + 0.3)
    ax.axis("off")
    ys = np.linspace(n_inputs - 0.2, 0.2, n_inputs)
    yc = (n_inputs) / 2
    labels = [f"$x_{i + 1}$" for i in range(n_inputs - 1)] + ["$x_N$"]
    wl = [f"$w_{i + 1}$" for i in range(n_inputs - 1)] + ["$w_N$"]
    for y, lab, w in zip(ys, labels, wl):
        ax.add_patch(Circle((1, y), 0.32, fc="#dbe9f6", ec="#1f77b4"))
        ax.text(1, y, lab, ha="center", va="center", fontsize=12)
        ax.add_patch(FancyArrowPatch((1.35, y), (4.2, yc), arrowstyle="-|>", mutation_scale=12, color="gray"))
        ax.text(2.6, y + (yc - y) * 0.45 + 0.15, w, fontsize=11, color="#d62728")
    ax.add_patch(Circle((4.8, yc), 0.6, fc="#fdebd0", ec="#e67e22"))
    ax.text(4.8, yc, r"$\Sigma\ -\ w_0$", ha="center", va="center", fontsize=11)
    ax.add_patch(FancyArrowPatch((5.4, yc), (6.4, yc), arrowstyle="-|>", mutation_scale=12, color="gray"))
    ax.add_patch(FancyBboxPatch((6.45, yc - 0.45), 1.1, 0.9, boxstyle="round,pad=0.05", fc="#e8f6e8", ec="#2ca02c"))
    ax.text(7.0, yc, activation, ha="center", va="center", fontsize=14)
    ax.add_patch(FancyArrowPatch((7.6, yc), (8.8, yc), arrowstyle="-|>", mutation_scale=12, color="gray"))
    ax.text(9.1, yc, "$y$", ha="center", va="center", fontsize=14)
    ax.text(1, -0.25, "inputs\n(dendrites)", ha="center", va="top", fontsize=9, color="gray")
    ax.text(4.8, yc - 1.0, "weighted sum\n(cell body)", ha="center", va="top", fontsize=9, color="gray")
    ax.text(7.0, yc - 1.0, "activation\n(firing)", ha="center", va="top", fontsize=9, color="gray")
    ax.text(9.1, yc - 1.0, "output\n(axon)", ha="center", va="top", fontsize=9, color="gray")
    ax.set_title(r"Artificial neuron (Rosenblatt 1957): $y = \varphi\left(\sum_n w_n x_n - w_0\right)$")
    return ax
