#!/usr/bin/env bash
# Installs every Debian 12 package pgchaos needs (build, tests, the lab) and builds pgchaos.
# Idempotent: run it again at any time. Needs root (or sudo) for apt-get.
#   scripts/setup.sh            install + build (preset dev: warnings are errors)
#   scripts/setup.sh --no-build install only
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # build
  cmake ninja-build g++ pkg-config
  libpqxx-dev libssh-dev libboost-program-options-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libzstd-dev
  libgtest-dev libgmock-dev
  # the CI templates are checked with yamllint
  yamllint
  # fuzzing (preset fuzz): clang with libFuzzer and the sanitizers' runtimes
  clang libclang-rt-14-dev
  # PostgreSQL 15 for the integration tests and the benchmark (pgbench)
  postgresql-15 postgresql-client-15 postgresql-contrib
  # the lab: etcd + Patroni + sshd + HAProxy in network namespaces
  patroni etcd-server etcd-client openssh-server openssh-client haproxy iproute2 nftables util-linux procps curl
  # the Debian package: dpkg-shlibdeps computes its Depends, lintian checks it, man-db reads the man page
  dpkg-dev lintian man-db bsdextrautils
  # the report page is checked in headless Chromium
  chromium fonts-dejavu-core
)

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -q
  # Package scripts must not start etcd/haproxy/sshd/postgresql as system services: pgchaos starts its own.
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi

if [ "${1:-}" != "--no-build" ]; then
  cmake --preset dev >/dev/null
  cmake --build --preset dev
fi
