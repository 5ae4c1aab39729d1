#!/usr/bin/env bash
# Builds the libFuzzer targets (preset fuzz: clang, ASan + UBSan) and runs each for SECONDS (default 60), seeded
# from tests/fuzz/corpus/NAME (read only: new inputs go to a scratch copy). A crash stops the script and leaves
# the crashing input in build/fuzz/crashes/; add it to tests/fuzz/corpus/NAME as a regression input.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(ini scenario history snapshot dsn append)
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
mkdir -p build/fuzz/crashes
for t in "${targets[@]}"; do
  scratch=$(mktemp -d)
  files=$(mktemp -d)  # the target's own scratch files (TMPDIR), apart from the corpus libFuzzer grows in $scratch
  echo "fuzz: $t for ${seconds}s"
  status=0
  TMPDIR=$files build/fuzz/tests/fuzz/fuzz_$t -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix=build/fuzz/crashes/$t- "$scratch" tests/fuzz/corpus/$t >"$scratch.log" 2>&1 || status=$?
  grep -E "^(stat::number_of_executed_units|stat::new_units_added|==[0-9]+==ERROR|SUMMARY|INFO: seed corpus)|what\(\)" \
    "$scratch.log" || true
  rm -f "$scratch.log"
  rm -rf "$scratch" "$files"
  if [ "$status" -ne 0 ]; then echo "fuzz: $t FAILED (exit $status); inputs in build/fuzz/crashes/"; exit 1; fi
done
echo "fuzz: every target ran ${seconds}s without a crash"
