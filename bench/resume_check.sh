#!/usr/bin/env bash
# Kills `deepcompress compress` in the middle (SIGKILL after KILL_AFTER
# seconds), starts it again with the same arguments, and checks that the
# resumed run ends with the same .dcz, byte for byte, as an uninterrupted run.
#
#   bash bench/resume_check.sh MODEL.safetensors [PRESET] [KILL_AFTER]   (default: quick, 6)
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1
preset=${2:-quick}
after=${3:-6}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/dc" ./cmd/deepcompress
echo "uninterrupted run..."
"$tmp/dc" compress --model "$model" --preset "$preset" --out "$tmp/whole.dcz" 2>/dev/null | tail -1
echo "interrupted run: killed after ${after}s"
"$tmp/dc" compress --model "$model" --preset "$preset" --out "$tmp/resumed.dcz" > "$tmp/first.log" 2>&1 &
pid=$!
sleep "$after"
kill -9 "$pid" 2>/dev/null || { echo "the run finished before it could be killed: lower KILL_AFTER"; exit 1; }
wait "$pid" 2>/dev/null || true
[ -e "$tmp/resumed.dcz" ] && { echo "FAIL: output exists after the kill"; exit 1; }
echo "checkpoints left: $(ls "$tmp/resumed.dcz.work" | tr '\n' ' ')"
"$tmp/dc" compress --model "$model" --preset "$preset" --out "$tmp/resumed.dcz" 2>&1 | grep -E 'resuming|done earlier|wrote' || true
if cmp "$tmp/whole.dcz" "$tmp/resumed.dcz"; then
  echo "PASS: resumed file identical to the uninterrupted one ($(stat -c %s "$tmp/whole.dcz") bytes, sha256 $(sha256sum < "$tmp/whole.dcz" | cut -c1-16))"
else
  echo "FAIL: files differ"; exit 1
fi
