//! Host only: the models as the trainer fits them, in `f64`, and their reference evaluation.
//!
//! These are the models before quantisation. `quantize.rs` turns a [`ModelF64`] into the integer
//! blob and bounds the difference; the trainer reports metrics from this float evaluation and
//! checks the quantised one against it.
//!
//! Semantics match the kernel's evaluators exactly, apart from rounding: features are the `i32`
//! vector of `features.rs` (clamped to ±`FEATURE_MAX`), a split goes left when
//! `x[feature] <= threshold`, a forest predicts the mean of its trees' leaves, every model
//! predicts the change of its target from the current level, and levels are clamped at 0.

use std::string::String;
use std::vec;
use std::vec::Vec;

use super::blob::N_HEADS;
use super::schema::{Target, FEATURE_MAX, N_FEATURES, N_TARGETS};
use super::target::BaseAlpha;

/// Calibrated interval offsets in target units (delta domain): the band is
/// `[delta + lo, delta + hi]`. Split-conformal residual quantiles measured by the trainer.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct IntervalF64 {
    /// Lower offset (usually negative).
    pub lo: f64,
    /// Upper offset, `>= lo`.
    pub hi: f64,
}

/// A linear model on the raw feature vector: standardisation already folded into `weights`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinearF64 {
    /// Predicted change when every feature is 0, target units.
    pub intercept: f64,
    /// One weight per feature, in [`FEATURE_NAMES`](super::schema::FEATURE_NAMES) order, target
    /// units per feature unit.
    pub weights: Vec<f64>,
    /// Calibrated interval offsets.
    pub interval: IntervalF64,
}

impl LinearF64 {
    /// `intercept + Σ weights[j] * x[j]` (missing weights or features count as 0).
    pub fn predict_delta(&self, x: &[f64]) -> f64 {
        self.intercept + self.weights.iter().zip(x).map(|(w, x)| w * x).sum::<f64>()
    }
}

/// One node of a [`TreeF64`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NodeF64 {
    /// Go to `left` when `x[feature] <= threshold`, else to `right` (indices into the tree's
    /// `nodes`).
    Split {
        feature: usize,
        threshold: f64,
        left: usize,
        right: usize,
    },
    /// A prediction of the target change, target units.
    Leaf { value: f64 },
}

/// A regression tree: `nodes[0]` is the root; children may be stored in any order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TreeF64 {
    /// The nodes, root first.
    pub nodes: Vec<NodeF64>,
}

impl TreeF64 {
    /// The leaf value reached by `x`; NaN for a malformed tree (dangling child, cycle).
    pub fn predict(&self, x: &[f64]) -> f64 {
        let mut at = 0;
        for _ in 0..=self.nodes.len() {
            match self.nodes.get(at) {
                Some(NodeF64::Leaf { value }) => return *value,
                Some(NodeF64::Split {
                    feature,
                    threshold,
                    left,
                    right,
                }) => {
                    let v = x.get(*feature).copied().unwrap_or(0.0);
                    at = if v <= *threshold { *left } else { *right };
                }
                None => return f64::NAN,
            }
        }
        f64::NAN
    }

    /// Depth of the deepest leaf reachable from the root (0 for a lone leaf); `None` when a
    /// reachable child is dangling or the tree has a cycle.
    pub fn depth(&self) -> Option<usize> {
        let mut deepest = 0;
        let mut stack = vec![(0usize, 0usize)];
        while let Some((at, d)) = stack.pop() {
            if d > self.nodes.len() {
                return None;
            }
            match self.nodes.get(at)? {
                NodeF64::Leaf { .. } => deepest = deepest.max(d),
                NodeF64::Split { left, right, .. } => {
                    stack.push((*left, d + 1));
                    stack.push((*right, d + 1));
                }
            }
        }
        Some(deepest)
    }
}

/// A forest: the mean of its trees.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ForestF64 {
    /// The trees.
    pub trees: Vec<TreeF64>,
    /// Calibrated interval offsets.
    pub interval: IntervalF64,
}

impl ForestF64 {
    /// Mean over trees of [`TreeF64::predict`] (NaN without trees).
    pub fn predict_delta(&self, x: &[f64]) -> f64 {
        self.trees.iter().map(|t| t.predict(x)).sum::<f64>() / self.trees.len() as f64
    }
}

/// The two models of one target.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TargetModelF64 {
    /// The EWMA factor of the base level the predicted changes are added to.
    pub base: BaseAlpha,
    /// The linear model.
    pub linear: LinearF64,
    /// The forest.
    pub forest: ForestF64,
}

/// Everything a blob holds, in `f64`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelF64 {
    /// Sampling interval of the training data, ms.
    pub interval_ms: u32,
    /// Nominal coverage of the intervals, permille (800 for 80 %).
    pub coverage_permille: u16,
    /// Models per head (target `t` at horizon index `h` is head `h·N_TARGETS + t`, as in the
    /// blob); `None` for a head not modelled.
    pub heads: [Option<TargetModelF64>; N_HEADS],
    /// Training summary shown by the kernel's `model_info` (at most 1 KiB of UTF-8).
    pub metadata: String,
}

/// One target's float predictions, levels in target units (clamped at 0).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PredictionF64 {
    /// Linear model point forecast.
    pub linear: f64,
    /// Lower end of the linear model's interval.
    pub linear_lo: f64,
    /// Upper end of the linear model's interval.
    pub linear_hi: f64,
    /// Forest point forecast.
    pub forest: f64,
    /// Lower end of the forest's interval.
    pub forest_lo: f64,
    /// Upper end of the forest's interval.
    pub forest_hi: f64,
}

/// A (possibly fractional) level in [`Target::display_unit`] (CPU %, RSS MiB, disk and net
/// KiB/s), for the trainer's reports; the kernel's integer counterpart is
/// [`display_milli`](super::target::display_milli).
pub fn display_f64(target: Target, level: f64) -> f64 {
    let level = level.max(0.0);
    match target {
        Target::Cpu => level / 10.0,
        Target::Rss => level / 1024.0,
        Target::Disk | Target::Net => ((level / 256.0).exp2() - 1.0) / 1024.0,
    }
}

/// The integer feature vector as the float models see it: clamped like the kernel's evaluators.
pub fn features_f64(x: &[i32; N_FEATURES]) -> [f64; N_FEATURES] {
    x.map(|v| f64::from(v.clamp(-FEATURE_MAX, FEATURE_MAX)))
}

impl ModelF64 {
    /// The models of `target` at horizon index `h`, if present.
    pub fn target(&self, h: usize, target: Target) -> Option<&TargetModelF64> {
        self.heads
            .get(h.checked_mul(N_TARGETS)?.checked_add(target.index())?)
            .and_then(Option::as_ref)
    }

    /// Float counterpart of [`ModelRef::predict`](super::blob::ModelRef::predict): `base` is the
    /// target's base level ([`BaseAlpha::level`] with this model's factor).
    pub fn predict(
        &self,
        h: usize,
        target: Target,
        x: &[i32; N_FEATURES],
        base: i64,
    ) -> Option<PredictionF64> {
        let m = self.target(h, target)?;
        let x = features_f64(x);
        let level = base as f64;
        let lin = m.linear.predict_delta(&x);
        let forest = m.forest.predict_delta(&x);
        let at = |delta: f64, offset: f64| (level + delta + offset).max(0.0);
        Some(PredictionF64 {
            linear: at(lin, 0.0),
            linear_lo: at(lin, m.linear.interval.lo),
            linear_hi: at(lin, m.linear.interval.hi),
            forest: at(forest, 0.0),
            forest_lo: at(forest, m.forest.interval.lo),
            forest_hi: at(forest, m.forest.interval.hi),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stump() -> TreeF64 {
        TreeF64 {
            nodes: vec![
                NodeF64::Split {
                    feature: 0,
                    threshold: 2.5,
                    left: 2,
                    right: 1,
                },
                NodeF64::Leaf { value: 10.0 },
                NodeF64::Leaf { value: -4.0 },
            ],
        }
    }

    #[test]
    fn display_f64_agrees_with_the_integer_display() {
        use super::super::target::display_milli;
        for t in Target::ALL {
            for level in [0i64, 1, 255, 1024, 2560, 5000] {
                let milli = display_milli(t, level) as f64 / 1000.0;
                let f = display_f64(t, level as f64);
                assert!(
                    (milli - f).abs() <= 0.0015 * f + 0.001,
                    "{t:?} {level}: {milli} vs {f}"
                );
            }
        }
    }

    #[test]
    fn tree_goes_left_at_or_below_threshold() {
        assert_eq!(stump().predict(&[2.5]), -4.0);
        assert_eq!(stump().predict(&[2.6]), 10.0);
        assert_eq!(stump().depth(), Some(1));
    }

    #[test]
    fn malformed_trees_are_detected() {
        let mut t = stump();
        t.nodes[0] = NodeF64::Split {
            feature: 0,
            threshold: 0.0,
            left: 0,
            right: 1,
        };
        assert!(t.predict(&[0.0]).is_nan());
        assert_eq!(t.depth(), None);
        t.nodes[0] = NodeF64::Split {
            feature: 0,
            threshold: 0.0,
            left: 7,
            right: 1,
        };
        assert_eq!(t.depth(), None);
    }

    #[test]
    fn prediction_levels_add_delta_and_clamp_at_zero() {
        let mut heads: [Option<TargetModelF64>; N_HEADS] = Default::default();
        heads[0] = Some(TargetModelF64 {
            base: BaseAlpha::PERSISTENCE,
            linear: LinearF64 {
                intercept: -30.0,
                weights: vec![0.0; N_FEATURES],
                interval: IntervalF64 {
                    lo: -100.0,
                    hi: 5.0,
                },
            },
            forest: ForestF64 {
                trees: vec![stump()],
                interval: IntervalF64::default(),
            },
        });
        let model = ModelF64 {
            heads,
            ..Default::default()
        };
        let p = model.predict(0, Target::Cpu, &[0; N_FEATURES], 50).unwrap();
        assert_eq!((p.linear, p.linear_lo, p.linear_hi), (20.0, 0.0, 25.0));
        assert_eq!(p.forest, 46.0);
        assert!(model
            .predict(0, Target::Rss, &[0; N_FEATURES], 50)
            .is_none());
        assert!(model
            .predict(1, Target::Cpu, &[0; N_FEATURES], 50)
            .is_none());
    }
}
