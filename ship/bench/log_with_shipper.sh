#!/bin/sh
# log_with_shipper.sh [ROUNDS [BENCHTIME [TEST_BINARY...]]]
#
# Runs BenchmarkLogWithShipper ROUNDS times (default 6), one run of every
# case per round, so that the cases alternate and share the machine's load,
# and prints each case's median ns/op, its ratio to the median of "alone",
# and its median shipped/rec. With TEST_BINARY arguments (built with
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
printf '%-24s %-14s %8s %6s %12s\n' binary case 'ns/op' ratio shipped/rec
# Median of column $3 (ns/op) and of shipped/rec per binary and case.
median() { sort -n | awk '{v[NR]=$1} END {if (NR == 0) {print "-"; exit}; if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
for bin in "$@"; do
	b=$(basename "$bin")
	alone=$(awk -v b="$b" '$1 == b && $2 ~ /^alone-/ {print $4}' "$tmp/runs" | median)
	for c in $(awk -v b="$b" '$1 == b {print $2}' "$tmp/runs" | sort -u); do
		ns=$(awk -v b="$b" -v c="$c" '$1 == b && $2 == c {print $4}' "$tmp/runs" | median)
		shipped=$(awk -v b="$b" -v c="$c" '$1 == b && $2 == c {for (i = 1; i < NF; i++) if ($(i+1) == "shipped/rec") print $i}' "$tmp/runs" | median)
		printf '%-24s %-14s %8s %6.2f %12s\n' "$b" "$c" "$ns" "$(echo "$ns $alone" | awk '{print $1/$2}')" "$shipped"
	done
done
