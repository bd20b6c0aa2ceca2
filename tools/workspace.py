"""A student's own workspace, ``my-work/``: filled from the student edition once, never overwritten afterwards.

``make lab`` runs ``python -m tools.workspace`` and opens JupyterLab there. The folder is git-ignored and no course
command writes into a notebook that is already in it: a student's answers and outputs stay theirs. When the course
publishes a newer version of a notebook that the student has opened, it arrives as a new file beside theirs
(``NN_name.new.ipynb``), with a message; a notebook the student never changed is simply updated.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STUDENT = ROOT / "notebooks" / "student"
WORKSPACE = ROOT / "my-work"
STATE = ".course-versions.json"      # name -> sha256 of the student edition each copy was made from


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def workspace_text(text: str) -> str:
    """The student edition's text as it goes into the workspace: its link to the instructor's edition
    (``../NN_name.ipynb`` seen from notebooks/student/) made right from ``my-work/``."""
    return text.replace("](../0", "](../notebooks/0")


def _readme(workspace: Path) -> None:
    readme = workspace / "README.md"
    if not readme.exists():
        readme.write_text(
            "# My work\n\nYour copy of the course's student edition: answer the exercises here. No course command "
            "ever writes into a notebook of this folder (git ignores it too), so your answers and outputs are safe. "
            "When the course publishes a newer version of a notebook you have worked in, `make lab` puts it beside "
            "yours as `NN_name.new.ipynb`. To start a notebook afresh, delete or rename your copy and run `make lab` "
            "again.\n")


def fill(workspace: Path = WORKSPACE, source: Path = STUDENT) -> list[str]:
    """Bring ``workspace`` up to date with the student edition in ``source`` without ever overwriting a student's
    work. Returns the messages to show (one per notebook added, updated or put beside an existing copy)."""
    workspace.mkdir(parents=True, exist_ok=True)
    _readme(workspace)
    state_file = workspace / STATE
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    messages = []
    for src in sorted(source.glob("[0-9][0-9]_*.ipynb")):
        text = workspace_text(src.read_text())
        new_sha, old_sha = _sha(text), state.get(src.name)
        mine = workspace / src.name
        if not mine.exists():
            mine.write_text(text)
            messages.append(f"added {mine.name}" + (" (deleted earlier: a fresh copy)" if old_sha else ""))
        elif new_sha == old_sha:
            continue                                     # the course did not change: nothing to do
        elif old_sha is not None and _sha(mine.read_text()) == old_sha:
            mine.write_text(text)                        # never opened or changed by the student: safe to update
            messages.append(f"updated {mine.name} to the course's newer version (you had not changed it)")
        elif _sha(mine.read_text()) == new_sha:
            pass                                         # already the same text
        else:
            beside, n = mine.with_name(mine.stem + ".new.ipynb"), 1
            while beside.exists() and _sha(beside.read_text()) != new_sha:     # an older .new may be worked in
                n += 1
                beside = mine.with_name(f"{mine.stem}.new{n}.ipynb")
            beside.write_text(text)
            messages.append(f"the course's {src.name} is newer than the one you started from: it is in "
                            f"{beside.name}, beside yours ({mine.name} is untouched)")
        state[src.name] = new_sha
    state_file.write_text(json.dumps(state, indent=1, sort_keys=True) + "\n")
    return messages


def main() -> int:
    messages = fill()
    where = WORKSPACE.relative_to(ROOT)
    print(f"your workspace: {where}/ (the student edition; no course command ever overwrites what you write there)")
    for m in messages:
        print(f"  {m}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
