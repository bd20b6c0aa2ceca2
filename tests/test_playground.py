"""Notebook 03's playground: the numpy engine (learning, settings, save/restore, export) and the widget's callbacks,
all headless."""
import asyncio
import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from utils import SettingError
from utils.playground_engine import DATASETS, FEATURES, MAX_POINTS, Engine, best_line_accuracy, make_data

ROOT = Path(__file__).resolve().parent.parent


# ---- data ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(DATASETS))
def test_data_sets_shape_labels_and_seed(name):
    X, y = make_data(name, noise=0, seed=3)
    kind, _, n = DATASETS[name]
    assert X.shape == (n, 2) and y.shape == (n,)
    assert np.all(np.abs(X) <= 6.5)
    if kind == "classification":
        assert set(np.unique(y)) == {-1.0, 1.0} and abs(np.mean(y)) < 0.2
    else:
        assert np.all(np.abs(y) <= 1.2) and y.std() > 0.1          # plane: (x1 + x2) / 10, as on the page
    X2, y2 = make_data(name, noise=0, seed=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert not np.array_equal(X, make_data(name, noise=0, seed=4)[0])


def test_circle_labels_follow_the_radius_without_noise():
    X, y = make_data("circle", noise=0)
    assert np.all((np.hypot(X[:, 0], X[:, 1]) < 2.5) == (y > 0))


def test_noise_changes_the_data():
    _, y0 = make_data("xor", noise=0, seed=1)
    X, y50 = make_data("xor", noise=50, seed=1)
    assert np.all((X[:, 0] * X[:, 1] >= 0) == (y0 > 0))
    assert np.mean((X[:, 0] * X[:, 1] >= 0) != (y50 > 0)) > 0.05   # noisy labels cross the axes


# ---- learning ------------------------------------------------------------------------------------
def test_loss_falls_and_accuracy_rises_on_xor():
    eng = Engine(dataset="xor")
    start = eng.loss_train
    eng.train(150)
    assert eng.loss_train < start / 10
    assert eng.accuracy("test") > 0.95


def test_gradient_matches_finite_differences():
    eng = Engine(dataset="gauss", hidden=[3, 2], features=["x1", "x2", "sin(x1)"], batch_size=30)
    F, y = eng._F_train[:30], eng.y_train[:30]

    def loss():
        return float(np.mean(0.5 * (eng.forward(F) - y) ** 2))

    W_before, b_before = [w.copy() for w in eng.W], [b.copy() for b in eng.b]
    lr = 1e-3
    eng.settings["lr"] = lr
    eng._batch_step(F, y)
    analytic = [(wb - wa) / lr for wb, wa in zip(W_before, eng.W)]
    eng.W, eng.b = [w.copy() for w in W_before], b_before
    h = 1e-6
    for layer in range(len(eng.W)):
        for idx in [(0, 0), tuple(np.array(eng.W[layer].shape) - 1)]:
            eng.W[layer][idx] += h
            up = loss()
            eng.W[layer][idx] -= 2 * h
            down = loss()
            eng.W[layer][idx] += h
            assert analytic[layer][idx] == pytest.approx((up - down) / (2 * h), rel=1e-4, abs=1e-8)


def test_circle_needs_squares_without_hidden_layers():
    linear = Engine(dataset="circle", hidden=[], features=["x1", "x2"]).train(100)
    squares = Engine(dataset="circle", hidden=[], features=["x1^2", "x2^2"]).train(100)
    assert linear.accuracy() < 0.7
    assert squares.accuracy() > 0.95


def test_speed_at_least_50_epochs_per_second():
    """The course's goal for live play: at least 50 epochs per second of CPU time (CPU time, so that a machine busy
    with other work does not count its waiting), here on twice the page's 250 training points."""
    eng = Engine(dataset="circle", hidden=[4, 4], train_ratio=50, batch_size=10, n_points=1000)
    assert len(eng.y_train) == 500
    c0 = time.process_time()
    eng.train(50)
    assert time.process_time() - c0 < 1.0


def test_the_best_straight_line_on_xor_gets_about_69_percent():
    """Exercise 1 of notebook 03: no line gets three of XOR's four filled quadrants (that would be 0.75)."""
    X, y = make_data("xor", seed=100, n=10_000)
    assert 0.68 < best_line_accuracy(X, y) < 0.70
    X2, y2 = make_data("xor", seed=101, n=10_000)
    assert 0.68 < best_line_accuracy(np.vstack([X, X2]), np.concatenate([y, y2])) < 0.70   # 20 000 points
    assert best_line_accuracy(*make_data("gauss")) == 1.0                 # separable: a line gets every point
    X3 = np.array([[0.0, 0], [1, 0], [2, 0], [3, 0]])
    assert best_line_accuracy(X3, [-1, -1, 1, 1]) == 1.0 and best_line_accuracy(X3, [1, -1, 1, -1]) == 0.75
    with pytest.raises(SettingError, match="labels -1 / \\+1"):
        best_line_accuracy(X3, [0, 1, 2, 3])


# ---- settings ------------------------------------------------------------------------------------
def test_settings_take_effect():
    eng = Engine()
    assert eng.set(hidden=[3, 3, 3]) == ["weights"] and eng.sizes == [2, 3, 3, 3, 1]
    assert eng.set(features=["x1", "x1^2", "sin(x2)"]) == ["weights"] and eng.sizes[0] == 3
    eng.train(3)
    assert eng.set(lr=0.3) == [] and eng.epoch == 3                       # lr does not reset training
    assert eng.set(train_ratio=80) == ["data"] and len(eng.y_train) == 400
    assert eng.set(noise=20) == ["data"]
    assert eng.set(dataset="spiral") == ["data", "weights"]
    assert eng.set(problem="regression") == ["data", "weights"]
    assert eng.settings["dataset"] in ("plane", "multi_gauss")
    assert eng.set(dataset="gauss") and eng.settings["problem"] == "classification"


def test_batch_size_learning_rate_and_activation_change_the_result():
    base = Engine(dataset="xor").train(5)
    for change in (dict(batch_size=1), dict(lr=0.1), dict(activation="relu"), dict(regularization="L2", reg_rate=0.3)):
        other = Engine(dataset="xor", **change).train(5)
        assert not np.allclose(other.W[0], base.W[0]), change


def test_l1_zeroes_weights():
    eng = Engine(dataset="gauss", hidden=[8, 8], features=list(FEATURES), regularization="L1", reg_rate=0.03)
    eng.train(60)
    zeros = sum(int((w == 0).sum()) for w in eng.W)
    assert zeros > 20 and eng.accuracy() > 0.9


@pytest.mark.parametrize("bad,words", [
    (dict(lr=0), "learning rate"), (dict(lr=-0.1), "learning rate"), (dict(lr=float("nan")), "learning rate"),
    (dict(hidden=[4, 0]), "1 to 8"), (dict(hidden=[9]), "1 to 8"), (dict(hidden=[1] * 7), "at most 6"),
    (dict(features=[]), "no input feature"), (dict(features=["x3"]), "unknown feature"),
    (dict(batch_size=0), "batch size"), (dict(noise=80), "noise"), (dict(train_ratio=5), "ratio"),
    (dict(activation="softmax"), "activation"), (dict(reg_rate=-1), "regularization rate"),
    (dict(dataset="moons"), "unknown data set"), (dict(problem="regression", dataset="xor"), "for classification"),
    # issue 23: absurd values the message already ruled out, and fractions silently rounded down
    (dict(lr=1e9), "up to 10"), (dict(lr=10.5), "up to 10"), (dict(reg_rate=100), "between 0 and 10"),
    (dict(hidden=[2.5]), "whole neuron counts"), (dict(hidden="4, 2"), "whole neuron counts"),
    (dict(batch_size=2.5), "whole number"), (dict(n_points=MAX_POINTS + 1), "n_points"), (dict(seed=-1), "seed"),
])
def test_bad_values_give_a_clear_message_and_change_nothing(bad, words):
    eng = Engine()
    before = json.dumps(eng.state_dict())
    with pytest.raises(SettingError, match=words):
        eng.set(**bad)
    assert json.dumps(eng.state_dict()) == before


def test_a_single_feature_name_is_a_list_of_one_and_limits_are_inclusive():
    eng = Engine(features="x1^2", lr=10, reg_rate=10, n_points=MAX_POINTS)
    assert eng.settings["features"] == ("x1^2",) and len(eng.X_train) + len(eng.X_test) == MAX_POINTS


def test_training_and_measures_check_their_arguments():
    eng = Engine()
    for call, words in [(lambda: eng.train(1.5), "whole number"), (lambda: eng.train(-1), "epochs"),
                        (lambda: eng.accuracy("validation"), "'train' or 'test'"),
                        (lambda: eng.loss("all"), "'train' or 'test'"),
                        (lambda: eng.epochs_to(float("nan")), "target"),
                        (lambda: eng.predict([[1, 2, 3]]), r"\(n, 2\)"), (lambda: make_data(n=5), "between 10 and")]:
        with pytest.raises(SettingError, match=words):
            call()
    assert eng.epoch == 0


def test_a_state_that_does_not_fit_is_refused_and_changes_nothing():
    eng = Engine().train(2)
    before = json.dumps(eng.state_dict())
    bad = json.loads(before)
    bad["settings"]["hidden"] = [3]                          # the saved weights are for [4, 2]
    for state in (bad, {"W": []}, "state.json"):
        with pytest.raises(SettingError, match="state"):
            eng.load_state_dict(state)
    assert json.dumps(eng.state_dict()) == before


def test_divergence_is_detected_not_hidden():
    eng = Engine(dataset="plane", activation="linear", hidden=[8, 8], features=list(FEATURES), lr=10)
    eng.train(20)
    assert eng.diverged and eng.epoch < 20
    eng.train(5)                                   # a diverged network stops: no NaN training
    assert eng.diverged and eng.epoch < 20


# ---- save / restore / export ---------------------------------------------------------------------
def test_save_restore_is_exact_and_training_continues_identically():
    eng = Engine(dataset="spiral", hidden=[6, 5], features=["x1", "x2", "sin(x1)"], noise=10, seed=7, lr=0.1)
    eng.train(20)
    state = json.loads(json.dumps(eng.state_dict()))          # survives JSON
    twin = Engine.from_state(state)
    assert twin.settings == eng.settings and twin.epoch == 20 and twin.history == eng.history
    assert all(np.array_equal(a, b) for a, b in zip(twin.W, eng.W))
    assert np.array_equal(twin.X_test, eng.X_test)
    eng.train(10)
    twin.train(10)
    assert all(np.array_equal(a, b) for a, b in zip(twin.W, eng.W))
    assert twin.loss_test == eng.loss_test


def test_torch_export_computes_the_same_function():
    eng = Engine(dataset="spiral", hidden=[5, 3], features=list(FEATURES), activation="relu").train(5)
    net = eng.to_torch()
    assert isinstance(net, torch.nn.Module)
    X = np.random.default_rng(0).uniform(-6, 6, (300, 2))
    with torch.no_grad():
        out = net(torch.tensor(X, dtype=torch.float32)).numpy()
    assert out.shape == (300,)
    assert np.allclose(out, eng.predict(X), atol=1e-5)
    assert sum(p.numel() for p in net.parameters()) == eng.n_parameters()


# ---- widget --------------------------------------------------------------------------------------
@pytest.fixture
def pg():
    from utils.widgets.playground import Playground

    return Playground(dataset="xor")


def test_widget_builds_and_draws(pg):
    assert pg.picture.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert pg.redraw_cpu_seconds < 1.0          # the first, full draw (CPU time: a busy machine's waiting aside)
    for cls in ("pg-play", "pg-step", "pg-reset", "pg-lr", "pg-dataset", "pg-hidden", "pg-picture", "pg-feature-x1sq"):
        assert any(cls in w._dom_classes for w in list(pg.controls.values()) + [pg.picture]), cls


def test_step_button_trains_and_changes_the_picture(pg):
    before = pg.picture.value
    pg.controls["step"].click()
    assert pg.engine.epoch == 1 and pg.picture.value != before
    assert "epoch 1" in pg.epoch_label.value


def test_controls_change_the_engine(pg):
    pg.controls["lr"].value = 0.3
    assert pg.engine.settings["lr"] == 0.3
    pg.controls["feature:x1^2"].value = True
    assert pg.engine.settings["features"] == ("x1", "x2", "x1^2")
    pg.controls["hidden"].value = "3, 3, 2"
    assert pg.engine.settings["hidden"] == (3, 3, 2)
    pg.controls["add_layer"].click()
    assert pg.engine.settings["hidden"] == (3, 3, 2, 2)
    pg.controls["remove_layer"].click()
    pg.controls["remove_layer"].click()
    assert pg.engine.settings["hidden"] == (3, 3)
    before = pg.picture.value
    pg.controls["dataset"].value = "spiral"
    assert pg.engine.settings["dataset"] == "spiral" and pg.picture.value != before
    pg.controls["problem"].value = "regression"
    assert pg.engine.settings["dataset"] == "plane" and pg.controls["dataset"].value == "plane"
    before = pg.picture.value
    pg.controls["show_test"].value = True
    assert pg.picture.value != before


def test_set_from_code_updates_the_controls(pg):
    assert pg.set(hidden=[8, 8], activation="relu", noise=10, discretize=True)
    assert pg.controls["hidden"].value == "8, 8" and pg.controls["activation"].value == "relu"
    assert pg.controls["noise"].value == 10 and pg.controls["discretize"].value


def test_bad_values_show_a_message_not_a_traceback(pg):
    pg.controls["lr"].value = 0.0
    assert "learning rate" in pg.message.value and pg.engine.settings["lr"] == 0.03
    pg.controls["lr"].value = 1e9
    assert "up to 10" in pg.message.value and pg.engine.settings["lr"] == 0.03
    pg.controls["hidden"].value = "4, 0"
    assert "1 to 8" in pg.message.value
    pg.controls["hidden"].value = "four"
    assert "commas" in pg.message.value
    for f in FEATURES:
        pg.controls[f"feature:{f}"].value = False
    assert "no input feature" in pg.message.value and pg.engine.settings["features"]
    assert pg.set(lr=0.1, features=["x1", "x2"]) and pg.message.value == ""


def test_a_refused_value_goes_back_to_the_value_in_force(pg):
    """A student types learning rate 100 or 100 neurons: the model keeps its setting, and so does the box, beside a
    message saying what is kept (the box must never show a value the network does not use)."""
    pg.controls["lr"].value = 100.0
    assert pg.engine.settings["lr"] == 0.03 and pg.controls["lr"].value == 0.03
    assert "up to 10" in pg.message.value and "Kept: learning rate 0.03" in pg.message.value
    pg.controls["hidden"].value = "100"
    assert pg.engine.settings["hidden"] == (4, 2) and pg.controls["hidden"].value == "4, 2"
    assert "1 to 8" in pg.message.value and "Kept: hidden layers 4, 2" in pg.message.value
    pg.controls["hidden"].value = "four"
    assert pg.controls["hidden"].value == "4, 2" and "commas" in pg.message.value
    pg.controls["reg_rate"].value = -1.0
    assert pg.controls["reg_rate"].value == pg.engine.settings["reg_rate"] == 0.0
    for f in FEATURES:
        pg.controls[f"feature:{f}"].value = False
    ticked = [f for f in FEATURES if pg.controls[f"feature:{f}"].value]
    assert ticked == list(pg.engine.settings["features"]) == ["x2"] and "Kept: features X2" in pg.message.value
    assert not pg.set(lr=0) and pg.controls["lr"].value == 0.03
    pg.controls["lr"].value = 0.3                    # a good value afterwards is taken and clears the message
    assert pg.engine.settings["lr"] == 0.3 and pg.message.value == ""


def test_the_loss_label_stays_on_one_line(pg):
    pg.step(1000)
    label = pg.epoch_label.value
    assert re.fullmatch(r"<span style='white-space:nowrap'>.*</span>", label) and "<br" not in label
    assert "epoch 1000" in label and "test loss" in label and "training loss" in label


def test_a_redraw_takes_under_100_ms_of_cpu(pg):
    """The course's goal for live play: a redraw under 100 ms of CPU time (median of five, after the first)."""
    pg.step(30)
    times = []
    for _ in range(5):
        pg.step(1)
        times.append(pg.redraw_cpu_seconds)
    assert np.median(times) < 0.100, times


def test_each_section_of_notebook_03_drives_its_own_playground():
    """After Run All, a playground shows the state its own section set: no section calls set / step / reset on a
    playground that another section created and displayed."""
    cells = json.loads((ROOT / "notebooks" / "03_mlp_playground.ipynb").read_text())["cells"]
    section, made, shown = "", {}, {}
    for c in cells:
        src = "".join(c["source"])
        if c["cell_type"] == "markdown" and src.startswith("## "):
            section = src.splitlines()[0]
            continue
        if c["cell_type"] != "code":
            continue
        for name in re.findall(r"^(\w+)\s*=\s*Playground\(", src, re.M):
            made[name] = section
        for name in re.findall(r"^(\w+)\s*$", src, re.M):          # a bare name on a line: displayed
            if name in made:
                shown[name] = section
        for name, call in re.findall(r"\b(\w+)\.(set|step|reset|regenerate|load_state_dict)\(", src):
            if name in made:
                assert made[name] == section, (f"{section!r} calls {name}.{call}(), but {name} is the playground "
                                               f"of {made[name]!r}: give this section a playground of its own")
    assert len(set(made.values())) >= 3 and set(shown) <= set(made)


def test_reset_and_regenerate(pg):
    pg.step(5)
    w = pg.engine.W[0].copy()
    pg.controls["reset"].click()
    assert pg.engine.epoch == 0 and not np.array_equal(w, pg.engine.W[0])
    X = pg.engine.X_train.copy()
    pg.controls["regenerate"].click()
    assert not np.array_equal(X, pg.engine.X_train)


def test_widget_state_round_trip(pg):
    pg.set(hidden=[5], features=["x1", "x2", "x1*x2"])
    pg.step(7)
    state = pg.state_dict()
    from utils.widgets.playground import Playground

    other = Playground()
    other.load_state_dict(state)
    assert other.engine.epoch == 7 and other.controls["hidden"].value == "5"
    assert other.controls["feature:x1*x2"].value and not other.controls["feature:x1^2"].value
    assert np.array_equal(other.engine.W[0], pg.engine.W[0])


def test_play_and_pause_in_an_event_loop(pg):
    async def session():
        pg.controls["play"].value = True
        await asyncio.sleep(0.5)
        pg.controls["play"].value = False
        await asyncio.sleep(0.2)

    asyncio.run(session())
    assert pg.engine.epoch > 0 and not pg.playing
    epoch = pg.engine.epoch
    pg.play()                                   # outside a running loop: a message, no crash
    assert pg.engine.epoch == epoch and "pg.step" in pg.message.value


def test_fast_redraw_draws_the_same_picture_as_a_full_one(pg):
    """A redraw pastes a saved background and draws only what changes; it must match drawing everything anew."""
    import io

    from PIL import Image

    from utils.widgets.playground import _nice_ceil

    assert [_nice_ceil(x) for x in (1, 3, 7, 10, 11, 37, 500, 501)] == [1, 5, 10, 10, 20, 50, 500, 1000]
    pg.step(30)
    pg.step(3)                                   # limits unchanged: this redraw reuses the background
    assert pg.renderer._background is not None
    fast = np.asarray(Image.open(io.BytesIO(pg.picture.value)))
    pg.renderer._background = None               # force a full draw of the same state
    full = np.asarray(Image.open(io.BytesIO(pg.renderer.png())))
    assert fast.shape == full.shape and np.abs(fast.astype(int) - full).max() == 0
    pg.step(40)                                  # epoch 73 > 50: the loss axis is rescaled, the background redrawn
    assert pg.renderer.ax_loss.get_xlim() == (0, 100)
