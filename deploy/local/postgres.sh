# PostgreSQL for tests and `make run-real` (sourced by infra-up.sh / infra-down.sh, after lib.sh).
# shellcheck disable=SC2034  # variables here are used by the scripts that source this file
#
# Debian's `postgresql` package (installed by debian-packages.sh when missing) provides the server
# binaries; the package's own cluster is left alone. Ours lives in $PG_DIR: initdb once, then
# pg_ctl start/stop on a free loopback port, as an unprivileged account (the server refuses root).
# Password authentication (SCRAM) even on loopback, so the DSN the services get is the same shape
# as in production; the password is generated once and kept in $PG_DIR/password (mode 600).

PG_USER="${NORMREG_PG_USER:-normreg-pg}"
PG_DATABASE="normreg"  # the name write_env puts in NORMREG_POSTGRES_URL

# pg_bin: the newest server binaries Debian installed (/usr/lib/postgresql/<major>/bin).
pg_bin() {
  local dir
  dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n1)"
  [[ -n "$dir" && -x "$dir/postgres" ]] || return 1
  echo "$dir"
}

# pg_as_owner CMD...: run a command as the account that owns the cluster.
pg_as_owner() {
  if ((EUID == 0)); then
    runuser -u "$PG_USER" -- "$@"
  else
    "$@"
  fi
}

ensure_pg_server() {
  if ! pg_bin >/dev/null; then
    bash "$LOCAL_DIR/debian-packages.sh" postgresql || die "postgresql: the Debian package could not be installed"
  fi
  pg_bin >/dev/null || die "postgresql: no server binaries under /usr/lib/postgresql after installing the package"
  if ((EUID == 0)) && ! id -u "$PG_USER" >/dev/null 2>&1; then
    log "postgres: creating system user $PG_USER"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_USER"
  fi
}

pg_ready() {  # a real query through the DSN, not only an open port
  local bin="$1" port="$2"
  PGPASSWORD="$(cat "$PG_DIR/password")" PGCONNECT_TIMEOUT=5 \
    "$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d "$PG_DATABASE" -tAc 'SELECT 1' 2>/dev/null | grep -qx 1
}

start_postgres() {
  ensure_pg_server
  local bin pid port deadline version
  bin="$(pg_bin)"
  version="$("$bin/postgres" --version | awk '{print $3}')"

  if pid="$(pid_of "$PG_PID_FILE" "$PG_PID_MARKER")"; then
    port="$(read_kv "$PG_DIR/ports" PORT)"
    log "postgres: reusing running server pid $pid on 127.0.0.1:$port"
    pg_ready "$bin" "$port" || fail_with_log postgres "$PG_DIR/server.log"
    return 0
  fi
  rm -f "$PG_PID_FILE"

  mkdir -p "$PG_DIR"
  if ((EUID == 0)); then
    chown "$PG_USER:" "$PG_DIR"
    pg_as_owner test -w "$PG_DIR" \
      || die "postgres: $PG_USER cannot write $PG_DIR (a parent directory is not traversable); set NORMREG_INFRA_DIR"
  fi
  if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
    rm -rf "$PG_DATA"
    (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$PG_DIR/password")
    ((EUID == 0)) && chown "$PG_USER:" "$PG_DIR/password"
    log "postgres $version: initdb in $PG_DATA"
    # UTF8 with the C collation: byte order, the same as SQLite's, so listings page identically.
    pg_as_owner "$bin/initdb" -D "$PG_DATA" -U postgres --pwfile="$PG_DIR/password" \
      --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C \
      >"$PG_DIR/initdb.log" 2>&1 || fail_with_log "postgres initdb" "$PG_DIR/initdb.log"
  fi

  read -r port < <(free_ports 1 "$(read_kv "$PG_DIR/ports" PORT)")
  printf 'PORT=%s\nVERSION=%s\n' "$port" "$version" >"$PG_DIR/ports"
  # Loopback only; the unix socket sits in our own directory, not /var/run/postgresql (root's).
  # fsync stays on: the tests kill processes and count on committed rows being there.
  log "postgres $version: starting on 127.0.0.1:$port"
  pg_as_owner "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/server.log" -s -w -t "$TIMEOUT" \
    -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=64MB" \
    start </dev/null >"$PG_DIR/pg_ctl.log" 2>&1 9>&- || fail_with_log postgres "$PG_DIR/pg_ctl.log" "$PG_DIR/server.log"
  pid="$(head -n1 "$PG_DATA/postmaster.pid")"
  echo "$pid" >"$PG_PID_FILE"

  # The database is created once; a restart finds it.
  PGPASSWORD="$(cat "$PG_DIR/password")" "$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres \
    -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'" | grep -qx 1 \
    || PGPASSWORD="$(cat "$PG_DIR/password")" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$PG_DATABASE" \
    || fail_with_log "postgres createdb" "$PG_DIR/server.log"

  deadline=$((SECONDS + TIMEOUT))
  until pg_ready "$bin" "$port"; do
    kill -0 "$pid" 2>/dev/null || { rm -f "$PG_PID_FILE"; fail_with_log postgres "$PG_DIR/server.log"; }
    ((SECONDS < deadline)) || { stop_postgres; fail_with_log postgres "$PG_DIR/server.log"; }
    sleep 0.5
  done
  log "postgres: ready on 127.0.0.1:$port (pid $pid)"
}

# stop_postgres: a fast shutdown through pg_ctl (rolls back open transactions, checkpoints), then
# the pid-based fallback should pg_ctl fail.
stop_postgres() {
  local bin
  pid_of "$PG_PID_FILE" "$PG_PID_MARKER" >/dev/null || { rm -f "$PG_PID_FILE"; return 0; }
  if bin="$(pg_bin)" && pg_as_owner "$bin/pg_ctl" -D "$PG_DATA" -s -w -t 60 -m fast stop >/dev/null 2>&1; then
    rm -f "$PG_PID_FILE"
    log "postgres: stopped"
    return 0
  fi
  stop_pid "$PG_PID_FILE" "$PG_PID_MARKER" postgres 30
}
