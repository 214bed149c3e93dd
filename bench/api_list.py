#!/usr/bin/env python3
"""Server time to render page 1 of the API List for a group of 10,000 APIs.

Starts a Gantry binary on a fresh data dir, creates a group through the REST API, loads
10,000 APIs straight into its SQLite file (the REST API would take minutes, checking route
conflicts on every insert), then times, from the client side over loopback:

- `GET /groups/big`: the server-rendered API List page (SSR runs the same `list_apis` service
  the hydrated page calls), and
- `GET /api/admin/v1/groups/big/apis?page=1&per_page=20`: the REST twin,

each N times after a warm-up, and prints median and p95. Goal (issue 3): page 1 <= 50 ms.

Usage: bench/api_list.py [path/to/gantry] (default target/perf/gantry)
"""

import http.cookiejar
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

BINARY = sys.argv[1] if len(sys.argv) > 1 else "target/perf/gantry"
APIS = 10_000
RUNS = 50
CONSOLE = "127.0.0.1:3390"


def main():
    data = tempfile.mkdtemp(prefix="gantry-bench-")
    env = dict(os.environ, GANTRY_DATA_DIR=data, GANTRY_CONSOLE_ADDR=CONSOLE, GANTRY_GATEWAY_ADDR="127.0.0.1:8390",
               GANTRY_ADMIN_PASSWORD="bench-password", GANTRY_LOG="warn")
    server = subprocess.Popen([BINARY, "serve"], env=env)
    try:
        wait_for(f"http://{CONSOLE}/login")
        token = subprocess.run([BINARY, "token", "create", "--name", "bench"], env=env, check=True,
                               capture_output=True, text=True).stdout.strip()
        rest = lambda method, path, body=None: call(method, f"http://{CONSOLE}/api/admin/v1{path}", token, body)
        rest("POST", "/groups", {"name": "big", "subdomain": "big"})
        load_apis(os.path.join(data, "gantry.db"))

        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        form = b"username=admin&password=bench-password"
        browser.open(urllib.request.Request(f"http://{CONSOLE}/auth/login", data=form))
        page = timed(lambda: browser.open(f"http://{CONSOLE}/groups/big").read())
        api = timed(lambda: rest("GET", "/groups/big/apis?page=1&per_page=20"))
        total = rest("GET", "/groups/big/apis?per_page=1")["total"]
        assert total == APIS, total
        html = browser.open(f"http://{CONSOLE}/groups/big").read().decode()
        assert "Page 1 of 500" in html, "the page did not render the list"

        rows = [("API List page 1 (SSR HTML)", page), ("REST list_apis page 1", api)]
        print(f"API List with {APIS:,} APIs, {RUNS} runs each, {os.path.basename(BINARY)} ({BINARY})")
        print("| what | median ms | p95 ms | goal | met |")
        print("|---|---|---|---|---|")
        for name, samples in rows:
            median = statistics.median(samples)
            p95 = sorted(samples)[int(len(samples) * 0.95) - 1]
            print(f"| {name} | {median:.1f} | {p95:.1f} | <= 50 ms | {'yes' if median <= 50 else 'no'} |")
    finally:
        server.terminate()
        server.wait()


def wait_for(url):
    for _ in range(200):
        try:
            urllib.request.urlopen(url)
            return
        except Exception:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not come up")


def call(method, url, token, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        text = response.read()
        return json.loads(text) if text else None


def load_apis(db_path):
    db = sqlite3.connect(db_path, timeout=10)
    group_id = db.execute("SELECT id FROM api_groups WHERE name = 'big'").fetchone()[0]
    now = "2026-11-22T00:00:00+00:00"
    rows = []
    for i in range(APIS):
        spec = {"name": f"api-{i:05}", "description": "", "auth": "none",
                "request": {"method": "GET", "path": f"/items/{i}/{{id}}", "mode": "passthrough",
                            "params": [{"name": "id", "in": "path", "type": "int", "required": True}]},
                "backend": {"unified": True, "type": "http", "http": {"mapping": [], "constants": [], "system": []},
                            "mock": {"status": 200, "headers": [], "body": ""}, "function": {"code": ""}},
                "response": {"content_type": "application/json", "success_example": "", "error_example": ""}}
        rows.append((group_id, spec["name"], "GET", spec["request"]["path"], json.dumps(spec), now, now, "bench"))
    db.executemany("INSERT INTO apis (group_id, name, method, path, definition, created_at, updated_at, updated_by) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()


def timed(action):
    for _ in range(5):
        action()
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


if __name__ == "__main__":
    main()
