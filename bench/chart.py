#!/usr/bin/env python3
"""Draws bench/results/throughput.svg: one bar chart per results table that has a
"median req/s" column (proxy, auth, functions, scale), from the Markdown the benchmarks wrote.
Plain SVG, no dependencies.

Usage: bench/chart.py
"""

import glob
import os
import re

RESULTS = "bench/results"


def tables(path):
    """(title, [(label, value)]) for each table with a `median req/s` column."""
    lines = open(path).read().splitlines()
    title = next((l.lstrip("# ") for l in lines if l.startswith("# ")), os.path.basename(path))
    found = []
    for i, line in enumerate(lines):
        if not line.startswith("|") or "median req/s" not in line:
            continue
        header = [c.strip() for c in line.strip("|").split("|")]
        column = header.index("median req/s")
        rows = []
        for row in lines[i + 2:]:
            if not row.startswith("|"):
                break
            cells = [c.strip() for c in row.strip("|").split("|")]
            rows.append((cells[0], float(re.sub(r"[^\d.]", "", cells[column]))))
        found.append((title, rows))
    return found


def svg(charts):
    width, bar, gap, left = 760, 22, 6, 170
    parts, y = [], 10
    for title, rows in charts:
        top = max(v for _, v in rows)
        parts.append(f'<text x="10" y="{y + 14}" font-size="14" font-weight="bold">{title}</text>')
        y += 24
        for label, value in rows:
            length = (width - left - 90) * value / top
            parts.append(f'<text x="{left - 8}" y="{y + 15}" font-size="12" text-anchor="end">{label}</text>')
            parts.append(f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{bar}" fill="#1a73e8"/>')
            parts.append(f'<text x="{left + length + 6:.1f}" y="{y + 15}" font-size="12">{value:,.0f} req/s</text>')
            y += bar + gap
        y += 16
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" font-family="sans-serif">'
            f'<rect width="100%" height="100%" fill="white"/>' + "".join(parts) + "</svg>\n")


def main():
    charts = []
    for path in sorted(glob.glob(os.path.join(RESULTS, "*.md"))):
        charts.extend(tables(path))
    with open(os.path.join(RESULTS, "throughput.svg"), "w") as f:
        f.write(svg(charts))
    print(f"wrote {RESULTS}/throughput.svg ({len(charts)} charts)")


if __name__ == "__main__":
    main()
