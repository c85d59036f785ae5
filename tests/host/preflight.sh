#!/usr/bin/env bash
# Host test: scripts/preflight finds each problem that stops make install and prints its fix.
# Every failure is provoked on a stand-in machine: kernel build directories, /boot, sysfs and
# os-release files, and rustc, bindgen, gcc, dkms and mokutil commands that print what a real
# machine's would.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
TAP_HOST=1 . "$repo/tests/lib/tap.sh"

t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
rel=7.3.4+deb13-amd64
rustc_text="rustc 1.85.1 (4eb161250 2025-03-15) (built from a source tarball)"
bindgen_text="bindgen 0.71.1"
cc_text="x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0"

# A kernel build directory: kdir NAME [CONFIG_RUST value] [with-artefacts]
kdir() {
  local d=$t/$1
  mkdir -p "$d"
  echo "# kernel Makefile" > "$d/Makefile"
  { echo "CONFIG_CC_VERSION_TEXT=\"$cc_text\""
    [ "$2" = y ] && echo "CONFIG_RUST=y" || echo "# CONFIG_RUST is not set"
    echo "CONFIG_RUSTC_VERSION_TEXT=\"$rustc_text\""
    echo "CONFIG_BINDGEN_VERSION_TEXT=\"$bindgen_text\""; } > "$d/.config"
  if [ "${3:-}" = with-artefacts ]; then mkdir -p "$d/rust"; : > "$d/rust/libkernel.rmeta"; : > "$d/rust/libmacros.so"; fi
  echo "$d"
}
# Commands that print what the environment variables say (FAKE_RUSTC, FAKE_BINDGEN, FAKE_MOKUTIL).
bin=$t/bin; mkdir -p "$bin" "$t/bin-nodkms"
fake() { printf '#!/bin/sh\n%s\n' "$2" > "$bin/$1"; chmod +x "$bin/$1"; }
fake rustc 'echo "$FAKE_RUSTC"'
fake bindgen 'echo "$FAKE_BINDGEN"'
fake x86_64-linux-gnu-gcc-14 "echo '$cc_text'"
fake mokutil 'echo "$FAKE_MOKUTIL"'
cp "$bin"/* "$t/bin-nodkms/"
fake dkms 'echo "dkms-3.2.0"'
for os in debian ubuntu arch; do echo "ID=$os" > "$t/os-$os"; done
mkdir -p "$t/sys/kernel/security" "$t/sys-locked/kernel/security" "$t/sys-enforce/module/module/parameters" "$t/boot"
echo "[none] integrity confidentiality" > "$t/sys/kernel/security/lockdown"
echo "none [integrity] confidentiality" > "$t/sys-locked/kernel/security/lockdown"
echo Y > "$t/sys-enforce/module/module/parameters/sig_enforce"
: > "$t/mok.pub"

good=$(kdir good y with-artefacts) norust=$(kdir norust n) noart=$(kdir noart y)

# preflight OS KDIR [VAR=VALUE...]: runs it on the stand-in machine; output in $pf_out, status in $pf_rc.
preflight() {
  local os=$1 k=$2
  shift 2
  pf_out=$(env -i HOME="$t" PATH="$bin:/usr/bin:/bin" PP_OS_RELEASE="$t/os-$os" PP_SYSFS="$t/sys" \
    PP_BOOT="$t/boot" PP_DKMS_MOK="$t/mok.pub" FAKE_RUSTC="$rustc_text" FAKE_BINDGEN="$bindgen_text" \
    FAKE_MOKUTIL="" "$@" bash "$repo/scripts/preflight" --kernel "$rel" --kdir "$k" 2>&1)
  pf_rc=$?
}
# expect STATUS TEXT...: the last run's status, and each TEXT somewhere in its output.
expect() {
  local want=$1 s
  shift
  [ "$pf_rc" = "$want" ] || { echo "exit status $pf_rc, expected $want"; echo "$pf_out"; return 1; }
  for s in "$@"; do grep -qF -- "$s" <<<"$pf_out" || { echo "no '$s' in:"; echo "$pf_out"; return 1; }; done
}

preflight ubuntu "$good"
check "a ready machine passes" expect 0 "preflight: ok" "ok     rustc is the kernel's"
preflight debian "$norust"
check "no CONFIG_RUST: says so, and Debian's fix (the trixie-backports kernel)" \
  expect 1 "built without Rust support" "apt install -t trixie-backports linux-image-amd64"
preflight ubuntu "$t/missing"
check "no headers: names the headers package" expect 1 "no headers for Linux $rel" "apt install linux-headers-$rel"
preflight arch "$t/missing"
check "no headers on Arch: pacman's package" expect 1 "pacman -S linux-headers"
preflight ubuntu "$noart"
check "headers without Rust artefacts on Ubuntu: linux-lib-rust" expect 1 "lack the Rust build artefacts" "apt install linux-lib-rust-$rel"
preflight arch "$noart"
check "headers without Rust artefacts on Arch: linux-headers" expect 1 "Arch's linux-headers carries them"
preflight debian "$noart"
check "headers without Rust artefacts on Debian: regenerated, not a failure" \
  expect 0 "make install regenerates them" "ok     bindgen is the kernel's" "ok     x86_64-linux-gnu-gcc-14 is the kernel's C compiler"
preflight ubuntu "$good" FAKE_RUSTC="rustc 1.91.0 (f8297e351 2025-10-28)"
check "rustc differs from CONFIG_RUSTC_VERSION_TEXT: both named" \
  expect 1 "rustc is 'rustc 1.91.0 (f8297e351 2025-10-28)' but Linux $rel was built with '$rustc_text'" "RUSTC="
preflight debian "$noart" FAKE_BINDGEN="bindgen 0.69.5"
check "bindgen too old to regenerate the artefacts" expect 1 "bindgen 'bindgen 0.69.5' is older than the 'bindgen 0.71.1'" "apt install bindgen"
preflight debian "$good" PATH="$t/bin-nodkms:/usr/bin:/bin"
check "no dkms: says how to install it" expect 1 "dkms is not installed" "apt install dkms"
preflight debian "$good" PP_SYSFS="$t/sys-locked" FAKE_MOKUTIL="$t/mok.pub is not enrolled"
check "Secure Boot lockdown without an enrolled key: how to enroll a MOK" \
  expect 1 "Secure Boot lockdown is on" "mokutil --import $t/mok.pub" "Enroll MOK"
preflight debian "$good" PP_SYSFS="$t/sys-enforce" FAKE_MOKUTIL="$t/mok.pub is not enrolled"
check "module.sig_enforce=1 counts as lockdown" expect 1 "Secure Boot lockdown is on"
preflight debian "$good" PP_SYSFS="$t/sys-locked" FAKE_MOKUTIL="$t/mok.pub is already enrolled"
check "Secure Boot lockdown with DKMS's key enrolled passes" expect 0 "DKMS's signing key $t/mok.pub is enrolled"
preflight ubuntu "$noart" FAKE_RUSTC="rustc 1.91.0" PATH="$t/bin-nodkms:/usr/bin:/bin" PP_SYSFS="$t/sys-locked"
check "several problems are all listed" expect 1 "preflight: 4 problem(s)"
done_testing
