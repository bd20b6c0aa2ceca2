"""utils.chem on a student's wrong input (issues 21 and 23): one clear line naming what was given, never a deep
RDKit/numpy traceback, a wrong score or a silently dropped row.

Each row: the call, the bad input, the error expected, a fragment its message must contain, and how the message
names the input.
"""
import pytest

from utils import SettingError, chem

NAN = float("nan")
VOCAB = chem.Vocab.build(["CCO", "c1ccccc1"])

ROWS = [
    # invalid SMILES typed by a student: a precise hint instead of "syntax error (RDKit: [)"
    (chem.check_smiles, "C==C", SettingError, "two bond symbols in a row ('==' at position 1)", "'C==C'"),
    (chem.check_smiles, "C##C", SettingError, "two bond symbols in a row ('##' at position 1)", "'C##C'"),
    (chem.check_smiles, "[Xx]", SettingError, "'Xx' in the bracket atom [Xx] at position 0 is not a chemical "
     "element", "'[Xx]'"),
    (chem.check_smiles, "C=C=C=", SettingError, "the bond '=' at position 5 has no atom after it", "'C=C=C='"),
    (chem.check_smiles, "[Fe+", SettingError, "the '[' at position 0 opens a bracket atom that is never closed",
     "'[Fe+'"),
    (chem.check_smiles, "CC[Fe+", SettingError, "the '[' at position 2 opens", "'CC[Fe+'"),
    (chem.check_smiles, "", SettingError, "empty string", "''"),
    (chem.check_smiles, "CC O", SettingError, "space at position 2", "'CC O'"),
    # not a string at all: its type, not "empty string"
    (chem.check_smiles, 123, SettingError, "expects a SMILES string such as 'CCO', got int", "123"),
    (chem.check_smiles, None, SettingError, "expects a SMILES string such as 'CCO', got NoneType", "None"),
    (chem.check_smiles, NAN, SettingError, "expects a SMILES string such as 'CCO', got float", "nan"),
    (chem.why_invalid, None, SettingError, "why_invalid expects a SMILES string", "None"),
    (chem.is_valid, 123, SettingError, "mol expects a SMILES string", "123"),
    (chem.canonical, NAN, SettingError, "mol expects a SMILES string", "nan"),
    (lambda s: chem.canonical(s, strict=True), "CCX", SettingError, "is not a valid SMILES - syntax error: the "
     "character 'X' at position 2", "'CCX'"),
    (chem.tokenize, None, SettingError, "tokenize expects a SMILES string", "None"),
    # a bare string where a list is expected used to be scored character by character (validity('CCO') == 1.0)
    (chem.validity, "CCO", SettingError, "validity expects a list of SMILES, got the single string", "'CCO'"),
    (chem.uniqueness, "CCO", SettingError, "put it in a list, uniqueness(['CCO'])", "'CCO'"),
    (lambda s: chem.novelty(s, {"CCO"}), "CCO", SettingError, "novelty expects a list of SMILES", "'CCO'"),
    (chem.internal_diversity, "CCO", SettingError, "internal_diversity expects a list", "'CCO'"),
    (chem.properties, "CCO", SettingError, "properties expects a list of SMILES", "'CCO'"),
    (chem.fingerprints, "CCO", SettingError, "fingerprints expects a list of SMILES", "'CCO'"),
    (chem.draw_grid, "CCO", SettingError, "draw_grid expects a list of SMILES", "'CCO'"),
    (chem.Vocab.build, "CCO", SettingError, "Vocab.build expects a list of SMILES", "'CCO'"),
    (lambda s: chem.encode_batch(s, VOCAB), "CCO", SettingError, "encode_batch expects a list", "'CCO'"),
    (lambda s: chem.bucket_batches(s, 2), "CCO", SettingError, "bucket_batches expects a list", "'CCO'"),
    (lambda s: chem.novelty(["CCO"], s), "CCO", SettingError, "novelty needs the canonical SMILES", "'CCO'"),
    # not a list, or a list of something else than strings
    (chem.validity, None, SettingError, "validity expects a list of SMILES strings", "NoneType None"),
    (chem.validity, [NAN, "CCO"], SettingError, "but item 0 is float", "nan"),
    (chem.uniqueness, ["CCO", None], SettingError, "but item 1 is NoneType", "None"),
    (chem.validity, [[1, 5, 2]], SettingError, "token ids are turned into text by vocab.decode", "[1, 5, 2]"),
    # empty lists: a clear message, not 0.0, NaN or ZeroDivisionError
    (chem.validity, [], SettingError, "validity got an empty list", "[]"),
    (chem.uniqueness, [], SettingError, "uniqueness got an empty list", "[]"),
    (chem.internal_diversity, [], SettingError, "internal_diversity got an empty list", "[]"),
    (lambda s: chem.encode_batch(s, VOCAB), [], SettingError, "encode_batch got an empty list", "[]"),
    (chem.draw_grid, ["C(", "Xx"], SettingError, "no valid molecule to draw among the 2 SMILES", "'C(', 'Xx'"),
    (lambda captions: chem.draw_grid(["CCO", "CCN"], legends=captions), ["a"], SettingError,
     "one legend per SMILES (2)", "['a']"),
    # one row per input: an invalid SMILES is named with its index instead of dropped
    (chem.properties, ["Xx", "CCO"], SettingError, "properties got the invalid SMILES 'Xx' at index 0", "'Xx'"),
    (lambda r: chem.nearest_similarity(["CCO"], r), ["C("], SettingError, "at least one valid molecule", "'C('"),
    # patterns, vocabularies and sizes
    (lambda p: chem.has_substructure(["CCO"], p), "C(", SettingError, "is not a valid SMARTS", "'C('"),
    (lambda p: chem.has_substructure(["CCO"], p), None, SettingError, "expects a SMARTS string", "None"),
    (lambda v: chem.encode_batch(["CCO"], v), ["C", "O"], SettingError, "needs a chem.Vocab", "['C', 'O']"),
    (VOCAB.decode, [1, 99, 2], SettingError, "token id 99 is outside this vocabulary", "99"),
    (lambda b: chem.bucket_batches(["CCO", "CCN"], b), 0, SettingError, "batch_size must be a whole number", "0"),
    (lambda n: chem.load_moses_subset("train", n=n), -5, SettingError, "n must be a whole number", "-5"),
    (chem.load_moses_subset, "valid", SettingError, "split must be one of", "'valid'"),
]


@pytest.mark.parametrize("call,bad,error,fragment,named", ROWS,
                         ids=[f"{i:02d}-{row[3][:30]}" for i, row in enumerate(ROWS)])
def test_bad_input_gives_one_clear_line(call, bad, error, fragment, named):
    with pytest.raises(error) as info:
        call(bad)
    msg = str(info.value)
    assert fragment in msg, msg
    assert named in msg, f"the message does not name the input {named}: {msg}"
    assert "\n" not in msg and len(msg) <= 300, f"not one readable line: {msg!r}"


def test_table_covers_issue_23_and_21():
    assert len(ROWS) >= 15
    called = {getattr(row[0], "__name__", "") for row in ROWS}
    assert {"check_smiles", "validity", "uniqueness", "internal_diversity", "properties"} <= called


def test_canonical_of_an_invalid_smiles_is_none_unless_strict():
    """Sets and counts over many samples skip invalid strings ({canonical(s) for s in samples} - {None}); a SMILES
    typed by hand asks with strict=True and is told why."""
    assert chem.canonical("CCX") is None and chem.canonical("C1CC") is None
    assert chem.canonical("OCC", strict=True) == "CCO"
    with pytest.raises(SettingError, match="ring label"):
        chem.canonical("C1CC", strict=True)


def test_draw_grid_keeps_a_typo_as_a_labelled_tile():
    """An invalid SMILES among valid ones is not dropped: its tile keeps its place and carries text (the reason)."""
    import numpy as np

    size = 120
    img = np.asarray(chem.draw_grid(["CCO", "CCX", "CCN"], n_per_row=3, size=size).convert("RGB")).astype(int)
    assert img.shape[:2] == (size, 3 * size)
    tile = img[:, size:2 * size]
    red = (tile[..., 0] > 120) & (tile[..., 1] < 100) & (tile[..., 2] < 100)
    dark = tile.sum(-1) < 300
    assert red.sum() > 50 and dark.sum() > 50, "the invalid SMILES' tile is blank"
    alone = np.asarray(chem.draw_grid(["CCN"], n_per_row=1, size=size).convert("RGB")).astype(int)
    assert np.abs(img[:, 2 * size:] - alone).mean() < 1, "the molecule after the typo moved"
