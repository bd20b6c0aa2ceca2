"""The notebooks are committed clean, follow the course's anatomy, and are all executed by `make test`."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SLIDE_TYPES = {"slide", "subslide", "fragment", "-", "skip", "notes"}


def load(p):
    return json.loads(p.read_text())


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ is empty"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_named_by_number(nb):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", nb.name), f"{nb.name}: expected NN_lower_case_name.ipynb"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(nb):
    dirty = [i for i, c in enumerate(load(nb)["cells"]) if c.get("outputs") or c.get("execution_count")]
    assert not dirty, f"{nb.name}: cells {dirty} carry outputs; strip them (jupyter nbconvert --clear-output)"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_anatomy(nb):
    cells = load(nb)["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    first = cells[1] if "colab-badge" in cells[0].get("metadata", {}).get("tags", []) else cells[0]
    assert first["cell_type"] == "markdown" and first["source"][0].startswith("# "), "starts with a title"
    for heading in ("Learning objectives", "Exercise", "Summary", "References"):
        assert heading.lower() in text.lower(), f"{nb.name}: no '{heading}' section"
    assert re.search(r"full mode.{0,80}\d+\s*(s|min)", text, re.I | re.S), f"{nb.name}: full-mode time not stated"
    setup = [c for c in cells if "setup" in c.get("metadata", {}).get("tags", [])]
    assert len(setup) == 1, f"{nb.name}: exactly one cell tagged 'setup'"
    src = "".join(setup[0]["source"])
    assert '"google.colab" in sys.modules' in src and "utils.setup(" in src, f"{nb.name}: standard set-up cell"
    assert "torch==" not in src, "never pin torch"
    assert any("solution" in c.get("metadata", {}).get("tags", []) for c in cells), "hidden solutions"
    for i, c in enumerate(cells):
        st = c.get("metadata", {}).get("slideshow", {}).get("slide_type")
        assert st in SLIDE_TYPES, f"{nb.name}: cell {i} has no slideshow metadata"


def test_make_test_executes_every_notebook():
    """`make test` runs nbval on the whole notebooks/ folder, so a new notebook cannot be forgotten."""
    mk = (ROOT / "Makefile").read_text()
    block = mk.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "--nbval-lax" in block and re.search(r"\snotebooks/?(\s|$)", block), block
    assert "COURSE_FAST=1" in block
    for flag in ("--deselect", " -k "):
        assert flag not in block, f"make test must not skip notebooks ({flag})"
    ignored = re.findall(r"--ignore=(\S+)", block)
    assert set(ignored) <= {"tests/student", "notebooks/student"}, ignored   # run by make test-student
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "COURSE_DATA" in ci
    assert "make test-student" in ci


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_badge_and_guarded_install_are_stamped(nb):
    """`python -m tools.delivery stamp` puts both in every notebook from the one REPO_URL."""
    from tools.delivery import colab_block
    from tools.delivery import badge_markdown

    cells = load(nb)["cells"]
    assert "colab-badge" in cells[0]["metadata"].get("tags", []), f"{nb.name}: the first cell must be the Colab badge"
    assert "".join(cells[0]["source"]) == badge_markdown(nb.name), f"{nb.name}: badge out of date; run the stamp"
    setup = next(c for c in cells if "setup" in c["metadata"].get("tags", []))
    assert "\n".join(colab_block()) in "".join(setup["source"]), f"{nb.name}: Colab block out of date; run the stamp"


def test_readme_has_binder_and_colab_badges_from_repo_url(tmp_path):
    """The README's badges come from the same REPO_URL; a stale or missing badge fails."""
    from tools.delivery import README_BADGES, binder_url, readme_badges, stamp_readme

    text = (ROOT / "README.md").read_text()
    assert README_BADGES[0] in text and README_BADGES[1] in text, "README: badge markers missing"
    assert readme_badges() in text, "README: badges out of date; run `python -m tools.delivery stamp`"
    assert "mybinder.org" in binder_url()
    stale = tmp_path / "README.md"
    stale.write_text(text.replace(readme_badges(), "[![Binder](old)](old)"))
    assert stamp_readme(stale) and readme_badges() in stale.read_text() and "(old)" not in stale.read_text()


def test_requirements_and_environment_agree():
    """Binder (environment.yml) and pip (requirements.txt) install the same packages."""
    import yaml

    def name(spec):
        return re.split(r"[<>=!~ ;\[]", spec.strip(), 1)[0].lower().replace("_", "-")

    reqs = {name(l) for l in (ROOT / "requirements.txt").read_text().splitlines() if l.strip() and not l.startswith("#")}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = set(), set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip |= {name(x) for x in dep.get("pip", [])}
        else:
            conda.add(name(dep))
    conda_to_pip = {"pytorch-cpu": "torch", "pytorch": "torch"}
    in_env = {conda_to_pip.get(n, n) for n in conda | pip} - {"python", "pip"}
    assert in_env == reqs, f"only in requirements.txt: {sorted(reqs - in_env)}; only in environment.yml: {sorted(in_env - reqs)}"
    assert any(d.startswith("pytorch-cpu") for d in env["dependencies"] if isinstance(d, str)), "Binder: CPU-only torch"
