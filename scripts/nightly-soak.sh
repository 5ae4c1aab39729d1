#!/usr/bin/env bash
# The nightly soak, as root on a Debian 12 machine: install and build (scripts/setup.sh), bring a lab up, soak it,
# write the trend over the earlier nights, bring the lab down. What CI templates call (ci/github-actions/,
# ci/gitlab/), and what .ci/run runs for 3 minutes.
#   scripts/nightly-soak.sh [--duration 8h] [--epoch 10m] [--scenarios LIST] [--commit-mode async|sync]
#                           [--artifacts DIR] [--nights DIR] [--keep-nights N] [--timing default|fast]
#                           [--fail-on-regression] [-- more pgchaos soak options]
#   --artifacts DIR   tonight's soak goes to DIR/soak, the trend to DIR/trend (default artifacts)
#   --nights DIR      earlier nights' soak directories (e.g. restored from a CI cache); tonight's is added and the
#                     oldest dropped beyond --keep-nights (default 14)
# Exit code: the soak's (0 all valid, 1 any invalid, 2 unknown or harness error, 130 interrupted), or 1 when the
# soak was valid and --fail-on-regression finds tonight worse than the nights before.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=8h epoch=10m scenarios=random,switchover-storm,crash-primary,restart-storm commit_mode="" timing=default
artifacts=artifacts nights="" keep_nights=14 fail_on_regression=0 extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --epoch) epoch=$2; shift 2 ;;
    --scenarios) scenarios=$2; shift 2 ;;
    --commit-mode) commit_mode=$2; shift 2 ;;
    --artifacts) artifacts=$2; shift 2 ;;
    --nights) nights=$2; shift 2 ;;
    --keep-nights) keep_nights=$2; shift 2 ;;
    --timing) timing=$2; shift 2 ;;
    --fail-on-regression) fail_on_regression=1; shift ;;
    --) shift; extra=("$@"); break ;;
    *) echo "nightly-soak: unknown option $1 (see the head of $0)" >&2; exit 2 ;;
  esac
done

scripts/setup.sh
pgchaos=$PWD/build/dev/app/pgchaos
state=${PGCHAOS_LAB_STATE:-/var/tmp/pgchaos-nightly-lab}
soak_dir=$artifacts/soak
if [ -e "$soak_dir" ]; then echo "nightly-soak: $soak_dir exists; give another --artifacts" >&2; exit 2; fi
mkdir -p "$artifacts"

$pgchaos lab up --state "$state" --timing "$timing"
trap '$pgchaos lab down --state "$state"' EXIT
mode=(); [ -n "$commit_mode" ] && mode=(--commit-mode "$commit_mode")
set +e
$pgchaos soak --conf "$state/pgchaos.conf" --duration "$duration" --epoch "$epoch" --scenarios "$scenarios" \
  --output "$soak_dir" --rebuild-lab "${mode[@]}" "${extra[@]}"
code=$?
set -e
[ -f "$soak_dir/soak.json" ] || { echo "nightly-soak: the soak wrote no report" >&2; exit 2; }

# The trend: the earlier nights, then tonight's.
earlier=()
if [ -n "$nights" ] && [ -d "$nights" ]; then
  while IFS= read -r dir; do earlier+=("$dir"); done < <(find "$nights" -mindepth 1 -maxdepth 1 -type d | sort)
fi
regression=(); [ $fail_on_regression = 1 ] && regression=(--fail-on-regression)
set +e
$pgchaos trend "${earlier[@]}" "$soak_dir" --output "$artifacts/trend" "${regression[@]}"
trend_code=$?
set -e
if [ -n "$nights" ]; then
  mkdir -p "$nights"
  tonight="$nights/$(date -u +%Y%m%dT%H%M%SZ)"
  mkdir -p "$tonight" && cp "$soak_dir/soak.json" "$tonight/"  # the trend needs only soak.json
  find "$nights" -mindepth 1 -maxdepth 1 -type d | sort | head -n -"$keep_nights" | xargs -r rm -rf
fi
echo "nightly-soak: soak exit $code, trend exit $trend_code; soak report $soak_dir/soak.html, trend $artifacts/trend/trend.html"
if [ $code = 0 ] && [ $trend_code != 0 ]; then exit 1; fi
exit $code
