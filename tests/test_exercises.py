"""Every exercise check rejects its registered wrong answers, and every check is called in its notebook."""
import importlib
import json
import pkgutil
from pathlib import Path

import pytest

import utils.exercises as ex

ROOT = Path(__file__).resolve().parent.parent
for m in pkgutil.iter_modules(ex.__path__):
    importlib.import_module(f"utils.exercises.{m.name}")

CASES = [(key, i) for key, e in sorted(ex.REGISTRY.items()) for i in range(len(e.wrong))]


def _args(value):
    return value if isinstance(value, tuple) else (value,)


@pytest.mark.parametrize("key,i", CASES, ids=[f"{k}-wrong{i}" for k, i in CASES])
def test_check_rejects_wrong_answer(key, i):
    e = ex.REGISTRY[key]
    with pytest.raises(ex.NotYet):
        e.check(*_args(e.wrong[i]()))


def _notebook_for(module: str):
    number = module.removeprefix("ex")
    found = sorted((ROOT / "notebooks").glob(f"{number}_*.ipynb"))
    return found[0] if found else None


@pytest.mark.parametrize("key", sorted(ex.REGISTRY))
def test_check_is_called_on_a_solution_in_its_notebook(key):
    """The notebook calls the check in a (non-solution) cell that follows a solution cell, so executing the
    notebook proves the check accepts the worked solution."""
    e = ex.REGISTRY[key]
    nb_path = _notebook_for(e.notebook)
    assert nb_path is not None, f"no notebook for {e.notebook}"
    cells = json.loads(nb_path.read_text())["cells"]
    seen_solution = False
    for c in cells:
        tags = c.get("metadata", {}).get("tags", [])
        src = "".join(c["source"])
        if "solution" in tags:
            seen_solution = True
        elif c["cell_type"] == "code" and f"{e.name}(" in src:
            assert seen_solution, f"{e.name} is called before any solution cell in {nb_path.name}"
            return
    pytest.fail(f"{nb_path.name} never calls {e.name}")


def test_each_notebook_has_three_exercises():
    for nb_path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        n = sum(1 for e in ex.REGISTRY.values() if e.notebook == f"ex{nb_path.name[:2]}")
        assert n >= 3, f"{nb_path.name} has {n} registered exercise checks (at least 3 needed)"


@pytest.mark.parametrize("key", sorted(ex.REGISTRY))
@pytest.mark.parametrize("answer", [(), (None,), (...,)], ids=["no-argument", "None", "Ellipsis"])
def test_check_without_an_answer_says_so(key, answer):
    """A student who runs a check before writing the answer gets one line saying so, never a traceback."""
    with pytest.raises(ex.NotYet, match="no answer given yet"):
        ex.REGISTRY[key].check(*answer)


@pytest.mark.parametrize("key", sorted(ex.REGISTRY))
def test_check_given_a_wrong_type_explains(key):
    """A number where a function (or a table) is expected: NotYet with a readable message, nothing deeper."""
    with pytest.raises(ex.NotYet) as err:
        ex.REGISTRY[key].check(*((12345,) * len(_args(ex.REGISTRY[key].wrong[0]()))))
    assert "\n" not in str(err.value).strip() and str(err.value)
