#!/usr/bin/env bash
# Trains the two baselines with the default recipe, one `deepcompress train`
# run each, under /usr/bin/time -v (wall time, peak resident memory).
#
#   bash bench/baselines.sh [OUTDIR]      (default: ./out)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out}
mkdir -p "$out"
go build -o "$out/deepcompress" ./cmd/deepcompress
for m in lenet300 lenet5; do
  /usr/bin/time -v "$out/deepcompress" train --arch "$m" --out "$out/$m.safetensors" 2> "$out/train-$m.err" | tee "$out/train-$m.log"
  grep -E 'Elapsed|Maximum resident' "$out/train-$m.err"
done
