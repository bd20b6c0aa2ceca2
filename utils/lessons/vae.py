"""Generated from notebooks/07_vae.ipynb by `make export` (tools/export.py): do not edit.

The code cells of that notebook tagged ``export``, in notebook order. To change them, edit the notebook and run
`make export`; a unit test fails while this file is stale.
"""
import torch
from torch import nn
from utils import chem, vae


# --- cell c015 ---
def reparameterize(mu, logvar):
    eps = torch.randn_like(mu)                   # the noise, drawn apart: no gradient needed through it
    return mu + torch.exp(0.5 * logvar) * eps    # sigma = exp(logvar / 2)


# --- cell c018 ---
def kl_divergence(mu, logvar):
    return -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(dim=-1)


# --- cell c031 ---
class SmilesEncoder(nn.Module):
    # A bidirectional GRU written as two GRUs. nn.GRU(bidirectional=True) on a packed sequence computes the same,
    # but its backward pass is slower on a CPU.
    def __init__(self, vocab_size, latent_dim, embed_dim=32, hidden=256, pad=0):   # pad: id of <pad> (0 in chem.Vocab)
        super().__init__()
        self.pad = pad
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=pad)
        self.gru_fwd = nn.GRU(embed_dim, hidden, batch_first=True)    # reads the molecule left to right
        self.gru_bwd = nn.GRU(embed_dim, hidden, batch_first=True)    # ... and right to left
        self.to_mu, self.to_logvar = nn.Linear(2 * hidden, latent_dim), nn.Linear(2 * hidden, latent_dim)

    def forward(self, X):                                         # X: (batch, time) token ids
        last = (X != self.pad).sum(1) - 1                         # position of each molecule's <eos>
        rows = torch.arange(len(X), device=X.device)
        out_fwd, _ = self.gru_fwd(self.embed(X))
        out_bwd, _ = self.gru_bwd(self.embed(chem.reverse_padded(X, self.pad)))   # [c, b, a, pad]
        h = torch.cat([out_fwd[rows, last], out_bwd[rows, last]], dim=-1)          # states after the last real token
        return self.to_mu(h), self.to_logvar(h)


# --- cell c032 ---
class SmilesDecoder(nn.Module):
    def __init__(self, vocab_size, latent_dim, embed_dim=32, hidden=256):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.z_to_h = nn.Linear(latent_dim, hidden)
        self.gru = nn.GRU(embed_dim + latent_dim, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, X, z, h=None):                              # X: previous tokens, z: (batch, latent_dim)
        if h is None:
            h = torch.tanh(self.z_to_h(z)).unsqueeze(0)           # z sets the initial state...
        inp = torch.cat([self.embed(X), z.unsqueeze(1).expand(-1, X.shape[1], -1)], dim=-1)   # ...and every input
        out, h = self.gru(inp, h)
        return self.head(out), h                                  # logits of the next token, state


# --- cell ec1925e6 ---
@torch.no_grad()
def decode_beam(decoder, vocab, z, width=5, max_len=80, chunk=1000):
    decoder.eval()
    out = []
    for i in range(0, len(z), chunk):                             # chunks keep the memory small
        zc = z[i:i + chunk]
        def step(x, rows, h):                                     # one token for every beam; rows: its molecule
            logits, h = decoder(x, zc[rows], h)
            return logits[:, -1], h
        out += vae.beam_search(step, len(zc), vocab.bos, vocab.eos, width=width, max_len=max_len,
                                 device=z.device)
    decoder.train()
    return [vocab.decode(seq) for seq in out]
