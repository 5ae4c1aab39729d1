# Sourced by scripts: starts a PostgreSQL 15 in a fresh temp directory on a free port of 127.0.0.1 and stops it
# (and removes the directory) when the script exits. Sets PG_DSN and PG_PORT.
pg_bin=/usr/lib/postgresql/15/bin
pg_dir=$(mktemp -d /tmp/pgchaos-pg-XXXXXX)
pg_as=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$pg_dir"
  pg_as=(setpriv --reuid=postgres --regid=postgres --init-groups)  # PostgreSQL refuses to run as root
fi
PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PG_DSN="host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres"
stop_throwaway_postgres() {
  "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" stop -m fast >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}
trap stop_throwaway_postgres EXIT
"${pg_as[@]}" "$pg_bin/initdb" -A trust -U postgres -D "$pg_dir/data" >/dev/null
"${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w start \
  -o "-p $PG_PORT -k $pg_dir -c listen_addresses=127.0.0.1 ${PG_EXTRA_OPTIONS:-}" >/dev/null
