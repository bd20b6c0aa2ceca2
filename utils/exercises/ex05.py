"""Exercise checks of notebook 05 (a convolutional network on MNIST)."""
import numpy as np

from . import exercise, expect


# ----------------------------------------------------------------------------------------------
# 1. parameters of a convolution layer
# ----------------------------------------------------------------------------------------------
def _conv_params(c_in, c_out, k):
    return k * k * c_in * c_out + c_out


@exercise(wrong=[lambda: (lambda c_in, c_out, k: k * k * c_in * c_out),            # forgot the biases
                 lambda: (lambda c_in, c_out, k: k * k * c_out + c_out),           # one kernel per output only
                 lambda: (lambda c_in, c_out, k: 28 * 28 * (k * k * c_in + 1) * c_out)])  # one kernel per pixel
def check_conv_params(conv_params):
    """conv_params(c_in, c_out, k) = number of weights and biases of nn.Conv2d(c_in, c_out, k)."""
    from torch import nn

    for c_in, c_out, k in [(1, 16, 3), (16, 32, 3), (3, 8, 5), (32, 64, 1), (2, 3, 7)]:
        truth = sum(p.numel() for p in nn.Conv2d(c_in, c_out, k).parameters())
        got = conv_params(c_in, c_out, k)
        expect(got == truth, f"conv_params({c_in}, {c_out}, {k}) returned {got}, torch counts {truth}. Hint: each "
                             f"of the c_out filters has one k x k kernel per input channel, plus one bias.")


# ----------------------------------------------------------------------------------------------
# 2. max-pooling written by hand
# ----------------------------------------------------------------------------------------------
def _sample_maps():
    import torch

    g = torch.Generator().manual_seed(5)
    return torch.randn(3, 4, 8, 6, generator=g)


@exercise(wrong=[lambda: (lambda x: x.reshape(*x.shape[:2], x.shape[2] // 2, 2, x.shape[3] // 2, 2).mean((3, 5))),
                 lambda: (lambda x: x[..., ::2, ::2]),                                   # keeps the top-left pixel
                 lambda: (lambda x: x.reshape(*x.shape[:2], x.shape[2] // 2, 2, x.shape[3] // 2, 2).amax((2, 4)))])
def check_max_pool_2x2(max_pool_2x2):
    """max_pool_2x2(x) on a tensor N x C x H x W (H, W even) equals torch.nn.functional.max_pool2d(x, 2)."""
    import torch
    import torch.nn.functional as F

    x = _sample_maps()
    got = max_pool_2x2(x.clone())
    expect(isinstance(got, torch.Tensor), f"max_pool_2x2 must return a torch tensor, got {type(got).__name__}")
    want = F.max_pool2d(x, 2)
    expect(tuple(got.shape) == tuple(want.shape),
           f"for an input of shape {tuple(x.shape)} the output must have shape {tuple(want.shape)} (half the height "
           f"and width, same N and C), got {tuple(got.shape)}")
    err = (got - want).abs().max().item()
    expect(err < 1e-6, f"largest difference from F.max_pool2d(x, 2) is {err:.3g}. Hint: split H into (H/2, 2) and "
                       f"W into (W/2, 2) with reshape, then take the maximum over the two axes of size 2.")


# ----------------------------------------------------------------------------------------------
# 3. receptive field of the course CNN
# ----------------------------------------------------------------------------------------------
@exercise(wrong=[lambda: 7, lambda: 3, lambda: 28, lambda: 8])
def check_receptive_field(size):
    """size = side (in input pixels) of the square of the 28 x 28 input that one output pixel of the second
    pooling layer depends on (conv 3x3 pad 1 -> pool 2 -> conv 3x3 pad 1 -> pool 2)."""
    expect(isinstance(size, (int, np.integer)) or float(size).is_integer(),
           f"the answer is a whole number of pixels, got {size!r}")
    expect(int(size) == 10, f"{int(size)} pixels is not it. Hint: follow one output pixel backwards: the last "
                            "pooling sees 2 x 2 pixels of the layer before, each 3 x 3 convolution adds one pixel on "
                            "every side, and the first pooling doubles everything (you can also measure it: put a "
                            "gradient on one output pixel and see which input pixels receive it).")


# ----------------------------------------------------------------------------------------------
# 4. per-class accuracy from a confusion matrix
# ----------------------------------------------------------------------------------------------
def _cm_case():
    rng = np.random.default_rng(4)
    cm = rng.integers(0, 6, size=(10, 10))
    cm[np.diag_indices(10)] = rng.integers(40, 120, size=10)
    return cm


@exercise(wrong=[lambda: (lambda cm: np.diag(cm) / np.asarray(cm).sum(0)),              # columns: precision
                 lambda: (lambda cm: np.full(len(cm), np.trace(cm) / np.asarray(cm).sum())),  # overall accuracy
                 lambda: (lambda cm: np.diag(cm) / np.asarray(cm).sum())])                 # share of all digits
def check_per_class_accuracy(per_class_accuracy):
    """per_class_accuracy(cm)[i] = fraction of the digits of true class i predicted as i (cm[i, j]: true i,
    predicted j), i.e. the recall of each class."""
    cm = _cm_case()
    got = np.asarray(per_class_accuracy(cm.copy()), dtype=float).reshape(-1)
    want = np.diag(cm) / cm.sum(1)
    expect(got.shape == (10,), f"expected one value per class (10), got shape {got.shape}")
    worst = int(np.argmax(np.abs(got - want)))
    expect(np.allclose(got, want), f"for class {worst} expected {want[worst]:.4f}, got {got[worst]:.4f}. Hint: rows "
                                   f"are the true classes: divide the diagonal by the sum of each row.")
