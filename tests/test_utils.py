"""Unit tests of the utils core: fast/full sizes, records, checks, and the checksummed data look-up."""
import hashlib
import json
import urllib.error

import pytest

import utils
from utils import data


# --- pick / fast mode ---------------------------------------------------------------------------
def test_pick_follows_course_fast(monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    assert utils.is_fast() and utils.pick(full=20, fast=1) == 1
    monkeypatch.setenv("COURSE_FAST", "0")
    assert not utils.is_fast() and utils.pick(full=20, fast=1) == 20
    monkeypatch.delenv("COURSE_FAST")
    assert utils.pick(full="big", fast="small") == "big"


# --- record -----------------------------------------------------------------------------------------
def test_record_writes_json_when_course_results_set(tmp_path, monkeypatch, capsys):
    import numpy as np

    monkeypatch.setenv("COURSE_RESULTS", str(tmp_path))
    utils.setup("99_test", quiet=True)
    utils.record("accuracy", np.float32(0.75), anchor=0.5, source="a paper")
    utils.record("steps", 12)
    out = json.loads((tmp_path / "99_test.json").read_text())
    assert out["notebook"] == "99_test"
    assert out["figures"]["accuracy"] == {"value": 0.75, "anchor": 0.5, "source": "a paper"}
    assert out["figures"]["steps"]["value"] == 12
    assert "[record] accuracy = 0.75" in capsys.readouterr().out


def test_record_only_prints_without_course_results(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("COURSE_RESULTS", raising=False)
    monkeypatch.chdir(tmp_path)
    utils.setup("99_test", quiet=True)
    utils.record("x", 1.0)
    assert "[record] x = 1" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_record_refuses_what_is_not_one_number(monkeypatch):
    import torch

    monkeypatch.delenv("COURSE_RESULTS", raising=False)
    utils.setup("99_test", quiet=True)
    utils.record("zero_d", torch.tensor(0.5))            # a 0-d tensor is one number: fine
    assert utils.results()["zero_d"]["value"] == 0.5
    for bad in (torch.tensor([1, 2]), [0.1, 0.2], {"a": 1}):
        with pytest.raises(utils.SettingError, match="takes one number"):
            utils.record("accuracy", bad)


def test_record_writes_strict_json_for_nan(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_RESULTS", str(tmp_path))
    utils.setup("99_test", quiet=True)
    utils.record("loss", float("nan"))
    utils.record("ratio", float("inf"), anchor=1.0)
    assert "[record] loss = nan" in capsys.readouterr().out     # shown honestly...
    text = (tmp_path / "99_test.json").read_text()
    assert "NaN" not in text and "Infinity" not in text          # ...and written as strict JSON (null)
    figs = json.loads(text)["figures"]
    assert figs["loss"]["value"] is None and figs["ratio"] == {"value": None, "anchor": 1.0}


def test_setup_starts_a_fresh_results_file(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RESULTS", str(tmp_path))
    utils.setup("99_test", quiet=True)
    utils.record("old_figure", 1.0)
    utils.setup("99_test", quiet=True)                   # a new run of the same notebook
    utils.record("new_figure", 2.0)
    figs = json.loads((tmp_path / "99_test.json").read_text())["figures"]
    assert set(figs) == {"new_figure"}, "a figure of an earlier run survived"


def test_setup_seeds_everything():
    import numpy as np
    import torch

    utils.setup("99_test", seed=3, quiet=True)
    a = (np.random.rand(), torch.rand(1).item())
    utils.setup("99_test", seed=3, quiet=True)
    assert a == (np.random.rand(), torch.rand(1).item())


def test_check_passes_and_fails_readably(capsys):
    utils.check(1 + 1 == 2, "arithmetic works")
    assert "arithmetic works" in capsys.readouterr().out
    with pytest.raises(utils.CheckFailed, match="accuracy 0.4 < 0.9"):
        utils.check(False, "learned", "accuracy 0.4 < 0.9")
    # shown by IPython as one line, not a traceback
    assert utils.CheckFailed("boom")._render_traceback_()[0].endswith("boom")


# --- data look-up -----------------------------------------------------------------------------------
@pytest.fixture
def fake_entry(tmp_path, monkeypatch):
    """A one-file data set in the manifest, with its own COURSE_DATA and cache folders."""
    content = b"wing_length,beak_depth\n70.0,20.5\n"
    digest = hashlib.sha256(content).hexdigest()
    f = data.DataFile("toy/birds.csv", digest, url="https://example.invalid/birds.csv")
    monkeypatch.setitem(data.MANIFEST, "toy", data.DataSet("toy", (f,), licence="test", citation="test"))
    shared, cache = tmp_path / "shared", tmp_path / "cache"
    shared.mkdir()
    monkeypatch.setenv("COURSE_DATA", str(shared))
    monkeypatch.setenv("COURSE_CACHE", str(cache))
    return content, digest, shared, cache


def _write(folder, content):
    p = folder / "toy" / "birds.csv"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(content)
    return p


def _offline(monkeypatch):
    def refuse(*a, **k):
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(data.urllib.request, "urlopen", refuse)


def test_lookup_prefers_course_data_then_cache(fake_entry):
    content, _, shared, cache = fake_entry
    in_cache = _write(cache, content)
    assert data.path("toy/birds.csv") == in_cache
    in_shared = _write(shared, content)
    assert data.path("toy/birds.csv") == in_shared


def test_download_into_cache_is_verified(fake_entry, monkeypatch):
    content, _, _, cache = fake_entry

    class Resp:
        def __init__(self, payload):
            import io
            self.io = io.BytesIO(payload)

        def read(self, *a):
            return self.io.read(*a)

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout: Resp(content))
    p = data.path("toy/birds.csv")
    assert p == cache / "toy" / "birds.csv" and p.read_bytes() == content
    # a download with the wrong bytes is rejected and removed
    p.unlink()
    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout: Resp(b"tampered"))
    with pytest.raises(utils.DataError, match="downloaded file has sha256"):
        data.path("toy/birds.csv")
    assert not p.exists()


def test_checksum_mismatch_names_file_and_expected_sha(fake_entry):
    _, digest, shared, _ = fake_entry
    _write(shared, b"not the real file")
    with pytest.raises(utils.DataError) as err:
        data.path("toy/birds.csv")
    msg = str(err.value)
    assert "checksum mismatch" in msg and digest in msg and "toy/birds.csv" in msg


def test_offline_without_copy_gives_clear_message(fake_entry, monkeypatch):
    _, digest, shared, cache = fake_entry
    _offline(monkeypatch)
    with pytest.raises(utils.DataError) as err:
        data.path("toy/birds.csv")
    msg = str(err.value)
    for needle in ("toy/birds.csv", digest, "https://example.invalid/birds.csv", str(cache / "toy" / "birds.csv"),
                   "offline"):
        assert needle in msg, f"{needle!r} missing from: {msg}"


def test_finch_loader_offline_with_empty_course_data(tmp_path, monkeypatch):
    """The 'done means' of the foundation: COURSE_DATA empty + no network -> the clear finch message."""
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "cache"))
    _offline(monkeypatch)
    with pytest.raises(utils.DataError) as err:
        data.load_finches()
    msg = str(err.value)
    assert "morphSnodgrassHeller.txt" in msg and data.MANIFEST["finches"].files[0].sha256 in msg
    assert "raw.githubusercontent.com/bblonder/hypervolume" in msg


def test_unknown_file_is_refused():
    with pytest.raises(utils.DataError, match="unknown data file"):
        data.path("nope/missing.bin")


def test_unknown_data_set_is_refused():
    with pytest.raises(utils.DataError, match="unknown data set 'x'.*mnist"):
        data.dataset_paths("x")


def test_truncated_copy_in_cache_says_how_to_fix(fake_entry, monkeypatch):
    content, digest, shared, cache = fake_entry
    monkeypatch.delenv("COURSE_DATA")
    bad = _write(cache, content[:10])                   # a truncated copy in the course's cache
    with pytest.raises(utils.DataError) as err:
        data.path("toy/birds.csv")
    msg = str(err.value)
    for needle in (str(bad), digest, "truncated", f"rm {bad}", "downloaded afresh"):
        assert needle in msg, f"{needle!r} missing from: {msg}"


def test_corrupted_copy_in_course_data_says_how_to_fix(fake_entry):
    content, digest, shared, _ = fake_entry
    bad = _write(shared, content[:-3] + b"xyz")          # same size, other bytes
    with pytest.raises(utils.DataError) as err:
        data.path("toy/birds.csv")
    msg = str(err.value)
    for needle in (str(bad), digest, "COURSE_DATA", "replace it with a good copy", "https://example.invalid"):
        assert needle in msg, f"{needle!r} missing from: {msg}"


class _Response:
    """A fake HTTP response that serves ``payload`` and can break after ``fail_after`` bytes."""

    def __init__(self, payload, fail_after=None):
        self.payload, self.pos, self.fail_after = payload, 0, fail_after

    def read(self, n=-1):
        if self.fail_after is not None and self.pos >= self.fail_after:
            raise ConnectionResetError("connection reset by peer")
        n = len(self.payload) if n is None or n < 0 else n
        if self.fail_after is not None:
            n = min(n, self.fail_after - self.pos)
        chunk = self.payload[self.pos:self.pos + n]
        self.pos += len(chunk)
        return chunk

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def test_interrupted_download_leaves_nothing_behind(fake_entry, monkeypatch):
    content, _, shared, cache = fake_entry
    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout: _Response(content, fail_after=7))
    with pytest.raises(utils.DataError, match="download failed.*ConnectionResetError"):
        data.path("toy/birds.csv")
    left = [p for p in cache.rglob("*") if p.is_file()]
    assert left == [], f"a partial download was left in place: {left}"
    # the next (working) attempt downloads the whole file
    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout: _Response(content))
    assert data.path("toy/birds.csv").read_bytes() == content


def test_wrong_download_is_never_renamed_into_place(fake_entry, monkeypatch):
    """Verified under its temporary name: the final name never holds unverified bytes, even for a moment."""
    content, _, _, cache = fake_entry
    renamed = []
    real_replace = data.Path.replace
    monkeypatch.setattr(data.Path, "replace", lambda self, target: (renamed.append(target), real_replace(self, target))[1])
    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout: _Response(b"tampered"))
    with pytest.raises(utils.DataError, match="downloaded file has sha256"):
        data.path("toy/birds.csv")
    assert renamed == [] and [p for p in cache.rglob("*") if p.is_file()] == []


@pytest.fixture
def fake_gz_entry(tmp_path, monkeypatch):
    """A one-file .gz data set with the sha256 of its unpacked bytes, as MNIST's files have."""
    import gzip

    raw = bytes(range(256)) * 40
    gz = gzip.compress(raw, mtime=0)
    f = data.DataFile("toy/images.gz", hashlib.sha256(gz).hexdigest(), url="https://example.invalid/images.gz",
                      unpacked_sha256=hashlib.sha256(raw).hexdigest())
    monkeypatch.setitem(data.MANIFEST, "toy_gz", data.DataSet("toy_gz", (f,), licence="test", citation="test"))
    shared = tmp_path / "shared"
    (shared / "toy").mkdir(parents=True)
    (shared / "toy" / "images.gz").write_bytes(gz)
    monkeypatch.setenv("COURSE_DATA", str(shared))
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "cache"))
    return f, raw, tmp_path / "cache" / "unpacked"


def test_damaged_unpacked_copy_is_rebuilt(fake_gz_entry, capsys):
    f, raw, folder = fake_gz_entry
    out = data.unpacked(f, folder)
    assert out.read_bytes() == raw
    for damage in (raw[:100], raw[:-1] + b"\x00"):     # truncated; overwritten (same size)
        out.write_bytes(damage)
        assert data.unpacked(f, folder).read_bytes() == raw
        assert "damaged" in capsys.readouterr().out
    assert sorted(p.name for p in folder.iterdir()) == ["images"], "no temporary file left"


# --- real data (CI has them through COURSE_DATA) ---------------------------------------------------
needs_data = pytest.mark.skipif(
    not __import__("os").environ.get("COURSE_DATA"),
    reason="COURSE_DATA not set: point it at a folder holding the data sets (README, What the tests need)")


@needs_data
def test_load_finches_is_tidy():
    df = data.load_finches()
    assert df.shape == (549, 13)
    darwin = data.load_finches(darwin_only=True)
    assert set(darwin["species"]) == set(data.DARWIN_SPECIES.values())
    assert darwin.groupby("species").size().to_dict() == {
        "Camarhynchus parvulus": 32, "Certhidea olivacea": 57, "Geospiza fortis": 91, "Geospiza magnirostris": 19}
    # lengths in mm: G. magnirostris has the deepest beak (about 20.7 mm on average)
    means = darwin.groupby("species")["beak_depth"].mean()
    assert 20 < means["Geospiza magnirostris"] < 21.5 and means.idxmax() == "Geospiza magnirostris"


@needs_data
def test_load_finches_birdd_has_beak_depth_for_all_four():
    df = data.load_finches_birdd(darwin_only=True)
    counts = df.dropna(subset=["beak_depth"]).groupby("species").size().to_dict()
    assert counts == {"Geospiza magnirostris": 113, "Geospiza fortis": 504, "Camarhynchus parvulus": 110,
                      "Certhidea olivacea": 229}


@needs_data
def test_load_mnist_offline():
    train, test = data.load_mnist()
    assert len(train) == 60000 and len(test) == 10000
    assert tuple(train.data.shape[1:]) == (28, 28)
    assert train.targets.bincount().tolist()[:3] == [5923, 6742, 5958]


@needs_data
def test_load_mnist_rebuilds_overwritten_labels(tmp_path, monkeypatch):
    """Issue: overwritten unpacked labels in the cache used to load silently."""
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    train, _ = data.load_mnist()
    labels = tmp_path / "MNIST" / "raw" / "train-labels-idx1-ubyte"
    raw = bytearray(labels.read_bytes())
    raw[8:] = bytes(len(raw) - 8)                        # every label overwritten with 0
    labels.write_bytes(bytes(raw))
    again, _ = data.load_mnist()
    assert again.targets.bincount().tolist()[:3] == [5923, 6742, 5958]
    labels.write_bytes(bytes(raw[:1000]))               # a truncated copy
    again, _ = data.load_mnist()
    assert len(again) == 60000
