#!/usr/bin/env bash
# Fuzzes blob parsing and prediction for a bounded time, then prints the number of executions and
# the result. Usage: rust/model/fuzz/run.sh SECONDS
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). The toolchain is stable: RUSTC_BOOTSTRAP
# lets it take the sanitizer flags cargo-fuzz passes. Inputs found are added to a scratch corpus
# (fuzz/work/), not to the committed seeds in fuzz/corpus/; crashes land in fuzz/artifacts/.
set -euo pipefail
secs=${1:?usage: run.sh SECONDS}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$here/target}
mkdir -p work
set +e
cargo fuzz run parse_predict work corpus/parse_predict -- \
    -max_total_time="$secs" -max_len=65536 -print_final_stats=1 2>&1 | tee log
status=${PIPESTATUS[0]}
set -e
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' log | tail -n1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' log | tail -n1)
cov=$(grep -o 'cov: [0-9]*' log | tail -n1 | cut -d' ' -f2)
if [ "$status" -eq 0 ]; then result=ok; else result="FAILED (exit $status, see fuzz/artifacts/)"; fi
echo "fuzz parse_predict: ${secs}s, ${runs:-?} executions (${rate:-?}/s), coverage ${cov:-?} edges: $result"
exit "$status"
