#!/usr/bin/env bash
# Time of `pgchaos lab up` from nothing (until healthy) and of `lab down`, and the lab's memory (PSS, so that
# PostgreSQL's shared memory is counted once, of every process in the nodes' namespaces, the supervisors and
# HAProxy), over ROUNDS rounds. Goal: up <= 15 s, down <= 3 s.
#   bench/lab_timing.sh [ROUNDS=3] [--timing default|fast] [--dcs etcd3|etcd] [--profile default|seed]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}; shift || true
pgchaos=build/dev/app/pgchaos
state=/var/tmp/pgchaos-lab-bench
$pgchaos lab down --state "$state" >/dev/null
rss_mb() {
  local pids total=0 p
  pids="$(cat "$state"/pgc*/run/supervisor.pid "$state/haproxy.pid") $(for n in pgc1 pgc2 pgc3; do ip netns pids $n; done)"
  for p in $pids; do total=$((total + $(awk '/^Pss:/ {print $2}' /proc/$p/smaps_rollup 2>/dev/null || echo 0))); done
  echo $((total / 1024))
}
since() { awk -v start="$1" -v now="$(date +%s.%N)" 'BEGIN {printf "%.2f", now - start}'; }  # no bc on a fresh machine
for r in $(seq "$rounds"); do
  s=$(date +%s.%N); $pgchaos lab up --state "$state" "$@" >/dev/null; u=$(since "$s")
  m=$(rss_mb)
  s=$(date +%s.%N); $pgchaos lab down --state "$state" >/dev/null; d=$(since "$s")
  printf 'round %d: up %.1f s (goal <= 15), down %.2f s (goal <= 3), memory %d MB\n' "$r" "$u" "$d" "$m"
done
