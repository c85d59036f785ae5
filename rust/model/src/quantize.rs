//! Host only: float models → integer blob models, and the bound on what that changes.
//!
//! Error bounds (fixed-point delta vs the `f64` reference on the same feature vector, target
//! units; see `linear.rs` and `forest.rs` for the derivation):
//!
//! - linear: [`LINEAR_MAX_ABS_ERROR`] = 0.63. Exact analysis gives 0.5 (final rounding) +
//!   63 × 2^24 × 2^-33 (`N_FEATURES` weights rounded in at least Q32, features ≤ 2^24) + 2^-17
//!   (intercept in Q16) = 0.6231; the remaining 0.0069 absorbs the `f64` reference's own rounding
//!   while Σ|w_j x_j| < 10^12.
//! - forest: [`FOREST_MAX_ABS_ERROR`] = 1.0 for any model; [`forest_error_bound`] gives the
//!   tighter `0.5 + 2^-(leaf_frac_bits+1)` of a given model (0.5000076 for the usual Q16 leaves).
//!   Routing is exact: integer features compare against `floor(threshold)` exactly as against the
//!   float threshold.
//! - interval ends: offsets are rounded outward (lo down, hi up), so each end may lie up to one
//!   more unit outside the float band.
//! - levels: clamping at 0 does not increase any of these differences.
//!
//! The trainer's export must call [`measure_error`] on its validation rows and refuse to write a
//! blob when [`QuantReport::within_bounds`] is false.

use std::string::String;

use super::blob::{IntervalOffsets, ModelRef, MAX_METADATA_LEN, N_HEADS};
use super::float::{features_f64, ForestF64, IntervalF64, LinearF64, ModelF64, NodeF64, TreeF64};
use super::forest::{
    LEAF, MAX_DEPTH, MAX_FOREST_NODES, MAX_LEAF_FRAC_BITS, MAX_TREES, MIN_THRESHOLD,
};
use super::linear::{INTERCEPT_FRAC_BITS, LINEAR_MAX_FRAC_BITS, LINEAR_MIN_FRAC_BITS};
use super::owned::{QuantForest, QuantLinear, QuantModel, QuantTarget};
use super::schema::{Target, FEATURE_MAX, N_FEATURES, N_TARGETS};

/// Largest |fixed − float| of a linear model's predicted change, target units.
pub const LINEAR_MAX_ABS_ERROR: f64 = 0.63;
const _: () = assert!(
    N_FEATURES <= 63,
    "recompute LINEAR_MAX_ABS_ERROR for more features"
);

/// Largest |fixed − float| of any forest's predicted change, target units.
pub const FOREST_MAX_ABS_ERROR: f64 = 1.0;

/// Largest linear weight magnitude that can be quantised (target units per feature unit).
pub const MAX_LINEAR_WEIGHT: f64 = (1u64 << (62 - LINEAR_MIN_FRAC_BITS)) as f64;

/// Largest intercept magnitude, target units.
pub const MAX_INTERCEPT: f64 = (1u64 << 46) as f64;

/// |fixed − float| bound of a forest with `leaf_frac_bits` fraction bits.
pub fn forest_error_bound(leaf_frac_bits: u32) -> f64 {
    0.5 + 0.5 / f64::from(1u32 << leaf_frac_bits.min(MAX_LEAF_FRAC_BITS)) + 1e-9
}

/// Why a float model cannot be quantised.
#[derive(Clone, Debug, PartialEq)]
pub enum QuantizeError {
    /// A weight list is not `N_FEATURES` long.
    WeightCount { target: Target, found: usize },
    /// A value is NaN or infinite.
    NotFinite { target: Target, what: &'static str },
    /// A weight beyond [`MAX_LINEAR_WEIGHT`] or an intercept beyond [`MAX_INTERCEPT`].
    LinearRange { target: Target },
    /// Interval lo > hi, or an offset outside `i32`.
    Interval { target: Target },
    /// No tree, or more than [`MAX_TREES`].
    TreeCount { target: Target, found: usize },
    /// A tree with a dangling child or a cycle, a split on a feature >= N_FEATURES.
    TreeStructure { target: Target, tree: usize },
    /// A tree deeper than [`MAX_DEPTH`].
    TooDeep {
        target: Target,
        tree: usize,
        depth: usize,
    },
    /// More than [`MAX_FOREST_NODES`] nodes in one forest.
    TooManyNodes { target: Target, found: usize },
    /// A leaf value of 2^31 target units or more.
    LeafRange { target: Target },
    /// No target, zero interval, coverage outside 1..=999, or metadata over 1 KiB.
    Header(&'static str),
}

impl core::fmt::Display for QuantizeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "cannot quantise model: {self:?}")
    }
}

impl std::error::Error for QuantizeError {}

fn finite(target: Target, what: &'static str, v: f64) -> Result<f64, QuantizeError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(QuantizeError::NotFinite { target, what })
    }
}

/// Rounds interval offsets outward into `i32`.
fn quantize_interval(target: Target, i: IntervalF64) -> Result<IntervalOffsets, QuantizeError> {
    let lo = finite(target, "interval", i.lo)?.floor();
    let hi = finite(target, "interval", i.hi)?.ceil();
    let range = f64::from(i32::MIN)..=f64::from(i32::MAX);
    if lo > hi || !range.contains(&lo) || !range.contains(&hi) {
        return Err(QuantizeError::Interval { target });
    }
    Ok(IntervalOffsets {
        lo: lo as i32,
        hi: hi as i32,
    })
}

/// Quantises a linear model: weights in the largest Q format (32..=62 fraction bits) that holds
/// the biggest one, intercept in Q16.
pub fn quantize_linear(target: Target, m: &LinearF64) -> Result<QuantLinear, QuantizeError> {
    if m.weights.len() != N_FEATURES {
        return Err(QuantizeError::WeightCount {
            target,
            found: m.weights.len(),
        });
    }
    let mut max_abs: f64 = 0.0;
    for &w in &m.weights {
        max_abs = max_abs.max(finite(target, "weight", w)?.abs());
    }
    let intercept = finite(target, "intercept", m.intercept)?;
    if max_abs > MAX_LINEAR_WEIGHT || intercept.abs() > MAX_INTERCEPT {
        return Err(QuantizeError::LinearRange { target });
    }
    // Largest F with max_abs * 2^F <= 2^62 (rounding then stays below 2^63).
    let frac_bits = if max_abs == 0.0 {
        LINEAR_MAX_FRAC_BITS
    } else {
        let f = (62.0 - max_abs.log2()).floor();
        (f as u32).clamp(LINEAR_MIN_FRAC_BITS, LINEAR_MAX_FRAC_BITS)
    };
    let scale = (frac_bits as f64).exp2();
    Ok(QuantLinear {
        frac_bits,
        intercept_q16: (intercept * f64::from(1u32 << INTERCEPT_FRAC_BITS)).round() as i64,
        weights: m
            .weights
            .iter()
            .map(|w| (w * scale).round() as i64)
            .collect(),
        interval: quantize_interval(target, m.interval)?,
    })
}

/// Integer threshold routing integer features exactly like the float one.
fn quantize_threshold(t: f64) -> i32 {
    // x <= t  <=>  x <= floor(t) for integer x; outside the feature range every x goes the
    // same way, which the clamped threshold reproduces.
    t.floor()
        .clamp(f64::from(MIN_THRESHOLD), f64::from(FEATURE_MAX)) as i32
}

/// Quantises a forest: trees laid out in preorder, thresholds floored, leaves in the largest
/// Q format (0..=16 fraction bits) that holds the biggest one.
pub fn quantize_forest(target: Target, f: &ForestF64) -> Result<QuantForest, QuantizeError> {
    if f.trees.is_empty() || f.trees.len() > MAX_TREES {
        return Err(QuantizeError::TreeCount {
            target,
            found: f.trees.len(),
        });
    }
    let mut max_leaf: f64 = 0.0;
    for (tree, t) in f.trees.iter().enumerate() {
        let depth = t
            .depth()
            .ok_or(QuantizeError::TreeStructure { target, tree })?;
        if depth > MAX_DEPTH {
            return Err(QuantizeError::TooDeep {
                target,
                tree,
                depth,
            });
        }
        for n in &t.nodes {
            match *n {
                NodeF64::Leaf { value } => {
                    max_leaf = max_leaf.max(finite(target, "leaf", value)?.abs())
                }
                NodeF64::Split { threshold, .. } if threshold.is_nan() => {
                    return Err(QuantizeError::NotFinite {
                        target,
                        what: "threshold",
                    })
                }
                _ => {}
            }
        }
    }
    let limit = f64::from(i32::MAX - 1);
    let leaf_frac_bits = (0..=MAX_LEAF_FRAC_BITS)
        .rev()
        .find(|&b| max_leaf * f64::from(1u32 << b) <= limit)
        .ok_or(QuantizeError::LeafRange { target })?;
    let leaf_scale = f64::from(1u32 << leaf_frac_bits);
    let mut out = QuantForest {
        leaf_frac_bits,
        interval: quantize_interval(target, f.interval)?,
        ..Default::default()
    };
    for (tree, t) in f.trees.iter().enumerate() {
        out.roots
            .push(out.feature.len().min(usize::from(u16::MAX)) as u16);
        emit_preorder(t, 0, &mut out, leaf_scale)
            .ok_or(QuantizeError::TreeStructure { target, tree })?;
        if out.feature.len() > MAX_FOREST_NODES {
            return Err(QuantizeError::TooManyNodes {
                target,
                found: out.feature.len(),
            });
        }
    }
    Ok(out)
}

/// Appends the subtree at `at` in preorder; `None` on a dangling child or bad feature index.
/// Depth was bounded by the caller, so the recursion is too.
fn emit_preorder(t: &TreeF64, at: usize, out: &mut QuantForest, leaf_scale: f64) -> Option<()> {
    let pos = out.feature.len();
    match *t.nodes.get(at)? {
        NodeF64::Leaf { value } => {
            out.feature.push(LEAF);
            out.threshold.push((value * leaf_scale).round() as i32);
            out.right.push(0);
        }
        NodeF64::Split {
            feature,
            threshold,
            left,
            right,
        } => {
            if feature >= N_FEATURES {
                return None;
            }
            out.feature.push(feature as u8);
            out.threshold.push(quantize_threshold(threshold));
            out.right.push(0); // patched once the left subtree is laid out
            emit_preorder(t, left, out, leaf_scale)?;
            let offset = out.feature.len() - pos;
            *out.right.get_mut(pos)? = u16::try_from(offset).unwrap_or(0);
            emit_preorder(t, right, out, leaf_scale)?;
        }
    }
    Some(())
}

impl ModelF64 {
    /// Quantises every model; serialize the result with
    /// [`QuantModel::to_checked_bytes`].
    pub fn quantize(&self) -> Result<QuantModel, QuantizeError> {
        if self.heads.iter().all(Option::is_none) {
            return Err(QuantizeError::Header("no target has a model"));
        }
        if self.interval_ms == 0 {
            return Err(QuantizeError::Header("interval_ms is 0"));
        }
        if !(1..=999).contains(&self.coverage_permille) {
            return Err(QuantizeError::Header("coverage_permille outside 1..=999"));
        }
        if self.metadata.len() > MAX_METADATA_LEN {
            return Err(QuantizeError::Header("metadata longer than 1 KiB"));
        }
        let mut heads: [Option<QuantTarget>; N_HEADS] = Default::default();
        for (i, (slot, m)) in heads.iter_mut().zip(&self.heads).enumerate() {
            let t = Target::ALL[i % N_TARGETS];
            if let Some(m) = m {
                *slot = Some(QuantTarget {
                    base: m.base,
                    linear: quantize_linear(t, &m.linear)?,
                    forest: quantize_forest(t, &m.forest)?,
                });
            }
        }
        Ok(QuantModel {
            interval_ms: self.interval_ms,
            coverage_permille: self.coverage_permille,
            heads,
            metadata: String::from(self.metadata.as_str()),
        })
    }
}

/// Largest measured |fixed − float| per head over some feature rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QuantReport {
    /// Rows measured.
    pub rows: usize,
    /// Per head (target `t` at horizon index `h` is `h·N_TARGETS + t`): largest linear
    /// difference, target units.
    pub linear_max_abs: [f64; N_HEADS],
    /// Per head: largest forest difference, target units.
    pub forest_max_abs: [f64; N_HEADS],
    /// Per head: the forest bound of that model ([`forest_error_bound`]).
    pub forest_bound: [f64; N_HEADS],
}

impl QuantReport {
    /// Whether every difference is within its documented bound.
    pub fn within_bounds(&self) -> bool {
        self.linear_max_abs
            .iter()
            .all(|&e| e <= LINEAR_MAX_ABS_ERROR)
            && self
                .forest_max_abs
                .iter()
                .zip(&self.forest_bound)
                .all(|(&e, &b)| e <= b)
    }
}

/// Compares the float models with the parsed fixed-point ones on `rows`.
///
/// ```
/// # use procperf_model::float::*;
/// # use procperf_model::quantize::measure_error;
/// # use procperf_model::blob::parse;
/// # use procperf_model::schema::N_FEATURES;
/// let linear = LinearF64 { intercept: 1.25, weights: vec![0.001; N_FEATURES], ..Default::default() };
/// let tree = TreeF64 { nodes: vec![NodeF64::Leaf { value: -3.3 }] };
/// let forest = ForestF64 { trees: vec![tree], ..Default::default() };
/// let model = ModelF64 {
///     interval_ms: 1000,
///     coverage_permille: 800,
///     heads: [Some(TargetModelF64 { linear, forest, ..Default::default() }), None, None, None, None, None, None, None],
///     metadata: "example".into(),
/// };
/// let bytes = model.quantize().unwrap().to_checked_bytes().unwrap();
/// let fixed = parse(&bytes).unwrap();
/// let rows = [[1000; N_FEATURES], [-7; N_FEATURES]];
/// let report = measure_error(&model, &fixed, rows.iter());
/// assert!(report.within_bounds());
/// ```
pub fn measure_error<'r>(
    float: &ModelF64,
    fixed: &ModelRef<'_>,
    rows: impl IntoIterator<Item = &'r [i32; N_FEATURES]>,
) -> QuantReport {
    let mut report = QuantReport {
        forest_bound: [f64::INFINITY; N_HEADS],
        ..Default::default()
    };
    let head = |i: usize| (i / N_TARGETS, Target::ALL[i % N_TARGETS]);
    for (i, b) in report.forest_bound.iter_mut().enumerate() {
        let (h, t) = head(i);
        if let Some(m) = fixed.target(h, t) {
            *b = forest_error_bound(m.forest.leaf_frac_bits());
        }
    }
    for x in rows {
        report.rows += 1;
        let xf = features_f64(x);
        for i in 0..N_HEADS {
            let (h, t) = head(i);
            let (Some(fm), Some(qm)) = (float.target(h, t), fixed.target(h, t)) else {
                continue;
            };
            let lin = (qm.linear.predict_delta(x) as f64 - fm.linear.predict_delta(&xf)).abs();
            let forest = (qm.forest.predict_delta(x) as f64 - fm.forest.predict_delta(&xf)).abs();
            report.linear_max_abs[i] = report.linear_max_abs[i].max(lin);
            report.forest_max_abs[i] = report.forest_max_abs[i].max(forest);
        }
    }
    report
}
