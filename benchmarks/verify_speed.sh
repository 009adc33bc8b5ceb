#!/usr/bin/env bash
# verify_speed.sh compares `auditlog verify` with `sha256sum` over the same
# bytes: it writes a sealed set of audit files with the library (BCM and
# JSON), then runs both commands in turn, RUNS times each, and prints the
# median wall time of each, the throughputs and their ratio (goal: verify
# at least 0.8x sha256sum's throughput), and verify's peak memory.
#
# Usage: ./verify_speed.sh [SIZE_MIB]   (default 200)
#
# Environment: RUNS (default 5), KEEP (a directory to keep the sets in).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
size=${1:-200}
runs=${RUNS:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
work=${KEEP:-$tmp}

go build -o "$tmp/auditgen" ./cmd/auditgen
(cd .. && go build -o "$tmp/auditlog" ./cmd/auditlog)

# median prints the median of its arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# wall runs a command once and prints its wall time in seconds.
wall() {
	local start end
	start=$(date +%s.%N)
	"$@" >/dev/null
	end=$(date +%s.%N)
	awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }'
}

printf '| format | MiB | verify s | sha256sum s | verify MB/s | sha256sum MB/s | ratio | verify peak RSS |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for format in BCM JSON; do
	dir="$work/$format"
	rm -rf "$dir" "$work/$format.key" "$work/$format.key.original"
	"$tmp/auditgen" -dir "$dir" -size "$size" -format "$format" -key-file "$work/$format.key"
	files=("$dir"/AgentServer.audit*.log*)
	bytes=$(cat "${files[@]}" | wc -c)
	v=() s=()
	for _ in $(seq "$runs"); do
		v+=("$(wall "$tmp/auditlog" verify "$dir" --key-file "$work/$format.key.original")")
		s+=("$(wall sha256sum "${files[@]}")")
	done
	vm=$(median "${v[@]}")
	sm=$(median "${s[@]}")
	rss=$(/usr/bin/time -f '%M' "$tmp/auditlog" verify "$dir" --key-file "$work/$format.key.original" 2>&1 >/dev/null | tail -1)
	awk -v f="$format" -v b="$bytes" -v vm="$vm" -v sm="$sm" -v rss="$rss" 'BEGIN {
		mb = b / 1048576
		printf "| %s | %.0f | %.3f | %.3f | %.0f | %.0f | %.2fx | %.1f MiB |\n", f, mb, vm, sm, mb / vm, mb / sm, sm / vm, rss / 1024
	}'
done
