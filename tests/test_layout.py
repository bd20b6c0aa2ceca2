"""The tree's architecture, checked: the students' package holds what students run, its modules import no circle,
and author tools stay out of it."""
import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(path: Path) -> set:
    """Modules of the tree imported at module level (not inside functions: those load on use)."""
    pkg = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    out = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return out


def test_no_import_circle_in_utils_and_tools():
    modules = {_module_name(p): p for folder in ("utils", "tools") for p in (ROOT / folder).rglob("*.py")}
    graph = {m: {i for i in _top_level_imports(p) if i in modules and i != m} for m, p in modules.items()}
    seen, stack, cycles = set(), [], []

    def visit(m):
        if m in stack:
            cycles.append(stack[stack.index(m):] + [m])
            return
        if m in seen:
            return
        seen.add(m)
        stack.append(m)
        for n in graph[m]:
            visit(n)
        stack.pop()

    for m in sorted(graph):
        visit(m)
    assert cycles == []


def test_the_students_package_holds_no_author_tool():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = project["tool"]["setuptools"]["packages"]
    assert all(p == "utils" or p.startswith("utils.") for p in packages)
    assert {"utils", "utils.exercises", "utils.lessons", "utils.widgets"} <= set(packages)
    on_disk = {_module_name(p.parent) for p in (ROOT / "utils").rglob("__init__.py")}
    assert on_disk <= set(packages), f"subpackages missing from pyproject: {sorted(on_disk - set(packages))}"
    for tool in ("delivery", "authoring", "workspace", "export", "site", "slides"):
        assert not (ROOT / "utils" / f"{tool}.py").exists(), f"utils/{tool}.py: author tools live in tools/"


def test_utils_imports_no_tool():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "utils").rglob("*.py")
                 if any(n == "tools" or n.startswith("tools.") or n.startswith("benchmarks")
                        for n in ast.walk(ast.parse(p.read_text()))
                        for n in ([a.name for a in n.names] if isinstance(n, ast.Import) else
                                  [n.module or ""] if isinstance(n, ast.ImportFrom) and not n.level else []))]
    assert offenders == []
