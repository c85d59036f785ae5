//! Adaptive intervals: per process, target and horizon, the published band's ends move with the
//! outcomes this process has already produced, so that coverage holds where the model is off the
//! distribution it was calibrated on.
//!
//! A model's band is split-conformal: offsets from the forecast that covered 80 % of the
//! calibration rows (each end missed by 10 %). Those offsets are constants, in target units, for
//! every process: on a host whose programs err more than the calibration rows did (a database's
//! disk, a web server's network), the band is too narrow for all of them; on one whose programs
//! err less, too wide. Online quantile tracking (the idea behind adaptive conformal inference,
//! Gibbs & Candès 2021, and conformal PID control, Angelopoulos et al. 2023) corrects the ends
//! from outcomes: a miss moves the missed end out by [`MISS_STEPS`] steps; an outcome inside
//! moves both ends in by one step, or by two the one end that can still move (the other sits on
//! the forecast). The ends stop moving when each is missed by 10 % of outcomes, or, for a
//! quantity that only errs one way (a peak RSS that the forecast rarely overshoots), when the one
//! end is missed by 20 %: the band covers 80 % either way, whatever the model's calibration said.
//!
//! Outcomes come from one *check* per horizon: when none is running, the published forecast and
//! band are kept and the next `H` slots summed ([`FutureSums`], the targets' own definition); after
//! `H` slots the check is scored and a new one starts. So a 5 s band learns from an outcome every
//! 5 passes, a minute's band from one every 60, at a few bytes per process instead of a minute of
//! pending forecasts. A process that exits takes its unscored check with it. Only *active* checks
//! are scored, those where the process used at least [`ACTIVE_CPU_PERMILLE`] at the start or over
//! the horizon: the rows a model's band is calibrated and scored on. A sleeper's exact outcomes
//! would otherwise close its band on the forecast, and its next busy phase would miss it.
//!
//! A step is `(half the band's width + mean error) / 2^STEP_SHIFT` of the scored check, the mean
//! error being an EWMA of this process's absolute errors at that head before this outcome (seeded
//! with its first): steps scale with the process, from RSS in GiB to a CPU at a few permille; a
//! band far too wide narrows geometrically, and one that collapsed to a point can still grow. An
//! end never moves inside the forecast. (With the whole width in the step, a band just widened by
//! a miss steps back in faster than it stepped out, and covers less than nominal.)
//!
//! The state ([`Adaptive`], 288 bytes) is kept in integers and updated by the model crate's
//! [`super::forecast::Forecast`] in the kernel and in the trainer's replay alike: the kernel's
//! published band equals `trainer predict`'s bit for bit. No floats, no allocation, no panics.

use super::blob::Prediction;
use super::features::ACTIVE_CPU_PERMILLE;
use super::fixed::sat_i32;
use super::history::Slot;
use super::schema::{Target, HORIZONS, N_HORIZONS, N_TARGETS};
use super::target::FutureSums;

/// Steps a missed end moves out; 8 balances one step in per end on 80 % of outcomes against a
/// miss of each end on 10 % (or two steps in for the one movable end against its misses on 20 %).
pub const MISS_STEPS: i32 = 8;

/// A step is `2^-STEP_SHIFT` of half the scored band's width plus the mean error.
pub const STEP_SHIFT: u32 = 4;

/// The mean absolute error decays by `2^-ERR_SHIFT` per scored check.
pub const ERR_SHIFT: u32 = 3;

/// Every horizon fits the check's pass counter.
const _: () = assert!(super::schema::MAX_HORIZON <= u8::MAX as usize);

/// One head's record: how far each end has moved out from the model's band, and the mean error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ends {
    /// Added to the model's lower offset (forecast − lo), target units; negative narrows.
    lo: i32,
    /// Added to the model's upper offset (hi − forecast).
    hi: i32,
    /// EWMA of the absolute error of the published forecast; [`UNSEEDED`] before the first check.
    err: u32,
}

/// The mean error of a head with no check scored yet.
const UNSEEDED: u32 = u32::MAX;

impl Ends {
    const NEW: Self = Self {
        lo: 0,
        hi: 0,
        err: UNSEEDED,
    };

    /// Scores one outcome against the forecast `f` and band `[lo, hi]` it was published with.
    fn score(&mut self, outcome: i64, [f, lo, hi]: [i32; 3]) {
        let (f, lo, hi) = (i64::from(f), i64::from(lo), i64::from(hi));
        let abs = u32::try_from(outcome.abs_diff(f)).unwrap_or(UNSEEDED - 1);
        // The step comes from the errors before this outcome: a step that grew with the outcome's
        // own error would move ends out further on misses than in on hits, and over-cover.
        let prior = if self.err == UNSEEDED { abs } else { self.err };
        let e = i64::from(prior);
        let moved = e.saturating_add((i64::from(abs) - e) >> ERR_SHIFT);
        self.err = u32::try_from(moved)
            .unwrap_or(UNSEEDED - 1)
            .min(UNSEEDED - 1);
        let width = hi.saturating_sub(lo).max(0);
        let step = ((width >> 1).saturating_add(e) >> STEP_SHIFT).max(1);
        let step = sat_i32(step);
        let out = step.saturating_mul(MISS_STEPS);
        if outcome > hi {
            self.hi = self.hi.saturating_add(out);
        } else if outcome < lo {
            self.lo = self.lo.saturating_add(out);
        } else {
            let (hi_moves, lo_moves) = (hi > f, lo < f);
            let each = if hi_moves && lo_moves {
                step
            } else {
                step.saturating_mul(2)
            };
            if hi_moves {
                self.hi = self.hi.saturating_sub(each);
            }
            if lo_moves {
                self.lo = self.lo.saturating_sub(each);
            }
        }
    }

    /// The band of `p` with its ends moved: `[f − max(f − lo + self.lo, 0), f + max(hi − f +
    /// self.hi, 0)]`, the lower end clamped at 0.
    fn apply(&self, p: Prediction) -> Prediction {
        let f = p.forest;
        let up = p
            .forest_hi
            .saturating_sub(f)
            .saturating_add(i64::from(self.hi))
            .max(0);
        let down = f
            .saturating_sub(p.forest_lo)
            .saturating_add(i64::from(self.lo))
            .max(0);
        Prediction {
            forest_lo: f.saturating_sub(down).max(0),
            forest_hi: f.saturating_add(up),
            ..p
        }
    }
}

/// One horizon's running check: the forecasts it scores and the slots summed since.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Check {
    /// Slots still to come; 0 when no check runs.
    left: u8,
    /// Per target: the published forecast, lower and upper end.
    at: [[i32; 3]; N_TARGETS],
    /// Bit `t` is set when target `t` was published.
    has: u8,
    /// The process was active when the check started.
    active: bool,
    sums: FutureSums,
}

impl Check {
    const IDLE: Self = Self {
        left: 0,
        at: [[0; 3]; N_TARGETS],
        has: 0,
        active: false,
        sums: FutureSums::new(),
    };
}

impl Default for Adaptive {
    fn default() -> Self {
        Self::new()
    }
}

/// One process's adaptive-interval state, every target and horizon.
///
/// ```
/// use procperf_model::adapt::Adaptive;
/// use procperf_model::blob::Prediction;
/// use procperf_model::history::Slot;
/// use procperf_model::schema::{Target, HORIZON, N_HORIZONS, N_TARGETS};
///
/// // A process at 500 ‰ CPU that the model forecasts at 100 ‰ with a band of ±50: every check
/// // misses the upper end, and the band grows until it holds the outcomes.
/// let busy = Slot { interval_us: 1_000_000, cpu_user_us: 500_000, ..Default::default() };
/// let model = Prediction { forest: 100, forest_lo: 50, forest_hi: 150, ..Default::default() };
/// let mut raw = [[None; N_TARGETS]; N_HORIZONS];
/// raw[0][Target::Cpu.index()] = Some(model);
/// let mut a = Adaptive::new();
/// let mut published = raw;
/// for _ in 0..20 * HORIZON {
///     a.observe(&busy);
///     published = raw;
///     a.apply(&mut published);
///     a.start(&published, &[500; N_TARGETS]);
/// }
/// let cpu = published[0][Target::Cpu.index()].unwrap();
/// // The upper end is missed until it holds 500; the lower one, never missed, closes on the forecast.
/// assert!(cpu.forest_hi >= 500, "{}", cpu.forest_hi);
/// assert_eq!((cpu.forest, cpu.forest_lo), (100, 100));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Adaptive {
    ends: [[Ends; N_TARGETS]; N_HORIZONS],
    checks: [Check; N_HORIZONS],
}

impl Adaptive {
    /// A process with no outcome seen: the model's bands are published as they are.
    pub const fn new() -> Self {
        Self {
            ends: [[Ends::NEW; N_TARGETS]; N_HORIZONS],
            checks: [Check::IDLE; N_HORIZONS],
        }
    }

    /// A pass's newest slot: adds it to every running check and scores those it completes.
    pub fn observe(&mut self, newest: &Slot) {
        for (check, ends) in self.checks.iter_mut().zip(self.ends.iter_mut()) {
            if check.left == 0 {
                continue;
            }
            check.sums.add(newest);
            check.left = check.left.saturating_sub(1);
            if check.left > 0 {
                continue;
            }
            let outcome = check.sums.levels(0, 1);
            let cpu = outcome.get(Target::Cpu.index()).copied().unwrap_or(0);
            if !check.active && cpu < ACTIVE_CPU_PERMILLE {
                continue;
            }
            let per_target = ends.iter_mut().zip(check.at).zip(&outcome);
            for (t, ((end, at), &y)) in (0..N_TARGETS).zip(per_target) {
                if check.has & (1 << t) != 0 {
                    end.score(y, at);
                }
            }
        }
    }

    /// Moves the ends of every band in `predictions` as this process's outcomes say.
    pub fn apply(&self, predictions: &mut [[Option<Prediction>; N_TARGETS]; N_HORIZONS]) {
        for (per_target, ends) in predictions.iter_mut().zip(&self.ends) {
            for (p, end) in per_target.iter_mut().zip(ends) {
                if let Some(p) = p {
                    *p = end.apply(*p);
                }
            }
        }
    }

    /// Starts a check at every horizon where none runs, on this pass's `published` predictions
    /// and current `levels`.
    pub fn start(
        &mut self,
        published: &[[Option<Prediction>; N_TARGETS]; N_HORIZONS],
        levels: &[i64; N_TARGETS],
    ) {
        let active = levels
            .get(Target::Cpu.index())
            .is_some_and(|&c| c >= ACTIVE_CPU_PERMILLE);
        for ((check, per_target), &h) in self.checks.iter_mut().zip(published).zip(&HORIZONS) {
            if check.left > 0 || per_target.iter().all(Option::is_none) {
                continue;
            }
            let mut next = Check {
                left: h as u8,
                active,
                ..Check::IDLE
            };
            for (t, (at, p)) in (0..N_TARGETS).zip(next.at.iter_mut().zip(per_target)) {
                if let Some(p) = p {
                    *at = [p.forest, p.forest_lo, p.forest_hi].map(sat_i32);
                    next.has |= 1 << t;
                }
            }
            *check = next;
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::schema::{Target, HORIZON};

    const SEC_US: u32 = 1_000_000;

    fn cpu(permille: u32) -> Slot {
        Slot {
            interval_us: SEC_US,
            cpu_user_us: permille * 1000,
            ..Default::default()
        }
    }

    fn band(f: i64, lo: i64, hi: i64) -> [[Option<Prediction>; N_TARGETS]; N_HORIZONS] {
        let mut raw = [[None; N_TARGETS]; N_HORIZONS];
        for per_target in &mut raw {
            per_target[Target::Cpu.index()] = Some(Prediction {
                forest: f,
                forest_lo: lo,
                forest_hi: hi,
                ..Default::default()
            });
        }
        raw
    }

    /// Runs `passes` passes of `level(pass)` against a fixed model band; returns the share of
    /// shortest-horizon checks whose outcome the published band held, over the second half.
    fn coverage(
        passes: usize,
        raw: [[Option<Prediction>; N_TARGETS]; N_HORIZONS],
        level: impl Fn(usize) -> u32,
    ) -> f64 {
        let mut a = Adaptive::new();
        let (mut held, mut scored) = (0, 0);
        let mut pending: std::vec::Vec<(usize, i64, i64)> = std::vec::Vec::new();
        for pass in 0..passes {
            a.observe(&cpu(level(pass)));
            let mut published = raw;
            a.apply(&mut published);
            let p = published[0][Target::Cpu.index()].unwrap();
            if a.checks[0].left == 0 {
                pending.push((pass, p.forest_lo, p.forest_hi));
            }
            a.start(&published, &[500; N_TARGETS]);
            if let Some(&(at, lo, hi)) = pending.first() {
                if pass == at + HORIZON {
                    let mean =
                        (at + 1..=pass).map(|i| i64::from(level(i))).sum::<i64>() / HORIZON as i64;
                    if pass > passes / 2 {
                        scored += 1;
                        held += usize::from(lo <= mean && mean <= hi);
                    }
                    pending.remove(0);
                }
            }
        }
        held as f64 / scored as f64
    }

    /// A deterministic noisy level around 400 ‰: a mean of five such slots spreads about ±120.
    fn noisy(i: usize) -> u32 {
        let x = (i as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(17)
            % 600;
        100 + x as u32
    }

    #[test]
    fn too_narrow_a_band_widens_to_the_nominal_coverage() {
        let c = coverage(20_000, band(400, 395, 405), noisy);
        assert!((0.72..=0.88).contains(&c), "coverage {c}");
    }

    #[test]
    fn too_wide_a_band_narrows_to_the_nominal_coverage() {
        let c = coverage(20_000, band(400, 0, 2000), noisy);
        assert!((0.72..=0.88).contains(&c), "coverage {c}");
    }

    #[test]
    fn an_exact_forecast_keeps_its_band_and_never_moves_inside_the_forecast() {
        let mut a = Adaptive::new();
        let raw = band(300, 250, 350);
        for _ in 0..1000 {
            a.observe(&cpu(300));
            let mut p = raw;
            a.apply(&mut p);
            let p = p[1][Target::Cpu.index()].unwrap();
            assert!(p.forest_lo <= 300 && 300 <= p.forest_hi, "{p:?}");
            a.start(&raw, &[300; N_TARGETS]);
        }
        // Every outcome hit: the band closed on the forecast.
        let mut p = raw;
        a.apply(&mut p);
        let p = p[0][Target::Cpu.index()].unwrap();
        assert_eq!((p.forest_lo, p.forest_hi), (300, 300));
    }

    #[test]
    fn a_sleepers_checks_leave_its_band_alone() {
        let mut a = Adaptive::new();
        let raw = band(0, 0, 80);
        for _ in 0..1000 {
            a.observe(&cpu(0));
            a.start(&raw, &[0; N_TARGETS]);
        }
        assert_eq!(a, {
            let mut fresh = Adaptive::new();
            fresh.checks = a.checks;
            fresh
        });
        // One busy check moves it.
        a.start(&raw, &[0; N_TARGETS]);
        for _ in 0..HORIZONS[1] {
            a.observe(&cpu(200));
        }
        assert_ne!(a.ends[0][Target::Cpu.index()], Ends::NEW);
    }

    #[test]
    fn each_horizon_scores_after_its_own_number_of_slots() {
        let mut a = Adaptive::new();
        a.start(&band(0, 0, 0), &[0; N_TARGETS]);
        for &h in &HORIZONS {
            assert_eq!(
                usize::from(a.checks[HORIZONS.iter().position(|&x| x == h).unwrap()].left),
                h
            );
        }
        for _ in 0..HORIZON {
            a.observe(&cpu(900));
        }
        assert_eq!(a.checks[0].left, 0);
        assert!(a.ends[0][Target::Cpu.index()].hi > 0);
        assert_eq!(a.ends[1][Target::Cpu.index()], Ends::NEW);
        assert_eq!(usize::from(a.checks[1].left), HORIZONS[1] - HORIZON);
    }

    #[test]
    fn extreme_outcomes_saturate() {
        let mut e = Ends::NEW;
        for i in 0..200 {
            let y = if i % 2 == 0 { i64::MAX } else { i64::MIN };
            e.score(y, [i32::MIN, i32::MAX, i32::MIN]);
            e.score(y, [0, i32::MIN, i32::MAX]);
        }
        let p = e.apply(Prediction {
            forest: i64::MAX,
            forest_lo: i64::MIN,
            forest_hi: i64::MAX,
            ..Default::default()
        });
        assert!(p.forest_lo >= 0 && p.forest_hi == i64::MAX);
    }

    #[test]
    fn state_is_288_bytes() {
        assert_eq!(size_of::<Adaptive>(), 288);
    }
}
