#!/usr/bin/env bash
# pgchaos run vs pgbench on the same transaction, same clients, same operation count, same throwaway server,
# alternating, ROUNDS times. Prints each round and the median wall and CPU (user+sys of the client) ratios, and the
# server's CPU for each (on a 2-core machine the server's work is the client's wall too). Each round says its
# deadlocks: each one holds two clients for deadlock_timeout (1 s), the largest part of the wall's spread.
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
# The server's CPU: its backends' time, which the postmaster collects as they exit (cutime + cstime), plus its own.
postmaster=$(head -1 "$pg_dir/data/postmaster.pid")
server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15 + $16 + $17) / hz}' "/proc/$postmaster/stat"; }
measure() {  # prints "wall client_cpu server_cpu" of the command
  local t before after
  before=$(server_cpu)
  t=$( { time "$@" >"$out/last.log" 2>&1; } 2>&1 ) || { cat "$out/last.log" >&2; exit 2; }
  after=$(server_cpu)
  awk -v server="$(awk -v a="$before" -v b="$after" 'BEGIN {print b - a}')" '{printf "%.3f %.3f %.3f\n", $1, $2 + $3, server}' <<<"$t"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "ops=$ops threads=$threads rounds=$rounds commit=$commit server=127.0.0.1:$PG_PORT pgchaos flags: ${PGCHAOS_BENCH_RUN_FLAGS:-none}"
: >"$out/pgbench" ; : >"$out/pgchaos"
for round in $(seq "$rounds"); do
  read -r bw bc bs < <(measure pgbench -n -M prepared --max-tries=1000 -c "$threads" -j "$threads" \
      -t $((ops / threads)) -f bench/bank_transfer.pgbench -D accounts=$accounts -D run=0 "$PG_DSN")
  bd=$(sed -n 's/^number of transactions retried: \([0-9]*\).*/\1/p' "$out/last.log")
  read -r cw cc cs < <(measure $pgchaos run --dsn "$PG_DSN" --operations "$ops" --threads "$threads" \
      --accounts $accounts --reset --output "$out/run$round" ${PGCHAOS_BENCH_RUN_FLAGS:-})
  cd_=$(sed -n 's/^  deadlocks \([0-9]*\),.*/\1/p' "$out/last.log")
  echo "round $round: pgbench wall ${bw}s cpu ${bc}s server ${bs}s deadlocks ${bd:-?} | pgchaos wall ${cw}s cpu ${cc}s server ${cs}s deadlocks ${cd_:-?}"
  echo "$bw $bc $bs ${bd:-0}" >>"$out/pgbench"; echo "$cw $cc $cs ${cd_:-0}" >>"$out/pgchaos"
done
bw=$(awk '{print $1}' "$out/pgbench" | median); bc=$(awk '{print $2}' "$out/pgbench" | median)
cw=$(awk '{print $1}' "$out/pgchaos" | median); cc=$(awk '{print $2}' "$out/pgchaos" | median)
bs=$(awk '{print $3}' "$out/pgbench" | median); cs=$(awk '{print $3}' "$out/pgchaos" | median)
awk -v bw="$bw" -v bc="$bc" -v cw="$cw" -v cc="$cc" -v bs="$bs" -v cs="$cs" -v ops="$ops" 'BEGIN {
  printf "median: pgbench %.0f ops/s (wall %.2fs, cpu %.2fs) | pgchaos %.0f ops/s (wall %.2fs, cpu %.2fs)\n",
         ops / bw, bw, bc, ops / cw, cw, cc
  printf "ratio pgchaos/pgbench: wall %.2f (goal <= 1.0), cpu %.2f (goal <= 1.2)\n", cw / bw, cc / bc
  printf "server cpu (its backends): pgbench %.2fs, pgchaos %.2fs, ratio %.2f\n", bs, cs, cs / bs }'
# A deadlock costs its clients deadlock_timeout (1 s) of a run of a few seconds, and the rounds' deadlock counts
# differ by chance: the rounds without one show the tools' own pace.
awk '$4 == 0 {print $1}' "$out/pgbench" >"$out/pgbench.calm"; awk '$4 == 0 {print $1}' "$out/pgchaos" >"$out/pgchaos.calm"
if [ -s "$out/pgbench.calm" ] && [ -s "$out/pgchaos.calm" ]; then
  awk -v b="$(median <"$out/pgbench.calm")" -v c="$(median <"$out/pgchaos.calm")" \
      -v nb="$(wc -l <"$out/pgbench.calm")" -v nc="$(wc -l <"$out/pgchaos.calm")" 'BEGIN {
    printf "rounds without a deadlock: pgbench wall %.2fs (%d rounds), pgchaos wall %.2fs (%d rounds), ratio %.2f\n",
           b, nb, c, nc, c / b }'
fi
