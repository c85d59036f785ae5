//! Export: float models → the model crate's quantiser → blob bytes, checked against the documented
//! fixed-point error bound on the test rows before anything is written.
//!
//! Writes `DIR/model.bin` (the blob the kernel's `model` file accepts) and `DIR/model.json` (a
//! manifest for people and scripts: schema id, targets, parameters, metrics summary, sizes, the
//! baselines' parameters that `trainer eval` reuses). The blob's metadata section carries a short
//! metrics summary, shown by the kernel's `model_info`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use procperf_model::blob::{parse, ModelRef, MAX_METADATA_LEN, N_HEADS};
use procperf_model::float::{features_f64, ModelF64, TargetModelF64};
use procperf_model::quantize::{forest_error_bound, measure_error, LINEAR_MAX_ABS_ERROR};
use procperf_model::schema::{Target, FEATURE_NAMES, HORIZONS, N_FEATURES, N_TARGETS, SCHEMA_ID};

use crate::dataset::Dataset;
use crate::evaluate::TargetScores;
use crate::train::TargetFit;

/// Measured fixed-point vs float differences of one target, target units.
#[derive(Clone, Copy, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct QuantError {
    pub linear_max: f64,
    pub linear_mean: f64,
    pub forest_max: f64,
    pub forest_mean: f64,
    pub linear_bound: f64,
    pub forest_bound: f64,
}

/// Baseline parameters per target, kept in the manifest so `eval` scores the same baselines.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct BaselineParams {
    pub target: String,
    /// Intervals ahead (one of `HORIZONS`).
    #[serde(default)]
    pub horizon: usize,
    pub ewma_alpha: f64,
    pub train_mean_delta: f64,
}

/// `model.json`.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub schema_id: String,
    pub n_features: usize,
    pub feature_names: Vec<String>,
    /// Intervals ahead of each horizon the blob has models for.
    pub horizons: Vec<usize>,
    pub interval_ms: u32,
    pub coverage_permille: u16,
    pub targets: Vec<String>,
    pub params: serde_json::Value,
    pub baselines: Vec<BaselineParams>,
    pub blob_bytes: usize,
    /// Per head (`cpu@60`): forest nodes and quantisation errors.
    pub forest_nodes: Vec<(String, usize)>,
    pub quantisation: Vec<(String, QuantError)>,
    /// Active-row MAE per target and model on the test part, and ratios to the baselines.
    pub metrics_summary: Vec<serde_json::Value>,
    pub trained_on: String,
}

/// Short text for the blob's metadata section (at most [`MAX_METADATA_LEN`] bytes).
pub fn metadata_text(data_file: &str, scores: &[TargetScores]) -> String {
    let mut s = format!(
        "procperf trainer; data {data_file}; horizons {:?}; test MAE active rows:",
        HORIZONS
    );
    for t in scores {
        let mae = |m: &str| {
            t.model(m)
                .and_then(|m| m.active)
                .map(|s| s.mae)
                .unwrap_or(f64::NAN)
        };
        s.push_str(&format!(
            " {}@{} forest {:.1} linear {:.1} persistence {:.1} ewma {:.1};",
            t.target,
            t.horizon,
            mae("forest"),
            mae("linear"),
            mae("persistence"),
            mae("ewma")
        ));
    }
    if s.len() > MAX_METADATA_LEN {
        let mut cut = MAX_METADATA_LEN;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

/// The float model of all fitted targets.
pub fn model_f64<'a>(
    fits: impl IntoIterator<Item = &'a TargetFit>,
    interval_ms: u32,
    coverage: f64,
    metadata: String,
) -> ModelF64 {
    let mut heads: [Option<TargetModelF64>; N_HEADS] = Default::default();
    for f in fits {
        heads[f.horizon * N_TARGETS + f.target.index()] = Some(TargetModelF64 {
            base: f.base,
            linear: f.linear.clone(),
            forest: f.forest.clone(),
        });
    }
    ModelF64 {
        interval_ms: interval_ms.max(1),
        coverage_permille: ((coverage * 1000.0).round() as u16).clamp(1, 999),
        heads,
        metadata,
    }
}

/// Measured quantisation error per exported head: (horizon index, target).
pub type TargetErrors = Vec<((usize, Target), QuantError)>;

/// `cpu@60`: a head's name in reports and the manifest.
pub fn head_name(horizon: usize, target: Target) -> String {
    format!("{}@{}", target.name(), HORIZONS[horizon])
}

/// Quantises, serialises, parses back and measures the fixed-vs-float error on `rows`; fails when
/// it exceeds the model crate's bound.
pub fn quantise(model: &ModelF64, rows: &Dataset) -> Result<(Vec<u8>, TargetErrors)> {
    let q = model.quantize().context("quantising the models")?;
    let bytes = q
        .to_checked_bytes()
        .map_err(|e| anyhow::anyhow!("serialised blob does not parse: {e}"))?;
    let fixed =
        parse(&bytes).map_err(|e| anyhow::anyhow!("serialised blob does not parse: {e}"))?;
    let report = measure_error(model, &fixed, (0..rows.len()).map(|i| rows.row(i)));
    let mut errors = Vec::new();
    for head in 0..N_HEADS {
        let (h, t) = (head / N_TARGETS, Target::ALL[head % N_TARGETS]);
        let (Some(fm), Some(qm)) = (model.target(h, t), fixed.target(h, t)) else {
            continue;
        };
        let (mut sl, mut sf) = (0.0, 0.0);
        for i in 0..rows.len() {
            let x = rows.row(i);
            let xf = features_f64(x);
            sl += (qm.linear.predict_delta(x) as f64 - fm.linear.predict_delta(&xf)).abs();
            sf += (qm.forest.predict_delta(x) as f64 - fm.forest.predict_delta(&xf)).abs();
        }
        let n = rows.len().max(1) as f64;
        errors.push((
            (h, t),
            QuantError {
                linear_max: report.linear_max_abs[head],
                linear_mean: sl / n,
                forest_max: report.forest_max_abs[head],
                forest_mean: sf / n,
                linear_bound: LINEAR_MAX_ABS_ERROR,
                forest_bound: forest_error_bound(qm.forest.leaf_frac_bits()),
            },
        ));
    }
    if !report.within_bounds() {
        let detail: Vec<String> = errors
            .iter()
            .map(|((h, t), e)| {
                format!(
                    "{}: linear {:.3} (bound {:.3}), forest {:.3} (bound {:.3})",
                    head_name(*h, *t),
                    e.linear_max,
                    e.linear_bound,
                    e.forest_max,
                    e.forest_bound
                )
            })
            .collect();
        bail!("fixed-point predictions differ from float beyond the model crate's bound on test rows: {}", detail.join("; "));
    }
    Ok((bytes, errors))
}

/// Writes `dir/model.bin` and `dir/model.json`.
pub fn write(dir: &Path, bytes: &[u8], manifest: &Manifest) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let bin = dir.join("model.bin");
    std::fs::write(&bin, bytes).with_context(|| format!("writing {}", bin.display()))?;
    let json = dir.join("model.json");
    std::fs::write(&json, serde_json::to_string_pretty(manifest)? + "\n")
        .with_context(|| format!("writing {}", json.display()))?;
    Ok(bin)
}

/// Reads and validates a blob; the bytes must outlive the returned model.
pub fn read_blob(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

pub fn parse_blob<'a>(bytes: &'a [u8], path: &Path) -> Result<ModelRef<'a>> {
    parse(bytes)
        .map_err(|e| anyhow::anyhow!("reading {}: not a valid model blob: {e}", path.display()))
}

/// The manifest beside a blob (`model.json` in the same directory), if any.
pub fn read_manifest(blob: &Path) -> Option<Manifest> {
    let p = blob.with_file_name("model.json");
    let text = std::fs::read_to_string(p).ok()?;
    serde_json::from_str(&text).ok()
}

/// Schema facts for the manifest.
pub fn schema_id_hex() -> String {
    format!("{SCHEMA_ID:#010x}")
}

pub fn feature_names() -> Vec<String> {
    debug_assert_eq!(FEATURE_NAMES.len(), N_FEATURES);
    FEATURE_NAMES.iter().map(|s| s.to_string()).collect()
}
