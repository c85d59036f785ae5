#!/bin/bash
# Records cli/tests/data/predictions-recorded.csv: the default model's predictions on the held-out
# capture, written by `trainer predict` in exactly the module's predictions.csv format, cut to
# PASSES consecutive passes (from pass START) of the PROCS busiest processes in them (CPU, plus
# disk and network activity). Deterministic: the same model and capture give the same file.
#
#   cli/scripts/record-fixture.sh [START] [PASSES] [PROCS]
#
# PREDICTIONS=file.csv uses an existing `trainer predict` output instead of running the trainer.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=${1:-130} passes=${2:-60} procs=${3:-25}
out=cli/tests/data/predictions-recorded.csv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ -n "${PREDICTIONS:-}" ]; then
    cp "$PREDICTIONS" "$tmp/all.csv"
else
    cargo run --release -q -p trainer -- predict rust/model/default/model.bin data/reference/heldout.csv.xz --out "$tmp/all.csv"
fi

tail -n +2 "$tmp/all.csv" | cut -d, -f1 | sort -un | sed -n "$((start + 1)),$((start + passes))p" >"$tmp/times"
[ "$(wc -l <"$tmp/times")" -eq "$passes" ] || { echo "fewer than $((start + passes)) passes" >&2; exit 1; }

# Busiest: sum over the window of cpu_current (permille) + (disk_current + net_current) / 16
# (log2q8 units: 1 MB/s is about 5100, so 16 % CPU).
awk -F, 'NR == FNR { keep[$1] = 1; next }
    FNR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    ($1 in keep) { score[$2] += $col["cpu_current"] + ($col["disk_current"] + $col["net_current"]) / 16 }
    END { for (p in score) printf "%d %d\n", score[p], p }' "$tmp/times" "$tmp/all.csv" |
    sort -k1,1nr -k2,2n | head -n "$procs" | cut -d' ' -f2 >"$tmp/pids"

{
    head -n 1 "$tmp/all.csv"
    awk -F, 'FILENAME == ARGV[1] { t[$1] = 1; next } FILENAME == ARGV[2] { p[$1] = 1; next }
        FNR > 1 && ($1 in t) && ($2 in p)' "$tmp/times" "$tmp/pids" "$tmp/all.csv" |
        sort -t, -k1,1n -k2,2n
} >"$out"
echo "wrote $out: $(($(wc -l <"$out") - 1)) rows, $passes passes, $procs processes, $(du -h "$out" | cut -f1)"
