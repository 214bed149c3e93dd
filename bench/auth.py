#!/usr/bin/env python3
"""Auth cost: the same pass-through API called unsigned, with an AppCode, and signed with
the X-Ca HMAC scheme (a fresh nonce per request), through Gantry's gateway in one run
(issue 7's benchmark note; issue 11's "auth cost"; goal: signed >= 0.9x unsigned).

Method
- Backend: nginx serving a 1 KiB body with keep-alive, pinned to core 1; Gantry's gateway
  pinned to core 0; wrk (1 thread, 32 connections) pinned to core 1.
- Every request of every variant is pre-built (by bench/auth.py, before the round) and
  replayed by the same wrk Lua script, so the load generator does the same work for each;
  the unsigned variant carries the same X-Ca headers to an `auth = none` API.
- Signed requests are signed by server/tests/support/xca_sign.py (the independent signer
  of the tests) with unique nonces; each round gets fresh ones.
- Rounds alternate the variants; medians and spread of requests/s, the gateway's CPU per
  request from /proc/<pid>/stat, and non-2xx counts (a non-2xx would be a refused request).

Usage: bench/auth.py [path/to/gantry] [rounds] [seconds]   Writes bench/results/auth.md.
"""

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "server", "tests", "support"))
import common  # noqa: E402  (shared helpers: nginx, Gantry, REST, CPU ticks)
from xca_sign import sign  # noqa: E402

GANTRY, ROUNDS, SECONDS = common.GANTRY, common.ROUNDS, common.SECONDS
BACKEND, CONSOLE, GATEWAY = common.BACKEND, common.CONSOLE, common.GATEWAY
HOST = "bench.localhost"
POOL = 60_000 * SECONDS  # more requests than a round can send: no nonce is reused

LUA = r"""
local requests, i = {}, 0
init = function(args)
  for line in io.lines(args[1]) do
    local fields, headers = {}, {}
    for field in string.gmatch(line, "[^\t]+") do fields[#fields + 1] = field end
    for k = 2, #fields do
      local name, value = string.match(fields[k], "^([^:]+): (.*)$")
      headers[name] = value
    end
    requests[#requests + 1] = wrk.format("GET", fields[1], headers)
  end
end
local reported = false
response = function(status, headers, body)
  if status ~= 200 and not reported then
    reported = true
    io.stderr:write("first non-200: " .. status .. " " .. body .. "\n")
  end
end
request = function()
  i = i + 1
  if i > #requests then i = 1 end
  return requests[i]
end
"""


def request_file(work, variant, app, count=POOL):
    """Writes `count` requests for `variant`, one per line: path, then `name: value` fields."""
    path = os.path.join(work, f"{variant}.txt")
    now = int(time.time() * 1000)
    with open(path, "w") as f:
        for n in range(count):
            base = {"host": HOST, "accept": "*/*"}
            if variant == "appcode":
                headers, target = dict(base, authorization=f"APPCODE {app['app_code']}"), "/signed"
            else:
                signed = sign({"method": "GET", "path": "/signed" if variant == "signed" else "/open",
                               "query": [], "headers": base, "body": "", "key": app["app_key"],
                               "secret": app["app_secret"], "timestamp": now, "nonce": uuid.uuid4().hex})
                headers, target = signed["headers"], "/signed" if variant == "signed" else "/open"
            # wrk adds its own Host unless the table has exactly `Host`.
            f.write(target + "\t" + "\t".join(f"{'Host' if k == 'host' else k}: {v}" for k, v in headers.items()) + "\n")
    return path


def wrk(script, requests):
    command = ["taskset", "-c", "1", "wrk", "-t1", "-c32", f"-d{SECONDS}s", "-s", script,
               f"http://127.0.0.1:{GATEWAY}/", "--", requests]
    run = subprocess.run(command, capture_output=True, text=True, check=True)
    output = run.stdout
    if run.stderr.strip():
        print(run.stderr.strip(), file=sys.stderr)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    total = int(re.search(r"(\d+) requests in", output).group(1))
    return rate, total, int(errors.group(1)) if errors else 0


def main():
    common.ensure_tools()
    work = tempfile.mkdtemp(prefix="gantry-auth-bench-")
    script = os.path.join(work, "replay.lua")
    with open(script, "w") as f:
        f.write(LUA)
    procs, gantry, rest = common.start_backend_and_gantry(work)
    try:
        rest("POST", "/groups", {"name": "bench", "subdomain": "bench"})
        ids = [rest("POST", "/groups/bench/apis", {"name": name, "auth": auth, "request": {"method": "GET", "path": path},
                                                   "backend": {"http": {"path": "/bench"}}})["id"]
               for name, path, auth in [("Open", "/open", "none"), ("Signed", "/signed", "app")]]
        rest("POST", "/groups/bench/versions", {"label": "1"})
        rest("PUT", "/groups/bench/deployments/prod",
             {"version": "1", "backend": {"type": "http", "address": f"http://127.0.0.1:{BACKEND}"}})
        app = rest("POST", "/apps", {"name": "bench"})
        rest("POST", "/apps/bench/authorizations", {"group": "bench", "apis": ids, "env": "prod"})
        common.wait_for(f"http://127.0.0.1:{GATEWAY}/open", {"Host": HOST})

        variants = ["unsigned", "appcode", "signed"]
        results = {name: {"rate": [], "cpu_us": [], "user_us": [], "errors": 0} for name in variants}
        for name in variants:  # every variant must answer 200 before it is measured
            with open(request_file(work, name, app, 1)) as f:
                path, *fields = f.readline().rstrip("\n").split("\t")
            headers = dict(field.split(": ", 1) for field in fields)
            try:
                with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{GATEWAY}{path}", headers=headers)) as r:
                    assert r.status == 200
            except urllib.error.HTTPError as e:
                raise SystemExit(f"{name}: {e.code} {e.headers.get('x-ca-error-code')} {e.headers.get('x-ca-error-message')}")
        for _ in range(ROUNDS):
            for name in variants:
                requests = request_file(work, name, app)
                before = common.cpu_ticks([gantry.pid], split=True)
                rate, total, errors = wrk(script, requests)
                user, system = (after - b for after, b in zip(common.cpu_ticks([gantry.pid], split=True), before))
                results[name]["rate"].append(rate)
                results[name]["errors"] += errors
                results[name]["cpu_us"].append((user + system) / common.TICK * 1e6 / max(total, 1))
                results[name]["user_us"].append(user / common.TICK * 1e6 / max(total, 1))
        report(results)
    finally:
        common.stop(procs)


def report(results):
    median = statistics.median
    lines = [f"# Auth cost through the gateway ({ROUNDS} alternating rounds of {SECONDS} s, 1 KiB body)", "",
             f"Binary: `{GANTRY}`. Gateway on core 0; backend (nginx) and wrk (1 thread, 32 connections, pre-built requests) on core 1.", "",
             "| variant | median req/s | spread req/s | gateway CPU µs/request (median) | of which user | non-2xx |",
             "|---|---|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {median(r['rate']):,.0f} | {min(r['rate']):,.0f}–{max(r['rate']):,.0f} | "
                     f"{median(r['cpu_us']):.1f} | {median(r['user_us']):.1f} | {r['errors']} |")
    u, a, s = (median(results[n]["rate"]) for n in ("unsigned", "appcode", "signed"))
    lines += ["", f"- Signed / unsigned throughput: **{s / u:.2f}** (goal >= 0.9: {'met' if s / u >= 0.9 else 'not met'})",
              f"- AppCode / unsigned: {a / u:.2f}"]
    text = "\n".join(lines) + "\n"
    common.write_result("auth", text)


if __name__ == "__main__":
    main()
