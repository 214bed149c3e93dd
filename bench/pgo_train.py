#!/usr/bin/env python3
"""The training run of the profile-guided build (`scripts/build-perf.sh`): an instrumented
Gantry serves a mix of gateway traffic, then stops cleanly so it writes its profile.

The mix is what a gateway in front of an API sees, not one benchmark's request: pass-through
APIs (one API, and 1,000 APIs with a path parameter picked at random), a Mock API, an API for
apps called with an AppCode, requests no API matches (404), POSTs with a body, and new
connections per request. The benchmarks' own workloads (`proxy.py`, `scale.py`) are two of
these; `bench/results/proxy.md` gives the plain build next to the profile-guided one.

Usage: bench/pgo_train.py path/to/instrumented/gantry [seconds per workload]
"""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (shared helpers: nginx, Gantry, REST, seeding)

BACKEND, GATEWAY = common.BACKEND, common.GATEWAY
HOST = "train.localhost"
ITEMS = 1000
SPREAD = r"""
init = function(args) n = tonumber(args[1]) end
request = function()
  return wrk.format("GET", "/items/" .. math.random(0, n - 1) .. "/" .. math.random(1, 99999))
end
"""
POST = r"""
wrk.method = "POST"
wrk.body = string.rep("x", 2048)
wrk.headers["Content-Type"] = "application/octet-stream"
"""


def wrk(path, seconds, *extra, script=None, args=()):
    command = ["taskset", "-c", "1", "wrk", "-t1", "-c32", f"-d{seconds}s", "-H", f"Host: {HOST}", *extra]
    if script:
        command += ["-s", script]
    command += [f"http://127.0.0.1:{GATEWAY}{path}", "--", *args]
    rate, total, failed = common.wrk_output(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    print(f"  {path} {' '.join(extra)} {os.path.basename(script or '')}: {total} requests, {failed} not 2xx", flush=True)


def main():
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    common.ensure_tools()
    work = tempfile.mkdtemp(prefix="gantry-pgo-train-")
    scripts = {}
    for name, text in {"spread": SPREAD, "post": POST}.items():
        scripts[name] = os.path.join(work, f"{name}.lua")
        with open(scripts[name], "w") as f:
            f.write(text)
    procs, _, rest = common.start_backend_and_gantry(work)
    try:
        rest("POST", "/groups", {"name": "train", "subdomain": "train"})
        spec = common.api_spec
        specs = [spec(f"item-{i:04}", f"/items/{i}/{{id}}") for i in range(ITEMS)]
        specs += [spec("bench", "/bench"), spec("signed", "/signed", auth="app"), spec("mock", "/mock", mock='{"ok":true}'),
                  spec("upload", "/upload", method="POST")]
        common.seed_apis(rest, "train", specs)
        signed = rest("GET", "/groups/train/apis?q=signed&per_page=1")["items"][0]["id"]
        rest("POST", "/groups/train/versions", {"label": "1"})
        rest("PUT", "/groups/train/deployments/prod",
             {"version": "1", "backend": {"type": "http", "address": f"http://127.0.0.1:{BACKEND}"}})
        app = rest("POST", "/apps", {"name": "train"})
        rest("POST", "/apps/train/authorizations", {"group": "train", "apis": [signed], "env": "prod"})
        common.wait_for(f"http://127.0.0.1:{GATEWAY}/bench", {"Host": HOST})

        wrk("/bench", 2 * seconds)
        wrk("/", 2 * seconds, script=scripts["spread"], args=[str(ITEMS)])
        wrk("/mock", seconds)
        wrk("/signed", seconds, "-H", f"Authorization: APPCODE {app['app_code']}")
        wrk("/nowhere", seconds // 2 or 1)
        wrk("/upload", seconds, script=scripts["post"])
        wrk("/bench", seconds // 2 or 1, "-H", "Connection: close")
    finally:
        common.stop(procs)


if __name__ == "__main__":
    main()
