#!/usr/bin/env bash
# Measures `dvc-api seed --profile country` into a fresh database, from process start to exit, and a
# baseline in the same run: the database's own bulk load of the same records (exported from the
# seeded table) into a plain copy of the table without indexes, the floor of storing them at all.
# The seeded database is kept, for the report benchmarks. On SQLite the baseline copies the rows
# within SQLite, from the seeded file into a plain table of another.
#
#   bash bench/seed.sh postgres://postgres@127.0.0.1:5432/dvc_seed [RECORDS]   (creates the database)
#   bash bench/seed.sh sqlite:///work/notes/country.sqlite [RECORDS]          (the file must not exist)
#
# RECORDS defaults to 10,000,000. The baseline loads the first 1,000,000 records at most.
set -euo pipefail
cd "$(dirname "$0")/.."

url="$1"
records="${2:-10000000}"
sample=$((records < 1000000 ? records : 1000000))
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release -p dvc-api >&2
binary=target/release/dvc-api

seconds() { python3 -c 'import time; print(time.monotonic())'; }

case "$url" in
postgres://*)
    server="${url%/*}"
    name="${url##*/}"
    psql "$server/postgres" -qc "CREATE DATABASE $name"
    ;;
sqlite://*)
    file="${url#sqlite://}"
    file="${file%%\?*}"
    [ ! -e "$file" ] || { echo "$file exists: seed a new file" >&2; exit 1; }
    url="sqlite://$file?mode=rwc"
    ;;
esac

start=$(seconds)
DVC_DATABASE_URL="$url" DVC_LOG=warn "$binary" seed --profile country --records "$records"
end=$(seconds)
seed_seconds=$(python3 -c "print(round($end - $start, 1))")

columns="id, full_name, name_folded, id_number_sealed, id_number_hash, phone_sealed, email, birth_date, \
account_kind, outcome, failure_reason, otp_resends, unit_id, official_id, registered_at, period, source, \
external_ref, recorded_by, voided_at, voided_by, void_reason, created_at"
case "$url" in
postgres://*)
    psql "$url" -qc "\\copy (SELECT $columns FROM citizen_accounts ORDER BY registered_at LIMIT $sample) TO '$work/sample.tsv'"
    psql "$url" -qc "CREATE TABLE bench_plain_copy (LIKE citizen_accounts)"
    start=$(seconds)
    psql "$url" -qc "\\copy bench_plain_copy ($columns) FROM '$work/sample.tsv'"
    end=$(seconds)
    psql "$url" -qc "DROP TABLE bench_plain_copy"
    ;;
sqlite://*)
    # The same rows copied inside SQLite (its ids are blobs, which a text export would mangle).
    start=$(seconds)
    sqlite3 "$work/plain.sqlite" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
ATTACH '$file' AS seeded;
CREATE TABLE plain AS SELECT $columns FROM seeded.citizen_accounts WHERE 0;
BEGIN;
INSERT INTO plain SELECT $columns FROM seeded.citizen_accounts ORDER BY registered_at LIMIT $sample;
COMMIT;
SQL
    end=$(seconds)
    ;;
esac
baseline_seconds=$(python3 -c "print(round($end - $start, 2))")

python3 - "$records" "$seed_seconds" "$sample" "$baseline_seconds" <<'PY'
import sys
records, seed, sample, baseline = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
seed_rate, baseline_rate = records / seed, sample / baseline
print(f"| seed --profile country, {records:,} records | {seed:.0f} s | {seed_rate:,.0f} records/s |")
print(f"| baseline: bulk load of {sample:,} of them, no indexes | {baseline:.1f} s | {baseline_rate:,.0f} records/s |")
print(f"| ratio (rates) | {baseline_rate / seed_rate:.1f}× slower than the baseline | |")
PY
