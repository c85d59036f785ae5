// SPDX-License-Identifier: GPL-2.0
//! procperf: samples every process and predicts its near-future CPU, memory, disk and network use.
//!
//! This is the module's crate root: it wires the pieces together and owns everything created at load,
//! in a [`Procperf`] whose drop removes it all, in reverse order. Raw kernel bindings live only in the
//! small wrappers ([`debugfs`], [`rcu`], [`kthread`], [`tasks`], [`acct`]); the shared model crate
//! ([`model`]) is plain computation.
//!
//! Data path: `tasks` (read task_struct) → `sampler` (deltas, per-process history) → `samples`
//! (CSV stream) and the model; `acct` adds per-process network bytes and exited threads' I/O.

use core::{fmt::Write, sync::atomic::Ordering::Relaxed};
use kernel::{c_str, prelude::*, str::CStr, sync::Arc, uaccess::UserSliceWriter};

mod acct;
mod debugfs;
mod kthread;
mod kvec;
mod predict;
mod predictions;
mod rcu;
mod samples;
mod sampler;
mod tasks;

/// The shared `no_std` model crate (`rust/model`), compiled into the module from source.
#[allow(unused_attributes)] // its `#![no_std]` is for cargo builds
#[path = "model/src/lib.rs"]
pub mod model;

use sampler::Sampler;

module! {
    type: Procperf,
    name: "procperf",
    author: "procperf developers",
    description: "Per-process performance sampling and in-kernel prediction",
    license: "GPL",
}

/// procperf's version, from the workspace's Cargo.toml (set by Kbuild).
const VERSION: &str = env!("PROCPERF_VERSION");

/// Everything the module created at load. Fields drop in declaration order: debugfs first (no
/// reader or writer can reach the sampler any more), then the sampling thread (stopped and joined);
/// the sampler itself, and with it the tracepoint probes, go when their last reference does.
struct Procperf {
    _debugfs: debugfs::Dir,
    _thread: kthread::Periodic<Sampler>,
}

impl kernel::Module for Procperf {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let probes = Arc::new(acct::Probes::new()?, GFP_KERNEL)?;
        let sampler = Arc::pin_init(Sampler::new(probes)?, GFP_KERNEL)?;
        let thread = kthread::Periodic::new(c_str!("procperf"), sampler.clone())?;

        let mut dir = debugfs::Dir::new(c_str!("procperf")).inspect_err(|e| {
            pr_warn!("cannot create debugfs directory: {:?}\n", e);
        })?;
        dir.read_only(c_str!("version"), Arc::new(Version, GFP_KERNEL)?)?;
        dir.read_only(c_str!("stats"), Arc::new(StatsFile(sampler.clone()), GFP_KERNEL)?)?;
        dir.read_write(c_str!("interval_ms"), Arc::new(IntervalFile(sampler.clone()), GFP_KERNEL)?)?;
        dir.read_write(c_str!("capacity"), Arc::new(CapacityFile(sampler.clone()), GFP_KERNEL)?)?;
        dir.stream(c_str!("samples"), Arc::new(SamplesFile(sampler.clone()), GFP_KERNEL)?)?;
        use predictions::*;
        dir.read_only(c_str!("predictions"), Arc::new(PredictionsFile(sampler.clone()), GFP_KERNEL)?)?;
        dir.read_only(c_str!("predictions.csv"), Arc::new(PredictionsCsvFile(sampler.clone()), GFP_KERNEL)?)?;
        dir.read_only(c_str!("model_info"), Arc::new(ModelInfoFile(sampler.clone()), GFP_KERNEL)?)?;
        dir.upload(c_str!("model"), Arc::new(ModelFile(sampler), GFP_KERNEL)?)?;
        pr_info!("loaded, version {}\n", VERSION);
        Ok(Self { _debugfs: dir, _thread: thread })
    }
}

impl Drop for Procperf {
    fn drop(&mut self) {
        pr_info!("unloading\n");
    }
}

/// Formatting into a debugfs file never fails by itself (seq_file grows its buffer and retries).
fn emit(r: core::fmt::Result) -> Result {
    r.map_err(|_| EINVAL)
}

/// The `version` file: module version, kernel release, model blob format version, schema id.
struct Version;

impl debugfs::Show for Version {
    fn show(&self, out: &mut debugfs::SeqFile<'_>) -> Result {
        // SAFETY: `procperf_kernel_release` returns the running kernel's NUL-terminated release
        // string from its UTS namespace, which outlives this call.
        let release = unsafe { CStr::from_char_ptr(procperf_kernel_release()) };
        let release = release.to_str().unwrap_or("?");
        emit(writeln!(out, "procperf {VERSION}"))?;
        emit(writeln!(out, "kernel {release}"))?;
        emit(writeln!(out, "model_format {}", model::blob::FORMAT_VERSION))?;
        emit(writeln!(out, "schema_id {:#010x}", model::schema::SCHEMA_ID))
    }
}

/// `stats`: what the sampler did and what it cost, one `name value` pair per line.
struct StatsFile(Arc<Sampler>);

impl debugfs::Show for StatsFile {
    fn show(&self, out: &mut debugfs::SeqFile<'_>) -> Result {
        let s = &self.0.stats;
        let passes = s.passes.load(Relaxed);
        let (rows, dropped) = self.0.samples.counts();
        let (hits, ns_per_hit, overflow, accounted) = self.0.acct.acct().stats();
        let predicted = s.predicted.load(Relaxed);
        let still = s.still.load(Relaxed);
        let computed = predicted.saturating_sub(still);
        let lines: [(&str, u64); 23] = [
            ("interval_ms", u64::from(self.0.interval_ms.load(Relaxed))),
            ("capacity", u64::from(self.0.capacity.load(Relaxed))),
            ("passes", passes),
            ("processes_seen", s.processes_seen.load(Relaxed)),
            ("processes_tracked", s.processes_tracked.load(Relaxed)),
            ("pass_ns_last", s.last_pass_ns.load(Relaxed)),
            ("pass_ns_avg", s.total_pass_ns.load(Relaxed).checked_div(passes).unwrap_or(0)),
            ("pass_ns_max", s.max_pass_ns.load(Relaxed)),
            ("ns_per_process", s.last_ns_per_process.load(Relaxed)),
            ("rows_emitted", rows),
            ("rows_dropped", dropped),
            ("evictions", s.evictions.load(Relaxed)),
            ("untracked", s.untracked.load(Relaxed)),
            ("net_probe_hits", hits),
            ("net_probe_ns_per_hit", ns_per_hit),
            ("acct_overflow", overflow),
            ("acct_processes", accounted as u64),
            ("memory_bytes", s.memory_bytes.load(Relaxed)),
            ("history_len", model::history::HISTORY_LEN as u64),
            ("predicted", predicted),
            ("predict_evaluated", s.evaluated.load(Relaxed)),
            ("predict_still", still),
            ("predict_ns_per_computed", s.predict_ns.load(Relaxed).checked_div(computed).unwrap_or(0)),
        ];
        for (name, v) in lines {
            emit(writeln!(out, "{name} {v}"))?;
        }
        Ok(())
    }
}

/// `interval_ms`: the sampling interval; writes outside 100..=60000 fail with EINVAL.
struct IntervalFile(Arc<Sampler>);

impl debugfs::Show for IntervalFile {
    fn show(&self, out: &mut debugfs::SeqFile<'_>) -> Result {
        emit(writeln!(out, "{}", self.0.interval_ms.load(Relaxed)))
    }
}

impl debugfs::Store for IntervalFile {
    const MAX_LEN: usize = 32;

    fn store(&self, input: &[u8]) -> Result {
        let ms = sampler::parse_u32(input)?;
        if !(sampler::MIN_INTERVAL_MS..=sampler::MAX_INTERVAL_MS).contains(&ms) {
            return Err(EINVAL);
        }
        self.0.interval_ms.store(ms, Relaxed);
        self.0.waker.wake();
        Ok(())
    }
}

/// `capacity`: how many processes are tracked; a change empties the table (histories restart).
struct CapacityFile(Arc<Sampler>);

impl debugfs::Show for CapacityFile {
    fn show(&self, out: &mut debugfs::SeqFile<'_>) -> Result {
        emit(writeln!(out, "{}", self.0.capacity.load(Relaxed)))
    }
}

impl debugfs::Store for CapacityFile {
    const MAX_LEN: usize = 32;

    fn store(&self, input: &[u8]) -> Result {
        let n = sampler::parse_u32(input)? as usize;
        if !(sampler::MIN_CAPACITY..=sampler::MAX_CAPACITY).contains(&n) {
            return Err(EINVAL);
        }
        self.0.set_capacity(n)
    }
}

/// `samples`: the CSV stream (see `samples.rs`).
struct SamplesFile(Arc<Sampler>);

impl debugfs::Stream for SamplesFile {
    type Reader = samples::Reader;

    fn open(&self) -> Result<samples::Reader> {
        debugfs::Stream::open(&*self.0.samples)
    }

    fn read(&self, r: &mut samples::Reader, out: &mut UserSliceWriter, nonblock: bool) -> Result<usize> {
        debugfs::Stream::read(&*self.0.samples, r, out, nonblock)
    }

    fn close(&self, r: samples::Reader) {
        debugfs::Stream::close(&*self.0.samples, r)
    }
}

// Opaque kernel structs behind pointers trip `improper_ctypes`; only pointers cross here.
#[allow(improper_ctypes)]
extern "C" {
    fn procperf_kernel_release() -> *const kernel::ffi::c_char;
}
