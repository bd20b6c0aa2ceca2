"""Exercise checks of notebook 06 (a SMILES language model)."""
import re

import numpy as np

from . import exercise, expect

_TOKEN_CASES = {
    "CCO": ["C", "C", "O"],
    "Clc1ccc(Br)cc1": ["Cl", "c", "1", "c", "c", "c", "(", "Br", ")", "c", "c", "1"],
    "c1cc[nH]c1": ["c", "1", "c", "c", "[nH]", "c", "1"],
    "C[C@@H](N)C(=O)O": ["C", "[C@@H]", "(", "N", ")", "C", "(", "=", "O", ")", "O"],
    "C1CC2CCC3CCC4CCC5CCC6CCC7CCC8CCC9CCC%10CC%10C9C8C7C6C5C4C3C21":
        ["C", "1", "C", "C", "2", "C", "C", "C", "3", "C", "C", "C", "4", "C", "C", "C", "5", "C", "C", "C", "6",
         "C", "C", "C", "7", "C", "C", "C", "8", "C", "C", "C", "9", "C", "C", "C", "%10", "C", "C", "%10", "C", "9",
         "C", "8", "C", "7", "C", "6", "C", "5", "C", "4", "C", "3", "C", "2", "1"],
    "CC#N": ["C", "C", "#", "N"],
    "O=[N+]([O-])c1ccccc1": ["O", "=", "[N+]", "(", "[O-]", ")", "c", "1", "c", "c", "c", "c", "c", "1"],
}


def _no_brackets(s):  # keeps Cl/Br but cuts bracket atoms into characters
    return re.findall(r"Cl|Br|%\d\d|.", s)


def _no_percent(s):  # keeps bracket atoms but cuts %10 into '%', '1', '0'
    return re.findall(r"\[[^\]]+\]|Cl|Br|.", s)


@exercise(wrong=[lambda: list,              # one character per token: Cl becomes C, l
                 lambda: _no_brackets,
                 lambda: _no_percent])
def check_tokenizer(tokenize):
    """tokenize(smiles) -> list of tokens, keeping Cl, Br, [bracket atoms] and %nn whole."""
    for smiles, expected in _TOKEN_CASES.items():
        got = list(tokenize(smiles))
        expect("".join(got) == smiles, f"joining your tokens of {smiles!r} gives {''.join(got)!r}: a tokenizer "
                                       f"must not drop or add characters")
        expect(got == expected, f"tokenize({smiles!r}) gave {got}, expected {expected}. Hint: try the "
                                f"alternatives of a regular expression in order: r'\\[[^\\]]+\\]|Cl|Br|%\\d\\d|.'")


@exercise(wrong=[lambda: (lambda X: (X, X)),                     # the model would just copy its input
                 lambda: (lambda X: (X[:, 1:], X[:, :-1])),      # predicts the past from the future
                 lambda: (lambda X: (X[:, :-1], X[:, :-1]))])    # targets not shifted
def check_shift(shift):
    """shift(X) -> (inputs, targets) for teacher forcing: the model reads tokens 0..T-2 and predicts 1..T-1."""
    import torch

    X = torch.arange(12).reshape(2, 6)
    inputs, targets = shift(X)
    expect(tuple(inputs.shape) == (2, 5) and tuple(targets.shape) == (2, 5),
           f"for X of shape (2, 6) expected inputs and targets of shape (2, 5), got {tuple(inputs.shape)} and "
           f"{tuple(targets.shape)}")
    expect(torch.equal(inputs, X[:, :-1]), f"inputs should be every token but the last: {X[:, :-1].tolist()}, "
                                           f"got {inputs.tolist()}")
    expect(torch.equal(targets, X[:, 1:]), f"targets should be the next token at each position: "
                                           f"{X[:, 1:].tolist()}, got {targets.tolist()}")


def _softmax(z):
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


@exercise(wrong=[lambda: (lambda z, T: _softmax(np.asarray(z) * T)),              # multiplies by T
                 lambda: (lambda z, T: _softmax(np.asarray(z)) ** (1 / T)),       # not renormalised
                 lambda: (lambda z, T: _softmax(np.asarray(z)))])                 # ignores T
def check_softmax_temperature(softmax_T):
    """softmax_T(logits, T) -> probabilities exp(z_i / T) / sum_j exp(z_j / T) (numpy, last axis)."""
    z = np.array([[2.0, 1.0, 0.1, -1.0], [500.0, 499.0, 0.0, -3.0]])
    for T in (0.5, 1.0, 2.0):
        got = np.asarray(softmax_T(z.copy(), T), dtype=float)
        expect(got.shape == z.shape, f"expected probabilities of shape {z.shape}, got {got.shape}")
        expect(np.all(np.isfinite(got)), f"T={T}: your probabilities contain nan or inf for large logits (500). "
                                         f"Hint: subtract the largest logit before exp.")
        expect(np.allclose(got.sum(-1), 1), f"T={T}: probabilities must sum to 1 on each row, got {got.sum(-1)}")
        ref = _softmax(z / T)
        expect(np.allclose(got, ref, atol=1e-8), f"T={T}: expected {np.round(ref[0], 4)} for logits {z[0]}, got "
                                                 f"{np.round(got[0], 4)}. Hint: divide the logits by T first.")


_SAMPLES = ["CCO", "OCC", "C(C)O", "c1ccccc1", "C1=CC=CC=C1", "CCN", "CC(", "xyz", "CCCl", "CCCl"]
_TRAIN = ["CCO", "c1ccccc1"]


def _raw_novelty(samples, train):  # forgets canonical forms: OCC is counted as new
    uniq = {s for s in samples if _valid(s)}
    return len(uniq - set(train)) / len(uniq)


def _per_sample(samples, train):  # divides by all samples, invalid ones included
    from rdkit import Chem

    can = {Chem.MolToSmiles(Chem.MolFromSmiles(s)) for s in samples if _valid(s)}
    return len(can - set(train)) / len(samples)


def _valid(s):
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    return Chem.MolFromSmiles(s) is not None


@exercise(wrong=[lambda: _raw_novelty, lambda: _per_sample,
                 lambda: (lambda samples, train: 1.0 - _per_sample(samples, train))])
def check_novelty(novelty):
    """novelty(samples, train) -> share of distinct valid molecules (canonical SMILES) not in train."""
    # distinct valid molecules: ethanol, benzene, ethylamine, chloroethane... ethanol and benzene are known
    got = float(novelty(list(_SAMPLES), list(_TRAIN)))
    expect(abs(got - 0.5) < 1e-9, f"expected 0.5 (4 distinct valid molecules - CCO, c1ccccc1, CCN, CCCl - of "
                                  f"which 2 are in the training set), got {got:.3f}. Hint: canonicalise with RDKit "
                                  f"(OCC and C(C)O are ethanol, C1=CC=CC=C1 is benzene), drop invalid strings and "
                                  f"duplicates, then divide by the number of distinct valid molecules.")
