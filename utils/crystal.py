"""Crystal helpers of notebook 09 (CrystalGAN): the Pd-H / Ni-H data as ase.Atoms, the fixed-size tensor
representation, first-neighbour distances with periodic boundaries (ASE), constraint windows (the paper's one, or
one per pair type), novelty, and POSCAR/CIF writing.

What a student must learn (the cross-domain GAN, feature transfer, the differentiable geometric-constraint loss)
is written out in notebook 09. This module holds the plumbing: reading the MATLAB cell arrays of Nouira et al.
through ``utils.data``, turning a structure into a tensor and back, and the evaluation, which never looks at the
training losses: it uses ASE's neighbour list on the decoded ``ase.Atoms``.
"""
from __future__ import annotations

import contextlib
import glob
from collections import Counter
from pathlib import Path

import numpy as np

from . import data
from ._checks import array, finite, number, whole
from .errors import DataError, SettingError

#: the four slots of the paper's tensor: lattice, hydrogen, first metal, second metal
SLOTS = ("lattice", "H", "Pd", "Ni")
SPECIES = ("H", "Pd", "Ni")
#: largest number of atoms of one species in either data set (Pd6H18 has 18 H); every slot is padded to it
N_MAX = 18
#: the paper's first-neighbour window, in angstrom (Nouira et al. 2019)
D_MIN, D_MAX = 1.8, 3.0
#: pair types whose first-neighbour distance is constrained: a metal's nearest metal, a hydrogen's nearest hydrogen
PAIR_TYPES = ("Pd-Pd", "Ni-Ni", "Pd-Ni", "H-H")
#: Switendick's criterion: in metal hydrides two H atoms are not closer than about 2.1 angstrom
#: (Switendick 1979, Z. Phys. Chem. N. F. 117, 89; known exceptions exist, e.g. RNiInH1.333)
D_HH_SWITENDICK = 2.1

_DIVERGED = "a generator whose training diverged gives NaN; lower its learning rate"
_FILES = {"PdH": ("crystalgan/PdH_dataset.mat", "Pd_POSCAR_data"),
          "NiH": ("crystalgan/NiH_dataset.mat", "Ni_POSCAR_data")}


# ----------------------------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------------------------
def _n_atoms(block) -> int:
    """Rows of one cell of the .mat file; a uint8 block of zeros is the 'no atoms' placeholder."""
    block = np.asarray(block)
    if block.dtype == np.uint8 and not block.any():
        return 0
    return len(block)


def load_domain(name: str):
    """The 35 structures of one domain, ``"PdH"`` or ``"NiH"``, as a list of periodic ``ase.Atoms``.

    Atoms are ordered H, then Pd, then Ni (the slots of the tensor); positions are Cartesian, in angstrom.
    """
    from ase import Atoms
    from scipy.io import loadmat

    if name not in _FILES:
        raise SettingError(f"unknown domain {name!r}: use 'PdH' or 'NiH'")
    relpath, key = _FILES[name]
    cells = loadmat(data.path(relpath))[key]
    if cells.shape != (35, 4):
        raise DataError(f"{relpath}: expected a 35 x 4 cell array, got {cells.shape}")
    out = []
    for lattice, *blocks in cells:
        symbols, positions = [], []
        for sym, block in zip(SPECIES, blocks):
            n = _n_atoms(block)
            symbols += [sym] * n
            positions += [np.asarray(block, dtype=float)[:n]]
        out.append(Atoms(symbols, positions=np.concatenate(positions), cell=np.asarray(lattice, float), pbc=True))
    return out


def _atoms(atoms, name="atoms"):
    """``atoms`` unchanged if it is an ``ase.Atoms``, else a clear message."""
    from ase import Atoms

    if not isinstance(atoms, Atoms):
        raise SettingError(f"{name} must be a structure (ase.Atoms), got {type(atoms).__name__}: a tensor is decoded "
                           "with crystal.from_tensor")
    return atoms


def formula(atoms) -> str:
    """Composition as Pd, Ni, H counts (metals first, as chemists write hydrides): 'Pd2Ni2H4'."""
    c = Counter(_atoms(atoms).get_chemical_symbols())
    return "".join(f"{s}{c[s]}" for s in ("Pd", "Ni", "H") if c[s]) or "(empty)"


def counts(atoms) -> dict:
    """Number of atoms of each species, {'H': n, 'Pd': n, 'Ni': n}."""
    c = Counter(_atoms(atoms).get_chemical_symbols())
    return {s: c[s] for s in SPECIES}


# ----------------------------------------------------------------------------------------------
# tensor representation
# ----------------------------------------------------------------------------------------------
def to_tensor(atoms, n_max: int = N_MAX) -> np.ndarray:
    """The paper's fixed-size tensor of one structure, shape (4, n_max, 4), float32.

    Slot 0: the three lattice vectors (rows 0-2); slot 1: H; slot 2: Pd; slot 3: Ni. Each row is (x, y, z, flag):
    Cartesian angstrom and an occupancy flag 1 for a real row, 0 for padding (the paper pads with zeros only;
    the flag tells an atom at the origin from padding). A species that is absent is an empty slot, the
    'complexity augmentation' placeholder.
    """
    n_max = whole("n_max", n_max, 3)
    finite("the cell and positions of atoms", np.vstack([_atoms(atoms).cell.array, atoms.positions]))
    t = np.zeros((4, n_max, 4), dtype=np.float32)
    t[0, :3, :3] = atoms.cell.array
    t[0, :3, 3] = 1
    symbols = np.array(atoms.get_chemical_symbols())
    for k, sym in enumerate(SPECIES, start=1):
        pos = atoms.positions[symbols == sym]
        if len(pos) > n_max:
            raise SettingError(f"{len(pos)} {sym} atoms do not fit in a slot of {n_max} rows: use n_max >= {len(pos)}")
        t[k, :len(pos), :3] = pos
        t[k, :len(pos), 3] = 1
    return t


def from_tensor(t, threshold: float = 0.5):
    """Decode one tensor (4, n_max, 4) into a periodic ``ase.Atoms``: rows whose flag is above ``threshold``.
    A tensor with NaN or infinity (a generator that diverged) is refused."""
    from ase import Atoms

    threshold = number("threshold", threshold)
    t = array("the structure tensor", t, dtype=float, hint=_DIVERGED)
    if t.ndim != 3 or t.shape[0] != 4 or t.shape[2] != 4:
        raise SettingError(f"a structure tensor must have shape (4, n_max, 4), got {t.shape}")
    symbols, positions = [], []
    for k, sym in enumerate(SPECIES, start=1):
        keep = t[k, :, 3] > threshold
        symbols += [sym] * int(keep.sum())
        positions.append(t[k, keep, :3])
    return Atoms(symbols, positions=np.concatenate(positions), cell=t[0, :3, :3], pbc=True)


def stack(structures, n_max: int = N_MAX) -> np.ndarray:
    """Tensors of a list of structures, shape (n, 4, n_max, 4)."""
    if isinstance(structures, (str, bytes)) or not hasattr(structures, "__len__") or not len(structures):
        raise SettingError(f"stack needs a non-empty list of structures (ase.Atoms), got {structures!r:.60}")
    return np.stack([to_tensor(a, n_max) for a in structures])


def unstack(tensors, threshold: float = 0.5) -> list:
    """Decode a batch of tensors (n, 4, n_max, 4) into a list of ``ase.Atoms``."""
    tensors = array("the tensors", tensors, hint=_DIVERGED)
    if tensors.ndim != 4:
        raise SettingError(f"unstack decodes a batch of tensors (n, 4, n_max, 4), got shape {tensors.shape}: "
                           "for one structure use crystal.from_tensor")
    return [from_tensor(t, threshold) for t in tensors]


# ----------------------------------------------------------------------------------------------
# geometry (evaluation, independent of any training loss)
# ----------------------------------------------------------------------------------------------
def _cutoff(cutoff) -> float:
    """A neighbour-list cutoff in angstrom: beyond 20 A the lists grow large and say nothing about first neighbours."""
    return number("cutoff", cutoff, 0, 20, lo_open=True, hint="a cutoff in angstrom such as 5")


def is_sane(atoms, min_length: float = 1.0, max_length: float = 30.0) -> bool:
    """A cell that ASE can work with: finite, lattice vectors between ``min_length`` and ``max_length`` angstrom,
    and not flattened (volume at least 10 % of the product of the lengths)."""
    cell = atoms.cell.array
    if not (np.isfinite(cell).all() and np.isfinite(atoms.positions).all()):
        return False
    lengths = np.linalg.norm(cell, axis=1)
    return bool(lengths.min() >= min_length and lengths.max() <= max_length
                and abs(np.linalg.det(cell)) >= 0.1 * lengths.prod())


def first_neighbours(atoms, cutoff: float = 5.0) -> dict:
    """First-neighbour distances (angstrom) by pair type, with periodic boundaries (ASE's neighbour list).

    For every metal atom, the distance to its nearest metal atom (Pd or Ni, periodic images included), filed
    under 'Pd-Pd', 'Pd-Ni' or 'Ni-Ni'; for every H atom, the distance to its nearest H, under 'H-H'.
    An atom with no partner within ``cutoff`` gets ``inf``. Returns {pair type: array of distances}.
    """
    from ase.neighborlist import neighbor_list

    cutoff = _cutoff(cutoff)
    out = {p: [] for p in PAIR_TYPES}
    _atoms(atoms)
    if len(atoms) == 0:
        return {p: np.array(v) for p, v in out.items()}
    sym = np.array(atoms.get_chemical_symbols())
    i, j, d = neighbor_list("ijd", atoms, cutoff)
    metal = np.isin(sym, ("Pd", "Ni"))
    for a in range(len(atoms)):
        same_class = (metal[j] == metal[a]) & (i == a)
        if not metal[a]:
            same_class &= sym[j] == "H"
        if same_class.any():
            k = np.argmin(np.where(same_class, d, np.inf))
            dist, partner = d[k], sym[j[k]]
        else:
            dist, partner = np.inf, sym[a]  # nothing of the right kind within the cutoff
        if metal[a]:
            pair = "-".join(sorted((sym[a], partner), key=("Pd", "Ni").index))
        else:
            pair = "H-H"
        out[pair].append(dist)
    return {p: np.array(v, dtype=float) for p, v in out.items()}


def _windows(windows, d_min, d_max) -> dict:
    """{pair type: (low, high)} in angstrom: the one window [d_min, d_max] for every pair type, replaced by
    ``windows[pair]`` where given. ``high`` may be ``float('inf')`` (a lower bound only, as Switendick's rule)."""
    d_min, d_max = number("d_min", d_min, 0), number("d_max", d_max, 0)
    if d_min >= d_max:
        raise SettingError(f"the window needs d_min < d_max, got d_min={d_min} and d_max={d_max} (angstrom)")
    out = {p: (d_min, d_max) for p in PAIR_TYPES}
    if windows is None:
        return out
    if not isinstance(windows, dict) or not set(windows) <= set(PAIR_TYPES):
        raise SettingError(f"windows must be a dict whose keys are among {PAIR_TYPES}, got {windows!r:.80}")
    for p, w in windows.items():
        if not (isinstance(w, (tuple, list)) and len(w) == 2):
            raise SettingError(f"windows[{p!r}] must be a pair (low, high) in angstrom, got {w!r:.60}")
        low = number(f"the low end of windows[{p!r}]", w[0], 0)
        high = float("inf") if w[1] == float("inf") else number(f"the high end of windows[{p!r}]", w[1], 0)
        if low >= high:
            raise SettingError(f"windows[{p!r}] needs low < high, got ({low}, {high}) (angstrom)")
        out[p] = (low, high)
    return out


def constraint_table(structures, d_min: float = D_MIN, d_max: float = D_MAX, windows: dict | None = None):
    """One row per structure: for each pair type, True/False (all its first-neighbour distances within
    [d_min, d_max]) or NaN (pair type absent); 'all' (every constraint holds and the cell is sane),
    'ternary' (Pd, Ni and H all present), composition, minimum interatomic distance.

    ``windows``, {pair type: (low, high)}, gives some pair types their own window instead of [d_min, d_max]
    (for example the metals' own first-neighbour distances, or ``(D_HH_SWITENDICK, inf)`` for H-H)."""
    import pandas as pd

    bounds = _windows(windows, d_min, d_max)
    rows = []
    for a in structures:
        row = {"formula": formula(a), "n_atoms": len(a)}
        sane = is_sane(a)
        fn = first_neighbours(a) if sane else {p: np.array([]) for p in PAIR_TYPES}
        for p in PAIR_TYPES:
            low, high = bounds[p]
            row[p] = bool(((fn[p] >= low) & (fn[p] <= high)).all()) if len(fn[p]) else np.nan
        c = counts(a)
        row["ternary"] = all(c[s] > 0 for s in SPECIES)
        row["all"] = sane and len(a) > 0 and all(row[p] is not False for p in PAIR_TYPES if row[p] == row[p])
        row["min_distance"] = min_distance(a) if sane else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def metal_hydrogen_distances(atoms, cutoff: float = 5.0) -> np.ndarray:
    """For every H atom, the distance (angstrom) to its nearest metal atom, periodic images included (``inf`` if
    none within ``cutoff``). The paper's constraint leaves this distance free, so it is an independent yardstick
    (about 2.0 A in rocksalt PdH, 1.86 A in NiH)."""
    from ase.neighborlist import neighbor_list

    cutoff = _cutoff(cutoff)
    sym = np.array(_atoms(atoms).get_chemical_symbols())
    is_h = sym == "H"
    if not is_h.any() or is_h.all():
        return np.full(int(is_h.sum()), np.inf)
    i, j, d = neighbor_list("ijd", atoms, cutoff)
    keep = is_h[i] & ~is_h[j]
    best = np.full(len(atoms), np.inf)
    np.minimum.at(best, i[keep], d[keep])
    return best[is_h]


def constraint_shares(table) -> dict:
    """Share of structures satisfying each pair type's constraint (among those that have the pair type),
    every constraint ('all'), and share of ternaries ('ternary')."""
    out = {p: float(table[p].dropna().astype(bool).mean()) if table[p].notna().any() else float("nan")
           for p in PAIR_TYPES}
    out["all"] = float(table["all"].mean())
    out["ternary"] = float(table["ternary"].mean())
    return out


def min_distance(atoms, cutoff: float = 6.0) -> float:
    """Smallest interatomic distance in angstrom, any species, periodic images included (inf if none < cutoff)."""
    from ase.neighborlist import neighbor_list

    cutoff = _cutoff(cutoff)
    if len(_atoms(atoms)) == 0:
        return float("inf")
    d = neighbor_list("d", atoms, cutoff)
    return float(d.min()) if len(d) else float("inf")


def fingerprint(atoms, cutoff: float = 4.0) -> tuple:
    """A species-blind description of a structure, for spotting copies: (number of metal atoms, number of H,
    sorted lattice-vector lengths, sorted first-neighbour distance of every atom to any other atom). A cell that
    is not sane (:func:`is_sane`: a flattened or degenerate one, whose neighbour list would be huge) gets no
    neighbour distances (all ``inf``), so it is never a copy of a real structure."""
    from ase.neighborlist import neighbor_list

    cutoff = _cutoff(cutoff)
    c = counts(atoms)
    first = np.full(len(atoms), np.inf)
    if len(atoms) and is_sane(atoms):
        i, d = neighbor_list("id", atoms, cutoff)
        np.minimum.at(first, i, d)
    return (c["Pd"] + c["Ni"], c["H"], np.sort(atoms.cell.lengths()), np.sort(first))


def is_copy(atoms, references, tol: float = 0.1) -> bool:
    """True when ``atoms`` repeats one of ``references`` up to the metal's name: same numbers of metal and H
    atoms, lattice lengths and per-atom first-neighbour distances within ``tol`` angstrom (largest difference).
    A Pd-Ni-H cell that is a training Pd-H cell with some Pd renamed Ni counts as a copy.
    ``references``: structures, or their fingerprints (faster when testing many structures)."""
    tol = number("tol", tol, 0)
    n_m, n_h, lengths, first = fingerprint(atoms)
    for ref in references:
        r_m, r_h, r_len, r_first = ref if isinstance(ref, tuple) else fingerprint(ref)
        if (n_m, n_h) != (r_m, r_h):
            continue
        fin = np.isfinite(first) & np.isfinite(r_first)
        if (np.abs(lengths - r_len).max() < tol and (np.isfinite(first) == np.isfinite(r_first)).all()
                and (not fin.any() or np.abs(first[fin] - r_first[fin]).max() < tol)):
            return True
    return False


def novel_share(structures, references, tol: float = 0.1) -> float:
    """Share of ``structures`` that are not copies of any of ``references`` (see :func:`is_copy`)."""
    refs = [fingerprint(r) for r in references]
    return float(np.mean([not is_copy(a, refs, tol) for a in structures])) if len(structures) else float("nan")


# ----------------------------------------------------------------------------------------------
# files and pictures
# ----------------------------------------------------------------------------------------------
def write_structures(structures, folder, prefix: str = "gen") -> list[Path]:
    """Write each structure as VASP POSCAR (``<prefix>_NNN.POSCAR``) and CIF (``<prefix>_NNN.cif``) with
    ``ase.io.write``; returns the paths. Files of an earlier call with the same ``prefix`` in ``folder`` are removed
    first, so the folder holds exactly these structures. Use a temporary or cache folder (for example
    ``utils.data.cache_dir() / "crystalgan"``): generated files are not committed."""
    from ase.io import write

    structures = [_atoms(a, "each structure") for a in structures]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for ext in ("POSCAR", "cif"):
        for old in folder.glob(f"{glob.escape(prefix)}_[0-9][0-9][0-9].{ext}"):
            old.unlink()
    paths = []
    for n, a in enumerate(structures):
        p = folder / f"{prefix}_{n:03d}.POSCAR"
        write(p, a, format="vasp", direct=True, sort=False)
        c = folder / f"{prefix}_{n:03d}.cif"
        write(c, a, format="cif")
        paths += [p, c]
    return paths


#: colours of the species in the course's drawings
COLORS = {"H": "#f2f2f2", "Pd": "#1f77b4", "Ni": "#2ca02c"}


def draw(ax, atoms, title: str = "", rotation: str = "10x,-10y,0z", repeat=(1, 1, 1)):
    """Draw a structure (unit cell and atoms; H white, Pd blue, Ni green) with ase.visualize.plot.plot_atoms."""
    from ase.visualize.plot import plot_atoms

    a = atoms.repeat(repeat) if repeat != (1, 1, 1) else atoms
    colors = [COLORS[s] for s in a.get_chemical_symbols()]
    radii = [0.3 if s == "H" else 0.6 for s in a.get_chemical_symbols()]
    plot_atoms(a, ax, rotation=rotation, colors=colors, radii=radii, show_unit_cell=2)
    ax.set_title(title or formula(atoms), fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    return ax


# ----------------------------------------------------------------------------------------------
# energies: relaxing with a universal machine-learned interatomic potential (CHGNet)
# ----------------------------------------------------------------------------------------------
_CALCULATOR = None


@contextlib.contextmanager
def _first_derivatives_only():
    """Within: ``torch.autograd.grad`` builds no graph of the gradient it returns (``create_graph=False``).

    CHGNet 0.4 takes its forces and stress with ``create_graph=True``, which only training needs (a loss on the
    forces is differentiated once more); at inference that graph is kept for nothing and, on a dense cell, is most of
    the memory: 1.05 GB for one energy, forces and stress of Ni6H18 (24 atoms), 0.31 GB without it, the same
    forces to 1e-5 eV/A. Other machine-learned potentials build it in training only (SchNetPack, DeePMD-kit)."""
    import torch

    grad = torch.autograd.grad

    def first_only(*args, **kwargs):
        kwargs["create_graph"] = False
        return grad(*args, **kwargs)

    torch.autograd.grad = first_only
    try:
        yield
    finally:
        torch.autograd.grad = grad


def chgnet_calculator():
    """CHGNet's pretrained universal potential (Deng et al., Nat. Mach. Intell. 5, 1031 (2023); its weights ship
    in the ``chgnet`` wheel, so no download) as an ASE calculator on the CPU, for inference only (it keeps no graph
    of its forces: a third of the memory); loaded once per kernel."""
    global _CALCULATOR
    if _CALCULATOR is None:
        import io
        import warnings

        try:
            from chgnet.model import CHGNet
            from chgnet.model.dynamics import CHGNetCalculator
        except ImportError as exc:
            raise SettingError("CHGNet is not installed: run `pip install chgnet` (the course's requirements.txt "
                               "lists it), then restart the kernel") from exc

        class InferenceCalculator(CHGNetCalculator):
            def calculate(self, *args, **kwargs):
                with _first_derivatives_only():
                    return super().calculate(*args, **kwargs)

        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            model = CHGNet.load(verbose=False, use_device="cpu")
            _CALCULATOR = InferenceCalculator(model, use_device="cpu", on_isolated_atoms="ignore")
    return _CALCULATOR


def _cell_filter(atoms):
    """Positions and cell relaxed together: ASE's FrechetCellFilter (ASE >= 3.23), else ExpCellFilter."""
    try:
        from ase.filters import FrechetCellFilter as CellFilter
    except ImportError:  # older ASE
        from ase.constraints import ExpCellFilter as CellFilter
    return CellFilter(atoms)


def rms_displacement(before, after) -> float:
    """Root-mean-square distance (angstrom) that the atoms moved *relative to the lattice*: fractional
    displacements, wrapped to the nearest periodic image, expressed in the final cell. A uniform expansion or
    shear of the cell moves no atom by this measure (the cell's change is reported separately)."""
    df = after.get_scaled_positions(wrap=False) - before.get_scaled_positions(wrap=False)
    df -= np.round(df)
    return float(np.sqrt(((df @ after.cell.array) ** 2).sum(1).mean())) if len(after) else float("nan")


#: :func:`relax` stops a structure whose volume falls below this share of its starting volume: it is collapsing (a
#: cell of hydrogen alone does, towards H2 molecules), no longer near where it started, and its neighbour lists, so
#: the potential's memory, would grow without bound.
MIN_VOLUME_SHARE = 0.5
#: :func:`relax` refuses a structure denser than this (angstrom^3 per atom): no metal hydride comes near it (PdH has
#: 8.6, NiH 6.5), and the potential's neighbour lists would take gigabytes of memory.
MIN_VOLUME_PER_ATOM = 3.0


class _Collapsed(Exception):
    """Raised by :func:`relax`'s watch to stop a collapsing cell."""


def _refusal(atoms) -> str | None:
    """Why :func:`relax` refuses ``atoms`` (a sentence), or None when it accepts them."""
    if not (len(atoms) and is_sane(atoms)):
        return f"{formula(atoms)}: only a non-empty structure with a sane cell (crystal.is_sane) can be relaxed"
    if atoms.get_volume() / len(atoms) < MIN_VOLUME_PER_ATOM:
        return (f"{formula(atoms)} packs {len(atoms)} atoms into {atoms.get_volume():.1f} A^3 "
                f"({atoms.get_volume() / len(atoms):.1f} A^3 per atom, below MIN_VOLUME_PER_ATOM = "
                f"{MIN_VOLUME_PER_ATOM}): denser than any metal hydride, so it is not relaxed")
    return None


def relaxable(atoms) -> bool:
    """Whether :func:`relax` accepts ``atoms``: a non-empty structure with a sane cell (:func:`is_sane`) and at
    least :data:`MIN_VOLUME_PER_ATOM` angstrom^3 per atom."""
    return _refusal(_atoms(atoms)) is None


def relax(atoms, calc=None, fmax: float = 0.05, steps_fixed: int = 100, steps_cell: int = 200,
          relax_cell: bool = True) -> dict:
    """Relax a copy of ``atoms`` with ASE's FIRE optimiser: first the positions in the fixed cell (at most
    ``steps_fixed`` steps), then positions and cell together (at most ``steps_cell`` steps), each until every
    force (and stress component, times the volume, per atom) is below ``fmax`` eV/angstrom.

    ``calc``: an ASE calculator (default :func:`chgnet_calculator`). Returns a dict: the relaxed ``atoms``;
    ``e_start`` and ``energy``, potential energy per atom (eV/atom) before and after; ``rms`` (angstrom, see
    :func:`rms_displacement`); ``volume_change`` (relative); ``steps``; ``converged`` (both stages reached
    ``fmax`` within their step limits); ``collapsed`` (stopped because the volume fell below
    :data:`MIN_VOLUME_SHARE` of the start); ``fmax_end`` (largest remaining force, eV/angstrom)."""
    import warnings

    from ase.optimize import FIRE

    fmax = number("fmax", fmax, 0, lo_open=True, hint="a force in eV/angstrom such as 0.05")
    steps_fixed, steps_cell = whole("steps_fixed", steps_fixed, 0), whole("steps_cell", steps_cell, 0)
    start = _atoms(atoms).copy()
    refusal = _refusal(start)
    if refusal:
        raise SettingError(refusal)
    a = start.copy()
    a.calc = calc if calc is not None else chgnet_calculator()
    n, v0 = len(a), start.get_volume()

    def watch():   # a cell that collapses (hydrogen alone shrinks towards H2 molecules) is stopped
        if a.get_volume() < MIN_VOLUME_SHARE * v0:
            raise _Collapsed

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e_start = a.get_potential_energy() / n
        converged, collapsed, total = True, False, 0
        for stage, limit in (("fixed", steps_fixed), ("cell", steps_cell if relax_cell else 0)):
            if limit == 0 or collapsed:
                continue
            opt = FIRE(a if stage == "fixed" else _cell_filter(a), logfile=None)
            opt.attach(watch, interval=1)
            try:
                converged = bool(opt.run(fmax=fmax, steps=limit)) and converged
            except _Collapsed:
                converged, collapsed = False, True
            total += opt.nsteps
        forces = a.get_forces()
        energy = a.get_potential_energy() / n
    return {"atoms": a, "e_start": float(e_start), "energy": float(energy), "rms": rms_displacement(start, a),
            "volume_change": float(a.get_volume() / v0 - 1), "steps": int(total), "converged": converged,
            "collapsed": collapsed, "fmax_end": float(np.linalg.norm(forces, axis=1).max())}


def reference_phases(calc=None, fmax: float = 0.02, steps: int = 200) -> dict:
    """The reference phases of the Pd-Ni-H system, each relaxed by the same potential: fcc Pd, fcc Ni, the H2
    molecule (in a 10 angstrom box, so that it sees no image), and rocksalt PdH and NiH (H in every octahedral
    hole of the fcc metal). Returns {name: {"counts": {...}, "energy": eV per formula unit, "atoms": relaxed}}."""
    from ase import Atoms
    from ase.build import bulk

    start = {"Pd": bulk("Pd", "fcc", a=3.89), "Ni": bulk("Ni", "fcc", a=3.52),
             "H2": Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.74]], cell=[10, 10, 10], pbc=True),
             "PdH": bulk("PdH", "rocksalt", a=4.09), "NiH": bulk("NiH", "rocksalt", a=3.73)}
    out = {}
    for name, atoms in start.items():
        r = relax(atoms, calc, fmax=fmax, steps_fixed=steps, steps_cell=steps, relax_cell=name != "H2")
        out[name] = {"counts": counts(r["atoms"]), "energy": r["energy"] * len(atoms), "atoms": r["atoms"]}
    return out


def formation_energy(atoms, energy: float, references: dict) -> float:
    """Energy per atom (eV/atom) of a structure above the lowest-energy mix of ``references`` with the same
    composition: its formation energy against them, negative if it is more stable than that mix.

    ``energy`` is the structure's energy per atom; ``references`` {name: {"counts": {...}, "energy": eV per
    formula unit}} as :func:`reference_phases` gives (a subset of it: with only Pd, Ni and H2, the formation
    energy against the elements; adding PdH and NiH, against the binary hydrides too). The best mix is a small
    linear programme: minimise the total reference energy subject to the same numbers of Pd, Ni and H atoms."""
    from scipy.optimize import linprog

    c = counts(atoms) if not isinstance(atoms, dict) else atoms
    n = sum(c.values())
    if n == 0:
        raise SettingError("an empty structure has no formation energy")
    names = list(references)
    A = np.array([[references[k]["counts"][s] for k in names] for s in SPECIES], dtype=float)
    E = np.array([references[k]["energy"] for k in names], dtype=float)
    best = linprog(E, A_eq=A, b_eq=[c[s] for s in SPECIES], bounds=(0, None), method="highs")
    if not best.success:
        raise SettingError(f"the references {names} cannot make the composition {c}: add a phase with each species")
    return float(number("energy", energy) - best.fun / n)
