#!/usr/bin/env bash
# Reproduces Table 1 for LeNet-300-100 and LeNet-5: `compress --preset paper`
# from the baselines of bench/baselines.sh, then eval and inspect on the
# written .dcz files.
#
#   bash bench/paper.sh [OUTDIR]      (default: ./out, holding lenet300.safetensors and lenet5.safetensors)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out}
go build -o "$out/deepcompress" ./cmd/deepcompress
dc="$out/deepcompress"
for m in lenet300 lenet5; do
  echo "== $m"
  /usr/bin/time -v "$dc" compress --model "$out/$m.safetensors" --out "$out/$m.dcz" --preset paper 2> "$out/compress-$m.err" | tee "$out/compress-$m.log"
  grep -E 'Elapsed|Maximum resident' "$out/compress-$m.err"
  "$dc" eval --model "$out/$m.dcz"
  "$dc" inspect "$out/$m.dcz"
done
