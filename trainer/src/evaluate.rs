//! Scoring predicted changes on held-out rows: every model and baseline, on all rows and on active
//! rows, in the target's own units, with interval coverage where a model has an interval.

use procperf_model::schema::Target;

use crate::conformal::Interval;
use crate::dataset::Dataset;
use crate::metrics::{score, Scores};

/// One model's predicted changes for every row of a data set, and its calibrated band if any.
pub struct Predictions {
    pub model: String,
    pub deltas: Vec<f64>,
    pub interval: Option<Interval>,
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
    pub interval: Option<Interval>,
}

/// Scores of every model on one target.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TargetScores {
    pub target: String,
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
    let models = preds
        .iter()
        .map(|p| {
            let pred: Vec<f64> = level
                .iter()
                .zip(&p.deltas)
                .map(|(l, d)| (l + d).max(0.0))
                .collect();
            let cover = |only_active: bool| -> Option<f64> {
                let iv = p.interval?;
                let rows: Vec<usize> = (0..n).filter(|&i| !only_active || active[i]).collect();
                if rows.is_empty() {
                    return None;
                }
                let c = rows
                    .iter()
                    .filter(|&&i| iv.covers(level[i] + p.deltas[i], truth[i]))
                    .count();
                Some(c as f64 / rows.len() as f64)
            };
            ModelScores {
                model: p.model.clone(),
                all: score(&truth, &pred),
                active: score(&pick(&truth, true), &pick(&pred, true)),
                coverage_all: cover(false),
                coverage_active: cover(true),
                interval: p.interval,
            }
        })
        .collect();
    TargetScores {
        target: target.name().to_owned(),
        unit: target.unit().to_owned(),
        rows: n,
        active_rows: active.iter().filter(|a| **a).count(),
        models,
    }
}
