"""MOSES's benchmark metrics (Polykovskiy et al. 2020) for generated molecules, its published table, and their plots.

``moses_metrics(samples)`` computes the columns of MOSES's table 2 the way MOSES's own code does (package molsets
0.3.1, ``moses/metrics/metrics.py`` and ``moses/metrics/utils.py``), so that a course model's row can stand next to
MOSES's rows:

* **valid**: share of the samples RDKit parses; every later metric uses the valid samples as RDKit canonical SMILES,
  duplicates kept (MOSES's ``remove_invalid(gen, canonize=True)``).
* **unique@k**: distinct molecules among the first ``k`` valid ones (all of them when fewer than ``k``).
* **FCD/Test**: Frechet ChemNet Distance (Preuer et al. 2018) between the ChemNet activations of the valid samples and
  those of MOSES's test split (its mean and covariance, committed in ``data/moses/test_reference_stats.npz``);
  computed with the ``fcd`` package, whose statistics of the test split agree with MOSES's (see
  ``tools/moses_reference_stats.py``). Strongly biased upward by small samples: MOSES uses 30 000 samples.
* **SNN/Test**: mean over the valid samples of the largest Tanimoto similarity to a test molecule (Morgan
  fingerprints, radius 2, **1024 bits**: MOSES's default ``morgan__n=1024``; two empty fingerprints count as 1).
* **Frag/Test**, **Scaf/Test**: cosine similarity between the count vectors of BRICS fragments (every fragment of
  every valid sample) and of Bemis-Murcko scaffolds (only scaffolds with at least 2 rings, as in MOSES) of the
  samples and of the test split.
* **IntDiv**: 1 - mean Tanimoto similarity over all ordered pairs of valid samples, each with itself included
  (MOSES's IntDiv1, same fingerprints as SNN). ``utils.chem.internal_diversity`` is the course's lighter version
  (2048 bits, distinct molecules only, at most 3000 of them): close, but not MOSES's number.
* **novelty**: share of the distinct valid samples whose canonical SMILES is not one of the 1 584 663 strings of
  MOSES's training split (``utils.data.moses_training_smiles()``).
"""
from __future__ import annotations

import math
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

from . import data
from ._checks import whole
from .chem import _show, _smiles_list
from .errors import DataError, SettingError

#: The columns of MOSES's table 2 that the course reports, in the table's order.
METRICS = ("valid", "unique@10k", "FCD/Test", "SNN/Test", "Frag/Test", "Scaf/Test", "IntDiv", "novelty")
#: The only column where lower is better (MOSES's arrows: FCD down, every other column up).
LOWER_IS_BETTER = frozenset({"FCD/Test"})
#: How many samples MOSES's protocol judges: fewer give a biased FCD/Test and a noisier everything else.
MOSES_N_SAMPLES = 30_000

#: MOSES's published rows (mean of 3 runs of 30 000 samples each; the Train row is the training set itself),
#: copied from the table "Metrics" of README.md in the sdist of molsets 0.3.1 (PyPI, ``pip download --no-deps
#: --no-binary :all: molsets==0.3.1``), columns Valid, Unique@10k, FCD Test, SNN Test, Frag Test, Scaf Test,
#: IntDiv, Novelty. Every number checked twice against that README. The Train row's novelty is given there as 1.0.
#: Paper: Polykovskiy et al. (2020), Front. Pharmacol. 11:565644, doi:10.3389/fphar.2020.565644, table 2.
#: (That README gives JTN-VAE's FCD/Test as 0.4224; a value of 0.395 quoted elsewhere could not be traced to a
#: source available here.)
MOSES_TABLE2 = {
    "Train":   {"valid": 1.0, "unique@10k": 1.0, "FCD/Test": 0.008, "SNN/Test": 0.6419, "Frag/Test": 1.0,
                "Scaf/Test": 0.9907, "IntDiv": 0.8567, "novelty": 1.0},
    "CharRNN": {"valid": 0.9748, "unique@10k": 0.9994, "FCD/Test": 0.0732, "SNN/Test": 0.6015, "Frag/Test": 0.9998,
                "Scaf/Test": 0.9242, "IntDiv": 0.8562, "novelty": 0.8419},
    "VAE":     {"valid": 0.9767, "unique@10k": 0.9984, "FCD/Test": 0.099, "SNN/Test": 0.6257, "Frag/Test": 0.9994,
                "Scaf/Test": 0.9386, "IntDiv": 0.8558, "novelty": 0.6949},
    "AAE":     {"valid": 0.9368, "unique@10k": 0.9973, "FCD/Test": 0.5555, "SNN/Test": 0.6081, "Frag/Test": 0.991,
                "Scaf/Test": 0.9022, "IntDiv": 0.8557, "novelty": 0.7931},
    "JTN-VAE": {"valid": 1.0, "unique@10k": 0.9992, "FCD/Test": 0.4224, "SNN/Test": 0.5561, "Frag/Test": 0.9962,
                "Scaf/Test": 0.8925, "IntDiv": 0.8512, "novelty": 0.9153},
}

#: The committed, pickle-free reference statistics of MOSES's test split (made by tools/moses_reference_stats.py).
REFERENCE_FILE = "moses/test_reference_stats.npz"
FP_BITS = 1024  # MOSES's fingerprint size for SNN and IntDiv
_REF_BLOCK = 16_384  # reference molecules per block of the Tanimoto loops


# ----------------------------------------------------------------------------------------------
# molecules, as MOSES reads them
# ----------------------------------------------------------------------------------------------
def get_mol(smiles: str):
    """The RDKit molecule of ``smiles``, or None (MOSES's ``get_mol``: empty string, parse or sanitisation failure)."""
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    if not smiles:
        return None
    m = Chem.MolFromSmiles(smiles)
    if m is None:
        return None
    try:
        Chem.SanitizeMol(m)
    except ValueError:
        return None
    return m


def _valid(samples, func: str):
    """(share valid, canonical SMILES of the valid samples), duplicates kept, in order. One molecule at a time: no
    list of RDKit molecules is kept (30 000 of them take over a gigabyte)."""
    from rdkit import Chem

    samples = _smiles_list(samples, func, allow_empty=False)
    canon = []
    for s in samples:
        m = get_mol(s)
        if m is not None:
            canon.append(Chem.MolToSmiles(m))
    return len(canon) / len(samples), canon


def _features(canon, chunk: int = 1000):
    """What the metrics after validity need from the canonical SMILES ``canon``, computed ``chunk`` molecules at a
    time (never all molecules in memory at once): (the canonical SMILES written once more from each molecule, as
    MOSES does for unique@k and novelty; Morgan fingerprints, 0/1 bits; fragment counts; scaffold counts).

    MOSES reads the canonical strings back as molecules; in the rare case where RDKit cannot read its own canonical
    SMILES, that molecule is left out here (where MOSES would stop)."""
    from rdkit import Chem

    again, fps, frag, scaf = [], [], Counter(), Counter()
    for start in range(0, len(canon), chunk):
        mols = [m for m in (get_mol(c) for c in canon[start:start + chunk]) if m is not None]
        if not mols:
            continue
        again += [Chem.MolToSmiles(m) for m in mols]
        fps.append(morgan_fingerprints(mols))
        frag.update(fragments(mols))
        scaf.update(scaffolds(mols))
    fps = np.concatenate(fps) if fps else np.zeros((0, FP_BITS), dtype=np.uint8)
    return again, fps, frag, scaf


def fraction_valid(samples) -> float:
    """Share of ``samples`` (a non-empty list of SMILES) that RDKit reads as a molecule."""
    return _valid(samples, "fraction_valid")[0]


def fraction_unique(canonical_smiles, k: int | None = 10_000) -> float:
    """unique@k: distinct strings among the first ``k`` of ``canonical_smiles`` (valid canonical SMILES, as
    :func:`moses_metrics` passes them); all of them when there are fewer than ``k`` (MOSES warns and does the same)."""
    items = _smiles_list(canonical_smiles, "fraction_unique", allow_empty=False)
    if k is not None:
        items = items[:whole("k", k, 1, hint="the number of first molecules to look at, e.g. 10000")]
    return len(set(items)) / len(items)


def novelty(canonical_smiles, train=None) -> float:
    """Share of the distinct ``canonical_smiles`` not in ``train`` (default: MOSES's whole training split)."""
    items = set(_smiles_list(canonical_smiles, "novelty", allow_empty=False))
    train = data.moses_training_smiles() if train is None else train
    if isinstance(train, str) or not isinstance(train, (set, frozenset)) or not train:
        raise SettingError(f"novelty needs the training SMILES as a non-empty set (utils.data.moses_training_smiles()"
                           f" or a set of canonical SMILES), got {_show(train)}.")
    return len(items - train) / len(items)


# ----------------------------------------------------------------------------------------------
# fingerprints and Tanimoto: SNN and IntDiv
# ----------------------------------------------------------------------------------------------
def morgan_fingerprints(mols, n_bits: int = FP_BITS) -> np.ndarray:
    """Morgan fingerprints (radius 2) of RDKit molecules as a uint8 array (n, n_bits) of 0/1, the bits MOSES's
    ``GetMorganFingerprintAsBitVect(mol, 2, nBits=1024)`` sets."""
    from rdkit import DataStructs
    from rdkit.Chem import rdFingerprintGenerator

    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=n_bits)
    out = np.zeros((len(mols), n_bits), dtype=np.uint8)
    for i, m in enumerate(mols):
        if m is None:
            raise SettingError(f"morgan_fingerprints: molecule {i} is None (an invalid SMILES): keep valid ones only")
        DataStructs.ConvertToNumpyArray(gen.GetFingerprint(m), out[i])
    return out


def _bits(name: str, fps) -> np.ndarray:
    """``fps`` as a 2-D uint8 array of 0/1 bits; a packed array (np.packbits) is unpacked."""
    arr = np.asarray(fps)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise SettingError(f"{name} must be a 2-D array of fingerprints (one row per molecule, at least one), got "
                           f"shape {arr.shape}")
    if arr.dtype == bool:
        arr = arr.astype(np.uint8)
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)) \
            or not np.isin(arr, (0, 1)).all():
        raise SettingError(f"{name} must hold bits (0 or 1), got values from {arr.min()} to {arr.max()}")
    return arr.astype(np.uint8, copy=False)


def _threads() -> int:
    """How many threads the Tanimoto loops may use: torch's setting (OMP_NUM_THREADS), at least 1."""
    try:
        import torch

        return max(1, torch.get_num_threads())
    except ImportError:  # pragma: no cover - torch is a course requirement
        return 1


def _max_or_mean_tanimoto(ref, gen, agg: str) -> np.ndarray:
    """For each row of ``gen`` (bits, 0/1): its largest (``agg='max'``) or mean Tanimoto similarity to the rows of
    ``ref`` (bits, or np.packbits of them), as MOSES's ``average_agg_tanimoto`` (float32 ratios; 0/0 counts as 1).

    MOSES multiplies the two bit matrices (30 000 x 176 074 x 1024: 11 TFLOP). Morgan fingerprints have about 45
    of 1024 bits set, so here each generated molecule adds up only the rows of the reference's *transposed* bits
    that it has set: the same integer counts |a AND b| with ~20 times less arithmetic. The reference is read in
    blocks of ``_REF_BLOCK`` molecules, and no similarity matrix is kept: memory stays near 100 MB whatever the
    sizes."""
    from concurrent.futures import ThreadPoolExecutor

    packed = ref.shape[1] * 8 == gen.shape[1] and ref.dtype == np.uint8 and ref.shape[1] != gen.shape[1]
    on = [np.flatnonzero(row) for row in gen]  # the bits each generated molecule sets
    count = np.array([len(b) for b in on], dtype=np.float32)
    out = np.zeros(len(gen))
    n_threads = min(_threads(), max(1, len(gen) // 64))
    for j in range(0, len(ref), _REF_BLOCK):
        block = ref[j:j + _REF_BLOCK]
        block = np.unpackbits(block, axis=1)[:, :gen.shape[1]] if packed else block
        columns = np.ascontiguousarray(block.T)  # (bits, molecules): row k lists which molecules set bit k
        ref_count = block.sum(1, dtype=np.int64).astype(np.float32)
        ref_empty = ref_count == 0
        del block

        def rows(part):
            denominator = np.empty(len(ref_count), dtype=np.float32)
            for i in part:
                dtype = np.uint8 if len(on[i]) < 256 else np.uint16  # |a AND b| <= |a|: no overflow
                both = columns[on[i]].sum(0, dtype=dtype).astype(np.float32)
                np.add(ref_count, count[i], out=denominator)
                denominator -= both
                if count[i] == 0:  # an empty fingerprint: 0 to every molecule, 1 to an empty one (0/0, as MOSES)
                    both[:] = ref_empty
                else:
                    both /= denominator
                if agg == "max":
                    out[i] = max(out[i], float(both.max()))
                else:
                    out[i] += float(both.sum(dtype=np.float64))

        parts = np.array_split(np.arange(len(gen)), n_threads)
        if n_threads == 1:
            rows(parts[0])
        else:
            with ThreadPoolExecutor(n_threads) as pool:
                list(pool.map(rows, parts))
        del columns  # before the next block is unpacked
    return out / len(ref) if agg == "mean" else out


def snn(gen_fps, ref_fps) -> float:
    """SNN: mean over the rows of ``gen_fps`` of the largest Tanimoto similarity to a row of ``ref_fps`` (bit
    arrays, one row per molecule; ``ref_fps`` may also be np.packbits(..., axis=1) of them: give
    ``n_bits``-wide rows either way)."""
    gen = _bits("gen_fps", gen_fps)
    ref = np.asarray(ref_fps)
    if ref.ndim == 2 and ref.dtype == np.uint8 and ref.shape[1] * 8 == gen.shape[1] and len(ref):  # packed
        return float(_max_or_mean_tanimoto(ref, gen, "max").mean())
    ref = _bits("ref_fps", ref)
    if ref.shape[1] != gen.shape[1]:
        raise SettingError(f"gen_fps and ref_fps must have the same number of bits, got {gen.shape[1]} and "
                           f"{ref.shape[1]}")
    return float(_max_or_mean_tanimoto(ref, gen, "max").mean())


def internal_diversity(fps) -> float:
    """IntDiv (MOSES's IntDiv1): 1 - the mean Tanimoto similarity over all n x n ordered pairs of rows of ``fps``
    (bit arrays), each row with itself included."""
    fps = _bits("fps", fps)
    return float(1 - _max_or_mean_tanimoto(fps, fps, "mean").mean())


# ----------------------------------------------------------------------------------------------
# fragments and scaffolds: Frag and Scaf
# ----------------------------------------------------------------------------------------------
def fragments(mols) -> Counter:
    """How often each BRICS fragment (canonical SMILES with its [n*] attachment points) occurs in ``mols``."""
    from rdkit import Chem

    counts = Counter()
    for m in mols:  # MOSES's fragmenter: AllChem.FragmentOnBRICSBonds, the pieces as canonical SMILES
        counts.update(Chem.MolToSmiles(Chem.FragmentOnBRICSBonds(m)).split("."))
    return counts


def scaffold(mol, min_rings: int = 2):
    """The Bemis-Murcko scaffold of ``mol`` as canonical SMILES, or None when it has fewer than ``min_rings`` rings
    (MOSES's ``compute_scaffold``)."""
    from rdkit import Chem
    from rdkit.Chem.Scaffolds import MurckoScaffold

    try:
        scaf = MurckoScaffold.GetScaffoldForMol(mol)
    except (ValueError, RuntimeError):
        return None
    smiles = Chem.MolToSmiles(scaf)
    if smiles == "" or scaf.GetRingInfo().NumRings() < min_rings:
        return None
    return smiles


def scaffolds(mols, min_rings: int = 2) -> Counter:
    """How often each scaffold with at least ``min_rings`` rings occurs in ``mols``."""
    counts = Counter(scaffold(m, min_rings) for m in mols)
    counts.pop(None, None)
    return counts


def cos_similarity(ref_counts, gen_counts) -> float:
    """Cosine similarity of two count dictionaries ``{name: count}`` read as vectors (a missing name counts 0);
    NaN when either is empty (as MOSES)."""
    for name, counts in (("ref_counts", ref_counts), ("gen_counts", gen_counts)):
        if not isinstance(counts, dict):
            raise SettingError(f"{name} must be a dictionary {{name: count}} such as a Counter, got "
                               f"{type(counts).__name__} {_show(counts)}")
        bad = [v for v in counts.values() if not isinstance(v, (int, np.integer)) or v < 0]
        if bad:
            raise SettingError(f"{name} must hold counts (whole numbers >= 0), got {_show(bad[0])}")
    if not ref_counts or not gen_counts:
        return math.nan
    keys = sorted(set(ref_counts) | set(gen_counts))
    r = np.array([ref_counts.get(k, 0) for k in keys], dtype=float)
    g = np.array([gen_counts.get(k, 0) for k in keys], dtype=float)
    return float(r @ g / np.linalg.norm(r) / np.linalg.norm(g))


# ----------------------------------------------------------------------------------------------
# ChemNet and the Frechet distance: FCD
# ----------------------------------------------------------------------------------------------
_CHEMNET: dict = {}


def chemnet():
    """ChemNet (Preuer et al. 2018), as shipped inside the ``fcd`` package; its weights are read with
    ``torch.load(weights_only=True)``. Loaded once per process."""
    if "net" not in _CHEMNET:
        import importlib.resources

        import torch
        try:
            from fcd.utils import load_imported_model
        except ImportError:
            raise SettingError("FCD needs the package `fcd` (pip install fcd; it is in the course's "
                               "requirements.txt)") from None
        with importlib.resources.as_file(importlib.resources.files("fcd") / "ChemNet_v0.13_pretrained.pt") as p:
            config = torch.load(p, weights_only=True)
        _CHEMNET["net"] = load_imported_model(config).eval()
    return _CHEMNET["net"]


def chemnet_activations(smiles, batch_size: int = 128, device=None) -> np.ndarray:
    """ChemNet's penultimate activations (n, 512), float32, of a list of SMILES (about 10 ms a molecule on a
    2-core CPU: every SMILES is padded to 350 characters, as ChemNet was trained). Only the activations of all
    molecules are kept (2 kB each); a batch of 128 takes ~100 MB while it runs (512: ~350 MB, no faster on a CPU)."""
    import fcd

    smiles = _smiles_list(smiles, "chemnet_activations", allow_empty=False)
    batch_size = whole("batch_size", batch_size, 1)
    device = device or "cpu"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fcd's note about SMILES longer than 349 characters (padded further)
        return fcd.get_predictions(chemnet(), smiles, batch_size=batch_size, n_jobs=0, device=str(device))


def chemnet_stats(smiles, batch_size: int = 128, device=None) -> tuple[np.ndarray, np.ndarray]:
    """(mean, covariance) of the ChemNet activations of ``smiles`` (at least two), as MOSES's FCD precomputes them
    (``np.mean(act, 0)``, ``np.cov(act.T)``; the covariance is computed as np.cov does, without its extra copies)."""
    act = chemnet_activations(smiles, batch_size, device)
    if len(act) < 2:
        raise SettingError("chemnet_stats needs at least two molecules to estimate a covariance")
    mu = act.mean(0)
    centred = act.astype(np.float64)
    del act
    centred -= centred.mean(0)
    return mu, centred.T @ centred / (len(centred) - 1)


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Frechet distance between the Gaussians N(mu1, sigma1) and N(mu2, sigma2):
    |mu1 - mu2|^2 + tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2)) (the ``fcd`` package's implementation)."""
    from ._checks import array

    mu1, mu2 = array("mu1", mu1, 1), array("mu2", mu2, 1)
    sigma1 = array("sigma1", sigma1, 2, what="(d, d): a covariance matrix")
    sigma2 = array("sigma2", sigma2, 2, what="(d, d): a covariance matrix")
    d = len(mu1)
    if len(mu2) != d or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise SettingError(f"frechet_distance needs means of the same length d and (d, d) covariances, got "
                           f"{mu1.shape}, {sigma1.shape}, {mu2.shape}, {sigma2.shape}")
    from fcd import calculate_frechet_distance

    return float(calculate_frechet_distance(mu1, sigma1, mu2, sigma2))


# ----------------------------------------------------------------------------------------------
# MOSES's reference statistics of its test split
# ----------------------------------------------------------------------------------------------
_REFERENCE: dict = {}


def _strings(arr: np.ndarray) -> list:
    return bytes(arr).decode("utf-8").split("\n") if len(arr) else []


def reference_stats() -> dict:
    """MOSES's statistics of its test split (176 074 molecules): ``fcd_mu`` (512), ``fcd_sigma`` (512 x 512),
    ``frag`` and ``scaf`` (Counters), ``fps_sha256``, read from the committed pickle-free file (found through
    ``utils.data``). The fingerprints for SNN come from :func:`test_fingerprints`."""
    if "stats" not in _REFERENCE:
        with np.load(data.path(REFERENCE_FILE), allow_pickle=False) as z:
            st = {k: z[k] for k in z.files}
        _REFERENCE["stats"] = {
            "fcd_mu": st["fcd_mu"], "fcd_sigma": st["fcd_sigma"],
            "frag": Counter(dict(zip(_strings(st["frag_keys"]), st["frag_counts"].tolist()))),
            "scaf": Counter(dict(zip(_strings(st["scaf_keys"]), st["scaf_counts"].tolist()))),
            "fps_sha256": str(st["fps_sha256"]), "n_test": int(st["n_test"]),
            "fps_patch_index": st["fps_patch_index"], "fps_patch_rows": st["fps_patch_rows"],
        }
    return _REFERENCE["stats"]


def test_smiles() -> list:
    """The 176 074 SMILES of MOSES's test split, in file order (``moses/test.csv.gz`` through ``utils.data``)."""
    import gzip

    with gzip.open(data.path("moses/test.csv.gz"), "rt") as f:
        if f.readline().strip() != "SMILES":
            raise DataError("moses/test.csv.gz: unexpected header (expected 'SMILES')")
        return [s for s in (line.strip() for line in f) if s]


def test_fingerprints() -> np.ndarray:
    """Packed Morgan fingerprints (np.packbits, 128 bytes a row) of MOSES's test split, as MOSES stores them for SNN.

    Computed from the test SMILES on first use (about a minute) and kept in the course cache
    (``data/cache/moses/``). The few molecules whose bits today's RDKit sets differently from MOSES's (6 of 176 074
    with RDKit 2026.09) get MOSES's own rows back from the reference file, and the whole array is checked against
    the sha256 of MOSES's fingerprints, so that an RDKit that differs elsewhere is noticed, not silently used."""
    import hashlib

    if "fps" in _REFERENCE:
        return _REFERENCE["fps"]
    expected = reference_stats()["fps_sha256"]
    cached = data.cache_dir() / "moses" / f"test_fps_morgan2_{FP_BITS}.npy"
    fps = None
    if cached.is_file():
        fps = np.load(cached, allow_pickle=False)
        if hashlib.sha256(fps.tobytes()).hexdigest() != expected:
            fps = None
    if fps is None:
        ref = reference_stats()
        smiles = test_smiles()
        fps = np.concatenate([np.packbits(morgan_fingerprints([get_mol(s) for s in smiles[i:i + 5000]]), axis=1)
                              for i in range(0, len(smiles), 5000)])  # 5000 molecules at a time: ~300 MB at most
        del smiles
        fps[ref["fps_patch_index"]] = ref["fps_patch_rows"]
        if hashlib.sha256(fps.tobytes()).hexdigest() != expected:
            warnings.warn("this RDKit's Morgan fingerprints of MOSES's test split differ from MOSES's own: SNN/Test "
                          "may differ slightly from MOSES's protocol")
        cached.parent.mkdir(parents=True, exist_ok=True)
        np.save(cached, fps, allow_pickle=False)
    _REFERENCE["fps"] = fps
    return fps


# ----------------------------------------------------------------------------------------------
# all together
# ----------------------------------------------------------------------------------------------
def moses_metrics(samples, k: int = 10_000, fcd: bool = True, train=None, device=None, quiet: bool = False) -> dict:
    """MOSES's table-2 metrics of ``samples`` (generated SMILES, invalid ones included) against MOSES's test split.

    Returns ``{"valid", "unique@10k", "FCD/Test", "SNN/Test", "Frag/Test", "Scaf/Test", "IntDiv", "novelty",
    "n_samples", "n_valid"}`` (the unique@ key follows ``k``: ``k=1000`` gives ``"unique@1k"``). ``fcd=False``
    skips ChemNet (its slowest part, ~10 ms a molecule on a CPU) and gives NaN for FCD/Test; ``train`` replaces the
    training set of the novelty (default: MOSES's whole training split). Metrics that need valid molecules are NaN
    when none is. Fewer than 30 000 samples (MOSES's protocol) print a caveat: FCD/Test is then biased upward.
    """
    samples = _smiles_list(samples, "moses_metrics", allow_empty=False)
    k = whole("k", k, 1, hint="unique@k looks at the first k valid molecules, MOSES uses 10000")
    if not isinstance(fcd, bool):
        raise SettingError(f"fcd must be True or False, got {_show(fcd)}")
    valid, canon = _valid(samples, "moses_metrics")
    key = f"unique@{k // 1000}k" if k % 1000 == 0 else f"unique@{k}"
    out = {"valid": valid, key: math.nan, "FCD/Test": math.nan, "SNN/Test": math.nan, "Frag/Test": math.nan,
           "Scaf/Test": math.nan, "IntDiv": math.nan, "novelty": math.nan,
           "n_samples": len(samples), "n_valid": len(canon)}
    again, fps, frag, scaf = _features(canon)  # again: canonicalised once more, as MOSES does for unique@k, novelty
    if not again:
        return out
    ref = reference_stats()
    out[key] = fraction_unique(again, k)
    if fcd and len(canon) >= 2:
        mu, sigma = chemnet_stats(canon, device=device)
        out["FCD/Test"] = frechet_distance(ref["fcd_mu"], ref["fcd_sigma"], mu, sigma)
    out["Frag/Test"] = cos_similarity(ref["frag"], frag)
    out["Scaf/Test"] = cos_similarity(ref["scaf"], scaf)
    out["SNN/Test"] = snn(fps, test_fingerprints())
    out["IntDiv"] = internal_diversity(fps)
    del fps
    out["novelty"] = novelty(again, train)  # last: the training split's 1.6 M strings take ~200 MB
    if len(samples) < MOSES_N_SAMPLES and not quiet:
        print(f"moses_metrics: {len(samples)} samples, MOSES's protocol uses {MOSES_N_SAMPLES}: FCD/Test is biased "
              f"upward on small samples (2000 test molecules are at FCD ~1.2 from the rest of the test split), so "
              f"do not set this row beside MOSES's.")
    return out


# ----------------------------------------------------------------------------------------------
# the course checkpoints' rows, measured by MOSES's protocol
# ----------------------------------------------------------------------------------------------
RESULTS_FOLDER = Path(__file__).resolve().parent.parent / "benchmarks" / "results"


def measured_table(name: str) -> dict:
    """A course checkpoint's row measured by MOSES's protocol (30 000 samples) with :func:`moses_metrics`, as the
    course's script ``benchmarks/moses_table.py`` writes it (``benchmarks/results/<name>.json``, ``name`` e.g.
    ``"06_moses"``): ``{"row": {metric: value}, "n_samples", "metrics_seconds", "metrics_peak_mem_mb", "machine",
    "date", "compared_with", "checkpoint"}``. Raises DataError when the file is missing or was measured on another
    checkpoint than the one committed now (its sha256 differs)."""
    import json

    from . import checkpoints

    file = RESULTS_FOLDER / f"{name}.json"
    rerun = f"run `python benchmarks/moses_table.py {name[:2]}`"
    if not file.is_file():
        raise DataError(f"no table measured by MOSES's protocol in {file}: {rerun}")
    r = json.loads(file.read_text())
    ck = r["checkpoint"]
    if checkpoints.manifest().get(ck["name"], {}).get("sha256") != ck["sha256"]:
        raise DataError(f"{file.name} was measured on another {ck['name']!r} checkpoint than the one in "
                        f"checkpoints/ now: {rerun}")
    fig = r["figures"]
    return {"row": {m: r["row"][m] for m in METRICS}, "n_samples": fig["n_samples"]["value"],
            "metrics_seconds": fig["metrics_seconds"]["value"], "metrics_peak_mem_mb": fig["metrics_peak_mem_mb"]["value"],
            "machine": r["machine"], "date": r["date"], "compared_with": r["compared_with"], "checkpoint": ck["name"]}


# ----------------------------------------------------------------------------------------------
# the table and the figure
# ----------------------------------------------------------------------------------------------
def _row(name: str, row) -> dict:
    if not isinstance(row, dict):
        raise SettingError(f"the row {name!r} must be a dictionary of metrics (what moses_metrics returns), got "
                           f"{type(row).__name__} {_show(row)}")
    missing = [m for m in METRICS if m not in row]
    if missing:
        raise SettingError(f"the row {name!r} lacks the metrics {missing}: pass what moses_metrics(samples) returns "
                           f"(with k=10000)")
    return {m: float(row[m]) for m in METRICS}


def wins_and_losses(row: dict, reference: dict | None = None) -> dict:
    """For each reference model (default :data:`MOSES_TABLE2`): ``{"wins": [...], "losses": [...]}``, the metrics
    where ``row`` is better / worse (FCD/Test: lower is better; all others: higher). Ties and NaN are neither."""
    row = _row("row", row)
    reference = MOSES_TABLE2 if reference is None else reference
    out = {}
    for name, ref in reference.items():
        ref = _row(name, ref)
        better = {m: (row[m] < ref[m]) if m in LOWER_IS_BETTER else (row[m] > ref[m]) for m in METRICS}
        worse = {m: (row[m] > ref[m]) if m in LOWER_IS_BETTER else (row[m] < ref[m]) for m in METRICS}
        out[name] = {"wins": [m for m in METRICS if better[m]], "losses": [m for m in METRICS if worse[m]]}
    return out


def print_table(row: dict, name: str = "course model", reference: dict | None = None) -> str:
    """Print (and return) ``row`` beside MOSES's rows, then, per MOSES model, which columns ``row`` wins and loses."""
    row = _row(name, row)
    reference = MOSES_TABLE2 if reference is None else reference
    rows = {name: row, **{n: _row(n, r) for n, r in reference.items()}}
    width = max(len(n) for n in rows) + 2
    arrows = {m: m + (" (lower better)" if m in LOWER_IS_BETTER else "") for m in METRICS}
    lines = ["".ljust(width) + " ".join(f"{m:>11}" for m in METRICS)]
    for n, r in rows.items():
        lines.append(n.ljust(width) + " ".join(f"{r[m]:>11.4f}" for m in METRICS))
    lines.append("")
    for n, wl in wins_and_losses(row, reference).items():
        lines.append(f"vs {n}: wins {', '.join(wl['wins']) or 'none'}; loses {', '.join(wl['losses']) or 'none'}")
    lines.append("(" + "; ".join(f"{m}: {'lower' if m in LOWER_IS_BETTER else 'higher'} is better" for m in METRICS)
                 + ")")
    text = "\n".join(lines)
    print(text)
    return text


def plot_comparison(row: dict, name: str = "course model", reference: dict | None = None, axes=None):
    """One bar chart per metric: ``row`` (highlighted) beside MOSES's rows. Returns the matplotlib figure."""
    import matplotlib.pyplot as plt

    row = _row(name, row)
    reference = MOSES_TABLE2 if reference is None else reference
    rows = {name: row, **{n: _row(n, r) for n, r in reference.items()}}
    if axes is None:
        fig, axes = plt.subplots(2, 4, figsize=(14, 6), constrained_layout=True)
    axes = np.asarray(axes).ravel()
    if len(axes) < len(METRICS):
        raise SettingError(f"plot_comparison needs {len(METRICS)} axes, got {len(axes)}")
    names = list(rows)
    colors = ["tab:orange"] + ["tab:blue"] * (len(names) - 1)
    for ax, m in zip(axes, METRICS):
        ax.bar(range(len(names)), [rows[n][m] for n in names], color=colors)
        ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
        ax.set_title(f"{m} ({'lower' if m in LOWER_IS_BETTER else 'higher'} is better)")
        ax.set_ylabel("value (dimensionless)")
    fig = axes[0].figure
    fig.suptitle(f"{name} vs MOSES (Polykovskiy et al. 2020, table 2)")
    return fig


__all__ = ["METRICS", "MOSES_TABLE2", "LOWER_IS_BETTER", "moses_metrics", "fraction_valid", "fraction_unique",
           "novelty", "morgan_fingerprints", "snn", "internal_diversity", "fragments", "scaffolds", "scaffold",
           "cos_similarity", "chemnet_activations", "chemnet_stats", "frechet_distance", "reference_stats",
           "test_smiles", "test_fingerprints", "measured_table", "wins_and_losses", "print_table", "plot_comparison"]
