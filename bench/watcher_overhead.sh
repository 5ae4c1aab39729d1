#!/usr/bin/env bash
# The watcher's cost (issue 9: goal <= 2 % of workload throughput): the same workload on the lab, alternating
# rounds with the watcher (three nodes watched every 100 ms) and without it (--watch-interval off); both read every
# node at the end. Prints each round's throughput and the CPU seconds spent by pgchaos
# and by the lab's Patroni daemons (which answer the watcher's REST calls), then the medians. On a small shared
# machine throughput swings by tens of percent between rounds: the CPU figures are the steadier measure.
#   bench/watcher_overhead.sh [DURATION=20s] [ROUNDS=5] [LAB_STATE=/var/tmp/pgchaos-lab]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-20s}
rounds=${2:-5}
state=${3:-/var/tmp/pgchaos-lab}
pgchaos=build/dev/app/pgchaos
[ -x "$pgchaos" ] || { echo "build first: scripts/setup.sh" >&2; exit 2; }
[ -f "$state/pgchaos.conf" ] || { echo "no lab in $state: $pgchaos lab up --state $state" >&2; exit 2; }
out=$(mktemp -d /tmp/pgchaos-watcher-XXXXXX)
trap 'rm -rf "$out"' EXIT
cp "$pgchaos" "$out/pgchaos"  # a rebuild during the rounds does not disturb them
ticks=$(getconf CLK_TCK)

patroni_cpu() {  # CPU seconds used so far by every Patroni process
  local total=0 pid
  for pid in $(pgrep -f 'bin/patroni|patroni .*patroni.yml' || true); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

measure() {  # WATCH_INTERVAL RUN_DIR: "ops/s pgchaos_cpu_s patroni_cpu_s"
  local before after times
  before=$(patroni_cpu)
  times=$( { /usr/bin/time -f '%U %S' "$out/pgchaos" run --conf "$state/pgchaos.conf" --watch-interval "$1" \
             --duration "$duration" --threads 10 --output "$2" >"$2.log" 2>"$2.time"; } 2>&1; tail -n 1 "$2.time")
  after=$(patroni_cpu)
  [ -f "$2/report.json" ] || { cat "$2.log" >&2; exit 2; }
  python3 - "$2/report.json" "$times" "$before" "$after" "$ticks" <<'PY'
import json, sys
report, times, before, after, ticks = sys.argv[1], sys.argv[2].split(), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
ops = json.load(open(report))['availability']['ops_per_s']
print(f"{ops:.0f} {float(times[0]) + float(times[1]):.2f} {(after - before) / ticks:.2f}")
PY
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "duration=$duration rounds=$rounds lab=$state"
: >"$out/off"; : >"$out/on"
for round in $(seq "$rounds"); do
  read -r off_ops off_cpu off_patroni < <(measure off "$out/off$round")
  read -r on_ops on_cpu on_patroni < <(measure 100ms "$out/on$round")
  observations=$(grep -c '"type":"observation"' "$out/on$round/history.jsonl" || true)
  echo "round $round: without watcher $off_ops ops/s, cpu pgchaos ${off_cpu}s patroni ${off_patroni}s |" \
       "with watcher $on_ops ops/s, cpu pgchaos ${on_cpu}s patroni ${on_patroni}s ($observations observations)"
  echo "$off_ops $off_cpu $off_patroni" >>"$out/off"; echo "$on_ops $on_cpu $on_patroni" >>"$out/on"
done
col() { awk -v c="$1" '{print $c}' "$2" | median; }
awk -v o1="$(col 1 "$out/off")" -v o2="$(col 2 "$out/off")" -v o3="$(col 3 "$out/off")" \
    -v w1="$(col 1 "$out/on")" -v w2="$(col 2 "$out/on")" -v w3="$(col 3 "$out/on")" 'BEGIN {
  printf "median without: %.0f ops/s, cpu pgchaos %.2fs, patroni %.2fs\n", o1, o2, o3
  printf "median with:    %.0f ops/s, cpu pgchaos %.2fs, patroni %.2fs\n", w1, w2, w3
  printf "watcher: throughput %+.1f %% (goal >= -2 %%; noisy), extra cpu %.2fs = %.1f %% of the run'\''s client+patroni cpu\n",
         (w1 - o1) / o1 * 100, (w2 + w3) - (o2 + o3), ((w2 + w3) - (o2 + o3)) / (o2 + o3) * 100 }'
