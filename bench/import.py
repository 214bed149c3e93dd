#!/usr/bin/env python3
"""Importing into a large group: the seconds an OpenAPI import of 1,000 APIs takes into an
empty group and into one of 9,000, and what the node's other database writes meet meanwhile.

Method
- Gantry (`serve`, pinned to core 0) on a fresh SQLite store; one group.
- Ten imports of 1,000 APIs each (`scale.py`'s `GET /items/{i}/{id}` pass-through APIs, one
  OpenAPI document per import, each operation carrying its definition in `x-gantry-api`), timed
  from the request to the answer. The first goes into the empty group, the last into a group
  of 9,000.
- Reported: each import's seconds, the last over the first (about 1 when an import's cost
  does not grow with the group), and how many times the node logged that it could not
  reach the database while the imports ran (its heartbeat and stats writes wait for the
  import's write transaction, and give up after 10 s).

Usage: bench/import.py [path/to/gantry]   Writes bench/results/import.md.
"""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import scale  # noqa: E402

CHUNK = 1000
CHUNKS = 10


def main():
    work = tempfile.mkdtemp(prefix="gantry-import-bench-")
    log_path = os.path.join(work, "gantry.log")
    seconds = []
    with open(log_path, "w") as log:
        gantry, rest = common.start_gantry(work, log=log)
        try:
            rest("POST", "/groups", {"name": "large", "subdomain": "large"})
            specs = scale.apis(CHUNK * CHUNKS, probe=False)
            for first in range(0, CHUNK * CHUNKS, CHUNK):
                started = time.perf_counter()
                common.seed_apis(rest, "large", specs[first:first + CHUNK], chunk=CHUNK)
                seconds.append(time.perf_counter() - started)
                print(f"import {first // CHUNK + 1}: {seconds[-1]:.2f} s", flush=True)
            total = rest("GET", "/groups/large/apis?per_page=1")["total"]
        finally:
            common.stop([gantry])
    with open(log_path, errors="replace") as f:
        unreachable = sum("cannot reach the database" in line for line in f)
    if total != CHUNK * CHUNKS:
        raise SystemExit(f"the group has {total} APIs, not {CHUNK * CHUNKS}")

    lines = ["# Importing into a large group", "",
             f"Binary: `{common.GANTRY}`. {CHUNKS} OpenAPI imports of {CHUNK:,} APIs each into one group "
             "(`bench/import.py`; method in its docstring).", "",
             "| import | APIs already in the group | seconds |", "|---|---|---|"]
    for n, s in enumerate(seconds):
        lines.append(f"| {n + 1} | {n * CHUNK:,} | {s:.2f} |")
    lines += ["", f"- Last import over the first (into {(CHUNKS - 1) * CHUNK:,} APIs / into none): "
              f"**{seconds[-1] / seconds[0]:.2f}**",
              f"- All {CHUNKS * CHUNK:,} APIs: {sum(seconds):.1f} s",
              f"- Times the node logged that it could not reach the database meanwhile: **{unreachable}**"]
    common.write_result("import", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
