#!/usr/bin/env bash
# The test command: installs what is missing, builds with warnings as errors, runs every test (ctest).
# Unit tests need nothing; integration tests start their own PostgreSQL 15 (initdb in a temp dir); lab tests
# (label `lab`, root only) bring up the 3-node lab, and run after the others, alone, so that failover timing is
# not measured on cores busy with other tests. Between the two, every fuzz target runs for PGCHAOS_FUZZ_SECONDS (60 s).
# Extra arguments go to both ctest calls.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
status=0
ctest --preset dev -j2 -LE lab "$@" || status=1
scripts/fuzz.sh "${PGCHAOS_FUZZ_SECONDS:-60}" || status=1
ctest --preset dev -L lab "$@" || status=1
exit $status
