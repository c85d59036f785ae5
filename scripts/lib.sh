# Shared by procperf's scripts: cache locations, toolchain variables, messages. Source it; do not run it.
# shellcheck shell=bash

PROCPERF_CACHE=${PROCPERF_CACHE:-/var/cache/procperf}
BINDGEN_VERSION=0.69.5
BINDGEN=${BINDGEN:-$PROCPERF_CACHE/tools/bindgen-$BINDGEN_VERSION/bin/bindgen}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1mprocperf:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mprocperf: error:\033[0m %s\n' "$*" >&2; exit 1; }

# Debian's linux-source-6.12 package version (e.g. 6.12.117-1~deb12u1): the source is whatever 6.12.x
# the archive carries, and everything built from it is keyed by this string.
kernel_pkg_version() { dpkg-query -W -f='${Version}' linux-source-6.12; }
KSRC_BASE="$PROCPERF_CACHE/src"
kernel_src_dir() { echo "$KSRC_BASE/linux-source-$(kernel_pkg_version)"; }

# make variables for every kernel and module build: LLVM 19, rustc-web (not rustup's, which lacks
# rust-src), the pinned bindgen.
kmake_vars() {
  echo "LLVM=-19 RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc BINDGEN=$BINDGEN"
}

# A short key for the toolchain: rustc-web, clang-19 and bindgen versions.
toolchain_key() {
  printf '%s\n' "$(dpkg-query -W -f='${Version}' rustc-web)" \
    "$(dpkg-query -W -f='${Version}' clang-19)" "$BINDGEN_VERSION" | sha256sum | cut -c1-12
}

ensure_kernel_source() {
  KSRC=$(kernel_src_dir)
  if [ ! -f "$KSRC/.unpacked" ]; then
    say "unpacking /usr/src/linux-source-6.12.tar.xz into $KSRC (about 20 s)"
    rm -rf "$KSRC" "$KSRC.tmp"
    mkdir -p "$KSRC.tmp"
    tar -xf /usr/src/linux-source-6.12.tar.xz -C "$KSRC.tmp" --strip-components=1
    mv "$KSRC.tmp" "$KSRC"
    touch "$KSRC/.unpacked"
  fi
  export KSRC
}

kernel_version() { make -s -C "$(kernel_src_dir)" kernelversion 2>/dev/null; }
