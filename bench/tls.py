#!/usr/bin/env python3
"""HTTPS termination (issue 21): Gantry's HTTPS listener vs nginx terminating TLS with the
same certificate, in one run.

Method
- Backend: nginx serving 1 KiB on core 1. Gantry on core 0 with `GET /bench` (pass-through
  to the backend) live in Production of group `bench`. The peer: nginx on core 0 with
  `listen … ssl`, the same certificate and key (Gantry's default certificate for
  `*.localhost`, P-256), TLS 1.3 only on both, proxying to the same backend over a
  keep-alive upstream. Both negotiate TLS_AES_256_GCM_SHA384 with wrk's OpenSSL (printed).
- Keep-alive: wrk (1 thread, 32 connections) on core 1 against `https://localhost:port/bench`
  (SNI `localhost`), rounds alternating Gantry / nginx; medians of requests/s.
  Goal: Gantry / nginx >= 1.0.
- Handshakes: the same with `Connection: close` on every request, so each request is a new
  connection and a full handshake. Goal: Gantry / nginx >= 0.9.

Usage: bench/tls.py [path/to/gantry] [rounds] [seconds]   Writes bench/results/tls.md.
"""

import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (shared helpers: nginx, Gantry, REST, wrk output)

GANTRY, ROUNDS, SECONDS = common.GANTRY, common.ROUNDS, common.SECONDS
PEERS = ("gantry", "nginx")


def port(peer):
    return common.GATEWAY_TLS if peer == "gantry" else common.NGINX


def wrk(peer, close):
    command = ["taskset", "-c", "1", "wrk", "-t1", "-c32", f"-d{SECONDS}s", "-H", "Host: bench.localhost"]
    if close:
        command += ["-H", "Connection: close"]
    command.append(f"https://localhost:{port(peer)}/bench")
    return common.wrk_output(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def cipher(peer):
    output = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port(peer)}", "-servername", "localhost"],
                            input="", capture_output=True, text=True, timeout=10).stdout
    for line in output.splitlines():
        if "Cipher is" in line:
            return line.split("Cipher is")[-1].strip()
    return "?"


def main():
    common.ensure_tools()
    work = tempfile.mkdtemp(prefix="gantry-tls-bench-")
    procs, gantry, rest = common.start_backend_and_gantry(work)
    try:
        rest("POST", "/groups", {"name": "bench", "subdomain": "bench"})
        rest("POST", "/groups/bench/apis", {"name": "Bench", "request": {"method": "GET", "path": "/bench"}})
        rest("POST", "/groups/bench/versions", {"label": "1"})
        rest("PUT", "/groups/bench/deployments/prod",
             {"version": "1", "backend": {"type": "http", "address": f"http://127.0.0.1:{common.BACKEND}"}})
        common.wait_for(f"http://127.0.0.1:{common.GATEWAY}/bench", {"Host": "bench.localhost"})
        cert, key = os.path.join(work, "data", "tls", "default.crt"), os.path.join(work, "data", "tls", "default.key")
        procs.append(common.start_nginx(work, "tls", f"""
    upstream backend {{ server 127.0.0.1:{common.BACKEND}; keepalive 64; }}
    server {{ listen 127.0.0.1:{common.NGINX} ssl; keepalive_timeout 300s;
        ssl_certificate {cert}; ssl_certificate_key {key}; ssl_protocols TLSv1.3;
        location / {{ proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }} }}""", 0))
        ciphers = {peer: cipher(peer) for peer in PEERS}

        results = {(peer, close): {"rate": [], "failed": 0} for peer in PEERS for close in (False, True)}
        for close in (False, True):
            for round_ in range(ROUNDS):
                for peer in (PEERS if round_ % 2 == 0 else PEERS[::-1]):
                    rate, _total, failed = wrk(peer, close)
                    results[(peer, close)]["rate"].append(rate)
                    results[(peer, close)]["failed"] += failed
        report(results, ciphers)
    finally:
        common.stop(procs)


def report(results, ciphers):
    median = statistics.median
    lines = [f"# HTTPS termination ({ROUNDS} alternating rounds of {SECONDS} s, 1 KiB body, TLS 1.3)", "",
             f"Binary: `{GANTRY}`. Gantry or nginx on core 0; backend (nginx) and wrk (1 thread, 32 connections) on "
             f"core 1. Same certificate (P-256). Negotiated: Gantry `{ciphers['gantry']}`, nginx `{ciphers['nginx']}`.", "",
             "| load | proxy | median req/s | spread req/s | failed |", "|---|---|---|---|---|"]
    for close, label in ((False, "keep-alive"), (True, "new connection per request")):
        for peer in PEERS:
            r = results[(peer, close)]
            lines.append(f"| {label} | {peer} | {median(r['rate']):,.0f} | {min(r['rate']):,.0f}–{max(r['rate']):,.0f} | {r['failed']} |")
    keep = median(results[("gantry", False)]["rate"]) / median(results[("nginx", False)]["rate"])
    shake = median(results[("gantry", True)]["rate"]) / median(results[("nginx", True)]["rate"])
    lines += ["", f"- Keep-alive HTTPS, Gantry / nginx: **{keep:.2f}** (goal >= 1.0: {'met' if keep >= 1.0 else 'not met'})",
              f"- Handshakes (new connection per request), Gantry / nginx: **{shake:.2f}** "
              f"(goal >= 0.9: {'met' if shake >= 0.9 else 'not met'})"]
    common.write_result("tls", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
