#!/usr/bin/env bash
# `make test`: ruff, the layer contracts (lint-imports), the migrations check, then three pytest runs:
#
#   run 1/3  PostgreSQL 15 + Redis, the real clock: the whole suite, browser tests included
#   run 2/3  PostgreSQL, the clock moved TEST_CLOCK_SHIFT_DAYS (default 400) days ahead: the non-browser,
#            non-slow suite, so a test that only passes "for now" fails the day it is written
#   run 3/3  SQLite, the embedded default of `make run` (no DATABASE_URL, filesystem broker): the card,
#            appointment, counter, printing and delivery tests, except those marked postgres_only
#
# PostgreSQL and Redis are throwaway (scripts/services.sh), stopped and removed whatever happens: on success,
# on a failing step, on Ctrl-C or SIGTERM. A failing lint or migrations step stops at once with its code;
# the three pytest runs all run, a summary names each one's outcome, and the script exits with the first
# failing run's code (pytest's own, 5 "no tests collected" included).
#
# Extra arguments go to pytest (as does PYTEST_ADDOPTS) and then only run 1 runs with them, unless
# TEST_RUNS says otherwise: TEST_RUNS="main shifted sqlite" (the default without arguments) picks runs.
set -euo pipefail
cd "$(dirname "$0")/.."

SVC_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ektp-test.XXXXXX")
SQLITE_VAR=$(mktemp -d "${TMPDIR:-/tmp}/ektp-test-sqlite.XXXXXX")
LANE_PID=
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$LANE_PID" ]; then
        pkill -TERM -P "$LANE_PID" 2>/dev/null || true
        kill "$LANE_PID" 2>/dev/null || true
        wait "$LANE_PID" 2>/dev/null || true
    fi
    scripts/services.sh stop "$SVC_DIR" || echo "test.sh: could not stop the services in $SVC_DIR" >&2
    rm -rf "$SQLITE_VAR" "${SHIFTED_VAR:-}" "${RESULTS:-}"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step() { echo "==> $*" >&2; }
banner() {
    echo >&2
    echo "========================================================================================" >&2
    echo "==> $*" >&2
    echo "========================================================================================" >&2
}

if [ $# -gt 0 ]; then
    RUNS=${TEST_RUNS:-main}
else
    RUNS=${TEST_RUNS:-main shifted sqlite}
fi
SHIFT_DAYS=${TEST_CLOCK_SHIFT_DAYS_RUN:-400}
SQLITE_PATHS=()
for path in tests/cards tests/queueing tests/delivery; do
    [ -d "$path" ] && SQLITE_PATHS+=("$path")
done

step "starting PostgreSQL + Redis in $SVC_DIR"
scripts/services.sh start "$SVC_DIR"
DATABASE_URL=$(sed -n 's/^DATABASE_URL=//p' "$SVC_DIR/env")
REDIS_URL=$(sed -n 's/^REDIS_URL=//p' "$SVC_DIR/env")

step "ruff check"
.venv/bin/ruff check .
step "ruff format --check"
.venv/bin/ruff format --check .
step "lint-imports (layers: config > delivery > intake > queueing > cards > registry > messaging)"
.venv/bin/lint-imports --no-logo --no-cache

export DATABASE_URL
export TEST_REDIS_URL=$REDIS_URL
export CELERY_BROKER_URL=$REDIS_URL
export CELERY_TASK_ALWAYS_EAGER=true
unset TEST_CLOCK_SHIFT_DAYS

step "makemigrations --check"
.venv/bin/python manage.py makemigrations --check --dry-run

RESULTS=$(mktemp -d "${TMPDIR:-/tmp}/ektp-test-results.XXXXXX")
SHIFTED_VAR=$(mktemp -d "${TMPDIR:-/tmp}/ektp-test-shifted.XXXXXX")
run() { # run <name> <description> <command...>: records the outcome in $RESULTS, keeps going
    local name=$1 description=$2 started rc=0
    shift 2
    banner "$description"
    echo "    $*" >&2
    started=$SECONDS
    "$@" || rc=$?
    local outcome="passed"
    [ "$rc" -eq 0 ] || outcome="FAILED (exit $rc)"
    printf '%-8s %-22s %4ds  %s\n' "$name" "$outcome" $((SECONDS - started)) "$description" >"$RESULTS/$name.line"
    echo "$rc" >"$RESULTS/$name.rc"
}

run_one() {
    case $1 in
    main)
        run main "run 1/3: PostgreSQL, real clock, the whole suite ${PYTEST_ADDOPTS:-} ${ARGS[*]:-}" \
            .venv/bin/pytest "${ARGS[@]}"
        ;;
    shifted)
        # Beside run 1 on the same servers: its own test database (test_ektp_shifted), Redis database 1 and
        # VAR_DIR, so the two runs share nothing.
        run shifted "run 2/3: PostgreSQL, clock +$SHIFT_DAYS days, tests except e2e and slow" \
            env TEST_CLOCK_SHIFT_DAYS="$SHIFT_DAYS" DATABASE_URL="${DATABASE_URL%/*}/ektp_shifted" \
            TEST_REDIS_URL="${REDIS_URL%/*}/1" CELERY_BROKER_URL="${REDIS_URL%/*}/1" VAR_DIR="$SHIFTED_VAR" \
            .venv/bin/pytest tests --ignore=tests/e2e -m "not slow and not browser" -p no:cacheprovider -q \
            --ignore=tests/registry/test_db_roles.py --ignore=tests/registry/test_access_log_chain.py \
            --ignore=tests/cards/test_uploads.py --ignore=tests/test_url_matrix.py \
            --ignore=tests/registry/test_admin_security.py --ignore=tests/test_architecture.py \
            --ignore=tests/test_translations.py --ignore=tests/intake/test_parser.py \
            --ignore=tests/intake/test_dates.py --ignore=tests/intake/test_webhook.py \
            --ignore=tests/intake/test_webhook_sms.py --ignore=tests/intake/test_webhook_media.py \
            --ignore=tests/intake/test_intake_admin.py --ignore=tests/messaging/test_gateways.py \
            --ignore=tests/intake/test_processing_contacts.py
            # these read no date (the parser and date reader take "today" as an argument): the first run is
            # enough
        ;;
    sqlite)
        # The embedded default: no DATABASE_URL (settings pick SQLite under VAR_DIR; tests use an in-memory
        # copy) and the filesystem broker; Celery tasks still run eagerly.
        run sqlite "run 3/3: SQLite (make run's default), cards, queueing and delivery, not postgres_only" \
            env -u DATABASE_URL -u CELERY_BROKER_URL -u TEST_REDIS_URL VAR_DIR="$SQLITE_VAR" \
            .venv/bin/pytest "${SQLITE_PATHS[@]}" -m "not postgres_only and not browser" \
            -p no:cacheprovider -q
        ;;
    *)
        echo "test.sh: unknown run '$1' in TEST_RUNS (main, shifted, sqlite)" >&2
        exit 2
        ;;
    esac
}

# Two cores: run 1 in the foreground, runs 2 and 3 one after the other beside it (their output follows
# run 1's). Together they take about as long as run 1 alone.
ARGS=("$@")
LANE=()
DO_MAIN=0
for name in $RUNS; do
    case $name in
    main) DO_MAIN=1 ;;
    shifted | sqlite) LANE+=("$name") ;;
    *) run_one "$name" ;;
    esac
done
if [ ${#LANE[@]} -gt 0 ]; then
    (for name in "${LANE[@]}"; do run_one "$name"; done) >"$RESULTS/lane.log" 2>&1 &
    LANE_PID=$!
    [ "$DO_MAIN" -eq 1 ] && step "runs ${LANE[*]} go beside run 1; their output follows it"
fi
[ "$DO_MAIN" -eq 1 ] && run_one main
if [ -n "$LANE_PID" ]; then
    wait "$LANE_PID" || true
    LANE_PID=
    cat "$RESULTS/lane.log" >&2
fi

FIRST_RC=0
SUMMARY=()
for name in main shifted sqlite; do
    [ -f "$RESULTS/$name.rc" ] || continue
    SUMMARY+=("$(cat "$RESULTS/$name.line")")
    rc=$(cat "$RESULTS/$name.rc")
    if [ "$rc" -ne 0 ] && [ "$FIRST_RC" -eq 0 ]; then FIRST_RC=$rc; fi
done

banner "summary"
printf '%s\n' "${SUMMARY[@]}" >&2
exit "$FIRST_RC"
