"""Time one training step of notebook 06's SMILES LSTM and of notebook 07's chemical VAE, in several variants.

    python benchmarks/profile_steps.py [--threads 1] [--steps 30] [--model lstm|vae|both]

The models and losses are the notebooks' own (their cells tagged export, generated into utils.lessons), so what is timed is what a
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

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from utils import chem  # noqa: E402


def lstm_step_factory(vocab):
    """Notebook 06's model and loss (utils.lessons.smiles_rnn)."""
    from utils.lessons.smiles_rnn import SmilesLSTM, lm_loss

    net = SmilesLSTM(len(vocab), embed_dim=32, hidden_size=256, num_layers=2)
    return net, lambda model, X: lm_loss(model, X, vocab.pad)


def vae_step_factory(vocab):
    """Notebook 07's chemical VAE and its loss terms (utils.lessons.vae), KL weight 0.1."""
    from utils.lessons.vae import SmilesDecoder, SmilesEncoder, kl_divergence, reparameterize

    enc, dec = SmilesEncoder(len(vocab), 64, pad=vocab.pad), SmilesDecoder(len(vocab), 64)
    net = nn.ModuleDict({"enc": enc, "dec": dec})

    def loss(model, X):
        mu, logvar = model["enc"](X)
        logits, _ = model["dec"](X[:, :-1], reparameterize(mu, logvar))
        rec = F.cross_entropy(logits.transpose(1, 2), X[:, 1:], ignore_index=vocab.pad, reduction="sum") / len(X)
        return rec + 0.1 * kl_divergence(mu, logvar).mean()

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
