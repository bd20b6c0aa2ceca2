"""Exercise checks of notebook 08 (GANs). Predict, then verify: the discriminator's loss at equilibrium, mode
collapse, the price of PacGAN, what a collapsed translation costs DiscoGAN. Write: the optimal discriminator, the
non-saturating generator loss, the 1-D Fréchet distance."""

import numpy as np

from . import choice, exercise, expect, answer_number


# ----------------------------------------------------------------------------------------------
# predict, then verify
# ----------------------------------------------------------------------------------------------
@exercise(kind="predict", wrong=[lambda: 0.0, lambda: float(np.log(2)), lambda: float(-np.log(4)), lambda: 0.5])
def check_equilibrium_loss(predicted_loss_D):
    """The loss `discriminator_step` returns when p_g = p_data and D is optimal: 2 log 2 = 1.386."""
    import torch
    import torch.nn.functional as F

    got = answer_number(predicted_loss_D, "the discriminator's loss")
    half = torch.zeros(1)                                            # logit 0: D = sigmoid(0) = 1/2
    truth = (F.binary_cross_entropy_with_logits(half, torch.ones(1))
             + F.binary_cross_entropy_with_logits(half, torch.zeros(1))).item()
    if abs(got - truth) <= 0.05:
        return
    if abs(got) < 0.05:
        hint = ("a loss of 0 means that D tells every fake from every real point; can it, when the fakes are drawn "
                "from the data itself?")
    elif got < 0:
        hint = "a binary cross-entropy is never negative (-log 4 is the value V of the game; D's loss is -V)"
    elif abs(got - truth / 2) < 0.05:
        hint = "that is one of the two terms: discriminator_step adds the BCE on the real batch and on the fake batch"
    else:
        hint = ("the best D can do is D(x) = 1/2 everywhere; what is the BCE of saying 1/2 for a real point "
                "(label 1), and for a fake one (label 0)?")
    expect(False, f"{got:g} is not the discriminator's loss at equilibrium: {hint}")


@exercise(kind="predict", wrong=[lambda: "a", lambda: "c"])
def check_collapse(predicted_collapse):
    """Five generator steps per discriminator step make the plain GAN collapse onto a few modes: (b)."""
    got = choice(predicted_collapse, "abc")
    hints = {"a": "more generator steps are not more learning here: for five steps D stays fixed, and what is the "
                  "generator's best answer to a fixed D?",
             "c": "the generator still follows D's gradient towards the places that D calls real; against a fixed D, "
                  "is spreading out its best move?"}
    expect(got == "b", f"not ({got}): {hints.get(got, '')}")


def _toy_mlp(n_in, n_out, hidden=128):
    from torch import nn

    return nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, n_out))


def _n_params(net) -> int:
    return sum(p.numel() for p in net.parameters())


@exercise(kind="predict", wrong=[lambda: 0, lambda: 2, lambda: 512, lambda: 258, lambda: 17281])
def check_pacgan_extra_params(predicted_extra_params):
    """PacGAN's discriminator mlp(4, 1) has 2 x 128 = 256 more parameters than mlp(2, 1)."""
    got = answer_number(predicted_extra_params, "the number of extra parameters", "1000")
    sizes = _n_params(_toy_mlp(2, 1)), _n_params(_toy_mlp(4, 1))
    truth = sizes[1] - sizes[0]
    if got == truth:
        return
    if got == 0:
        hint = "the first layer now reads 4 numbers instead of 2, and every input has a weight to each hidden neuron"
    elif got == 2 * truth:
        hint = "only the first layer changes: the later layers read 128 hidden values in both discriminators"
    elif got in sizes:
        hint = "that is the size of a whole discriminator: the question asks for the difference"
    elif got > 10 * truth:
        hint = "far too many: one layer changes, and it gains only 2 inputs"
    elif got > truth:
        hint = "the biases belong to the 128 hidden neurons, not to the inputs: their number does not change"
    else:
        hint = "which layer changes when the input has 2 more numbers, and how many weights does one input have there?"
    expect(False, f"{got:g} extra parameters: not yet. Hint: {hint}")


@exercise(kind="predict", wrong=[lambda: 0.0, lambda: 2.0, lambda: 16.0, lambda: 8.0])
def check_collapse_cost(predicted_min_reconstruction):
    """With G_AB sending all of A to one point, G_BA returns one point c for every x_A; the best c is the ring's mean
    (0, 0), and the A -> B -> A term E||c - x_A||^2 is then R^2 + 2 sigma^2 = 4.005 (ring of radius 2, sigma 0.05)."""
    from ..gan import ring_centers

    got = answer_number(predicted_min_reconstruction, "the smallest reconstruction term")
    centers = ring_centers(8, 2.0).double()
    truth = float(((centers - centers.mean(0)) ** 2).sum(1).mean()) + 2 * 0.05 ** 2   # E||x - mean||^2
    if abs(got - truth) <= 0.1:
        return
    if abs(got) < 0.1:
        hint = ("G_BA gets the same input for every x_A, so it gives back one and the same point for all of them: can "
                "one point be close to all 8 modes?")
    elif abs(got - 2.0) < 0.1:
        hint = "the term is a SQUARED distance"
    elif got > truth:
        hint = ("the best single point need not lie on the ring: which point is, on average, nearest (in squared "
                "distance) to all of the ring?")
    else:
        hint = "which single point minimises the mean squared distance to the points of the ring, and how far is it?"
    expect(False, f"{got:g} is not the smallest A -> B -> A term: {hint}")


# ----------------------------------------------------------------------------------------------
# write
# ----------------------------------------------------------------------------------------------


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
