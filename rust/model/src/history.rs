//! The last [`HISTORY_LEN`] samples of one process: the only state features are computed from.
//!
//! The kernel keeps one [`History`] per live process (4096 and more), so samples are stored in a
//! compact [`Slot`] of 96 bytes instead of the 184-byte [`RawSample`]: the fields the features use,
//! narrowed to `u32` with saturation, and the few sums features need (read+write, rx+tx) folded at
//! push time. A `History` is 776 bytes (3.0 MiB for 4096 processes; the raw samples would need
//! 5.8 MiB). Narrowing is part of the feature definition: the trainer pushes the same CSV rows
//! through the same [`History::push`], so both sides see identical slots.
//!
//! No allocation, no panics, no floats.

use super::sample::RawSample;

/// Number of samples a [`History`] holds; features need a full history.
pub const HISTORY_LEN: usize = 8;

/// One sample narrowed to what the features and targets read. Counters are deltas over
/// `interval_us`; `rss_*`, `vm_kib`, `threads`, `nice`, `policy`, `age_s` are levels.
///
/// Every `u32` saturates rather than wraps: 4.29e9 µs (71 minutes) of interval or CPU time,
/// 4 TiB of memory, 4.29e9 events per interval. Byte counters stay `u64`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Slot {
    /// Interval length, µs, at least 1.
    pub interval_us: u32,
    /// User-mode CPU time, µs.
    pub cpu_user_us: u32,
    /// Kernel-mode CPU time, µs.
    pub cpu_sys_us: u32,
    /// Voluntary context switches.
    pub nvcsw: u32,
    /// Involuntary context switches.
    pub nivcsw: u32,
    /// Minor page faults.
    pub minflt: u32,
    /// Major page faults.
    pub majflt: u32,
    /// Read-like syscalls.
    pub syscr: u32,
    /// Write-like syscalls.
    pub syscw: u32,
    /// Resident anonymous memory, KiB.
    pub rss_anon_kib: u32,
    /// Resident file-backed plus shared memory, KiB.
    pub rss_file_shmem_kib: u32,
    /// Virtual memory size, KiB.
    pub vm_kib: u32,
    /// Thread count.
    pub threads: u32,
    /// Seconds since the process started.
    pub age_s: u32,
    /// Block-device bytes read plus written.
    pub disk_bytes: u64,
    /// Bytes through read-like syscalls.
    pub rchar_bytes: u64,
    /// Bytes through write-like syscalls.
    pub wchar_bytes: u64,
    /// Socket bytes received plus sent.
    pub net_bytes: u64,
    /// Nice value, -20..=19 (clamped).
    pub nice: i8,
    /// Scheduling policy number (saturated at 255).
    pub policy: u8,
}

fn u32_of(v: u64) -> u32 {
    super::fixed::sat_u32(v)
}

impl Slot {
    /// Narrows a raw sample. Total: any `RawSample`, even an invalid one, gives a valid slot
    /// (a zero interval becomes 1 µs so rates stay defined).
    pub fn from_raw(s: &RawSample) -> Self {
        Self {
            interval_us: u32_of(s.interval_ns / 1000).max(1),
            cpu_user_us: u32_of(s.cpu_user_ns / 1000),
            cpu_sys_us: u32_of(s.cpu_sys_ns / 1000),
            nvcsw: u32_of(s.nvcsw),
            nivcsw: u32_of(s.nivcsw),
            minflt: u32_of(s.minflt),
            majflt: u32_of(s.majflt),
            syscr: u32_of(s.syscr),
            syscw: u32_of(s.syscw),
            rss_anon_kib: u32_of(s.rss_anon_kib),
            rss_file_shmem_kib: u32_of(s.rss_file_kib.saturating_add(s.rss_shmem_kib)),
            vm_kib: u32_of(s.vm_kib),
            threads: u32_of(s.threads),
            age_s: u32_of(s.age_ms / 1000),
            disk_bytes: s.disk_read_bytes.saturating_add(s.disk_write_bytes),
            rchar_bytes: s.rchar_bytes,
            wchar_bytes: s.wchar_bytes,
            net_bytes: s.net_rx_bytes.saturating_add(s.net_tx_bytes),
            nice: s.nice.clamp(-20, 19) as i8,
            policy: if s.policy > 255 { 255 } else { s.policy as u8 },
        }
    }

    /// Total resident memory (anon + file + shmem), KiB.
    pub fn rss_kib(&self) -> u64 {
        u64::from(self.rss_anon_kib) + u64::from(self.rss_file_shmem_kib)
    }

    /// User plus system CPU time, µs.
    pub fn cpu_us(&self) -> u64 {
        u64::from(self.cpu_user_us) + u64::from(self.cpu_sys_us)
    }

    /// Whether the process did nothing in this slot's interval: no CPU time, switches, faults,
    /// syscalls or bytes, and the same levels as the slot `prev` before it. Only the timing
    /// (`interval_us`, `age_s`) may differ.
    pub fn is_still_after(&self, prev: &Slot) -> bool {
        let counts = [
            self.cpu_user_us,
            self.cpu_sys_us,
            self.nvcsw,
            self.nivcsw,
            self.minflt,
            self.majflt,
            self.syscr,
            self.syscw,
        ];
        let bytes = [
            self.disk_bytes,
            self.rchar_bytes,
            self.wchar_bytes,
            self.net_bytes,
        ];
        counts == [0; 8]
            && bytes == [0; 4]
            && (
                self.rss_anon_kib,
                self.rss_file_shmem_kib,
                self.vm_kib,
                self.threads,
            ) == (
                prev.rss_anon_kib,
                prev.rss_file_shmem_kib,
                prev.vm_kib,
                prev.threads,
            )
            && (self.nice, self.policy) == (prev.nice, prev.policy)
    }
}

/// A ring of the last [`HISTORY_LEN`] slots of one process, oldest overwritten first.
///
/// ```
/// use procperf_model::history::{History, HISTORY_LEN};
/// use procperf_model::sample::RawSample;
/// let mut h = History::new();
/// for i in 0..10u64 {
///     h.push(&RawSample { interval_ns: 1_000_000_000, rss_anon_kib: i, ..Default::default() });
/// }
/// assert!(h.is_full());
/// let rss: Vec<u32> = h.iter().map(|s| s.rss_anon_kib).collect();
/// assert_eq!(rss, [2, 3, 4, 5, 6, 7, 8, 9]);
/// assert_eq!(h.newest().map(|s| s.rss_anon_kib), Some(9));
/// # assert_eq!(rss.len(), HISTORY_LEN);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct History {
    /// What reaches beyond the window, since the first push.
    long: LongMemory,
    slots: [Slot; HISTORY_LEN],
    /// Index of the next slot to write; always < HISTORY_LEN.
    next: u8,
    /// Number of valid slots, <= HISTORY_LEN.
    len: u8,
    /// How many of the newest slots in a row were [still](Slot::is_still_after), saturating.
    still: u8,
}

impl Default for History {
    fn default() -> Self {
        Self::new()
    }
}

impl History {
    /// An empty history.
    pub const fn new() -> Self {
        Self {
            long: LongMemory::new(),
            slots: [ZERO_SLOT; HISTORY_LEN],
            next: 0,
            len: 0,
            still: 0,
        }
    }

    /// Appends a sample, dropping the oldest one when full.
    pub fn push(&mut self, s: &RawSample) {
        self.push_slot(Slot::from_raw(s));
    }

    /// Appends an already narrowed slot.
    pub fn push_slot(&mut self, slot: Slot) {
        self.long.push(&slot);
        let still = self.newest().is_some_and(|p| slot.is_still_after(p));
        self.still = if still {
            self.still.saturating_add(1)
        } else {
            0
        };
        if let Some(dst) = self.slots.get_mut(usize::from(self.next)) {
            *dst = slot;
        }
        self.next = if usize::from(self.next) + 1 >= HISTORY_LEN {
            0
        } else {
            self.next + 1
        };
        if usize::from(self.len) < HISTORY_LEN {
            self.len += 1;
        }
    }

    /// Number of samples held, 0..=HISTORY_LEN.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether no sample is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether [`HISTORY_LEN`] samples are held, the precondition for features.
    pub fn is_full(&self) -> bool {
        usize::from(self.len) == HISTORY_LEN
    }

    /// Forgets every sample (e.g. when a pid is reused).
    pub fn clear(&mut self) {
        self.long = LongMemory::new();
        self.next = 0;
        self.len = 0;
        self.still = 0;
    }

    /// Whether the window and the window one push earlier are both full of still slots with the
    /// same levels: the last `HISTORY_LEN + 1` pushes were each [still](Slot::is_still_after).
    /// Then every feature and target level of the two windows is the same except the process's
    /// age ([`super::features::refresh_still`]), so the sampler need not compute them again for
    /// a process that sleeps.
    pub fn is_still(&self) -> bool {
        self.is_full() && usize::from(self.still) > HISTORY_LEN
    }

    /// The running summary of every sample since the first push (or [`Self::clear`]).
    pub fn long(&self) -> &LongMemory {
        &self.long
    }

    /// The most recent sample.
    pub fn newest(&self) -> Option<&Slot> {
        self.iter().next_back()
    }

    /// The held samples, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Slot> + Clone + '_ {
        let next = usize::from(self.next);
        let empty: &[Slot] = &[];
        // When full the oldest sample sits at `next`; before that, writes started at 0.
        let (older, newer) = if self.is_full() {
            (
                self.slots.get(next..).unwrap_or(empty),
                self.slots.get(..next).unwrap_or(empty),
            )
        } else {
            (
                self.slots.get(..usize::from(self.len)).unwrap_or(empty),
                empty,
            )
        };
        older.iter().chain(newer.iter())
    }

    /// The held samples oldest first as a fixed array, when full; the form features read.
    pub fn window(&self) -> Option<[Slot; HISTORY_LEN]> {
        if !self.is_full() {
            return None;
        }
        let mut out = [ZERO_SLOT; HISTORY_LEN];
        for (dst, src) in out.iter_mut().zip(self.iter()) {
            *dst = *src;
        }
        Some(out)
    }
}

/// What a process did beyond the window, kept as running sums and EWMAs from its first sample
/// on (56 bytes): the long memory that horizons of a minute need and an 8-sample window lacks.
/// Updated by [`History::push_slot`], so the kernel and the trainer's replay hold the same values;
/// the features read it through [`super::features::compute`].
///
/// EWMAs are in Q8 of their input, seeded with the first sample, and step by
/// `e += (v·256 − e) >> shift` (arithmetic shift: a decaying EWMA reaches 0 exactly, and then
/// stays, so a sleeping process's long features settle).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LongMemory {
    /// EWMA (alpha 1/16) of CPU permille, Q8.
    pub cpu_slow_q8: i64,
    /// EWMA (alpha 1/64) of CPU permille, Q8.
    pub cpu_slower_q8: i64,
    /// EWMA (alpha 1/16) of the disk log rate, Q8.
    pub disk_slow_q8: i64,
    /// EWMA (alpha 1/16) of the net log rate, Q8.
    pub net_slow_q8: i64,
    /// CPU time since first seen, µs.
    pub cpu_us: u64,
    /// Wall time since first seen (sum of intervals), µs.
    pub wall_us: u64,
    /// Wall time since the newest interval with CPU at or above
    /// [`super::features::ACTIVE_CPU_PERMILLE`] (since first seen if none), µs.
    pub idle_us: u64,
}

impl LongMemory {
    /// Nothing seen yet.
    pub const fn new() -> Self {
        Self {
            cpu_slow_q8: 0,
            cpu_slower_q8: 0,
            disk_slow_q8: 0,
            net_slow_q8: 0,
            cpu_us: 0,
            wall_us: 0,
            idle_us: 0,
        }
    }

    fn push(&mut self, s: &Slot) {
        use super::features::{clamped_cpu_permille, slot_log_rate, ACTIVE_CPU_PERMILLE};
        let cpu = clamped_cpu_permille(s);
        let disk = slot_log_rate(s.disk_bytes, s);
        let net = slot_log_rate(s.net_bytes, s);
        let first = self.wall_us == 0;
        // Inputs are within ±2^24, so Q8 values stay below 2^33: no step can wrap (the wrapping
        // operations only keep overflow-check code out of the kernel build).
        let step = |e: &mut i64, v: i64, shift: u32| {
            let v = v.wrapping_shl(8);
            *e = if first {
                v
            } else {
                e.wrapping_add(v.wrapping_sub(*e) >> shift)
            };
        };
        step(&mut self.cpu_slow_q8, cpu, 4);
        step(&mut self.cpu_slower_q8, cpu, 6);
        step(&mut self.disk_slow_q8, disk, 4);
        step(&mut self.net_slow_q8, net, 4);
        let interval = u64::from(s.interval_us);
        self.cpu_us = self.cpu_us.saturating_add(s.cpu_us());
        self.wall_us = self.wall_us.saturating_add(interval).max(1);
        self.idle_us = if cpu >= ACTIVE_CPU_PERMILLE {
            0
        } else {
            self.idle_us.saturating_add(interval)
        };
    }
}

const ZERO_SLOT: Slot = Slot {
    interval_us: 1,
    cpu_user_us: 0,
    cpu_sys_us: 0,
    nvcsw: 0,
    nivcsw: 0,
    minflt: 0,
    majflt: 0,
    syscr: 0,
    syscw: 0,
    rss_anon_kib: 0,
    rss_file_shmem_kib: 0,
    vm_kib: 0,
    threads: 0,
    age_s: 0,
    disk_bytes: 0,
    rchar_bytes: 0,
    wchar_bytes: 0,
    net_bytes: 0,
    nice: 0,
    policy: 0,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_stays_compact() {
        // The module docs quote these sizes; the kernel holds one History per process.
        assert_eq!(size_of::<Slot>(), 96);
        assert_eq!(size_of::<History>(), 832);
    }

    #[test]
    fn ring_iterates_oldest_first_before_and_after_wrapping() {
        let mut h = History::new();
        assert!(h.is_empty() && h.newest().is_none() && h.window().is_none());
        for i in 0..3u64 {
            h.push(&RawSample {
                interval_ns: 1000,
                threads: i,
                ..Default::default()
            });
        }
        let mut seen = [0u32; 3];
        for (dst, s) in seen.iter_mut().zip(h.iter()) {
            *dst = s.threads;
        }
        assert_eq!((h.len(), seen), (3, [0, 1, 2]));
        for i in 3..(HISTORY_LEN as u64 + 5) {
            h.push(&RawSample {
                interval_ns: 1000,
                threads: i,
                ..Default::default()
            });
        }
        let w = h.window().unwrap();
        assert_eq!(w[0].threads, 5);
        assert_eq!(w[HISTORY_LEN - 1].threads, HISTORY_LEN as u32 + 4);
        h.clear();
        assert_eq!(h.len(), 0);
        assert!(h.iter().next().is_none());
    }

    #[test]
    fn narrowing_saturates_and_sums() {
        let s = Slot::from_raw(&RawSample {
            interval_ns: 0,
            cpu_user_ns: u64::MAX,
            rss_file_kib: 7,
            rss_shmem_kib: 5,
            disk_read_bytes: u64::MAX,
            disk_write_bytes: 1,
            net_rx_bytes: 3,
            net_tx_bytes: 4,
            nice: -100,
            policy: 1000,
            ..Default::default()
        });
        assert_eq!(s.interval_us, 1);
        assert_eq!(s.cpu_user_us, u32::MAX);
        assert_eq!(s.rss_file_shmem_kib, 12);
        assert_eq!(s.disk_bytes, u64::MAX);
        assert_eq!(s.net_bytes, 7);
        assert_eq!((s.nice, s.policy), (-20, 255));
    }
}
