"""For course authors: write a notebook from a list of cells, with the course's metadata conventions.

Not needed by students. A notebook is built from a small Python script of cells, for example::

    from utils.authoring import md, code, solution, write_notebook
    cells = [md("# Title", slide="slide"), code("import utils\\ndev = utils.setup('01_perceptron')", setup=True), ...]
    write_notebook(cells, "notebooks/01_perceptron.ipynb")

Conventions enforced here and tested in ``tests/test_notebooks.py``:
- every cell has ``metadata.slideshow.slide_type`` (slide, subslide, fragment, -, skip, notes);
- the set-up cell is tagged ``setup`` and skipped in slides;
- a worked solution is a code cell tagged ``solution`` whose source is hidden (collapsed) in JupyterLab; the
  student edition replaces it by a stub. The cell that calls the exercise check follows it;
- outputs and execution counts are always empty.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

SLIDE_TYPES = {"slide", "subslide", "fragment", "-", "skip", "notes"}


def _meta(slide: str, tags=None, hidden: bool = False) -> dict:
    if slide not in SLIDE_TYPES:
        raise ValueError(f"slide type {slide!r} not in {sorted(SLIDE_TYPES)}")
    meta = {"slideshow": {"slide_type": slide}}
    if tags:
        meta["tags"] = list(tags)
    if hidden:
        meta["jupyter"] = {"source_hidden": True}
    return meta


def md(source: str, slide: str = "-", tags=None):
    """A markdown cell. ``slide``: 'slide' starts a new slide, 'subslide' a vertical one, 'fragment', '-'."""
    return nbformat.v4.new_markdown_cell(source.strip("\n"), metadata=_meta(slide, tags))


def code(source: str, slide: str = "-", tags=None, setup: bool = False):
    """A code cell; ``setup=True`` tags it as the set-up cell (skipped in slides)."""
    tags = list(tags or []) + (["setup"] if setup else [])
    return nbformat.v4.new_code_cell(source.strip("\n"), metadata=_meta("skip" if setup else slide, tags))


def solution(source: str):
    """A worked solution: tagged 'solution', collapsed in JupyterLab, removed from the student edition."""
    return nbformat.v4.new_code_cell(source.strip("\n"), metadata=_meta("skip", ["solution"], hidden=True))


def write_notebook(cells, path) -> Path:
    """Write ``cells`` to ``path`` as a stripped notebook with a Python 3 kernel."""
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for i, c in enumerate(nb.cells):
        c["id"] = f"c{i:03d}"
    path = Path(path)
    from .delivery import stamp_notebook  # Colab badge first, Colab-only install block in the set-up cell

    nb.metadata["_course_name"] = path.name
    stamp_notebook(nb)
    del nb.metadata["_course_name"]
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return path


#: Where the course's repository lives: the one place the address is written (Colab installs from it).
REPO_URL = "https://github.com/nn-materials-course/nn-materials-course"


CLONE_DIR = "/content/nn-materials-course"


def colab_block() -> list:
    """The lines of the set-up cell that run on Google Colab only (torch is never reinstalled or pinned).

    Plain Python (no ``!`` or ``%pip``), so that each step's exit status is checked: a failed download stops the cell
    with a sentence saying what to do, and so does a failed install (``utils.colab.install_course``, in the clone).
    """
    return [
        'if "google.colab" in sys.modules:  # on Colab only: fetch the course, install what Colab lacks (keeps its torch)',
        f'    import os, subprocess; course, url = "{CLONE_DIR}", "{REPO_URL}"',
        '    got = os.path.isdir(course) or subprocess.run(["git", "clone", "-q", "--depth=1", url, course], '
        'capture_output=True, text=True)',
        '    if got is not True and got.returncode:',
        '        raise RuntimeError(f"Could not download the course from {url}: check the internet connection, then '
        'run this cell again.\\n{got.stderr[-1500:]}")',
        "    sys.path.insert(0, course); from utils.colab import install_course; install_course(course)",
    ]


def setup_cell(notebook: str, imports: str = "") -> "nbformat.NotebookNode":
    """The standard set-up cell: Colab-only install (never pins torch), imports, ``utils.setup``."""
    src = "\n".join(
        ["# Set-up. On Google Colab only, install the course package and what Colab lacks (torch is kept as is).",
         "import sys"] + colab_block()
        + ([imports.strip("\n")] if imports.strip() else [])
        + ["import utils", f'dev = utils.setup("{notebook}")'])
    return code(src, setup=True)
