// SPDX-License-Identifier: GPL-2.0
//! The sampling pass: every interval, read every process, turn its counters into a sample, push it
//! into the process's history, update its forecast, and stream the samples. Each process's interval
//! and forecasts also add to its cgroup's and its command name's totals ([`Groups`]).
//!
//! Bounded work: a pass visits at most `2 × capacity` processes and tracks at most `capacity` of
//! them; all memory (table, task references, samples ring, accounting table, group totals) is
//! allocated at load or when `capacity` changes, never during a pass. The pass runs in a kernel thread (process
//! context) under the state mutex; the task list is walked under RCU only to take references.

use super::{
    groups::{Groups, GROUP_CAPACITY},
    process::Process,
    table::TgidTable,
};
use crate::{
    files::samples::Samples,
    forecast::store::{Model, ModelStore},
    model::{adapt::Scores, forecast::Work, group::Share},
    sample::acct::{Acct, Totals},
    sys::{
        clock, kthread,
        kvec::truncate,
        task::{self, Counters, Ident, ProcessId},
        tracepoint::Probes,
        ARef,
    },
};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use kernel::{
    alloc::KVVec,
    new_mutex,
    prelude::*,
    sync::{Arc, Mutex},
    task::Task,
};

/// Default and allowed sampling intervals, ms.
pub(crate) const DEFAULT_INTERVAL_MS: u32 = 1000;
pub(crate) const MIN_INTERVAL_MS: u32 = 100;
pub(crate) const MAX_INTERVAL_MS: u32 = 60_000;
/// Default and allowed number of tracked processes.
pub(crate) const DEFAULT_CAPACITY: usize = 4096;
pub(crate) const MIN_CAPACITY: usize = 16;
pub(crate) const MAX_CAPACITY: usize = 65_536;

/// A pass offers the CPU to other tasks after this many processes: on kernels without full
/// preemption a pass over tens of thousands of processes would otherwise hold it throughout.
const RESCHED_EVERY: usize = 256;

/// Counters shown by `stats`.
#[derive(Default)]
pub(crate) struct PassStats {
    pub(crate) passes: AtomicU64,
    pub(crate) processes_seen: AtomicU64,
    pub(crate) processes_tracked: AtomicU64,
    pub(crate) last_pass_ns: AtomicU64,
    pub(crate) total_pass_ns: AtomicU64,
    pub(crate) max_pass_ns: AtomicU64,
    pub(crate) last_ns_per_process: AtomicU64,
    /// Groups (cgroups and command names) that replaced another, and intervals counted in none.
    pub(crate) group_evictions: AtomicU64,
    pub(crate) group_untracked: AtomicU64,
    /// Times a new process did not fit in the table (once per pass while it does not).
    pub(crate) untracked: AtomicU64,
    pub(crate) memory_bytes: AtomicU64,
    /// Processes predicted in the last pass.
    pub(crate) predicted: AtomicU64,
    /// Of those, processes whose models were evaluated (the others' inputs had not changed).
    pub(crate) evaluated: AtomicU64,
    /// Of those, sleeping processes whose features were refreshed rather than computed.
    pub(crate) still: AtomicU64,
    /// ns the others took (features, and all models if evaluated).
    pub(crate) predict_ns: AtomicU64,
}

/// What the pass works on, under the state lock.
pub(crate) struct State {
    pub(crate) table: TgidTable<Process>,
    tasks: KVVec<ARef<Task>>,
    pass: u64,
    /// The previous pass's model: a process's forecast state is reusable while it is still
    /// active. Holding it keeps its address from being reused by a new model.
    model: Option<Arc<Model>>,
    /// Live scores of the active model's published forecasts (`accuracy`), since it became active.
    scores: Scores,
    /// Totals by cgroup v2 id (`cgroups.csv`).
    pub(crate) cgroups: Groups<u64>,
    /// Totals by command name (`comms.csv`).
    pub(crate) comms: Groups<[u8; 16]>,
}

impl State {
    /// The latest pass (group levels are of this one).
    pub(crate) fn pass(&self) -> u64 {
        self.pass
    }
}

/// The sampler: its state, its settings and what it publishes.
#[pin_data]
pub(crate) struct Sampler {
    #[pin]
    state: Mutex<State>,
    pub(crate) interval_ms: AtomicU32,
    pub(crate) capacity: AtomicU32,
    pub(crate) stats: PassStats,
    pub(crate) samples: Pin<KBox<Samples>>,
    pub(crate) probes: Probes<Acct>,
    pub(crate) models: Pin<KBox<ModelStore>>,
    /// Wakes the sampling thread early (set once it runs).
    pub(crate) waker: kthread::Waker,
}

impl Sampler {
    pub(crate) fn new(probes: Probes<Acct>) -> Result<impl PinInit<Self, Error>> {
        let models = KBox::pin_init(ModelStore::new(clock::now_ms())?, GFP_KERNEL)?;
        let table = TgidTable::new(DEFAULT_CAPACITY)?;
        let tasks = KVVec::with_capacity(DEFAULT_CAPACITY * 2, GFP_KERNEL)?;
        let samples = KBox::pin_init(Samples::new()?, GFP_KERNEL)?;
        let (cgroups, comms) = (Groups::new()?, Groups::new()?);
        let stats = PassStats::default();
        stats
            .memory_bytes
            .store(memory_bytes(&table, probes.sink()) as u64, Relaxed);
        Ok(try_pin_init!(Self {
            state <- new_mutex!(
                State {
                    table,
                    tasks,
                    pass: 0,
                    model: None,
                    scores: Scores::default(),
                    cgroups,
                    comms,
                },
                "procperf_sampler"
            ),
            interval_ms: AtomicU32::new(DEFAULT_INTERVAL_MS),
            capacity: AtomicU32::new(DEFAULT_CAPACITY as u32),
            stats,
            samples,
            probes,
            models,
            waker: kthread::Waker::new(),
        }))
    }

    /// The tracepoint-fed accumulators.
    pub(crate) fn acct(&self) -> &Acct {
        self.probes.sink()
    }

    /// Replaces the table with an empty one of a new capacity (histories restart).
    pub(crate) fn set_capacity(&self, capacity: usize) -> Result {
        // Allocate before taking the lock: a pass is never held up by an allocation.
        let table = TgidTable::new(capacity)?;
        let tasks = KVVec::with_capacity(capacity.saturating_mul(2), GFP_KERNEL)?;
        let mut st = self.state.lock();
        self.stats
            .memory_bytes
            .store(memory_bytes(&table, self.acct()) as u64, Relaxed);
        st.table = table;
        st.tasks = tasks;
        self.capacity.store(capacity as u32, Relaxed);
        Ok(())
    }

    /// One sampling pass.
    fn pass(&self) {
        let (t0, boot_ns) = (clock::now_ns(), clock::boot_ns());
        let mut guard = self.state.lock();
        let st = &mut *guard;
        st.pass = st.pass.wrapping_add(1);
        let pass = st.pass;
        let max_scan = st.tasks.capacity();
        let seen = task::collect(&mut st.tasks, max_scan);
        let mut batch = self.samples.batch();
        let t_ms = t0 / 1_000_000;
        // This pass's model: a swap during the pass takes effect at the next one.
        let model = self.models.active();
        let view = model.view();
        let new_model = !st.model.as_ref().is_some_and(|m| Arc::ptr_eq(m, &model));
        if new_model {
            st.scores = Scores::default();
        }
        let mut w = Tally::default();
        for (i, task) in st.tasks.as_slice().iter().enumerate() {
            if i % RESCHED_EVERY == RESCHED_EVERY - 1 {
                kthread::cond_resched();
            }
            let (id, c) = task::read(task);
            if id.id.tgid <= 0 {
                continue;
            }
            let t = self.acct().totals(id.id);
            w.read += 1;
            let Some(p) = st.table.get_mut(id.id) else {
                self.track(&mut st.table, &id, pass, t0, &c, &t);
                continue;
            };
            let s = p.advance(&id, pass, (t0, boot_ns), (&c, &t));
            // A still process is not timed: two clock reads would cost more than its refresh.
            let timed = (!p.is_still()).then(clock::now_ns);
            w.count(p.forecast(&view, new_model, &mut st.scores));
            if let Some(start) = timed {
                w.predict_ns += clock::since_ns(start);
            }
            let f = p.forecasts();
            let share = Share::of(&s, f.published(), f.anomaly());
            st.cgroups.add(id.cgroup, (pass, t_ms), &share);
            st.comms.add(id.comm, (pass, t_ms), &share);
            if let Some(b) = batch.as_mut() {
                b.push(t_ms, id.id.tgid, &id.comm, id.cgroup, &s);
            }
        }
        drop(batch);
        st.table.retain(|_, p| p.last_pass == pass);
        let table = &st.table;
        self.acct().retain(|id| table.get(id).is_some());
        let tracked = st.table.len() as u64;
        let group_evictions = st.cgroups.evictions.saturating_add(st.comms.evictions);
        let group_untracked = st.cgroups.untracked.saturating_add(st.comms.untracked);
        truncate(&mut st.tasks, 0);
        st.model = Some(model);
        drop(guard);

        let dt = clock::since_ns(t0);
        let s = &self.stats;
        s.passes.fetch_add(1, Relaxed);
        s.processes_seen.store(seen as u64, Relaxed);
        s.processes_tracked.store(tracked, Relaxed);
        s.group_evictions.store(group_evictions, Relaxed);
        s.group_untracked.store(group_untracked, Relaxed);
        s.last_pass_ns.store(dt, Relaxed);
        s.total_pass_ns.fetch_add(dt, Relaxed);
        s.max_pass_ns.fetch_max(dt, Relaxed);
        s.last_ns_per_process
            .store(dt.checked_div(w.read).unwrap_or(0), Relaxed);
        s.predicted.store(w.predicted, Relaxed);
        s.evaluated.store(w.evaluated, Relaxed);
        s.still.store(w.still, Relaxed);
        s.predict_ns.store(w.predict_ns, Relaxed);
    }

    /// Starts tracking a process seen for the first time, if the table has room. A full table
    /// evicts no one: a live process's history is worth more than a newcomer's, and evicting the
    /// processes not yet seen in this pass would have them evict others in turn, pass after pass.
    /// A newcomer that does not fit is counted and tried again next pass, after the processes that
    /// exited have left the table.
    fn track(
        &self,
        table: &mut TgidTable<Process>,
        id: &Ident,
        pass: u64,
        now_ns: u64,
        c: &Counters,
        t: &Totals,
    ) {
        let tracked = table.len() < table.capacity()
            && table
                .insert(id.id, Process::new(id, pass, now_ns, c, t))
                .is_some();
        if !tracked {
            self.stats.untracked.fetch_add(1, Relaxed);
        }
    }

    /// The live scores of the active model's published forecasts.
    pub(crate) fn scores(&self) -> Scores {
        self.state.lock().scores
    }

    /// Runs `f` on the tracked processes under the state lock (no sampling pass meanwhile).
    pub(crate) fn with_table<R>(&self, f: impl FnOnce(&TgidTable<Process>) -> R) -> R {
        f(&self.state.lock().table)
    }

    /// Runs `f` on the whole state under its lock (no sampling pass meanwhile).
    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.state.lock())
    }
}

/// What one pass did to forecasts, for `stats`.
#[derive(Default)]
struct Tally {
    read: u64,
    predicted: u64,
    evaluated: u64,
    still: u64,
    predict_ns: u64,
}

impl Tally {
    fn count(&mut self, work: Work) {
        let evaluated = match work {
            Work::Waiting => return,
            Work::Computed { evaluated } => evaluated,
            Work::Refreshed { evaluated } => {
                self.still += 1;
                evaluated
            }
        };
        self.predicted += 1;
        self.evaluated += u64::from(evaluated);
    }
}

/// Bytes the sampler holds per slot of its capacity: one tracked process (its counters' marks,
/// history with long memory, forecast state at every horizon), its two task references and its
/// share of the table's index (two slots of 4 bytes).
pub(crate) const BYTES_PER_PROCESS: usize =
    core::mem::size_of::<(ProcessId, Process)>() + 2 * core::mem::size_of::<ARef<Task>>() + 2 * 4;

/// Bytes of memory the sampler holds: tracked processes, task references, samples ring, the
/// accounting table and the group totals.
fn memory_bytes(table: &TgidTable<Process>, acct: &Acct) -> usize {
    table.memory_bytes()
        + table.capacity() * 2 * core::mem::size_of::<ARef<Task>>()
        + Samples::memory_bytes()
        + acct.memory_bytes()
        + Groups::<u64>::memory_bytes_for(GROUP_CAPACITY)
        + Groups::<[u8; 16]>::memory_bytes_for(GROUP_CAPACITY)
}

impl kthread::Job for Sampler {
    fn run(&self) {
        self.pass();
    }

    fn waker(&self) -> Option<&kthread::Waker> {
        Some(&self.waker)
    }

    fn period_ms(&self) -> u32 {
        self.interval_ms.load(Relaxed)
    }
}
