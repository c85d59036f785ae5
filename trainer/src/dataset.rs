//! From samples to supervised rows, and from rows to leakage-free train / calibration / test parts.
//!
//! Rows of the CSV are grouped per process — a pid plus its start time (`t_ms - age_ms`), so a
//! reused pid is a new process — and each process's samples are cut into runs of consecutive
//! intervals: a gap (an interval missing from the stream) ends a run. Each run goes through the
//! model crate's [`window::for_each_training_row`], which computes the features at `t` and the
//! targets from the next `H` samples, for one horizon `H` of `HORIZONS` per data set. A process
//! whose last sample is before the capture's last pass exited: its rows near the end keep their
//! targets, with the intervals after the exit counted as 0. This module never computes a feature
//! or a target.
//!
//! Splits keep whole groups on one side: by default every row of a command name (`comm`) is in
//! train or in test, never both, so a model is scored on programs it has not seen; `--split time`
//! cuts the time axis instead and purges the rows whose target window crosses into a later block.

use std::collections::HashMap;

use anyhow::{bail, Result};
use procperf_model::features::ACTIVE_CPU_PERMILLE;
use procperf_model::history::{Slot, HISTORY_LEN};
use procperf_model::sample::RawSample;
use procperf_model::schema::{Target, HORIZONS, N_FEATURES, N_TARGETS};
use procperf_model::target::BaseAlpha;
use procperf_model::window;

use crate::data::Samples;
use crate::forest::Rng;

/// Two rows of one pid belong to the same process when their start times differ by at most this.
/// /proc's start time has 10 ms resolution and the collector reads the clock per process; the
/// kernel's is exact.
pub const START_TOLERANCE_MS: i64 = 100;

/// Identity and time of one supervised row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowMeta {
    pub t_ms: u64,
    pub pid: u32,
    /// Command name at this row (index into [`Dataset::comms`]).
    pub comm: u32,
    /// cgroup v2 id at this row (0: unknown).
    pub cgroup: u64,
    /// Command name of the process's last sample: the group a split keeps on one side.
    pub group: u32,
    /// Process id within the data set (pid + start time).
    pub process: u32,
    /// Run id: rows of one run are consecutive in the data set, one interval apart.
    pub run: u32,
    /// Index of the row's newest sample within its run: rows `end` and `end + 1` of one run are
    /// consecutive passes.
    pub end: u32,
}

/// Supervised rows: features, current levels and learned targets from the model crate.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    /// Index into `HORIZONS` of the horizon the targets are at.
    pub horizon: usize,
    /// Row-major, `N_FEATURES` per row.
    pub x: Vec<i32>,
    pub levels: Vec<[i64; N_TARGETS]>,
    /// Each target's level in each slot of the row's window (what base levels come from).
    pub past: Vec<[[i64; HISTORY_LEN]; N_TARGETS]>,
    pub targets: Vec<[i32; N_TARGETS]>,
    /// Each target's level over the row's newest `HORIZON` samples: the outcome of the shortest
    /// horizon's forecasts made `HORIZON` rows earlier (`procperf_model::target::outcome_levels`).
    pub outcomes: Vec<[i64; N_TARGETS]>,
    /// The newest slot of each row's window: what per-process replays sum outcomes from
    /// (`procperf_model::adapt`).
    pub newest: Vec<Slot>,
    pub meta: Vec<RowMeta>,
    pub comms: Vec<String>,
    /// Processes and runs found, for the report.
    pub n_processes: usize,
    pub n_runs: usize,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.meta.len()
    }
    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
    }
    pub fn row(&self, i: usize) -> &[i32; N_FEATURES] {
        self.x[i * N_FEATURES..(i + 1) * N_FEATURES]
            .try_into()
            .expect("row width")
    }
    /// The learned value of `target` at each row, as float.
    pub fn y(&self, target: Target) -> Vec<f64> {
        self.targets
            .iter()
            .map(|t| t[target.index()] as f64)
            .collect()
    }
    /// Whether row `i` is the pass right after row `i - 1`, in the same run: where a replay of
    /// per-process state (`procperf_model::blend`) carries on instead of starting afresh.
    pub fn continues_run(&self, i: usize) -> bool {
        let Some(prev) = i.checked_sub(1).map(|p| &self.meta[p]) else {
            return false;
        };
        let m = &self.meta[i];
        m.run == prev.run && prev.end.checked_add(1) == Some(m.end)
    }
    pub fn level(&self, i: usize, target: Target) -> i64 {
        self.levels[i][target.index()]
    }
    /// Base level minus current level of `target` at row `i`: the change a model's output is
    /// added to (0 for [`BaseAlpha::PERSISTENCE`]).
    pub fn base_delta(&self, i: usize, target: Target, base: BaseAlpha) -> f64 {
        let t = target.index();
        (base.level(&self.past[i][t]) - self.levels[i][t]) as f64
    }
    /// [`Self::base_delta`] of every row.
    pub fn base_deltas(&self, target: Target, base: BaseAlpha) -> Vec<f64> {
        (0..self.len())
            .map(|i| self.base_delta(i, target, base))
            .collect()
    }
    /// The true future level of `target` at row `i`: current level plus learned change.
    pub fn truth_level(&self, i: usize, target: Target) -> f64 {
        (self.levels[i][target.index()] + self.targets[i][target.index()] as i64) as f64
    }
    /// "Active" rows: CPU at or above 1 % now or over the target horizon. Idle processes are
    /// the large majority of rows and would hide every difference between models.
    pub fn is_active(&self, i: usize) -> bool {
        let c = Target::Cpu.index();
        let now = self.levels[i][c];
        now >= ACTIVE_CPU_PERMILLE || now + self.targets[i][c] as i64 >= ACTIVE_CPU_PERMILLE
    }

    /// Rows at the given indices, in that order (runs stay consecutive if `idx` is ascending).
    pub fn subset(&self, idx: &[usize]) -> Dataset {
        let mut x = Vec::with_capacity(idx.len() * N_FEATURES);
        for &i in idx {
            x.extend_from_slice(self.row(i));
        }
        Dataset {
            horizon: self.horizon,
            x,
            levels: idx.iter().map(|&i| self.levels[i]).collect(),
            past: idx.iter().map(|&i| self.past[i]).collect(),
            targets: idx.iter().map(|&i| self.targets[i]).collect(),
            outcomes: idx.iter().map(|&i| self.outcomes[i]).collect(),
            newest: idx.iter().map(|&i| self.newest[i]).collect(),
            meta: idx.iter().map(|&i| self.meta[i]).collect(),
            comms: self.comms.clone(),
            n_processes: self.n_processes,
            n_runs: self.n_runs,
        }
    }
}

/// Whether `next` follows `prev` of the same process without a missing interval: the time between
/// them matches `next`'s interval within half an interval.
fn consecutive(prev_t_ms: u64, next_t_ms: u64, next_interval_ns: u64) -> bool {
    let dt_ms = next_t_ms as i64 - prev_t_ms as i64;
    let iv_ms = (next_interval_ns / 1_000_000) as i64;
    dt_ms > 0 && (dt_ms - iv_ms).abs() * 2 <= iv_ms.max(2)
}

/// Builds supervised rows from samples with targets at `HORIZONS[horizon]`. `with_targets =
/// false` gives feature rows up to each run's last sample (targets zero), for prediction.
pub fn build(samples: &Samples, with_targets: bool, horizon: usize) -> Dataset {
    let rows = &samples.rows;
    // The capture's last pass: a process seen last before it exited (half an interval of slack
    // for collectors that read the clock per process).
    let last_t_ms = rows.iter().map(|r| r.t_ms).max().unwrap_or(0);
    let exited = |i: usize| {
        let r = &rows[i];
        r.t_ms + (r.sample.interval_ns / 2_000_000).max(1) < last_t_ms
    };
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| (rows[i].pid, rows[i].t_ms, i));

    // Processes: (pid, start time within tolerance), in pid then time order.
    let mut processes: Vec<Vec<usize>> = Vec::new();
    for &i in &order {
        let r = &rows[i];
        let same = processes.last().and_then(|p| p.last()).is_some_and(|&j| {
            let q = &rows[j];
            q.pid == r.pid
                && (q.start_ms() - r.start_ms()).abs() <= START_TOLERANCE_MS
                && q.t_ms < r.t_ms
        });
        if same {
            processes.last_mut().expect("checked").push(i);
        } else {
            processes.push(vec![i]);
        }
    }

    let mut ds = Dataset {
        horizon,
        comms: samples.comms.clone(),
        n_processes: processes.len(),
        ..Default::default()
    };
    let mut run_samples: Vec<RawSample> = Vec::new();
    let mut run_rows: Vec<usize> = Vec::new();
    for (p, proc_rows) in processes.iter().enumerate() {
        let group = rows[*proc_rows.last().expect("non-empty")].comm;
        let mut start = 0;
        for k in 1..=proc_rows.len() {
            let cut = k == proc_rows.len() || {
                let (a, b) = (&rows[proc_rows[k - 1]], &rows[proc_rows[k]]);
                !consecutive(a.t_ms, b.t_ms, b.sample.interval_ns)
            };
            if !cut {
                continue;
            }
            run_rows.clear();
            run_rows.extend_from_slice(&proc_rows[start..k]);
            run_samples.clear();
            run_samples.extend(run_rows.iter().map(|&i| rows[i].sample));
            let run = ds.n_runs as u32;
            ds.n_runs += 1;
            let mut emit = |r: &window::Row<'_>| {
                let targets = match r.targets[horizon] {
                    Some(t) => t,
                    None if !with_targets => [0; N_TARGETS],
                    None => return,
                };
                let src = &rows[run_rows[r.end]];
                ds.x.extend_from_slice(r.features);
                ds.levels.push(*r.levels);
                ds.past.push(*r.past);
                ds.targets.push(targets);
                ds.outcomes.push(*r.outcome);
                ds.newest.push(*r.newest);
                ds.meta.push(RowMeta {
                    t_ms: src.t_ms,
                    pid: src.pid,
                    comm: src.comm,
                    cgroup: src.cgroup,
                    group,
                    process: p as u32,
                    run,
                    end: r.end as u32,
                });
            };
            if with_targets {
                // Only the process's last run can end in its exit; a run cut by a missing
                // interval continues after it.
                let exit = k == proc_rows.len() && exited(proc_rows[k - 1]);
                window::for_each_training_row(&run_samples, exit, &mut emit);
            } else {
                window::for_each_feature_row(&run_samples, &mut emit);
            }
            start = k;
        }
    }
    ds
}

/// How to split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
pub enum SplitBy {
    /// Whole command names (`comm`) on one side: scores generalisation to unseen programs.
    Group,
    /// Contiguous blocks of time, purging rows whose targets reach into a later block.
    Time,
}

/// Indices of the parts of one split, each ascending.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Split {
    pub train: Vec<usize>,
    pub calibration: Vec<usize>,
    pub test: Vec<usize>,
}

/// Fractions of the data in the test part and of the remaining training data in calibration.
pub const TEST_FRACTION: f64 = 0.25;
pub const CALIBRATION_FRACTION: f64 = 0.2;

/// Weight of an idle row relative to an active one when group splits share out rows.
pub const IDLE_ROW_WEIGHT: f64 = 0.02;

/// What a group of rows is active in, rarest first: groups are shared out per stratum, so that a
/// target only a few programs exercise (network, in the reference mix) has
/// active rows in every part whenever it has enough programs, instead of all of them landing on
/// one side by chance.
fn stratum(ds: &Dataset, rows: &[usize]) -> u8 {
    let moves = |t: Target| {
        rows.iter()
            .any(|&i| ds.level(i, t) > 0 || ds.targets[i][t.index()] != 0)
    };
    if moves(Target::Net) {
        0
    } else if moves(Target::Disk) {
        1
    } else if rows.iter().any(|&i| ds.is_active(i)) {
        2
    } else {
        3
    }
}

/// Groups in seeded random order, then, per [`stratum`], greedily filled into parts of the wanted
/// row shares. A stratum with fewer groups than parts goes to the last part (training).
fn group_assignment(ds: &Dataset, idx: &[usize], shares: &[f64], seed: u64) -> Vec<Vec<usize>> {
    let mut per_group: HashMap<u32, Vec<usize>> = HashMap::new();
    for &i in idx {
        per_group.entry(ds.meta[i].group).or_default().push(i);
    }
    let mut groups: Vec<u32> = per_group.keys().copied().collect();
    // Sort by name first so the shuffle, and so the split, does not depend on hash order.
    groups.sort_by(|a, b| ds.comms[*a as usize].cmp(&ds.comms[*b as usize]));
    let mut rng = Rng::new(seed);
    for i in (1..groups.len()).rev() {
        groups.swap(i, rng.below(i + 1));
    }
    // Shares are of weighted rows: an active row weighs 1, an idle one IDLE_ROW_WEIGHT. Active rows
    // are a few percent of all and concentrated in a few programs; weighing by plain row count
    // could leave a part (and so its metrics or its calibration) with almost no active row.
    let weight = |rows: &[usize]| -> f64 {
        rows.iter()
            .map(|&i| {
                if ds.is_active(i) {
                    1.0
                } else {
                    IDLE_ROW_WEIGHT
                }
            })
            .sum()
    };
    let mut parts: Vec<Vec<usize>> = vec![Vec::new(); shares.len() + 1];
    for st in 0..4u8 {
        let members: Vec<u32> = groups
            .iter()
            .copied()
            .filter(|g| stratum(ds, &per_group[g]) == st)
            .collect();
        if members.len() < parts.len() {
            for g in &members {
                parts[shares.len()].extend_from_slice(&per_group[g]);
            }
            continue;
        }
        let total: f64 = members.iter().map(|g| weight(&per_group[g])).sum();
        let mut part = 0;
        let mut filled = 0.0;
        let mut taken = 0usize;
        for g in members {
            // The last part (the remainder) takes whatever the share-bound parts did not.
            while part < shares.len() && filled >= shares[part] * total && taken > 0 {
                part += 1;
                filled = 0.0;
                taken = 0;
            }
            let rows = &per_group[&g];
            filled += weight(rows);
            taken += 1;
            parts[part].extend_from_slice(rows);
        }
    }
    for p in &mut parts {
        p.sort_unstable();
    }
    parts
}

/// Splits into time blocks `[0, cuts[0]), [cuts[0], cuts[1]), ...` of `t_ms`, dropping rows whose
/// target horizon reaches past their block's end (purging).
fn time_blocks(ds: &Dataset, idx: &[usize], cuts: &[u64], purge_ms: u64) -> Vec<Vec<usize>> {
    let mut parts = vec![Vec::new(); cuts.len() + 1];
    for &i in idx {
        let t = ds.meta[i].t_ms;
        let b = cuts.partition_point(|&c| c <= t);
        if b < cuts.len() && t + purge_ms >= cuts[b] {
            continue;
        }
        parts[b].push(i);
    }
    parts
}

/// The interval that covers most rows, ms: used to size the purge gap of time splits.
fn typical_interval_ms(ds: &Dataset) -> u64 {
    let mut dts: Vec<u64> = Vec::new();
    for w in ds.meta.windows(2).step_by(7).take(100_000) {
        if w[0].run == w[1].run && w[1].t_ms > w[0].t_ms {
            dts.push(w[1].t_ms - w[0].t_ms);
        }
    }
    dts.sort_unstable();
    dts.get(dts.len() / 2).copied().unwrap_or(1000)
}

fn time_cuts(ds: &Dataset, idx: &[usize], fractions: &[f64]) -> Vec<u64> {
    let mut ts: Vec<u64> = idx.iter().map(|&i| ds.meta[i].t_ms).collect();
    ts.sort_unstable();
    let mut acc = 0.0;
    fractions
        .iter()
        .map(|f| {
            acc += f;
            ts[((acc * ts.len() as f64) as usize).min(ts.len() - 1)]
        })
        .collect()
}

fn purge_ms(ds: &Dataset) -> u64 {
    typical_interval_ms(ds) * (HORIZONS[ds.horizon] as u64 + 1)
}

/// Train / calibration / test split of all rows.
pub fn split(ds: &Dataset, by: SplitBy, seed: u64) -> Result<Split> {
    let all: Vec<usize> = (0..ds.len()).collect();
    let s = match by {
        SplitBy::Group => {
            let p = group_assignment(ds, &all, &[TEST_FRACTION], seed);
            let (test, rest) = (p[0].clone(), p[1].clone());
            let q = group_assignment(ds, &rest, &[CALIBRATION_FRACTION], seed.wrapping_add(1));
            Split {
                calibration: q[0].clone(),
                train: q[1].clone(),
                test,
            }
        }
        SplitBy::Time => {
            // train | calibration | test along time.
            let train_share = (1.0 - TEST_FRACTION) * (1.0 - CALIBRATION_FRACTION);
            let cal_share = (1.0 - TEST_FRACTION) * CALIBRATION_FRACTION;
            let cuts = time_cuts(ds, &all, &[train_share, cal_share]);
            let p = time_blocks(ds, &all, &cuts, purge_ms(ds));
            Split {
                train: p[0].clone(),
                calibration: p[1].clone(),
                test: p[2].clone(),
            }
        }
    };
    check_split(ds, &s)?;
    Ok(s)
}

/// Minimum rows in each part of a split.
pub const MIN_PART_ROWS: usize = 10;

fn check_split(ds: &Dataset, s: &Split) -> Result<()> {
    let groups = |v: &[usize]| {
        v.iter()
            .map(|&i| ds.meta[i].group)
            .collect::<std::collections::HashSet<_>>()
            .len()
    };
    for (name, part) in [
        ("train", &s.train),
        ("calibration", &s.calibration),
        ("test", &s.test),
    ] {
        if part.len() < MIN_PART_ROWS {
            bail!(
                "too few rows for the split: {} supervised rows from {} processes ({} command names) \
                 leave {} rows in the {name} part (need at least {MIN_PART_ROWS}); a row needs {} \
                 consecutive samples of one process ({} of history, {} ahead) — collect longer or \
                 use --split time",
                ds.len(),
                ds.n_processes,
                groups(&(0..ds.len()).collect::<Vec<_>>()),
                part.len(),
                HISTORY_LEN + HORIZONS[ds.horizon],
                HISTORY_LEN,
                HORIZONS[ds.horizon]
            );
        }
    }
    Ok(())
}

/// K folds for cross-validation: each fold's test part is one group of comms (or one time block);
/// its training part is everything else, with a calibration part carved out as in [`split`].
pub fn folds(ds: &Dataset, by: SplitBy, k: usize, seed: u64) -> Result<Vec<Split>> {
    if k < 2 {
        bail!("--folds must be at least 2 (got {k})");
    }
    let all: Vec<usize> = (0..ds.len()).collect();
    let mut out = Vec::with_capacity(k);
    match by {
        SplitBy::Group => {
            let shares = vec![1.0 / k as f64; k - 1];
            let blocks = group_assignment(ds, &all, &shares, seed);
            for f in 0..k {
                let rest: Vec<usize> = blocks
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != f)
                    .flat_map(|(_, b)| b.iter().copied())
                    .collect::<Vec<_>>();
                let mut rest = rest;
                rest.sort_unstable();
                let q = group_assignment(
                    ds,
                    &rest,
                    &[CALIBRATION_FRACTION],
                    seed.wrapping_add(1 + f as u64),
                );
                out.push(Split {
                    calibration: q[0].clone(),
                    train: q[1].clone(),
                    test: blocks[f].clone(),
                });
            }
        }
        SplitBy::Time => {
            let cuts = time_cuts(ds, &all, &vec![1.0 / k as f64; k - 1]);
            let purge = purge_ms(ds);
            for f in 0..k {
                // Purge around the test block on both sides: before it (targets reach into it) and
                // before the next training block (the test block's targets reach into that).
                let lo = if f == 0 { 0 } else { cuts[f - 1] };
                let hi = if f == k - 1 { u64::MAX } else { cuts[f] };
                let mut test = Vec::new();
                let mut rest = Vec::new();
                for &i in &all {
                    let t = ds.meta[i].t_ms;
                    if t >= lo && t < hi {
                        if t.saturating_add(purge) < hi || hi == u64::MAX {
                            test.push(i);
                        }
                    } else if t >= hi || t.saturating_add(purge) < lo {
                        rest.push(i);
                    }
                }
                // Calibration: the latest CALIBRATION_FRACTION of the remaining training time.
                let mut ts: Vec<u64> = rest.iter().map(|&i| ds.meta[i].t_ms).collect();
                ts.sort_unstable();
                let cut = ts
                    .get(((1.0 - CALIBRATION_FRACTION) * ts.len() as f64) as usize)
                    .copied()
                    .unwrap_or(0);
                let (calibration, train): (Vec<usize>, Vec<usize>) =
                    rest.iter().partition(|&&i| ds.meta[i].t_ms >= cut);
                let train = train
                    .into_iter()
                    .filter(|&i| ds.meta[i].t_ms + purge < cut || ds.meta[i].t_ms >= hi)
                    .collect();
                out.push(Split {
                    train,
                    calibration,
                    test,
                });
            }
        }
    }
    for s in &out {
        check_split(ds, s)?;
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::data::Row;
    use proptest::prelude::*;

    /// A capture of `n_procs` processes over `n` one-second intervals, with comm names cycling
    /// through `n_comms`.
    pub(crate) fn synthetic(n_procs: u32, n_comms: u32, n: u64) -> Samples {
        let mut s = Samples::default();
        for c in 0..n_comms {
            s.comms.push(format!("comm{c}"));
        }
        for t in 1..=n {
            for p in 0..n_procs {
                let sample = RawSample {
                    interval_ns: 1_000_000_000,
                    cpu_user_ns: ((t + p as u64) % 7) * 100_000_000,
                    rss_anon_kib: 1000 + t * p as u64,
                    age_ms: t * 1000 + 500,
                    threads: 1,
                    ..Default::default()
                };
                s.rows.push(Row {
                    t_ms: t * 1000 + 500,
                    pid: 100 + p,
                    comm: p % n_comms,
                    cgroup: 1,
                    sample,
                });
            }
        }
        s
    }

    #[test]
    fn group_split_spreads_a_rare_target_over_every_part() {
        // 40 programs; only 4 use the network, like the reference mix.
        let mut s = synthetic(40, 40, 40);
        for r in &mut s.rows {
            if r.comm < 4 {
                r.sample.net_rx_bytes = 50_000 * (r.t_ms / 1000 % 3);
            }
        }
        let ds = build(&s, true, 0);
        for seed in 0..10 {
            let sp = split(&ds, SplitBy::Group, seed).unwrap();
            for (name, part) in [
                ("train", &sp.train),
                ("calibration", &sp.calibration),
                ("test", &sp.test),
            ] {
                let net = part.iter().any(|&i| ds.level(i, Target::Net) > 0);
                assert!(net, "seed {seed}: no network program in {name}");
            }
        }
    }

    #[test]
    fn one_process_without_gaps_gives_one_run_of_windowed_rows() {
        let ds = build(&synthetic(1, 1, 30), true, 0);
        assert_eq!(ds.n_runs, 1);
        assert_eq!(ds.len(), window::n_training_rows(30, false));
        // At the long horizon, rows need a minute ahead: 30 samples have none.
        assert_eq!(build(&synthetic(1, 1, 30), true, 1).len(), 0);
    }

    #[test]
    fn a_process_that_exits_early_keeps_rows_to_its_end() {
        // Process 1 stops at second 20 while process 0 runs to 40: it exited.
        let mut s = synthetic(2, 2, 40);
        s.rows.retain(|r| r.pid == 100 || r.t_ms <= 20_500);
        let ds = build(&s, true, 1);
        let exited: Vec<_> = ds.meta.iter().filter(|m| m.pid == 101).collect();
        assert_eq!(exited.len(), window::n_training_rows(20, true));
        // The one alive to the end has no minute ahead.
        assert!(ds.meta.iter().all(|m| m.pid == 101));
        // Its last row: nothing ahead but the exit.
        let last = ds.len() - 1;
        assert_eq!(ds.truth_level(last, Target::Cpu), 0.0);
    }

    #[test]
    fn missing_interval_cuts_the_run() {
        let mut s = synthetic(1, 1, 40);
        s.rows.remove(20);
        let ds = build(&s, true, 0);
        assert_eq!(ds.n_runs, 2);
        assert_eq!(
            ds.len(),
            window::n_training_rows(20, false) + window::n_training_rows(19, false)
        );
    }

    #[test]
    fn reused_pid_with_new_start_time_is_a_new_process() {
        let mut s = synthetic(1, 1, 40);
        for r in s.rows.iter_mut().skip(20) {
            r.sample.age_ms = r.t_ms - 20_000; // started at t = 20 s
        }
        let ds = build(&s, true, 0);
        assert_eq!(ds.n_processes, 2);
    }

    proptest! {
        #[test]
        fn group_split_never_puts_a_comm_on_both_sides(seed in any::<u64>(), comms in 4u32..12) {
            let ds = build(&synthetic(24, comms, 30), true, 0);
            let s = split(&ds, SplitBy::Group, seed).unwrap();
            let side = |v: &[usize]| v.iter().map(|&i| ds.meta[i].group).collect::<std::collections::HashSet<_>>();
            let (tr, ca, te) = (side(&s.train), side(&s.calibration), side(&s.test));
            prop_assert!(tr.is_disjoint(&te) && tr.is_disjoint(&ca) && ca.is_disjoint(&te));
            prop_assert_eq!(s.train.len() + s.calibration.len() + s.test.len(), ds.len());
        }

        #[test]
        fn group_folds_partition_rows_and_keep_comms_apart(seed in any::<u64>(), k in 2usize..4) {
            let ds = build(&synthetic(24, 12, 30), true, 0);
            let fs = folds(&ds, SplitBy::Group, k, seed).unwrap();
            let mut tested: Vec<usize> = fs.iter().flat_map(|f| f.test.iter().copied()).collect();
            tested.sort_unstable();
            prop_assert_eq!(tested, (0..ds.len()).collect::<Vec<_>>());
            for f in &fs {
                let te: std::collections::HashSet<_> = f.test.iter().map(|&i| ds.meta[i].group).collect();
                prop_assert!(f.train.iter().all(|&i| !te.contains(&ds.meta[i].group)));
            }
        }
    }

    #[test]
    fn time_split_targets_never_reach_into_the_test_block() {
        let ds = build(&synthetic(4, 2, 200), true, 0);
        let s = split(&ds, SplitBy::Time, 0).unwrap();
        let first_test = s.test.iter().map(|&i| ds.meta[i].t_ms).min().unwrap();
        let last_train = s
            .train
            .iter()
            .chain(&s.calibration)
            .map(|&i| ds.meta[i].t_ms)
            .max()
            .unwrap();
        assert!(last_train + procperf_model::schema::HORIZON as u64 * 1000 < first_test);
    }

    #[test]
    fn too_few_rows_is_an_error_that_says_why() {
        let ds = build(&synthetic(1, 1, 20), true, 0);
        let e = split(&ds, SplitBy::Group, 0).unwrap_err().to_string();
        assert!(e.contains("too few rows for the split"), "{e}");
    }
}
