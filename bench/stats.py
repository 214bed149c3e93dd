#!/usr/bin/env python3
"""Traffic stats (issue 23): what keeping per-minute series costs the proxy path, and how
fast the API's Monitoring page renders a week of minutes.

Method
- Throughput: two Gantry processes on core 0, the same configuration (group `bench`, a
  pass-through `GET /bench` released to Production against nginx serving 1 KiB on core 1):
  one with `GANTRY_STATS=true` (the default: the minute series kept and written every 5 s),
  one with `GANTRY_STATS=false`. Only the one under load works; wrk (1 thread, 32
  connections) on core 1. Rounds alternate (on off, off on, ...); medians of requests/s.
  Goal: on / off >= 0.97.
- Render: 7 days of 1-minute rows for the API (10,080 rows, each with a latency sketch of
  about 30 bins, the shape a gateway writes) are put in the `on` process's SQLite store;
  the console page `/groups/bench/apis/{id}/monitoring?range=7d&env=prod` (logged in, the
  full server-rendered HTML with both charts) is fetched 20 times; the median and the worst
  wall time on the loopback are the server time (the page is rendered before the first
  byte: SsrMode::Async). Goal: median <= 100 ms.
  The rows are written straight into the store: no public path takes a week of traffic in
  minutes, and these are the rows a gateway node writes (`control::stats::write_stats`).
  Gantry is then restarted, as after a week of running: its upkeep rolls the minutes up into
  hours (the 7-day chart reads hour rows for all but the last two hours).

Usage: bench/stats.py [path/to/gantry] [rounds] [seconds]   Writes bench/results/stats.md.
"""

import http.cookiejar
import math
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

GANTRY, ROUNDS, SECONDS = common.GANTRY, common.ROUNDS, common.SECONDS
OFF_PORTS = (19103, 19104, 19105)
GAMMA = 1.01 / 0.99


def wrk(gateway):
    command = ["taskset", "-c", "1", "wrk", "-t1", "-c32", f"-d{SECONDS}s", "-H", "Host: bench.localhost",
               f"http://127.0.0.1:{gateway}/bench"]
    return common.wrk_output(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def sketch(rng, requests):
    """A latency sketch as Gantry stores it (`zeros;index:count,...`): log-normal around 3 ms."""
    bins = {}
    for _ in range(requests):
        micros = max(1.0, rng.lognormvariate(math.log(3000), 0.6))
        index = math.ceil(math.log(micros) / math.log(GAMMA))
        bins[index] = bins.get(index, 0) + 1
    return "0;" + ",".join(f"{i}:{n}" for i, n in sorted(bins.items()))


def seed_week(db_path, group_id, api_id):
    rng = random.Random(23)
    now = int(time.time()) // 60 * 60
    shapes = [sketch(rng, 120) for _ in range(64)]
    rows = []
    for minute in range(7 * 24 * 60):
        start = now - minute * 60
        requests = 120
        errors = rng.randrange(0, 4)
        rows.append(("seed", start, group_id, api_id, "prod", "1", requests, requests - errors, 0, 0, errors, 0, 0,
                     requests * 1024, shapes[minute % len(shapes)]))
    db = sqlite3.connect(db_path, timeout=30)
    db.executemany("INSERT OR REPLACE INTO stats_minutes (node, start, group_id, api_id, environment, version, requests, "
                   "status_2xx, status_3xx, status_4xx, status_5xx, upstream_errors, timeouts, bytes_out, latency) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()
    return len(rows)


def render_times(api_id, samples=20):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
    form = urllib.parse.urlencode({"username": "admin", "password": "bench-password"}).encode()
    try:
        opener.open(f"http://127.0.0.1:{common.CONSOLE}/auth/login", data=form)
    except urllib.error.HTTPError as redirect:  # 303 to the groups page: logged in
        if redirect.code != 303:
            raise
    url = f"http://127.0.0.1:{common.CONSOLE}/groups/bench/apis/{api_id}/monitoring?range=7d&env=prod"
    times = []
    for _ in range(samples + 2):
        started = time.perf_counter()
        with opener.open(url) as response:
            html = response.read().decode()
        times.append((time.perf_counter() - started) * 1000)
        if "<svg" not in html or "Monitoring: Bench" not in html:
            raise SystemExit("the Monitoring page did not render its charts")
    return times[2:]  # the first two warm caches


def wait_for_rollup(rest, api_id, at_least):
    for _ in range(600):
        week = rest("GET", f"/groups/bench/stats?env=prod&api={api_id}&range=7d")
        if sum(b["requests"] for b in week["buckets"]) >= at_least:
            return
        time.sleep(0.1)
    raise SystemExit("the seeded week was not rolled up within a minute")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def main():
    common.ensure_tools()
    work = tempfile.mkdtemp(prefix="gantry-stats-bench-")
    procs = []
    try:
        procs.append(common.start_backend(work))
        on, rest_on = common.start_gantry(work, data="on")
        procs.append(on)
        off, rest_off = common.start_gantry(work, OFF_PORTS, {"GANTRY_STATS": "false"}, data="off")
        procs.append(off)
        common.wait_for(f"http://127.0.0.1:{common.BACKEND}/bench")
        release = {"version": "1", "backend": {"type": "http", "address": f"http://127.0.0.1:{common.BACKEND}"}}
        ids = {}
        for name, rest, gateway in (("on", rest_on, common.GATEWAY), ("off", rest_off, OFF_PORTS[1])):
            group = rest("POST", "/groups", {"name": "bench", "subdomain": "bench"})
            api = rest("POST", "/groups/bench/apis", {"name": "Bench", "request": {"method": "GET", "path": "/bench"}})
            ids[name] = (group["id"], api["id"])
            rest("POST", "/groups/bench/versions", {"label": "1"})
            rest("PUT", "/groups/bench/deployments/prod", release)
            common.wait_for(f"http://127.0.0.1:{gateway}/bench", {"Host": "bench.localhost"})

        rates = {"on": [], "off": []}
        failed = {"on": 0, "off": 0}
        sent = {"on": 0, "off": 0}
        for round_ in range(ROUNDS):
            order = ("on", "off") if round_ % 2 == 0 else ("off", "on")
            for name in order:
                rate, total, fails = wrk(common.GATEWAY if name == "on" else OFF_PORTS[1])
                rates[name].append(rate)
                sent[name] += total
                failed[name] += fails
        time.sleep(6)  # one more flush of the `on` process
        written = rest_on("GET", f"/groups/bench/stats?env=prod&api={ids['on'][1]}")
        counted = sum(b["requests"] for b in written["buckets"])

        rows = seed_week(os.path.join(work, "on", "gantry.db"), *ids["on"])
        # A week of traffic accumulates while Gantry runs, and its upkeep rolls each hour up;
        # seeded at once, the rows are rolled up by the upkeep of a restart.
        common.stop([on])
        procs.remove(on)
        on, rest_on = common.start_gantry(work, data="on")
        procs.append(on)
        wait_for_rollup(rest_on, ids["on"][1], rows * 120 * 98 // 100)
        times = render_times(ids["on"][1])
        report(rates, failed, (counted, sent["on"]), rows, times)
    finally:
        common.stop(procs)


def report(rates, failed, counted, rows, times):
    median = statistics.median
    ratio = median(rates["on"]) / median(rates["off"])
    page = median(times)
    lines = [f"# Traffic stats ({ROUNDS} alternating rounds of {SECONDS} s, 1 KiB body)", "",
             f"Binary: `{GANTRY}`. Gateways on core 0 (one loaded at a time); backend (nginx) and wrk "
             "(1 thread, 32 connections) on core 1.", "",
             "| stats | median req/s | spread req/s | failed |", "|---|---|---|---|"]
    for name, label in (("on", "kept (GANTRY_STATS=true)"), ("off", "off (GANTRY_STATS=false)")):
        r = rates[name]
        lines.append(f"| {label} | {median(r):,.0f} | {min(r):,.0f}–{max(r):,.0f} | {failed[name]} |")
    # Round by round (on and off measured back to back), which cancels the machine's drift
    # between rounds; shown beside the goal, which stays on the medians.
    paired = sorted(a / b for a, b in zip(rates["on"], rates["off"]))
    lines += ["",
              f"- Stats kept / off: **{ratio:.3f}** (goal >= 0.97: {'met' if ratio >= 0.97 else 'not met'})",
              f"- The same round by round (on / off back to back): median {median(paired):.3f}, "
              f"range {paired[0]:.3f}–{paired[-1]:.3f} over {len(paired)} rounds",
              f"- Requests the `on` gateway counted in its minute rows: {counted[0]:,} of the {counted[1]:,} wrk "
              f"completed against it (wrk does not count the requests in flight when a round ends)",
              f"- API Monitoring page, 7 days of 1-minute rows ({rows:,} rows), both charts server-rendered: "
              f"median **{page:.1f} ms**, worst {max(times):.1f} ms over {len(times)} loads "
              f"(goal median <= 100 ms: {'met' if page <= 100 else 'not met'})"]
    common.write_result("stats", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
