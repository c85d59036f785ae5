//! Random forest regressor: CART trees grown on bootstrap samples by variance reduction, with feature
//! subsampling per node, fitted in parallel over trees and deterministic given the seed.
//!
//! Splits are exact: every distinct training value of a feature is a candidate threshold, as in an
//! exhaustive CART. Each feature is coded once per fit as the rank of its value among the distinct
//! training values (a `u16`; a feature with more than [`MAX_BINS`] distinct values, which the
//! schema's 24-bit features never have in practice, falls back to quantile bins). A split is
//! `x <= threshold` with `threshold` the midpoint of two adjacent training values rounded down,
//! which routes the kernel's integer features exactly like scikit-learn's float midpoint.
//!
//! A node finds its best split per feature in one of two ways, whichever is cheaper: a large node
//! accumulates a dense histogram over the codes (O(rows + distinct values), no sorting), a small one
//! sorts its rows' codes (O(rows log rows)). scikit-learn sorts at every node; at the top of a tree,
//! where most rows are, this does not.
//!
//! Trees here are float-valued references; `export` quantises them through the model crate.

use procperf_model::synth;
use rayon::prelude::*;

/// Most distinct codes per feature: codes fit in a `u16`.
pub const MAX_BINS: usize = 1 << 16;

/// Hyper-parameters, named as in scikit-learn's `RandomForestRegressor`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ForestParams {
    pub n_estimators: usize,
    pub max_depth: usize,
    pub min_samples_leaf: usize,
    /// Fraction of features tried at each split (1.0 = all, scikit-learn's regression default).
    pub max_features: f64,
    pub bootstrap: bool,
    pub seed: u64,
    /// What a leaf predicts: the mean of its rows (squared error, scikit-learn's default) or their
    /// median (absolute error; the tree's splits are still chosen by variance reduction). `Auto`
    /// is resolved per target by the caller ([`LeafValue::for_target`]); a forest given it
    /// unresolved uses means.
    pub leaf: LeafValue,
    /// Feature columns no split may use (`max_features` is a fraction of the others).
    #[serde(default)]
    pub ignore: Vec<usize>,
}

/// See [`ForestParams::leaf`].
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
pub enum LeafValue {
    Mean,
    Median,
    /// Medians for RSS, means for the other targets.
    Auto,
}

impl LeafValue {
    /// The leaf value for `target`: `Auto` gives medians for RSS, whose peak-ahead target is
    /// mostly no change with a few large jumps (means there are pulled off zero by the jumps, and
    /// the band calibrated around them misses the many rows that do not move), means otherwise.
    pub fn for_target(self, target: procperf_model::schema::Target) -> Self {
        match self {
            Self::Auto if target == procperf_model::schema::Target::Rss => Self::Median,
            Self::Auto => Self::Mean,
            other => other,
        }
    }
}

impl Default for ForestParams {
    fn default() -> Self {
        Self {
            n_estimators: 32,
            max_depth: 8,
            min_samples_leaf: 5,
            max_features: 1.0,
            bootstrap: true,
            seed: 0,
            leaf: LeafValue::Mean,
            ignore: Vec::new(),
        }
    }
}

/// A node of a fitted tree. Leaves have `feature == None`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Node {
    pub feature: Option<u16>,
    /// Go left when `x[feature] <= threshold`.
    pub threshold: i32,
    pub left: u32,
    pub right: u32,
    /// Mean target of the training rows in this node (a leaf's prediction).
    pub value: f64,
}

/// One CART tree as a flat node array; node 0 is the root, children come after their parent.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tree {
    pub nodes: Vec<Node>,
}

impl Tree {
    pub fn predict(&self, x: &[i32]) -> f64 {
        let mut i = 0usize;
        loop {
            let n = &self.nodes[i];
            match n.feature {
                None => return n.value,
                Some(f) => {
                    i = if x[f as usize] <= n.threshold {
                        n.left
                    } else {
                        n.right
                    } as usize
                }
            }
        }
    }

    pub fn depth(&self) -> usize {
        fn d(t: &Tree, i: usize) -> usize {
            match t.nodes[i].feature {
                None => 0,
                Some(_) => 1 + d(t, t.nodes[i].left as usize).max(d(t, t.nodes[i].right as usize)),
            }
        }
        if self.nodes.is_empty() {
            0
        } else {
            d(self, 0)
        }
    }
}

/// A fitted forest: the mean of its trees.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Forest {
    pub trees: Vec<Tree>,
    pub n_features: usize,
}

impl Forest {
    pub fn predict(&self, x: &[i32]) -> f64 {
        self.trees.iter().map(|t| t.predict(x)).sum::<f64>() / self.trees.len().max(1) as f64
    }

    pub fn n_nodes(&self) -> usize {
        self.trees.iter().map(|t| t.nodes.len()).sum()
    }

    /// Total variance reduction contributed by each feature, normalised to sum to 1 (scikit-learn's
    /// impurity-based `feature_importances_`).
    pub fn feature_importances(&self, gains: &[f64]) -> Vec<f64> {
        let s: f64 = gains.iter().sum();
        gains
            .iter()
            .map(|g| if s > 0.0 { g / s } else { 0.0 })
            .collect()
    }
}

/// A row-major matrix of integer features: `n_rows` rows of `n_features` columns.
#[derive(Clone, Copy, Debug)]
pub struct Matrix<'a> {
    pub data: &'a [i32],
    pub n_features: usize,
}

impl<'a> Matrix<'a> {
    pub fn new(data: &'a [i32], n_features: usize) -> Self {
        assert!(
            n_features > 0 && data.len().is_multiple_of(n_features),
            "matrix shape"
        );
        Self { data, n_features }
    }
    pub fn n_rows(&self) -> usize {
        self.data.len() / self.n_features
    }
    pub fn row(&self, i: usize) -> &'a [i32] {
        &self.data[i * self.n_features..(i + 1) * self.n_features]
    }
}

/// Features binned once, column-major for cache-friendly histogram building; shared by the
/// forests of all targets fitted on the same rows.
pub struct Binned {
    /// `bins[f * n + i]`: code of row i, feature f.
    bins: Vec<u16>,
    /// Per feature, the upper edge (largest training value) of each bin.
    edges: Vec<Vec<i32>>,
    n: usize,
}

/// Bins every feature of `x` (in parallel over features).
pub fn bin_features(x: Matrix<'_>) -> Binned {
    let n = x.n_rows();
    let d = x.n_features;
    let cols: Vec<(Vec<u16>, Vec<i32>)> = (0..d)
        .into_par_iter()
        .map(|f| {
            if n == 0 {
                return (Vec::new(), vec![0]);
            }
            let mut vals: Vec<i32> = (0..n).map(|i| x.data[i * d + f]).collect();
            vals.sort_unstable();
            let mut distinct = vals.clone();
            distinct.dedup();
            let edges: Vec<i32> = if distinct.len() <= MAX_BINS {
                distinct
            } else {
                // Quantile edges over rows (not over distinct values), so dense regions get fine bins.
                let mut e: Vec<i32> = (1..=MAX_BINS)
                    .map(|k| vals[(k * n / MAX_BINS).min(n) - 1])
                    .collect();
                e.dedup();
                if *e.last().expect("non-empty") != vals[n - 1] {
                    e.push(vals[n - 1]);
                }
                e.truncate(MAX_BINS);
                let last = e.len() - 1;
                e[last] = vals[n - 1];
                e
            };
            let bins = (0..n)
                .map(|i| {
                    edges
                        .partition_point(|&e| e < x.data[i * d + f])
                        .min(edges.len() - 1) as u16
                })
                .collect();
            (bins, edges)
        })
        .collect();
    let mut bins = Vec::with_capacity(n * d);
    let mut edges = Vec::with_capacity(d);
    for (b, e) in cols {
        bins.extend_from_slice(&b);
        edges.push(e);
    }
    Binned { bins, edges, n }
}

/// A small, fast, seedable PRNG: the model crate's SplitMix64 ([`synth::Rng`]), stable across
/// crate versions, unlike `rand`'s.
#[derive(Clone, Debug)]
pub struct Rng(synth::Rng);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(synth::Rng(seed ^ 0x9E37_79B9_7F4A_7C15))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    /// Uniform in `0..n` (n > 0), by multiply-shift.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }
}

#[derive(Clone, Copy, Default)]
struct Bin {
    /// Distinct rows (what `min_samples_leaf` counts, as in scikit-learn).
    rows: u32,
    /// Bootstrap weight.
    w: f64,
    /// Weighted target sum.
    wy: f64,
}

struct Grower<'a> {
    binned: &'a Binned,
    y: &'a [f64],
    weight: &'a [f64],
    params: &'a ForestParams,
    /// Feature columns splits may use (all but `params.ignore`).
    allowed: &'a [usize],
    n_try: usize,
    rng: Rng,
    nodes: Vec<Node>,
    gains: Vec<f64>,
    scratch_bins: Vec<Bin>,
    scratch_keys: Vec<u64>,
}

struct Split {
    feature: usize,
    /// Largest code going left.
    bin: usize,
    /// Smallest code in the node going right (the threshold lies between the two).
    next_bin: usize,
    gain: f64,
}

impl Grower<'_> {
    /// The best split of `rows` on feature `f`, if any beats no split.
    fn best_split_on(&mut self, rows: &[u32], f: usize, total: Bin) -> Option<Split> {
        let n = self.binned.n;
        let col = &self.binned.bins[f * n..(f + 1) * n];
        let nb = self.binned.edges[f].len();
        if nb < 2 {
            return None;
        }
        let min_leaf = self.params.min_samples_leaf.max(1) as u32;
        let parent = total.wy * total.wy / total.w;
        let mut best: Option<Split> = None;
        let mut left = Bin::default();
        // Considers the split "codes <= code go left", `next` being the node's next code, after
        // `left` has absorbed every code up to `code`.
        let consider = |left: &Bin, code: usize, next: usize, best: &mut Option<Split>| -> bool {
            if left.rows < min_leaf {
                return true;
            }
            if total.rows - left.rows < min_leaf {
                return false; // every later split leaves the right side even smaller
            }
            let rw = total.w - left.w;
            if left.w <= 0.0 || rw <= 0.0 {
                return true;
            }
            let rwy = total.wy - left.wy;
            let gain = left.wy * left.wy / left.w + rwy * rwy / rw - parent;
            if gain > 1e-12 * total.w && best.as_ref().is_none_or(|s| gain > s.gain) {
                *best = Some(Split {
                    feature: f,
                    bin: code,
                    next_bin: next,
                    gain,
                });
            }
            true
        };
        if rows.len() * 4 >= nb {
            // Dense: one pass over the rows, one over the codes.
            let hist = &mut self.scratch_bins;
            hist.clear();
            hist.resize(nb, Bin::default());
            for &r in rows {
                let r = r as usize;
                let b = &mut hist[col[r] as usize];
                b.rows += 1;
                b.w += self.weight[r];
                b.wy += self.weight[r] * self.y[r];
            }
            let mut prev = None;
            for (code, bin) in hist.iter().enumerate() {
                if bin.rows == 0 {
                    continue;
                }
                if let Some(p) = prev {
                    if !consider(&left, p, code, &mut best) {
                        break;
                    }
                }
                left.rows += bin.rows;
                left.w += bin.w;
                left.wy += bin.wy;
                prev = Some(code);
            }
        } else {
            // Sparse: sort the node's (code, row) pairs and scan runs of equal codes.
            let keys = &mut self.scratch_keys;
            keys.clear();
            keys.extend(
                rows.iter()
                    .map(|&r| (u64::from(col[r as usize]) << 32) | u64::from(r)),
            );
            keys.sort_unstable();
            let mut i = 0;
            let mut prev = None;
            while i < keys.len() {
                let code = (keys[i] >> 32) as usize;
                if let Some(p) = prev {
                    if !consider(&left, p, code, &mut best) {
                        break;
                    }
                }
                while i < keys.len() && (keys[i] >> 32) as usize == code {
                    let r = (keys[i] & 0xFFFF_FFFF) as usize;
                    left.rows += 1;
                    left.w += self.weight[r];
                    left.wy += self.weight[r] * self.y[r];
                    i += 1;
                }
                prev = Some(code);
            }
        }
        best
    }

    fn best_split(&mut self, rows: &[u32], features: &[usize], total: Bin) -> Option<Split> {
        let mut best: Option<Split> = None;
        for &f in features {
            if let Some(s) = self.best_split_on(rows, f, total) {
                if best.as_ref().is_none_or(|b| s.gain > b.gain) {
                    best = Some(s);
                }
            }
        }
        best
    }

    /// The features tried at a node, in random order: among splits of exactly equal gain (two
    /// features that separate the same rows) the first one tried wins, so a fixed order would
    /// always favour low feature indices; scikit-learn also visits features in random order.
    fn sample_features(&mut self) -> Vec<usize> {
        let mut all = self.allowed.to_vec();
        let d = all.len();
        for i in 0..self.n_try.min(d) {
            let j = i + self.rng.below(d - i);
            all.swap(i, j);
        }
        all.truncate(self.n_try);
        all
    }

    /// Sets a leaf's value to the weighted median of its rows when asked to.
    fn finish_leaf(&mut self, id: u32, rows: &[u32]) {
        if self.params.leaf != LeafValue::Median || rows.is_empty() {
            return;
        }
        let mut v: Vec<(f64, f64)> = rows
            .iter()
            .map(|&r| (self.y[r as usize], self.weight[r as usize]))
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        let half = v.iter().map(|p| p.1).sum::<f64>() / 2.0;
        let mut acc = 0.0;
        for (y, w) in &v {
            acc += w;
            if acc >= half {
                self.nodes[id as usize].value = *y;
                return;
            }
        }
    }

    /// Grows the subtree over `rows`, returning its node index.
    fn grow(&mut self, rows: &mut [u32], depth: usize) -> u32 {
        let mut total = Bin::default();
        for &r in rows.iter() {
            total.rows += 1;
            total.w += self.weight[r as usize];
            total.wy += self.weight[r as usize] * self.y[r as usize];
        }
        let value = if total.w > 0.0 {
            total.wy / total.w
        } else {
            0.0
        };
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            feature: None,
            threshold: 0,
            left: 0,
            right: 0,
            value,
        });
        let min_leaf = self.params.min_samples_leaf.max(1);
        if depth >= self.params.max_depth || rows.len() < 2 * min_leaf || total.w <= 0.0 {
            self.finish_leaf(id, rows);
            return id;
        }
        let features = self.sample_features();
        let Some(split) = self.best_split(rows, &features, total) else {
            self.finish_leaf(id, rows);
            return id;
        };
        let n = self.binned.n;
        let col = &self.binned.bins[split.feature * n..(split.feature + 1) * n];
        let mut mid = 0;
        for i in 0..rows.len() {
            if (col[rows[i] as usize] as usize) <= split.bin {
                rows.swap(i, mid);
                mid += 1;
            }
        }
        self.gains[split.feature] += split.gain;
        let (l, r) = rows.split_at_mut(mid);
        let left = self.grow(l, depth + 1);
        let right = self.grow(r, depth + 1);
        let node = &mut self.nodes[id as usize];
        node.feature = Some(split.feature as u16);
        // Midway between the node's largest value going left and its smallest going right (rounded
        // down, which routes integers exactly like the float midpoint), as scikit-learn places it:
        // a value unseen in this node goes to the side it is closer to.
        let edges = &self.binned.edges[split.feature];
        node.threshold =
            ((i64::from(edges[split.bin]) + i64::from(edges[split.next_bin])).div_euclid(2)) as i32;
        node.left = left;
        node.right = right;
        id
    }
}

/// What fitting produced besides the forest.
#[derive(Clone, Debug, Default)]
pub struct FitInfo {
    /// Normalised impurity-based importance per feature.
    pub importances: Vec<f64>,
}

/// Fits a forest on integer features `x` and float target `y`.
///
/// ```
/// use trainer::forest::{fit, ForestParams, Matrix};
/// let x: Vec<i32> = (0..200).collect();
/// let y: Vec<f64> = (0..200).map(|v| if v < 100 { 1.0 } else { 5.0 }).collect();
/// let (f, _) = fit(Matrix::new(&x, 1), &y, &ForestParams { n_estimators: 4, ..Default::default() });
/// assert!((f.predict(&[10]) - 1.0).abs() < 1e-9 && (f.predict(&[150]) - 5.0).abs() < 1e-9);
/// ```
pub fn fit(x: Matrix<'_>, y: &[f64], params: &ForestParams) -> (Forest, FitInfo) {
    fit_with_progress(x, y, params, &indicatif::ProgressBar::hidden())
}

pub fn fit_with_progress(
    x: Matrix<'_>,
    y: &[f64],
    params: &ForestParams,
    bar: &indicatif::ProgressBar,
) -> (Forest, FitInfo) {
    fit_binned(&bin_features(x), y, params, bar)
}

/// Fits a forest on already binned features.
pub fn fit_binned(
    binned: &Binned,
    y: &[f64],
    params: &ForestParams,
    bar: &indicatif::ProgressBar,
) -> (Forest, FitInfo) {
    let n = binned.n;
    assert_eq!(n, y.len(), "one target per row");
    let d = binned.edges.len();
    if n == 0 {
        return (
            Forest {
                trees: vec![],
                n_features: d,
            },
            FitInfo {
                importances: vec![0.0; d],
            },
        );
    }
    let allowed: Vec<usize> = (0..d).filter(|f| !params.ignore.contains(f)).collect();
    let n_try = ((params.max_features.clamp(0.0, 1.0) * allowed.len() as f64).round() as usize)
        .clamp(1, allowed.len().max(1));
    let results: Vec<(Tree, Vec<f64>)> = (0..params.n_estimators)
        .into_par_iter()
        .map(|t| {
            let mut rng = Rng::new(
                params
                    .seed
                    .wrapping_mul(0x1000_0000_01B3)
                    .wrapping_add(t as u64),
            );
            let mut weight = vec![0f64; n];
            if params.bootstrap {
                for _ in 0..n {
                    weight[rng.below(n)] += 1.0;
                }
            } else {
                weight.fill(1.0);
            }
            let mut rows: Vec<u32> = (0..n as u32)
                .filter(|&i| weight[i as usize] > 0.0)
                .collect();
            let mut g = Grower {
                binned,
                y,
                weight: &weight,
                params,
                allowed: &allowed,
                n_try,
                rng,
                nodes: Vec::new(),
                gains: vec![0.0; d],
                scratch_bins: Vec::new(),
                scratch_keys: Vec::new(),
            };
            g.grow(&mut rows, 0);
            bar.inc(1);
            (Tree { nodes: g.nodes }, g.gains)
        })
        .collect();
    let mut gains = vec![0.0; d];
    let mut trees = Vec::with_capacity(results.len());
    for (t, g) in results {
        trees.push(t);
        for (a, b) in gains.iter_mut().zip(g) {
            *a += b;
        }
    }
    let forest = Forest {
        trees,
        n_features: d,
    };
    let importances = forest.feature_importances(&gains);
    (forest, FitInfo { importances })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn forest_on_constant_target_predicts_it(
            xs in proptest::collection::vec(-1000i32..1000, 20..200),
            c in -1e6f64..1e6,
        ) {
            let y = vec![c; xs.len()];
            let (f, _) = fit(Matrix::new(&xs, 1), &y, &ForestParams { n_estimators: 3, ..Default::default() });
            for &x in &xs {
                prop_assert!((f.predict(&[x]) - c).abs() < 1e-6 * c.abs().max(1.0));
            }
        }

        #[test]
        fn trees_respect_max_depth_and_min_samples_leaf(
            xs in proptest::collection::vec(0i32..50, 30..300),
            depth in 1usize..6,
            leaf in 1usize..10,
        ) {
            let y: Vec<f64> = xs.iter().map(|&v| (v * v) as f64).collect();
            let params = ForestParams { n_estimators: 2, max_depth: depth, min_samples_leaf: leaf, bootstrap: false, ..Default::default() };
            let (f, _) = fit(Matrix::new(&xs, 1), &y, &params);
            for t in &f.trees {
                prop_assert!(t.depth() <= depth);
                // Count the distinct training rows reaching each leaf.
                let mut counts = std::collections::HashMap::new();
                for &x in &xs {
                    let mut i = 0usize;
                    while let Some(ft) = t.nodes[i].feature {
                        i = if [x][ft as usize] <= t.nodes[i].threshold { t.nodes[i].left } else { t.nodes[i].right } as usize;
                    }
                    *counts.entry(i).or_insert(0usize) += 1;
                }
                prop_assert!(counts.values().all(|&c| c >= leaf));
            }
        }
    }

    #[test]
    fn same_seed_gives_identical_forest_and_other_seed_differs() {
        let x: Vec<i32> = (0..2000).map(|i| i * 7919 % 1000).collect();
        let y: Vec<f64> = x
            .chunks(2)
            .flat_map(|c| [c[0] as f64 + (c[1] % 7) as f64; 1])
            .collect();
        let p = ForestParams {
            n_estimators: 4,
            max_features: 0.5,
            seed: 7,
            ..Default::default()
        };
        let (a, _) = fit(Matrix::new(&x, 2), &y, &p);
        let (b, _) = fit(Matrix::new(&x, 2), &y, &p);
        assert_eq!(a, b);
        let (c, _) = fit(Matrix::new(&x, 2), &y, &ForestParams { seed: 8, ..p });
        assert_ne!(a, c);
    }

    #[test]
    fn ignored_features_are_never_split_on() {
        // Column 0 explains the target exactly, column 1 a little, column 2 is noise.
        let rows: Vec<[i32; 3]> = (0..3000)
            .map(|i| [i % 50, (i % 50) / 10 + i % 3, i * 7919 % 101])
            .collect();
        let x: Vec<i32> = rows.iter().flatten().copied().collect();
        let y: Vec<f64> = rows.iter().map(|r| f64::from(r[0])).collect();
        let uses = |f: &Forest| -> Vec<u16> {
            let mut u: Vec<u16> = f
                .trees
                .iter()
                .flat_map(|t| t.nodes.iter().filter_map(|n| n.feature))
                .collect();
            u.sort_unstable();
            u.dedup();
            u
        };
        let p = ForestParams {
            n_estimators: 4,
            ..Default::default()
        };
        let (all, _) = fit(Matrix::new(&x, 3), &y, &p);
        assert!(uses(&all).contains(&0));
        let (f, _) = fit(
            Matrix::new(&x, 3),
            &y,
            &ForestParams {
                ignore: vec![0],
                ..p.clone()
            },
        );
        assert!(
            !uses(&f).contains(&0) && !uses(&f).is_empty(),
            "{:?}",
            uses(&f)
        );
        // With max_features < 1 the fraction is of the allowed columns: one of two, never none.
        let (h, _) = fit(
            Matrix::new(&x, 3),
            &y,
            &ForestParams {
                ignore: vec![0],
                max_features: 0.5,
                ..p.clone()
            },
        );
        assert!(!uses(&h).contains(&0) && !uses(&h).is_empty());
        let (none, _) = fit(
            Matrix::new(&x, 3),
            &y,
            &ForestParams {
                ignore: vec![0, 1, 2],
                ..p
            },
        );
        assert!(
            uses(&none).is_empty(),
            "every column ignored: single-leaf trees"
        );
    }

    #[test]
    fn every_distinct_training_value_is_a_candidate_threshold() {
        let x: Vec<i32> = (0..10_000).map(|i| i * 3).collect();
        let b = bin_features(Matrix::new(&x, 1));
        assert_eq!(b.edges[0].len(), 10_000);
        assert_eq!(*b.edges[0].last().unwrap(), 29_997);
    }

    #[test]
    fn dense_and_sorted_split_search_agree() {
        // The same data split at the root (dense path) and inside a small node (sorted path) must
        // find the same threshold: fit once on 40 rows (sorted) and once on those rows repeated.
        let x: Vec<i32> = (0..40).map(|i| (i * 17) % 40).collect();
        let y: Vec<f64> = x.iter().map(|&v| if v <= 23 { 1.0 } else { 4.0 }).collect();
        let p = ForestParams {
            n_estimators: 1,
            bootstrap: false,
            min_samples_leaf: 1,
            max_depth: 1,
            ..Default::default()
        };
        let (small, _) = fit(Matrix::new(&x, 1), &y, &p);
        assert_eq!(small.trees[0].nodes[0].threshold, 23);
        let xs: Vec<i32> = x.iter().cycle().take(4000).copied().collect();
        let ys: Vec<f64> = y.iter().cycle().take(4000).copied().collect();
        let (big, _) = fit(Matrix::new(&xs, 1), &ys, &p);
        assert_eq!(big.trees[0].nodes[0].threshold, 23);
    }

    #[test]
    fn threshold_lies_midway_between_training_values_rounded_down() {
        let x = [-3, -3, -3, 0, 0, 0, 10, 10, 10];
        let y = [0.0, 0.0, 0.0, 5.0, 5.0, 5.0, 9.0, 9.0, 9.0];
        let p = ForestParams {
            n_estimators: 1,
            bootstrap: false,
            min_samples_leaf: 1,
            ..Default::default()
        };
        let (f, _) = fit(Matrix::new(&x, 1), &y, &p);
        let mut thresholds: Vec<i32> = f.trees[0]
            .nodes
            .iter()
            .filter(|n| n.feature.is_some())
            .map(|n| n.threshold)
            .collect();
        thresholds.sort_unstable();
        assert_eq!(thresholds, vec![-2, 5]); // floor(-1.5), 5
        assert_eq!(f.predict(&[-2]), 0.0);
        assert_eq!(f.predict(&[-1]), 5.0);
        assert_eq!(f.predict(&[6]), 9.0);
    }

    #[test]
    fn step_function_is_learned_with_exact_integer_threshold() {
        let x: Vec<i32> = (0..100).collect();
        let y: Vec<f64> = x
            .iter()
            .map(|&v| if v <= 41 { 0.0 } else { 10.0 })
            .collect();
        // Between 41 and 42 the midpoint 41.5 rounds down to 41.
        let (f, _) = fit(
            Matrix::new(&x, 1),
            &y,
            &ForestParams {
                n_estimators: 1,
                bootstrap: false,
                min_samples_leaf: 1,
                ..Default::default()
            },
        );
        assert_eq!(f.trees[0].nodes[0].threshold, 41);
    }
}
