"""PyTorch eager CUDA timings for the workloads Lab.Cuda.Check times (same shapes, Adam, data on the GPU).

python3 torch_reference.py  -> one line per workload, in the checker's format.
"""
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def mnist_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(),
        nn.Linear(576, 64), nn.ReLU(), nn.Linear(64, 10))


def toy_mlp():
    return nn.Sequential(nn.Linear(2, 10), nn.ReLU(), nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 5))


def train_steps(name, model, shape, classes, steps):
    dev = torch.device("cuda")
    model = model.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(*shape, device=dev)
    y = torch.randint(0, classes, (shape[0],), device=dev)

    def step():
        opt.zero_grad(set_to_none=False)
        loss = F.nll_loss(F.log_softmax(model(x), dim=1), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(20):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        loss = step()
    loss.item()
    seconds = time.perf_counter() - start
    print(f"torch {name}: {steps * shape[0] / seconds:.0f} samples/s, {seconds / steps * 1e3:.3f} ms/step", flush=True)


def main():
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}, cudnn.allow_tf32={torch.backends.cudnn.allow_tf32}, "
          f"matmul.allow_tf32={torch.backends.cuda.matmul.allow_tf32}", flush=True)
    for n in (1024, 4096):
        a = torch.randn(n, n, device="cuda")
        b = torch.randn(n, n, device="cuda")
        a @ b
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(10):
            a @ b
        torch.cuda.synchronize()
        ms = (time.perf_counter() - start) / 10 * 1e3
        print(f"torch matmul {n}: {ms:.3f} ms, {2 * n ** 3 / ms / 1e9:.1f} TFLOP/s", flush=True)
    for batch in (32, 256):
        train_steps(f"mnist_cnn_b{batch}", mnist_cnn(), (batch, 1, 28, 28), 10, 200)
    torch.backends.cudnn.allow_tf32 = False
    train_steps("mnist_cnn_b32 (no TF32)", mnist_cnn(), (32, 1, 28, 28), 10, 200)
    train_steps("toy_mlp_b32", toy_mlp(), (32, 2), 5, 500)


if __name__ == "__main__":
    main()
