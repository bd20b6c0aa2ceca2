"""Exercise checks of notebook 09 (CrystalGAN). Write: fractional coordinates, the minimum-image distance, the
first-neighbour distance of an fcc metal. Predict, then verify: the generator's size, the geometric loss of a lonely
atom, the H-H distance of fluorite NiH2 (Switendick's rule), which compositions the generators reproduce."""

import numpy as np

from . import choice, exercise, expect, answer_number


def fractional(T):
    """The reference answer of exercise 1: fractional coordinates f = x L^-1 of the three atom slots of a batch of
    tensors T (n, 4, 18, 4), shape (n, 3, 18, 3); rows of L are the lattice vectors."""
    import torch

    L = T[:, 0, :3, :3]
    return T[:, 1:, :, :3] @ torch.linalg.inv(L)[:, None]


def _batch():
    import torch

    g = torch.Generator().manual_seed(0)
    T = torch.zeros(3, 4, 18, 4)
    L = torch.tensor([[4.0, 0.0, 0.0], [1.0, 3.5, 0.0], [0.5, 0.3, 5.0]])
    for n in range(3):
        T[n, 0, :3, :3] = L * (1 + 0.1 * n)
        T[n, 0, :3, 3] = 1
        f = torch.rand(3, 5, 3, generator=g)
        T[n, 1:, :5, :3] = f @ T[n, 0, :3, :3]
        T[n, 1:, :5, 3] = 1
    return T


@exercise(wrong=[lambda: (lambda T: T[:, 1:, :, :3] @ __import__("torch").linalg.inv(T[:, 0, :3, :3].transpose(1, 2))[:, None]),
                 lambda: (lambda T: T[:, 1:, :, :3] / T[:, 0, :3, :3].diagonal(dim1=1, dim2=2)[:, None, None]),
                 lambda: (lambda T: T[:, 1:, :, :3] @ T[:, 0, :3, :3][:, None])], reference=fractional)
def check_fractional(fractional):
    """fractional(T) -> (n, 3, 18, 3) fractional coordinates f = x L^-1 of the three atom slots."""
    T = _batch()
    got = fractional(T.clone())
    expect(tuple(got.shape) == (3, 3, 18, 3), f"expected shape (n, 3, 18, 3), got {tuple(got.shape)}")
    L = T[:, 0, :3, :3].numpy().astype(float)
    ref = np.stack([np.linalg.solve(L[n].T, T[n, 1:, :, :3].reshape(-1, 3).numpy().T).T.reshape(3, 18, 3)
                    for n in range(3)])
    expect(np.allclose(got.detach().numpy(), ref, atol=1e-4),
           "not the fractional coordinates: with the lattice vectors as ROWS of L, x = f L, so f = x L^-1 "
           "(torch.linalg.inv, and mind the order of the product)")


@exercise(wrong=[lambda: (lambda fa, fb, L: float(np.linalg.norm((np.asarray(fb) - np.asarray(fa)) @ np.asarray(L)))),
                 lambda: (lambda fa, fb, L: float(np.linalg.norm(np.asarray(fb) - np.asarray(fa) - np.round(np.asarray(fb) - np.asarray(fa))))),
                 lambda: (lambda fa, fb, L: float(np.linalg.norm(np.asarray(L) @ (np.asarray(fb) - np.asarray(fa) - np.round(np.asarray(fb) - np.asarray(fa))))))])
def check_min_image_distance(min_image_distance):
    """min_image_distance(fa, fb, L) = ||(df - round(df)) L|| with df = fb - fa; rows of L are lattice vectors."""
    from ase import Atoms

    L = np.array([[4.0, 0.0, 0.0], [1.2, 3.6, 0.0], [0.4, 0.5, 5.0]])
    cases = [([0.05, 0.1, 0.1], [0.95, 0.2, 0.05]), ([0.1, 0.2, 0.3], [0.3, 0.25, 0.35]), ([0.0, 0.0, 0.0], [0.2, 0.85, 0.9])]
    for fa, fb in cases:
        a = Atoms("H2", scaled_positions=[fa, fb], cell=L, pbc=True)
        ref = a.get_distance(0, 1, mic=True)
        got = min_image_distance(np.array(fa), np.array(fb), L.copy())
        expect(np.isclose(float(got), ref, atol=1e-6),
               f"for fa={fa}, fb={fb} the periodic distance is {ref:.4f} Å, got {float(got):.4f}. "
               "Hint: wrap df into [-1/2, 1/2] with df - round(df), then convert to Å with df @ L")


@exercise(wrong=[lambda: (lambda a: a / 2),                      # the octahedral hole: metal-H in rocksalt PdH
                 lambda: (lambda a: a * np.sqrt(3) / 4),          # the tetrahedral hole (or diamond's bond)
                 lambda: (lambda a: a),                           # the cube edge: second neighbours
                 lambda: (lambda a: a * np.sqrt(2))])             # the face diagonal itself
def check_fcc_first_neighbour(fcc_first_neighbour):
    """fcc_first_neighbour(a) = a / sqrt(2): nearest neighbours of an fcc metal touch along a face diagonal."""
    for name, a in (("Pd", 3.89), ("Ni", 3.52), ("Cu", 3.61)):
        ref = a / np.sqrt(2)
        got = float(fcc_first_neighbour(a))
        expect(np.isclose(got, ref, atol=1e-3),
               f"for {name} (fcc, a = {a} Å) the first-neighbour distance is {ref:.3f} Å, got {got:.3f} Å. Hint: "
               "an atom at a cube corner (0, 0, 0) touches the atom at the centre of a face (a/2, a/2, 0)")
    got = np.asarray(fcc_first_neighbour(np.array([3.89, 3.52])), dtype=float)
    expect(got.shape == (2,) and np.allclose(got, np.array([3.89, 3.52]) / np.sqrt(2), atol=1e-3),
           "it must also work elementwise on a numpy array of lattice constants (use np.sqrt, not math.sqrt)")


# ----------------------------------------------------------------------------------------------
# predict, then verify
# ----------------------------------------------------------------------------------------------
def _generator_mlp(n_noise=8, n_hidden=256):
    """The notebook's Generator network: the flattened tensor and the noise in; a lattice strain (9 numbers) and
    a displacement of every row of the three atom slots (3 x N_MAX x 3) out."""
    from torch import nn

    from ..crystal import N_MAX

    n_in, n_out = 4 * N_MAX * 4 + n_noise, 9 + 3 * N_MAX * 3
    return nn.Sequential(nn.Linear(n_in, n_hidden), nn.LeakyReLU(0.2), nn.Linear(n_hidden, n_hidden),
                         nn.LeakyReLU(0.2), nn.Linear(n_hidden, n_out))


def _linear_params(sizes, bias=True):
    return sum(a * b + (b if bias else 0) for a, b in zip(sizes[:-1], sizes[1:]))


@exercise(kind="predict", wrong=[lambda: _linear_params([296, 256, 256, 171], bias=False),   # no biases
                                 lambda: _linear_params([288, 256, 256, 171]),               # no noise input
                                 lambda: _linear_params([296, 256, 256, 288]),               # writes a whole tensor
                                 lambda: 171])                                                # the output size only
def check_generator_params(predicted_params):
    """Generator() = mlp(288 + 8, 9 + 162): 76 032 + 65 792 + 43 947 = 185 771 weights and biases."""
    got = answer_number(predicted_params, "the number of parameters", "100000")
    truth = sum(p.numel() for p in _generator_mlp().parameters())
    if got == truth:
        return
    hints = {_linear_params([296, 256, 256, 171], bias=False): "count the biases too (one per output neuron)",
             _linear_params([288, 256, 256, 171]): "the first layer reads the noise z as well as the tensor",
             _linear_params([296, 256, 256, 288]): ("the generator does not write a whole tensor: it writes a strain "
                                                    "of the lattice and a displacement of each atom row (the flags "
                                                    "are kept)")}
    hint = hints.get(int(got), "three Linear layers; Linear(n_in, n_out) has n_in * n_out weights and n_out biases; "
                               "n_in: the flattened tensor plus the noise; n_out: what forward() reads from the output")
    expect(False, f"{got:,.0f} parameters: not yet. Hint: {hint}")


@exercise(kind="predict", wrong=[lambda: 0.0, lambda: 0.5, lambda: 0.36, lambda: 3.5])
def check_lonely_atom_loss(predicted_loss):
    """One Pd atom in a cubic cell of edge 3.5 A: its nearest neighbour is its own image, 3.5 A away, above the window
    [1.8, 3.0] A by 0.5 A, so geometric_loss = 0.5^2 = 0.25."""
    from ase import Atoms

    from ..crystal import D_MAX, D_MIN, first_neighbours

    got = answer_number(predicted_loss, "the loss")
    d = first_neighbours(Atoms("Pd", cell=np.eye(3) * 3.5, pbc=True))["Pd-Pd"]
    truth = float(np.mean(np.maximum(D_MIN - d, 0) ** 2 + np.maximum(d - D_MAX, 0) ** 2))
    if abs(got - truth) <= 0.01:
        return
    if abs(got) < 0.01:
        hint = "is the atom really alone? The crystal is periodic: where are the nearest copies of it?"
    elif abs(got - np.sqrt(truth)) < 0.01:
        hint = "the penalty is quadratic outside the window"
    elif abs(got - (np.sqrt(truth) + 0.1) ** 2) < 0.01:
        hint = "geometric_loss(T) is called with its default margin, 0: the window is [1.8, 3.0] Å"
    else:
        hint = "find the atom's nearest neighbour (periodic images count), then apply the window penalty"
    expect(False, f"{got:g} is not the loss of this cell: {hint}")


@exercise(kind="predict", wrong=[lambda: 4.07 / np.sqrt(2), lambda: 4.07 * np.sqrt(3) / 4, lambda: 4.07])
def check_fluorite_hh(predicted_hh):
    """NiH2 in the fluorite structure (a = 4.07 A): the H atoms on the eight tetrahedral holes form a simple cubic
    lattice of edge a/2, so the H-H first-neighbour distance is 2.035 A, below Switendick's 2.1 A."""
    from ase.build import bulk

    from ..crystal import first_neighbours

    got = answer_number(predicted_hh, "the H-H distance in angstrom")
    truth = float(first_neighbours(bulk("NiH2", "fluorite", a=4.07, cubic=True))["H-H"].min())
    if abs(got - truth) <= 0.05:
        return
    a = 4.07
    if abs(got - a / np.sqrt(2)) < 0.05:
        hint = ("that is the distance between face-centre sites (metals, or H on the octahedral holes of rocksalt "
                "PdH); here H sits on the tetrahedral holes, at (1/4, 1/4, 1/4) and the like")
    elif abs(got - a * np.sqrt(3) / 4) < 0.05:
        hint = "that is the Ni-H distance (from a corner to the hole at (1/4, 1/4, 1/4)); the question is H to H"
    elif got >= a - 0.05:
        hint = "two H atoms are closer than a whole cube edge: which H is nearest to the one at (1/4, 1/4, 1/4)?"
    else:
        hint = "list two neighbouring holes, e.g. (1/4, 1/4, 1/4) and (3/4, 1/4, 1/4), and multiply by a"
    expect(False, f"{got:g} Å is not the H-H first-neighbour distance of fluorite NiH2: {hint}")


@exercise(kind="predict", wrong=[lambda: "a", lambda: "c", lambda: "d"])
def check_compositions_seen(predicted_compositions):
    """The residual generator keeps its input's flags, so its compositions are those of step 2, which keep the
    numbers of metal and H atoms of a training cell: about 100 %. From noise, nothing ties the flags to the
    training compositions: about 0 %. Answer (b)."""
    got = choice(predicted_compositions, "abcd")
    hints = {"a": "the generator from noise never sees a hydride, and the geometric loss says nothing about how many "
                  "atoms of each kind a cell holds",
             "c": "a composition here is the NUMBER of metal atoms and of H atoms, metal names ignored: does step 2 "
                  "(a substitution) or the residual generator change those numbers?",
             "d": "which generator copies its input's occupancy flags, and which writes its own?"}
    expect(got == "b", f"not ({got}): {hints.get(got, '')}")
