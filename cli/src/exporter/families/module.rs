//! The families of `version`, `model_info`, `stats` and `accuracy`, and the exporter's own.

use super::{Families, Family, Kind};
use crate::exporter::read::Snapshot;
use crate::exporter::units::{self, horizon_label};

/// What the exporter itself reports.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Own {
    /// Seconds this scrape spent reading the files and building the families (0 from cache).
    pub scrape_seconds: f64,
    /// Series exported by this scrape, these four included.
    pub series: usize,
    /// Reads of the module's files that failed since the exporter started.
    pub read_errors: u64,
    /// Whether the module's files were read.
    pub up: bool,
}

/// Series [`own`] exports.
pub const OWN_SERIES: usize = 4;

/// The exporter's own families.
pub fn own(o: &Own) -> Families {
    let gauge = |name, help, unit, v: f64| {
        let mut f = Family::new(name, help, Kind::Gauge, unit);
        f.push(vec![], v);
        f
    };
    let mut errors = Family::new(
        "procperf_exporter_read_errors_total",
        "Reads of the procperf module's files that failed (module unloaded, malformed file).",
        Kind::Counter,
        None,
    );
    errors.push(vec![], o.read_errors as f64);
    Families(vec![
        gauge(
            "procperf_exporter_scrape_duration_seconds",
            "Time this scrape spent reading the module's files and building the metrics (0 when served from the cache of the current interval).",
            Some("seconds"),
            o.scrape_seconds,
        ),
        gauge(
            "procperf_exporter_series",
            "Series in this scrape, these included.",
            None,
            o.series as f64,
        ),
        errors,
        gauge(
            "procperf_up",
            "1 when the procperf module's files were read, 0 when not (module not loaded, unreadable or malformed file: see the exporter's log).",
            None,
            if o.up { 1.0 } else { 0.0 },
        ),
    ])
}

/// Series of [`module`] at most: two info metrics, 7 gauges, 4 counters.
pub const MODULE_SERIES: usize = 13;

/// `version`, `model_info` and `stats`.
pub(super) fn module(s: &Snapshot) -> Vec<Family> {
    let mut out = Vec::new();
    let mut info = Family::new(
        "procperf_module_info",
        "The procperf module loaded: its version and the kernel release.",
        Kind::Info,
        None,
    );
    info.push(
        vec![
            ("version", s.version.procperf.clone()),
            ("kernel", s.version.kernel.clone()),
        ],
        1.0,
    );
    out.push(info);
    let mut model = Family::new(
        "procperf_model_info",
        "The active model: source (default or uploaded), feature schema id, trees, maximum depth and the nominal coverage of its intervals (ratio).",
        Kind::Info,
        None,
    );
    if let Some(m) = &s.model {
        let v = |k: &str| m.get(k).unwrap_or("").to_owned();
        let coverage = m
            .get("interval_coverage_permille")
            .and_then(|p| p.parse::<u64>().ok())
            .map_or(String::new(), |p| (p as f64 / 1000.0).to_string());
        model.push(
            vec![
                ("source", v("source")),
                ("schema", v("schema_id")),
                ("trees", v("trees")),
                ("max_depth", v("max_depth")),
                ("coverage", coverage),
            ],
            1.0,
        );
    }
    out.push(model);

    let stat = |name: &str| s.stats.get(name);
    let gauge = |name, help, unit, v: Option<f64>| {
        let mut f = Family::new(name, help, Kind::Gauge, unit);
        if let Some(v) = v {
            f.push(vec![], v);
        }
        f
    };
    let counter = |name, help, unit, v: Option<f64>| {
        let mut f = Family::new(name, help, Kind::Counter, unit);
        if let Some(v) = v {
            f.push(vec![], v);
        }
        f
    };
    let ns = |name: &str| stat(name).map(units::ns_seconds);
    let count = |name: &str| stat(name).map(|v| v as f64);
    let pass_total = stat("pass_ns_total")
        .or_else(|| Some(stat("pass_ns_avg")?.saturating_mul(stat("passes")?)))
        .map(units::ns_seconds);
    out.extend([
        gauge(
            "procperf_interval_seconds",
            "The module's sampling interval.",
            Some("seconds"),
            Some(s.interval_ms as f64 / 1000.0),
        ),
        gauge(
            "procperf_processes_seen",
            "Processes the last sampling pass saw.",
            None,
            count("processes_seen"),
        ),
        gauge(
            "procperf_tracked_processes",
            "Processes the module tracks (at most its capacity).",
            None,
            count("processes_tracked"),
        ),
        gauge(
            "procperf_predicted_processes",
            "Processes with a forecast in the last pass.",
            None,
            count("predicted"),
        ),
        gauge(
            "procperf_memory_bytes",
            "Memory the module holds.",
            Some("bytes"),
            count("memory_bytes"),
        ),
        counter(
            "procperf_passes_total",
            "Sampling passes since the module was loaded.",
            None,
            count("passes"),
        ),
        counter(
            "procperf_pass_duration_seconds_total",
            "Time spent in sampling passes since the module was loaded.",
            Some("seconds"),
            pass_total,
        ),
        counter(
            "procperf_samples_dropped_total",
            "Rows of the samples stream that readers missed by falling behind.",
            None,
            count("rows_dropped"),
        ),
        counter(
            "procperf_untracked_total",
            "New processes that found the table full (counted each pass until one fits).",
            None,
            count("untracked"),
        ),
        gauge(
            "procperf_pass_last_duration_seconds",
            "Duration of the last sampling pass.",
            Some("seconds"),
            ns("pass_ns_last"),
        ),
        gauge(
            "procperf_pass_max_duration_seconds",
            "Longest sampling pass since the module was loaded.",
            Some("seconds"),
            ns("pass_ns_max"),
        ),
    ]);
    out
}

/// Series of [`accuracy`] per target and horizon: checks, covered, three forecasters' errors.
pub const ACCURACY_SERIES_PER_TARGET_HORIZON: usize = 5;

/// `accuracy`: the live scores, in the targets' model units.
pub(super) fn accuracy(s: &Snapshot) -> Vec<Family> {
    let mut checks = Family::new(
        "procperf_forecast_checks_total",
        "Published forecasts checked against the outcome (restarts with each model).",
        Kind::Counter,
        None,
    );
    let mut covered = Family::new(
        "procperf_forecast_covered_total",
        "Checked outcomes that fell inside the published forecast band (restarts with each model).",
        Kind::Counter,
        None,
    );
    let mut errors = Family::new(
        "procperf_forecast_absolute_error_total",
        "Summed absolute errors of the checked forecasts in the model units of the target (CPU permille, RSS KiB, I/O 256*log2(1+B/s)): the published forecast, persistence and the EWMA baseline (restarts with each model).",
        Kind::Counter,
        None,
    );
    for a in &s.accuracy {
        let labels = || {
            vec![
                ("target", a.target.clone()),
                ("horizon_seconds", horizon_label(a.horizon, s.interval_ms)),
            ]
        };
        checks.push(labels(), a.scored as f64);
        covered.push(labels(), a.covered as f64);
        for (forecaster, v) in [
            ("published", a.err_published),
            ("persistence", a.err_persistence),
            ("ewma", a.err_ewma),
        ] {
            let mut l = labels();
            l.push(("forecaster", forecaster.to_owned()));
            errors.push(l, v as f64);
        }
    }
    vec![checks, covered, errors]
}
