#!/usr/bin/env bash
# Times training epochs (batch 64, SGD with momentum) of LeNet-300-100 and
# LeNet-5 with deepcompress (all cores) and with PyTorch (Debian's
# python3-torch under /usr/bin/python3, 1 and 2 threads, the faster kept) in
# one run, and prints both and their ratio.
#
#   bash bench/epoch_vs_torch.sh [EPOCHS] [MODELS...]     (default: 3 lenet300 lenet5)
#
# Needs: apt-get install -y python3-torch. OPENBLAS_CORETYPE is set to
# SkylakeX (AVX-512 kernels) for the peer unless already set.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-3}
shift || true
models=("${@:-lenet300}")
[ $# -eq 0 ] && models=(lenet300 lenet5)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/epoch" ./bench/epoch
datadir=$(go run ./bench/mnistdir)
echo "MNIST from $datadir; $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
"$tmp/epoch" -epochs "$epochs" -data-dir "$datadir" "${models[@]}" | tee "$tmp/go.jsonl"
for th in 1 2; do
  OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX} /usr/bin/python3 bench/epoch_torch.py "$datadir" "$epochs" "$th" "${models[@]}" | tee -a "$tmp/torch.jsonl"
done
/usr/bin/python3 - "$tmp/go.jsonl" "$tmp/torch.jsonl" <<'PY'
import json, sys
go = {r["model"]: r for r in map(json.loads, open(sys.argv[1]))}
best = {}
for r in map(json.loads, open(sys.argv[2])):
    if r["model"] not in best or r["epoch_seconds"] < best[r["model"]]["epoch_seconds"]:
        best[r["model"]] = r
print()
print("| model | deepcompress s/epoch (threads) | PyTorch s/epoch (threads) | ratio deepcompress/PyTorch |")
print("|---|---|---|---|")
for m, g in go.items():
    t = best[m]
    print(f"| {m} | {g['epoch_seconds']:.2f} ({g['threads']}) | {t['epoch_seconds']:.2f} ({t['threads']}) | {g['epoch_seconds']/t['epoch_seconds']:.2f} |")
PY
