#!/usr/bin/env bash
# The end of a long run: its snapshot and check on a large ledger. `pgchaos check DIR --resnapshot` (every node's
# accounts and ledger read into the run directory, then the check from the files) against a throwaway server whose
# ledger holds ROWS rows of an earlier run beside a small run, ROUNDS times. Prints the median wall and the peak
# memory (maximum RSS) per ledger row. PGCHAOS_BIN measures another build (e.g. an earlier commit's).
#   bench/snapshot_bench.sh [ROWS=5000000] [ROUNDS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-5000000}
rounds=${2:-3}
pgchaos=${PGCHAOS_BIN:-build/dev/app/pgchaos}
[ -x "$pgchaos" ] || { echo "build first: scripts/setup.sh" >&2; exit 2; }
source scripts/lib/throwaway_postgres.sh
out=$(mktemp -d /tmp/pgchaos-bench-XXXXXX)
trap 'stop_throwaway_postgres; rm -rf "$out"' EXIT

$pgchaos run --dsn "$PG_DSN" --operations 1000 --threads 4 --accounts 100 --reset --output "$out/run" >/dev/null
# An earlier run's rows (run 0, as pgbench writes them in compare_pgbench.sh), their transfers in the balances.
psql -q -X -v ON_ERROR_STOP=1 "$PG_DSN" <<SQL
INSERT INTO pgchaos.ledger (run_id, op_id, attempt, from_account, to_account, amount, worker)
  SELECT 0, g, 1, 1 + g % 100, 1 + (g + 1) % 100, 1.00, 0 FROM generate_series(1, $rows) AS g;
UPDATE pgchaos.accounts SET balance = balance + 1.00 * $rows / 100;
VACUUM ANALYZE pgchaos.ledger;
SQL
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "pgchaos check --resnapshot on a ledger of $rows + 1000 rows ($pgchaos), $rounds rounds, medians"
: >"$out/rounds"
for _ in $(seq "$rounds"); do
  /usr/bin/time -f "%e %M" -o "$out/time" "$pgchaos" check "$out/run" --resnapshot --dsn "$PG_DSN" >"$out/out" 2>&1 ||
    { cat "$out/out" >&2; exit 2; }
  grep -q "^verdict: valid" "$out/out" || { cat "$out/out" >&2; exit 2; }
  cat "$out/time" >>"$out/rounds"
done
wall=$(awk '{print $1}' "$out/rounds" | median)
rss=$(awk '{print $2}' "$out/rounds" | median)
awk -v wall="$wall" -v rss="$rss" -v rows="$rows" 'BEGIN {
  printf "wall %.2f s; peak %.0f MiB = %.1f bytes per ledger row\n", wall, rss / 1024, rss * 1024 / rows }'
grep "^time:" "$out/out"
