#!/usr/bin/env python3
"""Measures importing a 5,000-row roster (Appendix 2 form as CSV and as XLSX is left to the tests)
against a baseline measured in the same run: the same 5,000 rows sent as a JSON roster. Both go
through the same row checks and storage; the ratio shows what reading the form costs on top.

    python3 bench/roster-import.py [RUNS]    (default 5; needs a release build: cargo build --release -p dvc-api)
"""
import json, statistics, sys, tempfile, time

from common import Server

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
ROWS = 5000
ADDRESS = "127.0.0.1:18181"


def timed(send):
    start = time.monotonic()
    send()
    return time.monotonic() - start


def main():
    work = tempfile.mkdtemp()
    with Server(ADDRESS, f"sqlite://{work}/dvc.sqlite?mode=rwc") as server:
        def unit(code, name, kind, parent=None):
            return server.post("/api/v1/units", {"code": code, "name": name, "kind": kind, "parent_id": parent})["id"]
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
            csv_times.append(timed(lambda: server.call("POST", f"/api/v1/rosters/import?unit_id={district}", csv_form.encode(), "text/csv")))
            json_times.append(timed(lambda: server.call("POST", "/api/v1/rosters", json_roster)))
    mc, mj = statistics.median(csv_times), statistics.median(json_times)
    print(f"CSV form import, {ROWS} rows:      median {mc:.3f} s over {RUNS} runs {sorted(round(t, 3) for t in csv_times)}")
    print(f"baseline JSON roster, same rows:  median {mj:.3f} s over {RUNS} runs {sorted(round(t, 3) for t in json_times)}")
    print(f"ratio: {mc / mj:.2f}x the baseline")


if __name__ == "__main__":
    main()
