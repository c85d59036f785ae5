//! `trainer report`: one self-contained HTML page about a fitted model on a capture — errors
//! beside the baselines, predicted vs actual, residuals, interval coverage, the busiest processes
//! over time, feature importances, linear coefficients, preprocessing and quantisation.
//!
//! It scores nothing itself: the error tables are `commands::eval` (what `trainer eval` prints),
//! and the per-row forecasts come from the blob through `ModelRef::predict`, the kernel's
//! fixed-point code. What the fit measured and the blob cannot tell (importances, preprocessing,
//! float-vs-fixed error) is read from `metrics.json` and `model.json` beside the blob.
//!
//! The page must open offline and stay small: charts are inline SVG drawn by plotters ([`charts`]),
//! the CSS is inline, there is no script and no external reference, and scatter plots draw each
//! screen pixel once. Output is deterministic for the same inputs (no clock, no randomness).

mod charts;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use procperf_model::blob::{ModelRef, TargetModelRef};
use procperf_model::schema::{Target, FEATURE_NAMES, HORIZONS, N_FEATURES, N_HORIZONS};
use procperf_model::target::display_milli;

use crate::commands;
use crate::dataset::Dataset;
use crate::evaluate::TargetScores;
use crate::export::{self, Manifest};
use crate::report::{DataSummary, FitReport, TargetDetails};
use charts::{Axis, Bar, Panel, Segment};

/// Processes shown over time per target.
pub const TOP_PROCESSES: usize = 3;
/// Most points of one process's time series (longer ones are thinned evenly).
pub const MAX_SERIES_POINTS: usize = 900;
/// Linear coefficients charted per target (all are in the table below the chart).
pub const TOP_COEFFICIENTS: usize = 15;

/// Options of `trainer report`.
#[derive(Clone, Debug)]
pub struct ReportOptions {
    /// A `trainer fit --out` directory (or the `model.bin` in one).
    pub model: PathBuf,
    pub data: PathBuf,
    pub out: PathBuf,
    pub quiet: bool,
}

/// What `trainer report` wrote.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ReportSummary {
    pub out: String,
    pub bytes: usize,
    pub charts: usize,
    pub rows: usize,
    pub targets: Vec<String>,
    pub seconds: f64,
}

/// `trainer report`: renders the page and writes it to `opts.out`.
pub fn run(opts: &ReportOptions) -> Result<ReportSummary> {
    let t0 = Instant::now();
    let page = render(&opts.model, &opts.data, opts.quiet)?;
    std::fs::write(&opts.out, &page.html)
        .with_context(|| format!("writing {}", opts.out.display()))?;
    Ok(ReportSummary {
        out: opts.out.display().to_string(),
        bytes: page.html.len(),
        charts: page.html.matches("<svg id=").count(),
        rows: page.rows,
        targets: page.targets,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// A rendered report.
pub struct Page {
    pub html: String,
    /// Supervised rows scored.
    pub rows: usize,
    pub targets: Vec<String>,
}

/// The files of a `trainer fit --out` directory.
struct ModelFiles {
    dir: PathBuf,
    blob: PathBuf,
    manifest: Option<Manifest>,
    metrics: Option<FitReport>,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    if !path.exists() {
        return Ok(None);
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .map(Some)
        .with_context(|| format!("reading {}: not a trainer fit output", path.display()))
}

fn model_files(path: &Path) -> Result<ModelFiles> {
    let (dir, blob) = if path.is_dir() {
        (path.to_path_buf(), path.join("model.bin"))
    } else if path.is_file() {
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        (dir, path.to_path_buf())
    } else {
        bail!(
            "{}: no such directory (expected a `trainer fit --out` directory with model.bin, \
             model.json and metrics.json)",
            path.display()
        );
    };
    if !blob.is_file() {
        bail!(
            "{}: no model.bin (expected a `trainer fit --out` directory)",
            dir.display()
        );
    }
    Ok(ModelFiles {
        manifest: read_json(&blob.with_file_name("model.json"))?,
        metrics: read_json(&blob.with_file_name("metrics.json"))?,
        dir,
        blob,
    })
}

/// One target's fixed-point forecasts for every scored row, as levels in target units.
struct Forecasts {
    target: Target,
    /// Index into `HORIZONS`.
    horizon: usize,
    truth: Vec<f64>,
    linear: Vec<f64>,
    forest: Vec<f64>,
    lo: Vec<f64>,
    hi: Vec<f64>,
}

/// The forecasts of every target in the blob for every row of `ds`: the fixed-point predictions
/// `trainer predict` prints (`commands::blob_published`, the kernel's evaluation code).
fn forecasts(blob: &ModelRef<'_>, ds: &Dataset) -> Vec<Forecasts> {
    let rows = commands::blob_published(blob, ds);
    Target::ALL
        .into_iter()
        .filter_map(|target| {
            let p = commands::target_column(&rows, ds.horizon, target)?;
            let col = |k: usize| p.iter().map(|r| r[k] as f64).collect();
            Some(Forecasts {
                target,
                horizon: ds.horizon,
                truth: (0..ds.len()).map(|i| ds.truth_level(i, target)).collect(),
                linear: col(0),
                forest: col(1),
                lo: col(2),
                hi: col(3),
            })
        })
        .collect()
}

/// How a target's forecasts at one horizon (index into `HORIZONS`) are shown: names, display
/// units and axis coordinates.
#[derive(Clone, Copy)]
struct View(Target, usize);

impl View {
    fn title(self) -> String {
        let name = match self.0 {
            Target::Cpu => "CPU",
            Target::Rss => "RSS",
            Target::Disk => "Disk I/O",
            Target::Net => "Network I/O",
        };
        format!("{name}, {} intervals ahead", HORIZONS[self.1])
    }

    /// The section's anchor: the target's name, with the horizon after the first.
    fn id(self) -> String {
        match self.1 {
            0 => self.0.name().to_owned(),
            h => format!("{}-{}", self.0.name(), HORIZONS[h]),
        }
    }

    /// Level in display units (%CPU, MiB, KiB/s), through the model crate's conversion.
    fn display(self, level: f64) -> f64 {
        display_milli(self.0, level.round() as i64) as f64 / 1000.0
    }

    fn series_desc(self) -> &'static str {
        match self.0 {
            Target::Cpu => "%CPU",
            Target::Rss => "RSS, MiB",
            Target::Disk => "disk I/O, KiB/s",
            Target::Net => "network I/O, KiB/s",
        }
    }

    /// Memory and rates span six orders of magnitude: their scatter plots are log scaled.
    fn log_scale(self) -> bool {
        self.0 != Target::Cpu
    }

    /// Scatter coordinate: %CPU, or log10 of (1 + KiB) and (1 + B/s) in MiB and KiB/s for
    /// memory and rates, so that whole decades of the display unit are whole coordinates and 0
    /// is at log10(1/1024). Disk and net levels are 256·log2(1 + B/s): the same scale, exactly.
    fn coord(self, level: f64) -> f64 {
        let level = level.max(0.0);
        match self.0 {
            Target::Cpu => level / 10.0,
            Target::Rss => ((1.0 + level) / 1024.0).log10(),
            Target::Disk | Target::Net => level / 256.0 * 2f64.log10() - 1024f64.log10(),
        }
    }

    fn coord_tick(self, c: f64) -> String {
        if self.log_scale() {
            // The first decade sits a hair above the origin, where the zeros are: call it 0.
            if c - self.coord(0.0) < 0.05 {
                "0".into()
            } else {
                charts::decade_label(c)
            }
        } else {
            charts::fmt_num(c)
        }
    }

    fn coord_desc(self) -> &'static str {
        match self.0 {
            Target::Cpu => "%CPU",
            Target::Rss => "RSS, MiB (log scale, 0 at the origin)",
            Target::Disk => "disk I/O, KiB/s (log scale, 0 at the origin)",
            Target::Net => "network I/O, KiB/s (log scale, 0 at the origin)",
        }
    }

    /// Range and tick count of a scatter axis holding `coords`.
    fn coord_range(self, coords: impl Iterator<Item = f64>) -> ((f64, f64), usize) {
        let top = coords
            .filter(|c| c.is_finite())
            .fold(f64::NEG_INFINITY, f64::max);
        if self.log_scale() {
            let lo = self.coord(0.0);
            let hi = top.max(lo + 1.0) + 0.15;
            // One tick per decade (labelled) and plotters' finer ones between (blank).
            ((lo, hi), (hi - lo).ceil() as usize + 1)
        } else {
            ((0.0, if top > 0.0 { top * 1.03 } else { 1.0 }), 7)
        }
    }

    /// Divisor and unit of errors: MAE, RMSE, residuals (target units → readable ones).
    fn error_unit(self) -> (f64, &'static str) {
        match self.0 {
            Target::Cpu => (10.0, "%CPU points"),
            Target::Rss => (1024.0, "MiB"),
            Target::Disk | Target::Net => (256.0, "log2 units (1 = a factor of 2)"),
        }
    }

    /// How much a process did of this target, to pick the ones worth a time series: the sum of
    /// its true levels for rates, how much its RSS moved (sum of absolute steps) for memory.
    fn activity(self, truth: &[f64]) -> f64 {
        match self.0 {
            Target::Rss => truth.windows(2).map(|w| (w[1] - w[0]).abs()).sum(),
            _ => truth.iter().map(|&v| self.display(v)).sum(),
        }
    }
}

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn num(v: Option<f64>, prec: usize) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.prec$}"),
        _ => "–".into(),
    }
}

fn pct(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{:.1} %", 100.0 * x),
        _ => "–".into(),
    }
}

/// A cell for the MAE ratio of `model` to `baseline` on active rows, with its bootstrap interval:
/// green when the whole interval is below 1, red when it is above, grey when it contains 1 (the
/// recording cannot tell the two apart).
fn ratio_cell(s: &TargetScores, model: &str, baseline: &str) -> String {
    match (
        s.mae_ratio(model, baseline, true),
        s.mae_ratio_ci(model, baseline, true),
    ) {
        (Some(x), Some(ci)) if x.is_finite() => {
            let class = if ci.hi < 1.0 {
                "good"
            } else if ci.lo > 1.0 {
                "bad"
            } else {
                "even"
            };
            format!(
                "<td class=\"{class}\" title=\"95 % interval, processes resampled\">{x:.3}<br><small>{:.3}–{:.3}</small></td>",
                ci.lo, ci.hi
            )
        }
        (Some(x), None) if x.is_finite() => format!("<td>{x:.3}</td>"),
        _ => "<td>–</td>".into(),
    }
}

fn swatch(model: &str) -> String {
    format!(
        "<span class=\"sw\" style=\"background:{}\"></span>",
        charts::hex(charts::model_colour(model))
    )
}

fn figure(svg: &str, caption: &str) -> String {
    format!("<figure>{svg}<figcaption>{caption}</figcaption></figure>\n")
}

/// Value at quantile `q` of `v` (nearest rank); 0 for no values.
fn quantile(v: &[f64], q: f64) -> f64 {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return 0.0;
    }
    s.sort_by(f64::total_cmp);
    s[((q * (s.len() - 1) as f64).round() as usize).min(s.len() - 1)]
}

/// Renders the report of the blob in `model` (a fit directory or its `model.bin`) on `data`.
pub fn render(model: &Path, data: &Path, quiet: bool) -> Result<Page> {
    let files = model_files(model)?;
    let bytes = export::read_blob(&files.blob)?;
    let blob = export::parse_blob(&bytes, &files.blob)?;
    // The scores exactly as `trainer eval` computes them, then the scored rows for truths, times
    // and the forecasts as `trainer predict` computes them.
    let (summary, scores) = commands::eval(&files.blob, data, None, quiet)?;
    let (_, ds) = commands::load(data, true, 0, quiet)?;
    let fc = forecasts(&blob, &ds);
    if fc.is_empty() {
        bail!("{}: the blob has no target", files.blob.display());
    }
    let mut body = String::new();
    let mut toc = vec![TocEntry::new("overview", "Overview")];
    body.push_str(&overview(&files, &blob, &summary, &scores, data));
    // Every horizon the blob has that the capture is long enough to score.
    let mut longer = Vec::new();
    for h in 1..N_HORIZONS {
        if blob.has_horizon(h) {
            let (_, ds_h) = commands::load(data, true, h, quiet)?;
            if !ds_h.is_empty() {
                let fc_h = forecasts(&blob, &ds_h);
                longer.push((ds_h, fc_h));
            }
        }
    }
    for (ds_h, fc_h) in std::iter::once((&ds, &fc)).chain(longer.iter().map(|(d, f)| (d, f))) {
        let active: Vec<bool> = (0..ds_h.len()).map(|i| ds_h.is_active(i)).collect();
        for f in fc_h {
            let v = View(f.target, f.horizon);
            let s = scores
                .iter()
                .find(|s| s.target == f.target.name() && s.horizon == HORIZONS[f.horizon])
                .context("eval scores every target at every horizon it has rows for")?;
            let tm = blob.target(f.horizon, f.target).context("target present")?;
            body.push_str(&target_section(v, f, s, tm, ds_h, &active)?);
            let mut entry = TocEntry::new(&v.id(), &v.title());
            for (part, title) in [
                ("errors", "errors"),
                ("scatter", "predicted vs actual"),
                ("residuals", "residuals and coverage"),
                ("series", "busiest processes"),
            ] {
                entry
                    .parts
                    .push((format!("{}-{part}", v.id()), title.into()));
            }
            toc.push(entry);
        }
    }
    toc.push(TocEntry::new("features", "Features"));
    body.push_str(&features_section(&fc, &blob, &files, &ds)?);
    toc.push(TocEntry::new("preprocessing", "Preprocessing and export"));
    body.push_str(&preprocessing_section(&fc, &files));
    toc.push(TocEntry::new("notes", "How to read this report"));
    body.push_str(&notes_section(&blob));

    let html = page(&files, data, &toc, &body);
    Ok(Page {
        html,
        rows: ds.len(),
        targets: fc.iter().map(|f| f.target.name().to_string()).collect(),
    })
}

/// A section in the table of contents, with the anchors of its parts.
struct TocEntry {
    id: String,
    title: String,
    parts: Vec<(String, String)>,
}

impl TocEntry {
    fn new(id: &str, title: &str) -> Self {
        Self {
            id: id.into(),
            title: title.into(),
            parts: Vec::new(),
        }
    }
}

const CSS: &str = r#"
:root { --ink: #212529; --muted: #5f6b76; --line: #e2e6ea; --bg: #f4f6f8; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: var(--bg); }
header.top { background: linear-gradient(120deg, #17252f, #24475a); color: #fff; padding: 26px 40px 22px; }
header.top h1 { margin: 0 0 4px; font-size: 26px; font-weight: 600; letter-spacing: .2px; }
header.top p { margin: 2px 0; color: #d3dde3; }
header.top code { color: #fff; background: rgba(255,255,255,.1); padding: 1px 5px; border-radius: 3px; }
.legend { margin: 4px 0 8px; font-size: 14px; }
header.top .legend { margin-top: 10px; }
header.top .sw { box-shadow: 0 0 0 1px rgba(255,255,255,.7); }
.legend span.item { display: inline-flex; align-items: center; margin-right: 18px; }
.sw { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.sw.band { opacity: .3; }
main { max-width: 1320px; margin: 0 auto; padding: 22px 32px 60px; }
nav.toc { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 22px; margin-bottom: 22px; }
nav.toc h2 { border: 0; margin: 0 0 4px; padding: 0; font-size: 17px; }
nav.toc > ol { columns: 3; column-gap: 28px; margin: 0; padding-left: 20px; }
nav.toc ol ol { padding: 0 0 2px 2px; margin: 0; list-style: none; font-size: 13px; }
nav.toc ol ol li { display: inline; }
nav.toc ol ol li + li::before { content: " · "; color: var(--muted); }
nav.toc li { break-inside: avoid; }
a { color: #24618a; text-decoration: none; }
a:hover { text-decoration: underline; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 24px 20px; margin-bottom: 22px; }
h2 { margin: 0 0 10px; font-size: 22px; font-weight: 600; border-bottom: 2px solid var(--line); padding-bottom: 6px; }
h2 small { font-size: 14px; font-weight: 400; color: var(--muted); }
h3 { font-size: 16px; margin: 18px 0 6px; }
p.note, figcaption { color: var(--muted); font-size: 13px; }
figcaption { margin: 2px 4px 0; }
figure { margin: 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 14px 22px; align-items: start; }
svg.chart { width: 100%; height: auto; display: block; }
table { border-collapse: collapse; font-size: 14px; margin: 6px 0 10px; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { white-space: normal; vertical-align: bottom; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #eef1f4; font-weight: 600; }
td.good { color: #1c7a43; font-weight: 600; }
td.bad { color: #b23b2e; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 18px; margin: 6px 0; font-size: 14px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
ul.pre { font-size: 14px; margin: 4px 0 8px; padding-left: 20px; }
details summary { cursor: pointer; color: #24618a; font-size: 14px; }
code { font-size: 13px; }
"#;

/// Colour swatches with names; `class` " band" draws the swatch like the interval band.
fn legend(items: &[(&str, plotters::style::RGBColor, &str)]) -> String {
    items
        .iter()
        .map(|(name, colour, class)| {
            format!(
                "<span class=\"item\"><span class=\"sw{class}\" style=\"background:{}\"></span>{}</span>",
                charts::hex(*colour),
                esc(name)
            )
        })
        .collect()
}

fn page(files: &ModelFiles, data: &Path, toc: &[TocEntry], body: &str) -> String {
    let mut nav = String::from("<nav class=\"toc\"><h2>Contents</h2><ol>\n");
    for TocEntry { id, title, parts } in toc {
        let _ = write!(nav, "<li><a href=\"#{}\">{}</a>", esc(id), esc(title));
        if !parts.is_empty() {
            nav.push_str("<ol>");
            for (sid, stitle) in parts {
                let _ = write!(
                    nav,
                    "<li><a href=\"#{}\">{}</a></li>",
                    esc(sid),
                    esc(stitle)
                );
            }
            nav.push_str("</ol>");
        }
        nav.push_str("</li>\n");
    }
    nav.push_str("</ol></nav>\n");
    let legend = legend(&[
        ("actual", charts::ACTUAL, ""),
        ("linear", charts::LINEAR, ""),
        ("forest", charts::FOREST, ""),
        ("forest interval", charts::FOREST, " band"),
        ("persistence", charts::PERSISTENCE, ""),
        ("EWMA", charts::EWMA, ""),
        ("training mean", charts::MEAN, ""),
    ]);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"procperf trainer report\">\n\
         <title>procperf model report: {model} on {data}</title>\n<style>{CSS}</style>\n</head>\n<body>\n\
         <header class=\"top\"><h1>procperf model report</h1>\n\
         <p>model <code>{model}</code> scored on <code>{data}</code> with the kernel's fixed-point code</p>\n\
         <p class=\"legend\">{legend}</p></header>\n<main>\n{nav}{body}</main>\n</body>\n</html>\n",
        model = esc(&files.dir.display().to_string()),
        data = esc(&data.display().to_string()),
    )
}

fn overview(
    files: &ModelFiles,
    blob: &ModelRef<'_>,
    summary: &DataSummary,
    scores: &[TargetScores],
    data: &Path,
) -> String {
    let mut s =
        String::from("<section id=\"overview\"><h2>Overview</h2>\n<div class=\"grid\"><div>\n");
    s.push_str("<h3>Data</h3><dl class=\"facts\">");
    let active = scores.first().map(|t| t.active_rows).unwrap_or(0);
    let facts = [
        (
            "file",
            format!("<code>{}</code>", esc(&data.display().to_string())),
        ),
        ("samples", summary.samples.to_string()),
        ("processes", summary.processes.to_string()),
        (
            "rows scored",
            format!(
                "{} (every row with {} samples of history and {} ahead), {} active",
                summary.supervised_rows,
                procperf_model::history::HISTORY_LEN,
                procperf_model::schema::HORIZON,
                active
            ),
        ),
    ];
    for (k, v) in facts {
        let _ = write!(s, "<dt>{k}</dt><dd>{v}</dd>");
    }
    s.push_str("</dl>\n<h3>Model</h3><dl class=\"facts\">");
    let mut facts = vec![
        (
            "blob",
            format!(
                "<code>{}</code>, {} bytes",
                esc(&files.blob.display().to_string()),
                std::fs::metadata(&files.blob).map(|m| m.len()).unwrap_or(0)
            ),
        ),
        ("sampling interval", format!("{} ms", blob.interval_ms())),
        (
            "nominal coverage",
            format!("{:.0} %", blob.coverage_permille() as f64 / 10.0),
        ),
    ];
    if let Some(m) = &files.manifest {
        facts.push((
            "schema",
            format!(
                "<code>{}</code>, {} features, horizons {:?} intervals",
                esc(&m.schema_id),
                m.n_features,
                m.horizons
            ),
        ));
        facts.push(("trained on", format!("<code>{}</code>", esc(&m.trained_on))));
        let p = &m.params;
        facts.push((
            "forest",
            format!(
                "{} trees, max depth {}, min samples per leaf {}, leaf {}",
                p["forest"]["n_estimators"],
                p["forest"]["max_depth"],
                p["forest"]["min_samples_leaf"],
                esc(p["forest"]["leaf"].as_str().unwrap_or("?"))
            ),
        ));
        let ignored: Vec<&str> = p["forest"]["ignore"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| m.feature_names.get(i.as_u64()? as usize))
            .map(String::as_str)
            .collect();
        if !ignored.is_empty() {
            facts.push((
                "forest ignores",
                format!("<code>{}</code>", esc(&ignored.join(", "))),
            ));
        }
        facts.push(("ridge", format!("alpha {}", p["ridge_alpha"])));
        if Path::new(&m.trained_on) == data {
            facts.push(("note", "<b>the data is the training capture</b>: these scores include rows the models were fitted on and are optimistic".into()));
        }
    } else {
        facts.push((
            "model.json",
            "not found: no EWMA or mean baselines, no parameters".into(),
        ));
    }
    if files.metrics.is_none() {
        facts.push((
            "metrics.json",
            "not found: no importances, preprocessing or quantisation details".into(),
        ));
    }
    for (k, v) in facts {
        let _ = write!(s, "<dt>{k}</dt><dd>{v}</dd>");
    }
    let _ = write!(
        s,
        "</dl><p class=\"note\">blob metadata: {}</p>\n</div><div>\n",
        esc(blob.metadata())
    );
    s.push_str("<h3>Headline: MAE on active rows relative to the baselines</h3>\n");
    s.push_str("<table><thead><tr><th>target</th><th>ahead</th><th>forest / persistence</th><th>linear / persistence</th><th>forest / EWMA</th><th>linear / EWMA</th><th>forest coverage, active</th></tr></thead><tbody>\n");
    for t in scores {
        let anchor = match (
            Target::ALL.into_iter().find(|x| x.name() == t.target),
            HORIZONS.iter().position(|&h| h == t.horizon),
        ) {
            (Some(target), Some(h)) => View(target, h).id(),
            _ => esc(&t.target),
        };
        let _ = writeln!(
            s,
            "<tr><td><a href=\"#{anchor}\">{0}</a></td><td>{h}</td>{1}{2}{3}{4}<td>{5}</td></tr>",
            esc(&t.target),
            ratio_cell(t, "forest", "persistence"),
            ratio_cell(t, "linear", "persistence"),
            ratio_cell(t, "forest", "ewma"),
            ratio_cell(t, "linear", "ewma"),
            pct(t.model("forest").and_then(|m| m.coverage_active)),
            h = t.horizon,
        );
    }
    s.push_str("</tbody></table>\n<p class=\"note\">Below 1 beats the baseline. Small figures: 95 % bootstrap interval, whole processes resampled; \
        green when all of it is below 1, red when all of it is above, grey when the recording cannot tell model and baseline apart. \
        Active rows: CPU at or above 1 % now or over the horizon; idle processes are most rows and hide every difference.</p>\n");
    s.push_str("</div></div></section>\n");
    s
}

fn target_section(
    v: View,
    f: &Forecasts,
    s: &TargetScores,
    tm: &TargetModelRef<'_>,
    ds: &Dataset,
    active: &[bool],
) -> Result<String> {
    let id = v.id();
    let (div, unit) = v.error_unit();
    let mut out = format!(
        "<section id=\"{id}\" class=\"target\"><h2>{} <small>{} rows, {} active; model units {}</small></h2>\n",
        v.title(),
        s.rows,
        s.active_rows,
        esc(&s.unit)
    );

    // Errors.
    let _ = write!(
        out,
        "<h3 id=\"{id}-errors\">Errors</h3>\n<table class=\"errors\" id=\"{id}-error-table\"><thead><tr><th>model</th>\
         <th>MAE</th><th>RMSE</th><th>R²</th><th>MAE active</th><th>RMSE active</th><th>R² active</th>\
         <th>MAE act / persistence</th><th>MAE act / EWMA</th><th>coverage</th><th>coverage active</th></tr></thead><tbody>\n"
    );
    for m in &s.models {
        let e = |x: Option<f64>| num(x.map(|x| x / div), 3);
        let _ = writeln!(
            out,
            "<tr data-model=\"{name}\"><td>{sw}{name}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{}{}<td>{}</td><td>{}</td></tr>",
            e(m.all.map(|x| x.mae)),
            e(m.all.map(|x| x.rmse)),
            num(m.all.map(|x| x.r2), 3),
            e(m.active.map(|x| x.mae)),
            e(m.active.map(|x| x.rmse)),
            num(m.active.map(|x| x.r2), 3),
            ratio_cell(s, &m.model, "persistence"),
            ratio_cell(s, &m.model, "ewma"),
            pct(m.coverage_all),
            pct(m.coverage_active),
            name = esc(&m.model),
            sw = swatch(&m.model),
        );
    }
    let _ = writeln!(
        out,
        "</tbody></table><p class=\"note\">MAE and RMSE in {unit}, on predicted levels (clamped at 0 as the kernel does).</p>"
    );
    let bars = |pick: &dyn Fn(&crate::metrics::Scores) -> f64| -> Vec<Bar> {
        s.models
            .iter()
            .filter_map(|m| {
                Some(Bar {
                    label: m.model.clone(),
                    value: pick(m.active.as_ref().or(m.all.as_ref())?),
                    colour: charts::model_colour(&m.model),
                    light: false,
                })
            })
            .collect()
    };
    let (mae, rmse, r2) = (
        bars(&|x| x.mae / div),
        bars(&|x| x.rmse / div),
        bars(&|x| x.r2),
    );
    let fmt3 = |x: f64| charts::fmt_value(x);
    let r2fmt = |x: f64| format!("{x:.3}");
    let rows_name = if s.active_rows > 0 {
        "active rows"
    } else {
        "all rows"
    };
    let unit_short = if matches!(v.0, Target::Disk | Target::Net) {
        "log2 units"
    } else {
        unit
    };
    let mae_desc = format!("MAE, {unit_short}");
    let rmse_desc = format!("RMSE, {unit_short}");
    let svg = charts::bar_panels(
        &format!("{id}-errors-chart"),
        &format!("{}: errors on {rows_name}", v.title()),
        1200,
        100,
        &[
            Panel {
                caption: "MAE (lower is better)",
                x_desc: &mae_desc,
                bars: &mae,
                reference: None,
                value: &fmt3,
            },
            Panel {
                caption: "RMSE (lower is better)",
                x_desc: &rmse_desc,
                bars: &rmse,
                reference: None,
                value: &fmt3,
            },
            Panel {
                caption: "R² of levels (higher is better)",
                x_desc: "R²",
                bars: &r2,
                reference: None,
                value: &r2fmt,
            },
        ],
    )?;
    out.push_str(&figure(&svg, &format!("Errors of the models and the baselines on the {rows_name} of this capture, as in the table.")));

    // Predicted vs actual.
    let _ = write!(
        out,
        "<h3 id=\"{id}-scatter\">Predicted vs actual</h3>\n<div class=\"grid\">\n"
    );
    let tick = |c: f64| v.coord_tick(c);
    let (range, ticks) = v.coord_range(
        f.truth
            .iter()
            .chain(&f.forest)
            .chain(&f.linear)
            .map(|&l| v.coord(l)),
    );
    let axis = Axis {
        desc: v.coord_desc(),
        range,
        ticks,
        tick: &tick,
    };
    for (name, pred, colour) in [
        ("forest", &f.forest, charts::FOREST),
        ("linear", &f.linear, charts::LINEAR),
    ] {
        let pts: Vec<(f64, f64)> = f
            .truth
            .iter()
            .zip(pred.iter())
            .map(|(&t, &p)| (v.coord(t), v.coord(p)))
            .collect();
        let (svg, shown) = charts::scatter(
            &format!("{id}-scatter-{name}"),
            &format!("{}: {name} forecast vs actual", v.title()),
            &axis,
            &pts,
            colour,
        )?;
        out.push_str(&figure(
            &svg,
            &format!(
                "{} rows; {shown} distinct points drawn (rows on the same pixel drawn once). \
                 On the dashed diagonal the forecast is exact.",
                pts.len()
            ),
        ));
    }
    out.push_str("</div>\n");

    // Residuals and coverage.
    let _ = write!(
        out,
        "<h3 id=\"{id}-residuals\">Residuals and interval coverage</h3>\n<div class=\"grid\">\n"
    );
    let rows: Vec<usize> = if s.active_rows > 0 {
        (0..f.truth.len()).filter(|&i| active[i]).collect()
    } else {
        (0..f.truth.len()).collect()
    };
    let resid =
        |pred: &[f64]| -> Vec<f64> { rows.iter().map(|&i| (f.truth[i] - pred[i]) / div).collect() };
    let (rl, rf) = (resid(&f.linear), resid(&f.forest));
    let both: Vec<f64> = rl.iter().chain(&rf).copied().collect();
    let band = (
        tm.forest_interval.lo as f64 / div,
        tm.forest_interval.hi as f64 / div,
    );
    let lo = quantile(&both, 0.01).min(band.0);
    let hi = quantile(&both, 0.99).max(band.1);
    let pad = (hi - lo).abs().max(1e-6) * 0.05;
    let range = (lo - pad, hi + pad);
    let outside = both.iter().filter(|&&x| x < range.0 || x > range.1).count();
    let svg = charts::residual_histogram(
        &format!("{id}-residuals-chart"),
        &format!("{}: residuals (actual − forecast), {rows_name}", v.title()),
        &format!("residual, {unit_short}"),
        &rl,
        &rf,
        range,
        band,
    )?;
    out.push_str(&figure(
        &svg,
        &format!(
            "{} {rows_name} per model; {outside} of {} residuals lie outside the range shown. \
             Dashed: the forest's calibrated interval offsets [{}, {}] {unit_short}.",
            rows.len(),
            both.len(),
            charts::fmt_num(band.0),
            charts::fmt_num(band.1)
        ),
    ));
    let nominal = s
        .model("forest")
        .and_then(|m| m.interval)
        .map(|i| i.nominal)
        .unwrap_or(0.8);
    let mut cov = Vec::new();
    for m in ["linear", "forest"] {
        let Some(ms) = s.model(m) else { continue };
        for (rows_label, c, light) in [
            ("all", ms.coverage_all, true),
            ("active", ms.coverage_active, false),
        ] {
            cov.push(Bar {
                label: format!("{m}, {rows_label}"),
                value: c.map(|c| 100.0 * c).unwrap_or(f64::NAN),
                colour: charts::model_colour(m),
                light,
            });
        }
    }
    let pfmt = |x: f64| format!("{x:.1} %");
    let svg = charts::bar_panels(
        &format!("{id}-coverage-chart"),
        &format!("{}: interval coverage", v.title()),
        560,
        120,
        &[Panel {
            caption: "rows whose actual level lies in the interval",
            x_desc: "coverage, %",
            bars: &cov,
            reference: Some(100.0 * nominal),
            value: &pfmt,
        }],
    )?;
    out.push_str(&figure(
        &svg,
        &format!(
            "Share of rows inside each model's calibrated interval; dashed: the nominal {:.0} %. \
             The band is calibrated on active rows, so idle rows are covered more often.",
            100.0 * nominal
        ),
    ));
    out.push_str("</div>\n");

    // Busiest processes.
    let _ = write!(
        out,
        "<h3 id=\"{id}-series\">Busiest processes over time</h3>\n<p class=\"legend\">{}</p>\n",
        legend(&[
            ("actual (mean over the next intervals)", charts::ACTUAL, ""),
            ("linear", charts::LINEAR, ""),
            ("forest", charts::FOREST, ""),
            ("forest interval [lo, hi]", charts::FOREST, " band"),
        ])
    );
    let top = top_processes(v, f, ds);
    if top.is_empty() {
        out.push_str(
            "<p class=\"note\">No process has any activity on this target in this capture.</p>\n",
        );
    }
    let t_min = ds.meta.iter().map(|m| m.t_ms).min().unwrap_or(0);
    for (k, rows) in top.iter().enumerate() {
        let m = &ds.meta[rows[0]];
        let comm = &ds.comms[m.comm as usize];
        let segments = series_segments(v, f, ds, rows, t_min);
        let svg = charts::time_series(
            &format!("{id}-series-{}", k + 1),
            &format!("{}: pid {} {}", v.title(), m.pid, comm),
            v.series_desc(),
            &segments,
        )?;
        out.push_str(&figure(
            &svg,
            &format!(
                "pid {} <code>{}</code>: {} rows. At each time, the actual mean over the next {} intervals and the two forecasts made then.",
                m.pid,
                esc(comm),
                rows.len(),
                procperf_model::schema::HORIZON
            ),
        ));
    }
    out.push_str("</section>\n");
    Ok(out)
}

/// Row indices of the [`TOP_PROCESSES`] most active processes for the target, most active first.
fn top_processes(v: View, f: &Forecasts, ds: &Dataset) -> Vec<Vec<usize>> {
    let mut by_process: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, m) in ds.meta.iter().enumerate() {
        by_process.entry(m.process).or_default().push(i);
    }
    let mut ranked: Vec<(f64, Vec<usize>)> = by_process
        .into_values()
        .map(|rows| {
            let truth: Vec<f64> = rows.iter().map(|&i| f.truth[i]).collect();
            (v.activity(&truth), rows)
        })
        .filter(|(a, _)| *a > 0.0)
        .collect();
    // Stable: equal activity keeps process order.
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranked
        .into_iter()
        .take(TOP_PROCESSES)
        .map(|(_, r)| r)
        .collect()
}

/// A process's rows as display-unit series, one segment per run, thinned to [`MAX_SERIES_POINTS`].
fn series_segments(
    v: View,
    f: &Forecasts,
    ds: &Dataset,
    rows: &[usize],
    t_min: u64,
) -> Vec<Segment> {
    let step = rows.len().div_ceil(MAX_SERIES_POINTS).max(1);
    let mut out: Vec<Segment> = Vec::new();
    let mut last_run = None;
    for &i in rows.iter().step_by(step) {
        let run = ds.meta[i].run;
        if last_run != Some(run) {
            out.push(Segment::default());
            last_run = Some(run);
        }
        let s = out.last_mut().expect("pushed above");
        s.t_s.push((ds.meta[i].t_ms - t_min) as f64 / 1000.0);
        s.actual.push(v.display(f.truth[i]));
        s.linear.push(v.display(f.linear[i]));
        s.forest.push(v.display(f.forest[i]));
        s.lo.push(v.display(f.lo[i]));
        s.hi.push(v.display(f.hi[i]));
    }
    out
}

fn details_of(files: &ModelFiles, t: Target) -> Option<&TargetDetails> {
    files
        .metrics
        .as_ref()?
        .details
        .iter()
        .find(|d| d.target == t.name())
}

fn features_section(
    fc: &[Forecasts],
    blob: &ModelRef<'_>,
    files: &ModelFiles,
    ds: &Dataset,
) -> Result<String> {
    let mut out = String::from(
        "<section id=\"features\"><h2>Features</h2>\n<p class=\"note\">Forest importances are the \
         impurity-based importances of the float forest at fit time, as stored in <code>metrics.json</code> \
         (<code>top_features</code>: the ten largest only; the blob keeps no split statistics). Linear \
         coefficients are read from the blob and shown as standardised effects: weight × standard \
         deviation of the feature on the rows of this capture, i.e. the change of the forecast, in the \
         target's error unit, for a one-standard-deviation change of the feature. Features dropped as \
         collinear or constant have weight 0.</p>\n",
    );
    let sd = feature_sd(ds);
    for f in fc {
        let v = View(f.target, 0);
        let (div, unit) = v.error_unit();
        let id = v.id();
        let _ = write!(
            out,
            "<h3 id=\"{id}-features\">{}</h3>\n<div class=\"grid\">\n",
            v.title()
        );
        let imp: Vec<Bar> = details_of(files, f.target)
            .map(|d| {
                d.top_features
                    .iter()
                    .map(|(n, x)| Bar {
                        label: n.clone(),
                        value: *x,
                        colour: charts::FOREST,
                        light: false,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let ifmt = |x: f64| format!("{x:.3}");
        let svg = charts::bar_panels(
            &format!("{id}-importance-chart"),
            &format!("{}: forest feature importances", v.title()),
            600,
            190,
            &[Panel {
                caption: "share of impurity decrease (top 10)",
                x_desc: "importance",
                bars: &imp,
                reference: None,
                value: &ifmt,
            }],
        )?;
        let note = if imp.is_empty() {
            "No metrics.json beside the blob: importances unknown."
        } else {
            "From metrics.json (fit time, float forest)."
        };
        out.push_str(&figure(&svg, note));

        let tm = blob.target(0, f.target).context("target present")?;
        let scale = (tm.linear.frac_bits() as f64).exp2();
        let weights: Vec<f64> = tm.linear.weights().map(|w| w as f64 / scale).collect();
        let mut effects: Vec<(usize, f64)> = weights
            .iter()
            .zip(&sd)
            .map(|(w, s)| w * s / div)
            .enumerate()
            .filter(|(_, e)| *e != 0.0)
            .collect();
        effects.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        let bars: Vec<Bar> = effects
            .iter()
            .take(TOP_COEFFICIENTS)
            .map(|&(j, e)| Bar {
                label: FEATURE_NAMES[j].to_string(),
                value: e,
                colour: charts::LINEAR,
                light: e < 0.0,
            })
            .collect();
        let unit_short = if matches!(f.target, Target::Disk | Target::Net) {
            "log2 units"
        } else {
            unit
        };
        let desc = format!("effect of +1 SD, {unit_short}");
        let efmt = |x: f64| charts::fmt_value(x);
        let svg = charts::bar_panels(
            &format!("{id}-coefficients-chart"),
            &format!("{}: linear coefficients (standardised)", v.title()),
            600,
            190,
            &[Panel {
                caption: "largest standardised effects",
                x_desc: &desc,
                bars: &bars,
                reference: None,
                value: &efmt,
            }],
        )?;
        let note = if bars.is_empty() {
            "Every weight is 0: the linear model predicts a constant change (shrunk to persistence or all features dropped).".to_string()
        } else {
            format!(
                "{} of {} features have a non-zero weight; the largest {} are shown.",
                effects.len(),
                N_FEATURES,
                bars.len().min(TOP_COEFFICIENTS)
            )
        };
        out.push_str(&figure(&svg, &note));
        out.push_str("</div>\n");
        let _ = write!(
            out,
            "<details><summary>All {} linear weights of {} (intercept {} {})</summary>\n<table><thead><tr><th>feature</th>\
             <th>weight, target units per feature unit</th><th>SD of the feature here</th><th>standardised effect</th></tr></thead><tbody>\n",
            N_FEATURES,
            v.title(),
            charts::fmt_num(tm.linear.intercept_q16() as f64 / 65536.0),
            esc(f.target.unit())
        );
        for j in 0..N_FEATURES {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{:.6}</td><td>{}</td><td>{}</td></tr>",
                FEATURE_NAMES[j],
                weights[j],
                charts::fmt_num(sd[j]),
                charts::fmt_num(weights[j] * sd[j] / div)
            );
        }
        out.push_str("</tbody></table></details>\n");
    }
    out.push_str("</section>\n");
    Ok(out)
}

/// Standard deviation of every feature over the rows.
fn feature_sd(ds: &Dataset) -> Vec<f64> {
    let n = ds.len().max(1) as f64;
    let mut sum = vec![0.0; N_FEATURES];
    let mut sq = vec![0.0; N_FEATURES];
    for i in 0..ds.len() {
        for (j, &x) in ds.row(i).iter().enumerate() {
            sum[j] += x as f64;
            sq[j] += x as f64 * x as f64;
        }
    }
    sum.iter()
        .zip(&sq)
        .map(|(s, q)| (q / n - (s / n) * (s / n)).max(0.0).sqrt())
        .collect()
}

fn preprocessing_section(fc: &[Forecasts], files: &ModelFiles) -> String {
    let mut out = String::from("<section id=\"preprocessing\"><h2>Preprocessing and export</h2>\n");
    if files.metrics.is_none() {
        out.push_str("<p class=\"note\">No metrics.json beside the blob: the fit's preprocessing is unknown.</p>\n");
    }
    for f in fc {
        let v = View(f.target, 0);
        let Some(d) = details_of(files, f.target) else {
            continue;
        };
        let _ = write!(out, "<h3>{}</h3><ul class=\"pre\">", v.title());
        for line in &d.preprocessing {
            let _ = write!(out, "<li>{}</li>", esc(line));
        }
        let _ = write!(
            out,
            "<li>predicted changes multiplied by {:.2} (linear) and {:.2} (forest), factors fitted on calibration rows (0 keeps the base level alone)</li>",
            d.shrink_linear, d.shrink_forest
        );
        if let (Some(c), Some(e)) = (d.linear_mae_active_clipped, d.linear_mae_active_exported) {
            let _ = write!(
                out,
                "<li>linear model exported without input clipping: test MAE on active rows {e:.2} (with the training clip bounds {c:.2}) {}</li>",
                esc(f.target.unit())
            );
        }
        let _ = writeln!(
            out,
            "<li>R² of the learned change on the fit's test rows: linear {:.3}, forest {:.3}; fit {:.2} s (linear), {:.2} s (forest, {} nodes)</li></ul>",
            d.linear_r2_change, d.forest_r2_change, d.linear_fit_s, d.forest_fit_s, d.forest_nodes
        );
    }
    out.push_str(
        "<h3 id=\"quantisation\">Quantisation: fixed point (blob) vs float</h3>\n<table id=\"quantisation-table\"><thead><tr>\
         <th>target</th><th>linear max</th><th>linear mean</th><th>linear bound</th><th>forest max</th><th>forest mean</th>\
         <th>forest bound</th><th>unit</th></tr></thead><tbody>\n",
    );
    let mut any = false;
    for f in fc {
        let q = files
            .manifest
            .as_ref()
            .and_then(|m| m.quantisation.iter().find(|(t, _)| t == f.target.name()))
            .map(|(_, q)| *q);
        if let Some(q) = q {
            any = true;
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{}</td></tr>",
                f.target.name(),
                q.linear_max,
                q.linear_mean,
                q.linear_bound,
                q.forest_max,
                q.forest_mean,
                q.forest_bound,
                esc(f.target.unit())
            );
        } else if let Some(d) = details_of(files, f.target) {
            any = true;
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>–</td><td>{}</td><td>{}</td><td>–</td><td>{}</td></tr>",
                f.target.name(),
                num(d.quant_max_abs_err_linear, 3),
                num(d.quant_mean_abs_err_linear, 3),
                num(d.quant_max_abs_err_forest, 3),
                num(d.quant_mean_abs_err_forest, 3),
                esc(f.target.unit())
            );
        }
    }
    out.push_str("</tbody></table>\n");
    out.push_str(if any {
        "<p class=\"note\">Measured by <code>trainer fit</code> on its test rows when it exported the blob \
         (<code>model.json</code>): absolute difference between the blob's fixed-point forecast and the float \
         model's, in target units, and the model crate's bound the export is checked against. The float models \
         are not kept, so it cannot be re-measured on this capture.</p>\n"
    } else {
        "<p class=\"note\">No model.json or metrics.json beside the blob: quantisation error unknown.</p>\n"
    });
    out.push_str("</section>\n");
    out
}

fn notes_section(blob: &ModelRef<'_>) -> String {
    format!(
        "<section id=\"notes\"><h2>How to read this report</h2><ul class=\"pre\">\
         <li>Every supervised row of the capture is scored (a row needs {hist} samples of one process and {h} \
         more ahead), exactly as <code>trainer eval</code> does; forecasts are the blob's fixed-point \
         evaluation, the code the kernel runs.</li>\
         <li>A forecast is the mean over the next {h} intervals; it is learned as a change from the process's \
         recent level and scored as a level. CPU is in %CPU of one CPU (model units: permille), RSS in MiB (KiB), disk and \
         network in KiB/s (model units: 256·log2(1 + bytes/s), so their errors are in log2 units: 1 is a factor \
         of 2).</li>\
         <li>Baselines: persistence (no change), the training mean change, and an EWMA of the level with the \
         smoothing factor fitted at training time (<code>model.json</code>).</li>\
         <li><b>forest</b> is the published forecast, what the kernel shows: the forest's forecast blended, \
         per process, with persistence and the EWMA base by how well each has forecast that process so far \
         (<code>procperf_model::blend</code>); <b>forest_alone</b> is the forest's own forecast.</li>\
         <li>Intervals: split-conformal, nominal {cov:.0} %, calibrated on active rows at fit time.</li>\
         <li>Scatter plots draw each pixel once and at most {max} points; time series are thinned to at most \
         {maxs} points per process.</li></ul></section>\n",
        hist = procperf_model::history::HISTORY_LEN,
        h = procperf_model::schema::HORIZON,
        cov = blob.coverage_permille() as f64 / 10.0,
        max = charts::MAX_SCATTER_POINTS,
        maxs = MAX_SERIES_POINTS,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn display_units_go_through_the_model_crate() {
        assert_eq!(View(Target::Cpu, 0).display(255.0), 25.5);
        assert_eq!(View(Target::Rss, 0).display(1536.0), 1.5);
        // 2^20 B/s = 1024 KiB/s: three decades above 1 KiB/s; 1 MiB of RSS: decade 0.
        assert!((View(Target::Disk, 0).coord(20.0 * 256.0) - 1024f64.log10()).abs() < 1e-9);
        assert!((View(Target::Rss, 0).coord(1023.0)).abs() < 1e-9);
        assert_eq!(View(Target::Net, 0).coord_tick(3.0), "1000");
        assert_eq!(View(Target::Net, 0).coord_tick(-3.0), "0");
    }

    #[test]
    fn missing_model_dir_is_named() {
        let e = model_files(Path::new("/nonexistent/fit")).err().unwrap();
        assert!(e.to_string().contains("/nonexistent/fit"), "{e}");
    }
}
