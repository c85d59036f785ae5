//! Online blending: per process and target, the published forest forecast leans towards whichever
//! of persistence, the EWMA base and the forest has forecast that process best so far.
//!
//! Programs differ in how their levels move. A level that steps from phase to phase is forecast
//! best by persistence; one that flickers around a mean, by the EWMA; the forest's learned
//! corrections help some programs and not others. A model fitted on other programs cannot know
//! which kind a process is, but the process's own record can. Every pass, the forecasts made
//! [`HORIZON`] passes earlier are scored against what happened since (their outcome is the mean
//! over the newest [`HORIZON`] slots, [`super::target::outcome_levels`]); each forecaster's
//! absolute errors are summed with a decay of [`DECAY_SHIFT`] (15/16 per pass, a memory of about
//! 16 passes), and this pass's forecasts are averaged with weights
//! `2^(-ETA_Q4/16 · (err - best)/mean err)`: the best forecaster so far weighs most, one whose
//! error sum exceeds the best one's by a tenth of the mean error sum weighs 1/e of it.
//!
//! The decay and the sharpness were chosen on the training recording, never on held-out data;
//! what the blend gains over the forest alone is in `docs/results.md`.
//!
//! The state is per process and target ([`Blend`], 152 bytes), updated once per pass, in
//! integers: the trainer replays the same steps over a recording's rows, so the kernel's
//! published forecast and `trainer predict` agree bit for bit. No floats, no allocation, no
//! panics.

use core::num::NonZeroU64;

use super::blob::Prediction;
use super::fixed::div_round_i64;
use super::schema::{HORIZON, N_TARGETS};

/// Number of forecasters blended: persistence, the EWMA base, the forest.
pub const N_EXPERTS: usize = 3;

/// Error sums decay by `2^-DECAY_SHIFT` per pass.
pub const DECAY_SHIFT: u32 = 4;

/// Sharpness in sixteenths of a binary order of magnitude: a forecaster whose error sum exceeds the
/// best one's by the mean error sum weighs `2^(-ETA_Q4/16)` of the best one's (231/16 = 10/ln 2, a
/// factor of e^-10).
pub const ETA_Q4: u64 = 231;

/// Forecasts are kept and weights computed within ±2^44 (RSS of 16 PiB): products with a weight
/// (< 2^17) and their sum over [`N_EXPERTS`] stay far below `i64::MAX`.
const LEVEL_BOUND: i64 = 1 << 44;

/// `2^(-i/16)` in units of 2^-16, for i in 0..16.
const EXP2_NEG_Q4: [u64; 16] = [
    65536, 62757, 60097, 57549, 55109, 52773, 50535, 48393, 46341, 44376, 42495, 40693, 38968,
    37316, 35734, 34219,
];

/// One process's record for one target: the forecasts of the last [`HORIZON`] passes, not yet
/// scored, and each forecaster's decayed error sum.
///
/// ```
/// use procperf_model::blend::Blend;
/// let mut b = Blend::new();
/// // A process at 100 ‰ CPU whose level stays put: persistence and the EWMA base say 100, the
/// // forest keeps forecasting 160. Until a forecast is scored, the forest's is published.
/// assert_eq!(b.step(100, [100, 100, 160]), 160);
/// for _ in 0..4 {
///     b.step(100, [100, 100, 160]);
/// }
/// // From the sixth pass on the outcome of the first forecasts is known: the forest erred, the
/// // others did not, and the published forecast is theirs.
/// assert_eq!(b.step(100, [100, 100, 160]), 100);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blend {
    /// Forecasts of the last passes, oldest at `next` once `len == HORIZON`.
    pending: [[i64; N_EXPERTS]; HORIZON],
    /// Number of valid entries in `pending`, 0..=HORIZON.
    len: u8,
    /// Slot the next forecasts go to, 0..HORIZON.
    next: u8,
    /// Whether any forecast was scored yet.
    scored: bool,
    /// Decayed absolute error sums, one per forecaster.
    err: [u64; N_EXPERTS],
}

impl Default for Blend {
    fn default() -> Self {
        Self::new()
    }
}

impl Blend {
    /// A record with nothing scored: the forest's forecast is published unchanged.
    pub const fn new() -> Self {
        Self {
            pending: [[0; N_EXPERTS]; HORIZON],
            len: 0,
            next: 0,
            scored: false,
            err: [0; N_EXPERTS],
        }
    }

    /// One pass: scores the forecasts made [`HORIZON`] passes ago against `outcome` (the mean
    /// level over the passes since, [`super::target::outcome_levels`]), keeps this pass's
    /// `forecasts` (persistence, EWMA base, forest) and returns the blended forecast, never
    /// negative.
    pub fn step(&mut self, outcome: i64, forecasts: [i64; N_EXPERTS]) -> i64 {
        let mut forecasts = forecasts;
        for f in forecasts.iter_mut() {
            *f = (*f).clamp(-LEVEL_BOUND, LEVEL_BOUND);
        }
        let next = usize::from(self.next) % HORIZON;
        if usize::from(self.len) >= HORIZON {
            let outcome = outcome.clamp(-LEVEL_BOUND, LEVEL_BOUND);
            for (e, f) in self.err.iter_mut().zip(self.pending[next].iter()) {
                *e = decayed(*e, f.abs_diff(outcome));
            }
            self.scored = true;
        } else {
            self.len = self.len.saturating_add(1);
        }
        self.pending[next] = forecasts;
        self.next = ((next + 1) % HORIZON) as u8;
        if !self.scored {
            return forecasts[N_EXPERTS - 1].max(0);
        }
        // Forecasters that agree (a sleeping process's, mostly) blend to their forecast whatever
        // the weights: the same value the weighted mean gives, without its divisions.
        if forecasts.iter().all(|&f| f == forecasts[0]) {
            return forecasts[0].max(0);
        }
        self.weighted_mean(forecasts)
    }

    /// The forecasts averaged with [`Self::weights`], rounded, never negative.
    fn weighted_mean(&self, forecasts: [i64; N_EXPERTS]) -> i64 {
        let w = self.weights();
        // At least 2^16: the best forecaster weighs 2^16.
        let total = w.iter().fold(0u64, |a, &w| a.saturating_add(w));
        let sum = w.iter().zip(forecasts.iter()).fold(0i64, |acc, (&w, &f)| {
            acc.saturating_add((w as i64).saturating_mul(f))
        });
        div_round_i64(sum, total as i64).max(0)
    }

    /// Each forecaster's weight in units of 2^-16: 2^16 for the best, `2^(-q/16)` of that for one
    /// `q = ETA_Q4·(err - best)/mean err` sixteenths behind, 0 beyond 16 binary orders.
    pub fn weights(&self) -> [u64; N_EXPERTS] {
        let best = self.err.iter().copied().min().unwrap_or(0);
        // ETA_Q4 * (err - best) / mean, with mean = total / N (+1 so that all-zero sums work). The
        // saturating subtraction and the NonZero divisor cost nothing and leave the optimiser,
        // which sees the closure apart from `best` and `total` at opt-level s, no panic path.
        let total = self
            .err
            .iter()
            .fold(0u64, |a, &e| a.saturating_add(e))
            .saturating_add(N_EXPERTS as u64);
        let total = NonZeroU64::new(total).unwrap_or(NonZeroU64::MIN);
        self.err.map(|e| {
            let q = e
                .saturating_sub(best)
                .saturating_mul(ETA_Q4 * N_EXPERTS as u64)
                / total;
            if q >= 256 {
                0
            } else {
                EXP2_NEG_Q4[(q & 15) as usize] >> (q >> 4)
            }
        })
    }

    /// One pass of a model's prediction: the forest forecast of `p` becomes the blend of
    /// persistence (`current`), the EWMA `base` and the forest, and its interval moves with it
    /// (same width, clamped at 0). The linear forecast is left as it is.
    pub fn publish(&mut self, outcome: i64, current: i64, base: i64, p: &mut Prediction) {
        let forest = self.step(outcome, [current, base, p.forest]);
        let shift = forest.saturating_sub(p.forest);
        p.forest_lo = p.forest_lo.saturating_add(shift).max(0);
        p.forest_hi = p.forest_hi.saturating_add(shift).max(0);
        p.forest = forest;
    }

    /// Whether a [`Self::step`] with `outcome` and `forecasts`, repeated, would return the same
    /// forecast every time and change nothing but what [`Self::skip`] replays: every forecast
    /// not yet scored equals `forecasts`, and either the forecasters agree (their blend is their
    /// forecast, whatever the weights) or each error sum is at its fixed point, where the decay
    /// takes off what this forecaster's constant error adds (the weights stay). A sleeping
    /// process's record, once its last change has been scored.
    pub fn is_settled(&self, outcome: i64, forecasts: [i64; N_EXPERTS]) -> bool {
        let f = forecasts.map(|f| f.clamp(-LEVEL_BOUND, LEVEL_BOUND));
        let y = outcome.clamp(-LEVEL_BOUND, LEVEL_BOUND);
        let agree = f.iter().all(|&g| g == f[0]);
        self.scored
            && usize::from(self.len) >= HORIZON
            && self.pending.iter().all(|p| *p == f)
            && (agree
                || self
                    .err
                    .iter()
                    .zip(&f)
                    .all(|(&e, g)| decayed(e, g.abs_diff(y)) == e))
    }

    /// The state after `passes` steps of a [settled](Self::is_settled) record with the same
    /// `outcome` and forecasts: the ring moved on by `passes`, each error sum decayed and added
    /// to as often. Each of those steps returned the same forecast, so they need not be taken one
    /// by one. Bounded work: an error sum stops moving at its fixed point, which it reaches from
    /// any start within 700 steps.
    pub fn skip(&mut self, outcome: i64, passes: u32) {
        let h = HORIZON as u32;
        self.next = ((u32::from(self.next) % h + passes % h) % h) as u8;
        let y = outcome.clamp(-LEVEL_BOUND, LEVEL_BOUND);
        for (e, f) in self.err.iter_mut().zip(self.pending[0]) {
            let add = f.abs_diff(y);
            for _ in 0..passes {
                let next = decayed(*e, add);
                if next == *e {
                    break;
                }
                *e = next;
            }
        }
    }

    /// Forgets everything (a new model: its forest's record starts afresh).
    pub fn reset(&mut self) {
        *self = Self::new();
    }
}

/// An error sum after one step: decayed by `2^-DECAY_SHIFT`, plus the step's error `add`.
fn decayed(e: u64, add: u64) -> u64 {
    (e - (e >> DECAY_SHIFT)).saturating_add(add)
}

/// [`Blend::publish`] for every target a model predicts, in place: turns the model's
/// `predictions` into what the kernel shows and `trainer predict` prints. `outcome`, `current`
/// and `base` are per target, as [`super::target::outcome_levels`],
/// [`super::target::current_levels`] and [`super::blob::ModelRef::base_levels`] give them.
pub fn publish_all(
    blends: &mut [Blend; N_TARGETS],
    outcome: &[i64; N_TARGETS],
    current: &[i64; N_TARGETS],
    base: &[i64; N_TARGETS],
    predictions: &mut [Option<Prediction>; N_TARGETS],
) {
    let per_target = outcome.iter().zip(current).zip(base);
    for ((p, b), ((&y, &c), &e)) in predictions
        .iter_mut()
        .zip(blends.iter_mut())
        .zip(per_target)
    {
        if let Some(p) = p {
            b.publish(y, c, e, p);
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn table_is_two_to_the_minus_sixteenths() {
        for (i, &v) in EXP2_NEG_Q4.iter().enumerate() {
            let exact = 65536.0 * 2f64.powf(-(i as f64) / 16.0);
            assert!((v as f64 - exact).abs() <= 0.5, "{i}: {v} vs {exact}");
        }
    }

    #[test]
    fn a_step_changing_process_is_forecast_by_persistence() {
        // Phases of 20 passes at 0 and 800 permille: persistence errs only at the steps, the
        // EWMA base lags after each step, the forest (here a constant 400) always errs.
        let mut b = Blend::new();
        let levels: [i64; 200] = core::array::from_fn(|i| if (i / 20) % 2 == 0 { 0 } else { 800 });
        let mut ewma = 0i64;
        let mut out = 0;
        for (i, &l) in levels.iter().enumerate() {
            ewma += (l - ewma) * 2 / 5;
            let outcome = if i >= HORIZON {
                levels[i + 1 - HORIZON..=i].iter().sum::<i64>() / HORIZON as i64
            } else {
                0
            };
            out = b.step(outcome, [l, ewma, 400]);
        }
        let w = b.weights();
        assert!(w[0] > w[1] && w[1] > w[2], "{w:?}");
        assert!((out - 800).abs() < 50, "{out}");
    }

    #[test]
    fn a_flickering_process_is_forecast_by_the_ewma() {
        let mut b = Blend::new();
        let levels: [i64; 200] = core::array::from_fn(|i| if i % 2 == 0 { 300 } else { 500 });
        let mut ewma = 400i64;
        for (i, &l) in levels.iter().enumerate() {
            ewma += (l - ewma) * 2 / 5;
            let outcome = if i >= HORIZON {
                levels[i + 1 - HORIZON..=i].iter().sum::<i64>() / HORIZON as i64
            } else {
                0
            };
            b.step(outcome, [l, ewma, 0]);
        }
        let w = b.weights();
        assert!(w[1] > w[0] && w[1] > w[2], "{w:?}");
    }

    #[test]
    fn extreme_inputs_neither_overflow_nor_go_negative() {
        let mut b = Blend::new();
        for i in 0..100 {
            let x = if i % 2 == 0 { i64::MAX } else { i64::MIN };
            // The opposite extreme: -i64::MIN does not exist, i64::MAX stands in for it.
            let out = b.step(x, [x, x.saturating_neg(), i64::MIN]);
            assert!((0..=LEVEL_BOUND).contains(&out), "{i}: {out}");
        }
        let w = b.weights();
        assert!(w.contains(&(1 << 16)));
    }

    #[test]
    fn agreeing_forecasters_blend_to_their_forecast_as_the_weighted_mean_does() {
        // The shortcut for equal forecasts must publish what the weights would.
        let mut rng = crate::synth::Rng(7);
        for i in 0..10_000 {
            let mut b = Blend::new();
            b.scored = true;
            b.err = [0; N_EXPERTS].map(|_| rng.next_u64() >> (rng.next_u64() % 64));
            let f = (rng.next_u64() as i64) >> (rng.next_u64() % 64);
            let f = f.clamp(-LEVEL_BOUND, LEVEL_BOUND);
            assert_eq!(b.weighted_mean([f; N_EXPERTS]), f.max(0), "{i}: {b:?}, {f}");
        }
    }

    #[test]
    fn skipping_a_settled_record_equals_stepping_it() {
        // Forecasters that agree (error sums of any size decaying) and forecasters that do not
        // (sums at their fixed point), every ring position, skips past the longest decay.
        let mut rng = crate::synth::Rng(11);
        let mut settled = [0; 2];
        for i in 0..4_000 {
            let mut b = Blend::new();
            let v = (rng.next_u64() % 5000) as i64;
            for _ in 0..rng.next_u64() % 7 {
                b.step(v, [v, v + 40, v - 300]);
            }
            b.err = [0; N_EXPERTS].map(|_| rng.next_u64() >> (rng.next_u64() % 64));
            let agree = i % 2 == 0;
            let f = if agree {
                [v; N_EXPERTS]
            } else {
                [v, v + 17, v - (i % 300) as i64]
            };
            for _ in 0..HORIZON + 1_000 {
                b.step(v, f);
                if b.is_settled(v, f) {
                    break;
                }
            }
            assert!(b.is_settled(v, f), "{i}: {b:?}");
            settled[usize::from(agree)] += 1;
            let passes = 1 + (rng.next_u64() % 1400) as u32;
            let (mut stepped, mut skipped) = (b, b);
            let out = stepped.step(v, f);
            for _ in 1..passes {
                assert_eq!(stepped.step(v, f), out, "{i}");
            }
            skipped.skip(v, passes);
            assert_eq!(stepped, skipped, "{i}: {passes} passes");
        }
        assert_eq!(settled, [2_000, 2_000]);
        // The bound on the work: the largest sum stops decaying within 700 steps.
        let mut e = u64::MAX;
        let steps = core::iter::from_fn(|| (decayed(e, 0) != e).then(|| e = decayed(e, 0))).count();
        assert!(steps <= 700, "{steps}");
    }

    #[test]
    fn a_record_with_a_change_to_score_is_not_settled() {
        let mut b = Blend::new();
        for _ in 0..HORIZON {
            b.step(100, [100; N_EXPERTS]);
        }
        // Nothing scored yet.
        assert!(!b.is_settled(100, [100; N_EXPERTS]));
        b.step(100, [100; N_EXPERTS]);
        assert!(b.is_settled(100, [100; N_EXPERTS]));
        // Forecasts not yet scored that differ from this pass's.
        assert!(!b.is_settled(100, [100, 100, 130]));
        // Forecasters that disagree: settled only once the forest's error sum has grown to its
        // fixed point (16 times its error of 30, within 2^DECAY_SHIFT).
        let f = [100, 100, 130];
        for _ in 0..HORIZON + 1 {
            b.step(100, f);
        }
        assert!(!b.is_settled(100, f), "{b:?}");
        let steps = (0..1000)
            .take_while(|_| !b.is_settled(100, f) && b.step(100, f) > 0)
            .count();
        assert!(b.is_settled(100, f) && steps > 10, "{steps}: {b:?}");
        assert!((16 * 30..16 * 31).contains(&b.err[2]), "{b:?}");
        // A new record has nothing scored: its forest is published unblended.
        assert!(!Blend::new().is_settled(0, [0; N_EXPERTS]));
    }

    #[test]
    fn state_is_152_bytes() {
        assert_eq!(size_of::<Blend>(), 152);
    }

    #[test]
    fn reset_forgets_the_record() {
        let mut b = Blend::new();
        for _ in 0..10 {
            b.step(0, [0, 5, 9]);
        }
        b.reset();
        assert_eq!(b, Blend::new());
        assert_eq!(b.step(0, [0, 5, 9]), 9);
    }
}
