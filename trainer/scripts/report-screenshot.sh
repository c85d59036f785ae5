#!/bin/sh
# Regenerates docs/report.png: the top of `trainer report` for the embedded default model
# (rust/model/default) on the held-out reference capture, as headless Chromium renders it.
#
#   trainer/scripts/report-screenshot.sh [HEIGHT]     # default 1700 px; the width is 1400 px
#
# Needs chromium (scripts/setup installs it). Honours CARGO_TARGET_DIR.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
height=${1:-1700}
cd "$root"
cargo build --release --quiet -p trainer
case "${CARGO_TARGET_DIR:-}" in
    "") target=$root/target ;;
    /*) target=$CARGO_TARGET_DIR ;;
    *) target=$root/$CARGO_TARGET_DIR ;;
esac
command -v chromium >/dev/null || { echo "report-screenshot.sh: install chromium (scripts/setup does)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Relative paths: the page shows them in its header.
"$target/release/trainer" report rust/model/default data/reference/heldout.csv.xz --out "$tmp/report.html"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --user-data-dir="$tmp/profile" --window-size="1400,$height" \
    --screenshot="$tmp/report.png" "file://$tmp/report.html" 2>/dev/null
mkdir -p docs
cp "$tmp/report.png" docs/report.png
echo "wrote docs/report.png ($(wc -c < docs/report.png) bytes, 1400x$height)"
