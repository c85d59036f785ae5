//! What `fit` and `eval` tell the user: a plain-text table on stdout, or the same content as JSON
//! (`--json`, and always `metrics.json` in the output directory).

use std::io::{self, Write};

use crate::evaluate::{TargetScores, RATIO_CONFIDENCE};

/// Summary of the data a command read.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct DataSummary {
    pub file: String,
    pub samples: usize,
    pub processes: usize,
    pub runs: usize,
    pub supervised_rows: usize,
    pub train_rows: usize,
    pub calibration_rows: usize,
    pub test_rows: usize,
    pub split: String,
    /// The anomaly flag on a replay (`trainer eval`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anomaly: Option<AnomalySummary>,
}

/// How often the anomaly flag rose on a replay of a recording.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct AnomalySummary {
    pub process_hours: f64,
    /// Process-hours with at least [`procperf_model::features::ACTIVE_CPU_PERMILLE`] CPU.
    pub busy_process_hours: f64,
    /// Times a target's flag rose, all targets.
    pub raised: usize,
    pub raised_by_target: Vec<(String, usize)>,
    pub per_process_hour: f64,
    pub per_busy_process_hour: f64,
    /// Share of process-time with a flag up.
    pub flagged_share: f64,
}

/// One line on the anomaly flag.
pub fn write_anomaly(out: &mut dyn Write, a: &AnomalySummary) -> io::Result<()> {
    let by: Vec<String> = a
        .raised_by_target
        .iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    writeln!(
        out,
        "anomaly flags raised: {} ({}) over {:.2} process-hours = {:.2} per process-hour, {:.2} per busy process-hour; flagged {:.2} % of the time",
        a.raised,
        by.join(", "),
        a.process_hours,
        a.per_process_hour,
        a.per_busy_process_hour,
        100.0 * a.flagged_share
    )
}

/// Per-target details of a fit beyond the scores.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct TargetDetails {
    pub target: String,
    /// Intervals ahead.
    #[serde(default)]
    pub horizon: usize,
    pub ewma_alpha: f64,
    /// EWMA factor of the base level the models' changes are added to (1 = newest level).
    #[serde(default = "one")]
    pub base_alpha: f64,
    pub train_mean_delta: f64,
    pub preprocessing: Vec<String>,
    /// Test MAE (active rows) of the float linear model with the training clip bounds applied,
    /// and of the exported model without them.
    pub linear_mae_active_clipped: Option<f64>,
    pub linear_mae_active_exported: Option<f64>,
    pub top_features: Vec<(String, f64)>,
    pub linear_fit_s: f64,
    pub forest_fit_s: f64,
    pub forest_nodes: usize,
    pub shrink_linear: f64,
    pub shrink_forest: f64,
    /// Time to bin the training features, shared by the forests of all targets.
    pub binning_s: f64,
    /// R² of the learned value (the change) on test rows, float models: the number to compare
    /// with other libraries fitted on the same `--save-matrix` rows.
    pub linear_r2_change: f64,
    pub forest_r2_change: f64,
    /// Fixed-point (blob) vs float predictions on test rows, target units.
    pub quant_max_abs_err_linear: Option<f64>,
    pub quant_mean_abs_err_linear: Option<f64>,
    pub quant_max_abs_err_forest: Option<f64>,
    pub quant_mean_abs_err_forest: Option<f64>,
}

/// Cross-validation: per fold, the scores of every target.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct CvSummary {
    pub folds: usize,
    pub per_fold: Vec<Vec<TargetScores>>,
}

/// Everything `fit` reports; written as `metrics.json`.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct FitReport {
    pub data: DataSummary,
    /// Intervals ahead of each horizon fitted.
    pub horizons: Vec<usize>,
    pub params: serde_json::Value,
    pub scores: Vec<TargetScores>,
    pub details: Vec<TargetDetails>,
    pub cv: Option<CvSummary>,
    pub model: Option<String>,
}

fn f(v: Option<f64>, prec: usize) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.prec$}"),
        _ => "-".into(),
    }
}

/// Writes the scores table of one target.
pub fn write_scores(out: &mut dyn Write, s: &TargetScores) -> io::Result<()> {
    writeln!(
        out,
        "target {} ({}) at {} intervals ahead: {} test rows, {} active (CPU >= 1 % now or ahead)",
        s.target, s.unit, s.horizon, s.rows, s.active_rows
    )?;
    writeln!(
        out,
        "  {:<12} {:>10} {:>10} {:>7}   {:>10} {:>10} {:>7}   {:>6} {:>6}",
        "model", "MAE", "RMSE", "R2", "MAE act", "RMSE act", "R2 act", "cov", "cov act"
    )?;
    for m in &s.models {
        let (a, b) = (m.all, m.active);
        writeln!(
            out,
            "  {:<12} {:>10} {:>10} {:>7}   {:>10} {:>10} {:>7}   {:>6} {:>6}",
            m.model,
            f(a.map(|x| x.mae), 2),
            f(a.map(|x| x.rmse), 2),
            f(a.map(|x| x.r2), 3),
            f(b.map(|x| x.mae), 2),
            f(b.map(|x| x.rmse), 2),
            f(b.map(|x| x.r2), 3),
            f(m.coverage_all.map(|c| c * 100.0), 1),
            f(m.coverage_active.map(|c| c * 100.0), 1),
        )?;
    }
    if let Some(c) = s.model("forest").and_then(|m| m.coverage_changed) {
        writeln!(
            out,
            "  forest band on rows whose level changed over the horizon: {} % covered",
            f(Some(c * 100.0), 1),
        )?;
    }
    if s.model("versus").is_some() {
        writeln!(
            out,
            "  forest MAE / versus (the other blob's published forecast): {} all, {} active",
            f(s.mae_ratio("forest", "versus", false), 3),
            f(s.mae_ratio("forest", "versus", true), 3),
        )?;
    }
    for model in ["linear", "forest"] {
        if s.model(model).is_none() {
            continue;
        }
        writeln!(
            out,
            "  {model} MAE / persistence: {} all, {} active;  / ewma: {} all, {} active",
            f(s.mae_ratio(model, "persistence", false), 3),
            f(s.mae_ratio(model, "persistence", true), 3),
            f(s.mae_ratio(model, "ewma", false), 3),
            f(s.mae_ratio(model, "ewma", true), 3),
        )?;
        let ci = |baseline: &str, active: bool| match s.mae_ratio_ci(model, baseline, active) {
            Some(c) => format!("{:.3}-{:.3}", c.lo, c.hi),
            None => "-".into(),
        };
        writeln!(
            out,
            "  {model} {:.0} % intervals (processes resampled): {} all, {} active;  / ewma: {} all, {} active",
            RATIO_CONFIDENCE * 100.0,
            ci("persistence", false),
            ci("persistence", true),
            ci("ewma", false),
            ci("ewma", true),
        )?;
    }
    Ok(())
}

/// Writes the full text report of a fit.
pub fn write_fit(out: &mut dyn Write, r: &FitReport) -> io::Result<()> {
    let d = &r.data;
    writeln!(
        out,
        "{}: {} samples, {} processes, {} runs -> {} rows (horizons {:?} intervals; counts at the first); split by {}: {} train, {} calibration, {} test",
        d.file, d.samples, d.processes, d.runs, d.supervised_rows, r.horizons, d.split, d.train_rows, d.calibration_rows, d.test_rows
    )?;
    for (s, det) in r.scores.iter().zip(&r.details) {
        writeln!(out)?;
        write_scores(out, s)?;
        writeln!(
            out,
            "  ewma alpha {:.2}; models add their change to {}; linear fit {:.2} s, forest fit {:.2} s ({} nodes); changes shrunk by {:.2} (linear), {:.2} (forest)",
            det.ewma_alpha,
            if det.base_alpha < 1.0 { format!("the EWMA (alpha {:.2})", det.base_alpha) } else { "the newest level".to_string() },
            det.linear_fit_s, det.forest_fit_s, det.forest_nodes, det.shrink_linear, det.shrink_forest
        )?;
        for line in &det.preprocessing {
            writeln!(out, "  preprocess {line}")?;
        }
        if let (Some(c), Some(e)) = (
            det.linear_mae_active_clipped,
            det.linear_mae_active_exported,
        ) {
            writeln!(out, "  linear without clipping (exported): MAE act {e:.2} vs {c:.2} with train clip bounds")?;
        }
        let top: Vec<String> = det
            .top_features
            .iter()
            .take(5)
            .map(|(n, v)| format!("{n} {:.2}", v))
            .collect();
        writeln!(out, "  forest top features: {}", top.join(", "))?;
        if let (Some(ml), Some(mf)) = (det.quant_max_abs_err_linear, det.quant_max_abs_err_forest) {
            writeln!(
                out,
                "  fixed point vs float on test rows: linear max {ml:.3} mean {}, forest max {mf:.3} mean {} ({})",
                f(det.quant_mean_abs_err_linear, 4),
                f(det.quant_mean_abs_err_forest, 4),
                s.unit
            )?;
        }
    }
    if let Some(cv) = &r.cv {
        writeln!(out)?;
        write_cv(out, cv)?;
    }
    if let Some(m) = &r.model {
        writeln!(out, "\nwrote {m}")?;
    }
    Ok(())
}

/// Mean and standard deviation across folds of the forest's and baselines' active-row MAE.
pub fn write_cv(out: &mut dyn Write, cv: &CvSummary) -> io::Result<()> {
    writeln!(
        out,
        "{}-fold cross-validation, MAE on active rows (mean ± std over folds)",
        cv.folds
    )?;
    let Some(first) = cv.per_fold.first() else {
        return Ok(());
    };
    for (ti, t) in first.iter().enumerate() {
        let mut cells = vec![];
        for m in &t.models {
            let v: Vec<f64> = cv
                .per_fold
                .iter()
                .filter_map(|fold| fold.get(ti)?.model(&m.model)?.active.map(|s| s.mae))
                .collect();
            if v.is_empty() {
                continue;
            }
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
            cells.push(format!("{} {mean:.2}±{sd:.2}", m.model));
        }
        writeln!(out, "  {:<5} {}", t.target, cells.join("  "))?;
    }
    Ok(())
}

fn one() -> f64 {
    1.0
}
