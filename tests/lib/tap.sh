# TAP helpers for the test scripts in tests/kernel/ (guest) and tests/host/. Source it; end with `done_testing`.
# shellcheck shell=bash
tap_n=0
tap_failed=0

ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
not_ok() { tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1)); echo "not ok $tap_n - $*"; }
diag() { sed 's/^/# /'; }
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1 # SKIP $2"; }

# check "description" command [args...]: one test point, passing when the command succeeds; its
# output is shown as a diagnostic when it fails.
check() {
  local desc=$1 out
  shift
  if out=$("$@" 2>&1); then ok "$desc"; else not_ok "$desc"; printf '%s\n' "$out" | diag; fi
}

done_testing() {
  echo "1..$tap_n"
  [ "$tap_failed" = 0 ]
}

# The module under test (tests/vm passes PP_KO through the command's environment); host-side
# tests (tests/host/) set TAP_HOST=1 and have none.
if [ "${TAP_HOST:-0}" != 1 ]; then
  : "${PP_KO:?PP_KO must name the procperf.ko to test}"
  PP_DEBUGFS=/sys/kernel/debug/procperf
fi
