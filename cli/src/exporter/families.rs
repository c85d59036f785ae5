//! Metric families: the spec's names, built from one [`Snapshot`] and encoded with
//! `prometheus-client`.
//!
//! Every name, type, unit and label here is fixed by the fleet spec (`/srv/spec/metrics.md`): a
//! dashboard and alert rules are written against them, so none may change. Values are in base
//! units ([`super::units`]). A family without series (no `cgroups.csv` on an older module, no
//! `anomaly` column) is left out, not printed empty.
//!
//! Encoding is the crate's: [`Families`] is a `prometheus_client` collector, encoded by
//! `encoding::text` (OpenMetrics 1.0.0, `# UNIT` lines, `# EOF`) or `encoding::prometheus_text`
//! (text format 0.0.4: `# TYPE` with the sample name, counters with `_total`, info metrics as
//! gauges, no `# UNIT`, no `# EOF`), whichever the scraper accepts ([`super::serve::negotiate`]).
//!
//! The number of series is bounded: [`series_bound`] counts the most each part can export, and a
//! test builds a snapshot where every part is full and checks the count equals it.

use super::cgroups::CgroupPaths;
use super::read::{Group, Levels, Snapshot};
use super::units::{self, horizon_label};
use crate::pass::Row;
use procperf_model::schema::{Target, HORIZON, MAX_HORIZON};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{self, DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use std::collections::HashSet;
use std::sync::Arc;

/// A family's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Monotonic (`_total`).
    Counter,
    /// A level.
    Gauge,
    /// Labels that describe something, value 1 (`_info`).
    Info,
}

/// One sample: its labels and value.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Label names and values, in order.
    pub labels: Vec<(&'static str, String)>,
    /// The value, in the family's unit.
    pub value: f64,
}

/// A metric family as exposed.
#[derive(Clone, Debug, PartialEq)]
pub struct Family {
    /// The sample name as the spec gives it (`procperf_cgroup_cpu_seconds_total`).
    pub name: String,
    /// One line of help (no backslash, quote or newline: the OpenMetrics encoder prints it raw).
    pub help: &'static str,
    /// Counter, gauge or info.
    pub kind: Kind,
    /// The unit suffix of the name (`seconds`, `bytes`), printed as OpenMetrics `# UNIT`.
    pub unit: Option<&'static str>,
    /// The samples.
    pub series: Vec<Series>,
}

impl Family {
    fn new(
        name: impl Into<String>,
        help: &'static str,
        kind: Kind,
        unit: Option<&'static str>,
    ) -> Self {
        Self {
            name: name.into(),
            help,
            kind,
            unit,
            series: Vec::new(),
        }
    }

    fn push(&mut self, labels: Vec<(&'static str, String)>, value: f64) {
        self.series.push(Series { labels, value });
    }

    /// The name `prometheus-client` is given: the sample name less `_total` (counters) or
    /// `_info` (info), less `_<unit>`; the encoders add them back.
    fn base_name(&self) -> &str {
        let mut n = self.name.as_str();
        n = match self.kind {
            Kind::Counter => n.strip_suffix("_total").unwrap_or(n),
            Kind::Info => n.strip_suffix("_info").unwrap_or(n),
            Kind::Gauge => n,
        };
        if let Some(u) = self.unit {
            n = n
                .strip_suffix(u)
                .and_then(|n| n.strip_suffix('_'))
                .unwrap_or(n);
        }
        n
    }
}

/// A list of families: what one part of a scrape exports, and a collector that encodes it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Families(pub Vec<Family>);

impl Families {
    /// Series in all families.
    pub fn series(&self) -> usize {
        self.0.iter().map(|f| f.series.len()).sum()
    }

    /// The family named `name`, if it has series.
    pub fn get(&self, name: &str) -> Option<&Family> {
        self.0.iter().find(|f| f.name == name)
    }
}

impl Collector for Families {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        for f in self.0.iter().filter(|f| !f.series.is_empty()) {
            let unit = f.unit.map(|u| Unit::Other(u.to_owned()));
            let metric_type = match f.kind {
                Kind::Counter => MetricType::Counter,
                Kind::Gauge => MetricType::Gauge,
                Kind::Info => MetricType::Info,
            };
            let mut metric =
                encoder.encode_descriptor(f.base_name(), f.help, unit.as_ref(), metric_type)?;
            for s in &f.series {
                match f.kind {
                    Kind::Info => metric.encode_info(&s.labels)?,
                    Kind::Counter => {
                        ConstCounter::new(s.value).encode(metric.encode_family(&s.labels)?)?
                    }
                    Kind::Gauge => {
                        ConstGauge::new(s.value).encode(metric.encode_family(&s.labels)?)?
                    }
                }
            }
        }
        Ok(())
    }
}

/// An exposition format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// OpenMetrics text 1.0.0.
    OpenMetrics,
    /// Prometheus text 0.0.4 (what node_exporter's textfile collector reads).
    Prometheus,
}

impl Format {
    /// The HTTP `Content-Type` of the format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::Prometheus => encoding::prometheus_text::CONTENT_TYPE,
        }
    }
}

/// Encodes `parts`, in order, in `format`.
pub fn encode(parts: &[Arc<Families>], format: Format) -> Result<String, std::fmt::Error> {
    let mut registry = Registry::default();
    for p in parts {
        registry.register_collector(Box::new(Arc::clone(p)));
    }
    let mut out = String::new();
    match format {
        Format::OpenMetrics => encoding::text::encode(&mut out, &registry)?,
        Format::Prometheus => encoding::prometheus_text::encode(&mut out, &registry)?,
    }
    Ok(out)
}

/// Which keys of each table get series of their own (the top-N sets of [`super::top`]).
#[derive(Clone, Debug, Default)]
pub struct Selected<'a> {
    /// Processes by pid.
    pub processes: Option<&'a HashSet<i32>>,
    /// Cgroups by id.
    pub cgroups: Option<&'a HashSet<u64>>,
    /// Commands by name.
    pub comms: Option<&'a HashSet<String>>,
}

/// The label value of the cgroups not selected, summed: no path starts without `/` and no id
/// label without `id:`, so it cannot be a cgroup's.
pub const OTHER_CGROUPS: &str = "other";
/// The label value of the commands not selected, summed: 16 bytes, longer than any command name
/// (15 at most), so it cannot be a command's.
pub const OTHER_COMMS: &str = "(other commands)";

/// Every family of the module's files: module and model, live accuracy, cgroups, commands and
/// the selected processes.
pub fn build(s: &Snapshot, selected: &Selected<'_>, paths: &CgroupPaths) -> Families {
    let mut out = module(s);
    out.extend(accuracy(s));
    if let Some(rows) = &s.cgroups {
        out.extend(groups(
            &GroupKind {
                prefix: "cgroup",
                label: "cgroup",
                other: OTHER_CGROUPS,
            },
            rows,
            |id| selected.cgroups.is_none_or(|set| set.contains(id)),
            |id| paths.label(*id),
            Some(&|id: &u64| paths.memory_max(*id)),
            s.interval_ms,
        ));
    }
    if let Some(rows) = &s.comms {
        out.extend(groups(
            &GroupKind {
                prefix: "comm",
                label: "comm",
                other: OTHER_COMMS,
            },
            rows,
            |c| selected.comms.is_none_or(|set| set.contains(c)),
            |c| c.clone(),
            None,
            s.interval_ms,
        ));
    }
    out.extend(processes(
        &s.processes,
        |pid| selected.processes.is_none_or(|set| set.contains(&pid)),
        |id| paths.label(id),
        s.interval_ms,
    ));
    Families(out)
}

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

/// Series of [`module`] at most: two info metrics, 7 gauges, 5 counters.
pub const MODULE_SERIES: usize = 14;

/// `version`, `model_info` and `stats`.
fn module(s: &Snapshot) -> Vec<Family> {
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
            "procperf_evictions_total",
            "Tracked processes evicted to make room for others.",
            None,
            count("evictions"),
        ),
        counter(
            "procperf_untracked_total",
            "Processes that could not be tracked (table full).",
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
fn accuracy(s: &Snapshot) -> Vec<Family> {
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

/// How a group table is exposed: `procperf_<prefix>_...{<label>="..."}`.
struct GroupKind {
    prefix: &'static str,
    label: &'static str,
    other: &'static str,
}

/// A cgroup's `memory.max`, by key.
type MemoryMax<'a, K> = &'a dyn Fn(&K) -> Option<u64>;

/// The summed levels of the groups not selected, and per horizon their summed forecasts and RSS
/// upper ends, all in base units.
#[derive(Default)]
struct Others {
    processes: u64,
    now: [f64; 4],
    ahead: Vec<(u64, [f64; 4], f64)>,
}

/// Counter series per group: two labels values for each of five counters.
pub const GROUP_COUNTER_SERIES: usize = 10;
/// Gauge series per group apart from forecasts: processes and four levels.
pub const GROUP_LEVEL_SERIES: usize = 5;
/// Forecast series per group and horizon: four targets and the RSS upper ends.
pub const GROUP_FORECAST_SERIES_PER_HORIZON: usize = 5;

/// Families of a group table: for each selected group its counters, levels, forecasts (and, for
/// cgroups, `memory.max`); the others summed into one `other` group, which has no counters: a sum
/// over a changing set of groups goes down when one joins the selected, and a counter that goes
/// down reads as a reset to `rate()`.
fn groups<K>(
    kind: &GroupKind,
    rows: &[Group<K>],
    selected: impl Fn(&K) -> bool,
    label_of: impl Fn(&K) -> String,
    memory_max: Option<MemoryMax<'_, K>>,
    interval_ms: u64,
) -> Vec<Family> {
    let p = kind.prefix;
    let name = |stem: &str| format!("procperf_{p}_{stem}");
    let mut cpu = Family::new(
        name("cpu_seconds_total"),
        "CPU time of the group's processes by mode, exited ones included.",
        Kind::Counter,
        Some("seconds"),
    );
    let mut disk = Family::new(
        name("disk_bytes_total"),
        "Block I/O of the group's processes by direction.",
        Kind::Counter,
        Some("bytes"),
    );
    let mut net = Family::new(
        name("network_bytes_total"),
        "Socket bytes of the group's processes by direction.",
        Kind::Counter,
        Some("bytes"),
    );
    let mut cs = Family::new(
        name("context_switches_total"),
        "Context switches of the group's processes by kind.",
        Kind::Counter,
        None,
    );
    let mut faults = Family::new(
        name("page_faults_total"),
        "Page faults of the group's processes by kind.",
        Kind::Counter,
        None,
    );
    let mut procs = Family::new(
        name("processes"),
        "Processes of the group the module tracks.",
        Kind::Gauge,
        None,
    );
    let mut levels = [
        Family::new(
            name("cpu_usage_ratio"),
            "CPU use of the group over the last interval, in CPUs (1 = one CPU).",
            Kind::Gauge,
            Some("ratio"),
        ),
        Family::new(
            name("resident_memory_bytes"),
            "Resident memory of the group's processes.",
            Kind::Gauge,
            Some("bytes"),
        ),
        Family::new(
            name("disk_bytes_per_second"),
            "Block I/O rate of the group over the last interval, read and write.",
            Kind::Gauge,
            Some("bytes_per_second"),
        ),
        Family::new(
            name("network_bytes_per_second"),
            "Socket byte rate of the group over the last interval, receive and transmit.",
            Kind::Gauge,
            Some("bytes_per_second"),
        ),
    ];
    let mut ahead = [
        Family::new(
            name("cpu_usage_forecast_ratio"),
            "Summed forecasts of the group's CPU use, mean over the horizon, in CPUs.",
            Kind::Gauge,
            Some("ratio"),
        ),
        Family::new(
            name("resident_memory_forecast_bytes"),
            "Summed forecasts of the group's peak resident memory over the horizon.",
            Kind::Gauge,
            Some("bytes"),
        ),
        Family::new(
            name("disk_forecast_bytes_per_second"),
            "Summed forecasts of the group's block I/O rate, mean over the horizon.",
            Kind::Gauge,
            Some("bytes_per_second"),
        ),
        Family::new(
            name("network_forecast_bytes_per_second"),
            "Summed forecasts of the group's socket byte rate, mean over the horizon.",
            Kind::Gauge,
            Some("bytes_per_second"),
        ),
    ];
    let mut upper = Family::new(name("resident_memory_forecast_upper_bytes"), "Summed upper ends of the group's resident memory forecast bands (conservative, not an 80 % bound of the sum).", Kind::Gauge, Some("bytes"));
    let mut mem_max = Family::new(
        name("memory_max_bytes"),
        "The cgroup's memory.max (absent when it is max).",
        Kind::Gauge,
        Some("bytes"),
    );

    let level_values = |l: &Levels| {
        [
            units::cpu_ratio(l.cpu_permille),
            units::kib_bytes(l.rss_kib),
            l.disk_bytes_per_s as f64,
            l.net_bytes_per_s as f64,
        ]
    };
    // The groups not selected: processes, levels and per horizon forecasts and RSS upper ends.
    let mut other: Option<Others> = None;
    for g in rows {
        if !selected(&g.key) {
            let o = other.get_or_insert_with(Others::default);
            o.processes += g.processes;
            let by_h = &mut o.ahead;
            for (sum, v) in o.now.iter_mut().zip(level_values(&g.now)) {
                *sum += v;
            }
            for a in &g.ahead {
                let i = match by_h.iter().position(|(h, ..)| *h == a.horizon) {
                    Some(i) => i,
                    None => {
                        by_h.push((a.horizon, [0.0; 4], 0.0));
                        by_h.len() - 1
                    }
                };
                let (_, sums, hi) = &mut by_h[i];
                for (sum, v) in sums.iter_mut().zip(level_values(&a.levels)) {
                    *sum += v;
                }
                *hi += units::kib_bytes(a.rss_kib_hi);
            }
            continue;
        }
        let key = label_of(&g.key);
        let l = |extra: Option<(&'static str, &'static str)>| {
            let mut v = vec![(kind.label, key.clone())];
            v.extend(extra.map(|(k, x)| (k, x.to_owned())));
            v
        };
        let c = &g.counters;
        cpu.push(l(Some(("mode", "user"))), units::ns_seconds(c.cpu_user_ns));
        cpu.push(l(Some(("mode", "system"))), units::ns_seconds(c.cpu_sys_ns));
        disk.push(l(Some(("direction", "read"))), c.disk_read_bytes as f64);
        disk.push(l(Some(("direction", "write"))), c.disk_write_bytes as f64);
        net.push(l(Some(("direction", "receive"))), c.net_rx_bytes as f64);
        net.push(l(Some(("direction", "transmit"))), c.net_tx_bytes as f64);
        cs.push(l(Some(("kind", "voluntary"))), c.nvcsw as f64);
        cs.push(l(Some(("kind", "involuntary"))), c.nivcsw as f64);
        faults.push(l(Some(("kind", "minor"))), c.minflt as f64);
        faults.push(l(Some(("kind", "major"))), c.majflt as f64);
        procs.push(l(None), g.processes as f64);
        for (f, v) in levels.iter_mut().zip(level_values(&g.now)) {
            f.push(l(None), v);
        }
        for a in &g.ahead {
            let h = horizon_label(a.horizon, interval_ms);
            let lh = || {
                let mut v = l(None);
                v.push(("horizon_seconds", h.clone()));
                v
            };
            for (f, v) in ahead.iter_mut().zip(level_values(&a.levels)) {
                f.push(lh(), v);
            }
            upper.push(lh(), units::kib_bytes(a.rss_kib_hi));
        }
        if let Some(max) = memory_max.and_then(|m| m(&g.key)) {
            mem_max.push(l(None), max as f64);
        }
    }
    if let Some(o) = other {
        let l = || vec![(kind.label, kind.other.to_owned())];
        procs.push(l(), o.processes as f64);
        for (f, v) in levels.iter_mut().zip(o.now) {
            f.push(l(), v);
        }
        for (h, sums, hi) in o.ahead {
            let lh = || {
                let mut v = l();
                v.push(("horizon_seconds", horizon_label(h, interval_ms)));
                v
            };
            for (f, v) in ahead.iter_mut().zip(sums) {
                f.push(lh(), v);
            }
            upper.push(lh(), hi);
        }
    }
    let mut out = vec![cpu, disk, net, cs, faults, procs];
    out.extend(levels);
    out.extend(ahead);
    out.push(upper);
    if memory_max.is_some() {
        out.push(mem_max);
    }
    out
}

/// Per target, the stems of the process families: current, forecast, bound; and their unit.
const PROCESS_TARGETS: [(Target, &str, &str); 4] = [
    (Target::Cpu, "cpu_usage", "ratio"),
    (Target::Rss, "resident_memory", "bytes"),
    (Target::Disk, "disk", "bytes_per_second"),
    (Target::Net, "network", "bytes_per_second"),
];

/// Series per process: current, per horizon the forecast and two bounds, for each target; and
/// the anomaly count.
pub fn process_series(horizons: usize) -> usize {
    PROCESS_TARGETS.len() * (1 + 3 * horizons) + 1
}

/// Families of the selected processes: now, forecasts and their bands at both horizons.
fn processes(
    rows: &[Row],
    selected: impl Fn(i32) -> bool,
    cgroup_label: impl Fn(u64) -> String,
    interval_ms: u64,
) -> Vec<Family> {
    let mut now = Vec::new();
    let mut forecast = Vec::new();
    let mut bound = Vec::new();
    for (_, stem, unit) in PROCESS_TARGETS {
        now.push(Family::new(
            format!("procperf_process_{stem}_{unit}"),
            match stem {
                "cpu_usage" => {
                    "The process's CPU use over the last interval, in CPUs (1 = one CPU)."
                }
                "resident_memory" => "The process's resident memory.",
                "disk" => "The process's own block I/O rate over the last interval.",
                _ => "The process's socket byte rate over the last interval.",
            },
            Kind::Gauge,
            Some(unit),
        ));
        forecast.push(Family::new(
            format!("procperf_process_{stem}_forecast_{unit}"),
            match stem {
                "cpu_usage" => "The published forecast of the process's CPU use, mean over the horizon (0 after it exits), in CPUs.",
                "resident_memory" => "The published forecast of the process's peak resident memory over the horizon.",
                "disk" => "The published forecast of the process's block I/O rate, mean over the horizon.",
                _ => "The published forecast of the process's socket byte rate, mean over the horizon.",
            },
            Kind::Gauge,
            Some(unit),
        ));
        bound.push(Family::new(
            format!("procperf_process_{stem}_forecast_bound_{unit}"),
            "An end of the forecast's band (nominally 80 % of outcomes inside), lower or upper.",
            Kind::Gauge,
            Some(unit),
        ));
    }
    let mut anomaly = Family::new(
        "procperf_process_anomaly",
        "Consecutive passes whose outcome left the process's forecast band.",
        Kind::Gauge,
        None,
    );
    let h_short = horizon_label(HORIZON as u64, interval_ms);
    let h_long = horizon_label(MAX_HORIZON as u64, interval_ms);
    for r in rows.iter().filter(|r| selected(r.pid)) {
        let labels = vec![
            ("pid", r.pid.to_string()),
            ("comm", r.comm.clone()),
            ("cgroup", cgroup_label(r.cgroup)),
        ];
        let with = |extra: &[(&'static str, &str)]| {
            let mut l = labels.clone();
            l.extend(extra.iter().map(|&(k, v)| (k, v.to_owned())));
            l
        };
        for (i, (t, ..)) in PROCESS_TARGETS.iter().enumerate() {
            let Some(f) = r.get(*t) else { continue };
            let b = |level| units::base(*t, level);
            now[i].push(labels.clone(), b(f.current));
            let bands = [(&h_short, Some((f.forest, f.lo, f.hi)))]
                .into_iter()
                .chain([(&h_long, f.long.map(|l| (l.forest, l.lo, l.hi)))]);
            for (h, band) in bands {
                let Some((forest, lo, hi)) = band else {
                    continue;
                };
                forecast[i].push(with(&[("horizon_seconds", h)]), b(forest));
                bound[i].push(with(&[("horizon_seconds", h), ("bound", "lower")]), b(lo));
                bound[i].push(with(&[("horizon_seconds", h), ("bound", "upper")]), b(hi));
            }
        }
        if let Some(a) = r.anomaly {
            anomaly.push(labels.clone(), a as f64);
        }
    }
    let mut out = now;
    out.extend(forecast);
    out.extend(bound);
    out.push(anomaly);
    out
}

/// The most series one scrape exports with `top` processes (so at most `2·top` members, see
/// [`super::top`]), `max_groups` cgroups and commands (at most `2·max_groups` each, plus their
/// `other` group) and `horizons` forecast horizons:
///
/// ```text
///   own 4 + module 14 + accuracy 4 targets × horizons × 5
/// + 2·top × (4 × (1 + 3·horizons) + 1)                      per process
/// + (2·max_groups) × (10 + 5 + 5·horizons + 1) + (5 + 5·horizons)   cgroups and their other
/// + (2·max_groups) × (10 + 5 + 5·horizons)     + (5 + 5·horizons)   commands and their other
/// ```
///
/// With the defaults (top 20, 30 groups, 2 horizons): 4 + 14 + 40 + 1160 + 1575 + 1515 = 4308.
pub fn series_bound(top: usize, max_groups: usize, horizons: usize) -> usize {
    let group =
        GROUP_COUNTER_SERIES + GROUP_LEVEL_SERIES + GROUP_FORECAST_SERIES_PER_HORIZON * horizons;
    let other = GROUP_LEVEL_SERIES + GROUP_FORECAST_SERIES_PER_HORIZON * horizons;
    OWN_SERIES
        + MODULE_SERIES
        + 4 * horizons * ACCURACY_SERIES_PER_TARGET_HORIZON
        + 2 * top * process_series(horizons)
        + 2 * max_groups * (group + 1)
        + other
        + 2 * max_groups * group
        + other
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::exporter::read::{Accuracy, Ahead, Counters, ModelInfo, Stats, Version};
    use crate::pass::{Band, Forecast};
    use procperf_model::schema::N_TARGETS;

    fn row(pid: i32, cgroup: u64, level: i64) -> Row {
        let f = Forecast {
            current: level,
            linear: level,
            forest: level,
            lo: level / 2,
            hi: level * 2,
            long: Some(Band {
                forest: level,
                lo: level / 2,
                hi: level * 3,
            }),
        };
        Row {
            pid,
            comm: format!("p{pid}"),
            cgroup,
            anomaly: Some(0),
            targets: [Some(f); N_TARGETS],
        }
    }

    fn group<K>(key: K, level: u64) -> Group<K> {
        let l = Levels {
            cpu_permille: level,
            rss_kib: level,
            disk_bytes_per_s: level,
            net_bytes_per_s: level,
        };
        Group {
            key,
            t_ms: 1000,
            processes: 2,
            counters: Counters {
                cpu_user_ns: 2_500_000_000,
                cpu_sys_ns: 500_000_000,
                ..Default::default()
            },
            now: l,
            ahead: vec![
                Ahead {
                    horizon: 5,
                    levels: l,
                    rss_kib_hi: level * 2,
                },
                Ahead {
                    horizon: 60,
                    levels: l,
                    rss_kib_hi: level * 3,
                },
            ],
        }
    }

    /// A cgroup tree in `root` with `g` cgroups, each with a `memory.max` of i+1 MiB; their ids.
    pub(crate) fn cgroup_tree(root: &std::path::Path, g: usize) -> Vec<u64> {
        use std::os::unix::fs::MetadataExt;
        (0..g)
            .map(|i| {
                let d = root.join(format!("g{i}"));
                std::fs::create_dir(&d).unwrap();
                std::fs::write(d.join("memory.max"), format!("{}\n", (i + 1) << 20)).unwrap();
                std::fs::metadata(&d).unwrap().ino()
            })
            .collect()
    }

    /// A snapshot where every part is full: `n` processes, `g` cgroups (ids 1..=g) and commands.
    pub(crate) fn full_snapshot(n: usize, g: usize) -> Snapshot {
        let stats = [
            "processes_seen",
            "processes_tracked",
            "predicted",
            "memory_bytes",
            "passes",
            "pass_ns_total",
            "rows_dropped",
            "evictions",
            "untracked",
            "pass_ns_last",
            "pass_ns_max",
        ];
        Snapshot {
            version: Version {
                procperf: "0.1.0".into(),
                kernel: "6.12.0".into(),
            },
            stats: Stats(stats.iter().map(|s| (s.to_string(), 7)).collect()),
            interval_ms: 1000,
            model: Some(ModelInfo(
                [("source", "default"), ("interval_coverage_permille", "800")]
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )),
            accuracy: ["cpu", "rss", "disk", "net"]
                .iter()
                .flat_map(|t| {
                    [5, 60].map(|horizon| Accuracy {
                        target: t.to_string(),
                        horizon,
                        scored: 3,
                        ..Default::default()
                    })
                })
                .collect(),
            processes: (0..n)
                .map(|i| row(i as i32 + 1, i as u64 % 7, 100 + i as i64))
                .collect(),
            cgroups: Some((0..g).map(|i| group(i as u64 + 1, 10 + i as u64)).collect()),
            comms: Some(
                (0..g)
                    .map(|i| group(format!("c{i}"), 10 + i as u64))
                    .collect(),
            ),
        }
    }

    fn no_cgroups() -> CgroupPaths {
        CgroupPaths::new(Some(std::path::PathBuf::from("/nonexistent/procperf-test")))
    }

    #[test]
    fn a_full_scrape_has_exactly_the_bound_of_series() {
        let (top, groups) = (3, 4);
        let tmp = tempfile::tempdir().unwrap();
        let tree = cgroup_tree(tmp.path(), 2 * groups + 5);
        let mut s = full_snapshot(2 * top + 5, 2 * groups + 5);
        for (g, id) in s.cgroups.as_mut().unwrap().iter_mut().zip(&tree) {
            g.key = *id;
        }
        let pids: HashSet<i32> = (1..=2 * top as i32).collect();
        let ids: HashSet<u64> = tree[..2 * groups].iter().copied().collect();
        let comms: HashSet<String> = (0..2 * groups).map(|i| format!("c{i}")).collect();
        let sel = Selected {
            processes: Some(&pids),
            cgroups: Some(&ids),
            comms: Some(&comms),
        };
        let mut paths = CgroupPaths::new(Some(tmp.path().to_owned()));
        paths.refresh(tree.iter().copied(), std::time::Instant::now());
        let f = build(&s, &sel, &paths);
        assert_eq!(
            f.get("procperf_cgroup_memory_max_bytes")
                .unwrap()
                .series
                .len(),
            2 * groups
        );
        assert_eq!(f.series() + OWN_SERIES, series_bound(top, groups, 2));
        assert_eq!(series_bound(20, 30, 2), 4308);
        assert!(series_bound(20, 30, 2) < 5000);
    }

    #[test]
    fn values_are_in_base_units() {
        let s = full_snapshot(1, 1);
        let f = build(&s, &Selected::default(), &no_cgroups());
        let value = |name: &str, labels: &[(&str, &str)]| {
            let fam = f.get(name).unwrap_or_else(|| panic!("no {name}"));
            fam.series
                .iter()
                .find(|s| {
                    labels
                        .iter()
                        .all(|(k, v)| s.labels.iter().any(|(lk, lv)| lk == k && lv == v))
                })
                .unwrap_or_else(|| panic!("{name} {labels:?}"))
                .value
        };
        assert_eq!(
            value("procperf_cgroup_cpu_seconds_total", &[("mode", "user")]),
            2.5
        );
        assert_eq!(
            value("procperf_cgroup_cpu_usage_ratio", &[("cgroup", "id:1")]),
            0.01
        );
        assert_eq!(
            value("procperf_comm_resident_memory_bytes", &[("comm", "c0")]),
            10240.0
        );
        assert_eq!(
            value(
                "procperf_cgroup_resident_memory_forecast_upper_bytes",
                &[("horizon_seconds", "60")]
            ),
            30.0 * 1024.0
        );
        assert_eq!(
            value("procperf_process_cpu_usage_ratio", &[("pid", "1")]),
            0.1
        );
        assert_eq!(
            value(
                "procperf_process_resident_memory_forecast_bound_bytes",
                &[("horizon_seconds", "60"), ("bound", "upper")]
            ),
            300.0 * 1024.0
        );
        assert_eq!(value("procperf_interval_seconds", &[]), 1.0);
        assert_eq!(value("procperf_pass_duration_seconds_total", &[]), 7e-9);
        assert_eq!(value("procperf_model_info", &[("coverage", "0.8")]), 1.0);
    }

    #[test]
    fn unselected_groups_are_summed_into_other_without_counters() {
        let s = full_snapshot(0, 3);
        let ids: HashSet<u64> = [1].into();
        let comms: HashSet<String> = HashSet::new();
        let sel = Selected {
            cgroups: Some(&ids),
            comms: Some(&comms),
            ..Default::default()
        };
        let f = build(&s, &sel, &no_cgroups());
        let procs = f.get("procperf_cgroup_processes").unwrap();
        let other = procs
            .series
            .iter()
            .find(|s| s.labels[0].1 == OTHER_CGROUPS)
            .unwrap();
        assert_eq!(other.value, 4.0, "two groups of two processes");
        assert_eq!(procs.series.len(), 2);
        let cpu = f.get("procperf_cgroup_cpu_seconds_total").unwrap();
        assert!(cpu.series.iter().all(|s| s.labels[0].1 != OTHER_CGROUPS));
        let ratio = f.get("procperf_comm_cpu_usage_ratio").unwrap();
        assert_eq!(ratio.series.len(), 1);
        assert_eq!(ratio.series[0].labels[0].1, OTHER_COMMS);
        assert!((ratio.series[0].value - (0.010 + 0.011 + 0.012)).abs() < 1e-12);
    }

    #[test]
    fn families_without_series_are_absent() {
        let mut s = full_snapshot(0, 0);
        s.cgroups = None;
        s.comms = None;
        s.model = None;
        let f = Arc::new(build(&s, &Selected::default(), &no_cgroups()));
        let text = encode(&[f], Format::OpenMetrics).unwrap();
        assert!(!text.contains("procperf_cgroup_"), "{text}");
        assert!(!text.contains("procperf_model_info"), "{text}");
        assert!(!text.contains("procperf_process_"), "{text}");
        assert!(
            text.contains("procperf_module_info{version=\"0.1.0\",kernel=\"6.12.0\"} 1"),
            "{text}"
        );
    }

    #[test]
    fn names_help_and_units_are_well_formed() {
        let s = full_snapshot(1, 1);
        let mut f = build(&s, &Selected::default(), &no_cgroups());
        f.0.extend(own(&Own::default()).0);
        for fam in &f.0 {
            let n = &fam.name;
            assert!(n.starts_with("procperf_"), "{n}");
            assert!(
                n.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{n}"
            );
            assert_eq!(fam.kind == Kind::Counter, n.ends_with("_total"), "{n}");
            assert_eq!(fam.kind == Kind::Info, n.ends_with("_info"), "{n}");
            if let Some(u) = fam.unit {
                let bare = n.strip_suffix("_total").unwrap_or(n);
                assert!(
                    bare.ends_with(&format!("_{u}")),
                    "{n} does not end with its unit {u}"
                );
            }
            assert!(
                !fam.help.contains(['\\', '"', '\n']),
                "{n}: help needs escaping"
            );
            let needs_cgroup_dirs = n == "procperf_cgroup_memory_max_bytes";
            assert!(
                needs_cgroup_dirs || !fam.series.is_empty(),
                "{n} has no series in a full snapshot"
            );
        }
    }

    #[test]
    fn both_formats_encode_the_same_samples() {
        let s = full_snapshot(1, 1);
        let f = Arc::new(build(&s, &Selected::default(), &no_cgroups()));
        let om = encode(&[Arc::clone(&f)], Format::OpenMetrics).unwrap();
        let text = encode(&[f], Format::Prometheus).unwrap();
        assert!(om.ends_with("# EOF\n"));
        assert!(om.contains("# TYPE procperf_cgroup_cpu_seconds counter\n# UNIT procperf_cgroup_cpu_seconds seconds\n"), "{om}");
        assert!(om.contains("# TYPE procperf_module info\n"), "{om}");
        assert!(
            !text.contains("# EOF") && !text.contains("# UNIT"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE procperf_cgroup_cpu_seconds_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE procperf_module_info gauge\n"),
            "{text}"
        );
        assert!(
            text.contains("# HELP procperf_interval_seconds The module's sampling interval.\n"),
            "{text}"
        );
        // The samples are the same lines in both.
        let samples = |t: &str| {
            let mut v: Vec<String> = t
                .lines()
                .filter(|l| !l.starts_with('#'))
                .map(str::to_owned)
                .collect();
            v.sort();
            v
        };
        assert_eq!(samples(&om), samples(&text));
        assert!(samples(&text).contains(
            &"procperf_cgroup_cpu_seconds_total{cgroup=\"id:1\",mode=\"user\"} 2.5".to_owned()
        ));
    }

    #[test]
    fn label_values_are_escaped() {
        let mut s = full_snapshot(1, 0);
        s.processes[0].comm = "a\"b\\c".into();
        let f = Arc::new(build(&s, &Selected::default(), &no_cgroups()));
        let text = encode(&[f], Format::Prometheus).unwrap();
        assert!(text.contains("comm=\"a\\\"b\\\\c\""), "{text}");
    }
}
