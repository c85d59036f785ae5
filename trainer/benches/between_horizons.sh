#!/usr/bin/env bash
# Would a third horizon between the published two earn its place? Builds the trainer of this
# checkout with HORIZONS = [5, H, 60] (a git worktree under build/), fits that model on
# data/reference/train.csv.xz with the default model's seed, and scores the CPU forecasts of both
# models at H on the held-out and the day2 recordings (between_horizons.py). Minutes on 2 cores.
#
#   trainer/benches/between_horizons.sh [H]     (default 30)
set -euo pipefail
h=${1:-30}
repo=$(cd "$(dirname "$0")/../.." && pwd)
work="$repo/build/between-horizons-$h"
cd "$repo"
cargo build --quiet --release -p trainer
rm -rf "$work"; git worktree prune
git worktree add --detach --force "$work" HEAD >/dev/null
sed -i "s/pub const N_HORIZONS: usize = 2;/pub const N_HORIZONS: usize = 3;/; s/pub const HORIZONS: \[usize; N_HORIZONS\] = \[5, 60\];/pub const HORIZONS: [usize; N_HORIZONS] = [5, $h, 60];/" \
  "$work/rust/model/src/schema.rs"
grep -q "\[5, $h, 60\]" "$work/rust/model/src/schema.rs" || { echo "the schema's horizons are not [5, 60]" >&2; exit 1; }
(cd "$work" && CARGO_TARGET_DIR="$work/target" cargo build --quiet --release -p trainer)
three="$work/target/release/trainer"
"$three" fit data/reference/train.csv.xz --out "$work/model" --seed 0 > "$work/fit.txt"
for set in heldout day2; do
  data="data/reference/$set.csv.xz"
  target/release/trainer predict rust/model/default/model.bin "$data" -o "$work/$set-two.csv" >/dev/null 2>&1
  "$three" predict "$work/model/model.bin" "$data" -o "$work/$set-three.csv" >/dev/null 2>&1
  python3 trainer/benches/between_horizons.py "$data" "$work/$set-two.csv" "$work/$set-three.csv" --horizon "$h"
done
