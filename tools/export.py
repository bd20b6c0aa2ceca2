"""The notebooks are the source of the lesson code; ``utils/lessons/`` is generated from them.

    python -m tools.export           # (make export) write utils/lessons/<topic>.py from every notebook's export cells
    python -m tools.export --check   # list the generated modules that differ from what the notebooks give (exit 1)

A code cell whose metadata tags hold ``export`` (students see nothing of it) is copied, in notebook order, into the
module named after its notebook: ``notebooks/06_smiles_rnn.ipynb`` -> ``utils/lessons/smiles_rnn.py``. The module
starts with the imports of the notebook's set-up cell that the exported code uses, so it runs on its own; checkpoint
training, profiling, later notebooks and tests import the model from there, and no second copy of it exists.

An export cell holds definitions only (functions, classes, constants, imports): a cell that trains, prints or plots
is refused, and so is a name the exported code uses that neither it, the set-up cell's imports nor Python define
(the module would fail where the notebook worked, on a global of another cell).
"""
from __future__ import annotations

import argparse
import ast
import builtins
import symtable
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
LESSONS = ROOT / "utils" / "lessons"
TAG = "export"


class ExportError(ValueError):
    """An export cell that cannot go into a module as it is (the message says which cell and why)."""


def _tags(cell) -> list:
    return cell.get("metadata", {}).get("tags", [])


def module_name(notebook: Path) -> str:
    """``06_smiles_rnn.ipynb`` -> ``smiles_rnn``."""
    stem = Path(notebook).stem
    return stem.split("_", 1)[1] if stem[:2].isdigit() and "_" in stem else stem


def _setup_imports(nb) -> list[ast.stmt]:
    """The top-level import statements of the notebook's set-up cell (not those inside its Colab-only block)."""
    for cell in nb.cells:
        if cell.cell_type == "code" and "setup" in _tags(cell):
            return [node for node in ast.parse(cell.source).body if isinstance(node, (ast.Import, ast.ImportFrom))]
    return []


def _bound(node: ast.stmt) -> set[str]:
    """Names a top-level statement binds in the module."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    names = set()
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    for t in targets:
        for n in ast.walk(t) if t is not None else []:
            if isinstance(n, ast.Name):
                names.add(n.id)
    return names


ALLOWED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom, ast.Assign,
           ast.AnnAssign)


def _check_cell(source: str, where: str) -> list[ast.stmt]:
    try:
        body = ast.parse(source).body
    except SyntaxError as exc:
        raise ExportError(f"{where}: does not parse ({exc.msg}, line {exc.lineno})") from None
    for i, node in enumerate(body):
        docstring = i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
            and isinstance(node.value.value, str)
        if not (isinstance(node, ALLOWED) or docstring):
            raise ExportError(f"{where}, line {node.lineno}: an export cell holds definitions only (def, class, "
                              f"constants, imports), not a {type(node).__name__} statement: move it to the next cell")
        value = getattr(node, "value", None) if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        if value is not None and any(isinstance(n, ast.Call) for n in ast.walk(value)):
            raise ExportError(f"{where}, line {node.lineno}: an export cell holds definitions only; this assignment "
                              f"calls a function (it would run at every import): move it to the next cell")
    return body


def _used_globals(code: str) -> set[str]:
    """Every global name the code reads, at module level or inside its functions and classes."""
    used = set()

    def walk(table):
        for sym in table.get_symbols():
            if sym.is_referenced() and (table.get_type() == "module" or sym.is_global()):
                used.add(sym.get_name())
        for child in table.get_children():
            walk(child)

    walk(symtable.symtable(code, "<export>", "exec"))
    return used


def module_text(notebook: Path) -> str | None:
    """The generated module of ``notebook`` (None when it has no export cell)."""
    notebook = Path(notebook)
    nb = nbformat.read(notebook, as_version=4)
    cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and TAG in _tags(c)]
    if not cells:
        return None
    parts, defined = [], set()
    for i, cell in cells:
        where = f"{notebook.name}, cell {i} (id {cell.get('id', '?')})"
        for node in _check_cell(cell.source, where):
            defined |= _bound(node)
        parts.append(f"# --- cell {cell.get('id', i)} ---\n{cell.source.strip()}\n")
    body = "\n\n".join(parts)
    used = _used_globals(body)
    imports = [node for node in _setup_imports(nb) if _bound(node) & (used - defined)]
    provided = defined.union(*(_bound(n) for n in imports)) if imports else set(defined)
    missing = sorted(used - provided - set(dir(builtins)) - {"__name__", "__file__", "__doc__"})
    if missing:
        raise ExportError(f"{notebook.name}: the export cells use {', '.join(missing)}, defined in no export cell and "
                          f"not imported by the set-up cell: export the cell that defines it, or pass it as an argument")
    rel = notebook.relative_to(ROOT) if notebook.is_relative_to(ROOT) else notebook
    header = (f'"""Generated from {rel.as_posix()} by `make export` (tools/export.py): do not edit.\n\n'
              f"The code cells of that notebook tagged ``export``, in notebook order. To change them, edit the notebook "
              f"and run\n`make export`; a unit test fails while this file is stale.\n\"\"\"\n")
    import_lines = "\n".join(ast.unparse(n) for n in imports)
    return header + (f"{import_lines}\n\n\n" if import_lines else "\n") + body


def generated() -> dict[Path, str]:
    """{module path: text} for every notebook with export cells."""
    out = {}
    for nb in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        text = module_text(nb)
        if text is not None:
            out[LESSONS / f"{module_name(nb)}.py"] = text
    return out


def stale() -> list[Path]:
    """Generated modules that differ from what the notebooks give, and stray modules no notebook makes."""
    want = generated()
    bad = [p for p, text in want.items() if not p.exists() or p.read_text() != text]
    bad += [p for p in sorted(LESSONS.glob("*.py")) if p.name != "__init__.py" and p not in want]
    return bad


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="only list stale modules; exit 1 if any")
    args = ap.parse_args(argv)
    try:
        if args.check:
            bad = stale()
            for p in bad:
                print(f"stale: {p.relative_to(ROOT)} (run make export)")
            return 1 if bad else 0
        want = generated()
        LESSONS.mkdir(exist_ok=True)
        for p in sorted(LESSONS.glob("*.py")):
            if p.name != "__init__.py" and p not in want:
                p.unlink()
                print(f"removed {p.relative_to(ROOT)} (no notebook exports it)")
        for p, text in want.items():
            if not p.exists() or p.read_text() != text:
                p.write_text(text)
                print(f"wrote {p.relative_to(ROOT)}")
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
