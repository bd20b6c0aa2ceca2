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
