#!/usr/bin/env python3
"""Added latency at a fixed rate (issue 11): p50 and p99 of the backend called directly,
through nginx as a reverse proxy, and through Gantry, at about half of nginx's maximum.

Method
- Backend: nginx serving a 1 KiB body (core 1). Peer: nginx reverse proxy with upstream
  keep-alive (core 0). Gantry: a released pass-through API (core 0).
- Load: `hey` (Debian's package; installed when missing), 32 keep-alive workers, each limited
  to RATE / 32 requests per second, pinned to core 1. hey is rate-limited, not open-loop: a
  slow response delays the next request of that worker, so tails are under-reported alike
  for every target.
- Rounds alternate direct, nginx, gantry; the medians over rounds of hey's p50 and p99 are
  reported, and each proxy's added latency over direct.

Usage: bench/latency.py [path/to/gantry] [rounds] [seconds] [rate]   Writes bench/results/latency.md.
"""

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (shared helpers: nginx, Gantry, REST, CPU ticks)

GANTRY, ROUNDS, SECONDS = common.GANTRY, common.ROUNDS, common.SECONDS
RATE = int(sys.argv[4]) if len(sys.argv) > 4 else 30_000
WORKERS = 32


def hey(port, host=None):
    if not shutil.which("hey"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "hey"], check=True)
    command = ["taskset", "-c", "1", "hey", "-z", f"{SECONDS}s", "-c", str(WORKERS), "-q", str(RATE // WORKERS)]
    if host:
        command += ["-host", host]
    command.append(f"http://127.0.0.1:{port}/bench")
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = float(re.search(r"50%+ in ([\d.]+) secs", output).group(1)) * 1000
    p99 = float(re.search(r"99%+ in ([\d.]+) secs", output).group(1)) * 1000
    statuses = re.findall(r"\[(\d+)\]\s+(\d+) responses", output)
    failed = sum(int(n) for code, n in statuses if not code.startswith("2"))
    return rate, p50, p99, failed


def main():
    common.ensure_tools()
    work = tempfile.mkdtemp(prefix="gantry-latency-bench-")
    procs = []
    try:
        procs.append(common.start_backend(work))
        procs.append(common.start_nginx(work, "proxy", f"""
    upstream backend {{ server 127.0.0.1:{common.BACKEND}; keepalive 64; }}
    server {{ listen 127.0.0.1:{common.NGINX}; keepalive_timeout 300s;
        location / {{ proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }} }}""", 0))
        gantry, rest = common.start_gantry(work)
        procs.append(gantry)
        common.wait_for(f"http://127.0.0.1:{common.BACKEND}/bench")
        common.wait_for(f"http://127.0.0.1:{common.NGINX}/bench")
        rest("POST", "/groups", {"name": "bench", "subdomain": "bench"})
        rest("POST", "/groups/bench/apis", {"name": "Bench", "request": {"method": "GET", "path": "/bench"}})
        rest("POST", "/groups/bench/versions", {"label": "1"})
        rest("PUT", "/groups/bench/deployments/prod",
             {"version": "1", "backend": {"type": "http", "address": f"http://127.0.0.1:{common.BACKEND}"}})
        common.wait_for(f"http://127.0.0.1:{common.GATEWAY}/bench", {"Host": "bench.localhost"})
        targets = {"direct": (common.BACKEND, None), "nginx": (common.NGINX, None), "gantry": (common.GATEWAY, "bench.localhost")}
        results = {name: {"rate": [], "p50": [], "p99": [], "failed": 0} for name in targets}
        for _ in range(ROUNDS):
            for name, (port, host) in targets.items():
                rate, p50, p99, failed = hey(port, host)
                r = results[name]
                r["rate"].append(rate)
                r["p50"].append(p50)
                r["p99"].append(p99)
                r["failed"] += failed
        report(results)
    finally:
        common.stop(procs)


def report(results):
    median = statistics.median
    direct = results["direct"]
    lines = [f"# Added latency at a fixed rate ({ROUNDS} alternating rounds of {SECONDS} s, {RATE:,} req/s asked)", "",
             f"Binary: `{GANTRY}`. Proxy under test on core 0; backend (nginx) and hey ({WORKERS} workers) on core 1.", "",
             "| target | achieved req/s | p50 ms | p99 ms | added p50 ms | added p99 ms | failed |", "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        added50 = median(r["p50"]) - median(direct["p50"])
        added99 = median(r["p99"]) - median(direct["p99"])
        lines.append(f"| {name} | {median(r['rate']):,.0f} | {median(r['p50']):.3f} | {median(r['p99']):.3f} | "
                     f"{added50:.3f} | {added99:.3f} | {r['failed']} |")
    g = median(results["gantry"]["p99"]) - median(direct["p99"])
    n = median(results["nginx"]["p99"]) - median(direct["p99"])
    lines += ["", f"- Added p99 Gantry {g:.3f} ms vs nginx {n:.3f} ms (goal: Gantry's ≤ nginx's: {'met' if g <= n else 'not met'})"]
    text = "\n".join(lines) + "\n"
    common.write_result("latency", text)


if __name__ == "__main__":
    main()
