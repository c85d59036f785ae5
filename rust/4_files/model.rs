// SPDX-License-Identifier: GPL-2.0
//! `model` (upload a blob to replace the active model) and `model_info` (the active model).

use super::emit;
use crate::{
    model::{
        blob::{self, HEADER_LEN, MAX_BLOB_LEN},
        schema::{Target, HORIZONS, N_HORIZONS, SCHEMA_ID},
    },
    sys::{
        clock,
        debugfs::{self, Completeness},
    },
    track::pass::Sampler,
};
use core::{fmt::Write, sync::atomic::Ordering::Relaxed};
use kernel::{prelude::*, sync::Arc};

/// `model`: write a blob to replace the active model (validated completely first).
pub(crate) struct Upload(pub(crate) Arc<Sampler>);

impl debugfs::Upload for Upload {
    const MAX_LEN: usize = MAX_BLOB_LEN;

    fn check(&self, data: &[u8]) -> Result<Completeness> {
        let r = completeness(data);
        if r.is_err() {
            self.0.models.rejected.fetch_add(1, Relaxed);
            pr_warn!("model upload refused: not a model blob of an acceptable size; the active model is unchanged\n");
        }
        r
    }

    fn apply(&self, data: &[u8]) -> Result {
        self.0.models.swap(data, clock::now_ms())
    }
}

/// Upload progress: the blob header's total length tells when all bytes have arrived.
fn completeness(bytes: &[u8]) -> Result<Completeness> {
    let Some(len) = bytes.get(12..16) else {
        return Ok(Completeness::Partial);
    };
    let declared = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
    if bytes.get(..8) != Some(&blob::MAGIC[..]) || declared < HEADER_LEN {
        return Err(EINVAL);
    }
    if declared > MAX_BLOB_LEN {
        return Err(E2BIG);
    }
    match bytes.len().cmp(&declared) {
        core::cmp::Ordering::Less => Ok(Completeness::Partial),
        core::cmp::Ordering::Equal => Ok(Completeness::Complete),
        core::cmp::Ordering::Greater => Err(EINVAL),
    }
}

/// `model_info`: the active model.
pub(crate) struct Info(pub(crate) Arc<Sampler>);

impl debugfs::Show for Info {
    fn show(&self, out: &mut debugfs::SeqFile<'_>) -> Result {
        let model = self.0.models.active();
        let m = model.view();
        let s = model.summary();
        emit(writeln!(out, "source {}", model.source.name()))?;
        emit(writeln!(out, "format_version {}", blob::FORMAT_VERSION))?;
        emit(writeln!(out, "schema_id {SCHEMA_ID:#010x}"))?;
        emit(writeln!(out, "size_bytes {}", model.len))?;
        emit(writeln!(out, "active_since_ms {}", model.since_ms))?;
        emit(write!(out, "targets"))?;
        for t in Target::ALL {
            if (0..N_HORIZONS).any(|h| m.target(h, t).is_some()) {
                emit(write!(out, " {}", t.name()))?;
            }
        }
        emit(writeln!(out))?;
        // The EWMA factor of each target's base level at the first horizon (1000 = changes from
        // the newest level), then at every horizon as target@intervals.
        emit(write!(out, "base_alpha_permille"))?;
        for t in Target::ALL {
            if let Some(tm) = m.target(0, t) {
                emit(write!(out, " {}={}", t.name(), tm.base.permille()))?;
            }
        }
        emit(writeln!(out))?;
        emit(write!(out, "heads"))?;
        for (h, &intervals) in HORIZONS.iter().enumerate() {
            for t in Target::ALL {
                if let Some(tm) = m.target(h, t) {
                    let alpha = tm.base.permille();
                    emit(write!(out, " {}@{intervals}={alpha}", t.name()))?;
                }
            }
        }
        emit(writeln!(out))?;
        emit(writeln!(out, "trees {}", s.trees))?;
        emit(writeln!(out, "max_depth {}", s.max_depth))?;
        emit(writeln!(out, "nodes {}", s.nodes))?;
        emit(writeln!(out, "trained_interval_ms {}", m.interval_ms()))?;
        emit(writeln!(
            out,
            "interval_coverage_permille {}",
            m.coverage_permille()
        ))?;
        emit(write!(out, "horizon_intervals"))?;
        for h in HORIZONS {
            emit(write!(out, " {h}"))?;
        }
        emit(writeln!(out))?;
        emit(writeln!(out, "swaps {}", self.0.models.swaps.load(Relaxed)))?;
        emit(writeln!(
            out,
            "rejected {}",
            self.0.models.rejected.load(Relaxed)
        ))?;
        emit(writeln!(out, "metadata:"))?;
        for line in m.metadata().lines() {
            emit(writeln!(out, "  {line}"))?;
        }
        Ok(())
    }
}
