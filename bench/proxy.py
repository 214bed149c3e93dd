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

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

GANTRY = sys.argv[1] if len(sys.argv) > 1 else "target/perf/gantry"
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
SECONDS = int(sys.argv[3]) if len(sys.argv) > 3 else 5
BACKEND, NGINX, CONSOLE, GATEWAY = 19001, 19002, 19003, 19004
TICK = os.sysconf("SC_CLK_TCK")


def ensure_tools():
    missing = [tool for tool in ("nginx", "wrk", "taskset") if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}")]
    if missing:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "nginx", "wrk", "util-linux"], check=True)


def nginx_binary():
    return shutil.which("nginx") or "/usr/sbin/nginx"


def start_nginx(work, name, server_block, core):
    conf = os.path.join(work, f"{name}.conf")
    with open(conf, "w") as f:
        f.write(f"""
worker_processes 1;
daemon off;
pid {work}/{name}.pid;
error_log {work}/{name}.error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    {server_block}
}}
""")
    return subprocess.Popen(["taskset", "-c", str(core), nginx_binary(), "-c", conf, "-p", work],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_backend(work):
    """nginx serving a 1 KiB body with keep-alive on BACKEND, pinned to core 1."""
    return start_nginx(work, "backend", f"""
    server {{ listen 127.0.0.1:{BACKEND}; keepalive_timeout 300s;
        location / {{ default_type text/plain; return 200 '{"x" * 1024}'; }} }}""", 1)


def start_gantry(work):
    """Gantry pinned to core 0 with its data in `work`/data; returns (process, rest) once the
    console answers, `rest(method, path, body)` calling the admin API with a fresh token."""
    env = dict(os.environ, GANTRY_DATA_DIR=os.path.join(work, "data"), GANTRY_CONSOLE_ADDR=f"127.0.0.1:{CONSOLE}",
               GANTRY_GATEWAY_ADDR=f"127.0.0.1:{GATEWAY}", GANTRY_ADMIN_PASSWORD="bench-password", GANTRY_LOG="warn")
    process = subprocess.Popen(["taskset", "-c", "0", GANTRY, "serve"], env=env)
    wait_for(f"http://127.0.0.1:{CONSOLE}/login")
    token = subprocess.run([GANTRY, "token", "create", "--name", "bench"], env=env, check=True,
                           capture_output=True, text=True).stdout.strip()
    return process, lambda method, path, body=None: rest(method, path, token, body)


def stop(procs):
    """Terminates the processes, killing those that do not stop within 10 s."""
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()


def wait_for(url, headers=None):
    for _ in range(3000):
        try:
            urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=1)
            return
        except Exception:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not come up")


def rest(method, path, token, body=None):
    request = urllib.request.Request(f"http://127.0.0.1:{CONSOLE}/api/admin/v1{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        text = response.read()
        return json.loads(text) if text else None


def write_result(name, text):
    """Prints a results table and writes it to bench/results/`name`.md."""
    print(text)
    os.makedirs("bench/results", exist_ok=True)
    with open(f"bench/results/{name}.md", "w") as f:
        f.write(text)


def cpu_ticks(pids, split=False):
    """CPU time of `pids` in clock ticks: user + system, or (user, system) with `split`."""
    user = system = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            user += int(fields[11])
            system += int(fields[12])
        except FileNotFoundError:
            pass
    return (user, system) if split else user + system


def process_tree(root):
    pids = [root]
    for line in subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout.splitlines():
        pid, ppid = map(int, line.split())
        if ppid == root:
            pids.append(pid)
    return pids


def wrk(port, host=None):
    command = ["taskset", "-c", "1", "wrk", "-t1", "-c32", f"-d{SECONDS}s", f"http://127.0.0.1:{port}/bench"]
    if host:
        command[5:5] = ["-H", f"Host: {host}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    total = int(re.search(r"(\d+) requests in", output).group(1))
    return rate, total, int(errors.group(1)) if errors else 0


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
        results = {name: {"rate": [], "cpu_us": [], "user_us": [], "system_us": [], "errors": 0} for name in targets}
        for _ in range(ROUNDS):
            for name, (port, host, pids) in targets.items():
                before = cpu_ticks(pids, split=True) if pids else (0, 0)
                rate, total, errors = wrk(port, host)
                results[name]["rate"].append(rate)
                results[name]["errors"] += errors
                if pids:
                    user, system = (after - b for after, b in zip(cpu_ticks(pids, split=True), before))
                    per_request = lambda ticks: ticks / TICK * 1e6 / max(total, 1)
                    results[name]["cpu_us"].append(per_request(user + system))
                    results[name]["user_us"].append(per_request(user))
                    results[name]["system_us"].append(per_request(system))
        report(results)
    finally:
        stop(procs)


def report(results):
    median = lambda xs: statistics.median(xs) if xs else float("nan")
    lines = [f"# Gateway throughput and CPU per request ({ROUNDS} alternating rounds of {SECONDS} s, 1 KiB body)", "",
             f"Binary: `{GANTRY}`. Proxy under test on core 0; backend (nginx) and wrk (1 thread, 32 connections) on core 1.", "",
             "| target | median req/s | spread req/s | proxy CPU µs/request (median) | of which user | of which kernel | non-2xx |",
             "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        cpu, user, system = (f"{median(r[k]):.1f}" if r[k] else "-" for k in ("cpu_us", "user_us", "system_us"))
        lines.append(f"| {name} | {median(r['rate']):,.0f} | {min(r['rate']):,.0f}–{max(r['rate']):,.0f} | {cpu} | {user} | {system} | {r['errors']} |")
    g, n, d = median(results["gantry"]["rate"]), median(results["nginx"]["rate"]), median(results["direct"]["rate"])
    cpu = median(results['gantry']['cpu_us']) / median(results['nginx']['cpu_us'])
    lines += ["", f"- Throughput Gantry / nginx: **{g / n:.2f}** (goal >= 1.0: {'met' if g >= n else 'not met'})",
              f"- Gantry / direct: {g / d:.2f}; nginx / direct: {n / d:.2f}",
              f"- CPU per request Gantry / nginx: **{cpu:.2f}** (goal <= 0.8: {'met' if cpu <= 0.8 else 'not met'})",
              f"- Kernel time alone (the same four socket calls per request in both proxies): nginx "
              f"{median(results['nginx']['system_us']):.1f} µs, Gantry {median(results['gantry']['system_us']):.1f} µs per request; "
              f"0.8 × nginx's total is {0.8 * median(results['nginx']['cpu_us']):.1f} µs"]
    text = "\n".join(lines) + "\n"
    write_result("proxy", text)


if __name__ == "__main__":
    main()
