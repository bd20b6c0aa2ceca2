"""The notebooks are the one source of the lesson code: utils/lessons/ is generated from their cells tagged `export`
(tools/export.py, `make export`), and nothing else defines those models again."""
import ast
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools import export

ROOT = Path(__file__).resolve().parent.parent


def test_generated_modules_are_current():
    bad = export.stale()
    assert bad == [], f"stale generated modules: {[str(p.relative_to(ROOT)) for p in bad]}; run `make export`"


def test_every_notebook_with_a_reused_model_exports_it():
    made = {p.name for p in export.generated()}
    assert {"cnn_mnist.py", "smiles_rnn.py", "vae.py", "gan.py"} <= made


def _definitions(tree) -> set:
    return {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def test_no_exported_definition_has_a_twin_in_the_code():
    """A class or function exported from a notebook is defined nowhere else in utils/, benchmarks/ or tools/
    (only imported), so a change to the notebook reaches every user of the model."""
    exported = {}
    for path, text in export.generated().items():
        for name in _definitions(ast.parse(text)):
            exported.setdefault(name, path.name)
    twins = []
    for folder in ("utils", "benchmarks", "tools"):
        for py in (ROOT / folder).rglob("*.py"):
            if "lessons" in py.parts or "exercises" in py.parts:
                continue
            tree = ast.parse(py.read_text())
            top = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
            nested = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
            twins += [f"{py.relative_to(ROOT)}: {name} (exported from {exported[name]})"
                      for name in sorted((top | nested) & set(exported)) if name not in ALLOWED_SAME_NAME]
    assert twins == []


#: plain names that a tool may use for a different purpose (checked by hand: none re-implements the lesson's)
ALLOWED_SAME_NAME = {"main"}


def _notebook(tmp_path, sources, setup="import torch\nfrom torch import nn\nimport utils"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(setup, metadata={"tags": ["setup"]})]
    nb.cells += [nbformat.v4.new_code_cell(s, metadata={"tags": ["export"]}) for s in sources]
    path = tmp_path / "42_toy_topic.ipynb"
    nbformat.write(nb, path)
    return path


def test_export_copies_definitions_with_the_imports_they_use(tmp_path):
    path = _notebook(tmp_path, ["def make(n):\n    return nn.Linear(n, 1)", "WIDTH = 4"])
    text = export.module_text(path)
    assert "do not edit" in text and "from torch import nn" in text
    assert "import utils" not in text and "import torch\n" not in text        # imports nothing it does not use
    assert text.index("def make") < text.index("WIDTH = 4")
    namespace = {}
    exec(compile(text, "toy", "exec"), namespace)
    assert namespace["make"](3).in_features == 3
    assert export.module_name(path) == "toy_topic"


@pytest.mark.parametrize("source, why", [
    ("net = nn.Linear(2, 1)", "definitions only"),                           # builds a model at import
    ("print('hello')", "definitions only"),
    ("for i in range(3):\n    pass", "definitions only"),
    ("def f():\n    return X_train.mean()", "X_train"),                      # a global of another cell
    ("class Net(nn.Module):\n    def forward(self, x):\n        return x * scale", "scale"),
    ("def f(:\n    pass", "does not parse"),
])
def test_export_refuses_what_would_break_the_module(tmp_path, source, why):
    with pytest.raises(export.ExportError, match=why):
        export.module_text(_notebook(tmp_path, [source]))


def test_check_mode_names_a_stale_module(tmp_path, monkeypatch):
    nbs, lessons = tmp_path / "notebooks", tmp_path / "lessons"
    nbs.mkdir(), lessons.mkdir()
    _notebook(nbs, ["def f():\n    return 1"])
    monkeypatch.setattr(export, "NOTEBOOKS", nbs)
    monkeypatch.setattr(export, "LESSONS", lessons)
    monkeypatch.setattr(export, "ROOT", tmp_path)
    assert export.main(["--check"]) == 1
    assert export.main([]) == 0 and export.main(["--check"]) == 0
    (lessons / "toy_topic.py").write_text("# edited by hand\n")
    assert export.stale() == [lessons / "toy_topic.py"]
    (lessons / "orphan.py").write_text("")
    assert lessons / "orphan.py" in export.stale()


def test_importing_utils_stays_light():
    """`import utils` imports neither torch, RDKit, matplotlib nor the exercises (they load on first use)."""
    code = ("import sys, utils; heavy = [m for m in ('torch', 'rdkit', 'matplotlib', 'utils.exercises', "
            "'utils.lessons') if m in sys.modules]; print(heavy); utils.data; assert 'utils.data' in sys.modules")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
