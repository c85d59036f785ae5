#!/usr/bin/env bash
# Compiles src/ the way the kernel module does (as a `#[path]` module of a no_std crate, `core`
# only, no `std` feature, overflow checks on, the kernel's lint flags) and fails if
#   - any warning is emitted (missing docs, floats via clippy::float_arithmetic, ...), or
#   - any function of this crate, or any instance of a generic one made with this crate's types or
#     closures, keeps a call to a panic routine at the kernel's opt-levels (2 and s): an overflow,
#     bounds or division check the compiler could not prove away.
# Precondition checks inside `core`'s own iterators (`panic_nounwind`, debug builds only) are
# reported but not counted: they guard core's internal unsafe code, not ours.
# Usage: rust/model/check-kernel-build.sh
# Uses the compiler the kernel is built with, Debian's rustc-web (/usr/bin/rustc), and its clippy
# (rust-web-clippy, /usr/bin/clippy-driver); scripts/setup installs both. RUSTC and CLIPPY_DRIVER
# choose others.
set -euo pipefail
rustc=${RUSTC:-/usr/bin/rustc}
clippy=${CLIPPY_DRIVER:-/usr/bin/clippy-driver}
for tool in "$rustc" "$clippy"; do
    command -v "$tool" >/dev/null ||
        { echo "kernel build check: $tool not found (Debian: apt install rustc-web rust-web-clippy)"; exit 1; }
done
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/root.rs" <<ROOT
//! Stand-in for rust/procperf.rs.
#![no_std]
#[allow(unused_attributes)]
#[path = "$here/src/lib.rs"]
pub mod model;
ROOT
# rust_common_flags and KBUILD_RUSTFLAGS of Linux 6.12 (the -Z flags left out).
flags=(--edition=2021 -Astable_features -Dnon_ascii_idents -Dunsafe_op_in_unsafe_fn -Wmissing_docs
    -Wrust_2018_idioms -Wunreachable_pub -Wclippy::all -Aclippy::collapsible_if
    -Aclippy::collapsible_match -Wclippy::ignored_unit_patterns -Wclippy::mut_mut
    -Wclippy::needless_bitwise_bool -Aclippy::needless_lifetimes -Wclippy::no_mangle_with_rust_abi
    -Wclippy::undocumented_unsafe_blocks -Aclippy::uninlined_format_args
    -Wclippy::unnecessary_safety_comment -Wclippy::unnecessary_safety_doc -Aclippy::unwrap_or_default
    -Cpanic=abort -Wclippy::float_arithmetic -Coverflow-checks=on --cfg MODULE)
status=0
if "$clippy" "${flags[@]}" --crate-type lib --emit=metadata "$tmp/root.rs" -o "$tmp/m.rmeta" 2>"$tmp/lint"; then :; else status=1; fi
if grep -q '^\(warning\|error\)' "$tmp/lint"; then cat "$tmp/lint"; status=1; fi
for opt in 2 s; do
    # A library leaves small functions to be inlined into its users and emits no code for them;
    # -Zcross-crate-inline-threshold=never has it emit every non-generic function, so each is
    # checked (the kernel build passes -Z flags the same way, with RUSTC_BOOTSTRAP=1).
    # v0 symbol names spell out a generic instance's type arguments, so a closure of ours run by
    # core's iterator code is found under this crate's path (legacy names hide it under core's).
    RUSTC_BOOTSTRAP=1 "$rustc" --edition=2021 --crate-type lib --emit=asm -C opt-level=$opt \
        -C overflow-checks=on -C debug-assertions=on -C panic=abort -Zcross-crate-inline-threshold=never \
        -C symbol-mangling-version=v0 "$tmp/root.rs" -o "$tmp/m$opt.s"
    calls=$(awk '/^_R/ {fn=$0} /(call|jmp).*panic/ {print fn " -> " $NF}' "$tmp/m$opt.s")
    ours=$(grep '4root5model' <<<"$calls" | grep -v 'panic_nounwind' || true)
    core_checks=$(grep -c 'panic_nounwind' <<<"$calls" || true)
    if [ -n "$ours" ]; then
        echo "opt-level $opt: panic paths in procperf-model code:"; echo "$ours"; status=1
    else
        echo "opt-level $opt: no panic path in procperf-model code ($core_checks core precondition checks)"
    fi
done
[ $status -eq 0 ] && echo "kernel build check: ok" || echo "kernel build check: FAILED"
exit $status
