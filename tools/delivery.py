"""Delivery of the course (for authors and instructors): Colab stamping, student edition, slides, static site.

    python -m tools.delivery stamp              # Colab badge + Colab-only install block, then the student edition
    python -m tools.delivery student            # notebooks/student/: the exercises left empty, solutions removed
    python -m tools.delivery slides             # build/slides/: one reveal.js deck per notebook (tools/slides.py)
    python -m tools.delivery site [--fast]      # the Jupyter Book site in build/book*/_build/html (tools/site.py)

Every command works on all of ``notebooks/``, so a notebook added later is covered with no extra work.
The repository's address lives in one place: ``REPO_URL`` below.
"""
from __future__ import annotations

import argparse
import copy
import os
import re
import sys
from pathlib import Path

import nbformat


ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
STUDENT = NOTEBOOKS / "student"          # the student edition, committed: what the badges open
BUILD = ROOT / "build"

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


INLINE_BACKEND = "module://matplotlib_inline.backend_inline"   # Jupyter's own: the figures land in the outputs


def notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def tags(cell) -> list:
    return cell.get("metadata", {}).get("tags", [])


# ----------------------------------------------------------------------------------------------
# writing notebooks without ever losing a person's work
# ----------------------------------------------------------------------------------------------
def strip(nb):
    """``nb`` without outputs, execution counts or per-run metadata (in place; returns it). Whatever a kernel,
    an autosave or a presentation left in a notebook never reaches what the course commands write."""
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs = []
            c.execution_count = None
        for key in ("execution", "collapsed", "scrolled"):
            c.metadata.pop(key, None)
    return nb


def read_stripped(path):
    return strip(nbformat.read(path, as_version=4))


def committed_text(path: Path, ref: str = "HEAD") -> str | None:
    """The text git has for ``path`` at ``ref``; None when the file is not tracked there or git is not available."""
    import subprocess

    path = Path(path).resolve()
    try:
        top = subprocess.run(["git", "-C", str(path.parent), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, check=True).stdout.strip()
        rel = path.relative_to(Path(top).resolve()).as_posix()
        done = subprocess.run(["git", "-C", top, "show", f"{ref}:{rel}"], capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError, ValueError):
        return None
    return done.stdout if done.returncode == 0 else None


def has_unsaved_work(path: Path) -> bool:
    """True when ``path`` exists and differs from what git has: someone's answers, edits or outputs live there.
    Outside a git checkout (or for a file git does not track) any existing file counts as someone's work."""
    path = Path(path)
    if not path.exists():
        return False
    return committed_text(path) != path.read_text()


class WouldLoseWork(SystemExit):
    """A course command refused to overwrite notebooks that hold changes git does not have."""


def refusal(paths, command: str) -> str:
    names = "\n".join(f"  {p.relative_to(ROOT) if p.is_relative_to(ROOT) else p}" for p in paths)
    return (f"`{command}` did not overwrite {len(paths)} notebook(s) that hold changes git does not have "
            f"(answers, edits or outputs):\n{names}\n"
            "Nothing was lost. To keep that work, copy each file somewhere of yours (for example my-work/, which no "
            "course command writes) or commit it; to throw it away, `git checkout -- FILE`. Then run the command "
            f"again. To overwrite anyway: FORCE=1 {command}.")


def write_notebooks(texts: dict, command: str, force: bool = False) -> list[Path]:
    """Write each ``path: text``, but only where the text changes, and never over a file holding work that git
    does not have (unless ``force``): then nothing at all is written and ``WouldLoseWork`` says which files and
    what to do. Returns the paths written."""
    todo = {Path(p): t for p, t in texts.items() if not Path(p).exists() or Path(p).read_text() != t}
    blocked = [p for p in todo if not force and has_unsaved_work(p)]
    if blocked:
        raise WouldLoseWork(refusal(blocked, command))
    for p, t in todo.items():
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(t)
    return list(todo)


def _force() -> bool:
    return os.environ.get("FORCE", "").strip().lower() in {"1", "true", "yes", "on"}


# ----------------------------------------------------------------------------------------------
# Colab: badge and guarded install block
# ----------------------------------------------------------------------------------------------
def colab_url(nb_name: str, student: bool = False) -> str:
    owner_repo = REPO_URL.rstrip("/").split("github.com/", 1)[1]
    folder = "notebooks/student" if student else "notebooks"
    return f"https://colab.research.google.com/github/{owner_repo}/blob/main/{folder}/{nb_name}"


def badge_markdown(nb_name: str, student: bool = False, image: bool = False) -> str:
    """The "Open in Colab" link: a text link in the notebooks (an image badge is a broken image in JupyterLab
    offline), the usual image badge where ``image`` (the README, read online)."""
    if image:
        return (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
                f"({colab_url(nb_name, student)})")
    return f"[Open this notebook in Google Colab]({colab_url(nb_name, student)})"


def binder_url() -> str:
    """Binder builds environment.yml + postBuild and opens JupyterLab on the student edition."""
    owner_repo = REPO_URL.rstrip("/").split("github.com/", 1)[1]
    return f"https://mybinder.org/v2/gh/{owner_repo}/HEAD?urlpath=lab/tree/notebooks/student"


README_BADGES = ("<!-- badges: written by `python -m tools.delivery stamp` from tools.delivery.REPO_URL -->",
                 "<!-- /badges -->")


def readme_badges() -> str:
    return (f"[![Binder](https://mybinder.org/badge_logo.svg)]({binder_url()}) "
            f"{badge_markdown(notebooks()[0].name, student=True, image=True)}")


def stamp_readme(readme: Path = ROOT / "README.md") -> bool:
    """Write the Binder and Colab badges between the README's badge markers. Returns True if it changed."""
    text = readme.read_text()
    start, end = README_BADGES
    if start not in text or end not in text:
        raise SystemExit(f"{readme.name}: the badge markers {start!r} ... {end!r} are missing")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    new = f"{head}{start}\n{readme_badges()}\n{end}{tail}"
    if new != text:
        readme.write_text(new)
    return new != text


def stamp_notebook(nb) -> bool:
    """Put the badge cell first and the Colab block in the set-up cell. Returns True if anything changed."""
    before = nbformat.writes(nb)
    name = nb.metadata.get("_course_name")
    badge = badge_markdown(name)
    if nb.cells and "colab-badge" in tags(nb.cells[0]):
        nb.cells[0].source = badge
    else:
        cell = nbformat.v4.new_markdown_cell(badge, metadata={"slideshow": {"slide_type": "skip"},
                                                              "tags": ["colab-badge"]})
        cell["id"] = "colab-badge"
        nb.cells.insert(0, cell)
    setup = [c for c in nb.cells if "setup" in tags(c)]
    if len(setup) != 1:
        raise SystemExit(f"{name}: expected exactly one cell tagged 'setup', found {len(setup)}")
    lines = setup[0].source.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith('if "google.colab" in sys.modules'))
    except StopIteration:
        start = next((i + 1 for i, line in enumerate(lines) if line.strip() == "import sys"), None)
        if start is None:
            lines.insert(0, "import sys")
            start = 1
        lines[start:start] = ["if \"google.colab\" in sys.modules:"]
    end = start + 1
    while end < len(lines) and (lines[end].startswith((" ", "\t")) or not lines[end].strip()):
        end += 1
    lines[start:end] = colab_block()
    setup[0].source = "\n".join(lines)
    return nbformat.writes(nb) != before


def stamp(paths=None, force: bool = False) -> list[Path]:
    """Re-stamp the badge and Colab block of every notebook (outputs stripped); refuses, writing nothing, where a
    notebook to change holds work that git does not have."""
    texts = {}
    for p in paths or notebooks():
        nb = read_stripped(p)
        nb.metadata["_course_name"] = p.name
        stamp_notebook(nb)
        del nb.metadata["_course_name"]
        texts[p] = nbformat.writes(nb) + "\n"
    return write_notebooks(texts, "make stamp", force)


# ----------------------------------------------------------------------------------------------
# student edition
# ----------------------------------------------------------------------------------------------
STUB_HEAD = "# Your answer (replace each ...), then run the check in the next cell."


def _check_call_args(cell_source: str) -> list[str]:
    """The names handed to the ``check_...(...)`` call of an exercise's check cell, in order."""
    import ast

    names = []
    for node in ast.walk(ast.parse(cell_source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.startswith("check_")):
            names += [a.id for a in node.args if isinstance(a, ast.Name)]
    return list(dict.fromkeys(names))


def answer_stub(solution_source: str, check_source: str) -> str:
    """The empty answer cell that replaces a worked solution: each name the check is given, defined with an empty
    body (a function keeps its signature) or as ``...``, so that the check can say "no answer given yet"."""
    import ast

    tree = ast.parse(solution_source)
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    lines = [STUB_HEAD]
    names = _check_call_args(check_source)
    if not names:
        raise ValueError(f"the check cell after this solution calls no check_...(name): {check_source[:80]!r}")
    for name in names:
        if name in functions:
            f = functions[name]
            lines += ["", f"def {name}({ast.unparse(f.args)}):"]
            doc = ast.get_docstring(f)
            if doc:
                lines.append(f'    """{doc}"""')
            lines.append("    ...")
        else:
            lines.append(f"{name} = ...")
    return "\n".join(lines) + "\n"


STUDENT_NOTE = ("*Student edition: each exercise's answer cell is left for you; a check says what is right or not, "
                "and the notebook goes on either way. The worked solutions are in the instructor's edition, "
                "[`notebooks/{name}`](../{name}).*")


def student_notebook(nb, name: str | None = None):
    """A copy of ``nb`` whose worked solutions (cells tagged 'solution') are replaced by empty answer cells,
    with its Colab badge pointing at the student edition."""
    nb = copy.deepcopy(nb)
    cells = nb.cells
    for i, c in enumerate(cells):
        if "solution" in tags(c):
            check = next((d for d in cells[i + 1:] if d.cell_type == "code" and "solution" not in tags(d)), None)
            if check is None:
                raise ValueError(f"{name or 'notebook'}: a solution cell with no check cell after it")
            stub = nbformat.v4.new_code_cell(answer_stub(c.source, check.source),
                                             metadata={"slideshow": {"slide_type": "-"},
                                                       "tags": ["exercise-answer"]})
            stub["id"] = c.get("id", f"stub{i}")
            cells[i] = stub
    if name and cells and "colab-badge" in tags(cells[0]):
        cells[0].source = badge_markdown(name, student=True) + "\n\n" + STUDENT_NOTE.format(name=name)
    return nb


def _student_text(source: Path | str, name: str | None = None) -> str:
    """The student edition of a notebook (a path, or its text as in a file), outputs stripped, as
    ``nbformat.write`` would put it in a file."""
    if isinstance(source, Path):
        name, nb = source.name, nbformat.read(source, as_version=4)
    else:
        nb = nbformat.reads(source, as_version=4)
    return nbformat.writes(student_notebook(strip(nb), name)) + "\n"


def student_texts(out: Path = STUDENT) -> dict:
    """``{target path: text}`` of the student edition built from the notebooks as they are now."""
    return {out / p.name: _student_text(p) for p in notebooks()}


def build_student(out: Path = STUDENT, force: bool = False) -> list[Path]:
    """Write the student edition into ``out``: only the notebooks whose text changes, and never over a student
    notebook that holds work git does not have (answers, outputs): then it writes nothing and says which."""
    texts = student_texts(out)
    write_notebooks(texts, "make student", force)
    return list(texts)


def student_edition_is_current(ref: str = "HEAD") -> list[str]:
    """The names of the student notebooks that git has at ``ref`` and that differ from what the build makes of the
    notebooks git has at ``ref``: what a student's autosave left in the working tree plays no part. Outside a git
    checkout, the files as they are."""
    stale = []
    for p in notebooks():
        source, target = committed_text(p, ref), committed_text(STUDENT / p.name, ref)
        if source is None:                                      # not committed yet (or no git): the files
            source = p.read_text()
            target = (STUDENT / p.name).read_text() if (STUDENT / p.name).exists() else None
        if target != _student_text(source, p.name):
            stale.append(p.name)
    return stale


# ----------------------------------------------------------------------------------------------
# executing, slides and site
# ----------------------------------------------------------------------------------------------
def execute(notebook, fast: bool, timeout: int = 3600, env: dict | None = None):
    """Run a notebook (a path, or a notebook node executed in place) top to bottom in a fresh kernel, from
    ``notebooks/``, in fast or full mode, with Jupyter's inline backend so that every figure lands in the outputs;
    ``env``: more environment variables for the kernel. The one executor of the site and the benchmark."""
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4) if isinstance(notebook, (str, Path)) else notebook
    saved = dict(os.environ)
    os.environ["MPLBACKEND"] = INLINE_BACKEND           # not Agg (what `make test` sets): it would drop the figures
    if fast:
        os.environ["COURSE_FAST"] = "1"
    else:
        os.environ.pop("COURSE_FAST", None)
    os.environ.update(env or {})
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return nb


def build_slides(out: Path, executed: Path | None = None, with_vendor: bool = True) -> list[Path]:
    """One reveal.js deck per notebook (tools/slides.py): figures from the executed notebooks in ``executed``
    when present, otherwise none (the notebooks as committed; present them live with RISE)."""
    from tools import slides

    return slides.build(out, executed, with_vendor=with_vendor)


def _title_and_intro(nb) -> tuple[str, str]:
    for c in nb.cells:
        if c.cell_type == "markdown" and c.source.lstrip().startswith("# "):
            first, _, rest = c.source.strip().partition("\n")
            title = first.lstrip("# ").strip()
            paragraphs = [" ".join(par.split()) for par in rest.split("\n\n")]
            para = next((par for par in paragraphs if par and not par.startswith(("*", "-", "#", "<", "["))), "")
            sentence = re.match(r"(.+?[.!?])(\s|$)", para)            # the site's landing page: the first sentence
            return title, sentence.group(1) if sentence else para
    return "(untitled)", ""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["stamp", "student", "slides", "site"])
    ap.add_argument("--fast", action="store_true", help="site: execute in fast mode")
    ap.add_argument("--strict", action="store_true", help="site: Sphinx warnings are errors (CI)")
    ap.add_argument("--out", type=Path, help="slides, student: output folder (default: build/slides, notebooks/student)")
    args = ap.parse_args(argv)
    force = _force()
    if args.command == "stamp":
        changed = stamp(force=force)
        if stamp_readme():
            changed.append(ROOT / "README.md")
        print(f"stamped {len(changed)} file(s) with {REPO_URL}" + "".join(f"\n  {p.name}" for p in changed))
        n = len(build_student(force=force))
        print(f"rebuilt the student edition: {n} notebooks in {STUDENT.relative_to(ROOT)}/")
    elif args.command == "student":
        out = args.out or STUDENT
        n = len(build_student(out, force=force))
        print(f"wrote {n} student notebooks (answer cells left empty, checks kept) to {out}")
    elif args.command == "slides":
        from tools import slides

        argv_slides = ["--out", str(args.out)] if args.out else []
        slides.main(argv_slides)
    elif args.command == "site":
        from tools import site

        site.build(args.fast, args.strict, "HEAD")
    return 0


if __name__ == "__main__":
    sys.exit(main())
