#!/usr/bin/env bash
# The seed-to-seed spread behind the pruning figures of issue 4: the dense
# LeNet-300-100 recipe trained from several seeds, and the baseline in
# OUTDIR pruned to 7.92 % (the settings of bench/prune.sh) with several
# retraining seeds, with and without distillation from the unpruned model.
#
#   bash bench/prune_seeds.sh [OUTDIR] [SEEDS]   (default: ./out, "1 2 3 4 5")
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out}
seeds=${2:-1 2 3 4 5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/dc" ./cmd/deepcompress
accuracy() { grep -oE '[0-9]+/10000 \([0-9.]+%' | tail -1 | sed 's/.*(//'; }
prune() {
  "$tmp/dc" prune --model "$out/lenet300.safetensors" --out "$tmp/p.safetensors" \
    --layers fc1=0.077,fc2=0.09,fc3=0.26 --gradual --epochs 30 --lr 0.02 --l2 1e-4 "$@" 2>/dev/null | accuracy
}
echo "| seed | dense recipe | pruned 7.92 % | pruned 7.92 %, distilled |"
echo "|---|---|---|---|"
for s in $seeds; do
  dense=$("$tmp/dc" train --arch lenet300 --out "$tmp/d.safetensors" --seed "$s" 2>/dev/null | accuracy)
  echo "| $s | $dense | $(prune --seed "$s") | $(prune --seed "$s" --distill 0.9 --temperature 2) |"
done
