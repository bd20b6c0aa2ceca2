"""benchmarks/run.py: a failed run is recorded as one plain line (no terminal colour codes) and stays visible in
the RESULTS.md table, with blank cells where nothing was measured."""
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _runner():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_error_summary_is_one_plain_line():
    run = _runner()
    exc = RuntimeError("An error occurred:\n\x1b[31mCHECK FAILED\x1b[0m (CheckFailed): validity 0.4 is not >= 0.7\n")
    assert run.error_summary(exc) == "RuntimeError: CHECK FAILED (CheckFailed): validity 0.4 is not >= 0.7"
    assert run.error_summary(RuntimeError()) == "RuntimeError: "


def test_table_shows_failed_runs_and_blanks_missing_figures(tmp_path, monkeypatch):
    run = _runner()
    results = tmp_path / "results"
    results.mkdir()
    failed = {"notebook": "07_vae", "mode": "full", "wall_s": 12.0, "kernel_cpu_s": None, "load_before": 0.1,
              "peak_mem_mb": None, "machine": "test", "date": "2026-01-01",
              "error": "CellExecutionError: CHECK FAILED (CheckFailed): validity 0.4 is not >= 0.7",
              "figures": {"validity": {"value": 0.4, "anchor": 0.7}}}
    (results / "07_vae.full.json").write_text(json.dumps(failed))
    monkeypatch.setattr(run, "RESULTS", results)
    monkeypatch.setattr(run, "HERE", tmp_path)
    text = run.write_table().read_text()
    row = next(line for line in text.splitlines() if line.startswith("| 07_vae | full"))
    assert "FAILED: CellExecutionError: CHECK FAILED (CheckFailed): validity 0.4 is not >= 0.7" in row
    assert "None" not in row
    assert "| validity | 0.4 | 0.7 | 0.5714 |" in text


def _executed(cells):
    """A made-up executed notebook: (kind, source, seconds or None for a cell that did not run)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    for kind, source, seconds in cells:
        cell = (nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell)(source)
        if kind == "code" and seconds is not None:
            cell.metadata["execution"] = {"iopub.status.busy": "2026-01-01T10:00:00.000000Z",
                                          "iopub.execute_input": "2026-01-01T10:00:00.001000Z",
                                          "shell.execute_reply": f"2026-01-01T10:00:{seconds:09.6f}Z"}
        nb.cells.append(cell)
    return nb


def test_each_section_is_timed_from_its_cells_metadata():
    run = _runner()
    nb = _executed([("md", "# 99 · Title", None), ("code", "import utils", 2.5),
                    ("md", "## 1. One", None), ("code", "a", 1.25), ("code", "b", 0.5), ("code", "", None),
                    ("md", "## Summary\n\ntext\n\n## Going further 1: more", None), ("code", "c", 30.0),
                    ("md", "## References", None), ("code", "peak", 0.1)])
    sections = run.section_times(nb, n_cells=len(nb.cells) - 1)          # the last cell is the runner's own
    assert sections == [
        {"title": "Set-up", "path": "core", "seconds": 2.5}, {"title": "1. One", "path": "core", "seconds": 1.75},
        {"title": "Summary", "path": "core", "seconds": 0},
        {"title": "Going further 1: more", "path": "going further", "seconds": 30.0},
        {"title": "References", "path": "going further", "seconds": 0}]
    totals = run.section_totals(sections, wall=40.0)
    assert (totals["core_s"], totals["going_further_s"], totals["other_s"]) == (4.2, 30.0, 5.8)


def test_a_section_the_run_did_not_reach_has_no_time():
    run = _runner()
    nb = _executed([("md", "# T", None), ("code", "import utils", 2.0), ("md", "## 1. One", None),
                    ("code", "raise", 1.0), ("code", "after", None), ("md", "## Going further 1: x", None),
                    ("code", "x", None)])
    sections = run.section_times(nb)
    assert [s["seconds"] for s in sections] == [2.0, None, None]
    totals = run.section_totals(sections, wall=5.0)
    assert totals["core_s"] is None and totals["going_further_s"] is None


def test_results_md_shows_each_section_and_the_core_budget(tmp_path, monkeypatch):
    run = _runner()
    results = tmp_path / "results"
    results.mkdir()
    r = {"notebook": "99_x", "mode": "full", "wall_s": 250.0, "kernel_cpu_s": 1.0, "load_before": 0.1,
         "peak_mem_mb": 900.0, "machine": "test", "date": "2026-01-01", "error": None, "figures": {},
         **run.section_totals([{"title": "Set-up", "path": "core", "seconds": 3.0},
                               {"title": "1. One", "path": "core", "seconds": 190.0},
                               {"title": "Going further 1: x", "path": "going further", "seconds": 50.0}], 250.0)}
    (results / "99_x.full.json").write_text(json.dumps(r))
    monkeypatch.setattr(run, "RESULTS", results)
    monkeypatch.setattr(run, "HERE", tmp_path)
    text = run.write_table().read_text()
    assert "| section | path | seconds |" in text and "| 1. One | core | 190.0 |" in text
    assert "| Going further 1: x | going further | 50.0 |" in text
    assert "| (kernel start, between cells) | | 7.0 |" in text
    assert "Core path in full mode: 193.0 s of the 180 s budget: OVER BUDGET by 13.0 s; going further: 50.0 s." in text
