#!/usr/bin/env bash
# The watcher's cost (issue 9: goal <= 2 % of workload throughput): the same workload on the lab, alternating
# rounds with the watcher (the lab's configuration, three nodes watched every 100 ms) and without it (the same
# configuration without its [cluster] nodes). Prints each round's ops/s and the median ratio.
#   bench/watcher_overhead.sh [DURATION=20s] [ROUNDS=3] [LAB_STATE=/var/tmp/pgchaos-lab]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-20s}
rounds=${2:-3}
state=${3:-/var/tmp/pgchaos-lab}
pgchaos=build/dev/app/pgchaos
[ -x "$pgchaos" ] || { echo "build first: scripts/setup.sh" >&2; exit 2; }
[ -f "$state/pgchaos.conf" ] || { echo "no lab in $state: $pgchaos lab up --state $state" >&2; exit 2; }
out=$(mktemp -d /tmp/pgchaos-watcher-XXXXXX)
trap 'rm -rf "$out"' EXIT
grep -v '^node\.' "$state/pgchaos.conf" >"$out/unwatched.conf"

ops_per_s() {  # CONF RUN_DIR: acknowledged commits per second of a run
  "$pgchaos" run --conf "$1" --duration "$duration" --threads 10 --output "$2" >"$2.log" 2>&1 || {
    [ -f "$2/report.json" ] || { cat "$2.log" >&2; exit 2; }; }
  python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['availability']['ops_per_s']))" "$2/report.json"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "duration=$duration rounds=$rounds lab=$state"
: >"$out/watched"; : >"$out/unwatched"
for round in $(seq "$rounds"); do
  off=$(ops_per_s "$out/unwatched.conf" "$out/off$round")
  on=$(ops_per_s "$state/pgchaos.conf" "$out/on$round")
  observations=$(grep -c '"type":"observation"' "$out/on$round/history.jsonl" || true)
  echo "round $round: without watcher ${off} ops/s | with watcher ${on} ops/s ($observations observations)"
  echo "$off" >>"$out/unwatched"; echo "$on" >>"$out/watched"
done
off=$(median <"$out/unwatched"); on=$(median <"$out/watched")
awk -v off="$off" -v on="$on" 'BEGIN { printf "median: without %.0f ops/s, with %.0f ops/s: watcher cost %.1f %% (goal <= 2 %%)\n", off, on, (off - on) / off * 100 }'
