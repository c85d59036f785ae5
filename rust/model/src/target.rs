//! Targets: the current level of each predicted quantity, the target value at a horizon of `H`
//! intervals (the change of its level over the next `H` intervals from the current level, one of
//! [`HORIZONS`]), the base a model's predicted change is added to ([`BaseAlpha`]), and conversion
//! of levels to units people read.
//!
//! | target | level unit | learned value |
//! |---|---|---|
//! | cpu  | permille of one CPU | mean CPU over the next H intervals − newest interval's CPU |
//! | rss  | KiB | peak RSS of the next H samples − newest RSS |
//! | disk | log2q8(1 + B/s) | log of the mean block rate over the next H intervals − newest log rate |
//! | net  | log2q8(1 + B/s) | same, socket bytes |
//!
//! What a planner asks is "how much will this process use over the next minute", and a process
//! that exits uses nothing: intervals after the exit count as 0 (no CPU, no bytes, no memory), in
//! the mean of the rates and in the peak of RSS. For CPU, disk and net, the mean rate is what a
//! scheduler or an I/O budget spends; for memory it is the peak that must fit, so the RSS target
//! is the highest level ahead, not the mean.
//!
//! The models do not learn the change from the newest level directly: they learn the change from a
//! *base*, an EWMA of the level over the window ([`BaseAlpha`]; its smoothing factor is fitted by
//! the trainer and stored per target in the blob). On workloads it never saw, a model that learned
//! corrections to the EWMA baseline stays near that baseline instead of near persistence, and
//! the EWMA beats persistence there. A factor of 1000 ‰ makes the base the newest level.
//!
//! "Mean over the next H intervals" of a rate is their total over their total time, so a short
//! interval weighs less. Levels are `i64`, learned values `i32` (saturated). Predicted levels are
//! clamped at 0: no quantity here can be negative. No floats (the `f64` display conversion for the
//! trainer is `float::display_f64`).

use super::features::{cpu_permille, log_per_second, ratio};
use super::fixed::{div_round_i64, exp2m1_q8, sat_i32, Log2Q8};
use super::history::{History, Slot, HISTORY_LEN};
#[cfg(doc)]
use super::schema::HORIZONS;
use super::schema::{Target, HORIZON, N_TARGETS};

/// Level of every target now (newest sample of a full history); `None` until it is full. This is
/// also the persistence forecast ("next = current").
pub fn current_levels_of(history: &History) -> Option<[i64; N_TARGETS]> {
    history.window().map(|w| current_levels(&w))
}

/// Level of every target in the newest slot of a window, in target units.
pub fn current_levels(window: &[Slot; HISTORY_LEN]) -> [i64; N_TARGETS] {
    slot_levels(&window[HISTORY_LEN - 1])
}

/// Level of every target in one slot, in target units.
fn slot_levels(s: &Slot) -> [i64; N_TARGETS] {
    levels(
        cpu_permille(s),
        s.rss_kib(),
        log_per_second(s.disk_bytes, u64::from(s.interval_us)),
        log_per_second(s.net_bytes, u64::from(s.interval_us)),
    )
}

/// Level of every target in every slot of a window, oldest first: `past[target][slot]`.
pub fn window_levels(window: &[Slot; HISTORY_LEN]) -> [[i64; HISTORY_LEN]; N_TARGETS] {
    let mut past = [[0i64; HISTORY_LEN]; N_TARGETS];
    for (i, s) in window.iter().enumerate() {
        for (p, &l) in past.iter_mut().zip(slot_levels(s).iter()) {
            p[i] = l;
        }
    }
    past
}

/// Smoothing factor, in permille, of the EWMA that is a target's base level: the level a model's
/// predicted change is added to. 1000 ‰ makes the base the newest level (persistence).
///
/// The EWMA runs over the window only (oldest level first, then
/// `e += round(α·(level − e) / 1000)` per newer slot), in integers: the kernel and the trainer
/// compute the same base bit for bit. With the usual α of 300–500 ‰ the oldest slot's weight is
/// below 1 %, so the window-bound EWMA is the running one up to rounding.
///
/// ```
/// use procperf_model::history::HISTORY_LEN;
/// use procperf_model::target::BaseAlpha;
/// let mut past = [0i64; HISTORY_LEN];
/// past[HISTORY_LEN - 1] = 1000; // idle, then 100 % CPU in the newest interval
/// assert_eq!(BaseAlpha::PERSISTENCE.level(&past), 1000);
/// assert_eq!(BaseAlpha::new(400).unwrap().level(&past), 400);
/// assert_eq!(BaseAlpha::new(0), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BaseAlpha(u16);

impl BaseAlpha {
    /// α = 1: the base is the newest level.
    pub const PERSISTENCE: Self = Self(1000);

    /// A factor of `permille` (1..=1000), or `None`.
    pub const fn new(permille: u16) -> Option<Self> {
        if permille >= 1 && permille <= 1000 {
            Some(Self(permille))
        } else {
            None
        }
    }

    /// The factor in permille, 1..=1000.
    pub const fn permille(self) -> u16 {
        self.0
    }

    /// The base level of a window's levels (oldest first).
    pub fn level(self, past: &[i64; HISTORY_LEN]) -> i64 {
        let a = i64::from(self.0);
        let mut e = past[0];
        for &l in &past[1..] {
            e = e.saturating_add(div_round_i64(l.saturating_sub(e).saturating_mul(a), 1000));
        }
        e
    }
}

impl Default for BaseAlpha {
    fn default() -> Self {
        Self::PERSISTENCE
    }
}

/// Level of every target over the slots that follow a window (`future`, oldest first), then
/// `exited` more intervals of `exited_interval_us` each after the process exited: the mean rate
/// of CPU, disk and net over all of them (time-weighted; the exited intervals add time, nothing
/// else) and the peak RSS (0 if every interval is after the exit).
///
/// ```
/// use procperf_model::history::Slot;
/// use procperf_model::schema::Target;
/// use procperf_model::target::future_levels;
/// let busy = Slot { interval_us: 1_000_000, cpu_user_us: 600_000, rss_anon_kib: 2048, ..Default::default() };
/// // Two busy seconds, then the process exits: over a 6 s horizon it used 200 permille.
/// let l = future_levels(&[busy, busy], 4, 1_000_000);
/// assert_eq!(l[Target::Cpu.index()], 200);
/// assert_eq!(l[Target::Rss.index()], 2048);
/// ```
pub fn future_levels(future: &[Slot], exited: usize, exited_interval_us: u32) -> [i64; N_TARGETS] {
    let mut sums = FutureSums::default();
    for s in future {
        sums.add(s);
    }
    sums.levels(exited, exited_interval_us)
}

/// What [`future_levels`] needs of the slots ahead, added one slot at a time (so a minute of
/// slots need not be held at once).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FutureSums {
    us: u64,
    cpu_us: u64,
    disk_bytes: u64,
    net_bytes: u64,
    rss_peak_kib: u64,
}

impl FutureSums {
    /// No slot added yet.
    pub const fn new() -> Self {
        Self {
            us: 0,
            cpu_us: 0,
            disk_bytes: 0,
            net_bytes: 0,
            rss_peak_kib: 0,
        }
    }

    /// Adds the next slot.
    pub fn add(&mut self, s: &Slot) {
        self.us = self.us.saturating_add(u64::from(s.interval_us));
        self.cpu_us = self.cpu_us.saturating_add(s.cpu_us());
        self.disk_bytes = self.disk_bytes.saturating_add(s.disk_bytes);
        self.net_bytes = self.net_bytes.saturating_add(s.net_bytes);
        self.rss_peak_kib = self.rss_peak_kib.max(s.rss_kib());
    }

    /// The levels of the slots added, then `exited` intervals of `exited_interval_us` after an
    /// exit ([`future_levels`]).
    pub fn levels(&self, exited: usize, exited_interval_us: u32) -> [i64; N_TARGETS] {
        let dead_us = (exited as u64).saturating_mul(u64::from(exited_interval_us));
        let us = self.us.saturating_add(dead_us);
        levels(
            ratio(self.cpu_us.saturating_mul(1000), us),
            self.rss_peak_kib,
            log_per_second(self.disk_bytes, us),
            log_per_second(self.net_bytes, us),
        )
    }
}

fn levels(cpu: i64, rss_kib: u64, disk: i64, net: i64) -> [i64; N_TARGETS] {
    let rss = i64::try_from(rss_kib).unwrap_or(i64::MAX);
    let mut out = [0i64; N_TARGETS];
    for (o, t) in out.iter_mut().zip(Target::ALL.iter()) {
        *o = match t {
            Target::Cpu => cpu,
            Target::Rss => rss,
            Target::Disk => disk,
            Target::Net => net,
        };
    }
    out
}

/// The outcome of the forecasts made [`HORIZON`] samples before a window's newest one, for the
/// shortest horizon: every target's level over the window's newest [`HORIZON`] slots
/// ([`future_levels`] of those slots). What [`super::blend::Blend`] scores forecasts against (a
/// process scored is alive, so nothing of it is after an exit).
pub fn outcome_levels(window: &[Slot; HISTORY_LEN]) -> [i64; N_TARGETS] {
    future_levels(&window[HISTORY_LEN - HORIZON..], 0, 1)
}

/// The target values: [`future_levels`] minus [`current_levels`], saturated to `i32`. A model learns
/// this minus (base − current level), see [`BaseAlpha`].
///
/// ```
/// use procperf_model::history::{Slot, HISTORY_LEN};
/// use procperf_model::schema::{Target, HORIZON};
/// use procperf_model::target::target_values;
/// let idle = Slot { interval_us: 1_000_000, ..Default::default() };
/// let busy = Slot { cpu_user_us: 500_000, ..idle };
/// let v = target_values(&[idle; HISTORY_LEN], &[busy; HORIZON], 0);
/// assert_eq!(v[Target::Cpu.index()], 500); // from 0 to 500 permille
/// ```
pub fn target_values(
    window: &[Slot; HISTORY_LEN],
    future: &[Slot],
    exited: usize,
) -> [i32; N_TARGETS] {
    let exited_interval = window[HISTORY_LEN - 1].interval_us;
    changes(
        &current_levels(window),
        &future_levels(future, exited, exited_interval),
    )
}

/// `next - now` per target, saturated to `i32`: a learned value.
pub fn changes(now: &[i64; N_TARGETS], next: &[i64; N_TARGETS]) -> [i32; N_TARGETS] {
    let mut out = [0i32; N_TARGETS];
    for ((o, n), f) in out.iter_mut().zip(now).zip(next) {
        *o = sat_i32(f.saturating_sub(*n));
    }
    out
}

/// A predicted level from the current level and a predicted change, clamped at 0.
pub fn level_from_delta(current: i64, delta: i64) -> i64 {
    current.saturating_add(delta).max(0)
}

/// A level in thousandths of [`Target::display_unit`]: CPU in m% (1000 = 1 %), RSS in 1/1000 MiB,
/// disk and net in 1/1000 KiB/s. Integer only, for the kernel's text files.
///
/// ```
/// use procperf_model::schema::Target;
/// use procperf_model::target::display_milli;
/// assert_eq!(display_milli(Target::Cpu, 255), 25_500); // 255 permille = 25.5 %
/// assert_eq!(display_milli(Target::Rss, 1536), 1_500); // 1536 KiB = 1.5 MiB
/// assert_eq!(display_milli(Target::Disk, 11 * 256), 1_999); // 2^11 - 1 B/s = 1.999 KiB/s
/// ```
pub fn display_milli(target: Target, level: i64) -> i64 {
    let level = level.max(0);
    match target {
        Target::Cpu => level.saturating_mul(100),
        Target::Rss => div_round_i64(level.saturating_mul(1000), 1024),
        Target::Disk | Target::Net => {
            let bytes_per_s = exp2m1_q8(Log2Q8(sat_i32(level)));
            // u64 -> i64 saturating, then the same rounding as RSS.
            let b = i64::try_from(bytes_per_s).unwrap_or(i64::MAX);
            div_round_i64(b.saturating_mul(1000), 1024)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC_US: u32 = 1_000_000;

    fn idle() -> Slot {
        Slot {
            interval_us: SEC_US,
            ..Default::default()
        }
    }

    #[test]
    fn cpu_target_is_time_weighted_mean_minus_current() {
        let mut w = [idle(); HISTORY_LEN];
        w[HISTORY_LEN - 1].cpu_user_us = 200_000; // 200 permille now
        let mut f = [idle(); HORIZON];
        f[0] = Slot {
            interval_us: 2 * SEC_US,
            cpu_user_us: 2 * SEC_US,
            ..idle()
        }; // 2 s busy
           // (2 s of CPU) / (6 s) = 333.3 permille.
        assert_eq!(future_levels(&f, 0, 1)[Target::Cpu.index()], 333);
        assert_eq!(target_values(&w, &f, 0)[Target::Cpu.index()], 133);
        // The same 2 s of CPU, then the process exits: 4 more seconds at 0 count too.
        assert_eq!(target_values(&w, &f[..1], 4)[Target::Cpu.index()], 133);
        assert_eq!(target_values(&w, &f[..1], 0)[Target::Cpu.index()], 800);
    }

    #[test]
    fn rss_target_is_peak_of_future_samples_minus_current() {
        let mut w = [idle(); HISTORY_LEN];
        w[HISTORY_LEN - 1].rss_anon_kib = 1000;
        let f: [Slot; HORIZON] = core::array::from_fn(|i| Slot {
            rss_anon_kib: 1000 + 100 * (i as u32 + 1),
            ..idle()
        });
        assert_eq!(current_levels(&w)[Target::Rss.index()], 1000);
        assert_eq!(target_values(&w, &f, 0)[Target::Rss.index()], 500);
        // Exited at once: nothing resident ahead.
        assert_eq!(target_values(&w, &[], 5)[Target::Rss.index()], -1000);
        assert_eq!(target_values(&w, &f[..2], 3)[Target::Rss.index()], 200);
    }

    #[test]
    fn io_targets_are_log_ratios_of_mean_rates() {
        let mut w = [idle(); HISTORY_LEN];
        w[HISTORY_LEN - 1].disk_bytes = 1023; // log 10
        w[HISTORY_LEN - 1].net_bytes = 0;
        let mut f = [idle(); HORIZON];
        f[0].disk_bytes = 5 * 4095; // mean 4095 B/s: log 12
        f[4].net_bytes = 5 * 255; // mean 255 B/s: log 8
        let v = target_values(&w, &f, 0);
        assert_eq!(v[Target::Disk.index()], 2 * 256);
        assert_eq!(v[Target::Net.index()], 8 * 256);
    }

    #[test]
    fn base_is_an_ewma_over_the_window() {
        let past: [i64; HISTORY_LEN] = core::array::from_fn(|i| 100 * i as i64);
        for a in [1u16, 250, 500, 999, 1000] {
            let alpha = f64::from(a) / 1000.0;
            let mut e = past[0] as f64;
            for &l in &past[1..] {
                e += alpha * (l as f64 - e);
            }
            let got = BaseAlpha::new(a).unwrap().level(&past);
            // One rounding per step, at most half a unit each.
            assert!(
                (got as f64 - e).abs() <= 0.5 * (HISTORY_LEN - 1) as f64,
                "{a}: {got} vs {e}"
            );
        }
        assert_eq!(BaseAlpha::PERSISTENCE.level(&past), past[HISTORY_LEN - 1]);
        assert_eq!(
            BaseAlpha::new(500).unwrap().level(&[i64::MAX; HISTORY_LEN]),
            i64::MAX
        );
        let extreme: [i64; HISTORY_LEN] =
            core::array::from_fn(|i| if i % 2 == 0 { i64::MIN } else { i64::MAX });
        let _ = BaseAlpha::new(700).unwrap().level(&extreme); // saturates, never overflows
    }

    #[test]
    fn window_levels_end_with_the_current_levels() {
        let mut w = [idle(); HISTORY_LEN];
        for (i, s) in w.iter_mut().enumerate() {
            s.cpu_user_us = 100_000 * i as u32;
        }
        let past = window_levels(&w);
        assert_eq!(
            past[Target::Cpu.index()][HISTORY_LEN - 1],
            current_levels(&w)[Target::Cpu.index()]
        );
        assert_eq!(past[Target::Cpu.index()][2], 200);
    }

    #[test]
    fn predicted_levels_never_go_negative() {
        assert_eq!(level_from_delta(100, -300), 0);
        assert_eq!(level_from_delta(i64::MAX, 1), i64::MAX);
        assert_eq!(display_milli(Target::Cpu, -5), 0);
    }

    #[test]
    fn display_of_io_levels_inverts_the_log() {
        assert_eq!(display_milli(Target::Net, 0), 0);
        assert_eq!(display_milli(Target::Net, 20 * 256), 1_023_999); // 2^20 - 1 B/s
                                                                     // Saturates: u64::MAX B/s clamps to i64::MAX before the KiB conversion.
        assert_eq!(
            display_milli(Target::Disk, i64::MAX),
            div_round_i64(i64::MAX, 1024)
        );
    }
}
