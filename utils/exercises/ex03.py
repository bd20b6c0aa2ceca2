"""Exercise checks of notebook 03 (the multilayer perceptron and the playground)."""
import numpy as np

from . import choice, described, exercise, expect

_SIZES = [[2, 1], [2, 4, 2, 1], [7, 8, 8, 8, 8, 8, 8, 1], [784, 100, 10], [3, 32, 32, 12]]


def count_parameters(sizes):
    """The reference answer: the weights (a x b) and biases (b) of every layer of b neurons fed by a (the check cell
    uses it after the check)."""
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


_reference_count = count_parameters     # the check's argument has the same name


@exercise(wrong=[lambda: (lambda sizes: sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))),      # no biases
                 lambda: (lambda sizes: sum(sizes[1:]) * sizes[0]),                              # all to inputs
                 lambda: (lambda sizes: sum(a * b + a for a, b in zip(sizes[:-1], sizes[1:])))],  # biases of inputs
          reference=count_parameters)
def check_count_parameters(count_parameters):
    """count_parameters(sizes) = number of weights and biases of a fully connected network with layer sizes
    [n_inputs, hidden..., n_outputs]."""
    expect(callable(count_parameters), "count_parameters must be a function of the layer sizes (def "
                                       f"count_parameters(sizes): ...), got {count_parameters!r}")
    for sizes in _SIZES:
        got = count_parameters(list(sizes))
        want = _reference_count(sizes)
        expect(int(got) == want, f"for layer sizes {sizes} expected {want} parameters, got {got}. Hint: a layer "
                                 "of b neurons fed by a neurons has a x b weights and b biases.")


def _train_circle(features, epochs=150):
    from ..playground_engine import Engine

    eng = Engine(dataset="circle", hidden=[], features=list(features), lr=0.03)
    return eng.train(epochs)


@exercise(wrong=[lambda: ["x1", "x2"], lambda: ["sin(x1)", "sin(x2)"], lambda: ["x1*x2"]])
def check_circle_features(features):
    """A list of playground features with which a network WITHOUT hidden layer separates the circle data."""
    from ..playground_engine import FEATURES

    expect(isinstance(features, (list, tuple, set)) and all(isinstance(f, str) for f in features),
           f"circle_features must be a list of feature names such as [\"x1\", \"x2\"], got {described(features)}")
    feats = list(features)
    expect(feats, f"circle_features is empty: choose at least one feature among {', '.join(FEATURES)}")
    unknown = [f for f in feats if f not in FEATURES]
    expect(not unknown, f"unknown feature name(s) {', '.join(map(repr, unknown))}: choose among "
                        f"{', '.join(FEATURES)}")
    eng = _train_circle(feats)
    acc = eng.accuracy("test")
    expect(acc >= 0.95, f"with {feats} and no hidden layer, test accuracy is {acc:.2f} after 150 epochs (need "
                        ">= 0.95). Hint: the boundary is x1^2 + x2^2 = 2.5^2; which features make it a straight "
                        "line for the output neuron?")


#: the spiral data sets and initial weights a setting is judged on (playground seeds): the median decides
SPIRAL_SEEDS = (0, 1, 2)
_ALL_FEATURES = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]


@exercise(wrong=[lambda: dict(hidden=[8], features=["x1", "x2"], lr=0.1),                # too shallow
                 lambda: dict(hidden=[8, 8, 8, 8], features=["x1", "x2"], lr=0.1),       # works but too big
                 lambda: dict(hidden=[8, 8], features=["x1", "x2", "sin(x1)"], lr=0),   # invalid setting
                 lambda: dict(hidden=[8, 6], features=_ALL_FEATURES, lr=0.3)])           # 0.9 only at a lucky epoch
def check_small_spiral_network(settings):
    """Playground settings (hidden, features, lr, activation...) whose network has at most 150 parameters and
    reaches a spiral test accuracy of at least 0.9 after 200 epochs: the median over three data sets and initial
    weights (:data:`SPIRAL_SEEDS`), each measured once, at the end of training (picking the best test accuracy along
    the way would be choosing the model on the test set)."""
    from ..errors import SettingError
    from ..playground_engine import Engine

    expect(isinstance(settings, dict), "spiral_settings must be a dict of playground settings, for example "
                                       "dict(hidden=[8, 8], features=[\"x1\", \"x2\"], lr=0.03), got "
                                       f"{described(settings)}")
    settings = {k: v for k, v in settings.items() if k not in ("dataset", "seed", "init_seed")}
    try:
        engines = [Engine(dataset="spiral", seed=s, init_seed=s, **settings) for s in SPIRAL_SEEDS]
    except SettingError as exc:
        expect(False, f"these settings do not work: {exc}")
    n = engines[0].n_parameters()
    expect(n <= 150, f"this network has {n} parameters (at most 150 allowed). Hint: better features can replace "
                     "layers.")
    accs = [eng.train(200).accuracy("test") for eng in engines]
    median = float(np.median(accs))
    expect(median >= 0.9, f"after 200 epochs the test accuracy is {', '.join(f'{a:.2f}' for a in accs)} on "
                          f"{len(accs)} spiral data sets (median {median:.2f}, need >= 0.9) with {n} parameters. "
                          "Hint: try the sin features, or another learning rate.")


def _linear_layers_only():
    from torch import nn

    return lambda n_in, n_out: nn.Sequential(nn.Linear(n_in, 16), nn.Linear(16, n_out))


def _perceptron():
    from torch import nn

    return lambda n_in, n_out: nn.Linear(n_in, n_out)


def _wrong_shape():
    from torch import nn

    return lambda n_in, n_out: nn.Sequential(nn.Linear(n_in, 16), nn.ReLU(), nn.Linear(16, 1))


def _no_hidden_layer():
    from torch import nn

    return lambda n_in, n_out: nn.Sequential(nn.Linear(n_in, n_out), nn.ReLU())


def _no_hidden_layer_softmax():
    from torch import nn

    return lambda n_in, n_out: nn.Sequential(nn.Linear(n_in, n_out), nn.Softmax(dim=1))


def make_mlp(n_in, n_out, hidden=32):
    """The reference answer: n_in -> hidden -> hidden -> n_out with ReLU between (the check cell trains it)."""
    from torch import nn

    return nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, n_out))


@exercise(wrong=[_linear_layers_only, _perceptron, _wrong_shape, _no_hidden_layer, _no_hidden_layer_softmax],
          reference=make_mlp)
def check_make_mlp(make_mlp):
    """make_mlp(n_in, n_out) returns a torch module mapping (batch, n_in) to (batch, n_out) scores that is NOT an
    affine function of its input, nor an activation of one: it has hidden layers with a non-linear activation."""
    import torch

    expect(callable(make_mlp), f"make_mlp must be a function (def make_mlp(n_in, n_out): ...), got {make_mlp!r}")

    torch.manual_seed(0)
    for n_in, n_out in ((2, 12), (3, 5)):
        net = make_mlp(n_in, n_out)
        expect(isinstance(net, torch.nn.Module), "make_mlp must return a torch.nn.Module")
        x = torch.randn(64, n_in)
        with torch.no_grad():
            out = net(x)
        expect(tuple(out.shape) == (64, n_out), f"make_mlp({n_in}, {n_out}) maps a batch of 64 inputs to shape "
                                                f"{tuple(out.shape)}, expected (64, {n_out})")
        # an affine map f satisfies f((a + b) / 2) = (f(a) + f(b)) / 2 for every a, b
        a, b = 3 * torch.randn(256, n_in), 3 * torch.randn(256, n_in)
        with torch.no_grad():
            gap = (net((a + b) / 2) - (net(a) + net(b)) / 2).abs().max().item()
            scale = net(a).abs().max().item() + 1e-12
        expect(gap > 1e-3 * scale, "your network is an affine function of its input: stacked Linear layers "
                                   "without an activation between them collapse into one Linear layer (a "
                                   "perceptron-like model). Put a non-linearity (nn.ReLU(), nn.Tanh()) between them.")
    # Without a hidden layer the network is g(W x + b), whatever g (ReLU, softmax...): it sees its n_in inputs only
    # through n_out weighted sums, so its gradients, at every input, lie in the n_out directions of W's rows.
    n_in, n_out = 6, 2
    net = make_mlp(n_in, n_out).eval()
    x = (3 * torch.randn(128, n_in)).requires_grad_()
    out = net(x)
    J = torch.cat([torch.autograd.grad(out[:, k].sum(), x, retain_graph=True)[0] for k in range(n_out)])
    sv = torch.linalg.svdvals(J.double())
    directions = int((sv > 1e-4 * sv[0]).sum()) if sv[0] > 0 else 0
    expect(directions > n_out, f"make_mlp({n_in}, {n_out}) has no hidden layer: its outputs see the {n_in} inputs "
                               f"only through {n_out} weighted sums (an activation after the last nn.Linear is not "
                               "a layer of neurons). Put a hidden layer first: nn.Linear(n_in, hidden), nn.ReLU(), "
                               "then nn.Linear(hidden, n_out).")


# ---- predict, then verify ------------------------------------------------------------------------------------
@exercise(kind="predict", wrong=[lambda: "B",      # the best line exists (about 0.69): gradient descent avoids it
                                 lambda: "C"])     # that needs a hidden layer or the feature x1*x2
def check_xor_without_hidden_layer(xor_no_hidden):
    """The test accuracy a network without hidden layer (features x1, x2) reaches on XOR after 200 epochs, averaged
    over ten data sets: A (about 0.5, chance), B (about 0.7, the best straight line) or C (0.95 or more)."""
    from ..playground_engine import Engine, best_line_accuracy, make_data

    got = choice(xor_no_hidden, "ABC", "xor_no_hidden")
    acc = np.mean([Engine(dataset="xor", hidden=[], features=["x1", "x2"], seed=s).train(200).accuracy()
                   for s in range(10)])
    best_line = best_line_accuracy(*make_data("xor", seed=100, n=10_000))     # option B: about 0.69
    truth = "ABC"[int(np.argmin(np.abs(np.array([0.5, best_line, 1.0]) - acc)))]
    expect(got == truth, f"not {got}. Hint: the blue points fill two opposite quadrants and the orange points the "
                         "other two. A line that outputs -1 / +1 and is wrong on 3 points in 10 has a mean squared "
                         "error of 0.3 x 2^2 / 2 = 0.6; an output near 0 everywhere has 0.5. Which one does "
                         "gradient descent on the squared error prefer?")


@exercise(kind="predict", wrong=[lambda: "x1^2",   # symmetric in x1: cannot tell x2's sign
                                 lambda: "x1"])
def check_xor_feature(xor_feature):
    """One playground feature with which a network WITHOUT hidden layer separates XOR (test accuracy >= 0.95 after
    150 epochs)."""
    from ..playground_engine import FEATURES, Engine

    expect(isinstance(xor_feature, str) and xor_feature in FEATURES,
           f"xor_feature must be one feature name among {', '.join(FEATURES)}, as a string (for example "
           f"xor_feature = \"x1\"), got {xor_feature!r}")
    acc = Engine(dataset="xor", hidden=[], features=[xor_feature]).train(150).accuracy()
    expect(acc >= 0.95, f"with {xor_feature} alone, the network without hidden layer reaches a test accuracy of "
                        f"{acc:.2f} (need >= 0.95). Hint: XOR is blue where x1 and x2 have the same sign: which "
                        "feature has that sign?")


@exercise(kind="predict", wrong=[lambda: 216,      # the weights only, no biases
                                 lambda: 240,      # forgot the output neuron
                                 lambda: 248])     # forgot the output neuron's bias
def check_spiral_parameters(predicted_spiral_params):
    """The number of weights and biases of the playground network 2 -> 8 -> 8 -> 8 -> 8 -> 1."""
    from ..playground_engine import Engine

    ok = isinstance(predicted_spiral_params, (int, float, np.integer, np.floating)) and not isinstance(
        predicted_spiral_params, bool)
    expect(ok, "predicted_spiral_params must be one number (for example predicted_spiral_params = 100), got "
               f"{predicted_spiral_params!r}")
    eng = Engine(dataset="spiral", hidden=[8, 8, 8, 8], features=["x1", "x2"])
    truth, got = eng.n_parameters(), float(predicted_spiral_params)
    weights = sum(W.size for W in eng.W)
    if got == weights:
        expect(False, f"{got:g} counts the weights only. Hint: every neuron has a bias too.")
    expect(got == truth, f"{got:g} is not the count. Hint: count layer by layer; a layer of b neurons fed by a "
                         "values has a x b weights and b biases, and the output neuron is a layer too.")
