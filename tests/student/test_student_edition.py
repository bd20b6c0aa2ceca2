"""The student edition as a student who skips every exercise meets it (issue 22, item 1).

Each notebook of ``notebooks/student/`` is executed top to bottom in fast mode with every answer cell left as
committed (empty). It must run to its end without an error: later cells go on with the reference answers. And every
exercise check must have run and said "no answer given yet", so that this test cannot pass with checks that
were skipped or that accepted an empty answer. Run by ``make test-student``, not by ``make test``: it takes about as
long as the instructor notebooks' run.

With ``COURSE_STUDENT_EXECUTED=DIR`` (``make test-student EXECUTED=DIR``) the notebooks are not run again: the same
checks read the executed copies in DIR, which ``make site FAST=1`` leaves in
``build/book-fast/_build/jupyter_execute/student/`` (the site shows the student edition, executed in fast mode with
every answer empty; CI builds it, then checks it here).
"""
import os
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
STUDENT = ROOT / "notebooks" / "student"
NOTEBOOKS = sorted(STUDENT.glob("[0-9][0-9]_*.ipynb"))


def _tags(c):
    return c.get("metadata", {}).get("tags", [])


def _text(cell):
    return "".join(o.get("text", "") if isinstance(o.get("text", ""), str) else "".join(o["text"])
                   for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def test_the_student_edition_is_there():
    assert len(NOTEBOOKS) == 9, f"expected the 9 notebooks in {STUDENT}, found {len(NOTEBOOKS)}: run make student"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_student_notebook_runs_to_the_end_with_every_answer_empty(path, monkeypatch):
    from nbclient import NotebookClient

    executed = os.environ.get("COURSE_STUDENT_EXECUTED")
    if executed:
        return check_executed(path, Path(executed) / path.name)
    monkeypatch.setenv("COURSE_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.delenv("COURSE_STRICT", raising=False)
    nb = nbformat.read(path, as_version=4)
    answers = [i for i, c in enumerate(nb.cells) if "exercise-answer" in _tags(c)]
    assert answers, f"{path.name} has no empty answer cell"
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(STUDENT)}}).execute()
    check_run(path.name, nb, answers)
    print(f"{path.name}: {len(answers)} exercises left empty, ran to the end in {time.perf_counter() - t0:.0f} s")


def check_executed(path, ran):
    """The site's executed copy of ``path``: the same notebook (code cells identical), then the same checks."""
    assert ran.exists(), f"{ran} is missing: build the site first (make site FAST=1)"
    nb = nbformat.read(ran, as_version=4)
    source = nbformat.read(path, as_version=4)
    code = [c.source for c in source.cells if c.cell_type == "code"]
    assert [c.source for c in nb.cells if c.cell_type == "code"] == code, f"{ran} is not {path.name} as committed"
    answers = [i for i, c in enumerate(nb.cells) if "exercise-answer" in _tags(c)]
    assert answers, f"{path.name} has no empty answer cell"
    unrun = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()
             and c.get("execution_count") is None]
    assert not unrun, f"{ran.name}: cells {unrun[:5]} never ran: the notebook did not reach its end"
    check_run(path.name, nb, answers)


def check_run(name, nb, answers):
    errors = [(i, o.get("ename"), o.get("evalue")) for i, c in enumerate(nb.cells)
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{name}: cells failed with every answer left empty: {errors[:3]}"
    for i in answers:   # the cell after each answer cell calls its check: it must have said so, and gone on
        check = next(c for c in nb.cells[i + 1:] if c.cell_type == "code")
        said = _text(check)
        assert "no answer given yet" in said, f"{name}: the check after cell {i} said {said[:200]!r}"
