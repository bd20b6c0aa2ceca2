#!/usr/bin/env python
"""Rebuild the committed MOSES subset (data/moses/*_subset.csv.gz) from the full MOSES files.

    python data/make_moses_subset.py            # 250 000 train + 10 000 test SMILES, seed 0

The full files (train.csv.gz, test.csv.gz of the PyPI package molsets==0.3.1) are found through
``utils.data.path`` (``$COURSE_DATA``, the cache, or a download of the wheel). Rows are drawn uniformly at
random without replacement (numpy default_rng(seed)), kept in their original order, and written as gzip CSV
with the header ``SMILES`` and a gzip time stamp of 0, so that a rebuild is byte-identical (same sha256 as
in utils/data.py's MANIFEST). See data/moses/PROVENANCE.md.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import utils.data  # noqa: E402


def read_smiles(file: Path) -> list[str]:
    with gzip.open(file, "rt") as f:
        header = f.readline().strip()
        if header != "SMILES":
            raise SystemExit(f"{file}: expected the header 'SMILES', got {header!r}")
        return [line.strip() for line in f if line.strip()]


def subset(smiles: list[str], n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.choice(len(smiles), size=min(n, len(smiles)), replace=False))
    return [smiles[i] for i in keep]


def write(smiles: list[str], target: Path) -> str:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(("SMILES\n" + "\n".join(smiles) + "\n").encode())
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(buf.getvalue())
    return hashlib.sha256(buf.getvalue()).hexdigest()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=250_000)
    ap.add_argument("--test", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=HERE / "moses")
    a = ap.parse_args(argv)
    for name, n, seed in (("train", a.train, a.seed), ("test", a.test, a.seed + 1)):
        full = read_smiles(utils.data.path(f"moses/{name}.csv.gz"))
        part = subset(full, n, seed)
        target = a.out / f"{name}_subset.csv.gz"
        digest = write(part, target)
        print(f"{target}: {len(part)} of {len(full)} SMILES, {target.stat().st_size / 1e6:.2f} MB, sha256 {digest}")


if __name__ == "__main__":
    main()
