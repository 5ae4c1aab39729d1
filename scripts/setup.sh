#!/usr/bin/env bash
# Installs the Debian 12 packages pgchaos needs and builds it. Idempotent: run it again at any time. Needs root (or
# sudo) for apt-get.
#   scripts/setup.sh              everything the tests, fuzzing, the package and the report check need; builds all
#   scripts/setup.sh --main-job   only what the main job needs (the build and the lab); builds only `pgchaos`, fast
#                                 (preset main-job: -O1, no debug info, into build/main-job)
#   scripts/setup.sh --no-build   install everything, build nothing
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}
case $mode in all|--main-job|--no-build) ;; *) echo "setup: unknown option $mode (see the head of $0)" >&2; exit 2 ;; esac

# The main job: build pgchaos (preset main-job: no tests) and run the lab.
main_job_packages=(
  cmake ninja-build g++ pkg-config
  libpqxx-dev libssh-dev libboost-program-options-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libzstd-dev
  libcurl4-openssl-dev
  # the lab: PostgreSQL 15 + etcd + Patroni + sshd + HAProxy in network namespaces
  postgresql-15 postgresql-client-15
  patroni etcd-server etcd-client openssh-server openssh-client haproxy iproute2 nftables util-linux procps curl
)
# Everything else: the tests, fuzzing, the benchmark, the Debian package and the report page's check.
packages=(
  "${main_job_packages[@]}"
  # the tests (pgbouncer: the workload through a pooler in transaction mode)
  libgtest-dev libgmock-dev pgbouncer
  # the lab's seed profile (pgbouncer and openssl too): a non-root operator with sudo, Patroni's HTTPS to etcd (idna)
  sudo python3-idna
  # the CI templates are checked with yamllint
  yamllint
  # the TLS tests make their certificates with openssl and serve HTTPS from python3
  openssl python3
  # fuzzing (preset fuzz): clang with libFuzzer and the sanitizers' runtimes
  clang libclang-rt-14-dev
  # the benchmark (pgbench)
  postgresql-contrib
  # the Debian package: dpkg-shlibdeps computes its Depends, lintian checks it, man-db reads the man page
  dpkg-dev lintian man-db bsdextrautils
  # the report page is checked in headless Chromium
  chromium fonts-dejavu-core
)

[ "$mode" = --main-job ] && packages=("${main_job_packages[@]}")
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

case $mode in
  all) cmake --preset dev >/dev/null && cmake --build --preset dev ;;
  --main-job) cmake --preset main-job >/dev/null && cmake --build --preset main-job ;;
esac
