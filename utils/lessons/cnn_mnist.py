"""Generated from notebooks/05_cnn_mnist.ipynb by `make export` (tools/export.py): do not edit.

The code cells of that notebook tagged ``export``, in notebook order. To change them, edit the notebook and run
`make export`; a unit test fails while this file is stale.
"""
import math
import torch
from torch import nn
import torch.nn.functional as F
import utils


# --- cell c006 ---
def build_mlp(hidden=256):
    return nn.Sequential(
        nn.Flatten(),                                   # 1 x 28 x 28 -> 784
        nn.Linear(784, hidden), nn.ReLU(),              # hidden = 256 neurons
        nn.Linear(hidden, hidden), nn.ReLU(),
        nn.Linear(hidden, 10),                          # one score (logit) per digit
    )


# --- cell c007 ---
def build_cnn(c1=16, c2=32, hidden=64):
    return nn.Sequential(
        nn.Conv2d(1, c1, kernel_size=3, padding=1),     # c1 = 16 kernels 3x3:  1 x 28 x 28 -> 16 x 28 x 28
        nn.MaxPool2d(2), nn.BatchNorm2d(c1), nn.ReLU(), #                                    -> 16 x 14 x 14
        nn.Conv2d(c1, c2, kernel_size=3, padding=1),    # c2 = 32 kernels 3x3x16            -> 32 x 14 x 14
        nn.MaxPool2d(2), nn.BatchNorm2d(c2), nn.ReLU(), #                                    -> 32 x 7 x 7
        nn.Flatten(),                                   #                                    -> 1568
        nn.Linear(c2 * 7 * 7, hidden), nn.ReLU(),       # dense, 64 neurons
        nn.Linear(hidden, 10),
    ).to(memory_format=torch.channels_last)             # store channels last: faster convolutions on a CPU


# --- cell c013 ---
def evaluate(net, X, y, batch_size=2000):
    """Test accuracy, in eval mode (batch-norm uses its running statistics), without gradients."""
    net.eval()
    with torch.no_grad():
        pred = torch.cat([net(X[i:i + batch_size]).argmax(1) for i in range(0, len(X), batch_size)])
    net.train()
    return (pred == y).float().mean().item()


# --- cell c014 ---
def train(net, X, y, num_epochs, batch_size=128, lr=0.01, test=None, evals_per_epoch=0, desc="training"):
    """test = (X_test, y_test): accuracy measured evals_per_epoch times per epoch, and after the last step."""
    if not lr > 0:
        raise utils.SettingError(f"the learning rate must be positive, got lr={lr}")
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=5e-4)
    steps = math.ceil(len(X) / batch_size)               # steps per epoch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=num_epochs * steps, pct_start=0.25)
    hist = {"loss": [], "epoch": [], "test_acc": [], "seconds": []}
    eval_at = {round(steps * j / evals_per_epoch) for j in range(1, evals_per_epoch + 1)}  # test after these steps
    clock, bar = 0.0, utils.progress(total=num_epochs * steps, desc=desc)
    for epoch in range(num_epochs):
        idx = torch.randperm(len(X))                     # a new order every epoch
        for k, i in enumerate(range(0, len(X), batch_size)):
            with utils.timer() as t:
                b = idx[i:i + batch_size]                # a batch is a slice
                loss = F.cross_entropy(net(X[b]), y[b])
                opt.zero_grad(); loss.backward(); opt.step(); sched.step()
            clock += t.seconds; hist["loss"].append(loss.item()); bar.update(1)
            if test is not None and (k + 1 in eval_at or (epoch + 1 == num_epochs and k + 1 == steps)):
                hist["epoch"].append(epoch + (k + 1) / steps); hist["seconds"].append(clock)
                hist["test_acc"].append(evaluate(net, *test))
    bar.close()
    hist["train_seconds"] = clock                       # training only, the tests excluded
    return hist
