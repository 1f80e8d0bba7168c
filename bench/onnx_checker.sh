#!/usr/bin/env bash
# The official ONNX checker (full check, strict shape inference) on the
# files package onnx exports: the PyTorch-exported LeNet-300-100 imported
# and exported again, and a network of every layer kind. go test writes
# them (TestExportFiles -onnx.checkdir); Python runs only here.
#
#   bash bench/onnx_checker.sh          (needs: /usr/bin/python3 with onnx)
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test ./onnx -count=1 -run '^TestExportFiles$' -onnx.checkdir "$tmp"
/usr/bin/python3 - "$tmp"/*.onnx <<'PY'
import sys, onnx
for p in sys.argv[1:]:
    m = onnx.load(p)
    onnx.checker.check_model(m, full_check=True)
    onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
    print("onnx.checker (full) and strict shape inference: ok", p.rsplit("/", 1)[-1], "(onnx", onnx.__version__ + ")")
PY
