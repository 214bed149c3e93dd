"""What every benchmark shares: the binary and round settings from the command line, the
ports, starting and stopping nginx (backend or peer proxy) and Gantry, the admin REST API,
seeding APIs through it, CPU time from /proc, wrk's output, and writing results.

Nothing here writes to Gantry's database: APIs are seeded through the admin REST API (one
OpenAPI import per chunk, each API's exact definition in `x-gantry-api`), the way a user
would, so a benchmark cannot depend on the schema.

Usage from a script in bench/:

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import common
    gantry, rest = common.start_gantry(work)
    common.seed_apis(rest, "large", specs)
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

GANTRY = sys.argv[1] if len(sys.argv) > 1 else "target/perf/gantry"
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
SECONDS = int(sys.argv[3]) if len(sys.argv) > 3 else 5
BACKEND, NGINX, CONSOLE, GATEWAY, GATEWAY_TLS = 19001, 19002, 19003, 19004, 19005
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


def start_gantry(work, ports=(None, None, None), extra_env=None, data="data", log=None):
    """Gantry pinned to core 0 with its data in `work`/`data`; returns (process, rest) once the
    console answers, `rest(method, path, body)` calling the admin API with a fresh token.
    `ports` (console, gateway, HTTPS gateway) default to the common ones; `log` (a file)
    takes its output."""
    console, gateway, gateway_tls = (p or d for p, d in zip(ports, (CONSOLE, GATEWAY, GATEWAY_TLS)))
    env = dict(os.environ, GANTRY_DATA_DIR=os.path.join(work, data), GANTRY_CONSOLE_ADDR=f"127.0.0.1:{console}",
               GANTRY_GATEWAY_ADDR=f"127.0.0.1:{gateway}",
               GANTRY_GATEWAY_TLS_ADDR=f"127.0.0.1:{gateway_tls}", GANTRY_ADMIN_PASSWORD="bench-password", GANTRY_LOG="warn",
               **(extra_env or {}))
    process = subprocess.Popen(["taskset", "-c", "0", GANTRY, "serve"], env=env, stdout=log, stderr=log)
    wait_for(f"http://127.0.0.1:{console}/login")
    token = subprocess.run([GANTRY, "token", "create", "--name", "bench"], env=env, check=True,
                           capture_output=True, text=True).stdout.strip()
    return process, lambda method, path, body=None, text=None: rest(method, path, token, body, text, console)


def start_backend_and_gantry(work):
    """The backend (`start_backend`) and Gantry (`start_gantry`), both answering; returns
    (processes to `stop`, Gantry's process, `rest`). Stops what it started if either fails."""
    procs = [start_backend(work)]
    try:
        gantry, rest = start_gantry(work)
        procs.append(gantry)
        wait_for(f"http://127.0.0.1:{BACKEND}/bench")
    except BaseException:
        stop(procs)
        raise
    return procs, gantry, rest


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


def rest(method, path, token, body=None, text=None, console=None):
    """Calls the admin REST API with a JSON `body` (or a plain `text` body); the JSON answer."""
    data = text.encode() if text is not None else json.dumps(body).encode() if body is not None else None
    kind = "text/plain" if text is not None else "application/json"
    request = urllib.request.Request(f"http://127.0.0.1:{console or CONSOLE}/api/admin/v1{path}", method=method,
                                     data=data, headers={"Authorization": f"Bearer {token}", "Content-Type": kind})
    with urllib.request.urlopen(request) as response:
        text = response.read()
        return json.loads(text) if text else None


def write_result(name, text):
    """Prints a results table and writes it to bench/results/`name`.md."""
    print(text)
    os.makedirs("bench/results", exist_ok=True)
    with open(f"bench/results/{name}.md", "w") as f:
        f.write(text)


def record_rounds(name, rounds):
    """Appends this run's rounds, each a dict of numbers, to bench/results/rounds/`name`.jsonl
    with the commit measured (`+` when the work tree differs from it), so `bench/pool.py` can
    pool several runs of the same code: one run's few rounds move with the host."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ":!bench/results"],
                           capture_output=True, text=True).stdout.strip()
    run = {"commit": commit + ("+" if dirty else ""), "binary": GANTRY, "seconds": SECONDS,
           "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "rounds": rounds}
    os.makedirs("bench/results/rounds", exist_ok=True)
    with open(f"bench/results/rounds/{name}.jsonl", "a") as f:
        f.write(json.dumps(run) + "\n")


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


def thread_ticks(pid):
    """CPU time (user + system, clock ticks) of each thread of `pid`, summed by thread name."""
    ticks = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                text = f.read()
        except FileNotFoundError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        ticks[name] = ticks.get(name, 0) + int(fields[11]) + int(fields[12])
    return ticks


def process_tree(root):
    pids = [root]
    for line in subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout.splitlines():
        pid, ppid = map(int, line.split())
        if ppid == root:
            pids.append(pid)
    return pids


def api_spec(name, path, method="GET", auth="none", mock=None):
    """An API definition as the REST API and `seed_apis` take it: pass-through to the
    deployment's backend, or a Mock answering 200 with `mock` as its body; a `{id}` in the
    path is an int path parameter."""
    return {"name": name, "description": "", "auth": auth,
            "request": {"method": method, "path": path, "mode": "passthrough",
                        "params": [{"name": "id", "in": "path", "type": "int", "required": True}] if "{id}" in path else []},
            "backend": {"unified": mock is None, "type": "mock" if mock is not None else "http",
                        "http": {"mapping": [], "constants": [], "system": []},
                        "mock": {"status": 200, "headers": [], "body": mock or ""}, "function": {"code": ""}},
            "response": {"content_type": "application/json", "success_example": "", "error_example": ""}}


def seed_apis(rest, group, specs, chunk=1000):
    """Adds `specs` (API definitions as the REST API takes them) to `group`'s draft through
    the admin REST API: one OpenAPI import per `chunk` APIs, each operation carrying its exact
    definition in `x-gantry-api`. Every import is one transaction; any skipped operation fails
    the benchmark."""
    for first in range(0, len(specs), chunk):
        paths = {}
        for spec in specs[first:first + chunk]:
            method = spec["request"]["method"].lower()
            paths.setdefault(spec["request"]["path"], {})[method] = {"summary": spec["name"], "x-gantry-api": spec}
        document = json.dumps({"openapi": "3.1.0", "info": {"title": group, "version": "bench"}, "paths": paths})
        report = rest("POST", f"/groups/{group}/import", text=document)
        if report.get("skip") or not report.get("applied", True):
            raise SystemExit(f"seeding {group}: {report.get('skip')}")


def to_ms(text):
    """A latency as wrk prints it (`812.00us`, `1.91ms`, `1.02s`), in milliseconds."""
    match = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if not match:
        raise SystemExit(f"wrk printed a latency this script cannot read: {text!r}")
    value, unit = match.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk_output(output):
    """Requests/s, total requests and failed ones (non-2xx plus socket errors) from wrk."""
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    failed = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    return rate, total, failed
