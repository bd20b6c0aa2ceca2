"""Exercise checks: a student calls a check on an answer; it accepts a right one and explains a wrong one.

Each notebook's checks live in ``utils/exercises/exNN.py``, written with the :func:`exercise` decorator,
which also registers at least one typical *wrong* answer. The test suite proves both directions: every
notebook runs each check on its hidden solution (must pass), and ``tests/test_exercises.py`` runs each
check on its registered wrong answers (must fail).

Two kinds of exercise (``kind=``): ``"write"`` (write a function or choose values) and ``"predict"``
(predict a figure before the next cell measures it: a parameter count, an output size, the learning rate at which
training diverges...).

A missing or wrong answer never stops the notebook (``Run all`` goes through the student edition with every answer
left empty): the check prints what is wrong and, when later cells use the answer, returns the reference
implementation of ``reference=`` so that the lesson goes on. In a notebook::

    from utils.exercises.ex06 import check_shift
    shift = check_shift(shift)     # your shift if it is right, otherwise the reference one (and it says so)

Strict mode (``COURSE_STRICT=1``, set by ``make test`` for the instructor notebooks and by the unit tests): a wrong
answer raises :class:`NotYet` instead, so that a broken worked solution fails the test suite.
"""
from __future__ import annotations

import contextlib
import functools
import math
import os
import types
from dataclasses import dataclass, field
from typing import Callable

from ..errors import CourseError


class NotYet(CourseError, AssertionError):
    """The answer is not right yet; the message says what was expected."""

    label = "NOT YET"


@dataclass
class Exercise:
    notebook: str
    name: str
    check: Callable
    wrong: list = field(default_factory=list)
    kind: str = "write"
    reference: object = None


KINDS = ("write", "predict")


def strict() -> bool:
    """True when a wrong answer must raise (``COURSE_STRICT=1``: the test suite); False for students."""
    return os.environ.get("COURSE_STRICT", "").strip().lower() in ("1", "true", "yes")


_EMPTY_BODY = {"RESUME", "NOP", "LOAD_CONST", "RETURN_VALUE", "RETURN_CONST", "CACHE"}


def is_unanswered(answer) -> bool:
    """None, ``...``, or a function whose body is still only ``...`` or ``pass`` (after its docstring, if any): the
    student edition's stubs."""
    import dis

    if answer is None or answer is Ellipsis:
        return True
    if not isinstance(answer, types.FunctionType):
        return False
    return all(i.opname in _EMPTY_BODY and (not i.opname.endswith("CONST") or i.argval is None)
               for i in dis.get_instructions(answer.__code__))


# ----------------------------------------------------------------------------------------------
# an answer cell that did not run: IPython keeps the stub defined, the check must not call it "no answer"
# ----------------------------------------------------------------------------------------------
_RUNS = "_course_cell_runs"   # the shell's attribute: [(source, ran without an error), ...] for its cells, newest last
_RUNS_KEPT = 500


def _shell():
    try:
        from IPython import get_ipython
    except ImportError:           # plain Python: no cells, no history
        return None
    return get_ipython()


def watch_cells(shell=None) -> None:
    """Record, for every cell the IPython shell runs from now on, its source and whether it ran without an error
    (a ``post_run_cell`` hook; :func:`utils.setup` and importing :mod:`utils.exercises` call it). Outside IPython, does nothing."""
    shell = shell or _shell()
    if shell is None or hasattr(shell, _RUNS):
        return
    runs = []
    setattr(shell, _RUNS, runs)

    def _record(result):
        info = getattr(result, "info", None)
        runs.append((getattr(info, "raw_cell", None) or "", bool(getattr(result, "success", True))))
        del runs[:-_RUNS_KEPT]

    shell.events.register("post_run_cell", _record)


def _defines(source: str, name: str) -> bool:
    """Whether a cell's source (perhaps not valid Python) assigns ``name`` or defines a function of that name at the
    start of a line."""
    import re

    other = r"[A-Za-z_]\w*"
    pattern = (rf"^[ \t]*(?:def[ \t]+{re.escape(name)}\b|(?:{other}[ \t]*,[ \t]*)*{re.escape(name)}[ \t]*"
               rf"(?:,[ \t]*{other}[ \t]*)*,?[ \t]*(?::[^=\n]*)?=(?!=))")
    return re.search(pattern, source, re.MULTILINE) is not None


def _names_given_to(check_name: str, source: str) -> list[str]:
    """The variable names a cell passes to ``check_name(...)`` (``check_x(a, b)`` gives ``["a", "b"]``)."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [a.id for node in ast.walk(tree) if isinstance(node, ast.Call) and getattr(node.func, "id", None) ==
            check_name for a in list(node.args) + [k.value for k in node.keywords] if isinstance(a, ast.Name)]


def failed_answer_cell(check_name: str) -> list[str] | None:
    """In IPython, when the answer cell that last tried to define the names given to ``check_name`` stopped with an
    error (a syntax error, an exception), so that the stub it replaces is still their value: those names. None when
    that cell ran, when no such cell is known, or outside IPython."""
    shell = _shell()
    if shell is None:
        return None
    try:
        current = shell.history_manager.input_hist_raw[-1]
    except (AttributeError, IndexError):
        return None
    names = _names_given_to(check_name, current)
    if not names:
        return None
    runs = getattr(shell, _RUNS, None)
    if runs is None:              # the hook came too late: only the cell run just before this one is known
        last = getattr(shell, "last_execution_result", None)
        info = getattr(last, "info", None)
        runs = [] if info is None else [(info.raw_cell or "", bool(last.success))]
    for source, ran in reversed(runs):
        if f"{check_name}(" in source:        # a check cell may rebind the name (x = check_x(x)): not an answer
            continue
        defined = [n for n in names if _defines(source, n)]
        if defined:
            return None if ran else defined
    return None


watch_cells()


#: every registered check, keyed by "exNN.check_name"
REGISTRY: dict[str, Exercise] = {}


def exercise(wrong: list, kind: str = "write", reference=None):
    """Register a check function together with typical wrong answers (each a zero-argument factory
    returning the arguments of a wrong answer, as a tuple, or a single value).

    ``kind``: ``"write"`` or ``"predict"`` (see the module's docstring). ``reference``: the reference answer
    (a function or a value) that the check returns in place of a missing or wrong one, for answers that later cells
    use; without it, the check returns None.

    The check raises :class:`NotYet` (via :func:`expect`) on a wrong answer in strict mode; otherwise it prints
    what is wrong and goes on. A right answer prints a success line.
    """
    if not wrong:
        raise ValueError("an exercise must register at least one wrong answer")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")

    def deco(fn):
        notebook = fn.__module__.rsplit(".", 1)[-1]
        what = fn.__name__.removeprefix("check_").replace("_", " ")

        def _is_reference(a):
            """The reference function itself, which this check returned in place of a missing answer (the
            notebook rebinds the name to it): not the student's answer."""
            return isinstance(a, types.FunctionType) and a is reference

        def verdict(args, kwargs, given):
            """None when the answer is right, else the sentence saying what is not right yet."""
            empty = not given or any(is_unanswered(a) or _is_reference(a) for a in given)
            failed = failed_answer_cell(fn.__name__)
            if failed:    # the value left in place is the stub or an earlier answer: judge neither
                names = " and ".join(failed)
                left = (f"{'was' if len(failed) == 1 else 'were'} not defined" if empty else
                        f"{'is' if len(failed) == 1 else 'are'} still what an earlier run left, not what the cell "
                        "says now")
                return (f"your answer cell did not run: it stopped with the error shown under it, so your {names} "
                        f"{left}. Fix that error, run the answer cell again, then run this check again.")
            if empty:
                return (f"no answer given yet to {fn.__name__}: write your answer in the cell above "
                        f"(replace the ...), run that cell, then run this check again.")
            try:
                fn(*args, **kwargs)
            except NotYet as exc:
                return str(exc)
            except CourseError:
                raise
            except Exception as exc:  # the student's code crashed inside the check: say so plainly
                return f"your answer could not be used ({type(exc).__name__}: {exc})"
            return None

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            given = list(args) + list(kwargs.values())
            problem = verdict(args, kwargs, given)
            if problem is None:
                print(f"\u2714 Correct! ({what})")
                if reference is None:
                    return None
                return given[0] if len(given) == 1 else tuple(given)
            if strict():
                raise NotYet(problem)
            print(f"\u2718 NOT YET ({what}): {problem}")
            if reference is not None:
                name = getattr(reference, "__name__", "answer")
                print(f"  The notebook goes on with the reference {name} from utils.exercises.{notebook}, so the "
                      f"cells below still run. Come back to this exercise when you are ready.")
            return reference

        REGISTRY[f"{notebook}.{fn.__name__}"] = Exercise(notebook, fn.__name__, wrapper, list(wrong), kind,
                                                         reference)
        return wrapper

    return deco


def expect(condition, message: str) -> None:
    """Inside a check: raise :class:`NotYet` with a helpful ``message`` unless ``condition`` holds."""
    if not bool(condition):
        raise NotYet(message)


# ----------------------------------------------------------------------------------------------
# reading a prediction (shared by every notebook's predict-then-verify checks)
# ----------------------------------------------------------------------------------------------
def answer_number(x, what: str, example: str = "0.5") -> float:
    """A prediction that must be one finite number (int, float, or a numpy / torch scalar), as a float; anything
    else: a one-line :class:`NotYet` saying what to write."""
    import numbers

    if hasattr(x, "item") and not isinstance(x, numbers.Real):          # a numpy or torch scalar
        try:
            x = x.item()
        except (ValueError, RuntimeError, TypeError):
            pass
    ok = isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(float(x))
    expect(ok, f"{what} must be one number (for example {example}), got {x!r:.40}")
    return float(x)


def described(value) -> str:
    """What an answer is, in words: 'an array of shape (3,)', 'a list of 2 items', 'the string 'sobel'', 'a float'."""
    if isinstance(value, str):
        return f"the string {value!r:.40}"
    if hasattr(value, "shape"):
        return f"an array of shape {tuple(value.shape)}"
    if isinstance(value, (tuple, list, dict, set)):
        return f"a {type(value).__name__} of {len(value)} item{'s' * (len(value) != 1)}"
    name = type(value).__name__
    return "None" if value is None else f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def shown(x) -> str:
    """A number as a message shows it: a whole number below 10**12 with thousands separators (407,018), anything
    else in three significant digits (1e+30, not 31 digits)."""
    try:
        v = float(x)
    except (TypeError, ValueError, OverflowError):
        return f"{x!r:.40}"
    if math.isfinite(v) and v.is_integer() and abs(v) < 1e12:
        return f"{int(v):,}"
    return f"{v:.3g}"


def answer_whole(x, what: str) -> int:
    """A prediction that must be a whole number (a count, a number of pixels), as an int, or a one-line NotYet."""
    import numbers

    ok = (isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(float(x))
          and float(x).is_integer())
    expect(ok, f"{what} must be a whole number, got {x!r:.40}")
    return int(x)


def choice(x, options, what: str = "your answer") -> str:
    """A prediction that must be one letter among ``options`` (a string of letters, or a dict keyed by them), given
    as a string; returns the letter as ``options`` writes it (``"(b)"``, ``" B"`` and ``"b"`` are the same)."""
    letters = [str(o) for o in options]
    shown = ", ".join(repr(o) for o in letters)
    expect(isinstance(x, str), f"{what}: write one of the letters {shown} as a string (for example "
                               f"\"{letters[0]}\"), got a {type(x).__name__}")
    got = x.strip().strip("().:").strip().lower()
    match = [o for o in letters if o.lower() == got]
    expect(match, f"{what}: write one of the letters {shown}, got {x!r:.40}")
    return match[0]


@contextlib.contextmanager
def one_thread():
    """Tiny experiments inside a check run on one torch thread: faster than two on a busy 2-core machine."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)
