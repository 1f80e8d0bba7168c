#!/usr/bin/env bash
# Stage 1 alone (issue 4): each baseline pruned to at most 8 % of its weights
# with the gradual (Zhu-Gupta) schedule, then the per-layer table and the
# accuracy before and after. LeNet-300-100 is pruned twice, the second time
# with the unpruned model as teacher (--distill); bench/prune_seeds.sh
# repeats both over seeds.
#
#   bash bench/prune.sh [OUTDIR]      (default: ./out, holding the baselines)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out}
go build -o "$out/deepcompress" ./cmd/deepcompress
dc="$out/deepcompress"
echo "== lenet300"
"$dc" prune --model "$out/lenet300.safetensors" --out "$out/lenet300-pruned.safetensors" \
  --layers fc1=0.077,fc2=0.09,fc3=0.26 --gradual --epochs 30 --lr 0.02 --l2 1e-4 2>/dev/null
echo "== lenet300, distilled from the unpruned model"
"$dc" prune --model "$out/lenet300.safetensors" --out "$out/lenet300-pruned-distilled.safetensors" \
  --layers fc1=0.077,fc2=0.09,fc3=0.26 --gradual --epochs 30 --lr 0.02 --l2 1e-4 \
  --distill 0.9 --temperature 2 2>/dev/null | tail -2
echo "== lenet5"
# The same settings and seed as the prune stage of `compress --preset paper`
# (the pipeline seeds its pruning with seed+1), so the two give the same model.
"$dc" prune --model "$out/lenet5.safetensors" --out "$out/lenet5-pruned.safetensors" \
  --layers conv1=0.66,conv2=0.20,fc1=0.065,fc2=0.19 --gradual --epochs 40 --lr 0.02 --l2 5e-4 --seed 2 2>/dev/null
