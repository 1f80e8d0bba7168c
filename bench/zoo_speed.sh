#!/usr/bin/env bash
# Inference speed of the graph engine against onnxruntime (the npm package
# onnxruntime-node, CPU) on the zoo's ResNet- and MobileNet-style exports at
# batch 1 and 32, and one SGD training step of the MobileNet-style net
# against PyTorch (Debian's python3-torch), all with the same number of
# threads, in one run. Each measurement is repeated ROUNDS times, peers
# interleaved, and the best median kept (this machine is shared and noisy).
#
#   bash bench/zoo_speed.sh [THREADS] [ROUNDS]      (default 2 3)
#
# Needs: apt-get install -y python3-torch; (cd bench/ort && npm ci --ignore-scripts)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
rounds=${2:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -d bench/ort/node_modules/onnxruntime-node ] || (cd bench/ort && npm ci --ignore-scripts >/dev/null)
go build -o "$tmp/graphspeed" ./bench/graphspeed
echo "$(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); threads $threads; best of $rounds"
for r in $(seq "$rounds"); do
  for net in resnet mobilenet; do
    for b in 1 32; do
      GOMAXPROCS=$threads "$tmp/graphspeed" -model testdata/zoo/${net}_op17.onnx -batch "$b" -iters 50 | sed "s/^{/{\"net\":\"$net\",/" >>"$tmp/go.jsonl"
      node bench/ort/time.js testdata/zoo/${net}_op17.onnx --batch "$b" --threads "$threads" --iters 50 | sed "s/^{/{\"net\":\"$net\",/" >>"$tmp/ort.jsonl"
    done
  done
  GOMAXPROCS=$threads "$tmp/graphspeed" -model testdata/zoo/mobilenet_op17.onnx -batch 32 -iters 30 -train | sed 's/^{/{"net":"mobilenet",/' >>"$tmp/go_train.jsonl"
  OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX} /usr/bin/python3 bench/zoo/train_step_torch.py --net mobilenet --batch 32 --threads "$threads" --iters 30 >>"$tmp/torch_train.jsonl"
done
/usr/bin/python3 - "$tmp" <<'PY'
import json, sys, os
d = sys.argv[1]
def best(name, key):
    out = {}
    for r in map(json.loads, open(os.path.join(d, name))):
        k = key(r)
        if k not in out or r["median_ms"] < out[k]["median_ms"]:
            out[k] = r
    return out
go = best("go.jsonl", lambda r: (r["net"], r["batch"]))
ort = best("ort.jsonl", lambda r: (r["net"], r["batch"]))
print("\n| model | batch | deepcompress run (ms) | onnxruntime (ms) | ratio |")
print("|---|---|---|---|---|")
for k in sorted(go):
    g, o = go[k]["median_ms"], ort[k]["median_ms"]
    print(f"| {k[0]} | {k[1]} | {g:.3f} | {o:.3f} | {g/o:.2f}x |")
gt = best("go_train.jsonl", lambda r: r["net"])["mobilenet"]["median_ms"]
tt = best("torch_train.jsonl", lambda r: "mobilenet")["mobilenet"]["median_ms"]
print("\n| training step, mobilenet, batch 32 | deepcompress (ms) | PyTorch (ms) | ratio |")
print("|---|---|---|---|")
print(f"| SGD step | {gt:.2f} | {tt:.2f} | {gt/tt:.2f}x |")
PY
