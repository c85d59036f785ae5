#!/usr/bin/env bash
# Compares trainer's forest and linear model with scikit-learn on identical rows.
# Usage: sklearn_compare.sh DATA.csv [TARGETS] [N_ESTIMATORS MAX_DEPTH MIN_SAMPLES_LEAF]
# Creates a venv with scikit-learn, numpy and pandas in $VENV (default /tmp/procperf-sklearn-venv)
# if missing. Fit times are wall-clock on this machine; both sides use 2 threads.
# Like for like: both sides learn the same values, the change from the current level
# (--base-current), unwinsorised (--target-clip-quantile 0) and unshrunk (--no-shrink); our ridge
# sees the raw features like scikit-learn's StandardScaler + Ridge (--clip-quantile 0, and
# --max-corr 1 drops no column); our forest may split on every feature (--forest-ignore none).
# TRAINER_ARGS adds options; SEEDS lists the random states
# (default 0-9) that both sides are fitted with.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=$1 targets=${2:-cpu,rss,disk} n_est=${3:-32} depth=${4:-8} leaf=${5:-5}
venv=${VENV:-/tmp/procperf-sklearn-venv}
trainer=${TRAINER:-${CARGO_TARGET_DIR:-$here/../../target}/release/trainer}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q scikit-learn numpy pandas
fi
work=$(mktemp -d /tmp/procperf-compare.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Bootstrap randomness alone moves test R² a lot on heavy-tailed targets (RSS), so both sides are
# fitted with several random states on the same split and compared by median.
seeds=${SEEDS:-0 1 2 3 4 5 6 7 8 9}
for rs in $seeds; do
  RAYON_NUM_THREADS=2 "$trainer" --json fit "$data" --target "$targets" --out "$work/model" --random-state "$rs" \
    --n-estimators "$n_est" --max-depth "$depth" --min-samples-leaf "$leaf" --save-matrix "$work/mx" \
      --target-clip-quantile 0 --no-shrink --base-current --clip-quantile 0 --max-corr 1 --forest-ignore none \
      ${TRAINER_ARGS:-} > "$work/fit$rs.json"
done
"$venv/bin/python" - "$work"/fit*.json > "$work/ours.json" <<'PY'
import json, sys, statistics
runs = [json.load(open(p)) for p in sys.argv[1:]]
out = {"targets": {}}
for i, s in enumerate(runs[0]["scores"]):
    ds = [r["details"][i] for r in runs]
    out["targets"][s["target"]] = {
        "forest_fit_s": statistics.median(d["forest_fit_s"] + d["binning_s"] for d in ds),
        "linear_fit_s": statistics.median(d["linear_fit_s"] for d in ds),
        "forest_r2": [d["forest_r2_change"] for d in ds],
        "linear_r2": ds[0]["linear_r2_change"],
    }
print(json.dumps(out))
PY
"$venv/bin/python" "$here/sklearn_compare.py" "$work/mx" "$work/ours.json" "$targets" "$n_est" "$depth" "$leaf" \
  "${seeds// /,}"
