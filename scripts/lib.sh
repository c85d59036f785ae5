# Shared by procperf's scripts: cache locations, toolchain variables, messages. Source it; do not run it.
# shellcheck shell=bash

PROCPERF_CACHE=${PROCPERF_CACHE:-/var/cache/procperf}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1mprocperf:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mprocperf: error:\033[0m %s\n' "$*" >&2; exit 1; }

# The kernel generations the test kernels are built from, each from Debian's own source package:
# 6.12 LTS (linux-source-6.12, installed from bookworm) and 7.3 (linux-source-7.3 of trixie-backports,
# downloaded into the cache, not installed). PP_KERNEL picks one (default 6.12); select_kernel sets
# KVER, KPKG and the bindgen that kernel is built with (7.x needs >= 0.71.1; 6.12 keeps the one its
# test kernels have always been built with, which is part of their cache key).
KERNELS=(6.12 7.3)
select_kernel() { # select_kernel 6.12|7.3
  case "$1" in
    6.12) KVER=6.12 BINDGEN_VERSION=0.69.5 ;;
    7.3) KVER=7.3 BINDGEN_VERSION=0.71.1 ;;
    *) die "unknown kernel '$1' (known: ${KERNELS[*]})" ;;
  esac
  KPKG=linux-source-$KVER
  BINDGEN=$PROCPERF_CACHE/tools/bindgen-$BINDGEN_VERSION/bin/bindgen
}
select_kernel "${PP_KERNEL:-6.12}"

# Debian's source package version (e.g. 6.12.117-1~deb12u1, 7.3.4-1~bpo13+1): everything built from
# a source is keyed by this string. 6.12 is an installed package; 7.3 a .deb in the cache.
DEBS="$PROCPERF_CACHE/debs"
kernel_deb() { ls "$DEBS/${KPKG}_"*_all.deb 2>/dev/null | sort -V | tail -n1; }
kernel_pkg_version() {
  if [ "$KVER" = 6.12 ]; then dpkg-query -W -f='${Version}' "$KPKG"
  else local deb; deb=$(kernel_deb); [ -n "$deb" ] && dpkg-deb -f "$deb" Version; fi
}
# Prometheus's server and promtool (Debian's package, unpacked into the cache rather than installed,
# so no service starts): the exporter's and the alert rules' tests run them.
PROMETHEUS_DIR="$PROCPERF_CACHE/tools/prometheus"
PROMETHEUS="$PROMETHEUS_DIR/usr/bin/prometheus"
PROMTOOL="$PROMETHEUS_DIR/usr/bin/promtool"
ensure_prometheus() {
  [ -x "$PROMTOOL" ] && [ -x "$PROMETHEUS" ] && return 0
  say "unpacking Debian's prometheus package into $PROMETHEUS_DIR (not installed: no service starts)"
  local tmp; tmp=$(mktemp -d)
  (cd "$tmp" && chmod 777 . && apt-get download -qq prometheus >/dev/null 2>&1) \
    || { rm -rf "$tmp"; die "apt-get download prometheus failed"; }
  rm -rf "$PROMETHEUS_DIR"; mkdir -p "$PROMETHEUS_DIR"
  dpkg-deb -x "$tmp"/prometheus_*.deb "$PROMETHEUS_DIR" || { rm -rf "$tmp"; die "unpacking prometheus failed"; }
  rm -rf "$tmp"
  "$PROMTOOL" --version >/dev/null 2>&1 || die "$PROMTOOL does not run"
}

KSRC_BASE="$PROCPERF_CACHE/src"
kernel_src_dir() { echo "$KSRC_BASE/$KPKG-$(kernel_pkg_version)"; }

# trixie-backports in apt's sources, pinned to priority 1: apt never installs or upgrades anything
# from it by itself; procperf only downloads linux-source-7.3 from it.
TRIXIE_SOURCES=/etc/apt/sources.list.d/procperf-trixie-backports.sources
ensure_trixie_backports() {
  [ -f "$TRIXIE_SOURCES" ] && return 0
  [ "$(id -u)" = 0 ] || die "adding trixie-backports to apt's sources needs root (or run: sudo $0)"
  say "adding trixie-backports to apt's sources ($TRIXIE_SOURCES, pinned: nothing installs from it unasked)"
  cat > "$TRIXIE_SOURCES" <<'SRC'
# procperf: linux-source-7.3 for its 7.x test kernel. Pinned to priority 1 by
# /etc/apt/preferences.d/procperf-trixie-backports, so apt never installs from here on its own.
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  cat > /etc/apt/preferences.d/procperf-trixie-backports <<'PIN'
Package: *
Pin: release n=trixie-backports
Pin-Priority: 1
PIN
  apt-get update -qq
}

# The kernel source tree, unpacked once per Debian source version.
ensure_kernel_source() {
  if [ "$KVER" != 6.12 ] && [ -z "$(kernel_deb)" ]; then
    ensure_trixie_backports
    say "downloading $KPKG from trixie-backports into $DEBS"
    mkdir -p "$DEBS"
    (cd "$DEBS" && apt-get download -q -o APT::Sandbox::User=root "$KPKG/trixie-backports" >/dev/null) || die "apt-get download $KPKG failed"
  fi
  KSRC=$(kernel_src_dir)
  if [ ! -f "$KSRC/.unpacked" ]; then
    say "unpacking $KPKG $(kernel_pkg_version) into $KSRC (about 30 s)"
    rm -rf "$KSRC" "$KSRC.tmp"
    mkdir -p "$KSRC.tmp"
    if [ "$KVER" = 6.12 ]; then
      tar -xf "/usr/src/$KPKG.tar.xz" -C "$KSRC.tmp" --strip-components=1
    else
      dpkg-deb --fsys-tarfile "$(kernel_deb)" | tar -xO "./usr/src/$KPKG.tar.xz" |
        tar -xJ -C "$KSRC.tmp" --strip-components=1
    fi
    mv "$KSRC.tmp" "$KSRC"
    touch "$KSRC/.unpacked"
  fi
  export KSRC
}

# make variables for every kernel and module build: LLVM 19, rustc-web (not rustup's, which lacks
# rust-src), the kernel's bindgen.
kmake_vars() {
  echo "LLVM=-19 RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc BINDGEN=$BINDGEN"
}

# A short key for the toolchain: rustc-web, clang-19 and bindgen versions.
toolchain_key() {
  printf '%s\n' "$(dpkg-query -W -f='${Version}' rustc-web)" \
    "$(dpkg-query -W -f='${Version}' clang-19)" "$BINDGEN_VERSION" | sha256sum | cut -c1-12
}

# bindgen from crates.io, pinned per kernel and cached (Debian 12's is older than either needs).
ensure_bindgen() {
  if [ ! -x "$BINDGEN" ]; then
    say "installing bindgen-cli $BINDGEN_VERSION into $PROCPERF_CACHE/tools (about 80 s)"
    cargo install --quiet --locked bindgen-cli --version "$BINDGEN_VERSION" --root "$(dirname "$(dirname "$BINDGEN")")"
  fi
}

# kbuild_dir DIR: a directory for Kbuild's M=, which cannot take a path with a space: DIR itself, or
# for a DIR whose path has one, a directory of its own under the cache.
kbuild_dir() {
  case "$1" in
    *[[:space:]]*) echo "$PROCPERF_CACHE/module-builds/$(printf %s "$1" | sha256sum | cut -c1-12)" ;;
    *) echo "$1" ;;
  esac
}

# The module's sources (Kbuild, rust/*.rs, the stage folders, sys/ with shim.c, the model crate's
# src/ and default blob) mirrored into DEST, where a kernel build may write its objects.
mirror_module_sources() { # mirror_module_sources DEST
  rsync -a --delete --prune-empty-dirs \
    --include='/Kbuild' --include='/Cargo.toml' --include='/rust/' --include='/rust/*.rs' \
    --include='/rust/sys/***' --include='/rust/[0-9]_*/***' \
    --include='/rust/model/' --include='/rust/model/src/***' \
    --include='/rust/model/default/' --include='/rust/model/default/model.bin' --exclude='*' "$REPO/" "$1"
}

# The module's version: the workspace version in Cargo.toml (Kbuild passes the same to the module).
module_version() { sed -n 's/^version = "\(.*\)"/\1/p' "$REPO/Cargo.toml" | head -n1; }

# A kernel build's compiler warnings, from its log on stdin: "warning:" at a line's start (rustc)
# or after a file name (gcc, objtool, modpost). Exit status 0 when there is one.
build_warnings() { grep -E -A8 '^(warning|error)|: (warning|error):'; }

# chroot_enter DIR [SHARED...]: /proc, /sys, /dev and each SHARED folder mounted at their own paths
# inside the root DIR until the calling script exits; in_chroot then runs a command there.
chroot_enter() {
  CHROOT_DIR=$1
  shift
  CHROOT_MOUNTS=()
  trap 'for ((i = ${#CHROOT_MOUNTS[@]} - 1; i >= 0; i--)); do umount -R "${CHROOT_MOUNTS[i]}" 2>/dev/null || true; done' EXIT
  local fs
  for fs in /proc /sys /dev "$@"; do
    mkdir -p "$CHROOT_DIR$fs"
    mount --rbind "$fs" "$CHROOT_DIR$fs"; mount --make-rslave "$CHROOT_DIR$fs"
    CHROOT_MOUNTS+=("$CHROOT_DIR$fs")
  done
}

# A Debian chroot of SUITE in $PROCPERF_CACHE/debian/chroot-SUITE with the packages a kernel's Rust
# build needs (made once with mmdebstrap), entered with the cache shared.
debian_chroot_enter() { # debian_chroot_enter SUITE
  local dir="$PROCPERF_CACHE/debian/chroot-$1"
  if [ ! -f "$dir/.done" ]; then
    command -v mmdebstrap >/dev/null || {
      say "installing mmdebstrap"; apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null; }
    say "making a Debian $1 chroot with its kernel toolchain in $dir (a few minutes)"
    rm -rf "$dir"
    mmdebstrap --quiet --variant=apt \
      --include=rustc,rust-src,bindgen,gcc-14,binutils,make,flex,bison,bc,libelf-dev,libssl-dev,openssl,python3,kmod,dwarves,cpio,rsync \
      "$1" "$dir" http://deb.debian.org/debian || die "mmdebstrap $1 failed"
    touch "$dir/.done"
  fi
  chroot_enter "$dir" "$PROCPERF_CACHE"
}
in_chroot() { chroot "$CHROOT_DIR" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

# This working tree's files as a clone has them (tracked, and new ones git does not ignore) copied
# to DEST, which need not exist.
copy_working_tree() { # copy_working_tree DEST
  mkdir -p "$1"
  (cd "$REPO" && git ls-files -z --cached --others --exclude-standard) |
    rsync -a --from0 --files-from=- "$REPO/" "$1/"
}

kernel_version() { make -s -C "$(kernel_src_dir)" kernelversion 2>/dev/null; }

# The two models the guest tests upload (hot swap, faults, soak), trained on the trainer's fixture
# with different settings into $REPO/build/test-blobs/{a,b}/model.bin. Needs the release trainer.
test_blobs() {
  local trainer="$REPO/target/release/trainer" blobs="$REPO/build/test-blobs"
  local fixture="$REPO/trainer/tests/data/mix-a-90s.csv.gz"
  "$trainer" fit "$fixture" --out "$blobs/a" --max-depth 4 --n-estimators 8 --json > /dev/null || die "test model A"
  "$trainer" fit "$fixture" --out "$blobs/b" --seed 7 --json > /dev/null || die "test model B"
}
