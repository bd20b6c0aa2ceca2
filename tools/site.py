"""The course's website: a Jupyter Book (Sphinx, MyST-NB, sphinx-book-theme) of the student edition, executed.

    python -m tools.site [--fast] [--strict]     # what `make site` runs; --fast: COURSE_FAST=1 for the kernels

The book's sources are generated into ``build/book/`` (full mode) or ``build/book-fast/`` (fast mode), each with
its own execution cache (jupyter-cache keys a notebook on its code, not on the mode): ``book/_config.yml`` and
``book/_static/``, a landing page built from the README's notebook table and each notebook's plan cell, a data page
built from the manifest in ``utils/data.py`` and the README's Data table, and the student edition's notebooks (built
from the notebooks as committed, as ``make student`` would, outputs stripped: what the launch and download buttons
give a student; ``--worktree``: from the working tree). The HTML lands in ``build/book*/_build/html/``; the executed notebooks in
``build/book*/_build/jupyter_execute/student/`` (the slides and ``make test-student EXECUTED=...`` read them). The
site carries the slide decks too, with those notebooks' figures, in ``_build/html/slides/`` (as ``make slides``
writes them), linked from the landing page.

The notebooks that the cache does not hold are executed first, two at a time (``COURSE_SITE_JOBS``), into the cache
that Sphinx then reads. A cell that raises stops the build, naming the notebook and the error; ``--strict`` makes every Sphinx warning an error
(``-W --keep-going``, what CI uses). Ctrl-C or SIGTERM stops the build at once, kernels included.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import yaml

from tools import delivery, vendor

ROOT = delivery.ROOT
BOOK = ROOT / "book"                 # committed: _config.yml and _static/
README = ROOT / "README.md"


def source_dir(fast: bool) -> Path:
    return delivery.BUILD / ("book-fast" if fast else "book")


def html_dir(fast: bool) -> Path:
    return source_dir(fast) / "_build" / "html"


def executed_dir(fast: bool) -> Path:
    return source_dir(fast) / "_build" / "jupyter_execute" / "student"


def _write(path: Path, text: str) -> None:
    """Write only when the text changes: Sphinx re-reads a page only when its file is newer."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _blob(relpath: str) -> str:
    return f"{delivery.REPO_URL}/blob/main/{relpath}"


# ----------------------------------------------------------------------------------------------
# what the pages say, taken from where it is written once
# ----------------------------------------------------------------------------------------------
def readme_section_table(heading: str) -> list[str]:
    """The lines of the first Markdown table under the README's ``## heading`` (header and rule included)."""
    text = README.read_text(encoding="utf-8")
    lines = text.splitlines()
    start = 0 if heading is None else next(i for i, l in enumerate(lines) if l.strip() == f"## {heading}")
    i = next(i for i in range(start, len(lines)) if lines[i].startswith("|"))
    table = []
    while i < len(lines) and lines[i].startswith("|"):
        table.append(lines[i])
        i += 1
    return table


def readme_intro() -> str:
    """The README's first paragraph after its badges: what the course is."""
    text = README.read_text(encoding="utf-8").split("<!-- /badges -->", 1)[1]
    return text.strip().split("\n\n", 1)[0]


def notebook_table() -> list[str]:
    """The README's table of notebooks (times written by `make times`), its links turned into the site's pages
    (the student edition) and the instructor's edition on the repository; the topic joins the notebook's cell, so
    that the table fits the page's column."""
    rows = readme_section_table(None)
    out = []
    for i, line in enumerate(rows):
        line = re.sub(r"\]\(notebooks/student/([^)]+)\.ipynb\)", r"](student/\1.ipynb)", line)
        line = re.sub(r"\]\(notebooks/([^)/]+\.ipynb)\)", lambda m: f"]({_blob('notebooks/' + m.group(1))})", line)
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5:                 # #, notebook, topic, slides covered, time
            cells = (["---"] * 4 if i == 1 else [cells[0], f"{cells[1]} and {cells[2]}", cells[3], cells[4]] if i == 0
                     else [cells[0], f"{cells[1]}: {cells[2]}", cells[3], cells[4]])
        out.append("| " + " | ".join(cells) + " |")
    return out


def plan_rows(nb) -> list[tuple[str, str, str, str]]:
    """The rows (section, path, class time, run time) of a notebook's plan cell."""
    cell = next((c for c in nb.cells if "plan" in delivery.tags(c)), None)
    if cell is None:
        return []
    rows = []
    for line in cell.source.splitlines():
        cols = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cols) >= 4 and not set(cols[0]) <= set("-: ") and cols[0] != "section":
            rows.append(tuple(cols[:4]))
    return rows


def plan_summary(nb) -> str:
    """One line: the core path's class and run time, then each going-further section with its class time."""
    rows = plan_rows(nb)
    core = next((r for r in rows if r[0].strip("*") == "core path"), None)
    further = [r for r in rows if r[1] == "going further" and r[0].startswith("Going further")]
    parts = []
    if core:
        run = core[3].strip("*")
        parts.append(f"core path {core[2].strip('*')} of class" + (f", {run} of run time (full mode)"
                                                                     if run and run != "…" else ""))
    if further:
        parts.append("going further: " + "; ".join(f"{r[0].split(':', 1)[1].strip()} ({r[2]})" for r in further))
    return "; ".join(parts)


def landing_page(nbs: dict, fast: bool) -> str:
    mode = ("fast mode (`COURSE_FAST=1`: fewer epochs and samples than a student's run)" if fast
            else "full mode (what a student runs)")
    lines = ["# Neural networks for materials science", "", readme_intro(), "",
             "Each page below is a notebook of the **student edition**, executed top to bottom in " + mode + ", "
             "with every answer cell left empty (each check then says *no answer given yet*, and the notebook goes "
             "on with a reference answer). To work in one, use the buttons at the top of its page: the rocket "
             "opens it on **Binder** or **Google Colab**, the arrow **downloads** the notebook. On your own "
             "machine, `make lab` in a clone of the [repository](" + delivery.REPO_URL + ") opens JupyterLab on "
             "your own copy.", "",
             "## The notebooks", "",
             "Times are measured in full mode on a 2-core CPU (the [benchmark results](" +
             _blob("benchmarks/RESULTS.md") + ")); *solutions* is the instructor's edition.", ""]
    lines += notebook_table()
    lines += ["", "## The plan of each notebook", "",
              "Every notebook has a **core path** that fits a 60-minute practical, then **going-further** sections "
              "for a second session or home. The full plan, section by section, is at the top of each notebook. "
              "Each notebook's **slides** (reveal.js: the instructor's edition, with the figures of these pages) work offline: "
              "`f` full screen, `s` speaker view, `Esc` the overview.", ""]
    for name, nb in nbs.items():
        title, _ = delivery._title_and_intro(nb)
        stem = Path(name).stem
        lines.append(f"- [{title}](student/{stem}.ipynb): {plan_summary(nb)}; "
                     f'<a href="slides/{stem}.slides.html">slides</a>.')   # raw HTML: the decks are not Sphinx pages
    lines += ["", "The data sets and their licences: [Data](data.md).", ""]
    return "\n".join(lines)


def data_page() -> str:
    from utils.data import MANIFEST

    lines = ["# Data", "",
             "Every data set is real, public and checked by sha256. A notebook looks a file up in `$COURSE_DATA`, "
             "then in the course's cache `data/cache/`, and otherwise downloads it once from its upstream address.",
             ""]
    lines += readme_section_table("Data")
    lines += ["", "## Files, licences and citations", "",
              "From the manifest in [`utils/data.py`](" + _blob("utils/data.py") + ").", ""]
    for ds in MANIFEST.values():
        lines += [f"### `{ds.name}`", "", f"- **Licence:** {ds.licence}", f"- **Cite:** {ds.citation}"]
        if ds.notes:
            lines.append(f"- **Notes:** {' '.join(ds.notes.split())}")
        lines.append("- **Files:**")
        for f in ds.files:
            where = (f"<{f.url}>" if f.url else f"PyPI `{f.pypi[0]}`, `{f.pypi[1]}`" if f.pypi
                     else "committed with the course")
            lines.append(f"  - `{f.relpath}` ({where}), sha256 `{f.sha256[:16]}…`")
        lines.append("")
    return "\n".join(lines)


def book_notebook(name: str, text: str) -> str:
    """A student notebook as the site shows it: the Colab link cell goes (the launch buttons open Colab) and the note
    on the edition, whose link to the instructor's edition points at the repository, follows the page's title; the
    set-up cell's code is folded. Code cells are untouched, so the execution cache still knows the notebook."""
    nb = nbformat.reads(text, as_version=4)
    if nb.cells and "colab-badge" in delivery.tags(nb.cells[0]):
        del nb.cells[0]
        note = delivery.STUDENT_NOTE.format(name=name).replace(f"](../{name})", f"]({_blob('notebooks/' + name)})")
        title = next((c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("# ")), None)
        if title is None:
            raise ValueError(f"{name}: no title cell (a markdown cell starting with '# ') for the site's page")
        heading, _, rest = title.source.partition("\n")
        title.source = f"{heading}\n\n{note}\n\n{rest.lstrip()}".rstrip() + "\n"
    for c in nb.cells:
        if "setup" in delivery.tags(c):
            c.metadata["tags"] = delivery.tags(c) + ["hide-input"]
    return nbformat.writes(nb) + "\n"


def student_edition(ref: str | None = "HEAD") -> dict:
    """``{name: text}`` of the student edition built from the notebooks as git has them at ``ref`` (what is
    committed: a notebook someone is editing does not reach the site half-done); ``ref=None``: the working tree.
    A notebook git does not have yet is taken from the working tree."""
    texts = {}
    for p in delivery.notebooks():
        source = delivery.committed_text(p, ref) if ref else None
        texts[p.name] = delivery._student_text(source if source is not None else p, p.name)
    return texts


def write_sources(fast: bool, ref: str | None = "HEAD") -> Path:
    """Generate the book's sources into build/book*/ (only the files whose text changes), the notebooks as git has
    them at ``ref`` (None: the working tree). Returns the folder."""
    src = source_dir(fast)
    src.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((BOOK / "_config.yml").read_text())
    config["repository"]["url"] = delivery.REPO_URL
    if fast:
        config["execute"]["timeout"] = 600
    _write(src / "_config.yml", "# generated by tools/site.py from book/_config.yml\n" + yaml.safe_dump(config))
    static = src / "_static"
    static.mkdir(exist_ok=True)
    for f in (BOOK / "_static").iterdir():
        if f.is_file():
            _write(static / f.name, f.read_text())
    for f in static.iterdir():      # Jupyter Book puts every .js and .css of _static/ in every page: nothing else
        if not (BOOK / "_static" / f.name).exists():
            shutil.rmtree(f) if f.is_dir() else f.unlink()
    for f in (BOOK / "_ext").glob("*.py"):
        _write(src / "_ext" / f.name, f.read_text())
    vendor.install("mathjax@3", src / "_extra" / "mathjax")
    texts = student_edition(ref)
    nbs = {name: nbformat.reads(t, as_version=4) for name, t in texts.items()}
    for name, text in texts.items():
        _write(src / "student" / name, book_notebook(name, text))
    for old in (src / "student").glob("*.ipynb"):          # a notebook renamed or removed in the course
        if old.name not in texts:
            old.unlink()
    toc = {"format": "jb-book", "root": "intro",
           "parts": [{"caption": "Notebooks", "chapters": [{"file": f"student/{Path(n).stem}"} for n in texts]},
                     {"caption": "Reference", "chapters": [{"file": "data"}]}]}
    _write(src / "_toc.yml", "# generated by tools/site.py\n" + yaml.safe_dump(toc, sort_keys=False))
    _write(src / "intro.md", landing_page(nbs, fast))
    _write(src / "data.md", data_page())
    return src


# ----------------------------------------------------------------------------------------------
# the build, stoppable
# ----------------------------------------------------------------------------------------------
def _stop_tree(proc: subprocess.Popen, grace: float = 3.0) -> None:
    """Stop ``proc`` and every process below it: the kernels run in sessions of their own, so a signal to the
    build's process group would miss them."""
    import psutil

    try:
        parent = psutil.Process(proc.pid)
        family = parent.children(recursive=True) + [parent]
    except psutil.NoSuchProcess:
        return
    for p in family:
        try:
            p.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(family, timeout=grace)
    for p in alive:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=grace)


def run_stoppable(cmd: list[str], env: dict) -> int:
    """Run ``cmd``; on SIGINT or SIGTERM, stop it and its kernels within seconds and exit with 128 + signal."""
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)

    def stop(signum, frame):
        print(f"\n{signal.Signals(signum).name}: stopping the build and its kernels", file=sys.stderr, flush=True)
        _stop_tree(proc)
        sys.exit(128 + signum)

    old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return proc.wait()
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _expected_seconds(name: str) -> float:
    """The notebook's full-mode wall time from the benchmark (0 when unknown): the longest start first."""
    import json

    f = ROOT / "benchmarks" / "results" / f"{Path(name).stem}.full.json"
    try:
        return float(json.loads(f.read_text()).get("wall_s", 0))
    except (OSError, ValueError, AttributeError):
        return 0.0


def _execute_one(data):
    from jupyter_cache.executors.basic import ExecutionWorkerLocalMProc

    return ExecutionWorkerLocalMProc()(data)


def execute_into_cache(src: Path, timeout: int, jobs: int) -> int:
    """Execute the book's notebooks that the cache does not hold yet, ``jobs`` at a time (longest first), into the
    cache MyST-NB reads (``_build/.jupyter_cache``): Sphinx then finds them all cached. Returns the number of
    notebooks that failed, after printing where and why."""
    import multiprocessing

    from jupyter_cache import get_cache
    from jupyter_cache.cache.db import NbProjectRecord
    from jupyter_cache.executors.basic import ProcessData

    cache = get_cache(str(src / "_build" / ".jupyter_cache"))
    for nb in sorted((src / "student").glob("*.ipynb")):
        cache.add_nb_to_project(str(nb))
    todo = sorted(cache.list_unexecuted(), key=lambda r: -_expected_seconds(r.uri))
    if not todo:
        print("every notebook is in the execution cache: nothing to run", flush=True)
        return 0
    print(f"executing {len(todo)} notebook(s), {jobs} at a time: "
          + ", ".join(Path(r.uri).stem for r in todo), flush=True)
    t0 = time.perf_counter()
    NbProjectRecord.remove_tracebacks([r.pk for r in todo], cache.db)      # an earlier run's, stopped or failed
    data = [ProcessData(r.pk, r.uri, cache, timeout, False) for r in todo]
    failed = []
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        for status, uri in pool.imap_unordered(_execute_one, data, chunksize=1):
            print(f"  {Path(uri).name}: {'ok' if status == 0 else 'FAILED'} "
                  f"({time.perf_counter() - t0:.0f} s since the start)", flush=True)
            if status != 0:
                failed.append(uri)
    for r in todo:
        if r.uri in failed:
            rec = NbProjectRecord.record_from_pk(r.pk, cache.db)
            print(f"\n{Path(r.uri).name} failed:\n{(rec.traceback or '')[-3000:]}", file=sys.stderr, flush=True)
    return len(failed)


def write_executed(src: Path) -> list[Path]:
    """Each book notebook with its outputs from the execution cache, into ``_build/jupyter_execute/student/``
    (MyST-NB writes there, but from the cache it writes the notebook without its outputs). What the slides and
    ``make test-student EXECUTED=...`` read."""
    from jupyter_cache import get_cache

    cache = get_cache(str(src / "_build" / ".jupyter_cache"))
    out = src / "_build" / "jupyter_execute" / "student"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for p in sorted((src / "student").glob("*.ipynb")):
        _, nb = cache.merge_match_into_notebook(nbformat.read(p, as_version=4))
        nbformat.write(nb, out / p.name)
        written.append(out / p.name)
    return written


def build(fast: bool, strict: bool = False, ref: str | None = "HEAD") -> Path:
    """Generate the sources and run Jupyter Book on them. Returns the HTML folder; exits non-zero on failure."""
    t0 = time.perf_counter()
    src = write_sources(fast, ref)
    env = dict(os.environ, MPLBACKEND=delivery.INLINE_BACKEND, PYDEVD_DISABLE_FILE_VALIDATION="1")
    if fast:
        env["COURSE_FAST"] = "1"
    else:
        env.pop("COURSE_FAST", None)
    env.pop("COURSE_STRICT", None)                  # the student edition: a missing answer is not an error
    timeout = 600 if fast else 1800
    jobs = int(os.environ.get("COURSE_SITE_JOBS", min(2, os.cpu_count() or 1)))
    if jobs > 1 and "OMP_NUM_THREADS" not in env:   # kernels side by side: one core each, no threads spinning idle
        threads = str(max(1, (os.cpu_count() or 1) // jobs))
        env.update(OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    rc = run_stoppable([sys.executable, "-m", "tools.site", "--execute-into-cache", str(src), str(timeout), str(jobs)],
                       env)
    if rc:
        raise SystemExit("the site's build stopped: a notebook failed (see above)" if rc == 3 else
                         f"the site's build stopped (exit {rc})")
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb), "build", str(src), "--builder", "html"] + (["-W", "--keep-going"] if strict else [])
    print(f"building the site ({'fast' if fast else 'full'} mode) from {src.relative_to(ROOT)}", flush=True)
    rc = run_stoppable(cmd, env)
    if rc:
        raise SystemExit(f"the site's build failed (exit {rc}): see the messages above; a failed notebook's log is "
                         f"in {(src / '_build' / 'html' / 'reports').relative_to(ROOT)}/")
    write_executed(src)
    html = html_dir(fast)
    from tools import slides   # the decks, with the figures just executed, next to the pages that link to them

    decks = slides.build(html / "slides", executed_dir(fast))
    print(f"{len(decks)} slide decks in {(html / 'slides').relative_to(ROOT)}/", flush=True)
    size = vendor.tree_size(html)
    print(f"site in {html.relative_to(ROOT)}/index.html: {size / 2**20:.1f} MiB, "
          f"built in {time.perf_counter() - t0:.0f} s", flush=True)
    return html


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fast", action="store_true", help="execute in fast mode (COURSE_FAST=1)")
    ap.add_argument("--strict", action="store_true", help="Sphinx warnings are errors (-W --keep-going)")
    ap.add_argument("--worktree", action="store_true",
                    help="the notebooks as they are in the working tree (default: as committed, git's HEAD)")
    ap.add_argument("--execute-into-cache", nargs=3, metavar=("SRC", "TIMEOUT", "JOBS"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.execute_into_cache:
        src, timeout, jobs = args.execute_into_cache
        return 3 if execute_into_cache(Path(src), int(timeout), int(jobs)) else 0
    build(args.fast, args.strict, None if args.worktree else "HEAD")
    return 0


if __name__ == "__main__":
    sys.exit(main())
