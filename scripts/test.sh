#!/usr/bin/env bash
# `make test`: ruff, the migrations check and pytest against a throwaway PostgreSQL 15 + Redis
# (scripts/services.sh). The services are stopped and their directory removed whatever happens: on
# success, on the first failing step, on Ctrl-C or SIGTERM. Exits with the failing step's code
# (pytest's own code, 5 "no tests collected" included). Extra arguments go to pytest, as does
# PYTEST_ADDOPTS from the environment.
set -euo pipefail
cd "$(dirname "$0")/.."

SVC_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ektp-test.XXXXXX")
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    scripts/services.sh stop "$SVC_DIR" || echo "test.sh: could not stop the services in $SVC_DIR" >&2
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step() { echo "==> $*" >&2; }

step "starting PostgreSQL + Redis in $SVC_DIR"
scripts/services.sh start "$SVC_DIR"
DATABASE_URL=$(sed -n 's/^DATABASE_URL=//p' "$SVC_DIR/env")
REDIS_URL=$(sed -n 's/^REDIS_URL=//p' "$SVC_DIR/env")

step "ruff check"
.venv/bin/ruff check .
step "ruff format --check"
.venv/bin/ruff format --check .

export DATABASE_URL
export TEST_REDIS_URL=$REDIS_URL
export CELERY_BROKER_URL=$REDIS_URL
export CELERY_TASK_ALWAYS_EAGER=true

step "makemigrations --check"
.venv/bin/python manage.py makemigrations --check --dry-run

step "pytest ${PYTEST_ADDOPTS:-} $*"
.venv/bin/pytest "$@"
