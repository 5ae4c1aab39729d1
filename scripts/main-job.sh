#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine (as root): install what it needs, build pgchaos, bring the 3-node lab up (etcd + Patroni +
# PostgreSQL 15 + sshd per node, HAProxy in front), run `pgchaos run --operations=10000` through HAProxy, print
# the summary and the run directory, and bring the lab down.
#   scripts/main-job.sh [--keep-lab] [pgchaos run options...]
set -euo pipefail
cd "$(dirname "$0")/.."
keep_lab=0
args=()
for a in "$@"; do [ "$a" = --keep-lab ] && keep_lab=1 || args+=("$a"); done
scripts/setup.sh --main-job
pgchaos=build/main-job/app/pgchaos
state=${PGCHAOS_LAB_STATE:-/var/tmp/pgchaos-lab}
$pgchaos lab up --state "$state"
if [ $keep_lab = 0 ]; then trap '$pgchaos lab down --state "$state"' EXIT; fi
set +e
$pgchaos run --conf "$state/pgchaos.conf" --operations=10000 "${args[@]}"
code=$?
set -e
[ $keep_lab = 1 ] && echo "main-job: the lab stays up: $pgchaos lab status | down --state $state"
exit $code
