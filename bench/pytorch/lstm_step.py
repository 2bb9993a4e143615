"""nn.LSTM on the shapes of Lab.Bench's LstmBenchmarks: batch 32, 100 steps, 128 inputs, 128 units, batch first.

Times a forward pass under no_grad and a training step (forward, backward of mean(h_T^2), grads zeroed), each the
median of several timed parts after a warm-up, and prints one JSON line per case (milliseconds per call).
Usage: /usr/bin/python3 bench/pytorch/lstm_step.py [--threads N] [--seconds S]
"""
import argparse
import json
import os
import statistics
import time

for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(var, None)

import torch  # noqa: E402

BATCH, STEPS, INPUTS, UNITS = 32, 100, 128, 128


def timed(fn, seconds):
    for _ in range(3):
        fn()
    parts = []
    for _ in range(5):
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / 5:
            fn()
            n += 1
        parts.append((time.perf_counter() - start) / n * 1e3)
    return statistics.median(parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    lstm = torch.nn.LSTM(INPUTS, UNITS, batch_first=True)
    x = torch.randn(BATCH, STEPS, INPUTS)

    def forward():
        with torch.no_grad():
            out, _ = lstm(x)
            return out[:, -1].sum().item()

    def train_step():
        lstm.zero_grad(set_to_none=False)
        out, _ = lstm(x)
        loss = out[:, -1].square().mean()
        loss.backward()
        return loss.item()

    for name, fn in (("Forward", forward), ("TrainStep", train_step)):
        print(json.dumps({"case": f"lstm_b{BATCH}_t{STEPS}_h{UNITS}.{name}", "torch": torch.__version__,
                          "threads": args.threads, "ms": round(timed(fn, args.seconds), 3)}))


if __name__ == "__main__":
    main()
