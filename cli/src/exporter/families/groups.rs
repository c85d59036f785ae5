//! The families of `cgroups.csv` and `comms.csv`: per group, and the groups not selected summed.

use super::{Family, Kind};
use crate::exporter::read::{Group, Levels};
use crate::exporter::units::{self, horizon_label};

/// How a group table is exposed: `procperf_<prefix>_...{<label>="..."}`.
pub(super) struct GroupKind {
    pub(super) prefix: &'static str,
    pub(super) label: &'static str,
    pub(super) other: &'static str,
}

/// A cgroup's `memory.max`, by key.
type MemoryMax<'a, K> = &'a dyn Fn(&K) -> Option<u64>;

/// The summed levels of the groups not selected, and per horizon their summed forecasts and RSS
/// upper ends, all in base units.
#[derive(Default)]
struct Others {
    processes: u64,
    anomalous: Option<u64>,
    now: [f64; 4],
    ahead: Vec<(u64, [f64; 4], f64)>,
}

/// Counter series per group: two labels values for each of five counters.
pub const GROUP_COUNTER_SERIES: usize = 10;
/// Gauge series per group apart from forecasts: processes, anomalous processes and four levels.
pub const GROUP_LEVEL_SERIES: usize = 6;
/// Forecast series per group and horizon: four targets and the RSS upper ends.
pub const GROUP_FORECAST_SERIES_PER_HORIZON: usize = 5;

/// Families of a group table: for each selected group its counters, levels, forecasts (and, for
/// cgroups, `memory.max`); the others summed into one `other` group, which has no counters: a sum
/// over a changing set of groups goes down when one joins the selected, and a counter that goes
/// down reads as a reset to `rate()`.
pub(super) fn groups<K>(
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
    let mut anomalous = Family::new(
        name("anomalous_processes"),
        "Processes of the group with an anomaly flag up, for any target (a level staying well above its forecast band).",
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
            if let Some(a) = g.anomalous {
                o.anomalous = Some(o.anomalous.unwrap_or(0) + a);
            }
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
        if let Some(a) = g.anomalous {
            anomalous.push(l(None), a as f64);
        }
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
        if let Some(a) = o.anomalous {
            anomalous.push(l(), a as f64);
        }
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
    let mut out = vec![cpu, disk, net, cs, faults, procs, anomalous];
    out.extend(levels);
    out.extend(ahead);
    out.push(upper);
    if memory_max.is_some() {
        out.push(mem_max);
    }
    out
}
