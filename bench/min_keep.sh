#!/usr/bin/env bash
# How far can pruning go before accuracy drops? Prunes a baseline to each
# global kept fraction with the gradual (Zhu-Gupta) schedule and one shared
# magnitude threshold, and prints the test accuracy next to the baseline's.
#
#   bash bench/min_keep.sh MODEL EPOCHS LR L2 FRACTION...
#   e.g. bash bench/min_keep.sh out/lenet300.safetensors 30 0.02 1e-4 0.05 0.04 0.03 0.02
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1 epochs=$2 lr=$3 l2=$4
shift 4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/dc" ./cmd/deepcompress
echo "baseline: $("$tmp/dc" eval --model "$model" | sed 's/.*: //')"
for keep in "$@"; do
  "$tmp/dc" prune --model "$model" --out "$tmp/p.safetensors" --global-keep "$keep" --gradual \
    --epochs "$epochs" --lr "$lr" --l2 "$l2" 2>/dev/null | grep -E '^total|after' | tr '\n' ' '
  echo " (global keep $keep)"
done
