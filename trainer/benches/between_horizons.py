#!/usr/bin/env python3
"""Does a model for a horizon between the published ones beat what they already give? CPU only.

For every row of a samples recording whose horizon ends inside the capture, the outcome is the
mean CPU permille over the next H passes, a process that exited counting as 0 (the CPU target's
definition). Scored on busy rows (CPU >= 1 % now or over the horizon), each forecast's MAE and its
ratio to persistence's:

  persistence              the CPU level now
  short, long              the published forecasts of the two-horizon model (`trainer predict`)
                           at its horizons S and L, used as they are
  mean of short and long   their mean
  S/H short + (H-S)/H long the forecast of the first S passes from the short model and of the
                           rest from the long one
  H model                  the published forecast of a model with a head at H itself

Usage: between_horizons.py SAMPLES.csv[.xz] TWO.csv THREE.csv [--horizon H] [--short S] [--long L]
where TWO and THREE are `trainer predict` outputs of the two models on SAMPLES
(trainer/benches/between_horizons.sh makes them).
"""
import argparse
import collections
import csv

from recording import runs


def outcomes(path, h):
    """(t_ms, pid) -> mean CPU permille over the next h passes, 0 after the process's exit."""
    passes, per_run = runs(path)
    out = {}
    for (pid, _), rows in per_run.items():
        cpu = {p: c for p, _, c, _ in rows}
        for p, t, _, _ in rows:
            if p + h < len(passes):
                out[(t, pid)] = sum(cpu.get(q, 0.0) for q in range(p + 1, p + h + 1)) / h
    return out


def predictions(path):
    with open(path) as f:
        return {(int(r["t_ms"]), int(r["pid"])): r for r in csv.DictReader(f)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("samples")
    ap.add_argument("two")
    ap.add_argument("three")
    ap.add_argument("--horizon", type=int, default=30)
    ap.add_argument("--short", type=int, default=5)
    ap.add_argument("--long", type=int, default=60)
    a = ap.parse_args()
    h, s, l = a.horizon, a.short, a.long
    y = outcomes(a.samples, h)
    two, three = predictions(a.two), predictions(a.three)
    err, n = collections.defaultdict(float), 0
    for k, target in y.items():
        r, r3 = two.get(k), three.get(k)
        if r is None or r3 is None:
            continue
        now = float(r["cpu_current"])
        if now < 10 and target < 10:
            continue
        n += 1
        fs, fl = float(r[f"cpu_forest_{s}"]), float(r[f"cpu_forest_{l}"])
        for name, f in (("persistence", now), (f"{s} s forecast", fs), (f"{l} s forecast", fl),
                        (f"mean of {s} s and {l} s", (fs + fl) / 2),
                        (f"{s}/{h} of {s} s + {h - s}/{h} of {l} s", (s * fs + (h - s) * fl) / h),
                        (f"{h} s model", float(r3[f"cpu_forest_{h}"]))):
            err[name] += abs(f - target)
    print(f"{a.samples}: {n} busy rows scored at {h} passes")
    print("| forecast of the mean CPU over the next %d s | MAE (permille) | / persistence |" % h)
    print("|---|---|---|")
    for name, e in err.items():
        print(f"| {name} | {e / n:.2f} | {e / err['persistence']:.3f} |")


main()
