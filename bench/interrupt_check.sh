#!/usr/bin/env bash
# Ctrl-C a `deepcompress compress` run when its log shows PATTERN (then
# DELAY seconds more), time how long the process takes to exit, run the
# same command again and check that it resumes to the file of an
# uninterrupted run, byte for byte.
#
#   bash bench/interrupt_check.sh MODEL.safetensors [PRESET] [PATTERN] [DELAY]
#     (default: paper, "prune (gradual) epoch 10/", 0.3)
#
# Patterns: "prune (gradual) epoch N/" (pruning retraining),
# "quantize: fine-tuning" or "fine-tune epoch 1/" (quantization).
set -uo pipefail
cd "$(dirname "$0")/.."
model=$1
preset=${2:-paper}
pattern=${3:-"prune (gradual) epoch 10/"}
delay=${4:-0.3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/dc" ./cmd/deepcompress || exit 1
echo "uninterrupted run..."
"$tmp/dc" compress --model "$model" --preset "$preset" --out "$tmp/whole.dcz" 2>/dev/null | tail -1
"$tmp/dc" compress --model "$model" --preset "$preset" --out "$tmp/resumed.dcz" > /dev/null 2> "$tmp/first.log" &
pid=$!
until grep -qF -- "$pattern" "$tmp/first.log"; do
  kill -0 "$pid" 2>/dev/null || { echo "the run ended before its log showed '$pattern'"; exit 1; }
  sleep 0.05
done
sleep "$delay"
t0=$(date +%s.%N)
kill -INT "$pid"
wait "$pid"
status=$?
t1=$(date +%s.%N)
printf "SIGINT %ss after '%s': exit status %d after %.2f s\n" "$delay" "$pattern" "$status" "$(echo "$t1 - $t0" | bc)"
tail -1 "$tmp/first.log"
echo "work directory: $(ls "$tmp/resumed.dcz.work" | tr '\n' ' ')"
[ "$status" = 130 ] || { echo "FAIL: want exit status 130"; exit 1; }
[ -e "$tmp/resumed.dcz" ] && { echo "FAIL: output exists after the interrupt"; exit 1; }
"$tmp/dc" compress --model "$model" --preset "$preset" --out "$tmp/resumed.dcz" 2>&1 | grep -E 'resum|done earlier|wrote' || true
if cmp "$tmp/whole.dcz" "$tmp/resumed.dcz"; then
  echo "PASS: resumed file identical to the uninterrupted one ($(stat -c %s "$tmp/whole.dcz") bytes, sha256 $(sha256sum < "$tmp/whole.dcz" | cut -c1-16))"
else
  echo "FAIL: files differ"; exit 1
fi
