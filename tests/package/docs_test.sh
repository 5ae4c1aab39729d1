#!/usr/bin/env bash
# The man page and the bash completion against the binary they describe:
#   tests/package/docs_test.sh PGCHAOS SOURCE_DIR
# - the man page renders without a warning, names every command of `pgchaos --help` and every option of each
#   command's --help (and the lab's), so an option added without its documentation fails here;
# - the completion completes commands, options, scenario names (a user's own directory included) and values.
set -euo pipefail
pgchaos=$1 source_dir=$2
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
sed 's/@PGCHAOS_VERSION@/test/' "$source_dir/packaging/pgchaos.1" >"$scratch/pgchaos.1"
warnings=$(LC_ALL=C.UTF-8 MANWIDTH=200 man --warnings -l "$scratch/pgchaos.1" 2>&1 >/dev/null || true)
[ -z "$warnings" ] || fail "the man page renders with warnings: $warnings"
LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$scratch/pgchaos.1" 2>/dev/null | col -b >"$scratch/man.txt"
[ -s "$scratch/man.txt" ] || fail "the man page renders empty"

commands=$("$pgchaos" --help | sed -n 's/^  \([a-z]\+\) .*/\1/p')
[ "$(echo "$commands" | wc -w)" -ge 8 ] || fail "pgchaos --help lists commands: $commands"
sed -n '/^COMMANDS/,/^RUN OPTIONS/p' "$scratch/man.txt" >"$scratch/commands.txt"
for command in $commands; do
  grep -qE "^ +$command( |\$)" "$scratch/commands.txt" || fail "COMMANDS does not describe '$command'"
  [ "$command" = lab ] && continue
  for option in $("$pgchaos" "$command" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
    grep -qE -- "$option([^a-z-]|\$)" "$scratch/man.txt" || fail "the man page does not name $command $option"
  done
done
for option in $("$pgchaos" lab --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
  grep -qE -- "$option([^a-z-]|\$)" "$scratch/man.txt" || fail "the man page does not name lab $option"
done
grep -q "PGCHAOS_SCENARIO_PATH" "$scratch/man.txt" || fail "the man page does not name PGCHAOS_SCENARIO_PATH"

# The completion, as bash calls it: COMP_WORDS and COMP_CWORD in, COMPREPLY out.
mkdir -p "$scratch/own"
echo '{"description": "mine", "steps": [{"fault": "switchover", "delay": "1s"}]}' >"$scratch/own/my-night.json"
complete_words() {  # the completions of the last word of "$@"
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _pgchaos
           printf "%s\n" "${COMPREPLY[@]}"' completion "$source_dir/packaging/pgchaos.bash-completion" "$@"
}
# The completions are captured before grep reads them: grep -q stops reading at its first match, and under
# pipefail the writer's SIGPIPE would fail a check that held.
expect() {  # expect WANTED WORDS...: WANTED is among the completions
  local wanted=$1; shift
  local got; got=$(complete_words "$@")
  grep -qxF -- "$wanted" <<<"$got" || fail "completing '$*' does not offer '$wanted' (got: $(tr '\n' ' ' <<<"$got"))"
}
expect_not() {
  local unwanted=$1; shift
  local got; got=$(complete_words "$@")
  ! grep -qxF -- "$unwanted" <<<"$got" || fail "completing '$*' offers '$unwanted'"
}
expect scenario "$pgchaos" sce
expect matrix "$pgchaos" ""
expect_not run "$pgchaos" sce
expect switchover-storm "$pgchaos" scenario swi
expect crash-primary "$pgchaos" matrix c
expect --commit-mode "$pgchaos" scenario switchover-storm --com
expect --scenario-dir "$pgchaos" soak --sc
expect --resnapshot "$pgchaos" check --re
expect --fail-on-regression "$pgchaos" trend --fa
expect sync-strict "$pgchaos" scenario crash-primary --commit-mode sync-
expect async,sync "$pgchaos" matrix crash-primary --modes async,s
expect random,crash-primary "$pgchaos" soak --scenarios random,cr
expect node "$pgchaos" scenario --replay runs/x --replay-by n
expect my-night "$pgchaos" scenario --scenario-dir "$scratch/own" my
expect_not my-night "$pgchaos" scenario my
expect up "$pgchaos" lab u
expect --nodes "$pgchaos" lab up --no
expect etcd3 "$pgchaos" lab up --dcs e
expect --json "$pgchaos" lab status --j

if [ "$failures" -gt 0 ]; then echo "docs_test: $failures failures"; exit 1; fi
echo "docs_test: the man page and the completion agree with $pgchaos"
