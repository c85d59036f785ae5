//! Metric families, built from one [`Snapshot`] and encoded with `prometheus-client`.
//!
//! Every name, type, unit and label here is documented in cli/README.md and listed in
//! monitoring/metrics.txt: the dashboard and alert rules of monitoring/ are written against them,
//! and the tests check the exporter serves exactly those names. Values are in base
//! units ([`super::units`]). A family without series (no `cgroups.csv` on an older module, no
//! `anomaly` or `anomalous` column) is left out, not printed empty.
//!
//! `monitoring/metrics.txt` lists every family the dashboard and the alert rules may use; a test
//! checks that a full scrape serves exactly those names, so neither side can drift.
//!
//! Encoding is the crate's: [`Families`] is a `prometheus_client` collector, encoded by
//! `encoding::text` (OpenMetrics 1.0.0, `# UNIT` lines, `# EOF`) or `encoding::prometheus_text`
//! (text format 0.0.4: `# TYPE` with the sample name, counters with `_total`, info metrics as
//! gauges, no `# UNIT`, no `# EOF`), whichever the scraper accepts ([`super::serve::negotiate`]).
//!
//! The number of series is bounded: [`series_bound`] counts the most each part can export, and a
//! test builds a snapshot where every part is full and checks the count equals it.
//!
//! One file per source: [`module`] (`version`, `model_info`, `stats`, `accuracy` and the
//! exporter's own), [`groups`] (`cgroups.csv`, `comms.csv`), [`processes`] (`predictions.csv`).

mod groups;
mod module;
mod processes;

pub use module::{own, Own, OWN_SERIES};

use super::cgroups::CgroupPaths;
use super::read::Snapshot;
use groups::{
    GroupKind, GROUP_COUNTER_SERIES, GROUP_FORECAST_SERIES_PER_HORIZON, GROUP_LEVEL_SERIES,
};
use module::{ACCURACY_SERIES_PER_TARGET_HORIZON, MODULE_SERIES};
use processes::process_series;
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
    /// The sample name as cli/README.md gives it (`procperf_cgroup_cpu_seconds_total`).
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
    pub(super) fn new(
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

    pub(super) fn push(&mut self, labels: Vec<(&'static str, String)>, value: f64) {
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
    let mut out = module::module(s);
    out.extend(module::accuracy(s));
    if let Some(rows) = &s.cgroups {
        out.extend(groups::groups(
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
        out.extend(groups::groups(
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
    out.extend(processes::processes(
        &s.processes,
        |pid| selected.processes.is_none_or(|set| set.contains(&pid)),
        |id| paths.label(id),
        s.interval_ms,
    ));
    Families(out)
}

/// The most series one scrape exports with `top` processes (so at most `2·top` members, see
/// [`super::top`]), `max_groups` cgroups and commands (at most `2·max_groups` each, plus their
/// `other` group) and `horizons` forecast horizons:
///
/// ```text
///   own 4 + module 13 + accuracy 4 targets × horizons × 5
/// + 2·top × 4 × (1 + 3·horizons + 1)                        per process (now, forecasts, anomaly)
/// + (2·max_groups) × (10 + 6 + 5·horizons + 1) + (6 + 5·horizons)   cgroups and their other
/// + (2·max_groups) × (10 + 6 + 5·horizons)     + (6 + 5·horizons)   commands and their other
/// ```
///
/// With the defaults (top 20, 30 groups, 2 horizons): 4 + 13 + 40 + 1280 + 1636 + 1576 = 4549.
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
    use crate::exporter::read::{
        Accuracy, Ahead, Counters, Group, Levels, ModelInfo, Stats, Version,
    };
    use crate::pass::Row;
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
            anomaly: Some(pid as u64 % 16),
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
            anomalous: Some(1),
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
        assert_eq!(series_bound(20, 30, 2), 4549);
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
        // pid 1's anomaly mask is 1: CPU flagged, the rest not.
        assert_eq!(
            value(
                "procperf_process_anomaly",
                &[("pid", "1"), ("target", "cpu")]
            ),
            1.0
        );
        assert_eq!(
            value(
                "procperf_process_anomaly",
                &[("pid", "1"), ("target", "rss")]
            ),
            0.0
        );
        assert_eq!(
            value("procperf_comm_anomalous_processes", &[("comm", "c0")]),
            1.0
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
        let anomalous = f.get("procperf_cgroup_anomalous_processes").unwrap();
        assert_eq!(anomalous.series.len(), 2);
        assert_eq!(anomalous.series[1].labels[0].1, OTHER_CGROUPS);
        assert_eq!(anomalous.series[1].value, 2.0, "two groups of one each");
        let comm_anomalous = f.get("procperf_comm_anomalous_processes").unwrap();
        assert_eq!(comm_anomalous.series.len(), 1);
        assert_eq!(comm_anomalous.series[0].value, 3.0);
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
    fn anomaly_is_one_series_per_target_from_the_bit_mask() {
        let mut s = full_snapshot(16, 0);
        for r in &mut s.processes {
            r.anomaly = Some(r.pid as u64 - 1); // every mask 0..=15
        }
        s.processes[0].anomaly = Some(0xf0); // bits of no target are ignored
        let f = build(&s, &Selected::default(), &no_cgroups());
        let fam = f.get("procperf_process_anomaly").unwrap();
        assert_eq!(fam.series.len(), 16 * 4);
        for series in &fam.series {
            let label = |k: &str| {
                let (_, v) = series.labels.iter().find(|(lk, _)| *lk == k).unwrap();
                v.as_str()
            };
            let names: Vec<&str> = series.labels.iter().map(|(k, _)| *k).collect();
            assert_eq!(names, ["pid", "comm", "cgroup", "target"]);
            let mask = label("pid").parse::<u64>().unwrap() - 1;
            let bit = ["cpu", "rss", "disk", "net"]
                .iter()
                .position(|t| *t == label("target"))
                .unwrap();
            assert_eq!(series.value, ((mask >> bit) & 1) as f64, "{series:?}");
        }
        // No anomaly column (an older module): no anomaly family; likewise no anomalous column.
        for r in &mut s.processes {
            r.anomaly = None;
        }
        let mut s = Snapshot {
            cgroups: full_snapshot(0, 2).cgroups,
            ..s
        };
        for g in s.cgroups.as_mut().unwrap() {
            g.anomalous = None;
        }
        let f = build(&s, &Selected::default(), &no_cgroups());
        assert!(f.get("procperf_process_anomaly").unwrap().series.is_empty());
        assert!(f
            .get("procperf_cgroup_anomalous_processes")
            .unwrap()
            .series
            .is_empty());
        let text = encode(&[Arc::new(f)], Format::Prometheus).unwrap();
        assert!(!text.contains("anomal"), "{text}");
    }

    /// `monitoring/metrics.txt`: the names the dashboard and the alert rules may use.
    const METRICS_TXT: &str = include_str!("../../../../monitoring/metrics.txt");
    /// Families served beyond `monitoring/metrics.txt` (documented in cli/README.md): none.
    const EXTRA_NAMES: [&str; 0] = [];

    #[test]
    fn a_full_scrape_serves_exactly_the_names_of_monitoring_metrics_txt() {
        // Every family with series, memory.max included (a cgroup directory with the file).
        let tmp = tempfile::tempdir().unwrap();
        let tree = cgroup_tree(tmp.path(), 1);
        let mut s = full_snapshot(1, 1);
        s.cgroups.as_mut().unwrap()[0].key = tree[0];
        let mut paths = CgroupPaths::new(Some(tmp.path().to_owned()));
        paths.refresh(tree.iter().copied(), std::time::Instant::now());
        let module = build(&s, &Selected::default(), &paths);
        let parts = [Arc::new(module), Arc::new(own(&Own::default()))];
        // The sample names as encoded (what Prometheus stores), in both formats.
        for format in [Format::Prometheus, Format::OpenMetrics] {
            let text = encode(&parts, format).unwrap();
            let served: std::collections::BTreeSet<&str> = text
                .lines()
                .filter(|l| !l.starts_with('#') && !l.is_empty())
                .map(|l| l.split(['{', ' ']).next().unwrap())
                .collect();
            let listed: std::collections::BTreeSet<&str> = METRICS_TXT
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .chain(EXTRA_NAMES)
                .collect();
            let unlisted: Vec<_> = served.difference(&listed).collect();
            let unserved: Vec<_> = listed.difference(&served).collect();
            assert!(
                unlisted.is_empty() && unserved.is_empty(),
                "{format:?}: served but not in monitoring/metrics.txt: {unlisted:?}; listed but not served: {unserved:?}"
            );
        }
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
