"""A/B of two Gantry binaries on the proxy benchmark's path (GET through the gateway to nginx
serving 1 KiB), alternating rounds, both pinned to core 0 (one idle while the other runs);
backend and wrk on core 1. For "no regression beyond noise" checks between commits:

    python3 bench/ab.py OLD_BINARY NEW_BINARY [ROUNDS]

Prints each binary's median req/s (with spread) and gateway CPU per request, and the ratios.
Writes nothing."""
import os, sys, subprocess, tempfile, statistics
if len(sys.argv) < 3:
    raise SystemExit(__doc__)
BINS = {"base": sys.argv[1], "new": sys.argv[2]}
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 6
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.argv = ["proxy.py", "x", "1", "5"]
import common  # noqa: E402  (shared helpers)
import proxy  # noqa: E402  (its wrk: 5 s rounds)

def start(binary, work, console, gateway):
    env = dict(os.environ, GANTRY_DATA_DIR=os.path.join(work, "data"), GANTRY_CONSOLE_ADDR=f"127.0.0.1:{console}",
               GANTRY_GATEWAY_ADDR=f"127.0.0.1:{gateway}", GANTRY_GATEWAY_TLS_ADDR="127.0.0.1:0", GANTRY_ADMIN_PASSWORD="bench-password", GANTRY_LOG="warn")
    p = subprocess.Popen(["taskset", "-c", "0", binary, "serve"], env=env)
    common.wait_for(f"http://127.0.0.1:{console}/login")
    token = subprocess.run([binary, "token", "create", "--name", "ab"], env=env, check=True, capture_output=True, text=True).stdout.strip()
    def call(method, path, body=None):
        import json, urllib.request
        req = urllib.request.Request(f"http://127.0.0.1:{console}/api/admin/v1{path}", method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req) as r:
            return r.read()
    call("POST", "/groups", {"name": "bench", "subdomain": "bench"})
    call("POST", "/groups/bench/apis", {"name": "Bench", "request": {"method": "GET", "path": "/bench"}})
    call("POST", "/groups/bench/versions", {"label": "1"})
    call("PUT", "/groups/bench/deployments/prod", {"version": "1", "backend": {"type": "http", "address": f"http://127.0.0.1:{common.BACKEND}"}})
    common.wait_for(f"http://127.0.0.1:{gateway}/bench", {"Host": "bench.localhost"})
    return p

work = tempfile.mkdtemp(prefix="gantry-ab-")
procs = [common.start_backend(work)]
try:
    common.wait_for(f"http://127.0.0.1:{common.BACKEND}/bench")
    ports = {"base": (19103, 19104), "new": (19203, 19204)}
    pids = {}
    for name, binary in BINS.items():
        d = os.path.join(work, name); os.makedirs(d)
        p = start(binary, d, *ports[name]); procs.append(p); pids[name] = p.pid
    res = {n: {"rate": [], "cpu": []} for n in BINS}
    for _ in range(ROUNDS):
        for name in BINS:
            before = common.cpu_ticks([pids[name]])
            rate, total, errors, _p99 = proxy.wrk(ports[name][1], "bench.localhost")
            after = common.cpu_ticks([pids[name]])
            res[name]["rate"].append(rate)
            res[name]["cpu"].append((after - before) / common.TICK * 1e6 / max(total, 1))
            assert errors == 0, (name, errors)
    for name in BINS:
        r = res[name]
        print(f"{name}: median {statistics.median(r['rate']):,.0f} req/s (spread {min(r['rate']):,.0f}-{max(r['rate']):,.0f}), CPU {statistics.median(r['cpu']):.1f} us/request")
    print(f"new/base throughput: {statistics.median(res['new']['rate'])/statistics.median(res['base']['rate']):.3f}; CPU: {statistics.median(res['new']['cpu'])/statistics.median(res['base']['cpu']):.3f}")
    # Each round's own ratio (the two ran back to back): steadier on a host whose speed drifts.
    paired = lambda key: statistics.median(n / b for n, b in zip(res["new"][key], res["base"][key]))
    print(f"median of the rounds' ratios: throughput {paired('rate'):.3f}, CPU {paired('cpu'):.3f}")
finally:
    common.stop(procs)
