"""utils.gan: toy samplers, mode counting, the feature Fréchet distance and the image mosaic."""
import numpy as np
import pytest
import torch

from utils import gan


def test_ring_samples_lie_on_their_modes():
    torch.manual_seed(0)
    x, mode = gan.ring_of_gaussians(4000, k=8, radius=2.0, std=0.05, return_mode=True)
    assert x.shape == (4000, 2)
    r = x.norm(dim=1)
    assert abs(r.mean().item() - 2.0) < 0.01 and r.std().item() < 0.1
    idx, dist = gan.nearest_mode(x, gan.ring_centers(8, 2.0))
    assert (idx == mode.numpy()).all() and np.median(dist) < 0.1
    assert np.bincount(mode.numpy(), minlength=8).min() > 400          # equal weights


def test_mode_coverage_counts_modes_and_quality():
    torch.manual_seed(0)
    centers = gan.ring_centers(8, 2.0)
    full = gan.mode_coverage(gan.sample_mixture(2000, centers, 0.05), centers, 0.05)
    assert full["covered"] == 8 and full["good"] > 0.95 and abs(full["share"].sum() - full["good"]) < 1e-9
    collapsed = gan.mode_coverage(centers[3] + 0.05 * torch.randn(2000, 2), centers, 0.05)
    assert collapsed["covered"] == 1
    noise = gan.mode_coverage(torch.randn(2000, 2) * 3, centers, 0.05)
    assert noise["covered"] == 0 and noise["good"] < 0.05
    line = gan.line_centers(8, 3.5)
    assert line.shape == (8, 2) and line[0, 0] == -3.5 and line[-1, 0] == 3.5 and (line[:, 1] == 0).all()


def test_frechet_distance_matches_closed_forms():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(20000, 3))
    assert gan.frechet_distance(a, a) == pytest.approx(0, abs=1e-6)
    b = rng.normal(size=(20000, 3)) * 2 + np.array([1.0, 0, 0])     # d^2 = 1 + 3 (2 - 1)^2 = 4
    assert gan.frechet_distance(a, b) == pytest.approx(4.0, rel=0.05)
    # 1-D: (mu1 - mu2)^2 + (s1 - s2)^2
    x, y = rng.normal(0, 1, (50000, 1)), rng.normal(3, 0.5, (50000, 1))
    assert gan.frechet_distance(x, y) == pytest.approx(9 + 0.25, rel=0.03)


def test_frechet_distance_survives_dead_features_and_checks_shapes():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(500, 6)), rng.normal(size=(500, 6)) + 0.5
    a[:, :2] = 0.0                                                    # dead ReLU units: singular covariance
    b[:, :2] = 0.0
    d = gan.frechet_distance(a, b)
    assert np.isfinite(d) and d == pytest.approx(4 * 0.25, abs=0.3)
    with pytest.raises(ValueError):
        gan.frechet_distance(a, b[:, :5])


def test_mosaic_tiles_images():
    imgs = torch.arange(10 * 784, dtype=torch.float32).reshape(10, 784)
    m = gan.mosaic(imgs, nrow=4, pad=1)
    assert m.shape == (3 * 29 + 1, 4 * 29 + 1)
    assert m[1, 1] == 0 and np.isnan(m[0, 0]) and np.isnan(m[-2, -2])   # last row has empty slots


def test_plot_decision_surface_runs_with_packing():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    class Packed(torch.nn.Module):
        def __init__(self, pack):
            super().__init__(); self.pack, self.lin = pack, torch.nn.Linear(2 * pack, 1)

        def forward(self, x):
            return self.lin(x.reshape(len(x) // self.pack, -1))

    fig, ax = plt.subplots()
    gan.plot_decision_surface(ax, Packed(4), torch.randn(50, 2), torch.randn(50, 2), pack=4, steps=20)
    plt.close(fig)


def test_helpers_take_generator_outputs_and_refuse_nan():
    """A generator's output (with gradients) is accepted as it is; NaN (a diverged generator) is refused."""
    from utils import SettingError

    centers = gan.ring_centers(8, 2.0)
    fake = (centers[torch.arange(400) % 8] + 0.01 * torch.randn(400, 2)).requires_grad_()
    assert gan.mode_coverage(fake, centers)["covered"] == 8
    assert gan.mosaic(torch.rand(3, 28, 28, requires_grad=True), nrow=3).shape == (30, 88)
    with pytest.raises(SettingError, match="diverged"):
        gan.nearest_mode(torch.full((3, 2), float("nan")), centers)
