#!/usr/bin/env python3
"""Backends with several targets (issue 25): what balancing and health checks cost.

Method
- Backend: one nginx on core 1 listening on 4 ports, each serving the same 1 KiB; Gantry on
  core 0 with the active health check on (`GANTRY_HEALTH_CHECK_PATH=/bench` every 500 ms);
  wrk (1 thread, 32 connections) on core 1. Two groups with the same pass-through API
  `GET /bench` released to Production: `one` to a single target, `four` to the 4 ports
  weighted 4:3:2:1 (round robin). Rounds alternate the two (A B, B A, …); medians and
  spread of requests/s. Goal: four / one >= 0.97.
- The split is checked too: nginx logs each port's requests during one `four` round; the
  share per port against 40/30/20/10 %.

Usage: bench/targets.py [path/to/gantry] [rounds] [seconds]   Writes bench/results/targets.md.
"""

import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (shared helpers: nginx, Gantry, REST, wrk output)

GANTRY, ROUNDS, SECONDS = common.GANTRY, common.ROUNDS, common.SECONDS
GROUPS = ("one", "four")
PORTS = [19011, 19012, 19013, 19014]
WEIGHTS = [4, 3, 2, 1]


def start_backends(work):
    """One nginx, four ports; each port's requests counted in its own log."""
    servers = "".join(f"""
    server {{ listen 127.0.0.1:{port}; keepalive_timeout 300s; access_log {work}/port{port}.log counted;
        location / {{ default_type text/plain; return 200 '{"x" * 1024}'; }} }}""" for port in PORTS)
    return common.start_nginx(work, "targets", "log_format counted '$server_port';" + servers, 1)


def wrk(group):
    command = ["taskset", "-c", "1", "wrk", "-t1", "-c32", f"-d{SECONDS}s", "-H", f"Host: {group}.localhost",
               f"http://127.0.0.1:{common.GATEWAY}/bench"]
    return common.wrk_output(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def port_counts(work):
    counts = {}
    for port in PORTS:
        path = f"{work}/port{port}.log"
        counts[port] = sum(1 for _ in open(path)) if os.path.exists(path) else 0
    return counts


def main():
    common.ensure_tools()
    work = tempfile.mkdtemp(prefix="gantry-targets-bench-")
    procs = []
    try:
        procs.append(start_backends(work))
        env = {"GANTRY_HEALTH_CHECK_PATH": "/bench", "GANTRY_HEALTH_CHECK_INTERVAL_MS": "500"}
        gantry, rest = common.start_gantry(work, extra_env=env)
        procs.append(gantry)
        for port in PORTS:
            common.wait_for(f"http://127.0.0.1:{port}/bench")
        addresses = {
            "one": f"http://127.0.0.1:{PORTS[0]}",
            "four": [{"url": f"http://127.0.0.1:{p}", "weight": w} for p, w in zip(PORTS, WEIGHTS)],
        }
        for group in GROUPS:
            rest("POST", "/groups", {"name": group, "subdomain": group})
            rest("POST", f"/groups/{group}/apis", {"name": "Bench", "request": {"method": "GET", "path": "/bench"}})
            rest("POST", f"/groups/{group}/versions", {"label": "1"})
            rest("PUT", f"/groups/{group}/deployments/prod", {"version": "1", "backend": {"type": "http", "address": addresses[group]}})
            common.wait_for(f"http://127.0.0.1:{common.GATEWAY}/bench", {"Host": f"{group}.localhost"})

        results = {group: {"rate": [], "failed": 0} for group in GROUPS}
        split = None
        for round_ in range(ROUNDS):
            for group in (GROUPS if round_ % 2 == 0 else GROUPS[::-1]):
                before = port_counts(work)
                rate, _total, failed = wrk(group)
                after = port_counts(work)
                results[group]["rate"].append(rate)
                results[group]["failed"] += failed
                if group == "four" and split is None:
                    split = {port: after[port] - before[port] for port in PORTS}
        report(results, split)
    finally:
        common.stop(procs)


def report(results, split):
    median = statistics.median
    one, four = median(results["one"]["rate"]), median(results["four"]["rate"])
    ratio = four / one
    lines = [f"# Several targets ({ROUNDS} alternating rounds of {SECONDS} s, 1 KiB body)", "",
             f"Binary: `{GANTRY}`. Gateway on core 0 with the active health check every 500 ms; backend (one nginx, "
             "4 ports) and wrk (1 thread, 32 connections) on core 1.", "",
             "| backend | median req/s | spread req/s | failed |", "|---|---|---|---|"]
    for group, label in (("one", "one target"), ("four", "4 targets, weights 4:3:2:1, health checks on")):
        r = results[group]
        lines.append(f"| {label} | {median(r['rate']):,.0f} | {min(r['rate']):,.0f}–{max(r['rate']):,.0f} | {r['failed']} |")
    lines += ["", f"- 4 targets / one: **{ratio:.2f}** (goal >= 0.97: {'met' if ratio >= 0.97 else 'not met'})"]
    if split:
        total = sum(split.values()) or 1
        shares = ", ".join(f"{split[p] / total:.1%} (weight {w})" for p, w in zip(PORTS, WEIGHTS))
        worst = max(abs(split[p] / total - w / sum(WEIGHTS)) for p, w in zip(PORTS, WEIGHTS))
        lines.append(f"- Split in one round of {total:,} requests (health probes included): {shares}; "
                     f"farthest from its weight by {worst:.1%} (goal within 2 %: {'met' if worst <= 0.02 else 'not met'})")
    common.write_result("targets", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
