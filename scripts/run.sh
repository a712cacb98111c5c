#!/usr/bin/env bash
# `make run`: migrate, load the regions, seed the demo (prints its logins), then a Celery worker with
# embedded beat in the background (log: var/celery-worker.log, or $VAR_DIR/) and runserver in the foreground. When
# runserver ends (Ctrl-C), the worker is stopped too.
#
# With no variables set this is the embedded default (SQLite + filesystem broker under var/, a secret key generated
# in var/secret_key on the first run) in debug mode; DATABASE_URL, CELERY_BROKER_URL, DJANGO_DEBUG, ... from the
# environment or .env are used as they are.
# RUNSERVER_ADDR overrides the address (default 127.0.0.1:8000).
set -euo pipefail
cd "$(dirname "$0")/.."

# The settings default to production values; the demo runs in debug mode (runserver serves the static files,
# plain HTTP, the printed demo logins) unless the environment or .env sets DJANGO_DEBUG.
if [ -z "${DJANGO_DEBUG:-}" ] && ! grep -qs '^[[:space:]]*DJANGO_DEBUG=' .env; then
    export DJANGO_DEBUG=True
fi

PY=.venv/bin/python
ADDR=${RUNSERVER_ADDR:-127.0.0.1:8000}
LOG_DIR=${VAR_DIR:-var}
mkdir -p "$LOG_DIR"

"$PY" manage.py migrate --noinput
"$PY" manage.py load_regions
"$PY" manage.py seed_demo --if-empty

WORKER_PID=""
stop_worker() {
    trap - EXIT INT TERM
    if [ -n "$WORKER_PID" ] && kill -0 "$WORKER_PID" 2>/dev/null; then
        echo "Stopping the Celery worker ($WORKER_PID)..." >&2
        kill -TERM "$WORKER_PID" 2>/dev/null || true
        for _ in $(seq 100); do
            kill -0 "$WORKER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$WORKER_PID" 2>/dev/null || true
    fi
    wait 2>/dev/null || true
}
trap stop_worker EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "Starting the Celery worker with beat (log: $LOG_DIR/celery-worker.log)" >&2
.venv/bin/celery -A config worker -B --pool=solo --loglevel=INFO >>"$LOG_DIR/celery-worker.log" 2>&1 &
WORKER_PID=$!

echo "Serving on http://$ADDR/ (Ctrl-C to stop)" >&2
"$PY" manage.py runserver "$ADDR"
