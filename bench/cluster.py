#!/usr/bin/env python3
"""Cluster mode (issue 22): how fast a release reaches every gateway node, and what sharing
nonces through Redis costs signed requests.

Method
- A real PostgreSQL and Redis (scripts/services.sh: Debian's packages, free ports, temporary
  directories), one `--role console` node and one or two `--role gateway` nodes on them.
- Release → served: group `large` holds 10,000 pass-through APIs and the Mock API `GET /probe`
  whose body names the version (bench/scale.py's definitions, seeded through the REST API).
  100 switches alternate versions 1 and 2 in Production (10,001 APIs live). For each: the
  REST call's duration, and the time from the call's start until every gateway node's
  /probe shows the new version (the slowest node); p50 and p99. Measured for 1 and 2 gateway
  nodes, following PostgreSQL's NOTIFY (default) and on polling alone
  (`GANTRY_LISTEN_NOTIFICATIONS=false`, poll every 1 s).
- Nonces on Redis vs in memory: two gateway nodes on the same database, one with
  `GANTRY_REDIS_URL`, one without, pinned to core 0 (one measured at a time); the backend
  (nginx, 1 KiB) and wrk (1 thread, 32 connections, pre-signed requests with unique nonces,
  bench/auth.py's request files) on core 1. Rounds alternate; medians of requests/s.

Usage: bench/cluster.py [path/to/gantry] [rounds] [seconds]   Writes bench/results/cluster.md.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import auth  # noqa: E402  (pre-signed request files and the replaying wrk script)
import common  # noqa: E402  (shared helpers: nginx, REST, results)
import scale  # noqa: E402  (the 10,000 APIs and the probe)

GANTRY, ROUNDS, SECONDS = common.GANTRY, common.ROUNDS, common.SECONDS
CONSOLE = 19010
GATEWAYS = [19011, 19012]
MEMORY, REDIS = 19017, 19018
SWITCHES = 100
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_services():
    """PostgreSQL and Redis through scripts/services.sh; returns their URLs and directories."""
    script = f"source {ROOT}/scripts/common.sh; source {ROOT}/scripts/services.sh; start_postgres >&2; start_redis >&2; " \
             "echo \"$PG_URL $REDIS_URL $PG_DIR $REDIS_DIR\""
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout.split()
    return out


def stop_services(pg_dir, redis_dir):
    script = f"source {ROOT}/scripts/common.sh; source {ROOT}/scripts/services.sh; PG_DIR={pg_dir}; REDIS_DIR={redis_dir}; " \
             "SERVICES_STARTED=(postgres redis); stop_services"
    subprocess.run(["bash", "-c", script], check=False)


def node(work, name, role, database, extra, core=None):
    env = dict(os.environ, GANTRY_ROLE=role, GANTRY_DATA_DIR=os.path.join(work, name), GANTRY_DATABASE_URL=database,
               GANTRY_SECRET_KEY="22" * 32, GANTRY_ADMIN_PASSWORD="bench-password", GANTRY_LOG="warn",
               GANTRY_CONSOLE_ADDR=f"127.0.0.1:{CONSOLE}", GANTRY_GATEWAY_TLS_ADDR="127.0.0.1:0",
               GANTRY_ADMIN_ADDR="127.0.0.1:0", **extra)
    command = ([] if core is None else ["taskset", "-c", str(core)]) + [GANTRY, "serve"]
    return subprocess.Popen(command, env=env), env


def get(port, path, host):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.read().decode()
    except Exception:
        return None


def wait_status(port, path, host, status):
    for _ in range(600):
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host})
            with urllib.request.urlopen(request, timeout=1) as response:
                code = response.status
        except urllib.error.HTTPError as error:
            code = error.code
        except Exception:
            code = None
        if code == status:
            return
        time.sleep(0.05)
    raise SystemExit(f"127.0.0.1:{port}{path} never answered {status}")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def switch_timings(rest, ports):
    timings = []
    for n in range(SWITCHES):
        version = "2" if n % 2 == 0 else "1"
        started = time.perf_counter()
        rest("PUT", "/groups/large/deployments/prod",
             {"version": version, "backend": {"type": "http", "address": f"http://127.0.0.1:{common.BACKEND}"}})
        returned = time.perf_counter()
        for port in ports:
            while get(port, "/probe", "large.localhost") != f"version {version}":
                pass
        timings.append(((returned - started) * 1000, (time.perf_counter() - started) * 1000))
    return timings


def main():
    common.ensure_tools()
    work = tempfile.mkdtemp(prefix="gantry-cluster-bench-")
    pg_url, redis_url, pg_dir, redis_dir = start_services()
    subprocess.run(["psql", "-q", pg_url, "-c", "CREATE DATABASE gantry"], check=True)
    database = pg_url.rsplit("/", 1)[0] + "/gantry"
    procs = []
    try:
        procs.append(common.start_backend(work))
        console, env = node(work, "console", "console", database, {"GANTRY_GATEWAY_ADDR": f"127.0.0.1:{GATEWAYS[0]}"})
        procs.append(console)
        common.wait_for(f"http://127.0.0.1:{CONSOLE}/login")
        token = subprocess.run([GANTRY, "token", "create", "--name", "bench"], env=env, check=True,
                               capture_output=True, text=True).stdout.strip()

        def rest(method, path, body=None, text=None):
            return common.rest(method, path, token, body, text, console=CONSOLE)

        rest("POST", "/groups", {"name": "large", "subdomain": "large"})
        common.seed_apis(rest, "large", scale.apis(10_000, probe=True))
        rest("POST", "/groups/large/versions", {"label": "1"})
        scale.set_probe(rest, "version 2")
        rest("POST", "/groups/large/versions", {"label": "2"})
        rest("PUT", "/groups/large/deployments/prod",
             {"version": "1", "backend": {"type": "http", "address": f"http://127.0.0.1:{common.BACKEND}"}})

        releases = {}
        for listen in (True, False):
            for count in (1, 2):
                nodes = []
                for port in GATEWAYS[:count]:
                    process, _ = node(work, f"gw{port}-{listen}", "gateway", database,
                                      {"GANTRY_GATEWAY_ADDR": f"127.0.0.1:{port}",
                                       "GANTRY_LISTEN_NOTIFICATIONS": "true" if listen else "false"})
                    nodes.append(process)
                for port in GATEWAYS[:count]:
                    common.wait_for(f"http://127.0.0.1:{port}/probe", {"Host": "large.localhost"})
                time.sleep(2)  # registered and heartbeating: the roll-out waits for them
                releases[(count, listen)] = switch_timings(rest, GATEWAYS[:count])
                common.stop(nodes)
                time.sleep(6)  # stopped nodes go stale; the next configuration starts clean

        throughput = nonces(work, rest, database, redis_url)
        report(releases, throughput)
    finally:
        common.stop(procs)
        stop_services(pg_dir, redis_dir)


def nonces(work, rest, database, redis_url):
    rest("POST", "/groups", {"name": "bench", "subdomain": "bench"})
    api = rest("POST", "/groups/bench/apis", {"name": "Signed", "auth": "app", "request": {"method": "GET", "path": "/signed"},
                                              "backend": {"http": {"path": "/bench"}}})
    rest("POST", "/groups/bench/versions", {"label": "1"})
    rest("PUT", "/groups/bench/deployments/prod",
         {"version": "1", "backend": {"type": "http", "address": f"http://127.0.0.1:{common.BACKEND}"}})
    app = rest("POST", "/apps", {"name": "bench"})
    rest("POST", "/apps/bench/authorizations", {"group": "bench", "apis": [api["id"]], "env": "prod"})
    nodes = []
    for port, extra in ((MEMORY, {}), (REDIS, {"GANTRY_REDIS_URL": redis_url})):
        process, _ = node(work, f"nonce{port}", "gateway", database, dict(extra, GANTRY_GATEWAY_ADDR=f"127.0.0.1:{port}"), core=0)
        nodes.append(process)
    script = os.path.join(work, "replay.lua")
    with open(script, "w") as f:
        f.write(auth.LUA)
    results = {"memory": [], "redis": []}
    errors = {"memory": 0, "redis": 0}
    try:
        for port in (MEMORY, REDIS):
            wait_status(port, "/signed", "bench.localhost", 401)  # live there: unsigned is refused
        for _ in range(ROUNDS):
            for name, port in (("memory", MEMORY), ("redis", REDIS)):
                requests = auth.request_file(work, "signed", app)
                command = ["taskset", "-c", "1", "wrk", "-t1", "-c32", f"-d{SECONDS}s", "-s", script,
                           f"http://127.0.0.1:{port}/", "--", requests]
                rate, _total, failed = common.wrk_output(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
                results[name].append(rate)
                errors[name] += failed
    finally:
        common.stop(nodes)
    return results, errors


def report(releases, throughput):
    median = statistics.median
    lines = [f"# Cluster mode: release → served on every gateway node, and nonces on Redis", "",
             f"Binary: `{GANTRY}`. One console node and 1–2 gateway nodes on one PostgreSQL; {SWITCHES} switches "
             "between two versions of a group with 10,001 live APIs per configuration.", "",
             "| gateway nodes | follows by | REST call p50 ms | p99 ms | call start → served on every node p50 ms | p99 ms |",
             "|---|---|---|---|---|---|"]
    goals = []
    for (count, listen), timings in releases.items():
        calls = [t[0] for t in timings]
        served = [t[1] for t in timings]
        how = "NOTIFY + poll" if listen else "poll (1 s) alone"
        lines.append(f"| {count} | {how} | {percentile(calls, 50):.1f} | {percentile(calls, 99):.1f} | "
                     f"{percentile(served, 50):.1f} | {percentile(served, 99):.1f} |")
        goal = 100 if listen else 1100
        p99 = percentile(served, 99)
        goals.append(f"- {count} node(s), {how}: p99 **{p99:.1f} ms** (goal ≤ {goal} ms: {'met' if p99 <= goal else 'not met'})")
    results, errors = throughput
    memory, redis = median(results["memory"]), median(results["redis"])
    lines += ["", *goals, "",
              f"## Signed requests, nonces in memory vs on Redis ({ROUNDS} alternating rounds of {SECONDS} s)", "",
              "| nonce store | median req/s | spread | non-2xx |", "|---|---|---|---|",
              f"| memory | {memory:,.0f} | {min(results['memory']):,.0f}–{max(results['memory']):,.0f} | {errors['memory']} |",
              f"| Redis | {redis:,.0f} | {min(results['redis']):,.0f}–{max(results['redis']):,.0f} | {errors['redis']} |",
              "", f"- Redis / memory throughput: **{redis / memory:.2f}** (reported; the issue sets no goal)"]
    common.write_result("cluster", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
