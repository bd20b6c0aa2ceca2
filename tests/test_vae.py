"""Unit tests of utils.vae (notebook 07's plumbing) and of the exercise checks' acceptance of right answers."""
import numpy as np
import pytest
import torch

from utils import SettingError, vae
from utils.exercises import NotYet
from utils.exercises.ex07 import check_interpolate, check_kl, check_reparameterize


def test_batches_cover_every_index_once():
    parts = vae.batches(10, 4, np.random.default_rng(0))
    assert [len(p) for p in parts] == [4, 4, 2]
    assert sorted(np.concatenate(parts).tolist()) == list(range(10))
    with pytest.raises(SettingError):
        vae.batches(10, 0, np.random.default_rng(0))


def test_latent_walk_is_a_symmetric_grid_drawn_from_the_top_left():
    zs = vae.latent_walk(n=5, span=0.9)
    assert zs.shape == (25, 2)
    assert zs[0, 0] < 0 < zs[0, 1]          # top-left: z1 smallest, z2 largest
    assert zs[-1, 0] > 0 > zs[-1, 1]
    assert np.allclose(zs[:, 0].reshape(5, 5).mean(0), -zs[:, 0].reshape(5, 5).mean(0)[::-1])
    assert np.isclose(abs(zs).max(), 1.6448536, atol=1e-5)   # the 95 % quantile of N(0, 1)


def test_digit_canvas_places_images_row_by_row():
    imgs = np.stack([np.full((28, 28), i, dtype=float) for i in range(4)])
    canvas = vae.digit_canvas(imgs, 2)
    assert canvas.shape == (56, 56)
    assert canvas[0, 0] == 0 and canvas[0, 30] == 1 and canvas[30, 0] == 2 and canvas[30, 30] == 3


def test_pca_2d_finds_the_main_axes():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(500, 5)) * np.array([10.0, 5.0, 0.1, 0.1, 0.1])
    P, share = vae.pca_2d(Z)
    assert P.shape == (500, 2)
    assert share > 0.99
    assert abs(np.corrcoef(P[:, 0], Z[:, 0])[0, 1]) > 0.99


def test_knn_accuracy_on_separated_and_on_random_codes():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 100)
    Z = rng.normal(size=(300, 2)) * 0.1 + np.stack([y * 5.0, np.zeros(300)], 1)
    assert vae.knn_accuracy(Z[::2], y[::2], Z[1::2], y[1::2]) == 1.0
    Zr = rng.normal(size=(300, 2))
    assert vae.knn_accuracy(Zr[::2], y[::2], Zr[1::2], y[1::2]) < 0.6


def test_latent_map_rejects_codes_that_are_not_2d():
    with pytest.raises(SettingError):
        vae.latent_map(np.zeros((10, 3)), np.zeros(10))


def test_exercise_checks_accept_right_answers():
    check_reparameterize(lambda mu, logvar: mu + torch.exp(0.5 * logvar) * torch.randn_like(mu))
    check_kl(lambda mu, logvar: -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(-1))
    check_interpolate(lambda z1, z2, n: np.linspace(z1, z2, n))


def test_kl_check_matches_a_monte_carlo_estimate():
    """The closed form used by the check is the KL divergence: compare with a sampled estimate."""
    mu, logvar = torch.tensor([0.7, -1.2]), torch.tensor([0.3, -0.8])
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros(2), torch.ones(2))
    z = q.sample((200_000,))
    mc = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean()
    closed = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum()
    assert abs(mc - closed) < 0.02


def test_interpolate_check_rejects_a_crash_clearly():
    with pytest.raises(NotYet):
        check_interpolate(lambda z1, z2, n: None)
