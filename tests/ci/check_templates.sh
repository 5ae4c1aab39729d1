#!/usr/bin/env bash
# The CI templates (ci/*/nightly-soak.yml) are valid YAML under yamllint's rules (ci/.yamllint, warnings count),
# each calls scripts/nightly-soak.sh, publishes the soak's JUnit file and keeps its artifacts; and the script itself
# parses (bash -n) and refuses an unknown option. Run by ctest (CiTemplates).
set -uo pipefail
cd "$(dirname "$0")/../.."
status=0
fail() { echo "FAIL: $*"; status=1; }
command -v yamllint >/dev/null || { echo "FAIL: yamllint is not installed (scripts/setup.sh installs it)"; exit 1; }
templates=(ci/github-actions/nightly-soak.yml ci/gitlab/nightly-soak.yml)
for t in "${templates[@]}"; do
  [ -f "$t" ] || { fail "$t is missing"; continue; }
  yamllint -s -c ci/.yamllint "$t" || fail "$t: yamllint"
  grep -Eq '^[^#]*bash scripts/nightly-soak\.sh ' "$t" || fail "$t does not call scripts/nightly-soak.sh"
  grep -Eq '^[^#]*artifacts/soak/junit\.xml' "$t" || fail "$t does not publish artifacts/soak/junit.xml"
  grep -Eq '^[^#]*artifacts/?$' "$t" || fail "$t does not keep the artifacts directory"
done
grep -q 'cron:' ci/github-actions/nightly-soak.yml || fail "the GitHub template has no schedule"
grep -q 'CI_PIPELINE_SOURCE == "schedule"' ci/gitlab/nightly-soak.yml || fail "the GitLab template does not run on a schedule"
bash -n scripts/nightly-soak.sh || fail "scripts/nightly-soak.sh does not parse"
out=$(bash scripts/nightly-soak.sh --no-such-option 2>&1); code=$?
[ $code = 2 ] && grep -q "unknown option --no-such-option" <<<"$out" || fail "an unknown option is not refused by name (exit $code: $out)"
# A broken template must fail the check: the check is tried on one.
broken=$(mktemp /tmp/pgchaos-broken-XXXXXX.yml)
printf 'nightly:\n  script:\n    - bash scripts/nightly-soak.sh\n   bad: indent\n' >"$broken"
if yamllint -s -c ci/.yamllint "$broken" >/dev/null 2>&1; then fail "yamllint accepted a broken file"; fi
rm -f "$broken"
[ $status = 0 ] && echo "CI templates: ok (${templates[*]})"
exit $status
