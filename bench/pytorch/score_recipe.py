"""GenLab's `score` (seed 001 exercise 9; Lab.Models/ScoreMlp.cs, Lab.Experiments/Experiments/ScoreExperiment.cs) in
plain PyTorch: score matching on the 2-D toy mixture, then Langevin sampling.

Model Linear(2->32) -> softplus -> Linear(32->32) -> softplus -> Linear(32->2), glorot-uniform weights, zero biases.
Loss (--loss exact, the default) Hyvaerinen's mean(|s(x)|^2 + 2 tr(ds/dx)), the trace built column by column with
autograd.grad(create_graph=True) as GenLab builds it; --loss sliced: mean(v'(ds/dx)v + (v's)^2/2), one v ~ N(0, I) per
point. Adam(1e-2) with eps 1e-7, batch 16, 20 epochs, a fresh shuffle every epoch with a short last batch.
Sampling: --samples points from N(0, std^2), std numpy's np.std over every coordinate of the training points, then
--steps steps of x <- x + eps s(x) + sqrt(2 eps T) xi (eps 0.01, T 1, 50 steps; 5000 points).
The training points are GenLab's (ToyData draws them with GenLab's generator), so --train-csv is required: `score
--compare-pytorch` writes them and judges samples.csv (x0,x1, the final positions) with GenLab's mode coverage.
The random streams are PyTorch's (seeded with --seed), so the comparison is of recipes, not of bits.

  /usr/bin/python3 bench/pytorch/score_recipe.py --out DIR --train-csv CSV [--seed N] [--epochs 20] [--batch 16]
      [--lr 0.01] [--loss exact|sliced] [--samples 5000] [--steps 50] [--eps 0.01] [--temperature 1] [--threads T]
"""
import math
import recipe_common as rc
import torch
from torch import nn

p = rc.parser("GenLab's 2-D score-matching recipe in PyTorch", epochs=20, batch=16)
p.add_argument("--lr", type=float, default=1e-2)
p.add_argument("--loss", choices=["exact", "sliced"], default="exact")
p.add_argument("--steps", type=int, default=50, help="Langevin steps")
p.add_argument("--eps", type=float, default=0.01, help="Langevin step size")
p.add_argument("--temperature", type=float, default=1.0, help="Langevin temperature")
p.set_defaults(samples=5000)
a = p.parse_args()
if not a.train_csv:
    p.error("--train-csv is required: the toy mixture's points come from GenLab (score --compare-pytorch writes them)")
rc.setup(a)
X = rc.read_rows(a.train_csv, 2)

model = nn.Sequential(nn.Linear(2, 32), nn.Softplus(), nn.Linear(32, 32), nn.Softplus(), nn.Linear(32, 2))
rc.keras_init(model)
opt = rc.adam(model.parameters(), a.lr)


def exact_loss(x):
    x = x.detach().requires_grad_(True)
    s = model(x)
    trace = sum(torch.autograd.grad(s[:, i].sum(), x, create_graph=True)[0][:, i:i + 1] for i in range(2))
    return ((s * s).sum(1, keepdim=True) + 2 * trace).mean()


def sliced_loss(x):
    x = x.detach().requires_grad_(True)
    s = model(x)
    v = torch.randn_like(x)
    jv = torch.autograd.grad((s * v).sum(), x, create_graph=True)[0]
    proj = (s * v).sum(1)
    return ((jv * v).sum(1) + proj * proj * 0.5).mean()


loss_fn = exact_loss if a.loss == "exact" else sliced_loss
clock = rc.Clock()
for epoch in range(a.epochs):
    perm = torch.randperm(len(X))
    total = 0.0
    for i in range(0, len(X), a.batch):
        x = X[perm[i:i + a.batch]]
        loss = loss_fn(x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total += loss.item() * len(x)
    print(f"epoch {epoch + 1}/{a.epochs}: loss {total / len(X):.4f}", flush=True)
train_seconds = clock.seconds()

clock = rc.Clock()
with torch.no_grad():
    std = X.std(unbiased=False).item()
    x = torch.randn(a.samples, 2) * std
    noise = math.sqrt(2 * a.eps * a.temperature)
    for _ in range(a.steps):
        x = x + model(x) * a.eps + torch.randn(a.samples, 2) * noise
    if not torch.isfinite(x).all():
        raise SystemExit(f"Langevin samples turned NaN or infinite within {a.steps} steps (eps {a.eps})")
sample_seconds = clock.seconds()
rc.write_samples(a, ["x0", "x1"], x.tolist())
rc.write_run(a, train_seconds, sample_seconds, recipe="score", loss=a.loss, lr=a.lr, steps=a.steps, eps=a.eps,
             temperature=a.temperature, start_std=std, final_loss=total / len(X))
print(f"trained in {train_seconds:.1f} s; wrote {a.out}/samples.csv and run.json")
