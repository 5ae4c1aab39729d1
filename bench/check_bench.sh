#!/usr/bin/env bash
# `pgchaos check` end to end (load history + snapshots, check, reports) on a run directory of OPS operations with
# a primary and 2 replicas (bench/make_run_directory writes it once into DIR), ROUNDS times, with the history's
# compact side file and without it (the history parsed). Prints the medians: seconds per million operations and
# peak memory (maximum RSS) per operation.
# Goal (issue 13): <= 1 s per million operations, <= 64 bytes per operation, on 10 million operations.
#   bench/check_bench.sh [OPS=10000000] [ROUNDS=3] [DIR=/var/tmp/pgchaos-check-bench-OPS]
set -euo pipefail
cd "$(dirname "$0")/.."
ops=${1:-10000000}
rounds=${2:-3}
dir=${3:-/var/tmp/pgchaos-check-bench-$ops}
pgchaos=build/dev/app/pgchaos
maker=build/dev/bench/make_run_directory
[ -x "$pgchaos" ] && [ -x "$maker" ] || { echo "build first: scripts/setup.sh" >&2; exit 2; }
[ -f "$dir/run.json" ] || "$maker" "$dir" "$ops" 2
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() {  # prints "wall_s max_rss_kb" of one check, which must say valid
  /usr/bin/time -f "%e %M" -o "$dir.time" "$pgchaos" check "$dir" >"$dir.out" 2>&1 || { cat "$dir.out" >&2; exit 2; }
  grep -q "^verdict: valid" "$dir.out" || { cat "$dir.out" >&2; exit 2; }
  cat "$dir.time"
}
report() {  # report LABEL
  : >"$dir.rounds"
  for _ in $(seq "$rounds"); do measure >>"$dir.rounds"; done
  local wall rss
  wall=$(awk '{print $1}' "$dir.rounds" | median)
  rss=$(awk '{print $2}' "$dir.rounds" | median)
  awk -v label="$1" -v wall="$wall" -v rss="$rss" -v ops="$ops" 'BEGIN {
    printf "%s: %.2f s = %.3f s per million ops (goal <= 1); peak %.0f MiB = %.1f bytes per op (goal <= 64)\n",
           label, wall, wall / (ops / 1e6), rss / 1024, rss * 1024 / ops }'
  grep "^time:" "$dir.out"
}
echo "pgchaos check on $ops operations, a primary and 2 replicas ($dir), $rounds rounds, medians"
report "with the compact side file"
mv "$dir/history.jsonl.compact" "$dir.compact"
trap 'mv "$dir.compact" "$dir/history.jsonl.compact" 2>/dev/null || true; rm -f "$dir.time" "$dir.out" "$dir.rounds"' EXIT
report "history parsed (no side file)"
