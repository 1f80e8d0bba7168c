#!/usr/bin/env bash
# The settings search of issue 15 (compress --max-drop / --target-ratio):
# each zoo model (testdata/zoo, opset 17) compressed with 5,000 unlabelled
# training images as the user's data and NO hand-set kept fractions or
# bits: bench/zoo/recipes/NET_search.json holds only the training recipe
# (epochs, learning rates); the search picks the tolerance of the
# sensitivity pass (hence every layer's kept fraction) and the bits. Then
# both files are measured on the 10,000 labelled test images, as in
# bench/zoo_compress.sh (bench/zoocompress prints one JSON line: ratio,
# accuracy of original and compressed file, agreement or the U-Net's
# relative error, the search's candidates and full runs), with peak memory
# from /usr/bin/time. The chosen settings land in $OUT/NET.graph-config.json,
# which `compress --graph-config` (or zoocompress -config) repeats.
#
#   bash bench/zoo_search.sh [NET...]        (default: resnet mobilenet unet)
#   GOAL="-target-ratio 25" bash bench/zoo_search.sh resnet
#   EXTRA="-retries 0 -retrain-samples 500" bash bench/zoo_search.sh unet
#
# GOAL defaults to "-max-drop 0.5" for the classifiers (held-out points of
# top-1 agreement with the original: the data has no labels) and
# "-max-drop 2" for the U-Net (points of relative error of its map);
# EXTRA passes more zoocompress flags (-retries N: full runs after the
# first, default 2; -retrain-samples N: each candidate's brief retraining).
# Needs: bench/zoo/data (/usr/bin/python3 bench/zoo/make_zoo.py),
# apt-get install -y time. Several minutes per model and full run.
set -euo pipefail
cd "$(dirname "$0")/.."
nets=("$@")
[ $# -eq 0 ] && nets=(resnet mobilenet unet)
out=${OUT:-out/zoo_search}
mkdir -p "$out"
go build -o "$out/zoocompress" ./bench/zoocompress
for net in "${nets[@]}"; do
  goal=${GOAL:-}
  args=(-model "testdata/zoo/${net}_op17.onnx" -out "$out/$net.dcz" -config "bench/zoo/recipes/${net}_search.json"
    -save-config "$out/$net.graph-config.json")
  if [ "$net" = unet ]; then
    args+=(-train bench/zoo/data/unet_train5k_noisy_x.npy -test-x bench/zoo/data/unet_test_noisy_x.npy -test-y "")
    goal=${goal:--max-drop 2}
  fi
  goal=${goal:--max-drop 0.5}
  # shellcheck disable=SC2086
  nice /usr/bin/time -v "$out/zoocompress" "${args[@]}" $goal ${EXTRA:-} >"$out/$net.json" 2>"$out/$net.log"
  rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$out/$net.log")
  echo "$net ($goal): $(cat "$out/$net.json") peak_rss_kb=$rss"
done
