"""The figures the notebooks' prose quotes agree with the recorded full-mode runs (benchmarks/results/*.json).

Each row of ``QUOTES`` pairs a recorded figure with the words around its mention in a notebook's markdown:
``(notebook, figure, scale, quote)``. ``quote`` is a piece of the prose (whitespace-insensitive) with ``{}`` where
the number stands; the test finds it, reads the number, and checks that it equals ``scale * value`` at the
precision the prose writes it (99.32 % → two decimals of 100 × test_accuracy). So it fails when someone edits the
prose (the quote is not found, or says another number) or the results (the number no longer agrees) without the
other. ``figure`` names an entry of ``figures`` in ``benchmarks/results/<notebook>.full.json``, or a key of the file
itself (``wall_s``, ``peak_mem_mb``, ``core_s``: the core path's full-mode time); ``name.anchor`` is the anchor
recorded with a figure; ``section:<title>`` is the measured time (s) of the section under the heading ``## <title>``;
``file:figure`` reads another results file. ``scale`` is a number or a function of the value; a 4-tuple row adds
``sig``, the significant digits when the prose rounds more coarsely than its last digit ("about 730 times").

Times too: every time the prose quotes ("227 s", "about 4 minutes", "a 15-minute run") must be tied by a row of
``QUOTES`` to its measurement, or, when it is no measurement at all (a budget, a setting, a time from a paper), be
listed in ``NOT_MEASURED`` with the reason; so a time a student reads cannot drift from benchmarks/results. The plan
cell is not prose here: ``make times`` writes its times (tests/test_plan.py checks them).
"""
import json
import math
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PERCENT, MINUTES, GB = 100, 1 / 60, 1e-3

QUOTES = [
    # 03: the MLP and the playground (its seed-dependent figures are printed by its cells, not quoted)
    ("03_mlp_playground", "finch_mlp_test_accuracy", PERCENT, "a torch MLP names about {} % of unseen birds", 1),
    # 04: kernels and grain counting
    ("04_convolution_kernels", "dense_params_digit", 1, "needs {} parameters on the first"),
    ("04_convolution_kernels", "dense_params_photo", 1e-9, "and {}·10⁹ on the second"),
    ("04_convolution_kernels", "max_abs_difference", 1e7, "agree to {}·10⁻⁷"),
    ("04_convolution_kernels", "speedup_shifts_vs_loops", 1, "numpy version was {} times", 2),
    ("04_convolution_kernels", "speedup_torch_vs_loops", 1, "`F.conv2d` {} times faster", 2),
    ("04_convolution_kernels", "grain_count_estimate", 1, "Grain count: {} grains found"),
    ("04_convolution_kernels", "grain_count_true", 1, "grains found for {} ("),
    ("04_convolution_kernels", "grain_count_error", PERCENT, "({} % error)"),
    ("04_convolution_kernels", "grain_count_mean_abs_error_other_seeds", PERCENT, "the mean error was {} %"),
    # 05: the CNN
    ("05_cnn_mnist", "test_accuracy", PERCENT, "test accuracy {} % after"),
    ("05_cnn_mnist", "train_seconds", 1, "after {} s of CNN training"),
    ("05_cnn_mnist", "mlp_test_accuracy", PERCENT, "(the MLP: {} %)"),
    ("05_cnn_mnist", "seconds_to_99", 1, "99 % first reached after {} s"),
    ("05_cnn_mnist", "test_accuracy", lambda v: (1 - v) * 10_000, "fewer test errors ({} against"),
    ("05_cnn_mnist", "mlp_test_accuracy", lambda v: (1 - v) * 10_000, "against {} of the 10 000 test digits"),
    # 06: the SMILES LSTM (the summary's figures: the checkpoint's 10 000 samples, drawn with a fixed seed)
    ("06_smiles_rnn", "validity", 1, "on 10 000 samples: validity {},"),
    ("06_smiles_rnn", "unique", 1, "uniqueness {}, novelty"),
    ("06_smiles_rnn", "novelty", 1, "novelty {}, IntDiv"),
    ("06_smiles_rnn", "IntDiv", 1, "IntDiv {} (MOSES CharRNN"),
    ("06_smiles_rnn", "validity.anchor", 1, "(MOSES CharRNN: {} /"),
    ("06_smiles_rnn", "unique.anchor", 1, "(MOSES CharRNN: 0.975 / {} /"),
    ("06_smiles_rnn", "novelty.anchor", 1, "/ {} / 0.856)"),
    ("06_smiles_rnn", "IntDiv.anchor", 1, "/ {}); test loss"),
    ("06_smiles_rnn", "test_loss", 1, "); test loss {} nats/token"),
    # 07: the VAEs
    # (its run-dependent figures are printed by its cells, not quoted; the checkpoint card's figures it quotes are
    # tied by tests/test_checkpoints.py; the goals it checks are in its code)
    ("07_vae", "validity.anchor", 1, "molecules on a GPU, reaches a validity of {}"),
    ("07_vae", "validity.anchor", 1, "the MOSES VAE reaches a validity of {} and"),
    ("07_vae", "novelty.anchor", 1, "and a novelty of {} on 30 000 samples"),
    ("07_vae", "reconstruction.anchor", 1, "both above the course's goals ({} and 0.90)"),
    # 08: the GANs (the summary's figures: the lesson's 2000 steps, the checkpoint; Going further 3's rejection sampling)
    ("08_gan", "lesson_share_confident", PERCENT, "(2000 steps): {}% of 10 000 digits"),
    ("08_gan", "lesson_min_class_share", PERCENT, "its rarest class {}% of them"),
    ("08_gan", "lesson_cnn_frechet", 1, "Fréchet distance {} on the CNN features"),
    ("08_gan", "share_confident_generator_alone", PERCENT, "60 000 steps): {}% confident"),
    ("08_gan", "min_class_share_generator_alone", PERCENT, "every class at {}% or more, Fréchet"),
    ("08_gan", "cnn_frechet_generated", 1, "Fréchet distance {} (real-vs-real"),
    ("08_gan", "cnn_frechet_floor_real", 1, "(real-vs-real floor {})"),
    ("08_gan", "share_confident_generator_alone.anchor", PERCENT, "goals for the checkpoint, {} % and"),
    ("08_gan", "min_class_share_generator_alone.anchor", PERCENT, "85 % and {} %, are met."),
    ("08_gan", "drs_acceptance", PERCENT, "in full mode:** {}% of the candidates kept"),
    ("08_gan", "share_confident_0.9", PERCENT, "**{}% confident"),
    ("08_gan", "min_class_share", PERCENT, "every class at {}% or more**"),
    ("08_gan", "share_confident_0.9.anchor", PERCENT, "rejection sampling, {} % and"),
    ("08_gan", "min_class_share.anchor", PERCENT, "80 % and {} %, are met)"),
    ("08_gan", "cnn_frechet_rejection_sampling", 1, "are met), Fréchet distance {}."),
    # 09: CrystalGAN (the summary's figures)
    ("09_crystal_gan", "constraint_share_step2_input", PERCENT, "started from were at {} %"),
    ("09_crystal_gan", "constraint_share_CrystalGAN", PERCENT, "**{} %** of CrystalGAN's structures satisfy"),
    ("09_crystal_gan", "constraint_share_cross_domain_GAN", PERCENT, "against **{} %** for the same cross-domain"),
    ("09_crystal_gan", "constraint_share_plain_GAN", PERCENT, "**{} %** for a plain GAN"),
    ("09_crystal_gan", "training_constraint_share", PERCENT, "the training cells themselves at {} %"),
    ("09_crystal_gan", "novel_share_CrystalGAN", PERCENT, "{} % of CrystalGAN's structures are not copies"),
    ("09_crystal_gan", "realistic_metal_share_CrystalGAN", PERCENT, "In full mode only **{} %** of CrystalGAN's"),
    ("09_crystal_gan", "realistic_metal_share_training", PERCENT, "({} % of the training cells with metal do)"),
    ("09_crystal_gan", "switendick_share_CrystalGAN", PERCENT, "**{} %** on H-H"),
    ("09_crystal_gan", "switendick_share_training", PERCENT, "({} % of the training cells); **"),
    ("09_crystal_gan", "realistic_share_CrystalGAN", PERCENT, "**{} %** pass both"),
    ("09_crystal_gan", "constraint_share_geometry_only_residual", PERCENT, "reaches CrystalGAN's window share ({} %)"),
    ("09_crystal_gan", "metal_h_gap_geometry_only_residual", 1, "(gap {} Å against"),
    ("09_crystal_gan", "metal_h_gap_CrystalGAN", 1, "Å against {} Å)"),
    ("09_crystal_gan", "constraint_share_geometry_only_noise", PERCENT, "noise, it reaches {} % with compositions"),
]

# Times in the prose that are no measurement: (notebook, quote with {} where the number stands, why not measured).
NOT_MEASURED = [
]

NUMBER = r"(-?\d{1,3}(?:[  ]\d{3})+|-?\d+(?:\.\d+)?)"   # 105 962 (thin or plain spaces), -153.3, 0.905
# A quoted time: a number, then a space or a hyphen, then a unit of time ("227 s", "6.6 min", "a 15-minute run").
TIME = re.compile(r"(?<![\w.,])" + NUMBER + r"(?:[   ]+|-)(?:s|secs?|seconds?|min|mins|minutes?|h|hours?|ms"
                  r"|milliseconds?)(?![\w-])")
MATH = re.compile(r"\$\$.*?\$\$|\$[^$]*\$")


def recorded(notebook, figure):
    """The recorded value: a figure, its anchor (``name.anchor``), a section's time (``section:<title>``), or a key
    of the results file."""
    path = RESULTS / f"{notebook}.full.json"
    if ":" in figure and not figure.startswith("section:"):
        name, figure = figure.split(":", 1)
        path = RESULTS / f"{name}.json"
    data = json.loads(path.read_text())
    if figure.startswith("section:"):
        title = figure[len("section:"):]
        times = {s["title"]: s["seconds"] for s in data.get("sections", [])}
        assert times.get(title) is not None, (f"{path.name} times no section {title!r} (it times "
                                              f"{list(times) or 'none'}): run benchmarks/run.py {notebook[:2]}")
        return times[title]
    if figure in data and figure != "figures":
        return data[figure]
    field = "value"
    if figure.endswith(".anchor"):
        figure, field = figure[: -len(".anchor")], "anchor"
    assert figure in data["figures"], f"{path.name} records no figure {figure!r}"
    return data["figures"][figure][field]


def prose(notebook):
    """All the markdown of a notebook but its plan cell (written by ``make times``), whitespace collapsed to single
    spaces."""
    cells = json.loads((ROOT / "notebooks" / f"{notebook}.ipynb").read_text())["cells"]
    return re.sub(r"\s+", " ", " ".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown"
                                        and "plan" not in c.get("metadata", {}).get("tags", [])))


def _number_spans(text, quote):
    """Where the number of each mention of ``quote`` stands in ``text``."""
    pattern = re.escape(re.sub(r"\s+", " ", quote)).replace(r"\{\}", NUMBER)
    return [m.span(1) for m in re.finditer(pattern, text)]


def untied_times(text, quotes):
    """The times quoted in ``text`` whose number is not the number of one of ``quotes`` (each with context)."""
    tied = {span for quote in quotes for span in _number_spans(text, quote)}
    math = [m.span() for m in MATH.finditer(text)]
    found = []
    for m in TIME.finditer(text):
        if m.span(1) in tied or any(a <= m.start() < b for a, b in math):
            continue
        found.append(f"'...{text[max(0, m.start() - 50): m.end() + 20]}...'")
    return found


def disagreements(text, quote, expected, sig=None):
    """Why ``text`` does not quote ``expected`` where ``quote`` says (an empty list when it does)."""
    pattern = re.escape(re.sub(r"\s+", " ", quote)).replace(r"\{\}", NUMBER)
    found = re.findall(pattern, text)
    if not found:
        return [f"the prose no longer says {quote!r}"]
    problems = []
    for written in found:
        number = float(re.sub(r"[  ]", "", written))
        if sig is None:
            decimals = len(written.split(".")[1]) if "." in written else 0
            tolerance = 0.5 * 10 ** -decimals
        else:
            tolerance = 0.5 * 10 ** (math.floor(math.log10(abs(expected))) - sig + 1)
        if abs(number - expected) > tolerance * (1 + 1e-9):
            problems.append(f"{quote.format(written)!r}, but the results give {expected:.6g}")
    return problems


def expected_value(row):
    notebook, figure, scale, quote, *sig = row
    value = recorded(notebook, figure)
    return scale(value) if callable(scale) else scale * value


@pytest.mark.parametrize("row", QUOTES, ids=lambda r: f"{r[0][:2]}-{r[1]}-{r[3][:24]}")
def test_prose_quotes_the_recorded_figure(row):
    notebook, figure, scale, quote, *sig = row
    problems = disagreements(prose(notebook), quote, expected_value(row), *sig)
    assert not problems, (f"{notebook}.ipynb, figure {figure}: " + "; ".join(problems)
                          + f". Update the prose (or this table) to the results in benchmarks/results/.")


@pytest.mark.parametrize("notebook", sorted(p.stem for p in (ROOT / "notebooks").glob("0*.ipynb")))
def test_every_time_the_prose_quotes_is_tied_to_its_measurement(notebook):
    quotes = [r[3] for r in QUOTES if r[0] == notebook] + [r[1] for r in NOT_MEASURED if r[0] == notebook]
    found = untied_times(prose(notebook), quotes)
    if found:
        pytest.fail(f"{notebook}.ipynb quotes times that nothing ties to benchmarks/results:\n  " + "\n  ".join(found)
                    + "\nFor each: add a row to QUOTES in tests/test_prose.py, (notebook, figure, scale, quote), "
                      "with the measurement it states: 'wall_s', 'core_s', a recorded time such as 'train_seconds', "
                      "or 'section:<heading>' for a section's time (scale MINUTES for minutes, a 5th element for "
                      "'about'); or, if it is no measurement (a budget, a setting, a paper's figure), a row of "
                      "NOT_MEASURED with the reason. Or remove the time from the prose.", pytrace=False)


def test_the_time_scan_finds_untied_times_and_only_those():
    text = ("Training took 227 s (about 4 minutes; a 15-minute budget), $2h$ apart, the 2s and 9s, in the 1990s, "
            "10 000 steps in 1.5 h, 100 ms per redraw, 3 seconds.")
    found = " | ".join(untied_times(text, []))
    for time in ("took 227 s", "about 4 minutes", "a 15-minute", "in 1.5 h", "100 ms per", "3 seconds"):
        assert time in found, (time, found)
    assert len(untied_times(text, [])) == 6                       # not $2h$, the 2s, the 1990s, 10 000 steps
    tied = untied_times(text, ["took {} s", "(about {} minutes", "a {}-minute budget", "in {} h", "{} ms per",
                               "{} seconds."])
    assert tied == []
    assert len(untied_times(text, ["took {} min"])) == 6          # a quote for another unit ties nothing


def test_a_section_time_is_read_from_the_results(tmp_path, monkeypatch):
    (tmp_path / "99_x.full.json").write_text(json.dumps({"figures": {}, "core_s": 95.1, "sections": [
        {"title": "Set-up", "path": "core", "seconds": 3.0},
        {"title": "Going further 1: beam search", "path": "going further", "seconds": 61.2}]}))
    monkeypatch.setattr(sys.modules[__name__], "RESULTS", tmp_path)
    assert recorded("99_x", "section:Going further 1: beam search") == 61.2
    assert recorded("99_x", "core_s") == 95.1
    with pytest.raises(AssertionError, match="times no section 'Summary'"):
        recorded("99_x", "section:Summary")


def test_mlp_and_cnn_parameter_counts_in_05():
    """The summary of 05 compares the two networks' sizes: counted here from utils.mnist (the same models)."""
    from utils import mnist

    text = prose("05_cnn_mnist")
    assert not disagreements(text, "parameters than our MLP ({} against", mnist.n_params(mnist.build_cnn()))
    assert not disagreements(text, "parameters than our MLP (105 962 against {})", mnist.n_params(mnist.build_mlp()))
    ratio = mnist.n_params(mnist.build_mlp()) / mnist.n_params(mnist.build_cnn())
    assert not disagreements(text, "shares small kernels across the image: {} times fewer", ratio)


def test_the_check_fails_when_either_side_changes():
    """The check is not vacuous: a changed number in the prose, a changed result, or a reworded quote all fail."""
    text, quote = "Measured: test accuracy 99.32 % after 44.4 s of training.", "test accuracy {} % after"
    assert not disagreements(text, quote, 99.32000041)
    assert disagreements(text.replace("99.32", "99.39"), quote, 99.32000041)      # the prose moved
    assert disagreements(text, quote, 99.39)                                         # the results moved
    assert disagreements(text.replace("test accuracy", "an accuracy of"), quote, 99.32)   # the quote is gone
    assert not disagreements("in 122 s", "in {} s", 122.4) and disagreements("in 122 s", "in {} s", 122.6)
    assert not disagreements("about 730 times", "about {} times", 726.6, 2)         # significant digits, when asked
    assert disagreements("about 700 times", "about {} times", 726.6, 2)
    assert not disagreements("(105 962 against", "({} against", 105_962)             # thousands separated by spaces


def test_every_quoted_notebook_and_results_file_exists():
    for notebook, figure, *_ in QUOTES:
        assert (ROOT / "notebooks" / f"{notebook}.ipynb").exists(), notebook
        recorded(notebook, figure)
