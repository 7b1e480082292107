#!/usr/bin/env python3
"""The HTTP benchmark behind bench/run.sh: for PostgreSQL and the SQLite default, prepares a database
(the whole country's units, a province's officials with grants, citizen-account records), starts a
release server and measures every scenario with wrk (the maximum) and oha (a fixed rate of half that
maximum, latency corrected), beside pgbench running the statements the server runs for one request
and, for two reads, the peer (Platformatic DB over the same PostgreSQL tables). It rewrites the
marked section of BENCHMARKS.md with the table.

    bash bench/run.sh    (builds first; the environment variables are listed in BENCHMARKS.md)
"""
import datetime, json, os, platform, re, shlex, signal, sqlite3, subprocess, sys, tempfile, threading, time
import urllib.error, urllib.request

from common import BINARY, ROOT

DURATION = os.environ.get("BENCH_DURATION", "15s")
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "64"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
BACKENDS = os.environ.get("BENCH_BACKENDS", "postgres sqlite").split()
ONLY = os.environ.get("BENCH_ONLY", "").split()
RECORDS = int(os.environ.get("BENCH_RECORDS", "20000"))
BATCH = int(os.environ.get("BENCH_BATCH", "100"))
PROVINCE = os.environ.get("BENCH_PROVINCE", "52")
KEEP = os.environ.get("BENCH_KEEP_DB") == "1"
WRITE = os.environ.get("BENCH_WRITE", "1") == "1"
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PG_DATABASE = os.environ.get("BENCH_PG_DATABASE", "dvc_bench")
PG_LOG = os.environ.get("BENCH_PG_LOG", "/var/log/postgresql/postgresql-15-main.log")
ADDRESS = "127.0.0.1:18190"
PEER_PORT = 18191
USERNAME, PASSWORD = "bench.admin", "benchmark-password"
REGISTERED_AT = "2025-10-20T03:00:00Z"  # when the records written under load were made at the desk
PEER_DIR = os.path.join(ROOT, "bench", "peer")
PGBENCH_DIR = os.path.join(ROOT, "bench", "pgbench")
LUA = os.path.join(ROOT, "bench", "wrk", "requests.lua")
BACKEND_NAMES = {"postgres": "PostgreSQL", "sqlite": "SQLite"}
BEGIN, END = "<!-- bench/run.sh begin -->", "<!-- bench/run.sh end -->"
NAMES = ["Trần Thị Bích", "Nguyễn Văn An", "Lê Thị Hoa", "Phạm Minh Tuấn", "Huỳnh Thị Mai", "Võ Văn Hùng",
         "Đặng Thị Lan", "Bùi Quốc Khánh", "Đỗ Thị Thu", "Hồ Văn Phúc"]


class Scenario:
    """One request, measured at the maximum and at a fixed rate; `sql` says whether pgbench replays the
    statements it runs, `peer` the peer's path for the same read."""

    def __init__(self, key, title, path, method="GET", auth=True, body=None, records=0, sql=False, peer=None,
                 shape="record", script=None):
        self.key, self.title, self.path, self.method, self.auth = key, title, path, method, auth
        self.body, self.records, self.sql, self.peer = body, records, sql, peer
        # A write's statements written by hand for pgbench (bench/pgbench/<script>), since a replay of
        # the log would repeat the same unique values; they name the context's units and actor.
        self.script = script
        # What each of the `records` generated bodies is: a citizen-account "record" or an "official".
        self.shape = shape


def scenarios(ctx):
    login = json.dumps({"username": USERNAME, "password": PASSWORD})
    report = f"/api/v1/reports/monthly?period={ctx['period']}"
    return [
        Scenario("healthz", "`GET /healthz`", "/healthz", auth=False),
        Scenario("unit", "`GET /units/{id}`", f"/api/v1/units/{ctx['commune']}", sql=True,
                 peer=f"/units/{ctx['commune']}"),
        Scenario("units_page", "`GET /units?limit=50`", "/api/v1/units?limit=50", sql=True, peer="/units?limit=50"),
        Scenario("officials", "`GET /officials?limit=50`", "/api/v1/officials?limit=50", sql=True),
        Scenario("citizen_accounts", "`GET /citizen-accounts?limit=50`", "/api/v1/citizen-accounts?limit=50", sql=True),
        Scenario("search", "search `GET /units?q=phuc xa`", "/api/v1/units?q=phuc%20xa&limit=50", sql=True),
        Scenario("report_province", "monthly report, province",
                 f"{report}&unit_id={ctx['province']}", sql=True),
        Scenario("report_country", "monthly report, country", report, sql=True),
        Scenario("official", "create an official `POST /officials`", "/api/v1/officials", "POST", records=1,
                 shape="official", script="official_create.sql"),
        Scenario("record", "record one `POST /citizen-accounts`", "/api/v1/citizen-accounts", "POST", records=1),
        Scenario("record_batch", f"record a batch of {BATCH} `POST /citizen-accounts/batch`",
                 "/api/v1/citizen-accounts/batch", "POST", records=BATCH),
        # Last: a flood of logins leaves the process larger than anything else does, and the peak
        # memory of the scenarios after it would show that instead of their own.
        Scenario("login", "login `POST /auth/token`", "/api/v1/auth/token", "POST", auth=False, body=login),
    ]


# ---------------------------------------------------------------- processes and cleanup

CHILDREN = []


def stop(process):
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def on_signal(number, _frame):
    raise SystemExit(f"stopped by signal {number}")


def run(command, env=None, check=True):
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise SystemExit(f"{shlex.join(command)} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return result


def psql(database, sql):
    return run(["psql", "-v", "ON_ERROR_STOP=1", f"{PG}/{database}", "-Atqc", sql]).stdout.strip()


def say(message):
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the server and its API

class Api:
    def __init__(self, base, token=None):
        self.base, self.token = base, token

    def call(self, method, path, body=None, content_type="application/json", token=True):
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("content-type", content_type)
        if token and self.token:
            request.add_header("authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=600) as response:
                return response.status, decode(response.read())
        except urllib.error.HTTPError as error:
            return error.code, decode(error.read())

    def ok(self, method, path, body=None, content_type="application/json"):
        status, answer = self.call(method, path, body, content_type)
        if not 200 <= status < 300:
            raise SystemExit(f"{method} {path}: {status} {answer}")
        return answer


def decode(raw):
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return raw.decode(errors="replace")


def server_env(database_url):
    return dict(os.environ, DVC_LISTEN=ADDRESS, DVC_DATABASE_URL=database_url, DVC_LOG="warn",
                DVC_TOKEN_TTL_SECONDS="7200", DVC_NEW_USER_PASSWORD=PASSWORD)


def start_server(database_url):
    process = subprocess.Popen([BINARY, "serve"], env=server_env(database_url),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    CHILDREN.append(process)
    wait_http(f"http://{ADDRESS}/healthz", process)
    api = Api(f"http://{ADDRESS}")
    api.token = api.ok("POST", "/api/v1/auth/token", {"username": USERNAME, "password": PASSWORD})["access_token"]
    return process, api


def wait_http(url, process):
    for _ in range(600):
        if process.poll() is not None:
            raise SystemExit(f"{url}: the process exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


# ---------------------------------------------------------------- preparing the data

def seed_available():
    return subprocess.run([BINARY, "seed", "--help"], capture_output=True).returncode == 0


def prepare(database_url):
    """The country's units, an admin, and a province's officials and records: by `dvc-api seed` when the
    binary has it, else through the API. Returns how the data was made."""
    env = server_env(database_url)
    units = [BINARY, "import-units", os.path.join(ROOT, "data", "dvhc", "units-2025-01-04.csv")]
    if seed_available():
        # The seed fills only an empty database; the other provinces' units come after it (the
        # import leaves the seeded province's units as they are).
        say(f"  dvc-api seed --profile province --records {RECORDS}")
        run([BINARY, "seed", "--profile", "province", "--records", str(RECORDS)], env=env)
        say("  importing the country's units")
        run(units, env=env)
        run([BINARY, "create-user", "--username", USERNAME, "--role", "admin"], env=env)
        return f"`dvc-api seed --profile province --records {RECORDS}`, then the country's units"
    say("  importing the country's units")
    run(units, env=env)
    run([BINARY, "create-user", "--username", USERNAME, "--role", "admin"], env=env)
    process, api = start_server(database_url)
    try:
        seed_through_api(api)
    finally:
        stop(process)
    return f"through the API: one official with a grant per commune of province {PROVINCE}, {RECORDS:,} records in batches"


def seed_through_api(api):
    province = api.ok("GET", f"/api/v1/units?kind=province&code={PROVINCE}")["items"][0]
    communes = []
    for district in api.ok("GET", f"/api/v1/units?parent_id={province['id']}&limit=500")["items"]:
        communes += [unit["id"] for unit in api.ok("GET", f"/api/v1/units/{district['id']}/children?limit=500")["items"]]
    say(f"  {len(communes)} officials with grants")
    officials = []
    for index, commune in enumerate(communes):
        official = api.ok("POST", "/api/v1/officials", {
            "full_name": NAMES[index % len(NAMES)], "unit_id": commune, "id_number": f"052085{index:06}",
            "phone": f"0972{index:06}", "portal_account": "created"})["id"]
        api.ok("POST", "/api/v1/grants", {"official_id": official, "basis": "125/QĐ-TTPVHCC", "valid_from": "2021-07-01"})
        officials.append(official)
    say(f"  {RECORDS:,} citizen-account records")
    for start in range(0, RECORDS, 10_000):
        lines = []
        for serial in range(start, min(RECORDS, start + 10_000)):
            # Spread over the officials, the months January to October 2025 and the kinds; one in seven failed.
            record = {
                "full_name": NAMES[serial % len(NAMES)], "id_number": id_number(serial // 1_000_000, serial % 1_000_000),
                "phone": f"0905{serial % 1_000_000:06}", "account_kind": ("vneid_level2", "vneid_level1", "dvc_portal")[serial % 3],
                "outcome": "created", "official_id": officials[serial % len(officials)],
                "registered_at": f"2025-{1 + serial % 10:02}-{1 + serial % 28:02}T0{serial % 9}:00:00Z"}
            if serial % 7 == 0:
                record.update(outcome="failed", failure_reason="otp_expired")
            lines.append(json.dumps(record, ensure_ascii=False))
        answer = api.ok("POST", "/api/v1/citizen-accounts/batch", "\n".join(lines).encode(), "application/x-ndjson")
        if answer.get("created") != len(lines):
            raise SystemExit(f"the seed batch recorded {answer.get('created')} of {len(lines)}")


def context(api):
    """The ids the scenarios use, found through the API so that any seed will do: an official holding
    a grant, its commune and province, and the month of the newest record."""
    grant = api.ok("GET", "/api/v1/grants?limit=1")["items"][0]
    official = api.ok("GET", f"/api/v1/officials/{grant['official_id']}")
    commune = api.ok("GET", f"/api/v1/units/{official['unit_id']}")
    ancestry = commune["path"].strip("/").split("/")
    province = ancestry[0]
    newest = api.ok("GET", "/api/v1/citizen-accounts?limit=1")["items"]
    registered = newest[0]["registered_at"] if newest else REGISTERED_AT
    moment = datetime.datetime.fromisoformat(registered.replace("Z", "+00:00")) + datetime.timedelta(hours=7)
    return {"official": official["id"], "commune": commune["id"], "ancestry": ancestry, "province": province,
            "actor": api.ok("GET", "/api/v1/auth/me")["id"], "period": moment.strftime("%Y-%m")}


# ---------------------------------------------------------------- statements for pgbench

LOG_ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[\d+\] ")
PARAMETER = re.compile(r"\$(\d+) = ('(?:[^']|'')*'|NULL)")
UUID_LITERAL = re.compile(r"'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'")


def log_entries(offset):
    """The log entries of the bench database written after `offset`, each from its severity on."""
    with open(PG_LOG, "rb") as log:
        log.seek(offset)
        text = log.read().decode(errors="replace")
    entries = []
    for line in text.splitlines():
        if LOG_ENTRY.match(line):
            entries.append(line)
        elif entries:
            entries[-1] += " " + line.strip()
    marker = f"@{PG_DATABASE} "
    return [entry.split(marker, 1)[1] for entry in entries if marker in entry]


def statements(entries):
    """The statements one request ran, with their parameters written in as literals, and the pgbench
    variables (`-D name=value`) that stand for the literals holding a colon: pgbench would take
    `:00` in a quoted time for a variable of its own."""
    found, variables, executed = [], {}, False

    def literal(value):
        # A bound UUID keeps its type as a literal only where the statement implies it; in a VALUES
        # list it would be text, and the join comparing it with a uuid column would fail.
        if UUID_LITERAL.fullmatch(value):
            return f"CAST({value} AS uuid)"
        if value == "NULL" or ":" not in value:
            return value
        name = f"v{len(variables) + 1}"
        variables[name] = value[1:-1].replace("''", "'")
        return f":{name}"

    for entry in entries:
        detail = re.match(r"DETAIL:\s+parameters: (.*)$", entry)
        if detail and executed:
            values = dict(PARAMETER.findall(detail.group(1)))
            found[-1] = re.sub(r"\$(\d+)\b", lambda m: literal(values[m.group(1)]) if m.group(1) in values else m.group(0),
                               found[-1])
        if detail:
            continue
        # Parse and bind are logged too; only what was executed counts.
        statement = re.match(r"LOG:\s+duration: [\d.]+ ms\s+(?:statement|execute [^:]*):\s(.*)$", entry)
        executed = bool(statement)
        if statement:
            found.append(statement.group(1).strip())
    return [" ".join(sql.split()) for sql in found], variables


def same_in_both(first, second):
    """The second capture's statements that the first has too, by their text without literals: what
    a background task of the server (the webhook worker, the key refresh) ran in the same moment
    is left out, since it seldom runs during both."""
    shape = lambda sql: re.sub(r"'(?:[^']|'')*'|:v\d+", "?", sql)
    seen = [shape(sql) for sql in first[0]]
    kept = []
    for sql in second[0]:
        if shape(sql) in seen:
            seen.remove(shape(sql))
            kept.append(sql)
    return kept, second[1]


def capture_statements(database_url, cases):
    """Runs each read once with every statement of the bench database logged, and writes what it ran
    to bench/pgbench/<scenario>.sql. The setting is the bench database's own and is reset after."""
    psql("postgres", f"ALTER DATABASE {PG_DATABASE} SET log_min_duration_statement = 0")
    process = None
    try:
        process, api = start_server(database_url)
        for case in cases:
            api.call(case.method, case.path)  # the first request warms the caches
            captures = []
            for _ in range(2):
                offset = os.path.getsize(PG_LOG)
                status, _ = api.call(case.method, case.path)
                time.sleep(0.5)
                captures.append(statements(log_entries(offset)))
            sql, variables = same_in_both(*captures)
            path = os.path.join(PGBENCH_DIR, f"{case.key}.sql")
            if os.path.exists(path):
                os.remove(path)
            if 200 <= status < 300 and sql:
                with open(path, "w") as out:
                    out.write(f"-- The statements the server ran for one {case.method} {case.path.split('?')[0]}, "
                              "from PostgreSQL's statement log; bench/run.sh rewrites this file on every run.\n")
                    out.writelines(f"-- pgbench -D {name}={value}\n" for name, value in variables.items())
                    out.writelines(f"{sql};\n" for sql in sql)
                case.pgbench = (path, variables, len(sql))
    finally:
        stop(process)
        psql("postgres", f"ALTER DATABASE {PG_DATABASE} RESET log_min_duration_statement")


def written_script(case, ctx):
    """A hand-written pgbench script for `case`, with the ids of this database its statements name."""
    if not case.script:
        return None
    path = os.path.join(PGBENCH_DIR, case.script)
    with open(path) as script:
        count = sum(1 for line in script if line.strip() and not line.startswith(("--", "\\")))
    variables = {"unit": ctx["commune"], "path": "{" + ",".join(ctx["ancestry"]) + "}", "actor": ctx["actor"]}
    return path, variables, count


def pgbench(script):
    path, variables, count = script
    defines = [argument for name, value in variables.items() for argument in ("-D", f"{name}={value}")]
    result = run(["pgbench", "-n", "-M", "prepared", "-c", str(CONNECTIONS), "-j", str(THREADS),
                  "-T", str(parse_seconds(DURATION)), *defines, "-f", path, f"{PG}/{PG_DATABASE}"], check=False)
    match = re.search(r"tps = ([\d.]+)", result.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", result.stdout)
    if result.returncode != 0 or not match:
        return {"error": (result.stderr or result.stdout).strip().splitlines()[-1:]}
    return {"tps": float(match.group(1)), "failed": int(failed.group(1)) if failed else 0, "statements": count}


def parse_seconds(duration):
    units = {"s": 1, "m": 60, "h": 3600}
    return int(duration[:-1]) * units[duration[-1]] if duration[-1] in units else int(duration)


# ---------------------------------------------------------------- load generators

class RssSampler:
    """The peak resident memory of a process while the load runs, sampled every 100 ms."""

    def __init__(self, pid):
        self.pid, self.peak, self.running = pid, 0, True
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self):
        while self.running:
            try:
                with open(f"/proc/{self.pid}/status") as status:
                    for line in status:
                        if line.startswith("VmRSS:"):
                            self.peak = max(self.peak, int(line.split()[1]))
            except OSError:
                return
            time.sleep(0.1)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.running = False
        self.thread.join()


BLOCKS = iter(range(10, 200, THREADS))  # ID-number blocks for the records written under load; 0-9 are the seed's


def wrk(url, case, ctx, token):
    env = dict(os.environ, BENCH_METHOD=case.method)
    if case.auth and token:
        env["BENCH_TOKEN"] = token
    if case.body:
        env["BENCH_BODY"] = case.body
    if case.records:
        env.update(BENCH_RECORDS=str(case.records), BENCH_OFFICIAL=ctx["official"], BENCH_REGISTERED_AT=REGISTERED_AT,
                   BENCH_BLOCK=str(next(BLOCKS)), BENCH_SHAPE=case.shape, BENCH_UNIT=ctx["commune"])
    # wrk's own timeout (2 s) would drop the slow batches from the count and the latencies.
    result = run(["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{DURATION}", "--timeout", "30s", "-s", LUA, url], env=env)
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    seconds = summary["duration_us"] / 1e6
    errors = summary["connect_errors"] + summary["read_errors"] + summary["write_errors"] + summary["timeouts"]
    return {"rps": summary["requests"] / seconds, "ok_rps": (summary["requests"] - summary["non_2xx"]) / seconds,
            "requests": summary["requests"], "non_2xx": summary["non_2xx"], "socket_errors": errors,
            "p50_ms": summary["p50_us"] / 1000, "p99_ms": summary["p99_us"] / 1000}


def id_number(block, serial):
    """A valid 12-digit ID number, distinct for every block (0-199) and serial (below a million): birth
    province 052, a century/sex digit and a birth year that together name the block, then the serial
    (bench/wrk/requests.lua makes them the same way)."""
    return f"052{block // 100}{block % 100:02}{serial:06}"


def record_lines(block, count, case, ctx):
    """Request bodies for oha, one a line, each with ID numbers of its own; oha picks lines at random, so
    some are sent twice and answered as duplicates (counted as non-2xx or in the batch answer)."""
    serial = 0
    for _ in range(count):
        records = []
        for _ in range(case.records):
            serial += 1
            person = {"full_name": "Trần Thị Bích", "id_number": id_number(block, serial),
                      "phone": f"0905{serial % 1_000_000:06}"}
            if case.shape == "official":
                person["unit_id"] = ctx["commune"]
            else:
                person.update(account_kind="vneid_level2", outcome="created", official_id=ctx["official"],
                              registered_at=REGISTERED_AT)
            records.append(person)
        yield json.dumps(records[0] if case.records == 1 else records, ensure_ascii=False)


def oha(url, case, ctx, token, rate, work):
    command = ["oha", "-z", DURATION, "-c", str(CONNECTIONS), "-q", str(rate), "--latency-correction", "--no-tui",
               "--output-format", "json", "-m", case.method]
    if case.auth and token:
        command += ["-H", f"authorization: Bearer {token}"]
    if case.body:
        command += ["-T", "application/json", "-d", case.body]
    if case.records:
        # Enough distinct bodies that repeats stay rare: twenty times the requests the rate allows,
        # within one block of a million ID numbers.
        count = min(20 * rate * parse_seconds(DURATION), 1_000_000 // case.records)
        path = os.path.join(work, f"{case.key}.lines")
        with open(path, "w") as out:
            out.writelines(line + "\n" for line in record_lines(next(BLOCKS), count, case, ctx))
        command += ["-T", "application/json", "-Z", path]
    result = run(command + [url])
    answer = json.loads(result.stdout)
    statuses = answer.get("statusCodeDistribution", {})
    total = sum(statuses.values())
    ok = sum(count for status, count in statuses.items() if status.startswith("2"))
    return {"rate": rate, "rps": answer["summary"]["requestsPerSec"], "requests": total, "non_2xx": total - ok,
            # Requests still under way when the time is up are not failures.
            "errors": sum(count for error, count in answer.get("errorDistribution", {}).items()
                          if error != "aborted due to deadline"),
            "p50_ms": milliseconds(answer["latencyPercentiles"]["p50"]),
            "p99_ms": milliseconds(answer["latencyPercentiles"]["p99"])}


def milliseconds(seconds):
    """None when no request completed."""
    return None if seconds is None else seconds * 1000


# ---------------------------------------------------------------- the peer

def start_peer(work):
    env = dict(os.environ, PLT_DATABASE_URL=f"{PG}/{PG_DATABASE}", PLT_SERVER_PORT=str(PEER_PORT))
    log_path = os.path.join(work, "peer.log")
    with open(log_path, "w") as log:
        process = subprocess.Popen([os.path.join(PEER_DIR, "node_modules", ".bin", "plt-db"), "start"], cwd=PEER_DIR,
                                   env=env, stdout=log, stderr=subprocess.STDOUT)
    CHILDREN.append(process)
    try:
        wait_http(f"http://127.0.0.1:{PEER_PORT}/units?limit=1", process)
    except SystemExit:
        stop(process)
        with open(log_path) as log:
            raise SystemExit("the peer did not start:\n" + log.read()[-2000:])
    return process


def peer_version():
    with open(os.path.join(PEER_DIR, "node_modules", "@platformatic", "db", "package.json")) as manifest:
        return json.load(manifest)["version"]


# ---------------------------------------------------------------- one backend

def measure_backend(backend, work):
    if backend == "postgres":
        psql("postgres", f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        psql("postgres", f"CREATE DATABASE {PG_DATABASE}")
        database_url = f"{PG}/{PG_DATABASE}"
    else:
        database_url = f"sqlite://{work}/dvc.sqlite?mode=rwc"
    say(f"{backend}: preparing")
    seeded = prepare(database_url)
    process, api = start_server(database_url)
    try:
        ctx = context(api)
        cases = [case for case in scenarios(ctx) if not ONLY or case.key in ONLY]
        for case in cases:
            case.pgbench = written_script(case, ctx) if backend == "postgres" else None
        stop(process)
        if backend == "postgres":
            psql(PG_DATABASE, "VACUUM ANALYZE")
            capture_statements(database_url, [case for case in cases if case.sql])
        process, api = start_server(database_url)
        peer = start_peer(work) if backend == "postgres" and any(case.peer for case in cases) else None
        results = [measure_case(backend, case, ctx, api, process, peer, work) for case in cases]
        # pgbench runs with the servers stopped, so that their idle connections leave it room.
        stop(peer)
        stop(process)
        for case, result in zip(cases, results):
            if case.pgbench and "unavailable" not in result:
                say(f"{backend}: pgbench {case.key}")
                result["pgbench"] = pgbench(case.pgbench)
                say(f"  {result['pgbench']}")
        return {"backend": backend, "seeded": seeded, "context": ctx, "results": results}
    finally:
        stop(process)
        if backend == "postgres" and not KEEP:
            psql("postgres", f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")


def measure_case(backend, case, ctx, api, process, peer, work):
    say(f"{backend}: {case.key}")
    url = f"http://{ADDRESS}{case.path}"
    result = {"key": case.key, "title": case.title, "path": case.path.split("?")[0], "method": case.method}
    status, answer = api.call(case.method, case.path, probe_body(case, ctx), token=case.auth)
    if not 200 <= status < 300:
        detail = answer.get("detail", "") if isinstance(answer, dict) else ""
        result["unavailable"] = f"answers {status}" + (f": {detail}" if detail else "")
        say(f"  not available: {result['unavailable']}")
        return result
    token = api.token if case.auth else None
    with RssSampler(process.pid) as rss:
        result["wrk"] = wrk(url, case, ctx, token)
        rate = max(1, round(result["wrk"]["ok_rps"] / 2))
        result["oha"] = oha(url, case, ctx, token, rate, work)
    result["rss_mib"] = rss.peak / 1024
    if peer and case.peer:
        with RssSampler(peer.pid) as peer_rss:
            result["peer"] = wrk(f"http://127.0.0.1:{PEER_PORT}{case.peer}", Scenario(case.key, "", case.peer, auth=False),
                                 ctx, None)
        result["peer"]["rss_mib"] = peer_rss.peak / 1024
    say("  " + json.dumps({key: value for key, value in result.items() if key in ("wrk", "oha", "peer")}))
    return result


def probe_body(case, ctx):
    if case.body:
        return case.body.encode()
    if case.records:
        # Records of a block that no load run uses, so that the probe is not a duplicate.
        return next(record_lines(9, 1, case, ctx)).encode()
    return None


# ---------------------------------------------------------------- the report

def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    memory = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    def version(command):
        try:
            output = subprocess.run(command, capture_output=True, text=True)
            return (output.stdout or output.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"
    return {
        "cpus": os.cpu_count(), "cpu": cpu, "memory_gib": round(memory / 1024 / 1024), "kernel": platform.release(),
        "os": next((line.split("=", 1)[1].strip().strip('"') for line in open("/etc/os-release") if line.startswith("PRETTY_NAME")), "?"),
        "rustc": version(["rustc", "--version"]), "wrk": version(["wrk", "-v"]).split(" [")[0],
        "oha": version(["oha", "--version"]), "pgbench": version(["pgbench", "--version"]),
        "postgres": psql("postgres", "SHOW server_version"), "sqlite": sqlite3.sqlite_version,
        "node": version(["node", "--version"]), "peer": f"@platformatic/db {peer_version()}",
    }


def number(value, digits=0):
    return f"{value:,.{digits}f}"


def ratio(a, b):
    return f"{a / b:.2f}×" if a and b else "–"


def table_rows(run):
    rows = []
    for result in run["results"]:
        name = BACKEND_NAMES[run["backend"]]
        if "unavailable" in result:
            rows.append(f"| {result['title']} | {name} | not available ({result['unavailable']}) | | | | | | | |")
            continue
        w, o = result["wrk"], result["oha"]
        notes = []
        if w["non_2xx"]:
            notes.append(f"wrk: {number(w['non_2xx'])} of {number(w['requests'])} not 2xx")
        if w["socket_errors"]:
            notes.append(f"wrk: {number(w['socket_errors'])} socket errors or timeouts")
        if o["non_2xx"] or o["errors"]:
            notes.append(f"oha: {number(o['non_2xx'])} of {number(o['requests'])} not 2xx, {o['errors']} errors")
        pg = result.get("pgbench", {})
        if "error" in pg:
            notes.append("pgbench failed: " + " ".join(pg["error"]))
        if "tps" in pg:
            notes.append(f"{pg['statements']} statement{'s' if pg['statements'] != 1 else ''} a request")
        if result.get("peer"):
            notes.append(f"peer RSS {result['peer']['rss_mib']:.0f} MiB")
        peer = result.get("peer", {})
        rps = number(w["ok_rps"])
        if result["key"] == "record_batch":
            rps += f" ({number(w['ok_rps'] * BATCH)} records/s)"
        rows.append("| " + " | ".join([
            result["title"], name, rps, latency(o),
            number(pg["tps"]) if "tps" in pg else "", number(peer["ok_rps"]) if peer else "",
            ratio(w["ok_rps"], peer.get("ok_rps")) if peer else "", ratio(w["ok_rps"], pg.get("tps")) if "tps" in pg else "",
            f"{result['rss_mib']:.0f} MiB", "; ".join(notes)]) + " |")
    return rows


def latency(oha_result):
    if oha_result["p50_ms"] is None:
        return f"none completed at {number(oha_result['rate'])}/s"
    return f"{oha_result['p50_ms']:.2f} / {oha_result['p99_ms']:.2f} ms at {number(oha_result['rate'])}/s"


def render(runs, info, started, load_start, load_end, commit):
    busy = max(float(value) for value in (load_start + " " + load_end).split()) > info["cpus"]
    lines = [BEGIN, "",
             f"Measured {started:%Y-%m-%d %H:%M} UTC at commit `{commit}` by `bash bench/run.sh` "
             f"(BENCH_DURATION={DURATION}, {CONNECTIONS} connections, {THREADS} threads).", "",
             f"- Machine: {info['cpus']} cores ({info['cpu']}), {info['memory_gib']} GiB, {info['os']}, "
             f"Linux {info['kernel']}; shared: the server, the database and the load generator run on the same cores, "
             f"and other people's builds may too. Load average at the start {load_start}, at the end {load_end}"
             + (": the machine was busy with other work, so this run is noisy." if busy else "."),
             "- Peak RSS: the server's highest resident memory sampled during the scenario's wrk and oha runs; one "
             "server serves a database's scenarios in the order of the table, so memory kept from one shows in the next.",
             f"- Tools: {info['rustc']}, {info['wrk']}, {info['oha']}, {info['pgbench']}, PostgreSQL {info['postgres']}, "
             f"SQLite {info['sqlite']}, Node {info['node']}, {info['peer']}.",
             ]
    for run in runs:
        ctx = run["context"]
        lines.append(f"- Data ({BACKEND_NAMES[run['backend']]}): the country's 10,810 units; {run['seeded']}; reports for {ctx['period']}.")
    lines += ["",
              "| scenario | database | wrk req/s (max) | oha p50 / p99 at a fixed rate | pgbench tps, same SQL | "
              "peer req/s | dvc / peer | dvc / pgbench | peak RSS | notes |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for run in runs:
        lines += table_rows(run)
    lines += ["", "Commands, per scenario (the token is an admin's, `…` the run's ids):", "", "```sh",
              f"wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION} --timeout 30s -s bench/wrk/requests.lua http://{ADDRESS}/api/v1/…   "
              "# BENCH_TOKEN, BENCH_METHOD, BENCH_BODY, BENCH_RECORDS… in the environment",
              f"oha -z {DURATION} -c {CONNECTIONS} -q <half the wrk req/s> --latency-correction --no-tui --output-format json "
              "-m <method> -H 'authorization: Bearer …' [-d <body> | -Z <one unique body a line>] http://…",
              f"pgbench -n -M prepared -c {CONNECTIONS} -j {THREADS} -T {parse_seconds(DURATION)} [-D v1=…] -f bench/pgbench/<scenario>.sql "
              f"{PG}/{PG_DATABASE}",
              f"wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION} --timeout 30s -s bench/wrk/requests.lua http://127.0.0.1:{PEER_PORT}/units/…   "
              "# the peer: cd bench/peer && npx plt-db start", "```", "", END]
    return "\n".join(lines)


def write_benchmarks(section):
    path = os.path.join(ROOT, "BENCHMARKS.md")
    with open(path) as current:
        text = current.read()
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + section + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    with open(path, "w") as out:
        out.write(text)


def main():
    for number_ in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number_, on_signal)
    started = datetime.datetime.now(datetime.timezone.utc)
    load_start = " ".join(f"{value:.2f}" for value in os.getloadavg())
    commit = run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).stdout.strip()
    dirty = run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"]).stdout.strip()
    commit += " (with local changes)" if dirty else ""
    say(f"load average at the start: {load_start}")
    os.makedirs(PGBENCH_DIR, exist_ok=True)
    work = tempfile.mkdtemp(prefix="dvc-bench-")
    try:
        runs = [measure_backend(backend, work) for backend in BACKENDS]
    finally:
        for process in CHILDREN:
            stop(process)
        subprocess.run(["rm", "-rf", work])
    load_end = " ".join(f"{value:.2f}" for value in os.getloadavg())
    info = machine()
    section = render(runs, info, started, load_start, load_end, commit)
    os.makedirs(os.path.join(ROOT, "target", "bench"), exist_ok=True)
    with open(os.path.join(ROOT, "target", "bench", f"run-{started:%Y%m%dT%H%M%S}.json"), "w") as out:
        json.dump({"machine": info, "runs": runs, "load": [load_start, load_end]}, out, indent=1, ensure_ascii=False)
    print(section)
    if WRITE:
        write_benchmarks(section)


if __name__ == "__main__":
    main()
