// SPDX-License-Identifier: GPL-2.0
//! `version`, `stats`, `interval_ms` and `capacity`: what the module is and does, and its settings.

use super::emit;
use crate::{
    model,
    sys::{self, debugfs},
    track::pass::{self, Sampler},
    VERSION,
};
use core::{fmt::Write, sync::atomic::Ordering::Relaxed};
use kernel::{prelude::*, sync::Arc};

/// `version`: module version, kernel release, model blob format version, schema id.
pub(crate) struct Version;

impl debugfs::Show for Version {
    fn show(&self, out: &mut debugfs::SeqFile<'_>) -> Result {
        emit(writeln!(out, "procperf {VERSION}"))?;
        emit(writeln!(out, "kernel {}", sys::kernel_release()))?;
        emit(writeln!(
            out,
            "model_format {}",
            model::blob::FORMAT_VERSION
        ))?;
        emit(writeln!(
            out,
            "schema_id {:#010x}",
            model::schema::SCHEMA_ID
        ))
    }
}

/// `stats`: what the sampler did and what it cost, one `name value` pair per line.
pub(crate) struct Stats(pub(crate) Arc<Sampler>);

impl debugfs::Show for Stats {
    fn show(&self, out: &mut debugfs::SeqFile<'_>) -> Result {
        let s = &self.0.stats;
        let passes = s.passes.load(Relaxed);
        let (rows, dropped) = self.0.samples.counts();
        let (hits, ns_per_hit, overflow, accounted) = self.0.acct().stats();
        let predicted = s.predicted.load(Relaxed);
        let still = s.still.load(Relaxed);
        let computed = predicted.saturating_sub(still);
        let lines: [(&str, u64); 26] = [
            ("interval_ms", u64::from(self.0.interval_ms.load(Relaxed))),
            ("capacity", u64::from(self.0.capacity.load(Relaxed))),
            ("passes", passes),
            ("processes_seen", s.processes_seen.load(Relaxed)),
            ("processes_tracked", s.processes_tracked.load(Relaxed)),
            ("pass_ns_last", s.last_pass_ns.load(Relaxed)),
            (
                "pass_ns_avg",
                s.total_pass_ns
                    .load(Relaxed)
                    .checked_div(passes)
                    .unwrap_or(0),
            ),
            ("pass_ns_max", s.max_pass_ns.load(Relaxed)),
            ("pass_ns_total", s.total_pass_ns.load(Relaxed)),
            ("ns_per_process", s.last_ns_per_process.load(Relaxed)),
            ("rows_emitted", rows),
            ("rows_dropped", dropped),
            ("group_evictions", s.group_evictions.load(Relaxed)),
            ("group_untracked", s.group_untracked.load(Relaxed)),
            ("untracked", s.untracked.load(Relaxed)),
            ("net_probe_hits", hits),
            ("net_probe_ns_per_hit", ns_per_hit),
            ("acct_overflow", overflow),
            ("acct_processes", accounted as u64),
            ("memory_bytes", s.memory_bytes.load(Relaxed)),
            (
                "bytes_per_process",
                crate::track::pass::BYTES_PER_PROCESS as u64,
            ),
            ("history_len", model::history::HISTORY_LEN as u64),
            ("predicted", predicted),
            ("predict_evaluated", s.evaluated.load(Relaxed)),
            ("predict_still", still),
            (
                "predict_ns_per_computed",
                s.predict_ns
                    .load(Relaxed)
                    .checked_div(computed)
                    .unwrap_or(0),
            ),
        ];
        for (name, v) in lines {
            emit(writeln!(out, "{name} {v}"))?;
        }
        Ok(())
    }
}

/// `interval_ms`: the sampling interval; writes outside 100..=60000 fail with EINVAL.
pub(crate) struct Interval(pub(crate) Arc<Sampler>);

impl debugfs::Show for Interval {
    fn show(&self, out: &mut debugfs::SeqFile<'_>) -> Result {
        emit(writeln!(out, "{}", self.0.interval_ms.load(Relaxed)))
    }
}

impl debugfs::Store for Interval {
    const MAX_LEN: usize = 32;

    fn store(&self, input: &[u8]) -> Result {
        let ms = model::setting::parse_decimal_u32(input).ok_or(EINVAL)?;
        if !(pass::MIN_INTERVAL_MS..=pass::MAX_INTERVAL_MS).contains(&ms) {
            return Err(EINVAL);
        }
        self.0.interval_ms.store(ms, Relaxed);
        self.0.waker.wake();
        Ok(())
    }
}

/// `capacity`: how many processes are tracked; a change empties the table (histories restart).
pub(crate) struct Capacity(pub(crate) Arc<Sampler>);

impl debugfs::Show for Capacity {
    fn show(&self, out: &mut debugfs::SeqFile<'_>) -> Result {
        emit(writeln!(out, "{}", self.0.capacity.load(Relaxed)))
    }
}

impl debugfs::Store for Capacity {
    const MAX_LEN: usize = 32;

    fn store(&self, input: &[u8]) -> Result {
        let n = model::setting::parse_decimal_u32(input).ok_or(EINVAL)? as usize;
        if !(pass::MIN_CAPACITY..=pass::MAX_CAPACITY).contains(&n) {
            return Err(EINVAL);
        }
        self.0.set_capacity(n)
    }
}
