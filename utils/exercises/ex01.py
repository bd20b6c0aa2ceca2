"""Exercise checks of notebook 01 (the perceptron)."""
import numpy as np

from . import exercise, expect

_GRID = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)


def _step(z):
    return (np.asarray(z) >= 0).astype(float)


@exercise(wrong=[lambda: (np.array([1.0, 1.0]), 0.5),      # that is OR
                 lambda: (np.array([1.0, 1.0]), -1.5)])    # threshold with the wrong sign: always fires
def check_and_gate(w, w0):
    """w, w0 make y = H(w1 x1 + w2 x2 - w0) the logical AND of two bits."""
    w = np.asarray(w, dtype=float).reshape(-1)
    expect(w.shape == (2,), f"w must hold two weights, got shape {w.shape}")
    y = _step(_GRID @ w - float(w0))
    target = np.array([0, 0, 0, 1.0])
    wrong = [f"({int(a)}, {int(b)}) -> {int(o)} instead of {int(t)}" for (a, b), o, t in zip(_GRID, y, target) if o != t]
    expect(not wrong, "not AND yet: " + "; ".join(wrong) + ". Hint: only x1 + x2 = 2 should pass the threshold w0.")


@exercise(wrong=[lambda: (lambda z: 1 / (1 + np.exp(-z))),               # the sigmoid itself
                 lambda: (lambda z: z * (1 - z)),                        # sigma' written in terms of z, not sigma(z)
                 lambda: (lambda z: np.exp(-z) / (1 + np.exp(-z)))])     # forgot the square
def check_sigmoid_derivative(sigmoid_prime):
    """sigmoid_prime(z) = sigma(z) (1 - sigma(z)), checked against central finite differences."""
    z = np.linspace(-6, 6, 41)
    got = np.asarray(sigmoid_prime(z), dtype=float)
    expect(got.shape == z.shape, f"sigmoid_prime must return one value per input (shape {z.shape}), got {got.shape}")
    s = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
    h = 1e-5
    numeric = (s(z + h) - s(z - h)) / (2 * h)
    err = np.max(np.abs(got - numeric))
    expect(err < 1e-6, f"largest difference from a finite-difference derivative is {err:.3g} (at z = "
                       f"{z[np.argmax(np.abs(got - numeric))]:.2f}). Hint: sigma'(z) = sigma(z) (1 - sigma(z)).")


def _reference_step(w, w0, x, y, lr):
    y_hat = float(np.dot(w, x) - w0 >= 0)
    return w + lr * (y - y_hat) * x, w0 - lr * (y - y_hat)


@exercise(wrong=[lambda: (lambda w, w0, x, y, lr: (w - lr * (y - float(w @ x - w0 >= 0)) * x,
                                                  w0 + lr * (y - float(w @ x - w0 >= 0)))),   # sign flipped
                 lambda: (lambda w, w0, x, y, lr: (w + lr * (y - float(w @ x - w0 >= 0)) * x, w0))])  # w0 frozen
def check_perceptron_step(perceptron_step):
    """perceptron_step(w, w0, x, y, lr) returns the new (w, w0) after Rosenblatt's rule on one example."""
    rng = np.random.default_rng(1)
    for _ in range(50):
        w, x = rng.normal(size=3), rng.normal(size=3)
        w0, y, lr = rng.normal(), float(rng.integers(0, 2)), rng.uniform(0.01, 1)
        got_w, got_w0 = perceptron_step(w.copy(), w0, x, y, lr)
        ref_w, ref_w0 = _reference_step(w, w0, x, y, lr)
        expect(np.allclose(got_w, ref_w) and np.isclose(got_w0, ref_w0),
               f"for w={np.round(w, 2)}, w0={w0:.2f}, x={np.round(x, 2)}, y={y:.0f}, lr={lr:.2f} expected "
               f"w={np.round(ref_w, 3)}, w0={ref_w0:.3f}, got w={np.round(np.asarray(got_w, float), 3)}, "
               f"w0={float(got_w0):.3f}. Hint: w <- w + lr (y - y_hat) x and w0 <- w0 - lr (y - y_hat).")
