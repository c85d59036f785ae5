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
//! The same checks are the host's live scores ([`Score`]): each scored check adds whether its
//! outcome lay in the published band and the absolute errors of the published forecast, of
//! persistence (the level when the check started) and of the model's EWMA base, so coverage and
//! MAE ratios can be read on any host, live, for the processes it runs.
//!
//! Disk and network levels are logarithms (`log2q8`): there a step is a factor, and a run of
//! misses by a process that switches between silence and megabytes per second would carry the
//! upper end many doublings past any rate it ever had. So for those targets an end widened by
//! misses stays within [`IO_MARGIN`] of the largest outcome this process has produced at that
//! head (or at the model's own end, if that is higher).
//!
//! The state ([`Adaptive`], 384 bytes) is kept in integers and updated by the model crate's
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

/// How far, in `log2q8` units, a widened upper end of a disk or network band may lie above the
/// largest outcome seen: one doubling.
pub const IO_MARGIN: i32 = 256;

/// The margin over the largest outcome seen that caps the widening of target `t`'s upper end:
/// the log-scale targets only.
const fn widening_margin(t: usize) -> Option<i32> {
    if t == Target::Disk.index() || t == Target::Net.index() {
        Some(IO_MARGIN)
    } else {
        None
    }
}

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
    /// The largest outcome scored; `i32::MIN` before the first check.
    max: i32,
}

/// The mean error of a head with no check scored yet.
const UNSEEDED: u32 = u32::MAX;

impl Ends {
    const NEW: Self = Self {
        lo: 0,
        hi: 0,
        err: UNSEEDED,
        max: i32::MIN,
    };

    /// The highest an upper end widened by misses may be published at, for a target with a
    /// widening `margin`: [`IO_MARGIN`] above the largest outcome seen.
    fn cap(&self, margin: Option<i32>) -> Option<i64> {
        let m = margin?;
        (self.max != i32::MIN).then(|| i64::from(self.max).saturating_add(i64::from(m)))
    }

    /// Scores one outcome against the forecast and band it was published with; `margin` caps the
    /// upper end's widening ([`widening_margin`]).
    fn score(&mut self, outcome: i64, at: &Started, margin: Option<i32>) {
        let (f, lo, hi) = (i64::from(at.forecast), i64::from(at.lo), i64::from(at.hi));
        self.max = self.max.max(sat_i32(outcome));
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
            // Out by the steps, but not past the cap (which lies above this outcome).
            let room = self.cap(margin).map_or(i64::MAX, |c| c.saturating_sub(hi));
            self.hi = self.hi.saturating_add(sat_i32(i64::from(out).min(room)));
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

    /// Moves the band of `p`: `[f − max(f − lo + self.lo, 0), f + max(hi − f + self.hi, 0)]`,
    /// the lower end clamped at 0; an upper end widened past the model's stays under the cap of
    /// a target with a widening `margin`.
    fn apply(&self, p: &mut Prediction, margin: Option<i32>) {
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
        p.forest_lo = f.saturating_sub(down).max(0);
        let hi = f.saturating_add(up);
        p.forest_hi = match self.cap(margin) {
            Some(cap) if self.hi > 0 => hi.min(cap.max(p.forest_hi)),
            _ => hi,
        };
    }
}

/// What was published for one target when a check started, target units (saturated to `i32`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Started {
    forecast: i32,
    lo: i32,
    hi: i32,
    /// The level then: persistence's forecast.
    current: i32,
    /// The model's EWMA base level then.
    base: i32,
}

/// Live scores of one target at one horizon, summed over the checks scored: what `accuracy`
/// shows. Sums saturate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Score {
    /// Active checks scored.
    pub scored: u64,
    /// Of those, the ones whose outcome lay inside the published band.
    pub covered: u64,
    /// Absolute errors of the published forecast, target units.
    pub err_published: u64,
    /// Absolute errors of persistence (the level when the check started).
    pub err_persistence: u64,
    /// Absolute errors of the model's EWMA base.
    pub err_base: u64,
}

impl Score {
    fn add(&mut self, outcome: i64, s: &Started) {
        let err = |f: i32| outcome.abs_diff(i64::from(f));
        self.scored = self.scored.saturating_add(1);
        let inside = i64::from(s.lo) <= outcome && outcome <= i64::from(s.hi);
        self.covered = self.covered.saturating_add(u64::from(inside));
        self.err_published = self.err_published.saturating_add(err(s.forecast));
        self.err_persistence = self.err_persistence.saturating_add(err(s.current));
        self.err_base = self.err_base.saturating_add(err(s.base));
    }
}

/// Live scores of every target at every horizon.
pub type Scores = [[Score; N_TARGETS]; N_HORIZONS];

/// One horizon's running check: the forecasts it scores and the slots summed since.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Check {
    /// Slots still to come; 0 when no check runs.
    left: u8,
    /// Per target: what was published, and the naive forecasts beside it.
    at: [Started; N_TARGETS],
    /// Bit `t` is set when target `t` was published.
    has: u8,
    /// The process was active when the check started.
    active: bool,
    sums: FutureSums,
}

impl Check {
    const IDLE: Self = Self {
        left: 0,
        at: [Started {
            forecast: 0,
            lo: 0,
            hi: 0,
            current: 0,
            base: 0,
        }; N_TARGETS],
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
/// use procperf_model::adapt::{Adaptive, Scores};
/// use procperf_model::blob::Prediction;
/// use procperf_model::history::Slot;
/// use procperf_model::schema::{Target, HORIZON, N_HORIZONS, N_TARGETS};
///
/// // A process at 500 ‰ CPU that the model forecasts at 100 ‰ with a band of ±50: the first
/// // checks miss the upper end, and the band grows until it holds most outcomes.
/// let busy = Slot { interval_us: 1_000_000, cpu_user_us: 500_000, ..Default::default() };
/// let model = Prediction { forest: 100, forest_lo: 50, forest_hi: 150, ..Default::default() };
/// let mut raw = [[None; N_TARGETS]; N_HORIZONS];
/// raw[0][Target::Cpu.index()] = Some(model);
/// let (mut a, mut scores) = (Adaptive::new(), Scores::default());
/// let mut published = raw;
/// for _ in 0..20 * HORIZON {
///     a.observe(&busy, &mut scores);
///     published = raw;
///     a.apply(&mut published);
///     a.start(&published, &[500; N_TARGETS], &[[500; N_TARGETS]; N_HORIZONS]);
/// }
/// let cpu = published[0][Target::Cpu.index()].unwrap();
/// // The upper end moves out to the outcomes (and then about them: missed by a fifth, as the
/// // lower one, never missed, has closed on the forecast).
/// assert!(cpu.forest_hi >= 400, "{}", cpu.forest_hi);
/// assert_eq!((cpu.forest, cpu.forest_lo), (100, 100));
/// // Every check scored is in the host's live scores: the early ones missed.
/// let live = scores[0][Target::Cpu.index()];
/// assert_eq!(live.scored, 19);
/// assert!(live.covered < live.scored && live.err_published == 19 * 400);
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

    /// A pass's newest slot: adds it to every running check and scores those it completes, into
    /// this process's band ends and into the host's `scores`. Returns whether a check was scored
    /// (the band ends may have moved).
    pub fn observe(&mut self, newest: &Slot, scores: &mut Scores) -> bool {
        let mut scored = false;
        let per_horizon = self.ends.iter_mut().zip(scores.iter_mut());
        for (check, (ends, scores)) in self.checks.iter_mut().zip(per_horizon) {
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
            scored = true;
            let per_target = ends.iter_mut().zip(scores.iter_mut()).zip(&check.at);
            for (t, (((end, score), at), &y)) in (0..N_TARGETS).zip(per_target.zip(&outcome)) {
                if check.has & (1 << t) != 0 {
                    end.score(y, at, widening_margin(t));
                    score.add(y, at);
                }
            }
        }
        scored
    }

    /// Moves the ends of every band in `predictions` as this process's outcomes say.
    pub fn apply(&self, predictions: &mut [[Option<Prediction>; N_TARGETS]; N_HORIZONS]) {
        for (per_target, ends) in predictions.iter_mut().zip(&self.ends) {
            for (t, (p, end)) in (0..N_TARGETS).zip(per_target.iter_mut().zip(ends)) {
                if let Some(p) = p {
                    end.apply(p, widening_margin(t));
                }
            }
        }
    }

    /// Starts a check at every horizon where none runs, on this pass's `published` predictions,
    /// current `levels` and the model's base levels at each horizon, `bases`.
    pub fn start(
        &mut self,
        published: &[[Option<Prediction>; N_TARGETS]; N_HORIZONS],
        levels: &[i64; N_TARGETS],
        bases: &[[i64; N_TARGETS]; N_HORIZONS],
    ) {
        let active = levels
            .get(Target::Cpu.index())
            .is_some_and(|&c| c >= ACTIVE_CPU_PERMILLE);
        let per_horizon = published.iter().zip(bases).zip(&HORIZONS);
        for (check, ((per_target, bases), &h)) in self.checks.iter_mut().zip(per_horizon) {
            if check.left > 0 || per_target.iter().all(Option::is_none) {
                continue;
            }
            let mut next = Check {
                left: h as u8,
                active,
                ..Check::IDLE
            };
            let per_target = next
                .at
                .iter_mut()
                .zip(per_target)
                .zip(levels.iter().zip(bases));
            for (t, ((at, p), (&current, &base))) in (0..N_TARGETS).zip(per_target) {
                if let Some(p) = p {
                    *at = Started {
                        forecast: sat_i32(p.forest),
                        lo: sat_i32(p.forest_lo),
                        hi: sat_i32(p.forest_hi),
                        current: sat_i32(current),
                        base: sat_i32(base),
                    };
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
        let (mut a, mut scores) = (Adaptive::new(), Scores::default());
        let (mut held, mut scored) = (0, 0);
        let mut pending: std::vec::Vec<(usize, i64, i64)> = std::vec::Vec::new();
        for pass in 0..passes {
            a.observe(&cpu(level(pass)), &mut scores);
            let mut published = raw;
            a.apply(&mut published);
            let p = published[0][Target::Cpu.index()].unwrap();
            if a.checks[0].left == 0 {
                pending.push((pass, p.forest_lo, p.forest_hi));
            }
            a.start(
                &published,
                &[500; N_TARGETS],
                &[[500; N_TARGETS]; N_HORIZONS],
            );
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
        let (mut a, mut scores) = (Adaptive::new(), Scores::default());
        let raw = band(300, 250, 350);
        for _ in 0..1000 {
            a.observe(&cpu(300), &mut scores);
            let mut p = raw;
            a.apply(&mut p);
            let p = p[1][Target::Cpu.index()].unwrap();
            assert!(p.forest_lo <= 300 && 300 <= p.forest_hi, "{p:?}");
            a.start(&raw, &[300; N_TARGETS], &[[300; N_TARGETS]; N_HORIZONS]);
        }
        // Every outcome hit: the band closed on the forecast.
        let mut p = raw;
        a.apply(&mut p);
        let p = p[0][Target::Cpu.index()].unwrap();
        assert_eq!((p.forest_lo, p.forest_hi), (300, 300));
    }

    #[test]
    fn a_sleepers_checks_leave_its_band_alone() {
        let (mut a, mut scores) = (Adaptive::new(), Scores::default());
        let raw = band(0, 0, 80);
        for _ in 0..1000 {
            a.observe(&cpu(0), &mut scores);
            a.start(&raw, &[0; N_TARGETS], &[[0; N_TARGETS]; N_HORIZONS]);
        }
        assert_eq!(a, {
            let mut fresh = Adaptive::new();
            fresh.checks = a.checks;
            fresh
        });
        assert_eq!(scores, Scores::default());
        // One busy check moves it, and is the first live score.
        a.start(&raw, &[0; N_TARGETS], &[[0; N_TARGETS]; N_HORIZONS]);
        for _ in 0..HORIZONS[1] {
            a.observe(&cpu(200), &mut scores);
        }
        assert_ne!(a.ends[0][Target::Cpu.index()], Ends::NEW);
        // The check running since the sleeper's last pass held four idle slots and a busy one: a
        // mean of 40, inside [0, 80], 40 from every forecast of 0.
        let live = scores[0][Target::Cpu.index()];
        assert_eq!((live.scored, live.covered, live.err_published), (1, 1, 40));
        assert_eq!((live.err_persistence, live.err_base), (40, 40));
    }

    #[test]
    fn each_horizon_scores_after_its_own_number_of_slots() {
        let (mut a, mut scores) = (Adaptive::new(), Scores::default());
        a.start(
            &band(0, 0, 0),
            &[0; N_TARGETS],
            &[[0; N_TARGETS]; N_HORIZONS],
        );
        for &h in &HORIZONS {
            assert_eq!(
                usize::from(a.checks[HORIZONS.iter().position(|&x| x == h).unwrap()].left),
                h
            );
        }
        for _ in 0..HORIZON {
            a.observe(&cpu(900), &mut scores);
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
            let at = |forecast, lo, hi| Started {
                forecast,
                lo,
                hi,
                ..Started::default()
            };
            for margin in [None, Some(IO_MARGIN)] {
                e.score(y, &at(i32::MIN, i32::MAX, i32::MIN), margin);
                e.score(y, &at(0, i32::MIN, i32::MAX), margin);
            }
            let mut live = Score::default();
            live.add(y, &at(i32::MIN, i32::MAX, i32::MIN));
            assert!(live.err_published > 0);
        }
        let mut p = Prediction {
            forest: i64::MAX,
            forest_lo: i64::MIN,
            forest_hi: i64::MAX,
            ..Default::default()
        };
        e.apply(&mut p, Some(IO_MARGIN));
        assert!(p.forest_lo >= 0 && p.forest_hi == i64::MAX);
    }

    #[test]
    fn a_widened_io_end_stays_within_a_doubling_of_the_largest_outcome() {
        // A busy process whose disk switches between silence and 1 MiB/s (log2q8: 5120) every
        // 10 passes, against a model band of [1950, 2050]: misses widen the upper end, which
        // may reach one doubling above 1 MiB/s and no further.
        let slot = |on: bool| Slot {
            interval_us: SEC_US,
            cpu_user_us: 500_000,
            disk_bytes: if on { 1 << 20 } else { 0 },
            ..Default::default()
        };
        let mut raw = [[None; N_TARGETS]; N_HORIZONS];
        for per_target in &mut raw {
            per_target[Target::Disk.index()] = Some(Prediction {
                forest: 2000,
                forest_lo: 1950,
                forest_hi: 2050,
                ..Default::default()
            });
        }
        let (mut a, mut scores) = (Adaptive::new(), Scores::default());
        let mut highest = 0;
        for pass in 0..2000 {
            a.observe(&slot(pass / 10 % 2 == 1), &mut scores);
            let mut published = raw;
            a.apply(&mut published);
            for per_target in &published {
                highest = highest.max(per_target[Target::Disk.index()].unwrap().forest_hi);
            }
            a.start(&published, &[500, 0, 0, 0], &[[500, 0, 0, 0]; N_HORIZONS]);
        }
        assert!(scores[0][Target::Disk.index()].scored > 300);
        assert!((5120..=5120 + 256).contains(&highest), "{highest}");
    }

    #[test]
    fn state_is_384_bytes() {
        assert_eq!(size_of::<Adaptive>(), 384);
    }
}
