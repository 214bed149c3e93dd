#!/usr/bin/env python3
"""Route scale, release latency and switch under load (issue 11), in one run.

Method
- Backend: nginx serving a 1 KiB body with keep-alive, pinned to core 1; Gantry pinned to
  core 0; wrk (1 thread, 32 connections) pinned to core 1.
- Two groups released to Production against the backend: `small` with 10 APIs and `large`
  with 10,000 (`GET /items/{i}/{id}`, seeded through the admin REST API's OpenAPI import,
  then frozen and released through the REST API). wrk's Lua script spreads requests uniformly over every API
  of the group. Rounds alternate small and large; medians and spread of requests/s.
- Release latency: `large` also has `GET /probe`, a Mock API whose body is the version's
  name. 100 switches alternate versions 1 and 2 of `large` (10,001 APIs live); for each, the
  REST call's duration, and the time from the call returning to the first gateway response
  that shows the new version (polling /probe); p50 and p99 of both.
- Switch under load: wrk runs against `large` from before the first of 100 switches until
  after the last; failed requests are wrk's non-2xx responses plus socket errors.

Usage: bench/scale.py [path/to/gantry] [rounds] [seconds]   Writes bench/results/scale.md.
"""

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (shared helpers: nginx, Gantry, REST, CPU ticks)

GANTRY, ROUNDS, SECONDS = common.GANTRY, common.ROUNDS, common.SECONDS
BACKEND, CONSOLE, GATEWAY = common.BACKEND, common.CONSOLE, common.GATEWAY
SIZES = {"small": 10, "large": 10_000}
SWITCHES = 100

LUA = r"""
local n = 0
init = function(args) n = tonumber(args[1]) end
request = function()
  return wrk.format("GET", "/items/" .. math.random(0, n - 1) .. "/7")
end
"""


def spread_script(work):
    """Writes wrk's script that spreads requests over a group's APIs into `work`; its path."""
    script = os.path.join(work, "spread.lua")
    with open(script, "w") as f:
        f.write(LUA)
    return script


def spec(name, path, body=None):
    """A pass-through API, or with `body` a Mock API answering it."""
    return common.api_spec(name, path, mock=body)


def apis(count, probe):
    """`count` pass-through APIs `GET /items/{i}/{id}`, and with `probe` the Mock API `GET /probe`."""
    specs = [spec(f"api-{i:05}", f"/items/{i}/{{id}}") for i in range(count)]
    if probe:
        specs.append(spec("probe", "/probe", "version 1"))
    return specs


def set_probe(rest, body):
    """Changes the probe API's mock body in the draft, through the REST API."""
    found = rest("GET", "/groups/large/apis?q=probe&per_page=1")["items"][0]
    rest("PUT", f"/groups/large/apis/{found['id']}", dict(spec("probe", "/probe", body), id=found["id"]))


def wrk(script, group, seconds):
    command = ["taskset", "-c", "1", "wrk", "-t1", "-c32", f"-d{seconds}s", "-H", f"Host: {group}.localhost",
               "-s", script, f"http://127.0.0.1:{GATEWAY}/", "--", str(SIZES[group])]
    rate, total, failed = common.wrk_output(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
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
    common.ensure_tools()
    work = tempfile.mkdtemp(prefix="gantry-scale-bench-")
    script = spread_script(work)
    procs, gantry, rest = common.start_backend_and_gantry(work)
    try:
        release = {"version": "1", "backend": {"type": "http", "address": f"http://127.0.0.1:{BACKEND}"}}
        for group, count in SIZES.items():
            rest("POST", "/groups", {"name": group, "subdomain": group})
            common.seed_apis(rest, group, apis(count, probe=group == "large"))
            rest("POST", f"/groups/{group}/versions", {"label": "1"})
            if group == "large":
                set_probe(rest, "version 2")
                rest("POST", "/groups/large/versions", {"label": "2"})
            rest("PUT", f"/groups/{group}/deployments/prod", release)
            common.wait_for(f"http://127.0.0.1:{GATEWAY}/items/{count - 1}/7", {"Host": f"{group}.localhost"})

        scale = {group: {"rate": [], "failed": 0, "cpu_us": [], "busy": [], "threads": {}, "total": 0} for group in SIZES}
        for _ in range(ROUNDS):
            for group in SIZES:
                before, started = common.cpu_ticks([gantry.pid]), time.perf_counter()
                threads_before = common.thread_ticks(gantry.pid)
                rate, failed, total = wrk(script, group, SECONDS)
                used = (common.cpu_ticks([gantry.pid]) - before) / common.TICK
                for name, ticks in common.thread_ticks(gantry.pid).items():
                    spent = scale[group]["threads"].get(name, 0) + ticks - threads_before.get(name, 0)
                    scale[group]["threads"][name] = spent
                scale[group]["total"] += total
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
        rate, total, failed = common.wrk_output(loader.communicate(timeout=30)[0])
        result = {"rate": rate, "total": total, "failed": failed}
        report(scale, timings, result, switch_seconds, baseline)
        # Each round's pair for bench/pool.py.
        common.record_rounds("scale", [{group: {k: scale[group][k][i] for k in ("rate", "cpu_us")} for group in SIZES}
                                        for i in range(ROUNDS)])
    finally:
        common.stop(procs)


def thread_kind(name):
    """A Gantry thread by its name: the runtime's (named as the binary), SQLite's, or other."""
    if name.startswith("sqlx-sqlite"):
        return "SQLite's threads"
    if name == os.path.basename(GANTRY)[:15]:
        return "the runtime's thread"
    return "other threads"


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
    # Each round's pair (10 APIs, then 10,000), so a reader sees how far the host moves between rounds.
    pairs = list(zip(scale["small"]["rate"], scale["large"]["rate"]))
    rounds = "; ".join(f"{a:,.0f} → {b:,.0f} ({b / a:.2f})" for a, b in pairs)
    # Where the CPU went, by thread: the runtime's (requests, and the control plane's stats
    # flushes and upkeep before they reach SQLite) and SQLite's (the writes themselves).
    by_thread = {}
    for group in SIZES:
        for name, ticks in scale[group]["threads"].items():
            kind = thread_kind(name)
            by_thread.setdefault(kind, {}).setdefault(group, 0)
            by_thread[kind][group] += ticks / common.TICK * 1e6 / max(scale[group]["total"], 1)
    split = "; ".join(f"{kind} {values.get('small', 0):.2f} → {values.get('large', 0):.2f}"
                      for kind, values in sorted(by_thread.items()) if max(values.values()) >= 0.01)
    lines += ["", f"- 10,000 / 10 APIs throughput: **{large / small:.2f}** (goal >= 0.95: {'met' if large / small >= 0.95 else 'not met'})",
              f"- Gateway CPU per request, 10,000 / 10 APIs: {cpu_ratio:.2f} (wrk's Lua script makes the load generator "
              "slower than in `proxy.md`; a gateway core below 100 % busy means core 1 bounds the throughput)",
              f"- Round by round, req/s with 10 → with 10,000 APIs (ratio): {rounds}; median of the rounds' ratios "
              f"{median(b / a for a, b in pairs):.2f}",
              f"- Gateway CPU µs per request by thread, 10 → 10,000 APIs (all rounds): {split}", "",
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
    common.write_result("scale", text)


if __name__ == "__main__":
    main()
