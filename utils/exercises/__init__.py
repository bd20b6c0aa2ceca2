"""Exercise checks: a student calls a check on an answer; it accepts a right one and explains a wrong one.

Each notebook's checks live in ``utils/exercises/exNN.py``, written with the :func:`exercise` decorator,
which also registers at least one typical *wrong* answer. The test suite proves both directions: every
notebook runs each check on its hidden solution (must pass), and ``tests/test_exercises.py`` runs each
check on its registered wrong answers (must fail).

In a notebook::

    from utils.exercises.ex01 import check_step_function
    check_step_function(my_step)      # prints "Correct!" or explains what is wrong
"""
from __future__ import annotations

import functools
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


#: every registered check, keyed by "exNN.check_name"
REGISTRY: dict[str, Exercise] = {}


def exercise(wrong: list):
    """Register a check function together with typical wrong answers (each a zero-argument factory
    returning the arguments of a wrong answer, as a tuple, or a single value).

    The check raises :class:`NotYet` (via :func:`expect`) on a wrong answer and prints a success line.
    """
    if not wrong:
        raise ValueError("an exercise must register at least one wrong answer")

    def deco(fn):
        notebook = fn.__module__.rsplit(".", 1)[-1]

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            given = list(args) + list(kwargs.values())
            if not given or any(a is None or a is Ellipsis for a in given):
                raise NotYet(f"no answer given yet to {fn.__name__}: write your answer in the cell above "
                             f"(replace the ... or None), run that cell, then run this check again.")
            try:
                fn(*args, **kwargs)
            except NotYet:
                raise
            except CourseError:
                raise
            except Exception as exc:  # the student's code crashed inside the check: say so plainly
                raise NotYet(f"your answer could not be used ({type(exc).__name__}: {exc})") from None
            print(f"\u2714 Correct! ({fn.__name__.removeprefix('check_').replace('_', ' ')})")

        REGISTRY[f"{notebook}.{fn.__name__}"] = Exercise(notebook, fn.__name__, wrapper, list(wrong))
        return wrapper

    return deco


def expect(condition, message: str) -> None:
    """Inside a check: raise :class:`NotYet` with a helpful ``message`` unless ``condition`` holds."""
    if not bool(condition):
        raise NotYet(message)
