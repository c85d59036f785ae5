#!/usr/bin/env bash
# Compares trainer's forest and linear model with scikit-learn on identical rows.
# Usage: sklearn_compare.sh DATA.csv [TARGETS] [N_ESTIMATORS MAX_DEPTH MIN_SAMPLES_LEAF]
# Creates a venv with scikit-learn, numpy and pandas in $VENV (default /tmp/procperf-sklearn-venv)
# if missing. Fit times are wall-clock on this machine; both sides use 2 threads. Targets are not
# winsorised (--target-clip-quantile 0) so both fit the same values; TRAINER_ARGS adds options.
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
RAYON_NUM_THREADS=2 "$trainer" --json fit "$data" --target "$targets" --out "$work/model" \
  --n-estimators "$n_est" --max-depth "$depth" --min-samples-leaf "$leaf" --save-matrix "$work/mx" \
  --target-clip-quantile 0 ${TRAINER_ARGS:-} > "$work/fit.json"
"$venv/bin/python" - "$work/fit.json" > "$work/ours.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
out = {"targets": {}}
for s, d in zip(r["scores"], r["details"]):
    out["targets"][s["target"]] = {
        "forest_fit_s": d["forest_fit_s"] + d["binning_s"], "linear_fit_s": d["linear_fit_s"],
        "forest_r2": d["forest_r2_change"], "linear_r2": d["linear_r2_change"],
    }
print(json.dumps(out))
PY
"$venv/bin/python" "$here/sklearn_compare.py" "$work/mx" "$work/ours.json" "$targets" "$n_est" "$depth" "$leaf"
