#!/usr/bin/env bash
# The HTTP benchmark: builds the release server, then for PostgreSQL and the SQLite default measures
# every scenario with wrk (the maximum) and oha (a fixed rate, latency corrected), beside pgbench
# running the same SQL and the peer (Platformatic DB over the same tables), and rewrites the marked
# section of BENCHMARKS.md. Settings (environment): BENCH_DURATION (15s), BENCH_CONNECTIONS (64),
# BENCH_THREADS (2), BENCH_BACKENDS ("postgres sqlite"), BENCH_ONLY (scenario keys), BENCH_RECORDS
# (20000), BENCH_BATCH (100), BENCH_KEEP_DB=1 (keep the PostgreSQL database dvc_bench),
# BENCH_WRITE=0 (print the table only).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in wrk oha pgbench psql node npm python3; do
    command -v "$tool" >/dev/null || { echo "bench/run.sh needs $tool (see BENCHMARKS.md)" >&2; exit 1; }
done
[ -x bench/peer/node_modules/.bin/plt-db ] || npm --prefix bench/peer ci --no-audit --no-fund

cargo build --release -p dvc-api

# The driver stops the servers it starts, on any exit; this trap covers an interrupted build or
# driver that leaves a child behind.
cleanup() { pkill -P $$ 2>/dev/null || true; }
trap cleanup EXIT INT TERM
python3 bench/http-load.py
