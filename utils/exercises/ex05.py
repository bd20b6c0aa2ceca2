"""Exercise checks of notebook 05 (a convolutional network on MNIST).

Predict-then-verify exercises (the notebook measures the answer in the cell after the check): the shape the two
convolution blocks give on a larger image, the parameters of the CNN without its second pooling, the receptive field
of one neuron. Write exercises: parameters of a convolution layer, max-pooling by hand, per-class accuracy.
"""
import numpy as np

from . import exercise, expect, shown, answer_whole


# ----------------------------------------------------------------------------------------------
# 1. (predict) the shape out of the two convolution blocks for a 90 x 90 image
# ----------------------------------------------------------------------------------------------
PATCH = 90      # side of the image of the question


@exercise(kind="predict", wrong=[lambda: ((32, 7, 7),),                # the 28 x 28 answer
                                 lambda: ((32, 23, 23),),              # 45 / 2 rounded up
                                 lambda: ((16, 22, 22),),              # the first block's channels
                                 lambda: ((32, 45, 45),),              # one pooling only
                                 lambda: ((32, 22.5, 22.5),)])         # no floor
def check_blocks_output_shape(predicted_shape):
    """predicted_shape = (channels, height, width) that the CNN's two convolution blocks (cnn[:8]: conv 3x3 pad 1,
    pool 2, BN, ReLU, conv 3x3 pad 1, pool 2, BN, ReLU) give on one 90 x 90 grey image."""
    import torch
    from .. import mnist

    expect(isinstance(predicted_shape, (tuple, list, torch.Size)) and len(predicted_shape) == 3,
           f"give the shape as three whole numbers (channels, height, width), e.g. (32, 7, 7); got {predicted_shape!r}")
    c, h, w = (answer_whole(v, "each size of a shape") for v in predicted_shape)
    with torch.random.fork_rng(), torch.no_grad():      # the notebook's random numbers stay as they were
        truth = tuple(mnist.build_cnn()[:8].eval()(torch.zeros(1, 1, PATCH, PATCH)).shape[1:])
    expect(c == truth[0], f"{c} channels is not it. Hint: the channels are set by the last convolution's number of "
                          f"filters, whatever the image size.")
    expect(h == w, f"height {h} and width {w} differ, but the image is square and so is every map after it")
    expect(h != 7, "7 x 7 is the answer for a 28 x 28 digit. Hint: follow the 90 pixels through each layer: a 3 x 3 "
                   "convolution with padding 1 keeps the size, a 2 x 2 pooling halves it.")
    expect(h == truth[1], f"{h} x {w} is not it. Hint: a 3 x 3 convolution with padding 1 keeps the size, each 2 x 2 "
                          f"max-pooling halves it, and when the size is odd the last row and column are dropped "
                          f"(the floor).")


# ----------------------------------------------------------------------------------------------
# 2. (predict) the parameters of the CNN without its second pooling
# ----------------------------------------------------------------------------------------------
def _cnn_without_second_pooling():
    from torch import nn

    meta = {"device": "meta"}     # shapes only: nothing allocated, no random numbers drawn
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1, **meta), nn.MaxPool2d(2), nn.BatchNorm2d(16, **meta), nn.ReLU(),
        nn.Conv2d(16, 32, kernel_size=3, padding=1, **meta), nn.BatchNorm2d(32, **meta), nn.ReLU(),
        nn.Flatten(), nn.Linear(32 * 14 * 14, 64, **meta), nn.ReLU(), nn.Linear(64, 10, **meta))


@exercise(kind="predict", wrong=[lambda: 105_962,                      # pooling has no weights: "unchanged"
                                 lambda: 4 * 105_962,                  # every layer four times larger
                                 lambda: 105_962 - 100_416,            # dropped the dense layer
                                 lambda: 406_954,                      # the dense layer's 64 biases forgotten
                                 lambda: 406_954 + 64 - 10,            # the last layer's 10 biases forgotten
                                 lambda: 407_018 - 96])                # batch norm's scales and shifts forgotten
def check_params_without_second_pool(predicted_params):
    """predicted_params: the number of parameters of the notebook's CNN with its second nn.MaxPool2d(2) removed
    (the dense layer then reads 32 x 14 x 14 numbers). Exact: a count is a count, and every bias counts."""
    from .. import mnist

    got = answer_whole(predicted_params, "a number of parameters")
    truth = mnist.n_params(_cnn_without_second_pooling())
    if got == truth:
        return
    expect(got != mnist.n_params(mnist.build_cnn()), f"{shown(got)} is the count with the pooling. Hint: pooling has "
                                                     f"no weights, but it sets how many numbers reach the dense layer.")
    expect(not 0 < truth - got <= 200, f"{shown(got)} is {shown(truth - got)} short. Hint: every neuron and every "
                                       f"filter has a bias, and each batch-norm channel a scale and a shift: count "
                                       f"them too.")
    expect(False, f"{shown(got)} is not it. Hint: the convolutions' kernels do not depend on the size of the maps; only the "
                  f"first dense layer does: without the second pooling it reads 32 x 14 x 14 numbers instead of "
                  f"32 x 7 x 7, and each of its 64 neurons has one weight per number it reads.")


# ----------------------------------------------------------------------------------------------
# 3. parameters of a convolution layer
# ----------------------------------------------------------------------------------------------
def conv_params(c_in, c_out, k):
    """The reference answer: each of the c_out filters has one k x k kernel per input channel, and one bias."""
    return c_out * (c_in * k * k + 1)


@exercise(reference=conv_params, wrong=[lambda: (lambda c_in, c_out, k: k * k * c_in * c_out),            # forgot the biases
                 lambda: (lambda c_in, c_out, k: k * k * c_out + c_out),           # one kernel per output only
                 lambda: (lambda c_in, c_out, k: 28 * 28 * (k * k * c_in + 1) * c_out)])  # one kernel per pixel
def check_conv_params(conv_params):
    """conv_params(c_in, c_out, k) = number of weights and biases of nn.Conv2d(c_in, c_out, k)."""
    from torch import nn

    for c_in, c_out, k in [(1, 16, 3), (16, 32, 3), (3, 8, 5), (32, 64, 1), (2, 3, 7)]:
        truth = sum(p.numel() for p in nn.Conv2d(c_in, c_out, k, device="meta").parameters())
        got = conv_params(c_in, c_out, k)
        expect(got == truth, f"conv_params({c_in}, {c_out}, {k}) returned {got}, torch counts {truth}. Hint: each "
                             f"of the c_out filters has one k x k kernel per input channel, plus one bias.")


# ----------------------------------------------------------------------------------------------
# 4. max-pooling written by hand
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
# 5. (predict) receptive field of the course CNN
# ----------------------------------------------------------------------------------------------
def _measured_receptive_field() -> int:
    """The same stack with all-ones kernels and average pooling (the footprint of max-pooling, but its gradient
    reaches all four pixels of a block): the width of the input square that one output pixel's gradient reaches."""
    import torch
    from torch import nn

    with torch.random.fork_rng():                          # the notebook's random numbers stay as they were
        probe = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.AvgPool2d(2), nn.Conv2d(1, 1, 3, padding=1),
                              nn.AvgPool2d(2))
    for m in probe[::2]:
        nn.init.ones_(m.weight)
    x = torch.zeros(1, 1, 28, 28, requires_grad=True)
    probe(x)[0, 0, 3, 3].backward()
    rows = torch.nonzero(x.grad[0, 0])[:, 0]
    return int(rows.max() - rows.min() + 1)


@exercise(kind="predict", wrong=[lambda: 7, lambda: 3, lambda: 28, lambda: 8])
def check_receptive_field(receptive_field):
    """receptive_field = side (in input pixels) of the square of the 28 x 28 input that one output pixel of the
    second pooling layer depends on (conv 3x3 pad 1 -> pool 2 -> conv 3x3 pad 1 -> pool 2)."""
    size = answer_whole(receptive_field, "a number of pixels")
    expect(size == _measured_receptive_field(),
           f"{size} pixels is not it. Hint: follow one output pixel backwards: the last pooling sees 2 x 2 pixels of "
           f"the layer before, each 3 x 3 convolution adds one pixel on every side, and the first pooling doubles "
           f"everything.")


# ----------------------------------------------------------------------------------------------
# 6. per-class accuracy from a confusion matrix
# ----------------------------------------------------------------------------------------------
def _cm_case():
    rng = np.random.default_rng(4)
    cm = rng.integers(0, 6, size=(10, 10))
    cm[np.diag_indices(10)] = rng.integers(40, 120, size=10)
    return cm


def per_class_accuracy(cm):
    """The reference answer: the diagonal (right answers) divided by the sum of each row (digits of that class)."""
    cm = np.asarray(cm)
    return np.diag(cm) / cm.sum(axis=1)


@exercise(reference=per_class_accuracy,
          wrong=[lambda: (lambda cm: np.diag(cm) / np.asarray(cm).sum(0)),              # columns: precision
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
