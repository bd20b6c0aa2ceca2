"""utils.mnist: the two models, the training loop, saving/loading the judge CNN of notebook 08, the benchmark's
reference network, and the answer of notebook 05's receptive-field exercise."""
import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from utils import SettingError, data, mnist
from utils.errors import DataError

ROOT = Path(__file__).resolve().parent.parent
needs_data = pytest.mark.skipif(not os.environ.get("COURSE_DATA"), reason="COURSE_DATA not set (CI sets it)")


def test_models_shapes_and_shared_weights():
    x = torch.randn(5, 1, 28, 28)
    cnn, mlp = mnist.build_cnn(), mnist.build_mlp()
    assert cnn(x).shape == (5, 10) and mlp(x).shape == (5, 10)
    # the slide's claim: shared weights make the CNN smaller than the dense baseline
    assert mnist.n_params(cnn) < mnist.n_params(mlp) / 2


def test_receptive_field_is_ten_pixels():
    """Exercise 5 of notebook 05: one pixel after the second pooling sees a 10 x 10 square of the input."""
    torch.manual_seed(0)
    feats = mnist.build_cnn()[:8].eval()  # conv, pool, BN, ReLU, conv, pool, BN, ReLU
    for i, m in enumerate(feats):  # average pooling: same footprint, but the gradient reaches all 4 pixels
        if isinstance(m, torch.nn.MaxPool2d):
            feats[i] = torch.nn.AvgPool2d(2)
    x = torch.randn(1, 1, 28, 28, requires_grad=True)
    out = feats(x)
    assert out.shape == (1, 32, 7, 7)
    out[0, :, 3, 3].abs().sum().backward()
    rows, cols = torch.nonzero(x.grad[0, 0]).unbind(1)
    assert (rows.max() - rows.min() + 1).item() == 10 and (cols.max() - cols.min() + 1).item() == 10


def test_fit_rejects_bad_settings():
    X, y = torch.randn(8, 1, 28, 28), torch.randint(0, 10, (8,))
    for lr in (0, -0.1, float("nan")):
        with pytest.raises(SettingError):
            mnist.fit(mnist.build_cnn(), X, y, lr=lr)
    with pytest.raises(SettingError):
        mnist.fit(mnist.build_cnn(), X, y, num_epochs=0)


def test_fit_learns_a_separable_toy_problem_and_times_training_only():
    """Two synthetic classes (bright left half / bright right half): a few steps suffice."""
    torch.manual_seed(0)
    y = torch.randint(0, 2, (512,))
    X = torch.randn(512, 1, 28, 28) * 0.3
    X[y == 0, :, :, :14] += 1.0
    X[y == 1, :, :, 14:] += 1.0
    net = mnist.build_cnn()
    h = mnist.fit(net, X, y, num_epochs=2, batch_size=64, X_test=X, y_test=y, evals_per_epoch=2)
    assert h["test_acc"][-1] > 0.95 and len(h["test_acc"]) == 4 and len(h["loss"]) == 16
    assert h["epoch"] == [0.5, 1.0, 1.5, 2.0] and h["seconds"] == sorted(h["seconds"])
    assert 0 < h["seconds"][-1] <= h["train_seconds"]
    # without a test set: no test, the training time all the same
    h2 = mnist.fit(mnist.build_cnn(), X, y, num_epochs=1, batch_size=64)
    assert h2["test_acc"] == [] and h2["train_seconds"] > 0


def test_fit_is_the_notebooks_loop():
    """One training loop: utils.mnist.fit checks its inputs, then runs notebook 05's own (generated) train."""
    from utils.lessons import cnn_mnist

    assert mnist.build_cnn is cnn_mnist.build_cnn and mnist.train is cnn_mnist.train
    X, y = torch.randn(32, 1, 28, 28), torch.randint(0, 10, (32,))
    torch.manual_seed(3)
    a = mnist.fit(mnist.build_mlp(8), X, y, num_epochs=1, batch_size=16)
    torch.manual_seed(3)
    b = cnn_mnist.train(cnn_mnist.build_mlp(8), X, y, 1, batch_size=16)
    assert a["loss"] == b["loss"]


def test_save_and_load_judge(tmp_path):
    torch.manual_seed(1)
    net = mnist.build_cnn()
    net.eval()
    path = mnist.save_cnn(net, tmp_path / "cnn.pt")
    judge = mnist.load_judge_cnn(path=path)
    assert not judge.training
    x = torch.randn(4, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(judge(x), net(x))
    torch.save({"not": torch.zeros(1)}, tmp_path / "bad.pt")
    with pytest.raises(DataError):
        mnist.load_judge_cnn(path=tmp_path / "bad.pt")


def test_default_model_path_is_in_the_course_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    assert mnist.model_path() == tmp_path / "models" / "mnist_cnn.pt"


def test_reference_network_of_the_benchmark():
    spec = importlib.util.spec_from_file_location("mnist_reference", ROOT / "benchmarks" / "mnist_reference.py")
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    net = ref.ReferenceNet()
    assert sum(p.numel() for p in net.parameters()) == 1_199_882  # as the PyTorch MNIST example
    assert net(torch.randn(2, 1, 28, 28)).shape == (2, 10)


@needs_data
def test_mnist_tensors_normalised_once():
    X, y, X_test, y_test = data.mnist_tensors()
    assert X.shape == (60000, 1, 28, 28) and X_test.shape == (10000, 1, 28, 28)
    assert y.dtype == torch.int64 and set(y.unique().tolist()) == set(range(10))
    assert abs(X.mean().item()) < 1e-3 and abs(X.std().item() - 1) < 1e-2
    raw, _ = data.load_mnist()
    assert torch.allclose(mnist.to_pixels(X[:2]) * 255, raw.data[:2].unsqueeze(1).float(), atol=1e-3)
    U, yu, U_test, _ = data.mnist_tensors(scale="unit", flat=True, n_train=100, n_test=10)
    assert U.shape == (100, 784) and U_test.shape == (10, 784) and 0 <= U.min() and U.max() <= 1
    assert torch.equal(yu, y[:100]) and torch.allclose(U * 255, raw.data[:100].reshape(100, 784).float())
    with pytest.raises(SettingError, match="scale"):
        data.mnist_tensors(scale="minmax")


def test_fit_and_predict_accept_numpy_flat_and_unbatched_images():
    """Issue 23, item 6: numpy arrays, (N, 784) and (N, 28, 28) images, int32 labels and a numpy learning rate
    are converted (as the docstrings say) instead of failing deep inside torch."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 784)), rng.integers(0, 10, 16).astype(np.int32)    # float64, int32
    h = mnist.fit(mnist.build_cnn(4, 4, 8), X, y, num_epochs=1, batch_size=8, lr=np.float32(0.01))
    assert len(h["loss"]) == 2 and all(np.isfinite(h["loss"]))
    net = mnist.build_mlp(8)
    X4 = torch.randn(5, 1, 28, 28)
    assert torch.equal(mnist.predict(net, X4[:, 0]), mnist.predict(net, X4))
    assert torch.equal(mnist.predict(net, X4.reshape(5, 784).numpy()), mnist.predict(net, X4))
    assert 0 <= mnist.accuracy(net, X4, np.arange(5)) <= 1


def test_fit_says_when_training_diverges():
    """A loss that stops being finite stops training with a message, instead of a history of NaN. Here the first
    layer overflows float32 (weights of 1 on pixels of 1e38)."""
    net = mnist.build_mlp(8)
    with torch.no_grad():
        net[1].weight.fill_(1.0)
    X, y = torch.full((8, 1, 28, 28), 1e38), torch.randint(0, 10, (8,))
    with pytest.raises(SettingError, match="diverged at step 1"):
        mnist.fit(net, X, y, num_epochs=1)
