#!/usr/bin/env bash
# The pgchaos lab: a real 3-node (or 5-node) etcd + Patroni + PostgreSQL 15 cluster on this machine, each node in
# its own network namespace behind a bridge, with sshd per node and HAProxy on 127.0.0.1. Needs root.
#   lab.sh up     [--state DIR] [--subnet A.B.C.0/24] [--dcs etcd3|etcd] [--timing default|fast] [--nodes 3|5]
#                 [--set KEY=VALUE]... [--no-wait]
#   lab.sh status [--state DIR] [--json] [--wait SECONDS]
#   lab.sh down   [--state DIR]
# Traffic stays on this machine: no NAT, no default route in the nodes, ip_forward untouched.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

cmd=${1:-}; shift || true
state=${PGCHAOS_LAB_STATE:-/var/tmp/pgchaos-lab}
subnet=10.213.7.0/24 dcs=etcd3 timing=default wait_healthy=120 json=0 status_wait=0 node_count=3
sets=()
while [ $# -gt 0 ]; do
  case $1 in
    --nodes) node_count=$2; shift 2 ;;
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
  local cluster="" hosts="" n i=0
  for n in $LAB_NODES; do
    i=$((i + 1))
    cluster+="${cluster:+,}$n=http://$prefix.$((10 + i)):2380"
    hosts+="${hosts:+, }'$prefix.$((10 + i)):2379'"
  done
  cat >"$nd/etcd.yml" <<EOC
name: $node
data-dir: $nd/etcd
listen-client-urls: http://$ip:2379,http://127.0.0.1:2379
advertise-client-urls: http://$ip:2379
listen-peer-urls: http://$ip:2380
initial-advertise-peer-urls: http://$ip:2380
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
$dcs:
  hosts: [$hosts]
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
  pg_hba:
  - local all all trust
  - local replication all trust
  - host replication replicator 127.0.0.1/32 scram-sha-256
  - host replication replicator $subnet scram-sha-256
  - host all all 127.0.0.1/32 scram-sha-256
  - host all all $subnet scram-sha-256
  basebackup:
  - checkpoint: fast
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
  # The node's own commands: the same names as on a systemd host, forwarded to its supervisor.
  for name in systemctl reboot shutdown poweroff halt pgchaos-node; do
    printf '#!/bin/sh\nNODE_DIR=%s exec bash %s %s "$@"\n' "$nd" "$here/node_control.sh" "$name" >"$nd/bin/$name"
    chmod +x "$nd/bin/$name"
  done
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
  echo "lab: started in $state ($node_count nodes, $dcs, $timing timing${sets:+; set: ${sets[*]}})"
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
      for node in $LAB_NODES; do i=$((i + 1)); printf '  server %s %s.%s:5432 check port 8008\n' "$node" "$LAB_PREFIX" $((10 + i)); done
    done
  } >"$state/haproxy.cfg"
}

write_pgchaos_conf() {
  local direct="" i=0
  for node in $LAB_NODES; do i=$((i + 1)); direct+="${direct:+,}$LAB_PREFIX.$((10 + i)):5432"; done
  {
    echo "# pgchaos configuration for the lab in $state (written by lab up)"
    echo "[databases]"
    echo "haproxy = postgresql://bank:$LAB_BANK_PASSWORD@$LAB_HAPROXY_PRIMARY/bank"
    echo "direct = postgresql://bank:$LAB_BANK_PASSWORD@$direct/bank?target_session_attrs=read-write"
    echo
    echo "[main]"
    echo "application_name = pgchaos"
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
    echo "patroni_config = {node_dir}/patroni.yml"
    echo "data_dir = {node_dir}/pgdata/data"
    echo "ssh_user = root"
    echo "ssh_key = $state/lab_key"
    echo "known_hosts = $state/known_hosts"
    i=0
    for node in $LAB_NODES; do
      i=$((i + 1))
      echo "node.$node = ssh=$LAB_PREFIX.$((10 + i)):22 postgres=$LAB_PREFIX.$((10 + i)):5432 rest=http://$LAB_PREFIX.$((10 + i)):8008 node_dir=$state/$node"
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
    echo "forensic-logs = sh -c 'tail -n 400 \"\$1/log/patroni.log\"; echo \"--- postgresql.log\"; tail -n 300 \"\$1/log/pg/postgresql.log\"' pgchaos {node_dir}"
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
