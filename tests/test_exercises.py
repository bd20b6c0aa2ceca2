"""Every exercise check rejects its registered wrong answers, and every check is called in its notebook.

Strict mode (a wrong answer raises: tests/conftest.py) for every test here but the ones about what a student
sees."""
import ast
import importlib
import json
import pkgutil
from pathlib import Path

import pytest

import utils.exercises as ex
from tools.delivery import _check_call_args

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


def test_each_notebook_has_three_predict_then_verify_exercises():
    """Issue 22, item 2: exercises that make students think, not copy code shown above."""
    for nb_path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        n = sum(1 for e in ex.REGISTRY.values() if e.notebook == f"ex{nb_path.name[:2]}" and e.kind == "predict")
        assert n >= 3, f"{nb_path.name} has {n} predict-then-verify exercises (at least 3 needed)"


REFERENCED = sorted(k for k, e in ex.REGISTRY.items() if e.reference is not None)


def _copy(answer):
    """A function equal to ``answer`` but not the same object (the reference object itself is what a check gives
    back in place of a missing answer, and is then no answer of the student's)."""
    import types

    if not isinstance(answer, types.FunctionType):
        return answer
    return types.FunctionType(answer.__code__, answer.__globals__, answer.__name__, answer.__defaults__,
                              answer.__closure__)


@pytest.mark.parametrize("key", REFERENCED)
def test_the_reference_answer_passes_its_own_check(key, capsys):
    e = ex.REGISTRY[key]
    ref = e.reference
    assert e.check(*map(_copy, ref if isinstance(ref, tuple) else (ref,))) is not None
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize("key", REFERENCED)
def test_the_reference_given_back_is_no_answer(key):
    """Skipping an exercise rebinds its name to the reference (``x = check_x(x)``); running the check again must not
    then say "Correct" for the student."""
    e = ex.REGISTRY[key]
    ref = e.reference
    if not callable(ref):
        pytest.skip("a value, not a function")
    with pytest.raises(ex.NotYet, match="no answer given yet"):
        e.check(ref)


@pytest.mark.parametrize("key", sorted(ex.REGISTRY))
def test_a_student_who_skips_goes_on_with_the_reference(key, monkeypatch, capsys):
    """Outside strict mode nothing raises: the check prints what is wrong and returns the reference answer (or
    None when no later cell needs the answer), so `Run all` goes through an empty student notebook."""
    monkeypatch.delenv("COURSE_STRICT")
    e = ex.REGISTRY[key]
    for answer in [(...,), _args(e.wrong[0]())]:
        got = e.check(*answer)
        assert got is e.reference
        out = capsys.readouterr().out
        assert "NOT YET" in out and "Correct" not in out, out
        if e.reference is not None:
            assert "goes on with the reference" in out


def _assigned_names(tree):
    return {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}


@pytest.mark.parametrize("nb_path", sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.name)
def test_answers_used_later_come_back_from_their_check(nb_path):
    """An answer that a later cell uses is rebound by its check cell (``shift = check_shift(shift)``) from a check
    that has a reference: skipping the exercise then never breaks the cells below."""
    cells = json.loads(nb_path.read_text())["cells"]
    code = [("".join(c["source"]), c.get("metadata", {}).get("tags", [])) for c in cells if c["cell_type"] == "code"]
    for i, (src, tags) in enumerate(code):
        if "solution" not in tags:
            continue
        check_src = next(s for s, t in code[i + 1:] if "solution" not in t)
        for name in _check_call_args(check_src):
            later = [s for s, t in code[i + 1:] if "solution" not in t and s is not check_src]
            used = any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)
                       for s in later for n in ast.walk(ast.parse(s)))
            redefined = any(name in _assigned_names(ast.parse(s)) for s in later)
            rebound = name in _assigned_names(ast.parse(check_src))
            used_in_check = sum(1 for n in ast.walk(ast.parse(check_src))
                                if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)) > 1
            if (used and not redefined) or used_in_check:
                assert rebound, (f"{nb_path.name}: {name!r} is used after its check; write "
                                 f"`{name} = check_...({name})` with a reference answer")


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


def test_a_stub_with_its_docstring_is_unanswered():
    def stub(sizes):
        """The number of weights and biases."""
        ...

    def empty(x, y=2):
        pass

    def answer(sizes):
        """The number of weights and biases."""
        return 0

    assert ex.is_unanswered(stub) and ex.is_unanswered(empty) and ex.is_unanswered(...)
    assert not ex.is_unanswered(answer) and not ex.is_unanswered(lambda sizes: 0) and not ex.is_unanswered(0)


# ---- an answer cell that stopped with an error (issue 29, 2.2): the stub is still defined ----------------------
STUB = 'def count_parameters(sizes):\n    """The number of weights and biases."""\n    ...\n'
CHECK = "count_parameters = check_count_parameters(count_parameters)"
TYPO = "def count_parameters(sizes):\n    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:])\n"
CRASH = "widths = layer_sizes[1:]   # a NameError before the def\ndef count_parameters(sizes):\n    return 0\n"
RIGHT = "def count_parameters(sizes):\n    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))\n"
DID_NOT_RUN = "your answer cell did not run"


@pytest.fixture
def shell(monkeypatch):
    """A fresh IPython shell running cells as Jupyter does (history stored), the student's mode (not strict)."""
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.delenv("COURSE_STRICT")
    had = InteractiveShell.initialized()
    old = InteractiveShell.instance() if had else None
    InteractiveShell.clear_instance()
    sh = InteractiveShell.instance()
    sh.run_cell("from utils.exercises.ex03 import check_count_parameters", store_history=True)
    yield sh
    InteractiveShell.clear_instance()
    if old is not None:
        InteractiveShell._instance = old


def _run(sh, *cells):
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for cell in cells:
            sh.run_cell(cell, store_history=True)
    return out.getvalue()


@pytest.mark.parametrize("failing", [TYPO, CRASH], ids=["syntax-error", "exception"])
@pytest.mark.parametrize("watched", [True, False], ids=["watched", "shell-after-import"])
def test_an_answer_cell_that_failed_is_named_not_called_missing(shell, failing, watched):
    """Stub cell, then the answer typed into it with an error, then the check: the check says the answer cell did
    not run (watched: every cell is recorded from the start; otherwise only the cell run just before is known)."""
    if watched:
        ex.watch_cells(shell)
    out = _run(shell, STUB, failing, CHECK)
    assert DID_NOT_RUN in out and "no answer given yet" not in out and "Correct" not in out, out
    assert "count_parameters was not defined" in out
    if watched:   # cells run in between, and the check run again after it gave back the reference
        out = _run(shell, "x = 1", CHECK, CHECK)
        assert out.count(DID_NOT_RUN) == 2 and "Correct" not in out, out
    out = _run(shell, RIGHT, CHECK)
    assert "Correct" in out and DID_NOT_RUN not in out, out


def test_a_stub_that_ran_is_still_no_answer(shell):
    ex.watch_cells(shell)
    out = _run(shell, STUB, "1 / 0", CHECK)      # an unrelated cell failed: the answer cell itself ran
    assert "no answer given yet" in out and DID_NOT_RUN not in out, out
    out = _run(shell, TYPO, STUB, CHECK)          # failed, then put back to the stub and run
    assert "no answer given yet" in out and DID_NOT_RUN not in out, out


def test_an_answer_cell_that_failed_in_strict_mode_raises_with_the_reason(shell, monkeypatch):
    monkeypatch.setenv("COURSE_STRICT", "1")
    ex.watch_cells(shell)
    _run(shell, STUB, TYPO)
    result = shell.run_cell(CHECK, store_history=True)
    assert isinstance(result.error_in_exec, ex.NotYet) and DID_NOT_RUN in str(result.error_in_exec)


def test_an_answer_cell_that_failed_after_a_wrong_answer_is_named_not_judged(shell):
    """A wrong answer, checked; then the answer cell typed again with a syntax error: the check says the answer cell
    did not run instead of judging the wrong value it left in place (a check without reference= keeps that value)."""
    ex.watch_cells(shell)
    check = "from utils.exercises.ex01 import check_max_sigmoid_slope\ncheck_max_sigmoid_slope(predicted_max_slope)"
    out = _run(shell, "predicted_max_slope = 0.5", check)
    assert "0.5 is not" in out, out
    out = _run(shell, "predicted_max_slope = 0.25 +", check)
    assert DID_NOT_RUN in out and "0.5 is not" not in out and "Correct" not in out, out
    out = _run(shell, "predicted_max_slope = 0.25", check)
    assert "Correct" in out and DID_NOT_RUN not in out, out



@pytest.mark.parametrize("source,name,defines", [
    ("w = np.array([1, 1])", "w", True), ("w, w0 = [1, 1], 1.5", "w0", True), ("w0 = 1", "w", False),
    ("def make_mlp(n_in, n_out):\n  return (", "make_mlp", True), ("x: float = 0.5", "x", True),
    ("print(w == 1)", "w", False), ("    w = 2  # in a block", "w", True), ("shift(w)", "shift", False)])
def test_which_cell_defines_an_answer(source, name, defines):
    assert ex._defines(source, name) is defines


# ---- what a student reads for answers of the wrong kind (issue 29, 2.3): one sentence, no library's message --------
def _no_hidden_layer(n_in, n_out):
    from torch import nn

    return nn.Sequential(nn.Linear(n_in, n_out), nn.ReLU())


BAD_ANSWERS = [
    ("ex01.check_perceptron_step", lambda w, w0, x, y, lr: w + lr * x, "must return two things"),
    ("ex03.check_circle_features", [], "at least one feature among x1, x2"),
    ("ex03.check_circle_features", "x1^2", "must be a list of feature names"),
    ("ex03.check_small_spiral_network", [6, 6], "spiral_settings must be a dict of playground settings"),
    ("ex03.check_make_mlp", _no_hidden_layer, "has no hidden layer"),
    ("ex04.check_true_convolution", lambda X, K: X @ K, "convolve(X, K) stopped with a ValueError on a 9 x 8 image"),
    ("ex04.check_horizontal_kernel", "sobel", "K_horizontal must be a 3 x 3 array of numbers"),
    ("ex04.check_horizontal_kernel", [[1, 2, 1], [0, 0, 0], [-1, -2, -1]], "large, but negative"),
    ("ex05.check_params_without_second_pool", 406_954, "406,954 is 64 short"),
    ("ex05.check_params_without_second_pool", 1e30, "1e+30 is not it"),
    ("ex06.check_lstm_params", 1e30, "1e+30 is not it"),
    ("ex04.check_conv_layer_params", 1e30, "1e+30 is far too many"),
]
LIBRARY_TEXT = ("gufunc", "unpack", "dictionary update", "could not convert", "could not be used", "Traceback",
                "000,000,000")


@pytest.mark.parametrize("key,answer,fragment", BAD_ANSWERS, ids=[f"{k}-{f[:24]}" for k, _, f in BAD_ANSWERS])
def test_an_answer_of_the_wrong_kind_gets_one_clear_sentence(key, answer, fragment):
    with pytest.raises(ex.NotYet) as err:
        ex.REGISTRY[key].check(answer)
    msg = str(err.value)
    assert fragment in msg, msg
    assert "\n" not in msg and len(msg) < 400, msg
    assert not any(t in msg for t in LIBRARY_TEXT), msg


@pytest.mark.parametrize("value,text", [(407_018, "407,018"), (1e30, "1e+30"), (-3, "-3"), (0.125, "0.125"),
                                        (float("inf"), "inf"), ("x", "'x'")])
def test_numbers_in_messages_are_readable(value, text):
    assert ex.shown(value) == text
