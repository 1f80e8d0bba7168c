#!/usr/bin/env bash
# Times the README's quick start as a new user meets it: a fresh clone, an
# empty Go module cache and an empty build cache, then
# `go run ./cmd/deepcompress demo` (module downloads and compilation
# included).
#
#   bash bench/demo_fresh.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
git clone -q "$repo" "$tmp/clone"
cd "$tmp/clone"
export GOMODCACHE="$tmp/modcache" GOCACHE="$tmp/gocache"
start=$(date +%s.%N)
go run ./cmd/deepcompress demo --out "$tmp/demo" 2>/dev/null
end=$(date +%s.%N)
printf 'fresh clone, empty module and build caches: demo finished in %.0f s (downloads and compilation included)\n' "$(echo "$end - $start" | bc)"
ls "$tmp/demo"
