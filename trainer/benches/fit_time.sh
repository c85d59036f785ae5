#!/usr/bin/env bash
# Forest fit time, ours vs scikit-learn (n_jobs=2), on N rows resampled with replacement from a real
# training matrix (`trainer fit --save-matrix DIR` writes DIR/train.csv).
# Usage: fit_time.sh TRAIN_MATRIX.csv [TARGET] [N...]   (default: cpu 100000 1000000)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
matrix=$1 target=${2:-cpu}; shift $(( $# >= 2 ? 2 : 1 ))
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
venv=${VENV:-/tmp/procperf-sklearn-venv}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q scikit-learn numpy pandas
fi
echo "ours (2 threads):"
(cd "$here/.." && RAYON_NUM_THREADS=2 cargo bench -q -p trainer --bench fit_time -- "$matrix" "$target" "${sizes[@]}")
echo "scikit-learn RandomForestRegressor(32, max_depth=8, min_samples_leaf=5, n_jobs=2):"
"$venv/bin/python" - "$matrix" "$target" "${sizes[@]}" <<'PY'
import sys, time
import numpy as np, pandas as pd
from sklearn.ensemble import RandomForestRegressor
m = pd.read_csv(sys.argv[1]); t = sys.argv[2]
feats = [c for c in m.columns if c not in ("t_ms", "pid", "comm", "active")
         and not c.startswith("level_") and not c.startswith("target_")]
X, y = m[feats].to_numpy(np.float32), m[f"target_{t}"].to_numpy(np.float64)
for n in map(int, sys.argv[3:]):
    idx = np.random.default_rng(n).integers(0, len(y), n)
    t0 = time.perf_counter()
    RandomForestRegressor(32, max_depth=8, min_samples_leaf=5, n_jobs=2, random_state=0).fit(X[idx], y[idx])
    print(f"rows {n} seconds {time.perf_counter() - t0:.2f}")
PY
