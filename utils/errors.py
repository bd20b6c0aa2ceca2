"""Errors the course raises on purpose, shown in Jupyter as a clear message rather than a deep traceback."""
from __future__ import annotations


class CourseError(Exception):
    """Base class: a mistake the course anticipated (a missing file, a bad setting, a wrong answer)."""

    label = "ERROR"

    def _render_traceback_(self):  # IPython hook: one readable message instead of the stack
        return [f"\x1b[31m{self.label}\x1b[0m ({type(self).__name__}): {self}"]


class CheckFailed(CourseError, AssertionError):
    """A notebook check failed: the model did not learn, or a computation is wrong."""

    label = "CHECK FAILED"


class DataError(CourseError, OSError):
    """A data file is missing, unreachable or corrupted."""

    label = "DATA"


class SettingError(CourseError, ValueError):
    """A setting a student chose cannot work (a learning rate of 0, a kernel of the wrong shape...)."""

    label = "SETTING"
