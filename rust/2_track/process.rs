// SPDX-License-Identifier: GPL-2.0
//! One tracked process: what it is called, its counters' high-water marks, its [`History`] of
//! samples and its [`Forecast`] state (the model crate's, shared with the trainer's replays).

use crate::{
    model::{
        adapt::Scores,
        blob::ModelRef,
        forecast::{Forecast, Work},
        history::History,
        sample::RawSample,
    },
    sample::{acct::Totals, counters::Marks},
    sys::task::{Counters, Ident},
};

/// A tracked process.
pub(crate) struct Process {
    pub(crate) comm: [u8; 16],
    /// Its cgroup v2 id at the latest pass (it follows a migration).
    pub(crate) cgroup: u64,
    /// The pass that last saw it.
    pub(crate) last_pass: u64,
    marks: Marks,
    history: History,
    forecast: Forecast,
}

impl Process {
    /// A process first seen at `now_ns`: its counters so far are the baseline of its first sample.
    pub(crate) fn new(id: &Ident, pass: u64, now_ns: u64, c: &Counters, t: &Totals) -> Self {
        Self {
            comm: id.comm,
            cgroup: id.cgroup,
            last_pass: pass,
            marks: Marks::first(id, now_ns, c, t),
            history: History::new(),
            forecast: Forecast::new(),
        }
    }

    /// One pass: the interval's sample from the new counters, into the history, and the forecast
    /// updated with `model` (`new_model` when it is not the one of the previous pass).
    pub(crate) fn advance(
        &mut self,
        id: &Ident,
        pass: u64,
        (now_ns, boot_ns): (u64, u64),
        (c, t): (&Counters, &Totals),
    ) -> RawSample {
        self.last_pass = pass;
        self.comm = id.comm;
        self.cgroup = id.cgroup;
        let s = self.marks.advance(id, now_ns, boot_ns, c, t);
        self.history.push(&s);
        s
    }

    /// Updates the forecast after [`Self::advance`]; `new_model` when `model` is not the one of
    /// the previous pass. Checks of earlier forecasts completed now are added to `scores`.
    pub(crate) fn forecast(
        &mut self,
        model: &ModelRef<'_>,
        new_model: bool,
        scores: &mut Scores,
    ) -> Work {
        if new_model {
            self.forecast.model_changed();
        }
        self.forecast.update(&self.history, model, scores)
    }

    /// Whether the next forecast will likely only refresh a sleeping process (not worth timing).
    pub(crate) fn is_still(&self) -> bool {
        self.history.is_still()
    }

    /// The published forecast state.
    pub(crate) fn forecasts(&self) -> &Forecast {
        &self.forecast
    }

    /// Time stamp of the latest sample, ms (the `t_ms` of its row in `samples`).
    pub(crate) fn t_ms(&self) -> u64 {
        self.marks.t_ns() / 1_000_000
    }
}
