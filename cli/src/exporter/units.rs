//! Model units to base units, the ones Prometheus names carry: CPU as a ratio of one CPU, memory in
//! bytes, I/O in bytes per second, time in seconds.
//!
//! `predictions.csv` holds levels in the models' units ([`Target::unit`]: CPU permille, RSS KiB,
//! disk and network `256·log2(1+B/s)`). The conversion is the model crate's own: CPU through
//! [`display_milli`] (thousandths of a percent), I/O through [`exp2m1_q8`], the very function
//! `display_milli` inverts the log with, so no float log is reimplemented here and the exporter
//! cannot drift from what the module's `predictions` file shows. RSS is KiB times 1024: exact,
//! where `display_milli`'s thousandths of a MiB would round.

use procperf_model::fixed::{exp2m1_q8, sat_i32, Log2Q8};
use procperf_model::schema::Target;
use procperf_model::target::display_milli;

/// A level of `target` in its model unit, in base units (ratio, bytes, bytes/s); never negative.
pub fn base(target: Target, level: i64) -> f64 {
    let level = level.max(0);
    match target {
        // display_milli: thousandths of a percent, so 100 000 of them are one CPU.
        Target::Cpu => display_milli(target, level) as f64 / 100_000.0,
        Target::Rss => level as f64 * 1024.0,
        Target::Disk | Target::Net => exp2m1_q8(Log2Q8(sat_i32(level))) as f64,
    }
}

/// A sum of permille of one CPU as a ratio of one CPU.
pub fn cpu_ratio(permille: u64) -> f64 {
    permille as f64 / 1000.0
}

/// KiB as bytes.
pub fn kib_bytes(kib: u64) -> f64 {
    kib as f64 * 1024.0
}

/// Nanoseconds as seconds.
pub fn ns_seconds(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// A horizon of `intervals` sampling intervals of `interval_ms`, in seconds, as the decimal string
/// of the `horizon_seconds` label: `"5"` for 5 intervals of 1000 ms, `"2.5"` for 5 of 500 ms.
pub fn horizon_label(intervals: u64, interval_ms: u64) -> String {
    let ms = intervals.saturating_mul(interval_ms);
    let (whole, frac) = (ms / 1000, ms % 1000);
    if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{frac:03}")
            .trim_end_matches('0')
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_units_agree_with_the_display_conversion() {
        // display_milli is thousandths of %, MiB and KiB/s; base is ratio, bytes and bytes/s.
        let scale = |t: Target| match t {
            Target::Cpu => 100_000.0,
            Target::Rss => 1000.0 / 1024.0 / 1024.0,
            Target::Disk | Target::Net => 1000.0 / 1024.0,
        };
        for t in Target::ALL {
            for level in [0i64, 1, 255, 1536, 11 * 256, 20 * 256 + 77, 40 * 256] {
                let shown = display_milli(t, level) as f64;
                let from_base = base(t, level) * scale(t);
                assert!(
                    (shown - from_base).abs() <= 0.5 + 1e-9,
                    "{t:?} {level}: display {shown}, base {from_base}"
                );
            }
        }
        assert_eq!(base(Target::Cpu, 255), 0.255);
        assert_eq!(base(Target::Rss, 1536), 1_572_864.0);
        assert_eq!(base(Target::Net, 11 * 256), 2047.0);
        assert_eq!(base(Target::Disk, -5), 0.0);
    }

    #[test]
    fn horizon_labels_are_seconds_without_trailing_zeros() {
        assert_eq!(horizon_label(5, 1000), "5");
        assert_eq!(horizon_label(60, 1000), "60");
        assert_eq!(horizon_label(5, 500), "2.5");
        assert_eq!(horizon_label(5, 100), "0.5");
        assert_eq!(horizon_label(60, 1250), "75");
        assert_eq!(horizon_label(1, 1001), "1.001");
    }
}
