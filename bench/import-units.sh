#!/usr/bin/env bash
# Measures importing the whole country's unit list (63 provinces, 696 districts, 10,051 communes)
# with `dvc-api import-units` into a fresh SQLite database, against a baseline measured in the same
# run: the sqlite3 shell loading the same CSV into one plain table in one transaction, the floor of
# what any SQLite import of this file costs.
#
#   bash bench/import-units.sh [RUNS]      (default 5 runs; prints medians and the ratio)
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-5}"
csv="data/dvhc/units-2025-01-04.csv"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release -p dvc-api >&2
binary=target/release/dvc-api

seconds() { python3 -c 'import time; print(time.monotonic())'; }

time_import() {
    rm -f "$work"/dvc.sqlite*
    local start end
    start=$(seconds)
    DVC_DATABASE_URL="sqlite://$work/dvc.sqlite?mode=rwc" DVC_LOG=warn "$binary" import-units "$csv" 2>/dev/null
    end=$(seconds)
    python3 -c "print($end - $start)"
}

time_baseline() {
    rm -f "$work"/baseline.sqlite
    local start end
    start=$(seconds)
    sqlite3 "$work/baseline.sqlite" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
.import --csv $csv units
COMMIT;
SQL
    end=$(seconds)
    python3 -c "print($end - $start)"
}

# The first import also creates the schema; it is measured like the others, as an operator runs it.
ours=(); baseline=()
for _ in $(seq 1 "$runs"); do
    ours+=("$(time_import)")
    baseline+=("$(time_baseline)")
done

python3 - "${ours[*]}" "${baseline[*]}" <<'PY'
import statistics, sys
ours = [float(x) for x in sys.argv[1].split()]
base = [float(x) for x in sys.argv[2].split()]
mo, mb = statistics.median(ours), statistics.median(base)
print(f"dvc-api import-units (whole country, fresh SQLite): median {mo:.3f} s over {len(ours)} runs {sorted(round(x, 3) for x in ours)}")
print(f"baseline sqlite3 .import of the same CSV:            median {mb:.3f} s over {len(base)} runs {sorted(round(x, 3) for x in base)}")
print(f"ratio: {mo / mb:.1f}x the baseline")
PY
