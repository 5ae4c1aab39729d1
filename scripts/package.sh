#!/usr/bin/env bash
# Builds the Debian package from the dev build (scripts/setup.sh first) and checks it with lintian:
#   scripts/package.sh      -> build/dev/pgchaos_VERSION_amd64.deb
# Lintian fails the script on any tag, down to --pedantic ones.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset dev >/dev/null
cmake --build --preset dev --target pgchaos pgchaos_package_docs
rm -f build/dev/pgchaos_*.deb
(cd build/dev && cpack -G DEB >cpack.log 2>&1) || { cat build/dev/cpack.log >&2; exit 1; }
deb=$(ls build/dev/pgchaos_*_amd64.deb)
echo "package: $deb"
status=0
report=$(lintian --pedantic --display-info --fail-on error,warning,info,pedantic "$deb" 2>&1) || status=$?
echo "$report" | grep -v "running with root privileges" || true
[ "$status" -eq 0 ] || { echo "package: lintian is not clean (exit $status)" >&2; exit 1; }
echo "package: lintian clean, --pedantic included"
