#!/usr/bin/env python3
"""Collects every goal line ("(goal …: met)" / "not met") from bench/results/*.md into
bench/results/summary.md, one row per goal, with the file it came from.

Usage: bench/summary.py
"""

import glob
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (writing results)

ORDER = ["proxy", "latency", "scale", "auth", "functions", "api_list"]


def main():
    rows = []
    files = sorted(glob.glob("bench/results/*.md"), key=lambda p: (ORDER.index(os.path.basename(p)[:-3])
                                                                   if os.path.basename(p)[:-3] in ORDER else 99, p))
    for path in files:
        name = os.path.basename(path)
        if name == "summary.md":
            continue
        with open(path) as f:
            for line in f:
                match = re.match(r"- (.*)\(goal:? ([^:]*): (met|not met)\)", line.strip())
                if match:
                    what = match.group(1).replace("**", "").strip()
                    rows.append((what, match.group(2), match.group(3), name))
    lines = ["# Benchmark goals (issue 11)", "",
             "Collected from the tables beside this file; each file says how it was measured.", "",
             "| measured | goal | met | from |", "|---|---|---|---|"]
    lines += [f"| {what} | {goal} | {'**met**' if met == 'met' else 'not met'} | `{name}` |" for what, goal, met, name in rows]
    common.write_result("summary", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
