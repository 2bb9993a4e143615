#!/usr/bin/env python3
"""The seed's GAN train_step (001 exercise 7, the notes' Keras solution) in PyTorch float64, step by step, as a fixture.

What one step is, read from the seed's Keras code: five discriminator updates, each on
mean(softplus(-D(x)) + softplus(D(G(z)))) with fresh z and the generator called with training=False (its batch norms use
their moving statistics and do not move them), then one generator update on mean(softplus(-D(G(z)))) with
training=True (batch statistics; the moving statistics move). Keras's defaults: BatchNormalization(momentum=0.99,
epsilon=1e-3), i.e. PyTorch's momentum 0.01; Adam(1e-3, 0.9, 0.999, epsilon=1e-7) with Keras's update
    alpha = lr sqrt(1 - beta2^t) / (1 - beta1^t);  m += (1 - beta1)(g - m);  v += (1 - beta2)(g^2 - v);
    p -= alpha m / (sqrt(v) + epsilon)
(written out below: torch.optim.Adam adds its epsilon to sqrt(v_hat) instead). Weights are glorot-uniform, biases zero.

Every input (weights, real images, latent codes) is exactly representable in float32, so GenLab reads the same numbers.
The fixture holds the initial state, the real batch of each step, the six latent batches of each step (five for the
discriminator, one for the generator), the last discriminator loss and the generator loss of every step, and the whole
state (parameters and running statistics, under GenLab's names) after the last step.
tests/Lab.Models.Tests/GanStepTests.cs reads it; it needs no torch. Regenerate with
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/pytorch/gan_step.py
"""

import gzip
import json
import os

import torch
from torch import nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "Lab.Models.Tests", "Fixtures", "gan_step.json")
BATCH, STEPS, D_STEPS, LATENT = 8, 3, 5, 10

torch.manual_seed(17)
torch.set_default_dtype(torch.float64)


def f32(t):
    return t.float().double()


G = nn.Sequential(nn.Linear(LATENT, 256), nn.ReLU(), nn.Unflatten(1, (16, 4, 4)), nn.BatchNorm2d(16, 1e-3, 0.01),
                  nn.ConvTranspose2d(16, 8, 2), nn.ReLU(), nn.BatchNorm2d(8, 1e-3, 0.01),
                  nn.ConvTranspose2d(8, 4, 2), nn.ReLU(), nn.BatchNorm2d(4, 1e-3, 0.01),
                  nn.ConvTranspose2d(4, 1, 3), nn.Sigmoid())
D = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 8, 3), nn.ReLU(), nn.Conv2d(8, 16, 3), nn.ReLU(),
                  nn.Flatten(), nn.Linear(64, 1))
with torch.no_grad():
    for m in list(G) + list(D):
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.xavier_uniform_(m.weight)
            m.weight.copy_(f32(m.weight))
            nn.init.zeros_(m.bias)

# GenLab's GanGenerator is Sequential(Linear, Reshape, BN, ConvT, BN, ConvT, BN, ConvT): the same indices without the
# ReLU modules, which GenLab folds into the layers before them.
G_NAMES = {0: 0, 3: 2, 4: 3, 6: 4, 7: 5, 9: 6, 10: 7}
D_NAMES = {0: 0, 2: 1, 4: 2, 7: 4}


def state(digits=9):
    out = {}
    for prefix, net, names in (("generator.net", G, G_NAMES), ("discriminator.net", D, D_NAMES)):
        for key, t in net.state_dict().items():
            index, what = key.split(".", 1)
            if what != "num_batches_tracked":
                out[f"{prefix}.{names[int(index)]}.{what}"] = enc(t, digits)
    return out


def enc(t, digits=9):
    """Nine significant digits give back a float32 input exactly; eight are plenty for a value compared at 1e-5."""
    t = t.detach().double().contiguous()
    return {"shape": list(t.shape), "data": [float(f"{x:.{digits}g}") if x else 0 for x in t.reshape(-1).tolist()]}


class KerasAdam:
    def __init__(self, params, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7):
        self.params = list(params)
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t, self.lr, self.beta1, self.beta2, self.eps = 0, lr, beta1, beta2, eps

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        self.t += 1
        alpha = self.lr * (1 - self.beta2 ** self.t) ** 0.5 / (1 - self.beta1 ** self.t)
        for p, m, v in zip(self.params, self.m, self.v):
            g = torch.zeros_like(p) if p.grad is None else p.grad
            m.add_((1 - self.beta1) * (g - m))
            v.add_((1 - self.beta2) * (g * g - v))
            p.sub_(alpha * m / (v.sqrt() + self.eps))


with gzip.open(os.path.join(HERE, "..", "..", "data", "digits.csv.gz"), "rt") as f:
    rows = [[float(v) for v in line.split(",")[:64]] for line in f if line.strip()]
digits = (torch.tensor(rows) / 16.0).reshape(-1, 1, 8, 8)

d_opt, g_opt = KerasAdam(D.parameters()), KerasAdam(G.parameters())
fixture = {"batch": BATCH, "d_steps": D_STEPS, "init": state(), "steps": []}
for step in range(STEPS):
    x = digits[torch.randperm(len(digits))[:BATCH]]
    latents = [f32(torch.randn(BATCH, LATENT)) for _ in range(D_STEPS + 1)]
    for k in range(D_STEPS):
        G.eval()
        with torch.no_grad():
            fake = G(latents[k])
        d_opt.zero_grad()
        loss_d = (F.softplus(-D(x)) + F.softplus(D(fake))).mean()
        loss_d.backward()
        d_opt.step()
    G.train()
    g_opt.zero_grad()
    loss_g = F.softplus(-D(G(latents[D_STEPS]))).mean()
    loss_g.backward()
    g_opt.step()
    record = {"real": enc(x), "latents": [enc(z) for z in latents], "d_loss": float(f"{loss_d.item():.10g}"), "g_loss": float(f"{loss_g.item():.10g}")}
    if step + 1 == STEPS:
        record["state"] = state(digits=8)
    fixture["steps"].append(record)
    print(f"step {step + 1}: d_loss {loss_d.item():.6f}, g_loss {loss_g.item():.6f}")

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump(fixture, f, separators=(",", ":"))
print(f"wrote {os.path.relpath(OUT)} ({os.path.getsize(OUT) // 1024} KiB)")
