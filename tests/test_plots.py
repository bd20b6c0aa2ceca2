"""Unit tests of the architecture diagrams in utils.plots: each runs headless and writes the sizes of the model."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from utils import plots  # noqa: E402


def texts(ax):
    """Every text drawn on the diagram, with its title."""
    return [t.get_text() for t in ax.texts] + [ax.get_title()]


def has(ax, *labels):
    joined = "\n".join(texts(ax))
    missing = [label for label in labels if label not in joined]
    assert not missing, f"labels {missing} not drawn; the diagram has {texts(ax)}"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_draw_mlp_shows_every_layer_and_weight_matrix():
    ax = plots.draw_mlp([3, 16, 4], ["tanh", "scores → softmax"], input_labels=["wing", "beak", "nostril"],
                        output_labels=["A", "B", "C", "D"])
    has(ax, "input: 3", "hidden: 16\ntanh", "output: 4", "$W_1$: 3×16", "$W_2$: 16×4", "wing", "nostril", "D", "⋮",
        "Multilayer perceptron 3-16-4")
    assert len(ax.patches) == 3 + 7 + 4            # the 16 hidden neurons are drawn as 6, a gap, the last one
    small = plots.draw_mlp([2, 2, 1])
    assert len(small.patches) == 5 and "⋮" not in texts(small)


def test_draw_cnn_reads_shapes_and_weights_from_the_model():
    from utils import mnist

    net = mnist.build_cnn()
    assert net.training
    ax = plots.draw_cnn(net)
    has(ax, "1×28×28", "16×28×28", "16×14×14", "32×14×14", "32×7×7", "1568", "64", "10\n(scores)",
        "conv 3×3\n16 kernels", "max-pool 2×2\n+ BN\n+ ReLU", "flatten", "dense\n1568→64\n+ ReLU", "dense\n64→10",
        "160 weights", "4 640 weights", "100 416 weights", f"{mnist.n_params(net):,}".replace(",", " "))
    assert net.training, "drawing must leave the model in training mode"
    wider = plots.draw_cnn(mnist.build_cnn(c1=8, c2=24, hidden=32))
    has(wider, "8×14×14", "24×7×7", "1176", "dense\n1176→32\n+ ReLU")


def test_draw_lstm_unrolled_reads_one_token_and_predicts_the_next():
    tokens = ["<bos>", "C", "C", "O", "<eos>"]
    ax = plots.draw_lstm_unrolled(tokens, vocab_size=30, embed_dim=32, hidden_size=256, num_layers=2)
    has(ax, "LSTM layer 1\n(256 units)", "LSTM layer 2\n(256 units)", "embedding (32)", "linear 256→30",
        "(h, c)", "<bos>", "<eos>")
    drawn = texts(ax)
    assert drawn.count("<bos>") == 1 and drawn.count("<eos>") == 1       # read once, predicted once
    assert drawn.count("LSTM") == 2 * 4 and drawn.count("embed") == 4     # 2 layers x 4 steps
    one = plots.draw_lstm_unrolled(tokens, vocab_size=30, embed_dim=8, hidden_size=64, num_layers=1)
    assert "LSTM layer 2" not in "\n".join(texts(one)) and texts(one).count("LSTM") == 4


def test_draw_vae_shows_latent_sizes_and_both_loss_terms():
    ax = plots.draw_vae(64, encoder="encoder\n2 GRUs of 256", decoder="decoder\nGRU of 256", kl_weight=r"$\beta\cdot$ ",
                        decoder_input="previous tokens", predictor="$f(z)$ → logP", title="The chemical VAE")
    has(ax, r"$\mu$ (64)", r"$\log\sigma^2$ (64)", "(64)", "encoder\n2 GRUs of 256", "decoder\nGRU of 256",
        "reconstruction", "KL", r"$\beta\cdot$ ", r"\varepsilon \sim", "previous tokens", "logP", "The chemical VAE")
    plain = plots.draw_vae(2, encoder="784→512→4", decoder="2→512→784")
    assert "previous tokens" not in "\n".join(texts(plain)) and "(2)" in "\n".join(texts(plain))


def test_draw_gan_loop_shows_both_players_and_both_steps():
    ax = plots.draw_gan_loop(64, 784, (256, 512), (512, 256), minibatch_std=True, averaged=True)
    has(ax, "64→256→512→784", "784→512→256", "+ minibatch std", "(256+1)→1", "$G$ step", "$D$ step",
        "detached", "averaged copy", "noise $z$")
    plain = plots.draw_gan_loop(2, 2, (128, 128), (128, 128))
    joined = "\n".join(texts(plain))
    assert "minibatch" not in joined and "averaged" not in joined and "128→1" in joined and "2→128→128→2" in joined


def test_diagrams_draw_into_a_given_axis():
    fig, axes = plt.subplots(1, 2)
    assert plots.draw_mlp([2, 3, 1], ax=axes[0]) is axes[0]
    assert plots.draw_gan_loop(2, 2, (8,), (8,), ax=axes[1]) is axes[1]
    assert len(fig.axes) == 2


def test_draw_crystalgan_shows_the_three_steps_with_the_notebooks_sizes():
    ax = plots.draw_crystalgan(n_cells=(35, 35), n_max=18, n_noise=8, hidden=256, lam_rec=10.0, lam_geo=1000.0,
                               window=(1.8, 3.0), margin=0.1, steps=(300, 1000))
    has(ax, "step 1: Pd-H ↔ Ni-H", "step 2: feature transfer", "step 3: $A_2$ ↔ $B_2$", "Pd-H cells (A)\n35 × 4×18×4",
        "Ni-H cells (B)\n35 × 4×18×4", "[lattice | H | Pd | Ni]", "(288+8)→256→256→171", "288→256→256→1",
        "$G_{AB}(x_A)$", "$G_{B_2A_2}$: $B_2$ → $A_2$", "adversarial + 10 × reconstruction", "+ 1000 × geometric loss",
        "in [1.9, 2.9] Å", "[1.8, 3.0] Å window", "300 training steps", "1000 training steps", "Switendick",
        "candidates", "CrystalGAN")
    small = plots.draw_crystalgan(n_cells=(10, 12), n_max=6, n_noise=4, hidden=64, lam_geo=10, window=(2.0, 3.2),
                                  margin=0.0)
    joined = "\n".join(texts(small))
    for label in ("(96+4)→64→64→63", "96→64→64→1", "10 × 4×6×4", "12 × 4×6×4", "in [2.0, 3.2] Å (periodic",
                  "+ 10 × geometric loss"):
        assert label in joined, label
    assert "training steps" not in joined
    _, axis = plt.subplots()
    assert plots.draw_crystalgan(ax=axis) is axis
