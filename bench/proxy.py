#!/usr/bin/env python3
"""Gantry's gateway against nginx as a reverse proxy and against the backend called directly,
measured side by side in one run (issue 11, first part: throughput and CPU per request).

Method
- Backend: nginx serving a 1 KiB body with keep-alive, pinned to core 1.
- Peer: nginx (1 worker) as a reverse proxy with upstream keep-alive, pinned to core 0.
- Gantry: a released pass-through API to the same backend, the gateway pinned to core 0.
- Load: wrk, 1 thread, 32 keep-alive connections, pinned to core 1 (it shares the core with
  the backend; the proxy under test has core 0 to itself).
- Rounds alternate the targets (direct, nginx, gantry, direct, nginx, …); medians and the
  spread (min-max) of requests/s are reported, and the proxy's CPU time per request, from
  /proc/<pid>/stat before and after each round.

Usage: bench/proxy.py [path/to/gantry] [rounds] [seconds]
Installs nginx and wrk from Debian when missing. Writes bench/results/proxy.md.
"""

import os
import re
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (BACKEND, GANTRY, GATEWAY, NGINX, ROUNDS, SECONDS, TICK,  # noqa: E402  (shared helpers)
                    cpu_ticks, ensure_tools, process_tree, record_rounds, start_backend, start_gantry, start_nginx, stop,
                    to_ms, wait_for, write_result)


def wrk(port, host=None):
    command = ["taskset", "-c", "1", "wrk", "-t1", "-c32", f"-d{SECONDS}s", "--latency", f"http://127.0.0.1:{port}/bench"]
    if host:
        command[5:5] = ["-H", f"Host: {host}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    total = int(re.search(r"(\d+) requests in", output).group(1))
    # The latency distribution's own line ("     99%    1.91ms"), at saturation (closed loop).
    p99 = to_ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    return rate, total, int(errors.group(1)) if errors else 0, p99


def main():
    ensure_tools()
    work = tempfile.mkdtemp(prefix="gantry-proxy-bench-")
    procs = []
    try:
        procs.append(start_backend(work))
        nginx_proxy = start_nginx(work, "proxy", f"""
    upstream backend {{ server 127.0.0.1:{BACKEND}; keepalive 64; }}
    server {{ listen 127.0.0.1:{NGINX}; keepalive_timeout 300s;
        location / {{ proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }} }}""", 0)
        procs.append(nginx_proxy)
        gantry, call = start_gantry(work)
        procs.append(gantry)
        wait_for(f"http://127.0.0.1:{BACKEND}/bench")
        wait_for(f"http://127.0.0.1:{NGINX}/bench")
        call("POST", "/groups", {"name": "bench", "subdomain": "bench"})
        call("POST", "/groups/bench/apis", {"name": "Bench", "request": {"method": "GET", "path": "/bench"}})
        call("POST", "/groups/bench/versions", {"label": "1"})
        call("PUT", "/groups/bench/deployments/prod",
             {"version": "1", "backend": {"type": "http", "address": f"http://127.0.0.1:{BACKEND}"}})
        wait_for(f"http://127.0.0.1:{GATEWAY}/bench", {"Host": "bench.localhost"})

        targets = {
            "direct": (BACKEND, None, None),
            "nginx": (NGINX, None, process_tree(nginx_proxy.pid)),
            "gantry": (GATEWAY, "bench.localhost", [gantry.pid]),
        }
        results = {name: {"rate": [], "cpu_us": [], "user_us": [], "system_us": [], "p99": [], "errors": 0}
                   for name in targets}
        for _ in range(ROUNDS):
            for name, (port, host, pids) in targets.items():
                before = cpu_ticks(pids, split=True) if pids else (0, 0)
                rate, total, errors, p99 = wrk(port, host)
                results[name]["rate"].append(rate)
                results[name]["p99"].append(p99)
                results[name]["errors"] += errors
                if pids:
                    user, system = (after - b for after, b in zip(cpu_ticks(pids, split=True), before))
                    per_request = lambda ticks: ticks / TICK * 1e6 / max(total, 1)
                    results[name]["cpu_us"].append(per_request(user + system))
                    results[name]["user_us"].append(per_request(user))
                    results[name]["system_us"].append(per_request(system))
        report(results)
        # Each round's numbers for bench/pool.py (direct has no CPU column).
        record_rounds("proxy", [{name: {k: r[k][i] for k in ("rate", "cpu_us", "p99") if len(r[k]) > i}
                                 for name, r in results.items()} for i in range(ROUNDS)])
    finally:
        stop(procs)


def report(results):
    median = lambda xs: statistics.median(xs) if xs else float("nan")
    lines = [f"# Gateway throughput and CPU per request ({ROUNDS} alternating rounds of {SECONDS} s, 1 KiB body)", "",
             f"Binary: `{GANTRY}`. Proxy under test on core 0; backend (nginx) and wrk (1 thread, 32 connections) on core 1.", "",
             "| target | median req/s | spread req/s | proxy CPU µs/request (median) | of which user | of which kernel | p99 ms at saturation | non-2xx |",
             "|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        cpu, user, system = (f"{median(r[k]):.1f}" if r[k] else "-" for k in ("cpu_us", "user_us", "system_us"))
        lines.append(f"| {name} | {median(r['rate']):,.0f} | {min(r['rate']):,.0f}–{max(r['rate']):,.0f} | {cpu} | {user} | {system} "
                     f"| {median(r['p99']):.2f} | {r['errors']} |")
    g, n, d = median(results["gantry"]["rate"]), median(results["nginx"]["rate"]), median(results["direct"]["rate"])
    cpu = median(results['gantry']['cpu_us']) / median(results['nginx']['cpu_us'])
    p99 = median(results['gantry']['p99']) / median(results['nginx']['p99'])
    lines += ["", f"- Throughput Gantry / nginx: **{g / n:.2f}** (goal >= 1.0: {'met' if g >= n else 'not met'})",
              f"- Gantry / direct: {g / d:.2f}; nginx / direct: {n / d:.2f}",
              f"- CPU per request Gantry / nginx: **{cpu:.2f}** (goal <= 0.8: {'met' if cpu <= 0.8 else 'not met'})",
              f"- p99 at saturation (32 connections, closed loop) Gantry / nginx: **{p99:.2f}** (goal <= 1.2: "
              f"{'met' if p99 <= 1.2 else 'not met'})",
              f"- Kernel time alone (two socket reads and two writes per request in both proxies): nginx "
              f"{median(results['nginx']['system_us']):.1f} µs, Gantry {median(results['gantry']['system_us']):.1f} µs per request; "
              f"0.8 × nginx's total is {0.8 * median(results['nginx']['cpu_us']):.1f} µs"]
    text = "\n".join(lines) + "\n"
    write_result("proxy", text)


if __name__ == "__main__":
    main()
