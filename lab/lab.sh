#!/usr/bin/env bash
# The pgchaos lab: a real 3-node (or 5-node) etcd + Patroni + PostgreSQL 15 cluster on this machine, each node in
# its own network namespace behind a bridge, with sshd per node and HAProxy on 127.0.0.1. Needs root.
#   lab.sh up     [--state DIR] [--subnet A.B.C.0/24] [--dcs etcd3|etcd] [--timing default|fast] [--nodes 3|5]
#                 [--profile default|seed] [--set KEY=VALUE]... [--wal-disk SIZE|none] [--no-wait]
#   lab.sh status [--state DIR] [--json] [--wait SECONDS]
#   lab.sh down   [--state DIR]
# Traffic stays on this machine: no NAT, no default route in the nodes, ip_forward untouched.
# --profile seed builds the cluster as pg_cluster (../shared/seed) does: etcd with TLS and client certificates from
# the lab's own PKI, Patroni's REST API over HTTPS with basic authentication, PostgreSQL requiring TLS, pgbouncer on
# every node (transaction pooling) behind HAProxy, and SSH as a non-root operator with sudo.
# --wal-disk SIZE puts each node's pg_wal on a filesystem of its own (default none: in the data directory): an ext4
# image, sparse, on a loop device, so that a full WAL disk (fault fill-wal-disk) never fills this machine's disk. Not
# the default: WAL through a loop device costs the lab's commits about a quarter of their rate here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

cmd=${1:-}; shift || true
state=${PGCHAOS_LAB_STATE:-/var/tmp/pgchaos-lab}
subnet=10.213.7.0/24 dcs=etcd3 timing=default wait_healthy=120 json=0 status_wait=0 node_count=3 profile=default wal_disk=none
sets=()
while [ $# -gt 0 ]; do
  case $1 in
    --nodes) node_count=$2; shift 2 ;;
    --profile) profile=$2; shift 2 ;;
    --wal-disk) wal_disk=$2; shift 2 ;;
    --set) sets+=("$2"); shift 2 ;;
    --state) state=$2; shift 2 ;;
    --subnet) subnet=$2; shift 2 ;;
    --dcs) dcs=$2; shift 2 ;;
    --timing) timing=$2; shift 2 ;;
    --no-wait) wait_healthy=0; shift ;;
    --json) json=1; shift ;;
    --wait) status_wait=$2; shift 2 ;;
    *) echo "lab: unknown option $1" >&2; exit 2 ;;
  esac
done
die() { echo "lab: $*" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || die "the lab needs root (network namespaces, services as the postgres user)"
case $state in /*) ;; *) state="$PWD/$state" ;; esac

down() {
  [ -f "$state/lab.env" ] || { echo "lab: nothing to stop in $state"; return 0; }
  source "$state/lab.env"
  # Recorded PIDs and namespace membership only: never process names.
  for node in $LAB_NODES; do
    p=$(cat "$state/$node/run/supervisor.pid" 2>/dev/null || true)
    [ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true
  done
  p=$(cat "$state/haproxy.pid" 2>/dev/null || true)
  [ -n "$p" ] && kill -KILL $p 2>/dev/null || true
  for node in $LAB_NODES; do
    pids=$(ip netns pids "$node" 2>/dev/null || true)
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null || true
  done
  for node in $LAB_NODES; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do [ -z "$(ip netns pids "$node" 2>/dev/null)" ] && break; sleep 0.1; done
    ip netns del "$node" 2>/dev/null || true
    ip link del "${node}h" 2>/dev/null || true
  done
  ip link del "$LAB_BRIDGE" 2>/dev/null || true
  # The WAL disks, before anything is removed: rm -rf must never run through a mounted filesystem. Lazily when a
  # process of the node still holds it (the loop device goes with the last user; mount -o loop set autoclear).
  for node in $LAB_NODES; do
    if mountpoint -q "$state/$node/wal" 2>/dev/null; then
      umount "$state/$node/wal" 2>/dev/null || umount -l "$state/$node/wal"
    fi
  done
  if [ "${LAB_PROFILE:-default}" = seed ]; then
    rm -f "/etc/sudoers.d/$LAB_OPERATOR"
    # Only a user this lab created: an account of the same name that was there before stays.
    [ ! -f "$state/operator-created" ] || userdel "$LAB_OPERATOR" 2>/dev/null || true
  fi
  rm -rf "$state"
  echo "lab: down"
}

subnet_prefix() {  # A.B.C.0/24 -> A.B.C
  [[ $subnet =~ ^([0-9]+\.[0-9]+\.[0-9]+)\.0/24$ ]] || die "--subnet must be a /24 like 10.213.7.0/24, got $subnet"
  echo "${BASH_REMATCH[1]}"
}

check_subnet_free() {
  python3 - "$subnet" <<'PY' || die "subnet $subnet overlaps a route of this machine; choose another with --subnet"
import ipaddress, subprocess, sys
ours = ipaddress.ip_network(sys.argv[1])
for line in subprocess.run(["ip", "-4", "route", "show", "table", "all"], capture_output=True, text=True).stdout.splitlines():
    dest = line.split()[0] if line else ""
    if dest in ("default", "broadcast", "local", "unreachable") or not dest[0].isdigit():
        dest = line.split()[1] if dest in ("broadcast", "local") and len(line.split()) > 1 else dest
    try:
        net = ipaddress.ip_network(dest, strict=False)
    except ValueError:
        continue
    if net.overlaps(ours) and net.prefixlen > 0:
        sys.exit(1)
PY
}

write_node_files() {  # node index ip
  local node=$1 ip=$2 nd="$state/$1"
  mkdir -p "$nd"/{run,ack,log/pg,socket,bin,pgdata}
  chown postgres:postgres "$nd" "$nd/log" "$nd/log/pg" "$nd/socket" "$nd/pgdata"
  chmod 700 "$nd/pgdata"
  mkfifo "$nd/control.fifo"
  if [ "$wal_disk" != none ]; then
    truncate -s "$wal_disk" "$nd/wal-disk.img"
    mkfs.ext4 -q -F -m 0 -L "pgchaos-$node" "$nd/wal-disk.img"
    mkdir "$nd/wal"
    # discard: WAL files removed give their space back to this machine's disk (the image stays sparse).
    mount -o loop,discard "$nd/wal-disk.img" "$nd/wal"
    chown postgres:postgres "$nd/wal"
    chmod 700 "$nd/wal"
  fi
  [ "$profile" != seed ] || copy_node_tls "$node"
  local cluster="" hosts="" n i=0 web=http host_kind=host
  [ "$profile" = seed ] && { web=https; host_kind=hostssl; }
  for n in $LAB_NODES; do
    i=$((i + 1))
    cluster+="${cluster:+,}$n=$web://$prefix.$((10 + i)):2380"
    hosts+="${hosts:+, }'$prefix.$((10 + i)):2379'"
  done
  cat >"$nd/etcd.yml" <<EOC
name: $node
data-dir: $nd/etcd
listen-client-urls: $web://$ip:2379,$web://127.0.0.1:2379
advertise-client-urls: $web://$ip:2379
listen-peer-urls: $web://$ip:2380
initial-advertise-peer-urls: $web://$ip:2380
initial-cluster: $cluster
initial-cluster-state: new
initial-cluster-token: pgchaos-lab
heartbeat-interval: 100
election-timeout: 1000
enable-grpc-gateway: true
enable-v2: $([ "$dcs" = etcd ] && echo true || echo false)
logger: zap
log-level: warn
EOC
  if [ "$profile" = seed ]; then  # the seed's etcd: TLS on both sides, a client certificate required of everyone
    local side
    for side in client peer; do
      printf '%s-transport-security:\n  cert-file: %s\n  key-file: %s\n  client-cert-auth: true\n  trusted-ca-file: %s\n' \
        "$side" "$state/pki/$node.pem" "$state/pki/$node-key.pem" "$state/pki/ca.pem" >>"$nd/etcd.yml"
    done
  fi
  local ttl=30 loop_wait=10 retry_timeout=10
  [ "$timing" = fast ] && { ttl=10; loop_wait=1; retry_timeout=4; }
  cat >"$nd/patroni.yml" <<EOC
scope: main
name: $node
log:
  level: INFO
restapi:
  listen: $ip:8008
  connect_address: $ip:8008
$(seed_restapi_tls "$nd")
$dcs:
  hosts: [$hosts]
$(seed_dcs_tls "$nd")
bootstrap:
  dcs:
    ttl: $ttl
    loop_wait: $loop_wait
    retry_timeout: $retry_timeout
    maximum_lag_on_failover: 1048576
    postgresql:
      use_pg_rewind: true
      use_slots: true
      remove_data_directory_on_rewind_failure: true
      remove_data_directory_on_diverged_timelines: true
      parameters:
        wal_level: replica
        hot_standby: 'on'
        wal_log_hints: 'on'
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 128MB
        wal_sender_timeout: 5s
        max_connections: 100
  initdb:
  - encoding: UTF8
  - data-checksums
$(wal_dir_option "$nd")
  post_bootstrap: $state/post_bootstrap.sh
postgresql:
  listen: $ip,127.0.0.1:5432
  connect_address: $ip:5432
  data_dir: $nd/pgdata/data
  bin_dir: /usr/lib/postgresql/15/bin
  pgpass: $nd/pgpass
  use_unix_socket: true
  authentication:
    superuser: {username: postgres, password: '$LAB_SUPERUSER_PASSWORD'}
    replication: {username: replicator, password: '$LAB_REPLICATION_PASSWORD'}
    rewind: {username: rewind_user, password: '$LAB_REWIND_PASSWORD'}
  parameters:
    unix_socket_directories: '$nd/socket'
    logging_collector: 'on'
    log_directory: '$nd/log/pg'
    log_filename: 'postgresql.log'
$(seed_postgres_tls "$nd")
  pg_hba:
  - local all all trust
  - local replication all trust
  - $host_kind replication replicator 127.0.0.1/32 scram-sha-256
  - $host_kind replication replicator $subnet scram-sha-256
  - $host_kind all all 127.0.0.1/32 scram-sha-256
  - $host_kind all all $subnet scram-sha-256
  basebackup:
  - checkpoint: fast
$(wal_dir_option "$nd")
EOC
  [ ${#sets[@]} -eq 0 ] || python3 "$here/lab_settings.py" apply "$nd/patroni.yml" "${sets[@]}"
  chown postgres:postgres "$nd/patroni.yml"
  ssh-keygen -q -t ed25519 -N '' -C "$node" -f "$nd/ssh_host_ed25519_key"
  echo "$ip $(cat "$nd/ssh_host_ed25519_key.pub" | cut -d' ' -f1,2)" >>"$state/known_hosts"
  cat >"$nd/sshd_config" <<EOC
ListenAddress $ip:22
HostKey $nd/ssh_host_ed25519_key
PidFile $nd/run/sshd-listener.pid
AuthorizedKeysFile $state/lab_key.pub
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
SetEnv PATH=$nd/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin PATRONICTL_CONFIG_FILE=$nd/patroni.yml PGHOST=$nd/socket PGUSER=postgres
EOC
  [ "$profile" != seed ] || write_pgbouncer_files "$node" "$ip"
  # The node's own commands: the same names as on a systemd host, forwarded to its supervisor.
  for name in systemctl reboot shutdown poweroff halt pgchaos-node; do
    printf '#!/bin/sh\nNODE_DIR=%s exec bash %s %s "$@"\n' "$nd" "$here/node_control.sh" "$name" >"$nd/bin/$name"
    chmod +x "$nd/bin/$name"
  done
}

# initdb and pg_basebackup put pg_wal on the node's WAL disk (Patroni passes each item as --waldir=...); a replica
# reinitialised has its old WAL directory removed by Patroni first (it follows the pg_wal symlink).
wal_dir_option() {  # node_dir
  [ "$wal_disk" = none ] || printf '  - waldir: %s/wal/pg_wal\n' "$1"
}

# The seed profile's parts of patroni.yml: etcd over TLS with the node's certificate, the REST API over HTTPS with
# basic authentication, and the CA that Patroni and patronictl verify each other's REST API with.
seed_restapi_tls() {  # node_dir
  [ "$profile" = seed ] || return 0
  cat <<EOC
  certfile: $1/tls/node.pem
  keyfile: $1/tls/node-key.pem
  authentication:
    username: $LAB_REST_USER
    password: '$LAB_REST_PASSWORD'
EOC
}

seed_dcs_tls() {  # node_dir
  [ "$profile" = seed ] || return 0
  cat <<EOC
  protocol: https
  cacert: $1/tls/ca.pem
  cert: $1/tls/node.pem
  key: $1/tls/node-key.pem
ctl:
  cacert: $1/tls/ca.pem
EOC
}

seed_postgres_tls() {  # node_dir: PostgreSQL's own certificate (pg_hba takes only hostssl then)
  [ "$profile" = seed ] || return 0
  printf "    ssl: 'on'\n    ssl_cert_file: '%s'\n    ssl_key_file: '%s'\n    ssl_ca_file: '%s'\n" \
    "$1/tls/node.pem" "$1/tls/node-key.pem" "$1/tls/ca.pem"
}

# The lab's PKI in the seed's layout (pki/ca.pem, ca-key.pem, NODE.pem, NODE-key.pem): one certificate per node for
# etcd (server and peer), Patroni's REST API, PostgreSQL and pgbouncer, valid for the node's address and 127.0.0.1;
# client.pem for the lab's own status checks. Each node gets a copy its services' user owns (PostgreSQL insists).
make_pki() {
  local pki="$state/pki" i=0 node
  mkdir -p "$pki"
  chmod 700 "$pki"
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj /CN=pgchaos-lab-ca \
    -keyout "$pki/ca-key.pem" -out "$pki/ca.pem" 2>/dev/null
  issue() {  # name subjectAltName
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$1" -keyout "$pki/$1-key.pem" 2>/dev/null |
      openssl x509 -req -CA "$pki/ca.pem" -CAkey "$pki/ca-key.pem" -CAcreateserial -days 30 -out "$pki/$1.pem" \
        -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n' "$2") 2>/dev/null
  }
  for node in $LAB_NODES; do
    i=$((i + 1))
    issue "$node" "IP:$prefix.$((10 + i)),IP:127.0.0.1,DNS:$node"
  done
  issue client "DNS:pgchaos-lab-client"
  chmod 755 "$pki"
  chmod 644 "$pki/ca.pem"
}

copy_node_tls() {  # node
  local nd="$state/$1"
  mkdir -p "$nd/tls"
  cp "$state/pki/ca.pem" "$nd/tls/ca.pem"
  cp "$state/pki/$1.pem" "$nd/tls/node.pem"
  cp "$state/pki/$1-key.pem" "$nd/tls/node-key.pem"
  chown -R postgres:postgres "$nd/tls"
  chmod 600 "$nd/tls/node-key.pem"
}

# pgbouncer 1.18 as the seed runs it: on every node, transaction pooling, in front of the node's own PostgreSQL
# (through its socket), TLS to its clients, the bank's password checked with SCRAM, its admin console for postgres
# on the socket only.
write_pgbouncer_files() {  # node ip
  local nd="$state/$1"
  cat >"$nd/pgbouncer.ini" <<EOC
[databases]
bank = host=$nd/socket port=5432 dbname=bank
[pgbouncer]
listen_addr = $2
listen_port = 6432
unix_socket_dir = $nd/socket
auth_type = hba
auth_hba_file = $nd/pgbouncer_hba.conf
auth_file = $nd/pgbouncer_users.txt
admin_users = postgres
pool_mode = transaction
max_client_conn = 400
default_pool_size = 40
client_tls_sslmode = require
client_tls_cert_file = $nd/tls/node.pem
client_tls_key_file = $nd/tls/node-key.pem
client_tls_ca_file = $nd/tls/ca.pem
ignore_startup_parameters = extra_float_digits
EOC
  printf 'local pgbouncer postgres peer\nhostssl bank bank %s scram-sha-256\nhostssl bank bank 127.0.0.1/32 scram-sha-256\n' \
    "$subnet" >"$nd/pgbouncer_hba.conf"
  # postgres: known to pgbouncer for its admin console (peer on the socket; hba lets it in nowhere else)
  printf '"bank" "%s"\n"postgres" ""\n' "$LAB_BANK_PASSWORD" >"$nd/pgbouncer_users.txt"
  chown postgres:postgres "$nd/pgbouncer.ini" "$nd/pgbouncer_hba.conf" "$nd/pgbouncer_users.txt"
  chmod 600 "$nd/pgbouncer_users.txt"
}

# The seed's operator: a user who logs in with the lab's key and may run, through sudo without a password, the
# programs the fault templates start. The node's own systemctl/reboot/pgchaos-node come first in sudo's PATH; they
# find their node by the network namespace they run in.
make_operator() {
  if ! id -u "$LAB_OPERATOR" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir / --shell /bin/sh --password '*' "$LAB_OPERATOR"
    : >"$state/operator-created"
  fi
  mkdir -p "$state/bin"
  local name
  for name in systemctl reboot shutdown poweroff halt pgchaos-node; do
    printf '#!/bin/sh\nnode=$(ip netns identify $$)\n[ -n "$node" ] || { echo "%s: not inside a lab node" >&2; exit 1; }\nNODE_DIR=%s/$node exec bash %s %s "$@"\n' \
      "$name" "$state" "$here/node_control.sh" "$name" >"$state/bin/$name"
    chmod 755 "$state/bin/$name"
  done
  local rights="$state/bin/systemctl, $state/bin/reboot, $state/bin/shutdown, $state/bin/pgchaos-node"
  rights+=", /usr/bin/patronictl, /usr/bin/etcdctl, /usr/sbin/runuser, /usr/sbin/nft, /usr/bin/tail, /usr/bin/sh, /bin/sh"
  local sudoers; sudoers=$(mktemp)
  {
    echo "# pgchaos lab ($state): the seed profile's operator; removed by lab down"
    echo "Defaults:$LAB_OPERATOR secure_path=\"$state/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\""
    # The node's environment (its PostgreSQL socket, as /var/run/postgresql is on a Debian host) passes through sudo.
    echo "Defaults:$LAB_OPERATOR env_keep += \"PGHOST PGUSER PATRONICTL_CONFIG_FILE\""
    echo "$LAB_OPERATOR ALL=(root) NOPASSWD: $rights"
  } >"$sudoers"
  visudo -cqf "$sudoers" || die "the operator's sudoers rules do not parse"
  install -m 0440 "$sudoers" "/etc/sudoers.d/$LAB_OPERATOR"
  rm -f "$sudoers"
}

up() {
  if [ -f "$state/lab.env" ]; then
    echo "lab: already up in $state (lab down first to rebuild it)"
    exec python3 "$here/lab_status.py" "$state" --wait "$wait_healthy"
  fi
  for b in etcd patroni haproxy /usr/sbin/sshd /usr/lib/postgresql/15/bin/postgres nft; do
    command -v "$b" >/dev/null || die "$b is missing: run scripts/setup.sh"
  done
  case $dcs in etcd3|etcd) ;; *) die "--dcs must be etcd3 or etcd" ;; esac
  for node in pgc1 pgc2 pgc3 pgc4 pgc5; do
    ! ip netns list | grep -qw "$node" || die "namespace $node exists: another lab is up (pgchaos lab down --state DIR)"
  done
  case $timing in default|fast) ;; *) die "--timing must be default or fast" ;; esac
  case $node_count in 3|5) ;; *) die "--nodes must be 3 or 5" ;; esac
  if [ "$wal_disk" != none ]; then
    [[ $wal_disk =~ ^[0-9]+[MG]$ ]] || die "--wal-disk must be a size like 4G or 512M, or none; got $wal_disk"
    local mib=${wal_disk%?}; [ "${wal_disk: -1}" = G ] && mib=$((mib * 1024))
    [ "$mib" -ge 256 ] || die "--wal-disk $wal_disk: at least 256M (PostgreSQL keeps min_wal_size, 80 MB, and more)"
    for b in mkfs.ext4 losetup mountpoint truncate fallocate; do command -v "$b" >/dev/null || die "$b is missing (--wal-disk none goes without)"; done
  fi
  case $profile in
    default) ;;
    seed)
      [ "$dcs" = etcd3 ] || die "--profile seed runs etcd3 (the seed's etcd speaks v3 over TLS)"
      for b in pgbouncer openssl sudo visudo useradd; do command -v "$b" >/dev/null || die "$b is missing: run scripts/setup.sh"; done ;;
    *) die "--profile must be default or seed" ;;
  esac
  # Every --set is checked before anything is created.
  python3 "$here/lab_settings.py" check "${sets[@]}" || exit 2
  prefix=$(subnet_prefix)
  check_subnet_free
  local started; started=$(date +%s.%N)
  mkdir -p "$state"
  chmod 755 "$state"
  rand() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
  local names="" k
  for k in $(seq 1 "$node_count"); do names+="${names:+ }pgc$k"; done
  cat >"$state/lab.env" <<EOC
LAB_NODES="$names"
LAB_SETS="${sets[*]}"
LAB_BRIDGE=pgchaos-br0
LAB_PREFIX=$prefix
LAB_SUBNET=$subnet
LAB_DCS=$dcs
LAB_TIMING=$timing
LAB_HAPROXY_PRIMARY=127.0.0.1:5000
LAB_HAPROXY_REPLICAS=127.0.0.1:5001
LAB_SUPERUSER_PASSWORD=$(rand)
LAB_REPLICATION_PASSWORD=$(rand)
LAB_REWIND_PASSWORD=$(rand)
LAB_BANK_PASSWORD=$(rand)
LAB_PROFILE=$profile
LAB_WAL_DISK=$wal_disk
LAB_REST_USER=patroni
LAB_REST_PASSWORD=$(rand)
LAB_OPERATOR=pgchaos-lab
EOC
  chmod 600 "$state/lab.env"
  source "$state/lab.env"
  trap 'echo "lab: up failed; cleaning up" >&2; down >/dev/null 2>&1' ERR

  ip link add "$LAB_BRIDGE" type bridge
  ip addr add "$prefix.1/24" dev "$LAB_BRIDGE"
  ip link set "$LAB_BRIDGE" up
  ssh-keygen -q -t ed25519 -N '' -C pgchaos-lab -f "$state/lab_key"
  : >"$state/known_hosts"
  printf '#!/bin/sh\npsql -v ON_ERROR_STOP=1 "$1" -c "CREATE ROLE bank LOGIN PASSWORD %s" -c "CREATE DATABASE bank OWNER bank"\n' \
    "'$LAB_BANK_PASSWORD'" >"$state/post_bootstrap.sh"
  chmod 755 "$state/post_bootstrap.sh"
  if [ "$profile" = seed ]; then
    make_pki
    make_operator
    # The REST API's password for pgchaos: a file only root reads, never the configuration itself.
    (umask 077; echo "$LAB_REST_PASSWORD" >"$state/rest_password")
  fi
  local i=0
  for node in $LAB_NODES; do
    i=$((i + 1))
    local ip="$prefix.$((10 + i))"
    ip netns add "$node"
    ip link add "${node}h" type veth peer name eth0 netns "$node"
    ip link set "${node}h" master "$LAB_BRIDGE" up
    ip -n "$node" link set lo up
    ip -n "$node" addr add "$ip/24" dev eth0
    ip -n "$node" link set eth0 up
    write_node_files "$node" "$ip"
  done
  for node in $LAB_NODES; do
    setsid bash "$here/supervisor.sh" "$node" "$state" </dev/null >/dev/null 2>&1 &
  done
  write_haproxy_cfg
  haproxy -f "$state/haproxy.cfg" -D
  write_pgchaos_conf
  trap - ERR
  echo "lab: started in $state ($node_count nodes, $dcs, $timing timing, $profile profile, WAL disk $wal_disk${sets:+; set: ${sets[*]}})"
  if [ "$wait_healthy" -gt 0 ]; then
    python3 "$here/lab_status.py" "$state" --wait "$wait_healthy" || { echo "lab: not healthy after ${wait_healthy}s" >&2; exit 1; }
    echo "lab: up in $(python3 -c "import time; print(f'{time.time() - $started:.1f}')") s; configuration: $state/pgchaos.conf"
  fi
}

write_haproxy_cfg() {
  {
    printf 'global\n  maxconn 400\n  pidfile %s\n\ndefaults\n  mode tcp\n  timeout connect 4s\n  timeout client 30m\n  timeout server 30m\n  timeout check 2s\n' "$state/haproxy.pid"
    for role in primary replicas; do
      local port=${LAB_HAPROXY_PRIMARY##*:} uri=/primary
      [ $role = replicas ] && { port=${LAB_HAPROXY_REPLICAS##*:}; uri=/replica; }
      printf '\nlisten %s\n  bind 127.0.0.1:%s\n  option httpchk\n  http-check send meth OPTIONS uri %s\n  http-check expect status 200\n' $role "$port" $uri
      printf '  default-server inter 1s fastinter 500ms fall 2 rise 2 on-marked-down shutdown-sessions\n'
      local i=0
      for node in $LAB_NODES; do
        i=$((i + 1))
        if [ "${LAB_PROFILE:-default}" = seed ]; then  # the node's pgbouncer; Patroni's health check over HTTPS
          printf '  server %s %s.%s:6432 check port 8008 check-ssl verify required ca-file %s\n' "$node" "$LAB_PREFIX" $((10 + i)) "$state/pki/ca.pem"
        else
          printf '  server %s %s.%s:5432 check port 8008\n' "$node" "$LAB_PREFIX" $((10 + i))
        fi
      done
    done
  } >"$state/haproxy.cfg"
}

write_pgchaos_conf() {
  local direct="" i=0 seed=0 tls="" rest=http
  for node in $LAB_NODES; do i=$((i + 1)); direct+="${direct:+,}$LAB_PREFIX.$((10 + i)):5432"; done
  # The seed profile: every connection verified against the lab's CA, HAProxy's port leads to pgbouncer.
  [ "$profile" = seed ] && { seed=1; tls="sslmode=verify-full&sslrootcert=$state/pki/ca.pem"; rest=https; }
  {
    echo "# pgchaos configuration for the lab in $state (written by lab up, $profile profile)"
    echo "[databases]"
    echo "haproxy = postgresql://bank:$LAB_BANK_PASSWORD@$LAB_HAPROXY_PRIMARY/bank${tls:+?$tls}"
    echo "direct = postgresql://bank:$LAB_BANK_PASSWORD@$direct/bank?target_session_attrs=read-write${tls:+&$tls}"
    echo
    echo "[main]"
    echo "application_name = pgchaos"
    [ $seed = 0 ] || echo "# pgbouncer pools in transaction mode: no prepared statement lives past a transaction"
    [ $seed = 0 ] || echo "prepared_statements = false"
    echo "threads_num = 10"
    echo "conn_exception_sleep_interval = 1"
    echo "reconnect_attempt = 3"
    echo
    echo "[test]"
    echo "accounts = 100"
    echo
    echo "[cluster]"
    echo "scope = main"
    echo "lab = true"
    echo "lab_nodes = $(echo $LAB_NODES | wc -w)"
    echo "lab_dcs = $LAB_DCS"
    echo "lab_timing = $LAB_TIMING"
    echo "lab_set = $LAB_SETS"
    echo "lab_profile = $profile"
    echo "lab_wal_disk = $wal_disk"
    echo "patroni_config = {node_dir}/patroni.yml"
    echo "data_dir = {node_dir}/pgdata/data"
    if [ $seed = 1 ]; then
      echo "ssh_user = $LAB_OPERATOR"
      echo "sudo = true"
      echo "rest_ca_file = $state/pki/ca.pem"
      echo "rest_user = $LAB_REST_USER"
      echo "rest_password_file = $state/rest_password"
    else
      echo "ssh_user = root"
    fi
    if [ "$wal_disk" != none ]; then
      echo "# Each node's pg_wal is on a $wal_disk filesystem of its own: filling it fills nothing else."
      echo "allow_fill_wal_disk = true"
      echo "wal_fill_dir = {node_dir}/wal"
    fi
    echo "ssh_key = $state/lab_key"
    echo "known_hosts = $state/known_hosts"
    i=0
    for node in $LAB_NODES; do
      i=$((i + 1))
      echo "node.$node = ssh=$LAB_PREFIX.$((10 + i)):22 postgres=$LAB_PREFIX.$((10 + i)):5432 rest=$rest://$LAB_PREFIX.$((10 + i)):8008 node_dir=$state/$node"
    done
    echo
    echo "[commands]"
    # A crash is a failover test: the node stays down 10 s longer than Patroni's ttl, so its leader key expires.
    local ttl; ttl=$(python3 "$here/lab_settings.py" get "$state/pgc1/patroni.yml" ttl)
    local down=$((ttl + 10))
    echo "# The lab's nodes answer systemd's commands; only a power-loss crash needs the lab's own (down ttl + 10 s,"
    echo "# as a machine that loses power and boots again after its leader key expired)."
    echo "crash = pgchaos-node crash $down"
    echo "log-tail = tail -n 30 {node_dir}/log/patroni.log"
    # PostgreSQL's log: 3000 lines, as a full WAL disk's PANIC is followed by a flood of "the database system is starting up".
    echo "forensic-logs = sh -c 'tail -n 2000 \"\$1/log/patroni.log\"; echo \"--- postgresql.log\"; tail -n 3000 \"\$1/log/pg/postgresql.log\"' pgchaos {node_dir}"
    if [ $seed = 1 ]; then
      echo "# pgbouncer's admin console on the node's own socket directory"
      echo "pause-pgbouncer = runuser -u postgres -- psql -X -A -t -h {node_dir}/socket -p 6432 -d pgbouncer -c PAUSE"
      echo "resume-pgbouncer = runuser -u postgres -- psql -X -A -t -h {node_dir}/socket -p 6432 -d pgbouncer -c RESUME"
      echo "# etcd over TLS with the node's client certificate (targets dcs-leader, dcs-member)"
      echo "etcd-status = etcdctl --endpoints=https://127.0.0.1:2379 --cacert={node_dir}/tls/ca.pem --cert={node_dir}/tls/node.pem --key={node_dir}/tls/node-key.pem --command-timeout=3s endpoint status -w json"
    fi
  } >"$state/pgchaos.conf"
  chmod 600 "$state/pgchaos.conf"
}

case $cmd in
  up) up ;;
  down) down ;;
  status)
    [ -f "$state/lab.env" ] || { echo "lab: not up (no $state/lab.env)"; exit 1; }
    args=("$state"); [ "$json" = 1 ] && args+=(--json); [ "$status_wait" != 0 ] && args+=(--wait "$status_wait")
    exec python3 "$here/lab_status.py" "${args[@]}" ;;
  *) sed -n '2,8p' "$0" >&2; exit 2 ;;
esac
