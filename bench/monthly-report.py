#!/usr/bin/env python3
"""Measures the monthly report of a province and of the whole country read from the counters at
national scale, on PostgreSQL and on the SQLite default: the whole country's official tree (10,810
units) with counters for every commune, month (2021-07 … 2025-11) and account kind, about 1.6 million
counter rows, the volume that 10 million records over five years leave behind, and their subtree
counters. The counters are written straight into the database (the records themselves are not what
the report reads). Baseline, in the same run: the report's main statement (the subtree counter sums
of the province's rows) run by the database alone (pgbench for PostgreSQL, Python's sqlite3 for
SQLite).

    python3 bench/monthly-report.py [REQUESTS]   (default 200; needs: cargo build --release -p dvc-api, and oha)

With `--seeded DATABASE_URL...` it measures databases filled by `dvc-api seed --profile country`
instead: Hà Nội's and the country's reports for 2026-10 (the tree after the 2025 reform) and
2025-06 (the tree before it), with the counters the seeded records left behind.
"""
import json, os, sqlite3, statistics, subprocess, sys, tempfile, time

from common import ROOT, Server

REQUESTS = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 200
UNITS = os.path.join(ROOT, "data", "dvhc", "units-2025-01-04.csv")
ADDRESS = "127.0.0.1:18183"
PG = "postgres://postgres@127.0.0.1:5432"
MONTHS = "SELECT to_char(d, 'YYYY-MM') AS period FROM generate_series('2021-07-01'::date, '2025-11-01', '1 month') d"
SQLITE_MONTHS = ("WITH RECURSIVE m(d) AS (SELECT '2021-07-01' UNION ALL SELECT date(d, '+1 month') FROM m WHERE d < '2025-11-01') "
                 "SELECT substr(d, 1, 7) AS period FROM m")
FILL = ("INSERT INTO citizen_account_counters (unit_id, period, account_kind, created, failed) "
        "SELECT u.id, m.period, k.kind, 50, 7 FROM units u CROSS JOIN ({months}) m "
        "CROSS JOIN (SELECT 'dvc_portal' AS kind UNION ALL SELECT 'vneid_level1' UNION ALL SELECT 'vneid_level2') k "
        "WHERE u.kind = 'commune'; "
        # The subtree counters, as the migration that introduced them fills them.
        "INSERT INTO citizen_account_rollups (unit_id, period, account_kind, created, failed) "
        "SELECT ancestor.id, counter.period, counter.account_kind, SUM(counter.created), SUM(counter.failed) "
        "FROM citizen_account_counters counter JOIN units unit ON unit.id = counter.unit_id "
        "JOIN (SELECT 0 AS k UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) depth "
        "ON 34 + 33 * depth.k <= LENGTH(unit.path) "
        "JOIN units ancestor ON ancestor.path = SUBSTR(unit.path, 1, 34 + 33 * depth.k) "
        "GROUP BY ancestor.id, counter.period, counter.account_kind")
REPORT_SQL = ("SELECT unit_id, account_kind, SUM(CASE WHEN period = '2025-10' THEN created ELSE 0 END), "
              "SUM(CASE WHEN period = '2025-10' THEN failed ELSE 0 END), SUM(created) FROM citizen_account_rollups "
              "WHERE period <= '2025-10' AND unit_id IN (SELECT id FROM units WHERE path >= '{low}' AND path < '{high}' "
              "AND level <= 2) GROUP BY unit_id, account_kind")


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def measure(database_url, fill):
    with Server(ADDRESS, database_url) as server:
        with open(UNITS, "rb") as units:
            server.call("POST", "/api/v1/units/import", units.read(), "text/csv")
        fill()
        hanoi = server.call("GET", "/api/v1/units?kind=province&code=01")["items"][0]
        province = f"/api/v1/reports/monthly?period=2025-10&unit_id={hanoi['id']}"
        country = "/api/v1/reports/monthly?period=2025-10"
        assert server.call("GET", province)["rows"][0]["created"] > 0
        assert len(server.call("GET", country)["rows"]) == 63
        timings = {name: timed(server, path) for name, path in (("province", province), ("country", country))}
        return timings, hanoi["path"]


def bounds(path):
    return path, path[:-1] + "0"


def timed(server, path):
    seconds = []
    for _ in range(REQUESTS):
        start = time.monotonic()
        server.call("GET", path)
        seconds.append(time.monotonic() - start)
    return seconds


def oha_latencies(server, path):
    """p50 and p99 in milliseconds of REQUESTS sequential requests by oha (no client overhead of Python's)."""
    output = subprocess.run(["oha", "-n", str(REQUESTS), "-c", "1", "--no-tui", "--output-format", "json",
                             "-H", f"authorization: Bearer {server.token}", f"http://{ADDRESS}{path}"],
                            check=True, capture_output=True, text=True).stdout
    result = json.loads(output)
    assert result["statusCodeDistribution"] == {"200": REQUESTS}, result["statusCodeDistribution"]
    return result["latencyPercentiles"]["p50"] * 1000, result["latencyPercentiles"]["p99"] * 1000


def seeded(urls):
    print(f"the monthly report on seeded databases, {REQUESTS} sequential requests each (oha -c 1)")
    print("| database | report | rows | dvc p50 | dvc p99 |")
    print("|---|---|---|---|---|")
    for url in urls:
        with Server(ADDRESS, url) as server:
            records = server.call("GET", "/api/v1/citizen-accounts?limit=1")
            assert records["items"], "a seeded database"
            for period, day in (("2026-10", "2026-10-01"), ("2025-06", "2025-06-01")):
                hanoi = server.call("GET", f"/api/v1/units?kind=province&code=01&valid_on={day}")["items"][0]
                for name, path in ((f"Hà Nội {period}", f"/api/v1/reports/monthly?period={period}&unit_id={hanoi['id']}"),
                                   (f"country {period}", f"/api/v1/reports/monthly?period={period}")):
                    rows = len(server.call("GET", path)["rows"])
                    timed(server, path)  # warms the caches
                    p50, p99 = oha_latencies(server, path)
                    print(f"| {url.split(':')[0]} | {name} | {rows} | {p50:.1f} ms | {p99:.1f} ms |")


def main():
    if "--seeded" in sys.argv:
        seeded(sys.argv[sys.argv.index("--seeded") + 1:])
        return
    work = tempfile.mkdtemp()
    database = f"bench_report_{os.getpid()}"
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {database}"], check=True)
    try:
        fill_pg = lambda: subprocess.run(["psql", f"{PG}/{database}", "-qc", FILL.format(months=MONTHS) + "; ANALYZE"], check=True)
        pg_seconds, path = measure(f"{PG}/{database}", fill_pg)
        low, high = bounds(path)
        script = os.path.join(work, "report.sql")
        with open(script, "w") as out:
            out.write(REPORT_SQL.format(low=low, high=high) + ";\n")
        output = subprocess.run(["pgbench", "-n", "-c", "1", "-t", str(REQUESTS), "-f", script, "-r", f"{PG}/{database}"],
                                check=True, capture_output=True, text=True).stdout
        latency = [line for line in output.splitlines() if "latency average" in line][0]
        pg_baseline = float(latency.split("=")[1].split()[0]) / 1000
        rows = subprocess.run(["psql", f"{PG}/{database}", "-Atc", "SELECT count(*) FROM citizen_account_counters"],
                              check=True, capture_output=True, text=True).stdout.strip()
    finally:
        subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"], check=True)
    sqlite_path = os.path.join(work, "dvc.sqlite")
    def fill_sqlite():
        connection = sqlite3.connect(sqlite_path)
        connection.executescript(FILL.format(months=SQLITE_MONTHS))
        connection.commit()
        connection.execute("ANALYZE")
        connection.close()
    sqlite_seconds, path = measure(f"sqlite://{sqlite_path}?mode=rwc", fill_sqlite)
    low, high = bounds(path)
    connection = sqlite3.connect(sqlite_path)
    baseline = []
    for _ in range(REQUESTS):
        start = time.monotonic()
        connection.execute(REPORT_SQL.format(low=low, high=high)).fetchall()
        baseline.append(time.monotonic() - start)
    connection.close()
    print(f"{rows} counter rows; the monthly report for 2025-10 of Hà Nội (01, 30 districts, 579 communes) "
          f"and of the country (63 provinces), {REQUESTS} sequential requests each")
    print("| database | report | dvc p50 | dvc p99 | baseline: Hà Nội's counter sums alone (mean / p50) | ratio (p50) |")
    print("|---|---|---|---|---|---|")
    for name, timings, floor in (("PostgreSQL", pg_seconds, pg_baseline), ("SQLite", sqlite_seconds, statistics.median(baseline))):
        for report, seconds in timings.items():
            p50 = statistics.median(seconds)
            ratio = f"{p50 / floor:.2f}×" if report == "province" else ""
            print(f"| {name} | {report} | {p50 * 1000:.1f} ms | {percentile(seconds, 0.99) * 1000:.1f} ms | "
                  f"{floor * 1000:.1f} ms | {ratio} |")


if __name__ == "__main__":
    main()
