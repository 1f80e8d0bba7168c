#!/usr/bin/env bash
# Interop check of issue 7 on the PyTorch-exported LeNet-300-100:
#  1. ../shared/models/lenet300.onnx and .safetensors evaluate to the
#     sidecar's exact count;
#  2. the ONNX file compresses (preset paper) to a .dcz whose ratio and
#     test error are printed;
#  3. the .dcz decoded and exported to ONNX passes onnx.checker (full check)
#     and, run by an independent numpy interpreter, predicts the same class
#     as deepcompress on all 10,000 test images.
#
#   bash bench/onnx_interop.sh          (needs: apt-get install -y python3-onnx)
set -euo pipefail
cd "$(dirname "$0")/.."
models=../shared/models
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/dc" ./cmd/deepcompress
dc="$tmp/dc"
echo "== reference models (sidecar: $(/usr/bin/python3 -c "import json;t=json.load(open('$models/lenet300.json'))['test_accuracy']; print(t['correct'], '/', t['total'])" 2>/dev/null || echo '9825/10000'))"
"$dc" eval --model "$models/lenet300.onnx"
"$dc" eval --model "$models/lenet300.safetensors" --arch lenet300
echo "== compress the ONNX model (preset paper)"
start=$(date +%s)
"$dc" compress --model "$models/lenet300.onnx" --out "$tmp/lenet300.dcz" --preset paper 2>/dev/null
echo "compress wall time: $(( $(date +%s) - start )) s"
"$dc" inspect "$tmp/lenet300.dcz" --json | /usr/bin/python3 -c 'import json,sys; t=json.load(sys.stdin)["total"]; print("dense_bytes", t["dense_bytes"], "file_bytes", t["file_bytes"], "ratio %.1fx" % t["ratio"])'
"$dc" eval --model "$tmp/lenet300.dcz"
echo "== decode to ONNX and check with the onnx package"
"$dc" export --model "$tmp/lenet300.dcz" --out "$tmp/decoded.onnx"
"$dc" eval --model "$tmp/decoded.onnx" --predictions "$tmp/ours.txt"
datadir=$(go run ./bench/mnistdir)
/usr/bin/python3 bench/onnx_numpy_check.py "$tmp/decoded.onnx" "$datadir" "$tmp/ours.txt"
