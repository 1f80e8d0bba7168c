#!/usr/bin/env bash
# Float16 codebooks and biases on the paper preset's files (issue 16): for
# LeNet-300-100 and LeNet-5, bench/halfdcz rewrites the .dcz written by
# `compress --preset paper` (bench/paper.sh) with its codebooks and raw
# tensors in float16 (dcz.Model.SetFloat16), then `deepcompress eval`
# counts correct test images on both files and compares the predicted
# class of every test image. The paper preset's own output is unchanged.
#
#   bash bench/paper_half.sh [OUTDIR]   (default ./out, holding lenet300.dcz and lenet5.dcz from bench/paper.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out}
go build -o "$out/deepcompress" ./cmd/deepcompress
go build -o "$out/halfdcz" ./bench/halfdcz
for m in lenet300 lenet5; do
  echo "== $m"
  "$out/halfdcz" "$out/$m.dcz" "$out/$m-f16.dcz"
  "$out/deepcompress" eval --model "$out/$m.dcz" --predictions "$out/$m.pred"
  "$out/deepcompress" eval --model "$out/$m-f16.dcz" --predictions "$out/$m-f16.pred"
  if cmp -s "$out/$m.pred" "$out/$m-f16.pred"; then
    echo "$m: the same predicted class on every test image"
  else
    echo "$m: predictions differ on $(paste "$out/$m.pred" "$out/$m-f16.pred" | awk '$1 != $2' | wc -l) test images"
  fi
  "$out/deepcompress" inspect "$out/$m-f16.dcz"
done
