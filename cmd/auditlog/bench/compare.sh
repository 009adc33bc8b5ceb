#!/usr/bin/env bash
# compare.sh measures auditlog against grep -c and awk over the same audit
# files, in the same run, and prints the median times and their ratios.
#
# It builds auditlog and gendata, writes with the library a set of audit
# files (by default 100 MiB in BCM and 100 MiB in JSON, three modules over
# 30 days, rotated daily and at 16 MiB, plus one module's single 120 MiB
# file for the memory of a table query), then runs each pair of commands
# RUNS times, alternating, and takes the medians of the elapsed time and
# of the CPU time (user plus system; auditlog reads each module in a
# goroutine of its own, so its CPU time can exceed its elapsed time, and
# on a machine that others share the CPU time is the steadier figure).
# Output goes to a file, not
# /dev/null: GNU grep stops at the first match when its output is
# /dev/null.
#
# The queries print BCM for the BCM set and JSON (-o json) for the JSON
# set: lines already in the output format are printed as they are.
#
# Usage: ./compare.sh
#
# Environment:
#   RUNS  runs of each command, default 5
#   MB    size in MiB of each format's set, default 100
#   DATA  directory to keep the set in (reused if it exists), default a
#         temporary directory removed at the end
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
runs=${RUNS:-5}
mb=${MB:-100}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
data=${DATA:-$tmp/data}

go build -o "$tmp/auditlog" ..
go build -o "$tmp/gendata" ./gendata
[[ -d $data/bcm ]] || "$tmp/gendata" -dir "$data/bcm" -format BCM -mb "$mb" >&2
[[ -d $data/json ]] || "$tmp/gendata" -dir "$data/json" -format JSON -mb "$mb" >&2
[[ -d $data/big ]] || "$tmp/gendata" -dir "$data/big" -format BCM -mb 120 -days 1 -modules 1 -maxsize 1024 >&2

# seconds CMD... runs CMD with its output to a file and prints the
# elapsed seconds and the CPU seconds (user plus system).
seconds() {
	/usr/bin/time -f '%e %U %S' -o "$tmp/time" "$@" >"$tmp/out" 2>/dev/null || true
	awk '{printf "%.2f %.2f\n", $1, $2 + $3}' "$tmp/time"
}

# median prints the median of its arguments.
median() {
	printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# compare NAME -- BASELINE... -- AUDITLOG... times both RUNS times,
# alternating, and prints a row of the table.
compare() {
	local name=$1
	shift 2
	local base=() ours=()
	while [[ $1 != -- ]]; do
		base+=("$1")
		shift
	done
	shift
	ours=("$@")
	local eb=() cb=() eo=() co=() t
	for ((i = 0; i < runs; i++)); do
		read -r -a t <<<"$(seconds "${base[@]}")"
		eb+=("${t[0]}") cb+=("${t[1]}")
		read -r -a t <<<"$(seconds "${ours[@]}")"
		eo+=("${t[0]}") co+=("${t[1]}")
	done
	awk -v n="$name" -v eb="$(median "${eb[@]}")" -v eo="$(median "${eo[@]}")" \
		-v cb="$(median "${cb[@]}")" -v co="$(median "${co[@]}")" 'BEGIN {
		printf "| %-34s | %5.2f | %5.2f | %5.1fx | %5.2f | %5.2f | %5.1fx |\n",
			n, eb, eo, (eb > 0 ? eo / eb : 0), cb, co, (cb > 0 ? co / cb : 0)
	}'
}

bcm=("$data"/bcm/*.log)
json=("$data"/json/*.log)
typesBCM='{c[$3]++} END {for (k in c) print k, c[k]}'
typesJSON='{split($0, a, "\"type\":\""); split(a[2], b, "\""); c[b[1]]++} END {for (k in c) print k, c[k]}'

echo "| auditlog command (vs baseline)      | base s | auditlog s | ratio | base CPU s | auditlog CPU s | CPU ratio |"
echo "|------------------------------------|------:|------:|------:|------:|------:|------:|"
compare "BCM query LOGON FAILURE (grep -c)" -- grep -c ' LOGON FAILURE ' "${bcm[@]}" -- "$tmp/auditlog" query "$data/bcm" --type LOGON --outcome FAILURE
compare "BCM query SUCCESS (grep -c)" -- grep -c ' SUCCESS ' "${bcm[@]}" -- "$tmp/auditlog" query "$data/bcm" --outcome SUCCESS
compare "JSON query LOGON FAILURE (grep -c)" -- grep -c '"type":"LOGON","outcome":"FAILURE"' "${json[@]}" -- "$tmp/auditlog" query "$data/json" -o json --type LOGON --outcome FAILURE
compare "JSON query SUCCESS (grep -c)" -- grep -c '"outcome":"SUCCESS"' "${json[@]}" -- "$tmp/auditlog" query "$data/json" -o json --outcome SUCCESS
compare "BCM stats (awk by type)" -- awk "$typesBCM" "${bcm[@]}" -- "$tmp/auditlog" stats "$data/bcm"
compare "JSON stats (awk by type)" -- awk "$typesJSON" "${json[@]}" -- "$tmp/auditlog" stats "$data/json"

# Memory of a table query over one large file: it streams.
big=$(du -m "$data"/big/*.audit.log | awk '{print $1}')
/usr/bin/time -f %M -o "$tmp/rss" "$tmp/auditlog" query "$data/big" -o table >"$tmp/out" 2>/dev/null || true
echo
echo "table query of a ${big} MiB file: peak RSS $(($(cat "$tmp/rss") / 1024)) MiB, $(wc -l <"$tmp/out") lines"
