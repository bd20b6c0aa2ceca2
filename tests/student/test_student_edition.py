"""The student edition as a student who skips every exercise meets it (issue 22, item 1).

Each notebook of ``notebooks/student/`` is executed top to bottom in fast mode with every answer cell left as
committed (empty). It must run to its end without an error: later cells go on with the reference answers. And every
exercise check must have run and said "no answer given yet", so that this test cannot pass with checks that
were skipped or that accepted an empty answer. Run by ``make test-student`` (and CI), not by ``make test``: it takes
about as long as the instructor notebooks' run.
"""
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

    monkeypatch.setenv("COURSE_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.delenv("COURSE_STRICT", raising=False)
    nb = nbformat.read(path, as_version=4)
    answers = [i for i, c in enumerate(nb.cells) if "exercise-answer" in _tags(c)]
    assert answers, f"{path.name} has no empty answer cell"
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(STUDENT)}}).execute()
    errors = [(i, o.get("ename"), o.get("evalue")) for i, c in enumerate(nb.cells)
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{path.name}: cells failed with every answer left empty: {errors[:3]}"
    for i in answers:   # the cell after each answer cell calls its check: it must have said so, and gone on
        check = next(c for c in nb.cells[i + 1:] if c.cell_type == "code")
        said = _text(check)
        assert "no answer given yet" in said, f"{path.name}: the check after cell {i} said {said[:200]!r}"
    print(f"{path.name}: {len(answers)} exercises left empty, ran to the end in {time.perf_counter() - t0:.0f} s")
