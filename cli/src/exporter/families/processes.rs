//! The families of `predictions.csv`: per selected process, now, forecasts and their bands.

use super::{Family, Kind};
use crate::exporter::units::{self, horizon_label};
use crate::pass::Row;
use procperf_model::schema::{Target, HORIZON, MAX_HORIZON};

/// Per target, the stems of the process families: current, forecast, bound; and their unit.
const PROCESS_TARGETS: [(Target, &str, &str); 4] = [
    (Target::Cpu, "cpu_usage", "ratio"),
    (Target::Rss, "resident_memory", "bytes"),
    (Target::Disk, "disk", "bytes_per_second"),
    (Target::Net, "network", "bytes_per_second"),
];

/// Series per process: for each target the current value, per horizon the forecast and two
/// bounds, and the anomaly flag.
pub fn process_series(horizons: usize) -> usize {
    PROCESS_TARGETS.len() * (1 + 3 * horizons + 1)
}

/// Target `t`'s flag in `predictions.csv`'s `anomaly` bit mask (bit [`Target::index`]: cpu 1,
/// rss 2, disk 4, net 8), as 0 or 1. Bits of no target are ignored.
fn flag(mask: u64, t: Target) -> f64 {
    ((mask >> t.index()) & 1) as f64
}

/// Families of the selected processes: now, forecasts and their bands at both horizons, and per
/// target the anomaly flag (when the file has the `anomaly` column).
pub(super) fn processes(
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
        "1 while the module flags the process's target as anomalous (its level staying well above the forecast band), else 0.",
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
            if let Some(mask) = r.anomaly {
                anomaly.push(with(&[("target", t.name())]), flag(mask, *t));
            }
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
    }
    let mut out = now;
    out.extend(forecast);
    out.extend(bound);
    out.push(anomaly);
    out
}
