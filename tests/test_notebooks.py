"""The notebooks are committed clean, follow the course's anatomy, and are all executed by `make test`."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SLIDE_TYPES = {"slide", "subslide", "fragment", "-", "skip", "notes"}


def load(p):
    return json.loads(p.read_text())


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ is empty"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_named_by_number(nb):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", nb.name), f"{nb.name}: expected NN_lower_case_name.ipynb"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(nb):
    dirty = [i for i, c in enumerate(load(nb)["cells"]) if c.get("outputs") or c.get("execution_count")]
    assert not dirty, f"{nb.name}: cells {dirty} carry outputs; strip them (jupyter nbconvert --clear-output)"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_anatomy(nb):
    cells = load(nb)["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert cells[0]["cell_type"] == "markdown" and cells[0]["source"][0].startswith("# "), "starts with a title"
    for heading in ("Learning objectives", "Exercise", "Summary", "References"):
        assert heading.lower() in text.lower(), f"{nb.name}: no '{heading}' section"
    assert re.search(r"full mode.{0,80}\d+\s*(s|min)", text, re.I | re.S), f"{nb.name}: full-mode time not stated"
    setup = [c for c in cells if "setup" in c.get("metadata", {}).get("tags", [])]
    assert len(setup) == 1, f"{nb.name}: exactly one cell tagged 'setup'"
    src = "".join(setup[0]["source"])
    assert '"google.colab" in sys.modules' in src and "utils.setup(" in src, f"{nb.name}: standard set-up cell"
    assert "torch==" not in src, "never pin torch"
    assert any("solution" in c.get("metadata", {}).get("tags", []) for c in cells), "hidden solutions"
    for i, c in enumerate(cells):
        st = c.get("metadata", {}).get("slideshow", {}).get("slide_type")
        assert st in SLIDE_TYPES, f"{nb.name}: cell {i} has no slideshow metadata"


def test_make_test_executes_every_notebook():
    """`make test` runs nbval on the whole notebooks/ folder, so a new notebook cannot be forgotten."""
    mk = (ROOT / "Makefile").read_text()
    block = mk.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "--nbval-lax" in block and re.search(r"\snotebooks/?(\s|$)", block), block
    assert "COURSE_FAST=1" in block
    for flag in ("--deselect", "--ignore", " -k "):
        assert flag not in block, f"make test must not skip notebooks ({flag})"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "COURSE_DATA" in ci
