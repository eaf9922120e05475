#!/usr/bin/env bash
# SQL rows to frame, plugin-sql against the Go SDK's sqlutil, in one run (benches/sql/README.md).
#
# Builds both runners, then runs them in alternating order (Rust, Go, Go, Rust, Rust, Go, …) so
# a change in machine load hits both sides alike, and prints a Markdown table of the rounds, the
# median rows/s (wall time) and CPU time per iteration of each side, and the ratios. Then one
# round of each side's floor (the driver alone stepping through the same rows: sqlx-fetch,
# go-sql-next), so the frame building's own share can be read off.
#
#   benches/sql/run.sh                       # 3 rounds each, 1,000,000 rows, 5 timed iterations
#   ROUNDS=4 ROWS=1000000 ITERS=5 benches/sql/run.sh
#   PIN=0 benches/sql/run.sh                 # both sides under `taskset -c 0` (one core)
set -euo pipefail

ROUNDS=${ROUNDS:-3}
ROWS=${ROWS:-1000000}
ITERS=${ITERS:-5}
PIN=${PIN:-}

root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "building plugin-sql (release) and go-sqlutil ..." >&2
(cd "$root" && cargo build --quiet --release -p plugin-sql --example sql_rows)
rust_bin="$root/target/release/examples/sql_rows"
# As the Go SDK's mage build does by default (build/common.go): no cgo, so a pure-Go driver.
(cd "$root/benches/sql/go-sqlutil" && CGO_ENABLED=0 go build -o "$work/go-sqlutil" .)
go_bin="$work/go-sqlutil"

pin=()
if [[ -n $PIN ]]; then pin=(taskset -c "$PIN"); fi

run_one() { # impl round [table]
	local load line
	load=$(cut -d' ' -f1 /proc/loadavg)
	case $1 in
	plugin-sql) line=$("${pin[@]}" "$rust_bin" --rows "$ROWS" --iters "$ITERS") ;;
	go-sqlutil) line=$("${pin[@]}" "$go_bin" -rows "$ROWS" -iters "$ITERS") ;;
	sqlx-fetch) line=$("${pin[@]}" "$rust_bin" --rows "$ROWS" --iters "$ITERS" --floor) ;;
	go-sql-next) line=$("${pin[@]}" "$go_bin" -rows "$ROWS" -iters "$ITERS" -floor) ;;
	esac
	echo "$line" >&2
	# The shared one-line format:
	# sql-rows impl=… rows=… iters=… median_ms=… min_ms=… max_ms=… cpu_ms=… rows_per_s=…
	echo "$line" | awk -v round="$2" -v load="$load" '{
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", round, v["impl"], v["median_ms"], v["min_ms"], v["max_ms"], v["cpu_ms"], v["rows_per_s"], load
		printf "%s %s %s\n", v["impl"], v["rows_per_s"], v["cpu_ms"] >>rates
	}' rates="$work/rates" >>"$work/${3:-table}"
}

echo "machine: $(nproc) cores; $(uptime)${PIN:+; pinned: taskset -c $PIN}" >&2
round=0
for ((pair = 0; pair < ROUNDS; pair++)); do
	if ((pair % 2 == 0)); then order=(plugin-sql go-sqlutil); else order=(go-sqlutil plugin-sql); fi
	for impl in "${order[@]}"; do
		round=$((round + 1))
		run_one "$impl" "$round"
	done
done
for impl in sqlx-fetch go-sql-next; do
	round=$((round + 1))
	run_one "$impl" "$round" floor
done

echo
echo "$ROWS rows of (time DATETIME, value REAL, host TEXT), $ITERS timed iterations per round after one warm-up; cpu = the process's CPU time (user + system, all threads) per timed iteration; load = 1-minute load average before the round ($(nproc) cores)${PIN:+; both sides pinned with taskset -c $PIN}."
echo
echo "| round | impl | median ms | min ms | max ms | cpu ms/iter | rows/s (median) | load |"
echo "|---|---|---|---|---|---|---|---|"
cat "$work/table"
echo
echo "Floors (the driver alone, one round each):"
echo
echo "| round | impl | median ms | min ms | max ms | cpu ms/iter | rows/s (median) | load |"
echo "|---|---|---|---|---|---|---|---|"
cat "$work/floor"
echo
awk '
	function median(a, n,   i, j, t) {
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j > 0 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	$1 == "plugin-sql" { r[++nr] = $2; rc[nr] = $3 }
	$1 == "go-sqlutil" { g[++ng] = $2; gc[ng] = $3 }
	END {
		mr = median(r, nr); mg = median(g, ng); cr = median(rc, nr); cg = median(gc, ng)
		printf "wall: plugin-sql %.0f rows/s, go-sqlutil %.0f rows/s (medians of the rounds): plugin-sql is %.2fx\n", mr, mg, mr / mg
		printf "cpu:  plugin-sql %.0f ms/iter, go-sqlutil %.0f ms/iter (medians of the rounds): Go uses %.2fx the CPU time\n", cr, cg, cg / cr
	}' "$work/rates"
echo "after: $(uptime)"
