#!/usr/bin/env python3
"""Is "still alive at +H" forecastable, and by how much better than the base rate? Offline probe.

For every sample of a process at time t whose horizon lies inside the capture (t + H intervals
before the capture's last pass), the outcome is whether the process still has a sample H intervals
later. Forecasters of the probability, fitted on TRAIN and scored on each TEST recording:

  base rate   the share of TRAIN's rows alive at +H (of its busy rows, when busy rows are scored)
  age table   the share alive per binary order of magnitude of the process's age (Lindy: an old
              process is likely to stay), TRAIN's rows
  forest      a random forest classifier (32 trees, depth 8, leaf 5) on the age, the CPU now and
              over the last 8 samples, RSS, threads, context switches and I/O over the last 8

Brier score (mean squared error of the probability against 0/1) and its skill against the base
rate (1 - Brier / Brier of the base rate: 0 is no better, 1 perfect), on all rows and on busy rows
(CPU >= 1 % now). Usage: alive_probe.py TRAIN.csv[.xz] TEST.csv[.xz]... [--horizon H]
(default 60). Needs numpy, pandas and scikit-learn (trainer/benches/sklearn_compare.sh makes a
venv with them).
"""
import argparse

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier

WINDOW = 8


def rows(path, h):
    s = pd.read_csv(path)
    s["proc"] = s.pid.astype(str) + "@" + ((s.t_ms - s.age_ms) // 1000).astype(str)
    s = s.sort_values(["proc", "t_ms"])
    s["cpu"] = (s.cpu_user_ns + s.cpu_sys_ns) * 1000 / s.interval_ns.clip(lower=1)
    s["rss"] = s.rss_anon_kib + s.rss_file_kib + s.rss_shmem_kib
    s["io"] = s.rchar_bytes + s.wchar_bytes
    s["csw"] = s.nvcsw + s.nivcsw
    g = s.groupby("proc")
    for c in ("cpu", "io", "csw"):
        s[f"{c}_w"] = g[c].transform(lambda x: x.rolling(WINDOW, min_periods=1).mean())
    last = g.t_ms.transform("max")
    interval = s.interval_ns.median() / 1e6
    end = s.t_ms.max()
    horizon_ms = h * interval
    s["alive"] = (last >= s.t_ms + horizon_ms - interval / 2).astype(int)
    s = s[s.t_ms + horizon_ms <= end - interval / 2].copy()  # outcome inside the capture
    s["age_log"] = np.log2(1 + s.age_ms / 1000)
    return s


FEATURES = ["age_log", "cpu", "cpu_w", "rss", "threads", "csw_w", "io_w"]


def brier(p, y):
    return float(np.mean((p - y) ** 2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("train")
    ap.add_argument("tests", nargs="+")
    ap.add_argument("--horizon", type=int, default=60)
    a = ap.parse_args()
    tr = rows(a.train, a.horizon)
    base = tr.alive.mean()
    bins = np.floor(tr.age_log).clip(upper=20)
    table = tr.groupby(bins).alive.mean()
    forest = RandomForestClassifier(n_estimators=32, max_depth=8, min_samples_leaf=5, random_state=1, n_jobs=1)
    forest.fit(tr[FEATURES], tr.alive)
    print(f"horizon {a.horizon} intervals; train {a.train}: {len(tr)} rows, {tr.proc.nunique()} processes, "
          f"alive at +H {100 * base:.1f} %")
    print("| recording | rows | processes | alive at +H | rows | Brier: base rate | age table | forest "
          "| skill: age table | forest |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for path in a.tests:
        te = rows(path, a.horizon)
        p_age = np.floor(te.age_log).clip(upper=20).map(table).fillna(base).to_numpy()
        p_forest = forest.predict_proba(te[FEATURES])[:, 1]
        for name, m in (("all", np.ones(len(te), bool)), ("busy", (te.cpu >= 10).to_numpy())):
            y = te.alive.to_numpy()[m]
            rate = base if name == "all" else tr.alive[tr.cpu >= 10].mean()
            b0 = brier(np.full(m.sum(), rate), y)
            b1, b2 = brier(p_age[m], y), brier(p_forest[m], y)
            print(f"| {path} | {m.sum()} | {te.proc[m].nunique()} | {100 * y.mean():.1f} % | {name} "
                  f"| {b0:.4f} | {b1:.4f} | {b2:.4f} | {1 - b1 / b0:.2f} | {1 - b2 / b0:.2f} |")


if __name__ == "__main__":
    main()
