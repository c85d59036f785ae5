#!/usr/bin/env python3
"""Would a host-wide correction of the published 60 s bands, learned online from every process's
outcomes, bring their coverage to nominal where the per-process bands learn too slowly? Offline
probe on `trainer predict` output (the published bands, per-process adaptation included).

Passes are replayed in time order. Each target keeps two host-wide factors, one per band end, that
scale the end's distance from the forecast; after each pass, every outcome that became known in
it moves them as adaptive conformal inference does: a miss of an end multiplies its factor by
(1 + 0.9 gamma), an outcome inside by (1 - 0.1 gamma), so each end settles where it is missed by
10 % of outcomes. With --every-row each busy row's outcome is used (more than the module sees);
by default only one forecast per process per horizon, as the module's running checks give.
Coverage is scored on busy rows (CPU >= 1 % now or over the horizon), CPU (mean) and RSS (peak),
a process that exits counting as 0 after its exit.

Usage: host_bands_probe.py SAMPLES.csv[.xz] PREDICT.csv [--every-row] [--horizon H]
"""
import argparse
import collections
import csv

from recording import runs

GAMMAS = (0.0, 0.01, 0.02, 0.05)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("samples")
    ap.add_argument("predict")
    ap.add_argument("--every-row", action="store_true")
    ap.add_argument("--horizon", type=int, default=60)
    a = ap.parse_args()
    h = a.horizon
    passes, per_run = runs(a.samples)
    index = {t: i for i, t in enumerate(passes)}
    outcome = {}
    for (pid, _), rows in per_run.items():
        at = {p: (c, m) for p, _, c, m in rows}
        for p, t, _, _ in rows:
            if p + h < len(passes):
                ahead = [at[q] for q in range(p + 1, p + h + 1) if q in at]
                outcome[(t, pid)] = (sum(c for c, _ in ahead) / h, max([m for _, m in ahead] or [0]))
    by_pass = collections.defaultdict(list)
    with open(a.predict) as f:
        for r in csv.DictReader(f):
            k = (int(r["t_ms"]), int(r["pid"]))
            if k in outcome:
                by_pass[index[k[0]]].append((k, r))
    print(f"{a.samples}: horizon {h}, outcomes from {'every busy row' if a.every_row else 'one check per process at a time'}")
    print("| target | gamma | busy coverage | rows | final factor lo, hi |")
    print("|---|---|---|---|---|")
    for col, tg in enumerate(("cpu", "rss")):
        for gamma in GAMMAS:
            k_lo = k_hi = 1.0
            known = collections.defaultdict(list)
            check_at = {}
            covered = n = 0
            for p in range(len(passes)):
                for y, lo, hi in known.pop(p, []):
                    k_hi = min(max(k_hi * (1 + gamma * ((y > hi) - 0.1)), 0.1), 20.0)
                    k_lo = min(max(k_lo * (1 + gamma * ((y < lo) - 0.1)), 0.1), 20.0)
                for k, r in by_pass.get(p, []):
                    y = outcome[k]
                    if float(r["cpu_current"]) < 10 and y[0] < 10:
                        continue
                    f = float(r[f"{tg}_forest_{h}"])
                    lo = max(f - (f - float(r[f"{tg}_lo_{h}"])) * k_lo, 0.0)
                    hi = f + (float(r[f"{tg}_hi_{h}"]) - f) * k_hi
                    n += 1
                    covered += lo <= y[col] <= hi
                    if a.every_row or check_at.get(k[1], p) <= p:
                        check_at[k[1]] = p + h
                        known[p + h].append((y[col], lo, hi))
            print(f"| {tg} | {gamma} | {100 * covered / n:.1f} % | {n} | {k_lo:.2f}, {k_hi:.2f} |")


main()
