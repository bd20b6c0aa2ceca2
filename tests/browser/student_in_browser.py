#!/usr/bin/env python
"""A student's pass over the student edition of notebooks 01 and 03 in a real browser (part of `make browser-test`:
widgets_in_browser.py imports this module; ``python tests/browser/student_in_browser.py`` runs only this pass).

The Lab serves the student edition as the build makes it from the current sources (``tools.delivery.student_texts``)
in a folder ``student/`` of its temporary root. In each notebook the student runs all cells (every check then says
"no answer given yet"), then answers one exercise in its answer cell (tagged ``exercise-answer``) and runs that cell
and its check, as a student does with Shift+Enter:

1. a syntax error (a half-typed answer) in place of the stub: the check says the answer cell did not run, not "no
   answer given yet";
2. a wrong answer: the check says NOT YET;
3. the same syntax error after the wrong answer: the check again says the answer cell did not run (it must not judge
   the wrong value the failed cell left in place);
4. the worked solution, read from the instructor's notebook (the cell tagged ``solution``): the check says Correct.

In 03 the playground is driven as in the instructor test (scenarios.playground), then refused values (learning rate
100, a hidden layer of 100 neurons) must put their box back to the value in force, with a message saying which.
Screenshots of every step go to build/browser-test/student/.
"""
from __future__ import annotations

import contextlib
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from widgets_in_browser import OUT, ROOT, expect, log, open_notebook  # noqa: E402

STUDENT_DIR = "student"          # the folder of the Lab's root that holds the student edition
SHOTS = OUT / STUDENT_DIR

# (exercise answer name, wrong answer, syntax error): the right answer is the instructor's solution cell
EXERCISES = {
    "01_perceptron.ipynb": (
        "predicted_max_slope",
        "predicted_max_slope = 0.5   # sigma(0): the value, not the slope",
        "predicted_max_slope = 0.25 +",
    ),
    "03_mlp_playground.ipynb": (
        "count_parameters",
        "def count_parameters(sizes):\n    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))   # no biases",
        "def count_parameters(sizes):\n    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:])",
    ),
}


def write_student_edition(root: Path) -> None:
    """The student edition as ``make student`` would build it from the sources now, into ``root/student/``
    (never into notebooks/student/)."""
    sys.path.insert(0, str(ROOT))
    from tools.delivery import student_texts

    (root / STUDENT_DIR).mkdir(exist_ok=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for path, text in student_texts().items():
        (root / STUDENT_DIR / Path(path).name).write_text(text)


def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _defines(source: str, name: str) -> bool:
    return re.search(rf"^(def\s+{re.escape(name)}\b|{re.escape(name)}\s*=)", source, re.MULTILINE) is not None


def solution(notebook: str, name: str) -> str:
    """The instructor's worked solution that defines ``name`` (its cell tagged ``solution``)."""
    cells = json.loads((ROOT / "notebooks" / notebook).read_text())["cells"]
    found = [_source(c) for c in cells if "solution" in c["metadata"].get("tags", []) and _defines(_source(c), name)]
    if len(found) != 1:
        raise LookupError(f"{notebook}: {len(found)} solution cells define {name}, expected one")
    return found[0]


def answer_cell(student_nb: Path, name: str) -> int:
    """Index of the answer cell (tagged ``exercise-answer``) defining ``name``; the next cell is its check."""
    cells = json.loads(student_nb.read_text())["cells"]
    found = [i for i, c in enumerate(cells)
             if "exercise-answer" in c["metadata"].get("tags", []) and _defines(_source(c), name)]
    if len(found) != 1:
        raise LookupError(f"{student_nb.name}: {len(found)} answer cells define {name}, expected one")
    i = found[0]
    if cells[i + 1]["cell_type"] != "code" or "check_" not in _source(cells[i + 1]):
        raise LookupError(f"{student_nb.name}: the cell after {name}'s answer cell is not its check")
    return i


# ---- driving cells as a student does ----------------------------------------------------------------
def _cells(page):
    return page.locator(".jp-Notebook .jp-Cell")


def _prompt(cell) -> str:
    return cell.locator(".jp-InputPrompt").first.inner_text().strip()


def _wait_ran(cell, before: str, timeout_s: float = 120) -> str:
    """Wait until the cell has run again (its prompt shows a new execution number); return the prompt."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        now = _prompt(cell)
        if now != before and "*" not in now and any(ch.isdigit() for ch in now):
            return now
        time.sleep(0.3)
    raise TimeoutError(f"cell still not run after {timeout_s:.0f} s (prompt {_prompt(cell)!r})")


def _outputs(cell) -> str:
    return "\n".join(cell.locator(".jp-OutputArea-output").all_inner_texts())


def _editor_text(cell) -> str:
    return "\n".join(line.rstrip() for line in cell.locator(".cm-line").all_inner_texts() if line.strip())


def type_answer(page, cell, text: str) -> bool:
    """Replace the cell's text as a student does (click into it, select all, type); True if the editor then holds
    exactly ``text`` (CodeMirror adds no indentation or closing bracket of its own)."""
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(text)
    want = "\n".join(line.rstrip() for line in text.splitlines() if line.strip())
    return _editor_text(cell) == want


def answer_and_check(page, index: int, text: str, what: str) -> tuple[str, str]:
    """Type ``text`` into the answer cell ``index``, Shift+Enter (runs it, moves to the check), Shift+Enter (runs the
    check): the answer cell's and the check cell's outputs."""
    answer, check = _cells(page).nth(index), _cells(page).nth(index + 1)
    answer.evaluate("el => el.scrollIntoView({block: 'start'})")
    typed = type_answer(page, answer, text)
    expect(typed, f"{what}: the answer cell holds what was typed ({text.splitlines()[0][:50]!r})")
    before_a, before_c = _prompt(answer), _prompt(check)
    page.keyboard.press("Shift+Enter")
    _wait_ran(answer, before_a)
    page.keyboard.press("Shift+Enter")
    _wait_ran(check, before_c)
    time.sleep(0.5)           # the last stream output reaches the page just after the prompt
    return _outputs(answer), _outputs(check)


def shot(page, index: int, name: str) -> None:
    """The answer cell and its check with their outputs, as the student sees them."""
    answer, check = _cells(page).nth(index), _cells(page).nth(index + 1)
    answer.evaluate("el => el.scrollIntoView({block: 'start'})")
    time.sleep(0.3)
    a, c = answer.bounding_box(), check.bounding_box()
    top = max(a["y"] - 10, 0)
    bottom = min(c["y"] + c["height"] + 10, page.viewport_size["height"])
    page.screenshot(path=str(SHOTS / name), clip={"x": a["x"], "y": top, "width": a["width"],
                                                  "height": bottom - top})


def exercise_pass(page, lab, name: str) -> None:
    """After Run All: the stub, a syntax error, a wrong answer, the syntax error again, the right answer, each
    answer cell run with its check."""
    notebook = Path(name).name
    var, wrong, typo = EXERCISES[notebook]
    right = solution(notebook, var)
    index = answer_cell(lab.root / name, var)
    expect(_cells(page).count() == len(json.loads((lab.root / name).read_text())["cells"]),
           f"{name}: the page shows every cell of the notebook")
    stem = notebook.split("_")[0]
    what = f"{name} ({var})"

    check_out = _outputs(_cells(page).nth(index + 1))
    shot(page, index, f"{stem}_{var}_0_after_run_all.png")
    expect("no answer given yet" in check_out and "Correct" not in check_out,
           f"{what}: after Run All the check says no answer is given yet ({check_out.strip()[:60]!r})")

    def syntax_error(after: str, shot_name: str, verdict_before: str = "") -> None:
        ans, out = answer_and_check(page, index, typo, what)
        shot(page, index, shot_name)
        expect("SyntaxError" in ans, f"{what}: the half-typed answer shows its SyntaxError under the answer cell")
        expect("your answer cell did not run" in out and "no answer given yet" not in out and "Correct" not in out
               and not (verdict_before and verdict_before in out),   # no verdict on the value left in place
               f"{what}: a syntax error {after}: the check says the answer cell did not run ({out.strip()[:90]!r})")

    syntax_error("in place of the stub", f"{stem}_{var}_1_syntax_error_on_stub.png")

    ans, out = answer_and_check(page, index, wrong, what)
    shot(page, index, f"{stem}_{var}_2_wrong_answer.png")
    expect("Error" not in ans and "NOT YET" in out and "Correct" not in out and "no answer" not in out
           and "did not run" not in out, f"{what}: a wrong answer -> NOT YET ({out.strip()[:90]!r})")

    verdict = out.split("NOT YET", 1)[-1].split(":", 1)[-1].strip().splitlines()[0][:60]   # what the check said
    syntax_error("after a wrong answer", f"{stem}_{var}_3_syntax_error_after_wrong_answer.png", verdict)

    ans, out = answer_and_check(page, index, right, what)
    shot(page, index, f"{stem}_{var}_4_right_answer.png")
    expect("Error" not in ans and "\u2714 Correct!" in out and "NOT YET" not in out,
           f"{what}: the instructor's solution -> Correct ({out.strip()[:60]!r})")


# ---- notebook 03: the playground, then refused values ----------------------------------------------
def _wait_value(locator, want: str, timeout_s: float = 15) -> str:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        got = locator.input_value()
        if got == want:
            return got
        time.sleep(0.3)
    return locator.input_value()


def refused_value(page, box, name: str, control: str, bad: str, said: str, shot_name: str) -> None:
    """Type a value the playground refuses into a box: the box goes back to the value in force, the message says
    which is kept."""
    field = box.locator(f".pg-{control} input").first
    message = box.locator(".pg-message").first
    in_force, before = field.input_value(), message.inner_text()
    field.fill(bad)
    field.press("Enter")
    deadline = time.time() + 15
    while time.time() < deadline and (message.inner_text() == before or "Kept" not in message.inner_text()):
        time.sleep(0.3)
    text = message.inner_text().strip()
    now = _wait_value(field, in_force)
    box.screenshot(path=str(SHOTS / shot_name))
    expect(now == in_force, f"{name}: a refused {said} ({bad}) puts its box back to the value in force "
                            f"({in_force!r}; the box shows {now!r})")
    expect("Kept" in text and in_force in text and "Traceback" not in text,
           f"{name}: the message names the refused {said} and the value kept ({text[:110]!r})")


@contextlib.contextmanager
def _screenshots_in(module, folder: Path):
    """Run a scenario of another module with its screenshots in ``folder`` (its names would overwrite the
    instructor run's)."""
    saved = module.OUT
    module.OUT = folder
    try:
        yield
    finally:
        module.OUT = saved


def student_01(page, lab, name: str) -> None:
    open_notebook(page, lab, name)
    exercise_pass(page, lab, name)


def student_03(page, lab, name: str) -> None:
    import scenarios

    with _screenshots_in(scenarios, SHOTS):
        scenarios.playground(page, lab, name)          # opens the notebook, runs all cells, drives the widget
    box = page.locator(".jp-OutputArea-output", has=page.locator("img.pg-picture")).first
    box.scroll_into_view_if_needed()
    refused_value(page, box, name, "lr", "100", "learning rate", "03_playground_refused_learning_rate.png")
    refused_value(page, box, name, "hidden", "4, 100", "hidden layer of 100 neurons",
                  "03_playground_refused_hidden_layer.png")
    exercise_pass(page, lab, name)


SCENARIOS = {f"{STUDENT_DIR}/01_perceptron.ipynb": student_01,
             f"{STUDENT_DIR}/03_mlp_playground.ipynb": student_03}


if __name__ == "__main__":
    import widgets_in_browser

    sys.exit(widgets_in_browser.main(sys.argv[1:] or list(SCENARIOS)))
