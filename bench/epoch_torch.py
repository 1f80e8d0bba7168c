"""Time training epochs of LeNet-300-100 and LeNet-5 in PyTorch on MNIST.

The peer for bench/epoch_vs_torch.sh: same architectures, batch size,
optimizer (SGD, momentum 0.9, weight decay) and data as deepcompress.
Prints one JSON line per (model, threads) with the steady-state epoch
time (the fastest epoch after the first).

Usage: /usr/bin/python3 epoch_torch.py MNIST_DIR EPOCHS THREADS MODEL...
"""
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find(d, name):
    for n in (name, name + ".gz"):
        if os.path.exists(os.path.join(d, n)):
            return os.path.join(d, n)
    raise SystemExit(f"{name} not found in {d}")


class LeNet300(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(784, 300), nn.Linear(300, 100), nn.Linear(100, 10)

    def forward(self, x):
        x = x.flatten(1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 20, 5), nn.Conv2d(20, 50, 5)
        self.fc1, self.fc2 = nn.Linear(800, 500), nn.Linear(500, 10)

    def forward(self, x):
        x = F.max_pool2d(self.conv1(x), 2)
        x = F.max_pool2d(self.conv2(x), 2)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


def main():
    d, epochs, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    x = idx(find(d, "train-images-idx3-ubyte")).astype(np.float32) / 255.0
    x = torch.from_numpy((x - 0.1307) / 0.3081).reshape(-1, 1, 28, 28)
    y = torch.from_numpy(idx(find(d, "train-labels-idx1-ubyte")).astype(np.int64))
    for name in sys.argv[4:]:
        model = {"lenet300": LeNet300, "lenet5": LeNet5}[name]()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        times = []
        for _ in range(epochs):
            perm = torch.randperm(len(y))
            start = time.perf_counter()
            for i in range(0, len(y), 64):
                b = perm[i:i + 64]
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(model(x[b]), y[b])
                loss.backward()
                opt.step()
            times.append(time.perf_counter() - start)
        steady = min(times[1:]) if len(times) > 1 else times[0]
        print(json.dumps({"peer": "pytorch " + torch.__version__, "model": name, "threads": threads,
                          "epoch_seconds": steady, "epochs": times}), flush=True)


if __name__ == "__main__":
    main()
