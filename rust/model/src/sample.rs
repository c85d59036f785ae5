//! One process's raw counters for one sampling interval: the unit of everything procperf measures.
//!
//! The kernel's sampler fills a [`RawSample`] per process per pass, the `samples` debugfs stream and
//! `trainer collect` write it as one CSV row, and the trainer reads it back. The CSV column names and
//! their order are [`ROW_PREFIX`] followed by [`COLUMNS`]; both writers and the reader iterate these
//! arrays, so the stream format is defined here and nowhere else.
//!
//! Counters are *interval deltas* (what happened during the `interval_ns` that ended at this sample);
//! gauges are *levels* at the end of the interval. Each field's doc says which. Deltas cover the
//! process's OWN activity (all its threads, live and exited), never what it inherited from reaped
//! children.
//!
//! This module must stay usable in the kernel: no floats, no allocation, no panics.

/// Columns that precede the counters in every CSV row: wall-clock-independent time stamp (ms since
/// boot, monotonic), thread-group id, the command name (no commas; the writer replaces them) and
/// the process's cgroup v2 id (the inode number of its cgroup's directory; 0 without cgroups).
/// Recordings made before the cgroup column have the first three only ([`ROW_PREFIX_V1`]).
pub const ROW_PREFIX: [&str; 4] = ["t_ms", "pid", "comm", "cgroup"];

/// [`ROW_PREFIX`] of recordings made before the cgroup column; readers still accept it.
pub const ROW_PREFIX_V1: [&str; 3] = ["t_ms", "pid", "comm"];

/// Number of counter columns in a CSV row (after [`ROW_PREFIX`]).
pub const N_COLUMNS: usize = 23;

/// Counter column names, in CSV order; identical to the [`RawSample`] field names.
pub const COLUMNS: [&str; N_COLUMNS] = [
    "interval_ns",
    "cpu_user_ns",
    "cpu_sys_ns",
    "rss_anon_kib",
    "rss_file_kib",
    "rss_shmem_kib",
    "vm_kib",
    "disk_read_bytes",
    "disk_write_bytes",
    "rchar_bytes",
    "wchar_bytes",
    "syscr",
    "syscw",
    "net_rx_bytes",
    "net_tx_bytes",
    "nvcsw",
    "nivcsw",
    "minflt",
    "majflt",
    "threads",
    "nice",
    "policy",
    "age_ms",
];

/// One process, one interval. All fields are integers; units are in the names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawSample {
    /// Delta: length of the interval the other deltas cover, in nanoseconds (> 0).
    pub interval_ns: u64,
    /// Delta: CPU time spent in user mode by the thread group (live and exited threads).
    pub cpu_user_ns: u64,
    /// Delta: CPU time spent in kernel mode by the thread group.
    pub cpu_sys_ns: u64,
    /// Level: resident anonymous memory, KiB.
    pub rss_anon_kib: u64,
    /// Level: resident file-backed memory, KiB.
    pub rss_file_kib: u64,
    /// Level: resident shared memory, KiB.
    pub rss_shmem_kib: u64,
    /// Level: virtual memory size, KiB.
    pub vm_kib: u64,
    /// Delta: bytes read from block devices (task I/O accounting `read_bytes`).
    pub disk_read_bytes: u64,
    /// Delta: bytes written to block devices (`write_bytes`, net of cancelled writes, clamped at 0).
    pub disk_write_bytes: u64,
    /// Delta: bytes passed to read-like syscalls (`rchar`; includes pipes, sockets, page cache).
    pub rchar_bytes: u64,
    /// Delta: bytes passed to write-like syscalls (`wchar`).
    pub wchar_bytes: u64,
    /// Delta: read-like syscalls.
    pub syscr: u64,
    /// Delta: write-like syscalls.
    pub syscw: u64,
    /// Delta: socket bytes received by the process (0 where the collector cannot attribute them).
    pub net_rx_bytes: u64,
    /// Delta: socket bytes sent by the process (0 where the collector cannot attribute them).
    pub net_tx_bytes: u64,
    /// Delta: voluntary context switches.
    pub nvcsw: u64,
    /// Delta: involuntary context switches.
    pub nivcsw: u64,
    /// Delta: minor page faults.
    pub minflt: u64,
    /// Delta: major page faults.
    pub majflt: u64,
    /// Level: number of threads.
    pub threads: u64,
    /// Level: nice value, -20..=19.
    pub nice: i64,
    /// Level: scheduling policy (SCHED_NORMAL = 0, FIFO = 1, RR = 2, BATCH = 3, IDLE = 5, DEADLINE = 6).
    pub policy: u64,
    /// Level: time since the process started, ms.
    pub age_ms: u64,
}

/// Why a row of counter values is not a valid [`RawSample`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleError {
    /// The column (index into [`COLUMNS`]) holds a negative value where only >= 0 makes sense.
    Negative {
        /// Index into [`COLUMNS`].
        column: usize,
    },
    /// The column holds a value outside its documented range (`interval_ns` of 0, nice outside
    /// -20..=19).
    OutOfRange {
        /// Index into [`COLUMNS`].
        column: usize,
    },
}

impl RawSample {
    /// The counter values in [`COLUMNS`] order, as written to CSV.
    ///
    /// ```
    /// use procperf_model::sample::{RawSample, COLUMNS};
    /// let s = RawSample { interval_ns: 1_000_000_000, nice: -5, ..Default::default() };
    /// let v = s.values();
    /// assert_eq!(v[0], 1_000_000_000);
    /// assert_eq!(v[COLUMNS.iter().position(|c| *c == "nice").unwrap()], -5);
    /// assert_eq!(RawSample::from_values(&v), Ok(s));
    /// ```
    pub fn values(&self) -> [i64; N_COLUMNS] {
        // Saturating casts: counters beyond i64::MAX (292 years of CPU time) are clamped, not wrapped.
        let c = |v: u64| -> i64 {
            if v > i64::MAX as u64 {
                i64::MAX
            } else {
                v as i64
            }
        };
        [
            c(self.interval_ns),
            c(self.cpu_user_ns),
            c(self.cpu_sys_ns),
            c(self.rss_anon_kib),
            c(self.rss_file_kib),
            c(self.rss_shmem_kib),
            c(self.vm_kib),
            c(self.disk_read_bytes),
            c(self.disk_write_bytes),
            c(self.rchar_bytes),
            c(self.wchar_bytes),
            c(self.syscr),
            c(self.syscw),
            c(self.net_rx_bytes),
            c(self.net_tx_bytes),
            c(self.nvcsw),
            c(self.nivcsw),
            c(self.minflt),
            c(self.majflt),
            c(self.threads),
            self.nice,
            c(self.policy),
            c(self.age_ms),
        ]
    }

    /// Builds a sample from values in [`COLUMNS`] order, rejecting negative counters, a zero
    /// interval and an impossible nice value.
    pub fn from_values(v: &[i64; N_COLUMNS]) -> Result<Self, SampleError> {
        let mut u = [0u64; N_COLUMNS];
        for (i, (out, &x)) in (0..N_COLUMNS).zip(u.iter_mut().zip(v.iter())) {
            if i == NICE_COLUMN {
                continue;
            }
            if x < 0 {
                return Err(SampleError::Negative { column: i });
            }
            *out = x as u64;
        }
        let nice = v[NICE_COLUMN];
        if !(-20..=19).contains(&nice) {
            return Err(SampleError::OutOfRange {
                column: NICE_COLUMN,
            });
        }
        if u[0] == 0 {
            return Err(SampleError::OutOfRange { column: 0 });
        }
        Ok(Self {
            interval_ns: u[0],
            cpu_user_ns: u[1],
            cpu_sys_ns: u[2],
            rss_anon_kib: u[3],
            rss_file_kib: u[4],
            rss_shmem_kib: u[5],
            vm_kib: u[6],
            disk_read_bytes: u[7],
            disk_write_bytes: u[8],
            rchar_bytes: u[9],
            wchar_bytes: u[10],
            syscr: u[11],
            syscw: u[12],
            net_rx_bytes: u[13],
            net_tx_bytes: u[14],
            nvcsw: u[15],
            nivcsw: u[16],
            minflt: u[17],
            majflt: u[18],
            threads: u[19],
            nice,
            policy: u[21],
            age_ms: u[22],
        })
    }
}

/// Index of the only signed column, `nice`.
const NICE_COLUMN: usize = 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_are_unique_and_nice_index_matches() {
        assert_eq!(COLUMNS[NICE_COLUMN], "nice");
        for (i, a) in COLUMNS.iter().enumerate() {
            for b in &COLUMNS[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn from_values_rejects_negative_counter_and_zero_interval() {
        let mut v = RawSample {
            interval_ns: 1,
            ..Default::default()
        }
        .values();
        v[3] = -1;
        assert_eq!(
            RawSample::from_values(&v),
            Err(SampleError::Negative { column: 3 })
        );
        v[3] = 0;
        v[0] = 0;
        assert_eq!(
            RawSample::from_values(&v),
            Err(SampleError::OutOfRange { column: 0 })
        );
    }
}
