#!/usr/bin/env python
"""Speed comparison for notebook 05: time to 99.0 % MNIST test accuracy, the course CNN versus a reference recipe.

    python benchmarks/mnist_reference.py                  # one pair of runs (ours, then the reference)
    python benchmarks/mnist_reference.py --repeats 2      # two pairs, the median ratio is reported
    OMP_NUM_THREADS=1 python benchmarks/mnist_reference.py --threads 1   # steadier on a busy machine

The reference is the well-known PyTorch MNIST example (github.com/pytorch/examples, mnist/main.py), written here
from its description: two 3x3 convolutions of 32 and 64 channels (no padding) with ReLU, 2x2 max-pooling,
dropout 0.25, a dense layer of 128 with ReLU, dropout 0.5, 10 outputs (log-softmax + NLL loss), Adadelta with
lr 1.0 and a step decay of 0.7 per epoch, batch 64, pixels normalised with mean 0.1307 and std 0.3081.

Ours is notebook 05's recipe, its ``build_cnn()`` trained by its ``train`` (``utils.lessons.cnn_mnist``, via ``utils.mnist.fit``) (batch 128, AdamW,
one-cycle learning rate over ``--epochs`` epochs) - the same code the notebook runs.

Fair play: both read the same normalised tensors by slicing (no per-image DataLoader for either), run on the same
threads, one after the other, and are evaluated on the 10 000 test digits four times per epoch; the clock counts
training only (evaluation excluded), and the time reported is that of the first evaluation at or above the target.
Wall seconds are reported: on a machine shared with other jobs they are inflated, so compare the ratio of a
back-to-back pair.

Writes benchmarks/results/05_mnist_reference.json in the format of benchmarks/run.py (so RESULTS.md shows it;
rebuild the table with ``python benchmarks/run.py --table``).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import resource
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import torch  # noqa: E402
from torch import nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from utils import data, mnist  # noqa: E402

TARGET = 0.990


class ReferenceNet(nn.Module):
    """The PyTorch MNIST example's network (1.2 M parameters)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        return F.log_softmax(self.fc2(x), dim=1)


def train_reference(X, y, X_test, y_test, max_epochs: int, evals_per_epoch: int = 4, batch_size: int = 64):
    """Adadelta lr 1.0, StepLR(step_size=1 epoch, gamma=0.7), batch 64; stops at the first evaluation >= TARGET."""
    torch.manual_seed(0)
    net = ReferenceNet()
    opt = torch.optim.Adadelta(net.parameters(), lr=1.0)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
    n = len(X)
    steps_per_epoch = math.ceil(n / batch_size)
    eval_at = {round(steps_per_epoch * j / evals_per_epoch) for j in range(1, evals_per_epoch + 1)}
    clock = mnist._Clock()
    evals, step = [], 0
    for epoch in range(max_epochs):
        net.train()
        idx = torch.randperm(n)
        clock.start()
        for k, i in enumerate(range(0, n, batch_size)):
            b = idx[i:i + batch_size]
            loss = F.nll_loss(net(X[b]), y[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if k + 1 in eval_at:
                clock.stop()
                acc = mnist.accuracy(net, X_test, y_test)
                e = epoch + (k + 1) / steps_per_epoch
                evals.append((e, clock.wall, clock.cpu, acc))
                print(f"  reference: epoch {e:.2f}  {clock.wall:6.1f} s  acc {acc:.4f}", flush=True)
                if acc >= TARGET:
                    return net, evals
                net.train()
                clock.start()
        clock.stop()
        sched.step()
    return net, evals


def train_ours(X, y, X_test, y_test, epochs: int, evals_per_epoch: int = 4):
    """Notebook 05's recipe: its own training loop (``utils.lessons.cnn_mnist.train``, through ``utils.mnist.fit``)
    over the whole one-cycle schedule of ``epochs``; the first evaluation >= TARGET is read from its history. The loop
    keeps wall seconds only, so CPU seconds are not reported for ours (None)."""
    torch.manual_seed(0)
    net = mnist.build_cnn()
    h = mnist.fit(net, X, y, num_epochs=epochs, X_test=X_test, y_test=y_test, evals_per_epoch=evals_per_epoch)
    evals = [(e, t, None, a) for e, t, a in zip(h["epoch"], h["seconds"], h["test_acc"])]
    for e, t, _, a in evals:
        print(f"  ours:      epoch {e:.2f}  {t:6.1f} s  acc {a:.4f}", flush=True)
    return net, evals


def first_hit(evals):
    """(epochs, wall s, cpu s, accuracy) of the first evaluation at or above TARGET, or None."""
    return next((e for e in evals if e[3] >= TARGET), None)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=1, help="pairs of runs (ours then reference)")
    ap.add_argument("--epochs", type=int, default=3, help="epochs of our one-cycle schedule (as in notebook 05)")
    ap.add_argument("--max-ref-epochs", type=int, default=6, help="give up on the reference after this many epochs")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    ap.add_argument("--out", default=str(HERE / "results" / "05_mnist_reference.json"))
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    X, y, X_test, y_test = data.mnist_tensors()
    t0 = time.perf_counter()
    pairs = []
    for r in range(args.repeats):
        print(f"pair {r + 1}/{args.repeats}: ours ({args.epochs}-epoch one-cycle schedule)", flush=True)
        _, ours = train_ours(X, y, X_test, y_test, args.epochs)
        print(f"pair {r + 1}/{args.repeats}: reference (PyTorch MNIST example recipe)", flush=True)
        _, ref = train_reference(X, y, X_test, y_test, args.max_ref_epochs)
        pairs.append((first_hit(ours), first_hit(ref), ours, ref))
    hits = [(o, f) for o, f, _, _ in pairs if o and f]
    figures = {}
    if hits:
        o_w = statistics.median(o[1] for o, _ in hits)
        f_w = statistics.median(f[1] for _, f in hits)
        wall_ratio = statistics.median(f[1] / o[1] for o, f in hits)
        figures = {
            "ours_seconds_to_99": {"value": round(o_w, 1), "unit": "s", "anchor": 60, "source": "course goal: <= 60 s"},
            "reference_seconds_to_99": {"value": round(f_w, 1), "unit": "s",
                                        "source": "PyTorch MNIST example recipe, same machine, back to back"},
            "speedup_wall": {"value": round(wall_ratio, 2), "anchor": 3, "source": "course goal: ours >= 3x faster"},
            "ours_epochs_to_99": {"value": statistics.median(o[0] for o, _ in hits)},
            "reference_epochs_to_99": {"value": statistics.median(f[0] for _, f in hits)},
            "ours_params": {"value": mnist.n_params(mnist.build_cnn())},
            "reference_params": {"value": sum(p.numel() for p in ReferenceNet().parameters())},
        }
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "notebook": "05_mnist_reference", "mode": "full", "wall_s": round(time.perf_counter() - t0, 1),
        "peak_mem_mb": round(peak, 1),
        "error": None if len(hits) == len(pairs) else "a run did not reach 99.0 % test accuracy",
        "figures": figures, "machine": _machine(args.threads), "date": dt.date.today().isoformat(),
        "runs": [{"ours": o_all, "reference": f_all} for _, _, o_all, f_all in pairs],
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    for k, v in figures.items():
        print(f"{k}: {v['value']}{' ' + v['unit'] if v.get('unit') else ''}")
    print(f"wrote {args.out}")
    return 0 if not result["error"] else 1


def _machine(threads) -> str:
    sys.path.insert(0, str(HERE))
    from run import machine

    return machine() + f", torch threads {threads or torch.get_num_threads()}"


if __name__ == "__main__":
    sys.exit(main())
