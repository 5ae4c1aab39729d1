#!/usr/bin/env bash
# The main job on a fresh machine: install, build, start a throwaway PostgreSQL 15 (initdb in a temp dir on a
# free port), run `pgchaos run --operations=10000` against it, print the summary and the run directory, and stop
# the server. Extra arguments go to `pgchaos run`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/lib/throwaway_postgres.sh
echo "main-job: PostgreSQL 15 on 127.0.0.1:$PG_PORT"
set +e
build/dev/app/pgchaos run --dsn "$PG_DSN" --operations=10000 "$@"
code=$?
set -e
exit $code
