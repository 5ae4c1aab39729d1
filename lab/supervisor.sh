#!/usr/bin/env bash
# The init of one lab node. Runs in the ROOT namespace (so a crash of the node cannot kill it), starts the node's
# services inside the node's network namespace, records their PIDs, and takes requests from the node's control
# FIFO: "ID start|stop|restart etcd|patroni|sshd|pgbouncer", "ID kill SERVICE SIGNAL",
# "ID reboot|crash|poweroff|boot|halt [DELAY]". pgbouncer runs only on a node that has its pgbouncer.ini (the seed
# profile).
# Nothing here kills by process name: services by their recorded PIDs, a crash by namespace membership.
set -u
node=$1 state=$2
source "$state/lab.env"
nd="$state/$node"
ns="$node"
fifo="$nd/control.fifo"
log() { echo "$(date '+%F %T.%3N') $*" >>"$nd/log/supervisor.log"; }

pid_of() { cat "$nd/run/$1.pid" 2>/dev/null; }
alive() { local p; p=$(pid_of "$1") && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

start_service() {
  alive "$1" && return 0
  case $1 in
    etcd)
      ip netns exec "$ns" setsid etcd --config-file "$nd/etcd.yml" >>"$nd/log/etcd.log" 2>&1 </dev/null & ;;
    patroni)
      ip netns exec "$ns" setsid setpriv --reuid=postgres --regid=postgres --init-groups \
        env HOME="$nd" patroni "$nd/patroni.yml" >>"$nd/log/patroni.log" 2>&1 </dev/null & ;;
    pgbouncer)
      [ -f "$nd/pgbouncer.ini" ] || { log "no pgbouncer on this node"; return 1; }
      ip netns exec "$ns" setsid setpriv --reuid=postgres --regid=postgres --init-groups \
        pgbouncer "$nd/pgbouncer.ini" >>"$nd/log/pgbouncer.log" 2>&1 </dev/null & ;;
    sshd)
      mkdir -p /run/sshd
      ip netns exec "$ns" setsid /usr/sbin/sshd -D -f "$nd/sshd_config" -E "$nd/log/sshd.log" </dev/null & ;;
    *) log "unknown service $1"; return 1 ;;
  esac
  echo $! >"$nd/run/$1.pid"
  log "started $1 pid $!"
}

stop_service() {  # graceful: SIGTERM, then SIGKILL after a timeout
  local p; p=$(pid_of "$1") || return 0
  [ -n "$p" ] || return 0
  kill -TERM "$p" 2>/dev/null
  for _ in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null
  rm -f "$nd/run/$1.pid"
  log "stopped $1 pid $p"
}

kill_namespace() {  # every process of the node at once: a power loss
  local pids; pids=$(ip netns pids "$ns" 2>/dev/null)
  [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
  # The services' PID files only: supervisor.pid is how `lab down` finds this supervisor (a crash once removed it,
  # and the supervisor outlived its lab).
  rm -f "$nd/run/etcd.pid" "$nd/run/patroni.pid" "$nd/run/sshd.pid" "$nd/run/pgbouncer.pid"
  log "killed every process of $ns: $(echo $pids | wc -w)"
}

signal_service() {  # service signal: as `systemctl kill --signal=` does, to the unit's recorded process only
  local p; p=$(pid_of "$1") && [ -n "$p" ] || { log "kill $1: not running"; return 0; }
  kill -s "${2#SIG}" "$p" 2>/dev/null || return 1
  log "sent SIG${2#SIG} to $1 pid $p"
}

with_pgbouncer() { [ -f "$nd/pgbouncer.ini" ]; }
boot() { start_service etcd; start_service sshd; start_service patroni; ! with_pgbouncer || start_service pgbouncer; }
graceful_down() {
  ! with_pgbouncer || stop_service pgbouncer
  stop_service patroni; stop_service etcd; stop_service sshd; kill_namespace
}

exec 3<>"$fifo"
echo $$ >"$nd/run/supervisor.pid"
log "supervisor of $node up"
boot
while read -r -u 3 id action arg; do
  log "request $id: $action $arg"
  rc=0
  case $action in
    start) start_service "$arg" || rc=1 ;;
    stop) stop_service "$arg" ;;
    restart) stop_service "$arg"; start_service "$arg" || rc=1 ;;
    kill) set -- $arg; signal_service "$1" "${2:-TERM}" || rc=1 ;;
    boot) boot ;;
    reboot) sleep 0.5; graceful_down; sleep "${arg:-1}"; boot ;;   # the SSH command has returned by now
    crash) sleep 0.5; kill_namespace; sleep "${arg:-3}"; boot ;;
    poweroff) sleep 0.5; graceful_down ;;
    halt) kill_namespace; echo 0 >"$nd/ack/$id"; log "halted"; exit 0 ;;
    *) log "unknown request $action"; rc=2 ;;
  esac
  echo "$rc" >"$nd/ack/$id"
done
