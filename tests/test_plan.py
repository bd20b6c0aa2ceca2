"""Every notebook's plan (CONTRIBUTING, "Core path and going further"): one plan cell right after the title, its
rows the notebook's ``## `` sections in order, paths that follow the headings, the core path within 60 minutes of
class and 3 minutes of full-mode run time (measured: benchmarks/results/), and plan cells and README exactly as
``make times`` writes them from the committed results. Also: no text a student reads speaks of the workshop
(issues, CI, benchmark runs, earlier versions of a notebook).

Sections, paths and the plan's format are defined once, in benchmarks/times.py. The order of sections:
- ``Set-up`` (the cells before the first heading), then the core sections, then ``## Summary``, which is the last
  core section; then the going-further sections, every heading starting with ``Going further``; then, optionally,
  ``## References``, the last heading of all (going further after going-further sections, core when there are
  none). So no core section comes after the first going-further one, and ``References`` is only ever last.
"""
import ast
import difflib
import importlib.util
import io
import json
import re
import tokenize
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0*.ipynb"))


def _times():
    spec = importlib.util.spec_from_file_location("course_times", ROOT / "benchmarks" / "times.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


times = _times()
ids = [p.stem for p in NOTEBOOKS]
DURATION = re.compile(r"\d[ \u00a0\u202f]+(?:s|sec|seconds?|min|minutes?|h|hours?)\b|\d-(?:second|minute|hour)s?\b")


def _nb(path):
    return nbformat.read(path, as_version=4)


def _plan(nb, where):
    """The plan cell's (intro, rows), or a failure saying what to add."""
    found = times.plan_cells(nb)
    assert len(found) == 1, (f"{where}: {len(found) or 'no'} markdown cells tagged 'plan': add exactly one, right "
                             f"after the title cell (CONTRIBUTING, 'Core path and going further')")
    try:
        return times.parse_plan(nb.cells[found[0]].source, where)
    except times.PlanError as exc:
        pytest.fail(str(exc))


# --- the notebooks -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_one_plan_cell_right_after_the_title(path):
    nb = _nb(path)
    title = times.title_cell_index(nb)
    assert title is not None, f"{path.name}: no title cell (a markdown cell starting with '# ')"
    _plan(nb, path.name)
    plan = times.plan_cells(nb)[0]
    assert plan == title + 1, (f"{path.name}: the plan cell is cell {plan}; move it right after the title cell "
                               f"(cell {title})")
    said = DURATION.search(nb.cells[title].source)
    assert not said, (f"{path.name}: the title cell states a time ({said.group(0)!r}...): remove it; the plan's "
                      f"last line gives the measured times (make times)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_plan_rows_are_the_headings_in_order(path):
    nb = _nb(path)
    _, rows = _plan(nb, path.name)
    try:
        times.match_rows([r[0] for r in rows], times.titles(nb), path.name)
        times.check_paths(rows, path.name)
    except times.PlanError as exc:
        pytest.fail(str(exc))


def order_problems(titles: list[str]) -> list[str]:
    """What breaks the order of sections (module docstring) in a notebook's section titles."""
    problems, paths = [], times.paths(titles)
    if titles.count(times.REFERENCES) > 1 or (times.REFERENCES in titles and titles[-1] != times.REFERENCES):
        problems.append("'## References' must be the last heading (and only one)")
    body = titles[:-1] if titles and titles[-1] == times.REFERENCES else titles
    first_gf = next((k for k, t in enumerate(body) if t.startswith(times.GOING_FURTHER_PREFIX)), len(body))
    late = [t for t in body[first_gf:] if not t.startswith(times.GOING_FURTHER_PREFIX)]
    if late:
        problems.append(f"core sections after the first going-further one ({body[first_gf]!r}): {late}; move them "
                        f"before '## Summary', or make them going-further sections ('## Going further N: ...')")
    core = [t for t, p in zip(body, paths) if p == times.CORE]
    if times.SUMMARY not in titles:
        problems.append("no '## Summary' heading: the core path ends with one")
    elif core and core[-1] != times.SUMMARY:
        after = core[core.index(times.SUMMARY) + 1:] if times.SUMMARY in core else []
        problems.append(f"'## Summary' must be the last core section, right before the going-further ones; "
                        f"after it come the core sections {after}")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_no_core_section_after_going_further(path):
    problems = order_problems(times.titles(_nb(path)))
    assert not problems, f"{path.name}: " + "; ".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_core_path_fits_a_60_minute_practical(path):
    _, rows = _plan(_nb(path), path.name)
    minutes = sum(int(c.split()[0]) for _, p, c in rows if p == times.CORE)
    assert minutes <= times.BUDGET_CLASS_MIN, (
        f"{path.name}: the core path's class times add up to {minutes} min, more than "
        f"{times.BUDGET_CLASS_MIN}: move a section to going further, or shorten it")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_core_path_runs_within_3_minutes_in_full_mode(path):
    nb, results = _nb(path), ROOT / "benchmarks" / "results" / f"{path.stem}.full.json"
    rerun = f"run `.venv/bin/python benchmarks/run.py {path.name[:2]}` (full mode), then `make times`"
    assert results.is_file(), f"{path.name}: no full-mode results ({results.name}): {rerun}"
    r = json.loads(results.read_text())
    assert not r.get("error"), f"{path.name}: its full-mode run failed ({r['error']}): fix it, then {rerun}"
    measured = [s["title"] for s in r.get("sections", [])]
    if measured != times.titles(nb):
        pytest.fail(f"{path.name}: {results.name} times the sections {measured or '(none: an older run)'}, the "
                    f"notebook has {times.titles(nb)}: {rerun}", pytrace=False)
    assert r["core_s"] is not None and r["core_s"] <= times.BUDGET_CORE_S, (
        f"{path.name}: the core path ran {r['core_s']} s in full mode, more than {times.BUDGET_CORE_S} s: shorten "
        f"it (fewer epochs, a checkpoint) or move a section to going further; per-section times in "
        f"benchmarks/RESULTS.md")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_plan_cell_is_what_make_times_writes(path):
    """A staleness test: the plan's run times, totals and last line come from the committed results."""
    nb = _nb(path)
    _plan(nb, path.name)
    try:
        expected = times.plan_source(nb, path.stem)
    except times.PlanError as exc:
        pytest.fail(str(exc))
    committed = nb.cells[times.plan_cells(nb)[0]].source
    if committed != expected:
        diff = difflib.unified_diff(committed.splitlines(), expected.splitlines(), "the plan cell",
                                    "what make times writes", lineterm="", n=0)
        pytest.fail(f"{path.name}: the plan cell is not what the results give: run `make times NB={path.name[:2]}` "
                    f"(never type its run times, totals or last line by hand)\n" + "\n".join(diff), pytrace=False)


def test_readme_times_are_what_make_times_writes():
    text = (ROOT / "README.md").read_text()
    expected = times.readme_text(text)
    if expected != text:
        diff = difflib.unified_diff(text.splitlines(), expected.splitlines(), "README.md", "what make times writes",
                                    lineterm="", n=0)
        pytest.fail("README.md's time column is not what the results give: run make times\n" + "\n".join(diff),
                    pytrace=False)


# --- nothing from the workshop ---------------------------------------------------------------------------------

# (pattern, flags, what to write instead). Case-insensitive except where a lower-case word is innocent: 'ci' in
# French ('ci-dessous', quoted from the slides), 'TODO' as a word. "95 % CI" (a confidence interval) is allowed.
WORKSHOP = [
    (r"\bissu(?:e|es|ed|ing)\b", re.I, "no issues: say what the course does, or cite a paper"),
    (r"(?<!%)(?<!%[ \u00a0\u202f])\bCI\b", 0, "no CI: say 'the tests' if the student needs to know at all"),
    (r"\bcontinuous integration\b", re.I, "no CI"),
    (r"\b(?:earlier|previous|old|older|former) (?:versions?|runs?|commits?|revisions?|editions?)\b", re.I,
     "no earlier versions of the notebook: describe what it does now"),
    (r"\bbench(?:mark(?:ing)?)?[ -]?runs?\b|\bmake bench\b|\bbenchmarks/results\b|\bRESULTS\.md\b", re.I,
     "no benchmark runs: 'measured in full mode on a 2-core CPU' says enough (figures tied in tests/test_prose.py)"),
    (r"\b(?:nbval|pytest|COURSE_STRICT)\b", re.I, "no test machinery"),
    (r"\b(?:TODO|FIXME)\b", 0, "unfinished work"),
]


def _strip_math(text):
    return re.sub(r"\$\$.*?\$\$|\$[^$\n]*\$", " ", text, flags=re.S)


def workshop_words(text: str) -> list[str]:
    """Each workshop word in a text a student reads, with its context and what to write instead."""
    found = []
    text = _strip_math(text)
    for pattern, flags, instead in WORKSHOP:
        for m in re.finditer(pattern, text, flags):
            context = re.sub(r"\s+", " ", text[max(0, m.start() - 40): m.end() + 40]).strip()
            found.append(f"{m.group(0)!r} in '...{context}...' ({instead})")
    return found


def _code_for_tokens(source):
    """IPython magics and shell lines blanked so that the tokenizer and the parser read the rest."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def student_text_of_code(source: str) -> list[str]:
    """What a student reads of a code cell: its comments, and the strings of ``record(..., source=...)`` and of
    ``check(...)`` messages."""
    code, out = _code_for_tokens(source), []
    try:
        out += [t.string for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type == tokenize.COMMENT]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        out += re.findall(r"#.*", code)
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return out
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        args = [k.value for k in node.keywords if k.arg == "source"] if name == "record" else (
            node.args[1:] + [k.value for k in node.keywords] if name == "check" else [])
        for arg in args:
            out += [n.value for n in ast.walk(arg) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return out


def workshop_words_in(nb) -> list[str]:
    found = []
    for i, cell in enumerate(nb.cells):
        if "colab-badge" in cell.metadata.get("tags", []):
            continue                                   # the badge's address, stamped by `make stamp`
        texts = [cell.source] if cell.cell_type == "markdown" else student_text_of_code(cell.source)
        found += [f"cell {i}: {w}" for text in texts for w in workshop_words(text)]
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_no_workshop_words_a_student_reads(path):
    found = workshop_words_in(_nb(path))
    if found:
        pytest.fail(f"{path.name}: text a student reads speaks of the workshop (markdown, code comments, "
                    f"record(source=...) and check messages):\n  " + "\n  ".join(found), pytrace=False)


# --- the mechanisms, on made-up notebooks (these can fail) --------------------------------------------------------

def _made_up(headings, plan_rows, title="# 99 · A made-up notebook"):
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    plan = md("**Plan.** A sentence.\n\n| section | path | class time | run time, full mode |\n|---|---|---|---|\n"
              + "\n".join(f"| {s} | {p} | {m} min | … |" for s, p, m in plan_rows))
    plan.metadata["tags"] = ["plan"]
    cells = [md(title), plan, code("import utils")]
    for h in headings:
        cells += [md(f"## {h}\n\nText."), code("x = 1  # one idea")]
    return nbformat.v4.new_notebook(cells=cells)


HEADINGS = ["1. One", "2. Two", "Summary", "Going further 1: more", "References"]
ROWS = [("Set-up", "core", 2), ("1. One", "core", 20), ("2. Two", "core", 30), ("Summary", "core", 2),
        ("Going further 1: more", "going further", 15), ("References", "going further", 0)]


def _results(tmp_path, sections, **extra):
    d = tmp_path / "results"
    d.mkdir(exist_ok=True)
    (d / "99_made_up.full.json").write_text(json.dumps({
        "notebook": "99_made_up", "mode": "full", "wall_s": 75.2, "peak_mem_mb": 900.0, "error": None,
        "machine": "2 cores, test", "sections": [{"title": t, "path": p, "seconds": s} for t, p, s in sections],
        **extra}))
    return d


def test_the_plan_is_written_from_the_results(tmp_path):
    nb = _made_up(HEADINGS, ROWS)
    secs = [("Set-up", "core", 3.2), ("1. One", "core", 40.0), ("2. Two", "core", 0.2), ("Summary", "core", 0),
            ("Going further 1: more", "going further", 100.0), ("References", "going further", 0)]
    text = times.plan_source(nb, "99_made_up", _results(tmp_path, secs))
    lines = text.splitlines()
    assert lines[0] == "**Plan.** A sentence."
    assert "| 1. One | core | 20 min | 40 s |" in lines and "| 2. Two | core | 30 min | < 1 s |" in lines
    total = lines.index("| **core path** | | **54 min** | **43 s** |")     # 2 + 20 + 30 + 2; 3.2 + 40 + 0.2
    assert lines[total - 1].startswith("| Summary |") and lines[total + 1].startswith("| Going further 1")
    assert "| Going further 1: more | going further | 15 min | 1.7 min |" in lines
    assert lines[-1] == "*Measured in full mode on a 2-core CPU: the whole notebook in 75 s, peak memory 0.9 GB.*"
    nb.cells[1].source = text                            # written once, it is what make times writes again
    assert times.plan_source(nb, "99_made_up", _results(tmp_path, secs)) == text


def test_without_results_the_plan_says_not_yet_measured(tmp_path):
    nb = _made_up(HEADINGS, ROWS)
    lines = times.plan_source(nb, "99_made_up", tmp_path).splitlines()
    assert "| 1. One | core | 20 min | … |" in lines and "| **core path** | | **54 min** | … |" in lines
    assert lines[-1] == "*Measured in full mode: the whole notebook in …, peak memory ….*"
    older = _results(tmp_path, [("Set-up", "core", 3.2), ("1. One", "core", 40.0)])    # an older run's sections
    lines = times.plan_source(nb, "99_made_up", older).splitlines()
    assert "| 1. One | core | 20 min | … |" in lines and "| **core path** | | **54 min** | … |" in lines
    assert lines[-1].startswith("*Measured in full mode on a 2-core CPU: the whole notebook in 75 s")


@pytest.mark.parametrize("headings, rows, fragment", [
    (HEADINGS, ROWS[:2] + ROWS[3:], "the heading '## 2. Two' has no row in the plan: add '| 2. Two |"),
    (HEADINGS, ROWS + [("3. Three", "core", 5)], "the plan row '3. Three' has no heading '## 3. Three'"),
    (HEADINGS, [ROWS[0], ROWS[2], ROWS[1]] + ROWS[3:], "not in the order of the headings"),
    (HEADINGS, ROWS[:1] + [("1. one", "core", 20)] + ROWS[2:], "the plan row '1. one' has no heading"),
    (HEADINGS, ROWS[:4] + [("Going further 1: more", "core", 15)] + ROWS[5:],
     "'Going further 1: more' is going further, not core"),
    (HEADINGS, ROWS[:1] + [("1. One", "going further", 20)] + ROWS[2:], "'1. One' is core, not going further"),
    (HEADINGS, ROWS[:5] + [("References", "core", 0)], "'References' is going further, not core"),
    (HEADINGS, ROWS[:1] + [("1. One", "core", "twenty")] + ROWS[2:], "class time 'twenty min' must be whole"),
    (HEADINGS, ROWS[:1] + [("1. One", "cor", 20)] + ROWS[2:], "path 'cor' must be"),
    (HEADINGS[:1] + HEADINGS, ROWS, "the heading '## 1. One' appears 2 times"),
])
def test_a_plan_that_does_not_match_its_notebook_is_refused_with_what_to_fix(headings, rows, fragment):
    with pytest.raises(times.PlanError, match=re.escape(fragment)):
        times.plan_source(_made_up(headings, rows), "99_made_up", Path("/nonexistent"))


def test_text_after_the_plan_table_is_not_lost():
    nb = _made_up(HEADINGS, ROWS)
    nb.cells[1].source += "\n\nThe exercises of section 2 can be skipped."
    with pytest.raises(times.PlanError, match="text after its table, 'The exercises of section 2"):
        times.plan_source(nb, "99_made_up", Path("/nonexistent"))


def test_a_notebook_without_a_plan_cell_is_refused():
    nb = _made_up(HEADINGS, ROWS)
    nb.cells[1].metadata["tags"] = []
    with pytest.raises(times.PlanError, match="no markdown cells tagged 'plan'"):
        times.plan_source(nb, "99_made_up", Path("/nonexistent"))


def test_paths_follow_the_headings():
    assert times.paths(["Set-up", "1. A", "Summary", "References"]) == ["core"] * 4
    assert times.paths(["Set-up", "1. A", "Summary", "Going further 1: B", "References"]) == [
        "core", "core", "core", "going further", "going further"]
    assert times.paths(["Set-up", "Summary", "Going further 1: B", "2. C"]) == [
        "core", "core", "going further", "core"]


@pytest.mark.parametrize("titles, fragment", [
    (["Set-up", "1. A", "Summary", "Going further 1: B", "2. C"], "core sections after the first going-further"),
    (["Set-up", "1. A", "Summary", "Going further 1: B", "References", "Going further 2: C"], "must be the last"),
    (["Set-up", "1. A", "Summary", "2. B", "Going further 1: C"], "'## Summary' must be the last core section"),
    (["Set-up", "1. A", "Going further 1: B"], "no '## Summary' heading"),
    (["Set-up", "1. A", "Going further 1: B", "Summary"], "core sections after the first going-further"),
])
def test_order_problems_are_found(titles, fragment):
    assert any(fragment in p for p in order_problems(titles)), order_problems(titles)


@pytest.mark.parametrize("titles", [
    ["Set-up", "1. A", "Summary"], ["Set-up", "1. A", "Summary", "References"],
    ["Set-up", "1. A", "Summary", "Going further 1: B", "Going further 2: C", "References"],
])
def test_good_orders_pass(titles):
    assert order_problems(titles) == []


def test_headings_in_code_fences_and_deeper_levels_are_not_sections():
    nb = _made_up(["1. One", "Summary\n\n### a sub-section\n\n```\n## not a heading\n```\n\n## References"], [])
    assert times.titles(nb) == ["Set-up", "1. One", "Summary", "References"]


def test_the_readme_column_is_written_from_the_results(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "99_made_up.ipynb").write_text("{}")
    text = ("| # | notebook | topic | slides | full mode, 2-core CPU |\n|---|---|---|---|---|\n"
            "| 99 | x | y | z | 5 s |\n")
    assert times.readme_text(text, tmp_path / "notebooks", tmp_path).endswith("| z | … |\n")
    results = _results(tmp_path, [])
    assert times.readme_text(text, tmp_path / "notebooks", results).endswith("| z | 75 s, 0.9 GB (measured) |\n")


@pytest.mark.parametrize("text", [
    "as the issue asked", "Issues: none", "this was issued", "CI runs it", "in an earlier version of this notebook",
    "our previous run gave", "the bench run measured", "a benchmark run", "see `benchmarks/RESULTS.md`",
    "`benchmarks/results/05.json`",
    "`make bench` writes", "checked by nbval", "TODO: finish", "set COURSE_STRICT=1",
])
def test_workshop_words_are_found(text):
    assert workshop_words(text), text


@pytest.mark.parametrize("text", [
    "tissue and bone", "a 95 % CI of the mean", "ci-dessous (slide 3)", "the MOSES benchmark", "benchmarking "
    "platform", "a reissue of the data", "NIPS 2016 Workshop on Advances", "`benchmarks/train_checkpoints.py`",
    "$c_{I}$ and $CI$", "an earlier layer", "the version of RDKit",
    "Circle data", "the previous section",
])
def test_innocent_words_are_not_workshop_words(text):
    assert not workshop_words(text), workshop_words(text)


def test_the_scan_reads_comments_record_sources_and_check_messages():
    cell = ('%matplotlib inline\nx = 1  # as the issue asked\n'
            'utils.record("a", 1, source="issue target")\nutils.check(x > 0, "fine", f"see CI log {x}")\n'
            's = "CI"  # a SMILES: methyl iodide\n')
    found = [w for t in student_text_of_code(cell) for w in workshop_words(t)]
    assert len(found) == 3, found
