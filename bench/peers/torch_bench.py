"""Training speed of the default backpropviz network in PyTorch, on --threads CPU threads (1 by default).

The network, data and optimizer match engine/bench_test.go (BenchmarkTrainStep):
Conv2d(1,8,5,padding=2) ReLU MaxPool2d(2) Conv2d(8,16,5,padding=2) ReLU MaxPool2d(3)
Flatten Linear(256,10) with CrossEntropyLoss, trained by SGD (learning rate 0.01,
momentum 0.9) on the first --images MNIST training images, normalised x/255, read from
the files the engine embeds. Prints one line of JSON per run:
{"peer": "pytorch-float32", "batch": 20, "img_per_s": ..., "steps": ...}.

Run with Debian's python3-torch: /usr/bin/python3 torch_bench.py --batch 20
"""

import argparse
import gzip
import json
import os
import struct
import time

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
MNIST_DIR = os.path.join(HERE, "..", "..", "engine", "dataset", "mnist")


def load_mnist(n):
    """Returns the first n training images (n, 1, 28, 28) as x/255 and their labels (n)."""
    with gzip.open(os.path.join(MNIST_DIR, "train-images-idx3-ubyte.gz"), "rb") as f:
        magic, count, rows, cols = struct.unpack(">IIII", f.read(16))
        if magic != 2051:
            raise ValueError(f"train images: magic {magic}, want 2051")
        n = min(n, count)
        pix = f.read(n * rows * cols)
    with gzip.open(os.path.join(MNIST_DIR, "train-labels-idx1-ubyte.gz"), "rb") as f:
        magic, count = struct.unpack(">II", f.read(8))
        if magic != 2049:
            raise ValueError(f"train labels: magic {magic}, want 2049")
        labels = f.read(n)
    x = torch.frombuffer(bytearray(pix), dtype=torch.uint8).reshape(n, 1, rows, cols)
    y = torch.frombuffer(bytearray(labels), dtype=torch.uint8).long()
    return x.double() / 255, y


def network():
    return nn.Sequential(
        nn.Conv2d(1, 8, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(3),
        nn.Flatten(),
        nn.Linear(256, 10),
    )


def measure(x, y, batch, seconds, warmup):
    """Trains for at least `seconds` after `warmup` steps; returns (images/s, steps)."""
    torch.manual_seed(1)
    model = network().to(x.dtype)
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    n = x.shape[0] - x.shape[0] % batch
    pos = 0

    def step():
        nonlocal pos
        xb, yb = x[pos:pos + batch], y[pos:pos + batch]
        pos = (pos + batch) % n
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    steps = 0
    start = time.perf_counter()
    while True:
        for _ in range(10):
            step()
        steps += 10
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return steps * batch / elapsed, steps


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=20, help="images per optimizer step")
    ap.add_argument("--images", type=int, default=2000, help="first N training images cycled through")
    ap.add_argument("--seconds", type=float, default=3.0, help="minimum measured time per run")
    ap.add_argument("--warmup", type=int, default=20, help="untimed steps before measuring")
    ap.add_argument("--runs", type=int, default=1, help="independent runs, one line each")
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    x, y = load_mnist(args.images)
    x = x.to(getattr(torch, args.dtype))
    for _ in range(args.runs):
        ips, steps = measure(x, y, args.batch, args.seconds, args.warmup)
        peer = f"pytorch-{args.dtype}" + (f"-{args.threads}t" if args.threads != 1 else "")
        print(json.dumps({"peer": peer, "batch": args.batch,
                          "img_per_s": round(ips, 1), "steps": steps,
                          "threads": torch.get_num_threads(), "torch": torch.__version__}),
              flush=True)


if __name__ == "__main__":
    main()
