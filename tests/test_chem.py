"""utils.chem: tokenizer and vocabulary, the committed MOSES subset, RDKit diagnostics, metrics, save/load."""
import gzip
import hashlib
import re

import pytest

import utils.data
from utils import DataError, SettingError, chem
from utils.lessons.smiles_rnn import SmilesLSTM


@pytest.fixture(scope="module")
def train():
    return chem.load_moses_subset("train")


def test_subset_files_match_manifest():
    for split, relpath in chem.SUBSET_FILES.items():
        f = utils.data.ROOT / "data" / relpath
        assert f.is_file(), f"committed subset {f} missing"
        assert hashlib.sha256(f.read_bytes()).hexdigest() == utils.data._find(relpath).sha256
        with gzip.open(f, "rt") as fh:
            assert fh.readline().strip() == "SMILES"


def test_subset_sizes(train):
    assert len(train) == 250_000 and len(set(train)) == 250_000
    assert len(chem.load_moses_subset("test")) == 10_000
    assert chem.load_moses_subset("train", n=10) == train[:10]
    with pytest.raises(SettingError):
        chem.load_moses_subset("valid")


def test_tokenizer_keeps_multichar_tokens():
    assert chem.tokenize("Clc1cc[nH]c1Br") == ["Cl", "c", "1", "c", "c", "[nH]", "c", "1", "Br"]
    assert chem.tokenize("C[C@@H]1CC%10CC1%10") == ["C", "[C@@H]", "1", "C", "C", "%10", "C", "C", "1", "%10"]
    assert chem.tokenize("O=[N+]([O-])C") == ["O", "=", "[N+]", "(", "[O-]", ")", "C"]
    with pytest.raises(SettingError, match="position 2"):
        chem.tokenize("CCX")


def test_tokenizer_round_trip_on_whole_subset(train):
    vocab = chem.Vocab.build(train)
    assert vocab.tokens[:3] == list(chem.SPECIALS) and (vocab.pad, vocab.bos, vocab.eos) == (0, 1, 2)
    assert {"Cl", "Br", "[nH]"} <= set(vocab.tokens) and "l" not in vocab.tokens and "r" not in vocab.tokens
    for s in train:
        assert "".join(chem.tokenize(s)) == s
    for s in train[:2000]:
        assert vocab.decode(vocab.encode(s)) == s


def test_vocab_encode_batch_and_unknown_token():
    vocab = chem.Vocab.build(["CCO", "c1ccccc1Cl"])
    X = chem.encode_batch(["CCO", "Cl"], vocab)
    assert X.shape == (2, 5) and X[0, 0] == vocab.bos and X[0, 4] == vocab.eos and X[1, 3] == vocab.pad
    assert [vocab.decode(r) for r in X] == ["CCO", "Cl"]
    with pytest.raises(SettingError, match="never saw"):
        vocab.encode("CBr")
    assert chem.Vocab(vocab.tokens).tokens == vocab.tokens


@pytest.mark.parametrize("smiles,words", [
    ("C1CCC", "ring label"), ("CC(C", "never closed"), ("CC)C", "never opened"),
    ("C(C)(C)(C)(C)C", "valence"), ("c1cccc1", "kekulize"), ("", "empty"), ("CCX", "not part of any"),
    # issue 23: these used to say "syntax error (RDKit: [)"
    ("C==C", "two bond symbols in a row ('==' at position 1)"), ("C##C", "two bond symbols in a row ('##'"),
    ("[Xx]", "'Xx' in the bracket atom [Xx] at position 0 is not a chemical element"),
    ("C=C=C=", "the bond '=' at position 5 has no atom after it"), ("=C", "no atom before it"),
    ("C(=)C", "the bond '=' at position 2 has no atom after it"), ("C..C", "the '.' at position 1"),
    ("[13]", "no element symbol"), ("C%1", "two-digit ring label"), ("C()C", "is empty"),
    # issue 23: an unclosed bracket is named where it opens
    ("[Fe+", "the '[' at position 0 opens a bracket atom that is never closed"),
    ("CC[Fe+", "the '[' at position 2 opens"), ("C[O-]C[Fe+", "the '[' at position 6 opens"),
    ("C]", "the ']' at position 1 closes"),
    # RDKit would read only 'CC' (ethane) and ignore the rest: a silent wrong molecule
    ("CC O", "space at position 2"),
    # no hint of ours: RDKit's own first line, without its time stamp
    ("[C@@@@H]", "(RDKit: syntax error while parsing: [C@@@@H])"),
])
def test_why_invalid(smiles, words):
    msg = chem.why_invalid(smiles)
    assert msg and words.lower() in msg.lower(), msg
    assert "\n" not in msg and "RDKit: [)" not in msg and not re.search(r"\[\d\d:\d\d", msg), msg
    with pytest.raises(SettingError, match=re.escape(repr(smiles))):
        chem.check_smiles(smiles)


def test_rdkit_log_is_read_as_a_string_or_a_list():
    text = ("[23:35:38] SMILES Parse Error: syntax error while parsing: C==C\n"
            "[23:35:38] SMILES Parse Error: check for mistakes around position 3:\n")
    expected = ["syntax error while parsing: C==C", "check for mistakes around position 3:"]
    assert chem._rdkit_lines(text) == expected  # RDKit 2025 and later: one string
    assert chem._rdkit_lines(text.splitlines(keepends=True)) == expected  # older RDKit: a list of strings
    assert chem._rdkit_lines([]) == chem._rdkit_lines("") == []


def test_non_strings_are_named_not_called_empty():
    for bad, shown in [(123, "int 123"), (None, "NoneType None"), (float("nan"), "float nan")]:
        with pytest.raises(SettingError, match=f"expects a SMILES string such as 'CCO', got {shown}"):
            chem.check_smiles(bad)
    assert chem.mol("CC O") is None and not chem.is_valid("C C")


def test_valid_molecules_and_canonical():
    assert chem.why_invalid("CN1c2ncn(C)c2C(=O)N(C)C1=O") is None  # caffeine, as on the slide
    assert chem.canonical("OCC") == chem.canonical("C(C)O") == "CCO"
    assert chem.canonical("C1CC") is None


def test_metrics():
    samples = ["CCO", "OCC", "c1ccccc1", "CC(", "CCN"]
    assert chem.validity(samples) == pytest.approx(0.8)
    assert chem.uniqueness(samples) == pytest.approx(3 / 4)
    assert chem.novelty(samples, {"CCO"}) == pytest.approx(2 / 3)
    assert chem.internal_diversity(["CCO", "CCO"]) == pytest.approx(0.0)
    div = chem.internal_diversity(["CCO", "c1ccccc1", "CCN", "CC(=O)O"])
    assert 0.5 < div < 1.0
    sim = chem.nearest_similarity(["CCO", "c1ccccc1"], ["CCO"])
    assert sim[0] == pytest.approx(1.0) and sim[1] < 0.5
    props = chem.properties(["CCO", "c1ccccc1"])
    assert list(props.columns) == ["MW", "logP", "QED"] and len(props) == 2
    assert props.MW[0] == pytest.approx(46.07, abs=0.01) and props.MW[1] == pytest.approx(78.11, abs=0.01)
    assert list(chem.has_substructure(["c1ccccc1O", "CCO"], "c1ccccc1")) == [True, False]


def test_metrics_on_edge_cases():
    # one row per input, in order: an invalid SMILES is named with its index instead of silently dropped
    with pytest.raises(SettingError, match=r"'Xx' at index 0"):
        chem.properties(["Xx", "CCO"])
    assert chem.properties([]).shape == (0, 3)
    # scores need samples; an empty list used to score 0.0 (validity) or 0.0 (uniqueness, novelty)
    for score in (chem.validity, chem.uniqueness, chem.internal_diversity):
        with pytest.raises(SettingError, match=r"empty list \[\]"):
            score([])
    with pytest.raises(SettingError, match="empty list"):
        chem.novelty([], {"CCO"})
    # no valid sample at all: a defined 0.0, as documented
    assert chem.uniqueness(["C(", "Xx"]) == chem.novelty(["C("], {"CCO"}) == chem.internal_diversity(["C("]) == 0.0
    assert chem.validity(["C(", "Xx"]) == 0.0
    with pytest.raises(SettingError, match="novelty needs the canonical SMILES"):
        chem.novelty(["CCO"], "CCO")  # a string would be read as the set of its characters
    with pytest.raises(SettingError, match="at least one valid molecule in reference_list"):
        chem.nearest_similarity(["CCO"], ["C("])
    assert len(chem.nearest_similarity([], ["CCO"])) == 0


def test_save_and_load_model(tmp_path, monkeypatch):
    import torch

    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    vocab = chem.Vocab.build(["CCO", "c1ccccc1"])
    config = dict(embed_dim=8, hidden_size=16, num_layers=2)
    net = SmilesLSTM(len(vocab), **config)
    chem.save_model(net, vocab, "tiny", config, validity=0.5)
    net2, vocab2, ckpt = chem.load_model("tiny")
    assert vocab2.tokens == vocab.tokens and ckpt["info"]["validity"] == 0.5
    X = chem.encode_batch(["CCO"], vocab)
    net.eval()
    assert torch.allclose(net(X)[0], net2(X)[0])
    with pytest.raises(DataError, match="06_smiles_rnn"):
        chem.load_model("absent")


def test_bucket_batches_cover_each_epoch_once_with_less_padding(train):
    import itertools

    import numpy as np

    smiles = train[:6400]
    batch_size = 64
    per_epoch = len(smiles) // batch_size
    batches = list(itertools.islice(chem.bucket_batches(smiles, batch_size, seed=1, pool=20), 2 * per_epoch))
    assert all(len(b) == batch_size for b in batches)
    for epoch in (batches[:per_epoch], batches[per_epoch:]):  # every molecule exactly once per epoch
        assert sorted(s for b in epoch for s in b) == sorted(smiles)
    assert batches[:per_epoch] != batches[per_epoch:]  # each epoch is drawn anew

    def padded(b):  # what a batch costs: its longest molecule, for each of its rows
        return batch_size * max(len(chem.tokenize(s)) for s in b)

    rng = np.random.default_rng(0)
    random_batches = [[smiles[i] for i in rng.integers(0, len(smiles), batch_size)] for _ in range(per_epoch)]
    assert sum(map(padded, batches[:per_epoch])) < 0.9 * sum(map(padded, random_batches))
    # same seed, same batches (repeatable runs)
    again = list(itertools.islice(chem.bucket_batches(smiles, batch_size, seed=1, pool=20), 3))
    assert again == batches[:3]
    with pytest.raises(SettingError):
        next(chem.bucket_batches(smiles[:10], 64))


def test_reverse_padded_reads_each_molecule_backwards_like_a_packed_bidirectional_gru(train):
    import torch
    from torch import nn

    smiles = ["CCO", "c1ccccc1O", "N", train[0]]
    vocab = chem.Vocab.build(smiles)
    X = chem.encode_batch(smiles, vocab)
    R = chem.reverse_padded(X, vocab.pad)
    for row, s in zip(R.tolist(), smiles):  # the real tokens reversed, the padding left where it was
        seq = vocab.encode(s)
        assert row == seq[::-1] + [vocab.pad] * (X.shape[1] - len(seq))
    assert torch.equal(chem.reverse_padded(R, vocab.pad), X)
    # a GRU on the reversed rows, read at each row's last real token, is the backward half of a packed
    # bidirectional GRU (what notebook 07's encoder relies on)
    torch.manual_seed(0)
    embed, bi = nn.Embedding(len(vocab), 8), nn.GRU(8, 16, batch_first=True, bidirectional=True)
    back = nn.GRU(8, 16, batch_first=True)
    with torch.no_grad():
        for name, p in bi.named_parameters():
            if name.endswith("_reverse"):
                getattr(back, name.removesuffix("_reverse")).copy_(p)
    lengths = (X != vocab.pad).sum(1)
    packed = nn.utils.rnn.pack_padded_sequence(embed(X), lengths, batch_first=True, enforce_sorted=False)
    h_packed = bi(packed)[1][1]
    out, _ = back(embed(R))
    h_ours = out[torch.arange(len(X)), lengths - 1]
    assert torch.allclose(h_ours, h_packed, atol=1e-6)
    assert not torch.allclose(back(embed(X))[0][torch.arange(len(X)), lengths - 1], h_packed, atol=1e-3)


@pytest.mark.skipif(not __import__("os").environ.get("COURSE_DATA"),
                    reason="COURSE_DATA not set: point it at a folder holding the data sets (README, What the tests need)")
def test_moses_training_smiles_is_the_whole_training_split_as_canonical_strings(train):
    full = utils.data.moses_training_smiles()
    assert isinstance(full, frozenset) and len(full) == 1_584_663
    assert utils.data.moses_training_smiles() is full, "loaded once per process"
    assert set(train) <= full, "the committed subset is drawn from the training split"
    test = chem.load_moses_subset("test", n=2000)
    assert not full & set(test), "MOSES's test molecules are not training molecules"
    # novelty compares canonical samples with these strings as stored (as MOSES does): they must be RDKit's
    # canonical SMILES, up to the rare molecule a newer RDKit writes differently
    differ = [s for s in train[:5000] if chem.canonical(s) != s]
    assert len(differ) <= 5, differ
    # a canonical sample found in the training set is not novel; one that is not there is
    assert chem.novelty([train[0], "CCCCCCCCCCCCCCCCCCCCO"], full) == 0.5


def test_novelty_check_accepts_an_answer_written_for_the_notebooks_frozenset():
    """06 calls my_novelty(generated, moses_train): a list and the frozenset of moses_training_smiles(); an answer
    that subtracts the training set directly (`distinct - train`) is right and must be accepted."""
    from utils.exercises import ex06

    def my_novelty(samples, train):
        distinct = {c for c in map(chem.canonical, samples) if c is not None}
        return len(distinct - train) / len(distinct)

    assert ex06.check_novelty(my_novelty) is my_novelty
    samples, train = list(ex06._SAMPLES), ex06._TRAIN
    assert isinstance(train, frozenset) and my_novelty(samples, train) == chem.novelty(samples, train) == 0.6
    assert ex06.novelty(samples, train) == 0.6
