// SPDX-License-Identifier: GPL-2.0
//! procperf: samples every process and forecasts its near-future CPU, memory, disk and network use.
//!
//! The data path, in folder order:
//!
//! | stage | folder | what happens |
//! |---|---|---|
//! | `task_struct` → sample | `1_sample/` ([`sample`]) | cumulative counters and tracepoint-fed accumulators become one `RawSample` per process per interval |
//! | sample → history → forecast | `2_track/` ([`track`]) | the table of tracked processes; every pass pushes each sample into its history and updates its forecast |
//! | features → models → blend | `3_forecast/` ([`forecast`]), `model/` ([`model`]) | the active model; the shared model crate computes features, evaluates the models and blends them per process |
//! | files | `4_files/` ([`files`]) | `samples`, `predictions`, `predictions.csv`, `model`, `stats`, ... under `/sys/kernel/debug/procperf/` |
//!
//! Raw kernel bindings live only in `sys/` ([`sys`]): debugfs, the sampling thread, RCU,
//! tracepoints, `task_struct` reads, clocks, and `shim.c` for inline-only C APIs. Everything else is
//! safe Rust. This crate root owns what is created at load, in a [`Procperf`] whose drop removes
//! it all, in reverse order.

// The module uses APIs up to Rust 1.85 (the oldest kernel compiler procperf supports, which the
// model crate's `rust-version` enforces), newer than 6.12's minimum that its clippy checks against.
#![allow(clippy::incompatible_msrv)]

use kernel::{c_str, prelude::*, sync::Arc};

mod sys;

#[path = "1_sample/mod.rs"]
mod sample;

#[path = "2_track/mod.rs"]
mod track;

#[path = "3_forecast/mod.rs"]
mod forecast;

#[path = "4_files/mod.rs"]
mod files;

/// The shared `no_std` model crate (`rust/model`), compiled into the module from source.
#[allow(unused_attributes)] // its `#![no_std]` is for cargo builds
#[path = "model/src/lib.rs"]
pub mod model;

use track::pass::Sampler;

module! {
    type: Procperf,
    name: "procperf",
    description: "Per-process performance sampling and in-kernel prediction",
    license: "GPL",
}

/// procperf's version, from the workspace's Cargo.toml (set by Kbuild).
const VERSION: &str = env!("PROCPERF_VERSION");

/// Everything the module created at load. Fields drop in declaration order: debugfs first (no
/// reader or writer can reach the sampler any more), then the sampling thread (stopped and
/// joined); the sampler itself, and with it the tracepoint probes, go with the last reference.
struct Procperf {
    _files: sys::debugfs::Dir,
    _thread: sys::kthread::Periodic<Sampler>,
}

impl kernel::Module for Procperf {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let acct = KBox::pin_init(sample::acct::Acct::new()?, GFP_KERNEL)?;
        let probes = sys::tracepoint::Probes::new(acct)?;
        let sampler = Arc::pin_init(Sampler::new(probes)?, GFP_KERNEL)?;
        let thread = sys::kthread::Periodic::new(c_str!("procperf"), sampler.clone())?;
        let files = files::create(&sampler)?;
        pr_info!("loaded, version {}\n", VERSION);
        Ok(Self {
            _files: files,
            _thread: thread,
        })
    }
}

impl Drop for Procperf {
    fn drop(&mut self) {
        pr_info!("unloading\n");
    }
}
