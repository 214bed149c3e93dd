#!/usr/bin/env python3
"""A/B of two Gantry binaries at route scale: what 10,000 APIs add to a request, each binary
measured in turn on the same seeded data, for "does this change move the 10,000 / 10 ratio"
checks between commits (`scale.py` measures one binary, and a seeded run of it takes
minutes; its ratio moves from run to run by more than one change does).

    python3 bench/ab_scale.py OLD_BINARY NEW_BINARY [ROUNDS] [SECONDS]

Method
- The data is seeded once, by NEW_BINARY, as `scale.py` seeds it: group `small` with 10 APIs
  and `large` with 10,000 (`GET /items/{i}/{id}`), released to Production against nginx.
- Each round starts each binary in turn (the order alternates from round to round) on its
  own copy of that data, pinned to core 0 (nginx and wrk on core 1, as `scale.py`). It warms
  up (wrk on `large`, then `small`, 2 s each: every API's stats series is made), then
  measures `small` and `large` for SECONDS each with `scale.py`'s wrk script, and stops.
- Per binary: the medians of req/s, of each round's 10,000 / 10 ratio (both measured by
  the same process, seconds apart), of the gateway's CPU per request, and of what 10,000 APIs
  add to the runtime thread's CPU per request (the thread that serves the requests).

Writes nothing."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

if len(sys.argv) < 3:
    raise SystemExit(__doc__)
BINS = {"old": os.path.abspath(sys.argv[1]), "new": os.path.abspath(sys.argv[2])}
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 6
SECONDS = int(sys.argv[4]) if len(sys.argv) > 4 else 5
sys.argv = [sys.argv[0], BINS["new"], "1", str(SECONDS)]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (shared helpers: nginx, Gantry, REST, CPU ticks)
import scale  # noqa: E402  (its APIs and wrk script)

SIZES = scale.SIZES


def seed(work):
    """Seeds `work`/seeded with NEW_BINARY; returns the directory."""
    common.GANTRY = BINS["new"]
    gantry, rest = common.start_gantry(work, data="seeded", log=subprocess.DEVNULL)
    try:
        release = {"version": "1", "backend": {"type": "http", "address": f"http://127.0.0.1:{common.BACKEND}"}}
        for group, count in SIZES.items():
            rest("POST", "/groups", {"name": group, "subdomain": group})
            common.seed_apis(rest, group, scale.apis(count, probe=False))
            rest("POST", f"/groups/{group}/versions", {"label": "1"})
            rest("PUT", f"/groups/{group}/deployments/prod", release)
    finally:
        common.stop([gantry])
    return os.path.join(work, "seeded")


def runtime_ticks(pid, binary):
    """CPU ticks of the thread named as the binary (the runtime's; tokio names it so)."""
    name = os.path.basename(binary)[:15]
    return sum(ticks for thread, ticks in common.thread_ticks(pid).items() if thread == name)


def one(name, seeded, work, script):
    """One binary's round: its own copy of the seeded data, warmed up, each group measured."""
    common.GANTRY = BINS[name]
    data = os.path.join(work, f"data-{name}")
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(seeded, data)
    gantry, _ = common.start_gantry(work, data=os.path.basename(data), log=subprocess.DEVNULL)
    measured = {}
    try:
        for group, count in SIZES.items():
            common.wait_for(f"http://127.0.0.1:{common.GATEWAY}/items/{count - 1}/7", {"Host": f"{group}.localhost"})
        for group in ("large", "small"):
            scale.wrk(script, group, 2)
        for group in SIZES:
            before, thread_before = common.cpu_ticks([gantry.pid]), runtime_ticks(gantry.pid, BINS[name])
            rate, failed, total = scale.wrk(script, group, SECONDS)
            used = (common.cpu_ticks([gantry.pid]) - before) / common.TICK
            thread = (runtime_ticks(gantry.pid, BINS[name]) - thread_before) / common.TICK
            measured[group] = {"rate": rate, "failed": failed, "cpu_us": used * 1e6 / max(total, 1),
                               "thread_us": thread * 1e6 / max(total, 1)}
    finally:
        common.stop([gantry])
    return measured


def main():
    common.ensure_tools()
    work = tempfile.mkdtemp(prefix="gantry-ab-scale-")
    script = scale.spread_script(work)
    backend = common.start_backend(work)
    rounds = {name: [] for name in BINS}
    try:
        common.wait_for(f"http://127.0.0.1:{common.BACKEND}/bench")
        started = time.perf_counter()
        seeded = seed(work)
        print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
        for n in range(ROUNDS):
            for name in (("old", "new") if n % 2 == 0 else ("new", "old")):
                m = one(name, seeded, work, script)
                rounds[name].append(m)
                print(f"round {n + 1} {name}: " + "; ".join(
                    f"{g} {m[g]['rate']:,.0f} req/s, {m[g]['cpu_us']:.1f} µs (runtime thread {m[g]['thread_us']:.1f})"
                    for g in SIZES), flush=True)
    finally:
        common.stop([backend])
        shutil.rmtree(work, ignore_errors=True)
    report(rounds)


def report(rounds):
    median = statistics.median
    print(f"\n{ROUNDS} rounds of {SECONDS} s per group and binary; medians (spread)")
    print("| binary | 10 APIs req/s | 10,000 APIs req/s | 10,000 / 10 | CPU µs/req 10 → 10,000 | "
          "runtime thread µs/req added | failed |")
    print("|---|---|---|---|---|---|---|")
    summary = {}
    for name, ms in rounds.items():
        ratios = [m["large"]["rate"] / m["small"]["rate"] for m in ms]
        added = [m["large"]["thread_us"] - m["small"]["thread_us"] for m in ms]
        summary[name] = (median(ratios), median(added))
        print(f"| {name} `{BINS[name]}` | {median(m['small']['rate'] for m in ms):,.0f} | "
              f"{median(m['large']['rate'] for m in ms):,.0f} | {median(ratios):.3f} ({min(ratios):.2f}–{max(ratios):.2f}) | "
              f"{median(m['small']['cpu_us'] for m in ms):.1f} → {median(m['large']['cpu_us'] for m in ms):.1f} | "
              f"{median(added):.2f} ({min(added):.2f}–{max(added):.2f}) | "
              f"{sum(m[g]['failed'] for m in ms for g in SIZES)} |")
    print(f"\nnew / old: 10,000 / 10 ratio {summary['new'][0] / summary['old'][0]:.3f}; "
          f"runtime thread µs added by 10,000 APIs {summary['old'][1]:.2f} → {summary['new'][1]:.2f}")


if __name__ == "__main__":
    main()
