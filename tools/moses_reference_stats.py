"""Convert MOSES's reference statistics of its test split into the course's pickle-free file, and check them.

MOSES (PyPI molsets 0.3.1) ships ``moses/dataset/data/test_stats.npz``: one *pickled* dict. This script is the only
place in the course that unpickles it, once, after checking its sha256 against the data manifest (utils/data.py).
It writes ``data/moses/test_reference_stats.npz`` (plain arrays, read with ``allow_pickle=False`` by
``utils.moses.reference_stats``), byte-identical on every rebuild:

* ``fcd_mu`` (512, float32), ``fcd_sigma`` (512 x 512, float64): MOSES's ChemNet statistics, unchanged;
* ``frag_keys`` / ``frag_counts``, ``scaf_keys`` / ``scaf_counts``: MOSES's fragment and scaffold counts (the keys
  as one UTF-8 text, one per line, in sorted order);
* ``fps_sha256``: the sha256 of MOSES's SNN fingerprints, packed with np.packbits (22 MB: too big to commit; the
  course recomputes them from the test SMILES and checks them against this hash); ``fps_patch_index`` /
  ``fps_patch_rows``: MOSES's own packed rows for the few test molecules where this RDKit sets other bits (6 of
  176 074 with RDKit 2026.09), put back by the course so that its reference is exactly MOSES's; ``n_test``.

Checks (printed): the course's fingerprints, fragments and scaffolds of the test split equal MOSES's; the ``fcd``
package's ChemNet statistics agree with MOSES's (``--fcd all``: every test molecule, the Frechet distance between the
two must be ~0; about 10 ms a molecule on a CPU, half an hour for all; ``--fcd N`` checks on N molecules drawn at
random: their mean against MOSES's mean in standard errors); and the small-sample bias of FCD (two disjoint halves of
``--halves`` molecules each, and of 2000 each).

Run: ``python tools/moses_reference_stats.py [--fcd N|all|0] [--halves 10000]`` from the repository root.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import sys
import time
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from utils import data, moses  # noqa: E402

OUT = ROOT / "data" / moses.REFERENCE_FILE


def load_moses_stats() -> dict:
    """MOSES's pickled dict, after its sha256 is checked by utils.data (the one unpickling in the course)."""
    src = data.path("moses/test_stats.npz")  # verified against the manifest's sha256 before anything is read
    with np.load(src, allow_pickle=True) as z:
        return z["stats"].item()


def write_npz(path: Path, arrays: dict) -> None:
    """np.savez_compressed's format with fixed time stamps, so that a rebuild is byte-identical."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asanyarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())


def keys_and_counts(counter) -> tuple[np.ndarray, np.ndarray]:
    keys = sorted(counter)
    assert all("\n" not in k for k in keys)
    return np.frombuffer("\n".join(keys).encode("utf-8"), dtype=np.uint8), np.array([counter[k] for k in keys],
                                                                                      dtype=np.int64)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fcd", default="4000", help="test molecules for the fcd-vs-MOSES check: a number, 'all' or 0")
    ap.add_argument("--halves", type=int, default=10_000, help="size of each disjoint half for the FCD bias (0: skip)")
    args = ap.parse_args(argv)

    t0 = time.time()
    stats = load_moses_stats()
    fps = stats["SNN"]["fps"]
    packed = np.packbits(fps, axis=1)
    smiles = moses.test_smiles()
    assert len(smiles) == len(fps), (len(smiles), len(fps))
    t = time.time()
    mine = np.zeros_like(packed)
    frag, scaf = Counter(), Counter()
    for i, s in enumerate(smiles):  # one molecule at a time: 176 074 RDKit molecules at once would take GBs
        m = moses.get_mol(s)
        mine[i] = np.packbits(moses.morgan_fingerprints([m])[0])
        frag.update(moses.fragments([m]))
        scaf.update(moses.scaffolds([m]))
    differ = np.flatnonzero((mine != packed).any(1))
    print(f"fingerprints: {len(differ)} of {len(fps)} test molecules differ from MOSES's: "
          + ", ".join(smiles[i] for i in differ[:10]))
    print(f"fragments: {'equal' if frag == stats['Frag']['frag'] else 'DIFFER'} to MOSES's "
          f"(cosine {moses.cos_similarity(stats['Frag']['frag'], frag):.6f}); scaffolds: "
          f"{'equal' if scaf == stats['Scaf']['scaf'] else 'DIFFER'} "
          f"(cosine {moses.cos_similarity(stats['Scaf']['scaf'], scaf):.6f}) ({time.time() - t:.0f} s)")
    frag_keys, frag_counts = keys_and_counts(stats["Frag"]["frag"])
    scaf_keys, scaf_counts = keys_and_counts(stats["Scaf"]["scaf"])
    arrays = {"fcd_mu": stats["FCD"]["mu"], "fcd_sigma": stats["FCD"]["sigma"],
              "frag_keys": frag_keys, "frag_counts": frag_counts, "scaf_keys": scaf_keys, "scaf_counts": scaf_counts,
              "fps_sha256": np.array(hashlib.sha256(packed.tobytes()).hexdigest()), "n_test": np.array(len(fps)),
              # MOSES's own rows where this RDKit sets other bits: the course puts them back (utils.moses)
              "fps_patch_index": differ.astype(np.int64), "fps_patch_rows": packed[differ]}
    write_npz(OUT, arrays)
    print(f"wrote {OUT.relative_to(ROOT)}: {OUT.stat().st_size / 1e6:.2f} MB, sha256 {data.sha256(OUT)}")

    # --- the fcd package's ChemNet against MOSES's statistics, and the small-sample bias
    n_fcd = len(smiles) if args.fcd == "all" else int(args.fcd)
    need = max(n_fcd, 2 * args.halves, 4000 if args.halves else 0)
    if need:
        order = np.random.default_rng(0).permutation(len(smiles))[:need]
        t = time.time()
        act = moses.chemnet_activations([smiles[i] for i in order])
        print(f"ChemNet on {need} test molecules: {time.time() - t:.0f} s")
        mu_ref, sigma_ref = stats["FCD"]["mu"], stats["FCD"]["sigma"]
        if n_fcd:
            a = act[:n_fcd]
            fd = moses.frechet_distance(mu_ref, sigma_ref, a.mean(0), np.cov(a.T))
            z = (a.mean(0) - mu_ref) / np.sqrt(np.diag(sigma_ref) / n_fcd)
            print(f"fcd package vs MOSES on {n_fcd} test molecules: FCD {fd:.4f}; mean activations at "
                  f"{np.sqrt(np.mean(z ** 2)):.2f} standard errors (rms over 512 dims; ~1 when they agree), "
                  f"largest |z| {np.abs(z).max():.1f}")
        for half in [h for h in (args.halves, 2000) if h]:
            a, b = act[:half], act[half:2 * half]
            fd = moses.frechet_distance(a.mean(0), np.cov(a.T), b.mean(0), np.cov(b.T))
            print(f"FCD between two disjoint sets of {half} test molecules: {fd:.3f}")
    print(f"done in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
