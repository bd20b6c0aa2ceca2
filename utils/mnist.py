"""MNIST helpers of notebook 05 (and the digit judge of notebook 08): tensors, the two models, a fast training loop.

What a student must learn (what a convolution layer and a pooling layer do, the training loop, why shared weights
need fewer parameters) is written out in notebook 05. This module holds the plumbing that notebook 05 and its
benchmark share: the whole of MNIST as two float tensors normalised once (so that a batch is a slice, not 64
calls to a per-image ``DataLoader``), the same two model builders as in the notebook, the same training loop
(one-cycle learning rate, batch slicing), accuracy, and saving/loading the trained CNN in the course cache, where
notebook 08 finds it with :func:`load_judge_cnn`.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

from . import data
from ._checks import finite, number, whole
from .errors import DataError, SettingError

#: mean and standard deviation of the MNIST training pixels (in [0, 1]), as in the PyTorch MNIST example
MEAN, STD = 0.1307, 0.3081
MODEL_FILE = "mnist_cnn.pt"


# ----------------------------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------------------------
def load_tensors():
    """``(X_train, y_train, X_test, y_test)``: the 60 000 / 10 000 digits as float tensors N x 1 x 28 x 28,
    normalised once to zero mean and unit variance ((x/255 - 0.1307) / 0.3081), and int64 labels."""
    train, test = data.load_mnist()

    def prep(ds):
        X = (ds.data.float().div_(255.0).sub_(MEAN).div_(STD)).unsqueeze(1).contiguous()
        return X, ds.targets.clone().long()

    return (*prep(train), *prep(test))


def to_pixels(X):
    """Undo the normalisation: images back to [0, 1] for display."""
    return (X * STD + MEAN).clamp(0, 1)


# ----------------------------------------------------------------------------------------------
# models (the same definitions as written out in notebook 05)
# ----------------------------------------------------------------------------------------------
def build_cnn(c1: int = 16, c2: int = 32, hidden: int = 64):
    """The course CNN: [conv 3x3 -> max-pool 2 -> batch-norm -> ReLU] x 2, then dense hidden -> 10.

    Pooling comes right after each convolution (max-pooling and ReLU commute), so batch-norm and ReLU work on
    4x fewer numbers; the weights are stored channels-last (``torch.channels_last``), which makes PyTorch's CPU
    convolutions about twice as fast here. Same network, cheaper on a CPU.
    """
    import torch
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, c1, kernel_size=3, padding=1), nn.MaxPool2d(2), nn.BatchNorm2d(c1), nn.ReLU(),   # 28 -> 14
        nn.Conv2d(c1, c2, kernel_size=3, padding=1), nn.MaxPool2d(2), nn.BatchNorm2d(c2), nn.ReLU(),  # 14 -> 7
        nn.Flatten(), nn.Linear(c2 * 7 * 7, hidden), nn.ReLU(), nn.Linear(hidden, 10),
    ).to(memory_format=torch.channels_last)


def build_mlp(hidden: int = 256):
    """The fully connected baseline: 784 -> hidden -> hidden -> 10 with ReLU."""
    from torch import nn

    return nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, hidden), nn.ReLU(),
                         nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 10))


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
        raise SettingError(f"{name} must hold normalised float pixels, got {X.dtype}: use mnist.load_tensors(), or "
                           f"convert 0..255 pixels with ({name} / 255 - mnist.MEAN) / mnist.STD")
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


class _Clock:
    """Accumulates wall and CPU seconds between start() and stop() (training only, evaluation excluded)."""

    def __init__(self):
        self.wall = self.cpu = 0.0
        self._t = None

    def start(self):
        self._t = (time.perf_counter(), time.process_time())

    def stop(self):
        if self._t is not None:
            self.wall += time.perf_counter() - self._t[0]
            self.cpu += time.process_time() - self._t[1]
            self._t = None


def fit(net, X, y, num_epochs: int = 2, batch_size: int = 128, lr: float = 0.01, weight_decay: float = 5e-4,
        X_test=None, y_test=None, evals_per_epoch: int = 0, progress: bool = False, on_eval=None):
    """Train ``net`` with Adam (decoupled weight decay) and a one-cycle learning rate, batches sliced from a
    shuffled index. Returns a history dict: ``loss`` per step, ``train_seconds`` (training only, evaluation
    excluded; ``train_cpu_seconds`` the same in CPU time, a steadier measure on a busy machine), and when a test
    set is given, ``evals_per_epoch`` times per epoch, ``evals`` = [(epochs done, training seconds so far, test
    accuracy)] and ``evals_cpu`` (CPU seconds so far). ``on_eval(hist)`` returning False stops training.

    ``X``: images (N, 1, 28, 28), float; (N, 28, 28), flattened (N, 784) and numpy arrays are accepted and
    converted. ``y``: digit labels 0..9 (any integer type). A wrong setting or input, and a loss that stops being
    finite (training diverged), raise :class:`utils.SettingError`."""
    import torch
    from torch import nn

    lr = number("the learning rate lr", lr, 0, 1, lo_open=True, hint="Adam works with 0.001 to 0.01")
    num_epochs, batch_size = whole("num_epochs", num_epochs, 1), whole("batch_size", batch_size, 1)
    weight_decay = number("weight_decay", weight_decay, 0)
    evals_per_epoch = whole("evals_per_epoch", evals_per_epoch, 0)
    X = _images(X, net)
    y = _labels(y, len(X))
    if (X_test is None) != (y_test is None) or (evals_per_epoch and X_test is None):
        raise SettingError("X_test and y_test go together, and evals_per_epoch > 0 needs them: give both or neither")
    if X_test is not None:
        X_test = _images(X_test, net, "X_test")
        y_test = _labels(y_test, len(X_test), "y_test")
    dev = _param(net).device
    n = len(X)
    steps_per_epoch = math.ceil(n / batch_size)
    total = steps_per_epoch * num_epochs
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total, pct_start=0.25)
    loss_fn = nn.CrossEntropyLoss()
    # test after these steps of each epoch (the last one included)
    eval_at = {round(steps_per_epoch * j / evals_per_epoch) for j in range(1, evals_per_epoch + 1)} \
        if evals_per_epoch and X_test is not None else set()
    hist = {"loss": [], "evals": [], "evals_cpu": [], "train_seconds": 0.0, "train_cpu_seconds": 0.0}
    clock = _Clock()
    bar = None
    if progress:
        from . import progress as _progress

        bar = _progress(total=total, desc="training")
    step = 0
    for epoch in range(num_epochs):
        net.train()
        idx = torch.randperm(n)
        clock.start()
        for k, i in enumerate(range(0, n, batch_size)):
            b = idx[i:i + batch_size]
            loss = loss_fn(net(X[b].to(dev)), y[b].to(dev))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            hist["loss"].append(loss.item())
            step += 1
            if not math.isfinite(hist["loss"][-1]):
                if bar is not None:
                    bar.close()
                raise SettingError(f"training diverged at step {step} (the loss is {hist['loss'][-1]}), "
                                   f"but a finite loss is expected: lower the learning rate (lr={lr}) and rebuild net")
            if bar is not None:
                bar.update(1)
            if k + 1 in eval_at:
                clock.stop()
                acc = _accuracy(net, X_test, y_test)  # checked once, above
                hist["evals"].append((epoch + (k + 1) / steps_per_epoch, clock.wall, acc))
                hist["evals_cpu"].append(clock.cpu)
                if on_eval is not None and on_eval(hist) is False:  # the caller asks to stop here
                    hist["train_seconds"], hist["train_cpu_seconds"] = clock.wall, clock.cpu
                    if bar is not None:
                        bar.close()
                    return hist
                net.train()
                clock.start()
        clock.stop()
    hist["train_seconds"], hist["train_cpu_seconds"] = clock.wall, clock.cpu
    if bar is not None:
        bar.close()
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
        X, y, X_test, y_test = load_tensors()
        fit(net, X, y, num_epochs=num_epochs)
        save_cnn(net, path)
        if verbose:
            print(f"saved {path}; test accuracy {accuracy(net, X_test, y_test):.4f}")
    net.eval()
    if device is not None:
        net.to(device)
    return net
