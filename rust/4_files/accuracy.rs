// SPDX-License-Identifier: GPL-2.0
//! `accuracy`: how well the active model's published forecasts have done on this host, live.
//!
//! Per process and horizon one forecast at a time is checked against the next H intervals
//! (`model::adapt`, the checks that also move each band's ends); every active check (CPU >= 1 %
//! at its start or over the horizon) adds to its target's and horizon's sums. One line per target
//! and horizon, in the models' units (CPU permille, RSS KiB, I/O `256·log2(1+B/s)`):
//!
//! ```text
//! target horizon scored covered err_published err_persistence err_ewma coverage_permille published_per_persistence_permille published_per_ewma_permille
//! cpu 5 1874 1502 40211 44381 41320 801 906 973
//! ```
//!
//! `err_*` are sums of absolute errors of the published forecast, of persistence (the level when
//! the check started) and of the model's EWMA base; the permille columns are their ratios and the
//! share of outcomes inside the published 80 % band. The sums restart when a new model becomes
//! active.

use super::emit;
use crate::{
    model::{
        adapt::Score,
        schema::{Target, HORIZONS},
    },
    sys::debugfs,
    track::pass::Sampler,
};
use core::fmt::Write;
use kernel::{prelude::*, sync::Arc};

/// `accuracy`: the live scores, one line per target and horizon.
pub(crate) struct Accuracy(pub(crate) Arc<Sampler>);

/// `a / b` in permille, 0 when `b` is 0.
fn permille(a: u64, b: u64) -> u64 {
    a.saturating_mul(1000).checked_div(b).unwrap_or(0)
}

impl debugfs::Show for Accuracy {
    fn show(&self, out: &mut debugfs::SeqFile<'_>) -> Result {
        let scores = self.0.scores();
        emit(writeln!(
            out,
            "target horizon scored covered err_published err_persistence err_ewma coverage_permille \
             published_per_persistence_permille published_per_ewma_permille"
        ))?;
        for (per_target, h) in scores.iter().zip(HORIZONS) {
            for (s, t) in per_target.iter().zip(Target::ALL) {
                let Score {
                    scored,
                    covered,
                    err_published,
                    err_persistence,
                    err_base,
                } = *s;
                emit(writeln!(
                    out,
                    "{} {h} {scored} {covered} {err_published} {err_persistence} {err_base} {} {} {}",
                    t.name(),
                    permille(covered, scored),
                    permille(err_published, err_persistence),
                    permille(err_published, err_base),
                ))?;
            }
        }
        Ok(())
    }
}
