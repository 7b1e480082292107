#!/usr/bin/env bash
# Several API processes may share one PostgreSQL: this serves a seeded database (`dvc-api seed
# --profile country`) from one release server and then from two at once, each on its own port, and
# measures the same reads with wrk against each setup: the first page of the citizen-account list,
# Hà Nội's monthly report and `GET /units/{id}`. With two processes each wrk sends half the
# connections to each server.
#
#   bash bench/two-processes.sh postgres://postgres@127.0.0.1:5432/dvc_seed [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."

url="$1"
duration="${2:-15s}"
connections=32
password=benchmark-password
cargo build --release -p dvc-api >&2

servers=()
start() {
    DVC_LISTEN="127.0.0.1:$1" DVC_DATABASE_URL="$url" DVC_ADMIN_PASSWORD="$password" DVC_LOG=warn \
        target/release/dvc-api >/dev/null 2>&1 &
    servers+=($!)
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return; sleep 0.1; done
    echo "the server on port $1 did not start" >&2
    exit 1
}
stop() {
    kill "${servers[@]}" 2>/dev/null || true
    wait "${servers[@]}" 2>/dev/null || true
    servers=()
}
trap stop EXIT

# The first start creates the admin user, so the second process never races it.
start 18301
token=$(curl -s -XPOST -H 'content-type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$password\"}" http://127.0.0.1:18301/api/v1/auth/token | jq -r .access_token)
auth="authorization: Bearer $token"
hanoi=$(curl -s -H "$auth" 'http://127.0.0.1:18301/api/v1/units?kind=province&code=01&valid_on=2026-10-01' | jq -r '.items[0].id')
paths=("/api/v1/citizen-accounts?limit=50" "/api/v1/reports/monthly?period=2026-10&unit_id=$hanoi" "/api/v1/units/$hanoi")

# Runs wrk on every path against the given ports at once and prints a table row per path.
measure() {
    local setup="$1"; shift
    local ports=("$@")
    for path in "${paths[@]}"; do
        local outputs=() loads=()
        for port in "${ports[@]}"; do
            local out; out=$(mktemp)
            outputs+=("$out")
            wrk -t1 -c$((connections / ${#ports[@]})) -d"$duration" --latency -H "$auth" \
                "http://127.0.0.1:$port$path" > "$out" &
            loads+=($!)
        done
        wait "${loads[@]}"
        python3 - "$setup" "$path" "${outputs[@]}" <<'PY'
import re, sys
setup, path, files = sys.argv[1], sys.argv[2], sys.argv[3:]
rate, p50s, p99s, errors = 0.0, [], [], 0
def ms(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
for name in files:
    text = open(name).read()
    rate += float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p50s.append(ms(re.search(r"50%\s+(\S+)", text).group(1)))
    p99s.append(ms(re.search(r"99%\s+(\S+)", text).group(1)))
    found = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors += int(found.group(1)) if found else 0
print(f"| {setup} | `{path.split('?')[0]}` | {rate:,.0f} | {max(p50s):.1f} ms | {max(p99s):.1f} ms | {errors} |")
PY
        rm -f "${outputs[@]}"
    done
}

echo "| processes | request | req/s (all) | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|---|"
measure "one" 18301
start 18302
measure "two" 18301 18302
