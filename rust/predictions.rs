// SPDX-License-Identifier: GPL-2.0
//! The files that show predictions and the model: `predictions` (for people, like top),
//! `predictions.csv` (for scripts), `model` (upload a blob) and `model_info`.
//!
//! `predictions` columns, per target: the current value, the linear model's and the forest's
//! forecast of the mean over the next `horizon` intervals, and the forest's calibrated interval
//! (`lo..hi`, nominally covering `coverage` of outcomes). The forest's forecast is the published
//! one: blended with persistence and the EWMA base by the process's own record (`model::blend`),
//! its interval moved with it. Units: CPU in % of one CPU, RSS in MiB,
//! disk and network in KiB/s. Rows are sorted by the forest's CPU forecast, highest first; processes
//! with less than a full history (8 intervals) have no forecast yet and are not listed.
//!
//! `predictions.csv` has one row per predicted process with the header
//! `t_ms,pid,comm,{cpu,rss,disk,net}_{current,linear,forest,lo,hi}` in the models' own units (CPU
//! permille, RSS KiB, I/O log2q8(1+B/s)): exactly what `trainer predict` prints for the same rows.

use super::{
    debugfs::{Completeness, SeqFile, Show, Upload},
    model::{
        blob::{Prediction, MAX_BLOB_LEN},
        history::HISTORY_LEN,
        schema::{Target, HORIZON, SCHEMA_ID},
        target::display_milli,
    },
    predict::{Models, Source},
    samples::{write_comm, SliceWriter},
    sampler::{now_ms, Entry, Sampler},
};
use core::{fmt::Write, sync::atomic::Ordering::Relaxed};
use kernel::{prelude::*, sync::Arc};

fn emit(r: core::fmt::Result) -> Result {
    r.map_err(|_| EINVAL)
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
    comm.get(..n).and_then(|c| core::str::from_utf8(c).ok()).unwrap_or("?")
}

/// Indices of predicted entries, sorted by forest CPU forecast (highest first), then pid.
fn order(entries: &[Entry]) -> Result<KVec<usize>> {
    let mut idx = KVec::with_capacity(entries.len(), GFP_KERNEL)?;
    for (i, e) in entries.iter().enumerate() {
        if e.pred.is_some() {
            idx.push(i, GFP_KERNEL)?;
        }
    }
    let key = |i: &usize| {
        let e = entries.get(*i);
        let cpu = e.and_then(|e| e.pred).and_then(|p| p[Target::Cpu.index()]).map_or(0, |p| p.forest);
        (core::cmp::Reverse(cpu), e.map_or(0, |e| e.tgid))
    };
    idx.as_mut_slice().sort_unstable_by_key(key);
    Ok(idx)
}

/// `predictions`: a top-like table.
pub(crate) struct PredictionsFile(pub(crate) Arc<Sampler>);

impl Show for PredictionsFile {
    fn show(&self, out: &mut SeqFile<'_>) -> Result {
        let model = self.0.models.active();
        let interval = self.0.interval_ms.load(Relaxed);
        let m = model.view();
        let horizon_ms = u64::from(interval) * HORIZON as u64;
        emit(writeln!(
            out,
            "procperf predictions: every {interval} ms, forecasts of the mean over the next {HORIZON} intervals ({}.{} s); model {} (schema {SCHEMA_ID:#010x}, trained at {} ms, {}% intervals)",
            horizon_ms / 1000,
            horizon_ms % 1000 / 100,
            if model.source == Source::Default { "default" } else { "uploaded" },
            m.interval_ms(),
            m.coverage_permille() / 10,
        ))?;
        self.0.with_table(|table| -> Result {
            let entries = table.entries.as_slice();
            let idx = order(entries)?;
            emit(writeln!(
                out,
                "{} processes tracked, {} with a forecast (needs {HISTORY_LEN} intervals of history)",
                entries.len(),
                idx.len()
            ))?;
            emit(writeln!(
                out,
                "{:>7} {:<15} | {} | {} | {} | {}",
                "PID", "COMM", "CPU %: now lin rf [lo..hi]", "RSS MiB: now lin rf [lo..hi]",
                "DISK KiB/s: now lin rf [lo..hi]", "NET KiB/s: now lin rf [lo..hi]"
            ))?;
            for &i in idx.iter() {
                let Some(e) = entries.get(i) else { continue };
                let Some(preds) = e.pred else { continue };
                emit(write!(out, "{:>7} {:<15}", e.tgid, comm_str(&e.comm)))?;
                for t in Target::ALL {
                    let now = e.levels.get(t.index()).copied().unwrap_or(0);
                    match preds.get(t.index()).copied().flatten() {
                        Some(p) => emit(write!(
                            out,
                            " | {:>5} {:>5} {:>5} [{}..{}]",
                            Milli(display_milli(t, now)),
                            Milli(display_milli(t, p.linear)),
                            Milli(display_milli(t, p.forest)),
                            Milli(display_milli(t, p.forest_lo)),
                            Milli(display_milli(t, p.forest_hi)),
                        ))?,
                        None => emit(write!(out, " | {:>5} {:>5} {:>5} [-]", Milli(display_milli(t, now)), "-", "-"))?,
                    }
                }
                emit(writeln!(out))?;
            }
            Ok(())
        })
    }
}

/// `predictions.csv`: the same forecasts in the models' units, for scripts.
pub(crate) struct PredictionsCsvFile(pub(crate) Arc<Sampler>);

impl Show for PredictionsCsvFile {
    fn show(&self, out: &mut SeqFile<'_>) -> Result {
        emit(write!(out, "t_ms,pid,comm"))?;
        for t in Target::ALL {
            for col in ["current", "linear", "forest", "lo", "hi"] {
                emit(write!(out, ",{}_{col}", t.name()))?;
            }
        }
        emit(writeln!(out))?;
        self.0.with_table(|table| -> Result {
            let entries = table.entries.as_slice();
            for &i in order(entries)?.iter() {
                let Some(e) = entries.get(i) else { continue };
                let Some(preds) = e.pred else { continue };
                emit(write!(out, "{},{},", e.t_ms(), e.tgid))?;
                emit(write_comm(out, &e.comm))?;
                for t in Target::ALL {
                    let now = e.levels.get(t.index()).copied().unwrap_or(0);
                    let p = preds.get(t.index()).copied().flatten().unwrap_or(Prediction::default());
                    emit(write!(out, ",{now},{},{},{},{}", p.linear, p.forest, p.forest_lo, p.forest_hi))?;
                }
                emit(writeln!(out))?;
            }
            Ok(())
        })
    }
}

/// `model`: write a blob to replace the active model (validated completely first).
pub(crate) struct ModelFile(pub(crate) Arc<Sampler>);

impl Show for ModelFile {
    fn show(&self, _out: &mut SeqFile<'_>) -> Result {
        Err(EINVAL) // write-only; `model_info` describes the active model
    }
}

impl Upload for ModelFile {
    const MAX_LEN: usize = MAX_BLOB_LEN;

    fn check(&self, data: &[u8]) -> Result<Completeness> {
        let r = Models::completeness(data);
        if let Err(e) = r {
            self.0.models.rejected.fetch_add(1, Relaxed);
            pr_warn!("model upload refused: not a model blob of an acceptable size; the active model is unchanged\n");
            return Err(e);
        }
        r
    }

    fn apply(&self, data: &[u8]) -> Result {
        self.0.models.swap(data, now_ms())
    }
}

/// `model_info`: the active model.
pub(crate) struct ModelInfoFile(pub(crate) Arc<Sampler>);

impl Show for ModelInfoFile {
    fn show(&self, out: &mut SeqFile<'_>) -> Result {
        let model = self.0.models.active();
        let m = model.view();
        let s = model.summary();
        emit(writeln!(out, "source {}", if model.source == Source::Default { "default" } else { "uploaded" }))?;
        emit(writeln!(out, "format_version {}", super::model::blob::FORMAT_VERSION))?;
        emit(writeln!(out, "schema_id {SCHEMA_ID:#010x}"))?;
        emit(writeln!(out, "size_bytes {}", model.len))?;
        emit(writeln!(out, "active_since_ms {}", model.since_ms))?;
        emit(write!(out, "targets"))?;
        for t in Target::ALL {
            if m.target(t).is_some() {
                emit(write!(out, " {}", t.name()))?;
            }
        }
        emit(writeln!(out))?;
        // The EWMA factor of each target's base level (1000 = changes from the newest level).
        emit(write!(out, "base_alpha_permille"))?;
        for t in Target::ALL {
            if let Some(tm) = m.target(t) {
                emit(write!(out, " {}={}", t.name(), tm.base.permille()))?;
            }
        }
        emit(writeln!(out))?;
        emit(writeln!(out, "trees {}", s.trees))?;
        emit(writeln!(out, "max_depth {}", s.max_depth))?;
        emit(writeln!(out, "nodes {}", s.nodes))?;
        emit(writeln!(out, "trained_interval_ms {}", m.interval_ms()))?;
        emit(writeln!(out, "interval_coverage_permille {}", m.coverage_permille()))?;
        emit(writeln!(out, "horizon_intervals {HORIZON}"))?;
        emit(writeln!(out, "swaps {}", self.0.models.swaps.load(Relaxed)))?;
        emit(writeln!(out, "rejected {}", self.0.models.rejected.load(Relaxed)))?;
        emit(writeln!(out, "metadata:"))?;
        for line in m.metadata().lines() {
            emit(writeln!(out, "  {line}"))?;
        }
        Ok(())
    }
}
