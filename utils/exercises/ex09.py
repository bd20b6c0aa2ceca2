"""Exercise checks of notebook 09 (CrystalGAN): fractional coordinates, the window penalty, minimum-image distance,
the first-neighbour distance of an fcc metal."""
import numpy as np

from . import exercise, expect


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
                 lambda: (lambda T: T[:, 1:, :, :3] @ T[:, 0, :3, :3][:, None])])
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


@exercise(wrong=[lambda: (lambda d, d_min, d_max: (d - (d_min + d_max) / 2) ** 2),           # no flat window
                 lambda: (lambda d, d_min, d_max: __import__("torch").relu(d_min - d) ** 2),   # only the lower side
                 lambda: (lambda d, d_min, d_max: __import__("torch").relu(d_min - d) + __import__("torch").relu(d - d_max)),
                 lambda: (lambda d, d_min, d_max: ((d < d_min) | (d > d_max)).float())])     # not differentiable
def check_penalty(penalty):
    """penalty(d, d_min, d_max): 0 inside the window, squared distance to the window outside, differentiable."""
    import torch

    d = torch.tensor([0.5, 1.5, 1.8, 2.4, 3.0, 3.5, 5.0], requires_grad=True)
    got = penalty(d, 1.8, 3.0)
    ref = torch.tensor([1.69, 0.09, 0.0, 0.0, 0.0, 0.25, 4.0])
    expect(isinstance(got, torch.Tensor) and got.shape == d.shape, f"expected a tensor of shape {tuple(d.shape)}")
    expect(torch.allclose(got[2:5].detach(), torch.zeros(3), atol=1e-6), "inside [d_min, d_max] the penalty must be 0")
    expect(got.requires_grad, "the penalty must be differentiable (use torch.relu, not a comparison)")
    expect(torch.allclose(got.detach(), ref, atol=1e-5),
           f"for d = {d.detach().numpy()} expected {ref.numpy()}, got {got.detach().numpy().round(3)}. "
           "Hint: relu(d_min - d)**2 + relu(d - d_max)**2")
    got.sum().backward()
    expect(d.grad is not None and d.grad[0] < 0 and d.grad[-1] > 0, "the gradient must push d back into the window")


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
