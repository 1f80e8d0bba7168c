#!/usr/bin/env bash
# Rate-aware weight sharing on the LeNet-300-100 max recipe: for each
# pruning seed, one full `compress --keep-work` run of
# bench/recipes/lenet300_max.json (the recipe's seed replaced), then the
# quantize, fine-tune and encode stages again from its pruned checkpoint
# at each lambda (bench/ratelambda), with the recipe's bits and with more
# bits. About 2 minutes a seed for the full run and 5 s a row on 2 cores.
#
#   bash bench/ratelambda/run.sh [SEED...]     (default 1 2 3)
set -euo pipefail
cd "$(dirname "$0")/../.."
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2 3)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/dc" ./cmd/deepcompress
go build -o "$tmp/rl" ./bench/ratelambda
for seed in "${seeds[@]}"; do
  sed "s/\"seed\": [0-9]*/\"seed\": $seed/" bench/recipes/lenet300_max.json >"$tmp/r$seed.json"
  nice "$tmp/dc" compress --model out/lenet300.safetensors --config "$tmp/r$seed.json" \
    --out "$tmp/full$seed.dcz" --half-codebooks --half-raw --coder auto --keep-work 2>/dev/null | grep -E '^huffman'
  for bits in "" fc1=4,fc2=4,fc3=4 'fc*=5'; do
    lambdas=0,0.01,0.02,0.03,0.05,0.1,0.3
    [ -z "$bits" ] || lambdas=0,0.01,0.03
    nice "$tmp/rl" -model out/lenet300.safetensors -pruned "$tmp/full$seed.dcz.work/pruned-round1.safetensors" \
      -config "$tmp/r$seed.json" -half -coder auto -out "$tmp/s$seed" -lambda "$lambdas" ${bits:+-bits "$bits"}
  done
  # lambda 0 is the full run: the same file.
  cmp "$tmp/full$seed.dcz" "$tmp/s$seed/lambda-0-seed$seed.dcz"
done
