#!/usr/bin/env bash
# Installed in each node's PATH (as systemctl, reboot, shutdown, poweroff, pgchaos-node): forwards the request to
# the node's supervisor so the lab's nodes answer the same commands as a real systemd host.
# The generated wrapper sets NODE_DIR and passes the name it was called by as the first argument.
set -u
name=$1
shift
request() {  # request ACTION [ARG] [wait]
  local id="$$-$RANDOM"
  echo "$id $1 ${2:-}" >"$NODE_DIR/control.fifo"
  [ "${3:-}" = wait ] || return 0
  for _ in $(seq 1 900); do
    if [ -f "$NODE_DIR/ack/$id" ]; then local rc; rc=$(cat "$NODE_DIR/ack/$id"); rm -f "$NODE_DIR/ack/$id"; return "$rc"; fi
    sleep 0.1
  done
  echo "$name: no answer from the node's supervisor" >&2; return 1
}
unit_of() { case ${1%.service} in patroni|etcd|sshd|pgbouncer) echo "${1%.service}" ;; ssh) echo sshd ;; *) echo "$name: unit $1 not known in the lab" >&2; exit 5 ;; esac; }
case $name in
  systemctl)
    action=${1:-}
    if [ "$action" = kill ]; then  # systemctl kill [--kill-whom=main] [--signal=SIG | -s SIG] UNIT
      # The lab records one process per unit, its main one: --kill-whom=main is what it does anyway.
      shift; signal=TERM
      while [ $# -gt 1 ]; do
        case $1 in --signal=*) signal=${1#--signal=}; shift ;; -s|--signal) signal=$2; shift 2 ;;
          --kill-whom=main|--kill-who=main) shift ;; *) break ;; esac
      done
      unit=$(unit_of "${1:-}")
      [[ $signal =~ ^(SIG)?[A-Z0-9]+$ ]] || { echo "systemctl: bad signal $signal" >&2; exit 1; }
      request kill "$unit $signal" wait; exit
    fi
    if [ "$action" = show ]; then  # systemctl show -p MainPID --value UNIT: the pid, 0 when not running
      unit=$(unit_of "${!#}")
      pid=$(cat "$NODE_DIR/run/$unit.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null || pid=0
      echo "$pid"; exit 0
    fi
    unit=$(unit_of "${2:-}")
    case $action in
      start|stop|restart) request "$action" "$unit" wait ;;
      # Every unit of the lab's nodes is enabled but pgbouncer, which only the seed profile's nodes have.
      is-enabled)
        [ "$unit" != pgbouncer ] || [ -f "$NODE_DIR/pgbouncer.ini" ] && { echo enabled; exit 0; }
        echo disabled; exit 1 ;;
      is-active|status)
        pid=$(cat "$NODE_DIR/run/$unit.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null && { echo active; exit 0; }
        echo inactive; exit 3 ;;
      *) echo "systemctl: '$action' is not supported in the lab" >&2; exit 1 ;;
    esac ;;
  reboot) request reboot 1 ;;
  poweroff|halt) request poweroff ;;
  shutdown)
    case " $* " in *" -r "*) request reboot 1 ;; *) request poweroff ;; esac ;;
  pgchaos-node)  # lab-only: `pgchaos-node crash [SECONDS]` = power loss, then boot after SECONDS (default 3)
    case ${1:-} in crash) request crash "${2:-3}" ;; *) echo "usage: pgchaos-node crash [SECONDS]" >&2; exit 1 ;; esac ;;
  *) echo "node_control: unknown name $name" >&2; exit 1 ;;
esac
