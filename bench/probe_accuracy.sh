#!/usr/bin/env bash
# How exactly pgchaos's write probe measures write unavailability (issue 24; goal: median |difference| <= 100 ms,
# max <= 250 ms): on the lab, SWITCHOVERS switchovers and CRASHES crashes of the primary under the workload, with
# bench/independent_probe (a libpq client that shares no code with pgchaos, one write every 10 ms) writing through
# the same HAProxy port beside it. pgchaos runs with the HAProxy DSN only, so both probes see the same path.
# Both are on the machine's wall clock. Per fault, each figure is taken by the report's rule (the longest outage
# overlapping the fault's window): pgchaos's from report.json, the independent probe's from its own lines.
#   bench/probe_accuracy.sh [SWITCHOVERS=10] [CRASHES=3] [LAB_STATE=/var/tmp/pgchaos-lab] [SEED=1]
set -euo pipefail
cd "$(dirname "$0")/.."
switchovers=${1:-10}
crashes=${2:-3}
state=${3:-/var/tmp/pgchaos-lab}
seed=${4:-1}
pgchaos=build/dev/app/pgchaos
independent=build/dev/bench/independent_probe
[ -x "$pgchaos" ] && [ -x "$independent" ] || { echo "build first: scripts/setup.sh" >&2; exit 2; }
[ -f "$state/pgchaos.conf" ] || { echo "no lab in $state: $pgchaos lab up --state $state" >&2; exit 2; }
out=$(mktemp -d /tmp/pgchaos-probe-accuracy-XXXXXX)
trap 'kill "$probe_pid" 2>/dev/null || true' EXIT
# The lab's configuration without its direct DSN: pgchaos's probe then writes through HAProxy only.
grep -v '^direct = ' "$state/pgchaos.conf" >"$out/haproxy-only.conf"
haproxy_dsn=$(sed -n 's/^haproxy = //p' "$state/pgchaos.conf")
cat >"$out/scenario.json" <<JSON
{
  "description": "probe accuracy: $switchovers switchovers, then $crashes crashes of the primary",
  "steps": [
    {"fault": "switchover", "target": "replica", "delay": "4s-6s", "repeat": $switchovers},
    {"fault": "crash", "target": "primary", "delay": "5s", "repeat": $crashes}
  ]
}
JSON
"$independent" "$haproxy_dsn?connect_timeout=5&keepalives_idle=2&keepalives_interval=1&keepalives_count=3&tcp_user_timeout=5000" 10 >"$out/independent.txt" 2>"$out/independent.err" &
probe_pid=$!
sleep 1
echo "pgchaos scenario (async commit, seed $seed) with the independent probe beside it; output in $out"
"$pgchaos" scenario "$out/scenario.json" --conf "$out/haproxy-only.conf" --commit-mode async --seed "$seed" \
  --output "$out/run" >"$out/run.log" 2>&1 || true
kill "$probe_pid"
wait "$probe_pid" 2>/dev/null || true
tail -n 3 "$out/run.log"
python3 - "$out/run/history.jsonl" "$out/independent.txt" "$out/run/report.json" <<'PY'
import json, statistics, sys

def outages(changes):  # [(down_us, up_us or None)] from time-ordered (at_us, up) changes
    result, down = [], None
    for at, up in sorted(changes):
        if not up and down is None:
            down = at
        elif up and down is not None:
            result.append((down, at)); down = None
    if down is not None:
        result.append((down, None))
    return result

windows, first = {}, None
for line in open(sys.argv[1]):
    e = json.loads(line)
    first = first or e.get('wall_us')
    if e.get('type') == 'fault_start':
        windows[e['op']] = [e['wall_us'], None]
    elif e.get('type') == 'fault_end' and e.get('op') in windows:
        windows[e['op']][1] = e['wall_us']
theirs = outages((int(line.split()[1]), line.startswith('up')) for line in open(sys.argv[2]))
report = json.load(open(sys.argv[3]))
# Per fault, each probe's figure by the report's rule: the longest outage overlapping the fault's window.
print(f"{'fault':>5} {'':12} {'starts at':>10} {'pgchaos':>9} {'independent':>12} {'difference':>11}")
diffs = []
for f in report['faults']:
    start, end = windows.get(f['id'], [None, None])
    ours = f['probe_unavailable_s']
    if start is None or not isinstance(ours, (int, float)):
        print(f"{f['id']:>5} {f['fault'][:12]:12} {'':>10} {str(ours):>9}")
        continue
    end = end or float('inf')
    overlapping = [(u - d) / 1e6 for d, u in theirs if u is not None and d < end and u > start]
    if not overlapping:
        print(f"{f['id']:>5} {f['fault'][:12]:12} {(start - first) / 1e6:>9.2f}s {ours:>8.3f}s {'none':>12}")
        continue
    other = max(overlapping)
    diffs.append(ours - other)
    print(f"{f['id']:>5} {f['fault'][:12]:12} {(start - first) / 1e6:>9.2f}s {ours:>8.3f}s {other:>11.3f}s "
          f"{(ours - other) * 1000:>+9.0f}ms")
if diffs:
    absolute = [abs(x) * 1000 for x in diffs]
    print(f"faults compared: {len(diffs)}; |difference| median {statistics.median(absolute):.0f} ms, "
          f"max {max(absolute):.0f} ms (goal: median <= 100 ms, max <= 250 ms)")
PY
