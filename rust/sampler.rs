// SPDX-License-Identifier: GPL-2.0
//! The sampling pass: every interval, read every process, turn cumulative counters into one
//! [`RawSample`] per process, keep each process's [`History`], and stream the samples.
//!
//! Bounded work: a pass visits at most `2 × capacity` processes and tracks at most `capacity` of
//! them; all memory (table, index, task references, samples ring, accounting table) is allocated at
//! load or when `capacity` changes, never during a pass. The pass runs in a kernel thread (process
//! context) under the state mutex; the task list is walked under RCU only to take references.
//!
//! Counters can move backwards for a moment (a thread's I/O moves from the live sum to the exit
//! total; racy lock-free reads), so each cumulative counter keeps a high-water mark and a delta is
//! what it rose above that mark: never negative, never counted twice. CPU time is the precise
//! `sum_exec_runtime`, split into user and system time in the ratio of the tick-based counters,
//! monotonically, like the kernel's `cputime_adjust` for /proc.

use super::{
    acct::{Acct, Totals},
    kvec::truncate,
    model::{
        blend::{publish_all, Blend},
        blob::Prediction,
        features::{compute_window, refresh_still},
        history::{History, HISTORY_LEN},
        sample::RawSample,
        schema::{N_FEATURES, N_TARGETS},
        target::{outcome_levels, window_levels},
    },
    predict::{Model, Models},
    samples::Samples,
    tasks::{self, Counters, Ident, Io},
};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use kernel::{
    alloc::KVVec,
    bindings, new_mutex,
    prelude::*,
    sync::{Arc, Mutex},
    task::Task,
    types::ARef,
};

/// Default and allowed sampling intervals, ms.
pub(crate) const DEFAULT_INTERVAL_MS: u32 = 1000;
pub(crate) const MIN_INTERVAL_MS: u32 = 100;
pub(crate) const MAX_INTERVAL_MS: u32 = 60_000;
/// Default and allowed number of tracked processes.
pub(crate) const DEFAULT_CAPACITY: usize = 4096;
pub(crate) const MIN_CAPACITY: usize = 16;
pub(crate) const MAX_CAPACITY: usize = 65_536;

/// Cumulative counters as last reported for one process (high-water marks).
#[derive(Clone, Copy, Default)]
struct Marks {
    runtime_ns: u64,
    user_ns: u64,
    sys_ns: u64,
    disk_read: u64,
    disk_write: u64,
    rchar: u64,
    wchar: u64,
    syscr: u64,
    syscw: u64,
    net_rx: u64,
    net_tx: u64,
    nvcsw: u64,
    nivcsw: u64,
    min_flt: u64,
    maj_flt: u64,
}

/// A tracked process.
pub(crate) struct Entry {
    pub(crate) tgid: i32,
    pub(crate) start_ns: u64,
    pub(crate) comm: [u8; 16],
    last_pass: u64,
    t_ns: u64,
    marks: Marks,
    pub(crate) history: History,
    /// The latest interval's sample.
    pub(crate) last: RawSample,
    /// Current level of each target and the published predictions of the latest full history.
    pub(crate) levels: [i64; N_TARGETS],
    pub(crate) pred: Option<[Option<Prediction>; N_TARGETS]>,
    /// The model's own predictions `pred` was blended from (reused while the process sleeps).
    raw: Option<[Option<Prediction>; N_TARGETS]>,
    /// Each target's mean level over the newest `HORIZON` slots: the outcome of the forecasts
    /// made `HORIZON` passes ago.
    outcome: [i64; N_TARGETS],
    /// Each target's record of how well persistence, the base and the forest forecast this process.
    blend: [Blend; N_TARGETS],
    /// The model inputs `pred` was computed from (see [`Inputs`]).
    inputs: Inputs,
}

/// What a prediction is a pure function of, besides the model: the feature vector and the base
/// levels. An idle process's inputs do not change from pass to pass, so its previous prediction
/// is reused, bit for bit what evaluating again would give, while the model is the same.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Inputs {
    features: [i32; N_FEATURES],
    bases: [i64; N_TARGETS],
}

impl Entry {
    /// Time stamp of the latest sample, ms (the `t_ms` of its row in `samples`).
    pub(crate) fn t_ms(&self) -> u64 {
        self.t_ns / 1_000_000
    }
}

/// Moves a high-water mark to `cur` and returns how far it rose.
fn rise(mark: &mut u64, cur: u64) -> u64 {
    if cur > *mark {
        let d = cur - *mark;
        *mark = cur;
        d
    } else {
        0
    }
}

/// `a * b / c` for `b <= c`, without 128-bit division (the kernel has no `__udivti3`); relative
/// error below 2^-31.
fn mul_frac(a: u64, b: u64, c: u64) -> u64 {
    if c == 0 {
        return 0;
    }
    let shift = 64u32.saturating_sub(c.leading_zeros()).saturating_sub(32);
    let (b, c) = (b >> shift, (c >> shift).max(1));
    let q = (b.min(c) << 32) / c; // <= 2^32
    (a >> 32).saturating_mul(q).saturating_add((a & 0xffff_ffff).saturating_mul(q) >> 32)
}

impl Entry {
    fn new(id: &Ident, pass: u64, now_ns: u64, c: &Counters, t: &Totals) -> Self {
        let mut e = Self {
            tgid: id.tgid,
            start_ns: id.start_ns,
            comm: id.comm,
            last_pass: pass,
            t_ns: now_ns,
            marks: Marks::default(),
            history: History::new(),
            last: RawSample::default(),
            levels: [0; N_TARGETS],
            pred: None,
            raw: None,
            outcome: [0; N_TARGETS],
            blend: [Blend::new(); N_TARGETS],
            inputs: Inputs {
                features: [0; N_FEATURES],
                bases: [0; N_TARGETS],
            },
        };
        // The first observation only sets the baseline.
        let _ = e.advance(id, now_ns, 0, c, t);
        e
    }

    /// Turns new cumulative counters into the interval's sample.
    fn advance(&mut self, id: &Ident, now_ns: u64, boot_ns: u64, c: &Counters, t: &Totals) -> RawSample {
        let m = &mut self.marks;
        let (mut d_user, mut d_sys) = (0, 0);
        // Split the precise runtime in the ratio of the tick-based user/system times, keeping both
        // parts monotonic (as cputime_adjust does for /proc/PID/stat). While the runtime stands
        // still (user + sys = runtime already), the clamps would give back the same split.
        if rise(&mut m.runtime_ns, c.runtime_ns) > 0 {
            let rt = m.runtime_ns;
            let ticks = c.utime_ns.saturating_add(c.stime_ns);
            let mut sys = if ticks == 0 { 0 } else { mul_frac(rt, c.stime_ns, ticks) };
            let mut user = rt.saturating_sub(sys);
            if sys < m.sys_ns {
                sys = m.sys_ns;
                user = rt.saturating_sub(sys);
            }
            if user < m.user_ns {
                user = m.user_ns;
                sys = rt.saturating_sub(user);
            }
            d_user = user.saturating_sub(m.user_ns);
            d_sys = sys.saturating_sub(m.sys_ns);
            m.user_ns = user;
            m.sys_ns = sys;
        }

        let mut io: Io = c.io_live;
        io.add(&t.exited_io);
        let interval_ns = now_ns.saturating_sub(self.t_ns).max(1);
        self.t_ns = now_ns;
        const KIB_PER_PAGE: u64 = (bindings::PAGE_SIZE / 1024) as u64;
        RawSample {
            interval_ns,
            cpu_user_ns: d_user,
            cpu_sys_ns: d_sys,
            rss_anon_kib: c.rss_anon_pages.saturating_mul(KIB_PER_PAGE),
            rss_file_kib: c.rss_file_pages.saturating_mul(KIB_PER_PAGE),
            rss_shmem_kib: c.rss_shmem_pages.saturating_mul(KIB_PER_PAGE),
            vm_kib: c.vm_pages.saturating_mul(KIB_PER_PAGE),
            disk_read_bytes: rise(&mut m.disk_read, io.read_bytes),
            disk_write_bytes: rise(&mut m.disk_write, io.write_bytes.saturating_sub(io.cancelled_write_bytes)),
            rchar_bytes: rise(&mut m.rchar, io.rchar),
            wchar_bytes: rise(&mut m.wchar, io.wchar),
            syscr: rise(&mut m.syscr, io.syscr),
            syscw: rise(&mut m.syscw, io.syscw),
            net_rx_bytes: rise(&mut m.net_rx, t.net_rx_bytes),
            net_tx_bytes: rise(&mut m.net_tx, t.net_tx_bytes),
            nvcsw: rise(&mut m.nvcsw, c.nvcsw),
            nivcsw: rise(&mut m.nivcsw, c.nivcsw),
            minflt: rise(&mut m.min_flt, c.min_flt),
            majflt: rise(&mut m.maj_flt, c.maj_flt),
            threads: c.threads,
            nice: id.nice.clamp(-20, 19),
            policy: id.policy,
            age_ms: boot_ns.saturating_sub(id.start_ns) / 1_000_000,
        }
    }
}

/// Tracked processes: a fixed-capacity vector plus an open-addressing index by tgid.
///
/// The index is only added to during a pass (stale slots are harmless: every hit is checked against
/// the entry's key) and rebuilt from scratch at the end of each pass.
pub(crate) struct Table {
    pub(crate) entries: KVVec<Entry>,
    index: KVVec<u32>,
    capacity: usize,
    /// An eviction left an index slot naming a process that is gone.
    stale: bool,
}

impl Table {
    fn new(capacity: usize) -> Result<Self> {
        let slots = capacity.saturating_mul(2).next_power_of_two();
        Ok(Self {
            entries: KVVec::with_capacity(capacity, GFP_KERNEL)?,
            index: KVVec::from_elem(0u32, slots, GFP_KERNEL)?,
            capacity,
            stale: false,
        })
    }

    fn home(&self, tgid: i32) -> usize {
        ((tgid as u32).wrapping_mul(0x9e37_79b9) as usize) & self.index.len().wrapping_sub(1)
    }

    /// Position in `entries` of (tgid, start).
    pub(crate) fn find(&self, tgid: i32, start_ns: u64) -> Option<usize> {
        let mask = self.index.len().wrapping_sub(1);
        let mut i = self.home(tgid);
        for _ in 0..self.index.len() {
            let slot = *self.index.get(i)?;
            if slot == 0 {
                return None;
            }
            let pos = (slot - 1) as usize;
            if let Some(e) = self.entries.get(pos) {
                if e.tgid == tgid && e.start_ns == start_ns {
                    return Some(pos);
                }
            }
            i = (i + 1) & mask;
        }
        None
    }

    fn index_insert(&mut self, tgid: i32, pos: usize) -> bool {
        let mask = self.index.len().wrapping_sub(1);
        let mut i = self.home(tgid);
        for _ in 0..self.index.len() {
            match self.index.get_mut(i) {
                Some(slot) if *slot == 0 => {
                    *slot = (pos as u32).wrapping_add(1);
                    return true;
                }
                Some(_) => i = (i + 1) & mask,
                None => return false,
            }
        }
        false
    }

    /// Drops entries not seen in `pass` and rebuilds the index if any went.
    fn end_pass(&mut self, pass: u64) {
        let slice = self.entries.as_mut_slice();
        let mut kept = slice.len();
        let mut i = 0;
        // Each gone entry swaps with the last kept one: one move per exit, none in a quiet pass.
        while i < kept {
            if slice.get(i).is_some_and(|e| e.last_pass == pass) {
                i += 1;
            } else {
                kept -= 1;
                slice.swap(i, kept);
            }
        }
        if kept == slice.len() && !self.stale {
            return; // every index slot still names its entry
        }
        self.stale = false;
        truncate(&mut self.entries, kept);
        for s in self.index.as_mut_slice() {
            *s = 0;
        }
        for pos in 0..self.entries.len() {
            if let Some(tgid) = self.entries.get(pos).map(|e| e.tgid) {
                self.index_insert(tgid, pos);
            }
        }
    }

    /// Bytes this table holds.
    fn memory_bytes(&self) -> usize {
        self.capacity * core::mem::size_of::<Entry>() + self.index.len() * 4
    }
}

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
    pub(crate) evictions: AtomicU64,
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

struct State {
    table: Table,
    tasks: KVec<ARef<Task>>,
    pass: u64,
    /// The previous pass's model: entries' predictions are reusable while it is still active.
    /// Holding it keeps its address from being reused by a new model.
    model: Option<Arc<Model>>,
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
    pub(crate) acct: Arc<super::acct::Probes>,
    pub(crate) models: Pin<KBox<Models>>,
    /// Wakes the sampling thread early (set once it runs).
    pub(crate) waker: super::kthread::Waker,
}

impl Sampler {
    pub(crate) fn new(acct: Arc<super::acct::Probes>) -> Result<impl PinInit<Self, Error>> {
        let models = KBox::pin_init(Models::new(now_ms())?, GFP_KERNEL)?;
        let table = Table::new(DEFAULT_CAPACITY)?;
        let tasks = KVec::with_capacity(DEFAULT_CAPACITY * 2, GFP_KERNEL)?;
        let samples = KBox::pin_init(Samples::new()?, GFP_KERNEL)?;
        let stats = PassStats::default();
        stats.memory_bytes.store(memory_bytes(&table) as u64, Relaxed);
        Ok(try_pin_init!(Self {
            state <- new_mutex!(State { table, tasks, pass: 0, model: None }, "procperf_sampler"),
            interval_ms: AtomicU32::new(DEFAULT_INTERVAL_MS),
            capacity: AtomicU32::new(DEFAULT_CAPACITY as u32),
            stats,
            samples,
            acct,
            models,
            waker: super::kthread::Waker::new(),
        }))
    }

    fn acct(&self) -> &Acct {
        self.acct.acct()
    }

    /// Replaces the table with an empty one of a new capacity (histories restart).
    pub(crate) fn set_capacity(&self, capacity: usize) -> Result {
        // Allocate before taking the lock: a pass is never held up by an allocation.
        let table = Table::new(capacity)?;
        let tasks = KVec::with_capacity(capacity.saturating_mul(2), GFP_KERNEL)?;
        let mut st = self.state.lock();
        self.stats.memory_bytes.store(memory_bytes(&table) as u64, Relaxed);
        st.table = table;
        st.tasks = tasks;
        self.capacity.store(capacity as u32, Relaxed);
        Ok(())
    }

    /// One sampling pass.
    fn pass(&self) {
        // SAFETY: plain clock reads.
        let (t0, boot_ns) = unsafe { (bindings::ktime_get(), bindings::ktime_get_boot_fast_ns()) };
        let now_ns = t0.max(0) as u64;
        let mut guard = self.state.lock();
        let st = &mut *guard;
        st.pass = st.pass.wrapping_add(1);
        let pass = st.pass;
        let max_scan = st.tasks.capacity();
        let seen = tasks::collect(&mut st.tasks, max_scan);
        let mut batch = self.samples.batch();
        let t_ms = now_ns / 1_000_000;
        let mut read = 0u64;
        // This pass's model: a swap during the pass takes effect at the next one.
        let model = self.models.active();
        let view = model.view();
        let same_model = st.model.as_ref().is_some_and(|m| Arc::ptr_eq(m, &model));
        let (mut predicted, mut evaluated, mut still, mut predict_ns) = (0u64, 0u64, 0u64, 0u64);
        for task in st.tasks.as_slice() {
            let id = tasks::ident(task);
            if id.tgid <= 0 {
                continue;
            }
            let c = tasks::read(task);
            let t = self.acct().totals(id.tgid, id.start_ns);
            read += 1;
            let table = &mut st.table;
            if let Some(pos) = table.find(id.tgid, id.start_ns) {
                let Some(e) = table.entries.get_mut(pos) else { continue };
                e.last_pass = pass;
                e.comm = id.comm;
                let s = e.advance(&id, now_ns, boot_ns, &c, &t);
                e.history.push(&s);
                e.last = s;
                let reuse = same_model && e.raw.is_some();
                if !same_model {
                    // A new model's forest has no record yet.
                    e.blend = [Blend::new(); N_TARGETS];
                }
                // Whether the process is predicted, and whether its models must be evaluated; a
                // process whose features are computed is timed (from `p0`), a still one is not:
                // two clock reads would cost more than its refresh.
                let mut p0 = None;
                let evaluate = match e.history.newest() {
                    // A sleeping process: its window holds the same levels and no activity, as it
                    // did at the previous push, so only the age feature can have changed (the
                    // model crate's property tests check this); levels and, under the same
                    // model, base levels stay.
                    Some(newest) if reuse && e.history.is_still() => {
                        still += 1;
                        // Every slot holds the current levels and no activity.
                        e.outcome = e.levels;
                        Some(refresh_still(&mut e.inputs.features, newest))
                    }
                    _ => e.history.window().map(|window| {
                        // SAFETY: plain clock read.
                        p0 = Some(unsafe { bindings::ktime_get() });
                        // Every slot's levels once: the newest are the current levels, all of
                        // them give the base levels.
                        let past = window_levels(&window);
                        for (l, p) in e.levels.iter_mut().zip(&past) {
                            *l = p[HISTORY_LEN - 1];
                        }
                        e.outcome = outcome_levels(&window);
                        let inputs = Inputs {
                            features: compute_window(&window),
                            bases: view.base_levels(&past),
                        };
                        let changed = !reuse || e.inputs != inputs;
                        e.inputs = inputs;
                        changed
                    }),
                };
                if let Some(evaluate) = evaluate {
                    if evaluate {
                        e.raw = Some(view.predict_all(&e.inputs.features, &e.inputs.bases));
                        evaluated += 1;
                    }
                    e.pred = e.raw.as_ref().map(|raw| {
                        publish_all(&mut e.blend, &e.outcome, &e.levels, &e.inputs.bases, raw)
                    });
                    if let Some(p0) = p0 {
                        // SAFETY: plain clock read.
                        predict_ns += unsafe { bindings::ktime_get() }.saturating_sub(p0).max(0) as u64;
                    }
                    predicted += 1;
                }
                if let Some(b) = batch.as_mut() {
                    b.push(t_ms, id.tgid, &id.comm, &s);
                }
                continue;
            }
            let entry = Entry::new(&id, pass, now_ns, &c, &t);
            let pos = if table.entries.len() < table.capacity {
                let pos = table.entries.len();
                if table.entries.push(entry, GFP_KERNEL).is_err() {
                    self.stats.untracked.fetch_add(1, Relaxed);
                    continue;
                }
                pos
            } else {
                // Full: evict the least recently seen entry, unless all were seen in this pass.
                let victim = table
                    .entries
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.last_pass != pass)
                    .min_by_key(|(_, e)| e.last_pass)
                    .map(|(i, _)| i);
                let Some(v) = victim else {
                    self.stats.untracked.fetch_add(1, Relaxed);
                    continue;
                };
                if let Some(slot) = table.entries.get_mut(v) {
                    *slot = entry;
                }
                table.stale = true;
                self.stats.evictions.fetch_add(1, Relaxed);
                v
            };
            if !table.index_insert(id.tgid, pos) {
                // Cannot happen (the index has twice the table's slots, rebuilt when stale), but
                // the next rebuild must name this entry.
                table.stale = true;
                self.stats.untracked.fetch_add(1, Relaxed);
            }
        }
        drop(batch);
        st.table.end_pass(pass);
        let table = &st.table;
        self.acct().retain(|tgid, start| table.find(tgid, start).is_some());
        let tracked = st.table.entries.len() as u64;
        truncate(&mut st.tasks, 0);
        st.model = Some(model);
        drop(guard);

        // SAFETY: plain clock read.
        let dt = unsafe { bindings::ktime_get() }.saturating_sub(t0).max(0) as u64;
        let s = &self.stats;
        s.passes.fetch_add(1, Relaxed);
        s.processes_seen.store(seen as u64, Relaxed);
        s.processes_tracked.store(tracked, Relaxed);
        s.last_pass_ns.store(dt, Relaxed);
        s.total_pass_ns.fetch_add(dt, Relaxed);
        s.max_pass_ns.fetch_max(dt, Relaxed);
        s.last_ns_per_process.store(dt.checked_div(read).unwrap_or(0), Relaxed);
        s.predicted.store(predicted, Relaxed);
        s.evaluated.store(evaluated, Relaxed);
        s.still.store(still, Relaxed);
        s.predict_ns.store(predict_ns, Relaxed);
    }

    /// Runs `f` on the tracked processes under the state lock (no sampling pass meanwhile).
    pub(crate) fn with_table<R>(&self, f: impl FnOnce(&Table) -> R) -> R {
        f(&self.state.lock().table)
    }
}

/// Monotonic clock, ms.
pub(crate) fn now_ms() -> u64 {
    // SAFETY: plain clock read.
    (unsafe { bindings::ktime_get() }).max(0) as u64 / 1_000_000
}

fn memory_bytes(table: &Table) -> usize {
    table.memory_bytes()
        + table.capacity * 2 * core::mem::size_of::<ARef<Task>>()
        + Samples::memory_bytes()
        + super::acct::CAPACITY * 96
}

impl super::kthread::Job for Sampler {
    fn run(&self) {
        self.pass();
    }

    fn waker(&self) -> Option<&super::kthread::Waker> {
        Some(&self.waker)
    }

    fn period_ms(&self) -> u32 {
        self.interval_ms.load(Relaxed)
    }
}

/// Parses a decimal integer written to a debugfs file (surrounding whitespace allowed).
pub(crate) fn parse_u32(input: &[u8]) -> Result<u32> {
    let s = core::str::from_utf8(input).map_err(|_| EINVAL)?.trim();
    if s.is_empty() || s.len() > 10 {
        return Err(EINVAL);
    }
    s.parse::<u32>().map_err(|_| EINVAL)
}
