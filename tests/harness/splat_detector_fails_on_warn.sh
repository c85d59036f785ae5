#!/usr/bin/env bash
# Harness self-test: a guest whose kernel WARNs must be reported as failed. Builds the test-only
# module tests/splat (it WARNs on load) for the debug kernel, loads it in a guest, and expects
# tests/splat-check to flag the console log. PP_KDIR is the debug kernel's build directory.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
. "$repo/scripts/lib.sh"
# Under the repository (or, if its path has a space, the cache), not /tmp: the guest sees the
# host's / but has its own tmpfs /tmp.
work=$(kbuild_dir "$repo/build/splat-selftest")
rm -rf "$work"; mkdir -p "$work"
cp "$repo/tests/splat/splat.c" "$repo/tests/splat/Kbuild" "$work/"
make -s -C "$PP_KDIR" M="$work" $(kmake_vars) modules >/dev/null
"$repo/tests/vm" --kernel "$PP_KDIR" --log "$work/console.log" --timeout 900 \
  -- insmod "$work/procperf_splat.ko"
if "$repo/tests/splat-check" "$work/console.log" > "$work/report"; then
  echo "FAIL: the splat detector passed a console with a deliberate WARN"
  exit 1
fi
grep -q 'WARNING:.*procperf_splat\|procperf_splat: deliberate warning' "$work/report" || {
  echo "FAIL: the detector flagged something, but not the deliberate warning:"; cat "$work/report"; exit 1; }
echo "ok: the deliberate WARN was detected"
