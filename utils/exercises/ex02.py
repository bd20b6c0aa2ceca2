"""Exercise checks of notebook 02 (back-propagation)."""
import numpy as np

from . import exercise, expect


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _bce(z, y):
    p = _sigmoid(z)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


# ---- 1. ReLU backward -----------------------------------------------------------------------------------
@exercise(wrong=[lambda: (lambda dH, Z: dH),                                   # forgot the derivative
                 lambda: (lambda dH, Z: (Z > 0).astype(float)),                # forgot the upstream gradient
                 lambda: (lambda dH, Z: dH * np.maximum(Z, 0))])               # multiplied by phi, not phi'
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


# ---- 2. the backward pass of one dense layer ---------------------------------------------------------------
@exercise(wrong=[lambda: (lambda dZ, H, W: (dZ @ W.T, dZ.T @ H, dZ.sum(axis=0))),      # dW transposed
                 lambda: (lambda dZ, H, W: (-(dZ @ W.T), H.T @ dZ, dZ.sum(axis=0))),   # sign error
                 lambda: (lambda dZ, H, W: (dZ @ W.T, H.T @ dZ, dZ.mean(axis=0)))])    # db averaged again
def check_dense_backward(dense_backward):
    """dense_backward(dZ, H, W) = (dH, dW, db) for Z = H @ W + b, given dZ = dE/dZ (one row per example)."""
    rng = np.random.default_rng(3)
    H, W, b = rng.normal(size=(6, 4)), rng.normal(size=(4, 3)), rng.normal(size=3)
    dZ = rng.normal(size=(6, 3))            # E = sum(dZ * Z) has exactly this gradient dE/dZ
    out = dense_backward(dZ.copy(), H.copy(), W.copy())
    expect(isinstance(out, (tuple, list)) and len(out) == 3, "dense_backward must return three arrays (dH, dW, db)")
    dH, dW, db = (np.asarray(a, dtype=float) for a in out)
    for name, got, shape in (("dH", dH, H.shape), ("dW", dW, W.shape), ("db", db, b.shape)):
        expect(got.shape == shape, f"{name} must have the shape of {name[1:]} {shape}, got {got.shape}")

    def E(H_, W_, b_):
        return np.sum(dZ * (H_ @ W_ + b_))

    h = 1e-6
    for name, got, arr in (("dH", dH, H), ("dW", dW, W), ("db", db, b)):
        num = np.zeros_like(arr)
        for i in np.ndindex(arr.shape):
            plus, minus = arr.copy(), arr.copy()
            plus[i] += h
            minus[i] -= h
            args_p = {"dH": (plus, W, b), "dW": (H, plus, b), "db": (H, W, plus)}[name]
            args_m = {"dH": (minus, W, b), "dW": (H, minus, b), "db": (H, W, minus)}[name]
            num[i] = (E(*args_p) - E(*args_m)) / (2 * h)
        err = np.max(np.abs(got - num))
        expect(err < 1e-6, f"{name} differs from central finite differences by up to {err:.3g}. Hint: "
                           "dE/dH = dZ W^T, dE/dW = H^T dZ (input of the weight times dE/dZ, summed over "
                           "examples), dE/db = dZ summed over examples.")


# ---- 3. the gradient of another loss ---------------------------------------------------------------------
@exercise(wrong=[lambda: (lambda z, y: (_sigmoid(z) - y) * _sigmoid(z) * (1 - _sigmoid(z))),  # squared-error one
                 lambda: (lambda z, y: y - _sigmoid(z)),                                      # sign flipped
                 lambda: (lambda z, y: _sigmoid(z) * (1 - _sigmoid(z)))])                     # forgot the target
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


# ---- 4. the learning rate at which gradient descent diverges --------------------------------------------------
@exercise(wrong=[lambda: (lambda X: 1 / np.linalg.eigvalsh(X.T @ X / len(X)).max()),    # forgot the factor 2
                 lambda: (lambda X: 2 / np.linalg.eigvalsh(X.T @ X / len(X)).min()),    # smallest curvature
                 lambda: (lambda X: 2 / np.trace(X.T @ X))])                           # not an eigenvalue
def check_critical_learning_rate(critical_learning_rate):
    """critical_learning_rate(X) = 2 / lambda_max(X^T X / n): above it, gradient descent on the squared error
    E(w) = 1/(2n) ||X w - y||^2 diverges."""
    rng = np.random.default_rng(5)
    for n, d in ((40, 2), (100, 3), (60, 5)):
        X = rng.normal(size=(n, d)) * rng.uniform(0.3, 3, size=d)
        want = 2 / np.linalg.eigvalsh(X.T @ X / n).max()
        got = float(critical_learning_rate(X.copy()))
        expect(np.isclose(got, want, rtol=1e-6),
               f"for a {n} x {d} X expected alpha_crit = {want:.4f}, got {got:.4f}. Hint: along an eigenvector of "
               "the Hessian X^T X / n with eigenvalue lambda, one step multiplies the error by (1 - alpha lambda).")
