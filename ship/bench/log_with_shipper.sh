#!/bin/sh
# log_with_shipper.sh [ROUNDS [BENCHTIME [TEST_BINARY...]]]
#
# Runs BenchmarkLogWithShipper ROUNDS times (default 6), one run of every
# case per round, so that the cases alternate and share the machine's load,
# and prints each case's median ns/op and cpu-ns/op, their ratios to the
# medians of "alone", and its median shipped/rec. With TEST_BINARY arguments (built with
# go test -c ./ship), it runs each of them in turn in every round instead of
# building the package, to compare versions in the same run.
set -eu
cd "$(dirname "$0")/.."
rounds=${1:-6}
benchtime=${2:-1s}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] && shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ $# -eq 0 ]; then
	go test -c -o "$tmp/ship.test" .
	set -- "$tmp/ship.test"
fi
for i in $(seq "$rounds"); do
	for bin in "$@"; do
		"$bin" -test.run '^$' -test.bench '^BenchmarkLogWithShipper$' -test.benchtime "$benchtime" -test.count 1 |
			sed -n "s|^BenchmarkLogWithShipper/|$(basename "$bin") |p"
	done
done >"$tmp/runs"
cat "$tmp/runs"
echo
printf '%-16s %-14s %8s %6s %10s %6s %12s\n' binary case 'ns/op' ratio cpu-ns/op ratio shipped/rec
# The median of the values of one metric ($1) for one binary ($2) and case ($3).
median() {
	awk -v m="$1" -v b="$2" -v c="$3" '$1 == b && $2 == c {for (i = 3; i < NF; i++) if ($(i+1) == m) print $i}' "$tmp/runs" |
		sort -n | awk '{v[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2] + v[NR/2+1]) / 2}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "-" || b == "-") print "-"; else printf "%.2f", a / b}'; }
for bin in "$@"; do
	b=$(basename "$bin")
	alone=$(awk -v b="$b" '$1 == b && $2 ~ /^alone/ {print $2; exit}' "$tmp/runs")
	ns0=$(median ns/op "$b" "$alone")
	cpu0=$(median cpu-ns/op "$b" "$alone")
	for c in $(awk -v b="$b" '$1 == b {print $2}' "$tmp/runs" | sort -u); do
		ns=$(median ns/op "$b" "$c")
		cpu=$(median cpu-ns/op "$b" "$c")
		printf '%-16s %-14s %8s %6s %10s %6s %12s\n' "$b" "$c" "$ns" "$(ratio "$ns" "$ns0")" "$cpu" "$(ratio "$cpu" "$cpu0")" "$(median shipped/rec "$b" "$c")"
	done
done
