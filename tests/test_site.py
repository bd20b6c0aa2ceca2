"""The website (tools/site.py) and the slide decks (tools/slides.py): what their pages say comes from where it is
written once (README, plan cells, the data manifest), decks leave out set-up, solutions and harness cells and split
what would not fit 1280 x 720, and a build stops at once, kernels included, on SIGTERM."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

from tools import delivery, site, slides

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = delivery.notebooks()


def test_landing_page_has_every_notebook_its_plan_and_the_readmes_table():
    nbs = {p.name: nbformat.read(p, as_version=4) for p in NOTEBOOKS}
    page = site.landing_page(nbs, fast=True)
    readme_rows = [line for line in site.readme_section_table(None) if line.startswith("| 0")]
    assert len(readme_rows) == len(NOTEBOOKS)
    for p, nb in nbs.items():
        stem = Path(p).stem
        title, _ = delivery._title_and_intro(nb)
        assert f"[{title}](student/{stem}.ipynb)" in page, stem
        assert f"](student/{stem}.ipynb)" in page
        assert f'<a href="slides/{stem}.slides.html">slides</a>' in page, f"{stem}: no link to its deck"
        assert "core path" in site.plan_summary(nb), f"{p}: no plan cell with a core-path row"
    for row in readme_rows:        # the times column, as `make times` wrote it, is on the page
        assert row.split("|")[-2].strip() in page
    assert "](notebooks/" not in page, "a README link left pointing into the repository's tree"


def test_data_page_lists_every_data_set_with_its_licence():
    from utils.data import MANIFEST

    page = site.data_page()
    for ds in MANIFEST.values():
        assert f"`{ds.name}`" in page and ds.licence in page
        for f in ds.files:
            assert f.relpath in page


def test_the_book_shows_the_student_edition_with_the_code_untouched():
    name = NOTEBOOKS[0].name
    text = delivery._student_text(NOTEBOOKS[0])
    book = nbformat.reads(site.book_notebook(name, text), as_version=4)
    student = nbformat.reads(text, as_version=4)
    code = lambda nb: [c.source for c in nb.cells if c.cell_type == "code"]   # noqa: E731 (the cache's key)
    assert code(book) == code(student)
    first = book.cells[0].source
    assert first.startswith("# ") and "Student edition" in first.split("\n\n")[1], "the title, then the note"
    assert "../" not in first and delivery.REPO_URL in first
    assert not any("colab-badge" in delivery.tags(c) for c in book.cells)
    assert any("hide-input" in delivery.tags(c) for c in book.cells if "setup" in delivery.tags(c))


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_deck_leaves_out_setup_solutions_and_harness_and_splits_long_slides(nb):
    deck = slides.deck_notebook(nbformat.read(nb, as_version=4))
    shown = [c for c in deck.cells if slides._slide_type(c) not in ("skip", "notes")]
    assert not any({"setup", "solution"} & set(delivery.tags(c)) for c in shown)
    assert not any(slides.is_harness(c) for c in shown)
    height, worst = 0, 0
    for c in shown:
        if slides._slide_type(c) in ("slide", "subslide"):
            height = 0
        h = slides.cell_height(c)
        height = h if height == 0 else height + h
        if height > slides.BUDGET:       # only a single cell taller than the budget may pass it
            assert height == h, f"{nb.name}: a slide's cells add up to {height} px"
        worst = max(worst, height)


def test_harness_cells_are_the_check_calls_only():
    code = nbformat.v4.new_code_cell
    assert slides.is_harness(code("from utils.exercises.ex05 import check_a\ncheck_a(a)"))
    assert slides.is_harness(code("x = check_x(x)"))
    assert not slides.is_harness(code("x = check_x(x)\nplt.plot(x)"))


def test_a_signal_stops_the_build_and_its_kernels_at_once(tmp_path):
    """A child in a session of its own (as jupyter_client starts a kernel) is stopped too."""
    pidfile = tmp_path / "kernel.pid"
    kernel = f"import subprocess, sys; p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'], " \
             f"start_new_session=True); open({str(pidfile)!r}, 'w').write(str(p.pid)); p.wait()"
    driver = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from tools.site import run_stoppable
        run_stoppable([sys.executable, "-c", {kernel!r}], env=None)
    """)
    proc = subprocess.Popen([sys.executable, "-c", driver])
    deadline = time.time() + 30
    while not pidfile.exists() or not pidfile.read_text():
        assert time.time() < deadline, "the fake kernel never started"
        time.sleep(0.1)
    kernel_pid = int(pidfile.read_text())
    t0 = time.time()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 128 + signal.SIGTERM
    assert time.time() - t0 < 10
    time.sleep(0.2)
    try:
        os.kill(kernel_pid, 0)
        alive = open(f"/proc/{kernel_pid}/stat").read().split()[2] != "Z" if os.path.exists(f"/proc/{kernel_pid}") else False
    except ProcessLookupError:
        alive = False
    assert not alive, "the kernel outlived the build"
