#!/usr/bin/env bash
# Harness self-test: what tests/splat-check excuses, and only there. Console excerpts recorded from
# real guests (tests/splat/consoles/) are framed by the fault tests' markers or not:
# - the kernel's report of a failed allocation, and 6.12's WARN in alloc_vmap_area, pass between
#   "procperf-test: faults on" and "... faults off";
# - the same reports outside the markers, and any other WARN between them, fail.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
consoles="$repo/tests/splat/consoles"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
failures=0
# expect pass|fail NAME [LINE]: the console on stdin must pass or fail the check (and a failing
# report must show a line matching LINE).
expect() {
  cat > "$work/$2.log"
  if "$repo/tests/splat-check" "$work/$2.log" > "$work/$2.report"; then got=pass; else got=fail; fi
  if [ -n "${3:-}" ] && ! grep -qE "$3" "$work/$2.report"; then got="$got, without '$3' in the report"; fi
  if [ "$got" = "$1" ]; then echo "ok - $2: $got"; else
    echo "not ok - $2: expected $1, got $got"; cat "$work/$2.report"; failures=$((failures + 1)); fi
}
on='[  100.000000] procperf-test: faults on'
off='[  200.000000] procperf-test: faults off'
for f in vmalloc-error vmalloc-va-clip-warn; do
  { echo "$on"; cat "$consoles/$f.log"; echo "$off"; } | expect pass "$f between the markers"
  { echo "$on"; echo "$off"; cat "$consoles/$f.log"; } | expect fail "$f after the markers"
  cat "$consoles/$f.log" | expect fail "$f without markers"
done
# The same WARN from anywhere else is a splat, markers or not.
{ echo "$on"; sed 's|at mm/vmalloc.c:[0-9]* alloc_vmap_area|at mm/slub.c:2210 kmem_cache_free|' \
    "$consoles/vmalloc-va-clip-warn.log"; echo "$off"; } |
  expect fail "another WARN between the markers" 'WARNING: .* at mm/slub.c:2210 kmem_cache_free'
# An excused report does not excuse a splat that follows it.
{ echo "$on"; cat "$consoles/vmalloc-va-clip-warn.log"; echo '[  150.000000] BUG: KASAN: use-after-free in x+0x1/0x2'
  echo "$off"; } | expect fail "a KASAN report after an excused WARN" 'BUG: KASAN'
[ "$failures" = 0 ] || { echo "FAIL: $failures of the splat detector's cases"; exit 1; }
echo "ok: the splat detector excuses injected allocation failures' reports between the markers only"
