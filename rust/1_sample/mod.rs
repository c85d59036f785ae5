// SPDX-License-Identifier: GPL-2.0
//! Stage 1, `task_struct` → sample: a process's cumulative counters (read by `sys::task`) and its
//! tracepoint-fed accumulators ([`acct`]) become one [`RawSample`](crate::model::sample::RawSample)
//! per interval ([`counters`]).

pub(crate) mod acct;
pub(crate) mod counters;
