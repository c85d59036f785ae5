//! The subcommands' flows, each a function from options to a result the front end prints:
//! `fit` (data → split → models → scores → blob), `predict` and `eval` (blob + data → rows, scores).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use procperf_model::adapt::Scores;
use procperf_model::blob::ModelRef;
use procperf_model::forecast::{AllPredictions as ForecastRow, Forecast, Inputs};
use procperf_model::schema::{CsvValue, Target, FEATURE_NAMES, HORIZONS, N_FEATURES, N_HORIZONS};

use crate::conformal::Interval;
use crate::data::{read_samples, Samples};
use crate::dataset::{self, Dataset, Split, SplitBy};
use crate::evaluate::{evaluate, Predictions, TargetScores};
use crate::export::{self, BaselineParams, Manifest};
use crate::forest::{bin_features, Matrix};
use crate::progress;
use crate::report::{AnomalySummary, CvSummary, DataSummary, FitReport, TargetDetails};
use crate::train::{self, FitParams, TargetFit};

/// Parses a `--target` value: one target name or `all`.
pub fn parse_targets(s: &str) -> Result<Vec<Target>> {
    if s == "all" {
        return Ok(Target::ALL.to_vec());
    }
    let mut out = Vec::new();
    for name in s.split(',') {
        match Target::ALL.iter().find(|t| t.name() == name.trim()) {
            Some(t) => out.push(*t),
            None => {
                let known: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
                bail!(
                    "unknown target {name:?}: expected one of {} or all",
                    known.join(", ")
                );
            }
        }
    }
    Ok(out)
}

/// Options of `trainer fit`.
#[derive(Clone, Debug)]
pub struct FitOptions {
    pub data: PathBuf,
    pub targets: Vec<Target>,
    pub horizon: Option<usize>,
    pub out: PathBuf,
    pub split: SplitBy,
    pub folds: Option<usize>,
    pub seed: u64,
    pub params: FitParams,
    pub save_matrix: Option<PathBuf>,
    pub quiet: bool,
}

/// The interval most samples were taken at, ms (for the blob header).
fn typical_interval_ms(samples: &Samples) -> u32 {
    let mut iv: Vec<u64> = samples
        .rows
        .iter()
        .step_by(11)
        .map(|r| r.sample.interval_ns / 1_000_000)
        .collect();
    iv.sort_unstable();
    iv.get(iv.len() / 2)
        .copied()
        .unwrap_or(1000)
        .clamp(1, u32::MAX as u64) as u32
}

fn check_horizon(h: Option<usize>) -> Result<()> {
    match h {
        Some(h) if !HORIZONS.contains(&h) => bail!(
            "--horizon {h}: this build's feature schema fixes the horizons at {HORIZONS:?} \
             intervals (procperf_model::schema::HORIZONS, part of the schema id the kernel \
             checks); change them there to train for others"
        ),
        _ => Ok(()),
    }
}

/// Reads a capture and builds its supervised rows (targets at horizon index `horizon`), failing
/// clearly when there are none.
pub fn load(
    path: &Path,
    with_targets: bool,
    horizon: usize,
    quiet: bool,
) -> Result<(Samples, Dataset)> {
    let samples = read_samples(path, !quiet)?;
    if samples.rows.is_empty() {
        bail!("reading {}: header only, no sample rows", path.display());
    }
    let ds = rows_of(&samples, path, with_targets, horizon)?;
    Ok((samples, ds))
}

/// The supervised rows of read samples at horizon index `horizon`, failing clearly when there
/// are none.
pub fn rows_of(
    samples: &Samples,
    path: &Path,
    with_targets: bool,
    horizon: usize,
) -> Result<Dataset> {
    let h = HORIZONS[horizon];
    let ds = dataset::build(samples, with_targets, horizon);
    if ds.is_empty() {
        bail!(
            "{}: {} samples give no supervised rows: a row needs {} consecutive samples of one \
             process ({} of history{})",
            path.display(),
            samples.rows.len(),
            procperf_model::history::HISTORY_LEN + if with_targets { h } else { 0 },
            procperf_model::history::HISTORY_LEN,
            if with_targets {
                format!(", {h} ahead unless the process exited")
            } else {
                String::new()
            }
        );
    }
    Ok(ds)
}

/// The parts of one split with the models fitted on it and their test scores.
struct SplitFit {
    train: Dataset,
    cal: Dataset,
    test: Dataset,
    fits: Vec<TargetFit>,
    scores: Vec<TargetScores>,
}

/// Fits every requested target on one split; returns fits and test scores.
fn fit_split(
    ds: &Dataset,
    split: &Split,
    targets: &[Target],
    params: &FitParams,
    quiet: bool,
) -> Result<SplitFit> {
    let train = ds.subset(&split.train);
    let cal = ds.subset(&split.calibration);
    let test = ds.subset(&split.test);
    let frame = train::frame(&train);
    let t0 = std::time::Instant::now();
    let binned = bin_features(Matrix::new(&train.x, N_FEATURES));
    let binning_s = t0.elapsed().as_secs_f64();
    let bar = progress::steps(
        (targets.len() * params.forest.n_estimators) as u64,
        !quiet,
        &format!("fitting {} targets on {} rows", targets.len(), train.len()),
    );
    let mut fits = Vec::new();
    let mut scores = Vec::new();
    for &t in targets {
        let mut fit = train::fit_target(&train, &frame, &binned, &cal, t, params, &bar)?;
        fit.binning_s = binning_s;
        scores.push(evaluate(&test, t, &fit.predictions(&test)));
        fits.push(fit);
    }
    bar.finish_and_clear();
    Ok(SplitFit {
        train,
        cal,
        test,
        fits,
        scores,
    })
}

/// `trainer fit`: the models of every horizon, each fitted and scored on its own split of the
/// rows that have a target at that horizon.
pub fn fit(opts: &FitOptions) -> Result<FitReport> {
    check_horizon(opts.horizon)?;
    if opts.targets.is_empty() {
        bail!("no target to fit");
    }
    let samples = read_samples(&opts.data, !opts.quiet)?;
    if samples.rows.is_empty() {
        bail!(
            "reading {}: header only, no sample rows",
            opts.data.display()
        );
    }
    let mut per_horizon = Vec::new();
    for h in 0..N_HORIZONS {
        let ds = rows_of(&samples, &opts.data, true, h)?;
        let split = dataset::split(&ds, opts.split, opts.seed)?;
        let fitted = fit_split(&ds, &split, &opts.targets, &opts.params, opts.quiet)?;
        per_horizon.push((ds, fitted));
    }
    let (ds, first) = &per_horizon[0];
    if let Some(dir) = &opts.save_matrix {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        // The shortest horizon's as train.csv, ..., the others' as train_<H>.csv, ...
        for (h, (_, f)) in per_horizon.iter().enumerate() {
            let suffix = if h == 0 {
                String::new()
            } else {
                format!("_{}", HORIZONS[h])
            };
            save_matrix(&dir.join(format!("train{suffix}.csv")), &f.train)?;
            save_matrix(&dir.join(format!("calibration{suffix}.csv")), &f.cal)?;
            save_matrix(&dir.join(format!("test{suffix}.csv")), &f.test)?;
        }
    }

    let cv = match opts.folds {
        Some(k) => {
            let folds = dataset::folds(ds, opts.split, k, opts.seed)?;
            let mut per_fold = Vec::new();
            for f in &folds {
                per_fold.push(fit_split(ds, f, &opts.targets, &opts.params, opts.quiet)?.scores);
            }
            Some(CvSummary { folds: k, per_fold })
        }
        None => None,
    };

    let file = opts.data.display().to_string();
    let interval_ms = typical_interval_ms(&samples);
    let fits: Vec<&TargetFit> = per_horizon.iter().flat_map(|(_, f)| &f.fits).collect();
    let scores: Vec<TargetScores> = per_horizon
        .iter()
        .flat_map(|(_, f)| f.scores.iter().cloned())
        .collect();
    let model = export::model_f64(
        fits.iter().copied(),
        interval_ms,
        opts.params.coverage,
        export::metadata_text(&file, &scores),
    );
    // Quantisation is checked on every horizon's test rows.
    let mut test_rows = Dataset::default();
    for (_, f) in &per_horizon {
        test_rows.x.extend_from_slice(&f.test.x);
        test_rows.meta.extend_from_slice(&f.test.meta);
    }
    let (bytes, qerr) = export::quantise(&model, &test_rows)?;

    let mut details = Vec::new();
    for (_, split) in &per_horizon {
        let test = &split.test;
        for (fit, s) in split.fits.iter().zip(&split.scores) {
            details.push(target_details(fit, s, test, &qerr));
        }
    }

    let params = serde_json::json!({
        "forest": opts.params.forest,
        "ridge_alpha": opts.params.alpha,
        "preprocess": opts.params.preprocess,
        "coverage": opts.params.coverage,
        "split": opts.split,
        "seed": opts.seed,
    });
    let manifest = Manifest {
        schema_id: export::schema_id_hex(),
        n_features: N_FEATURES,
        feature_names: export::feature_names(),
        horizons: HORIZONS.to_vec(),
        interval_ms,
        coverage_permille: model.coverage_permille,
        targets: opts.targets.iter().map(|t| t.name().to_owned()).collect(),
        params: params.clone(),
        baselines: fits
            .iter()
            .map(|f| BaselineParams {
                target: f.target.name().into(),
                horizon: HORIZONS[f.horizon],
                ewma_alpha: crate::baseline::alpha_f64(f.ewma_alpha),
                train_mean_delta: f.train_mean,
            })
            .collect(),
        blob_bytes: bytes.len(),
        forest_nodes: details
            .iter()
            .map(|d| (format!("{}@{}", d.target, d.horizon), d.forest_nodes))
            .collect(),
        quantisation: qerr
            .iter()
            .map(|((h, t), e)| (export::head_name(*h, *t), *e))
            .collect(),
        metrics_summary: scores.iter().map(summary_json).collect(),
        trained_on: file.clone(),
    };
    let bin = export::write(&opts.out, &bytes, &manifest)?;

    let report = FitReport {
        data: DataSummary {
            file,
            samples: samples.rows.len(),
            processes: ds.n_processes,
            runs: ds.n_runs,
            supervised_rows: ds.len(),
            train_rows: first.train.len(),
            calibration_rows: first.cal.len(),
            test_rows: first.test.len(),
            split: format!("{:?}", opts.split).to_lowercase(),
            anomaly: None,
        },
        horizons: HORIZONS.to_vec(),
        params,
        scores,
        details,
        cv,
        model: Some(bin.display().to_string()),
    };
    let metrics = opts.out.join("metrics.json");
    std::fs::write(&metrics, serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("writing {}", metrics.display()))?;
    Ok(report)
}

/// A fitted target's details beyond its scores, on its test rows.
fn target_details(
    fit: &TargetFit,
    s: &TargetScores,
    test: &Dataset,
    qerr: &export::TargetErrors,
) -> TargetDetails {
    let active: Vec<usize> = (0..test.len()).filter(|&i| test.is_active(i)).collect();
    let mae_active = |deltas: &[f64]| -> Option<f64> {
        if active.is_empty() {
            return None;
        }
        let e: f64 = active
            .iter()
            .map(|&i| {
                let lvl = test.level(i, fit.target) as f64;
                ((lvl + deltas[i]).max(0.0) - test.truth_level(i, fit.target)).abs()
            })
            .sum();
        Some(e / active.len() as f64)
    };
    let q = qerr
        .iter()
        .find(|(k, _)| *k == (fit.horizon, fit.target))
        .map(|(_, e)| *e);
    TargetDetails {
        target: fit.target.name().into(),
        horizon: HORIZONS[fit.horizon],
        ewma_alpha: crate::baseline::alpha_f64(fit.ewma_alpha),
        base_alpha: crate::baseline::alpha_f64(fit.base),
        train_mean_delta: fit.train_mean,
        preprocessing: fit.pipeline.report.clone(),
        linear_mae_active_clipped: mae_active(&fit.clipped_linear_deltas(test)),
        linear_mae_active_exported: s.model("linear").and_then(|m| m.active).map(|m| m.mae),
        top_features: fit.importances.iter().take(10).cloned().collect(),
        linear_fit_s: fit.linear_fit_s,
        forest_fit_s: fit.forest_fit_s,
        forest_nodes: fit.forest.trees.iter().map(|t| t.nodes.len()).sum(),
        binning_s: fit.binning_s,
        shrink_linear: fit.shrink_linear,
        shrink_forest: fit.shrink_forest,
        linear_r2_change: r2_change(test, fit.target, &fit.linear_changes(test)),
        forest_r2_change: r2_change(test, fit.target, &fit.forest_changes(test)),
        quant_max_abs_err_linear: q.map(|e| e.linear_max),
        quant_mean_abs_err_linear: q.map(|e| e.linear_mean),
        quant_max_abs_err_forest: q.map(|e| e.forest_max),
        quant_mean_abs_err_forest: q.map(|e| e.forest_mean),
    }
}

fn r2_change(ds: &Dataset, t: Target, pred: &[f64]) -> f64 {
    crate::metrics::score(&ds.y(t), pred)
        .map(|s| s.r2)
        .unwrap_or(f64::NAN)
}

fn summary_json(s: &TargetScores) -> serde_json::Value {
    let mae = |m: &str| s.model(m).and_then(|m| m.active).map(|x| x.mae);
    serde_json::json!({
        "target": s.target,
        "horizon": s.horizon,
        "active_rows": s.active_rows,
        "mae_active": {
            "persistence": mae("persistence"), "ewma": mae("ewma"), "mean": mae("mean"),
            "linear": mae("linear"), "forest": mae("forest"),
        },
        "forest_over_persistence_active": s.mae_ratio("forest", "persistence", true),
        "forest_over_ewma_active": s.mae_ratio("forest", "ewma", true),
        "forest_over_persistence_active_ci": s.mae_ratio_ci("forest", "persistence", true).map(|c| [c.lo, c.hi]),
        "forest_over_ewma_active_ci": s.mae_ratio_ci("forest", "ewma", true).map(|c| [c.lo, c.hi]),
        "forest_coverage_all": s.model("forest").and_then(|m| m.coverage_all),
        "forest_coverage_active": s.model("forest").and_then(|m| m.coverage_active),
    })
}

/// Writes supervised rows as CSV: identity, features by schema name, current levels and learned
/// targets, so other tools fit on exactly these rows.
pub fn save_matrix(path: &Path, ds: &Dataset) -> Result<()> {
    let f = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = BufWriter::new(f);
    let mut header: Vec<String> = vec!["t_ms".into(), "pid".into(), "comm".into()];
    header.extend(FEATURE_NAMES.iter().map(|s| s.to_string()));
    header.extend(Target::ALL.iter().map(|t| format!("level_{}", t.name())));
    header.extend(Target::ALL.iter().map(|t| format!("target_{}", t.name())));
    header.push("active".into());
    let ctx = || format!("writing {}", path.display());
    writeln!(w, "{}", header.join(",")).with_context(ctx)?;
    for i in 0..ds.len() {
        let m = &ds.meta[i];
        write!(
            w,
            "{},{},{}",
            m.t_ms,
            m.pid,
            crate::data::clean_comm(&ds.comms[m.comm as usize])
        )
        .with_context(ctx)?;
        for v in ds.row(i) {
            write!(w, ",{v}").with_context(ctx)?;
        }
        for v in &ds.levels[i] {
            write!(w, ",{v}").with_context(ctx)?;
        }
        for v in &ds.targets[i] {
            write!(w, ",{v}").with_context(ctx)?;
        }
        writeln!(w, ",{}", u8::from(ds.is_active(i))).with_context(ctx)?;
    }
    w.flush().with_context(ctx)
}

/// What the kernel publishes for every row of `ds`: per run, the model crate's per-process
/// [`Forecast`] stepped pass by pass, exactly as the kernel steps a process it has tracked since
/// the run's first sample (input reuse, blending with persistence and the base).
pub(crate) fn blob_published(model: &ModelRef<'_>, ds: &Dataset) -> Vec<ForecastRow> {
    blob_replay(model, ds).into_iter().map(|(p, _)| p).collect()
}

/// [`blob_published`] with each row's anomaly flags ([`Forecast::anomaly`]).
pub(crate) fn blob_replay(model: &ModelRef<'_>, ds: &Dataset) -> Vec<(ForecastRow, u8)> {
    let mut state = Forecast::new();
    let mut scores = Scores::default();
    (0..ds.len())
        .map(|i| {
            if !ds.continues_run(i) {
                state = Forecast::new();
            }
            let mut bases = [[0; procperf_model::schema::N_TARGETS]; N_HORIZONS];
            for (h, b) in bases.iter_mut().enumerate() {
                *b = model.base_levels(h, &ds.past[i]);
            }
            let inputs = Inputs {
                features: *ds.row(i),
                bases,
            };
            state.step(
                &ds.newest[i],
                ds.levels[i],
                ds.outcomes[i],
                inputs,
                &mut scores,
                |x| model.predict_horizons(&x.features, &x.bases),
            );
            (
                state.published().copied().unwrap_or_default(),
                state.anomaly(),
            )
        })
        .collect()
}

/// How often the anomaly flag rose on a replay, per process-hour: on programs behaving as they
/// usually do, every flag is a false one.
fn anomaly_summary(ds: &Dataset, flags: &[u8]) -> AnomalySummary {
    let (mut us, mut busy_us, mut flagged_us) = (0u64, 0u64, 0u64);
    let mut raised = [0usize; procperf_model::schema::N_TARGETS];
    for (i, &f) in flags.iter().enumerate() {
        let interval = u64::from(ds.newest[i].interval_us);
        us += interval;
        if ds.level(i, Target::Cpu) >= procperf_model::features::ACTIVE_CPU_PERMILLE {
            busy_us += interval;
        }
        if f != 0 {
            flagged_us += interval;
        }
        let before = if ds.continues_run(i) { flags[i - 1] } else { 0 };
        for (t, n) in raised.iter_mut().enumerate() {
            if f & !before & (1 << t) != 0 {
                *n += 1;
            }
        }
    }
    let hours = |us: u64| us as f64 / 3.6e9;
    let total: usize = raised.iter().sum();
    AnomalySummary {
        process_hours: hours(us),
        busy_process_hours: hours(busy_us),
        raised: total,
        raised_by_target: Target::ALL
            .iter()
            .map(|t| (t.name().to_string(), raised[t.index()]))
            .collect(),
        per_process_hour: total as f64 / hours(us).max(1e-9),
        per_busy_process_hour: total as f64 / hours(busy_us).max(1e-9),
        flagged_share: flagged_us as f64 / us.max(1) as f64,
    }
}

/// One target's `(linear, forest, lo, hi)` levels at horizon index `h` per row of
/// [`blob_published`]; `None` if the model has no such target there.
pub(crate) fn target_column(
    rows: &[ForecastRow],
    h: usize,
    target: Target,
) -> Option<Vec<[i64; 4]>> {
    let t = target.index();
    rows.iter()
        .map(|r| r[h][t].map(|p| [p.linear, p.forest, p.forest_lo, p.forest_hi]))
        .collect()
}

/// `trainer predict`: one output row per input row with a full history.
pub fn predict(blob: &Path, data: &Path, out: &mut dyn Write, quiet: bool) -> Result<usize> {
    let bytes = export::read_blob(blob)?;
    let model = export::parse_blob(&bytes, blob)?;
    let (_, ds) = load(data, false, 0, quiet)?;
    let published = blob_replay(&model, &ds);
    // The kernel's predictions.csv columns: every target at every horizon (a head the model
    // lacks prints zeros there as well).
    let columns: Vec<_> = procperf_model::schema::csv_columns().collect();
    // The identity columns are the samples stream's.
    let mut header: Vec<String> = procperf_model::sample::ROW_PREFIX
        .iter()
        .map(|s| s.to_string())
        .collect();
    header.extend(columns.iter().map(|c| c.to_string()));
    header.push(procperf_model::schema::ANOMALY_COLUMN.into());
    writeln!(out, "{}", header.join(","))?;
    for (i, (m, (row, anomaly))) in ds.meta.iter().zip(&published).enumerate() {
        write!(
            out,
            "{},{},{},{}",
            m.t_ms,
            m.pid,
            crate::data::clean_comm(&ds.comms[m.comm as usize]),
            m.cgroup
        )?;
        for c in &columns {
            let p = |h: usize| row[h][c.target.index()].unwrap_or_default();
            let v = match c.value {
                CsvValue::Current => ds.level(i, c.target),
                CsvValue::Linear(h) => p(h).linear,
                CsvValue::Forest(h) => p(h).forest,
                CsvValue::Lo(h) => p(h).forest_lo,
                CsvValue::Hi(h) => p(h).forest_hi,
            };
            write!(out, ",{v}")?;
        }
        writeln!(out, ",{anomaly}")?;
    }
    out.flush()?;
    Ok(ds.len())
}

/// One head to score: target `t` at horizon index `h`, its models, and another blob's published
/// changes at the same head (`--versus`).
struct Head<'a> {
    h: usize,
    t: Target,
    tm: &'a procperf_model::blob::TargetModelRef<'a>,
    versus: Option<Vec<f64>>,
}

/// Scores of one head of a blob on `ds`, whose published forecasts are `rows`.
fn score_head(
    model: &ModelRef<'_>,
    ds: &Dataset,
    rows: &[ForecastRow],
    manifest: Option<&Manifest>,
    head: Head<'_>,
) -> TargetScores {
    let Head { h, t, tm, versus } = head;
    // Predicted changes from the current level straight from the fixed-point evaluators plus the
    // blob's base (evaluate() clamps levels at 0 as ModelRef::predict does, and needs the
    // unclamped change for the band).
    let lin_raw: Vec<f64> = (0..ds.len())
        .map(|i| ds.base_delta(i, t, tm.base) + tm.linear.predict_delta(ds.row(i)) as f64)
        .collect();
    let forest_alone: Vec<f64> = (0..ds.len())
        .map(|i| ds.base_delta(i, t, tm.base) + tm.forest.predict_delta(ds.row(i)) as f64)
        .collect();
    // What the kernel publishes: at the shortest horizon the forest blended with persistence and
    // the base, per run; at the others the forest.
    let published = target_column(rows, h, t).expect("target present");
    let forest: Vec<f64> = published
        .iter()
        .enumerate()
        .map(|(i, p)| (p[1] - ds.level(i, t)) as f64)
        .collect();
    let bands: Vec<[f64; 2]> = published
        .iter()
        .map(|p| [p[2] as f64, p[3] as f64])
        .collect();
    let iv = |o: procperf_model::blob::IntervalOffsets| Interval {
        lo: o.lo as f64,
        hi: o.hi as f64,
        nominal: model.coverage_permille() as f64 / 1000.0,
        n: 0,
    };
    let plain = |name: &str, deltas: Vec<f64>| Predictions {
        model: name.into(),
        deltas,
        interval: None,
        bands: None,
    };
    let mut preds = vec![plain("persistence", vec![0.0; ds.len()])];
    let horizon = HORIZONS[h];
    // Manifests of single-horizon models have no horizon per baseline: theirs is the first.
    if let Some(b) = manifest.and_then(|m| {
        m.baselines
            .iter()
            .find(|b| b.target == t.name() && (b.horizon == horizon || b.horizon == 0 && h == 0))
    }) {
        preds.push(plain("mean", vec![b.train_mean_delta; ds.len()]));
        if let Some(a) = crate::baseline::alpha_from_f64(b.ewma_alpha) {
            preds.push(plain("ewma", crate::baseline::ewma_deltas(ds, t, a)));
        }
    }
    for trend in crate::baseline::Trend::ALL {
        preds.push(plain(
            trend.name(),
            crate::baseline::trend_deltas(ds, t, trend),
        ));
    }
    preds.push(Predictions {
        model: "linear".into(),
        deltas: lin_raw,
        interval: Some(iv(tm.linear_interval)),
        bands: None,
    });
    preds.push(Predictions {
        model: "forest".into(),
        deltas: forest,
        interval: Some(iv(tm.forest_interval)),
        bands: Some(bands),
    });
    preds.push(Predictions {
        model: "forest_alone".into(),
        deltas: forest_alone,
        interval: Some(iv(tm.forest_interval)),
        bands: None,
    });
    if let Some(v) = versus {
        preds.push(plain("versus", v));
    }
    evaluate(ds, t, &preds)
}

/// `trainer eval`: scores a blob's fixed-point predictions at every horizon on every supervised
/// row of a capture, beside persistence and, when the manifest is beside the blob, the training
/// mean and EWMA.
pub fn eval(
    blob: &Path,
    data: &Path,
    versus: Option<&Path>,
    quiet: bool,
) -> Result<(DataSummary, Vec<TargetScores>)> {
    let bytes = export::read_blob(blob)?;
    let model = export::parse_blob(&bytes, blob)?;
    let manifest = export::read_manifest(blob);
    let other_bytes = versus.map(export::read_blob).transpose()?;
    let other = match (&other_bytes, versus) {
        (Some(b), Some(path)) => Some(export::parse_blob(b, path)?),
        _ => None,
    };
    let samples = read_samples(data, !quiet)?;
    let mut all = Vec::new();
    let mut first = None;
    let mut anomaly = None;
    for h in (0..N_HORIZONS).filter(|&h| model.has_horizon(h)) {
        // A recording shorter than a longer horizon has no rows there: scored at the others.
        if h > 0 && first.is_some() && dataset::build(&samples, true, h).is_empty() {
            if !quiet {
                eprintln!(
                    "{}: no row has {} intervals ahead: not scored at that horizon",
                    data.display(),
                    HORIZONS[h]
                );
            }
            continue;
        }
        let ds = rows_of(&samples, data, true, h)?;
        let replay = blob_replay(&model, &ds);
        if anomaly.is_none() {
            let flags: Vec<u8> = replay.iter().map(|(_, f)| *f).collect();
            anomaly = Some(anomaly_summary(&ds, &flags));
        }
        let rows: Vec<ForecastRow> = replay.into_iter().map(|(p, _)| p).collect();
        let other_rows = other.as_ref().map(|o| blob_published(o, &ds));
        for t in Target::ALL {
            let Some(tm) = model.target(h, t) else {
                continue;
            };
            let versus = other_rows
                .as_ref()
                .and_then(|r| target_column(r, h, t))
                .map(|col| {
                    col.iter()
                        .enumerate()
                        .map(|(i, p)| (p[1] - ds.level(i, t)) as f64)
                        .collect()
                });
            let head = Head { h, t, tm, versus };
            all.push(score_head(&model, &ds, &rows, manifest.as_ref(), head));
        }
        first.get_or_insert(ds);
    }
    let ds = first.context("the blob has no model")?;
    let summary = DataSummary {
        file: data.display().to_string(),
        samples: samples.rows.len(),
        processes: ds.n_processes,
        runs: ds.n_runs,
        supervised_rows: ds.len(),
        test_rows: ds.len(),
        split: "none (all rows scored)".into(),
        anomaly,
        ..Default::default()
    };
    Ok((summary, all))
}
