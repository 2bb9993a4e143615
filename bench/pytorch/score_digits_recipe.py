"""GenLab's `score-digits` (Lab.Models/NoiseConditionalScoreNet.cs, Lab.Experiments/Experiments/ScoreDigitsExperiment.cs)
in plain PyTorch: a noise-conditional score network on the 8x8 digits, denoising score matching, annealed Langevin.

Noise levels: --sigmas, GenLab's ladder passed as it is (a geometric ladder from the largest distance between two
training digits down to 0.01: 20 levels). Conditioning on sigma: features log s, then sin and cos of f log s for f in
0.25, 0.5, 1, 2, 4, 8 (13 in all); Karras et al.'s preconditioning with sigma_data 0.5: c_in = 1/sqrt(s^2 + 0.25),
c_skip = 0.25/(s^2 + 0.25), c_out = 0.5 s/sqrt(s^2 + 0.25); denoiser D(x, s) = c_skip x + c_out F(c_in x, s), score
(D - x)/s^2. F (--net conv, the default): a global code silu(Linear(64->256)(x) + Linear(13->256, no bias)(features))
joined with the features (269), then 4 x [3x3 same conv (1 or C -> C) + Linear(269->C, no bias)(code) per channel, silu],
then a 3x3 same conv C -> 1, C = --hidden 32; --net mlp: 3 x silu(Linear(64 or H -> H)(x) + Linear(13->H, no bias)), then
Linear(H->64), H = --hidden 256. Glorot-uniform weights, zero biases (GenLab's Keras defaults).
Training: one level drawn uniformly per image per step, x~ = x + s z, loss mean((F(c_in x~, s) - (x - c_skip x~)/c_out)^2)
over rows and pixels; Adam(1e-3) with eps 1e-7, batch 64, 300 epochs, the learning rate set at each epoch's start to
lr/10 + (lr - lr/10)(1 + cos(pi epoch/epochs))/2 (--lr-schedule cosine), an exponential average of the weights with decay
0.999 updated after every step (starting from the initial weights) and copied into the network for sampling.
Sampling (Song and Ermon's Algorithm 1): x ~ U(0, 1)^64, at each level --steps-per-level (20) steps of
x + (a/2) score(x, s) + sqrt(a) z with a = eps s^2/s_L^2 (eps = --step-eps 1e-5), then Tweedie's step x = D(x, s_L).
The random streams are PyTorch's (seeded with --seed), so the comparison is of recipes, not of bits.

  /usr/bin/python3 bench/pytorch/score_digits_recipe.py --out DIR --sigmas S1,S2,... [--train-csv CSV] [--seed N]
      [--epochs 300] [--batch 64] [--steps-per-level 20] [--step-eps 1e-5] [--net conv|mlp] [--hidden N] [--lr 1e-3]
      [--lr-schedule cosine|constant] [--ema 0.999] [--threads T]
`score-digits --compare-pytorch` runs it on GenLab's training rows and ladder and judges samples.csv with GenLab's judge.
"""
import math
import recipe_common as rc
import torch
from torch import nn
import torch.nn.functional as F

p = rc.parser("GenLab's noise-conditional score network recipe in PyTorch", epochs=300, batch=64)
p.add_argument("--sigmas", required=True, help="the noise levels, largest first, comma-separated")
p.add_argument("--steps-per-level", type=int, default=20)
p.add_argument("--step-eps", type=float, default=1e-5)
p.add_argument("--net", choices=["conv", "mlp"], default="conv")
p.add_argument("--hidden", type=int, help="channels of the conv net (32), units of the MLP (256)")
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--lr-schedule", choices=["cosine", "constant"], default="cosine")
p.add_argument("--ema", type=float, default=0.999)
a = p.parse_args()
rc.setup(a)
X = rc.digits(a).reshape(-1, 64)
sigmas = [float(s) for s in a.sigmas.split(",")]
FREQUENCIES = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
FEATURES = 1 + 2 * len(FREQUENCIES)
DATA_STD = 0.5


def conditioning(s):
    """Per-row features and preconditioning coefficients for a column of noise levels s (N x 1)."""
    t = s.log()
    features = [t]
    for f in FREQUENCIES:
        features += [torch.sin(f * t), torch.cos(f * t)]
    total = s * s + DATA_STD ** 2
    return torch.cat(features, 1), 1 / total.sqrt(), DATA_STD ** 2 / total, s * DATA_STD / total.sqrt(), 1 / (s * s)


class ConvNet(nn.Module):
    def __init__(self, channels=32, depth=4, code=256):
        super().__init__()
        self.channels = channels
        self.glob = nn.Linear(64, code)
        self.glob_noise = nn.Linear(FEATURES, code, bias=False)
        self.convs = nn.ModuleList(nn.Conv2d(1 if i == 0 else channels, channels, 3, padding=1) for i in range(depth))
        self.biases = nn.ModuleList(nn.Linear(code + FEATURES, channels, bias=False) for _ in range(depth))
        self.out = nn.Conv2d(channels, 1, 3, padding=1)

    def forward(self, x, features):
        n = len(x)
        code = torch.cat([F.silu(self.glob(x) + self.glob_noise(features)), features], 1)
        h = x.reshape(n, 1, 8, 8)
        for conv, bias in zip(self.convs, self.biases):
            h = F.silu(conv(h) + bias(code).reshape(n, self.channels, 1, 1))
        return self.out(h).reshape(n, 64)


class MlpNet(nn.Module):
    def __init__(self, hidden=256, depth=3):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(64 if i == 0 else hidden, hidden) for i in range(depth))
        self.noise = nn.ModuleList(nn.Linear(FEATURES, hidden, bias=False) for _ in range(depth))
        self.out = nn.Linear(hidden, 64)

    def forward(self, x, features):
        h = x
        for layer, noise in zip(self.layers, self.noise):
            h = F.silu(layer(h) + noise(features))
        return self.out(h)


net = ConvNet(a.hidden or 32) if a.net == "conv" else MlpNet(a.hidden or 256)
rc.keras_init(net)
params = list(net.parameters())
opt = rc.adam(params, a.lr)
shadow = [q.detach().clone() for q in params] if a.ema > 0 else None


def denoise(x, c):
    features, c_in, c_skip, c_out, _ = c
    return x * c_skip + net(x * c_in, features) * c_out


ladder = torch.tensor(sigmas)
clock = rc.Clock()
every = max(1, a.epochs // 15)
for epoch in range(a.epochs):
    if a.lr_schedule == "cosine":
        low = a.lr / 10
        for group in opt.param_groups:
            group["lr"] = low + (a.lr - low) * 0.5 * (1 + math.cos(math.pi * min(1.0, epoch / max(1, a.epochs))))
    perm = torch.randperm(len(X))
    total = 0.0
    for i in range(0, len(X), a.batch):
        x = X[perm[i:i + a.batch]]
        s = ladder[torch.randint(len(sigmas), (len(x),))].reshape(-1, 1)
        features, c_in, c_skip, c_out, _ = conditioning(s)
        noisy = x + torch.randn_like(x) * s
        target = (x - noisy * c_skip) / c_out
        loss = ((net(noisy * c_in, features) - target) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if shadow is not None:
            with torch.no_grad():
                for q, sh in zip(params, shadow):
                    sh.add_(q - sh, alpha=1 - a.ema)
        total += loss.item() * len(x)
    if (epoch + 1) % every == 0 or epoch + 1 == a.epochs:
        print(f"epoch {epoch + 1}/{a.epochs}: loss {total / len(X):.5f} ({clock.seconds():.0f}s)", flush=True)
train_seconds = clock.seconds()
if shadow is not None:
    with torch.no_grad():
        for q, sh in zip(params, shadow):
            q.copy_(sh)

clock = rc.Clock()
net.eval()
with torch.no_grad():
    n, last = a.samples, sigmas[-1]
    x = torch.rand(n, 64)
    for level, sigma in enumerate(sigmas):
        c = conditioning(torch.full((n, 1), sigma))
        alpha = a.step_eps * sigma * sigma / (last * last)
        for _ in range(a.steps_per_level):
            x = x + (denoise(x, c) - x) * c[4] * (alpha / 2) + torch.randn(n, 64) * math.sqrt(alpha)
        if not torch.isfinite(x).all():
            raise SystemExit(f"annealed Langevin samples turned NaN or infinite at level {level + 1} (sigma {sigma:g})")
    x = denoise(x, conditioning(torch.full((n, 1), last)))
sample_seconds = clock.seconds()
rc.write_samples(a, [f"p{i}" for i in range(64)], x.tolist(), 0.0, 1.0)
rc.write_run(a, train_seconds, sample_seconds, recipe="score-digits", net=a.net, hidden=a.hidden or (32 if a.net == "conv" else 256),
             sigmas=sigmas, steps_per_level=a.steps_per_level, step_eps=a.step_eps, lr=a.lr, lr_schedule=a.lr_schedule,
             ema=a.ema, final_loss=total / len(X))
print(f"trained in {train_seconds:.1f} s, sampled in {sample_seconds:.1f} s; wrote {a.out}/samples.csv and run.json")
