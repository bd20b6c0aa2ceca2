"""A student's work is never lost: the course's commands never overwrite a notebook holding work git does not have,
never carry outputs into what they write, and `make lab`'s workspace (my-work/) is filled once and never overwritten.

Each scenario is played in a throw-away git repository holding copies of two of the course's notebooks and their
student edition, with the delivery module pointed at it."""
import json
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from tools import delivery, workspace

ROOT = Path(__file__).resolve().parent.parent
NAMES = ["01_perceptron.ipynb", "03_mlp_playground.ipynb"]


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A git repository with notebooks/{01,03} and notebooks/student/{01,03} committed, as on main."""
    repo = tmp_path / "course"
    (repo / "notebooks" / "student").mkdir(parents=True)
    for name in NAMES:
        shutil.copyfile(ROOT / "notebooks" / name, repo / "notebooks" / name)
    monkeypatch.setattr(delivery, "ROOT", repo)
    monkeypatch.setattr(delivery, "NOTEBOOKS", repo / "notebooks")
    monkeypatch.setattr(delivery, "STUDENT", repo / "notebooks" / "student")
    delivery.build_student(repo / "notebooks" / "student")
    git(repo, "init", "-q")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "course")
    return repo


def autosave_answer(path: Path) -> str:
    """What JupyterLab's autosave leaves after a student answered the first exercise and ran the notebook."""
    nb = nbformat.read(path, as_version=4)
    answer = next(c for c in nb.cells if "exercise-answer" in c.metadata.get("tags", []))
    answer.source = "# my answer\n" + answer.source.replace("...", "0.25", 1)
    for i, c in enumerate(nb.cells):
        if c.cell_type == "code":
            c.execution_count = i
            c.outputs = [nbformat.v4.new_output("stream", name="stdout", text="✔ Correct!\n")]
    nbformat.write(nb, path)
    return path.read_text()


def present_with_rise(path: Path) -> None:
    """A presentation with RISE autosaves every cell's output into the instructor's notebook."""
    nb = nbformat.read(path, as_version=4)
    for i, c in enumerate(nb.cells):
        if c.cell_type == "code":
            c.execution_count = i + 1
            c.outputs = [nbformat.v4.new_output("stream", name="stdout", text="✔ Correct!\n")]
    nbformat.write(nb, path)


def has_outputs(path: Path) -> bool:
    return any(c.get("outputs") or c.get("execution_count")
               for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")


def test_make_student_refuses_to_overwrite_a_students_autosaved_answers(course):
    mine = course / "notebooks" / "student" / "03_mlp_playground.ipynb"
    saved = autosave_answer(mine)
    nb = course / "notebooks" / "03_mlp_playground.ipynb"             # the course changes: a rebuild is due
    nb.write_text(nb.read_text().replace("The multilayer perceptron", "The multi-layer perceptron", 1))
    with pytest.raises(delivery.WouldLoseWork) as refused:
        delivery.build_student(course / "notebooks" / "student")
    assert mine.read_text() == saved, "the student's answers were overwritten"
    message = str(refused.value)
    assert "notebooks/student/03_mlp_playground.ipynb" in message and "my-work/" in message and "FORCE=1" in message


def test_make_stamp_refuses_too_and_writes_nothing(course):
    mine = course / "notebooks" / "01_perceptron.ipynb"
    present_with_rise(mine)
    before = mine.read_text()
    src = nbformat.read(course / "notebooks" / "03_mlp_playground.ipynb", as_version=4)
    src.cells[0].source = "an old badge"                               # something for the stamp to change
    nbformat.write(src, course / "notebooks" / "03_mlp_playground.ipynb")
    with pytest.raises(delivery.WouldLoseWork, match="01_perceptron.ipynb"):
        delivery.stamp(force=False)
    assert mine.read_text() == before


def test_the_student_edition_built_from_a_presented_notebook_carries_no_output(course):
    """RISE left outputs (and "✔ Correct!" under every check) in notebooks/01: the student edition must not show
    them, nor the instructor's notebook as stamped."""
    present_with_rise(course / "notebooks" / "01_perceptron.ipynb")
    written = delivery.build_student(course / "notebooks" / "student")
    assert written and not any(has_outputs(p) for p in written)
    stamped = delivery.stamp(force=True)
    assert not any(has_outputs(p) for p in stamped)


def test_the_site_writes_its_student_edition_in_the_site_not_in_notebooks_student(course, tmp_path, monkeypatch):
    from tools import site, vendor

    mine = course / "notebooks" / "student" / "03_mlp_playground.ipynb"
    saved = autosave_answer(mine)
    monkeypatch.setattr(delivery, "BUILD", tmp_path / "build")
    monkeypatch.setattr(vendor, "install", lambda key, dest: dest)          # no MathJax download here
    src = site.write_sources(fast=True)
    assert mine.read_text() == saved
    assert src == tmp_path / "build" / "book-fast"
    assert not has_outputs(src / "student" / "03_mlp_playground.ipynb")
    assert "0.25" not in (src / "student" / "03_mlp_playground.ipynb").read_text()   # the answer stays the student's


def test_staleness_is_judged_on_what_git_has_not_on_an_autosave(course):
    autosave_answer(course / "notebooks" / "student" / "03_mlp_playground.ipynb")
    assert delivery.student_edition_is_current() == []
    nb = course / "notebooks" / "01_perceptron.ipynb"
    nb.write_text(nb.read_text().replace("The perceptron", "The Perceptron", 1))
    git(course, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "01 changed, no rebuild", str(nb))
    assert delivery.student_edition_is_current() == ["01_perceptron.ipynb"]


def test_the_cli_says_what_it_refused_and_exits_non_zero(course, monkeypatch, capsys):
    autosave_answer(course / "notebooks" / "student" / "01_perceptron.ipynb")
    nb = course / "notebooks" / "01_perceptron.ipynb"
    nb.write_text(nb.read_text().replace("The perceptron", "The Perceptron", 1))
    monkeypatch.delenv("FORCE", raising=False)
    with pytest.raises(SystemExit) as stop:
        delivery.main(["student"])
    assert stop.value.code != 0 and "did not overwrite 1 notebook" in str(stop.value.code)


# ----------------------------------------------------------------------------------------------
# my-work/: what `make lab` opens
# ----------------------------------------------------------------------------------------------
@pytest.fixture
def edition(tmp_path):
    src = tmp_path / "student"
    src.mkdir()
    for name in NAMES:
        shutil.copyfile(ROOT / "notebooks" / "student" / name, src / name)
    return src


def test_the_workspace_is_filled_once_and_never_overwritten(tmp_path, edition):
    work = tmp_path / "my-work"
    messages = workspace.fill(work, edition)
    assert sorted(p.name for p in work.glob("*.ipynb")) == NAMES and len(messages) == 2
    assert "](../notebooks/01_perceptron.ipynb)" in (work / NAMES[0]).read_text()   # the link to the solutions
    saved = autosave_answer(work / NAMES[1])
    assert workspace.fill(work, edition) == []
    assert (work / NAMES[1]).read_text() == saved


def test_a_newer_course_version_arrives_beside_the_students_copy(tmp_path, edition):
    work = tmp_path / "my-work"
    workspace.fill(work, edition)
    saved = autosave_answer(work / NAMES[1])
    for name in NAMES:                                                 # the course publishes a new version
        (edition / name).write_text((edition / name).read_text().replace("perceptron", "Perceptron"))
    messages = workspace.fill(work, edition)
    assert (work / NAMES[1]).read_text() == saved, "the student's notebook was overwritten"
    beside = work / "03_mlp_playground.new.ipynb"
    assert beside.exists() and "Perceptron" in beside.read_text()
    assert any("beside yours" in m for m in messages)
    assert "Perceptron" in (work / NAMES[0]).read_text(), "an untouched copy is simply updated"
    autosave_answer(beside)                                            # worked in the .new copy, then a 3rd version
    worked = beside.read_text()
    (edition / NAMES[1]).write_text((edition / NAMES[1]).read_text().replace("Perceptron", "PERCEPTRON"))
    workspace.fill(work, edition)
    assert beside.read_text() == worked and (work / "03_mlp_playground.new2.ipynb").exists()


def test_a_deleted_copy_comes_back_fresh(tmp_path, edition):
    work = tmp_path / "my-work"
    workspace.fill(work, edition)
    (work / NAMES[0]).unlink()
    assert any("fresh copy" in m for m in workspace.fill(work, edition))
    assert json.loads((work / workspace.STATE).read_text()).keys() == set(NAMES)


def test_make_lab_opens_the_workspace_and_git_ignores_it():
    make = (ROOT / "Makefile").read_text()
    assert "LAB_DIR ?= my-work" in make and "-m tools.workspace" in make and "--notebook-dir=$(LAB_DIR)" in make
    assert "my-work/" in (ROOT / ".gitignore").read_text().split()


# ----------------------------------------------------------------------------------------------
# the student edition's text is right for the student edition
# ----------------------------------------------------------------------------------------------
#: Sentences that hold only in the instructor's edition, where the worked solutions are (collapsed) cells.
INSTRUCTOR_ONLY = [
    r"solutions? (is|are) (hidden|collapsed|folded)",
    r"collapsed (code )?cells?",
    r"click (on it )?to (expand|unfold|show)",
    r"(expand|unfold) (it|the (solution|cell))",
    r"(worked )?solutions? (cell )?(just )?(above|below)",
    r"hidden (solution|cell)",
    r"run the (worked )?solution",
]


def instructor_only_sentences(nb) -> list[str]:
    import re

    found = []
    for i, c in enumerate(nb.cells):
        if c.cell_type != "markdown" and "exercise-answer" not in c.metadata.get("tags", []):
            text = "\n".join(line.split("#", 1)[1] for line in c.source.splitlines() if "#" in line)   # comments
        else:
            text = c.source
        for pattern in INSTRUCTOR_ONLY:
            for m in re.finditer(pattern, text, re.IGNORECASE):
                found.append(f"cell {i}: ...{text[max(0, m.start() - 60):m.end() + 30]!r}...")
    return found


def test_the_scan_finds_an_instructor_only_sentence():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "Each exercise has a check. A worked solution is hidden in the collapsed cell above the check.")])
    assert len(instructor_only_sentences(nb)) >= 2
    nb.cells[0].source = "Each exercise has a check: run it on your answer."
    assert instructor_only_sentences(nb) == []


@pytest.mark.parametrize("name", [p.name for p in delivery.notebooks()])
def test_the_student_edition_says_nothing_that_only_holds_with_the_solutions(name):
    text = delivery.student_texts()[delivery.STUDENT / name]
    found = instructor_only_sentences(nbformat.reads(text, as_version=4))
    assert not found, f"student edition of {name}: text that is false without the worked solutions:\n" + "\n".join(found)
