#!/usr/bin/env python3
"""Measures the citizen-account list on a database seeded with `dvc-api seed --profile country`
(10 million records on PostgreSQL): the first page, a page deep in the list by its cursor, a unit's
page, a name search and an ID-number lookup, each as sequential requests to a release server.

    python3 bench/citizen-list.py DATABASE_URL [REQUESTS]   (default 200; needs the release build)
"""
import statistics, sys, time, urllib.parse

from common import Server

ADDRESS = "127.0.0.1:18184"


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def timed(server, path, requests):
    seconds = []
    for _ in range(requests):
        start = time.monotonic()
        page = server.call("GET", path)
        seconds.append(time.monotonic() - start)
    return seconds, page


def main():
    url = sys.argv[1]
    requests = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    with Server(ADDRESS, url) as server:
        first = server.call("GET", "/api/v1/citizen-accounts?limit=50")
        cursor = first["next_cursor"]
        for _ in range(200):  # 10,000 records down the list
            cursor = server.call("GET", f"/api/v1/citizen-accounts?limit=50&cursor={urllib.parse.quote(cursor)}")["next_cursor"]
        hanoi = server.call("GET", "/api/v1/units?kind=province&code=01")["items"][0]
        cases = [
            ("first page", "/api/v1/citizen-accounts?limit=50"),
            ("a page 10,000 records down", f"/api/v1/citizen-accounts?limit=50&cursor={urllib.parse.quote(cursor)}"),
            ("Hà Nội's first page", f"/api/v1/citizen-accounts?limit=50&unit_id={hanoi['id']}"),
            ("name search q=nguyen van an", "/api/v1/citizen-accounts?limit=50&q=nguyen%20van%20an"),
            ("ID number lookup", "/api/v1/citizen-accounts?limit=50&id_number=001099012345"),
        ]
        print(f"the citizen-account list on {url.split(':')[0]}, {requests} sequential requests each")
        print("| request | items | p50 | p99 |")
        print("|---|---|---|---|")
        for name, path in cases:
            seconds, page = timed(server, path, requests)
            print(f"| {name} | {len(page['items'])} | {statistics.median(seconds) * 1000:.1f} ms | "
                  f"{percentile(seconds, 0.99) * 1000:.1f} ms |")


if __name__ == "__main__":
    main()
