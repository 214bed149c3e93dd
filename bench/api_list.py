#!/usr/bin/env python3
"""Server time to render page 1 of the API List for a group of 10,000 APIs.

Starts a Gantry binary on a fresh data dir, creates a group and seeds 10,000 APIs through
the REST API (`common.seed_apis`: OpenAPI imports), then times, from the client side over
loopback:

- `GET /groups/big`: the server-rendered API List page (SSR runs the same `list_apis` service
  the hydrated page calls), and
- `GET /api/admin/v1/groups/big/apis?page=1&per_page=20`: the REST twin,

each N times after a warm-up, and prints median and p95. Goal (issue 3): page 1 <= 50 ms.

Usage: bench/api_list.py [path/to/gantry] (default target/perf/gantry)
"""

import http.cookiejar
import os
import statistics
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (shared helpers: Gantry, REST, seeding)

BINARY = common.GANTRY
APIS = 10_000
RUNS = 50
CONSOLE = f"127.0.0.1:{common.CONSOLE}"


def main():
    work = tempfile.mkdtemp(prefix="gantry-bench-")
    server, rest = common.start_gantry(work)
    try:
        rest("POST", "/groups", {"name": "big", "subdomain": "big"})
        common.seed_apis(rest, "big", [spec(i) for i in range(APIS)])

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
        common.stop([server])


def spec(i):
    return {"name": f"api-{i:05}", "description": "", "auth": "none",
            "request": {"method": "GET", "path": f"/items/{i}/{{id}}", "mode": "passthrough",
                        "params": [{"name": "id", "in": "path", "type": "int", "required": True}]},
            "response": {"content_type": "application/json", "success_example": "", "error_example": ""}}


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
