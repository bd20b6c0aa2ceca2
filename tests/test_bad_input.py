"""Wrong input to the numeric helpers (issue 21, item 3; issue 23, items 4 and 6): every row is a call a student
might make, the error it must raise, and a fragment its message must contain. Each message must also be one
readable sentence that names what was expected, raised by the course's own code (not a deep torch/numpy error)."""
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch

from utils import SettingError, crystal, gan, images, mnist, vae
from utils.playground_engine import MAX_POINTS, Engine, make_data

UTILS = Path(mnist.__file__).resolve().parent
EXPECTED_WORDS = ("must", "needs", "expected", "choose", "use ")


def _digits(n=8):
    return torch.randn(n, 1, 28, 28), torch.randint(0, 10, (n,))


def _fit(X=None, y=None, **kw):
    X0, y0 = _digits()
    return mnist.fit(mnist.build_mlp(8), X0 if X is None else X, y0 if y is None else y, **{"num_epochs": 1, **kw})


def _codes(n=30, nan=False):
    Z = np.random.default_rng(0).normal(size=(n, 2))
    if nan:
        Z[3, 1] = np.nan
    return Z, np.arange(n) % 3


def _tensor(nan=False):
    t = np.zeros((4, crystal.N_MAX, 4), np.float32)
    t[0, :3, :3], t[0, :3, 3] = 4 * np.eye(3), 1
    t[2, 0, 3] = 1                                      # one Pd atom at the origin
    if nan:
        t[1, 5, 0] = np.nan                             # even in a padding row
    return t


def _image(nan=False, value=0.5):
    x = np.full((12, 12), value, np.float32)
    if nan:
        x[4, 4] = np.nan
    return x


ROWS = [
    # --- utils.mnist ------------------------------------------------------------------------------
    ("fit: float labels", lambda: _fit(y=torch.randint(0, 10, (8,)).float()), "whole-number digit labels"),
    ("fit: labels and images of different lengths", lambda: _fit(y=torch.randint(0, 10, (5,))), "one label per image"),
    ("fit: labels above 9", lambda: _fit(y=torch.arange(8) + 5), "0 to 9"),
    ("fit: lr=True", lambda: _fit(lr=True), "learning rate"),
    ("fit: lr=0", lambda: _fit(lr=0), "greater than 0"),
    ("fit: negative lr", lambda: _fit(lr=-0.01), "greater than 0"),
    ("fit: absurd lr", lambda: _fit(lr=1e9), "at most 1"),
    ("fit: lr=NaN", lambda: _fit(lr=float("nan")), "learning rate"),
    ("fit: num_epochs=0", lambda: _fit(num_epochs=0), "num_epochs"),
    ("fit: fractional batch_size", lambda: _fit(batch_size=2.5), "whole number"),
    ("fit: images with NaN", lambda: _fit(X=torch.full((8, 1, 28, 28), float("nan"))), "NaN"),
    ("fit: RGB images", lambda: _fit(X=torch.randn(8, 3, 28, 28)), "(N, 1, 28, 28)"),
    ("fit: X_test without y_test", lambda: _fit(X_test=torch.randn(4, 1, 28, 28)), "give both"),
    ("fit: not a network", lambda: mnist.fit("cnn", *_digits()), "nn.Module"),
    ("predict: raw uint8 pixels", lambda: mnist.predict(mnist.build_mlp(8), torch.zeros(4, 28, 28, dtype=torch.uint8)),
     "float pixels"),
    ("accuracy: labels of another length", lambda: mnist.accuracy(mnist.build_mlp(8), torch.randn(4, 784),
                                                                   np.zeros(3, int)), "one label per image"),
    # --- utils.vae --------------------------------------------------------------------------------
    ("knn_accuracy: k=0", lambda: vae.knn_accuracy(*_codes(), *_codes(), k=0), "between 1 and 30"),
    ("knn_accuracy: k larger than the training set", lambda: vae.knn_accuracy(*_codes(), *_codes(), k=31),
     "between 1 and 30"),
    ("knn_accuracy: NaN codes", lambda: vae.knn_accuracy(*_codes(nan=True), *_codes()), "NaN"),
    ("knn_accuracy: one label too few", lambda: vae.knn_accuracy(_codes()[0], np.zeros(29), *_codes()),
     "one label per code"),
    ("latent_walk: span=1 reaches infinity", lambda: vae.latent_walk(5, span=1), "less than 1"),
    ("digit_canvas: 5 images for a 2 x 2 canvas", lambda: vae.digit_canvas(np.zeros((5, 784)), 2), "n * n = 4"),
    ("pca_2d: identical codes", lambda: vae.pca_2d(np.ones((50, 4))), "identical"),
    ("batches: batch_size=0", lambda: vae.batches(10, 0, np.random.default_rng(0)), "batch_size"),
    # --- utils.gan --------------------------------------------------------------------------------
    ("frechet_distance: one sample", lambda: gan.frechet_distance(np.ones((1, 3)), np.ones((5, 3))), "at least 2 rows"),
    ("frechet_distance: NaN features", lambda: gan.frechet_distance(np.full((5, 3), np.nan), np.ones((5, 3))), "NaN"),
    ("frechet_distance: widths differ", lambda: gan.frechet_distance(np.ones((5, 3)), np.ones((5, 4))), "same width"),
    ("mode_coverage: NaN generated points", lambda: gan.mode_coverage(torch.full((10, 2), float("nan")),
                                                                      gan.ring_centers()), "diverged"),
    ("mosaic: images that are not square", lambda: gan.mosaic(np.zeros((4, 28 * 27))), "square"),
    ("ring_centers: k=0", lambda: gan.ring_centers(0), "k must be a whole number"),
    # --- utils.images -----------------------------------------------------------------------------
    ("parse_kernel: '1e400'", lambda: images.parse_kernel("1e400"), "too large"),
    ("parse_kernel: 1e400 among nine numbers", lambda: images.parse_kernel("1e400 0 0; 0 1 0; 0 0 0"), "too large"),
    ("parse_kernel: 2 x 2 array", lambda: images.parse_kernel(np.ones((2, 2))), "3 x 3"),
    ("explore: NaN pixel", lambda: images.explore(_image(nan=True)), "NaN"),
    ("explore: image of words", lambda: images.explore([["a"] * 5] * 5), "array of numbers"),
    ("explore: stride 0", lambda: images.explore(_image(), stride=0), "stride"),
    ("explore: kernel='sobel', not a preset", lambda: images.explore(_image(), kernel="sobel"),
     "'sobel' is not a preset kernel: choose one of 'identity', 'edge detection 1'"),
    ("explore: a preset's name misspelt", lambda: images.explore(_image(), kernel="Sharpen"), "did you mean 'sharpen'"),
    ("explore: float32 overflow", lambda: images.explore(_image(value=3e38), "1e6 1e6 1e6; 0 0 0; 0 0 0"),
     "feature map"),
    ("micrograph: size just over the limit", lambda: images.micrograph(size=images.MAX_SIZE + 1), "size"),
    ("micrograph: one grain per pixel", lambda: images.micrograph(size=32, n_grains=32 * 32 // 16 + 1), "n_grains"),
    ("micrograph: boundary_width=0", lambda: images.micrograph(size=32, n_grains=4, boundary_width=0),
     "boundary_width"),
    # --- utils.crystal ----------------------------------------------------------------------------
    ("stack: empty list", lambda: crystal.stack([]), "non-empty list"),
    ("from_tensor: NaN", lambda: crystal.from_tensor(_tensor(nan=True)), "NaN"),
    ("from_tensor: wrong shape", lambda: crystal.from_tensor(np.zeros((3, 18, 4))), "(4, n_max, 4)"),
    ("unstack: one tensor, not a batch", lambda: crystal.unstack(_tensor()), "from_tensor"),
    ("to_tensor: a tensor instead of a structure", lambda: crystal.to_tensor(_tensor()), "ase.Atoms"),
    ("first_neighbours: cutoff=0", lambda: crystal.first_neighbours(crystal.from_tensor(_tensor()), cutoff=0),
     "cutoff"),
    # --- the playground engine --------------------------------------------------------------------
    ("Engine: lr=1e9", lambda: Engine(lr=1e9), "up to 10"),
    ("Engine: lr=0", lambda: Engine(lr=0), "learning rate"),
    ("Engine: reg_rate=100", lambda: Engine(regularization="L2", reg_rate=100), "between 0 and 10"),
    ("Engine: fractional neuron count", lambda: Engine(hidden=[2.5]), "whole neuron counts"),
    ("Engine: batch_size=2.5", lambda: Engine(batch_size=2.5), "whole number"),
    ("Engine: n_points just over the limit", lambda: Engine(n_points=MAX_POINTS + 1), "n_points"),
    ("Engine.train: negative epochs", lambda: Engine().train(-1), "epochs"),
    ("Engine.predict: points with 3 coordinates", lambda: Engine().predict(np.zeros((5, 3))), "(n, 2)"),
    ("Engine.accuracy: unknown part", lambda: Engine().accuracy("validation"), "'train' or 'test'"),
    ("Engine.from_state: empty dict", lambda: Engine.from_state({}), "state_dict"),
    ("make_data: noise 80", lambda: make_data("circle", noise=80), "noise"),
]


@pytest.mark.parametrize("call,fragment", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_wrong_input_gets_one_clear_sentence(call, fragment):
    with pytest.raises(SettingError) as info:
        call()
    msg = str(info.value)
    assert fragment in msg
    assert "\n" not in msg and 20 < len(msg) < 320, f"not one readable sentence: {msg!r}"
    assert any(w in msg for w in EXPECTED_WORDS), f"does not say what was expected: {msg!r}"
    where = Path(str(info.traceback[-1].path)).resolve()
    assert where.parent == UTILS, f"raised in {where}, not by the course's helpers"
    assert info.value.__cause__ is None and (info.value.__context__ is None or info.value.__suppress_context__), \
        "a library error shows through"


def test_there_are_enough_rows():
    assert len(ROWS) >= 25 and len({r[0] for r in ROWS}) == len(ROWS)


@pytest.mark.parametrize("kwargs", [dict(size=images.MAX_SIZE + 1),
                                    dict(size=images.MAX_SIZE, n_grains=images.MAX_SIZE ** 2 // 16 + 1),
                                    dict(size=32, n_grains=32 * 32 // 16 + 1)])
def test_micrograph_refuses_oversized_input_before_allocating(kwargs):
    """Issue 23, item 4: n_grains=10**9 once grew to 23.5 GB (not run here). Just over the limits, nothing is
    computed."""
    tracemalloc.start()
    try:
        with pytest.raises(SettingError, match="must be a whole number between"):
            images.micrograph(**kwargs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000
