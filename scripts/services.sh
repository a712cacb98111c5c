#!/usr/bin/env bash
# Throwaway PostgreSQL 15 + Redis for the test suite, both on loopback, everything under one directory.
#
#   scripts/services.sh start DIR   # DIR is created if missing (typically from `mktemp -d`)
#   scripts/services.sh stop DIR    # stops both, tolerant of already-stopped / half-started, removes DIR
#
# start writes DIR/env (DATABASE_URL, REDIS_URL, PGPORT, REDISPORT) and creates the database `ektp`.
# Ports: PGPORT / REDISPORT from the environment, else 54329 / 63790; a free port is used if busy.
# PostgreSQL refuses to run as root, so as root initdb/pg_ctl run as the `postgres` user (runuser).
set -euo pipefail

MARKER=".ektp-services"

die() {
    echo "services.sh: $*" >&2
    exit 1
}

usage() {
    echo "usage: $0 start|stop DIR" >&2
    exit 2
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# Run a PostgreSQL server binary: as `postgres` when we are root, directly otherwise. cd / first so the
# postgres user is never left in an untraversable working directory (e.g. /root).
as_pg() {
    if is_root; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

find_pg_bindir() {
    local candidates=() d
    [ -n "${PG_BINDIR:-}" ] && candidates+=("$PG_BINDIR")
    candidates+=(/usr/lib/postgresql/15/bin)
    if command -v pg_config >/dev/null 2>&1; then
        candidates+=("$(pg_config --bindir 2>/dev/null || true)")
    fi
    # Any other installed major version, newest first.
    while IFS= read -r d; do candidates+=("$d"); done < <(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV)
    for d in "${candidates[@]}"; do
        if [ -n "$d" ] && [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

port_is_free() {
    python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # like postgres and redis
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# pick_port PREFERRED -> PREFERRED if free, else an ephemeral free port.
pick_port() {
    if [ -n "$1" ] && port_is_free "$1"; then
        echo "$1"
    else
        free_port
    fi
}

redis_ping() {
    local port=$1 reply
    if command -v redis-cli >/dev/null 2>&1; then
        reply=$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null || true)
    else
        reply=$(
            exec 3<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null || exit 0
            printf 'PING\r\n' >&3
            timeout 2 head -c 7 <&3 || true
        )
    fi
    [[ "$reply" == *PONG* ]]
}

# Alive = exists and is not a zombie (a daemonized redis is reparented to PID 1, which may reap late).
pid_alive() {
    [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
    local state
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)
    [ "$state" != "Z" ]
}

# wait_gone PID SECONDS -> 0 when the process is gone.
wait_gone() {
    local pid=$1 i
    for ((i = 0; i < $2 * 10; i++)); do
        pid_alive "$pid" || return 0
        sleep 0.1
    done
    return 1
}

show_logs() {
    local dir=$1 f
    for f in "$dir/pg.log" "$dir/initdb.log" "$dir/redis.log"; do
        if [ -s "$f" ]; then
            echo "---- $f (last 30 lines) ----" >&2
            tail -n 30 "$f" >&2 || true
        fi
    done
}

stop_postgres() {
    local dir=$1 pgbin pid=""
    [ -f "$dir/pg/postmaster.pid" ] || return 0
    pid=$(head -n 1 "$dir/pg/postmaster.pid" 2>/dev/null || true)
    pid_alive "$pid" || return 0
    if pgbin=$(find_pg_bindir); then
        as_pg "$pgbin/pg_ctl" -D "$dir/pg" -m fast -w -t 30 stop >/dev/null 2>&1 ||
            as_pg "$pgbin/pg_ctl" -D "$dir/pg" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
    else
        kill -INT "$pid" 2>/dev/null || true
    fi
    if ! wait_gone "$pid" 15; then
        echo "services.sh: postgres $pid did not stop, killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$pid" 5 || true
    fi
}

stop_redis() {
    local dir=$1 pid="" port=""
    [ -f "$dir/redis.pid" ] && pid=$(cat "$dir/redis.pid" 2>/dev/null || true)
    [ -f "$dir/redisport" ] && port=$(cat "$dir/redisport" 2>/dev/null || true)
    if [ -z "$pid" ]; then
        # Started but pidfile not written yet: find the server by its port, only if it is ours (its
        # working directory is DIR).
        [ -n "$port" ] || return 0
        pid=$(pgrep -f "redis-server 127.0.0.1:$port" 2>/dev/null | head -n 1 || true)
        if [ -n "$pid" ] && [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" != "$(cd "$dir" && pwd -P)" ]; then
            pid=""
        fi
    fi
    pid_alive "$pid" || return 0
    if [ -n "$port" ] && command -v redis-cli >/dev/null 2>&1; then
        redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
    fi
    if ! wait_gone "$pid" 5; then
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_gone "$pid" 5; then
            kill -KILL "$pid" 2>/dev/null || true
            wait_gone "$pid" 5 || true
        fi
    fi
}

cmd_stop() {
    local dir=$1
    if [ ! -e "$dir" ]; then
        return 0
    fi
    [ -d "$dir" ] || die "$dir is not a directory"
    # Only ever delete a directory that start created (marker) or an empty one.
    if [ ! -e "$dir/$MARKER" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
        die "refusing to remove $dir: it was not created by '$0 start'"
    fi
    stop_postgres "$dir"
    stop_redis "$dir"
    rm -rf -- "$dir"
}

cmd_start() {
    local dir=$1 pgbin pgport redisport attempt started=""

    command -v python3 >/dev/null 2>&1 || die "python3 is needed to pick free ports"
    pgbin=$(find_pg_bindir) ||
        die "no PostgreSQL server found (looked in /usr/lib/postgresql/15/bin and pg_config --bindir); run: scripts/ensure-system-packages.sh postgres (apt-get install postgresql-15)"
    command -v redis-server >/dev/null 2>&1 ||
        die "redis-server not found; run: scripts/ensure-system-packages.sh redis (apt-get install redis-server)"
    local createdb="$pgbin/createdb"
    [ -x "$createdb" ] || createdb=$(command -v createdb) || die "createdb not found (postgresql-client)"

    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)
    if [ -e "$dir/pg" ] || [ -e "$dir/redis.pid" ]; then
        die "$dir already holds services; run '$0 stop $dir' first"
    fi
    : >"$dir/$MARKER"
    chmod 755 "$dir"

    # On failure, stop whatever was started and show the logs; DIR stays for the caller's `stop`.
    START_DIR=$dir
    trap 'rc=$?; if [ $rc -ne 0 ]; then echo "services.sh: start failed" >&2; show_logs "$START_DIR"; stop_postgres "$START_DIR"; stop_redis "$START_DIR"; fi' EXIT

    # --- PostgreSQL ---
    if is_root; then
        id -u postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user to run the server as"
        runuser -u postgres -- test -x "$dir" ||
            die "the postgres user cannot reach $dir; use a directory under /tmp (mktemp -d)"
    fi
    mkdir -p "$dir/pg" "$dir/sock"
    : >"$dir/pg.log"
    : >"$dir/initdb.log"
    chmod 700 "$dir/pg"
    if is_root; then
        chown postgres:postgres "$dir/pg" "$dir/sock" "$dir/pg.log" "$dir/initdb.log"
    fi
    as_pg "$pgbin/initdb" -D "$dir/pg" -U postgres --auth=trust -E UTF8 --no-locale --no-sync >>"$dir/initdb.log" 2>&1 ||
        die "initdb failed (see $dir/initdb.log)"

    # Retry with another free port if someone grabs ours between the check and the bind.
    for attempt in 1 2 3; do
        if [ "$attempt" -eq 1 ]; then
            pgport=$(pick_port "${PGPORT:-54329}")
        else
            pgport=$(free_port)
        fi
        echo "$pgport" >"$dir/pgport"
        if as_pg "$pgbin/pg_ctl" -D "$dir/pg" -l "$dir/pg.log" -w -t 60 \
            -o "-p $pgport -k $dir/sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
            start >/dev/null; then
            started=1
            break
        fi
        stop_postgres "$dir"
    done
    [ -n "$started" ] || die "PostgreSQL did not start (see $dir/pg.log)"
    "$createdb" -h 127.0.0.1 -p "$pgport" -U postgres ektp || die "createdb ektp failed"

    # --- Redis ---
    started=""
    for attempt in 1 2 3; do
        if [ "$attempt" -eq 1 ]; then
            redisport=$(pick_port "${REDISPORT:-63790}")
        else
            redisport=$(free_port)
        fi
        echo "$redisport" >"$dir/redisport"
        rm -f "$dir/redis.pid"
        if redis-server --port "$redisport" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
            --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir"; then
            local i
            for ((i = 0; i < 100; i++)); do
                if redis_ping "$redisport"; then
                    started=1
                    break
                fi
                sleep 0.1
            done
        fi
        [ -n "$started" ] && break
        stop_redis "$dir"
    done
    [ -n "$started" ] || die "Redis did not answer PING (see $dir/redis.log)"

    cat >"$dir/env" <<EOF
DATABASE_URL=postgres://postgres@127.0.0.1:$pgport/ektp
REDIS_URL=redis://127.0.0.1:$redisport/0
PGPORT=$pgport
REDISPORT=$redisport
EOF
    trap - EXIT
    echo "services.sh: PostgreSQL on 127.0.0.1:$pgport (db ektp), Redis on 127.0.0.1:$redisport; env in $dir/env"
}

[ $# -eq 2 ] || usage
[ -n "$2" ] && [ "$2" != "/" ] || die "refusing DIR '$2'"
case "$1" in
start) cmd_start "$2" ;;
stop) cmd_stop "$2" ;;
*) usage ;;
esac
