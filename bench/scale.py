#!/usr/bin/env python3
"""Route scale, release latency and switch under load (issue 11), in one run.

Method
- Backend: nginx serving a 1 KiB body with keep-alive, pinned to core 1; Gantry pinned to
  core 0; wrk (1 thread, 32 connections) pinned to core 1.
- Two groups released to Production against the backend: `small` with 10 APIs and `large`
  with 10,000 (`GET /items/{i}/{id}`, loaded straight into the draft table, then frozen and
  released through the REST API). wrk's Lua script spreads requests uniformly over every API
  of the group. Rounds alternate small and large; medians and spread of requests/s.
- Release latency: `large` also has `GET /probe`, a Mock API whose body is the version's
  name. 100 switches alternate versions 1 and 2 of `large` (10,001 APIs live); for each, the
  REST call's duration, and the time from the call returning to the first gateway response
  that shows the new version (polling /probe); p50 and p99 of both.
- Switch under load: wrk runs against `large` from before the first of 100 switches until
  after the last; failed requests are wrk's non-2xx responses plus socket errors.

Usage: bench/scale.py [path/to/gantry] [rounds] [seconds]   Writes bench/results/scale.md.
"""

import json
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import proxy  # noqa: E402  (shared helpers)

GANTRY, ROUNDS, SECONDS = proxy.GANTRY, proxy.ROUNDS, proxy.SECONDS
BACKEND, CONSOLE, GATEWAY = proxy.BACKEND, proxy.CONSOLE, proxy.GATEWAY
SIZES = {"small": 10, "large": 10_000}
SWITCHES = 100

LUA = r"""
local n = 0
init = function(args) n = tonumber(args[1]) end
request = function()
  return wrk.format("GET", "/items/" .. math.random(0, n - 1) .. "/7")
end
"""


def spec(name, path, body=None):
    mock = body is not None
    return {"name": name, "description": "", "auth": "none",
            "request": {"method": "GET", "path": path, "mode": "passthrough",
                        "params": [{"name": "id", "in": "path", "type": "int", "required": True}] if "{id}" in path else []},
            "backend": {"unified": not mock, "type": "mock" if mock else "http",
                        "http": {"mapping": [], "constants": [], "system": []},
                        "mock": {"status": 200, "headers": [], "body": body or ""}, "function": {"code": ""}},
            "response": {"content_type": "application/json", "success_example": "", "error_example": ""}}


def load(db_path, group, count, probe):
    db = sqlite3.connect(db_path, timeout=10)
    group_id = db.execute("SELECT id FROM api_groups WHERE name = ?", (group,)).fetchone()[0]
    now = "2026-11-22T00:00:00+00:00"
    rows = [(group_id, f"api-{i:05}", "GET", f"/items/{i}/{{id}}", json.dumps(spec(f"api-{i:05}", f"/items/{i}/{{id}}")), now, now, "bench")
            for i in range(count)]
    if probe:
        rows.append((group_id, "probe", "GET", "/probe", json.dumps(spec("probe", "/probe", "version 1")), now, now, "bench"))
    db.executemany("INSERT INTO apis (group_id, name, method, path, definition, created_at, updated_at, updated_by) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()


def set_probe(db_path, body):
    db = sqlite3.connect(db_path, timeout=10)
    db.execute("UPDATE apis SET definition = ? WHERE name = 'probe'", (json.dumps(spec("probe", "/probe", body)),))
    db.commit()
    db.close()


def wrk(script, group, seconds):
    command = ["taskset", "-c", "1", "wrk", "-t1", "-c32", f"-d{seconds}s", "-H", f"Host: {group}.localhost",
               "-s", script, f"http://127.0.0.1:{GATEWAY}/", "--", str(SIZES[group])]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    failed = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    total = int(re.search(r"(\d+) requests in", output).group(1))
    return rate, failed, total


def probe():
    request = urllib.request.Request(f"http://127.0.0.1:{GATEWAY}/probe", headers={"Host": "large.localhost"})
    with urllib.request.urlopen(request) as response:
        return response.read().decode()


def switches(rest, count, timings=None):
    for n in range(count):
        version = "2" if n % 2 == 0 else "1"
        started = time.perf_counter()
        rest("PUT", "/groups/large/deployments/prod", {"version": version, "backend": {"type": "http", "address": f"http://127.0.0.1:{BACKEND}"}})
        returned = time.perf_counter()
        if timings is not None:
            while probe() != f"version {version}":
                pass
            timings.append(((returned - started) * 1000, (time.perf_counter() - returned) * 1000))


def main():
    proxy.ensure_tools()
    work = tempfile.mkdtemp(prefix="gantry-scale-bench-")
    script = os.path.join(work, "spread.lua")
    with open(script, "w") as f:
        f.write(LUA)
    procs = []
    try:
        procs.append(proxy.start_backend(work))
        gantry, rest = proxy.start_gantry(work)
        procs.append(gantry)
        proxy.wait_for(f"http://127.0.0.1:{BACKEND}/bench")
        db = os.path.join(work, "data", "gantry.db")
        release = {"version": "1", "backend": {"type": "http", "address": f"http://127.0.0.1:{BACKEND}"}}
        for group, count in SIZES.items():
            rest("POST", "/groups", {"name": group, "subdomain": group})
            load(db, group, count, probe=group == "large")
            rest("POST", f"/groups/{group}/versions", {"label": "1"})
            if group == "large":
                set_probe(db, "version 2")
                rest("POST", "/groups/large/versions", {"label": "2"})
            rest("PUT", f"/groups/{group}/deployments/prod", release)
            proxy.wait_for(f"http://127.0.0.1:{GATEWAY}/items/{count - 1}/7", {"Host": f"{group}.localhost"})

        scale = {group: {"rate": [], "failed": 0, "cpu_us": [], "busy": []} for group in SIZES}
        for _ in range(ROUNDS):
            for group in SIZES:
                before, started = proxy.cpu_ticks([gantry.pid]), time.perf_counter()
                rate, failed, total = wrk(script, group, SECONDS)
                used = (proxy.cpu_ticks([gantry.pid]) - before) / proxy.TICK
                scale[group]["rate"].append(rate)
                scale[group]["failed"] += failed
                scale[group]["cpu_us"].append(used * 1e6 / max(total, 1))
                scale[group]["busy"].append(used / (time.perf_counter() - started))

        baseline = []
        for _ in range(SWITCHES):
            started = time.perf_counter()
            probe()
            baseline.append((time.perf_counter() - started) * 1000)
        timings = []
        switches(rest, SWITCHES, timings)

        # Load for exactly as long as the switches take: wrk stops and reports on SIGINT.
        command = ["taskset", "-c", "1", "wrk", "-t1", "-c32", "-d600s", "-H", "Host: large.localhost",
                   "-s", script, f"http://127.0.0.1:{GATEWAY}/", "--", str(SIZES["large"])]
        loader = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        time.sleep(1)
        started = time.perf_counter()
        switches(rest, SWITCHES)
        switch_seconds = time.perf_counter() - started
        time.sleep(1)
        loader.send_signal(signal.SIGINT)
        output = loader.communicate(timeout=30)[0]
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
        sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
        result = {
            "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
            "total": int(re.search(r"(\d+) requests in", output).group(1)),
            "failed": (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0),
        }
        report(scale, timings, result, switch_seconds, baseline)
    finally:
        proxy.stop(procs)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def report(scale, timings, load, switch_seconds, baseline):
    median = statistics.median
    small, large = median(scale["small"]["rate"]), median(scale["large"]["rate"])
    call = [t[0] for t in timings]
    visible = [t[1] for t in timings]
    lines = [f"# Route scale, release latency, switch under load ({ROUNDS} alternating rounds of {SECONDS} s)", "",
             f"Binary: `{GANTRY}`. Gateway on core 0; backend (nginx) and wrk (1 thread, 32 connections) on core 1.", "",
             "## Route scale (traffic spread over every API of the group)", "",
             "| APIs live | median req/s | spread req/s | gateway CPU µs/request | gateway core busy | failed |",
             "|---|---|---|---|---|---|"]
    for group, count in SIZES.items():
        r = scale[group]
        lines.append(f"| {count:,} | {median(r['rate']):,.0f} | {min(r['rate']):,.0f}–{max(r['rate']):,.0f} | "
                     f"{median(r['cpu_us']):.1f} | {median(r['busy']):.0%} | {r['failed']} |")
    cpu_ratio = median(scale["large"]["cpu_us"]) / median(scale["small"]["cpu_us"])
    lines += ["", f"- 10,000 / 10 APIs throughput: **{large / small:.2f}** (goal >= 0.95: {'met' if large / small >= 0.95 else 'not met'})",
              f"- Gateway CPU per request, 10,000 / 10 APIs: {cpu_ratio:.2f} (wrk's Lua script makes the load generator "
              "slower than in `proxy.md`; a gateway core below 100 % busy means core 1 bounds the throughput)", "",
              f"## Release latency ({len(timings)} switches, 10,001 APIs live)", "",
              "| measure | p50 ms | p99 ms |", "|---|---|---|",
              f"| REST switch call (commit + recompile + swap) | {percentile(call, 50):.1f} | {percentile(call, 99):.1f} |",
              f"| call returned → first response from the new version | {percentile(visible, 50):.2f} | {percentile(visible, 99):.2f} |",
              f"| one probe request with no switch (the measuring cost) | {percentile(baseline, 50):.2f} | {percentile(baseline, 99):.2f} |",
              "", f"- Release p99 (call returned → served): **{percentile(visible, 99):.2f} ms** (goal <= 20 ms: {'met' if percentile(visible, 99) <= 20 else 'not met'})",
              "", "## Switch under load", "",
              f"- {SWITCHES} switches in {switch_seconds:.1f} s, all during keep-alive load on `large`: "
              f"{load.get('total', 0):,} requests at {load.get('rate', 0):,.0f} req/s, **{load.get('failed', 0)} failed** "
              f"(goal 0: {'met' if load.get('failed', 1) == 0 else 'not met'})"]
    text = "\n".join(lines) + "\n"
    proxy.write_result("scale", text)


if __name__ == "__main__":
    main()
