#!/usr/bin/env bash
# Runs every fuzz target of the file readers for FUZZTIME each (default
# 10m), one after the other, and prints per target the executions, the new
# inputs found ("new interesting": coverage the seeds did not reach; for
# the checksum-repairing targets, inputs found behind the CRCs) and the
# result.
#
# Usage: bench/hostile/fuzz.sh [TARGET ...]   (package:Fuzzer, default all)
# Environment: FUZZTIME (default 10m), PARALLEL (workers, default 2).
set -uo pipefail
cd "$(dirname "$0")/../.."
FUZZTIME=${FUZZTIME:-10m}
PARALLEL=${PARALLEL:-2}
targets=("$@")
if ((${#targets[@]} == 0)); then
	targets=(./dcz:FuzzReadBehindChecksums ./infer:FuzzLoadBehindChecksums ./datafree:FuzzDecode
		./mnist:FuzzIDX ./arch:FuzzParse ./pipeline:FuzzConfig ./infer:FuzzImage ./modelfile:FuzzLoad
		./dcz:FuzzRead ./safetensors:FuzzRead ./onnx:FuzzImport)
fi
fail=0
for t in "${targets[@]}"; do
	pkg=${t%%:*} fn=${t##*:}
	log=$(mktemp)
	# A short minimisation budget: the default (60 s per new input) stalls
	# the file-based targets.
	go test "$pkg" -run '^$' -fuzz "^$fn\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 200x -parallel "$PARALLEL" >"$log" 2>&1
	code=$?
	last=$(grep 'fuzz: elapsed' "$log" | tail -n 1)
	result=PASS
	((code != 0)) && result=FAIL && fail=1
	printf '%-12s %-28s %s %s\n' "$pkg" "$fn" "$result" "${last#fuzz: }"
	((code != 0)) && grep -v 'fuzz: elapsed' "$log" | head -n 30
	rm -f "$log"
done
exit $fail
