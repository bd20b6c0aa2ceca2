"""Generated from notebooks/06_smiles_rnn.ipynb by `make export` (tools/export.py): do not edit.

The code cells of that notebook tagged ``export``, in notebook order. To change them, edit the notebook and run
`make export`; a unit test fails while this file is stale.
"""
import torch
from torch import nn
from utils import chem
import utils


# --- cell c020 ---
class SmilesLSTM(nn.Module):
    def __init__(self, vocab_size, embed_dim=64, hidden_size=512, num_layers=2, dropout=0.0):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)        # token id -> vector
        self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers, batch_first=True,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.head = nn.Linear(hidden_size, vocab_size)          # h_t -> logits of the next token

    def forward(self, X, state=None):                           # X: (batch, time) token ids
        H, state = self.lstm(self.embed(X), state)              # H: (batch, time, hidden)
        return self.head(H), state                              # logits: (batch, time, vocab)


# --- cell c026 ---
def shift(X):
    return X[:, :-1], X[:, 1:]


# --- cell c028 ---
def lm_loss(net, X, pad=0):                              # pad: the id of <pad> (0 in chem.Vocab)
    inputs, targets = shift(X)
    logits, _ = net(inputs)
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                       ignore_index=pad)      # padding positions do not count


# --- cell c032 ---
@torch.no_grad()
def sample(net, vocab, n, temperature=1.0, max_len=100):
    dev = next(net.parameters()).device
    net.eval()
    x = torch.full((n, 1), vocab.bos, device=dev)
    state, out = None, []
    done = torch.zeros(n, dtype=torch.bool, device=dev)
    for _ in range(max_len):
        logits, state = net(x, state)                                # one step, state carried over
        probs = torch.softmax(logits[:, -1] / temperature, dim=-1)
        x = torch.multinomial(probs, 1)                              # draw one token per molecule
        out.append(x)
        done |= x[:, 0] == vocab.eos
        if done.all():
            break
    net.train()
    return [vocab.decode(seq) for seq in torch.cat(out, dim=1).tolist()]


# --- cell c039 ---
def train(net, vocab, smiles, num_batches, batch_size, lr, on_eval=None, eval_every=100, seed=0):
    if lr <= 0:
        raise utils.SettingError(f"the learning rate must be positive, got {lr}")
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    decay = lambda b: min(1.0, 1.5 * (1 - b / num_batches))           # flat, then linear to 0
    sched = torch.optim.lr_scheduler.LambdaLR(opt, decay)
    batches, losses = chem.bucket_batches(smiles, batch_size, seed), []   # lists of SMILES of similar length
    for b in utils.progress(range(num_batches + 1), desc="training"):
        if on_eval is not None and b % eval_every == 0:
            on_eval(b, losses)
        if b == num_batches:
            break
        X = chem.encode_batch(next(batches), vocab).to(next(net.parameters()).device)
        loss = lm_loss(net, X, vocab.pad)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
    return losses
