"""Google Colab only: install what Colab lacks into its kernel, from the course just cloned (the set-up cell's step 2).

The set-up cell of every notebook clones the course into /content, then calls ``install_course``. Colab's own torch
and ipywidgets are kept (the course pins neither). A failure stops the cell with a sentence saying what to do.
"""
from __future__ import annotations

import subprocess
import sys


def install_course(course: str) -> None:
    """``pip install -e course`` with the kernel's own pip (RDKit, ASE, rdata and the course package)."""
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", course],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError("Could not install the course's packages: run this cell again; if it fails again, choose "
                           "Runtime > Disconnect and delete runtime, then run all cells.\n" + done.stderr[-1500:])
