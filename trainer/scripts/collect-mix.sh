#!/usr/bin/env bash
# Runs one workload mix while `trainer collect --procfs` samples every process.
# Usage: collect-mix.sh a|b SECONDS INTERVAL_MS OUT.csv
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mix=$1 secs=$2 interval=$3 out=$4
trainer=${TRAINER:-${CARGO_TARGET_DIR:-$here/../../target}/release/trainer}
command -v stress-ng >/dev/null || { echo "stress-ng missing: apt-get install -y stress-ng" >&2; exit 1; }
"$trainer" collect --procfs --seconds "$secs" --interval-ms "$interval" --out "$out" &
collector=$!
sleep 1
"$here/workload-$mix.sh" "$((secs - 2))"
wait "$collector"
