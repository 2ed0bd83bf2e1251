"""The page's default recipe in PyTorch: test accuracy after whole epochs.

The same network as the engine's default (engine.DefaultSpec):
Conv2d(1,8,5,padding=2) ReLU MaxPool2d(2) Conv2d(8,16,5,padding=2) ReLU MaxPool2d(3)
Flatten Linear(256,10), CrossEntropyLoss, trained by Adam (betas 0.9, 0.999,
eps 1e-8) at batch 8 on all 60,000 MNIST training images (x/255, shuffled
each epoch), the learning rate falling linearly from 0.002 to 5% of it over
the first epoch counted in samples, as engine.Hyper.Rate:

    lr_step = lr * (1 - 0.95 * min(1, samples_before_step / (decay_epochs * 60000)))

then measured on all 10,000 test images. PyTorch's own initialisation and
shuffling (seeded by --seed), float32 by default (--float64 for the engine's
precision). Reads the files the engine embeds (engine/dataset/mnist/).

    /usr/bin/python3 bench/epoch/torch_epoch.py --seed 1
"""

import argparse
import gzip
import os
import struct
import time

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
MNIST_DIR = os.path.join(HERE, "..", "..", "engine", "dataset", "mnist")


def load(prefix):
    """Returns the images (n, 1, 28, 28) as x/255 and labels (n) of one MNIST set."""
    with gzip.open(os.path.join(MNIST_DIR, f"{prefix}-images-idx3-ubyte.gz"), "rb") as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        if magic != 2051:
            raise ValueError(f"{prefix} images: magic {magic}, want 2051")
        pix = f.read(n * rows * cols)
    with gzip.open(os.path.join(MNIST_DIR, f"{prefix}-labels-idx1-ubyte.gz"), "rb") as f:
        magic, m = struct.unpack(">II", f.read(8))
        if magic != 2049 or m != n:
            raise ValueError(f"{prefix} labels: magic {magic}, {m} labels for {n} images")
        labels = f.read(n)
    x = torch.frombuffer(bytearray(pix), dtype=torch.uint8).reshape(n, 1, rows, cols)
    y = torch.frombuffer(bytearray(labels), dtype=torch.uint8).long()
    return x.float() / 255, y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=0.002)
    ap.add_argument("--decay-epochs", type=float, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--float64", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xtr, ytr = load("train")
    xte, yte = load("t10k")
    dtype = torch.float64 if a.float64 else torch.float32
    xtr, xte = xtr.to(dtype), xte.to(dtype)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3),
        nn.Flatten(), nn.Linear(256, 10),
    ).to(dtype)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
    loss_fn = nn.CrossEntropyLoss()
    n = xtr.shape[0]
    samples = 0
    for epoch in range(1, a.epochs + 1):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(n)
        for i in range(0, n, a.batch):
            idx = order[i:i + a.batch]
            f = 1.0 if a.decay_epochs == 0 else min(1.0, samples / (a.decay_epochs * n))
            for g in opt.param_groups:
                g["lr"] = a.lr * (1 - 0.95 * f) if a.decay_epochs > 0 else a.lr
            opt.zero_grad()
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            samples += len(idx)
        el = time.perf_counter() - start
        model.eval()
        with torch.no_grad():
            acc = (model(xte).argmax(1) == yte).double().mean().item()
        print(f"pytorch seed {a.seed} epoch {epoch}: {el:.1f} s, test accuracy {acc:.4f}", flush=True)


if __name__ == "__main__":
    main()
