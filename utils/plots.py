"""Plotting helpers: the course's plot style, small figure utilities and the architecture diagrams of the notebooks."""
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


# ----------------------------------------------------------------------------------------------
# architecture diagrams (boxes and arrows drawn by code, from the notebook's own sizes)
# ----------------------------------------------------------------------------------------------
#: Colours of the diagrams: one per role, the same in every notebook.
ROLE_COLORS = {"data": "#7f7f7f", "layer": "#1f77b4", "latent": "#ff7f0e", "decoder": "#2ca02c",
               "loss": "#d62728", "other": "#9467bd"}


def _canvas(ax, figsize, xlim, ylim, title):
    """An empty, axis-less drawing area with data coordinates ``xlim`` x ``ylim``."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=14)
    return ax


def _box(ax, x, y, text, w=1.8, h=0.9, role="layer", fontsize=11, ls="-"):
    """A rounded box centred at (x, y), coloured by its role, with a centred label."""
    from matplotlib.colors import to_rgba
    from matplotlib.patches import FancyBboxPatch

    color = ROLE_COLORS[role]
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.12",
                                fc=to_rgba(color, 0.15), ec=color, lw=1.6, ls=ls))
    if text:
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, start, end, text=None, color="0.3", ls="-", text_offset=(0.0, 0.18), fontsize=10, rad=0.0, **kw):
    """An arrow from ``start`` to ``end`` with an optional label near its middle."""
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=15, color=color, lw=1.5, ls=ls,
                                 shrinkA=0, shrinkB=0, connectionstyle=f"arc3,rad={rad}"))
    if text:
        mx, my = (start[0] + end[0]) / 2 + text_offset[0], (start[1] + end[1]) / 2 + text_offset[1]
        ax.text(mx, my, text, ha="center", va="bottom" if text_offset[1] >= 0 else "top", fontsize=fontsize,
                color=color if color != "0.3" else "black", **kw)


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def draw_mlp(layer_sizes, activations=None, input_labels=None, output_labels=None, title=None, ax=None,
             max_shown: int = 8):
    """A multilayer perceptron: one column of neurons per layer, every connection, the weight matrix shapes.

    ``layer_sizes`` e.g. ``[3, 16, 4]``; ``activations`` one name per layer after the input (``["tanh",
    "softmax"]``); ``input_labels`` / ``output_labels`` name the input features and output neurons. Layers larger
    than ``max_shown`` are drawn with their first neurons, a gap and the last one.
    """
    sizes = list(layer_sizes)
    activations = list(activations or ["" for _ in sizes[1:]])
    n_rows = min(max(sizes), max_shown)
    title = title or f"Multilayer perceptron {'-'.join(map(str, sizes))}"
    ax = _canvas(ax, (11, 6), (-3.2, 5.0 * (len(sizes) - 1) + 3.2), (-1.5, n_rows + 1.4), title)
    columns = []                                  # (x, y of each drawn neuron, index of each drawn neuron)
    for l, n in enumerate(sizes):
        if n <= max_shown:                        # all neurons, centred
            ys, shown = n_rows / 2 + (n - 1) / 2 - np.arange(n), list(range(n))
        else:                                     # the first ones, a gap for the dots, the last one
            ys, shown = n_rows - 0.5 - np.r_[np.arange(max_shown - 2), max_shown - 1], [*range(max_shown - 2), n - 1]
        columns.append((5.0 * l, ys, shown))
    for (x0, ys0, _), (x1, ys1, _) in zip(columns[:-1], columns[1:]):
        for y0 in ys0:
            for y1 in ys1:
                ax.plot([x0, x1], [y0, y1], color="0.6", lw=0.6, alpha=0.6, zorder=1)
    from matplotlib.patches import Circle

    for l, ((x, ys, shown), n) in enumerate(zip(columns, sizes)):
        role = "data" if l == 0 else "latent" if l == len(sizes) - 1 else "layer"
        for y in ys:
            ax.add_patch(Circle((x, y), 0.28, fc="white", ec=ROLE_COLORS[role], lw=1.8, zorder=3))
        if n > max_shown:
            ax.text(x, (ys[-2] + ys[-1]) / 2, "⋮", ha="center", va="center", fontsize=16)
        kind = "input" if l == 0 else "output" if l == len(sizes) - 1 else "hidden"
        act = "" if l == 0 else f"\n{activations[l - 1]}" if activations[l - 1] else ""
        ax.text(x, -0.6, f"{kind}: {n}{act}", ha="center", va="top", fontsize=11)
        if l > 0:
            ax.text(x - 2.5, n_rows + 0.2, f"$W_{l}$: {sizes[l - 1]}×{n}\n$b_{l}$: {n}", ha="center", va="bottom",
                    fontsize=10, color=ROLE_COLORS["layer"])
    for labels, (x, ys, shown), side in ((input_labels, columns[0], -1), (output_labels, columns[-1], 1)):
        for y, i in zip(ys, shown) if labels is not None else ():
            ax.text(x + side * 0.45, y, labels[i], ha="right" if side < 0 else "left", va="center", fontsize=10)
    return ax


def _cnn_stages(net, input_shape):
    """Run a zero input through ``net`` (an ``nn.Sequential``) layer by layer: a list of (operation, weights,
    output shape), element-wise layers (batch-norm, activations, dropout) merged into the operation before them."""
    import torch
    from torch import nn

    names = {nn.BatchNorm1d: "BN", nn.BatchNorm2d: "BN", nn.ReLU: "ReLU", nn.LeakyReLU: "LeakyReLU",
             nn.Tanh: "tanh", nn.Sigmoid: "sigmoid", nn.Dropout: "dropout"}
    x, stages = torch.zeros(1, *input_shape), []
    was_training = net.training
    net.eval()
    with torch.no_grad():
        for layer in net:
            x = layer(x)
            weights = sum(p.numel() for p in layer.parameters())
            if isinstance(layer, nn.Conv2d):
                op = f"conv {layer.kernel_size[0]}×{layer.kernel_size[1]}\n{layer.out_channels} kernels"
            elif isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
                k = layer.kernel_size if isinstance(layer.kernel_size, int) else layer.kernel_size[0]
                op = f"{'max' if isinstance(layer, nn.MaxPool2d) else 'avg'}-pool {k}×{k}"
            elif isinstance(layer, nn.Linear):
                op = f"dense\n{layer.in_features}→{layer.out_features}"
            elif isinstance(layer, nn.Flatten):
                op = "flatten"
            elif stages and type(layer) in names:
                stages[-1][0] += f"\n+ {names[type(layer)]}"
                stages[-1][1] += weights
                continue
            else:
                op = type(layer).__name__
            stages.append([op, weights, tuple(x.shape[1:])])
    net.train(was_training)
    return stages


def draw_cnn(net, input_shape=(1, 28, 28), title=None, ax=None):
    """A convolutional network drawn from the model itself: the tensor after each operation (channels × height ×
    width, or a vector), the operation on each arrow and its number of weights. ``net`` is an ``nn.Sequential``;
    ``input_shape`` one input without the batch dimension."""
    stages = _cnn_stages(net, input_shape)
    shapes = [tuple(input_shape)] + [s[2] for s in stages]
    total, step = sum(s[1] for s in stages), 3.3
    biggest = max(s[1] for s in shapes if len(s) == 3)
    ax = _canvas(ax, (11, 3.3), (-1.0, step * (len(shapes) - 1) + 1.0), (-1.9, 2.1),
                 title or f"The CNN, layer by layer ({_thousands(total)} weights in all)")
    extents = []                                  # (left, right) of each drawn tensor
    for i, shape in enumerate(shapes):
        x = step * i
        if len(shape) == 3:                       # an image: a stack of channels (at most 4 drawn), side ~ its size
            c, h, _ = shape
            side, depth = 0.35 + 0.9 * h / biggest, min(c, 4)
            for k in range(depth - 1, -1, -1):
                _box(ax, x + 0.12 * k, 0.12 * k, "", w=side, h=side, role="data" if i == 0 else "layer")
            extents.append((x - side / 2, x + side / 2 + 0.12 * (depth - 1)))
        else:                                     # a vector: a thin bar, height ~ log of its length
            _box(ax, x, 0, "", w=0.3, h=0.5 + 0.4 * np.log10(shape[0]),
                 role="latent" if i == len(shapes) - 1 else "layer")
            extents.append((x - 0.15, x + 0.15))
        label = "×".join(map(str, shape)) + ("\n(input)" if i == 0 else "\n(scores)" if i == len(shapes) - 1 else "")
        ax.text(x, -1.1, label, ha="center", va="top", fontsize=11, fontweight="bold")
    for i, (op, weights, _) in enumerate(stages):
        x0, x1 = extents[i][1] + 0.15, extents[i + 1][0] - 0.15
        xm = step * (i + 0.5)
        _arrow(ax, (x0, 0), (x1, 0))
        ax.text(xm, 1.0, op, ha="center", va="bottom", fontsize=10)
        if weights:                               # under the arrow, centred between the two tensors
            ax.text((x0 + x1) / 2, -0.2, f"{_thousands(weights)} weights", ha="center", va="top", fontsize=8.5,
                    color=ROLE_COLORS["layer"])
    return ax


def draw_lstm_unrolled(tokens, vocab_size, embed_dim, hidden_size, num_layers=1, title=None, ax=None):
    """A recurrent language model unrolled in time on one example: at step t it reads token x_t (embedding,
    ``num_layers`` LSTM layers whose state (h, c) goes on to step t + 1) and scores the next token x_{t+1}
    (linear layer and softmax over the ``vocab_size`` tokens). ``tokens``: the example, ``<bos>`` first."""
    inputs, targets = list(tokens[:-1]), list(tokens[1:])
    T, dx = len(inputs), 2.4
    rows = {"in": 0.0, "emb": 1.3, **{f"lstm{l}": 2.7 + 1.4 * l for l in range(num_layers)}}
    rows["head"] = rows[f"lstm{num_layers - 1}"] + 1.5
    rows["out"] = rows["head"] + 1.25
    xlim, ylim = (-4.8, dx * (T - 1) + 1.0), (-0.8, rows["out"] + 0.5)
    ax = _canvas(ax, (13, 0.7 + 13 * (ylim[1] - ylim[0]) / (xlim[1] - xlim[0])), xlim, ylim, title or
                 "The SMILES language model unrolled in time (teacher forcing: read $x_t$, predict $x_{t+1}$)")
    side = {"in": "input token $x_t$", "emb": f"embedding ({embed_dim})", "out": "next token $x_{t+1}$\n(the target)",
            "head": f"linear {hidden_size}→{vocab_size}\n+ softmax",
            **{f"lstm{l}": f"LSTM layer {l + 1}\n({hidden_size} units)" for l in range(num_layers)}}
    for key, y in rows.items():
        ax.text(-1.5, y, side[key], ha="right", va="center", fontsize=10, color="0.25")
    for t, (tok_in, tok_out) in enumerate(zip(inputs, targets)):
        x = dx * t
        ax.text(x, rows["in"], tok_in, ha="center", va="center", fontsize=12, family="monospace")
        ax.text(x, rows["out"], tok_out, ha="center", va="center", fontsize=12, family="monospace",
                color=ROLE_COLORS["loss"])
        _box(ax, x, rows["emb"], "embed", w=1.2, h=0.6, role="data", fontsize=10)
        _arrow(ax, (x, rows["in"] + 0.25), (x, rows["emb"] - 0.3))
        below = rows["emb"] + 0.3
        for l in range(num_layers):
            y = rows[f"lstm{l}"]
            _box(ax, x, y, "LSTM", w=1.2, h=0.7, role="layer", fontsize=10)
            _arrow(ax, (x, below), (x, y - 0.35))
            below = y + 0.35
            if t == 0:
                ax.text(x - 1.15, y, "0", ha="center", va="center", fontsize=10)      # the state starts at zero
            _arrow(ax, (x - dx + 0.6, y) if t else (x - 1.0, y), (x - 0.6, y),
                   text="(h, c)" if t == 1 and l == 0 else None, fontsize=9)
        _box(ax, x, rows["head"], "linear\nsoftmax", w=1.2, h=0.75, role="latent", fontsize=9)
        _arrow(ax, (x, below), (x, rows["head"] - 0.375))
        _arrow(ax, (x, rows["head"] + 0.375), (x, rows["out"] - 0.25))
    ax.text(dx * (T - 1) / 2, -0.5, "the same weights at every step; the state (h, c) carries what was read so far",
            ha="center", va="top", fontsize=10, color="0.25")
    return ax


def draw_vae(latent_dim, encoder, decoder, x_label="input $x$", x_hat_label=r"rebuilt $\hat x$", decoder_input=None,
             predictor=None, kl_weight="", title=None, ax=None):
    """A variational autoencoder: x -> encoder -> (mu, log sigma^2) -> z = mu + sigma * eps -> decoder -> x_hat,
    with its two loss terms (reconstruction, KL to the prior). ``encoder`` / ``decoder`` label the networks (their
    layers and sizes); ``decoder_input`` an extra input of the decoder (teacher forcing); ``predictor`` labels an
    optional property network on z; ``kl_weight`` the weight written before the KL term (e.g. r"$\\beta\\cdot$ ")."""
    d = latent_dim
    ax = _canvas(ax, (13, 5.6), (-1.3, 16.4), (-3.6, 2.5), title or "Variational autoencoder")
    _box(ax, 0, 0, x_label, w=2.3, h=1.1, role="data", fontsize=10)
    _box(ax, 3.3, 0, encoder, w=2.6, h=1.5, role="layer", fontsize=10)
    _box(ax, 6.6, 0.75, rf"$\mu$ ({d})", w=1.7, h=0.7, role="latent")
    _box(ax, 6.6, -0.75, rf"$\log\sigma^2$ ({d})", w=1.7, h=0.7, role="latent")
    _box(ax, 9.5, 0, "$z = \\mu + \\sigma\\odot\\varepsilon$\n" + f"({d})", w=2.5, h=1.1, role="latent", fontsize=10)
    _box(ax, 12.6, 0, decoder, w=2.6, h=1.5, role="decoder", fontsize=10)
    _box(ax, 15.4, 0, x_hat_label, w=1.9, h=1.1, role="data", fontsize=10)
    _arrow(ax, (1.15, 0), (2.0, 0))
    for y in (0.75, -0.75):
        _arrow(ax, (4.6, 0.25 * np.sign(y)), (5.75, y))
        _arrow(ax, (7.45, y), (8.25, 0.25 * np.sign(y)))
    _arrow(ax, (10.75, 0), (11.3, 0))
    _arrow(ax, (13.9, 0), (14.45, 0))
    ax.text(8.8, -2.0, r"$\varepsilon \sim \mathcal{N}(0, I)$", ha="center", va="center", fontsize=11)
    _arrow(ax, (8.95, -1.75), (9.2, -0.55))
    loss = ROLE_COLORS["loss"]
    ax.text(5.2, -1.45, f"{kl_weight}KL$(q(z\\mid x)\\,\\|\\,\\mathcal{{N}}(0, I))$\nkeeps the codes near the prior",
            ha="center", va="top", fontsize=10, color=loss)
    _arrow(ax, (0, 0.6), (15.4, 0.6), color=loss, ls="--", rad=-0.18)
    ax.text(7.7, 2.05, r"reconstruction: $-\log p(x \mid z)$ (the decoder must give $x$ back)", ha="center",
            va="bottom", fontsize=10, color=loss)
    if decoder_input:
        ax.text(12.6, -2.0, decoder_input, ha="center", va="center", fontsize=10)
        _arrow(ax, (12.6, -1.7), (12.6, -0.75))
    if predictor:
        _box(ax, 10.4, -3.0, predictor, w=4.6, h=0.8, role="other", fontsize=10, ls="--")
        _arrow(ax, (10.0, -0.55), (10.0, -2.6), color=ROLE_COLORS["other"], ls="--")
    return ax


def draw_gan_loop(z_dim, data_dim, g_hidden, d_hidden, g_act="BN + LeakyReLU, tanh out", d_act="LeakyReLU",
                  minibatch_std=False, averaged=False, data_label="real $x$ (data)", title=None, ax=None):
    """A GAN and its training loop: noise z -> generator -> fake x~; real and fake x -> discriminator -> logit;
    the discriminator's step (real -> 1, fake -> 0, fakes detached) and the generator's step (fake -> 1, through
    D, whose weights do not move). Sizes: ``z_dim``, ``data_dim``, the hidden widths ``g_hidden`` / ``d_hidden``;
    ``minibatch_std`` adds the batch-spread feature before D's last layer; ``averaged`` the averaged copy of G."""
    g_sizes = "→".join(map(str, [z_dim, *g_hidden, data_dim]))
    d_last = f"({d_hidden[-1]}+1)→1" if minibatch_std else f"{d_hidden[-1]}→1"
    d_sizes = ("→".join(map(str, [data_dim, *d_hidden])) + f"\n{d_act}\n" + "+ minibatch std\n" * minibatch_std
               + d_last)
    ax = _canvas(ax, (13, 6.0), (-1.4, 17.4), (-4.0, 3.7), title or "A GAN and its training loop")
    _box(ax, 0, 1.3, f"noise $z$\n$\\mathcal{{N}}(0, I)$, {z_dim}", w=2.2, h=1.1, role="data", fontsize=10)
    _box(ax, 3.6, 1.3, f"generator $G$\n{g_sizes}\n{g_act}", w=3.6, h=1.3, role="decoder", fontsize=10)
    _box(ax, 7.6, 1.3, f"fake $\\tilde x = G(z)$\n{data_dim}", w=2.2, h=1.1, role="latent", fontsize=10)
    _box(ax, 7.6, -1.3, f"{data_label}\n{data_dim}", w=2.2, h=1.1, role="data", fontsize=10)
    _box(ax, 11.2, 0, f"discriminator $D$\n{d_sizes}", w=3.0, h=2.2, role="layer", fontsize=10)
    _box(ax, 14.6, 0, "logit $\\ell$\n$D = \\sigma(\\ell)$", w=2.0, h=1.1, role="layer", fontsize=10)
    _arrow(ax, (1.1, 1.3), (1.8, 1.3))
    _arrow(ax, (5.4, 1.3), (6.5, 1.3))
    _arrow(ax, (8.7, 1.3), (9.7, 0.5))
    _arrow(ax, (8.7, -1.3), (9.7, -0.5))
    _arrow(ax, (12.7, 0), (13.6, 0))
    loss = ROLE_COLORS["loss"]
    _box(ax, 14.6, 2.9, "$G$ step: $-\\log D(\\tilde x)$\n(fake → 1)", w=3.4, h=1.0, role="loss", fontsize=10)
    _box(ax, 14.6, -2.9, "$D$ step: $-\\log D(x) - \\log(1 - D(\\tilde x))$\n(real → 1, fake → 0)",
         w=5.0, h=1.0, role="loss", fontsize=10)
    _arrow(ax, (14.6, 0.55), (14.6, 2.4))
    _arrow(ax, (14.6, -0.55), (14.6, -2.4))
    _arrow(ax, (12.9, 2.9), (3.6, 1.95), color=loss, ls="--", rad=0.25)
    ax.text(8.4, 2.55, "gradient through $D$ (unchanged) into $G$", ha="center", va="center", fontsize=10, color=loss)
    _arrow(ax, (12.1, -2.9), (11.2, -1.1), color=loss, ls="--", rad=-0.3)
    ax.text(11.6, -3.6, "gradient into $D$ only\n($\\tilde x$ detached)", ha="right", va="center", fontsize=10,
            color=loss)
    if averaged:
        _box(ax, 3.6, -1.6, "averaged copy $\\bar G$ (sampled, never trained)\n"
             "$\\bar\\theta \\leftarrow 0.999\\,\\bar\\theta + 0.001\\,\\theta_G$", w=4.6, h=1.1, role="other",
             fontsize=10, ls="--")
        _arrow(ax, (3.6, 0.65), (3.6, -1.05), color=ROLE_COLORS["other"], ls="--")
    return ax



def _frame(ax, x, y, w, h, title, fontsize=11):
    """A dashed frame around a group of boxes (one step of a pipeline), its title inside at the top."""
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.2", fc="none",
                                ec="0.45", lw=1.3, ls="--"))
    ax.text(x, y + h / 2 - 0.2, title, ha="center", va="top", fontsize=fontsize, fontweight="bold")


def draw_crystalgan(n_cells=(35, 35), n_max=18, n_noise=8, hidden=256, lam_rec=10.0, lam_geo=1000.0,
                    window=(1.8, 3.0), margin=0.1, steps=None, title=None, ax=None):
    """CrystalGAN's pipeline (Nouira et al. 2019) as notebook 09 builds it: the Pd-H and Ni-H cells as tensors
    (4 slots x ``n_max`` rows x (x, y, z, flag)); step 1, a cross-domain GAN Pd-H <-> Ni-H; step 2, feature transfer
    into Pd-Ni-H ternaries; step 3, a second cross-domain GAN on the ternaries with the geometric-constraint loss
    (first-neighbour ``window`` narrowed by ``margin`` in training); then the candidates, judged with ASE.
    ``n_cells``: cells per domain (A, B); ``n_noise``, ``hidden``: the generators' noise and the networks' hidden
    width; ``lam_rec``, ``lam_geo``: the loss weights; ``steps``: optional training steps (step 1, step 3)."""
    dim, n_out = 4 * n_max * 4, 9 + 3 * n_max * 3
    lo, hi = window
    g_sizes = f"({dim}+{n_noise})→{hidden}→{hidden}→{n_out}"
    ax = _canvas(ax, (14.5, 6.6), (-1.6, 22.5), (-4.75, 4.9),
                 title or "CrystalGAN: from Pd-H and Ni-H cells to Pd-Ni-H candidates in three steps")
    yA, yB, loss = 1.9, -1.9, ROLE_COLORS["loss"]
    # the data: two domains of cells, each cell a fixed-size tensor
    _box(ax, 0, yA, f"Pd-H cells (A)\n{n_cells[0]} × 4×{n_max}×4", w=2.8, h=1.2, role="data", fontsize=10)
    _box(ax, 0, yB, f"Ni-H cells (B)\n{n_cells[1]} × 4×{n_max}×4", w=2.8, h=1.2, role="data", fontsize=10)
    _box(ax, 0, 0, f"a cell = a tensor\n[lattice | H | Pd | Ni],\n{n_max} rows of (x, y, z, flag)", w=2.8, h=1.5,
         role="data", fontsize=9, ls=":")
    # step 1 and step 3: a cross-domain GAN (two generators, two discriminators)
    x1, x3 = 4.9, 16.6
    for x, a, b, name in ((x1, "A", "B", "step 1: Pd-H ↔ Ni-H"), (x3, "A_2", "B_2", "step 3: $A_2$ ↔ $B_2$")):
        _frame(ax, x, 0.05, 4.6, 7.3, name)
        what_a, what_b = ("Pd-H", "Ni-H") if a == "A" else (f"${a}$", f"${b}$")
        _box(ax, x, yA, f"$G_{{{a}{b}}}$: {what_a} → {what_b}\n{g_sizes}", w=4.2, h=1.1, role="decoder",
             fontsize=10)
        _box(ax, x, 0, f"$D_{{{a}}}$, $D_{{{b}}}$: real or generated?\n{dim}→{hidden}→{hidden}→1", w=4.2, h=1.1,
             role="layer", fontsize=10)
        _box(ax, x, yB, f"$G_{{{b}{a}}}$: {what_b} → {what_a}\n{g_sizes}", w=4.2, h=1.1, role="decoder",
             fontsize=10)
    steps_1 = f"\n{steps[0]} training steps" if steps else ""
    ax.text(x1, -3.0, f"adversarial + {lam_rec:g} × reconstruction{steps_1}", ha="center", va="center", fontsize=10,
            color=loss)
    ax.text(x3, -2.82, f"adversarial + {lam_rec:g} × reconstruction", ha="center", va="center", fontsize=10,
            color=loss)
    ax.text(x3, -3.22, f"+ {lam_geo:g} × geometric loss", ha="center", va="center", fontsize=10, color=loss,
            fontweight="bold")
    ax.text(x3, -4.3, f"geometric loss: metal-metal and H-H first neighbours\nin [{lo + margin:.1f}, "
            f"{hi - margin:.1f}] Å (periodic, differentiable)" + (f"; {steps[1]} training steps" if steps else ""),
            ha="center", va="center", fontsize=9.5, color=loss)
    # step 2: feature transfer into ternaries
    x2 = 10.75
    _frame(ax, x2, 0.05, 4.2, 7.3, "step 2: feature transfer")
    _box(ax, x2, yA, "the Pd-H cell, with Ni\nfrom $G_{AB}(x_A)$ on every\nsecond metal site: $A_2$",
         w=3.8, h=1.5, role="other", fontsize=10)
    _box(ax, x2, yB, "the Ni-H cell, with Pd\nfrom $G_{BA}(x_B)$ on every\nsecond metal site: $B_2$",
         w=3.8, h=1.5, role="other", fontsize=10)
    ax.text(x2, 0, "Pd-Ni-H ternaries\n(the cells with\nmetal and H)", ha="center", va="center", fontsize=10)
    # the candidates and how they are judged
    x4 = 21.0
    _box(ax, x4, 1.2, "Pd-Ni-H\ncandidates", w=2.6, h=1.2, role="latent", fontsize=10)
    _box(ax, x4, -2.0, f"judged with ASE,\nnot with the losses:\n[{lo:.1f}, {hi:.1f}] Å window,\nSwitendick, "
         "novelty;\nPOSCAR / CIF files", w=2.7, h=2.4, role="other", fontsize=9)
    # arrows: data -> step 1 -> (translations) -> step 2 -> step 3 -> candidates -> judged
    for y, text in ((yA, "$G_{AB}(x_A)$"), (yB, "$G_{BA}(x_B)$")):
        _arrow(ax, (1.4, y), (x1 - 2.1, y))
        _arrow(ax, (x1 + 2.1, y), (x2 - 1.9, y), text=text, fontsize=9.5)
        _arrow(ax, (x2 + 1.9, y), (x3 - 2.1, y))
    _arrow(ax, (x3 + 2.1, yA), (x4 - 1.3, 1.45))
    _arrow(ax, (x3 + 2.1, yB), (x4 - 1.3, 0.95))
    _arrow(ax, (x4, 0.6), (x4, -0.8))
    # the cell itself also goes into step 2: its lattice, H and other metal sites are kept
    _arrow(ax, (0, yA + 0.6), (x2 - 1.0, 3.7), color="0.5", rad=-0.15)
    _arrow(ax, (0, yB - 0.6), (x2 - 1.0, -3.6), color="0.5", rad=0.15)
    for y in (4.3, -4.2):
        ax.text(6.3, y, "the cell itself: its lattice, H and other metal sites are kept", ha="center",
                va="center", fontsize=9, color="0.35")
    return ax
