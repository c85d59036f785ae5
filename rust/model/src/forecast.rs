//! Per-process forecast state: the one owner of everything a process's published forecast
//! depends on besides the model and the newest window — what its last evaluation was computed
//! from, what it gave, and the [`Blend`] records that turn it into the published forecast.
//!
//! The kernel's sampling pass calls [`Forecast::update`] once per process per pass, after pushing
//! the pass's sample into the process's [`History`]; `trainer predict` replays the same calls
//! through [`Forecast::step`] over a recording's rows, and `trainer fit` replays the publishing
//! part ([`Forecast::publish`]) over its float forests' forecasts. So when the kernel reuses a
//! prediction, refreshes a sleeping process or starts a blend record afresh is decided here, once,
//! and the kernel's `predictions.csv` equals `trainer predict` bit for bit.
//!
//! Three shortcuts keep a pass cheap without changing a single published value:
//! - *Input reuse*: a prediction is a pure function of the feature vector and the base levels
//!   ([`Inputs`]), so while they equal the last evaluation's, under the same model, the last
//!   evaluation's result is reused.
//! - *Still refresh*: for a [still](History::is_still) history, the window's levels and activity
//!   are those of the window one push earlier, so only the age and the long-memory features can
//!   change ([`refresh_still`]); the levels, the outcome and the base levels stay. When some do
//!   change, only the models that read one of them are evaluated again
//!   ([`ModelRef::repredict`]): the default model's forests never split on the age, for one.
//! - *Settled republish*: once a still pass has republished exactly what the pass before it
//!   published, with no anomaly watch running and every blend record [settled](Blend::is_settled),
//!   the passes that follow would republish the same again, as long as the model is not evaluated
//!   and no band check is scored. They are not run: they are counted, and the blend records'
//!   steps, the only state they change (their ring position and the decay of their error sums),
//!   are replayed at once ([`Blend::skip`]) before the next republish. The band checks keep
//!   running every pass. The trainer's replay republishes every pass, so `predict_exact` and
//!   this module's tests compare the two.
//!
//! Every horizon of [`HORIZONS`] has its own predictions. Only the shortest one is blended: its
//! outcomes are known within the history window, while a minute-ahead forecast's outcome would
//! need a minute of each process's forecasts kept. Longer horizons publish the model's forecast
//! as it is. At every horizon the band's ends then move with the outcomes this process produced
//! ([`Adaptive`]).
//!
//! A new model starts every record afresh ([`Forecast::model_changed`]): its forest has no record
//! yet and its predictions are not the old model's. No floats, no allocation, no panics.

use super::adapt::{Adaptive, Scores};
use super::anomaly::Anomaly;
use super::blend::{publish_all, Blend};
use super::blob::ModelRef;
pub use super::blob::Predictions;
use super::features::{compute_window, refresh_still};
use super::history::{History, Slot, HISTORY_LEN};
#[cfg(doc)]
use super::schema::HORIZONS;
use super::schema::{N_FEATURES, N_HORIZONS, N_TARGETS};
use super::target::{outcome_levels, window_levels};

/// Predictions of every target at every horizon.
pub type AllPredictions = [Predictions; N_HORIZONS];

/// What a prediction is a pure function of, besides the model: the feature vector and the base
/// levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inputs {
    /// The features of the window and the long memory ([`compute_window`]).
    pub features: [i32; N_FEATURES],
    /// Each target's base level at each horizon ([`ModelRef::base_levels`]).
    pub bases: [[i64; N_TARGETS]; N_HORIZONS],
}

/// What one [`Forecast::update`] did, for the sampler's statistics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    /// The history is not full yet: no forecast.
    Waiting,
    /// Features computed from the window; `evaluated` tells whether the models ran (they did not
    /// if the inputs equalled the last evaluation's).
    Computed {
        /// The models were evaluated.
        evaluated: bool,
    },
    /// A still history: only the age feature was refreshed; `evaluated` as above.
    Refreshed {
        /// The models were evaluated (the age crossed a doubling).
        evaluated: bool,
    },
}

/// One process's forecast state.
///
/// ```
/// # #[cfg(feature = "std")] {
/// use procperf_model::adapt::Scores;
/// use procperf_model::blob::parse;
/// use procperf_model::forecast::{Forecast, Work};
/// use procperf_model::history::{History, HISTORY_LEN};
/// use procperf_model::sample::RawSample;
/// use procperf_model::synth::random_model;
///
/// let bytes = random_model(1, 8, 4).quantize().unwrap().to_checked_bytes().unwrap();
/// let model = parse(&bytes).unwrap();
/// let (mut history, mut forecast) = (History::new(), Forecast::new());
/// let mut scores = Scores::default(); // the host's live scores
/// let idle = RawSample { interval_ns: 1_000_000_000, age_ms: 5_000, ..Default::default() };
/// for pass in 0..HISTORY_LEN + 2 {
///     history.push(&idle);
///     let work = forecast.update(&history, &model, &mut scores);
///     if pass + 1 < HISTORY_LEN {
///         assert_eq!(work, Work::Waiting);
///         assert!(forecast.published().is_none());
///     }
/// }
/// // Ten idle passes in: the window is still, the features need only the age refreshed.
/// history.push(&idle);
/// assert!(matches!(forecast.update(&history, &model, &mut scores), Work::Refreshed { .. }));
/// assert!(forecast.published().is_some());
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Forecast {
    /// Each target's current level (the persistence forecast).
    levels: [i64; N_TARGETS],
    /// Each target's mean level over the newest `HORIZON` slots: the outcome of the forecasts
    /// made `HORIZON` passes ago.
    outcome: [i64; N_TARGETS],
    /// What `raw` was computed from.
    inputs: Inputs,
    /// The model's own predictions from `inputs`; `None` until the first evaluation under the
    /// current model.
    raw: Option<AllPredictions>,
    /// The published predictions: `raw`, the shortest horizon's blended by `blend`, every band
    /// moved by `adaptive`.
    published: Option<AllPredictions>,
    /// Each target's record of how well persistence, the base and the forest forecast this
    /// process at the shortest horizon.
    blend: [Blend; N_TARGETS],
    /// How this process's outcomes moved each band's ends.
    adaptive: Adaptive,
    /// Whether its levels stay above what was forecast for it.
    anomaly: Anomaly,
    /// The last republish would give the same again: the still passes that follow skip it.
    settled: bool,
    /// Republishes skipped since the last one run, whose blend steps are still to replay.
    skipped: u32,
}

impl Default for Forecast {
    fn default() -> Self {
        Self::new()
    }
}

impl Forecast {
    /// A process with no forecast yet.
    pub const fn new() -> Self {
        Self {
            levels: [0; N_TARGETS],
            outcome: [0; N_TARGETS],
            inputs: Inputs {
                features: [0; N_FEATURES],
                bases: [[0; N_TARGETS]; N_HORIZONS],
            },
            raw: None,
            published: None,
            blend: [Blend::new(); N_TARGETS],
            adaptive: Adaptive::new(),
            anomaly: Anomaly::new(),
            settled: false,
            skipped: 0,
        }
    }

    /// The model changed: the next update evaluates afresh and every blend and band record
    /// restarts (they were of the old model's forecasts). The published forecast stays until then.
    pub fn model_changed(&mut self) {
        self.raw = None;
        self.blend = [Blend::new(); N_TARGETS];
        self.adaptive = Adaptive::new();
        self.anomaly = Anomaly::new();
        // The blend records were reset: nothing skipped is left to replay.
        self.settled = false;
        self.skipped = 0;
    }

    /// One pass, after the pass's sample was pushed into `history`: the kernel's path. Checks
    /// this pass completes are added to the host's live `scores`.
    pub fn update(&mut self, history: &History, model: &ModelRef<'_>, scores: &mut Scores) -> Work {
        let scored = history
            .newest()
            .is_some_and(|newest| self.adaptive.observe(newest, scores));
        if self.raw.is_some() && history.is_still() {
            if let Some(newest) = history.newest() {
                // Every slot holds the current levels and no activity.
                self.outcome = self.levels;
                let changed = refresh_still(&mut self.inputs.features, newest, history.long());
                // Only the models that read a changed feature are evaluated again; their outputs
                // may not move (a forest's split on either side of a coarse feature's step).
                let (mut evaluated, mut moved) = (false, false);
                if let (true, Some(raw)) = (changed != 0, self.raw.as_ref()) {
                    let mut next = *raw;
                    let (features, bases) = (&self.inputs.features, &self.inputs.bases);
                    evaluated = model.repredict(changed, features, bases, &mut next);
                    moved = next != *raw;
                    if moved {
                        self.catch_up();
                        self.raw = Some(next);
                    }
                }
                if !moved && self.settled && !scored {
                    if let Some(skipped) = self.skipped.checked_add(1) {
                        self.skipped = skipped;
                        // What the republish would end with: a band check starts where one
                        // ended, on the same published forecast.
                        if let Some(out) = self.published.as_ref() {
                            self.adaptive.start(out, &self.levels, &self.inputs.bases);
                        }
                        return Work::Refreshed { evaluated };
                    }
                }
                // Settled when this republish repeats the last one's: the same inputs and no
                // anomaly watch, the same published values, blend records that will repeat.
                let before = (!moved && self.anomaly.is_idle()).then_some(self.published);
                self.republish();
                self.settled = before.is_some_and(|b| b == self.published)
                    && self.anomaly.is_idle()
                    && self.blend_settled();
                return Work::Refreshed { evaluated };
            }
        }
        self.settled = false;
        let Some(window) = history.window() else {
            return Work::Waiting;
        };
        let past = window_levels(&window);
        let mut levels = [0; N_TARGETS];
        for (l, p) in levels.iter_mut().zip(&past) {
            *l = p[HISTORY_LEN - 1];
        }
        let mut bases = [[0; N_TARGETS]; N_HORIZONS];
        for (h, b) in bases.iter_mut().enumerate() {
            *b = model.base_levels(h, &past);
        }
        let inputs = Inputs {
            features: compute_window(&window, history.long()),
            bases,
        };
        let evaluated = self.evaluate(levels, outcome_levels(&window), inputs, |i| {
            model.predict_horizons(&i.features, &i.bases)
        });
        Work::Computed { evaluated }
    }

    /// One pass from a row's precomputed parts: the window's `newest` slot, `levels` (current),
    /// `outcome` (of the forecasts `HORIZON` passes ago) and `inputs`; `predict` evaluates the
    /// model, and is called only if the inputs differ from the last evaluation's. Returns whether
    /// it was called. Checks completed are added to `scores`, as [`Self::update`] does.
    pub fn step(
        &mut self,
        newest: &Slot,
        levels: [i64; N_TARGETS],
        outcome: [i64; N_TARGETS],
        inputs: Inputs,
        scores: &mut Scores,
        predict: impl FnOnce(&Inputs) -> AllPredictions,
    ) -> bool {
        self.adaptive.observe(newest, scores);
        self.evaluate(levels, outcome, inputs, predict)
    }

    fn evaluate(
        &mut self,
        levels: [i64; N_TARGETS],
        outcome: [i64; N_TARGETS],
        inputs: Inputs,
        predict: impl FnOnce(&Inputs) -> AllPredictions,
    ) -> bool {
        self.catch_up();
        self.levels = levels;
        self.outcome = outcome;
        let evaluate = self.raw.is_none() || self.inputs != inputs;
        if evaluate {
            self.raw = Some(predict(&inputs));
        }
        self.inputs = inputs;
        self.republish();
        evaluate
    }

    /// One pass of a model whose predictions `raw` at horizon index `h` were made elsewhere (the
    /// trainer's float forests), after the window's `newest` slot: blends them with persistence
    /// (`levels`) and the `bases` by this process's record if `h` is the shortest horizon, moves
    /// their bands by its outcomes, and returns what would be published.
    pub fn publish(
        &mut self,
        h: usize,
        newest: &Slot,
        levels: [i64; N_TARGETS],
        outcome: [i64; N_TARGETS],
        bases: [i64; N_TARGETS],
        raw: Predictions,
    ) -> Predictions {
        // Live scores are the kernel's; a replay of one horizon's float forecasts has none.
        self.adaptive.observe(newest, &mut Scores::default());
        self.catch_up();
        self.levels = levels;
        self.outcome = outcome;
        let mut all = [[None; N_TARGETS]; N_HORIZONS];
        if let (Some(b), Some(r)) = (self.inputs.bases.get_mut(h), all.get_mut(h)) {
            *b = bases;
            *r = raw;
        }
        self.raw = Some(all);
        self.republish();
        self.published
            .and_then(|p| p.get(h).copied())
            .unwrap_or(raw)
    }

    /// Whether every blend record that the last republish stepped would change, at the next
    /// still pass, only what [`Blend::skip`] replays.
    fn blend_settled(&self) -> bool {
        let Some(raw) = self.raw.as_ref() else {
            return false;
        };
        let per_target = self
            .outcome
            .iter()
            .zip(&self.levels)
            .zip(&self.inputs.bases[0]);
        raw[0]
            .iter()
            .zip(&self.blend)
            .zip(per_target)
            .all(|((p, b), ((&y, &c), &e))| p.is_none_or(|p| b.is_settled(y, [c, e, p.forest])))
    }

    /// Replays the blend steps of the republishes skipped since the last one run: those of the
    /// targets the model predicts, whose predictions (`raw`) the skipped passes kept.
    fn catch_up(&mut self) {
        if self.skipped == 0 {
            return;
        }
        if let Some(raw) = self.raw.as_ref() {
            for ((b, p), &y) in self.blend.iter_mut().zip(&raw[0]).zip(&self.outcome) {
                if p.is_some() {
                    b.skip(y, self.skipped);
                }
            }
        }
        self.skipped = 0;
    }

    fn republish(&mut self) {
        self.catch_up();
        let longest = self.published.as_ref().and_then(|p| p.last());
        self.anomaly.observe(&self.levels, longest);
        let Some(raw) = self.raw.as_ref() else {
            self.published = None;
            return;
        };
        // Built in place: the predictions are copied once per pass.
        let out = self.published.insert(*raw);
        publish_all(
            &mut self.blend,
            &self.outcome,
            &self.levels,
            &self.inputs.bases[0],
            &mut out[0],
        );
        self.adaptive.apply(out);
        self.adaptive.start(out, &self.levels, &self.inputs.bases);
    }

    /// The published predictions at every horizon of the latest pass with a full history.
    pub fn published(&self) -> Option<&AllPredictions> {
        self.published.as_ref()
    }

    /// Each target's current level at the latest pass with a full history.
    pub fn levels(&self) -> &[i64; N_TARGETS] {
        &self.levels
    }

    /// The anomaly flags of the latest pass: bit `t` for target `t` ([`Anomaly::flags`]).
    pub fn anomaly(&self) -> u8 {
        self.anomaly.flags()
    }
}

#[cfg(test)]
#[cfg(feature = "std")]
mod tests {
    extern crate std;
    use super::*;
    use crate::blob::parse;
    use crate::sample::RawSample;
    use crate::synth::random_model;
    use std::vec::Vec;

    fn sample(i: u64) -> RawSample {
        // Busy for 20 passes, idle for 40, with an RSS step: both paths of `update` run.
        let busy = (i / 20).is_multiple_of(3);
        RawSample {
            interval_ns: 1_000_000_000,
            cpu_user_ns: if busy {
                300_000_000 + (i % 7) * 10_000_000
            } else {
                0
            },
            rss_anon_kib: if busy { 4096 } else { 2048 },
            age_ms: 1_000 * i,
            ..Default::default()
        }
    }

    #[test]
    fn reuse_and_refresh_publish_what_evaluating_every_pass_publishes() {
        let bytes = random_model(3, 8, 4)
            .quantize()
            .unwrap()
            .to_checked_bytes()
            .unwrap();
        let model = parse(&bytes).unwrap();
        let samples: Vec<RawSample> = (0..200).map(sample).collect();
        // The same passes with no shortcut: features from the window and an evaluation every time.
        let (mut h, mut blends) = (History::new(), [Blend::new(); N_TARGETS]);
        let mut adaptive = Adaptive::new();
        let (mut scores, mut replayed) = (Scores::default(), Scores::default());
        let mut refreshed = 0;
        let (mut hs, mut fs) = (History::new(), Forecast::new());
        for (i, s) in samples.iter().enumerate() {
            h.push(s);
            hs.push(s);
            if let Work::Refreshed { .. } = fs.update(&hs, &model, &mut scores) {
                refreshed += 1;
            }
            adaptive.observe(h.newest().unwrap(), &mut replayed);
            let Some(w) = h.window() else {
                assert!(fs.published().is_none(), "pass {i}");
                continue;
            };
            let past = window_levels(&w);
            let x = compute_window(&w, h.long());
            let bases = model.base_levels(0, &past);
            let raw = model.predict_all(0, &x, &bases);
            let levels = past.map(|p| p[HISTORY_LEN - 1]);
            let mut want = raw;
            publish_all(&mut blends, &outcome_levels(&w), &levels, &bases, &mut want);
            let long = model.predict_all(1, &x, &model.base_levels(1, &past));
            let mut want = [want, long];
            adaptive.apply(&mut want);
            adaptive.start(&want, &levels, &[bases, model.base_levels(1, &past)]);
            assert_eq!(fs.published(), Some(&want), "pass {i}");
            assert_eq!(scores, replayed, "pass {i}");
        }
        assert!(refreshed > 20, "the still path ran only {refreshed} times");
    }

    /// Phases of random length: busy ones (CPU, RSS steps, disk writes) and idle ones long
    /// enough for a sleeper's republishes to be skipped across several minute checks.
    fn phases(seed: u64, passes: u64) -> Vec<RawSample> {
        let mut rng = crate::synth::Rng(seed);
        let (mut out, mut rss, mut age) = (Vec::new(), 2048, 0);
        while (out.len() as u64) < passes {
            let busy = out.is_empty() || rng.next_u64() % 3 == 0;
            let len = if busy {
                3 + rng.next_u64() % 40
            } else {
                10 + rng.next_u64() % 200
            };
            let cpu = if busy {
                50_000_000 + rng.next_u64() % 900_000_000
            } else {
                0
            };
            if busy {
                rss = 1024 + rng.next_u64() % 400_000;
            }
            for _ in 0..len {
                age += 1_000;
                out.push(RawSample {
                    interval_ns: 1_000_000_000,
                    cpu_user_ns: cpu,
                    nvcsw: u64::from(busy) * 20,
                    rss_anon_kib: rss,
                    disk_write_bytes: if busy { rng.next_u64() % (8 << 20) } else { 0 },
                    age_ms: age,
                    ..Default::default()
                });
            }
        }
        out
    }

    #[test]
    fn skipped_republishes_publish_what_republishing_every_pass_publishes() {
        // The committed model: a sleeper's persistence, EWMA and forest forecasts agree under it,
        // so its blend records settle and its republishes are skipped.
        let model = parse(include_bytes!("../default/model.bin")).unwrap();
        let mut skipped_passes = 0;
        for seed in 0..6 {
            let (mut h, mut fs, mut reference) = (History::new(), Forecast::new(), Forecast::new());
            let (mut scores, mut replayed) = (Scores::default(), Scores::default());
            for (i, s) in phases(seed, 3_000).iter().enumerate() {
                h.push(s);
                fs.update(&h, &model, &mut scores);
                skipped_passes += u64::from(fs.skipped > 0);
                let Some(w) = h.window() else {
                    continue;
                };
                // The trainer's replay: every pass republished.
                let past = window_levels(&w);
                let inputs = Inputs {
                    features: compute_window(&w, h.long()),
                    bases: core::array::from_fn(|hz| model.base_levels(hz, &past)),
                };
                let levels = past.map(|p| p[HISTORY_LEN - 1]);
                reference.step(
                    h.newest().unwrap(),
                    levels,
                    outcome_levels(&w),
                    inputs,
                    &mut replayed,
                    |i| model.predict_horizons(&i.features, &i.bases),
                );
                assert_eq!(
                    fs.published(),
                    reference.published(),
                    "seed {seed}, pass {i}"
                );
                assert_eq!(fs.anomaly(), reference.anomaly(), "seed {seed}, pass {i}");
                assert_eq!(scores, replayed, "seed {seed}, pass {i}");
            }
            // Once it has caught up, the skipping forecast's state is the replay's.
            fs.catch_up();
            fs.settled = false;
            assert_eq!(fs, reference, "seed {seed}");
        }
        assert!(
            skipped_passes > 5_000,
            "republishes skipped on only {skipped_passes} passes"
        );
    }

    #[test]
    fn a_new_model_restarts_the_records_and_evaluates() {
        let model = |seed| {
            random_model(seed, 8, 4)
                .quantize()
                .unwrap()
                .to_checked_bytes()
                .unwrap()
        };
        let (a, b) = (model(1), model(2));
        let (a, b) = (parse(&a).unwrap(), parse(&b).unwrap());
        let samples: Vec<RawSample> = (0..60).map(sample).collect();
        let (mut h, mut f) = (History::new(), Forecast::new());
        let mut live = Scores::default();
        for s in &samples[..40] {
            h.push(s);
            f.update(&h, &a, &mut live);
        }
        f.model_changed();
        h.push(&samples[40]);
        // Idle since pass 20, so still: but nothing of `a` may be reused.
        assert!(h.is_still());
        assert_eq!(
            f.update(&h, &b, &mut live),
            Work::Computed { evaluated: true }
        );
        // Nothing scored under `b` yet: its forest's forecasts are published unblended.
        let raw = b.predict_history(0, &h).unwrap();
        for (p, r) in f.published().unwrap()[0].iter().zip(raw) {
            assert_eq!(p.map(|p| p.forest), r.map(|r| r.forest.max(0)));
        }
        // And from then on, exactly what a fresh forecast of the same history under `b` publishes.
        // (The same history: its long memory reaches back before pass 40.)
        let (mut g, mut h2) = (Forecast::new(), h.clone());
        g.update(&h2, &b, &mut live);
        for s in &samples[41..] {
            h.push(s);
            h2.push(s);
            f.update(&h, &b, &mut live);
            g.update(&h2, &b, &mut live);
            assert_eq!(f.published(), g.published());
        }
    }

    #[test]
    fn step_evaluates_only_when_the_inputs_change() {
        let mut f = Forecast::new();
        let inputs = Inputs {
            features: [1; N_FEATURES],
            bases: [[5; N_TARGETS]; N_HORIZONS],
        };
        let mut calls = 0;
        let mut predict = |_: &Inputs| {
            calls += 1;
            [[Some(crate::blob::Prediction::default()); N_TARGETS]; N_HORIZONS]
        };
        let (s, mut live) = (Slot::default(), Scores::default());
        let mut step = |f: &mut Forecast, inputs| {
            f.step(
                &s,
                [5; N_TARGETS],
                [5; N_TARGETS],
                inputs,
                &mut live,
                &mut predict,
            )
        };
        assert!(step(&mut f, inputs));
        assert!(!step(&mut f, inputs));
        let changed = Inputs {
            bases: [[6; N_TARGETS]; N_HORIZONS],
            ..inputs
        };
        assert!(step(&mut f, changed));
        f.model_changed();
        assert!(step(&mut f, changed));
        assert_eq!(calls, 3);
    }
}
