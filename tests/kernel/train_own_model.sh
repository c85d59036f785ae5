#!/bin/bash
# Guest test: the README's walkthrough "Train a model on your own host and upload it", command for
# command (recordings shortened from 600 s): record `samples` while programs run, `trainer fit`,
# `trainer eval` on a later recording, upload `model.bin`, and the module forecasts with it.
. "$(dirname "$0")/../lib/tap.sh"
: "${PP_TRAINER:?PP_TRAINER must name the host-built trainer}" "${PP_REPO:?}"
readme="$PP_REPO/README.md"
trainer="$PP_TRAINER"
work=$(mktemp -d /tmp/own.XXXXXX)
cd "$work" || exit 1

# Every command below must be in the README as written there (with target/release/trainer for the
# trainer and 600 s recordings), so the walkthrough cannot drift from what this test runs.
in_readme() { grep -qF -- "$1" "$readme" || { echo "README.md lacks: $1"; return 1; }; }
check "the README's walkthrough records, fits, scores and uploads with these commands" bash -c "
  $(declare -f in_readme); readme=$(printf %q "$readme")
  in_readme 'timeout 600 cat /sys/kernel/debug/procperf/samples > host.csv' &&
  in_readme 'timeout 600 cat /sys/kernel/debug/procperf/samples > host-later.csv' &&
  in_readme 'target/release/trainer fit host.csv --out mymodel' &&
  in_readme 'target/release/trainer eval mymodel/model.bin host-later.csv --versus rust/model/default/model.bin' &&
  in_readme 'cat mymodel/model.bin > /sys/kernel/debug/procperf/model' &&
  in_readme 'head -1 /sys/kernel/debug/procperf/model_info'"

check "insmod procperf.ko succeeds" insmod "$PP_KO"
# A quarter-second interval gives enough rows per process in a short recording.
echo 250 > "$PP_DEBUGFS/interval_ms"
python3 "$PP_REPO/scripts/workloads/train-mix" 100 --scratch "$work/mix" > mix.log 2>&1 &
mix=$!
timeout 60 cat /sys/kernel/debug/procperf/samples > host.csv
timeout 30 cat /sys/kernel/debug/procperf/samples > host-later.csv
wait "$mix"
rows=$(($(wc -l < host.csv) - 1))
check "the recording has rows ($rows)" test "$rows" -gt 2000

check "trainer fit host.csv --out mymodel writes a blob" bash -c "'$trainer' fit host.csv --out mymodel > fit.log 2>&1 && test -s mymodel/model.bin || { tail -20 fit.log; false; }"
eval_out=$("$trainer" eval mymodel/model.bin host-later.csv --versus "$PP_REPO/rust/model/default/model.bin" 2>&1)
status=$?
printf '%s\n' "$eval_out" | grep -E '^target|MAE / (persistence|versus)' | diag
check "trainer eval scores the blob on the later recording" test "$status" = 0
check "trainer eval scores every horizon (5 and 60 intervals)" bash -c "
  grep -q 'at 5 intervals ahead' <<< \"\$1\" && grep -q 'at 60 intervals ahead' <<< \"\$1\"" _ "$eval_out"
check "trainer eval compares the host's model with the default one" \
  bash -c "test \$(grep -c 'forest MAE / versus' <<< \"\$1\") -ge 4" _ "$eval_out"

before=$(sed -n 's/^swaps //p' "$PP_DEBUGFS/model_info")
check "uploading mymodel/model.bin succeeds" bash -c "cat mymodel/model.bin > /sys/kernel/debug/procperf/model"
check "model_info says source uploaded" grep -qx 'source uploaded' <(head -1 /sys/kernel/debug/procperf/model_info)
check "the swap was counted" test "$(sed -n 's/^swaps //p' "$PP_DEBUGFS/model_info")" = $((before + 1))
check "model_info carries the uploaded blob's size" \
  grep -qx "size_bytes $(stat -c %s mymodel/model.bin)" "$PP_DEBUGFS/model_info"
# Forecasts with the new model: a busy process has a row after a full history of passes.
stress-ng --cpu 1 --timeout 6s --quiet --temp-path /tmp &
sleep 4
check "predictions are published with the uploaded model" \
  bash -c "grep -q 'model uploaded' $PP_DEBUGFS/predictions && test \$(wc -l < $PP_DEBUGFS/predictions.csv) -gt 1"
wait
check "rmmod procperf succeeds" rmmod procperf
done_testing
