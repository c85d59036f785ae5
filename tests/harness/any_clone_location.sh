#!/usr/bin/env bash
# Harness self-test: guest tests run from a clone wherever it is, including the folders a guest
# covers with tmpfs (/root, /tmp) and paths with spaces. Copies this working tree (with the module
# built for the debug kernel) to "/root/procperf clone" and "/tmp/procperf clone", and runs the
# copy's own tests/vm with its module_lifecycle.sh, as scripts/test would from there. PP_KDIR is the
# debug kernel's build directory.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
. "$repo/scripts/lib.sh"
ko=$("$repo/scripts/build-module" 6.12 debug)
status=0
for clone in "/root/procperf clone" "/tmp/procperf clone"; do
  rm -rf "$clone"
  copy_working_tree "$clone"
  mkdir -p "$clone/build"
  cp "$ko" "$clone/build/procperf.ko"
  log="$clone/build/console.log"
  rc=0
  "$clone/tests/vm" --kernel "$PP_KDIR" --log "$log" --timeout 900 -- \
    env PP_KO="$clone/build/procperf.ko" bash "$clone/tests/kernel/module_lifecycle.sh" > "$clone/build/tap" 2>&1 || rc=$?
  ok=$(grep -c '^ok ' "$clone/build/tap" || true) notok=$(grep -c '^not ok ' "$clone/build/tap" || true)
  if [ "$rc" = 0 ] && [ "$ok" -gt 0 ] && [ "$notok" = 0 ] && "$repo/tests/splat-check" "$log"; then
    echo "ok: module_lifecycle from '$clone': $ok points passed"
  else
    echo "FAIL: module_lifecycle from '$clone': exit $rc, $ok ok, $notok not ok"
    tail -n 20 "$clone/build/tap"
    status=1
  fi
  rm -rf "$clone"
done
exit "$status"
