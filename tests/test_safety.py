"""Safety rules of the course's code, checked on every tracked Python file and notebook code cell:

- ``torch.load`` always with ``weights_only=True`` (a checkpoint can carry code otherwise);
- no ``pickle`` of anything (``pickle``/``joblib``/``dill`` loads, ``pandas.read_pickle``, ``allow_pickle=True``):
  downloaded data is read by format-specific readers only;
- no ``shell=True``, ``os.system`` or ``os.popen``: commands are run as argument lists;
- files are written only in the repository, ``COURSE_DATA`` and the cache (``data/cache`` or ``COURSE_CACHE``).

The scan reads the code's syntax tree (a pattern inside a string or a comment is not a call).
"""
from __future__ import annotations

import ast
import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNPICKLERS = {"pickle", "cPickle", "dill", "joblib", "cloudpickle", "shelve", "marshal"}


def _call_name(node: ast.Call) -> str:
    """'torch.load' for torch.load(...), 'load' for load(...), '' when not a plain name."""
    parts, f = [], node.func
    while isinstance(f, ast.Attribute):
        parts.append(f.attr)
        f = f.value
    if isinstance(f, ast.Name):
        parts.append(f.id)
    return ".".join(reversed(parts))


def _kw(node: ast.Call, name: str):
    for k in node.keywords:
        if k.arg == name:
            return k.value
    return None


def _is_true(value) -> bool:
    return isinstance(value, ast.Constant) and value.value is True


def violations(source: str) -> list[str]:
    """The safety rules that ``source`` (Python code) breaks, one readable line each."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
            if any((n or "").split(".")[0] in UNPICKLERS for n in names):
                found.append(f"line {node.lineno}: imports an unpickler ({', '.join(n for n in names if n)})")
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        if name.endswith("torch.load") or name == "load" and _kw(node, "weights_only") is not None:
            if not _is_true(_kw(node, "weights_only")):
                found.append(f"line {node.lineno}: {name}(...) without weights_only=True")
        if name.endswith("read_pickle") or _is_true(_kw(node, "allow_pickle")):
            found.append(f"line {node.lineno}: {name}(...) reads a pickle")
        if _is_true(_kw(node, "shell")):
            found.append(f"line {node.lineno}: {name}(..., shell=True)")
        if name in {"os.system", "os.popen"}:
            found.append(f"line {node.lineno}: {name}(...) runs a shell")
    return found


def _notebook_code(path: Path) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    tm = TransformerManager()  # `!cmd` and `%pip` become get_ipython() calls: plain Python to parse
    cells = json.loads(path.read_text())["cells"]
    return "\n".join(tm.transform_cell("".join(c["source"])) for c in cells if c["cell_type"] == "code")


def _tracked(*patterns) -> list[Path]:
    out = subprocess.run(["git", "ls-files", *patterns], cwd=ROOT, capture_output=True, text=True)
    files = [ROOT / p for p in out.stdout.split()] if out.returncode == 0 else []
    if not files:  # not a git checkout (an unpacked archive): scan the tree
        files = [p for pat in patterns for p in ROOT.rglob(pat) if ".venv" not in p.parts and "build" not in p.parts]
    return sorted(set(files))


SOURCES = [p for p in _tracked("*.py", "*.ipynb") if p.name != Path(__file__).name]

#: The one file allowed to read a pickle, and only that rule: the script that converts MOSES's pickled reference
#: statistics (checked against their sha256 in utils/data.py first) into the course's pickle-free file, once.
EXEMPT = {"tools/moses_reference_stats.py": ("reads a pickle",)}


def test_the_scan_sees_the_files():
    names = {p.name for p in SOURCES}
    assert {"data.py", "chem.py", "01_perceptron.ipynb", "09_crystal_gan.ipynb"} <= names, sorted(names)[:20]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_unsafe_load_no_pickle_no_shell(path):
    source = _notebook_code(path) if path.suffix == ".ipynb" else path.read_text()
    allowed = EXEMPT.get(path.relative_to(ROOT).as_posix(), ())
    bad = [v for v in violations(source) if not any(rule in v for rule in allowed)]
    assert not bad, f"{path.relative_to(ROOT)}:\n  " + "\n  ".join(bad)


@pytest.mark.parametrize("snippet, rule", [
    ("import torch\nsd = torch.load('m.pt')", "without weights_only=True"),
    ("import torch\nsd = torch.load('m.pt', weights_only=False)", "without weights_only=True"),
    ("from torch import load\nsd = load('m.pt', weights_only=False)", "without weights_only=True"),
    ("import pickle\nx = pickle.load(open('d.pkl', 'rb'))", "unpickler"),
    ("import pandas as pd\ndf = pd.read_pickle('d.pkl')", "reads a pickle"),
    ("import numpy as np\na = np.load('a.npy', allow_pickle=True)", "reads a pickle"),
    ("import subprocess\nsubprocess.run('ls ' + d, shell=True)", "shell=True"),
    ("import os\nos.system('rm -rf ' + d)", "runs a shell"),
])
def test_the_scan_catches_each_rule(snippet, rule):
    assert any(rule in v for v in violations(snippet)), violations(snippet)


def test_the_scan_ignores_safe_code_and_strings():
    safe = ("import torch, subprocess\nsd = torch.load('m.pt', map_location='cpu', weights_only=True)\n"
            "subprocess.run(['git', 'status'], check=True)\nnote = 'never torch.load(f) or shell=True'\n")
    assert violations(safe) == []


def test_default_write_locations_are_inside_the_repository(monkeypatch):
    """Without COURSE_CACHE, everything the course writes by itself goes under data/cache (git-ignored)."""
    from utils import chem, data, mnist

    monkeypatch.delenv("COURSE_CACHE", raising=False)
    cache = data.cache_dir()
    assert cache == ROOT / "data" / "cache"
    for where in (mnist.model_path(), chem.models_dir()):
        assert cache in Path(where).parents, f"{where} is outside {cache}"
    ignored = subprocess.run(["git", "check-ignore", "-q", str(cache / "x")], cwd=ROOT).returncode
    assert ignored == 0, "data/cache must be git-ignored"


def test_the_exemption_covers_one_pickle_read_after_a_checksum():
    """The exempt script reads exactly one pickle, and only a file that utils.data has verified (data.path)."""
    for rel, rules in EXEMPT.items():
        source = (ROOT / rel).read_text()
        found = violations(source)
        assert len(found) == 1 and all(any(r in v for r in rules) for v in found), found
        assert "data.path(\"moses/test_stats.npz\")" in source
