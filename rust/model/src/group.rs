//! What a group of processes (a cgroup, a command name) did and is forecast to do: the rows of the
//! module's `cgroups.csv` and `comms.csv`.
//!
//! A group's [`Totals`] hold two kinds of value. Counters ([`COUNTERS`]) add up every sampled
//! interval of every process while it was in the group, so they only grow and keep what processes
//! that exited did: a monitoring system can take their rate. Levels ([`LEVELS`]) and forecasts are
//! sums over the processes in the group at the latest pass, in base units a planner can add: CPU in
//! permille of one CPU, RSS in KiB, disk and network in bytes per second. Forecast means add up; the
//! peak RSS forecasts add to the peak of the sum or more (processes need not peak together). The
//! bands' ends are not summed, except the RSS upper ends ([`Totals::rss_hi_kib`]): a conservative
//! memory bound for alerts, not an 80 % interval of the sum. A process with no forecast yet (less
//! than a full history) counts its current level at every horizon (persistence). `anomalous`
//! counts the processes with an anomaly flag up ([`super::anomaly`]).
//!
//! No floats, no allocation, no panics: the kernel keeps one [`Totals`] per group.

use super::blob::Predictions;
use super::fixed::{exp2m1_q8, Log2Q8};
use super::forecast::AllPredictions;
use super::sample::RawSample;
use super::schema::{Target, HORIZONS, N_HORIZONS, N_TARGETS};

/// Number of counter columns.
pub const N_COUNTERS: usize = 10;

/// Counter columns, named as the [`RawSample`] fields they add up.
pub const COUNTERS: [&str; N_COUNTERS] = [
    "cpu_user_ns",
    "cpu_sys_ns",
    "disk_read_bytes",
    "disk_write_bytes",
    "net_rx_bytes",
    "net_tx_bytes",
    "nvcsw",
    "nivcsw",
    "minflt",
    "majflt",
];

/// Level columns, one per target in [`Target::ALL`] order, with their base units.
pub const LEVELS: [&str; N_TARGETS] = [
    "cpu_permille",
    "rss_kib",
    "disk_bytes_per_s",
    "net_bytes_per_s",
];

/// A target's level (model units: CPU permille, RSS KiB, disk and network log2q8(1 + B/s)) in the
/// base unit of [`LEVELS`], clamped at 0.
///
/// ```
/// use procperf_model::group::base_units;
/// use procperf_model::schema::Target;
/// assert_eq!(base_units(Target::Cpu, 250), 250);
/// assert_eq!(base_units(Target::Net, 10 * 256), 1023); // log2(1 + 1023 B/s) = 10
/// assert_eq!(base_units(Target::Rss, -3), 0);
/// ```
pub fn base_units(target: Target, level: i64) -> u64 {
    let level = level.max(0);
    match target {
        Target::Cpu | Target::Rss => level.unsigned_abs(),
        Target::Disk | Target::Net => exp2m1_q8(Log2Q8(i32::try_from(level).unwrap_or(i32::MAX))),
    }
}

/// One group's totals (see the module documentation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Summed interval deltas, in [`COUNTERS`] order; saturate rather than wrap.
    pub counters: [u64; N_COUNTERS],
    /// Processes added since [`Totals::clear_levels`].
    pub processes: u32,
    /// Of those, the ones with an anomaly flag up.
    pub anomalous: u32,
    /// Summed current levels, in [`LEVELS`] order.
    pub current: [u64; N_TARGETS],
    /// Summed published forecasts per horizon of [`HORIZONS`], in [`LEVELS`] order.
    pub forecast: [[u64; N_TARGETS]; N_HORIZONS],
    /// Summed upper ends of the RSS bands per horizon, KiB.
    pub rss_hi_kib: [u64; N_HORIZONS],
}

impl Totals {
    /// Starts a new pass: levels and forecasts restart from 0, counters keep counting.
    pub fn clear_levels(&mut self) {
        *self = Self {
            counters: self.counters,
            ..Self::default()
        };
    }

    /// Adds one process's interval `s`, its published forecasts (`None`: none yet) and its
    /// anomaly flags.
    ///
    /// ```
    /// use procperf_model::group::Totals;
    /// use procperf_model::sample::RawSample;
    /// let s = RawSample {
    ///     interval_ns: 2_000_000_000,
    ///     cpu_user_ns: 500_000_000,
    ///     disk_write_bytes: 4096,
    ///     rss_anon_kib: 100,
    ///     ..Default::default()
    /// };
    /// let mut t = Totals::default();
    /// t.add(&s, None, 0);
    /// t.add(&s, None, 0b10);
    /// assert_eq!((t.processes, t.anomalous), (2, 1));
    /// assert_eq!(t.counters[0], 1_000_000_000); // CPU user ns
    /// assert_eq!(t.current, [500, 200, 4096, 0]); // 250 permille, 100 KiB and 2048 B/s each
    /// assert_eq!(t.forecast[1], t.current); // no forecast yet: persistence
    /// ```
    pub fn add(&mut self, s: &RawSample, published: Option<&AllPredictions>, anomaly: u8) {
        self.add_share(&Share::of(s, published, anomaly));
    }

    /// Adds one process's [`Share`], computed once for all the groups it counts in.
    pub fn add_share(&mut self, share: &Share) {
        add_all(&mut self.counters, &share.counters);
        self.processes = self.processes.saturating_add(1);
        self.anomalous = self.anomalous.saturating_add(u32::from(share.anomalous));
        add_all(&mut self.current, &share.current);
        for (sum, f) in self.forecast.iter_mut().zip(share.forecast.iter()) {
            add_all(sum, f);
        }
        add_all(&mut self.rss_hi_kib, &share.rss_hi_kib);
    }

    /// The values after the group's key, in [`column_names`] order: processes, anomalous ones,
    /// counters, current levels, then per horizon the forecasts and the RSS upper end.
    pub fn values(&self) -> impl Iterator<Item = u64> + '_ {
        let per_horizon = self
            .forecast
            .iter()
            .zip(self.rss_hi_kib.iter())
            .flat_map(|(f, hi)| f.iter().copied().chain(core::iter::once(*hi)));
        [u64::from(self.processes), u64::from(self.anomalous)]
            .into_iter()
            .chain(self.counters.iter().copied())
            .chain(self.current.iter().copied())
            .chain(per_horizon)
    }
}

/// What one process adds to each group it is in ([`Totals::add_share`]), in the base units of
/// [`LEVELS`]: its interval's counters, whether a flag is up, its current levels and, per horizon,
/// its published forecasts (its current levels where it has none) and RSS band's upper end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Share {
    counters: [u64; N_COUNTERS],
    anomalous: bool,
    current: [u64; N_TARGETS],
    forecast: [[u64; N_TARGETS]; N_HORIZONS],
    rss_hi_kib: [u64; N_HORIZONS],
}

impl Share {
    /// The share of a process with interval `s`, published forecasts `published` (`None`: none
    /// yet) and anomaly flags `anomaly`.
    pub fn of(s: &RawSample, published: Option<&AllPredictions>, anomaly: u8) -> Self {
        let current = current_levels(s);
        let mut share = Self {
            counters: [
                s.cpu_user_ns,
                s.cpu_sys_ns,
                s.disk_read_bytes,
                s.disk_write_bytes,
                s.net_rx_bytes,
                s.net_tx_bytes,
                s.nvcsw,
                s.nivcsw,
                s.minflt,
                s.majflt,
            ],
            anomalous: anomaly != 0,
            current,
            forecast: [current; N_HORIZONS],
            rss_hi_kib: [current[Target::Rss.index()]; N_HORIZONS],
        };
        for h in 0..N_HORIZONS {
            let at_h = published.and_then(|p| p.get(h));
            if let (Some(f), Some(hi)) = (share.forecast.get_mut(h), share.rss_hi_kib.get_mut(h)) {
                forecast_levels(at_h, f, hi);
            }
        }
        share
    }
}

/// One column name after the group's key, as [`Totals::values`] orders them. Displays as the
/// header field: `processes`, `anomalous`, a counter, a level, `<level>_<H>` (forecast over `H`
/// intervals) or `rss_kib_hi_<H>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// Processes in the group at the latest pass.
    Processes,
    /// Of those, the ones with an anomaly flag up.
    Anomalous,
    /// A counter of [`COUNTERS`].
    Counter(&'static str),
    /// A level of [`LEVELS`].
    Current(&'static str),
    /// A forecast of a level of [`LEVELS`] at a horizon, in intervals.
    Forecast(&'static str, usize),
    /// The summed RSS upper ends at a horizon, in intervals.
    RssHi(usize),
}

impl core::fmt::Display for Column {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Processes => f.write_str("processes"),
            Self::Anomalous => f.write_str("anomalous"),
            Self::Counter(name) | Self::Current(name) => f.write_str(name),
            Self::Forecast(name, h) => write!(f, "{name}_{h}"),
            Self::RssHi(h) => write!(f, "rss_kib_hi_{h}"),
        }
    }
}

/// The header fields after the group's key (`t_ms,<key>,` precede them in the files).
///
/// ```
/// use procperf_model::group::{column_names, Totals};
/// let names: Vec<String> = column_names().map(|c| c.to_string()).collect();
/// assert_eq!(names[0], "processes");
/// assert!(names.contains(&"net_bytes_per_s_60".to_string()));
/// assert!(names.contains(&"rss_kib_hi_5".to_string()));
/// assert_eq!(names.len(), Totals::default().values().count());
/// ```
pub fn column_names() -> impl Iterator<Item = Column> {
    let per_horizon = HORIZONS.into_iter().flat_map(|h| {
        LEVELS
            .into_iter()
            .map(move |l| Column::Forecast(l, h))
            .chain(core::iter::once(Column::RssHi(h)))
    });
    [Column::Processes, Column::Anomalous]
        .into_iter()
        .chain(COUNTERS.into_iter().map(Column::Counter))
        .chain(LEVELS.into_iter().map(Column::Current))
        .chain(per_horizon)
}

/// A sample's levels in base units: CPU permille and disk and network bytes per second over the
/// interval, RSS at its end.
fn current_levels(s: &RawSample) -> [u64; N_TARGETS] {
    let interval_ms = (s.interval_ns / 1_000_000).max(1);
    let per_s = |v: u64| v.saturating_mul(1000) / interval_ms;
    let cpu_ns = s.cpu_user_ns.saturating_add(s.cpu_sys_ns);
    [
        cpu_ns / (s.interval_ns / 1000).max(1),
        s.rss_anon_kib
            .saturating_add(s.rss_file_kib)
            .saturating_add(s.rss_shmem_kib),
        per_s(s.disk_read_bytes.saturating_add(s.disk_write_bytes)),
        per_s(s.net_rx_bytes.saturating_add(s.net_tx_bytes)),
    ]
}

/// Puts the published forecasts at one horizon into `levels` (the current ones, in base units)
/// and the RSS band's upper end into `rss_hi`; a target without a forecast keeps its current level.
fn forecast_levels(at_h: Option<&Predictions>, levels: &mut [u64; N_TARGETS], rss_hi: &mut u64) {
    let Some(preds) = at_h else { return };
    for ((t, p), v) in Target::ALL.iter().zip(preds.iter()).zip(levels.iter_mut()) {
        let Some(p) = p else { continue };
        *v = base_units(*t, p.forest);
        if *t == Target::Rss {
            *rss_hi = base_units(*t, p.forest_hi);
        }
    }
}

fn add_all<const N: usize>(sum: &mut [u64; N], v: &[u64; N]) {
    for (s, v) in sum.iter_mut().zip(v) {
        *s = s.saturating_add(*v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blob::Prediction;

    fn busy(cpu_ns: u64, rss_kib: u64) -> RawSample {
        RawSample {
            interval_ns: 1_000_000_000,
            cpu_user_ns: cpu_ns,
            rss_anon_kib: rss_kib,
            net_rx_bytes: 1000,
            net_tx_bytes: 24,
            nvcsw: 3,
            majflt: 1,
            ..Default::default()
        }
    }

    #[test]
    fn counters_keep_counting_across_passes_levels_restart() {
        let mut t = Totals::default();
        t.add(&busy(100_000_000, 10), None, 1);
        t.clear_levels();
        t.add(&busy(300_000_000, 20), None, 0);
        assert_eq!((t.processes, t.anomalous), (1, 0));
        assert_eq!(t.counters[0], 400_000_000);
        assert_eq!(t.counters[6], 6); // nvcsw
        assert_eq!(t.counters[9], 2); // majflt
        assert_eq!(t.current, [300, 20, 0, 1024]);
    }

    #[test]
    fn published_forecasts_are_summed_in_base_units() {
        let p = |forest, hi| {
            Some(Prediction {
                forest,
                forest_hi: hi,
                ..Prediction::default()
            })
        };
        let mut all = AllPredictions::default();
        all[1] = [p(400, 900), p(2048, 4096), p(10 * 256, 11 * 256), None];
        let mut t = Totals::default();
        t.add(&busy(100_000_000, 10), Some(&all), 0);
        t.add(&busy(100_000_000, 10), Some(&all), 0);
        assert_eq!(t.forecast[1], [800, 4096, 2046, 2048]); // net: none, so current
        assert_eq!(t.rss_hi_kib[1], 8192);
        assert_eq!(t.forecast[0], t.current); // horizon 0 has no forecast
        assert_eq!(t.rss_hi_kib[0], 20);
    }

    #[test]
    fn saturates_instead_of_wrapping() {
        let mut t = Totals::default();
        let s = RawSample {
            interval_ns: 1,
            cpu_user_ns: u64::MAX,
            disk_read_bytes: u64::MAX,
            rss_anon_kib: u64::MAX,
            rss_file_kib: u64::MAX,
            ..Default::default()
        };
        t.add(&s, None, 0);
        t.add(&s, None, 0);
        assert_eq!(t.counters[0], u64::MAX);
        assert_eq!(t.current[Target::Rss.index()], u64::MAX);
        assert_eq!(t.current[Target::Disk.index()], u64::MAX);
    }

    #[test]
    fn base_units_undo_the_log_scale() {
        assert_eq!(base_units(Target::Disk, 0), 0);
        assert_eq!(base_units(Target::Disk, 20 * 256), (1 << 20) - 1);
        assert_eq!(base_units(Target::Rss, 1536), 1536);
    }
}
