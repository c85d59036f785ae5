//! Scoring predicted changes on held-out rows: every model and baseline, on all rows and on active
//! rows, in the target's own units, with interval coverage where a model has an interval, and
//! with a bootstrap confidence interval for each model's MAE ratio to the naive forecasts.
//!
//! The ratio intervals resample whole processes, not rows: a process's consecutive rows share
//! most of their window and target, so resampling rows would treat hundreds of near-copies as
//! independent evidence and give intervals far too narrow. What the intervals do not contain is
//! the variation between two recordings of the same workload (another run draws other phases).

use std::collections::HashMap;

use procperf_model::schema::Target;

use crate::conformal::Interval;
use crate::dataset::Dataset;
use crate::forest::Rng;
use crate::metrics::{score, Scores};

/// Resamples behind each ratio interval.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;
/// Coverage of the ratio intervals.
pub const RATIO_CONFIDENCE: f64 = 0.95;
/// The naive forecasts a model's MAE is divided by.
pub const RATIO_BASELINES: [&str; 2] = ["persistence", "ewma"];

/// A two-sided percentile-bootstrap interval for a ratio of MAEs.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RatioInterval {
    pub lo: f64,
    pub hi: f64,
}

/// A model's MAE ratio intervals against one baseline, on all rows and on active rows.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RatioCi {
    pub baseline: String,
    pub all: Option<RatioInterval>,
    pub active: Option<RatioInterval>,
}

/// [`RATIO_CONFIDENCE`] interval of `Σ a / Σ b` over the rows `keep` selects, resampling whole
/// groups (`group[i]` is row `i`'s group) with replacement [`BOOTSTRAP_RESAMPLES`] times.
/// `None` with fewer than two groups or when `Σ b` is zero on the rows themselves.
///
/// ```
/// use trainer::evaluate::ratio_interval;
/// // Two processes: the model halves the baseline's error on both.
/// let group = [0, 0, 1, 1];
/// let ci = ratio_interval(&group, &[1.0, 1.0, 2.0, 2.0], &[2.0, 2.0, 4.0, 4.0], |_| true, 7).unwrap();
/// assert!((ci.lo - 0.5).abs() < 1e-12 && (ci.hi - 0.5).abs() < 1e-12);
/// ```
pub fn ratio_interval(
    group: &[u32],
    a: &[f64],
    b: &[f64],
    keep: impl Fn(usize) -> bool,
    seed: u64,
) -> Option<RatioInterval> {
    let mut index: HashMap<u32, usize> = HashMap::new();
    let mut sums: Vec<(f64, f64)> = Vec::new();
    for i in (0..group.len().min(a.len()).min(b.len())).filter(|&i| keep(i)) {
        let g = *index.entry(group[i]).or_insert_with(|| {
            sums.push((0.0, 0.0));
            sums.len() - 1
        });
        sums[g].0 += a[i];
        sums[g].1 += b[i];
    }
    let total_b: f64 = sums.iter().map(|s| s.1).sum();
    if sums.len() < 2 || total_b <= 0.0 {
        return None;
    }
    let mut rng = Rng::new(seed);
    let mut ratios: Vec<f64> = (0..BOOTSTRAP_RESAMPLES)
        .filter_map(|_| {
            let (mut sa, mut sb) = (0.0, 0.0);
            for _ in 0..sums.len() {
                let (x, y) = sums[rng.below(sums.len())];
                sa += x;
                sb += y;
            }
            (sb > 0.0).then_some(sa / sb)
        })
        .collect();
    if ratios.is_empty() {
        return None;
    }
    ratios.sort_by(f64::total_cmp);
    let tail = (1.0 - RATIO_CONFIDENCE) / 2.0;
    let at =
        |q: f64| ratios[((q * (ratios.len() - 1) as f64).round() as usize).min(ratios.len() - 1)];
    Some(RatioInterval {
        lo: at(tail),
        hi: at(1.0 - tail),
    })
}

/// One model's predicted changes for every row of a data set, and its calibrated band if any.
pub struct Predictions {
    pub model: String,
    pub deltas: Vec<f64>,
    pub interval: Option<Interval>,
    /// Each row's band as levels, when it is not `interval` around the point (the published forest
    /// forecast's band moves with the blend and is clamped at 0): coverage is counted on these.
    pub bands: Option<Vec<[f64; 2]>>,
}

/// Scores of one model on one target.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelScores {
    pub model: String,
    pub all: Option<Scores>,
    pub active: Option<Scores>,
    /// Share of rows whose true level lies in the calibrated band.
    pub coverage_all: Option<f64>,
    pub coverage_active: Option<f64>,
    /// Share of the rows whose level changed over the horizon (truth ≠ current level) whose true
    /// level lies in the band: coverage without the exact "nothing changed" outcomes that any band
    /// around an unchanged forecast holds.
    #[serde(default)]
    pub coverage_changed: Option<f64>,
    pub interval: Option<Interval>,
    /// MAE ratio intervals against each of [`RATIO_BASELINES`] (none for the baselines
    /// themselves).
    #[serde(default)]
    pub ratio_ci: Vec<RatioCi>,
}

/// Scores of every model on one target.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TargetScores {
    pub target: String,
    /// Intervals ahead the scored forecasts are for.
    #[serde(default)]
    pub horizon: usize,
    pub unit: String,
    pub rows: usize,
    pub active_rows: usize,
    pub models: Vec<ModelScores>,
}

impl TargetScores {
    pub fn model(&self, name: &str) -> Option<&ModelScores> {
        self.models.iter().find(|m| m.model == name)
    }

    /// MAE of `model` over MAE of `baseline` on all (`active = false`) or active rows.
    pub fn mae_ratio(&self, model: &str, baseline: &str, active: bool) -> Option<f64> {
        let pick = |m: &ModelScores| if active { m.active } else { m.all };
        let a = pick(self.model(model)?)?.mae;
        let b = pick(self.model(baseline)?)?.mae;
        (b > 0.0).then_some(a / b)
    }

    /// Bootstrap interval of [`Self::mae_ratio`], when one was computed.
    pub fn mae_ratio_ci(&self, model: &str, baseline: &str, active: bool) -> Option<RatioInterval> {
        let ci = self
            .model(model)?
            .ratio_ci
            .iter()
            .find(|c| c.baseline == baseline)?;
        if active {
            ci.active
        } else {
            ci.all
        }
    }
}

/// Scores predicted changes against the data set's truths. Predicted levels are clamped at 0 as the
/// kernel does; a row is covered when its true level is inside `[level + delta + lo, level + delta + hi]`.
pub fn evaluate(ds: &Dataset, target: Target, preds: &[Predictions]) -> TargetScores {
    let n = ds.len();
    let truth: Vec<f64> = (0..n).map(|i| ds.truth_level(i, target)).collect();
    let active: Vec<bool> = (0..n).map(|i| ds.is_active(i)).collect();
    let level: Vec<f64> = (0..n).map(|i| ds.level(i, target) as f64).collect();
    let pick = |v: &[f64], m: bool| -> Vec<f64> {
        v.iter()
            .zip(&active)
            .filter(|(_, a)| **a == m || !m)
            .map(|(x, _)| *x)
            .collect()
    };
    let preds_of = |p: &Predictions| -> Vec<f64> {
        level
            .iter()
            .zip(&p.deltas)
            .map(|(l, d)| (l + d).max(0.0))
            .collect()
    };
    let abs_err =
        |pred: &[f64]| -> Vec<f64> { truth.iter().zip(pred).map(|(t, p)| (t - p).abs()).collect() };
    let process: Vec<u32> = ds.meta.iter().map(|m| m.process).collect();
    let baseline_errs: Vec<(&str, Vec<f64>)> = RATIO_BASELINES
        .iter()
        .filter_map(|&b| {
            let p = preds.iter().find(|p| p.model == b)?;
            Some((b, abs_err(&preds_of(p))))
        })
        .collect();
    let models = preds
        .iter()
        .map(|p| {
            let pred = preds_of(p);
            let err = abs_err(&pred);
            let ratio_ci = if RATIO_BASELINES.contains(&p.model.as_str()) {
                Vec::new()
            } else {
                baseline_errs
                    .iter()
                    .map(|(b, base)| RatioCi {
                        baseline: (*b).to_owned(),
                        all: ratio_interval(&process, &err, base, |_| true, 0),
                        active: ratio_interval(&process, &err, base, |i| active[i], 0),
                    })
                    .collect()
            };
            let cover = |keep: &dyn Fn(usize) -> bool| -> Option<f64> {
                let iv = p.interval?;
                let rows: Vec<usize> = (0..n).filter(|&i| keep(i)).collect();
                if rows.is_empty() {
                    return None;
                }
                let c = rows
                    .iter()
                    .filter(|&&i| match &p.bands {
                        Some(b) => b[i][0] <= truth[i] && truth[i] <= b[i][1],
                        None => iv.covers(level[i] + p.deltas[i], truth[i]),
                    })
                    .count();
                Some(c as f64 / rows.len() as f64)
            };
            ModelScores {
                model: p.model.clone(),
                all: score(&truth, &pred),
                active: score(&pick(&truth, true), &pick(&pred, true)),
                coverage_all: cover(&|_| true),
                coverage_active: cover(&|i| active[i]),
                coverage_changed: cover(&|i| truth[i] != level[i]),
                interval: p.interval,
                ratio_ci,
            }
        })
        .collect();
    TargetScores {
        target: target.name().to_owned(),
        horizon: procperf_model::schema::HORIZONS[ds.horizon],
        unit: target.unit().to_owned(),
        rows: n,
        active_rows: active.iter().filter(|a| **a).count(),
        models,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows of `groups` processes, `per` rows each; the model's error is `scale` times the
    /// baseline's, which varies by process.
    fn rows(groups: u32, per: usize, scale: impl Fn(u32) -> f64) -> (Vec<u32>, Vec<f64>, Vec<f64>) {
        let mut g = Vec::new();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for p in 0..groups {
            for _ in 0..per {
                let base = 1.0 + f64::from(p % 7);
                g.push(p);
                b.push(base);
                a.push(base * scale(p));
            }
        }
        (g, a, b)
    }

    #[test]
    fn interval_brackets_the_ratio_and_is_reproducible() {
        let (g, a, b) = rows(60, 10, |p| if p % 3 == 0 { 1.3 } else { 0.8 });
        let ratio = a.iter().sum::<f64>() / b.iter().sum::<f64>();
        let ci = ratio_interval(&g, &a, &b, |_| true, 0).unwrap();
        assert!(ci.lo < ratio && ratio < ci.hi, "{ci:?} vs {ratio}");
        assert!(
            ci.hi - ci.lo > 0.02,
            "processes differ, so the ratio is uncertain: {ci:?}"
        );
        assert_eq!(ratio_interval(&g, &a, &b, |_| true, 0), Some(ci));
    }

    #[test]
    fn rows_of_one_process_are_not_independent_evidence() {
        // The same processes with ten times more rows each: resampling processes gives the same
        // width; resampling rows would have shrunk it by about sqrt(10).
        let f = |p: u32| if p.is_multiple_of(2) { 1.2 } else { 0.8 };
        let (g1, a1, b1) = rows(40, 5, f);
        let (g2, a2, b2) = rows(40, 50, f);
        let w = |c: RatioInterval| c.hi - c.lo;
        let w1 = w(ratio_interval(&g1, &a1, &b1, |_| true, 0).unwrap());
        let w2 = w(ratio_interval(&g2, &a2, &b2, |_| true, 0).unwrap());
        assert!((w1 - w2).abs() < 1e-9, "{w1} vs {w2}");
    }

    #[test]
    fn interval_needs_two_processes_and_some_baseline_error() {
        let (g, a, b) = rows(1, 20, |_| 0.5);
        assert_eq!(ratio_interval(&g, &a, &b, |_| true, 0), None);
        let (g, a, _) = rows(5, 3, |_| 0.5);
        assert_eq!(
            ratio_interval(&g, &a, &vec![0.0; a.len()], |_| true, 0),
            None
        );
        let (g, a, b) = rows(5, 3, |_| 0.5);
        assert_eq!(
            ratio_interval(&g, &a, &b, |i| i < 3, 0),
            None,
            "only process 0 kept"
        );
    }
}
