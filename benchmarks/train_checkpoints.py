"""Train the course's checkpoints: the long models of notebooks 05-09, with a longer budget than a notebook can spend.

    python benchmarks/train_checkpoints.py smiles_lstm [--batches 15000] [--threads 1]
    make checkpoints                       # every model, one after the other (hours on 2 cores)

Each model is written to ``checkpoints/<name>.pt`` (a plain dict of tensors, lists and numbers, so that
``torch.load(..., weights_only=True)`` reads it) with a card ``checkpoints/<name>.json``: data, recipe, seed, training
time, machine and the figures measured here; ``checkpoints/MANIFEST.json`` lists every file with its sha256 and size.
The recipe of each model is the one its notebook teaches, with more batches: the notebook loads the result through
``utils.checkpoints.load`` for its application sections and still trains a small model live for the lesson.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from utils import checkpoints as ck  # noqa: E402
from utils import data  # noqa: E402


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__}, {torch.get_num_threads()} thread(s)"


def cpu_state(net) -> dict:
    """A model's state dict, detached and on the CPU, as a checkpoint stores it."""
    return {k: v.detach().cpu() for k, v in net.state_dict().items()}


def log(*args):
    print(time.strftime("%H:%M:%S"), *args, flush=True)


# ---------------------------------------------------------------------------------------------------------------
# 06: the SMILES language model (embedding -> 2-layer LSTM -> linear), trained on the MOSES subset
# ---------------------------------------------------------------------------------------------------------------
def train_smiles_lstm(args):
    """Notebook 06's model, loss, sampler and training loop (utils.lessons.smiles_rnn), with a longer budget."""
    from utils import chem
    from utils.lessons.smiles_rnn import SmilesLSTM, lm_loss, sample, train

    torch.manual_seed(args.seed)
    train_smiles = chem.load_moses_subset("train")
    test_smiles = chem.load_moses_subset("test")
    vocab = chem.Vocab.build(train_smiles)
    config = dict(embed_dim=32, hidden_size=256, num_layers=2)
    net = SmilesLSTM(len(vocab), **config)
    n, batch_size, lr = args.batches, 128, 2e-3
    X_test = chem.encode_batch(test_smiles[:1000], vocab)
    t0, test_loss = time.perf_counter(), float("nan")

    def report(b, losses):
        nonlocal test_loss
        if b and (b % 500 == 0 or b == n):
            with torch.no_grad():
                test_loss = lm_loss(net.eval(), X_test, vocab.pad).item()
            net.train()
            log(f"batch {b}/{n}: train {np.mean(losses[-500:]):.3f}, test {test_loss:.3f} nats/token, "
                f"validity {chem.validity(sample(net, vocab, 500)):.3f}, {time.perf_counter() - t0:.0f} s")

    train(net, vocab, train_smiles, n, batch_size, lr, on_eval=report, eval_every=100, seed=args.seed)
    seconds = time.perf_counter() - t0
    torch.manual_seed(1)
    generated = [s for _ in range(10) for s in sample(net, vocab, 1000)]
    train_canonical = {chem.canonical(s) for s in train_smiles}
    figures = {"test_loss": round(test_loss, 4), "validity": round(chem.validity(generated), 4),
               "unique": round(chem.uniqueness(generated), 4),
               "novelty": round(chem.novelty(generated, train_canonical), 4), "samples": len(generated)}
    log("figures", figures)
    state = {"state_dict": cpu_state(net),
             "tokens": list(vocab.tokens), "config": config}
    card = {"notebook": "06_smiles_rnn", "model": "SmilesLSTM of notebook 06 (utils.lessons.smiles_rnn)", "config": config,
            "data": f"MOSES training subset (data/moses/train_subset.csv.gz, all {len(train_smiles)} SMILES)",
            "recipe": f"Adam lr {lr}, flat for the first third, then linear decay to 0, gradient norm clipped at 1, "
                      f"{n} length-bucketed batches of {batch_size} ({n * batch_size / len(train_smiles):.1f} epochs)",
            "train_batches": n, "seed": args.seed, "train_seconds": round(seconds), "machine": machine(),
            "figures": figures, "figures_note": "10 000 samples at T = 1 (torch seed 1); test loss on 1000 test SMILES"}
    ck.save("smiles_lstm", state, card)


# ---------------------------------------------------------------------------------------------------------------
# 05: the CNN of notebook 05 (utils.lessons.cnn_mnist.build_cnn), also the judge of notebook 08's generated digits
# ---------------------------------------------------------------------------------------------------------------
def train_mnist_cnn(args):
    from utils import mnist

    torch.manual_seed(args.seed)
    X, y, X_test, y_test = data.mnist_tensors()
    net = mnist.build_cnn()
    epochs = args.epochs or 4
    hist = mnist.fit(net, X, y, num_epochs=epochs)
    acc = mnist.accuracy(net, X_test, y_test)
    log(f"test accuracy {acc:.4f} after {hist['train_seconds']:.0f} s")
    card = {"notebook": "05_cnn_mnist", "model": "build_cnn() of notebook 05 (utils.lessons.cnn_mnist)", "config": {},
            "data": "MNIST, the 60 000 training digits (test set only for the figure below)",
            "recipe": f"train() of notebook 05 (utils.lessons.cnn_mnist, via utils.mnist.fit): AdamW lr 0.01, weight decay 5e-4, one-cycle schedule, batches of 128, "
                      f"{epochs} epochs",
            "seed": args.seed, "train_seconds": round(hist["train_seconds"]), "machine": machine(),
            "figures": {"test_accuracy": round(acc, 4)}, "figures_note": "the 10 000 MNIST test digits"}
    ck.save("mnist_cnn", {"state_dict": cpu_state(net)}, card)


# ---------------------------------------------------------------------------------------------------------------
# 08: the MNIST GAN (fully connected, batch norm in G, minibatch standard deviation in D, averaged generator)
# ---------------------------------------------------------------------------------------------------------------
def mnist_gan_players():
    """Notebook 08's generator and discriminator (utils.lessons.gan)."""
    from utils.lessons.gan import make_discriminator, make_generator

    return make_generator(), make_discriminator()


STORAGE_NOTE = "weights stored in float16 (half the file; loaded into float32 models); figures measured on them"


def half(state: dict) -> dict:
    """The floating-point tensors of a checkpoint (nested state dicts included) in float16."""
    return {k: half(v) if isinstance(v, dict) else v.half() if torch.is_tensor(v) and v.is_floating_point() else v
            for k, v in state.items()}


def reencode_mnist_gan(args):
    """Store the existing mnist_gan checkpoint in float16 and measure its figures again on the stored weights."""
    state, card = half(ck.load("mnist_gan")), ck.card("mnist_gan")
    G, _ = mnist_gan_players()
    G.load_state_dict(state["state_dict"])
    torch.manual_seed(1)
    conf, shares = judge_generator(G)
    card["figures"].update({"share_confident_generator_alone": round(conf, 4), "min_class_share": round(float(shares.min()), 4),
                            "class_shares": [round(float(s), 4) for s in shares]})
    card["storage"] = STORAGE_NOTE
    log("figures", card["figures"])
    ck.save("mnist_gan", state, card)


def _judge(_cache={}):  # noqa: B006 - loaded once per run, not at every evaluation of the training loop
    from utils import mnist

    if "cnn" not in _cache:
        _cache["cnn"] = mnist.load_judge_cnn()
    return _cache["cnn"]


def judge_generator(G, n=10_000):
    """Share of n generated digits that notebook 05's CNN classifies with confidence >= 0.9, and the share of
    each predicted class (the measure of notebook 08, with its own sampler and shares: utils.lessons.gan)."""
    from utils.lessons.gan import class_shares, confident_share, sample_digits

    judge = _judge()
    x = sample_digits(G, n)
    with torch.no_grad():
        p = torch.softmax(judge((x.reshape(-1, 1, 28, 28) - data.MNIST_MEAN) / data.MNIST_STD), 1)
    return confident_share(p), class_shares(p)


def train_mnist_gan(args):
    """Notebook 08's players, game step and weight averaging (utils.lessons.gan), with a longer budget."""
    import copy

    from utils.lessons.gan import HIDDEN, Z_DIM, gan_step, update_average

    torch.manual_seed(args.seed)
    X, _, _, _ = data.mnist_tensors(scale="symmetric", flat=True)
    G, D = mnist_gan_players()
    G_avg = copy.deepcopy(G)
    batch_size, lr, n = 64, 6e-4, args.steps
    opt_G = torch.optim.Adam(G.parameters(), lr, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr, betas=(0.5, 0.999))
    t0 = time.perf_counter()
    for step in range(1, n + 1):
        x_real = X[torch.randint(0, len(X), (batch_size,))]
        gan_step(G, D, opt_G, opt_D, x_real, Z_DIM)
        update_average(G_avg, G, step)
        if step % 5000 == 0 or step == n:
            conf, shares = judge_generator(G_avg, 2000)
            log(f"step {step}/{n}: confident {conf:.3f}, rarest class {shares.min():.3f}, "
                f"{time.perf_counter() - t0:.0f} s")
    seconds = time.perf_counter() - t0
    state = half({"state_dict": cpu_state(G_avg), "G": cpu_state(G), "D": cpu_state(D),
                  "config": {"z_dim": Z_DIM, "hidden": HIDDEN}})
    G_avg.load_state_dict(state["state_dict"])              # the figures below are those of the stored weights
    torch.manual_seed(1)
    conf, shares = judge_generator(G_avg)
    figures = {"share_confident_generator_alone": round(conf, 4), "min_class_share": round(float(shares.min()), 4),
               "class_shares": [round(float(s), 4) for s in shares], "samples": 10_000}
    log("figures", figures)

    card = {"notebook": "08_gan", "model": "notebook 08's make_generator() (state_dict: the averaged generator; G: the "
                                           "last weights of the game) and make_discriminator() (D)",
            "config": state["config"], "data": "MNIST, the 60 000 training digits, scaled to [-1, 1]",
            "recipe": f"non-saturating GAN, Adam lr {lr}, betas (0.5, 0.999), batches of {batch_size}, {n} steps "
                      f"({n * batch_size / 60000:.0f} epochs), generator weights averaged (decay 0.999)",
            "train_steps": n, "seed": args.seed, "train_seconds": round(seconds), "machine": machine(),
            "storage": STORAGE_NOTE, "figures": figures, "figures_note": "10 000 digits of the averaged generator (torch seed 1) judged by the mnist_cnn "
                            "checkpoint: share with confidence >= 0.9, and the share of each predicted class"}
    ck.save("mnist_gan", state, card)


# ---------------------------------------------------------------------------------------------------------------
# 07: the chemical VAE (bidirectional-GRU encoder, GRU decoder conditioned on z), notebook 07's (utils.lessons.vae)
# ---------------------------------------------------------------------------------------------------------------
CHEM_VAE_CONFIG = {"latent_dim": 64, "embed_dim": 32, "hidden": 256}


def chem_vae_model(vocab):
    """Notebook 07's SmilesEncoder and SmilesDecoder (utils.lessons.vae) as one ModuleDict."""
    from utils.lessons.vae import SmilesDecoder, SmilesEncoder

    return nn.ModuleDict({"encoder": SmilesEncoder(len(vocab), pad=vocab.pad, **CHEM_VAE_CONFIG),   # as 07 builds
                          "decoder": SmilesDecoder(len(vocab), **CHEM_VAE_CONFIG)})                  # them from the card


def chem_vae_read(net, vocab, z, width=5):
    """Decode codes z with notebook 07's beam search (width 1: greedy)."""
    from utils.lessons.vae import decode_beam

    return decode_beam(net["decoder"], vocab, z, width=width)


@torch.no_grad()
def chem_vae_figures(net, vocab, held_out, n_prior, train_canonical, width=5):
    from utils import chem

    net.eval()
    mu = torch.cat([net["encoder"](chem.encode_batch(held_out[i:i + 1000], vocab))[0]
                    for i in range(0, len(held_out), 1000)])
    rebuilt = chem_vae_read(net, vocab, mu, width)
    samples = chem_vae_read(net, vocab, torch.randn(n_prior, CHEM_VAE_CONFIG["latent_dim"]), width)
    return {"reconstruction": round(float(np.mean([chem.canonical(d) == chem.canonical(s)
                                                   for d, s in zip(rebuilt, held_out)])), 4),
            "validity": round(chem.validity(samples), 4), "unique": round(chem.uniqueness(samples), 4),
            "novelty": round(chem.novelty(samples, train_canonical), 4)}


def train_chem_vae(args):
    """Notebook 07's chemical VAE, reparameterisation and KL term (utils.lessons.vae), with a longer budget."""
    import torch.nn.functional as F

    from utils import chem
    from utils.lessons.vae import kl_divergence, reparameterize

    torch.manual_seed(args.seed)
    train_smiles = chem.load_moses_subset("train")
    test_smiles = chem.load_moses_subset("test")
    vocab = chem.Vocab.build(train_smiles)
    net = chem_vae_model(vocab)
    first = None   # --init: continue a staged training (its card becomes the first stage of this one)
    if args.init:
        net.load_state_dict(torch.load(Path(args.init) / "chem_vae.pt", weights_only=True)["state_dict"])
        first = json.loads((Path(args.init) / "chem_vae.json").read_text())
    n, batch_size, lr, beta_max, warmup = args.batches, 128, args.lr or 2e-3, args.beta, 0.0 if first else 0.3
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda b: min(1.0, 2.0 * (1 - b / n)))
    batches = chem.bucket_batches(train_smiles, batch_size, args.seed)
    train_canonical = {chem.canonical(s) for s in train_smiles}
    bf16 = args.bf16

    def terms(X):
        with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            mu, logvar = net["encoder"](X)
            mu, logvar = mu.float(), logvar.float()
            logits, _ = net["decoder"](X[:, :-1], reparameterize(mu, logvar))
        rec = F.cross_entropy(logits.float().transpose(1, 2), X[:, 1:], ignore_index=vocab.pad, reduction="sum") / len(X)
        return rec, kl_divergence(mu, logvar).mean()

    t0, hist = time.perf_counter(), []
    for b in range(1, n + 1):
        beta = beta_max * min(1.0, (b - 1) / (warmup * n)) if warmup else beta_max
        rec, kl = terms(chem.encode_batch(next(batches), vocab))
        loss = rec + beta * kl
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        hist.append((rec.item(), kl.item()))
        if b % 1000 == 0 or b == n:
            quick = chem_vae_figures(net, vocab, test_smiles[:300], 300, train_canonical, width=1)
            r, k = np.mean(hist[-1000:], axis=0)
            log(f"batch {b}/{n}: rec {r:.2f}, KL {k:.2f} nats/molecule, beta {beta:.3f}; greedy {quick}; "
                f"{time.perf_counter() - t0:.0f} s")
            if args.stage:
                torch.save({"state_dict": cpu_state(net), "batch": b}, Path(args.stage) / "chem_vae_snapshot.pt")
    seconds = time.perf_counter() - t0
    torch.manual_seed(1)
    t1 = time.perf_counter()
    figures = chem_vae_figures(net, vocab, test_smiles[:2000], 10_000, train_canonical)
    figures.update(samples=10_000, held_out=2000, eval_seconds=round(time.perf_counter() - t1))
    log("figures", figures)
    state = {"state_dict": cpu_state(net), "tokens": list(vocab.tokens), "config": dict(CHEM_VAE_CONFIG)}
    recipe = (f"-ELBO with the KL weight beta rising linearly from 0 to {beta_max} over the first "
              f"{warmup:.0%} of training; Adam lr {lr}, flat for the first half, then linear decay to 0, gradient "
              f"norm clipped at 1, {n} length-bucketed batches of {batch_size} "
              f"({n * batch_size / len(train_smiles):.1f} epochs)"
              + (", forward pass under bfloat16 autocast (losses in float32)" if bf16 else ""))
    if first:
        recipe = (f"{first['recipe']}; then {n} more batches with beta {beta_max} from the start, Adam lr {lr}, flat "
                  f"for the first half, then linear decay to 0")
        seconds += first["train_seconds"]
        n += first["train_batches"]
    card = {"notebook": "07_vae", "model": "notebook 07's SmilesEncoder (key prefix encoder.) and SmilesDecoder "
                                           "(decoder.)", "config": state["config"],
            "data": f"MOSES training subset (data/moses/train_subset.csv.gz, all {len(train_smiles)} SMILES)",
            "recipe": recipe, "train_batches": n, "beta": beta_max, "seed": args.seed, "train_seconds": round(seconds),
            "machine": machine(), "figures": figures,
            "figures_note": "beam search of width 5: reconstruction of the first 2000 MOSES test molecules from their "
                            "mean codes (same canonical SMILES); validity, uniqueness and novelty of 10 000 decoded "
                            "z ~ N(0, I) (torch seed 1)"}
    if first:
        card["first_stage"] = {k: first[k] for k in ("recipe", "train_batches", "beta", "train_seconds", "figures")}
    if args.stage:   # several trainings side by side: each writes to its own folder, one is stored afterwards
        torch.save(state, Path(args.stage) / "chem_vae.pt")
        (Path(args.stage) / "chem_vae.json").write_text(json.dumps(card, indent=2) + "\n")
    else:
        ck.save("chem_vae", state, card)


def store_chem_vae(args):
    """Store a chem_vae trained with --stage DIR as the checkpoint (python ... chem_vae_store --stage DIR)."""
    stage = Path(args.stage)
    state = torch.load(stage / "chem_vae.pt", weights_only=True)
    ck.save("chem_vae", state, json.loads((stage / "chem_vae.json").read_text()))


MODELS = {"mnist_cnn": train_mnist_cnn, "smiles_lstm": train_smiles_lstm, "mnist_gan": train_mnist_gan,
          "chem_vae": train_chem_vae}
EXTRA = {"mnist_gan_to_float16": reencode_mnist_gan, "chem_vae_store": store_chem_vae}   # run by name only: python benchmarks/train_checkpoints.py mnist_gan_to_float16


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="*", default=list(MODELS), choices=[*MODELS, *EXTRA])
    p.add_argument("--batches", type=int, default=15000)
    p.add_argument("--steps", type=int, default=60_000, help="GAN steps (mnist_gan)")
    p.add_argument("--epochs", type=int, default=0, help="epochs (mnist_cnn; 0: its default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--beta", type=float, default=0.3, help="final KL weight (chem_vae)")
    p.add_argument("--bf16", action="store_true", help="forward pass under bfloat16 autocast (chem_vae; CPUs with "
                                                       "AVX-512 BF16 or AMX)")
    p.add_argument("--init", default="", help="chem_vae: continue the training staged in this folder")
    p.add_argument("--lr", type=float, default=0.0, help="chem_vae: Adam's learning rate (0: the recipe's 2e-3)")
    p.add_argument("--stage", default="", help="chem_vae: write the result to this folder instead of checkpoints/")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    for name in args.models:
        log("training", name, "on", machine())
        {**MODELS, **EXTRA}[name](args)


if __name__ == "__main__":
    main()
