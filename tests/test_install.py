"""Installing the course: the Makefile's set-up (CPU-only option, a venv left without pip), Binder's files
(environment.yml agrees with requirements.txt, postBuild installs only the local tree), and README/CONTRIBUTING
links that resolve inside the repository. No network: make runs dry (-n) or only builds a small venv in tmp."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make(*args, **env):
    """Run make in the repository root; returns (returncode, stdout + stderr)."""
    run_env = {**os.environ, **env}
    run_env.pop("MAKEFLAGS", None)
    run_env.pop("CPU", None)
    r = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), *args], capture_output=True, text=True,
                       env=run_env, timeout=300)
    return r.returncode, r.stdout + r.stderr


def requirements(text: str) -> dict:
    """name -> Requirement, from requirements.txt-style lines (comments and blank lines ignored)."""
    reqs = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            r = Requirement(line)
            reqs[canonicalize_name(r.name)] = r
    return reqs


# --- make lab CPU=1 / make test CPU=1 -----------------------------------------------------------------------
@needs_make
def test_cpu_option_installs_torch_from_the_cpu_index_first(tmp_path):
    """CPU=1: torch and torchvision (with requirements.txt's ranges) from PyTorch's CPU wheel index, before the
    rest, so that pip then finds torch satisfied and never pulls the CUDA build and its nvidia packages."""
    venv = tmp_path / "venv"  # absent: the stamp is out of date, so the whole install recipe is printed
    rc, out = make("-n", "install", "CPU=1", f"VENV={venv}")
    assert rc == 0, out
    lines = out.splitlines()
    cpu = [i for i, line in enumerate(lines) if CPU_INDEX in line]
    rest = [i for i, line in enumerate(lines) if "-r requirements.txt" in line]
    assert len(cpu) == 1 and len(rest) == 1 and cpu[0] < rest[0], out
    reqs = requirements((ROOT / "requirements.txt").read_text())
    for name in ("torch", "torchvision"):
        assert f'"{reqs[name]}"' in lines[cpu[0]], f"{name}: requirements.txt says {reqs[name]}; got {lines[cpu[0]]}"
    assert f"--index-url {CPU_INDEX}" in lines[cpu[0]]
    # make test CPU=1 goes through the same install
    rc, out = make("-n", "test", "CPU=1", f"VENV={venv}")
    assert rc == 0 and CPU_INDEX in out, out


@needs_make
@pytest.mark.parametrize("cpu", [None, "CPU=0", "CPU="])
def test_default_install_is_unchanged(tmp_path, cpu):
    """Without CPU=1 (what CI runs; CPU=0 too) torch comes from PyPI with everything else."""
    rc, out = make("-n", "install", f"VENV={tmp_path / 'venv'}", *([cpu] if cpu else []))
    assert rc == 0, out
    assert "download.pytorch.org" not in out
    assert "-m pip install -q -r requirements.txt -e ." in out


@needs_make
def test_unit_tests_print_why_they_skip(tmp_path):
    """A test skipped for lack of COURSE_DATA says so in make's output (pytest -rs), never silently."""
    for target in ("test", "unit"):
        rc, out = make("-n", target, f"VENV={tmp_path / 'venv'}")
        assert rc == 0, out
        pytest_lines = [line for line in out.splitlines() if "-m pytest" in line and "tests/" in line]
        assert pytest_lines and all(" -rs " in line for line in pytest_lines), out


# --- a .venv left without pip (issue: it blocked every later make) ------------------------------------------
@needs_make
def test_install_checks_pip_not_only_the_interpreter(tmp_path):
    rc, out = make("-n", "install", f"VENV={tmp_path / 'venv'}")
    first = out.splitlines()[0]
    assert "-m pip --version" in first and "ensurepip" in first, first


@needs_make
def test_venv_without_pip_is_repaired(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    assert subprocess.run([py, "-m", "pip", "--version"], capture_output=True).returncode != 0
    rc, out = make("venv", f"VENV={venv}", f"PYTHON={sys.executable}")
    assert rc == 0, out
    assert "no working pip" in out
    assert subprocess.run([py, "-m", "pip", "--version"], capture_output=True).returncode == 0
    # a healthy venv: nothing to say, nothing done
    rc, out = make("venv", f"VENV={venv}", f"PYTHON={sys.executable}")
    assert rc == 0 and out.strip() == "", out


@needs_make
def test_venv_with_a_broken_interpreter_is_made_anew(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(tmp_path / "python-that-was-uninstalled")
    rc, out = make("venv", f"VENV={venv}", f"PYTHON={sys.executable}")
    assert rc == 0, out
    assert "no working python" in out
    r = subprocess.run([venv / "bin" / "python", "-m", "pip", "--version"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@needs_make
def test_venv_that_cannot_be_made_says_what_to_do(tmp_path):
    """Debian's python3 without python3-venv makes a venv without pip: a clear message, and make stops."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    no_ensurepip = tmp_path / "python3"  # a python whose venv module fails, as without python3-venv
    no_ensurepip.write_text("#!/bin/sh\necho 'ensurepip is not available' >&2\nexit 1\n")
    no_ensurepip.chmod(0o755)
    (venv / "bin" / "python").unlink()
    (venv / "bin" / "python").symlink_to(no_ensurepip)
    rc, out = make("venv", f"VENV={venv}", f"PYTHON={no_ensurepip}")
    assert rc != 0
    assert "could not make" in out and "python3-venv" in out, out


# --- Binder: environment.yml, requirements.txt, postBuild -----------------------------------------------------
CONDA_TO_PIP = {"pytorch-cpu": "torch", "pytorch": "torch"}  # conda-forge names that differ from PyPI's
CONDA_ONLY = {"python", "pip"}


def conda_environment() -> tuple[dict, dict]:
    """(conda packages, pip packages) of environment.yml, both as PyPI name -> SpecifierSet."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = {}, {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for line in dep["pip"]:
                r = Requirement(line)
                pip[canonicalize_name(r.name)] = r.specifier
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(.*)", dep.strip())
        name, spec = m.group(1).lower(), m.group(2).replace(" ", "")
        if name in CONDA_ONLY:
            continue
        assert not spec or spec[0] in "<>=!~", f"environment.yml: {dep!r}: use a range like >=1.0 (as pip does)"
        conda[canonicalize_name(CONDA_TO_PIP.get(name, name))] = SpecifierSet(spec)
    return conda, pip


def test_environment_yml_lists_the_same_packages_as_requirements_txt():
    reqs = {name: r.specifier for name, r in requirements((ROOT / "requirements.txt").read_text()).items()}
    conda, pip = conda_environment()
    both = set(conda) & set(pip)
    assert not both, f"environment.yml lists {sorted(both)} twice (conda and pip)"
    env = {**conda, **pip}
    assert sorted(set(reqs) - set(env)) == [], "in requirements.txt, missing from environment.yml"
    assert sorted(set(env) - set(reqs)) == [], "in environment.yml, missing from requirements.txt"
    differ = {name: (str(reqs[name]), str(env[name])) for name in reqs if reqs[name] != env[name]}
    assert differ == {}, f"ranges differ (requirements.txt, environment.yml): {differ}"


def test_environment_yml_takes_cpu_only_pytorch_from_conda_forge():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    names = [re.split(r"[<>=!~ ]", d)[0] for d in env["dependencies"] if isinstance(d, str)]
    assert "pytorch-cpu" in names and "pytorch" not in names


def test_requirements_txt_covers_the_package_dependencies():
    """What requirements.txt installs satisfies pyproject.toml (which may be looser, e.g. for Colab)."""
    tomllib = pytest.importorskip("tomllib", reason="Python < 3.11 has no tomllib")
    reqs = requirements((ROOT / "requirements.txt").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for line in project["dependencies"]:
        dep = Requirement(line)
        name = canonicalize_name(dep.name)
        assert name in reqs, f"pyproject.toml needs {dep}, requirements.txt does not list {dep.name}"
        lower = [s.version for s in reqs[name].specifier if s.operator in (">=", "==", "~=")]
        assert lower and all(dep.specifier.contains(v, prereleases=True) for v in lower), \
            f"requirements.txt's {reqs[name]} allows versions that pyproject.toml's {dep} refuses"


#: the import name of each package the course installs for every student, where it differs from the package name
IMPORT_NAME = {}


def test_every_package_dependency_is_used():
    """Each package pyproject.toml installs for every student is imported by utils/ or a notebook."""
    tomllib = pytest.importorskip("tomllib", reason="Python < 3.11 has no tomllib")
    sources = "\n".join(p.read_text() for p in [*(ROOT / "utils").rglob("*.py"), *(ROOT / "notebooks").glob("*.ipynb")])
    for line in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]:
        name = IMPORT_NAME.get(Requirement(line).name, Requirement(line).name)
        assert re.search(rf"\b(import|from) {name}\b", sources), \
            f"pyproject.toml installs {line!r} for every student, and nothing in utils/ or notebooks/ imports {name}"


def test_postbuild_installs_only_the_local_tree_with_pip():
    """Binder's postBuild: nothing but pip on this repository, no dependencies (environment.yml has them), no
    downloads of its own."""
    path = ROOT / "postBuild"
    text = path.read_text()
    assert text.startswith("#!/usr/bin/env bash\n") or text.startswith("#!/bin/bash\n")
    commands = [line.strip() for line in text.splitlines()[1:] if line.strip() and not line.strip().startswith("#")]
    assert commands, "postBuild does nothing"
    for cmd in commands:
        if cmd.startswith("set "):
            continue
        words = cmd.split()
        assert words[:2] == ["pip", "install"] or words[:4] == ["python", "-m", "pip", "install"], cmd
        args = words[2:] if words[0] == "pip" else words[4:]
        targets = [a for a in args if not a.startswith("-")]
        assert "--no-deps" in args and targets == ["."], f"postBuild must run pip install --no-deps [-e] .: {cmd}"
        assert not re.search(r"https?://|--index-url|--extra-index-url|--find-links|\bgit\+", cmd), cmd
    assert not re.search(r"\b(curl|wget|git|conda|mamba|apt-get)\b", "\n".join(commands))
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-s", "postBuild"], capture_output=True, text=True)
    if tracked.returncode == 0 and tracked.stdout:
        assert tracked.stdout.startswith("100755"), "postBuild must be executable in git (chmod +x)"
    assert os.access(path, os.X_OK), "postBuild must be executable"


# --- README and CONTRIBUTING -----------------------------------------------------------------------------------
def anchors(markdown: str) -> set:
    """The anchors GitHub gives a Markdown file's headings: lower case, punctuation dropped, spaces to hyphens."""
    heads = re.findall(r"^#{1,6}\s+(.+?)\s*$", re.sub(r"```.*?```", "", markdown, flags=re.S), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in heads}


LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


@pytest.mark.parametrize("doc", ["README.md", "CONTRIBUTING.md"])
def test_relative_links_resolve_inside_the_repository(doc):
    text = (ROOT / doc).read_text()
    assert "../shared" not in text, f"{doc} points at ../shared, which a clone of the repository does not have"
    bad = []
    for target in LINK.findall(text):
        url = urlparse(target)
        if url.scheme:  # http(s), mailto: not checked here (no network)
            continue
        path = (ROOT / unquote(url.path)).resolve() if url.path else ROOT / doc
        if not path.is_relative_to(ROOT) or not path.exists():
            bad.append(target)
        elif url.fragment and path.suffix == ".md" and url.fragment not in anchors(path.read_text()):
            bad.append(target)
    assert bad == [], f"{doc}: links that do not resolve inside the repository: {bad}"


def test_readme_says_how_to_install_without_cuda_and_what_the_tests_need():
    readme = (ROOT / "README.md").read_text()
    assert "make lab CPU=1" in readme and CPU_INDEX in readme
    assert re.search(r"\d+(\.\d+)? GB", readme), "the README states the size of the install"
    assert "COURSE_DATA" in readme and "What the tests need" in readme
