"""GenLab's `vae` (seed 001 exercise 5; Lab.Models/Vae.cs, Lab.Experiments/Experiments/VaeExperiment.cs) in plain PyTorch.

Encoder Conv(1->4,3) -> Conv(4->8,3) -> Conv(8->16,3), relu, valid: 8 -> 6 -> 4 -> 2 pixels, Flatten(64), then
Linear(64->10) heads for mu and the log-variance l. Decoder Linear(10->256, relu) -> (16,4,4) -> ConvT(16->8,2) ->
ConvT(8->4,2), leaky relu 0.2 -> ConvT(4->1,3, sigmoid). Glorot-uniform weights, zero biases (Keras's and GenLab's).
Loss, as GenLab's: mean(-l - 1 + e^l + mu^2)/2 over N x 10 plus mean((f(mu + eps e^(l/2)) - x)^2)/(2T) over the pixels,
one reparameterised sample per image; Adam(1e-3) with eps 1e-7; batch 16, 20 epochs, T = 0.01, a fresh shuffle every
epoch with a short last batch. Samples: f(z) for 1000 z ~ N(0, I).
The random streams are PyTorch's (seeded with --seed), so the comparison is of recipes, not of bits.

  /usr/bin/python3 bench/pytorch/vae_recipe.py --out DIR [--train-csv CSV] [--seed N] [--epochs 20] [--batch 16]
      [--temperature 0.01] [--threads T]
`vae --compare-pytorch` runs it on GenLab's own training rows and judges samples.csv with GenLab's judge.
"""
import recipe_common as rc
import torch
from torch import nn

p = rc.parser("GenLab's VAE recipe in PyTorch", epochs=20, batch=16)
p.add_argument("--temperature", type=float, default=0.01, help="decoder variance T")
a = p.parse_args()
rc.setup(a)
X = rc.digits(a)

encoder = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 8, 3), nn.ReLU(), nn.Conv2d(8, 16, 3), nn.ReLU(),
                        nn.Flatten())
mu_head, log_var_head = nn.Linear(64, 10), nn.Linear(64, 10)
decoder = nn.Sequential(nn.Linear(10, 256), nn.ReLU(), nn.Unflatten(1, (16, 4, 4)),
                        nn.ConvTranspose2d(16, 8, 2), nn.LeakyReLU(0.2),
                        nn.ConvTranspose2d(8, 4, 2), nn.LeakyReLU(0.2),
                        nn.ConvTranspose2d(4, 1, 3), nn.Sigmoid())
rc.keras_init(encoder, mu_head, log_var_head, decoder)
modules = [encoder, mu_head, log_var_head, decoder]
opt = rc.adam([q for m in modules for q in m.parameters()])

clock = rc.Clock()
for epoch in range(a.epochs):
    perm = torch.randperm(len(X))
    total = kl_total = rec_total = 0.0
    for i in range(0, len(X), a.batch):
        x = X[perm[i:i + a.batch]]
        h = encoder(x)
        mu, l = mu_head(h), log_var_head(h)
        z = mu + torch.randn_like(mu) * (l * 0.5).exp()
        kl = ((l.exp() + mu * mu - l - 1) * 0.5).mean()
        rec = ((decoder(z) - x) ** 2).mean() / (2 * a.temperature)
        loss = kl + rec
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        n = len(x)
        total += loss.item() * n; kl_total += kl.item() * n; rec_total += rec.item() * n
    print(f"epoch {epoch + 1}/{a.epochs}: loss {total / len(X):.4f} kl_loss {kl_total / len(X):.4f} "
          f"reconstruction_loss {rec_total / len(X):.4f}", flush=True)
train_seconds = clock.seconds()

clock = rc.Clock()
with torch.no_grad():
    samples = decoder(torch.randn(a.samples, 10)).reshape(a.samples, 64).tolist()
sample_seconds = clock.seconds()
rc.write_samples(a, [f"p{i}" for i in range(64)], samples, 0.0, 1.0)
rc.write_run(a, train_seconds, sample_seconds, recipe="vae", temperature=a.temperature, final_loss=total / len(X),
             final_kl_loss=kl_total / len(X), final_reconstruction_loss=rec_total / len(X))
print(f"trained in {train_seconds:.1f} s; wrote {a.out}/samples.csv and run.json")
