"""utils.moses: each MOSES metric against a small case computed by hand, the committed reference statistics, the
published table, and clear errors on wrong input."""
import math

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from utils import moses  # noqa: E402
from utils.errors import SettingError  # noqa: E402


# --- Tanimoto: SNN and IntDiv -------------------------------------------------------------------------------
def test_snn_by_hand():
    ref = np.array([[1, 0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0, 0, 0]], dtype=np.uint8)
    gen = np.array([[1, 1, 0, 0, 0, 0, 0, 0], [0, 0, 1, 1, 0, 0, 0, 0]], dtype=np.uint8)
    # gen 0: 1/2 to ref 0, 2/3 to ref 1 -> 2/3;  gen 1: 0/3 and 1/4 -> 1/4
    expected = (2 / 3 + 1 / 4) / 2
    assert moses.snn(gen, ref) == pytest.approx(expected)
    assert moses.snn(gen, np.packbits(ref, axis=1)) == pytest.approx(expected)  # the packed form of the reference
    empty = np.zeros((1, 8), dtype=np.uint8)
    assert moses.snn(empty, empty) == 1.0  # 0/0 counts as 1, as in MOSES


def test_internal_diversity_by_hand():
    fps = np.array([[1, 1, 0, 0], [1, 0, 0, 0]])
    # pairs AA = 1, BB = 1, AB = BA = 1/2: mean 3/4 over the 2 x 2 matrix, diagonal included
    assert moses.internal_diversity(fps) == pytest.approx(0.25)
    assert moses.internal_diversity(fps[:1]) == pytest.approx(0.0)


def test_fingerprints_are_moses_bits():
    """1024-bit Morgan radius 2, the bits of RDKit's GetMorganFingerprintAsBitVect (what MOSES calls)."""
    from rdkit.Chem import AllChem

    mols = [moses.get_mol(s) for s in ("CCO", "c1ccccc1C(=O)N", "CC(C)Cc1ccc(cc1)C(C)C(=O)O")]
    fps = moses.morgan_fingerprints(mols)
    assert fps.shape == (3, 1024) and fps.dtype == np.uint8
    old = getattr(AllChem, "GetMorganFingerprintAsBitVect", None)
    if old is not None:
        for m, row in zip(mols, fps):
            assert set(np.flatnonzero(row)) == set(old(m, 2, nBits=1024).GetOnBits())


def _moses_dense_tanimoto(ref, gen):
    """MOSES's own formula (average_agg_tanimoto): the float32 bit-matrix product, |a AND b| / (|a| + |b| - |a AND b|),
    0/0 read as 1: a (len(ref), len(gen)) matrix."""
    x, y = ref.astype(np.float32), gen.astype(np.float32).T
    tp = x @ y
    with np.errstate(invalid="ignore"):
        jac = tp / (x.sum(1, keepdims=True) + y.sum(0, keepdims=True) - tp)
    jac[np.isnan(jac)] = 1
    return jac


def test_tanimoto_loops_equal_moses_matrix_product(monkeypatch):
    """The course's loops (one generated molecule at a time, the reference in blocks, in threads) give MOSES's
    float32 similarities: the same maxima bit for bit, the same means to rounding; empty fingerprints and one with
    more than 255 bits set included."""
    rng = np.random.default_rng(1)
    gen = (rng.random((150, 1024)) < 0.05).astype(np.uint8)
    ref = (rng.random((40, 1024)) < 0.05).astype(np.uint8)
    gen[3] = 0
    ref[5] = 0
    gen[7, :300] = 1
    ref[9, :400] = 1
    monkeypatch.setattr(moses, "_REF_BLOCK", 16)  # three blocks, the last one short
    monkeypatch.setattr(moses, "_threads", lambda: 2)  # two threads share the generated rows
    jac = _moses_dense_tanimoto(ref, gen)
    assert np.array_equal(moses._max_or_mean_tanimoto(ref, gen, "max"), jac.max(0))
    assert np.array_equal(moses._max_or_mean_tanimoto(np.packbits(ref, axis=1), gen, "max"), jac.max(0))
    assert np.allclose(moses._max_or_mean_tanimoto(ref, gen, "mean"), jac.mean(0), rtol=1e-6, atol=0)
    assert moses.snn(gen, ref) == pytest.approx(jac.max(0).astype(float).mean(), rel=1e-12)
    assert moses.internal_diversity(gen) == pytest.approx(1 - _moses_dense_tanimoto(gen, gen).mean(), rel=1e-6)


def test_tanimoto_keeps_no_similarity_matrix():
    """SNN of 100 molecules against 200 000: the similarity matrix alone would take 80 MB (float32); the loops hold
    one block of the reference at a time (~35 MB)."""
    import tracemalloc

    rng = np.random.default_rng(2)
    gen = (rng.random((100, 1024)) < 0.045).astype(np.uint8)
    ref = rng.integers(0, 256, size=(200_000, 128), dtype=np.uint8)  # packed bits
    moses._threads()  # imports torch before the count starts
    tracemalloc.start()
    moses.snn(gen, ref)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 40 * 2**20, f"snn held {peak / 2**20:.0f} MB"


def test_features_in_chunks_equal_all_at_once():
    """moses_metrics reads the molecules a chunk at a time: fingerprints, fragments and scaffolds as if all at once."""
    from rdkit import Chem

    raw = ["CCO", "c1ccccc1CCc1ccccc1", "CCOC(=O)c1ccccc1", "O=C(N)c1ccc2ccccc2c1", "CC(C)Cc1ccc(cc1)C(C)C(=O)O"]
    share, canon = moses._valid(raw + ["C("], "test")
    assert share == 5 / 6 and canon == [Chem.MolToSmiles(Chem.MolFromSmiles(s)) for s in raw]
    again, fps, frag, scaf = moses._features(canon, chunk=2)
    mols = [moses.get_mol(c) for c in canon]
    assert again == [Chem.MolToSmiles(m) for m in mols]  # written once more by RDKit, as MOSES does
    assert np.array_equal(fps, moses.morgan_fingerprints(mols))
    assert frag == moses.fragments(mols) and scaf == moses.scaffolds(mols)


# --- counts: Frag and Scaf ----------------------------------------------------------------------------------
def test_cos_similarity_by_hand():
    r, g = {"a": 1, "b": 2}, {"b": 2, "c": 2}
    assert moses.cos_similarity(r, g) == pytest.approx(4 / math.sqrt(5 * 8))
    assert moses.cos_similarity(r, {"a": 2, "b": 4}) == pytest.approx(1.0)  # same direction
    assert moses.cos_similarity(r, {"z": 3}) == 0.0
    assert math.isnan(moses.cos_similarity(r, {}))


def test_scaffolds_keep_two_rings_or_more():
    mols = [moses.get_mol(s) for s in ("c1ccccc1CCc1ccccc1", "Cc1ccccc1CCc1ccccc1", "c1ccccc1C", "CCO")]
    counts = moses.scaffolds(mols)
    assert counts == {"c1ccc(CCc2ccccc2)cc1": 2}  # toluene's one ring and ethanol's none are dropped


def test_fragments_cut_brics_bonds():
    assert moses.fragments([moses.get_mol("CCC")]) == {"CCC": 1}  # nothing to cut
    frags = moses.fragments([moses.get_mol("CCOC(=O)c1ccccc1")] * 2)
    assert sum(frags.values()) > 2 and all(v == 2 for v in frags.values())
    assert any("*" in f for f in frags)


# --- counting: validity, unique@k, novelty ------------------------------------------------------------------
def test_validity_uniqueness_novelty_by_hand():
    assert moses.fraction_valid(["CCO", "C(", "", "c1ccccc1"]) == 0.5
    assert moses.fraction_unique(["A", "A", "B", "C"], k=2) == 0.5
    assert moses.fraction_unique(["A", "A", "B", "C"], k=10) == 0.75  # fewer than k: all of them
    assert moses.novelty(["CCO", "CCN", "CCO"], train={"CCO"}) == 0.5


# --- FCD ----------------------------------------------------------------------------------------------------
def test_frechet_distance_by_hand():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 3))
    mu, sigma = a.mean(0), np.cov(a.T)
    assert moses.frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-6)
    # |(0,0) - (3,4)|^2 = 25; identity vs 4 x identity: tr(I + 4I - 2 * 2I) = 2
    assert moses.frechet_distance([0, 0], np.eye(2), [3, 4], np.eye(2)) == pytest.approx(25.0)
    assert moses.frechet_distance([0, 0], np.eye(2), [0, 0], 4 * np.eye(2)) == pytest.approx(2.0)


def test_chemnet_stats_are_mean_and_np_cov(monkeypatch):
    act = np.random.default_rng(3).normal(size=(300, 512)).astype(np.float32)
    monkeypatch.setattr(moses, "chemnet_activations", lambda *a, **k: act)
    mu, sigma = moses.chemnet_stats(["CCO"] * 300)
    assert np.array_equal(mu, act.mean(0)) and np.allclose(sigma, np.cov(act.T), rtol=0, atol=1e-12)


# --- the committed reference statistics and the published table ---------------------------------------------
def test_reference_stats_are_moses_test_split():
    ref = moses.reference_stats()
    assert ref["fcd_mu"].shape == (512,) and ref["fcd_sigma"].shape == (512, 512)
    assert ref["n_test"] == 176_074
    assert sum(ref["frag"].values()) == 947_619 and len(ref["frag"]) == 16_038
    assert len(ref["scaf"]) == 77_114
    assert len(ref["fps_sha256"]) == 64
    # MOSES's own fingerprint rows for the few test molecules where today's RDKit sets other bits
    assert ref["fps_patch_rows"].shape == (len(ref["fps_patch_index"]), 128) and len(ref["fps_patch_index"]) < 100


def test_table2_is_complete():
    assert set(moses.MOSES_TABLE2) == {"Train", "CharRNN", "VAE", "AAE", "JTN-VAE"}
    for row in moses.MOSES_TABLE2.values():
        assert set(row) == set(moses.METRICS) and all(0 <= v <= 1 for v in row.values())
    assert moses.MOSES_TABLE2["CharRNN"]["FCD/Test"] == 0.0732 and moses.MOSES_TABLE2["VAE"]["valid"] == 0.9767


def test_measured_table_is_read_and_tied_to_the_checkpoint(tmp_path, monkeypatch):
    """The 30 000-sample table the notebooks read: its row, and a clear error when it is missing or was measured on
    another checkpoint than the committed one."""
    import json

    from utils import checkpoints
    from utils.errors import DataError

    monkeypatch.setattr(moses, "RESULTS_FOLDER", tmp_path)
    with pytest.raises(DataError, match="moses_table.py 06"):
        moses.measured_table("06_moses")
    sha = checkpoints.manifest()["smiles_lstm"]["sha256"]
    row = dict(moses.MOSES_TABLE2["CharRNN"])
    result = {"row": row, "machine": "2 cores", "date": "2026-01-01", "compared_with": "CharRNN",
              "checkpoint": {"name": "smiles_lstm", "sha256": sha},
              "figures": {"n_samples": {"value": 30000}, "metrics_seconds": {"value": 600.0},
                          "metrics_peak_mem_mb": {"value": 1000}}}
    (tmp_path / "06_moses.json").write_text(json.dumps(result))
    table = moses.measured_table("06_moses")
    assert table["row"] == row and table["n_samples"] == 30000 and table["checkpoint"] == "smiles_lstm"
    result["checkpoint"]["sha256"] = "0" * 64
    (tmp_path / "06_moses.json").write_text(json.dumps(result))
    with pytest.raises(DataError, match="another 'smiles_lstm' checkpoint"):
        moses.measured_table("06_moses")


def test_wins_and_losses_and_the_table(capsys):
    row = dict(moses.MOSES_TABLE2["CharRNN"], **{"FCD/Test": 0.05, "valid": 0.9})
    wl = moses.wins_and_losses(row)["CharRNN"]
    assert wl == {"wins": ["FCD/Test"], "losses": ["valid"]}  # lower FCD wins, lower validity loses
    text = moses.print_table(row, "toy")
    assert "vs CharRNN: wins FCD/Test; loses valid" in text and "toy" in capsys.readouterr().out
    fig = moses.plot_comparison(row, "toy")
    assert len([ax for ax in fig.axes if ax.has_data()]) == len(moses.METRICS)


def test_moses_metrics_small_case_by_hand(monkeypatch):
    """3 valid of 4, 2 distinct; SNN against a one-molecule 'test split' (ethanol): 1, 1 and 0."""
    ethanol = np.packbits(moses.morgan_fingerprints([moses.get_mol("CCO")]), axis=1)
    monkeypatch.setattr(moses, "test_fingerprints", lambda: ethanol)
    out = moses.moses_metrics(["OCC", "CCO", "c1ccccc1", "C("], fcd=False, train={"CCO"}, quiet=True)
    assert out["valid"] == 0.75 and out["unique@10k"] == pytest.approx(2 / 3)
    assert out["SNN/Test"] == pytest.approx(2 / 3) and out["novelty"] == 0.5
    assert math.isnan(out["FCD/Test"]) and out["n_valid"] == 3
    assert 0 < out["IntDiv"] < 1 and 0 <= out["Frag/Test"] <= 1
    assert math.isnan(out["Scaf/Test"])  # no molecule with two rings: no scaffold, as MOSES gives NaN
    none = moses.moses_metrics(["C(", "X"], train={"CCO"}, quiet=True)
    assert none["valid"] == 0 and math.isnan(none["SNN/Test"])


# --- errors a student will make -----------------------------------------------------------------------------
@pytest.mark.parametrize("call, words", [
    (lambda: moses.moses_metrics("CCO"), "single string"),
    (lambda: moses.moses_metrics([]), "empty list"),
    (lambda: moses.moses_metrics([1, 2]), "item 0"),
    (lambda: moses.moses_metrics(["CCO"], k=0), "k must be"),
    (lambda: moses.moses_metrics(["CCO"], fcd="yes"), "fcd must be"),
    (lambda: moses.fraction_unique(["CCO"], k=-3), "k must be"),
    (lambda: moses.novelty(["CCO"], train=["CCO"]), "non-empty set"),
    (lambda: moses.snn(np.ones((2, 8)), np.ones((2, 16))), "same number of bits"),
    (lambda: moses.snn(np.full((2, 8), 3), np.ones((2, 8))), "bits"),
    (lambda: moses.internal_diversity(np.ones(8)), "2-D"),
    (lambda: moses.cos_similarity([1, 2], {"a": 1}), "dictionary"),
    (lambda: moses.cos_similarity({"a": -1}, {"a": 1}), "counts"),
    (lambda: moses.frechet_distance([0, 0], np.eye(2), [0, 0, 0], np.eye(3)), "same length"),
    (lambda: moses.frechet_distance([0, np.nan], np.eye(2), [0, 0], np.eye(2)), "NaN"),
    (lambda: moses.print_table({"valid": 1.0}), "lacks the metrics"),
    (lambda: moses.wins_and_losses([0.9] * 8), "dictionary"),
    (lambda: moses.morgan_fingerprints([None]), "invalid"),
])
def test_friendly_errors(call, words):
    with pytest.raises(SettingError, match=words):
        call()
