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
use super::schema::{HORIZON, HORIZONS, N_FEATURES, N_HORIZONS, N_TARGETS};
use super::target::{changes, current_levels, outcome_levels, window_levels, FutureSums};

/// One row: the features at sample `end` (the newest sample of the window), the current levels of
/// the targets, and — for training rows — the learned target values at each horizon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row<'a> {
    /// Index into the input slice of the window's newest sample.
    pub end: usize,
    /// Features of the window `end + 1 - HISTORY_LEN ..= end` and the long memory of every
    /// sample up to `end`.
    pub features: &'a [i32; N_FEATURES],
    /// The window's newest slot.
    pub newest: &'a Slot,
    /// Current level of each target, in target units (the persistence forecast).
    pub levels: &'a [i64; N_TARGETS],
    /// Level of each target in each slot of the window, oldest first (`past[target][slot]`): what
    /// base levels are computed from.
    pub past: &'a [[i64; HISTORY_LEN]; N_TARGETS],
    /// Learned values at each of [`HORIZONS`], from samples `end + 1 ..= end + H` (and the
    /// intervals after the exit, for a process that exited); `None` where the input ends before
    /// `H` samples and the process did not exit, and always for [`for_each_feature_row`].
    pub targets: &'a [Option<[i32; N_TARGETS]>; N_HORIZONS],
    /// Level of each target over the window's newest [`HORIZON`] samples: the outcome of the
    /// forecasts made at sample `end - HORIZON` ([`super::target::outcome_levels`]).
    pub outcome: &'a [i64; N_TARGETS],
}

/// Number of rows [`for_each_training_row`] produces for `n_samples` samples of a process that
/// did not exit (one that exited has a row for every full history).
pub const fn n_training_rows(n_samples: usize, exited: bool) -> usize {
    if exited {
        n_samples.saturating_sub(HISTORY_LEN - 1)
    } else {
        n_samples.saturating_sub(HISTORY_LEN - 1 + HORIZON)
    }
}

/// Calls `f` for every position with a full history ending there and a known target at the
/// shortest horizon: [`HORIZON`] samples after it, or fewer if the process `exited` after the
/// last sample given (then the intervals after it count as 0, see [`super::target`]).
///
/// ```
/// use procperf_model::sample::RawSample;
/// use procperf_model::schema::{Target, HORIZON, HORIZONS};
/// use procperf_model::history::HISTORY_LEN;
/// use procperf_model::window::{for_each_training_row, n_training_rows};
/// let s: Vec<RawSample> = (0..20u64)
///     .map(|i| RawSample { interval_ns: 1_000_000_000, rss_anon_kib: 100 * i, ..Default::default() })
///     .collect();
/// let mut rows = 0;
/// for_each_training_row(&s, false, |row| {
///     rows += 1;
///     // RSS grows 100 KiB per sample: the peak of the next 5 is 500 KiB above the current one.
///     assert_eq!(row.targets[0].unwrap()[Target::Rss.index()], 500);
///     assert_eq!(row.levels[Target::Rss.index()], 100 * row.end as i64);
///     assert!(row.targets[1].is_none()); // 20 samples are not a minute
/// });
/// assert_eq!(rows, n_training_rows(s.len(), false));
/// assert_eq!(rows, 20 - (HISTORY_LEN - 1) - HORIZON);
/// ```
pub fn for_each_training_row(samples: &[RawSample], exited: bool, mut f: impl FnMut(&Row<'_>)) {
    walk(samples, Some(exited), &mut f);
}

/// Calls `f` for every position with a full history ending there, including the last sample (the
/// rows to predict from); every target is `None`.
pub fn for_each_feature_row(samples: &[RawSample], mut f: impl FnMut(&Row<'_>)) {
    walk(samples, None, &mut f);
}

fn walk(samples: &[RawSample], exited: Option<bool>, f: &mut dyn FnMut(&Row<'_>)) {
    let mut history = History::new();
    for (end, sample) in (0..samples.len()).zip(samples) {
        history.push(sample);
        let Some(window) = history.window() else {
            continue;
        };
        let mut targets = [None; N_HORIZONS];
        if let Some(exited) = exited {
            for (t, &h) in targets.iter_mut().zip(&HORIZONS) {
                *t = target_values_ahead(&window, samples, end, h, exited);
            }
            if targets[0].is_none() {
                return;
            }
        }
        let features = compute_window(&window, history.long());
        let levels = current_levels(&window);
        let past = window_levels(&window);
        let outcome = outcome_levels(&window);
        f(&Row {
            end,
            newest: &window[HISTORY_LEN - 1],
            features: &features,
            levels: &levels,
            past: &past,
            targets: &targets,
            outcome: &outcome,
        });
    }
}

/// The learned values `h` samples after `end`, if the input has them or the process exited.
fn target_values_ahead(
    window: &[Slot; HISTORY_LEN],
    samples: &[RawSample],
    end: usize,
    h: usize,
    exited: bool,
) -> Option<[i32; N_TARGETS]> {
    let after = samples.get(end.checked_add(1)?..)?;
    let alive = after.len().min(h);
    if alive < h && !exited {
        return None;
    }
    let mut ahead = FutureSums::default();
    for s in &after[..alive] {
        ahead.add(&Slot::from_raw(s));
    }
    let exited_interval = window[HISTORY_LEN - 1].interval_us;
    Some(changes(
        &current_levels(window),
        &ahead.levels(h.saturating_sub(alive), exited_interval),
    ))
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
        for_each_training_row(&ramp((HISTORY_LEN + HORIZON - 1) as u64), false, |_| n += 1);
        assert_eq!(n, 0);
        // A process that exited has a row for each full history, its future counted as 0.
        for_each_training_row(&ramp((HISTORY_LEN + HORIZON - 1) as u64), true, |_| n += 1);
        assert_eq!(n, HORIZON);
        n = 0;
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
        let mut rows = 0;
        for_each_training_row(&s, false, |r| {
            let mut h = History::new();
            for x in &s[..=r.end] {
                h.push(x);
            }
            assert_eq!(Some(*r.features), super::super::features::compute(&h));
            // CPU grows 1 permille per second: the next 5 average 3 above the current.
            assert_eq!(r.targets[0].unwrap()[0], 3);
            assert!(r.targets[1].is_none());
            rows += 1;
        });
        assert_eq!(rows, n_training_rows(30, false));
    }

    #[test]
    fn an_exited_process_uses_nothing_after_its_last_sample() {
        // 70 samples at 1000 permille, then the process exits.
        let s: Vec<RawSample> = (0..70)
            .map(|_| RawSample {
                interval_ns: 1_000_000_000,
                cpu_user_ns: 1_000_000_000,
                rss_anon_kib: 100,
                ..Default::default()
            })
            .collect();
        let mut seen = Vec::new();
        for_each_training_row(&s, true, |r| {
            let long = r.targets[1].unwrap();
            seen.push((r.end, long[0], long[1]));
        });
        assert_eq!(seen.len(), n_training_rows(70, true));
        // At sample 9, 60 samples remain: the whole minute is busy and resident.
        assert_eq!(seen[2], (9, 0, 0));
        // At sample 39, 30 of the next 60 s are after the exit: half the CPU, the same peak.
        assert_eq!(seen[32], (39, -500, 0));
        // At the last sample, nothing is ahead.
        assert_eq!(*seen.last().unwrap(), (69, -1000, -100));
    }
}
