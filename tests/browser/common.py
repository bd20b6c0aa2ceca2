"""What the browser tests share: where they write, which Chromium, and the record of each check."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "build" / "browser-test"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FAILURES: list[str] = []
PASSED: list[str] = []


def log(msg: str) -> None:
    print(msg, flush=True)


def expect(cond: bool, what: str) -> bool:
    log(("  ok    " if cond else "  FAIL  ") + what)
    (PASSED if cond else FAILURES).append(what)
    return cond
