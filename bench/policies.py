#!/usr/bin/env python3
"""Traffic policies (issue 20): their cost on the proxy path, and throttling's accuracy.

Method
- Backend: nginx serving 1 KiB on core 1; Gantry on core 0; wrk (1 thread, 32 connections)
  on core 1. Two groups with the same pass-through API `GET /bench` released to Production:
  `plain` with no policy, `guarded` with a throttling policy (100,000 per second for the API:
  never reached) and an IP allow list (127.0.0.0/8, which the caller is in), bound to the API.
  Rounds alternate the two (A B, B A, …); medians and spread of requests/s. Goal: guarded / plain >= 0.95.
- Accuracy: `GET /acc` of `guarded` with 100 per second, offered 1,000 requests per second for
  10 s by hey (10 workers at 100/s each); the responses with status 200 are counted. Goal:
  1,000 +- 1 %.

Usage: bench/policies.py [path/to/gantry] [rounds] [seconds]   Writes bench/results/policies.md.
"""

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (shared helpers: nginx, Gantry, REST, wrk output)

GANTRY, ROUNDS, SECONDS = common.GANTRY, common.ROUNDS, common.SECONDS
GROUPS = ("plain", "guarded")


def wrk(group):
    command = ["taskset", "-c", "1", "wrk", "-t1", "-c32", f"-d{SECONDS}s", "-H", f"Host: {group}.localhost",
               f"http://127.0.0.1:{common.GATEWAY}/bench"]
    return common.wrk_output(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def accuracy():
    if not shutil.which("hey"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "hey"], check=True)
    command = ["taskset", "-c", "1", "hey", "-z", "10s", "-c", "10", "-q", "100", "-host", "guarded.localhost",
               f"http://127.0.0.1:{common.GATEWAY}/acc"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    statuses = {code: int(n) for code, n in re.findall(r"\[(\d+)\]\s+(\d+) responses", output)}
    return statuses.get("200", 0), statuses.get("429", 0), sum(statuses.values())


def main():
    common.ensure_tools()
    work = tempfile.mkdtemp(prefix="gantry-policies-bench-")
    procs, gantry, rest = common.start_backend_and_gantry(work)
    try:
        release = {"version": "1", "backend": {"type": "http", "address": f"http://127.0.0.1:{common.BACKEND}"}}
        ids = {}
        for group in GROUPS:
            rest("POST", "/groups", {"name": group, "subdomain": group})
            ids[group] = rest("POST", f"/groups/{group}/apis", {"name": "Bench", "request": {"method": "GET", "path": "/bench"}})["id"]
            if group == "guarded":
                ids["acc"] = rest("POST", f"/groups/{group}/apis", {"name": "Acc", "request": {"method": "GET", "path": "/acc"}})["id"]
            rest("POST", f"/groups/{group}/versions", {"label": "1"})
            rest("PUT", f"/groups/{group}/deployments/prod", release)
            common.wait_for(f"http://127.0.0.1:{common.GATEWAY}/bench", {"Host": f"{group}.localhost"})
        rest("POST", "/policies", {"name": "roomy", "type": "throttling", "config": {"unit": "second", "api_limit": 100_000}})
        rest("POST", "/policies", {"name": "local", "type": "ip_access", "config": {"mode": "allow", "cidrs": ["127.0.0.0/8"]}})
        rest("POST", "/policies", {"name": "hundred", "type": "throttling", "config": {"unit": "second", "api_limit": 100}})
        for name, api in (("roomy", ids["guarded"]), ("local", ids["guarded"]), ("hundred", ids["acc"])):
            rest("POST", f"/policies/{name}/bindings", {"group": "guarded", "api": api, "env": "prod"})

        results = {group: {"rate": [], "failed": 0} for group in GROUPS}
        for round_ in range(ROUNDS):
            # A B, then B A: neither variant always runs second (a warm-up effect).
            for group in (GROUPS if round_ % 2 == 0 else GROUPS[::-1]):
                rate, _total, failed = wrk(group)
                results[group]["rate"].append(rate)
                results[group]["failed"] += failed
        accepted, refused, total = accuracy()
        report(results, accepted, refused, total)
    finally:
        common.stop(procs)


def report(results, accepted, refused, total):
    median = statistics.median
    plain, guarded = median(results["plain"]["rate"]), median(results["guarded"]["rate"])
    ratio = guarded / plain
    lines = [f"# Traffic policies ({ROUNDS} alternating rounds of {SECONDS} s, 1 KiB body)", "",
             f"Binary: `{GANTRY}`. Gateway on core 0; backend (nginx) and wrk (1 thread, 32 connections) on core 1.", "",
             "| API | median req/s | spread req/s | failed |", "|---|---|---|---|"]
    for group, label in (("plain", "no policy"), ("guarded", "throttling (never reached) + IP allow list")):
        r = results[group]
        lines.append(f"| {label} | {median(r['rate']):,.0f} | {min(r['rate']):,.0f}–{max(r['rate']):,.0f} | {r['failed']} |")
    off = abs(accepted - 1000) / 1000
    lines += ["", f"- With policies / without: **{ratio:.2f}** (goal >= 0.95: {'met' if ratio >= 0.95 else 'not met'})",
              f"- Accuracy, 1,000 req/s offered for 10 s against 100 per second: **{accepted:,} accepted**, {refused:,} refused "
              f"of {total:,} ({off:.1%} off 1,000; goal within 1 %: {'met' if off <= 0.01 else 'not met'})"]
    common.write_result("policies", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
