//! The anomaly flag: a process whose level has stayed well above what was forecast for it.
//!
//! Each pass, each target's current level is compared with the upper end of the band published at
//! the previous pass for the longest horizon (a minute at the default interval: the mean CPU, disk
//! and network rate and the peak RSS the process was expected to stay within). A level above
//! `hi + max(hi − forecast, floor)` (the band's upper half once more, and at least a floor per
//! target: [`FLOORS`]) starts a watch that keeps that limit: the forecasts that follow learn the new
//! level within a few passes, and a limit that moved with them would never see a sustained
//! change. The target is flagged once its level has been above the kept limit for
//! [`ANOMALY_PASSES`] passes in a row; the watch ends when the level falls back under the limit,
//! or after [`ANOMALY_HOLD`] passes, when the new level is the process's normal.
//!
//! Only excess is flagged: a process that suddenly spins, takes memory or floods a disk or the
//! network, not one that goes quiet. A rise spread over many passes, each step within the margin
//! of a band that followed the last, is what the forecasts expected and is not flagged. The flag is a pure function of the published forecasts and
//! the levels, so the kernel and the trainer's replay raise it on the same passes; what it costs
//! in false flags on programs behaving normally is measured by `trainer eval` (flags per
//! process-hour). No floats, no allocation, no panics.

use super::blob::Predictions;
use super::fixed::sat_i32;
use super::schema::N_TARGETS;

/// Passes in a row a level must stay above its limit to be flagged.
pub const ANOMALY_PASSES: u8 = 10;

/// Passes a watch lasts at most: then the level is taken as the process's new normal.
pub const ANOMALY_HOLD: u8 = 60;

/// Least excess over the band's upper end that starts a watch, per target in model units: CPU
/// 200 permille (a fifth of a CPU), RSS 16 MiB, disk and network a factor of 4 in rate (2 in
/// log2). With [`ANOMALY_PASSES`], what sets the false-flag rate on programs behaving normally.
pub const FLOORS: [i64; N_TARGETS] = [200, 16384, 512, 512];

/// One target's watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Watch {
    /// The limit kept from the band when the watch started; [`IDLE`] when none runs.
    limit: i32,
    /// Passes in a row above the limit.
    above: u8,
    /// Passes since the watch started.
    age: u8,
}

const IDLE: i32 = i32::MAX;

impl Watch {
    const NEW: Self = Self {
        limit: IDLE,
        above: 0,
        age: 0,
    };
}

/// One process's watches, every target.
///
/// ```
/// use procperf_model::anomaly::{Anomaly, ANOMALY_PASSES};
/// use procperf_model::blob::Prediction;
/// use procperf_model::schema::{Target, N_TARGETS};
///
/// // A sleeper forecast at 10 permille CPU (band up to 30) starts spinning at 1000.
/// let mut band = [None; N_TARGETS];
/// band[Target::Cpu.index()] = Some(Prediction { forest: 10, forest_hi: 30, ..Default::default() });
/// let mut a = Anomaly::new();
/// let spinning = [1000, 0, 0, 0];
/// for pass in 1..=ANOMALY_PASSES {
///     assert_eq!(a.flags(), 0);
///     a.observe(&spinning, Some(&band));
/// }
/// assert_eq!(a.flags(), 1 << Target::Cpu.index());
/// // Back to sleep: the flag clears at once.
/// a.observe(&[10, 0, 0, 0], Some(&band));
/// assert_eq!(a.flags(), 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Anomaly {
    watches: [Watch; N_TARGETS],
}

impl Default for Anomaly {
    fn default() -> Self {
        Self::new()
    }
}

impl Anomaly {
    /// No watch running.
    pub const fn new() -> Self {
        Self {
            watches: [Watch::NEW; N_TARGETS],
        }
    }

    /// One pass: each target's current `levels` against `previous`, the longest horizon's
    /// predictions published at the previous pass (`None`: there were none).
    pub fn observe(&mut self, levels: &[i64; N_TARGETS], previous: Option<&Predictions>) {
        let per_target = self.watches.iter_mut().zip(levels).zip(FLOORS.iter());
        for (t, ((w, &level), &floor)) in (0..N_TARGETS).zip(per_target) {
            let level = sat_i32(level);
            if w.limit != IDLE {
                w.age = w.age.saturating_add(1);
                if level > w.limit && w.age < ANOMALY_HOLD {
                    w.above = w.above.saturating_add(1);
                    continue;
                }
                // Back under the limit, or the watch ran its course: the next pass's band may start
                // a new one (a process still above forecasts that followed it is still anomalous).
                *w = Watch::NEW;
                continue;
            }
            let band = previous.and_then(|p| p.get(t).copied().flatten());
            let Some(p) = band else { continue };
            let margin = p.forest_hi.saturating_sub(p.forest).max(floor);
            let limit = sat_i32(p.forest_hi.saturating_add(margin));
            if level > limit {
                *w = Watch {
                    limit,
                    above: 1,
                    age: 0,
                };
            }
        }
    }

    /// Whether no watch runs. A pass that found none running and left none running changes
    /// nothing when repeated with the same levels and the same previous band.
    pub fn is_idle(&self) -> bool {
        self.watches.iter().all(|w| w.limit == IDLE)
    }

    /// Bit `t` is set when target `t` (index into [`super::schema::Target::ALL`]) is flagged.
    pub fn flags(&self) -> u8 {
        let mut flags = 0;
        for (t, w) in self.watches.iter().enumerate() {
            if w.limit != IDLE && w.above >= ANOMALY_PASSES {
                flags |= 1 << t;
            }
        }
        flags
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blob::Prediction;
    use crate::schema::Target;

    fn band(t: Target, forest: i64, hi: i64) -> Predictions {
        let mut b = [None; N_TARGETS];
        b[t.index()] = Some(Prediction {
            forest,
            forest_hi: hi,
            ..Prediction::default()
        });
        b
    }

    #[test]
    fn a_leak_is_flagged_after_the_passes_and_released_after_the_hold() {
        let rss = Target::Rss.index();
        let mut a = Anomaly::new();
        // The process grows 20 MiB per pass while the forecasts follow it (each pass's band is
        // just below the level).
        let mut level = 110 * 1024;
        let mut flagged_at = None;
        for pass in 0..100 {
            let prev = band(Target::Rss, level - 2048, level - 1024);
            level += 20 * 1024;
            let mut levels = [0; N_TARGETS];
            levels[rss] = level;
            a.observe(&levels, Some(&prev));
            if a.flags() != 0 && flagged_at.is_none() {
                flagged_at = Some(pass);
            }
            if pass == usize::from(ANOMALY_HOLD) + 2 {
                assert_eq!(a.flags(), 0, "released after the hold");
            }
        }
        assert_eq!(flagged_at, Some(usize::from(ANOMALY_PASSES) - 1));
    }

    #[test]
    fn small_excess_and_drops_are_not_flagged() {
        let mut a = Anomaly::new();
        let prev = band(Target::Cpu, 100, 150);
        for _ in 0..20 {
            a.observe(&[340, 0, 0, 0], Some(&prev)); // above hi, within the margin (200)
            assert_eq!(a.flags(), 0);
            a.observe(&[0, 0, 0, 0], Some(&prev)); // far below
            assert_eq!(a.flags(), 0);
        }
    }

    #[test]
    fn one_pass_back_under_the_limit_ends_the_watch() {
        let mut a = Anomaly::new();
        let prev = band(Target::Net, 0, 256);
        for _ in 0..ANOMALY_PASSES - 1 {
            a.observe(&[0, 0, 0, 4000], Some(&prev));
        }
        a.observe(&[0, 0, 0, 0], Some(&prev));
        for _ in 0..ANOMALY_PASSES - 1 {
            a.observe(&[0, 0, 0, 4000], Some(&prev));
        }
        assert_eq!(a.flags(), 0);
        a.observe(&[0, 0, 0, 4000], Some(&prev));
        assert_eq!(a.flags(), 1 << Target::Net.index());
    }

    #[test]
    fn no_band_no_watch() {
        let mut a = Anomaly::new();
        for _ in 0..10 {
            a.observe(&[i64::MAX; N_TARGETS], None);
        }
        assert_eq!(a.flags(), 0);
    }
}
