"""Generated from notebooks/08_gan.ipynb by `make export` (tools/export.py): do not edit.

The code cells of that notebook tagged ``export``, in notebook order. To change them, edit the notebook and run
`make export`; a unit test fails while this file is stale.
"""
import numpy as np
import torch
from torch import nn
import torch.nn.functional as F


# --- cell c008 ---
def bce(logit, target):       # D returns a logit l; sigmoid(l) = D(x)
    return F.binary_cross_entropy_with_logits(logit, target)

def discriminator_step(D, opt_D, x_real, x_fake):
    out_real, out_fake = D(x_real), D(x_fake.detach())            # detach: this step must not change G
    loss = bce(out_real, torch.ones_like(out_real)) + bce(out_fake, torch.zeros_like(out_fake))
    opt_D.zero_grad(); loss.backward(); opt_D.step()
    return loss.item()

def generator_step(D, opt_G, x_fake):
    out = D(x_fake)
    loss = bce(out, torch.ones_like(out))                          # non-saturating: -log D(G(z))
    opt_G.zero_grad(); loss.backward(); opt_G.step()               # only G's weights move
    return loss.item()


# --- cell c009 ---
def gan_step(G, D, opt_G, opt_D, x_real, z_dim, g_steps=1):
    # One round of the game: a discriminator step, then g_steps generator steps.
    z = torch.randn(len(x_real), z_dim, device=x_real.device)
    x_fake = G(z)
    loss_D = discriminator_step(D, opt_D, x_real, x_fake)
    loss_G = generator_step(D, opt_G, x_fake)
    for _ in range(g_steps - 1):                                   # more than 1: Going further 1 (mode collapse)
        loss_G = generator_step(D, opt_G, G(torch.randn_like(z)))
    return loss_D, loss_G


# --- cell c035 ---
Z_DIM, HIDDEN = 64, 256
def make_generator():
    return nn.Sequential(nn.Linear(Z_DIM, HIDDEN), nn.BatchNorm1d(HIDDEN), nn.LeakyReLU(0.2),
                         nn.Linear(HIDDEN, 2 * HIDDEN), nn.BatchNorm1d(2 * HIDDEN), nn.LeakyReLU(0.2),
                         nn.Linear(2 * HIDDEN, 784), nn.Tanh())

class MinibatchStd(nn.Module):
    # appends one feature, the same for every row: how much the hidden features h vary across the batch
    def forward(self, h):
        spread = h.std(dim=0).mean()                     # std over the batch of each feature, averaged: one number
        return torch.cat([h, spread.expand(len(h), 1)], dim=1)

def make_discriminator():                                # D must see batches (of 64) now
    return nn.Sequential(nn.Linear(784, 2 * HIDDEN), nn.LeakyReLU(0.2), nn.Linear(2 * HIDDEN, HIDDEN),
                         nn.LeakyReLU(0.2), MinibatchStd(), nn.Linear(HIDDEN + 1, 1))


# --- cell c037 ---
@torch.no_grad()
def update_average(G_avg, G, step, decay=0.999):
    # theta_avg <- decay * theta_avg + (1 - decay) * theta, for the weights and the batch-norm statistics
    decay = min(decay, (1 + step) / (10 + step))              # shorter memory at first: forget the random start
    for p_avg, p in zip(G_avg.state_dict().values(), G.state_dict().values()):
        if p.is_floating_point():
            p_avg.lerp_(p, 1 - decay)
        else:
            p_avg.copy_(p)                                     # an integer counter: just copied


# --- cell c038 ---
def sample_digits(G, n=None, z=None, batch=1000):
    # generated digits in [0, 1]; G in eval mode (batch-norm then uses its running statistics)
    z = z if z is not None else torch.randn(n, Z_DIM, device=next(G.parameters()).device)
    G.eval()
    with torch.no_grad():
        out = torch.cat([G(z[i:i + batch]).cpu() for i in range(0, len(z), batch)])
    G.train()
    return (out + 1) / 2


# --- cell c046-shares ---
def confident_share(prob):                                     # share of digits the judge is sure of
    return (prob.max(1).values >= 0.9).float().mean().item()

def class_shares(prob):                                        # share of each predicted class
    return np.bincount(prob.argmax(1).numpy(), minlength=10) / len(prob)
