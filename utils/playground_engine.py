"""The engine of notebook 03's playground: TensorFlow Playground's data, network and training rule in numpy.

No widgets here: plain, vectorised, unit-tested Python (``tests/test_playground.py``). The widget around it is in
:mod:`utils.widgets.playground`. The data generators, weight initialisation and update rule follow TensorFlow Playground
(Smilkov & Carter, https://github.com/tensorflow/playground, ``dataset.ts`` / ``nn.ts``): labels are -1 / +1 for
classification, the output neuron is tanh (classification) or linear (regression), the loss is the mean of
0.5 (output - label)^2, weights start uniform in [-0.5, 0.5] and biases at 0.1, and the weights are updated once per
batch with the mean gradient, then regularised (L1 / L2) exactly as the web page does.

Typical use::

    pg = Engine(dataset="spiral", hidden=[8, 8, 8], features=["x1", "x2"], lr=0.03)
    pg.train(200)                       # 200 epochs
    pg.loss_train, pg.loss_test, pg.accuracy("test")
    state = pg.state_dict(); Engine.from_state(state)   # exact save / restore
    net = pg.to_torch()                 # a torch nn.Module computing the same function
"""
from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn

from ._checks import array, number, whole
from .errors import SettingError

__all__ = ["Engine", "FEATURES", "DATASETS", "ACTIVATIONS", "LEARNING_RATES", "REG_RATES", "DOMAIN",
           "make_data", "best_line_accuracy", "PlaygroundFeatures", "validate"]

DOMAIN = 6.0  #: the picture shows [-DOMAIN, DOMAIN]^2, as on the web page

#: input features (name: (label, function of x1, x2)), in the web page's order
FEATURES = {
    "x1": ("X1", lambda x1, x2: x1),
    "x2": ("X2", lambda x1, x2: x2),
    "x1^2": ("X1²", lambda x1, x2: x1 * x1),
    "x2^2": ("X2²", lambda x1, x2: x2 * x2),
    "x1*x2": ("X1·X2", lambda x1, x2: x1 * x2),
    "sin(x1)": ("sin X1", lambda x1, x2: np.sin(x1)),
    "sin(x2)": ("sin X2", lambda x1, x2: np.sin(x2)),
}

#: the web page's choices (the engine accepts any value from the smallest to the largest)
LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10]
REG_RATES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10]
MAX_LAYERS, MAX_NEURONS = 6, 8
MAX_POINTS, MAX_EPOCHS = 10_000, 100_000   # guards against typos such as n=10**9 (the page uses 500 or 1200 points)


# ----------------------------------------------------------------------------------------------
# activations: (phi, phi' written in terms of the output a = phi(z) and the input z)
# ----------------------------------------------------------------------------------------------
def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))


ACTIVATIONS = {
    "tanh": (np.tanh, lambda z, a: 1.0 - a * a),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z, a: (z > 0).astype(z.dtype)),
    "sigmoid": (_sigmoid, lambda z, a: a * (1.0 - a)),
    "linear": (lambda z: z, lambda z, a: np.ones_like(z)),
}


# ----------------------------------------------------------------------------------------------
# data sets (TensorFlow Playground's dataset.ts); noise is the page's 0-50 slider divided by 100
# ----------------------------------------------------------------------------------------------
def _circle(n, noise, rng):
    radius = 5.0
    pts = []
    for inside in (True, False):
        k = n // 2
        r = rng.uniform(0, radius * 0.5, k) if inside else rng.uniform(radius * 0.7, radius, k)
        angle = rng.uniform(0, 2 * np.pi, k)
        x, y = r * np.sin(angle), r * np.cos(angle)
        nx, ny = rng.uniform(-radius, radius, k) * noise, rng.uniform(-radius, radius, k) * noise
        label = np.where(np.hypot(x + nx, y + ny) < radius * 0.5, 1.0, -1.0)
        pts.append(np.column_stack([x, y, label]))
    return np.vstack(pts)


def _xor(n, noise, rng):
    pad = 0.3
    x, y = rng.uniform(-5, 5, n), rng.uniform(-5, 5, n)
    x, y = x + np.where(x > 0, pad, -pad), y + np.where(y > 0, pad, -pad)
    nx, ny = rng.uniform(-5, 5, n) * noise, rng.uniform(-5, 5, n) * noise
    label = np.where((x + nx) * (y + ny) >= 0, 1.0, -1.0)
    return np.column_stack([x, y, label])


def _gauss(n, noise, rng):
    variance = 0.5 + (4.0 - 0.5) * noise / 0.5
    k = n // 2
    pos = rng.normal(2, math.sqrt(variance), (k, 2))
    neg = rng.normal(-2, math.sqrt(variance), (k, 2))
    return np.vstack([np.column_stack([pos, np.ones(k)]), np.column_stack([neg, -np.ones(k)])])


def _spiral(n, noise, rng):
    k = n // 2
    out = []
    for delta, label in ((0.0, 1.0), (np.pi, -1.0)):
        i = np.arange(k)
        r = i / k * 5
        t = 1.75 * i / k * 2 * np.pi + delta
        x = r * np.sin(t) + rng.uniform(-1, 1, k) * noise
        y = r * np.cos(t) + rng.uniform(-1, 1, k) * noise
        out.append(np.column_stack([x, y, np.full(k, label)]))
    return np.vstack(out)


def _plane(n, noise, rng):
    radius = 6.0
    x, y = rng.uniform(-radius, radius, n), rng.uniform(-radius, radius, n)
    nx, ny = rng.uniform(-radius, radius, n) * noise, rng.uniform(-radius, radius, n) * noise
    label = (x + nx + y + ny) / 10.0  # the page's linear scale [-10, 10] -> [-1, 1]
    return np.column_stack([x, y, label])


_GAUSSIANS = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]])


def _multi_gauss(n, noise, rng):
    radius = 6.0
    x, y = rng.uniform(-radius, radius, n), rng.uniform(-radius, radius, n)
    nx, ny = rng.uniform(-radius, radius, n) * noise, rng.uniform(-radius, radius, n) * noise
    px, py = x + nx, y + ny
    d = np.hypot(px[:, None] - _GAUSSIANS[:, 0], py[:, None] - _GAUSSIANS[:, 1])
    vals = _GAUSSIANS[:, 2] * np.clip(1 - d / 2, 0, 1)        # sign * scale(dist), scale [0, 2] -> [1, 0]
    label = vals[np.arange(n), np.argmax(np.abs(vals), axis=1)]
    return np.column_stack([x, y, label])


#: name: (problem type, generator, number of points on the page)
DATASETS = {
    "circle": ("classification", _circle, 500),
    "xor": ("classification", _xor, 500),
    "gauss": ("classification", _gauss, 500),
    "spiral": ("classification", _spiral, 500),
    "plane": ("regression", _plane, 1200),
    "multi_gauss": ("regression", _multi_gauss, 1200),
}


def make_data(dataset: str = "circle", noise: float = 0, seed: int = 0, n: int | None = None):
    """Points (x1, x2) and labels of one of the page's data sets, shuffled: returns ``(X, y)``.

    ``noise`` is the page's slider, 0 to 50 (percent); ``n`` the number of points (None: the page's, 500 or 1200;
    at most :data:`MAX_POINTS`). Labels are -1 / +1 (classification) or in [-1, 1] (regression).
    """
    if dataset not in DATASETS:
        raise SettingError(f"unknown data set {dataset!r}: choose one of {', '.join(DATASETS)}")
    _, gen, default_n = DATASETS[dataset]
    n = default_n if n is None else whole("the number of points n", n, 10, MAX_POINTS)
    noise, seed = number("noise", noise, 0, 50), whole("seed", seed, 0)
    rng = np.random.default_rng(seed)
    pts = gen(n, noise / 100.0, rng)
    pts = pts[rng.permutation(len(pts))]
    return pts[:, :2].copy(), pts[:, 2].copy()


def best_line_accuracy(X, y, n_angles: int = 360) -> float:
    """The highest accuracy any straight line reaches on points ``X`` (n x 2) with labels ``y`` = -1 / +1, by brute
    force: ``n_angles`` directions over 180 degrees, and for each every threshold between two projected points,
    either side called +1. A classifier with no hidden layer and features x1, x2 can do no better."""
    X = array("X", X, 2, dtype=float, what="(n, 2): one point (x1, x2) per row")
    y = np.asarray(y, dtype=float).ravel()
    if X.shape[1] != 2 or len(y) != len(X) or not np.isin(y, (-1.0, 1.0)).all():
        raise SettingError(f"best_line_accuracy needs points of shape (n, 2) and as many labels -1 / +1, got X of "
                           f"shape {X.shape} and {len(y)} labels")
    n_angles = whole("n_angles", n_angles, 1)
    best = 0.0
    for angle in np.linspace(0, np.pi, n_angles, endpoint=False):
        labels = y[np.argsort(X @ (np.cos(angle), np.sin(angle)))]
        below_neg = np.concatenate([[0], np.cumsum(labels < 0)])               # -1 called below the threshold
        above_pos = (labels > 0).sum() - np.concatenate([[0], np.cumsum(labels > 0)])   # +1 called above it
        right = (below_neg + above_pos) / len(y)
        best = max(best, right.max(), 1 - right.min())                         # 1 - right: the sides swapped
    return float(best)


# ----------------------------------------------------------------------------------------------
# the engine
# ----------------------------------------------------------------------------------------------
DEFAULTS = dict(
    dataset="circle", problem="classification", train_ratio=50, noise=0, batch_size=10,
    features=("x1", "x2"), hidden=(4, 2), activation="tanh", lr=0.03,
    regularization="none", reg_rate=0.0, seed=0, init_seed=0, n_points=None,
)


def _is_number(v):
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def validate(settings: dict) -> dict:
    """Check every setting; return a normalised copy or raise :class:`utils.SettingError` with a clear message."""
    s = dict(settings)
    unknown = set(s) - set(DEFAULTS)
    if unknown:
        raise SettingError(f"unknown setting(s) {sorted(unknown)}: the settings are {', '.join(DEFAULTS)}")
    if s["dataset"] not in DATASETS:
        raise SettingError(f"unknown data set {s['dataset']!r}: choose one of {', '.join(DATASETS)}")
    if s["problem"] not in ("classification", "regression"):
        raise SettingError(f"problem type must be 'classification' or 'regression', not {s['problem']!r}")
    if DATASETS[s["dataset"]][0] != s["problem"]:
        fits = [k for k, v in DATASETS.items() if v[0] == s["problem"]]
        raise SettingError(f"data set {s['dataset']!r} is for {DATASETS[s['dataset']][0]}; for {s['problem']} "
                           f"choose one of {', '.join(fits)}")
    number("learning rate", s["lr"], 0, LEARNING_RATES[-1], lo_open=True,
           hint="the page offers 0.00001 up to 10; with lr <= 0 gradient descent does not descend, and above 10 "
                "every step overshoots")
    number("regularization rate", s["reg_rate"], 0, REG_RATES[-1], hint="the page's range")
    if s["regularization"] not in ("none", "L1", "L2"):
        raise SettingError(f"regularization must be 'none', 'L1' or 'L2', not {s['regularization']!r}")
    if s["activation"] not in ACTIVATIONS:
        raise SettingError(f"activation must be one of {', '.join(ACTIVATIONS)}, not {s['activation']!r}")
    feats = (s["features"],) if isinstance(s["features"], str) else tuple(s["features"])  # one name: a list of one
    if not feats:
        raise SettingError("no input feature selected: tick at least one of " + ", ".join(FEATURES))
    bad = [f for f in feats if f not in FEATURES]
    if bad:
        raise SettingError(f"unknown feature(s) {bad}: choose among {', '.join(FEATURES)}")
    s["features"] = tuple(f for f in FEATURES if f in feats)  # page order, no duplicates
    if isinstance(s["hidden"], (str, bytes)) or not hasattr(s["hidden"], "__iter__") or not all(
            _is_number(h) and float(h).is_integer() for h in s["hidden"]):
        raise SettingError(f"hidden layers must be a list of whole neuron counts such as [4, 2], got {s['hidden']!r}")
    hidden = tuple(int(h) for h in s["hidden"])
    if len(hidden) > MAX_LAYERS:
        raise SettingError(f"a network must have at most {MAX_LAYERS} hidden layers, got {len(hidden)}")
    for i, h in enumerate(hidden):
        if not 1 <= h <= MAX_NEURONS:
            raise SettingError(f"hidden layer {i + 1} has {h} neurons: each hidden layer needs 1 to {MAX_NEURONS} "
                               "neurons (remove the layer instead of emptying it)")
    s["hidden"] = hidden
    number("ratio of training to test data (%)", s["train_ratio"], 10, 90)
    number("noise", s["noise"], 0, 50)
    s["batch_size"] = whole("batch size", s["batch_size"], 1, 30)
    s["seed"], s["init_seed"] = whole("seed", s["seed"], 0), whole("init_seed", s["init_seed"], 0)
    if s["n_points"] is not None:
        s["n_points"] = whole("the number of points n_points", s["n_points"], 10, MAX_POINTS)
    return s


def _part(which: str) -> str:
    if which not in ("train", "test"):
        raise SettingError(f"which must be 'train' or 'test', got {which!r}")
    return which


class Engine:
    """A TensorFlow-Playground network and its data, trained by mini-batch gradient descent in numpy.

    Settings (all keyword arguments, see :data:`DEFAULTS`): ``dataset``, ``problem``, ``train_ratio`` (10-90 %),
    ``noise`` (0-50), ``batch_size`` (1-30), ``features`` (names from :data:`FEATURES`), ``hidden`` (0-6 layers of
    1-8 neurons), ``activation``, ``lr`` (above 0, up to 10), ``regularization`` ('none' | 'L1' | 'L2'), ``reg_rate``
    (0-10), ``seed`` (data), ``init_seed`` (weights) and ``n_points`` (None: the page's number; else 10 to
    :data:`MAX_POINTS`). Bad values raise :class:`utils.SettingError` and leave the engine unchanged.
    """

    def __init__(self, **settings):
        if settings.get("dataset") in DATASETS and "problem" not in settings:
            settings["problem"] = DATASETS[settings["dataset"]][0]
        self.settings = validate({**DEFAULTS, **settings})
        self._make_data()
        self.reset()

    # ---- settings -------------------------------------------------------------------------------
    def set(self, **changes) -> list[str]:
        """Change settings. Data settings regenerate the data, network settings reset the weights; the learning
        rate, regularization and batch size take effect at the next step. Returns what was redone."""
        if "dataset" in changes and "problem" not in changes and changes["dataset"] in DATASETS:
            changes["problem"] = DATASETS[changes["dataset"]][0]      # a data set implies its problem type
        if "problem" in changes and "dataset" not in changes and \
                DATASETS[self.settings["dataset"]][0] != changes["problem"]:
            changes["dataset"] = next((k for k, v in DATASETS.items() if v[0] == changes["problem"]),
                                      self.settings["dataset"])
        new = validate({**self.settings, **changes})
        changed = {k for k in new if new[k] != self.settings[k]}
        self.settings = new
        redone = []
        if changed & {"dataset", "problem", "train_ratio", "noise", "seed", "n_points"}:
            self._make_data()
            redone.append("data")
        elif "features" in changed:
            self._F_train, self._F_test = self.features(self.X_train), self.features(self.X_test)
        if changed & {"dataset", "problem", "features", "hidden", "activation", "init_seed"}:
            self.reset()
            redone.append("weights")
        return redone

    def regenerate(self):
        """New data drawn with the next seed (the page's REGENERATE button); the network keeps its weights."""
        self.set(seed=self.settings["seed"] + 1)

    # ---- data -----------------------------------------------------------------------------------
    def _make_data(self):
        s = self.settings
        X, y = make_data(s["dataset"], s["noise"], s["seed"], s["n_points"])
        split = int(len(X) * s["train_ratio"] / 100)
        self.X_train, self.y_train = X[:split], y[:split]
        self.X_test, self.y_test = X[split:], y[split:]
        self._F_train, self._F_test = self.features(self.X_train), self.features(self.X_test)

    def features(self, X) -> np.ndarray:
        """The selected input features of points ``X`` (n x 2) as an n x n_features array."""
        X = array("X", X, 2, dtype=float, what="(n, 2): one point (x1, x2) per row")
        if X.shape[1] != 2:
            raise SettingError(f"X must hold points (x1, x2), shape (n, 2), got shape {X.shape}")
        return np.column_stack([FEATURES[f][1](X[:, 0], X[:, 1]) for f in self.settings["features"]])

    # ---- network --------------------------------------------------------------------------------
    @property
    def sizes(self) -> list[int]:
        """Neurons per layer, inputs first and the single output last."""
        return [len(self.settings["features"]), *self.settings["hidden"], 1]

    def reset(self):
        """New random weights (uniform in [-0.5, 0.5], biases 0.1, as on the page), epoch 0, empty loss curves."""
        rng = np.random.default_rng(self.settings["init_seed"])
        self.W = [rng.random((a, b)) - 0.5 for a, b in zip(self.sizes[:-1], self.sizes[1:])]
        self.b = [np.full(b, 0.1) for b in self.sizes[1:]]
        self.epoch = 0
        self.history = {"epoch": [], "train": [], "test": []}
        self.diverged = False
        self._log_losses()

    def n_parameters(self) -> int:
        """Number of weights and biases."""
        return int(sum(w.size + b.size for w, b in zip(self.W, self.b)))

    def _acts(self, i):
        last = i == len(self.W) - 1
        if last:
            return ACTIVATIONS["tanh" if self.settings["problem"] == "classification" else "linear"]
        return ACTIVATIONS[self.settings["activation"]]

    def forward(self, F, keep=False):
        """Output for feature rows ``F``; with ``keep=True`` also the list of (z, a) of every layer."""
        a, cache = F, []
        for i, (W, b) in enumerate(zip(self.W, self.b)):
            z = a @ W + b
            a = self._acts(i)[0](z)
            cache.append((z, a))
        return (a[:, 0], cache) if keep else a[:, 0]

    def predict(self, X) -> np.ndarray:
        """Network output at points ``X`` (n x 2)."""
        return self.forward(self.features(X))

    def neuron_outputs(self, X) -> list[np.ndarray]:
        """Output of every neuron at points X: a list (inputs, hidden layers..., output) of n x size arrays."""
        F = self.features(X)
        _, cache = self.forward(F, keep=True)
        return [F] + [a for _, a in cache]

    # ---- training ---------------------------------------------------------------------------------
    def _batch_step(self, F, y):
        out, cache = self.forward(F, keep=True)
        n = len(y)
        delta = (out - y)[:, None]                                   # dE/d(output), E = 0.5 (out - y)^2
        s = self.settings
        lr, reg, rr = s["lr"], s["regularization"], s["reg_rate"]
        for i in range(len(self.W) - 1, -1, -1):
            z, a = cache[i]
            delta = delta * self._acts(i)[1](z, a)                   # dE/dz = dE/da * phi'(z)
            a_prev = cache[i - 1][1] if i > 0 else F
            gW, gb = a_prev.T @ delta / n, delta.mean(axis=0)
            if i > 0:
                delta_prev = delta @ self.W[i].T                     # dE/da of the layer below
            W = self.W[i] - lr * gW
            if reg == "L2" and rr:
                W = W - lr * rr * W
            elif reg == "L1" and rr:
                W1 = W - lr * rr * np.sign(W)
                W = np.where(W * W1 < 0, 0.0, W1)                    # crossing zero: the link dies, as on the page
            self.W[i], self.b[i] = W, self.b[i] - lr * gb
            if i > 0:
                delta = delta_prev

    def train(self, epochs: int = 1) -> "Engine":
        """Train for ``epochs`` passes over the training data (one batch update every ``batch_size`` points)."""
        epochs = whole("epochs", epochs, 0, MAX_EPOCHS)
        if self.diverged:
            return self
        B = self.settings["batch_size"]
        F, y = self._F_train, self.y_train
        for _ in range(epochs):
            with np.errstate(over="ignore", invalid="ignore"):
                for start in range(0, len(y), B):
                    self._batch_step(F[start:start + B], y[start:start + B])
            self.epoch += 1
            self._log_losses()
            if self.diverged:
                break
        return self

    step = train

    # ---- measures -----------------------------------------------------------------------------
    def loss(self, which: str = "train") -> float:
        """Mean of 0.5 (output - label)^2 on the training or test data (the page's 'loss')."""
        F, y = (self._F_train, self.y_train) if _part(which) == "train" else (self._F_test, self.y_test)
        if len(y) == 0:
            return float("nan")
        with np.errstate(over="ignore", invalid="ignore"):
            return float(np.mean(0.5 * (self.forward(F) - y) ** 2))

    @property
    def loss_train(self) -> float:
        return self.history["train"][-1]

    @property
    def loss_test(self) -> float:
        return self.history["test"][-1]

    def _log_losses(self):
        tr, te = self.loss("train"), self.loss("test")
        self.history["epoch"].append(self.epoch)
        self.history["train"].append(tr)
        self.history["test"].append(te)
        if not (math.isfinite(tr) and (math.isfinite(te) or len(self.y_test) == 0)) or max(tr, te) > 1e6 or \
                not all(np.isfinite(w).all() for w in self.W):
            self.diverged = True

    def accuracy(self, which: str = "test") -> float:
        """Fraction of points whose output has the label's sign (classification)."""
        X, y = (self.X_train, self.y_train) if _part(which) == "train" else (self.X_test, self.y_test)
        return float(np.mean(np.where(self.predict(X) >= 0, 1.0, -1.0) == y))

    def epochs_to(self, target: float, which: str = "test"):
        """First epoch whose loss is <= ``target`` (None if never)."""
        target = number("target", target)
        for e, l in zip(self.history["epoch"], self.history[_part(which)]):
            if l <= target:
                return e
        return None

    # ---- save / restore / export ----------------------------------------------------------------
    def state_dict(self) -> dict:
        """The whole state in one dictionary of plain Python values (JSON-able): settings, weights, epoch, curves."""
        s = dict(self.settings)
        s["features"], s["hidden"] = list(s["features"]), list(s["hidden"])
        return {"settings": s, "epoch": self.epoch, "diverged": self.diverged,
                "W": [w.tolist() for w in self.W], "b": [b.tolist() for b in self.b],
                "history": copy.deepcopy(self.history)}

    def load_state_dict(self, state: dict) -> "Engine":
        """Restore a :meth:`state_dict`: the data is redrawn from its seed, the weights are copied exactly."""
        keys = {"settings", "epoch", "W", "b", "history"}
        if not isinstance(state, dict) or not keys <= set(state):
            got = f"keys {sorted(state)}" if isinstance(state, dict) else type(state).__name__
            raise SettingError(f"state must be a dictionary from Engine.state_dict() (keys {sorted(keys)}), got {got}")
        settings = validate({**DEFAULTS, **state["settings"]})
        sizes = [len(settings["features"]), *settings["hidden"], 1]
        try:
            W = [np.array(w, dtype=float).reshape(m, n)
                 for w, m, n in zip(state["W"], sizes[:-1], sizes[1:], strict=True)]
            b = [np.array(v, dtype=float).reshape(n) for v, n in zip(state["b"], sizes[1:], strict=True)]
        except (TypeError, ValueError):
            raise SettingError(f"the saved weights must match the saved network {sizes} (neurons per layer): use a "
                               "state from Engine.state_dict()") from None
        self.settings = settings
        self._make_data()
        self.W, self.b = W, b
        self.epoch, self.diverged = int(state["epoch"]), bool(state.get("diverged", False))
        self.history = copy.deepcopy(state["history"])
        return self

    @classmethod
    def from_state(cls, state: dict) -> "Engine":
        eng = cls.__new__(cls)
        return eng.load_state_dict(state)

    def to_torch(self):
        """The trained network as a torch ``nn.Module`` (float32): points (n x 2) -> outputs (n,), same function."""
        acts = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "linear": nn.Identity}
        layers = [PlaygroundFeatures(self.settings["features"])]
        for i, (W, b) in enumerate(zip(self.W, self.b)):
            lin = nn.Linear(*W.shape)
            with torch.no_grad():
                lin.weight.copy_(torch.as_tensor(W.T, dtype=torch.float32))
                lin.bias.copy_(torch.as_tensor(b, dtype=torch.float32))
            last = i == len(self.W) - 1
            act = ("tanh" if self.settings["problem"] == "classification" else "linear") if last \
                else self.settings["activation"]
            layers += [lin, acts[act]()]
        layers.append(nn.Flatten(0))
        return nn.Sequential(*layers)

    def __repr__(self):
        s = self.settings
        return (f"Engine({s['dataset']}, features={list(s['features'])}, hidden={list(s['hidden'])}, "
                f"{s['activation']}, lr={s['lr']}, epoch {self.epoch}, train loss {self.loss_train:.4f}, "
                f"test loss {self.loss_test:.4f})")


class PlaygroundFeatures(nn.Module):
    """Turns points (x1, x2) into the playground's selected features (X1, X2, X1², ...), as a torch layer."""

    _FNS = {"x1": lambda a, b: a, "x2": lambda a, b: b, "x1^2": lambda a, b: a * a, "x2^2": lambda a, b: b * b,
            "x1*x2": lambda a, b: a * b, "sin(x1)": lambda a, b: torch.sin(a), "sin(x2)": lambda a, b: torch.sin(b)}

    def __init__(self, names):
        super().__init__()
        self.names = list(names)

    def forward(self, X):
        return torch.stack([self._FNS[n](X[:, 0], X[:, 1]) for n in self.names], dim=1)

    def extra_repr(self):
        return ", ".join(self.names)
