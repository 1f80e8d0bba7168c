#!/usr/bin/python3
"""Time one SGD training step of a zoo net in PyTorch (CPU).

Usage: /usr/bin/python3 bench/zoo/train_step_torch.py [--net mobilenet] [--batch 32]
           [--threads 2] [--iters 30] [--warmup 5] [--lr 0.01] [--momentum 0.9]

One step = forward, loss (cross-entropy on random labels; BCE to a random
[0,1] target for the U-Net), backward, optimizer update (torch.optim.SGD with
momentum), model in train() mode (BatchNorm batch statistics, Dropout on).
Input: a seeded random normal batch [B,1,28,28]. After the warm-up steps it
prints one JSON line with the median, min and mean milliseconds per step.
Models come from models.py (the same definitions make_zoo.py exports).
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description="time a torch SGD training step")
    ap.add_argument("--net", default="mobilenet", choices=sorted(models.MODELS))
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--momentum", type=float, default=0.9)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    net = models.build(args.net)
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=args.momentum)
    x = torch.randn(args.batch, 1, 28, 28)
    if args.net == "unet":
        target = torch.rand(args.batch, 1, 28, 28)
        loss_fn = lambda out: F.binary_cross_entropy(out, target)  # noqa: E731
    else:
        y = torch.randint(0, 10, (args.batch,))
        loss_fn = lambda out: F.cross_entropy(out, y)  # noqa: E731

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x))
        loss.backward()
        opt.step()
        return loss

    for _ in range(args.warmup):
        step()
    ms = []
    for _ in range(args.iters):
        t0 = time.perf_counter()
        step()
        ms.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps({
        "runtime": f"torch {torch.__version__}", "net": args.net, "batch": args.batch,
        "threads": args.threads, "optimizer": f"SGD(lr={args.lr}, momentum={args.momentum})",
        "parameters": sum(p.numel() for p in net.parameters()),
        "warmup": args.warmup, "iters": args.iters,
        "median_ms": round(statistics.median(ms), 3), "min_ms": round(min(ms), 3),
        "mean_ms": round(statistics.mean(ms), 3),
    }))


if __name__ == "__main__":
    main()
