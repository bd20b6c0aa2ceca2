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
from ._checks import whole
from .errors import DataError, SettingError

# ----------------------------------------------------------------------------------------------
# checking what a student passes in: one clear sentence instead of a deep traceback or a silent wrong result
# ----------------------------------------------------------------------------------------------
def _show(x) -> str:
    """``x`` for an error message: its repr on one line, cut at 60 characters."""
    text = " ".join(repr(x).split())
    return text if len(text) <= 60 else text[:57] + "..."


def _require_str(smiles, func: str) -> None:
    if not isinstance(smiles, str):
        raise SettingError(f"{func} expects a SMILES string such as 'CCO', got {type(smiles).__name__} "
                           f"{_show(smiles)}.")


def _smiles_list(smiles_list, func: str, allow_empty: bool = True) -> list:
    """``smiles_list`` as a list of strings; a single string, a non-list, a non-string item or (unless
    ``allow_empty``) an empty list raises :class:`SettingError` naming what was given."""
    if isinstance(smiles_list, str):  # a bare string would be read character by character
        raise SettingError(f"{func} expects a list of SMILES, got the single string {_show(smiles_list)}: "
                           f"put it in a list, {func}([{_show(smiles_list)}]).")
    try:
        items = list(smiles_list)
    except TypeError:
        raise SettingError(f"{func} expects a list of SMILES strings such as ['CCO', 'c1ccccc1'], got "
                           f"{type(smiles_list).__name__} {_show(smiles_list)}.") from None
    for i, s in enumerate(items):
        if not isinstance(s, str):
            raise SettingError(f"{func} expects a list of SMILES strings, but item {i} is {type(s).__name__} "
                               f"{_show(s)}: give text such as 'CCO' (token ids are turned into text by "
                               f"vocab.decode).")
    if not items and not allow_empty:
        raise SettingError(f"{func} got an empty list [] of SMILES: it needs at least one (did the sampling "
                           f"or the filtering keep none?).")
    return items


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


def _untokenizable(smiles: str) -> str | None:
    """Why ``smiles`` cannot be cut into tokens (its first stray character and where), or None if it can."""
    pos = 0
    for match in SMILES_TOKEN.finditer(smiles):  # tokens follow each other; a gap is a skipped character
        if match.start() != pos:
            break
        pos = match.end()
    if pos == len(smiles):
        return None
    if smiles[pos] == "%":
        return f"the '%' at position {pos} must be followed by a two-digit ring label such as %10"
    return (f"the character {smiles[pos]!r} at position {pos} is not part of any SMILES token "
            f"(atoms, bonds = # -, branches ( ), ring digits, [bracket atoms])")


def tokenize(smiles: str) -> list[str]:
    """Cut a SMILES string into tokens, keeping multi-character tokens whole: ``'Clc1cc[nH]c1'`` gives
    ``['Cl', 'c', '1', 'c', 'c', '[nH]', 'c', '1']``. Raises :class:`SettingError` on characters that
    belong to no SMILES token (so that nothing is silently dropped). Positions in messages count from 0."""
    _require_str(smiles, "tokenize")
    tokens = SMILES_TOKEN.findall(smiles)
    if "".join(tokens) != smiles:
        raise SettingError(f"{smiles!r} cannot be cut into tokens: {_untokenizable(smiles)}.")
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
        """All tokens met in ``smiles_list`` (a non-empty list of SMILES), sorted, after the special tokens."""
        seen = set()
        for s in _smiles_list(smiles_list, "Vocab.build", allow_empty=False):
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
        """Token ids back to a string: stops at ``<eos>`` (or ``<pad>``), skips ``<bos>``. An id outside the
        vocabulary raises :class:`SettingError` (ids from a model trained with another vocabulary)."""
        out = []
        for i in (int(x) for x in ids):
            if not 0 <= i < len(self.tokens):
                raise SettingError(f"token id {i} is outside this vocabulary (ids 0 to {len(self.tokens) - 1}): "
                                   f"decode with the Vocab the model was trained with.")
            if i in (self.eos, self.pad):
                break
            if i != self.bos:
                out.append(self.tokens[i])
        return "".join(out)


def encode_batch(smiles_list, vocab: Vocab):
    """A padded LongTensor (batch, max_len + 2) of ``<bos> tokens <eos> <pad>...`` (``smiles_list``: a non-empty
    list of SMILES)."""
    import torch

    smiles_list = _smiles_list(smiles_list, "encode_batch", allow_empty=False)
    if not isinstance(vocab, Vocab):
        raise SettingError(f"encode_batch needs a chem.Vocab as its second argument (chem.Vocab.build(train_smiles)"
                           f" or the one saved with the model), got {type(vocab).__name__} {_show(vocab)}.")
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
    smiles_list = _smiles_list(smiles_list, "bucket_batches", allow_empty=False)
    batch_size = whole("batch_size", batch_size, 1, len(smiles_list), hint="at most the number of molecules")
    pool = whole("pool", pool, 1, hint="a number of batches")
    lengths = np.array([len(tokenize(s)) for s in smiles_list])
    return _buckets(smiles_list, lengths, batch_size, seed, pool)


def _buckets(smiles_list, lengths, batch_size, seed, pool):
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
    n = None if n is None else whole("n", n, 1, hint="a number of molecules, or None for all")
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
_SPACE = re.compile(r"\s")
_BONDS = ("-", "=", "#", "$", ":", "/", "\\")
#: the element symbol of a bracket atom, after an optional isotope: [13C], [nH], [se], [Fe+2], [*]
_BRACKET_ELEMENT = re.compile(r"\[\d*(\*|se|as|te|[bcnops]|[A-Z][a-z]?)?")


def _quiet():
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.*")


def mol(smiles: str):
    """The RDKit molecule of a SMILES, or None if RDKit rejects it (quietly: no log spam). An empty string or one
    with a space is None too (RDKit would read only the part before the space); a non-string raises
    :class:`SettingError`."""
    from rdkit import Chem

    _require_str(smiles, "mol")
    _quiet()
    if not smiles or _SPACE.search(smiles):
        return None
    return Chem.MolFromSmiles(smiles)


def is_valid(smiles: str) -> bool:
    """Whether RDKit reads ``smiles`` as a molecule (a non-string raises :class:`SettingError`)."""
    return mol(smiles) is not None


def canonical(smiles: str, strict: bool = False) -> str | None:
    """RDKit's canonical SMILES (one string per molecule). An invalid string gives None, so that sets and counts
    over many samples skip it (``{canonical(s) for s in samples} - {None}``); with ``strict=True`` it raises
    :class:`SettingError` saying why RDKit rejects it (:func:`why_invalid`), for a SMILES typed by hand."""
    from rdkit import Chem

    m = mol(smiles)
    if m is None and strict:
        raise SettingError(f"canonical: {smiles!r} is not a valid SMILES - {why_invalid(smiles)}")
    return None if m is None else Chem.MolToSmiles(m)


def _elements() -> set:
    from rdkit import Chem

    table = Chem.GetPeriodicTable()
    return {table.GetElementSymbol(z) for z in range(1, 119)} | {"*", "b", "c", "n", "o", "p", "s", "se", "as", "te"}


def _bracket_hint(smiles: str) -> str | None:
    """What is wrong with the square brackets of ``smiles`` (unbalanced, or no known element inside), if anything."""
    start = None
    for i, ch in enumerate(smiles):
        if ch == "[" and start is not None:
            break  # a second '[' before the first one is closed
        if ch == "[":
            start = i
        elif ch == "]" and start is None:
            return f"the ']' at position {i} closes a bracket atom that was never opened with '['"
        elif ch == "]":
            atom = smiles[start:i + 1]
            symbol = _BRACKET_ELEMENT.match(atom).group(1)
            if symbol is None:
                return f"the bracket atom {atom} at position {start} has no element symbol (e.g. [13C], [O-], [nH])"
            if symbol not in _elements():
                return (f"{symbol!r} in the bracket atom {atom} at position {start} is not a chemical element "
                        f"(write e.g. [Fe], [Na+], [nH])")
            start = None
    if start is not None:
        return f"the '[' at position {start} opens a bracket atom that is never closed with ']'"
    return None


def _token_hints(tokens: list) -> list[str]:
    """Bonds, branches and dots with no atom on one side, and ring labels left open."""
    hints, pos, open_rings = [], 0, set()
    for k, t in enumerate(tokens):
        before = tokens[k - 1] if k else None
        after = tokens[k + 1] if k + 1 < len(tokens) else None
        if t in _BONDS and before in _BONDS:
            hints.append(f"two bond symbols in a row ({before + t!r} at position {pos - len(before)}): "
                         f"write one bond symbol between two atoms")
        elif t in _BONDS and after in (None, ")", "."):
            hints.append(f"the bond {t!r} at position {pos} has no atom after it")
        elif t in _BONDS and before in (None, "."):
            hints.append(f"the bond {t!r} at position {pos} has no atom before it")
        elif t == "(" and before in (None, "(", "."):
            hints.append(f"the '(' at position {pos} opens a branch with no atom before it")
        elif t == "(" and after == ")":
            hints.append(f"the branch '()' at position {pos} is empty")
        elif t == "." and (before is None or after in (None, ".")):
            hints.append(f"the '.' at position {pos} separates two molecules but has no atom on one side")
        elif t.isdigit() or t.startswith("%"):
            open_rings ^= {t}
        pos += len(t)
    if open_rings:
        hints.append("ring label(s) " + ", ".join(sorted(open_rings)) + " opened but never closed")
    return hints


def _syntax_hints(smiles: str) -> list[str]:
    """Our own reading of a SMILES that RDKit rejects: what is unbalanced or out of place, and where (positions
    count from 0)."""
    bracket = _bracket_hint(smiles)
    if bracket:
        return [bracket]
    hints, depth = [], 0
    for i, ch in enumerate(smiles):
        depth += (ch == "(") - (ch == ")")
        if depth < 0:
            hints.append(f"the ')' at position {i} closes a branch that was never opened")
            break
    if depth > 0:
        hints.append(f"{depth} branch(es) opened with '(' are never closed")
    stray = _untokenizable(smiles)
    if stray:
        return hints + [stray]
    return hints + _token_hints(SMILES_TOKEN.findall(smiles))


def _rdkit_lines(messages) -> list[str]:
    """RDKit's captured log as lines without the time stamp and the 'SMILES Parse Error: ' prefix. The log is one
    string in recent RDKit (2025 on) and a list of strings in older ones: both are read."""
    text = messages if isinstance(messages, str) else "\n".join(messages or [])
    lines = (re.sub(r"^\[[\d:]+\]\s*", "", line).strip() for line in text.splitlines())
    return [line.removeprefix("SMILES Parse Error: ") for line in lines if line]


def why_invalid(smiles: str) -> str | None:
    """None if RDKit accepts ``smiles``; otherwise one readable sentence saying why it does not (positions count
    from 0). A non-string raises :class:`SettingError`."""
    from rdkit import Chem, rdBase

    _require_str(smiles, "why_invalid")
    if not smiles.strip():
        return "empty string: a SMILES needs at least one atom"
    space = _SPACE.search(smiles)
    if space:
        return f"it has a space at position {space.start()}: write a SMILES without spaces"
    if mol(smiles) is not None:
        return None
    hints = _syntax_hints(smiles)
    capture = getattr(rdBase, "CaptureErrorLog", None)
    if capture is not None:
        with capture() as cap:
            raw = Chem.MolFromSmiles(smiles, sanitize=False)
        rdkit_msgs = _rdkit_lines(cap.messages)
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
    _require_str(smiles, "check_smiles")
    reason = why_invalid(smiles)
    if reason:
        raise SettingError(f"{smiles!r} is not a valid SMILES - {reason}")
    return mol(smiles)


# ----------------------------------------------------------------------------------------------
# metrics (MOSES definitions)
# ----------------------------------------------------------------------------------------------
# The scores (validity, uniqueness, novelty, internal_diversity) need at least one sample: an empty list is a
# SettingError, not 0 or NaN. The per-molecule helpers (fingerprints, properties, has_substructure,
# nearest_similarity) give an empty result for an empty list.
def validity(samples) -> float:
    """Share of strings RDKit parses into a molecule (``samples``: a non-empty list of SMILES)."""
    samples = _smiles_list(samples, "validity", allow_empty=False)
    return sum(is_valid(s) for s in samples) / len(samples)


def uniqueness(samples) -> float:
    """Share of distinct canonical SMILES among the valid samples (MOSES unique@k); 0.0 if none is valid."""
    can = [c for c in map(canonical, _smiles_list(samples, "uniqueness", allow_empty=False)) if c]
    return len(set(can)) / max(len(can), 1)


def novelty(samples, train_canonical: set) -> float:
    """Share of the distinct valid samples that are not in the training set (``train_canonical``: canonical
    SMILES of the training molecules); 0.0 if no sample is valid."""
    samples = _smiles_list(samples, "novelty", allow_empty=False)
    is_collection = hasattr(train_canonical, "__iter__") and not isinstance(train_canonical, str)
    if isinstance(train_canonical, (set, frozenset)):
        train = train_canonical            # used as it is: a copy of MOSES's 1.58 M strings would cost 60 MB
    else:
        train = set(train_canonical) if is_collection else set()  # a string would be the set of its characters
    if not train:
        raise SettingError(f"novelty needs the canonical SMILES of the training molecules as a non-empty set, e.g. "
                           f"{{chem.canonical(s) for s in train_smiles}}, got {_show(train_canonical)}.")
    uniq = {c for c in map(canonical, samples) if c}
    return len(uniq - train) / max(len(uniq), 1)


def fingerprints(smiles_list, radius: int = 2, n_bits: int = 2048):
    """Morgan (ECFP4-like) bit vectors of the valid SMILES (invalid ones are skipped)."""
    from rdkit.Chem import rdFingerprintGenerator

    gen = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
    return [gen.GetFingerprint(m) for m in map(mol, _smiles_list(smiles_list, "fingerprints")) if m is not None]


def internal_diversity(smiles_list, max_n: int = 3000, seed: int = 0) -> float:
    """1 - mean pairwise Tanimoto similarity of 2048-bit Morgan fingerprints, on at most ``max_n`` distinct valid
    molecules drawn at random (the full pairwise matrix grows as n^2); 0.0 if fewer than two. MOSES's IntDiv1 is the
    same mean on 1024-bit fingerprints of all valid samples: :func:`utils.moses.internal_diversity`."""
    from rdkit import DataStructs

    smiles_list = _smiles_list(smiles_list, "internal_diversity", allow_empty=False)
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
    """For each valid molecule of ``smiles_list``, its largest Tanimoto similarity to ``reference_list`` (which
    must hold at least one valid molecule)."""
    from rdkit import DataStructs

    ref = fingerprints(_smiles_list(reference_list, "nearest_similarity (reference_list)"))
    if not ref:
        raise SettingError(f"nearest_similarity needs at least one valid molecule in reference_list, got "
                           f"{_show(reference_list)}.")
    return np.array([max(DataStructs.BulkTanimotoSimilarity(fp, ref)) for fp in fingerprints(smiles_list)])


def properties(smiles_list):
    """A DataFrame with one row per SMILES, in order: molecular weight (g/mol), Crippen logP and QED. An invalid
    SMILES raises :class:`SettingError` naming it and its index (keep the valid ones first with ``is_valid``);
    an empty list gives an empty table."""
    import pandas as pd
    from rdkit.Chem import QED, Crippen, Descriptors

    smiles_list = _smiles_list(smiles_list, "properties")
    rows = []
    for i, s in enumerate(smiles_list):   # one molecule at a time: 20 000 RDKit molecules at once take 0.5 GB
        m = mol(s)
        if m is None:
            raise SettingError(f"properties got the invalid SMILES {_show(s)} at index {i} ({why_invalid(s)}): keep "
                               f"the valid ones first, [s for s in smiles if chem.is_valid(s)].")
        rows.append((Descriptors.MolWt(m), Crippen.MolLogP(m), QED.qed(m)))
    return pd.DataFrame(rows, columns=["MW", "logP", "QED"])


def has_substructure(smiles_list, pattern) -> np.ndarray:
    """For each valid molecule, whether it contains ``pattern`` (an RDKit molecule or SMARTS string); an invalid
    SMARTS raises :class:`SettingError`."""
    from rdkit import Chem

    _quiet()
    if isinstance(pattern, str):
        patt = Chem.MolFromSmarts(pattern) if pattern.strip() else None
        if patt is None:
            raise SettingError(f"has_substructure: the pattern {_show(pattern)} is not a valid SMARTS; write a "
                               f"substructure such as 'c1ccccc1' (a benzene ring) or 'C(=O)O' (a carboxylic acid).")
    elif isinstance(pattern, Chem.Mol):
        patt = pattern
    else:
        raise SettingError(f"has_substructure expects a SMARTS string such as 'c1ccccc1' or an RDKit molecule as "
                           f"the pattern, got {type(pattern).__name__} {_show(pattern)}.")
    smiles_list = _smiles_list(smiles_list, "has_substructure")
    return np.array([m.HasSubstructMatch(patt) for m in map(mol, smiles_list) if m is not None], dtype=bool)


def draw_grid(smiles_list, n_per_row: int = 5, size: int = 220, legends=None):
    """RDKit drawings of the SMILES in a grid (an image shown by Jupyter); ``legends``: one caption per SMILES. An
    invalid SMILES keeps its place as a blank tile that names it and says why RDKit rejects it; none valid raises
    :class:`SettingError`."""
    from rdkit.Chem import Draw

    smiles_list = _smiles_list(smiles_list, "draw_grid")
    if legends is not None and (isinstance(legends, str) or len(legends) != len(smiles_list)):
        raise SettingError(f"draw_grid needs one legend per SMILES ({len(smiles_list)}), got {_show(legends)}.")
    captions = [str(c) for c in legends] if legends is not None else [""] * len(smiles_list)
    mols = [mol(s) for s in smiles_list]
    if all(m is None for m in mols):
        raise SettingError(f"no valid molecule to draw among the {len(smiles_list)} SMILES given "
                           f"({_show(smiles_list)}): chem.why_invalid(s) says what is wrong with each.")
    img = Draw.MolsToGridImage(mols, molsPerRow=n_per_row, subImgSize=(size, size), legends=captions)
    invalid = {i: (smiles_list[i], captions[i]) for i, m in enumerate(mols) if m is None}
    return _label_invalid(img, invalid, n_per_row, size) if invalid else img


def _label_invalid(img, invalid: dict, n_per_row: int, size: int):
    """``img`` (a grid of ``size``-pixel tiles) with text written into the blank tile of each invalid SMILES:
    ``invalid`` maps its index to (SMILES, caption)."""
    import io
    import textwrap

    from PIL import Image, ImageDraw, ImageFont

    if not hasattr(img, "paste"):                       # RDKit's notebook mode hands back PNG bytes
        img = Image.open(io.BytesIO(getattr(img, "data", img)))
    img = img.convert("RGB")
    draw = ImageDraw.Draw(img)
    px = max(10, size // 15)
    try:
        font = ImageFont.load_default(size=px)
    except TypeError:                                   # Pillow < 10.1: one small bitmap font
        font = ImageFont.load_default()
    per_line = max(12, int(size / (0.55 * px)))
    for i, (smiles, caption) in invalid.items():
        x0, y0 = (i % n_per_row) * size, (i // n_per_row) * size
        shown = smiles if len(smiles) <= per_line else smiles[:per_line - 3] + "..."
        lines = [shown, "invalid SMILES:"] + textwrap.wrap(why_invalid(smiles), per_line)[:6]
        draw.rectangle([x0 + 4, y0 + 4, x0 + size - 5, y0 + size - 5], outline=(200, 60, 60), width=2)
        y = y0 + max(8, (size - len(lines) * (px + 3)) // 2)
        for k, line in enumerate(lines):
            draw.text((x0 + 10, y), line, fill=(170, 30, 30) if k < 2 else (60, 60, 60), font=font)
            y += px + 3
        if caption:                                     # where RDKit writes the legend of a molecule
            draw.text((x0 + size // 2, y0 + size - px - 12), caption, fill=(0, 0, 0), font=font, anchor="mt")
    return img


# ----------------------------------------------------------------------------------------------
# the language model of notebook 06, for later notebooks; saving and loading
# ----------------------------------------------------------------------------------------------
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
    :class:`utils.lessons.smiles_rnn.SmilesLSTM` (notebook 06's) in eval mode (None if ``build=False``). A missing file says which notebook makes it."""
    import torch

    src = models_dir() / f"{name}.pt"
    if not src.is_file():
        raise DataError(f"no saved model {src}: run notebook 06_smiles_rnn first (it saves the model there).")
    ckpt = torch.load(src, map_location="cpu", weights_only=True)
    vocab = Vocab(ckpt["tokens"])
    net = None
    if build:
        from .lessons.smiles_rnn import SmilesLSTM

        net = SmilesLSTM(len(vocab), **ckpt["config"])
        net.load_state_dict(ckpt["state_dict"])
        net.eval()
    return net, vocab, ckpt
