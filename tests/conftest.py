"""Shared by every unit test: exercise checks run in strict mode (a wrong answer raises NotYet instead of printing
and going on with the reference answer, which is what a student gets)."""
import pytest


@pytest.fixture(autouse=True)
def _strict_exercise_checks(monkeypatch):
    monkeypatch.setenv("COURSE_STRICT", "1")
