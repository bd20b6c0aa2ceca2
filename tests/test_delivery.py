"""Delivery: the student edition and slides (built from every notebook, solutions removed, the rest untouched), the
site's executor, and the Colab block of every set-up cell."""
import json
import sys
from pathlib import Path

import nbformat
import pytest

from tools import delivery

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = delivery.notebooks()


def needs_data(*names):
    """Skip the calling test, saying why, when a data set it needs is neither found (COURSE_DATA, the course, the
    cache) nor downloadable: `make test` offline and without COURSE_DATA then skips instead of failing."""
    from utils.data import dataset_paths
    from utils.errors import DataError

    for name in names:
        try:
            dataset_paths(name)
        except DataError:
            pytest.skip(f"needs the {name!r} data set, which is not here and could not be downloaded: set "
                        f"COURSE_DATA to the course's data folder (CI: ../shared/data), or go online")


def _tags(c):
    return c.get("metadata", {}).get("tags", [])


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    delivery.build_student(out)
    return out


def test_the_committed_student_edition_is_current():
    """notebooks/student/ is what the badges open: it must be rebuilt (make student) whenever a notebook changes."""
    assert delivery.student_edition_is_current() == [], "notebooks/student/ is stale: run make student"


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
            if len(line) > 12 and not line.startswith(("#", "def ")) and line not in "\n".join(
                    c.source for c in full.cells if "solution" not in _tags(c)):
                assert line not in text, f"{nb.name}: solution line survives: {line!r}"
    # every other cell (prose, code, exercise checks) is kept unchanged and in order; the badge opens this edition
    kept = [c.source for c in full.cells if not {"solution", "colab-badge"} & set(_tags(c))]
    assert [c.source for c in student.cells if not {"exercise-answer", "colab-badge"} & set(_tags(c))] == kept
    assert len(student.cells) == len(full.cells)
    assert "/notebooks/student/" + nb.name in student.cells[0].source


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_student_answer_cells_define_the_names_their_check_needs(nb, student_dir):
    """Each empty answer cell defines (as ... or an empty function) every name its check is given, so running it
    and then the check says "no answer given yet" instead of a NameError."""
    from utils.exercises import is_unanswered

    student = nbformat.read(student_dir / nb.name, as_version=4).cells
    for i, c in enumerate(student):
        if "exercise-answer" not in _tags(c):
            continue
        space = {}
        exec(compile(c.source, f"{nb.name}[{i}]", "exec"), space)
        check = next(d for d in student[i + 1:] if d.cell_type == "code")
        for name in delivery._check_call_args(check.source):
            assert name in space and is_unanswered(space[name]), (nb.name, i, name)


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_student_edition_runs_what_the_test_suite_runs_up_to_the_exercises(nb, student_dir):
    """Up to the first exercise the student notebook is cell-for-cell the notebook `make test` executes."""
    full = nbformat.read(nb, as_version=4).cells
    student = nbformat.read(student_dir / nb.name, as_version=4).cells
    first = next(i for i, c in enumerate(student) if "exercise-answer" in _tags(c))
    assert [c.source for c in student[1:first]] == [c.source for c in full[1:first]]


def test_slides_build_one_deck_per_notebook_and_skip_setup(tmp_path):
    written = delivery.build_slides(tmp_path, with_vendor=False)      # no npm download in the unit tests
    assert [p.name for p in written] == [nb.stem + ".slides.html" for nb in NOTEBOOKS]
    deck = written[0].read_text()
    assert "reveal" in deck.lower()
    assert "utils.setup(" not in deck, "the set-up cell (slide_type skip) must not be on a slide"
    assert "unpkg.com" not in deck and "cdnjs" not in deck, "a deck must load nothing from a CDN"


def test_site_landing_page_knows_each_notebooks_title_and_whole_first_sentence():
    import nbformat

    from tools import delivery

    for path in delivery.notebooks():
        title, intro = delivery._title_and_intro(nbformat.read(path, as_version=4))
        assert title[:2].isdigit(), (path.name, title)
        assert len(intro) > 40 and intro.endswith((".", "?", "!")), (path.name, intro)
        assert "\n" not in intro



def test_executed_notebooks_keep_their_matplotlib_figures(tmp_path, monkeypatch):
    """The site and the benchmark's kept notebooks must show the figures: a non-interactive backend (Agg) in the
    kernel would silently drop every matplotlib plot from the outputs."""
    from nbformat.v4 import new_code_cell, new_notebook

    monkeypatch.setenv("MPLBACKEND", "Agg")          # what `make test` sets: execute() must not inherit it
    p = tmp_path / "plot.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0]);")]), p)
    nb = delivery.execute(p, fast=True)
    assert any("image/png" in o.get("data", {}) for o in nb.cells[0].outputs), nb.cells[0].outputs


def test_a_test_that_needs_missing_data_skips_with_the_reason(tmp_path, monkeypatch):
    """Offline and without COURSE_DATA, the data-hungry tests skip and say what to set, instead of failing."""
    import urllib.request

    monkeypatch.delenv("COURSE_DATA", raising=False)
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))            # an empty cache

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(pytest.skip.Exception, match="needs the 'finches' data set.*set COURSE_DATA"):
        needs_data("finches")


# ----------------------------------------------------------------------------------------------
# the Colab block of every set-up cell (tests/colab/colab_check.py runs it in a Colab-like environment)
# ----------------------------------------------------------------------------------------------
def _run_colab_block(monkeypatch, returncodes):
    """Execute the Colab block as on Colab (``google.colab`` imported), with each command it runs answered by the
    next exit status of ``returncodes``; returns the commands run and the fake ``sys`` the block worked on."""
    import os
    import subprocess
    import types

    from tools.delivery import CLONE_DIR, colab_block

    calls = []
    isdir = os.path.isdir

    def fake_run(command, **kwargs):
        assert isinstance(command, list), "commands are argument lists (no shell)"
        calls.append(command)
        return subprocess.CompletedProcess(command, returncodes[len(calls) - 1], "", f"stderr of {command[0]}")

    fake_sys = types.SimpleNamespace(modules={"google.colab": types.ModuleType("google.colab")},
                                     executable="/usr/bin/python3", path=[])
    with monkeypatch.context() as m:
        m.setattr(subprocess, "run", fake_run)
        # as on a fresh Colab runtime, whatever this machine holds there (`make colab-check` clones into it meanwhile)
        m.setattr(os.path, "isdir", lambda path: False if str(path) == CLONE_DIR else isdir(path))
        exec(compile("\n".join(colab_block()), "<colab block>", "exec"), {"sys": fake_sys})  # plain Python
    return calls, fake_sys


def test_colab_block_clones_installs_and_puts_the_course_on_the_path(monkeypatch):
    from tools.delivery import CLONE_DIR, REPO_URL

    calls, fake_sys = _run_colab_block(monkeypatch, [0, 0])
    assert calls[0][:2] == ["git", "clone"] and calls[0][-2:] == [REPO_URL, CLONE_DIR]
    assert calls[1] == [sys.executable, "-m", "pip", "install", "-q", "-e", CLONE_DIR], "the kernel's own pip"
    assert "torch" not in " ".join(calls[1]), "never pin or reinstall torch"
    assert fake_sys.path == [CLONE_DIR]


def test_colab_block_stops_with_a_clear_message_when_the_download_fails(monkeypatch):
    """A failed clone used to show only a later `ModuleNotFoundError: utils`."""
    from tools.delivery import REPO_URL

    with pytest.raises(RuntimeError) as err:
        _run_colab_block(monkeypatch, [128])
    message = str(err.value)
    assert message.startswith(f"Could not download the course from {REPO_URL}: check the internet connection")
    assert "run this cell again" in message and "stderr of git" in message, message


def test_colab_block_stops_with_a_clear_message_when_the_install_fails(monkeypatch):
    with pytest.raises(RuntimeError) as err:
        _run_colab_block(monkeypatch, [0, 1])
    message = str(err.value)
    assert message.startswith("Could not install the course's packages: run this cell again")
    assert "Runtime > Disconnect and delete runtime" in message and "stderr of " in message, message


def test_stamp_replaces_an_old_colab_block_whole(tmp_path):
    """Notebooks stamped with the earlier block (`!git clone`, `%pip install`) get the new one, nothing left over."""
    from tools.delivery import colab_block

    old = ['if "google.colab" in sys.modules:  # on Colab only: fetch the course and install what Colab lacks',
           "    ![ -d /content/x ] || git clone -q --depth 1 https://example.org/x /content/x",
           "    %pip install -q -e /content/x", '    sys.path.insert(0, "/content/x")']
    setup = nbformat.v4.new_code_cell("\n".join(["import sys", *old, "import utils", 'dev = utils.setup("01_x")']),
                                      metadata={"tags": ["setup"]})
    nb = nbformat.v4.new_notebook(cells=[setup], metadata={"_course_name": "01_x.ipynb"})
    assert delivery.stamp_notebook(nb)
    src = nb.cells[1].source
    assert src == "\n".join(["import sys", *colab_block(), "import utils", 'dev = utils.setup("01_x")']), src
    assert not [line for line in src.splitlines() if line.strip().startswith(("!", "%"))], src


def test_the_course_package_keeps_colabs_ipywidgets_7():
    """Colab's front end renders ipywidgets 7.x only (it ships 7.7.1): installing the course must not upgrade it."""
    import tomllib

    from packaging.requirements import Requirement

    deps = [Requirement(d) for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]]
    widgets = next(d for d in deps if d.name == "ipywidgets")
    assert widgets.specifier.contains("7.7.1") and not widgets.specifier.contains("7.5.1"), widgets


def _colab_check():
    """tests/colab/colab_check.py as a module (a script, not a package: loaded from its file)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("colab_check", ROOT / "tests" / "colab" / "colab_check.py")
    cc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cc)
    return cc


def test_colab_check_restores_its_venv_to_the_colab_like_base():
    """`make colab-check` reuses its virtual environment: what the previous run installed is removed, what it
    changed is put back, so that every run installs the course into a Colab-like environment afresh."""
    cc = _colab_check()
    base = {"numpy": "2.4.6", "torch": "2.14.1", "ipywidgets": "7.7.1"}
    now = {"numpy": "2.2.0", "torch": "2.14.1", "ipywidgets": "7.7.1", "rdkit": "2025.9.1",
           "nn-materials-course": "0.1.0"}
    assert cc.plan_restore(base, now) == (["nn-materials-course", "rdkit"], ["numpy==2.4.6"])
    assert cc.plan_restore(base, dict(base)) == ([], [])


def test_the_widgets_of_03_and_04_display_with_colabs_ipywidgets_7(monkeypatch):
    """Colab keeps ipywidgets 7, whose widgets display through ``_ipython_display_`` and have no
    ``_repr_mimebundle_``: the Playground and the KernelExplorer must still show their widget, not a traceback."""
    W = pytest.importorskip("ipywidgets")
    import numpy as np
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.display import display

    from utils import images
    from utils.widgets.kernel_explorer import KernelExplorer
    from utils.widgets.playground import Playground

    mime = "application/vnd.jupyter.widget-view+json"

    def display_as_in_ipywidgets_7(self, **kwargs):
        display({"text/plain": repr(self), mime: {"version_major": 2, "version_minor": 0, "model_id": self.model_id}},
                raw=True)

    monkeypatch.delattr(W.Widget, "_repr_mimebundle_")
    monkeypatch.setattr(W.Widget, "_ipython_display_", display_as_in_ipywidgets_7, raising=False)
    had_shell = InteractiveShell.initialized()
    shell = InteractiveShell.instance()
    shown = []
    monkeypatch.setattr(shell.display_pub, "publish", lambda data, metadata=None, **kw: shown.append(data))
    monkeypatch.setattr(shell, "showtraceback", lambda *a, **kw: shown.append("traceback"))
    try:
        for obj in (Playground(dataset="xor"), KernelExplorer({"noise": np.zeros((8, 8))})):
            for show in (display, shell.display_formatter.format):      # display(obj), and obj as a cell's last line
                shown.clear()
                show(obj)
                assert "traceback" not in shown and any(mime in d for d in shown), (type(obj).__name__, shown)
    finally:
        if not had_shell:
            InteractiveShell.clear_instance()


@pytest.mark.parametrize("key", ["03", "04", "09"])
def test_the_colab_checks_probes_run_after_their_set_up_cell(key):
    """The Colab-like check runs each probe after the notebook's set-up cell, in its Colab-like environment; here the
    same cells run in this environment's kernel, so that a probe naming something the course no longer has fails in
    the unit tests and not only in the Colab-like check."""
    import nbclient
    import nbformat

    cc = _colab_check()
    path = next((ROOT / "notebooks").glob(f"{key}_*.ipynb"))
    nb = nbformat.read(path, as_version=4)
    assert set(cc.PROBES) == {"03", "04", "09"}, "a new probe: add it to this test's parameters"
    _, code, widgets = cc.PROBES[key]
    run = nbformat.v4.new_notebook(cells=[cc.setup_cell(nb), nbformat.v4.new_code_cell(code)], metadata=nb.metadata)
    nbclient.NotebookClient(run, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    shown = [o for o in run.cells[-1].outputs if cc.WIDGET_MIME in o.get("data", {})]
    assert len(shown) >= widgets, f"{len(shown)} widget(s) displayed, {widgets} expected"
