//! Windowing: turns one process's consecutive samples into feature rows, with or without targets.
//!
//! This is how the trainer builds its data set: it never computes a feature itself, so every row
//! it fits on is exactly what the kernel would compute from the same samples. Rows are handed to a
//! callback one at a time; nothing is allocated.
//!
//! The caller passes samples of ONE process, consecutive and in time order; splitting a CSV stream
//! per pid and at gaps (a missing interval, a reused pid) is the caller's job.

use super::features::compute_window;
use super::history::{History, Slot, HISTORY_LEN};
use super::sample::RawSample;
use super::schema::{HORIZON, N_FEATURES, N_TARGETS};
use super::target::{current_levels, outcome_levels, target_values, window_levels};

/// One row: the features at sample `end` (the newest sample of the window), the current levels of
/// the targets, and — for training rows — the learned target values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row<'a> {
    /// Index into the input slice of the window's newest sample.
    pub end: usize,
    /// Features of the window `end + 1 - HISTORY_LEN ..= end`.
    pub features: &'a [i32; N_FEATURES],
    /// Current level of each target, in target units (the persistence forecast).
    pub levels: &'a [i64; N_TARGETS],
    /// Level of each target in each slot of the window, oldest first (`past[target][slot]`): what
    /// base levels are computed from.
    pub past: &'a [[i64; HISTORY_LEN]; N_TARGETS],
    /// Learned values from samples `end + 1 ..= end + HORIZON`; all zero for [`for_each_feature_row`].
    pub targets: &'a [i32; N_TARGETS],
    /// Mean level of each target over the window's newest [`HORIZON`] samples: the outcome of the
    /// forecasts made at sample `end - HORIZON` ([`super::target::outcome_levels`]).
    pub outcome: &'a [i64; N_TARGETS],
}

/// Number of rows [`for_each_training_row`] produces for `n_samples` samples.
pub const fn n_training_rows(n_samples: usize) -> usize {
    n_samples.saturating_sub(HISTORY_LEN - 1 + HORIZON)
}

/// Calls `f` for every position with a full history ending there and [`HORIZON`] samples after it.
///
/// ```
/// use procperf_model::sample::RawSample;
/// use procperf_model::schema::{Feature, Target, HORIZON};
/// use procperf_model::history::HISTORY_LEN;
/// use procperf_model::window::{for_each_training_row, n_training_rows};
/// let s: Vec<RawSample> = (0..20u64)
///     .map(|i| RawSample { interval_ns: 1_000_000_000, rss_anon_kib: 100 * i, ..Default::default() })
///     .collect();
/// let mut rows = 0;
/// for_each_training_row(&s, |row| {
///     rows += 1;
///     // RSS grows 100 KiB per sample: the mean of the next 5 is 300 KiB above the current one.
///     assert_eq!(row.targets[Target::Rss.index()], 300);
///     assert_eq!(row.levels[Target::Rss.index()], 100 * row.end as i64);
/// });
/// assert_eq!(rows, n_training_rows(s.len()));
/// assert_eq!(rows, 20 - (HISTORY_LEN - 1) - HORIZON);
/// ```
pub fn for_each_training_row(samples: &[RawSample], mut f: impl FnMut(&Row<'_>)) {
    walk(samples, true, &mut f);
}

/// Calls `f` for every position with a full history ending there, including the last sample (the
/// rows to predict from); `targets` is all zero.
pub fn for_each_feature_row(samples: &[RawSample], mut f: impl FnMut(&Row<'_>)) {
    walk(samples, false, &mut f);
}

fn walk(samples: &[RawSample], with_targets: bool, f: &mut dyn FnMut(&Row<'_>)) {
    let mut history = History::new();
    for (end, sample) in samples.iter().enumerate() {
        history.push(sample);
        let Some(window) = history.window() else {
            continue;
        };
        let mut targets = [0i32; N_TARGETS];
        if with_targets {
            let Some(future) = future_slots(samples, end) else {
                return;
            };
            targets = target_values(&window, &future);
        }
        let features = compute_window(&window);
        let levels = current_levels(&window);
        let past = window_levels(&window);
        let outcome = outcome_levels(&window);
        f(&Row {
            end,
            features: &features,
            levels: &levels,
            past: &past,
            targets: &targets,
            outcome: &outcome,
        });
    }
}

/// The [`HORIZON`] slots after `end`, if the input has them.
fn future_slots(samples: &[RawSample], end: usize) -> Option<[Slot; HORIZON]> {
    let after = samples.get(end.checked_add(1)?..)?.get(..HORIZON)?;
    let mut out = [Slot::default(); HORIZON];
    for (o, s) in out.iter_mut().zip(after) {
        *o = Slot::from_raw(s);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn ramp(n: u64) -> Vec<RawSample> {
        (0..n)
            .map(|i| RawSample {
                interval_ns: 1_000_000_000,
                cpu_user_ns: i * 1_000_000,
                ..Default::default()
            })
            .collect()
    }

    #[test]
    fn too_short_input_gives_no_rows() {
        let mut n = 0;
        for_each_training_row(&ramp((HISTORY_LEN + HORIZON - 1) as u64), |_| n += 1);
        assert_eq!(n, 0);
        for_each_feature_row(&ramp((HISTORY_LEN - 1) as u64), |_| n += 1);
        assert_eq!(n, 0);
    }

    #[test]
    fn feature_rows_run_to_the_last_sample() {
        let s = ramp(12);
        let mut ends = Vec::new();
        for_each_feature_row(&s, |r| ends.push(r.end));
        assert_eq!(ends, (HISTORY_LEN - 1..12).collect::<Vec<_>>());
    }

    #[test]
    fn training_rows_match_features_of_the_same_history() {
        let s = ramp(30);
        for_each_training_row(&s, |r| {
            let mut h = History::new();
            for x in &s[r.end + 1 - HISTORY_LEN..=r.end] {
                h.push(x);
            }
            assert_eq!(Some(*r.features), super::super::features::compute(&h));
            // CPU grows 1 permille per second: the next 5 average 3 above the current.
            assert_eq!(r.targets[0], 3);
        });
    }
}
