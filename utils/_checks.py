"""Small argument checks shared by the helper modules (mnist, vae, gan, images, crystal, chem, playground).

Each returns the cleaned value or raises :class:`utils.SettingError` with one sentence: what was given, what was
expected and, where it helps, what to do. Private: a notebook never calls these.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .errors import SettingError


def _span(lo, hi, lo_open=False, hi_open=False) -> str:
    """'between 1 and 10', 'greater than 0 and at most 1', 'at least 0'..."""
    low = None if lo is None else (f"greater than {lo}" if lo_open else f"at least {lo}")
    high = None if hi is None else (f"less than {hi}" if hi_open else f"at most {hi}")
    if low and high and not (lo_open or hi_open):
        return f"between {lo} and {hi}"
    return " and ".join(p for p in (low, high) if p)


def _fail(name, expected, value, hint):
    raise SettingError(f"{name} must be {expected}, got {value!r}" + (f": {hint}" if hint else ""))


def number(name, value, lo=None, hi=None, *, lo_open=False, hi_open=False, hint="") -> float:
    """A finite real number (Python or numpy, not a bool) in [lo, hi]; ``lo_open`` / ``hi_open`` exclude the ends."""
    expected = f"a number {_span(lo, hi, lo_open, hi_open)}".rstrip()
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
        _fail(name, expected, value, hint)
    if (lo is not None and (value <= lo if lo_open else value < lo)) or \
            (hi is not None and (value >= hi if hi_open else value > hi)):
        _fail(name, expected, value, hint)
    return float(value)


def whole(name, value, lo=None, hi=None, *, hint="") -> int:
    """A whole number (int, numpy integer or a float such as 3.0, not a bool) in [lo, hi]."""
    expected = f"a whole number {_span(lo, hi)}".rstrip()
    if isinstance(value, bool) or not (isinstance(value, numbers.Integral)
                                       or isinstance(value, float) and value.is_integer()):
        _fail(name, expected, value, hint)
    value = int(value)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        _fail(name, expected, value, hint)
    return value


def finite(name, values, hint=""):
    """``values`` (numpy array or torch tensor) unchanged, after checking it holds no NaN or infinity."""
    ok = values.isfinite().all() if hasattr(values, "isfinite") else np.isfinite(values).all()
    if not bool(ok):
        raise SettingError(f"{name} contains NaN or infinity, but finite numbers are expected"
                           + (f": {hint}" if hint else ""))
    return values


def array(name, value, ndim=None, *, dtype=None, what="", hint="") -> np.ndarray:
    """``value`` (array, list or torch tensor) as a finite numpy array of floats, with ``ndim`` dimensions when given
    (``what`` describes them, e.g. '(N, d): one row per sample'; ``hint`` is added to the message about NaN). A float
    array keeps its precision unless ``dtype`` is given; anything else becomes float64."""
    if hasattr(value, "detach"):
        value = value.detach().cpu()
    try:
        arr = np.asarray(value)
        if dtype is not None or not np.issubdtype(arr.dtype, np.floating):
            arr = arr.astype(dtype or np.float64)
    except (TypeError, ValueError):
        raise SettingError(f"{name} must be an array of numbers{' ' + what if what else ''}, got "
                           f"{type(value).__name__}") from None
    if ndim is not None and arr.ndim != ndim:
        raise SettingError(f"{name} must be a {ndim}-D array{' ' + what if what else ''}, got shape {arr.shape}")
    return finite(name, arr, hint)
