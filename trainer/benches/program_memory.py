#!/usr/bin/env python3
"""Does a per-program memory help the 60 s forecasts? Offline probe on trainer matrices.

For each row (t, comm): statistics of earlier processes with the same command name that had
exited before t (count, mean lifetime, mean CPU permille over their life, mean peak RSS), learned
online in time order. A random forest (32 trees, depth 8, leaf 5) on the schema's features, with
and without them; MAE on active test rows of the change target, against persistence.

Usage: program_memory.py SAMPLES.csv MATRIX_DIR [H], MATRIX_DIR from
`trainer fit SAMPLES.csv --save-matrix MATRIX_DIR` (--split time: same programs later; group:
unseen programs). Needs numpy, pandas and scikit-learn.
"""
import sys, math, collections
import numpy as np, pandas as pd
from sklearn.ensemble import RandomForestRegressor

samples, mdir = sys.argv[1], sys.argv[2]
h = sys.argv[3] if len(sys.argv) > 3 else "60"
suffix = "" if h == "5" else f"_{h}"
s = pd.read_csv(samples)
s["start"] = s.t_ms - s.age_ms
s["cpu"] = (s.cpu_user_ns + s.cpu_sys_ns)
s["rss"] = s.rss_anon_kib + s.rss_file_kib + s.rss_shmem_kib
end_t = s.t_ms.max()
procs = s.groupby(["pid", (s.start // 100)]).agg(comm=("comm", "last"), first=("t_ms", "min"), last=("t_ms", "max"),
                                                 cpu=("cpu", "sum"), wall=("interval_ns", "sum"), rss=("rss", "max"))
procs = procs[procs["last"] < end_t - 500]  # exited
procs["life"] = (procs["last"] - procs["first"]) / 1000
procs["cpu_pm"] = procs.cpu * 1000 / procs.wall.clip(lower=1)
by_comm = collections.defaultdict(list)
for r in procs.sort_values("last").itertuples():
    by_comm[r.comm].append((r.last, r.life, r.cpu_pm, r.rss))

def prog_features(df):
    out = np.zeros((len(df), 4))
    for i, (t, c) in enumerate(zip(df.t_ms.values, df.comm.values)):
        ends = [x for x in by_comm.get(c, []) if x[0] < t]
        if ends:
            out[i] = [math.log2(1 + len(ends)), math.log2(1 + np.mean([e[1] for e in ends])),
                      math.log2(1 + np.mean([e[2] for e in ends])), math.log2(1 + np.mean([e[3] for e in ends]))]
    return out

tr = pd.read_csv(f"{mdir}/train{suffix}.csv"); te = pd.read_csv(f"{mdir}/test{suffix}.csv")
fcols = [c for c in tr.columns if c not in ("t_ms", "pid", "comm", "active") and not c.startswith(("level_", "target_"))]
for target in ("cpu", "disk"):
    y, yt = tr[f"target_{target}"].values, te[f"target_{target}"].values
    act = te.active.values == 1
    res = {}
    for name, extra in (("schema", False), ("schema+program", True)):
        X, Xt = tr[fcols].values, te[fcols].values
        if extra:
            X, Xt = np.hstack([X, prog_features(tr)]), np.hstack([Xt, prog_features(te)])
        m = RandomForestRegressor(32, max_depth=8, min_samples_leaf=5, random_state=0, n_jobs=2).fit(X, y)
        p = m.predict(Xt)
        lvl = te[f"level_{target}"].values
        pred = np.maximum(lvl + p, 0); truth = lvl + yt
        res[name] = np.abs(pred - truth)[act].mean()
    pers = np.abs(yt)[act].mean()
    print(f"H={h} {target}: persistence {pers:.1f}  forest {res['schema']:.1f} ({res['schema']/pers:.3f}x)  "
          f"+program {res['schema+program']:.1f} ({res['schema+program']/pers:.3f}x)  gain {res['schema+program']/res['schema']:.3f}x")
