#!/usr/bin/env bash
# Conformance of the graph engine against onnxruntime (the npm package
# onnxruntime-node, CPU): every zoo model (testdata/zoo, both opsets) runs
# with `deepcompress run` and with onnxruntime on the same inputs (the 4
# stored test images, and 64 test images when bench/zoo/data holds them),
# and the script prints the largest absolute and relative difference of
# every output. Relative = max|a-b| / max|b|. Exits non-zero above 1e-4.
#
#   bash bench/zoo_conformance.sh
#
# Needs: (cd bench/ort && npm ci --ignore-scripts); /usr/bin/python3 with numpy.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -d bench/ort/node_modules/onnxruntime-node ] || (cd bench/ort && npm ci --ignore-scripts >/dev/null)
go build -o "$tmp/deepcompress" ./cmd/deepcompress
inputs() { # net -> input files
  echo "testdata/zoo/$1_input.npy"
  local big=bench/zoo/data/mnist_test_x.npy
  [ "$1" = unet ] && big=bench/zoo/data/unet_test_noisy_x.npy
  [ "$1" = mlp ] && big=bench/zoo/data/fashion_mnist_test_x.npy
  if [ -f "$big" ]; then
    /usr/bin/python3 -c "import numpy as n,sys; n.save(sys.argv[2], n.load(sys.argv[1])[:64])" "$big" "$tmp/$1_64.npy"
    echo "$tmp/$1_64.npy"
  fi
}
fail=0
printf '| model | input | output | max abs | max rel |\n|---|---|---|---|---|\n'
for f in testdata/zoo/*_op*.onnx; do
  name=$(basename "$f" .onnx); net=${name%_op*}
  for x in $(inputs "$net"); do
    rm -rf "$tmp/a" "$tmp/b"
    "$tmp/deepcompress" run --model "$f" --input "$x" --out "$tmp/a" >/dev/null
    node bench/ort/run.js "$f" --input "input=$x" --out "$tmp/b" >/dev/null
    for out in "$tmp"/b/*.npy; do
      o=$(basename "$out")
      /usr/bin/python3 - "$tmp/a/$o" "$out" "$name" "$(basename "$x")" "${o%.npy}" <<'PY' || fail=1
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
assert a.shape == b.shape, (a.shape, b.shape)
d = float(np.abs(a.astype(np.float64) - b).max())
rel = d / max(float(np.abs(b).max()), 1e-30)
print(f"| {sys.argv[3]} | {sys.argv[4]} {list(a.shape)} | {sys.argv[5]} | {d:.2e} | {rel:.2e} |")
sys.exit(0 if rel <= 1e-4 else 1)
PY
    done
  done
done
[ $fail = 0 ] && echo "all outputs within 1e-4 relative" || { echo "SOME OUTPUTS DIFFER BY MORE THAN 1e-4"; exit 1; }
