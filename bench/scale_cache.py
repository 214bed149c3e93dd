#!/usr/bin/env python3
"""Route scale under callgrind's cache simulation: instructions and last-level cache misses per
request with 10 and with 10,000 APIs live (issue 27). Deterministic, unlike the req/s of
`scale.py`, which a busy host moves by more than the difference being looked for.

Method
- The two groups of `scale.py` (`GET /items/{i}/{id}`, 10 and 10,000 APIs), seeded through the
  admin REST API and released; nginx as the backend (not under valgrind).
- For each group Gantry runs under `valgrind --tool=callgrind --cache-sim=yes
  --LL=1048576,16,64 --instr-atstart=no` (a last level of 1 MiB, this machine's L2 per core:
  with 10,000 APIs what a request reads of its API is not in it). wrk with `scale.py`'s Lua
  script spreads requests over every API of the group: 100 s of warm-up (every API touched a
  few times), then instrumentation on for the measured seconds, between two of the minute's
  stats flushes (`GANTRY_STATS_FLUSH_MS=60000` here).
- Reported per request: the inclusive cost of the caller's connection task
  (`gateway::h1::server::serve`), so the minute's stats flush and the control plane, which run
  elsewhere, are not counted.

Usage: bench/scale_cache.py [path/to/gantry] [rounds, unused] [seconds]
Writes bench/results/scale_cache.md.
"""

import glob
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import scale  # noqa: E402

VALGRIND = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--cache-sim=yes", "--LL=1048576,16,64"]
EVENTS = ["Ir", "D1mr", "DLmr", "DLmw"]
WARM_UP = 100  # seconds: under valgrind, enough requests to touch each of 10,000 APIs a few times
# The stats flush (every 5 s by default) once a minute, at 0, 60 and 120 s: the measured window,
# after the warm-up, falls between two flushes. Under valgrind a flush of 10,000 series takes
# seconds and evicts everything; at full speed it is a few ms every 5 s.
FLUSH_MS = "60000"
TASK = "gateway::h1::server::serve::{{closure}}"
# The phases (route, authenticate, validate, the backend call): what reads a request's route
# and API. The task's rest is parsing, writing, the stats note and the log line.
PHASES = "gateway::server::run::{{closure}}"
# A profile-guided build inlines the connection task's future into the task tracker's wrapper.
TASK_INLINED = "gateway/src/h1/server.rs:<tokio_util::task::task_tracker::TrackedFuture<F>"


def wrk(script, group, seconds):
    command = ["taskset", "-c", "1", "wrk", "-t1", "-c4", f"-d{seconds}s", "-H", f"Host: {group}.localhost",
               "-s", script, f"http://127.0.0.1:{common.GATEWAY}/", "--", str(scale.SIZES[group])]
    rate, total, failed = common.wrk_output(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    return total, failed


def events(line):
    """The events of one line of `callgrind_annotate`'s output."""
    numbers = re.findall(r"[\d,]+", line.split("???")[0])
    return [int(n.replace(",", "")) for n in numbers[:len(EVENTS)]]


def task_cost(dump):
    """The connection task's inclusive events in a callgrind dump, and those of the phases
    within it (`PHASES`; zeros when a build inlined it)."""
    output = subprocess.run(["callgrind_annotate", "--inclusive=yes", f"--show={','.join(EVENTS)}", "--show-percs=no",
                             dump], capture_output=True, text=True, check=True).stdout
    phases = next((events(line) for line in output.splitlines() if PHASES in line), [0] * len(EVENTS))
    for task in (TASK, TASK_INLINED):
        for line in output.splitlines():
            if task in line:
                return events(line), phases
    raise SystemExit(f"{TASK} not in {dump}")


def measure(work, script, group, seconds):
    out = os.path.join(work, f"{group}.callgrind")
    env = dict(os.environ, GANTRY_DATA_DIR=os.path.join(work, "data"),
               GANTRY_CONSOLE_ADDR=f"127.0.0.1:{common.CONSOLE}", GANTRY_GATEWAY_ADDR=f"127.0.0.1:{common.GATEWAY}",
               GANTRY_GATEWAY_TLS_ADDR=f"127.0.0.1:{common.GATEWAY_TLS}", GANTRY_ADMIN_PASSWORD="bench-password",
               GANTRY_LOG="warn", GANTRY_STATS_FLUSH_MS=FLUSH_MS)
    gantry = subprocess.Popen(["taskset", "-c", "0", *VALGRIND, f"--callgrind-out-file={out}", common.GANTRY, "serve"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        common.wait_for(f"http://127.0.0.1:{common.GATEWAY}/items/1/7", {"Host": f"{group}.localhost"})
        wrk(script, group, WARM_UP)
        subprocess.run(["callgrind_control", "-i", "on", str(gantry.pid)], check=True, capture_output=True)
        total, failed = wrk(script, group, seconds)
        subprocess.run(["callgrind_control", "-i", "off", str(gantry.pid)], check=True, capture_output=True)
        subprocess.run(["callgrind_control", "-d", str(gantry.pid)], check=True, capture_output=True)
        time.sleep(1)
    finally:
        common.stop([gantry])
    if failed:
        raise SystemExit(f"{failed} failed requests on {group}")
    sums, phases = [0] * len(EVENTS), [0] * len(EVENTS)
    for dump in glob.glob(f"{out}*"):
        with open(dump, errors="replace") as f:
            if not any(line.startswith("totals:") and line.split()[1] != "0" for line in f):
                continue
        task, in_phases = task_cost(dump)
        sums = [a + b for a, b in zip(sums, task)]
        phases = [a + b for a, b in zip(phases, in_phases)]
    return [s / max(total, 1) for s in sums], total, [s / max(total, 1) for s in phases]


def main():
    common.ensure_tools()
    work = tempfile.mkdtemp(prefix="gantry-scale-cache-")
    script = scale.spread_script(work)
    procs = [common.start_backend(work)]
    results = {}
    try:
        gantry, rest = common.start_gantry(work)
        release = {"version": "1", "backend": {"type": "http", "address": f"http://127.0.0.1:{common.BACKEND}"}}
        for group, count in scale.SIZES.items():
            rest("POST", "/groups", {"name": group, "subdomain": group})
            common.seed_apis(rest, group, scale.apis(count, probe=False))
            rest("POST", f"/groups/{group}/versions", {"label": "1"})
            rest("PUT", f"/groups/{group}/deployments/prod", release)
        common.stop([gantry])
        for group in scale.SIZES:
            results[group] = measure(work, script, group, common.SECONDS)
    finally:
        common.stop(procs)

    lines = ["# Route scale under callgrind's cache simulation (one run)", "",
             f"Binary: `{common.GANTRY}`. Gantry under `{' '.join(VALGRIND[1:])}`; wrk (1 thread, 4 connections, "
             f"`scale.py`'s spread) for {common.SECONDS} s after {WARM_UP} s of warm-up. Per request, inclusive in the caller's "
             "connection task (`h1::server::serve`). LL = a last level of 1 MiB (this machine's L2 per core).", "",
             "| APIs live | instructions | L1 data read misses | LL data read misses | LL data write misses | requests |",
             "|---|---|---|---|---|---|"]
    for group, count in scale.SIZES.items():
        (ir, d1mr, dlmr, dlmw), total, _ = results[group]
        lines.append(f"| {count:,} | {ir:,.0f} | {d1mr:.1f} | {dlmr:.1f} | {dlmw:.1f} | {total:,} |")
    small, large = results["small"][0], results["large"][0]
    small_phases, large_phases = results["small"][2], results["large"][2]
    lines += ["", f"- LL misses per request (read + write) added by 10,000 APIs over 10: "
              f"**{large[2] + large[3] - small[2] - small[3]:.1f}**",
              "- of which in the phases (`server::run`: the route, the API, the backend call): "
              + (f"{large_phases[2] + large_phases[3] - small_phases[2] - small_phases[3]:.1f}" if any(large_phases)
                 else "- (inlined in this build)")
              + "; the rest is the stats note and the log line, whose misses under valgrind depend on where the "
              "window falls in the minute",
              f"- Instructions per request, 10,000 / 10 APIs: {large[0] / max(small[0], 1):.3f}"]
    common.write_result("scale_cache", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
