#!/usr/bin/env python3
"""The GenLab seed workloads in PyTorch, timed the way Lab.Bench's `throughput` times them.

Same models (the Keras-style seed architectures of Lab.Models, translated layer by layer), batch sizes,
optimizers (Adam with Keras's eps 1e-7; lr 1e-2 for the score model), step definitions (one optimizer
update; the GAN: 5 discriminator updates with the generator in inference mode, then 1 generator update)
and thread count. Prints one JSON object per line with the fields GenLab's harness prints:
workload, device, steps_per_s, images_per_s, ms_per_step, allocated_bytes_per_step (null here).

PyTorch is configured at its best for these small CPU workloads (see bench/pytorch/README.md):
  * torch.set_num_threads(T): Lab.Bench's `throughput --compare-pytorch` tries T = 1 and T = the machine's
    cores, with oneDNN on and off (--mkldnn), per workload, and times the fastest configuration;
  * OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset in this process's environment (Lab.Bench removes them):
    some machines set them to force older, slower OpenBLAS kernels;
  * OPENBLAS_NUM_THREADS=1 (and MKL_NUM_THREADS=1): Debian's torch calls the system BLAS, OpenBLAS, from
    inside its own OpenMP threads; a threaded OpenBLAS under them oversubscribes the cores (3x slower on
    mnist_cnn_b32 here). These must be set before torch is imported, hence at the top of this file;
  * OMP_NUM_THREADS=T, so OpenMP does not size its pool otherwise;
  * zero_grad(set_to_none=True) (PyTorch 2's default) and Adam's foreach implementation when it helps
    (--foreach auto picks the faster one per workload in a short trial);
  * glibc's malloc told to keep large freed blocks (--malloc tuned, the default), so that activations are
    not page-faulted in afresh every step.

usage: seed_workloads.py [--device cpu|cuda] [--workloads a,b] [--seconds S] [--warmup S] [--threads T]
                         [--batch N] [--foreach auto|on|off] [--malloc tuned|default] [--mkldnn on|off]
"""

import argparse
import ctypes
import ctypes.util
import json
import os
import resource
import sys
import time


def _threads_from_argv(default):
    for i, a in enumerate(sys.argv):
        if a == "--threads" and i + 1 < len(sys.argv):
            return int(sys.argv[i + 1])
        if a.startswith("--threads="):
            return int(a.split("=", 1)[1])
    return default


THREADS = _threads_from_argv(os.cpu_count() or 1)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))

import torch  # noqa: E402  (the environment above must be set first)
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

WORKLOADS = ["toy_mlp_b10", "digits_cnn_b10", "vae_digits_b16", "gan_digits_b16_d5", "score_toy_b16", "mnist_cnn_b32",
             "lstm_adding_b32_t200", "attention_dates_b32"]
DEFAULT_BATCH = {"toy_mlp_b10": 10, "digits_cnn_b10": 10, "vae_digits_b16": 16, "gan_digits_b16_d5": 16,
                 "score_toy_b16": 16, "mnist_cnn_b32": 32, "lstm_adding_b32_t200": 32, "attention_dates_b32": 32}
ADDING_UNITS, ADDING_LENGTH, ADDING_LR = 32, 200, 1e-2  # AddingModels.StudyUnits, T, AddingModels.LearningRate
POOL = 8  # batches resident on the device, cycled through (as in the GenLab harness)
CHUNKS = 5
D_UPDATES = 5
PROB_EPS = 1e-7  # Keras's clipping of probabilities before the logarithm
ADAM_EPS = 1e-7  # Keras's Adam epsilon


def tune_malloc():
    """Keep freed large blocks in glibc's heap instead of returning them to the OS: every step allocates the
    same activation sizes again, and fresh pages cost a fault each on first touch (expensive in a VM; about
    2,300 faults per mnist_cnn_b32 step with the defaults). PyTorch's own advice is a caching allocator such
    as jemalloc or tcmalloc; mallopt gets the same effect from the allocator already loaded."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        ok = libc.mallopt(m_mmap_threshold, 32 << 20) == 1 and libc.mallopt(m_trim_threshold, 1 << 30) == 1
        return "glibc mallopt(mmap threshold 32 MiB, trim threshold 1 GiB)" if ok else "glibc malloc defaults (mallopt refused)"
    except (OSError, AttributeError):
        return "malloc defaults (no glibc)"


def keras_init(module):
    """Glorot-uniform weights and zero biases, Keras's defaults (GenLab's InitStyle.Keras)."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return module


class Act(nn.Module):
    """Keras's activation argument of Dense/Conv: softmax over classes, leaky relu with a given slope."""

    def __init__(self, kind, slope=0.2):
        super().__init__()
        self.kind, self.slope = kind, slope

    def forward(self, x):
        if self.kind == "relu":
            return F.relu(x)
        if self.kind == "leaky_relu":
            return F.leaky_relu(x, self.slope)
        if self.kind == "sigmoid":
            return torch.sigmoid(x)
        if self.kind == "softplus":
            return F.softplus(x)
        if self.kind == "softmax":
            return F.softmax(x, dim=1)
        raise ValueError(self.kind)


def toy_mlp():
    return nn.Sequential(nn.Linear(2, 10), Act("relu"), nn.Linear(10, 8), Act("relu"), nn.Linear(8, 5), Act("softmax"))


def digits_cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3), Act("relu"), nn.Conv2d(4, 8, 3), Act("relu"), nn.Conv2d(8, 8, 3), Act("relu"),
                         nn.Flatten(), nn.Linear(32, 10), Act("softmax"))


def mnist_cnn():
    return nn.Sequential(nn.Conv2d(1, 32, 3), Act("relu"), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), Act("relu"), nn.MaxPool2d(2),
                         nn.Conv2d(64, 64, 3), Act("relu"), nn.Flatten(), nn.Linear(576, 64), Act("relu"),
                         nn.Linear(64, 10), Act("softmax"))


def encoder_trunk(last):
    return nn.Sequential(nn.Conv2d(1, 4, 3), Act("relu"), nn.Conv2d(4, 8, 3), Act("relu"), nn.Conv2d(8, last, 3), Act("relu"),
                         nn.Flatten())


def decoder(latent, batch_norm, hidden):
    """The VAE decoder / GAN generator trunk: Dense(10->256, relu), Reshape(16,4,4), ConvT 2x2, 2x2, 3x3 (4->5->6->8)."""
    layers = [nn.Linear(latent, 256), Act("relu"), nn.Unflatten(1, (16, 4, 4))]
    if batch_norm:
        layers.append(nn.BatchNorm2d(16, eps=1e-3, momentum=0.01))
    layers += [nn.ConvTranspose2d(16, 8, 2), Act(hidden, 0.2)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(8, eps=1e-3, momentum=0.01))
    layers += [nn.ConvTranspose2d(8, 4, 2), Act(hidden, 0.2)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(4, eps=1e-3, momentum=0.01))
    layers += [nn.ConvTranspose2d(4, 1, 3), Act("sigmoid")]
    return nn.Sequential(*layers)


class Vae(nn.Module):
    def __init__(self, latent=10):
        super().__init__()
        self.encoder = encoder_trunk(16)
        self.mu = nn.Linear(64, latent)
        self.log_var = nn.Linear(64, latent)
        self.decoder = decoder(latent, batch_norm=False, hidden="leaky_relu")

    def loss(self, x, temperature=0.01):
        h = self.encoder(x)
        mu, log_var = self.mu(h), self.log_var(h)
        eps = torch.randn_like(mu)
        z = mu + eps * (log_var * 0.5).exp()
        recon = self.decoder(z)
        kl = ((log_var.exp() + mu * mu - log_var - 1) * 0.5).mean()
        return kl + ((recon - x) ** 2).mean() / (2 * temperature)


def score_mlp():
    return nn.Sequential(nn.Linear(2, 32), Act("softplus"), nn.Linear(32, 32), Act("softplus"), nn.Linear(32, 2))


def implicit_score_loss(model, x):
    """mean(|s(x)|^2 + 2 tr(ds/dx)), the trace built column by column with create_graph (second order)."""
    xi = x.detach().requires_grad_()
    s = model(xi)
    trace = None
    for i in range(s.shape[1]):
        column = torch.autograd.grad(s[:, i:i + 1].sum(), xi, create_graph=True)[0]
        diag = column[:, i:i + 1]
        trace = diag if trace is None else trace + diag
    return ((s * s).sum(1, keepdim=True) + trace * 2).mean()


class AddingLstm(nn.Module):
    """The sequence experiment's model: LSTM(2 -> units, batch first), its last output into Dense(1)."""

    def __init__(self, units):
        super().__init__()
        self.lstm = nn.LSTM(2, units, batch_first=True)
        self.head = nn.Linear(units, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def adding_batch(g, batch, length):
    """The adding problem: values U[0, 1], one marker in each half; the target is the sum of the two marked values."""
    values = torch.rand(batch, length, generator=g)
    first = torch.randint(0, length // 2, (batch,), generator=g)
    second = torch.randint(length // 2, length, (batch,), generator=g)
    markers = torch.zeros(batch, length)
    rows = torch.arange(batch)
    markers[rows, first] = 1
    markers[rows, second] = 1
    return torch.stack([values, markers], 2), (values[rows, first] + values[rows, second])[:, None]


class AttentionTranslator(nn.Module):
    """GenLab's AttentionTranslator (the attention experiment's model): a shared embedding, a bidirectional LSTM over
    the source (packed, so padding id 0 is skipped as Embedding(mask_zero) makes GenLab skip it), a forward LSTM of
    twice the units over the decoder input, dot-product scores with the padding masked, softmax, context vectors,
    [context, decoder state] -> Dense(tanh) -> Dense(softmax). Keras's initialisers: U(-0.05, 0.05) embeddings,
    Glorot-uniform input kernels, orthogonal recurrent kernels, zero biases with 1 on the LSTM forget gate."""

    def __init__(self, vocabulary=49, embedding=32, units=64, hidden=128):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, embedding)
        self.encoder = nn.LSTM(embedding, units, batch_first=True, bidirectional=True)
        self.decoder = nn.LSTM(embedding, 2 * units, batch_first=True)
        self.attentional = nn.Linear(4 * units, hidden)
        self.characters = nn.Linear(hidden, vocabulary)
        nn.init.uniform_(self.embedding.weight, -0.05, 0.05)
        for lstm in (self.encoder, self.decoder):
            for name, w in lstm.named_parameters():
                if name.startswith("weight_ih"):
                    nn.init.xavier_uniform_(w)
                elif name.startswith("weight_hh"):
                    nn.init.orthogonal_(w)
                else:  # PyTorch has two biases per direction: Keras's single bias, forget gate 1, lives in bias_ih
                    nn.init.zeros_(w)
                    if name.startswith("bias_ih"):
                        w.data[lstm.hidden_size:2 * lstm.hidden_size] = 1.0
        keras_init(self)

    def forward(self, source, decoder_input):
        lengths = (source != 0).sum(1)
        packed = nn.utils.rnn.pack_padded_sequence(self.embedding(source), lengths.cpu(), batch_first=True, enforce_sorted=False)
        h1, _ = self.encoder(packed)
        h1, _ = nn.utils.rnn.pad_packed_sequence(h1, batch_first=True, total_length=source.shape[1])
        h2, _ = self.decoder(self.embedding(decoder_input))
        scores = torch.bmm(h2, h1.transpose(1, 2)).masked_fill((source == 0).unsqueeze(1), -1e9)
        context = torch.bmm(scores.softmax(-1), h1)
        attentional = torch.tanh(self.attentional(torch.cat([context, h2], -1)))
        return F.softmax(self.characters(attentional), dim=-1)


def sparse_ce_on_probabilities(p, y):
    """Keras's sparse categorical cross-entropy on a softmax output: -log(clip(p[label]))."""
    return -p.gather(1, y[:, None]).clamp(PROB_EPS, 1 - PROB_EPS).log().mean()


def adam(params, lr, foreach):
    return torch.optim.Adam(params, lr=lr, eps=ADAM_EPS, foreach=foreach)


class Run:
    """A workload ready to step: model(s), optimizer(s) and a pool of resident batches."""

    def __init__(self, name, batch, device, foreach):
        self.name, self.batch, self.device = name, batch, device
        g = torch.Generator().manual_seed(2)
        images = lambda shape: [torch.rand(batch, *shape, generator=g).to(device) for _ in range(POOL)]
        points = lambda: [torch.randn(batch, 2, generator=g).to(device) for _ in range(POOL)]
        labels = lambda classes: [torch.tensor([(i * 7 + p) % classes for i in range(batch)], device=device)
                                  for p in range(POOL)]
        torch.manual_seed(1)
        self.i = 0
        self.labels = None
        if name in ("toy_mlp_b10", "digits_cnn_b10", "mnist_cnn_b32"):
            self.model = keras_init({"toy_mlp_b10": toy_mlp, "digits_cnn_b10": digits_cnn, "mnist_cnn_b32": mnist_cnn}[name]()).to(device)
            self.inputs = points() if name == "toy_mlp_b10" else images((1, 8, 8) if name == "digits_cnn_b10" else (1, 28, 28))
            self.labels = labels(5 if name == "toy_mlp_b10" else 10)
            self.opt = adam(self.model.parameters(), 1e-3, foreach)
            self.step = self.classifier_step
        elif name == "attention_dates_b32":
            vocabulary, source_length, target_length = 49, 28, 10
            self.model = AttentionTranslator(vocabulary).to(device)
            self.inputs, self.labels = [], []
            for _ in range(POOL):
                # Sources of 5 to 28 characters then padding, decoder inputs and targets of 10 (as GenLab's harness).
                lengths = torch.randint(5, source_length + 1, (batch, 1), generator=g)
                source = torch.randint(1, vocabulary, (batch, source_length), generator=g)
                source = source * (torch.arange(source_length)[None, :] < lengths)
                decoder_input = torch.randint(1, vocabulary, (batch, target_length), generator=g)
                self.inputs.append((source.to(device), decoder_input.to(device)))
                self.labels.append(torch.randint(1, vocabulary, (batch, target_length), generator=g).to(device))
            self.opt = adam(self.model.parameters(), 3e-3, foreach)
            self.step = self.attention_step
        elif name == "vae_digits_b16":
            self.model = keras_init(Vae()).to(device)
            self.inputs = images((1, 8, 8))
            self.opt = adam(self.model.parameters(), 1e-3, foreach)
            self.step = self.vae_step
        elif name == "gan_digits_b16_d5":
            self.gen = keras_init(decoder(10, batch_norm=True, hidden="relu")).to(device)
            self.disc = keras_init(nn.Sequential(encoder_trunk(16), nn.Linear(64, 1))).to(device)
            self.inputs = images((1, 8, 8))
            self.g_opt = adam(self.gen.parameters(), 1e-3, foreach)
            self.d_opt = adam(self.disc.parameters(), 1e-3, foreach)
            self.step = self.gan_step
        elif name == "score_toy_b16":
            self.model = keras_init(score_mlp()).to(device)
            self.inputs = points()
            self.opt = adam(self.model.parameters(), 1e-2, foreach)
            self.step = self.score_step
        elif name == "lstm_adding_b32_t200":
            self.model = AddingLstm(ADDING_UNITS).to(device)
            pool = [adding_batch(g, batch, ADDING_LENGTH) for _ in range(POOL)]
            self.inputs = [x.to(device) for x, _ in pool]
            self.labels = [y.to(device) for _, y in pool]
            self.opt = adam(self.model.parameters(), ADDING_LR, foreach)
            self.step = self.regression_step
        else:
            raise ValueError(f"unknown workload {name}")
        self.last_loss = None

    def images_per_step(self):
        return self.batch * D_UPDATES if self.name.startswith("gan") else self.batch

    def _next(self):
        i = self.i
        self.i = (self.i + 1) % POOL
        return i

    def classifier_step(self):
        i = self._next()
        self.opt.zero_grad(set_to_none=True)
        loss = sparse_ce_on_probabilities(self.model(self.inputs[i]), self.labels[i])
        loss.backward()
        self.opt.step()
        self.last_loss = loss

    def attention_step(self):
        i = self._next()
        self.opt.zero_grad(set_to_none=True)
        p = self.model(*self.inputs[i])
        loss = sparse_ce_on_probabilities(p.reshape(-1, p.shape[-1]), self.labels[i].reshape(-1))
        loss.backward()
        self.opt.step()
        self.last_loss = loss

    def regression_step(self):
        i = self._next()
        self.opt.zero_grad(set_to_none=True)
        loss = F.mse_loss(self.model(self.inputs[i]), self.labels[i])
        loss.backward()
        self.opt.step()
        self.last_loss = loss

    def vae_step(self):
        x = self.inputs[self._next()]
        self.opt.zero_grad(set_to_none=True)
        loss = self.model.loss(x)
        loss.backward()
        self.opt.step()
        self.last_loss = loss

    def gan_step(self):
        real = self.inputs[self._next()]
        for _ in range(D_UPDATES):
            with torch.no_grad():
                self.gen.eval()
                fake = self.gen(torch.randn(self.batch, 10, device=self.device))
            self.d_opt.zero_grad(set_to_none=True)
            d_loss = (F.softplus(-self.disc(real)) + F.softplus(self.disc(fake))).mean()
            d_loss.backward()
            self.d_opt.step()
        self.gen.train()
        self.g_opt.zero_grad(set_to_none=True)
        g_loss = F.softplus(-self.disc(self.gen(torch.randn(self.batch, 10, device=self.device)))).mean()
        g_loss.backward()
        self.g_opt.step()
        self.last_loss = g_loss

    def score_step(self):
        x = self.inputs[self._next()]
        self.opt.zero_grad(set_to_none=True)
        loss = implicit_score_loss(self.model, x)
        loss.backward()
        self.opt.step()
        self.last_loss = loss

    def sync(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        return float(self.last_loss) if self.last_loss is not None else 0.0


def measure(run, seconds, warmup):
    """Warm-up, then CHUNKS timed parts; the median part's rate (as GenLab's StepTimer)."""
    start, warm = time.perf_counter(), 0
    while warm < 3 or time.perf_counter() - start < warmup:
        run.step()
        warm += 1
    run.sync()
    rates, steps, total = [], 0, 0.0
    for _ in range(CHUNKS):
        n, t0 = 0, time.perf_counter()
        while True:
            run.step()
            n += 1
            if time.perf_counter() - t0 >= seconds / CHUNKS:
                break
        run.sync()
        elapsed = time.perf_counter() - t0
        rates.append(n / elapsed)
        steps += n
        total += elapsed
    rates.sort()
    return steps, total, rates[len(rates) // 2]


def sig4(x):
    return float(f"{x:.4g}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=THREADS)
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--foreach", default="auto", choices=["auto", "on", "off"])
    ap.add_argument("--malloc", default="tuned", choices=["tuned", "default"])
    ap.add_argument("--mkldnn", default="on", choices=["on", "off"],
                    help="oneDNN (mkldnn) convolutions on or off; off is faster for the digits-sized convolutions in torch 1.13")
    args = ap.parse_args()
    malloc = tune_malloc() if args.malloc == "tuned" else "glibc malloc defaults"

    torch.set_num_threads(args.threads)
    torch.backends.mkldnn.enabled = args.mkldnn == "on"
    device = torch.device(args.device)
    config = (f"torch {torch.__version__}, {torch.get_num_threads()} threads, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, "
              f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, "
              f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}, "
              f"mkldnn={'on' if torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled else 'off'}")
    for name in [w.strip() for w in args.workloads.split(",") if w.strip()]:
        batch = args.batch or DEFAULT_BATCH.get(name, 0)
        line = {"workload": name, "device": args.device, "impl": "pytorch", "batch": batch, "threads": torch.get_num_threads()}
        if name not in WORKLOADS:
            line["error"] = f"unknown workload {name}"
        elif device.type == "cuda" and not torch.cuda.is_available():
            line["error"] = "CUDA not available: torch.cuda.is_available() is False (this PyTorch has no CUDA or sees no GPU)"
        else:
            if args.foreach == "auto":
                # A short trial of both Adam implementations; the faster one is timed for real.
                trial = {}
                for fe in (False, True):
                    trial[fe] = measure(Run(name, batch, device, fe), min(1.0, args.seconds / 2), 0.3)[2]
                foreach = max(trial, key=trial.get)
            else:
                foreach = args.foreach == "on"
            run = Run(name, batch, device, foreach)
            faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            steps, total, rate = measure(run, args.seconds, args.warmup)
            faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
            line.update({"steps_per_s": sig4(rate), "images_per_s": sig4(rate * run.images_per_step()),
                         "ms_per_step": sig4(1000 / rate), "allocated_bytes_per_step": None,
                         "steps": steps, "seconds": round(total, 3),
                         "page_faults_per_step": round(faults / steps, 1),
                         "config": f"{config}, adam foreach={foreach}, zero_grad(set_to_none=True), {malloc}"})
        line.setdefault("error", None)
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
