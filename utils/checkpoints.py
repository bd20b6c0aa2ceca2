"""Model checkpoints trained by the course itself (``benchmarks/train_checkpoints.py``, ``make checkpoints``).

Each checkpoint is ``checkpoints/<name>.pt``: a plain dict (``state_dict`` plus small lists and numbers) that
``torch.load(..., weights_only=True)`` reads, a card ``checkpoints/<name>.json`` saying how it was made and what it
reached, and a line in ``checkpoints/MANIFEST.json`` with its sha256 and size. :func:`load` checks the sha256
before reading the file: a missing, truncated or corrupted file raises :class:`CheckpointError` naming it, and
the notebook that asked for it trains the model itself instead (:func:`load_or_none`).
"""
from __future__ import annotations

import json
from pathlib import Path

from . import data
from .errors import DataError

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "checkpoints"
MANIFEST = FOLDER / "MANIFEST.json"


class CheckpointError(DataError):
    """A committed checkpoint is missing, corrupted, or does not fit the model it is loaded into."""

    label = "CHECKPOINT"


def manifest() -> dict:
    """``{name: {"file", "sha256", "bytes"}}`` for every committed checkpoint."""
    return json.loads(MANIFEST.read_text()) if MANIFEST.is_file() else {}


def card(name: str) -> dict:
    """How checkpoint ``name`` was made: data, recipe, seed, training time, machine, measured figures."""
    _entry(name)
    return json.loads((FOLDER / f"{name}.json").read_text())


def _entry(name: str) -> dict:
    known = manifest()
    if name not in known:
        raise CheckpointError(f"no checkpoint named {name!r} in {MANIFEST} (known: {', '.join(sorted(known)) or 'none'})")
    return known[name]


def path(name: str) -> Path:
    """The verified path of checkpoint ``name`` (its sha256 must match the manifest)."""
    entry = _entry(name)
    file = FOLDER / entry["file"]
    if not file.is_file():
        raise CheckpointError(f"checkpoint {name!r}: file {file} is missing (expected sha256 {entry['sha256']}); "
                              "restore it with `git checkout -- checkpoints/` or retrain it with `make checkpoints`")
    digest = data.sha256(file)
    if digest != entry["sha256"]:
        raise CheckpointError(f"checkpoint {name!r}: {file} has sha256 {digest}, not {entry['sha256']} as "
                              f"{MANIFEST.name} says; the file is truncated, corrupted or was replaced. Restore it "
                              "with `git checkout -- checkpoints/` or retrain it with `make checkpoints`")
    return file


def load(name: str) -> dict:
    """The checked contents of checkpoint ``name`` (a dict with at least ``state_dict``), read with
    ``weights_only=True`` on the CPU."""
    import torch

    file = path(name)
    try:
        return torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # a file with the right hash cannot fail here unless torch cannot read it
        raise CheckpointError(f"checkpoint {name!r}: torch cannot read {file} ({type(exc).__name__}: {exc})") from None


def load_into(net, name: str, state: dict | None = None):
    """Load checkpoint ``name``'s weights into ``net`` (in eval mode); a shape or key mismatch names the checkpoint."""
    state = load(name) if state is None else state
    try:
        net.load_state_dict(state["state_dict"])
    except (RuntimeError, KeyError) as exc:
        raise CheckpointError(f"checkpoint {name!r} does not fit {type(net).__name__}: {exc}") from None
    return net.eval()


def load_or_none(name: str, train_from_scratch: bool = False, verbose: bool = True) -> dict | None:
    """The checkpoint's contents, or None when the notebook must train instead: when asked to
    (``train_from_scratch``) or when the checkpoint cannot be used (the reason is printed)."""
    if train_from_scratch:
        if verbose:
            print(f"TRAIN_FROM_SCRATCH: not loading the checkpoint {name!r}; the full training runs below.")
        return None
    try:
        state = load(name)
    except CheckpointError as err:
        if verbose:
            print(f"{err}\n-> training the model here instead (this takes the full-mode time).")
        return None
    if verbose:
        c = card(name)
        print(f"checkpoint {name!r}: {c['recipe']}; trained in {c['train_seconds'] / 60:.0f} min on {c['machine']}")
    return state


def save(name: str, state: dict, card_: dict) -> Path:
    """Write ``checkpoints/<name>.pt`` and its card, and record its sha256 and size in the manifest."""
    import torch

    FOLDER.mkdir(exist_ok=True)
    file = FOLDER / f"{name}.pt"
    torch.save(state, file)
    (FOLDER / f"{name}.json").write_text(json.dumps(card_, indent=2) + "\n")
    known = manifest()
    known[name] = {"file": file.name, "sha256": data.sha256(file), "bytes": file.stat().st_size}
    MANIFEST.write_text(json.dumps(dict(sorted(known.items())), indent=2) + "\n")
    return file


def table() -> str:
    """The README's table of the committed checkpoints, from the manifest and the cards (``benchmarks/run.py``
    writes it between the ``<!-- checkpoints -->`` markers; a test fails while the README's copy is stale)."""
    lines = ["| checkpoint | notebook | recipe | training | figures reached (card) | size |", "|---|---|---|---|---|---|"]
    for name, entry in manifest().items():
        c = card(name)
        figures = ", ".join(f"{k} {v}" for k, v in c["figures"].items() if isinstance(v, (int, float))
                           and k not in ("samples", "held_out", "eval_seconds"))
        lines.append(f"| `{name}` | {c['notebook']} | {c['recipe']} | {c['train_seconds'] / 60:.0f} min, {c['machine']} "
                     f"| {figures} | {entry['bytes'] / 1e6:.1f} MB |")
    total = sum(e["bytes"] for e in manifest().values()) / 1e6
    return "\n".join(lines) + f"\n\nIn all {total:.1f} MB."
