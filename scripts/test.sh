#!/usr/bin/env bash
# The test command: installs what is missing, builds with warnings as errors, runs every test (ctest).
# Unit tests need nothing; integration tests start their own PostgreSQL 15 (initdb in a temp dir);
# lab tests (label `lab`) bring up the 3-node lab and need root for network namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
ctest --preset dev -j2 "$@"
