#!/usr/bin/env bash
# The list-append workload's throughput against the bank's: same threads, same operation count, same throwaway
# server, alternating, ROUNDS times; each run's whole process (workload, snapshots, check). Prints each round and
# the median ops/s of each and their ratio. Goal (issue 23): the append workload within 1.5 x the bank's time.
#   bench/append_vs_bank.sh [OPERATIONS=20000] [THREADS=10] [ROUNDS=3] [ISOLATION=serializable]
set -euo pipefail
cd "$(dirname "$0")/.."
ops=${1:-20000}
threads=${2:-10}
rounds=${3:-3}
isolation=${4:-serializable}
pgchaos=${PGCHAOS_BIN:-build/dev/app/pgchaos}
[ -x "$pgchaos" ] || { echo "build first: scripts/setup.sh" >&2; exit 2; }
source scripts/lib/throwaway_postgres.sh
out=$(mktemp -d /tmp/pgchaos-bench-XXXXXX)
trap 'stop_throwaway_postgres; rm -rf "$out"' EXIT

TIMEFORMAT='%R'
wall() { { time "$@" >"$out/last.log" 2>&1; } 2>&1 || { cat "$out/last.log" >&2; exit 2; }; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "ops=$ops threads=$threads rounds=$rounds isolation=$isolation server=127.0.0.1:$PG_PORT"
: >"$out/bank"; : >"$out/append"
for round in $(seq "$rounds"); do
  b=$(wall "$pgchaos" run --dsn "$PG_DSN" --operations "$ops" --threads "$threads" --reset --output "$out/bank$round")
  bd=$(sed -n 's/^  errors by class: \(.*\)/\1/p' "$out/last.log")
  a=$(wall "$pgchaos" run --dsn "$PG_DSN" --operations "$ops" --threads "$threads" --reset --workload append \
      --isolation "$isolation" --output "$out/append$round")
  ad=$(sed -n 's/^  errors by class: \(.*\)/\1/p' "$out/last.log")
  av=$(sed -n 's/^verdict: \(.*\)/\1/p' "$out/last.log")
  echo "round $round: bank ${b}s (errors: $bd) | append ${a}s (errors: $ad; $av)"
  echo "$b" >>"$out/bank"; echo "$a" >>"$out/append"
done
b=$(median <"$out/bank"); a=$(median <"$out/append")
awk -v b="$b" -v a="$a" -v ops="$ops" 'BEGIN {
  printf "median wall: bank %.2f s (%.0f ops/s), append %.2f s (%.0f ops/s): append / bank = %.2f x (goal <= 1.5)\n",
         b, ops / b, a, ops / a, a / b }'
