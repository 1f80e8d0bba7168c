#!/bin/sh
# Times deepcompress's 1-D k-means (quantize.Cluster) against scikit-learn's
# KMeans on the same float32 data with the same linear initial centroids:
# pruned LeNet-300-100 fc1 weights (k = 64, 256) and 10 million N(0,1)
# values (k = 32, 256). Prints both times (deepcompress on 1 and 2 threads,
# scikit-learn on 1), the ratios and the inertias, and exits non-zero if
# the acceptance rule of issue 5 (>= 20x on 10M values, inertia no worse)
# fails. Extra arguments go to bench/kmeans (e.g. -cases normal:32 -reps 3).
#
# scikit-learn is Debian's python3-sklearn under /usr/bin/python3; its BLAS
# is OpenBLAS, left to detect the CPU (Cooperlake kernels on Zen 4, which
# measured as fast as OPENBLAS_CORETYPE=SkylakeX and faster than Zen); set
# OPENBLAS_CORETYPE in the environment to override.
set -eu
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/kmeans" ./bench/kmeans
"$tmp/kmeans" -dir "$tmp" -python /usr/bin/python3 -sklearn bench/kmeans_sklearn.py "$@"
