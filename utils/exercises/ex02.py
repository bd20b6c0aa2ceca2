"""Exercise checks of notebook 02 (back-propagation)."""
import numpy as np

from . import choice, exercise, expect


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _bce(z, y):
    p = _sigmoid(z)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


# ---- Exercise 4 (write): ReLU backward -----------------------------------------------------------------------
@exercise(wrong=[lambda: (lambda dH, Z: dH),                                   # forgot the derivative
                 lambda: (lambda dH, Z: (Z > 0).astype(float)),                # forgot the upstream gradient
                 lambda: (lambda dH, Z: dH * np.maximum(Z, 0)),                # multiplied by phi, not phi'
                 lambda: (lambda dH, Z: dH * (dH > 0))])                       # the gradient's sign, not Z's
def check_relu_backward(relu_backward):
    """relu_backward(dH, Z) = dE/dZ for H = max(Z, 0), given the upstream gradient dH = dE/dH."""
    rng = np.random.default_rng(2)
    Z = rng.normal(size=(7, 5))
    Z[np.abs(Z) < 1e-3] = 0.5          # keep away from the kink, where the derivative is not defined
    dH = rng.normal(size=(7, 5))
    got = np.asarray(relu_backward(dH.copy(), Z.copy()), dtype=float)
    expect(got.shape == Z.shape, f"relu_backward must return an array shaped like Z {Z.shape}, got {got.shape}")
    want = dH * (Z > 0)
    bad = ~np.isclose(got, want)
    if bad.any():  # the message indexes the first wrong entry, so build it only when there is one
        expect(False, f"{int(bad.sum())} of {Z.size} entries are wrong, e.g. Z = {Z[bad][0]:.3f}, dH = "
                             f"{dH[bad][0]:.3f}: expected {want[bad][0]:.3f}, got {got[bad][0]:.3f}. "
                             "Hint: dE/dZ = dE/dH * phi'(Z), and phi'(Z) is 1 where Z > 0, else 0.")


# ---- Exercise 1 (predict): shapes in the backward pass -------------------------------------------------------
def _shape(value, name: str) -> tuple:
    """A predicted array shape: a tuple (or list) of whole numbers, or NotYet saying what to write."""
    ok = isinstance(value, (tuple, list)) and all(
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in value)
    expect(ok, f"{name} must be a shape, a tuple of whole numbers such as (2, 5), got {value!r}")
    return tuple(int(n) for n in value)


@exercise(kind="predict", wrong=[lambda: ((10, 3, 16), (10, 16)),   # one gradient per example: summed, not kept
                                 lambda: ((16, 3), (10, 16)),       # W transposed (torch's nn.Linear stores W^T)
                                 lambda: ((3, 16), (10, 4)),        # dE/dH1 with the output layer's width
                                 lambda: ((3, 16), (10, 3)),        # dE/dH0, the error sent on to the inputs
                                 lambda: ((10, 16), (10, 16))])     # dE/dW1 shaped like H1: one row per example
def check_backward_shapes(shape_dW1, shape_dH1):
    """For the finch network 3 -> 16 tanh -> 4 scores and a batch of 10 examples: the shapes of dE/dW1 (the first
    layer's weight gradient) and of dE/dH1 (the error sent back to the 16 hidden neurons)."""
    got_dW1, got_dH1 = _shape(shape_dW1, "shape_dW1"), _shape(shape_dH1, "shape_dH1")
    rng = np.random.default_rng(3)                     # the backward pass of section 1's table, measured
    X, W1, W2 = rng.normal(size=(10, 3)), rng.normal(size=(3, 16)), rng.normal(size=(16, 4))
    H1 = np.tanh(X @ W1)
    dZ2 = rng.normal(size=(10, 4))                     # dE/dZ2: one row per example, one column per score
    dH1 = dZ2 @ W2.T
    dW1 = X.T @ (dH1 * (1 - H1 ** 2))
    expect(got_dW1 == dW1.shape, f"dE/dW1 is not {got_dW1}. Hint: a gradient holds one number per weight, and "
                                 "dE/dW1 = H0^T delta1 sums over the examples of the batch.")
    expect(got_dH1 == dH1.shape, f"dE/dH1 is not {got_dH1}. Hint: dE/dH1 holds one number per value of H1, the "
                                 "hidden layer's output for each example of the batch.")


# ---- Exercise 5 (write): the gradient of another loss --------------------------------------------------------
@exercise(wrong=[lambda: (lambda z, y: (_sigmoid(z) - y) * _sigmoid(z) * (1 - _sigmoid(z))),  # squared-error one
                 lambda: (lambda z, y: y - _sigmoid(z)),                                      # sign flipped
                 lambda: (lambda z, y: _sigmoid(z) * (1 - _sigmoid(z))),                      # forgot the target
                 lambda: (lambda z, y: -y / _sigmoid(z) + (1 - y) / (1 - _sigmoid(z)))])      # dE/dp, not dE/dz
def check_bce_gradient(bce_gradient):
    """bce_gradient(z, y) = dE/dz for E = -[y log p + (1 - y) log(1 - p)], p = sigmoid(z), element-wise."""
    rng = np.random.default_rng(4)
    z = rng.normal(0, 3, size=50)
    y = rng.integers(0, 2, size=50).astype(float)
    got = np.asarray(bce_gradient(z.copy(), y.copy()), dtype=float)
    expect(got.shape == z.shape, f"bce_gradient must return one value per example (shape {z.shape}), got {got.shape}")
    h = 1e-6
    num = (_bce(z + h, y) - _bce(z - h, y)) / (2 * h)
    i = int(np.argmax(np.abs(got - num)))
    expect(np.abs(got - num).max() < 1e-6,
           f"at z = {z[i]:.3f}, y = {y[i]:.0f} expected dE/dz = {num[i]:.4f} (finite differences), got {got[i]:.4f}. "
           "Hint: write dE/dp, multiply by dp/dz = p (1 - p), and simplify.")


# ---- Exercise 6 (write): the learning rate at which gradient descent diverges, several inputs ----------------
def critical_learning_rate(X):
    """The reference answer: 2 / lambda_max(X^T X / n), above which gradient descent on E(w) = 1/(2n) ||Xw - y||^2
    diverges (the cell after the exercise uses it)."""
    return 2 / np.linalg.eigvalsh(X.T @ X / len(X)).max()


@exercise(wrong=[lambda: (lambda X: 1 / np.linalg.eigvalsh(X.T @ X / len(X)).max()),    # forgot the factor 2
                 lambda: (lambda X: 2 / np.linalg.eigvalsh(X.T @ X / len(X)).min()),    # smallest curvature
                 lambda: (lambda X: 2 / np.trace(X.T @ X)),                            # not an eigenvalue
                 lambda: (lambda X: 2 / np.linalg.eigvalsh(X.T @ X).max())],           # forgot the 1/n
          reference=critical_learning_rate)
def check_critical_learning_rate(critical_learning_rate):
    """critical_learning_rate(X) = 2 / lambda_max(X^T X / n): above it, gradient descent on the squared error
    E(w) = 1/(2n) ||X w - y||^2 diverges."""
    expect(callable(critical_learning_rate), "critical_learning_rate must be a function of X (def "
                                             f"critical_learning_rate(X): ...), got {critical_learning_rate!r}")
    rng = np.random.default_rng(5)
    for n, d in ((40, 2), (100, 3), (60, 5)):
        X = rng.normal(size=(n, d)) * rng.uniform(0.3, 3, size=d)
        want = 2 / np.linalg.eigvalsh(X.T @ X / n).max()
        got = float(critical_learning_rate(X.copy()))
        expect(np.isclose(got, want, rtol=1e-6),
               f"for a {n} x {d} X expected alpha_crit = {want:.4f}, got {got:.4f}. Hint: along an eigenvector of "
               "the Hessian X^T X / n with eigenvalue lambda, one step multiplies the error by (1 - alpha lambda).")


# ---- Exercise 2 (predict): identical starting weights --------------------------------------------------------
def _xor_from(W1, b1, W2, b2, lr=2.0, steps=3000):
    """The 2-4-1 XOR network of section 5 (tanh hidden, sigmoid output, squared error, full-batch gradient descent)
    trained from the given weights: (W1, outputs) after training."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([[0], [1], [1], [0]], dtype=float)
    for _ in range(steps):
        H = np.tanh(X @ W1 + b1)
        out = _sigmoid(H @ W2 + b2)
        dZ2 = (out - y) / len(y) * out * (1 - out)
        dZ1 = (dZ2 @ W2.T) * (1 - H ** 2)
        W2, b2 = W2 - lr * H.T @ dZ2, b2 - lr * dZ2.sum(axis=0)
        W1, b1 = W1 - lr * X.T @ dZ1, b1 - lr * dZ1.sum(axis=0)
    return W1, _sigmoid(np.tanh(X @ W1 + b1) @ W2 + b2)


@exercise(kind="predict", wrong=[lambda: "B",      # the neurons would need different gradients to differ
                                 lambda: "C"])     # the gradients are not zero: the output is wrong
def check_symmetric_start(symmetric_start):
    """What the XOR network does when every weight starts at 0.5 and every bias at 0: A (the hidden neurons stay
    identical, XOR is not solved), B (they become different and solve XOR) or C (nothing moves: zero gradients)."""
    got = choice(symmetric_start, "ABC", "symmetric_start")
    W1, out = _xor_from(np.full((2, 4), 0.5), np.zeros(4), np.full((4, 1), 0.5), np.zeros(1))
    moved = not np.allclose(W1, 0.5)
    identical = np.allclose(W1, W1[:, :1])
    solved = np.array_equal(out.ravel() > 0.5, np.array([False, True, True, False]))
    truth = "C" if not moved else ("A" if identical and not solved else "B")
    expect(got == truth, f"not {got}. Hint: two hidden neurons with the same weights compute the same output; "
                         "by the chain rule, what do their gradients dE/dW1[:, j] look like? And after the step?")


# ---- Exercise 3 (predict): the learning rate at which one linear neuron diverges -----------------------------
@exercise(kind="predict", wrong=[lambda: 1.0,      # the step that lands on the minimum at once, not the limit
                                 lambda: 0.5])
def check_divergence_learning_rate(alpha_diverge):
    """The learning rate above which gradient descent diverges for one linear neuron y = w x + b on a standardised
    input (mean 0, variance 1) and a standardised target, with E = 1/(2n) sum (y_hat - y)^2."""
    ok = isinstance(alpha_diverge, (int, float, np.integer, np.floating)) and not isinstance(alpha_diverge, bool)
    expect(ok, f"alpha_diverge must be one number (for example alpha_diverge = 0.7), got {alpha_diverge!r}")
    x = np.random.default_rng(6).normal(size=200)      # a standardised input; the Hessian of E in (w, b), measured
    x = (x - x.mean()) / x.std()
    A = np.column_stack([x, np.ones_like(x)])          # (does not depend on the target y)
    truth = 2 / np.linalg.eigvalsh(A.T @ A / len(x)).max()
    got = float(alpha_diverge)
    expect(abs(got - truth) <= 0.05 * truth, f"{got:g} is not where it starts to diverge. Hint: dE/dw = w - w* "
                                             "for this input, so one step multiplies the distance to the minimum "
                                             "w* by (1 - alpha). For which alpha does that factor grow it?")
