#!/usr/bin/env python
"""Write every time a student reads from the measured full-mode runs in benchmarks/results/ (`make times`).

    python benchmarks/times.py            # every notebook's plan cell and the README's time column
    python benchmarks/times.py 01 05      # only these notebooks' plan cells (the README's column always)
    python benchmarks/times.py --check    # write nothing; exit 1 and say what is stale

One source: ``benchmarks/results/NN_name.full.json`` (written by ``benchmarks/run.py``, with the time of each
section) gives

- in each notebook's **plan cell** (the markdown cell tagged ``plan``, right after the title): the run-time column,
  the **core path** totals row (class time summed from the author's rows, run time summed from the measured
  sections) and the last line (the whole notebook in full mode, its peak memory, and the fast-mode time and the
  from-scratch time when those results exist); the author's sentence, rows, paths and class times are kept;
- in the README's notebook table, the last column ("full mode, 2-core CPU").

A notebook without results yet gets ``…`` where a time would stand; so does every section when the results time
other sections than the notebook's (a run made before its headings changed). Rows are matched to the notebook's ``## ``
headings by their text: a plan row without a heading, a heading without a row, rows out of order, or a row whose
path contradicts its heading stop that notebook with a message saying what to fix (the others are still written).

Sections and paths (the one definition, also used by ``benchmarks/run.py`` and the tests):
- a section is everything under one ``## `` heading of a markdown cell, up to the next one; the cells before the
  first heading (the set-up) are the section ``Set-up``;
- a section whose heading starts with ``Going further`` is **going further**; so is a last ``References`` section
  that comes after going-further sections (the notebook's end matter, as in CONTRIBUTING's plan); every other
  section (``Set-up``, the numbered sections, ``Summary``, a ``References`` with no going further before it) is
  **core**.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NOTEBOOKS = ROOT / "notebooks"
RESULTS = HERE / "results"
README = ROOT / "README.md"

SETUP = "Set-up"
CORE, GOING_FURTHER = "core", "going further"
GOING_FURTHER_PREFIX = "Going further"
REFERENCES, SUMMARY = "References", "Summary"
PLAN_TAG = "plan"
HEADER = ["section", "path", "class time", "run time, full mode"]
TOTAL = "**core path**"
LAST_LINE = "*Measured in full mode"
UNKNOWN = "…"
BUDGET_CLASS_MIN, BUDGET_CORE_S = 60, 180     # CONTRIBUTING, "Budgets"
_HEADING = re.compile(r"^## (?!#)(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_CLASS_TIME = re.compile(r"^(\d+) min$")


class PlanError(ValueError):
    """A plan cell that cannot be filled in: the message says which notebook and what to change."""


# --- sections -------------------------------------------------------------------------------------------------

def cell_headings(source: str) -> list[str]:
    """The ``## `` headings of one markdown cell's text, in order (lines inside code fences are not headings)."""
    found, fenced = [], False
    for line in source.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and (m := _HEADING.match(line)):
            found.append(m.group(1).strip())
    return found


def sections(nb) -> list[tuple[str, list[int]]]:
    """``[(title, [cell index, ...]), ...]``: ``Set-up`` (the cells before the first heading), then one entry per
    ``## `` heading with the cells under it (a cell holding a heading belongs to the last heading it holds)."""
    out = [(SETUP, [])]
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for title in cell_headings(cell.source):
                out.append((title, []))
        out[-1][1].append(i)
    return out


def titles(nb) -> list[str]:
    return [t for t, _ in sections(nb)]


def paths(section_titles: list[str]) -> list[str]:
    """The path of each section (module docstring): going further from a ``Going further`` heading on, and for a
    final ``References`` after one; core otherwise."""
    out, seen_going_further = [], False
    for k, title in enumerate(section_titles):
        if title.startswith(GOING_FURTHER_PREFIX):
            seen_going_further = True
            out.append(GOING_FURTHER)
        elif title == REFERENCES and k == len(section_titles) - 1 and seen_going_further:
            out.append(GOING_FURTHER)
        else:
            out.append(CORE)
    return out


def title_cell_index(nb) -> int | None:
    """The title cell: the first markdown cell starting with ``# ``."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("# "):
            return i
    return None


def plan_cells(nb) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and PLAN_TAG in c.metadata.get("tags", [])]


# --- measured times -----------------------------------------------------------------------------------------

def duration(seconds) -> str:
    """How the plan and the README write a time: ``…`` when not measured, ``< 1 s``, ``12 s``, ``2.5 min``."""
    if seconds is None:
        return UNKNOWN
    if seconds < 0.5:
        return "< 1 s"
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def load(stem: str, mode: str = "full", results: Path = RESULTS) -> dict | None:
    """A notebook's results file for one mode, or None when there is none or its run failed (a failed run's
    whole-notebook time and memory say nothing)."""
    path = results / f"{stem}.{mode}.json"
    if not path.is_file():
        return None
    r = json.loads(path.read_text())
    return None if r.get("error") else r


def section_seconds(result: dict | None) -> dict[str, float | None]:
    return {s["title"]: s.get("seconds") for s in (result or {}).get("sections", [])}


def cores(result: dict | None) -> str:
    m = re.match(r"(\d+) cores?", (result or {}).get("machine", ""))
    return f" on a {m.group(1)}-core CPU" if m else ""


def gigabytes(mb) -> str:
    return UNKNOWN if mb is None else f"{mb / 1024:.1f} GB"


# --- the plan cell ------------------------------------------------------------------------------------------

def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def parse_plan(source: str, where: str) -> tuple[str, list[tuple[str, str, str]]]:
    """``(intro, rows)`` of a plan cell's text: the text before the table, and ``(section, path, class time)`` of
    every row but the totals row (which ``make times`` writes). ``where`` names the notebook in messages."""
    lines = source.splitlines()
    start = next((k for k, line in enumerate(lines)
                  if line.lstrip().startswith("|") and [c.lower() for c in _cells(line)] == HEADER), None)
    if start is None:
        raise PlanError(f"{where}: the plan cell has no table with the header "
                        f"'| {' | '.join(HEADER)} |' (CONTRIBUTING, 'Core path and going further')")
    rows, end = [], len(lines)
    for k, line in enumerate(lines[start + 2:], start + 2):
        if not line.lstrip().startswith("|"):
            end = k
            break
        cells = _cells(line)
        if len(cells) != 4:
            raise PlanError(f"{where}: plan row {line.strip()!r} has {len(cells)} columns, not 4 "
                            f"(a '|' inside a section title? headings used in the plan cannot contain one)")
        section, path, class_time, _ = cells
        if section == TOTAL:
            continue
        if path not in (CORE, GOING_FURTHER):
            raise PlanError(f"{where}: plan row {section!r}: path {path!r} must be '{CORE}' or '{GOING_FURTHER}'")
        if not _CLASS_TIME.match(class_time):
            raise PlanError(f"{where}: plan row {section!r}: class time {class_time!r} must be whole minutes, "
                            f"like '5 min'")
        rows.append((section, path, class_time))
    after = [line for line in lines[end:] if line.strip() and not line.startswith(LAST_LINE)]
    if after:
        raise PlanError(f"{where}: the plan cell has text after its table, {after[0].strip()[:60]!r}: `make times` "
                        f"writes the only line there; move that text above the table")
    return "\n".join(lines[:start]).rstrip(), rows


def match_rows(rows: list[str], headings: list[str], where: str) -> None:
    """The plan's rows must be the notebook's sections (``Set-up`` and every ``## `` heading), in order."""
    if rows == headings:
        return
    problems = []
    for dup in sorted({t for t in headings if headings.count(t) > 1}):
        problems.append(f"the heading '## {dup}' appears {headings.count(dup)} times: make each heading unique")
    for dup in sorted({t for t in rows if rows.count(t) > 1}):
        problems.append(f"the plan has {rows.count(dup)} rows {dup!r}: keep one")
    for k, title in enumerate(headings):
        if title not in rows:
            after = f"after the row {headings[k - 1]!r}" if k else "first"
            heading = "the set-up cells (before the first heading)" if title == SETUP else f"the heading '## {title}'"
            problems.append(f"{heading} has no row in the plan: add '| {title} | core or going further | N min "
                            f"| … |' {after}")
    for title in rows:
        if title not in headings:
            problems.append(f"the plan row {title!r} has no heading '## {title}' in the notebook: rename the row "
                            f"(or the heading) so that they match exactly")
    if not problems:
        problems.append(f"the plan's rows are not in the order of the headings: write them as {headings}")
    raise PlanError(f"{where}: " + "; ".join(problems))


def check_paths(rows: list[tuple[str, str, str]], where: str) -> None:
    expected = paths([r[0] for r in rows])
    wrong = [f"{section!r} is {want}, not {path}" for (section, path, _), want in zip(rows, expected) if path != want]
    if wrong:
        raise PlanError(f"{where}: wrong path in the plan: " + "; ".join(wrong) + " (a section is going further "
                        "when its heading starts with 'Going further', and so is a last 'References' after them)")


def last_line(stem: str, results: Path = RESULTS) -> str:
    """The plan's last line: the whole notebook in full mode, its peak memory, fast mode and from-scratch times
    when those results exist."""
    full = load(stem, "full", results)
    text = (f"{LAST_LINE[1:]}{cores(full)}: the whole notebook in {duration((full or {}).get('wall_s'))}, "
            f"peak memory {gigabytes((full or {}).get('peak_mem_mb'))}")
    if (fast := load(stem, "fast", results)) is not None:
        text += f"; in fast mode (`COURSE_FAST=1`) {duration(fast['wall_s'])}"
    if (scratch := load(stem, "scratch", results)) is not None:
        text += f"; training every model here (`TRAIN_FROM_SCRATCH = True`) {duration(scratch['wall_s'])}"
    return f"*{text}.*"


def plan_source(nb, stem: str, results: Path = RESULTS) -> str:
    """The plan cell's text as ``make times`` writes it, from the notebook's own plan and headings and the
    results; raises PlanError saying what to fix."""
    where = f"notebooks/{stem}.ipynb"
    found = plan_cells(nb)
    if len(found) != 1:
        raise PlanError(f"{where}: {'no' if not found else len(found)} markdown cells tagged '{PLAN_TAG}': the "
                        f"notebook needs exactly one plan cell, right after the title cell (CONTRIBUTING)")
    intro, rows = parse_plan(nb.cells[found[0]].source, where)
    match_rows([r[0] for r in rows], titles(nb), where)
    check_paths(rows, where)
    measured = section_seconds(current(nb, stem, results))
    table = ["| " + " | ".join(HEADER) + " |", "|---|---|---|---|"]
    core_minutes = sum(int(_CLASS_TIME.match(c).group(1)) for _, p, c in rows if p == CORE)
    core_seconds = [measured.get(s) for s, p, _ in rows if p == CORE]
    core_run = None if None in core_seconds else sum(core_seconds)
    run = UNKNOWN if core_run is None else f"**{duration(core_run)}**"
    total = f"| {TOTAL} | | **{core_minutes} min** | {run} |"
    for section, path, class_time in rows:
        if path == GOING_FURTHER and total:
            table.append(total)
            total = ""
        table.append(f"| {section} | {path} | {class_time} | {duration(measured.get(section))} |")
    if total:
        table.append(total)
    return "\n".join([intro, "", *table, "", last_line(stem, results)]) if intro else "\n".join(
        [*table, "", last_line(stem, results)])


def current(nb, stem: str, results: Path = RESULTS) -> dict | None:
    """The notebook's full-mode results when they time exactly its sections (an older run, made before a heading
    changed, times other sections: its section times are not used)."""
    r = load(stem, "full", results)
    return r if r is not None and [s["title"] for s in r.get("sections", [])] == titles(nb) else None


def missing_measurements(nb, stem: str, results: Path = RESULTS) -> list[str]:
    """Sections of the notebook without a measured time: all of them when the results time other sections."""
    measured = section_seconds(current(nb, stem, results))
    return [t for t in titles(nb) if measured.get(t) is None]


# --- the README -------------------------------------------------------------------------------------------------

def readme_time(stem: str, results: Path = RESULTS) -> str:
    """The README's "full mode, 2-core CPU" cell for one notebook."""
    full, scratch = load(stem, "full", results), load(stem, "scratch", results)
    if full is None:
        return UNKNOWN
    text = f"{duration(full['wall_s'])}, {gigabytes(full.get('peak_mem_mb'))}"
    if scratch is not None:
        return f"{text} with the checkpoints; {duration(scratch['wall_s'])} training from scratch (measured)"
    return f"{text} (measured)"


def readme_text(text: str, notebooks: Path = NOTEBOOKS, results: Path = RESULTS) -> str:
    """The README with the last column of its notebook table (rows ``| NN | ... |``) written from the results."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        cells = line.split("|")
        if len(cells) < 7 or not cells[1].strip().isdigit():
            continue
        nb = next(iter(sorted(notebooks.glob(f"{cells[1].strip()}_*.ipynb"))), None)
        if nb is not None:
            cells[-2] = f" {readme_time(nb.stem, results)} "
            lines[i] = "|".join(cells)
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


# --- the command ------------------------------------------------------------------------------------------------

def update(prefixes=(), check=False, plans=True, notebooks: Path = NOTEBOOKS, results: Path = RESULTS,
           readme: Path = README) -> tuple[list[str], list[str], list[str]]:
    """Write (or with ``check``, only compare) the plan cells of the chosen notebooks (all without ``prefixes``;
    none with ``plans=False``) and the README's time column. Returns ``(stale, errors, notes)``: the files that
    differ(ed) from what the results give, the notebooks that could not be filled in (and why), and the notes on
    sections with no measured time yet."""
    stale, errors, notes = [], [], []
    for path in sorted(notebooks.glob("[0-9][0-9]_*.ipynb")) if plans else []:
        if prefixes and not any(path.name.startswith(p) for p in prefixes):
            continue
        nb = nbformat.read(path, as_version=4)
        try:
            source = plan_source(nb, path.stem, results)
        except PlanError as exc:
            errors.append(str(exc))
            continue
        if missing := missing_measurements(nb, path.stem, results):
            which = ("any of its sections (no results, or a run made before its headings changed)"
                     if missing == titles(nb) else str(missing))
            notes.append(f"notebooks/{path.name}: no measured full-mode time for {which} in "
                         f"benchmarks/results/{path.stem}.full.json: run benchmarks/run.py {path.name[:2]}")
        cell = nb.cells[plan_cells(nb)[0]]
        if cell.source != source:
            stale.append(f"notebooks/{path.name}")
            if not check:
                cell.source = source
                nbformat.write(nb, path)
    if readme.is_file():
        text = readme.read_text()
        new = readme_text(text, notebooks, results)
        if new != text:
            stale.append(readme.name)
            if not check:
                readme.write_text(new)
    return stale, errors, notes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("prefixes", nargs="*", help="notebook number prefixes (default: all)")
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 when a file is stale")
    args = ap.parse_args(argv)
    stale, errors, notes = update(args.prefixes, check=args.check)
    for note in notes:
        print(f"note: {note}")
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    if args.check:
        print("stale (run make times): " + ", ".join(stale) if stale else "every time is current")
    else:
        print("wrote " + ", ".join(stale) if stale else "every time was already current")
    return 1 if errors or (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
