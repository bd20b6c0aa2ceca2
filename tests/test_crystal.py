"""Unit tests of utils.crystal (notebook 09's plumbing) and of the exercise checks' acceptance of right answers."""
from pathlib import Path

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import bulk

from utils import SettingError, crystal
from utils.exercises.ex09 import (check_compositions_seen, check_fcc_first_neighbour, check_fluorite_hh,
                                  check_fractional, check_generator_params, check_lonely_atom_loss,
                                  check_min_image_distance)


def _rocksalt_pdh(a=4.0):
    atoms = bulk("Pd", "fcc", a=a, cubic=True)
    h = atoms.copy()
    h.set_chemical_symbols(["H"] * 4)
    h.positions += [a / 2, 0, 0]
    return h + atoms


def test_tensor_round_trip_is_exact():
    atoms = _rocksalt_pdh()
    t = crystal.to_tensor(atoms)
    assert t.shape == (4, crystal.N_MAX, 4)
    assert t[3, :, 3].sum() == 0                     # empty Ni slot: the placeholder
    back = crystal.from_tensor(t)
    assert crystal.formula(back) == "Pd4H4"
    assert np.allclose(back.positions, atoms.positions, atol=1e-5) and np.allclose(back.cell, atoms.cell)
    assert np.allclose(crystal.to_tensor(back), t)
    with pytest.raises(SettingError):
        crystal.from_tensor(t[0])


def test_too_many_atoms_is_a_clear_error():
    with pytest.raises(SettingError):
        crystal.to_tensor(Atoms("H20", positions=np.random.rand(20, 3) * 5, cell=[5, 5, 5], pbc=True))


def test_first_neighbours_use_periodic_images():
    atoms = _rocksalt_pdh(4.0)
    fn = crystal.first_neighbours(atoms)
    assert np.allclose(fn["Pd-Pd"], 4.0 / np.sqrt(2))
    assert np.allclose(fn["H-H"], 4.0 / np.sqrt(2))
    one = Atoms("Pd", positions=[[0, 0, 0]], cell=[2.5, 2.5, 2.5], pbc=True)   # only periodic images
    assert np.allclose(crystal.first_neighbours(one)["Pd-Pd"], 2.5)
    alloy = atoms.copy()
    alloy.symbols[4] = "Ni"
    fn = crystal.first_neighbours(alloy)
    assert len(fn["Pd-Ni"]) >= 1 and len(fn["Pd-Pd"]) + len(fn["Pd-Ni"]) + len(fn["Ni-Ni"]) == 4


def test_constraint_table_flags_violations():
    good, squeezed = _rocksalt_pdh(4.0), _rocksalt_pdh(2.2)     # 2.2/sqrt(2) = 1.56 A < 1.8 A
    t = crystal.constraint_table([good, squeezed])
    assert t["all"].tolist() == [True, False]
    s = crystal.constraint_shares(t)
    assert s["all"] == 0.5 and s["ternary"] == 0.0
    assert np.isclose(t["min_distance"][0], 2.0)


def test_is_copy_ignores_metal_names_but_not_geometry():
    ref = _rocksalt_pdh(4.0)
    renamed = ref.copy()
    renamed.symbols[4] = "Ni"
    assert crystal.is_copy(renamed, [ref])
    assert not crystal.is_copy(_rocksalt_pdh(4.5), [ref])


def test_write_structures_poscar_and_cif(tmp_path):
    from ase.io import read

    paths = crystal.write_structures([_rocksalt_pdh()], tmp_path)
    assert [p.suffix for p in paths] == [".POSCAR", ".cif"]
    back = read(paths[0], format="vasp")
    assert crystal.formula(back) == "Pd4H4" and np.allclose(back.cell, 4.0 * np.eye(3))


def test_exercise_checks_accept_right_answers(monkeypatch):
    monkeypatch.setenv("COURSE_STRICT", "1")      # a wrong answer raises instead of printing
    check_fractional(lambda T: T[:, 1:, :, :3] @ torch.linalg.inv(T[:, 0, :3, :3])[:, None])

    def mid(fa, fb, L):
        df = np.asarray(fb) - np.asarray(fa)
        return float(np.linalg.norm((df - np.round(df)) @ L))
    check_min_image_distance(mid)
    check_fcc_first_neighbour(lambda a: a / np.sqrt(2))
    check_generator_params(185_771)
    check_lonely_atom_loss(0.25)
    check_fluorite_hh(4.07 / 2)
    check_compositions_seen("b")


def test_tensor_decoding_refuses_nan_and_accepts_torch():
    t = crystal.to_tensor(_rocksalt_pdh())
    assert crystal.formula(crystal.from_tensor(torch.tensor(t, requires_grad=True))) == "Pd4H4"
    assert len(crystal.unstack(torch.tensor(np.stack([t, t])))) == 2
    t[1, 17, 2] = np.nan                                  # NaN in a padding row is still a diverged generator
    with pytest.raises(SettingError, match="NaN"):
        crystal.from_tensor(t)
    with pytest.raises(SettingError, match="NaN"):
        crystal.unstack(t[None])
    with pytest.raises(SettingError, match="non-empty"):
        crystal.stack([])


def test_write_structures_replaces_an_earlier_run(tmp_path):
    atoms = _rocksalt_pdh()
    assert len(crystal.write_structures([atoms] * 3, tmp_path, prefix="run")) == 6
    (tmp_path / "notes.txt").write_text("kept")
    paths = crystal.write_structures([atoms], tmp_path, prefix="run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "run_000.POSCAR", "run_000.cif"]
    assert sorted(paths) == sorted(tmp_path.glob("run_000.*"))


def test_notebook_09_writes_its_files_to_the_cache_not_to_a_leftover_temp_folder():
    """Issue 23, item 9: tempfile.mkdtemp in a cell left a folder behind at every run."""
    import nbformat

    nb = nbformat.read(Path(crystal.__file__).resolve().parent.parent / "notebooks" / "09_crystal_gan.ipynb", 4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "mkdtemp" not in code and "tempfile" not in code
    assert 'out_dir = utils.data.cache_dir() / "crystalgan"' in code


def test_per_pair_windows_are_stricter_than_the_paper_window():
    """Issue 22, item 5: the metals' own first-neighbour distances and Switendick's H-H >= 2.1 A."""
    pdh = _rocksalt_pdh(4.0)                         # Pd-Pd = H-H = 2.83 A
    squeezed = _rocksalt_pdh(3.0)                    # Pd-Pd = H-H = 2.12 A: inside [1.8, 3.0], far below Pd's 2.75 A
    paper = crystal.constraint_table([pdh, squeezed])
    assert paper["all"].tolist() == [True, True]
    real = {"Pd-Pd": (2.48, 3.03), "H-H": (crystal.D_HH_SWITENDICK, float("inf"))}
    t = crystal.constraint_table([pdh, squeezed], windows=real)
    assert t["Pd-Pd"].tolist() == [True, False] and t["H-H"].tolist() == [True, True]
    assert t["all"].tolist() == [True, False]
    far_h = crystal.constraint_table([_rocksalt_pdh(4.5)], windows=real)   # H-H 3.18 A: no upper bound for H-H
    assert far_h["H-H"].tolist() == [True] and far_h["Pd-Pd"].tolist() == [False]
    close_h = crystal.constraint_table([pdh], windows={"H-H": (2.9, float("inf"))})
    assert close_h["H-H"].tolist() == [False] and close_h["Pd-Pd"].tolist() == [True]   # others keep [1.8, 3.0]


@pytest.mark.parametrize("windows, match", [
    ({"Pd-H": (1.0, 2.0)}, "keys"),
    ([(1.0, 2.0)], "dict"),
    ({"H-H": 2.1}, "pair"),
    ({"H-H": (2.5, 2.1)}, "low < high"),
    ({"Pd-Pd": (float("nan"), 3.0)}, "low end"),
    ({"Pd-Pd": (-1.0, 3.0)}, "low end"),
])
def test_bad_windows_get_one_clear_message(windows, match):
    with pytest.raises(SettingError, match=match):
        crystal.constraint_table([_rocksalt_pdh()], windows=windows)


def test_metal_hydrogen_distances():
    d = crystal.metal_hydrogen_distances(_rocksalt_pdh(4.0))       # H on the octahedral site: a / 2
    assert d.shape == (4,) and np.allclose(d, 2.0)
    metal_only = bulk("Pd", "fcc", a=3.89, cubic=True)
    assert crystal.metal_hydrogen_distances(metal_only).shape == (0,)
    h_only = Atoms("H2", positions=[[0, 0, 0], [1, 1, 1]], cell=[4, 4, 4], pbc=True)
    assert np.isinf(crystal.metal_hydrogen_distances(h_only)).all()
    with pytest.raises(SettingError):
        crystal.metal_hydrogen_distances(_rocksalt_pdh(), cutoff=0)


def test_a_strain_capped_per_component_changes_lengths_by_at_most_three_times_the_cap():
    """Notebook 09's generator strains a lattice as L (I + eps), each component of eps in (-0.1, 0.1): a lattice
    vector's length then changes by less than ||eps||_2 <= ||eps||_F < 0.3 of itself (what section 6 states), and
    0.3 is reached along (1, 1, 1) when every component is 0.1, so a 10 % cap on the components is no 10 % cap on
    the lengths."""
    import torch

    torch.manual_seed(0)
    eps = 0.1 * torch.tanh(3 * torch.randn(20_000, 3, 3))
    rows = torch.randn(20_000, 3)
    ratio = (rows[:, None] @ (torch.eye(3) + eps)).squeeze(1).norm(dim=1) / rows.norm(dim=1)
    assert ((ratio - 1).abs() < 0.3).all() and ((ratio - 1).abs() > 0.1).any()
    diagonal = torch.tensor([1.0, 1.0, 1.0]) @ (torch.eye(3) + 0.1 * torch.ones(3, 3))
    assert torch.allclose(diagonal.norm() / torch.tensor(3.0).sqrt(), torch.tensor(1.3))


def test_a_flattened_cell_is_never_a_copy_and_is_fingerprinted_without_a_neighbour_list():
    """A generator can write a nearly flat cell; its neighbour list within 4 A would be enormous (a run of notebook
    09 spent half an hour in one). fingerprint skips what is_sane rejects, and such a cell is no copy."""
    import time

    real = _rocksalt_pdh(4.0)
    flat = real.copy()
    flat.set_cell([[4.0, 0, 0], [0, 4.0, 0], [4.0, 4.0, 0.001]], scale_atoms=True)
    assert not crystal.is_sane(flat)
    t0 = time.perf_counter()
    n_m, n_h, lengths, first = crystal.fingerprint(flat)
    assert time.perf_counter() - t0 < 1.0 and np.isinf(first).all() and (n_m, n_h) == (4, 4)
    assert not crystal.is_copy(flat, [real]) and crystal.novel_share([flat, real], [real]) == 0.5


# --- energies: relaxation, displacement, formation energy (notebook 09, Going further 3) ------------------------
def test_rms_displacement_ignores_uniform_strain_and_periodic_images():
    before = _rocksalt_pdh(4.0)
    strained = before.copy()
    strained.set_cell(before.cell * 1.05, scale_atoms=True)           # a uniform expansion moves no atom
    assert crystal.rms_displacement(before, strained) < 1e-9
    wrapped = before.copy()
    wrapped.positions[0] += [4.0, 0, 0]                                # a periodic image is the same atom
    assert crystal.rms_displacement(before, wrapped) < 1e-9
    moved = before.copy()
    moved.positions[0] += [0.3, 0, 0]                                  # one atom of 8 moved by 0.3 A
    assert np.isclose(crystal.rms_displacement(before, moved), 0.3 / np.sqrt(8))


def test_formation_energy_against_elements_and_hydrides():
    refs = {"Pd": {"counts": {"H": 0, "Pd": 1, "Ni": 0}, "energy": -5.0},
            "Ni": {"counts": {"H": 0, "Pd": 0, "Ni": 1}, "energy": -5.5},
            "H2": {"counts": {"H": 2, "Pd": 0, "Ni": 0}, "energy": -6.8},
            "PdH": {"counts": {"H": 1, "Pd": 1, "Ni": 0}, "energy": -8.6}}
    elements = {k: refs[k] for k in ("Pd", "Ni", "H2")}
    pdh = _rocksalt_pdh()                                              # Pd4H4
    # against the elements: (E - 4 x -5.0 - 2 x -6.8) / 8
    assert np.isclose(crystal.formation_energy(pdh, -4.3, elements), (-4.3 * 8 + 20 + 13.6) / 8)
    # PdH is below Pd + H2/2 (-8.6 < -8.4): the best mix is 4 PdH
    assert np.isclose(crystal.formation_energy(pdh, -4.3, refs), (-4.3 * 8 + 4 * 8.6) / 8)
    assert np.isclose(crystal.formation_energy({"H": 0, "Pd": 1, "Ni": 1}, -5.25, refs), 0)
    with pytest.raises(SettingError):
        crystal.formation_energy(pdh, -4.3, {"Pd": refs["Pd"]})     # no phase with H


def test_relax_lowers_the_energy_and_refuses_a_broken_cell():
    from ase.calculators.emt import EMT

    squeezed = bulk("Pd", "fcc", a=3.7, cubic=True)                  # EMT's Pd minimum is near 3.88 A
    squeezed.positions[0] += [0.1, 0.05, 0]
    r = crystal.relax(squeezed, EMT(), fmax=0.01, steps_fixed=100, steps_cell=200)
    assert r["energy"] < r["e_start"] and r["converged"] and r["fmax_end"] < 0.01
    assert r["volume_change"] > 0.1 and np.isclose(r["atoms"].cell.lengths()[0], 3.88, atol=0.02)
    assert 0.01 < r["rms"] < 0.1 and squeezed.cell.lengths()[0] == 3.7   # the input is left as it was
    flat = Atoms("Pd2", positions=[[0, 0, 0], [1, 1, 0]], cell=[[3, 0, 0], [0, 3, 0], [3, 3, 0.01]], pbc=True)
    with pytest.raises(SettingError):
        crystal.relax(flat, EMT())
    dense = Atoms("Pd2H12", scaled_positions=np.random.default_rng(0).random((14, 3)), cell=[3, 3, 3], pbc=True)
    with pytest.raises(SettingError, match="denser than any metal hydride"):   # 1.9 A^3 per atom (a training cell)
        crystal.relax(dense, EMT())
    # relaxable says beforehand what relax accepts (09 picks its structures with it)
    assert crystal.relaxable(squeezed) and not crystal.relaxable(flat) and not crystal.relaxable(dense)
    assert not crystal.relaxable(Atoms(cell=[3, 3, 3], pbc=True))                 # empty
    edge = Atoms("Pd", cell=np.eye(3) * (1.01 * crystal.MIN_VOLUME_PER_ATOM) ** (1 / 3), pbc=True)   # just above
    assert crystal.relaxable(edge) and not crystal.relaxable(Atoms("Pd2", cell=edge.cell, pbc=True))


def test_relax_stops_a_collapsing_cell(monkeypatch):
    """A cell whose volume falls below MIN_VOLUME_SHARE of the start is stopped and flagged (its neighbour lists,
    so the potential's memory, would grow without bound); a cell that shrinks less is relaxed as usual."""
    from ase.calculators.emt import EMT

    stretched = bulk("Pd", "fcc", a=4.3, cubic=True)                 # EMT's minimum near 3.88 A: 0.74 of the volume
    r = crystal.relax(stretched, EMT(), fmax=0.01, steps_fixed=0, steps_cell=300)
    assert not r["collapsed"] and r["converged"] and r["volume_change"] < -0.2
    monkeypatch.setattr(crystal, "MIN_VOLUME_SHARE", 0.9)              # now the same shrinking counts as a collapse
    r = crystal.relax(stretched, EMT(), fmax=0.01, steps_fixed=0, steps_cell=300)
    assert r["collapsed"] and not r["converged"] and -0.15 < r["volume_change"] < -0.09
    assert r["energy"] < r["e_start"]


def test_chgnet_loads_offline_and_knows_fcc_palladium():
    pd_fcc = bulk("Pd", "fcc", a=3.89)
    pd_fcc.calc = crystal.chgnet_calculator()
    assert crystal.chgnet_calculator() is pd_fcc.calc                  # loaded once
    assert -5.6 < pd_fcc.get_potential_energy() < -4.8                  # eV/atom (PBE: about -5.2)
    assert np.abs(pd_fcc.get_forces()).max() < 1e-3                     # by symmetry


def test_chgnet_calculator_gives_chgnets_forces_and_stress_without_a_graph_of_them():
    """The course's calculator asks autograd for first derivatives only: the energy, forces and stress are CHGNet's
    own (same model, its own calculator), torch.autograd.grad is itself again afterwards, and the forces returned
    carry no graph (which is what costs the memory)."""
    import torch
    from chgnet.model.dynamics import CHGNetCalculator

    calc = crystal.chgnet_calculator()
    cell = bulk("Ni", "fcc", a=3.6, cubic=True)                 # 4 Ni, with H in 4 octahedral holes (NiH)
    cell += Atoms("H4", scaled_positions=[(0.5, 0.5, 0.5), (0.5, 0, 0), (0, 0.5, 0), (0, 0, 0.5)], cell=cell.cell)
    cell.rattle(0.05, seed=0)
    ours, theirs = cell.copy(), cell.copy()
    grad = torch.autograd.grad
    ours.calc = calc
    theirs.calc = CHGNetCalculator(calc.model, use_device="cpu", on_isolated_atoms="ignore")
    assert abs(ours.get_potential_energy() - theirs.get_potential_energy()) < 1e-5
    assert np.abs(ours.get_forces() - theirs.get_forces()).max() < 1e-4
    assert np.abs(ours.get_stress() - theirs.get_stress()).max() < 1e-5
    assert np.abs(ours.get_forces()).max() > 0.05, "rattled: the forces are not zero, so the test compares something"
    assert torch.autograd.grad is grad
    seen = {}
    original = torch.autograd.grad

    def spy(*args, **kwargs):
        seen.setdefault("create_graph", []).append(kwargs.get("create_graph"))
        return original(*args, **kwargs)

    torch.autograd.grad = spy
    try:
        calc.calculate(cell.copy(), ["energy", "forces", "stress"], [])
    finally:
        torch.autograd.grad = original
    assert seen["create_graph"] and not any(seen["create_graph"]), seen
