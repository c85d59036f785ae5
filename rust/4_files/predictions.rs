// SPDX-License-Identifier: GPL-2.0
//! The files that show the published forecasts: `predictions` (for people, like top) and
//! `predictions.csv` (for scripts).
//!
//! `predictions` columns, per target: the current value, the linear model's and the forest's
//! forecast of the mean over the next `horizon` intervals, and the forest's calibrated interval
//! (`lo..hi`, nominally covering `coverage` of outcomes). The forest's forecast is the published
//! one: blended with persistence and the EWMA base by the process's own record (`model::forecast`),
//! its interval moved with it. Units: CPU in % of one CPU, RSS in MiB,
//! disk and network in KiB/s. Rows are sorted by the forest's CPU forecast, highest first; processes
//! with less than a full history (8 intervals) have no forecast yet and are not listed.
//!
//! `predictions.csv` has one row per predicted process with the header
//! `t_ms,pid,comm,cgroup,{cpu,rss,disk,net}_{current,linear,forest,lo,hi}` in the models' own units
//! (CPU permille, RSS KiB, I/O log2q8(1+B/s)): exactly what `trainer predict` prints for the same
//! rows. Both files name each process's cgroup by its cgroup v2 id (the inode number of its
//! directory under the cgroup2 mount: `stat -c %i`), as `samples` does, and show its anomaly flags
//! (`model::anomaly`): in `predictions` as `ANOM`, a letter per flagged target (`C`, `R`, `D`,
//! `N`, else `-`), in `predictions.csv` as the last column, `anomaly`, bit `t` for target `t`.

use super::{
    emit,
    samples::{write_comm, SliceWriter},
};
use crate::{
    model::{
        blob::Prediction,
        history::HISTORY_LEN,
        sample::ROW_PREFIX,
        schema::{csv_columns, CsvValue, Target, ANOMALY_COLUMN, HORIZONS, SCHEMA_ID},
        target::display_milli,
    },
    sys::{
        debugfs::{SeqFile, Show},
        task::ProcessId,
    },
    track::{pass::Sampler, process::Process, table::TgidTable},
};
use core::{fmt::Write, sync::atomic::Ordering::Relaxed};
use kernel::{prelude::*, sync::Arc};

/// A name in capitals (`CPU`), for the table's headings.
struct Upper(&'static str);

impl core::fmt::Display for Upper {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0
            .chars()
            .try_for_each(|c| f.write_char(c.to_ascii_uppercase()))
    }
}

/// A display value in thousandths, printed with one decimal.
struct Milli(i64);

impl core::fmt::Display for Milli {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let v = self.0.max(0).saturating_add(50) / 100; // tenths, rounded
        let mut buf = [0u8; 24];
        let mut w = SliceWriter::new(&mut buf);
        write!(w, "{}.{}", v / 10, v % 10)?;
        f.pad(w.as_str())
    }
}

fn comm_str(comm: &[u8; 16]) -> &str {
    let n = comm.iter().position(|&c| c == 0).unwrap_or(comm.len());
    comm.get(..n)
        .and_then(|c| core::str::from_utf8(c).ok())
        .unwrap_or("?")
}

/// The processes with a forecast, sorted by forest CPU forecast (highest first), then pid.
fn order(table: &TgidTable<Process>) -> Result<KVec<(ProcessId, &Process)>> {
    let mut rows = KVec::with_capacity(table.len(), GFP_KERNEL)?;
    for (id, p) in table.iter() {
        if p.forecasts().published().is_some() {
            rows.push((id, p), GFP_KERNEL)?;
        }
    }
    let key = |(id, p): &(ProcessId, &Process)| {
        let cpu = p
            .forecasts()
            .published()
            .and_then(|f| f[0][Target::Cpu.index()])
            .map_or(0, |f| f.forest);
        (core::cmp::Reverse(cpu), id.tgid)
    };
    heap_sort_by_key(rows.as_mut_slice(), key);
    Ok(rows)
}

/// Sorts `v` by `key`, ascending, in O(n log n) with no allocation and no panic path.
///
/// Not core's `sort_unstable_by_key`: its small-sort ends in a panic for inconsistent orderings
/// that objtool on some kernels does not know to be noreturn ("falls through to next function").
pub(crate) fn heap_sort_by_key<T, K: Ord>(v: &mut [T], key: impl Fn(&T) -> K) {
    // Moves v[root] down until it is not below either child, in v[..end].
    let sift_down = |v: &mut [T], mut root: usize, end: usize| loop {
        let left = root.saturating_mul(2).saturating_add(1);
        let right = left.saturating_add(1);
        let Some(l) = v.get(left).filter(|_| left < end) else {
            return;
        };
        let child = match v.get(right).filter(|_| right < end) {
            Some(r) if key(r) > key(l) => right,
            _ => left,
        };
        match (v.get(root), v.get(child)) {
            (Some(a), Some(b)) if key(a) < key(b) => v.swap(root, child),
            _ => return,
        }
        root = child;
    };
    let n = v.len();
    for root in (0..n / 2).rev() {
        sift_down(v, root, n);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift_down(v, 0, end);
    }
}

/// `predictions`: a top-like table.
pub(crate) struct Table(pub(crate) Arc<Sampler>);

impl Show for Table {
    fn show(&self, out: &mut SeqFile<'_>) -> Result {
        let model = self.0.models.active();
        let interval = self.0.interval_ms.load(Relaxed);
        let m = model.view();
        emit(write!(
            out,
            "procperf predictions: every {interval} ms, forecasts over the next"
        ))?;
        for (i, h) in HORIZONS.iter().enumerate() {
            let ms = u64::from(interval) * *h as u64;
            let sep = if i == 0 { "" } else { "," };
            emit(write!(
                out,
                "{sep} +{h} ({}.{} s)",
                ms / 1000,
                ms % 1000 / 100
            ))?;
        }
        emit(writeln!(
            out,
            " intervals (CPU, disk, net: mean; RSS: peak); model {} (schema {SCHEMA_ID:#010x}, trained at {} ms, {}% intervals)",
            model.source.name(),
            m.interval_ms(),
            m.coverage_permille() / 10,
        ))?;
        self.0.with_table(|table| -> Result {
            let rows = order(table)?;
            emit(writeln!(
                out,
                "{} processes tracked, {} with a forecast (needs {HISTORY_LEN} intervals of history)",
                table.len(),
                rows.len()
            ))?;
            emit(write!(out, "{:>7} {:<15} {:>8} ANOM", "PID", "COMM", "CGROUP"))?;
            for t in Target::ALL {
                emit(write!(out, " | {} {}: now", Upper(t.name()), t.display_unit()))?;
                for h in HORIZONS {
                    emit(write!(out, " +{h} [lo..hi]"))?;
                }
            }
            emit(writeln!(out))?;
            for (id, p) in rows.iter() {
                let Some(preds) = p.forecasts().published() else { continue };
                let levels = p.forecasts().levels();
                emit(write!(
                    out,
                    "{:>7} {:<15} {:>8} ",
                    id.tgid,
                    comm_str(&p.comm),
                    p.cgroup
                ))?;
                let flags = p.forecasts().anomaly();
                for t in Target::ALL {
                    let c = if flags & (1 << t.index()) != 0 {
                        t.name().chars().next().map_or('?', |c| c.to_ascii_uppercase())
                    } else {
                        '-'
                    };
                    emit(out.write_char(c))?;
                }
                for t in Target::ALL {
                    let now = levels.get(t.index()).copied().unwrap_or(0);
                    emit(write!(out, " | {:>5}", Milli(display_milli(t, now))))?;
                    for at_h in preds.iter() {
                        match at_h.get(t.index()).copied().flatten() {
                            Some(p) => emit(write!(
                                out,
                                " {:>5} [{}..{}]",
                                Milli(display_milli(t, p.forest)),
                                Milli(display_milli(t, p.forest_lo)),
                                Milli(display_milli(t, p.forest_hi)),
                            ))?,
                            None => emit(write!(out, " {:>5} [-]", "-"))?,
                        }
                    }
                }
                emit(writeln!(out))?;
            }
            Ok(())
        })
    }
}

/// `predictions.csv`: the same forecasts in the models' units, for scripts.
pub(crate) struct Csv(pub(crate) Arc<Sampler>);

impl Show for Csv {
    fn show(&self, out: &mut SeqFile<'_>) -> Result {
        for (i, name) in ROW_PREFIX.iter().enumerate() {
            emit(write!(out, "{}{name}", if i == 0 { "" } else { "," }))?;
        }
        for c in csv_columns() {
            emit(write!(out, ",{c}"))?;
        }
        emit(writeln!(out, ",{ANOMALY_COLUMN}"))?;
        self.0.with_table(|table| -> Result {
            for (id, p) in order(table)?.iter() {
                let Some(preds) = p.forecasts().published() else {
                    continue;
                };
                let levels = p.forecasts().levels();
                emit(write!(out, "{},{},", p.t_ms(), id.tgid))?;
                emit(write_comm(out, &p.comm))?;
                emit(write!(out, ",{}", p.cgroup))?;
                for c in csv_columns() {
                    let t = c.target.index();
                    let p = |h: usize| {
                        preds
                            .get(h)
                            .and_then(|at_h| at_h.get(t).copied().flatten())
                            .unwrap_or(Prediction::default())
                    };
                    let v = match c.value {
                        CsvValue::Current => levels.get(t).copied().unwrap_or(0),
                        CsvValue::Linear(h) => p(h).linear,
                        CsvValue::Forest(h) => p(h).forest,
                        CsvValue::Lo(h) => p(h).forest_lo,
                        CsvValue::Hi(h) => p(h).forest_hi,
                    };
                    emit(write!(out, ",{v}"))?;
                }
                emit(writeln!(out, ",{}", p.forecasts().anomaly()))?;
            }
            Ok(())
        })
    }
}
