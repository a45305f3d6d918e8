#!/usr/bin/env bash
# Install (if needed) and start a throw-away PostgreSQL server on 127.0.0.1 for the test suite.
# Prints the admin URL to use as UNIONCAT_TEST_POSTGRES_URL on its last line.
set -euo pipefail
PORT="${UNIONCAT_PG_PORT:-54329}"
PGDATA_DIR="${UNIONCAT_PG_DIR:-/tmp/unioncat-pg}"
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
as_postgres() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ -f "$PGDATA_DIR/postmaster.pid" ] && as_postgres "$BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
  :
else
  rm -rf "$PGDATA_DIR"
  mkdir -p "$PGDATA_DIR"
  [ "$(id -u)" = "0" ] && chown postgres:postgres "$PGDATA_DIR"
  as_postgres "$BIN/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >&2
  as_postgres "$BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGDATA_DIR/server.log" -w \
    -o "-p $PORT -c listen_addresses=127.0.0.1 -k /tmp -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >&2
fi
echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
