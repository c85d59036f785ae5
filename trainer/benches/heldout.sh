#!/usr/bin/env bash
# Accuracy on workloads NOT in the training data: fit on capture A, score the exported blob (the
# kernel's fixed-point code) on every row of capture B. Prints, per target, the forest's and the
# linear model's MAE ratio to persistence and to EWMA (active rows and all rows) and the interval
# coverage. Usage: heldout.sh A.csv B.csv [extra `trainer fit` options...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
a=$1 b=$2; shift 2
trainer=${TRAINER:-${CARGO_TARGET_DIR:-$here/../../target}/release/trainer}
work=$(mktemp -d /tmp/procperf-heldout.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$trainer" --json fit "$a" --target cpu,rss,disk --out "$work/m" "$@" > "$work/fit.json"
"$trainer" --json eval "$work/m/model.bin" "$b" > "$work/eval.json"
python3 - "$work/eval.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
def m(s, name):
    return next((x for x in s["models"] if x["model"] == name), None)
def ratio(s, a, b, key):
    x, y = m(s, a)[key], m(s, b)[key]
    return x["mae"] / y["mae"] if x and y and y["mae"] > 0 else float("nan")
print(f"{'target':<6} {'model':<7} {'MAE/pers act':>12} {'MAE/ewma act':>12} {'MAE/pers all':>12} {'MAE/ewma all':>12} {'cov act':>8} {'cov all':>8}")
for s in r["scores"]:
    for model in ("forest", "linear"):
        mm = m(s, model)
        print(f"{s['target']:<6} {model:<7} {ratio(s, model, 'persistence', 'active'):>12.3f} {ratio(s, model, 'ewma', 'active'):>12.3f}"
              f" {ratio(s, model, 'persistence', 'all'):>12.3f} {ratio(s, model, 'ewma', 'all'):>12.3f}"
              f" {100 * mm['coverage_active']:>7.1f}% {100 * mm['coverage_all']:>7.1f}%")
print(f"rows scored: {r['data']['supervised_rows']}, active: {r['scores'][0]['active_rows']}")
PY
