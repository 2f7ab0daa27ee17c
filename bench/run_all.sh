#!/usr/bin/env bash
# Run every benchmark in bench/ (figures only; nothing asserts a timing).
#   bench/run_all.sh            full runs (each under ~60 s on 2 cores; worker.py ~90 s)
#   bench/run_all.sh --quick    short runs
# PYTHON defaults to the project's virtualenv; PG_URL to the local PostgreSQL server
# (set PG_URL= to skip the PostgreSQL run).
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
PG_URL="${PG_URL-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}"
status=0

run() {
    echo
    echo "=== $*"
    "$PYTHON" "$@" || { echo "!!! failed (exit $?): $*"; status=1; }
}

run bench/ack.py "$@"
if [ -n "$PG_URL" ]; then
    run bench/ack.py --database-url "$PG_URL" "$@"
fi
run bench/engine.py "$@"
run bench/evaluate.py "$@"
run bench/breaches.py "$@"
if [ -n "$PG_URL" ]; then
    run bench/worker.py --database-url "$PG_URL" "$@"
    run bench/ack_latency.py --database-url "$PG_URL" "$@"
else
    run bench/worker.py "$@"
    run bench/ack_latency.py "$@"
fi
if [ -n "$PG_URL" ]; then
    run bench/clock.py --database-url "$PG_URL" "$@"
else
    run bench/clock.py "$@"
fi
exit $status
