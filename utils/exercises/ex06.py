"""Exercise checks of notebook 06 (a SMILES language model)."""
import functools
import re

import numpy as np

from . import exercise, expect, answer_number, one_thread, shown


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


def shift(X):
    """The reference answer: the inputs are tokens 0..T-2, the targets tokens 1..T-1 (teacher forcing)."""
    return X[:, :-1], X[:, 1:]


# ---------------------------------------------------------------------------------------------------------------
# predict: the number of parameters of the notebook's nn.LSTM (embedding of 32, 2 layers of 256 units)
# ---------------------------------------------------------------------------------------------------------------
_LSTM_SIZES = dict(input_size=32, hidden_size=256, num_layers=2)


def _lstm_count(input_size, hidden_size, num_layers, gates=4, biases=2):
    """What a student may compute: per layer gates x (h x n_in + h x h + biases x h)."""
    h = hidden_size
    return sum(gates * (h * (input_size if layer == 0 else h) + h * h + biases * h) for layer in range(num_layers))


@functools.lru_cache(maxsize=None)
def _lstm_truth() -> int:
    """Builds the notebook's nn.LSTM and counts its parameters (without touching the notebook's random numbers)."""
    import torch

    with torch.random.fork_rng():
        lstm = torch.nn.LSTM(_LSTM_SIZES["input_size"], _LSTM_SIZES["hidden_size"], _LSTM_SIZES["num_layers"])
    return sum(p.numel() for p in lstm.parameters())


@exercise(kind="predict",
          wrong=[lambda: _lstm_count(**_LSTM_SIZES, biases=1),                       # one bias per gate
                 lambda: _lstm_count(**_LSTM_SIZES, gates=1),                        # forgets the four gates
                 lambda: _lstm_count(32, 256, 1) * 2,                                # layer 2 reading 32 inputs
                 lambda: _lstm_count(32, 256, 1)])                                   # one layer only
def check_lstm_params(predicted_lstm_params):
    """predicted_lstm_params: the number of parameters of nn.LSTM(32, 256, num_layers=2)."""
    got = answer_number(predicted_lstm_params, "predicted_lstm_params")
    truth = _lstm_truth()
    if abs(got - truth) <= 1e-3 * truth:
        return
    expect(got != _lstm_count(**_LSTM_SIZES, biases=1),
           "almost: PyTorch keeps two bias vectors per gate (b_i for the input, b_h for the hidden state)")
    expect(got != _lstm_count(**_LSTM_SIZES, gates=1),
           "that is one gate per layer: an LSTM layer has four (input, forget, cell candidate, output)")
    expect(got not in (_lstm_count(32, 256, 1), _lstm_count(32, 256, 1) * 2),
           "the second layer does not read the 32-number embedding but the 256-number hidden state of the first")
    expect(False, f"{shown(got)} is not it. Hint: per layer, 4 gates x (input weights 256 x n_in + recurrent weights "
                  f"256 x 256 + two biases of 256), with n_in = 32 for layer 1 and 256 for layer 2")


@exercise(wrong=[lambda: (lambda X: (X, X)),                     # the model would just copy its input
                 lambda: (lambda X: (X[:, 1:], X[:, :-1])),      # predicts the past from the future
                 lambda: (lambda X: (X[:, :-1], X[:, :-1]))],    # targets not shifted
          reference=shift)
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


# ---------------------------------------------------------------------------------------------------------------
# predict: the cross-entropy of the untrained network (scores all about 0: a uniform guess over the vocabulary)
# ---------------------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _vocab_size() -> int:
    """The notebook's vocabulary, built as it builds it, from the committed MOSES subset (fast mode's first 20 000
    molecules; the 250 000 of full mode give the same 26 tokens)."""
    from .. import chem

    return len(chem.Vocab.build(chem.load_moses_subset("train", n=20_000)))


@exercise(kind="predict",
          wrong=[lambda: float(np.log2(26)),        # in bits, not nats
                 lambda: float(np.log(23)),         # leaves out the special tokens that the head also scores
                 lambda: 0.0,                       # "it knows nothing, so it loses nothing"
                 lambda: 1 / 26])                   # the probability, not the loss
def check_untrained_loss(predicted_untrained_loss):
    """predicted_untrained_loss: the cross-entropy (nats/token) of a network whose scores are all about 0."""
    got = answer_number(predicted_untrained_loss, "predicted_untrained_loss")
    V = _vocab_size()
    truth = float(np.log(V))                 # uniform p = 1/V for every token: -log(1/V) = ln V at every position
    if abs(got - truth) <= 0.1:
        return
    expect(abs(got - np.log2(V)) > 0.1, "that looks like a logarithm in base 2 (bits): the loss is in nats, "
                                        "natural logarithm")
    expect(got > 0.5, "an untrained network is surprised by every token, so its loss is large: if it gives the "
                      "same probability p to every token, what is -log p?")
    expect(not truth - 0.5 < got < truth, f"close, but too low: the head gives a score to every one of the {V} tokens of the "
                        f"vocabulary, the special tokens <pad>, <bos>, <eos> included")
    expect(False, f"{got:.3f} nats/token is not it. Hint: with all scores equal, softmax gives each of the "
                  f"len(vocab) tokens the same probability; the cross-entropy is -log of the true token's probability")


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


# ---------------------------------------------------------------------------------------------------------------
# predict: how many distinct strings among 100 samples at T = 0.0001
# ---------------------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _distinct_cold(n=100, temperature=1e-4, vocab_size=12, steps=20) -> int:
    """A tiny experiment: a random recurrent language model, n samples at the given temperature (the notebook's
    sample() loop), the number of distinct sequences. Fixed seed; the notebook's random numbers stay as they were."""
    import torch

    with torch.random.fork_rng(), one_thread():
        torch.manual_seed(0)
        embed, gru = torch.nn.Embedding(vocab_size, 8), torch.nn.GRU(8, 16, batch_first=True)
        head = torch.nn.Linear(16, vocab_size)
        x, h, out = torch.zeros(n, 1, dtype=torch.long), None, []
        with torch.no_grad():
            for _ in range(steps):
                H, h = gru(embed(x), h)
                probs = torch.softmax(head(H[:, -1]) / temperature, dim=-1)
                x = torch.multinomial(probs, 1)
                out.append(x)
    return len({tuple(row) for row in torch.cat(out, 1).tolist()})


@exercise(kind="predict", wrong=[lambda: 100, lambda: 50, lambda: 0])
def check_distinct_cold(predicted_distinct_cold):
    """predicted_distinct_cold: the number of distinct strings among 100 samples drawn at T = 0.0001."""
    got = answer_number(predicted_distinct_cold, "predicted_distinct_cold")
    expect(got == int(got) and 0 <= got <= 100, f"give a whole number of distinct strings between 0 and 100, "
                                                f"got {got:g}")
    truth = _distinct_cold()
    if got == truth:
        return
    expect(got != 0, "every sample is some string (valid or not), so there is at least one distinct string")
    expect(got < 10, "at T = 0.0001 the logits are divided by 0.0001: a gap of 0.01 between two scores becomes a "
                     "factor exp(100) between their probabilities. Is there any chance left in the draw?")
    expect(False, "fewer still. Hint: every sample starts from the same <bos> with the same state, and at T -> 0 "
                  "each step takes the most likely token")


def novelty(samples, train):
    """The reference answer: the share of distinct valid molecules (canonical SMILES) that are not in ``train``."""
    from .. import chem

    distinct = {c for c in map(chem.canonical, samples) if c is not None}
    return len(distinct - set(train)) / len(distinct) if distinct else 0.0


# the notebook calls novelty(generated, moses_train): a list of strings and the frozenset that
# utils.data.moses_training_smiles() returns; the check passes the same types, so `distinct - train` works
_SAMPLES = ["CCO", "OCC", "C(C)O", "c1ccccc1", "C1=CC=CC=C1", "CCN", "CC(", "xyz", "CCCl", "CCCl", "COCC"]
_TRAIN = frozenset({"CCO", "c1ccccc1"})


def _raw_novelty(samples, train):  # forgets canonical forms: OCC is counted as new
    uniq = {s for s in samples if _valid(s)}
    return len(uniq - set(train)) / len(uniq)


def _per_sample(samples, train):  # divides by all samples, invalid ones included
    from rdkit import Chem

    can = {Chem.MolToSmiles(Chem.MolFromSmiles(s)) for s in samples if _valid(s)}
    return len(can - set(train)) / len(samples)


def _keeps_invalid(samples, train):  # None (an invalid string) counted as one more distinct, novel molecule
    from .. import chem

    distinct = {chem.canonical(s) for s in samples}
    return len(distinct - set(train)) / len(distinct)


def _distinct_before_canonical(samples, train):  # removes duplicate strings, not duplicate molecules
    from .. import chem

    strings = {s for s in samples if _valid(s)}
    return len({chem.canonical(s) for s in strings} - set(train)) / len(strings)


def _valid(s):
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    return Chem.MolFromSmiles(s) is not None


@exercise(wrong=[lambda: _raw_novelty, lambda: _per_sample,
                 lambda: (lambda samples, train: 1.0 - _per_sample(samples, train)),
                 lambda: _keeps_invalid, lambda: _distinct_before_canonical,
                 lambda: (lambda samples, train: 1.0 - novelty(samples, train))],   # the share already known
          reference=novelty)
def check_novelty(novelty):
    """novelty(samples, train) -> share of distinct valid molecules (canonical SMILES) not in train."""
    from .. import chem

    # distinct valid molecules: ethanol (3 spellings), benzene (2), ethylamine, chloroethane (twice), ethyl methyl
    # ether (written COCC, canonical CCOC); ethanol and benzene are known: 3 of 5 are new
    distinct = {c for c in map(chem.canonical, _SAMPLES) if c is not None}
    truth = len(distinct - _TRAIN) / len(distinct)
    got = float(novelty(list(_SAMPLES), _TRAIN))
    expect(abs(got - truth) < 1e-9,
           f"expected {truth:g} ({len(distinct)} distinct valid molecules - {', '.join(sorted(distinct))} - of which "
           f"{len(distinct & _TRAIN)} are in the training set), got {got:.3f}. Hint: canonicalise with RDKit (OCC and "
           f"C(C)O are ethanol, C1=CC=CC=C1 is benzene), drop invalid strings and duplicates, then divide by the "
           f"number of distinct valid molecules.")
