#!/usr/bin/env bash
# pgchaos run vs pgbench on the same transaction, same clients, same operation count, same throwaway server,
# alternating, ROUNDS times. Prints each round and the median wall and CPU (user+sys of the client) ratios.
# Goal (issue 13): pgchaos's whole process wall <= 1.0 x pgbench, CPU <= 1.2 x pgbench, with the history on.
#   bench/compare_pgbench.sh [OPERATIONS=20000] [THREADS=10] [ROUNDS=5] [COMMIT=fsync|off]
# COMMIT off runs the throwaway server with synchronous_commit=off (fsync stays on): the client's own cost shows.
# PGCHAOS_BENCH_RUN_FLAGS adds flags to each pgchaos run, e.g. --compress-history (the soak's zstd history) or
# --statement-by-statement (the seed's six round trips).
set -euo pipefail
cd "$(dirname "$0")/.."
ops=${1:-20000}
threads=${2:-10}
rounds=${3:-5}
commit=${4:-fsync}
case $commit in
  fsync) ;;
  off) export PG_EXTRA_OPTIONS="-c synchronous_commit=off" ;;
  *) echo "COMMIT must be fsync or off" >&2; exit 2 ;;
esac
accounts=100
pgchaos=${PGCHAOS_BIN:-build/dev/app/pgchaos}  # PGCHAOS_BIN: another build, e.g. an earlier commit
[ -x "$pgchaos" ] || { echo "build first: scripts/setup.sh" >&2; exit 2; }
source scripts/lib/throwaway_postgres.sh
out=$(mktemp -d /tmp/pgchaos-bench-XXXXXX)
trap 'stop_throwaway_postgres; rm -rf "$out"' EXIT

# Create the schema and accounts once (pgchaos owns them); pgbench writes ledger rows under run id 0.
$pgchaos run --dsn "$PG_DSN" --operations 10 --threads 1 --accounts $accounts --reset --output "$out/setup" >/dev/null

TIMEFORMAT='%R %U %S'
measure() {  # prints "wall cpu" of the command
  local t
  t=$( { time "$@" >"$out/last.log" 2>&1; } 2>&1 ) || { cat "$out/last.log" >&2; exit 2; }
  awk '{printf "%.3f %.3f\n", $1, $2 + $3}' <<<"$t"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "ops=$ops threads=$threads rounds=$rounds commit=$commit server=127.0.0.1:$PG_PORT pgchaos flags: ${PGCHAOS_BENCH_RUN_FLAGS:-none}"
: >"$out/pgbench" ; : >"$out/pgchaos"
for round in $(seq "$rounds"); do
  read -r bw bc < <(measure pgbench -n -M prepared --max-tries=1000 -c "$threads" -j "$threads" \
      -t $((ops / threads)) -f bench/bank_transfer.pgbench -D accounts=$accounts -D run=0 "$PG_DSN")
  read -r cw cc < <(measure $pgchaos run --dsn "$PG_DSN" --operations "$ops" --threads "$threads" \
      --accounts $accounts --reset --output "$out/run$round" ${PGCHAOS_BENCH_RUN_FLAGS:-})
  echo "round $round: pgbench wall ${bw}s cpu ${bc}s | pgchaos wall ${cw}s cpu ${cc}s"
  echo "$bw $bc" >>"$out/pgbench"; echo "$cw $cc" >>"$out/pgchaos"
done
bw=$(awk '{print $1}' "$out/pgbench" | median); bc=$(awk '{print $2}' "$out/pgbench" | median)
cw=$(awk '{print $1}' "$out/pgchaos" | median); cc=$(awk '{print $2}' "$out/pgchaos" | median)
awk -v bw="$bw" -v bc="$bc" -v cw="$cw" -v cc="$cc" -v ops="$ops" 'BEGIN {
  printf "median: pgbench %.0f ops/s (wall %.2fs, cpu %.2fs) | pgchaos %.0f ops/s (wall %.2fs, cpu %.2fs)\n",
         ops / bw, bw, bc, ops / cw, cw, cc
  printf "ratio pgchaos/pgbench: wall %.2f (goal <= 1.0), cpu %.2f (goal <= 1.2)\n", cw / bw, cc / bc }'
