#!/usr/bin/env python
"""Run course notebooks in full mode and write benchmarks/RESULTS.md.

    python benchmarks/run.py            # every notebook in notebooks/
    python benchmarks/run.py 01 05      # chosen ones (by number prefix)
    python benchmarks/run.py --fast 01  # the same in fast mode (COURSE_FAST=1), results kept apart
    python benchmarks/run.py --scratch 06 07 08   # full mode training from scratch (COURSE_TRAIN_FROM_SCRATCH=1):
                                                  # no checkpoint loaded; results kept apart ("scratch")
    python benchmarks/run.py --table    # only rebuild RESULTS.md (and the README's table) from the JSON files

Each notebook runs in a fresh kernel (nbclient) with COURSE_RESULTS set, so its ``utils.record`` figures are
collected; the runner adds wall time and the kernel's peak resident memory (ru_maxrss of the kernel and of its
children), and the machine's description. One JSON per notebook and mode in benchmarks/results/.

The time of each section (everything under one ``## `` heading; the cells before the first are ``Set-up``; paths
as defined in benchmarks/times.py) is the sum of its code cells' execution times, which nbclient records in each
cell's ``metadata.execution`` (kernel timestamps from ``iopub.status.busy`` to ``shell.execute_reply``). The JSON
keeps them as ``sections``: ``[{"title", "path", "seconds"}, ...]`` (``seconds`` null for a section the run did not
reach), with ``core_s`` and ``going_further_s`` their totals per path and ``other_s`` the rest of the wall time
(kernel start, messages between cells). After a run, the plan cells of the notebooks run and the README's time
column are rewritten from the results (benchmarks/times.py, ``make times``).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]
from tools.delivery import execute  # noqa: E402  (the course's one notebook executor)
import times  # noqa: E402  (benchmarks/times.py: sections, paths, and every time a student reads)
NOTEBOOKS = ROOT / "notebooks"
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # terminal colour codes (the checks print in colour)
RESULTS = HERE / "results"

PEAK_CELL = (
    "import resource as _r, json as _j\n"
    "print('__PEAK__' + _j.dumps({'self': _r.getrusage(_r.RUSAGE_SELF).ru_maxrss,"
    " 'children': _r.getrusage(_r.RUSAGE_CHILDREN).ru_maxrss,"
    " 'cpu': sum(getattr(_r.getrusage(w), a) for w in (_r.RUSAGE_SELF, _r.RUSAGE_CHILDREN)"
    " for a in ('ru_utime', 'ru_stime'))}))"
)


def machine() -> str:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu or platform.processor()}, Python {platform.python_version()}"


def run_notebook(nb_path: Path, fast: bool, timeout: int, keep: Path | None = None, scratch: bool = False) -> dict:
    """Execute one notebook in a fresh kernel; ``keep``: a folder where the executed notebook (outputs and
    figures) is written, to look at what the run drew; ``scratch``: full training, no checkpoint loaded."""
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PEAK_CELL))
    with tempfile.TemporaryDirectory() as out:
        load_before = os.getloadavg()[0]
        t0 = time.perf_counter()
        error = None
        try:
            execute(nb, fast, timeout, env={"COURSE_RESULTS": out, "COURSE_TRAIN_FROM_SCRATCH": "1" if scratch else ""})
        except Exception as exc:  # record the failure in the table rather than hide it
            error = error_summary(exc)
        wall = time.perf_counter() - t0
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, keep / f"{nb_path.stem}.{mode_name(fast, scratch)}.ipynb")
        figures = {}
        for f in Path(out).glob("*.json"):
            figures.update(json.loads(f.read_text()).get("figures", {}))
    sections = section_times(nb, n_cells=len(nb.cells) - 1)      # the peak-memory cell is not the notebook's
    peak_kb = cpu = None
    for out in nb.cells[-1].get("outputs", []):
        text = out.get("text", "")
        if "__PEAK__" in text:
            d = json.loads(text.split("__PEAK__", 1)[1].strip())
            peak_kb = max(d["self"], d["children"])
            cpu = d.get("cpu")
    return {
        "notebook": nb_path.stem, "mode": mode_name(fast, scratch), "wall_s": round(wall, 1),
        "kernel_cpu_s": round(cpu, 1) if cpu is not None else None, "load_before": round(load_before, 2),
        "peak_mem_mb": round(peak_kb / 1024, 1) if peak_kb else None, "error": error,
        "figures": figures, "machine": machine(), "date": dt.date.today().isoformat(),
        **section_totals(sections, wall),
    }


def cell_seconds(cell) -> float | None:
    """How long one executed code cell ran, from the kernel timestamps nbclient records in its metadata (None
    when it did not run)."""
    t = cell.get("metadata", {}).get("execution", {})
    start, end = t.get("iopub.status.busy") or t.get("iopub.execute_input"), t.get("shell.execute_reply")
    if not (start and end):
        return None
    parse = lambda s: dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")  # noqa: E731
    return max(0.0, (parse(end) - parse(start)).total_seconds())


def section_times(nb, n_cells: int | None = None) -> list[dict]:
    """``[{"title", "path", "seconds"}, ...]`` for every section of an executed notebook (its first ``n_cells``
    cells): the sum of its code cells' times; ``seconds`` is None when one of them did not run (after an error)."""
    found = [(title, [i for i in cells if n_cells is None or i < n_cells]) for title, cells in times.sections(nb)]
    out = []
    for (title, cells), path in zip(found, times.paths([t for t, _ in found])):
        code = [nb.cells[i] for i in cells if nb.cells[i].cell_type == "code" and nb.cells[i].source.strip()]
        seconds = [cell_seconds(c) for c in code]
        out.append({"title": title, "path": path,
                    "seconds": None if None in seconds else round(sum(seconds), 2)})
    return out


def section_totals(sections: list[dict], wall: float) -> dict:
    """The sections, with the totals per path (None when a section of that path has no time) and ``other_s``."""
    def total(path):
        s = [x["seconds"] for x in sections if x["path"] == path]
        return None if None in s else round(sum(s), 1)
    known = sum(x["seconds"] or 0 for x in sections)
    return {"sections": sections, "core_s": total(times.CORE), "going_further_s": total(times.GOING_FURTHER),
            "other_s": round(wall - known, 1)}


def mode_name(fast: bool, scratch: bool = False) -> str:
    """``fast``, ``full`` (checkpoints loaded where a notebook has one) or ``scratch`` (full mode, trained from
    scratch: COURSE_TRAIN_FROM_SCRATCH=1)."""
    return "fast" if fast else "scratch" if scratch else "full"


def fmt(v) -> str:
    if v is None:
        return "not a number"  # utils.record writes NaN / infinity as null (strict JSON)
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def error_summary(exc: BaseException) -> str:
    """One plain line for the table: the exception's type and the last line of its message, without colours."""
    message = ANSI.sub("", str(exc)).strip()
    return f"{type(exc).__name__}: {message.splitlines()[-1] if message else ''}"


def _blank_if_none(value) -> str:
    return "" if value is None else str(value)          # a figure the run could not measure: an empty cell


def write_table() -> Path:
    rows = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))]
    lines = [
        "# Benchmark results",
        "",
        "Written by `benchmarks/run.py` (`make bench`): each notebook executed top to bottom in a fresh kernel;",
        "wall time of the whole notebook, CPU time of its kernel (all threads), peak resident memory of the kernel,",
        "and the machine's 1-minute load average just before the run (above ~0.5 on 2 cores, the machine was shared",
        "and the wall time is an upper bound). Ratio = value / anchor. Mode `full`: what a student runs, the",
        "application sections of 05-08 on the course's checkpoints (`checkpoints/`); `scratch`: full mode with",
        "`COURSE_TRAIN_FROM_SCRATCH=1`, every model trained in the notebook; `fast`: the tests' mode.",
        "These machines are noisy: compare ratios and repeated runs, not single digits.",
        "",
        "| notebook | mode | wall time (s) | kernel CPU (s) | load before | peak memory (MB) | status | machine | date |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        status = "ok" if not r.get("error") else f"FAILED: {r['error'][:100]}"
        lines.append(f"| {r['notebook']} | {r['mode']} | {r['wall_s']} | {_blank_if_none(r.get('kernel_cpu_s'))} "
                     f"| {_blank_if_none(r.get('load_before'))} | {_blank_if_none(r.get('peak_mem_mb'))} | {status} "
                     f"| {r['machine']} | {r['date']} |")
    for r in rows:
        lines += ["", f"## {r['notebook']} ({r['mode']} mode)"]
        lines += section_table(r)
        lines += ["", "| figure | value | anchor | ratio | source |", "|---|---|---|---|---|"]
        for name, e in r["figures"].items():
            v, a = e.get("value"), e.get("anchor")
            ratio = fmt(v / a) if isinstance(v, (int, float)) and isinstance(a, (int, float)) and a else ""
            unit = f" {e['unit']}" if e.get("unit") else ""
            lines.append(f"| {name} | {fmt(v)}{unit} | {fmt(a) if a is not None else ''} | {ratio} "
                         f"| {e.get('source', '')} |")
    path = HERE / "RESULTS.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def section_table(r: dict) -> list[str]:
    """The time of each section of one run, and (full mode) the core path's total against its 3-min budget."""
    if not r.get("sections"):
        return []
    lines = ["", "| section | path | seconds |", "|---|---|---|"]
    for s in r["sections"]:
        lines.append(f"| {s['title']} | {s['path']} | {_blank_if_none(s['seconds'])} |")
    lines.append(f"| (kernel start, between cells) | | {_blank_if_none(r.get('other_s'))} |")
    core = r.get("core_s")
    if r["mode"] == "full":
        verdict = ("not measured (the run stopped before the end of the core path)" if core is None else
                   f"{core} s of the {times.BUDGET_CORE_S} s budget"
                   + ("" if core <= times.BUDGET_CORE_S else f": OVER BUDGET by {core - times.BUDGET_CORE_S:.1f} s"))
        lines += ["", f"Core path in full mode: {verdict}; going further: "
                      f"{_blank_if_none(r.get('going_further_s')) or 'not measured'} s."]
    return lines


def update_readme() -> Path:
    """Fill the README's notebook table from the results: a link for every notebook that exists (the time column
    is benchmarks/times.py's); and the checkpoints table."""
    readme = ROOT / "README.md"
    lines = readme.read_text().splitlines()
    for i, line in enumerate(lines):
        cells = line.split("|")
        if len(cells) < 7 or not cells[1].strip().isdigit():
            continue
        num = cells[1].strip()
        nb = next(iter(sorted(NOTEBOOKS.glob(f"{num}_*.ipynb"))), None)
        if nb is not None:
            cells[2] = f" [{nb.stem}](notebooks/student/{nb.name}) ([solutions](notebooks/{nb.name})) "
        lines[i] = "|".join(cells)
    text = "\n".join(lines) + "\n"
    start, end = "<!-- checkpoints: written by benchmarks/run.py from checkpoints/*.json -->", "<!-- /checkpoints -->"
    if start in text and end in text:
        from utils import checkpoints

        head, rest = text.split(start, 1)
        text = f"{head}{start}\n{checkpoints.table()}\n{end}{rest.split(end, 1)[1]}"
    readme.write_text(text)
    return readme


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("prefixes", nargs="*", help="notebook number prefixes (default: all)")
    ap.add_argument("--fast", action="store_true", help="run in fast mode (COURSE_FAST=1)")
    ap.add_argument("--scratch", action="store_true",
                    help="full mode with COURSE_TRAIN_FROM_SCRATCH=1: no checkpoint, the full training")
    ap.add_argument("--timeout", type=int, default=3600, help="per-cell timeout in seconds")
    ap.add_argument("--table", action="store_true", help="only rebuild RESULTS.md")
    ap.add_argument("--keep", type=Path, default=None,
                    help="also write each executed notebook (with its figures) into this folder, e.g. build/bench")
    args = ap.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    failed = 0
    if not args.table:
        nbs = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
        if args.prefixes:
            nbs = [p for p in nbs if any(p.name.startswith(x) for x in args.prefixes)]
        for p in nbs:
            print(f"running {p.name} ({mode_name(args.fast, args.scratch)} mode)...", flush=True)
            r = run_notebook(p, args.fast, args.timeout, args.keep, args.scratch)
            failed += bool(r["error"])
            (RESULTS / f"{p.stem}.{r['mode']}.json").write_text(json.dumps(r, indent=2))
            print(f"  {r['wall_s']} s, peak {r['peak_mem_mb']} MB, {len(r['figures'])} figures"
                  + (f", ERROR {r['error']}" if r["error"] else ""), flush=True)
    print(f"wrote {write_table()} and {update_readme()}")
    ran = [] if args.table else [p.name[:2] for p in nbs]      # --table: the README's time column only
    stale, errors, notes = times.update(ran, plans=bool(ran), notebooks=NOTEBOOKS, results=RESULTS)
    for line in [*(f"note: {n}" for n in notes), *(f"plan not written: {e}" for e in errors)]:
        print(line)
    print("times written into: " + (", ".join(stale) or "nothing (already current)"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
