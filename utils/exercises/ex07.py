"""Exercise checks of notebook 07 (variational autoencoders)."""
import numpy as np

from . import exercise, expect


def _kl_ref(mu, logvar):
    return -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(-1)


@exercise(wrong=[lambda: (lambda mu, logvar: mu),                                           # no noise at all
                 lambda: (lambda mu, logvar: mu + __import__("torch").randn_like(mu) * logvar),  # logvar as std
                 lambda: (lambda mu, logvar: mu + __import__("torch").randn_like(mu) * logvar.exp()),  # variance
                 lambda: (lambda mu, logvar: __import__("torch").normal(mu, (0.5 * logvar).exp()).detach())])
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
                 lambda: (lambda mu, logvar: -(1 + logvar - mu ** 2 - logvar.exp()).sum(-1))])        # no 1/2
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
                 lambda: (lambda z1, z2, n: np.stack([z1 * (1 - t) + z2 * (1 - t) for t in np.linspace(0, 1, n)]))])
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
