//! Feature computation: a full [`History`] in, `[i32; N_FEATURES]` out, in integer arithmetic.
//!
//! The result is a function of the last [`HISTORY_LEN`] samples and of the history's
//! [`LongMemory`] (running EWMAs and sums since the process was first seen, updated by the same
//! [`History::push`] on both sides), so the trainer, pushing the same CSV rows, reproduces the
//! kernel's vector bit for bit by calling this same code (through `window.rs`). Names, units and order live in `schema.rs`; this file only
//! computes. Every value is clamped to `±FEATURE_MAX`.
//!
//! Rates are per second from the interval length, CPU is permille of one CPU; heavy-tailed
//! quantities (bytes, faults, switches, memory) go through [`log2_1p_q8`] — the integer stand-in
//! for `log1p` that makes them usable by a linear model. Averages use exact integer sums and round
//! half up; EWMAs start at the oldest sample and carry 8 extra fraction bits.
//!
//! Cost: about 45 integer logs, 30 divisions and 4 integer square roots per process
//! (`benches/evaluate.rs` times it).
//!
//! No floats, no allocation, no panics.

use super::fixed::{div_round_i64, isqrt_u64, log2_1p_q8, slog2_1p_q8, sum_i64, sum_u64};
use super::history::{History, LongMemory, Slot, HISTORY_LEN};
use super::schema::{Feature, FEATURE_MAX, N_FEATURES};

const K: usize = HISTORY_LEN;
const NEWEST: usize = K - 1;

// Lags 1..3 and the two window halves need at least 4 samples, in two equal halves.
const _: () = assert!(K >= 4 && K & 1 == 0 && K <= 64);

/// CPU permille below which an interval does not count as active (1 % of a CPU).
pub const ACTIVE_CPU_PERMILLE: i64 = 10;

/// Computes the feature vector of a full history; `None` until [`History::is_full`].
///
/// ```
/// use procperf_model::features::compute;
/// use procperf_model::history::History;
/// use procperf_model::sample::RawSample;
/// use procperf_model::schema::Feature;
/// let mut h = History::new();
/// let busy = RawSample { interval_ns: 1_000_000_000, cpu_user_ns: 250_000_000, ..Default::default() };
/// assert!(compute(&h).is_none());
/// for _ in 0..8 {
///     h.push(&busy);
/// }
/// let f = compute(&h).unwrap();
/// assert_eq!(f[Feature::CpuPermille.index()], 250);
/// assert_eq!(f[Feature::CpuActiveIntervals.index()], 8);
/// ```
pub fn compute(history: &History) -> Option<[i32; N_FEATURES]> {
    history.window().map(|w| compute_window(&w, history.long()))
}

/// Computes the feature vector of [`HISTORY_LEN`] consecutive slots, oldest first, and the long
/// memory of the history they are the window of.
pub fn compute_window(w: &[Slot; K], long: &LongMemory) -> [i32; N_FEATURES] {
    let cpu = w.map(|s| clamp(cpu_permille(&s)));
    let nvcsw = w.map(|s| log_rate(u64::from(s.nvcsw), &s));
    let disk = w.map(|s| log_rate(s.disk_bytes, &s));
    let net = w.map(|s| log_rate(s.net_bytes, &s));
    let rss = w.map(|s| s.rss_kib());
    let rss_change = changes(&rss);
    let total_us = sum_u64(w.iter().map(|s| u64::from(s.interval_us)));
    let window_log = |count: fn(&Slot) -> u64| -> i64 {
        let sum = w.iter().fold(0u64, |acc, s| acc.saturating_add(count(s)));
        log_per_second(sum, total_us)
    };
    let n = &w[NEWEST];

    let mut f = Features([0; N_FEATURES]);
    use Feature::*;

    f.put(CpuPermille, cpu[NEWEST]);
    f.put(CpuPermilleLag1, cpu[NEWEST - 1]);
    f.put(CpuPermilleLag2, cpu[NEWEST - 2]);
    f.put(CpuPermilleLag3, cpu[NEWEST - 3]);
    f.put(CpuPermilleEwmaShort, ewma(&cpu, 1));
    f.put(CpuPermilleEwmaLong, ewma(&cpu, 2));
    let cpu_us = sum_u64(w.iter().map(|s| s.cpu_us()));
    f.put(
        CpuPermilleMean,
        ratio(cpu_us.saturating_mul(1000), total_us),
    );
    f.put(CpuPermilleMax, cpu.iter().copied().max().unwrap_or(0));
    f.put(CpuPermilleMin, cpu.iter().copied().min().unwrap_or(0));
    f.put(
        CpuPermilleDelta,
        cpu[NEWEST].saturating_sub(cpu[NEWEST - 1]),
    );
    f.put(CpuPermilleTrend, trend(&cpu));
    f.put(CpuPermilleStd, std_dev(&cpu));
    f.put(
        CpuSysPermille,
        ratio(u64::from(n.cpu_sys_us) * 1000, u64::from(n.interval_us)),
    );
    f.put(
        CpuActiveIntervals,
        count_if(&cpu, |c| c >= ACTIVE_CPU_PERMILLE),
    );

    f.put(NvcswLog, nvcsw[NEWEST]);
    f.put(NvcswLogLag1, nvcsw[NEWEST - 1]);
    f.put(NvcswLogEwmaShort, ewma(&nvcsw, 1));
    f.put(NvcswLogWindow, window_log(|s| u64::from(s.nvcsw)));
    f.put(NivcswLog, log_rate(u64::from(n.nivcsw), n));
    f.put(NivcswLogWindow, window_log(|s| u64::from(s.nivcsw)));

    f.put(RssLog, log1p(rss[NEWEST]));
    f.put(RssAnonLog, log1p(u64::from(n.rss_anon_kib)));
    f.put(RssFileLog, log1p(u64::from(n.rss_file_shmem_kib)));
    f.put(RssDeltaSlog, slog(rss_change[K - 2]));
    f.put(RssDeltaEwmaShortSlog, slog(ewma(&rss_change, 1)));
    f.put(RssDeltaEwmaLongSlog, slog(ewma(&rss_change, 2)));
    f.put(RssDeltaWindowSlog, slog(signed_diff(rss[NEWEST], rss[0])));
    // Deviations from the newest value: same variance, no overflow for any RSS.
    let rss_dev = rss.map(|r| clamp(signed_diff(r, rss[NEWEST])));
    f.put(RssStdLog, log1p(std_dev(&rss_dev).unsigned_abs()));
    f.put(VmLog, log1p(u64::from(n.vm_kib)));
    f.put(
        VmDeltaWindowSlog,
        slog(signed_diff(u64::from(n.vm_kib), u64::from(w[0].vm_kib))),
    );
    f.put(MinfltLog, log_rate(u64::from(n.minflt), n));
    f.put(MinfltLogWindow, window_log(|s| u64::from(s.minflt)));
    f.put(MajfltLog, log_rate(u64::from(n.majflt), n));

    f.put(DiskLog, disk[NEWEST]);
    f.put(DiskLogLag1, disk[NEWEST - 1]);
    f.put(DiskLogEwmaShort, ewma(&disk, 1));
    f.put(DiskLogEwmaLong, ewma(&disk, 2));
    f.put(DiskLogWindow, window_log(|s| s.disk_bytes));
    f.put(DiskLogDelta, disk[NEWEST].saturating_sub(disk[NEWEST - 1]));
    f.put(DiskLogStd, std_dev(&disk));
    f.put(DiskActiveIntervals, count_if(&disk, |d| d > 0));
    f.put(RcharLog, log_rate(n.rchar_bytes, n));
    f.put(WcharLog, log_rate(n.wchar_bytes, n));
    f.put(SyscrLog, log_rate(u64::from(n.syscr), n));
    f.put(SyscwLog, log_rate(u64::from(n.syscw), n));
    f.put(
        RwcharLogWindow,
        window_log(|s| s.rchar_bytes.saturating_add(s.wchar_bytes)),
    );

    f.put(NetLog, net[NEWEST]);
    f.put(NetLogLag1, net[NEWEST - 1]);
    f.put(NetLogEwmaShort, ewma(&net, 1));
    f.put(NetLogEwmaLong, ewma(&net, 2));
    f.put(NetLogWindow, window_log(|s| s.net_bytes));
    f.put(NetLogDelta, net[NEWEST].saturating_sub(net[NEWEST - 1]));
    f.put(NetLogStd, std_dev(&net));
    f.put(NetActiveIntervals, count_if(&net, |d| d > 0));

    f.put(Threads, i64::from(n.threads));
    f.put(Nice, i64::from(n.nice));
    f.put(AgeLog, age_log(n));
    put_long(&mut f, long);
    f.0
}

/// The features of the long memory: coarse (an eighth of a doubling, whole doublings for time),
/// so that a sleeping process's values settle after a while instead of changing every pass.
fn put_long(f: &mut Features, long: &LongMemory) {
    let coarse = |v: i64| v & !31;
    // Q8 values are below 2^33 (see `LongMemory`): adding the half never wraps.
    let round_q8 = |q8: i64| q8.wrapping_add(128) >> 8;
    let log_permille = |q8: i64| coarse(log1p(round_q8(q8.max(0)).unsigned_abs()));
    f.put(Feature::CpuSlowLog, log_permille(long.cpu_slow_q8));
    f.put(Feature::CpuSlowerLog, log_permille(long.cpu_slower_q8));
    f.put(
        Feature::CpuSeenLog,
        coarse(log1p(
            ratio(long.cpu_us.saturating_mul(1000), long.wall_us).unsigned_abs(),
        )),
    );
    f.put(Feature::IdleLog, whole_doublings(long.idle_us / 1_000_000));
    f.put(Feature::DiskSlowLog, coarse(round_q8(long.disk_slow_q8)));
    f.put(Feature::NetSlowLog, coarse(round_q8(long.net_slow_q8)));
}

/// `floor(log2(1 + v))` in log2q8 units (multiples of 256).
fn whole_doublings(v: u64) -> i64 {
    let v = v.saturating_add(1);
    i64::from(u64::BITS - 1 - v.leading_zeros()) << 8
}

/// [`Feature::AgeLog`] of the newest slot: `floor(log2(1 + s))` whole doublings, in log2q8
/// units. Finer steps carried no signal (held-out CPU error was the same with the feature at
/// 1/256 doublings, in whole doublings, or left out) but changed every second for processes
/// younger than six minutes, which kept the sampler from reusing a sleeping process's prediction.
fn age_log(newest: &Slot) -> i64 {
    whole_doublings(u64::from(newest.age_s))
}

/// Turns `features`, those of a [still](super::history::History::is_still) history's window one
/// push earlier, into those of its window now: the same but for the age and the long memory's
/// features. The result equals [`compute_window`] of the window, at a fraction of its cost (a
/// property test checks it). Returns the features that changed: bit `j` for feature `j`.
pub fn refresh_still(features: &mut [i32; N_FEATURES], newest: &Slot, long: &LongMemory) -> u64 {
    let mut f = Features(*features);
    f.put(Feature::AgeLog, age_log(newest));
    put_long(&mut f, long);
    if f.0 == *features {
        return 0;
    }
    let mut changed = 0u64;
    for (j, (new, old)) in (0..N_FEATURES).zip(f.0.iter().zip(features.iter())) {
        changed |= u64::from(new != old) << (j & 63);
    }
    *features = f.0;
    changed
}

struct Features([i32; N_FEATURES]);

impl Features {
    fn put(&mut self, feature: Feature, value: i64) {
        if let Some(slot) = self.0.get_mut(feature.index()) {
            *slot = clamp(value) as i32;
        }
    }
}

fn clamp(v: i64) -> i64 {
    v.clamp(-i64::from(FEATURE_MAX), i64::from(FEATURE_MAX))
}

/// `num / den` rounded half up and clamped to the feature range, `0` for an empty denominator.
pub(super) fn ratio(num: u64, den: u64) -> i64 {
    if den == 0 {
        return 0;
    }
    // num / den fits u64; after rounding it may be one more, still well inside i64 after clamp.
    let q = num / den;
    let r = num % den;
    let q = if r >= den - r { q.saturating_add(1) } else { q };
    clamp(i64::try_from(q).unwrap_or(i64::MAX))
}

/// CPU permille of one slot (not yet clamped).
pub(super) fn cpu_permille(s: &Slot) -> i64 {
    ratio(s.cpu_us() * 1000, u64::from(s.interval_us))
}

/// CPU permille of one slot, clamped to the feature range.
pub(super) fn clamped_cpu_permille(s: &Slot) -> i64 {
    clamp(cpu_permille(s))
}

/// `log2q8(1 + count/s)` over one slot's interval.
pub(super) fn slot_log_rate(count: u64, s: &Slot) -> i64 {
    log_rate(count, s)
}

/// Events or bytes per second over `us` microseconds, saturating.
fn per_second(count: u64, us: u64) -> u64 {
    count.saturating_mul(1_000_000).checked_div(us).unwrap_or(0)
}

/// `log2q8(1 + count/s)` over `us` microseconds.
pub(super) fn log_per_second(count: u64, us: u64) -> i64 {
    i64::from(log2_1p_q8(per_second(count, us)).0)
}

fn log_rate(count: u64, s: &Slot) -> i64 {
    log_per_second(count, u64::from(s.interval_us))
}

fn log1p(v: u64) -> i64 {
    i64::from(log2_1p_q8(v).0)
}

fn slog(v: i64) -> i64 {
    i64::from(slog2_1p_q8(v).0)
}

/// `a - b` as `i64`, saturating.
fn signed_diff(a: u64, b: u64) -> i64 {
    let d = i128::from(a) - i128::from(b);
    i64::try_from(d).unwrap_or(if d < 0 { i64::MIN } else { i64::MAX })
}

/// Consecutive differences `v[i+1] - v[i]`, clamped to the feature range.
fn changes(v: &[u64; K]) -> [i64; K - 1] {
    let mut out = [0i64; K - 1];
    for (o, pair) in out.iter_mut().zip(v.windows(2)) {
        if let [a, b] = pair {
            *o = clamp(signed_diff(*b, *a));
        }
    }
    out
}

/// EWMA with `alpha = 2^-shift`, seeded with the first value, 8 extra fraction bits, rounded.
/// Inputs are clamped to ±2^24, so the Q8 state stays below 2^33.
fn ewma(values: &[i64], shift: u32) -> i64 {
    let mut it = values.iter().map(|&v| clamp(v) << 8);
    let mut e = it.next().unwrap_or(0);
    // |v|, |e| < 2^33: none of these can wrap (wrapping_* only avoids overflow-check code).
    for v in it {
        e = e.wrapping_add(v.wrapping_sub(e) >> shift);
    }
    e.wrapping_add(128) >> 8
}

/// Mean of the newer half minus mean of the older half, rounded.
fn trend(v: &[i64; K]) -> i64 {
    let (old, new) = v.split_at(K / 2);
    let diff = sum_i64(new.iter().copied()).saturating_sub(sum_i64(old.iter().copied()));
    div_round_i64(diff, (K / 2) as i64)
}

/// Population standard deviation, floored. Inputs are clamped to ±2^24: squares < 2^48, sums of
/// at most 64 of them < 2^54.
fn std_dev(v: &[i64; K]) -> i64 {
    let n = K as i64;
    let (s, ss) = v
        .iter()
        .map(|&x| clamp(x))
        .fold((0i64, 0i64), |(s, ss), x| {
            (s.saturating_add(x), ss.saturating_add(x.saturating_mul(x)))
        });
    // n^2 * variance = n * Σx² - (Σx)², >= 0 (exact in integers: no term saturates).
    let n2_var = n
        .saturating_mul(ss)
        .saturating_sub(s.saturating_mul(s))
        .max(0);
    (isqrt_u64(n2_var.unsigned_abs()) as i64) / n
}

fn count_if(v: &[i64], pred: impl Fn(i64) -> bool) -> i64 {
    sum_i64(v.iter().map(|&x| i64::from(pred(x))))
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::super::sample::RawSample;
    use super::*;
    use std::{vec, vec::Vec};

    const SEC: u64 = 1_000_000_000;

    fn feature(f: &[i32; N_FEATURES], which: Feature) -> i32 {
        f[which.index()]
    }

    fn features_of(samples: &[RawSample]) -> [i32; N_FEATURES] {
        let mut h = History::new();
        for s in samples {
            h.push(s);
        }
        compute(&h).expect("full history")
    }

    fn idle() -> RawSample {
        RawSample {
            interval_ns: SEC,
            ..Default::default()
        }
    }

    #[test]
    fn idle_process_has_all_zero_rate_features() {
        let f = features_of(&[idle(); K]);
        for (i, v) in f.iter().enumerate() {
            let name = super::super::schema::FEATURE_NAMES[i];
            if i == Feature::IdleLog.index() {
                // Idle for all 8 s seen: floor(log2(1 + 8)) = 3 doublings.
                assert_eq!(*v, 3 * 256);
            } else {
                assert_eq!(*v, 0, "{name}");
            }
        }
    }

    #[test]
    fn cpu_features_on_a_hand_computed_ramp() {
        // CPU permille 0, 100, ..., 700 over 1 s intervals.
        let s: Vec<RawSample> = (0..K as u64)
            .map(|i| RawSample {
                cpu_user_ns: i * SEC / 10,
                ..idle()
            })
            .collect();
        let f = features_of(&s);
        assert_eq!(feature(&f, Feature::CpuPermille), 700);
        assert_eq!(feature(&f, Feature::CpuPermilleLag1), 600);
        assert_eq!(feature(&f, Feature::CpuPermilleLag2), 500);
        assert_eq!(feature(&f, Feature::CpuPermilleLag3), 400);
        // EWMA alpha 1/2 of 0..700 step 100: e_k = 100 (k - 1 + 2^-k) → 600.78.
        assert_eq!(feature(&f, Feature::CpuPermilleEwmaShort), 601);
        // alpha 1/4: e_k = 100 (k - 3 + 3 (3/4)^k) → 400 + 300 * 0.1335 = 440.05.
        assert_eq!(feature(&f, Feature::CpuPermilleEwmaLong), 440);
        assert_eq!(feature(&f, Feature::CpuPermilleMean), 350);
        assert_eq!(feature(&f, Feature::CpuPermilleMax), 700);
        assert_eq!(feature(&f, Feature::CpuPermilleMin), 0);
        assert_eq!(feature(&f, Feature::CpuPermilleDelta), 100);
        assert_eq!(feature(&f, Feature::CpuPermilleTrend), 400);
        // std of 0..700 step 100 = 100 * sqrt(5.25) = 229.1.
        assert_eq!(feature(&f, Feature::CpuPermilleStd), 229);
        assert_eq!(feature(&f, Feature::CpuActiveIntervals), 7);
    }

    #[test]
    fn cpu_permille_uses_interval_and_counts_sys_separately() {
        let s = RawSample {
            interval_ns: SEC / 4,
            cpu_user_ns: SEC / 8,
            cpu_sys_ns: SEC / 16,
            ..idle()
        };
        let f = features_of(&[s; K]);
        assert_eq!(feature(&f, Feature::CpuPermille), 750);
        assert_eq!(feature(&f, Feature::CpuSysPermille), 250);
        assert_eq!(feature(&f, Feature::CpuPermilleMean), 750);
        assert_eq!(feature(&f, Feature::CpuPermilleStd), 0);
    }

    #[test]
    fn multithreaded_cpu_exceeds_one_cpu() {
        let s = RawSample {
            cpu_user_ns: 3 * SEC,
            cpu_sys_ns: SEC / 2,
            ..idle()
        };
        assert_eq!(feature(&features_of(&[s; K]), Feature::CpuPermille), 3500);
    }

    #[test]
    fn context_switch_rates_are_log_per_second() {
        let mut s = vec![
            RawSample {
                nvcsw: 7,
                nivcsw: 1,
                ..idle()
            };
            K
        ];
        // Newest interval is half a second: 255 switches in 0.5 s = 510/s.
        s[K - 1] = RawSample {
            interval_ns: SEC / 2,
            nvcsw: 255,
            nivcsw: 3,
            ..idle()
        };
        let f = features_of(&s);
        assert_eq!(feature(&f, Feature::NvcswLog), log1p(510) as i32);
        // log2(1 + 7) = 3.
        assert_eq!(feature(&f, Feature::NvcswLogLag1), 3 * 256);
        // EWMA 1/2: 768 through the first seven, then 768 + (2303 - 768) / 2 = 1535.5 → 1536.
        assert_eq!(log1p(510), 2303);
        assert_eq!(feature(&f, Feature::NvcswLogEwmaShort), 1536);
        assert_eq!(feature(&f, Feature::NivcswLog), log1p(6) as i32);
        // Window: (7*7 + 255) switches over 7.5 s = 40.53/s.
        assert_eq!(feature(&f, Feature::NvcswLogWindow), log1p(40) as i32);
        assert_eq!(feature(&f, Feature::NivcswLogWindow), log1p(1) as i32); // 10 / 7.5 s
    }

    #[test]
    fn rss_features_follow_a_steady_ramp() {
        // RSS grows 1024 KiB per interval: anon 1000 + 1024 i, file 500, shmem 12.
        let s: Vec<RawSample> = (0..K as u64)
            .map(|i| RawSample {
                rss_anon_kib: 1000 + 1024 * i,
                rss_file_kib: 500,
                rss_shmem_kib: 12,
                vm_kib: 100_000 + 4096 * i,
                ..idle()
            })
            .collect();
        let f = features_of(&s);
        let newest = 1000 + 1024 * 7 + 512;
        assert_eq!(feature(&f, Feature::RssLog), log1p(newest) as i32);
        assert_eq!(
            feature(&f, Feature::RssAnonLog),
            log1p(1000 + 1024 * 7) as i32
        );
        assert_eq!(feature(&f, Feature::RssFileLog), log1p(512) as i32);
        assert_eq!(feature(&f, Feature::RssDeltaSlog), slog(1024) as i32);
        assert_eq!(
            feature(&f, Feature::RssDeltaEwmaShortSlog),
            slog(1024) as i32
        );
        assert_eq!(
            feature(&f, Feature::RssDeltaEwmaLongSlog),
            slog(1024) as i32
        );
        assert_eq!(
            feature(&f, Feature::RssDeltaWindowSlog),
            slog(7 * 1024) as i32
        );
        // std of 0..7 * 1024 = 1024 * sqrt(5.25) = 2346.3.
        assert_eq!(feature(&f, Feature::RssStdLog), log1p(2346) as i32);
        assert_eq!(
            feature(&f, Feature::VmLog),
            log1p(100_000 + 4096 * 7) as i32
        );
        assert_eq!(
            feature(&f, Feature::VmDeltaWindowSlog),
            slog(7 * 4096) as i32
        );
    }

    #[test]
    fn shrinking_rss_gives_negative_signed_logs() {
        let s: Vec<RawSample> = (0..K as u64)
            .map(|i| RawSample {
                rss_anon_kib: 100_000 - 3000 * i,
                ..idle()
            })
            .collect();
        let f = features_of(&s);
        assert_eq!(feature(&f, Feature::RssDeltaSlog), -slog(3000) as i32);
        assert_eq!(
            feature(&f, Feature::RssDeltaWindowSlog),
            -slog(21_000) as i32
        );
    }

    #[test]
    fn fault_rates_are_log_per_second() {
        let mut s = vec![
            RawSample {
                minflt: 99,
                majflt: 1,
                ..idle()
            };
            K
        ];
        s[K - 1].minflt = 1023;
        s[K - 1].majflt = 15;
        let f = features_of(&s);
        assert_eq!(feature(&f, Feature::MinfltLog), 10 * 256);
        assert_eq!(feature(&f, Feature::MajfltLog), 4 * 256);
        // (7 * 99 + 1023) / 8 s = 214.5/s → 214.
        assert_eq!(feature(&f, Feature::MinfltLogWindow), log1p(214) as i32);
    }

    #[test]
    fn disk_features_sum_read_and_write() {
        let mut s = vec![idle(); K];
        s[K - 2] = RawSample {
            disk_read_bytes: 1023,
            ..idle()
        }; // log 10
        s[K - 1] = RawSample {
            disk_read_bytes: 2000,
            disk_write_bytes: 2095,
            ..idle()
        }; // 4095: log 12
        let f = features_of(&s);
        assert_eq!(feature(&f, Feature::DiskLog), 12 * 256);
        assert_eq!(feature(&f, Feature::DiskLogLag1), 10 * 256);
        assert_eq!(feature(&f, Feature::DiskLogDelta), 2 * 256);
        // EWMA 1/2 of [0 x6, 2560, 3072] = 2560/2 → 1280, then 1280 + (3072-1280)/2 = 2176.
        assert_eq!(feature(&f, Feature::DiskLogEwmaShort), 2176);
        // EWMA 1/4: 640, then 640 + (3072 - 640)/4 = 1248.
        assert_eq!(feature(&f, Feature::DiskLogEwmaLong), 1248);
        // (1023 + 4095) / 8 s = 639.75/s → 639.
        assert_eq!(feature(&f, Feature::DiskLogWindow), log1p(639) as i32);
        assert_eq!(feature(&f, Feature::DiskActiveIntervals), 2);
        // std of [0 x6, 2560, 3072]: mean 704, E[x²] = (2560² + 3072²)/8 = 1_998_848,
        // variance 1_503_232 → 1226.06.
        assert_eq!(feature(&f, Feature::DiskLogStd), 1226);
    }

    #[test]
    fn syscall_io_features_are_log_per_second() {
        let mut s = vec![idle(); K];
        s[K - 1] = RawSample {
            rchar_bytes: 255,
            wchar_bytes: 63,
            syscr: 3,
            syscw: 1,
            ..idle()
        };
        let f = features_of(&s);
        assert_eq!(feature(&f, Feature::RcharLog), 8 * 256);
        assert_eq!(feature(&f, Feature::WcharLog), 6 * 256);
        assert_eq!(feature(&f, Feature::SyscrLog), 2 * 256);
        assert_eq!(feature(&f, Feature::SyscwLog), 256);
        // 318 bytes / 8 s = 39.75 → 39.
        assert_eq!(feature(&f, Feature::RwcharLogWindow), log1p(39) as i32);
    }

    #[test]
    fn net_features_sum_rx_and_tx() {
        let mut s = vec![
            RawSample {
                net_rx_bytes: 7,
                ..idle()
            };
            K
        ];
        s[K - 1] = RawSample {
            net_rx_bytes: 100,
            net_tx_bytes: 155,
            ..idle()
        };
        let f = features_of(&s);
        assert_eq!(feature(&f, Feature::NetLog), 8 * 256);
        assert_eq!(feature(&f, Feature::NetLogLag1), 3 * 256);
        assert_eq!(feature(&f, Feature::NetLogDelta), 5 * 256);
        assert_eq!(feature(&f, Feature::NetActiveIntervals), 8);
        // EWMA 1/2 of [768 x7, 2048]: 768 + 1280/2 = 1408.
        assert_eq!(feature(&f, Feature::NetLogEwmaShort), 1408);
        assert_eq!(feature(&f, Feature::NetLogEwmaLong), 768 + 320);
        // (49 + 255) / 8 = 38/s.
        assert_eq!(feature(&f, Feature::NetLogWindow), log1p(38) as i32);
        // std of [768 x7, 2048]: 1280 * sqrt(7)/8 = 423.3.
        assert_eq!(feature(&f, Feature::NetLogStd), 423);
    }

    #[test]
    fn level_features_come_from_the_newest_sample() {
        let mut s = vec![idle(); K];
        s[K - 1] = RawSample {
            threads: 12,
            nice: -5,
            policy: 3,
            age_ms: 1_023_999,
            ..idle()
        };
        let f = features_of(&s);
        assert_eq!(feature(&f, Feature::Threads), 12);
        assert_eq!(feature(&f, Feature::Nice), -5);
        assert_eq!(feature(&f, Feature::AgeLog), 10 * 256);
    }

    #[test]
    fn age_counts_whole_doublings() {
        for (age_s, doublings) in [
            (0, 0),
            (1, 1),
            (2, 1),
            (3, 2),
            (6, 2),
            (7, 3),
            (1000, 9),
            (u32::MAX, 32),
        ] {
            let s = Slot {
                age_s,
                ..Slot::default()
            };
            assert_eq!(age_log(&s), doublings * 256, "age {age_s} s");
        }
    }

    #[test]
    fn extreme_counters_saturate_inside_the_feature_range() {
        let s = RawSample {
            interval_ns: 1,
            cpu_user_ns: u64::MAX,
            cpu_sys_ns: u64::MAX,
            rss_anon_kib: u64::MAX,
            rss_file_kib: u64::MAX,
            rss_shmem_kib: u64::MAX,
            vm_kib: u64::MAX,
            disk_read_bytes: u64::MAX,
            disk_write_bytes: u64::MAX,
            rchar_bytes: u64::MAX,
            wchar_bytes: u64::MAX,
            syscr: u64::MAX,
            syscw: u64::MAX,
            net_rx_bytes: u64::MAX,
            net_tx_bytes: u64::MAX,
            nvcsw: u64::MAX,
            nivcsw: u64::MAX,
            minflt: u64::MAX,
            majflt: u64::MAX,
            threads: u64::MAX,
            nice: i64::MIN,
            policy: u64::MAX,
            age_ms: u64::MAX,
        };
        let mut alternating = vec![s; K];
        for x in alternating.iter_mut().step_by(2) {
            *x = RawSample {
                interval_ns: 0,
                ..Default::default()
            };
        }
        for input in [vec![s; K], alternating] {
            let f = features_of(&input);
            assert!(f.iter().all(|v| v.abs() <= FEATURE_MAX));
        }
    }
}
