#!/usr/bin/env bash
# How far can pruning go before accuracy drops? Prunes a baseline to each
# global kept fraction with the gradual (Zhu-Gupta) schedule and one shared
# magnitude threshold, and prints the test accuracy next to the baseline's.
# Extra `deepcompress prune` flags (distillation, seed) go in PRUNE_FLAGS.
#
#   [PRUNE_FLAGS=...] bash bench/min_keep.sh MODEL EPOCHS LR L2 FRACTION...
#   e.g. PRUNE_FLAGS="--distill 0.9 --temperature 2" \
#        bash bench/min_keep.sh out/lenet300.safetensors 30 0.02 1e-4 0.10 0.08 0.06
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1 epochs=$2 lr=$3 l2=$4
shift 4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/dc" ./cmd/deepcompress
echo "baseline: $("$tmp/dc" eval --model "$model" | sed 's/.*: //')"
for keep in "$@"; do
  # shellcheck disable=SC2086 # PRUNE_FLAGS is a list of flags
  "$tmp/dc" prune --model "$model" --out "$tmp/p.safetensors" --global-keep "$keep" --gradual \
    --epochs "$epochs" --lr "$lr" --l2 "$l2" ${PRUNE_FLAGS:-} 2>/dev/null | grep -E '^total|after' | tr '\n' ' '
  echo " (global keep $keep)"
done
