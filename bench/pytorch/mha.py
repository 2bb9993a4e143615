#!/usr/bin/env python3
"""PyTorch's nn.MultiheadAttention on Lab.Bench's AttentionBenchmarks shape, for the GenLab / PyTorch ratio.

Self-attention, batch_first, B = 32 sequences of T = 64 steps of d = 128 features, 8 heads (head size 16);
one step is: gradients zeroed (set to None), forward, loss mean(y^2), backward of the weights and the input.
The causal variant passes a boolean upper-triangular attn_mask (True = not allowed), as GenLab's useCausalMask.
Configured as seed_workloads.py (see README.md): T threads (the machine's cores by default), one BLAS thread.
Prints one JSON line per case: case, device, threads, ms_per_step (the median of --repeats timed runs of --steps steps).

usage: mha.py [--device cpu|cuda] [--threads T] [--steps N] [--repeats R]
"""

import argparse
import json
import os
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

BATCH, STEPS, FEATURES, HEADS = 32, 64, 128, 8


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    device = torch.device(args.device)
    layer = nn.MultiheadAttention(FEATURES, HEADS, batch_first=True).to(device)
    x = torch.randn(BATCH, STEPS, FEATURES, device=device, requires_grad=True)
    causal_mask = torch.triu(torch.ones(STEPS, STEPS, dtype=torch.bool, device=device), diagonal=1)

    def step(causal):
        layer.zero_grad(set_to_none=True)
        x.grad = None
        y, _ = layer(x, x, x, attn_mask=causal_mask if causal else None, need_weights=False)
        loss = y.square().mean()
        loss.backward()
        return loss.item()  # waits for an asynchronous device

    for causal in (False, True):
        for _ in range(3):
            step(causal)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            for _ in range(args.steps):
                step(causal)
            times.append((time.perf_counter() - start) / args.steps * 1000)
        times.sort()
        print(json.dumps({"case": "mha_b32_t64_d128_h8" + ("_causal" if causal else ""), "device": args.device,
                          "threads": args.threads, "ms_per_step": round(times[len(times) // 2], 3)}), flush=True)


if __name__ == "__main__":
    main()
