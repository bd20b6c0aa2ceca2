"""Exercise checks of notebook 08 (GANs): optimal discriminator, generator loss, 1-D Fréchet distance, DiscoGAN loss."""
import numpy as np

from . import exercise, expect


@exercise(wrong=[lambda: (lambda p_data, p_g: np.asarray(p_g) / (np.asarray(p_data) + np.asarray(p_g))),  # swapped
                 lambda: (lambda p_data, p_g: np.full(np.shape(p_data), 0.5)),                              # the end point only
                 lambda: (lambda p_data, p_g: np.asarray(p_data) / np.asarray(p_g))])                       # a ratio, not a probability
def check_optimal_discriminator(optimal_discriminator):
    """optimal_discriminator(p_data, p_g) = p_data / (p_data + p_g), element-wise."""
    rng = np.random.default_rng(0)
    p_data, p_g = rng.uniform(0.01, 2, 50), rng.uniform(0.01, 2, 50)
    got = np.asarray(optimal_discriminator(p_data, p_g), dtype=float)
    expect(got.shape == p_data.shape, f"one value per point expected (shape {p_data.shape}), got shape {got.shape}")
    ref = p_data / (p_data + p_g)
    i = int(np.argmax(np.abs(got - ref)))
    expect(np.allclose(got, ref), f"for p_data = {p_data[i]:.3f}, p_g = {p_g[i]:.3f} expected D* = {ref[i]:.3f}, got "
                                  f"{got[i]:.3f}. Hint: D* is the probability that x came from the data.")


def _saturating(logits):
    import torch
    return torch.log(1 - torch.sigmoid(logits)).mean()


def _sign_flipped(logits):
    import torch.nn.functional as F
    return F.logsigmoid(logits).mean()


def _naive(logits):
    import torch
    return -torch.log(torch.sigmoid(logits)).mean()


@exercise(wrong=[lambda: _saturating, lambda: _sign_flipped, lambda: _naive])
def check_generator_loss(generator_loss):
    """generator_loss(logits) = mean(-log sigmoid(logits)), finite even for very negative logits."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    logits = torch.randn(64) * 3
    got = generator_loss(logits)
    expect(torch.is_tensor(got) and got.numel() == 1, "return a scalar torch tensor (the mean over the batch)")
    ref = -F.logsigmoid(logits).mean()
    expect(torch.allclose(got.float(), ref, atol=1e-5),
           f"expected {ref.item():.4f}, got {got.item():.4f}. Hint: the non-saturating loss is -log D(G(z)) with "
           f"D = sigmoid(logit); it is large when D rejects the fakes (negative logits).")
    far = generator_loss(torch.tensor([-200.0, -150.0]))
    expect(torch.isfinite(far).all() and abs(far.item() - 175.0) < 1e-3,
           f"for logits -200 and -150 the loss should be 175, got {far.item()}: use F.logsigmoid, "
           f"log(sigmoid(l)) underflows to log(0) = -inf")


@exercise(wrong=[lambda: (lambda m1, s1, m2, s2: (m1 - m2) ** 2),                     # ignores the spread
                 lambda: (lambda m1, s1, m2, s2: (m1 - m2) ** 2 + (s1 ** 2 - s2 ** 2) ** 2),
                 lambda: (lambda m1, s1, m2, s2: abs(m1 - m2) + abs(s1 - s2))])       # not squared
def check_frechet_1d(frechet_1d):
    """frechet_1d(mu1, sigma1, mu2, sigma2) = (mu1 - mu2)^2 + (sigma1 - sigma2)^2."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        m1, m2 = rng.normal(size=2) * 2
        s1, s2 = rng.uniform(0.1, 3, size=2)
        got = float(frechet_1d(m1, s1, m2, s2))
        ref = (m1 - m2) ** 2 + (s1 - s2) ** 2
        expect(np.isclose(got, ref), f"for N({m1:.2f}, {s1:.2f}^2) and N({m2:.2f}, {s2:.2f}^2) expected d^2 = "
                                     f"{ref:.4f}, got {got:.4f}. Hint: in 1-D, Tr(S1 + S2 - 2 (S1 S2)^1/2) = "
                                     f"(sigma1 - sigma2)^2.")


def _one_way(G_AB, G_BA, x_A, x_B):
    return ((G_BA(G_AB(x_A)) - x_A) ** 2).sum(1).mean()


def _no_round_trip(G_AB, G_BA, x_A, x_B):
    return ((G_AB(x_A) - x_A) ** 2).sum(1).mean() + ((G_BA(x_B) - x_B) ** 2).sum(1).mean()


def _wrong_order(G_AB, G_BA, x_A, x_B):
    return ((G_AB(G_BA(x_A)) - x_A) ** 2).sum(1).mean() + ((G_BA(G_AB(x_B)) - x_B) ** 2).sum(1).mean()


@exercise(wrong=[lambda: _one_way, lambda: _no_round_trip, lambda: _wrong_order])
def check_cycle_loss(cycle_loss):
    """cycle_loss(G_AB, G_BA, x_A, x_B): mean squared round-trip distance A->B->A plus B->A->B."""
    import torch

    torch.manual_seed(0)
    W_ab, W_ba = torch.randn(2, 2), torch.randn(2, 2)
    G_AB = lambda x: x @ W_ab + torch.tensor([1.0, -2.0])       # noqa: E731 - two different "generators"
    G_BA = lambda x: torch.tanh(x @ W_ba) * 3                   # noqa: E731
    x_A, x_B = torch.randn(32, 2), torch.randn(32, 2) + 5
    got = cycle_loss(G_AB, G_BA, x_A, x_B)
    expect(torch.is_tensor(got) and got.numel() == 1, "return a scalar torch tensor")
    ref = ((G_BA(G_AB(x_A)) - x_A) ** 2).sum(1).mean() + ((G_AB(G_BA(x_B)) - x_B) ** 2).sum(1).mean()
    half = ((G_BA(G_AB(x_A)) - x_A) ** 2).sum(1).mean()
    hint = " (that is only A -> B -> A: add B -> A -> B)" if torch.isclose(got.float(), half) else ""
    expect(torch.isclose(got.float(), ref, rtol=1e-4),
           f"expected {ref.item():.4f}, got {got.item():.4f}{hint}. Hint: translate, translate back, compare with "
           f"the start, in both directions: G_BA(G_AB(x_A)) vs x_A and G_AB(G_BA(x_B)) vs x_B.")
