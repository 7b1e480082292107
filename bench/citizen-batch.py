#!/usr/bin/env python3
"""Measures the provincial portal's batch upload of citizen-account records
(`POST /api/v1/citizen-accounts/batch`, 10,000 records as NDJSON) on PostgreSQL and on the SQLite
default, against baselines measured in the same run: the database's own bulk load of the same rows
into a plain table without indexes (PostgreSQL `COPY`, the `sqlite3` shell's `.import`), the floor of
what storing them can cost, and on PostgreSQL the same rows copied by one `INSERT … SELECT` into the
records table itself, with the indexes and foreign keys the rules need (unique blind index, list
indexes, name search), the floor of storing them there. dvc does more per record: checks every
field, seals two personal numbers, fingerprints the ID number, enforces uniqueness, writes an audit
event, a change-feed event and the counters.

    python3 bench/citizen-batch.py [BATCHES]    (default 5; needs: cargo build --release -p dvc-api)
"""
import json, os, statistics, subprocess, sys, tempfile, time

from common import Server

BATCHES = int(sys.argv[1]) if len(sys.argv) > 1 else 5
RECORDS = 10_000
ADDRESS = "127.0.0.1:18182"
PG = "postgres://postgres@127.0.0.1:5432"


def records(batch, official):
    # 052 (birth province), 1 (a woman born in the 1900s), the year, and a serial: valid and distinct.
    return [
        {"full_name": "Trần Thị Bích", "id_number": f"0521{60 + batch:02}{i:06}", "phone": f"0905{i:06}",
         "account_kind": "vneid_level2", "outcome": "created", "official_id": official,
         "registered_at": "2025-03-10T02:00:00Z", "external_ref": f"DVC-{batch}-{i}"}
        for i in range(RECORDS)
    ]


def measure(database_url):
    with Server(ADDRESS, database_url) as server:
        province = server.post("/api/v1/units", {"code": "52", "name": "Tỉnh Bình Định", "kind": "province"})["id"]
        commune = server.post("/api/v1/units", {"code": "21610", "name": "Xã An Hưng", "kind": "commune",
                                                "parent_id": province})["id"]
        official = server.post("/api/v1/officials", {"full_name": "Nguyễn Văn An", "unit_id": commune,
                                                     "id_number": "052090001245", "phone": "0972123588",
                                                     "portal_account": "created"})["id"]
        server.post("/api/v1/grants", {"official_id": official, "basis": "125/QĐ-TTPVHCC", "valid_from": "2025-01-01"})
        seconds = []
        for batch in range(BATCHES):
            body = "\n".join(json.dumps(record, ensure_ascii=False) for record in records(batch, official)).encode()
            start = time.monotonic()
            answer = server.call("POST", "/api/v1/citizen-accounts/batch", body, "application/x-ndjson")
            seconds.append(time.monotonic() - start)
            assert answer["created"] == RECORDS, answer["created"]
        return seconds


def rows_csv(path):
    with open(path, "w") as out:
        for i in range(RECORDS):
            out.write(f"{i},Trần Thị Bích,0521{60:02}{i:06},0905{i:06},vneid_level2,created,2025-03-10T02:00:00Z,DVC-0-{i}\n")


def baseline_postgres(database, csv_path):
    subprocess.run(["psql", f"{PG}/{database}", "-qc",
                    "CREATE TABLE plain (n int, full_name text, id_number text, phone text, kind text, outcome text, at timestamptz, ref text)"],
                   check=True)
    seconds = []
    for _ in range(BATCHES):
        start = time.monotonic()
        subprocess.run(["psql", f"{PG}/{database}", "-qc", f"\\copy plain FROM '{csv_path}' WITH (FORMAT csv)"], check=True)
        seconds.append(time.monotonic() - start)
    return seconds


# The first batch's rows again, with a new id, fingerprint and portal reference each so that every
# unique index takes them, then rolled back: only the database's own work on the records table.
REINSERT = """
BEGIN;
\\timing on
INSERT INTO citizen_accounts (id, full_name, name_folded, id_number_sealed, id_number_hash, phone_sealed, email,
    birth_date, account_kind, outcome, failure_reason, otp_resends, unit_id, official_id, registered_at, period,
    source, external_ref, recorded_by, voided_at, voided_by, void_reason, created_at)
SELECT gen_random_uuid(), full_name, name_folded, id_number_sealed, md5(id_number_hash) || md5(id::text),
    phone_sealed, email, birth_date, account_kind, outcome, failure_reason, otp_resends, unit_id, official_id,
    registered_at, period, source, external_ref || '-again', recorded_by, voided_at, voided_by, void_reason, created_at
FROM citizen_accounts WHERE external_ref LIKE 'DVC-0-%';
\\timing off
ROLLBACK;
"""


def indexed_postgres(database):
    seconds = []
    for _ in range(BATCHES):
        result = subprocess.run(["psql", "-q", f"{PG}/{database}"], input=REINSERT, capture_output=True, text=True,
                                check=True)
        milliseconds = float(result.stdout.split("Time: ")[1].split(" ms")[0])
        seconds.append(milliseconds / 1000)
    return seconds


def baseline_sqlite(work, csv_path):
    seconds = []
    for run in range(BATCHES):
        database = os.path.join(work, f"plain-{run}.sqlite")
        script = "CREATE TABLE plain (n, full_name, id_number, phone, kind, outcome, at, ref);\n.mode csv\n.import " + csv_path + " plain\n"
        start = time.monotonic()
        subprocess.run(["sqlite3", database], input=script.encode(), check=True)
        seconds.append(time.monotonic() - start)
    return seconds


def report(name, seconds, baseline):
    rate = RECORDS / statistics.median(seconds)
    floor = RECORDS / statistics.median(baseline)
    print(f"| {name} | {rate:,.0f} records/s | {statistics.median(seconds) * 1000:.0f} ms | "
          f"{floor:,.0f} records/s | {rate / floor:.2f}× |")
    print(f"|   runs (s) | {', '.join(f'{s:.3f}' for s in sorted(seconds))} | | {', '.join(f'{s:.3f}' for s in sorted(baseline))} | |")


def main():
    work = tempfile.mkdtemp()
    csv_path = os.path.join(work, "rows.csv")
    rows_csv(csv_path)
    database = f"bench_{os.getpid()}"
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {database}"], check=True)
    plain = f"bench_plain_{os.getpid()}"
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {plain}"], check=True)
    try:
        postgres = measure(f"{PG}/{database}")
        postgres_indexed = indexed_postgres(database)
        postgres_floor = baseline_postgres(plain, csv_path)
    finally:
        for name in (database, plain):
            subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=True)
    sqlite = measure(f"sqlite://{work}/dvc.sqlite?mode=rwc")
    sqlite_floor = baseline_sqlite(work, csv_path)
    print(f"{BATCHES} batches of {RECORDS:,} records each; median per batch")
    print("| database | dvc batch upload | time per batch | baseline bulk load | ratio |")
    print("|---|---|---|---|---|")
    report("PostgreSQL", postgres, postgres_floor)
    report("SQLite", sqlite, sqlite_floor)
    indexed = RECORDS / statistics.median(postgres_indexed)
    print(f"PostgreSQL's own INSERT … SELECT of the same rows into the records table: {indexed:,.0f} records/s "
          f"({statistics.median(postgres_indexed) * 1000:.0f} ms); dvc {RECORDS / statistics.median(postgres) / indexed:.2f}× that")
    print(f"|   runs (s) | {', '.join(f'{s:.3f}' for s in sorted(postgres_indexed))} |")


if __name__ == "__main__":
    main()
