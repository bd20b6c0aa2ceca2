"""Time one training step of notebook 06's SMILES LSTM and of notebook 07's chemical VAE, in several variants.

    python benchmarks/profile_steps.py [--threads 1] [--steps 30] [--model lstm|vae|both]

The model classes are read from the notebooks themselves (the cells that define them), so what is timed is what a
student trains. Each variant runs ``--steps`` training steps (Adam, gradient clipping as in the notebooks) on
batches of 128 MOSES molecules after 3 warm-up steps and reports the median milliseconds per step:
- ``padded random``: random molecules padded to the longest one of the batch;
- ``bucketed``: molecules of similar length (``chem.bucket_batches``, what the notebooks use);
- ``bucketed + bf16``: the same under ``torch.autocast("cpu", torch.bfloat16)`` (CPUs with AVX-512 BF16 or AMX);
- ``bucketed + compile``: the model through ``torch.compile`` (the first steps, compiling, are not timed).
On a machine with 2 cores, run it with ``--threads 1`` while nothing else runs, then with ``--threads 2``.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from utils import chem  # noqa: E402


def notebook_classes(notebook: str, names: list[str], namespace: dict) -> dict:
    """Execute the cells of ``notebook`` that define the classes ``names`` and return them."""
    nb = nbformat.read(ROOT / "notebooks" / f"{notebook}.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and any(f"class {n}(" in cell.source for n in names):
            exec(cell.source, namespace)  # noqa: S102 - the course's own notebook cells
    return {n: namespace[n] for n in names}


def lstm_step_factory(vocab):
    (SmilesLSTM,) = notebook_classes("06_smiles_rnn", ["SmilesLSTM"], {"nn": nn, "torch": torch}).values()
    net = SmilesLSTM(len(vocab), embed_dim=32, hidden_size=256, num_layers=2)
    loss_fn = nn.CrossEntropyLoss(ignore_index=vocab.pad)

    def loss(model, X):
        logits, _ = model(X[:, :-1])
        return loss_fn(logits.reshape(-1, logits.shape[-1]), X[:, 1:].reshape(-1))

    return net, loss


def vae_step_factory(vocab):
    ns = {"nn": nn, "torch": torch, "chem": chem, "vocab": vocab}
    classes = notebook_classes("07_vae", ["SmilesEncoder", "SmilesDecoder"], ns)
    enc, dec = classes["SmilesEncoder"](len(vocab), 64), classes["SmilesDecoder"](len(vocab), 64)
    net = nn.ModuleDict({"enc": enc, "dec": dec})

    def loss(model, X):
        mu, logvar = model["enc"](X)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        logits, _ = model["dec"](X[:, :-1], z)
        rec = F.cross_entropy(logits.transpose(1, 2), X[:, 1:], ignore_index=vocab.pad, reduction="sum") / len(X)
        kl = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(1).mean()
        return rec + 0.1 * kl

    return net, loss


def time_steps(net, loss, batches, vocab, steps, bf16=False, compiled=False):
    model = net
    if compiled:   # a ModuleDict (the VAE's encoder and decoder) is compiled part by part
        model = (nn.ModuleDict({k: torch.compile(v) for k, v in net.items()}) if isinstance(net, nn.ModuleDict)
                 else torch.compile(net))
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    times = []
    for i in range(steps + 3):
        X = chem.encode_batch(next(batches), vocab)
        t0 = time.perf_counter()
        with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            value = loss(model, X)
        opt.zero_grad()
        value.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        if i >= 3:
            times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def random_batches(smiles, batch_size, seed=0):
    rng = np.random.default_rng(seed)
    while True:
        yield [smiles[i] for i in rng.choice(len(smiles), batch_size, replace=False)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--model", choices=["lstm", "vae", "both"], default="both")
    ap.add_argument("--no-compile", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    smiles = chem.load_moses_subset("train", n=50_000)
    vocab = chem.Vocab.build(chem.load_moses_subset("train"))
    factories = {"lstm": lstm_step_factory, "vae": vae_step_factory}
    for name in (["lstm", "vae"] if args.model == "both" else [args.model]):
        variants = [("padded random", random_batches(smiles, 128), {}),
                    ("bucketed", chem.bucket_batches(smiles, 128), {}),
                    ("bucketed + bf16", chem.bucket_batches(smiles, 128), {"bf16": True})]
        if not args.no_compile:
            variants.append(("bucketed + compile", chem.bucket_batches(smiles, 128), {"compiled": True}))
        for label, batches, kw in variants:
            torch.manual_seed(0)
            net, loss = factories[name](vocab)
            try:
                ms = time_steps(net, loss, batches, vocab, args.steps, **kw)
                print(f"{name:5s} {label:20s} {ms:7.1f} ms per step ({args.threads} thread(s))", flush=True)
            except Exception as exc:  # a variant this machine cannot run: say so, time the others
                print(f"{name:5s} {label:20s} failed: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}", flush=True)


if __name__ == "__main__":
    main()
