"""Exercise checks of notebook 04 (images, parameter counts and convolution kernels)."""
import numpy as np

from . import exercise, expect


def _xcorr(X, K):
    """Reference cross-correlation ('valid'), as torch's conv2d computes it."""
    import torch
    import torch.nn.functional as F

    x = torch.tensor(np.array(X, float), dtype=torch.float64)[None, None]
    k = torch.tensor(np.array(K, float), dtype=torch.float64)[None, None]
    return F.conv2d(x, k)[0, 0].numpy()


# ----------------------------------------------------------------------------------------------
# 1. a kernel that finds horizontal edges only
# ----------------------------------------------------------------------------------------------
SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float)


@exercise(wrong=[lambda: SOBEL_X,                                                       # vertical edges
                 lambda: np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], float),    # every edge
                 lambda: np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], float),            # identity
                 lambda: np.array([[1, 2, 1], [0, 0, 0], [1, 2, 1]], float)])           # not zero-sum
def check_horizontal_kernel(K):
    """K: a 3 x 3 kernel whose output is zero on a flat image and on a vertical edge, and large on a
    horizontal edge (dark above, bright below)."""
    K = np.asarray(K, dtype=float)
    expect(K.shape == (3, 3), f"the kernel must be a 3 x 3 array, got shape {K.shape}")
    flat = np.full((8, 8), 0.7)
    horizontal = np.zeros((8, 8))
    horizontal[4:] = 1.0          # a horizontal edge: the brightness changes from one row to the next
    vertical = horizontal.T.copy()
    r_flat, r_h, r_v = (np.abs(_xcorr(img, K)).max() for img in (flat, horizontal, vertical))
    expect(r_flat < 1e-9, f"on a flat image (all pixels 0.7) your kernel gives up to {r_flat:.3g}, not 0. Hint: "
                          f"an edge detector ignores uniform regions, so its numbers must add up to zero.")
    expect(r_v < 1e-9, f"on a vertical edge your kernel responds with up to {r_v:.3g}: it must give 0 there. Hint: "
                       f"a vertical edge is the same in every row, so each column of the kernel must add up to zero.")
    expect(r_h > 0.5, f"on a horizontal edge (a step of 1 between two rows) your kernel responds only {r_h:.3g}; "
                      f"it should respond clearly (> 0.5). Hint: weights of opposite signs above and below the centre.")


# ----------------------------------------------------------------------------------------------
# 2. the output size of a convolution layer
# ----------------------------------------------------------------------------------------------
@exercise(wrong=[lambda: (lambda n, k, p, s: (n + 2 * p - k) / s + 1),        # no floor
                 lambda: (lambda n, k, p, s: (n + 2 * p - k) // s),           # forgot the + 1
                 lambda: (lambda n, k, p, s: (n + p - k) // s + 1),           # padding on one side only
                 lambda: (lambda n, k, p, s: (n - k) // s + 1)])              # ignores padding
def check_output_size(output_size):
    """output_size(n, k, p, s): side of the output of a k x k convolution with padding p and stride s on an
    n x n input (the slide's floor((n + 2p - k)/s) + 1), compared with torch for many cases."""
    import torch
    import torch.nn.functional as F

    for n, k, p, s in [(28, 3, 0, 1), (28, 5, 2, 1), (256, 3, 1, 2), (7, 3, 0, 2), (8, 3, 0, 2), (32, 5, 1, 3),
                       (10, 1, 0, 4), (6, 3, 1, 2)]:
        want = F.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), padding=p, stride=s).shape[-1]
        got = output_size(n, k, p, s)
        expect(isinstance(got, (int, np.integer)) and not isinstance(got, bool),
               f"output_size({n}, {k}, {p}, {s}) returned {got!r}: a number of pixels is a whole number "
               f"(use // for the floor)")
        expect(got == want, f"output_size(n={n}, k={k}, p={p}, s={s}) returned {got}, torch gives {want}. Hint: the "
                            f"padding is added on both sides, and the first position counts too (+1).")


# ----------------------------------------------------------------------------------------------
# 3. parameters: dense layer versus convolution layer on an image
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
# 4. the mathematicians' convolution: flip, then cross-correlate
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
        got = np.asarray(convolve(X.copy(), K.copy()), dtype=float)
        expect(got.shape == want.shape, f"for a {shape} image and a {kshape} kernel the output must be {want.shape}, "
                                        f"got {got.shape}")
        err = np.abs(got - want).max()
        expect(err < 1e-9, f"largest difference from scipy.signal.convolve2d is {err:.3g} (on a random, asymmetric "
                           f"{kshape} kernel). Hint: turn the kernel by 180 degrees (both axes: K[::-1, ::-1]), "
                           f"then slide it as before.")
