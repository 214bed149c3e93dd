#!/usr/bin/env python3
"""Pools the rounds of several runs of the same code (issue 27's ratios, on a noisy host).

Why: one run of `proxy.py` or `scale.py` has 5 or 10 rounds, and on this host one round's
ratio moves by ±10 % (bench/results/scale.md prints each round's pair). A goal 2-3 % from
its floor is then met in some runs and missed in others of the same binary. Pooling the
rounds of every run of one commit estimates the same ratio from more rounds, and the
interval says how sure that estimate is.

Method
- `proxy.py` and `scale.py` append each run's rounds to `bench/results/rounds/*.jsonl`, with
  the commit measured (`+` when the work tree differed from it).
- For one commit (default: the newest one measured by both), every round of every run is
  pooled. The ratio judged is the median of the rounds' own ratios: each round's pair is
  measured seconds apart, so a host that is slower in one run than in another (this one
  moved by 2 × between sessions) moves both sides of a pair, not the ratio. Its 90 %
  interval is a bootstrap: 2,000 resamples of the rounds, with replacement, fixed seed.
  Beside it, the single-run tables' method on the pooled rounds (the median of one side's
  rounds over the other's), which mixes runs of different speeds.
- A floor counts as met when the pooled ratio meets it; "reliably" when the whole interval
  does.

Usage: bench/pool.py [commit]   Writes bench/results/pooled.md.
"""

import json
import os
import random
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (writing results)

ROUNDS_DIR = "bench/results/rounds"
RESAMPLES = 2000


def runs(name):
    path = os.path.join(ROUNDS_DIR, f"{name}.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def ratio_of_medians(pairs):
    return statistics.median(a for a, _ in pairs) / statistics.median(b for _, b in pairs)


def median_of_ratios(pairs):
    return statistics.median(a / b for a, b in pairs)


def interval(pairs, seed=27):
    rng = random.Random(seed)
    estimates = sorted(median_of_ratios([rng.choice(pairs) for _ in pairs]) for _ in range(RESAMPLES))
    return estimates[int(0.05 * RESAMPLES)], estimates[int(0.95 * RESAMPLES) - 1]


def measured(runs, top, bottom, key):
    """`key`'s (top, bottom) pairs from every round of `runs`, and each run's own ratio (its
    median over median, the single-run tables' method)."""
    pairs = [[(r[top][key], r[bottom][key]) for r in run["rounds"]] for run in runs]
    return [pair for run in pairs for pair in run], [ratio_of_medians(run) for run in pairs]


def row(label, measure, floor, higher_is_better):
    """One table row: the pooled ratio of `measure` (from `measured`) against `floor`."""
    pairs, per_run = measure
    pooled, (low, high) = median_of_ratios(pairs), interval(pairs)
    mixed = ratio_of_medians(pairs)
    meets = (lambda r: r >= floor) if higher_is_better else (lambda r: r <= floor)
    met = "reliably" if meets(low) and meets(high) else ("yes" if meets(pooled) else "no")
    runs_met = sum(1 for r in per_run if meets(r))
    sign = ">=" if higher_is_better else "<="
    return (f"| {label} | {sign} {floor} | **{pooled:.3f}** | {low:.3f}–{high:.3f} | {mixed:.3f} | "
            f"{runs_met} of {len(per_run)} ({', '.join(f'{r:.2f}' for r in per_run)}) | {met} |")


def main():
    proxy, scale = runs("proxy"), runs("scale")
    if len(sys.argv) > 1:
        commit = sys.argv[1]
    else:
        both = [r["commit"] for r in proxy if r["commit"] in {s["commit"] for s in scale}]
        commit = (both or [r["commit"] for r in proxy + scale] or [None])[-1]
    proxy = [r for r in proxy if r["commit"] == commit]
    scale = [r for r in scale if r["commit"] == commit]
    lines = [f"# Pooled rounds of commit `{commit}` (issue 27's floors)", "",
             f"{len(proxy)} run(s) of `proxy.py` ({sum(len(r['rounds']) for r in proxy)} rounds) and {len(scale)} of "
             f"`scale.py` ({sum(len(r['rounds']) for r in scale)} rounds), pooled by `bench/pool.py` (method in its "
             "docstring): each ratio is the median of the rounds' own ratios, with a 90 % bootstrap interval; beside "
             "it the median of one side's pooled rounds over the other's, and what each run alone said.", "",
             "| ratio | floor | pooled (median of the rounds' ratios) | 90 % interval | median over median | "
             "runs that met it alone | met |",
             "|---|---|---|---|---|---|---|"]
    if proxy:
        lines.append(row("throughput, Gantry / nginx", measured(proxy, "gantry", "nginx", "rate"), 1.0, True))
        lines.append(row("CPU per request, Gantry / nginx", measured(proxy, "gantry", "nginx", "cpu_us"), 1.0, False))
        lines.append(row("p99 at saturation, Gantry / nginx", measured(proxy, "gantry", "nginx", "p99"), 1.2, False))
    if scale:
        lines.append(row("throughput, 10,000 / 10 APIs", measured(scale, "large", "small", "rate"), 0.95, True))
        pairs, cpu = measured(scale, "large", "small", "cpu_us")
        low, high = interval(pairs)
        lines += ["", f"- Gateway CPU per request, 10,000 / 10 APIs (no floor; what the throughput ratio follows when the "
                  f"gateway's core is the bound): {median_of_ratios(pairs):.3f} ({low:.3f}–{high:.3f}); runs alone: "
                  f"{', '.join(f'{r:.2f}' for r in cpu)}"]
    common.write_result("pooled", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
