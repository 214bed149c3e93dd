#!/usr/bin/env python3
"""User-space instructions per proxied request, Gantry against nginx, both under callgrind in
one run (issue 27's acceptance; the method of bench/README.md).

Method
- Backend: nginx serving a 1 KiB body with keep-alive (not under valgrind).
- Each proxy runs under `valgrind --tool=callgrind --instr-atstart=no`: nginx as one process
  (`master_process off`), Gantry as it runs (`gantry serve`, every thread counted).
- Warm-up with wrk, then instrumentation on (`callgrind_control -i on`), wrk for the measured
  seconds, instrumentation off and a dump; the instructions counted (`Ir`) divided by the
  requests wrk completed in the measured window. Deterministic, whatever else the machine
  does; valgrind runs the proxy about 50 times slower, which is why the load is light.

Usage: bench/callgrind.py [path/to/gantry] [rounds, unused] [seconds]
Writes bench/results/callgrind.md. For profiling: `CALLGRIND_KEEP=dir` copies Gantry's dumps
there, and nginx's unless skipped (read them with `callgrind_annotate --inclusive=yes`), and `CALLGRIND_ONLY=gantry` skips
nginx (and writes no results file); `CALLGRIND_ARGS` adds valgrind options (`--dump-instr=yes`
counts each call site: `callgrind_annotate --auto=no` then lists them by address).
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

VALGRIND = ["valgrind", "--tool=callgrind", "--instr-atstart=no"] + os.environ.get("CALLGRIND_ARGS", "").split()


def ensure_valgrind():
    if not os.path.exists("/usr/bin/valgrind"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "valgrind"], check=True)


def wrk(port, host, seconds):
    command = ["taskset", "-c", "1", "wrk", "-t1", "-c4", f"-d{seconds}s", f"http://127.0.0.1:{port}/bench"]
    if host:
        command[5:5] = ["-H", f"Host: {host}"]
    rate, total, failed = common.wrk_output(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    return total, failed


def measure(pid, port, host, out_prefix, seconds):
    """Instructions per request of process `pid` while wrk loads `port`."""
    wrk(port, host, 3)
    subprocess.run(["callgrind_control", "-i", "on", str(pid)], check=True, capture_output=True)
    total, failed = wrk(port, host, seconds)
    subprocess.run(["callgrind_control", "-i", "off", str(pid)], check=True, capture_output=True)
    subprocess.run(["callgrind_control", "-d", str(pid)], check=True, capture_output=True)
    time.sleep(1)
    # Each dump ends with what it counted (`totals: <Ir>`): the measured window's, and none
    # for the rest, with instrumentation off.
    instructions = 0
    for dump in glob.glob(f"{out_prefix}*"):
        with open(dump, errors="replace") as f:
            totals = [int(m.group(1)) for m in (re.match(r"totals:\s+(\d+)", line) for line in f) if m]
        instructions += sum(totals)
    if failed:
        raise SystemExit(f"{failed} failed requests on port {port}")
    return instructions / max(total, 1), total


def keep(out_prefix):
    """With `CALLGRIND_KEEP=dir`, copies the dumps of `out_prefix` there."""
    if os.environ.get("CALLGRIND_KEEP"):
        os.makedirs(os.environ["CALLGRIND_KEEP"], exist_ok=True)
        for dump in glob.glob(f"{out_prefix}*"):
            shutil.copy(dump, os.environ["CALLGRIND_KEEP"])


def main():
    common.ensure_tools()
    ensure_valgrind()
    seconds = common.SECONDS
    work = tempfile.mkdtemp(prefix="gantry-callgrind-")
    procs = []
    try:
        procs.append(common.start_backend(work))
        conf = os.path.join(work, "proxy.conf")
        with open(conf, "w") as f:
            f.write(f"""
worker_processes 1;
master_process off;
daemon off;
pid {work}/proxy.pid;
error_log {work}/proxy.error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    upstream backend {{ server 127.0.0.1:{common.BACKEND}; keepalive 64; }}
    server {{ listen 127.0.0.1:{common.NGINX}; keepalive_timeout 300s;
        location / {{ proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }} }}
}}
""")
        nginx_out = os.path.join(work, "nginx.callgrind")
        nginx = subprocess.Popen(["taskset", "-c", "0", *VALGRIND, f"--callgrind-out-file={nginx_out}",
                                  common.nginx_binary(), "-c", conf, "-p", work],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(nginx)
        common.wait_for(f"http://127.0.0.1:{common.BACKEND}/bench")
        common.wait_for(f"http://127.0.0.1:{common.NGINX}/bench")
        if os.environ.get("CALLGRIND_ONLY") == "gantry":
            nginx_per, nginx_total = 0, 0
        else:
            nginx_per, nginx_total = measure(nginx.pid, common.NGINX, None, nginx_out, seconds)
        common.stop([nginx])
        procs.remove(nginx)
        keep(nginx_out)

        # Gantry: set up on a normal run, then started again under valgrind on the same data.
        gantry, call = common.start_gantry(work)
        call("POST", "/groups", {"name": "bench", "subdomain": "bench"})
        call("POST", "/groups/bench/apis", {"name": "Bench", "request": {"method": "GET", "path": "/bench"}})
        call("POST", "/groups/bench/versions", {"label": "1"})
        call("PUT", "/groups/bench/deployments/prod",
             {"version": "1", "backend": {"type": "http", "address": f"http://127.0.0.1:{common.BACKEND}"}})
        common.stop([gantry])
        gantry_out = os.path.join(work, "gantry.callgrind")
        env = dict(os.environ, GANTRY_DATA_DIR=os.path.join(work, "data"),
                   GANTRY_CONSOLE_ADDR=f"127.0.0.1:{common.CONSOLE}", GANTRY_GATEWAY_ADDR=f"127.0.0.1:{common.GATEWAY}",
                   GANTRY_GATEWAY_TLS_ADDR=f"127.0.0.1:{common.GATEWAY_TLS}", GANTRY_ADMIN_PASSWORD="bench-password",
                   GANTRY_LOG="warn")
        gantry = subprocess.Popen(["taskset", "-c", "0", *VALGRIND, f"--callgrind-out-file={gantry_out}",
                                   common.GANTRY, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(gantry)
        common.wait_for(f"http://127.0.0.1:{common.GATEWAY}/bench", {"Host": "bench.localhost"})
        gantry_per, gantry_total = measure(gantry.pid, common.GATEWAY, "bench.localhost", gantry_out, seconds)
        keep(gantry_out)
    finally:
        common.stop(procs)

    text = f"""# User-space instructions per proxied request (callgrind, one run)

Binary: `{common.GANTRY}`. Both proxies under `valgrind --tool=callgrind --instr-atstart=no`, instrumentation
on for {seconds} s of wrk (1 thread, 4 connections) after a 3 s warm-up; 1 KiB body from an nginx backend.

| proxy | instructions / request | requests measured |
|---|---|---|
| nginx | {nginx_per:,.0f} | {nginx_total:,} |
| gantry | {gantry_per:,.0f} | {gantry_total:,} |

- Gantry / nginx: **{gantry_per / max(nginx_per, 1):.2f}**
"""
    if os.environ.get("CALLGRIND_ONLY") == "gantry":
        print(f"gantry: {gantry_per:,.0f} instructions / request over {gantry_total:,} requests")
        return
    common.write_result("callgrind", text)


if __name__ == "__main__":
    main()
