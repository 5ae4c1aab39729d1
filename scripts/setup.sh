#!/usr/bin/env bash
# Installs the Debian 12 packages pgchaos needs and builds it. Idempotent: run it again at any time. Needs root (or
# sudo) for apt-get.
#   scripts/setup.sh              everything the tests, fuzzing, the package and the report check need; builds all
#   scripts/setup.sh --main-job   only what the main job needs (the build and the lab); builds only `pgchaos`, fast
#                                 (preset main-job: -O1, no debug info, a unity build, into build/main-job), while
#                                 the lab's packages install (the build's output: build/main-job.log)
#   scripts/setup.sh --no-build   install everything, build nothing
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}
case $mode in all|--main-job|--no-build) ;; *) echo "setup: unknown option $mode (see the head of $0)" >&2; exit 2 ;; esac

# The main job: build pgchaos (preset main-job: no tests) and run the lab.
build_packages=(
  cmake ninja-build g++ pkg-config
  libpqxx-dev libssh-dev libboost-program-options-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libzstd-dev
  libcurl4-openssl-dev
)
# the lab: PostgreSQL 15 + etcd + Patroni + sshd + HAProxy in network namespaces
lab_packages=(
  postgresql-15 postgresql-client-15
  patroni etcd-server etcd-client openssh-server openssh-client haproxy iproute2 nftables util-linux procps curl
)
main_job_packages=("${build_packages[@]}" "${lab_packages[@]}")
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

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
updated=0
# install_missing PACKAGE...: those not yet installed (apt-get update once, the first time anything is missing)
install_missing() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "setup: installing ${missing[*]}"
  [ $updated = 1 ] || { $sudo apt-get update -q; updated=1; }
  # Package scripts must not start etcd/haproxy/sshd/postgresql as system services: pgchaos starts its own.
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

case $mode in
  all|--no-build)
    install_missing "${packages[@]}"
    if [ "$mode" = all ]; then cmake --preset dev >/dev/null && cmake --build --preset dev; fi
    ;;
  --main-job)
    # The build needs only the build's packages: it runs while the lab's packages install (on a bare machine, a
    # third of the time to a checked run is installing; the build is most of the rest).
    install_missing "${build_packages[@]}"
    log=build/main-job.log
    mkdir -p build
    echo "setup: building pgchaos (preset main-job) while the lab's packages install; log: $log"
    (cmake --preset main-job >/dev/null && cmake --build --preset main-job) >"$log" 2>&1 &
    build=$!
    lab_status=0
    install_missing "${lab_packages[@]}" || lab_status=$?
    build_status=0
    wait $build || build_status=$?
    [ $build_status = 0 ] || { tail -n 40 "$log" >&2; echo "setup: the build failed (exit $build_status): $log" >&2; exit 1; }
    [ $lab_status = 0 ] || { echo "setup: installing the lab's packages failed (exit $lab_status)" >&2; exit 1; }
    echo "setup: built build/main-job/app/pgchaos"
    ;;
esac
