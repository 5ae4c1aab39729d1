#!/usr/bin/env bash
# The package as a user gets it (root; CI runs it after the tests, with no lab up):
#   tests/package/install_test.sh [DEB]     (default: scripts/package.sh builds it)
# installs it with apt-get, runs pgchaos from the installed paths only (--version, man -w, scenario --list, the
# completion, lab up, a 1,000-operation run through the lab, lab down), purges it, and checks that nothing of
# it is left on the machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
source_dir=$PWD
[ "$(id -u)" -eq 0 ] || { echo "install_test: needs root (apt-get install, the lab)" >&2; exit 2; }
if [ $# -gt 0 ]; then deb=$(realpath "$1"); else scripts/package.sh; deb=$(ls "$source_dir"/build/dev/pgchaos_*_amd64.deb); fi
! dpkg-query -W pgchaos >/dev/null 2>&1 || { echo "install_test: pgchaos is installed already; remove it first" >&2; exit 2; }

work=$(mktemp -d /var/tmp/pgchaos-install-test.XXXXXX)
chmod 755 "$work"  # the lab runs PostgreSQL and etcd as other users inside it
state=$work/lab
lab_started=0
cleanup() {
  if [ "$lab_started" -eq 1 ]; then
    if [ -x /usr/bin/pgchaos ]; then /usr/bin/pgchaos lab down --state "$state" >/dev/null 2>&1 || true
    else bash "$source_dir/lab/lab.sh" down --state "$state" >/dev/null 2>&1 || true; fi
  fi
  ! dpkg-query -W pgchaos >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get purge -y -q pgchaos >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
check() {  # check DESCRIPTION COMMAND...: the command must succeed
  local description=$1; shift
  if "$@"; then echo "ok: $description"; else echo "FAIL: $description"; failures=$((failures + 1)); fi
}

# What the machine holds before, to compare after the purge (the places a package writes).
listing() { { find /usr /etc /opt /var/lib/dpkg/info -xdev 2>/dev/null || true; } | grep -v '__pycache__' | sort; }
listing >"$work/before.txt"

echo "install_test: apt-get install $deb"
DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb" >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; exit 1; }
# From here on only the installed files: run outside the checkout, the source tree out of the way.
cd "$work"
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
unset PGCHAOS_LAB_DIR PGCHAOS_SCENARIO_DIR PGCHAOS_SCENARIO_PATH PGCHAOS_LAB_STATE
check "pgchaos is /usr/bin/pgchaos" test "$(command -v pgchaos)" = /usr/bin/pgchaos
pgchaos --version | tee "$work/version.txt"
check "--version names the version" grep -qx "pgchaos $(dpkg-query -W -f='${Version}' pgchaos)" "$work/version.txt"
check "the scenario library is the installed one" grep -qx "scenario library: /usr/share/pgchaos/scenarios" "$work/version.txt"
check "the lab is the installed one" grep -qx "lab: /usr/share/pgchaos/lab" "$work/version.txt"
check "man -w pgchaos finds the man page" test "$(man -w pgchaos)" = /usr/share/man/man1/pgchaos.1.gz
check "the man page renders" sh -c 'man pgchaos 2>/dev/null | grep -q "pgchaos scenario"'
pgchaos scenario --list >"$work/list.txt"
check "scenario --list lists the library" grep -q "^switchover-storm " "$work/list.txt"
check "scenario --list lists all $(ls /usr/share/pgchaos/scenarios | wc -l) scenarios" \
  test "$(wc -l <"$work/list.txt")" -eq "$(ls /usr/share/pgchaos/scenarios/*.json | wc -l)"
mkdir -p "$work/own"
echo '{"description": "my own", "steps": [{"fault": "switchover", "delay": "1s"}]}' >"$work/own/mine.json"
check "--scenario-dir adds a user's own" sh -c "pgchaos scenario --list --scenario-dir '$work/own' | grep -q '^mine .*my own'"
check "PGCHAOS_SCENARIO_PATH adds a user's own" sh -c "PGCHAOS_SCENARIO_PATH='$work/own' pgchaos scenario --list | grep -q '^mine '"
check "the completion completes subcommands and scenario names" bash -c '
  source /usr/share/bash-completion/completions/pgchaos
  COMP_WORDS=(pgchaos sce); COMP_CWORD=1; _pgchaos; [ "${COMPREPLY[*]}" = scenario ] || exit 1
  COMP_WORDS=(pgchaos scenario switchover-s); COMP_CWORD=2; _pgchaos; [ "${COMPREPLY[*]}" = switchover-storm ]'

echo "install_test: pgchaos lab up"
lab_started=1
check "pgchaos lab up" pgchaos lab up --state "$state" --timing fast
check "a 1,000-operation run through the lab is valid" \
  pgchaos run --conf "$state/pgchaos.conf" --operations 1000 --output "$work/run"
check "its report counts 1,000 acknowledged" python3 -c "
import json, sys
r = json.load(open('$work/run/report.json'))
sys.exit(0 if r['verdict'] == 'valid' and r['counts']['acknowledged'] == 1000 else 1)"
check "pgchaos lab down" pgchaos lab down --state "$state"
lab_started=0
check "lab down left no namespace" sh -c '! ip netns list | grep -q "^pgc[0-9]"'

echo "install_test: apt-get purge pgchaos"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q pgchaos >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; exit 1; }
check "pgchaos is gone" sh -c '! command -v pgchaos && ! dpkg-query -W pgchaos 2>/dev/null'
listing >"$work/after.txt"
check "the purge left nothing behind" diff "$work/before.txt" "$work/after.txt"

if [ "$failures" -gt 0 ]; then echo "install_test: $failures failures"; exit 1; fi
echo "install_test: the package installs, runs from its installed paths, and purges clean"
