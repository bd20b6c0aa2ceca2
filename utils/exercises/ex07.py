"""Exercise checks of notebook 07 (variational autoencoders)."""
import functools

import numpy as np

from . import choice, exercise, expect, answer_number, one_thread


def reparameterize(mu, logvar):
    """The reference answer: z = mu + sigma * eps, sigma = exp(logvar / 2), eps ~ N(0, I) drawn apart."""
    import torch

    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


def kl_divergence(mu, logvar):
    """The reference answer: KL(N(mu, diag exp(logvar)) || N(0, I)) of each row, summed over the dimensions."""
    return -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(-1)


_kl_ref = kl_divergence      # the checks below name their argument kl_divergence


def interpolate(z1, z2, n):
    """The reference answer: n equally spaced points from z1 (first row) to z2 (last row)."""
    t = np.linspace(0, 1, n)[:, None]
    return (1 - t) * np.asarray(z1) + t * np.asarray(z2)


@exercise(wrong=[lambda: (lambda mu, logvar: mu),                                           # no noise at all
                 lambda: (lambda mu, logvar: mu + __import__("torch").randn_like(mu) * logvar),  # logvar as std
                 lambda: (lambda mu, logvar: mu + __import__("torch").randn_like(mu) * logvar.exp()),  # variance
                 lambda: (lambda mu, logvar: __import__("torch").normal(mu, (0.5 * logvar).exp()).detach())],
          reference=reparameterize)
def check_reparameterize(reparameterize):
    """reparameterize(mu, logvar) -> z = mu + sigma * eps with eps ~ N(0, I) and sigma = exp(logvar / 2)."""
    import torch

    torch.manual_seed(0)
    n = 20000
    mu = torch.tensor([[1.5, -2.0, 0.0]], dtype=torch.float32).repeat(n, 1).requires_grad_()
    logvar = torch.tensor([[0.0, float(np.log(0.25)), float(np.log(4.0))]], dtype=torch.float32)
    logvar = logvar.repeat(n, 1).requires_grad_()
    z = reparameterize(mu, logvar)
    expect(isinstance(z, torch.Tensor) and tuple(z.shape) == (n, 3),
           f"expected a tensor of shape {(n, 3)} (the shape of mu), got {getattr(z, 'shape', type(z))}")
    m, s = z.detach().mean(0), z.detach().std(0)
    expect(s.min() > 0.1, f"your z has (almost) no spread (std {s.numpy().round(3)}): the noise eps is missing")
    expect(torch.allclose(m, torch.tensor([1.5, -2.0, 0.0]), atol=0.05),
           f"the mean of z should be mu = [1.5, -2, 0], got {m.numpy().round(3)}")
    expect(torch.allclose(s, torch.tensor([1.0, 0.5, 2.0]), atol=0.05),
           f"for logvar = log([1, 0.25, 4]) the standard deviation of z should be [1, 0.5, 2], got "
           f"{s.numpy().round(3)}. Hint: sigma = exp(logvar / 2), not logvar nor exp(logvar)")
    expect(z.requires_grad, "z does not depend on mu and logvar through autograd: the gradient of the loss cannot "
                            "reach the encoder. Hint: build z = mu + sigma * eps from a noise eps drawn apart")
    (z ** 2).sum().backward()
    expect(mu.grad is not None and logvar.grad is not None and logvar.grad.abs().sum() > 0,
           "no gradient reaches mu and logvar: write z = mu + exp(logvar / 2) * torch.randn_like(mu)")


@exercise(wrong=[lambda: (lambda mu, logvar: 0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(-1)),  # sign
                 lambda: (lambda mu, logvar: -0.5 * (1 + logvar - logvar.exp()).sum(-1)),            # no mu^2
                 lambda: (lambda mu, logvar: -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).mean(-1)),  # mean
                 lambda: (lambda mu, logvar: -(1 + logvar - mu ** 2 - logvar.exp()).sum(-1))],        # no 1/2
          reference=kl_divergence)
def check_kl(kl_divergence):
    """kl_divergence(mu, logvar) -> KL(N(mu, diag exp(logvar)) || N(0, I)) for each row, summed over dimensions."""
    import torch

    g = torch.Generator().manual_seed(1)
    mu, logvar = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g)
    got = kl_divergence(mu, logvar)
    expect(isinstance(got, torch.Tensor) and tuple(got.shape) == (6,),
           f"expected one KL value per sample, a tensor of shape (6,), got {getattr(got, 'shape', type(got))}. "
           f"Hint: sum over the latent dimensions (dim=-1), do not average over the batch")
    zero = kl_divergence(torch.zeros(2, 4), torch.zeros(2, 4))
    expect(torch.allclose(zero, torch.zeros(2), atol=1e-6), f"KL(N(0, I) || N(0, I)) must be 0, got {zero}")
    expect((got >= -1e-6).all(), f"a KL divergence is never negative, got {got.numpy().round(3)}: check the sign")
    ref = _kl_ref(mu, logvar)
    expect(torch.allclose(got, ref, atol=1e-4),
           f"for mu={mu[0].numpy().round(2)}, logvar={logvar[0].numpy().round(2)} the KL is {ref[0]:.4f}, "
           f"got {got[0]:.4f}. Hint: -1/2 sum(1 + log sigma^2 - mu^2 - sigma^2)")


@exercise(wrong=[lambda: (lambda z1, z2, n: np.linspace(z1, z2, n + 2)[1:-1]),      # leaves out the end points
                 lambda: (lambda z1, z2, n: np.linspace(z2, z1, n)),                # backwards
                 lambda: (lambda z1, z2, n: np.stack([z1 * (1 - t) + z2 * (1 - t) for t in np.linspace(0, 1, n)]))],
          reference=interpolate)
def check_interpolate(interpolate):
    """interpolate(z1, z2, n) -> (n, d) array of points on the segment from z1 (first row) to z2 (last row),
    equally spaced."""
    z1, z2 = np.array([0.0, 1.0, -2.0]), np.array([4.0, -1.0, 2.0])
    got = np.asarray(interpolate(z1.copy(), z2.copy(), 5), dtype=float)
    expect(got.shape == (5, 3), f"expected 5 points of dimension 3, an array of shape (5, 3), got {got.shape}")
    expect(np.allclose(got[0], z1) and np.allclose(got[-1], z2),
           f"the first point must be z1 = {z1} and the last z2 = {z2}, got {got[0]} and {got[-1]}")
    expect(np.allclose(got[2], (z1 + z2) / 2), f"the middle point must be (z1 + z2) / 2 = {(z1 + z2) / 2}, got "
                                               f"{got[2]}. Hint: z(t) = (1 - t) z1 + t z2, t from 0 to 1")
    steps = np.diff(got, axis=0)
    expect(np.allclose(steps, steps[0]), "the points must be equally spaced along the segment")


# ---------------------------------------------------------------------------------------------------------------
# predict: the KL term of three codes of a 2-D latent space
# ---------------------------------------------------------------------------------------------------------------
_KL_CODES = {"kl_prior": ([0.0, 0.0], [1.0, 1.0]), "kl_shifted": ([2.0, 0.0], [1.0, 1.0]),
             "kl_sharp": ([0.0, 0.0], [0.1, 0.1])}          # name: (mu, sigma)


def _kl_truth():
    import torch

    return {name: float(_kl_ref(torch.tensor([mu], dtype=torch.float64),
                                2 * torch.tensor([sigma], dtype=torch.float64).log()))
            for name, (mu, sigma) in _KL_CODES.items()}


@exercise(kind="predict",
          wrong=[lambda: (0.0, 4.0, 7.21),         # forgets the 1/2
                 lambda: (0.0, -2.0, -3.61),       # the sign
                 lambda: (0.0, 2.0, 0.0),          # "at the origin it costs nothing, whatever sigma"
                 lambda: (1.0, 2.0, 3.61)])        # a code equal to the prior still costs something
def check_kl_values(kl_prior, kl_shifted, kl_sharp):
    """kl_prior, kl_shifted, kl_sharp: KL to N(0, I) (nats) of N((0,0), 1), N((2,0), 1) and N((0,0), 0.1^2)."""
    got = {"kl_prior": answer_number(kl_prior, "kl_prior"), "kl_shifted": answer_number(kl_shifted, "kl_shifted"),
           "kl_sharp": answer_number(kl_sharp, "kl_sharp")}
    truth = _kl_truth()
    expect(all(v >= 0 for v in got.values()), "a KL divergence is never negative: check the sign of the formula")
    expect(abs(got["kl_prior"] - truth["kl_prior"]) < 0.02,
           "kl_prior is not right yet: how far is a distribution from itself? (mu = 0, sigma = 1 is the prior)")
    for name in ("kl_shifted", "kl_sharp"):
        rel = abs(got[name] - truth[name]) / truth[name]
        expect(abs(got[name] - 2 * truth[name]) > 0.02 * truth[name],
               f"{name} is twice too large: the formula has a factor 1/2 in front of the sum")
        if name == "kl_shifted":
            expect(rel < 0.02, "kl_shifted is not right yet. Hint: with sigma = 1, 1 + log sigma^2 - sigma^2 = 0 in "
                               "every dimension: only the mu^2 terms are left")
        else:
            expect(got[name] > 0.02, "kl_sharp is not right yet: a code much narrower than the prior is far from it "
                                     "too, even at the origin. Hint: log(0.1^2) = -4.6")
            expect(rel < 0.02, "kl_sharp is not right yet. Hint: with mu = 0, each dimension gives "
                               "-1/2 (1 + log sigma^2 - sigma^2), with sigma^2 = 0.01 and the natural logarithm")


# ---------------------------------------------------------------------------------------------------------------
# predict: how many more parameters the MNIST VAE has than the autoencoder (latent_dim=2, hidden=512)
# ---------------------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _extra_params_truth(latent_dim=2, hidden=512) -> int:
    """Builds the notebook's autoencoder and VAE layers and counts (the notebook's random numbers are kept)."""
    import torch
    from torch import nn

    def count(enc_out):
        with torch.random.fork_rng():
            enc = nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, enc_out))
            dec = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, 784))
        return sum(p.numel() for m in (enc, dec) for p in m.parameters())

    return count(2 * latent_dim) - count(latent_dim)


@exercise(kind="predict", wrong=[lambda: 0,        # "the VAE only adds noise"
                                 lambda: 1024,     # forgets the biases
                                 lambda: 2,        # one learned sigma per latent dimension
                                 lambda: 2052])    # counts mu and log sigma^2 layers twice
def check_vae_extra_params(predicted_extra_params):
    """predicted_extra_params: parameters of VAE(latent_dim=2, hidden=512) minus those of AutoEncoder(2, 512)."""
    got = answer_number(predicted_extra_params, "predicted_extra_params")
    truth = _extra_params_truth()
    if got == truth:
        return
    expect(got != 0, "the sampling adds no parameter, but something else in the VAE changed: look at what the "
                     "encoder's last layer outputs")
    expect(got >= 100, "sigma is not one learned number per dimension: the encoder computes log sigma^2 for each "
                       "input, with a layer of weights")
    expect(got != truth - 2, "almost: every output of a linear layer has a bias too")
    expect(False, f"{got:,.0f} is not it. Hint: only the encoder's last layer differs; count the weights and biases "
                  f"of the outputs it gains")


# ---------------------------------------------------------------------------------------------------------------
# predict: what a KL term weighted 50 times does (posterior collapse)
# ---------------------------------------------------------------------------------------------------------------
_OUTCOMES = {
    "a": "the KL term falls to almost 0 and every digit is rebuilt as nearly the same blurry image",
    "b": "the KL term grows and the reconstructions become sharper",
    "c": "nothing much changes: beta only rescales the loss",
    "d": "training diverges (the loss becomes nan)",
}


@functools.lru_cache(maxsize=None)
def _heavy_kl_experiment(beta=50.0, steps=200):
    """A tiny VAE (1-D code) on 256 noisy copies of 4 binary patterns of 32 pixels, trained with the KL weighted
    by 1 and by ``beta``: returns (KL, reconstruction) per input for each weight. Fixed seed; the notebook's random
    numbers stay as they were."""
    import torch
    from torch import nn
    import torch.nn.functional as F

    out = {}
    with torch.random.fork_rng(), one_thread():
        for b in (1.0, beta):
            torch.manual_seed(0)
            patterns = (torch.rand(4, 32) < 0.5).float()
            X = patterns[torch.arange(256) % 4]
            X = (X + (torch.rand_like(X) < 0.05).float()) % 2                        # 5 % of the pixels flipped
            enc = nn.Sequential(nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2))
            dec = nn.Sequential(nn.Linear(1, 32), nn.ReLU(), nn.Linear(32, 32))
            opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=1e-2)
            for _ in range(steps):
                mu, logvar = enc(X).chunk(2, -1)
                rec = F.binary_cross_entropy_with_logits(dec(reparameterize(mu, logvar)), X,
                                                         reduction="none").sum(-1).mean()
                kl = _kl_ref(mu, logvar).mean()
                loss = rec + b * kl
                opt.zero_grad()
                loss.backward()
                opt.step()
            out[b] = (kl.item(), rec.item())
    return out[1.0], out[beta]


def _heavy_kl_truth() -> str:
    (kl_1, rec_1), (kl_big, rec_big) = _heavy_kl_experiment()
    if not np.isfinite(kl_big + rec_big):
        return "d"
    if kl_big < 0.1 * kl_1 and rec_big > rec_1:
        return "a"
    return "b" if kl_big > kl_1 else "c"


@exercise(kind="predict", wrong=[lambda: "c", lambda: "b", lambda: "d", lambda: "A collapse"])
def check_heavy_kl(predicted_heavy_kl):
    """predicted_heavy_kl: the letter (a, b, c or d) of what training with loss = reconstruction + 50 KL does."""
    got = choice(predicted_heavy_kl, _OUTCOMES, "predicted_heavy_kl")
    truth = _heavy_kl_truth()
    if got == truth:
        return
    hints = {
        "b": "a heavier weight on a term makes the optimiser push that term down, not up",
        "c": "Adam ignores the scale of the whole loss, but beta changes the balance between its two terms: now one "
             "nat of information in the code costs 50 nats of loss. What is the cheapest way out?",
        "d": "both terms stay finite and bounded below (a KL is >= 0): nothing explodes; think about which term wins",
        "a": "look again at what the KL term rewards",
    }
    expect(False, hints[got])
