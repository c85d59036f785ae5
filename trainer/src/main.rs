//! `trainer`: command-line front end. Parses arguments and calls the library; nothing else.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use trainer::commands::{self, FitOptions};
use trainer::dataset::SplitBy;
use trainer::forest::{ForestParams, LeafValue};
use trainer::preprocess::PreprocessParams;
use trainer::train::FitParams;

#[derive(Parser, Debug)]
#[command(
    name = "trainer",
    version,
    about = "Collect samples, fit, evaluate and export procperf's models"
)]
struct Cli {
    /// Print machine-readable JSON on stdout and no progress bars.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Sample every process from /proc and write the samples CSV.
    Collect {
        /// Read /proc (the only source; the kernel module's debugfs stream needs no collector).
        #[arg(long, required = true)]
        procfs: bool,
        /// How long to collect.
        #[arg(long, default_value_t = 60.0)]
        seconds: f64,
        /// Sampling interval.
        #[arg(long, default_value_t = 1000)]
        interval_ms: u64,
        /// Output CSV.
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Fit linear and forest models on a samples CSV, score them on held-out rows, export the blob.
    Fit(FitArgs),
    /// Per-row predictions of a blob (the kernel's fixed-point code) on a samples CSV.
    Predict {
        model: PathBuf,
        data: PathBuf,
        /// Output CSV (default: stdout).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Score a blob on every row of a samples CSV, beside the naive baselines.
    Eval {
        model: PathBuf,
        data: PathBuf,
        /// Another blob to score beside it (e.g. the default model,
        /// rust/model/default/model.bin): its published forecasts are the row `versus`, and
        /// the ratio of this blob's forest to it is printed per target and horizon.
        #[arg(long)]
        versus: Option<PathBuf>,
    },
    /// One self-contained HTML page about a fitted model on a samples CSV: errors beside the
    /// baselines, predicted vs actual, residuals, coverage, busiest processes, features.
    Report {
        /// A `trainer fit --out` directory (model.bin, model.json, metrics.json).
        model_dir: PathBuf,
        /// Samples CSV (`.gz` / `.xz` are decompressed).
        data: PathBuf,
        /// Output HTML file.
        #[arg(long, short, default_value = "report.html")]
        out: PathBuf,
    },
}

#[derive(clap::Args, Debug)]
struct FitArgs {
    /// Samples CSV (`.gz` / `.xz` are decompressed).
    data: PathBuf,
    /// cpu, rss, disk, net, a comma-separated list, or all.
    #[arg(long, default_value = "all")]
    target: String,
    /// Intervals ahead the target averages over; must equal the schema's HORIZON.
    #[arg(long)]
    horizon: Option<usize>,
    /// Directory for model.bin, model.json and metrics.json.
    #[arg(long, short, default_value = "model")]
    out: PathBuf,
    /// Keep whole command names (group) or time blocks (time) on one side of the split.
    #[arg(long, value_enum, default_value_t = SplitBy::Group)]
    split: SplitBy,
    /// Also run K-fold cross-validation and report per-fold scores.
    #[arg(long)]
    folds: Option<usize>,
    /// Seed of the split (and of the forest unless --random-state is given).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Seed of the forest's bootstrap and feature sampling (default: --seed).
    #[arg(long)]
    random_state: Option<u64>,
    #[arg(long, default_value_t = 32)]
    n_estimators: usize,
    #[arg(long, default_value_t = 8)]
    max_depth: usize,
    #[arg(long, default_value_t = 5)]
    min_samples_leaf: usize,
    /// Fraction of features tried per split (1.0 = all, as scikit-learn's regressor default).
    #[arg(long, default_value_t = 1.0)]
    max_features: f64,
    /// Grow every tree on all training rows instead of a bootstrap sample.
    #[arg(long)]
    no_bootstrap: bool,
    /// Leaf prediction: mean (squared error, as scikit-learn), median (absolute error), or auto:
    /// medians for RSS, means for the other targets.
    #[arg(long, value_enum, default_value_t = LeafValue::Auto)]
    leaf: LeafValue,
    /// Features the forests may not split on (comma-separated schema names, or `none`). Default:
    /// the schema's levels that name a program rather than say what it is doing (RSS, VM, threads,
    /// nice, age; the report lists them): on programs the training data did not have,
    /// splits on them carried the training programs' habits over.
    #[arg(long)]
    forest_ignore: Option<String>,
    /// Ridge penalty on standardised features.
    #[arg(long, default_value_t = 1.0)]
    alpha: f64,
    /// Winsorising quantile for the linear model's inputs (0 disables).
    #[arg(long, default_value_t = 0.001)]
    clip_quantile: f64,
    /// Drop one of each feature pair with |Pearson r| above this.
    #[arg(long, default_value_t = 0.95)]
    max_corr: f64,
    /// Also score a float-only linear model with signed log1p on columns with |skew| above this
    /// (not exportable: the kernel's linear model is linear in raw features).
    #[arg(long)]
    gaussianise: Option<f64>,
    /// Winsorise training targets to these quantiles (0 disables).
    #[arg(long, default_value_t = 0.001)]
    target_clip_quantile: f64,
    /// Do not shrink predicted changes towards persistence (by default a factor in [0, 1] per model
    /// is fitted on the calibration rows).
    #[arg(long)]
    no_shrink: bool,
    /// Learn changes from the newest level instead of from the EWMA baseline's level.
    #[arg(long)]
    base_current: bool,
    /// Nominal coverage of the conformal intervals.
    #[arg(long, default_value_t = 0.8)]
    coverage: f64,
    /// Write the exact train/calibration/test matrices (before preprocessing) to this directory:
    /// train.csv, calibration.csv, test.csv at the shortest horizon, train_<H>.csv, ... at the others.
    #[arg(long)]
    save_matrix: Option<PathBuf>,
}

/// Feature indices of `--forest-ignore`: a comma-separated list of schema names, `none`, or (when
/// absent) the schema's program levels.
fn forest_ignore(list: Option<&str>) -> Result<Vec<usize>> {
    use procperf_model::schema::{Feature, FEATURE_NAMES};
    let Some(list) = list else {
        return Ok(Feature::PROGRAM_LEVELS.iter().map(|f| f.index()).collect());
    };
    if list.trim() == "none" {
        return Ok(Vec::new());
    }
    list.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| {
            Feature::from_name(n).map(Feature::index).ok_or_else(|| {
                anyhow::anyhow!(
                    "--forest-ignore: unknown feature {n:?} (features: {})",
                    FEATURE_NAMES.join(", ")
                )
            })
        })
        .collect()
}

fn fit_options(a: FitArgs, quiet: bool) -> Result<FitOptions> {
    if !(a.coverage > 0.0 && a.coverage < 1.0) {
        anyhow::bail!("--coverage must be between 0 and 1 (got {})", a.coverage);
    }
    if a.n_estimators == 0 || a.n_estimators > procperf_model::forest::MAX_TREES {
        anyhow::bail!(
            "--n-estimators must be 1..={}",
            procperf_model::forest::MAX_TREES
        );
    }
    if a.max_depth > procperf_model::forest::MAX_DEPTH {
        anyhow::bail!(
            "--max-depth must be at most {} (the kernel's limit)",
            procperf_model::forest::MAX_DEPTH
        );
    }
    Ok(FitOptions {
        data: a.data,
        targets: commands::parse_targets(&a.target)?,
        horizon: a.horizon,
        out: a.out,
        split: a.split,
        folds: a.folds,
        seed: a.seed,
        params: FitParams {
            forest: ForestParams {
                n_estimators: a.n_estimators,
                max_depth: a.max_depth,
                min_samples_leaf: a.min_samples_leaf,
                max_features: a.max_features,
                bootstrap: !a.no_bootstrap,
                seed: a.random_state.unwrap_or(a.seed),
                leaf: a.leaf,
                ignore: forest_ignore(a.forest_ignore.as_deref())?,
            },
            alpha: a.alpha,
            preprocess: PreprocessParams {
                clip_quantile: a.clip_quantile,
                max_abs_r: a.max_corr,
                gaussianise_skew: a.gaussianise,
            },
            coverage: a.coverage,
            target_clip_quantile: a.target_clip_quantile,
            shrink: !a.no_shrink,
            base_ewma: !a.base_current,
        },
        save_matrix: a.save_matrix,
        quiet,
    })
}

fn run(cli: Cli) -> Result<()> {
    let json = cli.json;
    let stdout = &mut std::io::stdout().lock();
    match cli.cmd {
        Cmd::Collect {
            procfs: _,
            seconds,
            interval_ms,
            out,
        } => {
            let opts = trainer::collect::CollectOptions {
                seconds,
                interval_ms,
                out: out.clone(),
                quiet: json,
            };
            let s = trainer::collect::run(&opts)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                eprintln!(
                    "wrote {} rows from {} processes in {} passes to {} ({} processes without readable /proc/PID/io: I/O columns 0)",
                    s.rows, s.processes_seen, s.passes, out.display(), s.processes_without_io
                );
            }
        }
        Cmd::Fit(args) => {
            let report = commands::fit(&fit_options(args, json)?)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                trainer::report::write_fit(stdout, &report)?;
            }
        }
        Cmd::Predict { model, data, out } => {
            let n = match &out {
                Some(p) => {
                    let f = std::fs::File::create(p)
                        .map_err(|e| anyhow::anyhow!("creating {}: {e}", p.display()))?;
                    commands::predict(&model, &data, &mut std::io::BufWriter::new(f), json)?
                }
                None => commands::predict(&model, &data, stdout, json)?,
            };
            if let (Some(p), false) = (&out, json) {
                eprintln!("wrote {n} predictions to {}", p.display());
            }
        }
        Cmd::Eval {
            model,
            data,
            versus,
        } => {
            let (summary, scores) = commands::eval(&model, &data, versus.as_deref(), json)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({ "data": summary, "scores": scores })
                    )?
                );
            } else {
                use std::io::Write;
                writeln!(
                    stdout,
                    "{}: {} samples, {} processes -> {} rows scored",
                    summary.file, summary.samples, summary.processes, summary.supervised_rows
                )?;
                if let Some(a) = &summary.anomaly {
                    trainer::report::write_anomaly(stdout, a)?;
                }
                for s in &scores {
                    writeln!(stdout)?;
                    trainer::report::write_scores(stdout, s)?;
                }
            }
        }
        Cmd::Report {
            model_dir,
            data,
            out,
        } => {
            let s = trainer::html_report::run(&trainer::html_report::ReportOptions {
                model: model_dir,
                data,
                out,
                quiet: json,
            })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                eprintln!(
                    "wrote {} ({} KiB, {} charts, {} rows) in {:.1} s",
                    s.out,
                    s.bytes.div_ceil(1024),
                    s.charts,
                    s.rows,
                    s.seconds
                );
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        // Like other Unix tools, stop quietly when the reader of stdout goes away (`| head`).
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("trainer: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
