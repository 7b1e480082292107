#!/usr/bin/env python3
"""Measures importing a 5,000-row roster (Appendix 2 form as CSV and as XLSX is left to the tests)
against a baseline measured in the same run: the same 5,000 rows sent as a JSON roster. Both go
through the same row checks and storage; the ratio shows what reading the form costs on top.

    python3 bench/roster-import.py [RUNS]    (default 5; needs a release build: cargo build --release -p dvc-api)
"""
import json, os, statistics, subprocess, sys, tempfile, time, urllib.request

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
ROWS = 5000
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "dvc-api")
ADDRESS = "127.0.0.1:18181"
PASSWORD = "benchmark-password"


def call(method, path, token=None, body=None, content_type="application/json"):
    request = urllib.request.Request(f"http://{ADDRESS}{path}", data=body, method=method)
    request.add_header("content-type", content_type)
    if token:
        request.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read() or b"null")


def wait_until_up():
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://{ADDRESS}/healthz", timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def timed(send):
    start = time.monotonic()
    send()
    return time.monotonic() - start


def main():
    work = tempfile.mkdtemp()
    env = dict(os.environ, DVC_LISTEN=ADDRESS, DVC_DATABASE_URL=f"sqlite://{work}/dvc.sqlite?mode=rwc",
               DVC_ADMIN_PASSWORD=PASSWORD, DVC_LOG="warn")
    server = subprocess.Popen([BINARY], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up()
        token = call("POST", "/api/v1/auth/token", body=json.dumps({"username": "admin", "password": PASSWORD}).encode())["access_token"]
        def unit(code, name, kind, parent=None):
            body = {"code": code, "name": name, "kind": kind, "parent_id": parent}
            return call("POST", "/api/v1/units", token, json.dumps(body).encode())["id"]
        province = unit("52", "Tỉnh Bình Định", "province")
        district = unit("540", "Huyện An Lão", "district", province)
        unit("21610", "Xã An Hưng", "commune", district)

        rows = [(i + 1, "Nguyễn Văn An", "BPMC xã An Hưng", f"0520900{i:05}", f"0972{i:06}") for i in range(ROWS)]
        csv_form = "Đơn vị cung cấp: UBND huyện An Lão,,,,\nSTT,Họ và tên,Đơn vị,CMND/CCCD,Số điện thoại\n" + "".join(
            f"{stt},{name},{unit_name},{id_number},{phone}\n" for stt, name, unit_name, id_number, phone in rows)
        json_roster = json.dumps({"unit_id": district, "entries": [
            {"row": stt, "full_name": name, "unit_name": unit_name, "id_number": id_number, "phone": phone}
            for stt, name, unit_name, id_number, phone in rows]}).encode()

        csv_times, json_times = [], []
        for _ in range(RUNS):
            csv_times.append(timed(lambda: call("POST", f"/api/v1/rosters/import?unit_id={district}", token, csv_form.encode(), "text/csv")))
            json_times.append(timed(lambda: call("POST", "/api/v1/rosters", token, json_roster)))
    finally:
        server.terminate()
        server.wait()
    mc, mj = statistics.median(csv_times), statistics.median(json_times)
    print(f"CSV form import, {ROWS} rows:      median {mc:.3f} s over {RUNS} runs {sorted(round(t, 3) for t in csv_times)}")
    print(f"baseline JSON roster, same rows:  median {mj:.3f} s over {RUNS} runs {sorted(round(t, 3) for t in json_times)}")
    print(f"ratio: {mc / mj:.2f}x the baseline")


if __name__ == "__main__":
    main()
