#!/usr/bin/env bash
# Fuzzes each target for a bounded time and prints one line per target: executions, coverage and
# the result.
#
#   fuzz/run.sh SECONDS [TARGET...]     (default: every target in Cargo.toml)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). The toolchain is stable: RUSTC_BOOTSTRAP
# lets it take the sanitizer flags cargo-fuzz passes. Inputs found are added to a scratch corpus
# (fuzz/work/TARGET/), not to the committed seeds in fuzz/corpus/TARGET/, which cargo test replays;
# crashes land in fuzz/artifacts/.
set -euo pipefail
secs=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(sed -n 's/^name = "\(parse_[a-z_]*\)"/\1/p' Cargo.toml)
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$here/target}
failed=0 summary=()
for t in "${targets[@]}"; do
  mkdir -p "work/$t"
  set +e
  cargo fuzz run "$t" "work/$t" "corpus/$t" -- \
    -max_total_time="$secs" -max_len=65536 -print_final_stats=1 > "work/$t.log" 2>&1
  status=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "work/$t.log" | tail -n1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "work/$t.log" | tail -n1)
  cov=$(grep -o 'cov: [0-9]*' "work/$t.log" | tail -n1 | cut -d' ' -f2)
  if [ "$status" -eq 0 ]; then result=ok; else result="FAILED (exit $status, see fuzz/work/$t.log and fuzz/artifacts/$t/)"; failed=1; fi
  summary+=("fuzz $t: ${secs} s, ${runs:-?} executions (${rate:-?}/s), coverage ${cov:-?} edges: $result")
  echo "${summary[-1]}"
done
exit "$failed"
