"""The seed's GAN recipe (001 exercise 7, the notes' Keras solution) in plain PyTorch, for comparing with GenLab's `gan`.

Generator Dense(10->256, relu) -> (16,4,4) -> BN -> ConvT(16->8,2, relu) -> BN -> ConvT(8->4,2, relu) -> BN ->
ConvT(4->1,3, sigmoid); discriminator Conv(1->4,3) -> Conv(4->8,3) -> Conv(8->16,3) (relu) -> Dense(64->1), a logit.
Per step: 5 x (fakes from G in inference mode, D Adam step on softplus(-D(x)) + softplus(D(G(z)))), then one G Adam
step on softplus(-D(G(z))) with G in training mode; as many z as real images; batch 16; 20 epochs; data in [0, 1].
Keras's defaults unless told otherwise: glorot-uniform weights, zero biases, BN momentum 0.01 (Keras 0.99) and eps 1e-3,
Adam(1e-3, 0.9, 0.999) with Keras's eps 1e-7 (added PyTorch's way, to sqrt(v_hat); `--init torch` also takes
PyTorch's eps 1e-8). Writes 1000 samples (generator in inference mode)
as samples.csv in GenLab's layout (header p0..p63, one image per row, values in [0, 1], 1 = ink).

  /usr/bin/python3 bench/pytorch/gan_recipe.py --out /tmp/gan-torch [--seed N] [--train-on split|all | --train-csv CSV]
      [--init keras|torch] [--bn keras|torch] [--fakes eval|train]
  dotnet run -c Release --project Lab.Experiments -- gan --out /tmp/gan-judged --judge-samples /tmp/gan-torch/samples.csv
(`--train-on split` draws its own 80%, not GenLab's split, so compare with `--train-on all` on both sides; `gan
--compare-pytorch` passes GenLab's own training rows with --train-csv and judges the samples itself.)
Beside samples.csv it writes run.json (torch version, threads, training seconds, settings; see recipe_common.py).
"""
import argparse, gzip, os, time
import recipe_common as rc
import torch
from torch import nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--out", required=True)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--epochs", type=int, default=20)
p.add_argument("--batch", type=int, default=16)
p.add_argument("--d-steps", type=int, default=5)
p.add_argument("--init", choices=["keras", "torch"], default="keras")
p.add_argument("--bn", choices=["keras", "torch"], default="keras")
p.add_argument("--fakes", choices=["eval", "train"], default="eval", help="generator mode for the discriminator's fakes")
p.add_argument("--train-on", choices=["split", "all"], default="split", help="a random 80%% of the digits, or all 1797")
p.add_argument("--threads", type=int, default=2)
p.add_argument("--train-csv", help="the rows to train on, as GenLab writes them (instead of --train-on)")
p.add_argument("--samples", type=int, default=1000)
a = p.parse_args()
torch.manual_seed(a.seed); torch.set_num_threads(a.threads)

here = os.path.dirname(os.path.abspath(__file__))
with gzip.open(os.path.join(here, "..", "..", "data", "digits.csv.gz"), "rt") as f:
    rows = [[float(v) for v in line.split(",")[:64]] for line in f if line.strip()]
X = (torch.tensor(rows, dtype=torch.float32) / 16.0).reshape(-1, 1, 8, 8)
if a.train_csv:
    X = rc.digits(a)
elif a.train_on == "split":
    X = X[torch.randperm(len(X))[: int(round(len(X) * 0.8))]]

eps_bn, mom = (1e-3, 0.01) if a.bn == "keras" else (1e-5, 0.1)
G = nn.Sequential(nn.Linear(10, 256), nn.ReLU(), nn.Unflatten(1, (16, 4, 4)), nn.BatchNorm2d(16, eps_bn, mom),
                  nn.ConvTranspose2d(16, 8, 2), nn.ReLU(), nn.BatchNorm2d(8, eps_bn, mom),
                  nn.ConvTranspose2d(8, 4, 2), nn.ReLU(), nn.BatchNorm2d(4, eps_bn, mom),
                  nn.ConvTranspose2d(4, 1, 3), nn.Sigmoid())
D = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 8, 3), nn.ReLU(), nn.Conv2d(8, 16, 3), nn.ReLU(),
                  nn.Flatten(), nn.Linear(64, 1))
if a.init == "keras":
    for m in list(G) + list(D):
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.xavier_uniform_(m.weight); nn.init.zeros_(m.bias)
adam_eps = 1e-7 if a.init == "keras" else 1e-8
dopt = torch.optim.Adam(D.parameters(), 1e-3, eps=adam_eps)
gopt = torch.optim.Adam(G.parameters(), 1e-3, eps=adam_eps)

def gen(n, train):
    G.train(train)
    return G(torch.randn(n, 10))

t0 = time.time()
for epoch in range(a.epochs):
    perm = torch.randperm(len(X))
    dl = gl = 0.0; steps = 0
    for i in range(0, len(X), a.batch):
        x = X[perm[i:i + a.batch]]; n = len(x)
        for _ in range(a.d_steps):
            with torch.no_grad():
                fake = gen(n, a.fakes == "train")
            dopt.zero_grad()
            lossD = (F.softplus(-D(x)) + F.softplus(D(fake))).mean()
            lossD.backward(); dopt.step()
        gopt.zero_grad()
        lossG = F.softplus(-D(gen(n, True))).mean()
        lossG.backward(); gopt.step()
        dl += lossD.item(); gl += lossG.item(); steps += 1
    print(f"epoch {epoch + 1}: d_loss {dl / steps:.4f} g_loss {gl / steps:.4f}", flush=True)
train_seconds = time.time() - t0
print(f"trained in {train_seconds:.1f} s")

t0 = time.time()
with torch.no_grad():
    s = gen(a.samples, False).reshape(a.samples, 64).tolist()
os.makedirs(a.out, exist_ok=True)
rc.write_samples(a, [f"p{i}" for i in range(64)], s, 0.0, 1.0)
rc.write_run(a, train_seconds, time.time() - t0, recipe="gan", d_steps=a.d_steps, init=a.init, bn=a.bn, fakes=a.fakes,
             adam_eps=adam_eps, final_d_loss=dl / steps, final_g_loss=gl / steps)
print(f"wrote {a.out}/samples.csv and run.json")
