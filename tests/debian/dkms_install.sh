#!/bin/bash
# Guest test (scripts/debian-kernel): make install on a stock Debian trixie machine with the
# backports kernel. Before booting, scripts/debian-kernel ran `make install KERNEL=<release>` in this
# machine's files with network: apt brought dkms, the headers and trixie's toolchain, the Rust
# artefacts were regenerated natively, DKMS built and installed procperf. Booted into that kernel,
# with no network: DKMS's module loads and works; make install rebuilds it with DKMS here and loads
# it; make uninstall leaves nothing behind.
. "$(dirname "$0")/../lib/tap.sh"
rel=$(uname -r)
ver=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)

dkms status 2>&1 | diag
check "dkms status: procperf $ver installed for $rel" bash -c "dkms status -m procperf -v $ver -k $rel | grep -q ': installed'"
check "modprobe procperf loads DKMS's module" modprobe procperf
check "it is DKMS's, under /lib/modules/$rel/updates/dkms" bash -c "modinfo -n procperf | grep -q '^/lib/modules/$rel/updates/dkms/procperf.ko'"
check "version names the running kernel" grep -qx "kernel $rel" "$PP_DEBUGFS/version"
sleep 2
check "it tracks this machine's processes" bash -c "grep -qE '^[1-9][0-9]* processes tracked' $PP_DEBUGFS/predictions"
check "modprobe -r procperf" modprobe -r procperf

start=$(date +%s)
check "make install: preflight, DKMS builds procperf in this guest, installs and loads it" make install
echo "make install took $(( $(date +%s) - start )) s" | diag
check "the module is loaded" grep -q '^procperf ' /proc/modules
check "the installed module was built by this make install" \
  bash -c "find /lib/modules/$rel/updates/dkms -name 'procperf.ko*' -newermt @$start | grep -q ."
check "its version file answers" grep -qE '^procperf [0-9.]+$' "$PP_DEBUGFS/version"

check "make uninstall" make uninstall
check "unloaded" bash -c "! grep -q '^procperf ' /proc/modules"
check "DKMS no longer knows procperf" bash -c "[ -z \"\$(dkms status -m procperf)\" ]"
check "no module file or source copy is left" bash -c "! modinfo -n procperf 2>/dev/null && [ ! -e /usr/src/procperf-$ver ]"
done_testing
