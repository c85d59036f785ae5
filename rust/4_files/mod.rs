// SPDX-License-Identifier: GPL-2.0
//! Stage 4, the files under `/sys/kernel/debug/procperf/`: what users and scripts read and write.
//!
//! | file | kind | shows or takes |
//! |---|---|---|
//! | `version` | read | module, kernel, model format and schema versions ([`control`]) |
//! | `stats` | read | what the sampler did and what it cost ([`control`]) |
//! | `interval_ms`, `capacity` | read/write | the sampler's settings ([`control`]) |
//! | `samples` | stream | one CSV row per process per pass ([`samples`]) |
//! | `predictions`, `predictions.csv` | read | the published forecasts ([`predictions`]) |
//! | `model` | upload | a model blob to replace the active one ([`model`]) |
//! | `model_info` | read | the active model ([`model`]) |
//! | `accuracy` | read | the active model's live scores on this host ([`accuracy`]) |
//! | `cgroups.csv`, `comms.csv` | read | totals by cgroup and by command name ([`groups`]) |

pub(crate) mod accuracy;
pub(crate) mod control;
pub(crate) mod groups;
pub(crate) mod model;
pub(crate) mod predictions;
pub(crate) mod samples;

use crate::{sys::debugfs::Dir, track::pass::Sampler};
use kernel::{c_str, prelude::*, sync::Arc};

/// Formatting into a debugfs file never fails by itself (seq_file grows its buffer and retries).
pub(crate) fn emit(r: core::fmt::Result) -> Result {
    r.map_err(|_| EINVAL)
}

/// Creates the directory and every file in it.
pub(crate) fn create(sampler: &Arc<Sampler>) -> Result<Dir> {
    let mut dir = Dir::new(c_str!("procperf")).inspect_err(|e| {
        pr_warn!("cannot create debugfs directory: {:?}\n", e);
    })?;
    let s = || sampler.clone();
    dir.read_only(c_str!("version"), Arc::new(control::Version, GFP_KERNEL)?)?;
    dir.read_only(c_str!("stats"), Arc::new(control::Stats(s()), GFP_KERNEL)?)?;
    dir.read_write(
        c_str!("interval_ms"),
        Arc::new(control::Interval(s()), GFP_KERNEL)?,
    )?;
    dir.read_write(
        c_str!("capacity"),
        Arc::new(control::Capacity(s()), GFP_KERNEL)?,
    )?;
    dir.stream(
        c_str!("samples"),
        Arc::new(samples::SamplesFile(s()), GFP_KERNEL)?,
    )?;
    dir.read_only(
        c_str!("predictions"),
        Arc::new(predictions::Table(s()), GFP_KERNEL)?,
    )?;
    dir.read_only(
        c_str!("predictions.csv"),
        Arc::new(predictions::Csv(s()), GFP_KERNEL)?,
    )?;
    dir.read_only(
        c_str!("model_info"),
        Arc::new(model::Info(s()), GFP_KERNEL)?,
    )?;
    dir.upload(c_str!("model"), Arc::new(model::Upload(s()), GFP_KERNEL)?)?;
    dir.read_only(
        c_str!("accuracy"),
        Arc::new(accuracy::Accuracy(s()), GFP_KERNEL)?,
    )?;
    dir.read_only(
        c_str!("cgroups.csv"),
        Arc::new(groups::CgroupsCsv(s()), GFP_KERNEL)?,
    )?;
    dir.read_only(
        c_str!("comms.csv"),
        Arc::new(groups::CommsCsv(s()), GFP_KERNEL)?,
    )?;
    Ok(dir)
}
