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


def _markov_step(T):
    """A decoder without state: next-token logits depend on the previous token only (log transition matrix)."""
    def step(x, rows, h):
        return torch.log(T[x[:, 0]]), torch.zeros(1, len(x), 1)
    return step


def test_beam_search_finds_the_most_likely_sequence_that_greedy_misses():
    # tokens: 0 bos, 1 eos, 2 "a", 3 "b". Greedy takes "a" (0.6) then pays 0.6*0.5*... ; "b" (0.4) ends at once (0.9).
    T = torch.tensor([[0.0, 0.0, 0.6, 0.4],
                      [0.0, 1.0, 0.0, 0.0],
                      [0.0, 0.5, 0.25, 0.25],
                      [0.0, 0.9, 0.05, 0.05]]) + 1e-12
    greedy = vae.beam_search(_markov_step(T), 1, bos=0, eos=1, width=1, max_len=5)[0]
    beam = vae.beam_search(_markov_step(T), 1, bos=0, eos=1, width=3, max_len=5)[0]
    assert greedy[:2] == [2, 1]                   # "a" <eos>: 0.6 * 0.5 = 0.30
    assert beam[:2] == [3, 1]                     # "b" <eos>: 0.4 * 0.9 = 0.36, the most likely sequence

    def prob(seq):
        p, prev = 1.0, 0
        for t in seq:
            p, prev = p * T[prev, t].item(), t
            if t == 1:
                return p
        return p
    # brute force over every sequence of up to 4 tokens: nothing finished is more likely than the beam's answer
    import itertools
    best = max(prob(list(s) + [1]) for k in range(4) for s in itertools.product([2, 3], repeat=k) if k)
    assert np.isclose(prob(beam), best)


def test_beam_search_is_exact_when_the_beam_holds_every_prefix():
    """A stateful decoder whose next-token logits depend on the whole prefix (kept in its state) and on the row;
    with a beam wider than the number of prefixes, beam search must return the most likely sequence of each row
    (a state not reordered with its beams would score the wrong prefixes)."""
    import itertools

    W = torch.tensor([1.3, 2.1, 0.7, 1.9], dtype=torch.float64)
    U = torch.tensor([0.5, -1.1, 0.3, 0.8], dtype=torch.float64)

    def logits_of(code, row):                       # code: the prefix written in base 4
        out = 3 * torch.sin(code[:, None] * W + row[:, None].double() * U)
        out[:, 0] = -1e9                            # never <bos> again
        return out

    def step(x, rows, h):
        code = x[:, 0].double() if h is None else h[0, :, 0] * 4 + x[:, 0]
        return logits_of(code, rows), code.reshape(1, -1, 1)

    def log_prob(seq, row):
        code, total = torch.zeros(1, dtype=torch.float64), 0.0
        for t in seq:
            total += torch.log_softmax(logits_of(code, torch.tensor([row])), -1)[0, t].item()
            code = code * 4 + t
            if t == 1:
                break
        return total

    max_len, n = 5, 12
    out, scores = vae.beam_search(step, n, bos=0, eos=1, width=64, max_len=max_len, with_scores=True)
    for row in range(n):
        candidates = [list(s) + [1] for k in range(max_len) for s in itertools.product([2, 3], repeat=k)]
        candidates += [list(s) for s in itertools.product([2, 3], repeat=max_len)]   # unfinished at max_len
        best = max(candidates, key=lambda c: log_prob(c, row))
        got = out[row][:out[row].index(1) + 1] if 1 in out[row] else out[row]
        assert got == best, (row, got, best)
        assert np.isclose(scores[row], log_prob(got, row))   # its score is the log-probability of what it wrote
    n = 300                                     # many rows: somewhere a second beam overtakes the first one
    narrow, narrow_scores = vae.beam_search(step, n, bos=0, eos=1, width=2, max_len=8, with_scores=True)
    for row in range(n):                        # a narrow beam may miss the best, but scores what it wrote exactly
        got = narrow[row][:narrow[row].index(1) + 1] if 1 in narrow[row] else narrow[row]
        assert np.isclose(narrow_scores[row], log_prob(got, row))
    with pytest.raises(SettingError):
        vae.beam_search(step, 2, bos=0, eos=1, width=0)


def test_knn_accuracy_takes_tensors_straight_from_an_encoder():
    """Codes that still carry gradients (an encoder's output) need no .detach().numpy() first."""
    y = (torch.arange(40) // 2) % 2
    Z = (torch.stack([y * 4.0, torch.zeros(40)], 1) + 0.1 * torch.randn(40, 2)).requires_grad_()
    assert vae.knn_accuracy(Z[::2], y[::2], Z[1::2], y[1::2], k=3) == 1.0
    P, share = vae.pca_2d(torch.randn(30, 4, requires_grad=True))
    assert P.shape == (30, 2) and 0 < share <= 1


def test_notebook_07_plan_lists_its_sections_core_first_within_an_hour():
    """07's plan cell (tagged `plan`, right after the title) has one row per `## ` heading, in order: the core
    sections, Summary, then the going-further ones and References; the core path's class time is at most 60 min and
    the bold total is the sum of its rows."""
    import json
    import re
    from pathlib import Path

    cells = json.loads((Path(__file__).resolve().parent.parent / "notebooks" / "07_vae.ipynb").read_text())["cells"]
    text = ["".join(c["source"]) for c in cells]
    plan = [i for i, c in enumerate(cells) if "plan" in c.get("metadata", {}).get("tags", [])]
    assert len(plan) == 1 and text[plan[0] - 1].startswith("# 07"), "one plan cell, right after the title"
    rows = [[x.strip() for x in line.strip("|").split("|")] for line in text[plan[0]].splitlines()
            if line.startswith("| ") and not line.startswith("| section")]
    headings = [line[3:].strip() for t, c in zip(text, cells) if c["cell_type"] == "markdown"
                for line in t.splitlines() if line.startswith("## ")]
    sections = [r for r in rows if not r[0].startswith("**")]
    assert [r[0] for r in sections] == ["Set-up"] + headings
    paths = [r[1] for r in sections]
    assert paths == sorted(paths, key=lambda p: p != "core"), "no core section after a going-further one"
    assert all(r[1] == "going further" for r in sections if r[0].startswith(("Going further", "References")))
    core = sum(int(r[2].split()[0]) for r in sections if r[1] == "core")
    total = next(r for r in rows if r[0] == "**core path**")
    assert core <= 60 and total[2] == f"**{core} min**"
    assert not re.search(r"\d\s*(s|min|minutes|hours?)\b", text[plan[0] - 1]), "no time in the title cell"
