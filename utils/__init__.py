"""The course's helper package: set-up, fast/full sizes, result recording and friendly checks.

Everything a student must learn lives in the notebooks; this package holds the plumbing that would
distract from it (seeds, devices, data files, plots, progress bars, exercise checks).
"""
from __future__ import annotations

import contextlib
import importlib
import json
import math
import os
import random
import sys
import time
from pathlib import Path

from .errors import CheckFailed, CourseError, DataError, SettingError

__all__ = [
    "setup", "device", "pick", "is_fast", "train_from_scratch", "record", "results", "check", "CheckFailed",
    "timer", "Stopwatch", "progress", "ROOT", "CourseError", "DataError", "SettingError",
]

ROOT = Path(__file__).resolve().parent.parent
_STATE = {"notebook": None, "seed": 0, "results": {}}


# ----------------------------------------------------------------------------------------------
# fast / full mode
# ----------------------------------------------------------------------------------------------
def is_fast() -> bool:
    """True when COURSE_FAST is set to 1/true/yes (the test suite sets it; students run full mode)."""
    return os.environ.get("COURSE_FAST", "").strip().lower() in {"1", "true", "yes", "on"}


def pick(full, fast):
    """Return ``full`` normally and ``fast`` when COURSE_FAST=1.

    Every size that shrinks in fast mode (epochs, subset sizes, sample counts) goes through this one
    function, so the switch is visible in the notebook: ``num_epochs = utils.pick(full=20, fast=1)``.
    """
    return fast if is_fast() else full


def train_from_scratch() -> bool:
    """True when COURSE_TRAIN_FROM_SCRATCH is set to 1/true/yes: notebooks 06-08 then train their long models
    in full instead of loading the course's checkpoints (``checkpoints/``) for their application sections. Each of
    these notebooks reads it once, into ``TRAIN_FROM_SCRATCH`` in its set-up cell, where a student can also set it
    by hand."""
    return os.environ.get("COURSE_TRAIN_FROM_SCRATCH", "").strip().lower() in {"1", "true", "yes", "on"}


# ----------------------------------------------------------------------------------------------
# set-up: seeds, device, plot style
# ----------------------------------------------------------------------------------------------
def device(verbose: bool = False):
    """The best available torch device: CUDA, then Apple MPS, then CPU."""
    import torch

    if torch.cuda.is_available():
        dev = torch.device("cuda")
        name = torch.cuda.get_device_name(0)
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        dev, name = torch.device("mps"), "Apple GPU (MPS)"
    else:
        dev, name = torch.device("cpu"), f"CPU ({os.cpu_count()} cores)"
    if verbose:
        print(f"device: {dev} - {name}")
    return dev


def seed_everything(seed: int = 0) -> None:
    """Seed Python, numpy and torch so that the same mode on the same machine gives the same figures."""
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:  # pragma: no cover - torch is a course requirement
        pass


def setup(notebook: str, seed: int = 0, quiet: bool = False):
    """Prepare a notebook: seeds, device, plot style; print the device and the mode.

    ``notebook`` is the notebook's name without extension (for example ``"01_perceptron"``); it names the
    file that :func:`record` writes. Returns the torch device to use.
    """
    _STATE.update(notebook=notebook, seed=seed, results={}, t0=time.perf_counter())
    stale = _results_file(notebook)
    if stale is not None and stale.exists():
        stale.unlink()  # this run's figures only: nothing recorded by an earlier run may survive
    seed_everything(seed)
    from . import plots
    from .exercises import watch_cells

    plots.use_course_style()
    watch_cells()   # from now on, the exercise checks can tell an answer cell that stopped on an error
    dev = device()
    if not quiet:
        import platform

        import numpy as np
        import torch

        mode = "FAST (COURSE_FAST=1: small sizes for tests)" if is_fast() else "FULL (what students run)"
        print(f"notebook: {notebook} | mode: {mode}")
        print(f"python {platform.python_version()} | numpy {np.__version__} | torch {torch.__version__} "
              f"| device: {dev}" + ("" if dev.type != "cpu" else " (no GPU found: everything runs on the CPU)"))
    return dev


# ----------------------------------------------------------------------------------------------
# recording headline figures
# ----------------------------------------------------------------------------------------------
def _results_file(notebook: str):
    out = os.environ.get("COURSE_RESULTS")
    return Path(out) / f"{notebook}.json" if out else None


def _to_builtin(name: str, value):
    """One plain JSON-ready scalar (a 0-d tensor or numpy number becomes a Python number), or a SettingError."""
    import numpy as np

    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    shape = getattr(value, "shape", None)
    what = f"{type(value).__name__}" + (f" of shape {tuple(shape)}" if shape is not None else "")
    raise SettingError(f"record({name!r}, ...) takes one number (or a short text), not a {what}; record a summary "
                       f"such as .mean() or one value per name.")


def _json_safe(value):
    """NaN and infinities are not JSON: they are written as null (and were already shown as nan/inf)."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def record(name: str, value, anchor=None, source: str | None = None, unit: str | None = None):
    """Record a headline figure of this notebook (for example ``record("test_accuracy", 0.991)``).

    ``anchor`` is a number to compare with (a paper's figure, a target) and ``source`` says where it comes
    from; the benchmark table shows value / anchor. When the environment variable COURSE_RESULTS names a
    folder, the records go to ``$COURSE_RESULTS/<notebook>.json`` (started afresh by :func:`setup`, so no
    figure of an earlier run survives); otherwise they are only printed. A NaN or infinite value is printed
    as such and written as ``null`` (strict JSON).
    """
    nb = _STATE["notebook"] or "unnamed"
    value = _to_builtin(name, value)
    entry = {"value": value}
    if anchor is not None:
        entry["anchor"] = _to_builtin(name, anchor)
    if source:
        entry["source"] = source
    if unit:
        entry["unit"] = unit
    _STATE["results"][name] = entry
    shown = f"{value:.4g}" if isinstance(value, float) else f"{value}"
    extra = f"  (anchor {entry['anchor']}{' - ' + source if source else ''})" if anchor is not None else ""
    print(f"[record] {name} = {shown}{' ' + unit if unit else ''}{extra}")
    path = _results_file(nb)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        stored = json.loads(path.read_text()) if path.exists() else {}
        stored.update({"notebook": nb, "fast": is_fast()})
        stored.setdefault("figures", {})[name] = {k: _json_safe(v) for k, v in entry.items()}
        path.write_text(json.dumps(stored, indent=2, allow_nan=False))


def results() -> dict:
    """The figures recorded so far in this session."""
    return dict(_STATE["results"])


# ----------------------------------------------------------------------------------------------
# checks that read well in a notebook
# ----------------------------------------------------------------------------------------------
def check(condition, success: str, failure: str | None = None) -> None:
    """Verify ``condition``; print ``success`` with a tick, or raise :class:`CheckFailed` with ``failure``.

    Used in the notebooks' *Checks* cells, so that a model that did not learn stops the test suite.
    """
    if bool(condition):
        print(f"\u2714 {success}")
        return None
    raise CheckFailed(failure or f"not true: {success}")


# ----------------------------------------------------------------------------------------------
# timing and progress bars
# ----------------------------------------------------------------------------------------------
class Stopwatch:
    """What :func:`timer` gives: ``seconds``, the wall time of the ``with`` block (0.0 until the block ends)."""

    seconds = 0.0


@contextlib.contextmanager
def timer():
    """Measure the wall time of a ``with`` block: ``with utils.timer() as t: ...``, then ``t.seconds``."""
    watch, start = Stopwatch(), time.perf_counter()
    try:
        yield watch
    finally:
        watch.seconds = time.perf_counter() - start


def progress(iterable=None, **kwargs):
    """A progress bar (``tqdm.auto``: a widget in Jupyter, text elsewhere); quiet under the test suite."""
    from tqdm.auto import tqdm

    kwargs.setdefault("disable", is_fast() and not sys.stdout.isatty() and os.environ.get("COURSE_PROGRESS") != "1")
    kwargs.setdefault("leave", False)
    return tqdm(iterable, **kwargs)


# ----------------------------------------------------------------------------------------------
# submodules, imported on first use: ``import utils`` stays light (no torch, RDKit or matplotlib until needed)
# ----------------------------------------------------------------------------------------------
SUBMODULES = ("backprop", "checkpoints", "chem", "colab", "crystal", "data", "errors", "exercises", "gan", "images",
              "lessons", "mnist", "moses", "playground_engine", "plots", "vae", "widgets")


def __getattr__(name):
    """``utils.data``, ``utils.plots``, ... import their module the first time they are used."""
    if name in SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(SUBMODULES))
