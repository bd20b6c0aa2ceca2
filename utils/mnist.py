"""MNIST helpers of notebook 05 (and the digit judge of notebook 08): checked entry points around the lesson's code.

The models and the training loop are notebook 05's own cells (tagged ``export``), generated into
:mod:`utils.lessons.cnn_mnist` by ``make export``; this module imports them from there and adds what the notebook
leaves out: input checks with clear messages (:func:`fit`, :func:`predict`, :func:`accuracy`), and saving/loading the
trained CNN, which notebook 08 uses as its judge (:func:`load_judge_cnn`). MNIST itself is read by
:func:`utils.data.mnist_tensors`.
"""
from __future__ import annotations

import math
from pathlib import Path

from . import data
from ._checks import finite, number, whole
from .errors import DataError, SettingError

MODEL_FILE = "mnist_cnn.pt"


def to_pixels(X):
    """Undo the normalisation of :func:`utils.data.mnist_tensors`: images back to [0, 1] for display."""
    return (X * data.MNIST_STD + data.MNIST_MEAN).clamp(0, 1)


def __getattr__(name):
    """The lesson's models and loop, from :mod:`utils.lessons.cnn_mnist` (imported on first use: torch is heavy)."""
    if name in ("build_cnn", "build_mlp", "train", "evaluate"):
        from .lessons import cnn_mnist

        return getattr(cnn_mnist, name)
    raise AttributeError(f"module 'utils.mnist' has no attribute {name!r}")


def n_params(net) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


# ----------------------------------------------------------------------------------------------
# training and evaluation
# ----------------------------------------------------------------------------------------------
def _param(net):
    """The first parameter of ``net`` (its device and dtype), or a clear message when ``net`` is not a network."""
    try:
        return next(net.parameters())
    except (AttributeError, TypeError, StopIteration):
        raise SettingError(f"net must be a torch network with weights (an nn.Module such as mnist.build_cnn()), "
                           f"got {type(net).__name__}") from None


def _tensor(value, name: str, what: str):
    """``value`` as a torch tensor (numpy arrays and lists are converted), or a SettingError naming ``what``."""
    import torch

    if isinstance(value, torch.Tensor):
        return value
    try:
        return torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError):
        raise SettingError(f"{name} must be a tensor or array of {what}, got {type(value).__name__}") from None


def _images(X, net, name: str = "X"):
    """``X`` as float images (N, 1, 28, 28) in the dtype of ``net``'s weights. Accepted and converted: numpy
    arrays, (N, 28, 28) and flattened (N, 784) images, float64. Refused: integer pixels (their normalisation
    would be a guess), other shapes, NaN or infinity."""
    X = _tensor(X, name, "images (N, 1, 28, 28)")
    if not X.is_floating_point():
        raise SettingError(f"{name} must hold normalised float pixels, got {X.dtype}: use utils.data.mnist_tensors(), or "
                           f"convert 0..255 pixels with ({name} / 255 - utils.data.MNIST_MEAN) / utils.data.MNIST_STD")
    if X.ndim == 2 and X.shape[1] == 28 * 28:
        X = X.reshape(-1, 1, 28, 28)
    elif X.ndim == 3 and tuple(X.shape[1:]) == (28, 28):
        X = X.unsqueeze(1)
    if X.ndim != 4 or tuple(X.shape[1:]) != (1, 28, 28) or len(X) == 0:
        raise SettingError(f"{name} must be MNIST images of shape (N, 1, 28, 28) (or (N, 28, 28), or (N, 784)) "
                           f"with N >= 1, got shape {tuple(X.shape)}")
    finite(name, X, "look for a division by zero in its normalisation")
    return X.to(dtype=_param(net).dtype)


def _labels(y, n: int, name: str = "y"):
    """``y`` as int64 digit labels 0..9, one per image (numpy arrays and other integer types are converted)."""
    import torch

    y = _tensor(y, name, "digit labels 0 to 9")
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise SettingError(f"{name} must hold whole-number digit labels 0 to 9 (int64), got {y.dtype}: "
                           f"use {name}.long()")
    if y.ndim != 1 or len(y) != n:
        raise SettingError(f"{name} must hold one label per image, {n} in all (shape ({n},)), got shape "
                           f"{tuple(y.shape)}")
    if n and (y.min() < 0 or y.max() > 9):
        raise SettingError(f"{name} must hold digit labels 0 to 9, got values from {int(y.min())} to {int(y.max())}")
    return y.long()


def predict(net, X, batch_size: int = 2000):
    """Logits of ``net`` on images ``X`` in eval mode, by slices (no gradients). ``X`` is (N, 1, 28, 28);
    (N, 28, 28), flattened (N, 784) and numpy arrays are accepted and converted; integer pixels are refused."""
    return _predict(net, _images(X, net), whole("batch_size", batch_size, 1))


def _predict(net, X, batch_size: int = 2000):
    """:func:`predict` on images already checked."""
    import torch

    was_training = net.training
    net.eval()
    dev = _param(net).device
    with torch.no_grad():
        out = torch.cat([net(X[i:i + batch_size].to(dev)).cpu() for i in range(0, len(X), batch_size)])
    net.train(was_training)
    return out


def accuracy(net, X, y) -> float:
    """Fraction of images ``X`` classified as their labels ``y`` (inputs as in :func:`predict`)."""
    X = _images(X, net)
    return _accuracy(net, X, _labels(y, len(X)))


def _accuracy(net, X, y) -> float:
    """:func:`accuracy` on images and labels already checked."""
    return (_predict(net, X).argmax(1) == y.cpu()).float().mean().item()


def fit(net, X, y, num_epochs: int = 2, batch_size: int = 128, lr: float = 0.01, X_test=None, y_test=None,
        evals_per_epoch: int = 0):
    """Notebook 05's training loop (:func:`utils.lessons.cnn_mnist.train`: AdamW, one-cycle learning rate, batches
    sliced from a shuffled index) with its inputs checked first. Returns the loop's history: ``loss`` per step,
    ``train_seconds`` (training only, the tests excluded), and when a test set is given ``epoch``, ``seconds`` and
    ``test_acc`` at each test (``evals_per_epoch`` times per epoch, and after the last step).

    ``X``: images (N, 1, 28, 28), float; (N, 28, 28), flattened (N, 784) and numpy arrays are accepted and
    converted. ``y``: digit labels 0..9 (any integer type). A wrong setting or input, and a loss that stops being
    finite (training diverged), raise :class:`utils.SettingError`."""
    from .lessons.cnn_mnist import train

    lr = number("the learning rate lr", lr, 0, 1, lo_open=True, hint="Adam works with 0.001 to 0.01")
    num_epochs, batch_size = whole("num_epochs", num_epochs, 1), whole("batch_size", batch_size, 1)
    evals_per_epoch = whole("evals_per_epoch", evals_per_epoch, 0)
    X = _images(X, net)
    y = _labels(y, len(X))
    if (X_test is None) != (y_test is None) or (evals_per_epoch and X_test is None):
        raise SettingError("X_test and y_test go together, and evals_per_epoch > 0 needs them: give both or neither")
    dev = _param(net).device
    X, y = X.to(dev), y.to(dev)
    test = None if X_test is None else (_images(X_test, net, "X_test").to(dev),
                                        _labels(y_test, len(X_test), "y_test").to(dev))
    hist = train(net, X, y, num_epochs, batch_size=batch_size, lr=lr, test=test, evals_per_epoch=evals_per_epoch)
    bad = next((i for i, v in enumerate(hist["loss"]) if not math.isfinite(v)), None)
    if bad is not None:
        raise SettingError(f"training diverged at step {bad + 1} (the loss is {hist['loss'][bad]}), but a finite "
                           f"loss is expected: lower the learning rate (lr={lr}) and rebuild net")
    return hist


# ----------------------------------------------------------------------------------------------
# the trained CNN, shared with notebook 08
# ----------------------------------------------------------------------------------------------
def model_path() -> Path:
    """Where notebook 05 saves its trained CNN: ``utils.data.cache_dir()/models/mnist_cnn.pt``."""
    folder = data.cache_dir() / "models"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / MODEL_FILE


def save_cnn(net, path=None) -> Path:
    """Save the CNN's state dict (on the CPU) where :func:`load_judge_cnn` looks for it."""
    import torch

    path = Path(path) if path else model_path()
    tmp = path.with_suffix(".part")
    torch.save({k: v.detach().cpu() for k, v in net.state_dict().items()}, tmp)
    tmp.replace(path)
    return path


def load_judge_cnn(device=None, path=None, num_epochs: int = 1, verbose: bool = True):
    """The trained CNN of notebook 05, in eval mode. With no ``path``: the course's checkpoint ``mnist_cnn``
    (``checkpoints/``, the same network trained by ``make checkpoints``), so that notebook 08's judge does not depend
    on how notebook 05 was last run; if that checkpoint is missing or damaged, the copy notebook 05 saved in the
    course cache. A ``path`` (or the cache) that holds no file: trains a small CNN first (one epoch on the 60 000
    digits, about 98.5-99 % test accuracy) and saves it there."""
    import torch

    from .lessons.cnn_mnist import build_cnn

    net = build_cnn()
    if path is None:
        from . import checkpoints

        state = checkpoints.load_or_none("mnist_cnn", verbose=verbose) if "mnist_cnn" in checkpoints.manifest() else None
        if state is not None:
            checkpoints.load_into(net, "mnist_cnn", state)
            return net.to(device) if device is not None else net
    path = Path(path) if path else model_path()
    if path.exists():
        try:
            net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        except Exception as exc:
            raise DataError(f"{path} is not a state dict of utils.mnist.build_cnn() ({type(exc).__name__}: {exc}); "
                            "delete it and run notebook 05 (or call load_judge_cnn again) to make a new one") from None
    else:
        if verbose:
            print(f"no trained CNN at {path}: training one now ({num_epochs} epoch on MNIST)...")
        torch.manual_seed(0)
        X, y, X_test, y_test = data.mnist_tensors()
        fit(net, X, y, num_epochs=num_epochs)
        save_cnn(net, path)
        if verbose:
            print(f"saved {path}; test accuracy {accuracy(net, X_test, y_test):.4f}")
    net.eval()
    if device is not None:
        net.to(device)
    return net
