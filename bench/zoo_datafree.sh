#!/usr/bin/env bash
# Data-free compression of the zoo models against plain per-tensor int8
# (issue 15, acceptance 2).
#
# For each zoo model at opset 17 (testdata/zoo/{resnet,mobilenet,unet,mlp}_op17.onnx)
# bench/zoodatafree compresses the ONNX file without data at several
# settings (datafree.CompressGraphFile, what `deepcompress compress
# --data-free --model M.onnx` does), reads each .dcz back, runs the decoded
# graph with the engine on the 10,000 test images and prints a markdown
# table: bytes of the whole file (header, graph section, every tensor),
# ratio against 4 bytes per float parameter, and fidelity. Classifiers:
# test accuracy, top-1 agreement with the original, relative L2 error of
# the logits; the U-Net: relative L2 error of the map against the
# original's and its mean |map - clean|. The int8 row is
# datafree.Int8Baseline: symmetric per-tensor int8 of every weight, one
# float32 scale per tensor, no pruning, no entropy coding; its size is
# computed (1 byte per weight + 4 per tensor + float32 for the rest + the
# same graph section and framing), not written.
#
# Settings (bench/zoodatafree -settings): k-means at 5-8 bits (8 bits also
# with float16 codebooks, "f16cb"), the uniform grid (--grid
# uniform), min-size 1 (small weights coded too, float32 where that is
# smaller), "fitted to F x the int8 size" (--max-bytes: datafree.FitGraph
# picks bits 4-10 and grid per weight by measured bytes and relative
# error), and two pruned settings.
#
# It also runs `deepcompress compress --data-free --max-bytes int8` on the
# ResNet to show the command's table, and `deepcompress run` on the file.
#
# Needs the test sets bench/zoo/make_zoo.py writes to bench/zoo/data
# (mnist_test_{x,y}.npy, fashion_mnist_test_{x,y}.npy,
# unet_test_noisy_x.npy, unet_test_clean.npy).
#
# Usage: bench/zoo_datafree.sh [model ...]   (default: resnet mobilenet unet mlp)
# Environment: SETTINGS (bench/zoodatafree -settings), HALF (non-empty:
# also each setting with float16 codebooks, and with float16 codebooks and
# raw tensors, bench/zoodatafree -half), CORES (GOMAXPROCS, default 2),
# DATA (default bench/zoo/data).
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${DATA:-bench/zoo/data}
export GOMAXPROCS=${CORES:-2}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

go build -o "$WORK/zoodatafree" ./bench/zoodatafree
go build -o "$WORK/deepcompress" ./cmd/deepcompress

models=("$@")
if ((${#models[@]} == 0)); then
	models=(resnet mobilenet unet mlp)
fi
for m in "${models[@]}"; do
	case $m in
	mlp) args=(-x "$DATA/fashion_mnist_test_x.npy" -y "$DATA/fashion_mnist_test_y.npy") ;;
	unet) args=(-x "$DATA/unet_test_noisy_x.npy" -clean "$DATA/unet_test_clean.npy") ;;
	*) args=(-x "$DATA/mnist_test_x.npy" -y "$DATA/mnist_test_y.npy") ;;
	esac
	if [[ -n "${SETTINGS:-}" ]]; then
		args+=(-settings "$SETTINGS")
	fi
	if [[ -n "${HALF:-}" ]]; then
		args+=(-half)
	fi
	"$WORK/zoodatafree" -model "testdata/zoo/${m}_op17.onnx" -dir "$WORK" "${args[@]}"
done

echo
echo "== deepcompress compress --data-free --model testdata/zoo/resnet_op17.onnx --max-bytes int8"
"$WORK/deepcompress" compress --data-free --model testdata/zoo/resnet_op17.onnx --out "$WORK/resnet.dcz" --max-bytes int8
"$WORK/deepcompress" run --model "$WORK/resnet.dcz" --input input=testdata/zoo/resnet_input.npy --out "$WORK/run"
