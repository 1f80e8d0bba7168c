#!/usr/bin/env bash
# The coder table and speed check of issue 16 (acceptance points 2 and 3):
# bench/coders on the paper presets' files, the max files and the
# VGG-16-shaped data-free file, bytes of every coder and bound on the same
# quantized streams, then the speed of the arithmetic coder against the
# Huffman path on the VGG-16-shaped file, three times.
#
# Usage: bench/coders_table.sh [MAX_FILE...]
#   MAX_FILE defaults to out/lenet300_max.dcz out/lenet5_max.dcz.
# Environment: OUT (directory of the files, default out), REPS (timing
# repetitions per measurement, default 5), SPEED_RUNS (default 3), ZSTD
# (0: leave out zstd, which takes a few minutes of CPU on the
# VGG-16-shaped file's 138 M positions; default 1).
#
# The paper presets' files (OUT/lenet300.dcz, OUT/lenet5.dcz) are made by
# bench/baselines.sh and bench/paper.sh; a file that is absent is reported
# and left out of the table, never replaced by another. The VGG-16-shaped
# file (OUT/vgg16.dcz) is generated once if absent, as
# bench/vgg16_datafree.sh makes it (seed 1, bench/vgg16_paper.json,
# Huffman-coded), niced; its 553 MB safetensors input is removed after
# (about 1.2 GB free needed in the temporary directory meanwhile).
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-out}
REPS=${REPS:-5}
SPEED_RUNS=${SPEED_RUNS:-3}
ZSTD=${ZSTD:-1}
mkdir -p "$OUT"
if (($# == 0)); then
	set -- "$OUT/lenet300_max.dcz" "$OUT/lenet5_max.dcz"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/coders" ./bench/coders

vgg=$OUT/vgg16.dcz
if [[ ! -f $vgg ]]; then
	echo "== $vgg absent: generating it (bench/vgg16gen seed 1, compress --data-free --config bench/vgg16_paper.json, niced)"
	go build -o "$tmp/deepcompress" ./cmd/deepcompress
	go build -o "$tmp/vgg16gen" ./bench/vgg16gen
	# The 553 MB input lives in $tmp, removed on exit; compress writes
	# its output atomically.
	nice "$tmp/vgg16gen" -out "$tmp/vgg16.safetensors" -seed 1 -dtype f32
	nice "$tmp/deepcompress" compress --data-free --model "$tmp/vgg16.safetensors" --out "$vgg" --config bench/vgg16_paper.json >"$tmp/vgg-compress.log"
	rm -f "$tmp/vgg16.safetensors"
fi

# present FILE...: the files that exist; the others are reported.
missing=()
present=()
for f in "$OUT/lenet300.dcz" "$OUT/lenet5.dcz" "$@" "$vgg"; do
	if [[ -f $f ]]; then
		present+=("$f")
	else
		missing+=("$f")
		echo "== $f: absent, left out of the table" >&2
	fi
done

if ((${#present[@]} == 0)); then
	echo "coders_table: no input file" >&2
	exit 1
fi
zflag=-zstd=true
if [[ $ZSTD == 0 ]]; then
	zflag=-zstd=false
fi
echo "== bytes, per tensor and per file (issue 16, acceptance 2; $(uptime))"
nice "$tmp/coders" -reps 0 "$zflag" -markdown "${present[@]}"

if [[ " ${present[*]} " == *" $vgg "* ]]; then
	echo
	echo "== speed on $vgg, $SPEED_RUNS runs (issue 16, acceptance 3: decode <= 2x, encode <= 3x the Huffman path)"
	for i in $(seq "$SPEED_RUNS"); do
		echo "-- run $i, $(uptime)"
		nice "$tmp/coders" -reps "$REPS" -zstd=false -tensors=false "$vgg" | grep -E '^  (decode|encode|whole file, dcz)'
	done
fi

if ((${#missing[@]} > 0)); then
	echo
	echo "Not in the table (absent): ${missing[*]}"
fi
