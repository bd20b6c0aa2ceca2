"""Exercise checks of notebook 01 (the perceptron)."""
import numpy as np

from . import choice, described, exercise, expect, answer_number

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
        got = perceptron_step(w.copy(), w0, x, y, lr)
        expect(isinstance(got, (tuple, list)) and len(got) == 2,
               f"perceptron_step must return two things, the new weights and the new threshold (return w, w0), got "
               f"{described(got)}")
        got_w, got_w0 = got
        expect(np.shape(got_w) == w.shape and np.size(got_w0) == 1,
               f"perceptron_step must return (w, w0): w with one weight per input (shape {w.shape}) and w0 one "
               f"number, got shapes {np.shape(got_w)} and {np.shape(got_w0)}")
        ref_w, ref_w0 = _reference_step(w, w0, x, y, lr)
        expect(np.allclose(got_w, ref_w) and np.isclose(got_w0, ref_w0),
               f"for w={np.round(w, 2)}, w0={w0:.2f}, x={np.round(x, 2)}, y={y:.0f}, lr={lr:.2f} expected "
               f"w={np.round(ref_w, 3)}, w0={ref_w0:.3f}, got w={np.round(np.asarray(got_w, float), 3)}, "
               f"w0={float(got_w0):.3f}. Hint: w <- w + lr (y - y_hat) x and w0 <- w0 - lr (y - y_hat).")


# ---- predict, then verify ---------------------------------------------------------------------------------------
@exercise(kind="predict", wrong=[lambda: 1.0,      # the largest slope of tanh, not of the sigmoid
                                 lambda: 0.5])     # sigma(0), the value, not the slope
def check_max_sigmoid_slope(predicted_max_slope):
    """The largest value of the sigmoid's derivative sigma'(X), over all X."""
    got = answer_number(predicted_max_slope, "predicted_max_slope")
    X = np.linspace(-10, 10, 200_001)
    s = 1 / (1 + np.exp(-X))
    truth = float(np.max(s * (1 - s)))
    expect(abs(got - truth) <= 0.01, f"{got:g} is not the largest slope of the sigmoid. Hint: sigma'(X) = "
                                     "sigma(X) (1 - sigma(X)), a product p (1 - p) with p between 0 and 1: for which p "
                                     "is it largest?")


def _rosenblatt_updates(X, y, lr, max_epochs=100):
    """Rosenblatt's rule from zero weights, examples in a fixed order: (updates, final predictions)."""
    w, w0, updates = np.zeros(X.shape[1]), 0.0, 0
    order = np.random.default_rng(0).permutation(len(y))
    for _ in range(max_epochs):
        errors = 0
        for i in order:
            y_hat = float(X[i] @ w - w0 >= 0)
            if y_hat != y[i]:
                w, w0, errors = w + lr * (y[i] - y_hat) * X[i], w0 - lr * (y[i] - y_hat), errors + 1
        updates += errors
        if errors == 0:
            break
    return updates, _step(X @ w - w0)


@exercise(kind="predict", wrong=[lambda: "B",      # bigger steps, fewer updates: not for a perceptron from zero
                                 lambda: "C"])     # overshoots: not for a perceptron from zero
def check_learning_rate_effect(lr_effect):
    """What a 10 times larger learning rate does to a perceptron that starts from zero weights: A (the same
    updates and predictions), B (fewer updates) or C (more updates, or no convergence)."""
    got = choice(lr_effect, "ABC", "lr_effect")
    rng = np.random.default_rng(7)                      # a separable toy problem, trained at lr and 10 lr
    X = rng.normal(size=(60, 2))
    y = (X @ np.array([1.0, -2.0]) + 0.3 >= 0).astype(float)
    (n_small, pred_small), (n_big, pred_big) = _rosenblatt_updates(X, y, 0.1), _rosenblatt_updates(X, y, 1.0)
    truth = "A" if n_small == n_big and np.array_equal(pred_small, pred_big) else ("B" if n_big < n_small else "C")
    expect(got == truth, f"not {got}. Hint: start from w = 0, w0 = 0 and write the first two updates with a "
                         "learning rate eta: every weight is eta times a sum of +-x and +-1. What does multiplying "
                         "all of w and w0 by the same factor do to the sign of w.x - w0?")


@exercise(kind="predict", wrong=[lambda: 4,        # then the perceptron rule would converge on XOR
                                 lambda: 2])       # the perceptron's last neuron, not the best line
def check_best_xor_line(best_xor_points):
    """The largest number of the four XOR points that one neuron (one straight line) classifies correctly."""
    got = answer_number(best_xor_points, "best_xor_points")
    expect(got == int(got) and 0 <= got <= 4, f"best_xor_points counts points among four: a whole number from "
                                              f"0 to 4, got {best_xor_points!r}")
    rng = np.random.default_rng(0)                      # many random lines: the best of them
    W, w0 = rng.normal(size=(20_000, 2)), rng.normal(size=20_000)
    y = np.array([0, 1, 1, 0.0])
    truth = int(((_GRID @ W.T - w0 >= 0) == (y[:, None] == 1)).sum(axis=0).max())
    if got > truth:
        expect(False, f"{int(got)} is too many. Hint: if one line classified that many XOR points, what would the "
                      "perceptron rule have done on XOR?")
    expect(got == truth, f"{int(got)} is too few. Hint: draw the four corners of the unit square and a line that "
                         "cuts off a single corner.")
