"""Exercise checks of notebook 04 (images, parameter counts and convolution kernels).

Predict-then-verify exercises (the notebook measures the answer in the cell after the check): the parameters of a
convolution layer, convolution against cross-correlation for an asymmetric kernel, the output shape of a strided
convolution, max against average pooling. Write exercises: a horizontal-edge kernel, parameter counts, the true
convolution.
"""
import numpy as np

from . import choice, described, exercise, expect, shown, answer_whole


def _xcorr(X, K):
    """Reference cross-correlation ('valid'), as torch's conv2d computes it."""
    import torch
    import torch.nn.functional as F

    x = torch.tensor(np.array(X, float), dtype=torch.float64)[None, None]
    k = torch.tensor(np.array(K, float), dtype=torch.float64)[None, None]
    return F.conv2d(x, k)[0, 0].numpy()


# ----------------------------------------------------------------------------------------------
# 1. (predict) the parameters of a convolution layer on a colour photo
# ----------------------------------------------------------------------------------------------
@exercise(kind="predict", wrong=[lambda: 64 * (5 * 5 + 1),            # one 5 x 5 kernel per filter: channels forgotten
                                 lambda: 64 * 5 * 5 * 3,              # biases forgotten
                                 lambda: 5 * 5 * 3 + 1])              # one filter only
def check_conv_layer_params(predicted_conv_params):
    """predicted_conv_params: the number of weights and biases of nn.Conv2d(3, 64, kernel_size=5) (64 filters 5 x 5
    on an RGB image), whatever the image's size. Exact: a count is a count."""
    from torch import nn

    got = answer_whole(predicted_conv_params, "a number of parameters")
    truth = sum(p.numel() for p in nn.Conv2d(3, 64, kernel_size=5, device="meta").parameters())
    if got == truth:
        return
    expect(got != 64 * (5 * 5 + 1), f"{shown(got)} counts one 5 x 5 kernel per filter. Hint: a filter on an RGB image has "
                                    f"one 5 x 5 kernel per input channel (red, green, blue), and one bias.")
    expect(got != 64 * 5 * 5 * 3, f"{shown(got)} counts the weights only. Hint: each filter also has one bias.")
    expect(got < 10 ** 7, f"{shown(got)} is far too many. Hint: the kernel is shared by every position, so the size of "
                          f"the image does not enter the count.")
    expect(False, f"{shown(got)} is not it. Hint: one filter 3 x 3 on RGB had 3 x 3 x 3 + 1 = 28 parameters; here there are "
                  f"64 filters, each 5 x 5 on 3 channels, each with its bias.")


# ----------------------------------------------------------------------------------------------
# 2. (predict) convolution against cross-correlation for the (asymmetric) Sobel kernel
# ----------------------------------------------------------------------------------------------
FLIP_OPTIONS = {"a": "the same map", "b": "the same map with the opposite sign", "c": "the same map transposed",
                "d": "no simple relation"}


@exercise(kind="predict", wrong=[lambda: "a", lambda: "c", lambda: "d"])
def check_sobel_flip(predicted_relation):
    """predicted_relation: a letter. How does scipy's convolve2d(image, sobel) (the mathematicians' convolution)
    compare with torch's F.conv2d of the same image and kernel (a cross-correlation)? (a) the same map, (b) the same
    map with the opposite sign, (c) the same map transposed, (d) no simple relation."""
    from scipy.signal import convolve2d

    letter = choice(predicted_relation, FLIP_OPTIONS)
    X = np.random.default_rng(4).random((16, 16))
    conv, cross = convolve2d(X, SOBEL_X, mode="valid"), _xcorr(X, SOBEL_X)
    truth = next(k for k, same in [("a", np.allclose(conv, cross)), ("b", np.allclose(conv, -cross)),
                                   ("c", np.allclose(conv, cross.T)), ("d", True)] if same)
    expect(letter == truth, f"({letter}) {FLIP_OPTIONS[letter]} is not it. Hint: the convolution is the "
                            f"cross-correlation with the kernel turned by 180 degrees; write sobel turned by 180 "
                            f"degrees (sobel[::-1, ::-1]) and compare it with sobel.")


# ----------------------------------------------------------------------------------------------
# 3. (predict) the output shape of a strided, padded convolution on the micrograph
# ----------------------------------------------------------------------------------------------
@exercise(kind="predict", wrong=[lambda: ((8, 84, 84),),             # no padding, or the + 1 forgotten
                                 lambda: ((8, 86, 86),),             # rounded up
                                 lambda: ((1, 85, 85),),             # channels: one per filter, not per input
                                 lambda: ((8, 85.33, 85.33),)])      # no floor
def check_output_shape(predicted_shape):
    """predicted_shape = (channels, height, width) of the output of nn.Conv2d(1, 8, kernel_size=5, padding=1,
    stride=3) on the 256 x 256 micrograph (one channel)."""
    import torch
    import torch.nn.functional as F

    expect(isinstance(predicted_shape, (tuple, list, torch.Size)) and len(predicted_shape) == 3,
           f"give the shape as three whole numbers (channels, height, width), e.g. (1, 256, 256); "
           f"got {predicted_shape!r}")
    c, h, w = (answer_whole(v, "each size of a shape") for v in predicted_shape)
    truth = tuple(F.conv2d(torch.zeros(1, 1, 256, 256), torch.zeros(8, 1, 5, 5), padding=1, stride=3).shape[1:])
    expect(c == truth[0], f"{c} channels is not it. Hint: a convolution layer gives one output channel per filter.")
    expect(h == w, f"height {h} and width {w} differ, but the image and the kernel are square, and so is the output")
    expect(h != (256 + 2 - 5) // 3 + 2 or h == truth[1], f"{h} x {w} rounds up. Hint: the floor keeps only the "
                                                         f"positions where the whole kernel fits in the padded image.")
    expect(h == truth[1], f"{h} x {w} is not it. Hint: use n_out = floor((n + 2p - k) / s) + 1 with n = 256, k = 5, "
                          f"p = 1, s = 3: padding on both sides, then the floor, then the first position (+ 1).")


# ----------------------------------------------------------------------------------------------
# 4. (predict) max or average pooling on a map of thin boundaries
# ----------------------------------------------------------------------------------------------
POOLING_OPTIONS = {"a": "max pooling", "b": "average pooling", "c": "both alike"}


@exercise(kind="predict", wrong=[lambda: "b", lambda: "c"])
def check_pooling_keeps_boundaries(predicted_pooling):
    """predicted_pooling: a letter. After 4 x 4 pooling of the boundary map (thin bright lines, one or two pixels
    wide, on a dark background), which pooling keeps the boundaries bright? (a) max pooling, (b) average pooling,
    (c) both alike."""
    import torch
    import torch.nn.functional as F

    letter = choice(predicted_pooling, POOLING_OPTIONS)
    lines = torch.zeros(1, 1, 16, 16)
    lines[..., 5, :] = lines[..., :, 9] = 1.0                      # two boundaries, one pixel wide
    m, a = F.max_pool2d(lines, 4).max().item(), F.avg_pool2d(lines, 4).max().item()
    truth = "a" if m > 2 * a else "b" if a > 2 * m else "c"
    expect(letter == truth, f"({letter}) {POOLING_OPTIONS[letter]} is not it. Hint: take one 4 x 4 block crossed by a "
                            f"boundary one pixel wide (4 bright pixels, 12 dark ones): what does each pooling give "
                            f"for it?")


# ----------------------------------------------------------------------------------------------
# 5. a kernel that finds horizontal edges only
# ----------------------------------------------------------------------------------------------
SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float)


@exercise(wrong=[lambda: SOBEL_X,                                                       # vertical edges
                 lambda: np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], float),    # every edge
                 lambda: np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], float),            # identity
                 lambda: np.array([[1, 2, 1], [0, 0, 0], [1, 2, 1]], float),            # not zero-sum
                 lambda: SOBEL_X.T[::-1].copy()])                   # above minus below: negative on the edge asked
def check_horizontal_kernel(K):
    """K: a 3 x 3 kernel whose output is zero on a flat image and on a vertical edge, and large (positive) on a
    horizontal edge that is dark above and bright below: the row below minus the row above, the sign convention of
    the notebook's Sobel kernel (the column on the right minus the column on the left)."""
    try:
        K = np.asarray(K, dtype=float)
    except (TypeError, ValueError):
        K = None
    expect(K is not None, f"K_horizontal must be a 3 x 3 array of numbers, for example np.array([[0, 0, 0], [0, 1, "
                          f"0], [0, 0, 0]], float), got {described(K)}")
    expect(K.shape == (3, 3), f"the kernel must be a 3 x 3 array, got shape {K.shape}")
    flat = np.full((8, 8), 0.7)
    horizontal = np.zeros((8, 8))
    horizontal[4:] = 1.0          # a horizontal edge: the brightness changes from one row to the next
    vertical = horizontal.T.copy()
    r_flat, r_v = (np.abs(_xcorr(img, K)).max() for img in (flat, vertical))
    r_h, r_h_neg = _xcorr(horizontal, K).max(), -_xcorr(horizontal, K).min()
    expect(r_flat < 1e-9, f"on a flat image (all pixels 0.7) your kernel gives up to {r_flat:.3g}, not 0. Hint: "
                          f"an edge detector ignores uniform regions, so its numbers must add up to zero.")
    expect(r_v < 1e-9, f"on a vertical edge your kernel responds with up to {r_v:.3g}: it must give 0 there. Hint: "
                       f"a vertical edge is the same in every row, so each column of the kernel must add up to zero.")
    expect(r_h > 0.5 or r_h_neg <= 0.5, f"on a horizontal edge dark above and bright below your kernel gives "
                                        f"{-r_h_neg:.3g}: large, but negative. It should be positive there: the "
                                        f"row below minus the row above, as the Sobel kernel takes the column on "
                                        f"the right minus the one on the left. Swap the signs of your weights.")
    expect(r_h > 0.5, f"on a horizontal edge (a step of 1 between two rows) your kernel responds only {r_h:.3g}; "
                      f"it should respond clearly (> 0.5). Hint: weights of opposite signs above and below the centre.")


# ----------------------------------------------------------------------------------------------
# 6. parameters: dense layer versus convolution layer on an image
# ----------------------------------------------------------------------------------------------
@exercise(wrong=[lambda: (lambda h, w, c, n, k: (h * w * c * n, k * k * c * n)),                 # forgot biases
                 lambda: (lambda h, w, c, n, k: (h * w * n + n, k * k * n + n)),                 # ignores channels
                 lambda: (lambda h, w, c, n, k: (h * w * c * n + n, h * w * (k * k * c + 1) * n))])  # per pixel
def check_param_counts(param_counts):
    """param_counts(h, w, c, n, k) -> (dense, conv): parameters of nn.Linear(h*w*c, n) and of
    nn.Conv2d(c, n, k) (weights and biases)."""
    from torch import nn

    for h, w, c, n, k in [(28, 28, 1, 1000, 3), (4000, 6000, 3, 1000, 3), (64, 48, 3, 16, 5), (10, 12, 2, 7, 1)]:
        dense = h * w * c * n + n
        conv = sum(p.numel() for p in nn.Conv2d(c, n, k, device="meta").parameters())
        got = param_counts(h, w, c, n, k)
        expect(isinstance(got, tuple) and len(got) == 2, f"return a pair (dense, conv), got {got!r}")
        expect(got[0] == dense, f"dense layer of {n} neurons on a {h} x {w} x {c} image: you count {got[0]}, the "
                                f"right count is {dense}. Hint: one weight per input value and neuron, plus one bias "
                                f"per neuron.")
        expect(got[1] == conv, f"convolution layer of {n} filters {k} x {k} on {c} channel(s): you count {got[1]}, "
                               f"torch counts {conv}. Hint: the kernel is shared by all pixels, so the image size "
                               f"does not enter; each filter has k*k*c weights and one bias.")


# ----------------------------------------------------------------------------------------------
# 7. the mathematicians' convolution: flip, then cross-correlate
# ----------------------------------------------------------------------------------------------
def _xcorr_loops(X, K):
    kh, kw = K.shape
    out = np.zeros((X.shape[0] - kh + 1, X.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(X[i:i + kh, j:j + kw] * K)
    return out


@exercise(wrong=[lambda: (lambda X, K: _xcorr_loops(X, K)),                   # no flip: cross-correlation
                 lambda: (lambda X, K: _xcorr_loops(X, K[::-1, :])),          # flipped upside down only
                 lambda: (lambda X, K: _xcorr_loops(X, K.T))])                # transposed instead of flipped
def check_true_convolution(convolve):
    """convolve(X, K): the mathematical ('valid') convolution, equal to scipy.signal.convolve2d(X, K, 'valid')."""
    from scipy.signal import convolve2d

    rng = np.random.default_rng(4)
    for shape, kshape in [((9, 8), (3, 3)), ((12, 10), (3, 5))]:
        X, K = rng.normal(size=shape), rng.normal(size=kshape)
        want = convolve2d(X, K, mode="valid")
        try:
            got = convolve(X.copy(), K.copy())
        except Exception as exc:  # noqa: BLE001 - the student's code: say where it failed, in one sentence
            got = exc
        hint = {ValueError: "arrays of different shapes do not multiply as a whole (X @ K is a matrix product, "
                            "not a convolution): slide K over X, each output pixel being the sum of the flipped K "
                            "times the window of X under it",
                IndexError: f"an index went past the edge of X: the output has (H - {kshape[0]} + 1) x "
                            f"(W - {kshape[1]} + 1) pixels"}.get(type(got), "run it on a small X and K to see where")
        expect(not isinstance(got, Exception),
               f"convolve(X, K) stopped with a {type(got).__name__} on a {shape[0]} x {shape[1]} image X and a "
               f"{kshape[0]} x {kshape[1]} kernel K. Hint: {hint}.")
        try:
            arr = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            arr = None
        expect(arr is not None, f"convolve(X, K) must return an array of numbers, got {described(got)}")
        got = arr
        expect(got.shape == want.shape, f"for a {shape} image and a {kshape} kernel the output must be {want.shape}, "
                                        f"got {got.shape}")
        err = np.abs(got - want).max()
        expect(err < 1e-9, f"largest difference from scipy.signal.convolve2d is {err:.3g} (on a random, asymmetric "
                           f"{kshape} kernel). Hint: turn the kernel by 180 degrees (both axes: K[::-1, ::-1]), "
                           f"then slide it as before.")
