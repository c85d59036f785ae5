#!/bin/bash
# Guest test: the module loads, publishes a root-only debugfs directory, unloads without a trace,
# survives 50 load/unload cycles without leaking (kmemleak), and refuses non-root readers.
. "$(dirname "$0")/../lib/tap.sh"

# One kmemleak scan at the end; automatic scans only slow a TCG guest down.
[ -e /sys/kernel/debug/kmemleak ] && echo scan=off > /sys/kernel/debug/kmemleak

check "insmod procperf.ko succeeds" insmod "$PP_KO"
check "debugfs directory exists" test -d "$PP_DEBUGFS"

version=$(cat "$PP_DEBUGFS/version" 2>&1)
printf '%s\n' "$version" | diag
check "version names the module version" grep -qE '^procperf [0-9]+\.[0-9]+\.[0-9]+$' <<<"$version"
check "version names the running kernel release" grep -qx "kernel $(uname -r)" <<<"$version"
check "version names the model format" grep -qE '^model_format [0-9]+$' <<<"$version"

modes_are_root_only() {
  local f bad=0
  for f in "$PP_DEBUGFS"/*; do
    m=$(stat -c '%a %U' "$f")
    case "$m" in "400 root"|"600 root"|"200 root") ;; *) echo "$f: mode/owner $m"; bad=1 ;; esac
  done
  return $bad
}
check "every file is root-only (0400, 0600 or write-only 0200, owner root)" modes_are_root_only

# Even with debugfs opened up to everyone, the files' own modes refuse a non-root reader.
mount -o remount,mode=0755 /sys/kernel/debug
check "a non-root reader is refused" bash -c "! setpriv --reuid=65534 --regid=65534 --clear-groups cat $PP_DEBUGFS/version"
mount -o remount,mode=0700 /sys/kernel/debug

check "rmmod succeeds" rmmod procperf
check "nothing remains in debugfs after unload" test ! -e "$PP_DEBUGFS"
check "module is gone from /proc/modules" bash -c '! grep -q "^procperf " /proc/modules'

# The cycles make the syscalls insmod and rmmod make (finit_module, delete_module; x86-64 numbers)
# from one process: starting a program in a KASAN guest under TCG costs about a second, the
# syscalls far less. The first load and unload above use the real tools.
cycles() {
  python3 - "$PP_KO" "$PP_DEBUGFS/version" <<'PY'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
SYS_finit_module, SYS_delete_module = 313, 176
ko, version = sys.argv[1], sys.argv[2]
for i in range(1, 51):
    fd = os.open(ko, os.O_RDONLY)
    if libc.syscall(SYS_finit_module, fd, b"", 0) != 0:
        sys.exit(f"finit_module failed in cycle {i}: {os.strerror(ctypes.get_errno())}")
    os.close(fd)
    with open(version) as f:
        if not f.read().startswith("procperf "):
            sys.exit(f"version unreadable in cycle {i}")
    if libc.syscall(SYS_delete_module, b"procperf", os.O_NONBLOCK) != 0:
        sys.exit(f"delete_module failed in cycle {i}: {os.strerror(ctypes.get_errno())}")
PY
}
check "50 insmod/rmmod cycles" cycles
echo "# reliability: load=50 load/unload cycles; inputs=reads and writes by a non-root user"

# kmemleak reports objects older than 5 s that nothing references; ours name the module in the
# backtrace (leaks of the kernel itself are not this test's business).
kmemleak_clean() {
  local k=/sys/kernel/debug/kmemleak
  [ -e $k ] || { echo "kmemleak not available"; return 1; }
  sleep 6; echo scan > $k
  local leaks
  leaks=$(awk '/^unreferenced object/ {if (b ~ /procperf/) print b; b=""} {b=b $0 "\n"} END {if (b ~ /procperf/) print b}' $k)
  [ -z "$leaks" ] || { printf '%b' "$leaks" | head -40; return 1; }
}
# A distribution's kernel (scripts/debian-kernel sets PP_NO_DEBUG_KERNEL) has no kmemleak; on the
# test kernels its absence is a failure.
if [ -n "${PP_NO_DEBUG_KERNEL:-}" ] && [ ! -e /sys/kernel/debug/kmemleak ]; then
  skip "kmemleak finds no leak of procperf's after the cycles" "no kmemleak in this kernel"
else
  check "kmemleak finds no leak of procperf's after the cycles" kmemleak_clean
fi

done_testing
