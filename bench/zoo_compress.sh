#!/usr/bin/env bash
# Issue 15's acceptance run: each zoo model (testdata/zoo, opset 17) is
# compressed with 5,000 unlabelled training images as the user's data
# (bench/zoo/data, made by bench/zoo/make_zoo.py) and the recipe in
# bench/zoo/recipes/NET.json, then measured on the 10,000 test images with
# labels (bench/zoocompress prints one JSON line per model: accuracy of the
# original and of the compressed file, top-1 agreement, or the U-Net's
# relative error; whole-file ratio against the float32 weights; time), with
# peak memory from /usr/bin/time. Each compressed file is then decoded to
# ONNX and run by onnxruntime, whose outputs must equal `deepcompress run`
# on the .dcz within 1e-4 relative.
#
#   bash bench/zoo_compress.sh [NET...]        (default: resnet mobilenet unet)
#
# Needs: bench/zoo/data (/usr/bin/python3 bench/zoo/make_zoo.py), the npm
# package in bench/ort (npm ci --ignore-scripts), apt-get install -y time.
set -euo pipefail
cd "$(dirname "$0")/.."
nets=("${@:-resnet}")
[ $# -eq 0 ] && nets=(resnet mobilenet unet)
out=${OUT:-out/zoo}
mkdir -p "$out"
go build -o "$out/zoocompress" ./bench/zoocompress
go build -o "$out/deepcompress" ./cmd/deepcompress
[ -d bench/ort/node_modules/onnxruntime-node ] || (cd bench/ort && npm ci --ignore-scripts >/dev/null)
for net in "${nets[@]}"; do
  args=(-model "testdata/zoo/${net}_op17.onnx" -out "$out/$net.dcz" -config "bench/zoo/recipes/$net.json")
  if [ "$net" = unet ]; then
    args+=(-train bench/zoo/data/unet_train5k_noisy_x.npy -test-x bench/zoo/data/unet_test_noisy_x.npy -test-y "")
  fi
  /usr/bin/time -v "$out/zoocompress" "${args[@]}" >"$out/$net.json" 2>"$out/$net.log"
  rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$out/$net.log")
  echo "$(cat "$out/$net.json") peak_rss_kb=$rss"
  "$out/deepcompress" export --model "$out/$net.dcz" --out "$out/$net.onnx" >/dev/null
  "$out/deepcompress" run --model "$out/$net.dcz" --input "testdata/zoo/${net}_input.npy" --out "$out/$net.run" >/dev/null
  node bench/ort/run.js "$out/$net.onnx" --input "input=testdata/zoo/${net}_input.npy" --out "$out/$net.ort" >/dev/null
  for o in "$out/$net.ort"/*.npy; do
    /usr/bin/python3 bench/ort/compare.py "$out/$net.run/$(basename "$o")" "$o" --rtol 1e-4
  done
done
