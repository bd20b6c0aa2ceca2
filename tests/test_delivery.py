"""Student edition and slides: built from every notebook, solutions removed, the rest untouched."""
import json
from pathlib import Path

import nbformat
import pytest

from utils import delivery

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = delivery.notebooks()


def _tags(c):
    return c.get("metadata", {}).get("tags", [])


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    delivery.build_student(out)
    return out


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_student_edition_has_no_solution(nb, student_dir):
    full = nbformat.read(nb, as_version=4)
    student = nbformat.read(student_dir / nb.name, as_version=4)
    solutions = [c.source for c in full.cells if "solution" in _tags(c)]
    assert solutions, f"{nb.name} has no worked solution to remove"
    text = "\n".join(c.source for c in student.cells)
    assert not any("solution" in _tags(c) for c in student.cells)
    for sol in solutions:  # no line of substance of any solution survives anywhere
        for line in sol.splitlines():
            line = line.strip()
            if len(line) > 12 and not line.startswith("#") and line not in "\n".join(
                    c.source for c in full.cells if "solution" not in _tags(c)):
                assert line not in text, f"{nb.name}: solution line survives: {line!r}"
    # every other cell (prose, code, exercise checks) is kept unchanged and in order
    kept = [c.source for c in full.cells if "solution" not in _tags(c)]
    assert [c.source for c in student.cells if "exercise-answer" not in _tags(c)] == kept
    assert len(student.cells) == len(full.cells)


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_student_edition_runs_what_the_test_suite_runs_up_to_the_exercises(nb, student_dir):
    """Up to the first exercise the student notebook is cell-for-cell the notebook `make test` executes."""
    full = nbformat.read(nb, as_version=4).cells
    student = nbformat.read(student_dir / nb.name, as_version=4).cells
    first = next(i for i, c in enumerate(student) if "exercise-answer" in _tags(c))
    assert [c.source for c in student[:first]] == [c.source for c in full[:first]]


def test_student_edition_of_01_executes_up_to_the_exercises(student_dir, monkeypatch):
    """And one of them really executed (the cheapest), up to its first exercise."""
    from nbclient import NotebookClient

    nb = nbformat.read(student_dir / "01_perceptron.ipynb", as_version=4)
    first = next(i for i, c in enumerate(nb.cells) if "exercise-answer" in _tags(c))
    nb.cells = nb.cells[:first]
    monkeypatch.setenv("COURSE_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors


def test_slides_build_one_deck_per_notebook_and_skip_setup(tmp_path):
    written = delivery.build_slides(tmp_path)
    assert [p.name for p in written] == [nb.stem + ".slides.html" for nb in NOTEBOOKS]
    deck = written[0].read_text()
    assert "reveal" in deck.lower()
    assert "utils.setup(" not in deck, "the set-up cell (slide_type skip) must not be on a slide"


def test_site_index_shows_each_notebooks_title_and_whole_first_sentence():
    import nbformat

    from utils import delivery

    for path in delivery.notebooks():
        title, intro = delivery._title_and_intro(nbformat.read(path, as_version=4))
        assert title[:2].isdigit(), (path.name, title)
        assert len(intro) > 40 and intro.endswith((".", "?", "!")), (path.name, intro)
        assert "\n" not in intro
    assert delivery._intro_html("some $10^{60}$ *drug-like* ones & more") == "some 10<sup>60</sup> drug-like ones &amp; more"


def test_executed_notebooks_keep_their_matplotlib_figures(tmp_path, monkeypatch):
    """The site and the benchmark's kept notebooks must show the figures: a non-interactive backend (Agg) in the
    kernel would silently drop every matplotlib plot from the outputs."""
    from nbformat.v4 import new_code_cell, new_notebook

    monkeypatch.setenv("MPLBACKEND", "Agg")          # what `make test` sets: execute() must not inherit it
    p = tmp_path / "plot.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0]);")]), p)
    nb = delivery.execute(p, fast=True)
    assert any("image/png" in o.get("data", {}) for o in nb.cells[0].outputs), nb.cells[0].outputs
