#!/usr/bin/env python3
"""Function backends: a trivial JavaScript handler against a Mock API through Gantry's
gateway, measured side by side in one run (issue 9's benchmark note).

Method
- Gantry's gateway pinned to core 0 (its function workers too: the whole process); wrk
  (1 thread, 32 connections, --latency) pinned to core 1. No backend: both APIs answer from
  the gateway itself.
- Mock: an API whose backend is Mock (a fixed body). Function: an API whose backend is
  `export default (req) => ({body: {hello: req.params.name}})`.
- Rounds alternate Mock and Function; medians and spread of requests/s, and median p50 and
  p99 latency over the rounds, as wrk reports them.

Usage: bench/functions.py [path/to/gantry] [rounds] [seconds]   Writes bench/results/functions.md.
"""

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (shared helpers: nginx, Gantry, REST, CPU ticks)

GANTRY, ROUNDS, SECONDS = common.GANTRY, common.ROUNDS, common.SECONDS
CONSOLE, GATEWAY = common.CONSOLE, common.GATEWAY
HOST = "fnbench.localhost"


def wrk(path):
    command = ["taskset", "-c", "1", "wrk", "-t1", "-c32", f"-d{SECONDS}s", "--latency", "-H", f"Host: {HOST}",
               f"http://127.0.0.1:{GATEWAY}{path}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    # The latency distribution's own lines ("     50%    0.91ms"), not a "75.50%" elsewhere.
    p50 = common.to_ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = common.to_ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return rate, p50, p99, int(errors.group(1)) if errors else 0


def main():
    common.ensure_tools()
    work = tempfile.mkdtemp(prefix="gantry-fn-bench-")
    gantry, rest = common.start_gantry(work)
    try:
        rest("POST", "/groups", {"name": "fnbench", "subdomain": "fnbench"})
        name = [{"name": "name", "in": "path"}]
        rest("POST", "/groups/fnbench/apis", {
            "name": "Mock", "request": {"method": "GET", "path": "/mock/{name}", "params": name},
            "backend": {"unified": False, "type": "mock", "mock": {"body": '{"hello":"bench"}'}}})
        rest("POST", "/groups/fnbench/apis", {
            "name": "Function", "request": {"method": "GET", "path": "/function/{name}", "params": name},
            "backend": {"unified": False, "type": "function",
                        "function": {"code": "export default (req) => ({body: {hello: req.params.name}})"}}})
        rest("POST", "/groups/fnbench/versions", {"label": "1"})
        rest("PUT", "/groups/fnbench/deployments/prod", {"version": "1", "backend": {"type": "mock"}})
        for path in ("/mock/bench", "/function/bench"):
            common.wait_for(f"http://127.0.0.1:{GATEWAY}{path}", {"Host": HOST})
            with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{GATEWAY}{path}", headers={"Host": HOST})) as r:
                assert json.load(r) == {"hello": "bench"}, path

        results = {name: {"rate": [], "p50": [], "p99": [], "errors": 0} for name in ("mock", "function")}
        for _ in range(ROUNDS):
            for name in results:
                rate, p50, p99, errors = wrk(f"/{name}/bench")
                r = results[name]
                r["rate"].append(rate)
                r["p50"].append(p50)
                r["p99"].append(p99)
                r["errors"] += errors
        report(results)
    finally:
        common.stop([gantry])


def report(results):
    median = statistics.median
    lines = [f"# Function vs Mock through the gateway ({ROUNDS} alternating rounds of {SECONDS} s)", "",
             f"Binary: `{GANTRY}`. Gateway (and its function workers) on core 0; wrk (1 thread, 32 connections) on core 1.", "",
             "| backend | median req/s | spread req/s | p50 ms (median) | p99 ms (median) | non-2xx |", "|---|---|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {median(r['rate']):,.0f} | {min(r['rate']):,.0f}–{max(r['rate']):,.0f} | "
                     f"{median(r['p50']):.2f} | {median(r['p99']):.2f} | {r['errors']} |")
    m, f = median(results["mock"]["rate"]), median(results["function"]["rate"])
    lines += ["", f"- Function / Mock throughput: **{f / m:.2f}**; a trivial call costs about "
              f"{(1e6 / f - 1e6 / m):.1f} µs of gateway time more than a Mock answer."]
    text = "\n".join(lines) + "\n"
    common.write_result("functions", text)


if __name__ == "__main__":
    main()
