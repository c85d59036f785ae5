//! Fitting one target: the linear model through its preprocessing pipeline (folded back onto the
//! raw integer features, as the kernel evaluates it), the forest on the raw integer features, the
//! baselines' parameters, and split-conformal intervals from the calibration rows.
//!
//! Output is the model crate's float models ([`LinearF64`], [`ForestF64`]), which `export` quantises;
//! metrics are computed with the model crate's float evaluators, so what is scored is what is
//! exported up to the documented quantisation error.

use std::time::Instant;

use procperf_model::blob::Prediction;
use procperf_model::float::{features_f64, ForestF64, IntervalF64, LinearF64, NodeF64, TreeF64};
use procperf_model::forecast::Forecast;
use procperf_model::schema::{Target, FEATURE_NAMES, N_FEATURES, N_TARGETS};
use procperf_model::target::BaseAlpha;

use crate::baseline;
use crate::conformal::{self, Interval};
use crate::dataset::Dataset;
use crate::evaluate::Predictions;
use crate::forest::{self, Binned, ForestParams};
use crate::linear;
use crate::preprocess::{Frame, Pipeline, PreprocessParams};

/// Everything `fit` needs besides the data.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FitParams {
    pub forest: ForestParams,
    /// Ridge penalty on standardised features.
    pub alpha: f64,
    pub preprocess: PreprocessParams,
    /// Nominal interval coverage (0.8 = 10 %..90 % band).
    pub coverage: f64,
    /// Winsorise the training targets to these quantiles before fitting (0 disables): a handful
    /// of huge changes (a 600 MB allocation) otherwise dominate squared-error fits.
    pub target_clip_quantile: f64,
    /// Shrink predicted changes towards the base level by a factor fitted on calibration rows.
    pub shrink: bool,
    /// Learn changes from the EWMA baseline's level (true) or from the newest level (false).
    pub base_ewma: bool,
}

impl Default for FitParams {
    fn default() -> Self {
        Self {
            forest: ForestParams {
                leaf: forest::LeafValue::Auto,
                ..ForestParams::default()
            },
            alpha: 1.0,
            preprocess: PreprocessParams::default(),
            coverage: 0.8,
            target_clip_quantile: 0.001,
            shrink: true,
            base_ewma: true,
        }
    }
}

/// The fitted models and baseline parameters of one target.
#[derive(Clone, Debug)]
pub struct TargetFit {
    pub target: Target,
    /// Index into `HORIZONS` of the horizon the models forecast.
    pub horizon: usize,
    /// Folded onto raw features, with its calibrated interval: what the blob carries.
    pub linear: LinearF64,
    pub forest: ForestF64,
    pub linear_interval: Interval,
    pub forest_interval: Interval,
    /// The linear model before folding, with its pipeline (to measure the effect of clipping).
    pub ridge: linear::Ridge,
    pub pipeline: Pipeline,
    /// Float-only diagnostic: the linear model with signed log1p on heavy-tailed columns
    /// (`--gaussianise`), which cannot be folded into the kernel's linear form.
    pub linear_log: Option<(Pipeline, linear::Ridge)>,
    /// The EWMA baseline's factor, fitted on training rows.
    pub ewma_alpha: BaseAlpha,
    /// The base level the models' changes are added to: `ewma_alpha`, or persistence.
    pub base: BaseAlpha,
    pub train_mean: f64,
    /// Feature importances of the forest, largest first.
    pub importances: Vec<(String, f64)>,
    pub linear_fit_s: f64,
    pub forest_fit_s: f64,
    /// Factors the predicted changes were multiplied by (1 = no shrinkage).
    pub shrink_linear: f64,
    pub shrink_forest: f64,
    /// Set by the caller, which bins once for all targets.
    pub binning_s: f64,
}

/// Shrinkage factors tried: 0 (persistence) to 1 (the model as fitted).
pub const SHRINK_GRID: [f64; 21] = [
    0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8,
    0.85, 0.9, 0.95, 1.0,
];

/// The factor `s` in [`SHRINK_GRID`] minimising `Σ |y − s·p|` (ties: the larger `s`).
pub fn best_shrink(y: &[f64], p: &[f64]) -> f64 {
    let mut best = (f64::INFINITY, 1.0);
    for &s in SHRINK_GRID.iter().rev() {
        let mae: f64 = y.iter().zip(p).map(|(y, p)| (y - s * p).abs()).sum();
        if mae < best.0 {
            best = (mae, s);
        }
    }
    best.1
}

/// Fewest active calibration rows for calibrating on active rows only.
pub const MIN_ACTIVE_CALIBRATION_ROWS: usize = 50;

/// Winsorises values to their own `[q, 1 - q]` quantiles (`q = 0` returns them unchanged).
pub fn clip_to_quantiles(mut y: Vec<f64>, q: f64) -> Vec<f64> {
    if q <= 0.0 || y.is_empty() {
        return y;
    }
    let mut s = y.clone();
    s.sort_by(f64::total_cmp);
    let at = |p: f64| s[((p * (s.len() - 1) as f64).round() as usize).min(s.len() - 1)];
    let (lo, hi) = (at(q), at(1.0 - q));
    for v in &mut y {
        *v = v.clamp(lo, hi);
    }
    y
}

/// Integer feature rows as a float frame named by the schema, clamped like the evaluators.
pub fn frame(ds: &Dataset) -> Frame {
    let mut data = Vec::with_capacity(ds.len() * N_FEATURES);
    for i in 0..ds.len() {
        data.extend_from_slice(&features_f64(ds.row(i)));
    }
    Frame {
        data,
        names: FEATURE_NAMES.iter().map(|s| s.to_string()).collect(),
    }
}

/// Converts a fitted forest to the model crate's float representation.
pub fn forest_f64(f: &forest::Forest, interval: Interval) -> ForestF64 {
    let trees = f
        .trees
        .iter()
        .map(|t| TreeF64 {
            nodes: t
                .nodes
                .iter()
                .map(|n| match n.feature {
                    Some(feat) => NodeF64::Split {
                        feature: feat as usize,
                        threshold: n.threshold as f64,
                        left: n.left as usize,
                        right: n.right as usize,
                    },
                    None => NodeF64::Leaf { value: n.value },
                })
                .collect(),
        })
        .collect();
    ForestF64 {
        trees,
        interval: IntervalF64 {
            lo: interval.lo,
            hi: interval.hi,
        },
    }
}

/// Predicted changes of a float linear model on every row.
pub fn linear_deltas(m: &LinearF64, ds: &Dataset) -> Vec<f64> {
    (0..ds.len())
        .map(|i| m.predict_delta(&features_f64(ds.row(i))))
        .collect()
}

/// Predicted changes of a float forest on every row.
pub fn forest_deltas(m: &ForestF64, ds: &Dataset) -> Vec<f64> {
    use rayon::prelude::*;
    (0..ds.len())
        .into_par_iter()
        .map(|i| m.predict_delta(&features_f64(ds.row(i))))
        .collect()
}

/// Fits both models of `target` on `train` and calibrates their intervals on `cal`.
pub fn fit_target(
    train: &Dataset,
    train_frame: &Frame,
    binned: &Binned,
    cal: &Dataset,
    target: Target,
    params: &FitParams,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<TargetFit> {
    // Both models learn the change from the base level: the future level minus the base.
    let ewma_alpha = baseline::fit_ewma_alpha(train, target);
    let base = if params.base_ewma {
        ewma_alpha
    } else {
        BaseAlpha::PERSISTENCE
    };
    let from_base = |ds: &Dataset| -> Vec<f64> {
        let b = ds.base_deltas(target, base);
        ds.y(target).iter().zip(b).map(|(y, b)| y - b).collect()
    };
    let y = clip_to_quantiles(from_base(train), params.target_clip_quantile);
    let alpha_iv = 1.0 - params.coverage;

    let linear_log = match params.preprocess.gaussianise_skew {
        Some(_) => {
            let (p, z) = Pipeline::fit_transform(train_frame, &params.preprocess);
            let r = linear::fit(&z.data, z.n_cols(), &y, params.alpha).map_err(|e| {
                anyhow::anyhow!(
                    "fitting the gaussianised linear model for {}: {e}",
                    target.name()
                )
            })?;
            Some((p, r))
        }
        None => None,
    };
    let foldable = PreprocessParams {
        gaussianise_skew: None,
        ..params.preprocess.clone()
    };
    let t0 = Instant::now();
    let (pipeline, z) = Pipeline::fit_transform(train_frame, &foldable);
    let ridge = linear::fit(&z.data, z.n_cols(), &y, params.alpha)
        .map_err(|e| anyhow::anyhow!("fitting the linear model for {}: {e}", target.name()))?;
    let (weights, intercept) = pipeline.fold(&ridge.coef, ridge.intercept);
    let mut lin = LinearF64 {
        intercept,
        weights,
        interval: IntervalF64::default(),
    };
    let linear_fit_s = t0.elapsed().as_secs_f64();

    let t0 = Instant::now();
    let forest_params = ForestParams {
        leaf: params.forest.leaf.for_target(target),
        ..params.forest.clone()
    };
    let (forest, info) = forest::fit_binned(binned, &y, &forest_params, bar);
    let forest_fit_s = t0.elapsed().as_secs_f64();

    // Calibrate on the active calibration rows when there are enough: idle rows are most of all
    // rows and have near-zero residuals, so a band calibrated on all rows is ~0 wide and covers
    // almost no active row. The blob has one band per model, so idle rows get a wider band than
    // they need (coverage on all rows is then above nominal).
    let active: Vec<usize> = (0..cal.len()).filter(|&i| cal.is_active(i)).collect();
    let cal_rows: Vec<usize> = if active.len() >= MIN_ACTIVE_CALIBRATION_ROWS {
        active
    } else {
        (0..cal.len()).collect()
    };
    let cal_all = cal;
    let cal = &cal.subset(&cal_rows);
    let cal_y = from_base(cal);

    // Shrink each model's predicted change towards the base level by the factor that minimises MAE
    // on ALL calibration rows (programs the model has not seen under the group split): how far a
    // change learned on some programs carries over to others. All rows, not only active ones: the
    // kernel predicts for every process, and a forest that invents changes for idle processes (a
    // network forecast for a process that never used a socket) is caught only there
    // (docs/experiments.md compares the two choices). Scaling is exact in the blob: the forest is
    // linear in its leaf values, the linear model in its weights and intercept.
    let (shrink_linear, shrink_forest) = if params.shrink {
        let unshrunk = forest_f64(&forest, Interval::default());
        let all_y = from_base(cal_all);
        (
            best_shrink(&all_y, &linear_deltas(&lin, cal_all)),
            best_shrink(&all_y, &forest_deltas(&unshrunk, cal_all)),
        )
    } else {
        (1.0, 1.0)
    };
    lin.intercept *= shrink_linear;
    for w in &mut lin.weights {
        *w *= shrink_linear;
    }
    let mut forest = forest;
    for t in &mut forest.trees {
        for n in &mut t.nodes {
            n.value *= shrink_forest;
        }
    }
    let residuals =
        |pred: Vec<f64>| -> Vec<f64> { cal_y.iter().zip(pred).map(|(t, p)| t - p).collect() };
    let linear_interval = conformal::calibrate(&residuals(linear_deltas(&lin, cal)), alpha_iv)
        .ok_or_else(|| anyhow::anyhow!("no calibration rows"))?;
    let mut ff = forest_f64(&forest, Interval::default());
    let forest_interval = conformal::calibrate(&residuals(forest_deltas(&ff, cal)), alpha_iv)
        .ok_or_else(|| anyhow::anyhow!("no calibration rows"))?;
    lin.interval = IntervalF64 {
        lo: linear_interval.lo,
        hi: linear_interval.hi,
    };
    ff.interval = IntervalF64 {
        lo: forest_interval.lo,
        hi: forest_interval.hi,
    };

    let mut importances: Vec<(String, f64)> = FEATURE_NAMES
        .iter()
        .map(|s| s.to_string())
        .zip(info.importances)
        .collect();
    importances.sort_by(|a, b| b.1.total_cmp(&a.1));

    Ok(TargetFit {
        target,
        horizon: train.horizon,
        linear: lin,
        forest: ff,
        linear_interval,
        forest_interval,
        ridge,
        pipeline,
        linear_log,
        ewma_alpha,
        base,
        train_mean: train.y(target).iter().sum::<f64>() / train.len().max(1) as f64,
        importances,
        linear_fit_s,
        forest_fit_s,
        shrink_linear,
        shrink_forest,
        binning_s: 0.0,
    })
}

/// The forest's forecasts as the kernel publishes them: each row's forecast level (clamped at 0)
/// published, row by row along each run, through the model crate's per-process [`Forecast`]
/// (blended with persistence and the base at the shortest horizon, the calibrated band moved with
/// it, and the band's ends moved by the process's outcomes at every horizon).
pub struct Published {
    /// Published level minus current level, per row.
    pub deltas: Vec<f64>,
    /// Published band, as levels, per row.
    pub bands: Vec<[f64; 2]>,
}

/// [`Published`] forecasts from the forest's predicted changes `forest` on `ds`.
pub fn published_forest(
    ds: &Dataset,
    target: Target,
    base: BaseAlpha,
    forest: &[f64],
    band: &Interval,
) -> Published {
    let t = target.index();
    let mut state = Forecast::new();
    let mut out = Published {
        deltas: Vec::with_capacity(ds.len()),
        bands: Vec::with_capacity(ds.len()),
    };
    for (i, &d) in forest.iter().enumerate() {
        if !ds.continues_run(i) {
            state = Forecast::new();
        }
        let now = ds.levels[i][t];
        let at = |offset: f64| ((now as f64 + d + offset).round() as i64).max(0);
        let mut raw = [None; N_TARGETS];
        raw[t] = Some(Prediction {
            forest: at(0.0),
            forest_lo: at(band.lo),
            forest_hi: at(band.hi),
            ..Default::default()
        });
        let mut bases = [0; N_TARGETS];
        bases[t] = base.level(&ds.past[i][t]);
        // Only the shortest horizon is blended; every horizon's band moves with the outcomes.
        let published = state.publish(
            ds.horizon,
            &ds.newest[i],
            ds.levels[i],
            ds.outcomes[i],
            bases,
            raw,
        );
        let p = published[t].unwrap_or_default();
        out.deltas.push((p.forest - now) as f64);
        out.bands.push([p.forest_lo as f64, p.forest_hi as f64]);
    }
    out
}

impl TargetFit {
    /// Predicted changes of the baselines and both models on every row of `ds`.
    pub fn predictions(&self, ds: &Dataset) -> Vec<Predictions> {
        let forest = self.forest_changes(ds);
        let published =
            published_forest(ds, self.target, self.base, &forest, &self.forest_interval);
        let mut v = vec![
            Predictions {
                model: "persistence".into(),
                deltas: vec![0.0; ds.len()],
                interval: None,
                bands: None,
            },
            Predictions {
                model: "mean".into(),
                deltas: vec![self.train_mean; ds.len()],
                interval: None,
                bands: None,
            },
            Predictions {
                model: "ewma".into(),
                deltas: baseline::ewma_deltas(ds, self.target, self.ewma_alpha),
                interval: None,
                bands: None,
            },
            Predictions {
                model: baseline::Trend::Linear.name().into(),
                deltas: baseline::trend_deltas(ds, self.target, baseline::Trend::Linear),
                interval: None,
                bands: None,
            },
            Predictions {
                model: baseline::Trend::Holt.name().into(),
                deltas: baseline::trend_deltas(ds, self.target, baseline::Trend::Holt),
                interval: None,
                bands: None,
            },
            Predictions {
                model: "linear".into(),
                deltas: self.linear_changes(ds),
                interval: Some(self.linear_interval),
                bands: None,
            },
            Predictions {
                model: "forest".into(),
                deltas: published.deltas,
                interval: Some(self.forest_interval),
                bands: Some(published.bands),
            },
            Predictions {
                model: "forest_alone".into(),
                deltas: forest,
                interval: Some(self.forest_interval),
                bands: None,
            },
        ];
        if let Some((p, r)) = &self.linear_log {
            let z = p.transform(&frame(ds), true);
            let deltas = z
                .data
                .chunks_exact(z.n_cols().max(1))
                .zip(ds.base_deltas(self.target, self.base))
                .map(|(row, b)| b + r.predict(row))
                .collect();
            v.push(Predictions {
                model: "linear_log".into(),
                deltas,
                interval: None,
                bands: None,
            });
        }
        v
    }

    /// Predicted changes of the linear model with the training clip bounds applied to the features
    /// (what the float pipeline computes; the exported model has no clipping).
    pub fn clipped_linear_deltas(&self, ds: &Dataset) -> Vec<f64> {
        let z = self.pipeline.transform(&frame(ds), true);
        z.data
            .chunks_exact(z.n_cols().max(1))
            .zip(ds.base_deltas(self.target, self.base))
            .map(|(r, b)| b + self.ridge.predict(r))
            .collect()
    }

    /// The linear model's predicted changes from the current level: base change plus its output.
    pub fn linear_changes(&self, ds: &Dataset) -> Vec<f64> {
        self.plus_base(ds, linear_deltas(&self.linear, ds))
    }

    /// The forest's predicted changes from the current level: base change plus its output.
    pub fn forest_changes(&self, ds: &Dataset) -> Vec<f64> {
        self.plus_base(ds, forest_deltas(&self.forest, ds))
    }

    fn plus_base(&self, ds: &Dataset, deltas: Vec<f64>) -> Vec<f64> {
        let b = ds.base_deltas(self.target, self.base);
        deltas.iter().zip(b).map(|(d, b)| d + b).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrink_is_one_for_exact_predictions_and_zero_for_useless_ones() {
        let y = [1.0, -2.0, 3.0, 0.0];
        assert_eq!(best_shrink(&y, &y), 1.0);
        assert_eq!(best_shrink(&[0.0; 4], &y), 0.0);
        assert_eq!(best_shrink(&y, &[2.0, -4.0, 6.0, 0.0]), 0.5);
    }

    #[test]
    fn target_winsorising_clips_only_the_tails() {
        let y: Vec<f64> = (0..1001).map(f64::from).collect();
        let c = clip_to_quantiles(y, 0.01);
        assert_eq!((c[0], c[500], c[1000]), (10.0, 500.0, 990.0));
    }
}
