"""Unit tests of utils.images: synthetic micrograph, kernel presets and parsing, the explorer's callback and widget."""
import numpy as np
import pytest

import utils
from utils import images
from utils.widgets.kernel_explorer import KernelExplorer
from utils.images import KERNELS


def test_kernels_are_the_slides_table():
    assert list(KERNELS) == ["identity", "edge detection 1", "edge detection 2", "edge detection 3", "sharpen",
                             "box blur (normalised)", "Gaussian blur (approximation)"]
    assert KERNELS["edge detection 3"][1, 1] == 8 and KERNELS["edge detection 2"][1, 1] == -4
    assert np.isclose(KERNELS["box blur (normalised)"].sum(), 1) and np.isclose(KERNELS["Gaussian blur (approximation)"][1, 1], 0.25)
    for name in ("edge detection 1", "edge detection 2", "edge detection 3"):
        assert KERNELS[name].sum() == 0
    for name in ("identity", "sharpen"):
        assert KERNELS[name].sum() == 1


def test_micrograph_is_repeatable_and_knows_its_grains():
    a, b = images.micrograph(seed=3), images.micrograph(seed=3)
    assert np.array_equal(a.image, b.image) and a.n_grains == 60
    assert a.image.shape == (256, 256) and a.image.dtype == np.float32
    assert 0 <= a.image.min() and a.image.max() <= 1
    assert a.grains.max() == a.n_grains - 1
    # boundaries are darker than grain interiors (etched grooves), on average
    assert a.image[a.boundary].mean() < a.image[~a.boundary].mean() - 0.1
    assert not np.array_equal(a.image, images.micrograph(seed=4).image)
    with pytest.raises(utils.SettingError):
        images.micrograph(n_grains=1)


@pytest.mark.parametrize("text,expected", [
    ("0 -1 0\n-1 5 -1\n0 -1 0", KERNELS["sharpen"]),
    ("0 -1 0; -1 5 -1; 0 -1 0", KERNELS["sharpen"]),
    ("1/9 1/9 1/9 1/9 1/9 1/9 1/9 1/9 1/9", KERNELS["box blur (normalised)"]),
    ("1,2,1\n0,0,0\n-1,-2,-1", np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], float)),
    ("sharpen", KERNELS["sharpen"]),
])
def test_parse_kernel_accepts(text, expected):
    assert np.allclose(images.parse_kernel(text), expected)


@pytest.mark.parametrize("bad,words", [("", "empty"), ("1 2 x 4 5 6 7 8 9", "not a number"),
                                       ("1 2 3 4", "9 numbers"), ("1 2 3\n4 5\n6 7 8 9", "3 numbers"),
                                       ("1/0 0 0 0 0 0 0 0 0", "division"), (np.ones((2, 3)), "3 x 3"),
                                       (np.full((3, 3), np.nan), "NaN"), (None, "kernel")])
def test_parse_kernel_rejects_with_a_clear_message(bad, words):
    with pytest.raises(utils.SettingError, match=words):
        images.parse_kernel(bad)


def test_explore_matches_torch_and_the_size_formula():
    import torch
    import torch.nn.functional as F

    x = np.random.default_rng(0).random((20, 17)).astype(np.float32)
    for p, s in [(0, 1), (1, 2), (2, 3)]:
        r = images.explore(x, "edge detection 1", padding=p, stride=s)
        want = F.conv2d(torch.from_numpy(x)[None, None], torch.tensor(KERNELS["edge detection 1"], dtype=torch.float32)
                        [None, None], padding=p, stride=s)[0, 0].numpy()
        assert np.allclose(r["conv"], want, atol=1e-6)
        assert r["conv"].shape == ((20 + 2 * p - 3) // s + 1, (17 + 2 * p - 3) // s + 1)
        assert r["output"] is r["conv"] or np.array_equal(r["output"], r["conv"])
    r = images.explore(x, "identity", pooling="max 2x2")
    assert r["output"].shape == (9, 7) and np.isclose(r["output"][0, 0], x[1:3, 1:3].max())
    r = images.explore(x, "identity", pooling="average 2x2")
    assert np.isclose(r["output"][0, 0], x[1:3, 1:3].mean())
    assert "9×7" in r["summary"]


@pytest.mark.parametrize("kwargs,words", [({"padding": -1}, "padding"), ({"stride": 0}, "stride"),
                                          ({"stride": 1.5}, "whole number"), ({"pooling": "min"}, "pooling"),
                                          ({"kernel": "1 2"}, "9 numbers")])
def test_explore_rejects_bad_settings(kwargs, words):
    with pytest.raises(utils.SettingError, match=words):
        images.explore(np.zeros((10, 10)), **{"kernel": "identity", **kwargs})
    with pytest.raises(utils.SettingError, match="2-D"):
        images.explore(np.zeros((3, 10, 10)))


def test_render_explore_gives_a_png_that_changes_with_the_kernel():
    x = images.micrograph(size=64, n_grains=10).image
    a = images.render_explore(images.explore(x, "identity"))
    b = images.render_explore(images.explore(x, "edge detection 3"))
    assert a[:8] == b"\x89PNG\r\n\x1a\n" and a != b


def test_kernel_explorer_widget_controls_and_bad_input():
    pytest.importorskip("ipywidgets")
    x = images.micrograph(size=48, n_grains=8).image
    ex = KernelExplorer({"micro": x, "noise": np.random.default_rng(1).random((30, 30))})
    for name in ("image", "preset", "kernel", "padding", "stride", "pooling"):
        assert f"ke-{name}" in ex.controls[name]._dom_classes and ex.controls[name].description
    assert "ke-picture" in ex.picture._dom_classes and "ke-message" in ex.message._dom_classes
    first = ex.picture.value
    ex.controls["preset"].value = "box blur (normalised)"            # as a user would
    assert np.allclose(ex.result["kernel"], KERNELS["box blur (normalised)"]) and ex.picture.value != first
    ex.controls["kernel"].value = "1 2 oops"                            # bad text: message, last picture kept
    assert "not a number" in ex.message.value and np.allclose(ex.result["kernel"], KERNELS["box blur (normalised)"])
    ex.controls["kernel"].value = "0 0 0\n0 2 0\n0 0 0"
    assert ex.controls["preset"].value == "custom" and np.isclose(ex.result["kernel"][1, 1], 2)
    assert ex.set(stride=2, pooling="max 2x2", image="noise")
    assert ex.result["output"].shape == (7, 7) and ex.controls["stride"].value == 2
    assert not ex.set(image="missing") and "missing" in ex.message.value


def test_micrograph_limits_are_inclusive_and_stated():
    """Issue 23, item 4: the bounds refuse typos such as n_grains=10**9 (tested just over the limits in
    test_bad_input.py) but keep every size the notebook uses, down to the smallest allowed."""
    m = images.micrograph(size=16, n_grains=16, lloyd=0)
    assert m.image.shape == (16, 16) and 2 <= m.n_grains <= 16
    with pytest.raises(utils.SettingError, match=r"n_grains must be a whole number between 2 and 16.*size=16"):
        images.micrograph(size=16, n_grains=17)
    with pytest.raises(utils.SettingError, match="size must be a whole number between 16 and 1024"):
        images.micrograph(size=32.5)


def test_parse_kernel_bounds_its_numbers():
    K = images.parse_kernel("1e6 0 0; 0 -1e6 0; 0 1e6/4 1.5/2")                   # at the limits; fractions
    assert K[0, 0] == 1e6 and K[2, 1] == 250000 and K[2, 2] == 0.75
    for bad in ("1e400", "1e7 0 0 0 0 0 0 0 0", "-1e400/3 0 0 0 0 0 0 0 0"):
        with pytest.raises(utils.SettingError, match="too large"):
            images.parse_kernel(bad)
    with pytest.raises(utils.SettingError, match="between"):
        images.parse_kernel(np.full((3, 3), 1e9))
