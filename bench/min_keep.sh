#!/usr/bin/env bash
# How far can pruning go before accuracy drops? Prunes a baseline to each
# global kept fraction (one magnitude threshold for all layers) with the
# given retraining flags of `deepcompress prune`, and prints the test
# accuracy after each next to the baseline's.
#
#   bash bench/min_keep.sh MODEL "PRUNE FLAGS" FRACTION...
#   e.g. bash bench/min_keep.sh out/lenet300.safetensors \
#          "--gradual --epochs 30 --lr 0.02 --l2 1e-4 --distill 0.9 --temperature 2" 0.10 0.08 0.06
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1 flags=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/dc" ./cmd/deepcompress
echo "baseline: $("$tmp/dc" eval --model "$model" | sed 's/.*: //')"
for keep in "$@"; do
  # shellcheck disable=SC2086 # $flags is a list of flags
  "$tmp/dc" prune --model "$model" --out "$tmp/p.safetensors" --global-keep "$keep" $flags \
    2>/dev/null | grep -E '^total|after' | tr '\n' ' '
  echo " (global keep $keep)"
done
