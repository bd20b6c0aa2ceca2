"""Notebook 02 (back-propagation): the plumbing in utils.backprop, and the notebook's own numpy MLP, whose
gradients must match finite differences, and must stop matching when a sign error is put in the backward pass."""
import json
from pathlib import Path

import numpy as np
import pytest

from utils.backprop import plot_loss_curves, plot_surface_2d, rel_error, stratified_split
from utils.errors import SettingError

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "02_backpropagation.ipynb"


# ---- utils.backprop ---------------------------------------------------------------------------------------
def test_stratified_split_keeps_class_shares_and_is_repeatable():
    y = np.array([0] * 50 + [1] * 30 + [2] * 20)
    train, test = stratified_split(y, 0.3, seed=0)
    assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == len(y)
    assert np.bincount(y[test]).tolist() == [15, 9, 6]
    again = stratified_split(y, 0.3, seed=0)
    assert np.array_equal(test, again[1])
    assert not np.array_equal(test, stratified_split(y, 0.3, seed=1)[1])


def test_stratified_split_refuses_bad_settings():
    with pytest.raises(SettingError):
        stratified_split([0, 1, 1], 1.5)
    with pytest.raises(SettingError):
        stratified_split([0, 1, 1, 1], 0.3)          # class 0 has a single example


def test_rel_error():
    assert rel_error([0, 0], [0, 0]) == 0.0
    assert rel_error([1, 2], [1, 2]) == 0.0
    assert rel_error([1, 0], [-1, 0]) == pytest.approx(1.0)


def test_plots_run_and_mark_divergence():
    import matplotlib

    matplotlib.use("Agg")
    ax = plot_loss_curves({"ok": [1, 0.5, 0.2], "diverged": [1, 10, np.inf]})
    assert len(ax.lines) == 3                        # two curves and the cross where one blew up
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    plot_surface_2d(lambda P: (P[:, 0] + P[:, 1]) / 2, X, [0, 1, 1, 0], resolution=11)


def test_loss_curves_legend_outside_the_axes():
    import matplotlib

    matplotlib.use("Agg")
    ax = plot_loss_curves({"a": [1, 0.5]}, legend="outside", xlabel="step")
    ax.figure.canvas.draw()
    legend, box = ax.get_legend().get_window_extent(), ax.get_window_extent()
    assert legend.x0 >= box.x1 and ax.get_xlabel() == "step"     # right of the axes: no curve can hide it
    inside = plot_loss_curves({"a": [1, 0.5]})
    inside.figure.canvas.draw()
    assert inside.get_legend().get_window_extent().x1 <= inside.get_window_extent().x1


# ---- the notebook's numpy MLP -------------------------------------------------------------------------------
def _mlp_source():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    src = ["".join(c["source"]) for c in cells if "mlp" in c.get("metadata", {}).get("tags", [])]
    assert len(src) >= 3, "the notebook's MLP cells (tagged 'mlp') are missing"
    return "\n\n".join(src)


def _max_gradient_error(source):
    ns = {"np": np}
    exec(source, ns)
    rng = np.random.default_rng(0)
    worst = 0.0
    for act in ("sigmoid", "tanh", "relu"):
        for loss in ("squared", "cross-entropy"):
            sizes = [3, 5, 4, 1] if loss == "squared" else [3, 5, 4, 3]
            out_act = "sigmoid" if loss == "squared" else "identity"
            params = [(W, rng.normal(0, 0.5, b.shape)) for W, b in ns["init_mlp"](sizes, seed=1)]
            X = rng.normal(size=(6, 3))
            Y = rng.uniform(size=(6, 1)) if loss == "squared" else np.eye(3)[rng.integers(0, 3, 6)]
            lossfn = ns["squared_error"] if loss == "squared" else ns["cross_entropy"]

            def E():
                return lossfn(ns["forward"](params, X, act, out_act)[1][-1], Y)[0]

            Zs, Hs = ns["forward"](params, X, act, out_act)
            grads = ns["backward"](params, Zs, Hs, lossfn(Hs[-1], Y)[1], act, out_act)
            for (W, b), (dW, db) in zip(params, grads):
                for arr, g in ((W, dW), (b, db)):
                    num = np.zeros_like(arr)
                    for i in np.ndindex(arr.shape):
                        old = arr[i]
                        arr[i] = old + 1e-6
                        ep = E()
                        arr[i] = old - 1e-6
                        em = E()
                        arr[i] = old
                        num[i] = (ep - em) / 2e-6
                    worst = max(worst, rel_error(g, num))
    return worst


def test_notebook_backward_pass_matches_finite_differences():
    assert _max_gradient_error(_mlp_source()) < 1e-6


@pytest.mark.parametrize("right,wrong", [
    ("dH = dZ @ W.T", "dH = -dZ @ W.T"),                                  # sign error sent back
    ("dZ = dH * dphi(Zs[l], Hs[l + 1])", "dZ = -dH * dphi(Zs[l], Hs[l + 1])"),  # sign error at the activation
    ("lambda z, h: 1 - h ** 2", "lambda z, h: h ** 2 - 1"),               # tanh' with the wrong sign
    ("(P - Y) / n", "(Y - P) / n"),                                       # dE/dz = y - p instead of p - y
])
def test_a_sign_error_in_the_backward_pass_is_caught(right, wrong):
    source = _mlp_source()
    assert right in source, f"the notebook's code no longer contains {right!r}: update this test"
    assert _max_gradient_error(source.replace(right, wrong, 1)) > 1e-2
