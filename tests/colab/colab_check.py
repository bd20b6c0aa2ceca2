"""Colab-like check (`make colab-check`): the course run the way Google Colab runs it, here and offline.

1. A virtual environment shaped like Colab's (``build/colab-venv``): the newest numpy, scipy, pandas, matplotlib,
   torch and torchvision the registry gives, and Colab's own front-end versions (IPython 7.34, ipykernel 6.17,
   ipywidgets 7.7.1); no RDKit, ASE, rdata nor the course. Made once (a few minutes, about 6 GB), then put
   back to that state at the start of every run, so that each run installs the course afresh, as Colab does.
2. A kernel in it that believes it is on Colab: an IPython start-up file puts a stub ``google.colab`` in
   ``sys.modules`` (what the set-up cell's guard tests). It starts in an empty folder, as Colab's ``/content``, so
   nothing of this checkout is importable: ``import utils`` works only if the cell installed the course.
3. Each notebook's set-up cell exactly as committed, with git's address of the repository redirected to this
   checkout (``url.<checkout>.insteadOf``, given in the kernel's environment): the cell clones the committed HEAD
   into ``/content/nn-materials-course`` as on Colab (that folder is made by this check and removed at the end)
   and pip-installs it. First, a download that fails and an install that fails must each stop the cell with the
   block's clear message. Then every set-up cell runs, notebooks 01 and 06 of the student edition (what the badges
   open: every answer cell empty) run whole in fast mode, the widgets of 03 and 04 (and a tqdm bar) must display as
   ipywidgets 7 widgets, and CHGNet (09's Going further 3) must give fcc Pd a sane energy.

Prints a table and exits 1 on any failure. The clone takes the committed HEAD: commit first, or pass ``--repo``.

    python tests/colab/colab_check.py [--repo PATH] [--venv build/colab-venv] [--rebuild]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# What Colab has that the course uses; the front-end versions are Colab's own (`!pip list` there), the rest the
# newest the registry gives (Colab follows numpy, torch and matplotlib closely). Not here: RDKit, ASE, rdata.
COLAB_PACKAGES = ["numpy", "scipy", "pandas", "matplotlib", "pillow", "torch", "torchvision", "tqdm", "requests",
                  "ipython==7.34.0", "ipykernel==6.17.1", "ipywidgets==7.7.1"]
MAX_AGE_DAYS = 7               # then the environment is made anew: Colab moves to new releases often
WHOLE = ("01", "06")            # notebooks run top to bottom in fast mode; the others run their set-up cell only
COLAB_WIDGETS_7 = ("import ipywidgets\nassert ipywidgets.__version__.startswith('7.'), (\n"
                   "    f'the install replaced Colab\\'s ipywidgets 7 by {ipywidgets.__version__}, which Colab cannot show')\n")
PROBES = {                      # cells run after the set-up cell: (what they check, code, widgets it must display)
    "03": ("its widgets",
           "from IPython.display import display\nfrom tqdm.auto import tqdm\n"
           "from utils.widgets.playground import Playground\n"
           "display(Playground(dataset='xor'))\nfor _ in tqdm(range(3), desc='a tqdm bar'):\n    pass", 2),
    "04": ("its widgets",
           "from IPython.display import display\nfrom utils.widgets.kernel_explorer import KernelExplorer\n"
           "display(KernelExplorer({'noise': np.random.default_rng(0).random((16, 16))}))", 1),
    "09": ("CHGNet",             # Going further 3's potential: installed, its weights from the wheel, a sane energy
           "from ase.build import bulk\nfrom utils import crystal\n"
           "pd_fcc = bulk('Pd', 'fcc', a=3.89)\npd_fcc.calc = crystal.chgnet_calculator()\n"
           "e = pd_fcc.get_potential_energy()\nassert -5.6 < e < -4.8, f'CHGNet: fcc Pd at {e:.2f} eV/atom'", 0),
}
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
KERNEL = "colab-like"
STUB = ('# Colab-like check: look like Google Colab to the set-up cell\'s guard ("google.colab" in sys.modules).\n'
        "import sys as _sys, types as _types\n"
        '_sys.modules.setdefault("google.colab", _types.ModuleType("google.colab"))\n'
        "del _sys, _types\n")


def canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def plan_restore(base: dict, now: dict) -> tuple[list, list]:
    """What to uninstall (not in ``base``) and to reinstall (``name==version`` of ``base``) to get back to it."""
    extra = sorted(n for n in now if n not in base)
    changed = sorted(f"{n}=={v}" for n, v in base.items() if now.get(n) != v)
    return extra, changed


def sh(*command, **kwargs):
    return subprocess.run([str(c) for c in command], check=True, **kwargs)


def pip(python: Path, *args) -> None:
    """pip, quiet; its messages are shown only when it fails."""
    done = subprocess.run([str(python), "-m", "pip", *args, "-q", "--disable-pip-version-check"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"pip {' '.join(args)} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")


def pip_list(python: Path) -> dict:
    out = sh(python, "-m", "pip", "list", "--format=json", "--disable-pip-version-check", capture_output=True,
             text=True).stdout
    return {canonical(d["name"]): d["version"] for d in json.loads(out)}


def ensure_venv(venv: Path, rebuild: bool) -> Path:
    """The Colab-like environment, made if missing (or asked), else put back to what it was when made."""
    python, stamp = venv / "bin" / "python", venv / "colab-base.json"
    base = json.loads(stamp.read_text()) if stamp.exists() and not rebuild else None
    stale = base is not None and time.time() - stamp.stat().st_mtime > MAX_AGE_DAYS * 86400
    if base is None or stale or base.get("request") != COLAB_PACKAGES or not python.exists():
        print(f"making the Colab-like environment {venv} ({'older than a week, ' if stale else ''}"
              f"a few minutes)...", flush=True)
        shutil.rmtree(venv, ignore_errors=True)
        sh(sys.executable, "-m", "venv", venv)
        pip(python, "install", *COLAB_PACKAGES)
        stamp.write_text(json.dumps({"request": COLAB_PACKAGES, "installed": pip_list(python)}, indent=1))
        return python
    extra, changed = plan_restore(base["installed"], pip_list(python))
    if extra:
        print(f"removing what the last run installed: {' '.join(extra)}", flush=True)
        pip(python, "uninstall", "-y", *extra)
    if changed:
        print(f"putting back: {' '.join(changed)}", flush=True)
        pip(python, "install", "--no-deps", *changed)
    return python


class CloneFolder:
    """Colab's ``/content/nn-materials-course``: made free for the set-up cell, removed afterwards (with
    ``/content`` when this check made it). A state file lets a later run tidy up after an interrupted one."""

    def __init__(self, clone: Path, state: Path):
        self.clone, self.state = clone, state

    def __enter__(self):
        old = json.loads(self.state.read_text()) if self.state.exists() else {}
        if self.clone.exists():
            if old.get("clone") != str(self.clone):
                raise SystemExit(f"{self.clone} exists and was not made by this check: move it away and run again "
                                 f"(the check clones the course there, as Colab does, and removes it afterwards).")
            shutil.rmtree(self.clone)
        self.made_parent = old.get("made_parent", False) or not self.clone.parent.exists()
        try:
            self.clone.parent.mkdir(parents=True, exist_ok=True)
        except PermissionError:
            raise SystemExit(f"cannot create {self.clone.parent}, where Colab's set-up cell clones the course: run "
                             f"as root, or create it writable for this user.") from None
        self.state.parent.mkdir(parents=True, exist_ok=True)
        self.state.write_text(json.dumps({"clone": str(self.clone), "made_parent": self.made_parent}))
        return self

    def reset(self):
        shutil.rmtree(self.clone, ignore_errors=True)

    def __exit__(self, *exc):
        self.reset()
        if self.made_parent:
            try:
                self.clone.parent.rmdir()
            except OSError:
                pass
        self.state.unlink(missing_ok=True)
        return False


def kernel_env(venv: Path, home: Path, git_target: str, repo_url: str, extra: dict | None = None) -> dict:
    """The kernel's environment: the Colab-like venv first on PATH, nothing of this checkout's, git redirected."""
    drop = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "MPLBACKEND", "JUPYTER_PATH"}
    env = {k: v for k, v in os.environ.items()
           if k not in drop and not k.startswith(("COURSE_", "PYTEST", "GIT_CONFIG", "IPYTHON"))}
    ours = Path(sys.prefix) / "bin"
    env["PATH"] = os.pathsep.join([str(venv / "bin")] + [p for p in env.get("PATH", "").split(os.pathsep)
                                                          if p and Path(p) != ours])
    env.update({"IPYTHONDIR": str(home / "ipython"), "COURSE_FAST": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
                "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": f"url.{git_target}.insteadOf",
                "GIT_CONFIG_VALUE_0": repo_url})
    if os.environ.get("COURSE_DATA"):
        env["COURSE_DATA"] = os.environ["COURSE_DATA"]
    env.update(extra or {})
    return env


def make_kernel(home: Path, python: Path) -> None:
    spec = home / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (Colab-like)", "language": "python"}))
    startup = home / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-google-colab.py").write_text(STUB)
    os.environ["JUPYTER_PATH"] = os.pathsep.join([str(home / "jupyter"), os.environ.get("JUPYTER_PATH", "")])


def errors(nb) -> list[str]:
    """Every error shown in the notebook's outputs (also those IPython prints while displaying an object): its first
    line, and its last where it has more (the set-up cell's messages end with the failing command's stderr)."""
    def said(text: str) -> str:
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        return " ... ".join(lines[:1] + lines[-1:]) if len(lines) > 1 else "".join(lines)

    return [f"cell {i}: {o.get('ename')}: {said(o.get('evalue') or '')}"
            for i, c in enumerate(nb.cells) for o in c.get("outputs", []) if o.get("output_type") == "error"]


def execute(nb, env: dict, cwd: Path, allow_errors: bool = False, timeout: int = 900) -> tuple:
    """Run ``nb`` in a fresh Colab-like kernel; returns (seconds, exception or None). The kernel talks over Unix
    sockets in a folder of its own, not TCP ports: CI starts other kernels meanwhile (the site's build), and a port
    picked free can be taken by one of them before this kernel binds it ("Address already in use")."""
    import tempfile

    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="colab-kernel-") as sockets:
        try:
            km = KernelManager(kernel_name=KERNEL, transport="ipc", ip=str(Path(sockets) / "kernel"))
            NotebookClient(nb, km=km, timeout=timeout, kernel_name=KERNEL, allow_errors=allow_errors,
                           resources={"metadata": {"path": str(cwd)}}).execute(env=env)
            failure = None
        except Exception as exc:  # noqa: BLE001 - reported in the table
            failure = exc
    return time.perf_counter() - t0, failure


def slowest(nb) -> str:
    """'slowest cell: 12 (40 s)' from the timings nbclient records."""
    from datetime import datetime

    def seconds(cell):
        t = cell.get("metadata", {}).get("execution", {})
        try:
            return (datetime.fromisoformat(t["shell.execute_reply"].replace("Z", "+00:00"))
                    - datetime.fromisoformat(t["iopub.execute_input"].replace("Z", "+00:00"))).total_seconds()
        except (KeyError, ValueError):
            return 0.0

    times = [(seconds(c), i) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    return f"slowest cell: {max(times)[1]} ({max(times)[0]:.0f} s)" if len(times) > 1 else ""


def notebooks_at_head(repo: Path) -> dict:
    """{'01': notebook, ...}: the student edition as committed (what the badges open on Colab), read from the
    repository's HEAD."""
    import nbformat

    names = sh("git", "-C", repo, "ls-tree", "--name-only", "HEAD", "notebooks/student/", capture_output=True,
               text=True).stdout.split()
    out = {}
    for name in sorted(n for n in names if n.endswith(".ipynb")):
        text = sh("git", "-C", repo, "show", f"HEAD:{name}", capture_output=True, text=True).stdout
        out[Path(name).name[:2]] = (Path(name).name, nbformat.reads(text, as_version=4))
    return out


def setup_cell(nb):
    return next(c for c in nb.cells if "setup" in c.get("metadata", {}).get("tags", []))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", type=Path, default=ROOT, help="git repository whose HEAD Colab would clone")
    ap.add_argument("--venv", type=Path, default=ROOT / "build" / "colab-venv")
    ap.add_argument("--rebuild", action="store_true", help="make the Colab-like environment anew")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import nbformat

    from tools.delivery import CLONE_DIR, REPO_URL

    t_start = time.perf_counter()
    repo, venv = args.repo.resolve(), args.venv.resolve()
    head = sh("git", "-C", repo, "rev-parse", "--short", "HEAD", capture_output=True, text=True).stdout.strip()
    dirty = sh("git", "-C", repo, "status", "--porcelain", "--", "notebooks", "utils", "pyproject.toml",
               capture_output=True, text=True).stdout.strip()
    print(f"Colab-like check of {repo} at {head} (the committed HEAD, as Colab clones it)")
    if dirty:
        print("note: these uncommitted changes are not in the clone, so not checked:\n  "
              + dirty.replace("\n", "\n  "))
    if not os.environ.get("COURSE_DATA"):
        print("note: COURSE_DATA is not set: notebooks 01 and 06 will try to download their data")
    t0 = time.perf_counter()
    python = ensure_venv(venv, args.rebuild)
    rows = [("Colab-like environment ready", "ok", time.perf_counter() - t0, "")]
    books = notebooks_at_head(repo)
    good = f"file://{repo}"

    def row(what, ok, seconds, detail=""):
        rows.append((what, "ok" if ok else "FAILED", seconds, detail))
        print(f"  {'ok    ' if ok else 'FAILED'} {what} ({seconds:.0f} s) {detail}", flush=True)

    def expect_stop(what, env, message):
        nb = nbformat.v4.new_notebook(cells=[setup_cell(books["01"][1])])
        seconds, exc = execute(nb, env, content, allow_errors=True)
        found = errors(nb)
        ok = exc is None and len(found) == 1 and "RuntimeError: " + message in found[0]
        row(what, ok, seconds, "" if ok else (repr(exc) if exc else "; ".join(found) or "the cell did not stop"))

    with CloneFolder(Path(CLONE_DIR), venv.parent / "colab-check.json") as folder, \
            tempfile.TemporaryDirectory(prefix="colab-check-") as tmp:
        home = Path(tmp)
        content = home / "content"       # the kernel's working folder, as Colab's /content
        content.mkdir()
        make_kernel(home, python)
        print("running (each in a fresh Colab-like kernel):", flush=True)
        expect_stop("a failed download stops the set-up cell with its message",
                    kernel_env(venv, home, f"file://{home}/no-such-repository", REPO_URL),
                    f"Could not download the course from {REPO_URL}")
        row("  ... and leaves no half clone behind", not Path(CLONE_DIR).exists(), 0)
        expect_stop("a failed install stops the set-up cell with its message",
                    kernel_env(venv, home, good, REPO_URL,
                               {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(home / "no-wheels")}),
                    "Could not install the course's packages")
        folder.reset()
        env = kernel_env(venv, home, good, REPO_URL)
        for key, (name, nb) in books.items():
            if key in WHOLE:
                what, cells = f"{name}: whole, fast mode", nb.cells
            else:
                what, cells = f"{name}: set-up cell", [setup_cell(nb)]
            label, code, widgets = PROBES.get(key, (None, None, 0))
            if code:
                what += f" + {label}"
                cells = cells + [nbformat.v4.new_code_cell((COLAB_WIDGETS_7 if widgets else "") + code)]
            run = nbformat.v4.new_notebook(cells=cells, metadata=nb.metadata)
            if key == next(iter(books)):
                what += " (clones and installs the course)"
            seconds, exc = execute(run, env, content)
            problems = errors(run)
            if exc is not None and not problems:
                problems = [f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"]
            if widgets and not problems:
                shown = [o for o in run.cells[-1].get("outputs", []) if WIDGET_MIME in o.get("data", {})]
                if len(shown) < widgets:
                    problems = [f"{len(shown)} widget(s) displayed, {widgets} expected"]
            row(what, not problems, seconds, "; ".join(problems)[:600] or (slowest(run) if key in WHOLE else ""))

    wall = time.perf_counter() - t_start
    size = sum(f.stat().st_size for f in venv.rglob("*") if f.is_file() and not f.is_symlink())
    failed = [r for r in rows if r[1] != "ok"]
    width = max(len(r[0]) for r in rows)
    print(f"\nColab-like check, {head}: {len(rows) - len(failed)} passed, {len(failed)} failed")
    for what, result, seconds, detail in rows:
        print(f"  {what:<{width}}  {result:<6} {seconds:6.0f} s  {detail}")
    print(f"wall time {wall / 60:.1f} min; Colab-like environment {size / 2**30:.1f} GiB in {venv}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
