#!/usr/bin/env bash
# The hostile corpus of issue 17, run through every command that reads each
# kind of file (bench/hostile/gen writes the files and the command lines).
#
# For every command: its exit status, whether it panicked or crashed
# (killed, out of memory, timed out), its peak resident memory
# (/usr/bin/time -v) and the first line of its error. The output-is-input
# cases ("same") must fail and leave their inputs byte for byte unchanged.
# Ends with a summary line; exits non-zero on any panic, crash, timeout,
# peak over MAX_RSS_MB, error message over 64 KiB, or "same" case that
# succeeded or changed its input.
#
# Usage: bench/hostile/run.sh [DIR]
# Environment: TIMEOUT (seconds per command, default 120), MAX_RSS_MB
# (default 1024), KEEP (keep DIR, default: removed unless given).
set -uo pipefail
cd "$(dirname "$0")/../.."

TIMEOUT=${TIMEOUT:-120}
MAX_RSS_MB=${MAX_RSS_MB:-1024}
if [[ -n "${1:-}" ]]; then
	DIR=$1
else
	DIR=$(mktemp -d)
	[[ -n "${KEEP:-}" ]] || trap 'rm -rf "$DIR"' EXIT
fi
if [[ ! -x /usr/bin/time ]]; then
	echo "hostile: /usr/bin/time (GNU time) is needed: apt-get install -y time" >&2
	exit 1
fi

BIN=$(mktemp -d)/deepcompress
go build -o "$BIN" ./cmd/deepcompress || exit 1
go run ./bench/hostile/gen -out "$DIR" || exit 1
DIR=$(cd "$DIR" && pwd)

sums() { (cd "$DIR" && md5sum same/*.safetensors same/*.dcz 2>/dev/null); }

printf '%-24s %-10s %-40s %4s %-5s %8s  %s\n' case class command exit panic "rss_MB" "message"
total=0 bad=0 panics=0 crashes=0 maxrss=0 clean=0 ok=0
tmp=$(mktemp -d)
while IFS=$'\t' read -r name class args; do
	IFS=$'\t' read -r -a argv <<<"$args"
	before=""
	[[ $class == same ]] && before=$(sums)
	(cd "$DIR" && /usr/bin/time -v -o "$tmp/time" timeout "$TIMEOUT" "$BIN" "${argv[@]}" >"$tmp/out" 2>"$tmp/err")
	code=$?
	rss=$(awk -F': ' '/Maximum resident set size/ { printf "%d", $2 / 1024 }' "$tmp/time")
	rss=${rss:-0}
	panic=no
	grep -qE '^panic:|^fatal error:|goroutine [0-9]+ \[' "$tmp/err" && panic=yes
	msg=$(head -c 300 "$tmp/err" | head -n 1 | cut -c1-110)
	errbytes=$(stat -c %s "$tmp/err")
	verdict=""
	if [[ $panic == yes ]]; then
		verdict="PANIC"; panics=$((panics + 1))
	elif ((code == 124)); then
		verdict="TIMEOUT"; crashes=$((crashes + 1))
	elif ((code != 0 && code != 1)); then
		verdict="CRASH"; crashes=$((crashes + 1))
	elif ((rss > MAX_RSS_MB)); then
		verdict="RSS"
	elif ((errbytes > 65536)); then
		verdict="LONG-ERROR"
	elif [[ $class == same ]] && { ((code == 0)) || [[ $(sums) != "$before" ]]; }; then
		verdict="INPUT-NOT-SAFE"
	fi
	((code == 0)) && ok=$((ok + 1))
	((code == 1)) && clean=$((clean + 1))
	[[ -n $verdict ]] && bad=$((bad + 1))
	((rss > maxrss)) && maxrss=$rss
	total=$((total + 1))
	printf '%-24s %-10s %-40s %4s %-5s %8s  %s%s\n' "$name" "$class" "${argv[0]} ${argv[1]:-} ${argv[2]:-}" "$code" "$panic" "$rss" "${verdict:+[$verdict] }" "$msg" | cut -c1-220
	rm -rf "$DIR/out"/* 2>/dev/null
done <"$DIR/cases.tsv"
# A run killed while writing leaves no temporary file (the SIGTERM handler
# removes it) and exits 143.
(cd "$DIR" && exec "$BIN" compress --data-free --model st/st-many-tensors.safetensors --out out/killed.dcz >/dev/null 2>&1) &
pid=$!
sleep 2
kill -TERM "$pid" 2>/dev/null
wait "$pid"
code=$?
left=$(find "$DIR/out" -name '.killed.dcz.tmp-*' | wc -l)
verdict=""
if ((code != 143 && code != 0)) || ((left != 0)); then
	verdict="[LEFT-BEHIND]"; bad=$((bad + 1))
fi
printf '%-24s %-10s %-40s %4s %-5s %8s  %s%s\n' killed-write signal "compress --data-free (SIGTERM)" "$code" no - "$verdict" "$left temporary files left"
total=$((total + 1))
rm -rf "$tmp" "$(dirname "$BIN")"
cases=$(cut -f1 "$DIR/cases.tsv" | sort -u | wc -l)
echo "summary: $cases cases, $total commands: $ok exited 0, $clean refused cleanly (exit 1), $panics panics, $crashes crashes or timeouts, max RSS ${maxrss} MB, $bad failing"
((bad == 0))
