//! The feature and target schema: names, order, units and the [`SCHEMA_ID`] that binds a model to
//! them.
//!
//! This file is the single definition of what a feature vector means. [`FEATURES`] lists every
//! feature in vector order with its unit; [`Feature`] names the positions; `features.rs` computes
//! them; the trainer writes [`FEATURE_NAMES`] as column headers. [`SCHEMA_ID`] hashes all of it
//! (plus [`HISTORY_LEN`], [`HORIZONS`] and the target definitions) at compile time, and the blob
//! carries it, so a model trained on any other schema is refused at load.
//!
//! Changing a feature's name, unit, order or computation, or a target's definition, requires
//! bumping [`SCHEMA_VERSION`] (the computation is not hashed, the version stands for it).

use super::history::HISTORY_LEN;

/// Version of the feature computation and target definitions; bump on any semantic change.
pub const SCHEMA_VERSION: u32 = 3;

/// Number of forecast horizons.
pub const N_HORIZONS: usize = 2;

/// The horizons, in intervals ahead, shortest first: 5 s and 60 s at the default 1 s interval.
/// A model has one set of target models per horizon; a target's value at horizon `H` is defined
/// over the next `H` intervals ([`Target::definition`]).
pub const HORIZONS: [usize; N_HORIZONS] = [5, 60];

/// The shortest horizon: the one whose forecasts the per-process blend scores
/// ([`super::blend`]), because its outcomes fit in the history window.
pub const HORIZON: usize = HORIZONS[0];

/// The longest horizon.
pub const MAX_HORIZON: usize = HORIZONS[N_HORIZONS - 1];

const _: () = assert!(HORIZONS[0] < HORIZONS[1] && HORIZON <= HISTORY_LEN);

/// One feature's name, unit (its integer scale) and meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeatureSpec {
    /// Column name, `snake_case`, unique.
    pub name: &'static str,
    /// Integer scale of the value, one of the `UNIT_*` strings.
    pub unit: &'static str,
    /// What the value measures, one line.
    pub doc: &'static str,
}

/// Permille of one CPU: 1000 is one CPU fully busy; multithreaded processes exceed 1000.
pub const UNIT_PERMILLE: &str = "permille";
/// A plain count (intervals, threads).
pub const UNIT_COUNT: &str = "count";
/// `256 * log2(1 + rate)`, rate per second ([`super::fixed::log2_1p_q8`]).
pub const UNIT_LOG_RATE: &str = "log2q8(1+x/s)";
/// `256 * log2(1 + KiB)`.
pub const UNIT_LOG_KIB: &str = "log2q8(1+KiB)";
/// `sign(d) * 256 * log2(1 + |d|)` of a change `d` in KiB ([`super::fixed::slog2_1p_q8`]).
pub const UNIT_SLOG_KIB: &str = "slog2q8(KiB)";
/// A difference of two [`UNIT_LOG_RATE`] values (a log ratio, 256 = factor two).
pub const UNIT_LOG_RATIO: &str = "log2q8 ratio";
/// `256 * log2(1 + seconds)`.
pub const UNIT_LOG_SECONDS: &str = "log2q8(1+s)";
/// `256 * log2(1 + permille)` in steps of an eighth of a doubling (multiples of 32).
pub const UNIT_LOG_PERMILLE: &str = "log2q8(1+permille)";
/// The kernel's own integer encoding (nice value, policy number).
pub const UNIT_LEVEL: &str = "level";

/// Features are clamped to `-FEATURE_MAX..=FEATURE_MAX` (2^24 - 1), which keeps every linear
/// product `feature * weight` and every sum exact in the evaluators.
pub const FEATURE_MAX: i32 = (1 << 24) - 1;

macro_rules! feature_table {
    ($($variant:ident = $name:literal, $unit:expr, $doc:literal;)*) => {
        /// A position in the feature vector; `Feature::X as usize` indexes [`FEATURES`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Feature {
            $(#[doc = $doc] $variant,)*
        }

        /// Number of features.
        pub const N_FEATURES: usize = [$($name),*].len();

        /// Every feature in vector order, with unit and meaning.
        pub const FEATURES: [FeatureSpec; N_FEATURES] = [
            $(FeatureSpec { name: $name, unit: $unit, doc: $doc },)*
        ];

        impl Feature {
            /// Every feature, in vector order.
            pub const ALL: [Feature; N_FEATURES] = [$(Feature::$variant,)*];
        }
    };
}

feature_table! {
    CpuPermille = "cpu_permille", UNIT_PERMILLE, "user+sys CPU over the newest interval";
    CpuPermilleLag1 = "cpu_permille_lag1", UNIT_PERMILLE, "cpu_permille one interval earlier";
    CpuPermilleLag2 = "cpu_permille_lag2", UNIT_PERMILLE, "cpu_permille two intervals earlier";
    CpuPermilleLag3 = "cpu_permille_lag3", UNIT_PERMILLE, "cpu_permille three intervals earlier";
    CpuPermilleEwmaShort = "cpu_permille_ewma_short", UNIT_PERMILLE, "EWMA (alpha 1/2) of cpu_permille over the window";
    CpuPermilleEwmaLong = "cpu_permille_ewma_long", UNIT_PERMILLE, "EWMA (alpha 1/4) of cpu_permille over the window";
    CpuPermilleMean = "cpu_permille_mean", UNIT_PERMILLE, "CPU time over wall time across the whole window";
    CpuPermilleMax = "cpu_permille_max", UNIT_PERMILLE, "largest cpu_permille in the window";
    CpuPermilleMin = "cpu_permille_min", UNIT_PERMILLE, "smallest cpu_permille in the window";
    CpuPermilleDelta = "cpu_permille_delta", UNIT_PERMILLE, "cpu_permille minus cpu_permille_lag1";
    CpuPermilleTrend = "cpu_permille_trend", UNIT_PERMILLE, "mean cpu_permille of the newer half minus the older half";
    CpuPermilleStd = "cpu_permille_std", UNIT_PERMILLE, "population standard deviation of cpu_permille in the window";
    CpuSysPermille = "cpu_sys_permille", UNIT_PERMILLE, "system-mode CPU over the newest interval";
    CpuActiveIntervals = "cpu_active_intervals", UNIT_COUNT, "intervals in the window with cpu_permille >= 10";
    NvcswLog = "nvcsw_log", UNIT_LOG_RATE, "voluntary context switches per second, newest interval";
    NvcswLogLag1 = "nvcsw_log_lag1", UNIT_LOG_RATE, "nvcsw_log one interval earlier";
    NvcswLogEwmaShort = "nvcsw_log_ewma_short", UNIT_LOG_RATE, "EWMA (alpha 1/2) of nvcsw_log";
    NvcswLogWindow = "nvcsw_log_window", UNIT_LOG_RATE, "voluntary switches per second across the window";
    NivcswLog = "nivcsw_log", UNIT_LOG_RATE, "involuntary context switches per second, newest interval";
    NivcswLogWindow = "nivcsw_log_window", UNIT_LOG_RATE, "involuntary switches per second across the window";
    RssLog = "rss_log", UNIT_LOG_KIB, "resident memory (anon+file+shmem), newest";
    RssAnonLog = "rss_anon_log", UNIT_LOG_KIB, "resident anonymous memory, newest";
    RssFileLog = "rss_file_log", UNIT_LOG_KIB, "resident file-backed and shared memory, newest";
    RssDeltaSlog = "rss_delta_slog", UNIT_SLOG_KIB, "RSS change over the newest interval";
    RssDeltaEwmaShortSlog = "rss_delta_ewma_short_slog", UNIT_SLOG_KIB, "EWMA (alpha 1/2) of per-interval RSS change";
    RssDeltaEwmaLongSlog = "rss_delta_ewma_long_slog", UNIT_SLOG_KIB, "EWMA (alpha 1/4) of per-interval RSS change";
    RssDeltaWindowSlog = "rss_delta_window_slog", UNIT_SLOG_KIB, "RSS change from the oldest to the newest sample";
    RssStdLog = "rss_std_log", UNIT_LOG_KIB, "population standard deviation of RSS in the window";
    VmLog = "vm_log", UNIT_LOG_KIB, "virtual memory size, newest";
    VmDeltaWindowSlog = "vm_delta_window_slog", UNIT_SLOG_KIB, "virtual memory change from the oldest to the newest sample";
    MinfltLog = "minflt_log", UNIT_LOG_RATE, "minor faults per second, newest interval";
    MinfltLogWindow = "minflt_log_window", UNIT_LOG_RATE, "minor faults per second across the window";
    MajfltLog = "majflt_log", UNIT_LOG_RATE, "major faults per second, newest interval";
    DiskLog = "disk_log", UNIT_LOG_RATE, "block read+write bytes per second, newest interval";
    DiskLogLag1 = "disk_log_lag1", UNIT_LOG_RATE, "disk_log one interval earlier";
    DiskLogEwmaShort = "disk_log_ewma_short", UNIT_LOG_RATE, "EWMA (alpha 1/2) of disk_log";
    DiskLogEwmaLong = "disk_log_ewma_long", UNIT_LOG_RATE, "EWMA (alpha 1/4) of disk_log";
    DiskLogWindow = "disk_log_window", UNIT_LOG_RATE, "block bytes per second across the window";
    DiskLogDelta = "disk_log_delta", UNIT_LOG_RATIO, "disk_log minus disk_log_lag1";
    DiskLogStd = "disk_log_std", UNIT_LOG_RATIO, "population standard deviation of disk_log in the window";
    DiskActiveIntervals = "disk_active_intervals", UNIT_COUNT, "intervals in the window with block I/O";
    RcharLog = "rchar_log", UNIT_LOG_RATE, "bytes through read-like syscalls per second, newest interval";
    WcharLog = "wchar_log", UNIT_LOG_RATE, "bytes through write-like syscalls per second, newest interval";
    SyscrLog = "syscr_log", UNIT_LOG_RATE, "read-like syscalls per second, newest interval";
    SyscwLog = "syscw_log", UNIT_LOG_RATE, "write-like syscalls per second, newest interval";
    RwcharLogWindow = "rwchar_log_window", UNIT_LOG_RATE, "rchar+wchar bytes per second across the window";
    NetLog = "net_log", UNIT_LOG_RATE, "socket rx+tx bytes per second, newest interval";
    NetLogLag1 = "net_log_lag1", UNIT_LOG_RATE, "net_log one interval earlier";
    NetLogEwmaShort = "net_log_ewma_short", UNIT_LOG_RATE, "EWMA (alpha 1/2) of net_log";
    NetLogEwmaLong = "net_log_ewma_long", UNIT_LOG_RATE, "EWMA (alpha 1/4) of net_log";
    NetLogWindow = "net_log_window", UNIT_LOG_RATE, "socket bytes per second across the window";
    NetLogDelta = "net_log_delta", UNIT_LOG_RATIO, "net_log minus net_log_lag1";
    NetLogStd = "net_log_std", UNIT_LOG_RATIO, "population standard deviation of net_log in the window";
    NetActiveIntervals = "net_active_intervals", UNIT_COUNT, "intervals in the window with socket traffic";
    Threads = "threads", UNIT_COUNT, "thread count, newest";
    Nice = "nice", UNIT_LEVEL, "nice value, -20..=19, newest";
    AgeLog = "age_log", UNIT_LOG_SECONDS, "time since the process started, newest, in whole doublings (steps at 1, 3, 7, 15, ... s)";
    CpuSlowLog = "cpu_slow_log", UNIT_LOG_PERMILLE, "EWMA (alpha 1/16) of cpu_permille since the process was first seen";
    CpuSlowerLog = "cpu_slower_log", UNIT_LOG_PERMILLE, "EWMA (alpha 1/64) of cpu_permille since the process was first seen";
    CpuSeenLog = "cpu_seen_log", UNIT_LOG_PERMILLE, "CPU time over wall time since the process was first seen";
    IdleLog = "idle_log", UNIT_LOG_SECONDS, "time since the last interval with cpu_permille >= 10 (or since first seen), in whole doublings";
    DiskSlowLog = "disk_slow_log", UNIT_LOG_RATE, "EWMA (alpha 1/16) of disk_log since first seen, in steps of 32";
    NetSlowLog = "net_slow_log", UNIT_LOG_RATE, "EWMA (alpha 1/16) of net_log since first seen, in steps of 32";
}

/// Feature names in vector order (CSV headers, model reports).
pub const FEATURE_NAMES: [&str; N_FEATURES] = {
    let mut names = [""; N_FEATURES];
    let mut i = 0;
    while i < N_FEATURES {
        names[i] = FEATURES[i].name;
        i += 1;
    }
    names
};

impl Feature {
    /// Position in the feature vector.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// This feature's spec.
    pub fn spec(self) -> &'static FeatureSpec {
        // `self as usize < N_FEATURES` by construction of the enum and table from one list.
        &FEATURES[self as usize % N_FEATURES]
    }

    /// The feature called `name` in [`FEATURE_NAMES`] (host only: the kernel never looks features
    /// up by name, and string comparison brings panic paths into its build).
    #[cfg(feature = "std")]
    pub fn from_name(name: &str) -> Option<Self> {
        let i = FEATURE_NAMES.iter().position(|n| *n == name)?;
        Self::ALL.get(i).copied()
    }

    /// Levels that name a program (its size, thread count, priority and age) rather than say
    /// what it is doing. The trainer's forests do not split on them by default: on programs the
    /// training data did not have, such splits carried the training programs' habits over.
    pub const PROGRAM_LEVELS: [Self; 7] = [
        Self::RssLog,
        Self::RssAnonLog,
        Self::RssFileLog,
        Self::VmLog,
        Self::Threads,
        Self::Nice,
        Self::AgeLog,
    ];
}

macro_rules! target_table {
    ($($variant:ident = $name:literal, $unit:literal, $display:literal, $def:literal;)*) => {
        /// A predicted quantity. Each is learned as a change from the current level (see
        /// [`Target::definition`]); predictions are reported as levels.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Target {
            $(#[doc = $def] $variant,)*
        }

        /// Number of targets.
        pub const N_TARGETS: usize = [$($name),*].len();

        impl Target {
            /// Every target, in blob and array order.
            pub const ALL: [Target; N_TARGETS] = [$(Target::$variant,)*];
            const SPECS: [(&'static str, &'static str, &'static str, &'static str); N_TARGETS] =
                [$(($name, $unit, $display, $def),)*];
        }
    };
}

target_table! {
    Cpu = "cpu", "permille", "%", "CPU: mean permille of one CPU over the next H intervals (their CPU time over their wall time; intervals after the process exits count as 0) minus cpu_permille";
    Rss = "rss", "KiB", "MiB", "RSS: peak resident KiB over the next H samples (0 after the process exits) minus the newest RSS";
    Disk = "disk", "log2q8(1+B/s)", "KiB/s", "Disk: log2q8(1 + block bytes per second over the next H intervals, 0 after exit) minus disk_log";
    Net = "net", "log2q8(1+B/s)", "KiB/s", "Net: log2q8(1 + socket bytes per second over the next H intervals, 0 after exit) minus net_log";
}

impl Target {
    fn spec(self) -> (&'static str, &'static str, &'static str, &'static str) {
        Self::SPECS[self as usize % N_TARGETS]
    }

    /// Position in target arrays and bit in the blob's target mask.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The target at `index`, if any.
    pub fn from_index(index: usize) -> Option<Self> {
        Self::ALL.get(index).copied()
    }

    /// Short name (`cpu`, `rss`, `disk`, `net`).
    pub fn name(self) -> &'static str {
        self.spec().0
    }

    /// Unit of levels and deltas (`permille`, `KiB`, `log2q8(1+B/s)`).
    pub fn unit(self) -> &'static str {
        self.spec().1
    }

    /// Unit of [`super::target::display_milli`] and the host-side display values (`%`, `MiB`,
    /// `KiB/s`).
    pub fn display_unit(self) -> &'static str {
        self.spec().2
    }

    /// The exact definition of the learned value.
    pub fn definition(self) -> &'static str {
        self.spec().3
    }
}

/// What one column of `predictions.csv` (and `trainer predict`) holds for a target: its current
/// level, or at a horizon index the linear forecast, the published forest forecast and the ends of
/// its band. Every value is a level in target units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsvValue {
    /// `<target>_current`.
    Current,
    /// `<target>_linear_<H>`.
    Linear(usize),
    /// `<target>_forest_<H>`.
    Forest(usize),
    /// `<target>_lo_<H>`.
    Lo(usize),
    /// `<target>_hi_<H>`.
    Hi(usize),
}

/// Number of columns per target in `predictions.csv`.
pub const CSV_VALUES_PER_TARGET: usize = 1 + 4 * N_HORIZONS;

/// The columns of one target, in file order: current, then linear, forest, lo, hi per horizon.
pub const CSV_VALUES: [CsvValue; CSV_VALUES_PER_TARGET] = {
    let mut v = [CsvValue::Current; CSV_VALUES_PER_TARGET];
    let mut h = 0;
    while h < N_HORIZONS {
        v[1 + 4 * h] = CsvValue::Linear(h);
        v[2 + 4 * h] = CsvValue::Forest(h);
        v[3 + 4 * h] = CsvValue::Lo(h);
        v[4 + 4 * h] = CsvValue::Hi(h);
        h += 1;
    }
    v
};

/// One column of `predictions.csv`: a target and what of it. Displays as its header name.
///
/// ```
/// use procperf_model::schema::{CsvColumn, CsvValue, Target};
/// let c = CsvColumn { target: Target::Cpu, value: CsvValue::Forest(1) };
/// assert_eq!(c.to_string(), "cpu_forest_60");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvColumn {
    /// The target.
    pub target: Target,
    /// What of it.
    pub value: CsvValue,
}

impl core::fmt::Display for CsvColumn {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (what, h) = match self.value {
            CsvValue::Current => return write!(f, "{}_current", self.target.name()),
            CsvValue::Linear(h) => ("linear", h),
            CsvValue::Forest(h) => ("forest", h),
            CsvValue::Lo(h) => ("lo", h),
            CsvValue::Hi(h) => ("hi", h),
        };
        let intervals = HORIZONS.get(h).copied().unwrap_or(0);
        write!(f, "{}_{what}_{intervals}", self.target.name())
    }
}

/// The last column of `predictions.csv` (and `trainer predict`): the process's anomaly flags, bit
/// `t` for target `t` (`forecast::Forecast::anomaly`).
pub const ANOMALY_COLUMN: &str = "anomaly";

/// Every column after `t_ms,pid,comm,cgroup`, target by target, in file order.
pub fn csv_columns() -> impl Iterator<Item = CsvColumn> {
    Target::ALL.into_iter().flat_map(|target| {
        CSV_VALUES
            .into_iter()
            .map(move |value| CsvColumn { target, value })
    })
}

/// FNV-1a, 32 bit, usable in constants.
pub const fn fnv1a32(mut hash: u32, bytes: &[u8]) -> u32 {
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u32;
        hash = hash.wrapping_mul(0x0100_0193);
        i += 1;
    }
    hash
}

/// FNV-1a offset basis.
pub const FNV1A32_INIT: u32 = 0x811c_9dc5;

const fn hash_str(hash: u32, s: &str) -> u32 {
    // The trailing 0 separates fields so ("ab","c") and ("a","bc") differ.
    fnv1a32(fnv1a32(hash, s.as_bytes()), &[0])
}

const fn schema_id() -> u32 {
    let mut h = hash_str(FNV1A32_INIT, "procperf-schema");
    h = fnv1a32(h, &SCHEMA_VERSION.to_le_bytes());
    h = fnv1a32(h, &(HISTORY_LEN as u32).to_le_bytes());
    let mut k = 0;
    while k < N_HORIZONS {
        h = fnv1a32(h, &(HORIZONS[k] as u32).to_le_bytes());
        k += 1;
    }
    h = fnv1a32(h, &(FEATURE_MAX as u32).to_le_bytes());
    let mut i = 0;
    while i < N_FEATURES {
        h = hash_str(h, FEATURES[i].name);
        h = hash_str(h, FEATURES[i].unit);
        i += 1;
    }
    let mut t = 0;
    while t < N_TARGETS {
        let (name, unit, display, def) = Target::SPECS[t];
        h = hash_str(h, name);
        h = hash_str(h, unit);
        h = hash_str(h, display);
        h = hash_str(h, def);
        t += 1;
    }
    h
}

/// Identity of this schema: FNV-1a of the version, window sizes, feature names and units and
/// target definitions, computed at compile time. Stored in every blob and checked on load.
pub const SCHEMA_ID: u32 = schema_id();

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "std")]
    #[test]
    fn features_are_found_by_name() {
        for f in Feature::ALL {
            assert_eq!(Feature::from_name(f.spec().name), Some(f));
        }
        assert_eq!(Feature::from_name("rss_lgo"), None);
        let levels = Feature::PROGRAM_LEVELS.map(|f| f.spec().name);
        assert_eq!(
            levels,
            [
                "rss_log",
                "rss_anon_log",
                "rss_file_log",
                "vm_log",
                "threads",
                "nice",
                "age_log"
            ]
        );
    }

    #[test]
    fn feature_names_are_unique_snake_case() {
        for (i, a) in FEATURE_NAMES.iter().enumerate() {
            assert!(
                a.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{a}"
            );
            for b in &FEATURE_NAMES[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn feature_enum_matches_table_order() {
        for (i, f) in Feature::ALL.iter().enumerate() {
            assert_eq!(f.index(), i);
            assert_eq!(f.spec().name, FEATURE_NAMES[i]);
        }
        assert!((30..64).contains(&N_FEATURES));
    }

    #[test]
    fn target_names_and_indices_round_trip() {
        for (i, t) in Target::ALL.iter().enumerate() {
            assert_eq!(Target::from_index(i), Some(*t));
            assert!(!t.name().is_empty() && !t.unit().is_empty() && !t.definition().is_empty());
        }
        assert_eq!(Target::from_index(N_TARGETS), None);
    }

    #[test]
    fn schema_id_depends_on_names() {
        assert_ne!(SCHEMA_ID, 0);
        assert_ne!(hash_str(FNV1A32_INIT, "a"), hash_str(FNV1A32_INIT, "b"));
        // Known FNV-1a test vector.
        assert_eq!(fnv1a32(FNV1A32_INIT, b"a"), 0xe40c_292c);
    }
}
