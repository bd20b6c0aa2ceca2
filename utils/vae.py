"""Plumbing of notebook 07 (variational autoencoders): MNIST as tensors, batches, latent maps, decoded grids, PCA.

The lesson (encoder, reparameterisation, ELBO, KL annealing, the chemical VAE, latent optimisation) is written out
in the notebook; this module keeps the figure and data-shaping code out of its way, and the beam search that
reads the notebook's decoder (:func:`beam_search`). The SMILES tokenizer,
the MOSES subset and the chemistry metrics are in :mod:`utils.chem`.
"""
from __future__ import annotations

import numpy as np

from ._checks import array, number, whole
from .errors import SettingError


def batches(n: int, batch_size: int, rng: np.random.Generator):
    """Index arrays of one epoch: a random permutation of ``range(n)`` cut into batches of ``batch_size``."""
    n, batch_size = whole("n", n, 0), whole("batch_size", batch_size, 1)
    perm = rng.permutation(n)
    return [perm[i:i + batch_size] for i in range(0, n, batch_size)]


def latent_map(Z, color, ax=None, title: str = "", label: str = "", discrete: bool = False, s: float = 3):
    """Scatter plot of 2-D latent codes ``Z`` (N, 2) coloured by ``color`` (a digit label or a property)."""
    import matplotlib.pyplot as plt

    Z, color = array("Z", Z), np.asarray(color)
    if Z.ndim != 2 or Z.shape[1] != 2:
        raise SettingError(f"latent_map draws 2-D codes: Z must have shape (N, 2), got shape {Z.shape}")
    if color.shape != (len(Z),):
        raise SettingError(f"color must hold one value per code, shape ({len(Z)},), got shape {color.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    cmap = plt.get_cmap("tab10") if discrete else plt.get_cmap("viridis")
    sc = ax.scatter(Z[:, 0], Z[:, 1], c=color, cmap=cmap, s=s, alpha=0.7,
                    vmin=-0.5 if discrete else None, vmax=9.5 if discrete else None)
    cb = plt.colorbar(sc, ax=ax, ticks=range(10) if discrete else None)
    cb.set_label(label)
    ax.set(xlabel="$z_1$", ylabel="$z_2$", title=title)
    return ax


def latent_walk(n: int = 15, span: float = 0.95):
    """A regular ``n`` x ``n`` grid of 2-D latent points at the Gaussian quantiles between (1 - span)/2 and
    (1 + span)/2, so that equal areas of the grid carry equal prior probability. Returns (n * n, 2), row by row
    from the top (z_2 decreasing) and left to right (z_1 increasing), as an image is drawn."""
    from scipy.stats import norm

    n = whole("n", n, 1, 100)
    span = number("span", span, 0, 1, lo_open=True, hi_open=True, hint="span=1 would reach infinity")
    q = norm.ppf(np.linspace((1 - span) / 2, (1 + span) / 2, n))
    z1, z2 = np.meshgrid(q, q[::-1])
    return np.stack([z1.ravel(), z2.ravel()], axis=1).astype(np.float32)


def digit_canvas(images, n: int):
    """Paste ``n * n`` images of 28 x 28 (row by row) into one (28 n, 28 n) canvas."""
    n, images = whole("n", n, 1), np.asarray(images)
    if images.size != n * n * 28 * 28:
        raise SettingError(f"digit_canvas needs n * n = {n * n} images of 28 x 28 pixels, got an array of shape "
                           f"{images.shape}")
    images = images.reshape(n, n, 28, 28)
    return images.transpose(0, 2, 1, 3).reshape(n * 28, n * 28)


def show_canvas(canvas, zs, ax=None, title: str = ""):
    """Show a canvas from :func:`digit_canvas` with the latent coordinates of its grid on the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 7))
    zs = array("zs", zs, 2, what="(N, 2): the latent points of the grid")
    lo1, hi1, lo2, hi2 = zs[:, 0].min(), zs[:, 0].max(), zs[:, 1].min(), zs[:, 1].max()
    ax.imshow(canvas, cmap="gray_r", extent=(lo1, hi1, lo2, hi2), aspect="auto")
    ax.grid(False)
    ax.set(xlabel="$z_1$", ylabel="$z_2$", title=title)
    return ax


def pca_2d(Z):
    """Project codes ``Z`` (N, d) on their two first principal axes; returns (projected (N, 2), explained share)."""
    Z = array("Z", Z, 2, dtype=np.float64, what="(N, d): one code per row")
    if Z.shape[0] < 2 or Z.shape[1] < 2:
        raise SettingError(f"pca_2d needs at least 2 codes of at least 2 dimensions, got shape {Z.shape}")
    Zc = Z - Z.mean(0)
    _, s, Vt = np.linalg.svd(Zc, full_matrices=False)
    if not s.any():
        raise SettingError(f"the {len(Z)} codes are all identical (a collapsed encoder?), but pca_2d needs codes "
                           "that vary")
    share = (s[:2] ** 2).sum() / (s ** 2).sum()
    return Zc @ Vt[:2].T, float(share)


def knn_accuracy(Z_train, y_train, Z_test, y_test, k: int = 5) -> float:
    """Accuracy of a k-nearest-neighbour vote in the latent space (how well the codes separate the classes).

    ``Z_train`` (n, d) and ``Z_test`` (m, d): codes, one per row; ``y_train`` (n,) and ``y_test`` (m,): their labels;
    ``k`` between 1 and n."""
    import torch

    what = "(N, d): one code per row"
    Z_train, Z_test = array("Z_train", Z_train, 2, what=what), array("Z_test", Z_test, 2, what=what)
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    if Z_train.shape[1] != Z_test.shape[1] or not len(Z_train) or not len(Z_test):
        raise SettingError(f"Z_train and Z_test must be non-empty codes of the same width, got shapes {Z_train.shape} "
                           f"and {Z_test.shape}")
    for name, y, Z in (("y_train", y_train, Z_train), ("y_test", y_test, Z_test)):
        if y.shape != (len(Z),):
            raise SettingError(f"{name} must hold one label per code, shape ({len(Z)},), got shape {y.shape}")
    k = whole("k", k, 1, len(Z_train), hint="k counts the training codes that vote")
    Z_train, Z_test = torch.as_tensor(Z_train), torch.as_tensor(Z_test)
    y_train, y_test = torch.as_tensor(y_train), torch.as_tensor(y_test)
    correct = 0
    for i in range(0, len(Z_test), 1000):
        d = torch.cdist(Z_test[i:i + 1000], Z_train)
        idx = d.topk(k, largest=False).indices
        votes = y_train[idx]
        pred = torch.mode(votes, dim=1).values
        correct += (pred == y_test[i:i + 1000]).sum().item()
    return correct / len(Z_test)


def beam_search(step, n: int, bos: int, eos: int, width: int = 5, max_len: int = 80, device="cpu",
                with_scores: bool = False):
    """Decode ``n`` sequences, keeping at each step the ``width`` most likely prefixes of each (beam search).

    ``step(x, rows, h)`` runs the decoder one token: ``x`` (N, 1) previous tokens of N = n * width beams, ``rows``
    (N,) the sequence each beam belongs to (to pick its latent code), ``h`` the recurrent state (``None`` at the
    start, then whatever ``step`` returned: a tensor, or a tuple of tensors, with the beams on dimension 1, as
    torch's GRU and LSTM states). It returns ``(logits (N, V), h)``. The result is one list of token ids per sequence
    (the most likely finished beam, ``eos`` included); with ``with_scores``, also its log-probability.
    ``width=1`` is greedy decoding.
    """
    import torch

    n, width, max_len = whole("n", n, 1), whole("the beam width", width, 1), whole("max_len", max_len, 1)
    rows = torch.arange(n, device=device).repeat_interleave(width)
    x = torch.full((n * width, 1), bos, dtype=torch.long, device=device)
    scores = torch.full((n, width), -float("inf"), device=device)
    scores[:, 0] = 0.0                                     # one live beam per sequence at the start
    seqs = torch.zeros(n * width, 0, dtype=torch.long, device=device)
    done = torch.zeros(n * width, dtype=torch.bool, device=device)
    base = (torch.arange(n, device=device) * width).unsqueeze(1)
    h = None
    with torch.no_grad():
        for _ in range(max_len):
            logits, h = step(x, rows, h)
            logp = torch.log_softmax(logits.float(), dim=-1)
            logp[done] = -float("inf")
            logp[done, eos] = 0.0                          # a finished beam stays as it is, at no cost
            V = logp.shape[1]
            top, idx = (scores.reshape(-1, 1) + logp).reshape(n, width * V).topk(width, dim=1)
            sel = (base + idx // V).reshape(-1)            # the beam each survivor extends
            tok = (idx % V).reshape(-1, 1)
            seqs = torch.cat([seqs[sel], tok], dim=1)
            done = done[sel] | (tok[:, 0] == eos)
            h = tuple(s.index_select(1, sel) for s in h) if isinstance(h, tuple) else h.index_select(1, sel)
            scores, x = top, tok
            if done.all():
                break
    best = seqs.reshape(n, width, -1)[:, 0].tolist()      # topk sorts: beam 0 is the most likely
    return (best, scores[:, 0].tolist()) if with_scores else best
