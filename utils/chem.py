"""Chemistry helpers of notebooks 06-07: SMILES tokenizer and vocabulary, the MOSES subset, RDKit checks and metrics.

What a student must learn (the language model, teacher forcing, sampling with a temperature) is written out in
notebook 06; this module holds the plumbing: cutting SMILES into tokens, turning them into padded tensors, reading
the committed MOSES subset through ``utils.data``, asking RDKit why a string is not a molecule, the MOSES-style
metrics (validity, uniqueness, novelty, internal diversity), and saving a trained model with its vocabulary in the
course cache so that a later notebook can reuse it.
"""
from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import data
from .errors import DataError, SettingError

# ----------------------------------------------------------------------------------------------
# tokens
# ----------------------------------------------------------------------------------------------
#: One token: a bracket atom ([nH], [C@@H], [O-]), a two-letter halogen (Cl, Br), a two-digit ring label
#: (%10), or one character (atom, bond, branch, ring-closure digit). After Schwaller et al. (2019).
SMILES_TOKEN = re.compile(
    r"(\[[^\[\]]+\]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|%\d{2}|\(|\)|\.|=|#|-|\+|\\|/|:|~|@|\?|>|\*|\$|\d)"
)
PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
SPECIALS = (PAD, BOS, EOS)


def tokenize(smiles: str) -> list[str]:
    """Cut a SMILES string into tokens, keeping multi-character tokens whole: ``'Clc1cc[nH]c1'`` gives
    ``['Cl', 'c', '1', 'c', 'c', '[nH]', 'c', '1']``. Raises :class:`SettingError` on characters that
    belong to no SMILES token (so that nothing is silently dropped)."""
    if not isinstance(smiles, str):
        raise SettingError(f"a SMILES must be a string, got {type(smiles).__name__}")
    tokens = SMILES_TOKEN.findall(smiles)
    if "".join(tokens) != smiles:
        pos, i = 0, 0
        for t in tokens:  # find the first character the pattern skipped
            j = smiles.find(t, pos)
            if j != pos:
                break
            pos = j + len(t)
        raise SettingError(f"{smiles!r}: the character {smiles[pos]!r} at position {pos} is not part of any "
                           f"SMILES token (atoms, bonds = # -, branches ( ), ring digits, [bracket atoms]).")
    return tokens


@dataclass
class Vocab:
    """The token <-> integer table of a language model, with padding, start and end tokens (ids 0, 1, 2)."""

    tokens: list

    def __post_init__(self):
        self.tokens = list(self.tokens)
        if tuple(self.tokens[:3]) != SPECIALS:
            self.tokens = list(SPECIALS) + [t for t in self.tokens if t not in SPECIALS]
        self.stoi = {t: i for i, t in enumerate(self.tokens)}
        self.pad, self.bos, self.eos = (self.stoi[t] for t in SPECIALS)

    def __len__(self):
        return len(self.tokens)

    @classmethod
    def build(cls, smiles_list) -> "Vocab":
        """All tokens met in ``smiles_list``, sorted, after the three special tokens."""
        seen = set()
        for s in smiles_list:
            seen.update(tokenize(s))
        return cls(list(SPECIALS) + sorted(seen))

    def encode(self, smiles: str) -> list[int]:
        """``<bos>`` + token ids + ``<eos>``; a token the vocabulary lacks raises :class:`SettingError`."""
        toks = tokenize(smiles)
        unknown = sorted({t for t in toks if t not in self.stoi})
        if unknown:
            raise SettingError(f"{smiles!r} contains tokens the model never saw in training: {unknown}. "
                               f"Known tokens: {' '.join(self.tokens[3:])}")
        return [self.bos] + [self.stoi[t] for t in toks] + [self.eos]

    def decode(self, ids) -> str:
        """Token ids back to a string: stops at ``<eos>`` (or ``<pad>``), skips ``<bos>``."""
        out = []
        for i in (int(x) for x in ids):
            if i in (self.eos, self.pad):
                break
            if i != self.bos:
                out.append(self.tokens[i])
        return "".join(out)


def encode_batch(smiles_list, vocab: Vocab):
    """A padded LongTensor (batch, max_len + 2) of ``<bos> tokens <eos> <pad>...``."""
    import torch

    seqs = [vocab.encode(s) for s in smiles_list]
    X = torch.full((len(seqs), max(map(len, seqs))), vocab.pad, dtype=torch.long)
    for i, s in enumerate(seqs):
        X[i, : len(s)] = torch.tensor(s)
    return X


def reverse_padded(X, pad: int):
    """Each row's tokens in reverse order, the padding left at the end: ``[a, b, c, pad] -> [c, b, a, pad]``.

    A GRU run on this reads every molecule right to left from its last real token, as the backward half of a
    bidirectional GRU on a packed sequence does, without packing (whose backward pass is slow on a CPU).
    """
    import torch

    lengths = (X != pad).sum(1, keepdim=True)
    pos = torch.arange(X.shape[1], device=X.device).expand_as(X)
    return X.gather(1, torch.where(pos < lengths, lengths - 1 - pos, pos))


def bucket_batches(smiles_list, batch_size: int, seed: int = 0, pool: int = 50):
    """Endless minibatches (lists of SMILES) of molecules of similar length, for faster recurrent training.

    A padded batch costs as much as its *longest* molecule; a random batch of 128 MOSES molecules is about a
    fifth padding (padded to 47.5 tokens on average, 38.4 when bucketed). Like a "bucket iterator": each epoch is
    shuffled, cut into pools of ``pool`` batches, each pool is sorted by length and cut into batches, and the
    batches are shuffled. Every molecule is seen once per epoch,
    and a batch is still a random draw among the molecules of about its length.
    """
    if batch_size < 1 or batch_size > len(smiles_list):
        raise SettingError(f"batch_size must be between 1 and {len(smiles_list)}, got {batch_size}")
    lengths = np.array([len(tokenize(s)) for s in smiles_list])
    rng = np.random.default_rng(seed)
    step = batch_size * pool
    while True:
        order = rng.permutation(len(smiles_list))
        batches = []
        for start in range(0, len(order) - batch_size + 1, step):
            chunk = order[start:start + step]
            chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
            batches += [chunk[i:i + batch_size] for i in range(0, len(chunk) - batch_size + 1, batch_size)]
        for k in rng.permutation(len(batches)):
            yield [smiles_list[i] for i in batches[k]]


# ----------------------------------------------------------------------------------------------
# the committed MOSES subset
# ----------------------------------------------------------------------------------------------
SUBSET_FILES = {"train": "moses/train_subset.csv.gz", "test": "moses/test_subset.csv.gz"}


def _subset_file(split: str) -> Path:
    if split not in SUBSET_FILES:
        raise SettingError(f"split must be one of {sorted(SUBSET_FILES)}, got {split!r}")
    relpath = SUBSET_FILES[split]
    committed = data.ROOT / "data" / relpath  # in a clone of the repository: committed next to its script
    if committed.is_file():
        expected = data._find(relpath).sha256
        if data.sha256(committed) != expected:
            raise DataError(f"{committed} does not have the expected sha256 {expected}: rebuild it with "
                            f"`python data/make_moses_subset.py` or restore it with `git checkout -- {committed}`")
        return committed
    return data.path(relpath)  # $COURSE_DATA, the cache, or a download


def load_moses_subset(split: str = "train", n: int | None = None) -> list[str]:
    """SMILES of the committed MOSES subset: ``"train"`` (250 000) or ``"test"`` (10 000), in file order.

    ``n`` keeps the first ``n`` (the subset is already a uniform random draw, see data/moses/PROVENANCE.md).
    """
    with gzip.open(_subset_file(split), "rt") as f:
        header = f.readline().strip()
        if header != "SMILES":
            raise DataError(f"unexpected header {header!r} in the MOSES subset ({split})")
        out = []
        for line in f:
            if n is not None and len(out) >= n:
                break
            if line.strip():
                out.append(line.strip())
    return out


# ----------------------------------------------------------------------------------------------
# RDKit: parse quietly, explain failures
# ----------------------------------------------------------------------------------------------
def _quiet():
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.*")


def mol(smiles: str):
    """The RDKit molecule of a SMILES, or None if RDKit rejects it (quietly: no log spam)."""
    from rdkit import Chem

    _quiet()
    if not isinstance(smiles, str) or not smiles:
        return None
    return Chem.MolFromSmiles(smiles)


def is_valid(smiles: str) -> bool:
    return mol(smiles) is not None


def canonical(smiles: str) -> str | None:
    """RDKit's canonical SMILES (one string per molecule), or None for an invalid string."""
    from rdkit import Chem

    m = mol(smiles)
    return None if m is None else Chem.MolToSmiles(m)


def _syntax_hints(smiles: str) -> list[str]:
    hints = []
    depth = 0
    for ch in smiles:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            hints.append("a ')' closes a branch that was never opened")
            break
    if depth > 0:
        hints.append(f"{depth} branch(es) opened with '(' are never closed")
    try:
        toks = tokenize(smiles)
    except SettingError as e:
        return [str(e)]
    open_rings = set()
    for t in toks:
        if t.isdigit() or t.startswith("%"):
            open_rings ^= {t}
    if open_rings:
        hints.append("ring label(s) " + ", ".join(sorted(open_rings)) + " opened but never closed")
    return hints


def why_invalid(smiles: str) -> str | None:
    """None if RDKit accepts ``smiles``; otherwise one readable sentence saying why it does not."""
    from rdkit import Chem, rdBase

    _quiet()
    if not isinstance(smiles, str) or not smiles.strip():
        return "empty string: a SMILES needs at least one atom"
    if Chem.MolFromSmiles(smiles) is not None:
        return None
    hints = _syntax_hints(smiles)
    capture = getattr(rdBase, "CaptureErrorLog", None)
    if capture is not None:
        with capture() as cap:
            raw = Chem.MolFromSmiles(smiles, sanitize=False)
        rdkit_msgs = [m.strip().splitlines()[0] for m in (cap.messages or []) if m.strip()]
    else:  # older RDKit: no log capture, our own hints only
        raw, rdkit_msgs = Chem.MolFromSmiles(smiles, sanitize=False), []
    if raw is None:
        msg = "syntax error"
        if hints:
            msg += ": " + "; ".join(hints)
        elif rdkit_msgs:
            msg += " (RDKit: " + rdkit_msgs[0] + ")"
        return msg
    problems = Chem.DetectChemistryProblems(raw)
    if problems:
        return "chemistry error: " + "; ".join(p.Message() for p in problems)
    return "RDKit could not sanitize it" + (": " + "; ".join(hints + rdkit_msgs) if hints or rdkit_msgs else "")


def check_smiles(smiles: str):
    """The molecule of a student's SMILES, or a :class:`SettingError` saying why RDKit rejects it."""
    reason = why_invalid(smiles)
    if reason:
        raise SettingError(f"{smiles!r} is not a valid SMILES - {reason}")
    return mol(smiles)


# ----------------------------------------------------------------------------------------------
# metrics (MOSES definitions)
# ----------------------------------------------------------------------------------------------
def validity(samples) -> float:
    """Share of strings RDKit parses into a molecule."""
    samples = list(samples)
    return sum(is_valid(s) for s in samples) / max(len(samples), 1)


def uniqueness(samples) -> float:
    """Share of distinct canonical SMILES among the valid samples (MOSES unique@k)."""
    can = [c for c in map(canonical, samples) if c]
    return len(set(can)) / max(len(can), 1)


def novelty(samples, train_canonical: set) -> float:
    """Share of the distinct valid samples that are not in the training set (``train_canonical``: canonical
    SMILES of the training molecules)."""
    uniq = {c for c in map(canonical, samples) if c}
    return len(uniq - set(train_canonical)) / max(len(uniq), 1)


def fingerprints(smiles_list, radius: int = 2, n_bits: int = 2048):
    """Morgan (ECFP4-like) bit vectors of the valid SMILES."""
    from rdkit.Chem import rdFingerprintGenerator

    gen = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
    return [gen.GetFingerprint(m) for m in map(mol, smiles_list) if m is not None]


def internal_diversity(smiles_list, max_n: int = 3000, seed: int = 0) -> float:
    """1 - mean pairwise Tanimoto similarity of Morgan fingerprints (MOSES IntDiv1), on at most ``max_n``
    distinct valid molecules drawn at random (the full pairwise matrix grows as n^2)."""
    from rdkit import DataStructs

    uniq = sorted({c for c in map(canonical, smiles_list) if c})
    if len(uniq) > max_n:
        uniq = list(np.random.default_rng(seed).choice(uniq, size=max_n, replace=False))
    fps = fingerprints(uniq)
    if len(fps) < 2:
        return 0.0
    total = 0.0
    for i, fp in enumerate(fps):  # the diagonal counts too, as in MOSES: mean over the full n x n matrix
        total += sum(DataStructs.BulkTanimotoSimilarity(fp, fps))
    return 1.0 - total / len(fps) ** 2


def nearest_similarity(smiles_list, reference_list) -> np.ndarray:
    """For each valid molecule of ``smiles_list``, its largest Tanimoto similarity to ``reference_list``."""
    from rdkit import DataStructs

    ref = fingerprints(reference_list)
    return np.array([max(DataStructs.BulkTanimotoSimilarity(fp, ref)) for fp in fingerprints(smiles_list)])


def properties(smiles_list):
    """A DataFrame of molecular weight (g/mol), Crippen logP and QED of the valid SMILES."""
    import pandas as pd
    from rdkit.Chem import QED, Crippen, Descriptors

    rows = [(Descriptors.MolWt(m), Crippen.MolLogP(m), QED.qed(m)) for m in map(mol, smiles_list) if m is not None]
    return pd.DataFrame(rows, columns=["MW", "logP", "QED"])


def has_substructure(smiles_list, pattern) -> np.ndarray:
    """For each valid molecule, whether it contains ``pattern`` (an RDKit molecule or SMARTS string)."""
    from rdkit import Chem

    patt = Chem.MolFromSmarts(pattern) if isinstance(pattern, str) else pattern
    return np.array([m.HasSubstructMatch(patt) for m in map(mol, smiles_list) if m is not None])


def draw_grid(smiles_list, n_per_row: int = 5, size: int = 220, legends=None):
    """RDKit drawings of the valid SMILES in a grid (an image shown by Jupyter)."""
    from rdkit.Chem import Draw

    pairs = [(m, (legends[i] if legends else "")) for i, m in enumerate(map(mol, smiles_list)) if m is not None]
    if not pairs:
        raise SettingError("no valid molecule to draw")
    return Draw.MolsToGridImage([p[0] for p in pairs], molsPerRow=n_per_row, subImgSize=(size, size),
                                legends=[p[1] for p in pairs])


# ----------------------------------------------------------------------------------------------
# the language model of notebook 06, for later notebooks; saving and loading
# ----------------------------------------------------------------------------------------------
def _torch_module():
    import torch
    from torch import nn

    class SmilesLSTM(nn.Module):
        """The SMILES language model of notebook 06 (embedding -> LSTM -> linear), for reuse by later
        notebooks; notebook 06 writes the same class out and checks that the saved weights load into it."""

        def __init__(self, vocab_size, embed_dim=64, hidden_size=512, num_layers=2, dropout=0.0):
            super().__init__()
            self.embed = nn.Embedding(vocab_size, embed_dim)
            self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers, batch_first=True,
                                dropout=dropout if num_layers > 1 else 0.0)
            self.head = nn.Linear(hidden_size, vocab_size)

        def forward(self, X, state=None):
            H, state = self.lstm(self.embed(X), state)
            return self.head(H), state

    return torch, SmilesLSTM


def __getattr__(name):  # utils.chem.SmilesLSTM without importing torch at module import
    if name == "SmilesLSTM":
        return _torch_module()[1]
    raise AttributeError(name)


def models_dir() -> Path:
    folder = data.cache_dir() / "models"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_model(net, vocab: Vocab, name: str, config: dict, **info) -> Path:
    """Save weights, vocabulary, constructor arguments and any extra figures to ``<cache>/models/<name>.pt``."""
    import torch

    target = models_dir() / f"{name}.pt"
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    torch.save({"state_dict": state, "tokens": list(vocab.tokens), "config": dict(config), "info": info}, target)
    return target


def load_model(name: str, build: bool = True):
    """Load ``<cache>/models/<name>.pt``: returns ``(net, vocab, checkpoint)``; ``net`` is a
    :class:`SmilesLSTM` in eval mode (None if ``build=False``). A missing file says which notebook makes it."""
    import torch

    src = models_dir() / f"{name}.pt"
    if not src.is_file():
        raise DataError(f"no saved model {src}: run notebook 06_smiles_rnn first (it saves the model there).")
    ckpt = torch.load(src, map_location="cpu", weights_only=True)
    vocab = Vocab(ckpt["tokens"])
    net = None
    if build:
        net = _torch_module()[1](len(vocab), **ckpt["config"])
        net.load_state_dict(ckpt["state_dict"])
        net.eval()
    return net, vocab, ckpt
