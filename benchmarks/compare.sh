#!/usr/bin/env bash
# compare.sh runs the peer benchmarks and prints one markdown table per
# benchmark group: median ns/op, its spread, B/op, allocs/op and each
# library's ns/op as a multiple of audit-BCM's.
#
# Usage: ./compare.sh [extra go test flags, e.g. -benchtime=100ms]
#
# Environment:
#   COUNT  runs of each benchmark (go test -count), default 5
#   BENCH  benchmark pattern (go test -bench), default .
#   RAW    if set, a file to keep the raw go test output in
#
# The raw go test output goes to standard error as it is produced; the
# tables go to standard output.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Build the table printer first, so that a broken build fails before the
# benchmarks run.
go build -o "$tmp/benchtable" ./cmd/benchtable

go test -run '^$' -bench "${BENCH:-.}" -benchmem -count "${COUNT:-5}" "$@" . | tee "$tmp/raw.txt" >&2

if [[ -n "${RAW:-}" ]]; then
	cp "$tmp/raw.txt" "$RAW"
fi

"$tmp/benchtable" <"$tmp/raw.txt"
