"""The committed checkpoints (checkpoints/, utils.checkpoints): intact, loadable, small, documented, and a broken
copy gives a clear error that names it and lets the notebook train instead."""
import importlib.util
import json
import re
import shutil

import pytest
import torch

from utils import checkpoints as ck
from utils import chem, mnist
from utils.lessons.smiles_rnn import SmilesLSTM

_spec = importlib.util.spec_from_file_location("train_checkpoints", ck.ROOT / "benchmarks" / "train_checkpoints.py")
train_checkpoints = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(train_checkpoints)

# the model each checkpoint's state_dict is loaded into (the notebooks build the same ones; executing them in the
# tests loads the checkpoints into the notebooks' own classes)
BUILDERS = {
    "mnist_cnn": lambda s: mnist.build_cnn(),
    "smiles_lstm": lambda s: SmilesLSTM(len(s["tokens"]), **s["config"]),
    "mnist_gan": lambda s: train_checkpoints.mnist_gan_players()[0],
    "chem_vae": lambda s: train_checkpoints.chem_vae_model(chem.Vocab(s["tokens"])),   # notebook 07's own classes
}
CARD_KEYS = {"notebook", "model", "data", "recipe", "seed", "train_seconds", "machine", "figures"}


def test_every_checkpoint_is_in_the_manifest_and_has_a_builder():
    files = {p.name for p in ck.FOLDER.glob("*.pt")}
    listed = {e["file"] for e in ck.manifest().values()}
    assert files == listed, f"checkpoints/ and MANIFEST.json disagree: {sorted(files ^ listed)}"
    assert set(ck.manifest()) <= set(BUILDERS), "a checkpoint has no loading test: add it to BUILDERS"


@pytest.mark.parametrize("name", sorted(ck.manifest()))
def test_sha256_size_and_card(name):
    entry = ck.manifest()[name]
    file = ck.FOLDER / entry["file"]
    assert ck.data.sha256(file) == entry["sha256"]
    assert file.stat().st_size == entry["bytes"]
    card = ck.card(name)
    assert CARD_KEYS <= set(card), f"card of {name} lacks {sorted(CARD_KEYS - set(card))}"
    assert card["train_seconds"] > 0 and card["figures"]


def test_the_gan_checkpoint_holds_both_players():
    if "mnist_gan" not in ck.manifest():
        pytest.skip("no mnist_gan checkpoint")
    state = ck.load("mnist_gan")
    G, D = train_checkpoints.mnist_gan_players()
    G.load_state_dict(state["G"])
    D.load_state_dict(state["D"])


def test_the_lstm_checkpoint_is_notebook_06s_architecture():
    if "smiles_lstm" not in ck.manifest():
        pytest.skip("no smiles_lstm checkpoint")
    assert ck.load("smiles_lstm")["config"] == {"embed_dim": 32, "hidden_size": 256, "num_layers": 2}


def test_the_chem_vae_checkpoint_is_notebook_07s_architecture():
    if "chem_vae" not in ck.manifest():
        pytest.skip("no chem_vae checkpoint")
    state = ck.load("chem_vae")
    assert state["config"] == train_checkpoints.CHEM_VAE_CONFIG == {"latent_dim": 64, "embed_dim": 32, "hidden": 256}
    assert {k.split(".")[0] for k in state["state_dict"]} == {"encoder", "decoder"}


def test_total_size_under_30_mb():
    assert sum(e["bytes"] for e in ck.manifest().values()) < 30e6


@pytest.mark.parametrize("name", sorted(ck.manifest()))
def test_loads_into_the_notebook_model_weights_only(name):
    state = ck.load(name)
    net = ck.load_into(BUILDERS[name](state), name, state)
    assert not net.training
    loaded = dict(net.state_dict())
    assert all(torch.equal(loaded[k], v.to(loaded[k].dtype)) for k, v in state["state_dict"].items())


@pytest.fixture
def broken_folder(tmp_path, monkeypatch):
    name = sorted(ck.manifest())[0]
    for f in ck.FOLDER.iterdir():
        shutil.copy(f, tmp_path / f.name)
    monkeypatch.setattr(ck, "FOLDER", tmp_path)
    monkeypatch.setattr(ck, "MANIFEST", tmp_path / "MANIFEST.json")
    return name, tmp_path / ck.manifest()[name]["file"]


def test_corrupted_copy_names_the_file(broken_folder, capsys):
    name, file = broken_folder
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    file.write_bytes(bytes(data))
    with pytest.raises(ck.CheckpointError, match=rf"{name}.*{file.name}.*sha256"):
        ck.load(name)
    assert ck.load_or_none(name) is None                      # the notebook falls back to training
    assert "training the model here instead" in capsys.readouterr().out


def test_missing_and_unknown(broken_folder):
    name, file = broken_folder
    file.unlink()
    with pytest.raises(ck.CheckpointError, match="is missing"):
        ck.load(name)
    with pytest.raises(ck.CheckpointError, match="no checkpoint named 'nope'"):
        ck.load("nope")


def test_wrong_model_is_named(broken_folder):
    name, _ = broken_folder
    with pytest.raises(ck.CheckpointError, match=f"{name}.*does not fit Linear"):
        ck.load_into(torch.nn.Linear(2, 2), name)


def test_train_from_scratch_skips_the_checkpoint(capsys):
    for name in ck.manifest():
        assert ck.load_or_none(name, train_from_scratch=True) is None
        assert "TRAIN_FROM_SCRATCH" in capsys.readouterr().out


def test_manifest_is_valid_json_sorted():
    text = ck.MANIFEST.read_text()
    assert list(json.loads(text)) == sorted(json.loads(text))


def test_readme_lists_every_checkpoint_as_its_card_says():
    readme = (ck.ROOT / "README.md").read_text()
    assert ck.table() in readme, "the README's checkpoint table is stale: run `python benchmarks/run.py --table`"


def test_notebook_07_quotes_the_chem_vae_card():
    """07 tells the beta trade-off of the checkpoint's two stages and of the runs tried: the figures must be the card's."""
    if "chem_vae" not in ck.manifest():
        pytest.skip("no chem_vae checkpoint")
    c = ck.card("chem_vae")
    cells = json.loads((ck.ROOT / "notebooks" / "07_vae.ipynb").read_text())["cells"]
    text = re.sub(r"\s+", " ", " ".join("".join(x["source"]) for x in cells if x["cell_type"] == "markdown"))
    for figures in [c["first_stage"]["figures"], c["figures"], *(t["figures"] for t in c["also_tried"])]:
        quote = f"{figures['reconstruction']:.3f} and (validity )?{figures['validity']:.3f}"
        assert re.search(quote, text), f"07_vae.ipynb does not quote the card's reconstruction and validity: {quote!r}"
