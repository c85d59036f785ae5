// SPDX-License-Identifier: GPL-2.0
//! Per-process accumulators fed by tracepoint probes: socket bytes sent and received, and the I/O
//! of threads that exited.
//!
//! The kernel keeps no per-process network counters, and it folds exited threads' I/O together
//! with reaped children's into `signal_struct.ioac`. The probes (`sys::tracepoint`) fill the gap:
//! socket bytes are attributed to the calling process, an exiting thread's I/O to its process.
//! Probes run in atomic context: the accumulators are a [`TgidTable`] under a spinlock, allocated
//! at load and never allocating afterwards. When it is full a hit is counted in `overflow` and
//! dropped.

use crate::{
    sys::{
        clock,
        task::{Io, ProcessId},
        tracepoint::Sink,
    },
    track::table::{home, TgidTable},
};
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use kernel::{new_spinlock, prelude::*, sync::SpinLock};

/// At most this many processes are accounted at once.
pub(crate) const CAPACITY: usize = 8192;

/// Bits in [`Acct::present`].
const PRESENT_BITS: usize = 8192;

/// Cumulative accounting for one process, as the sampler reads it.
#[derive(Clone, Copy, Default)]
pub(crate) struct Totals {
    pub(crate) net_rx_bytes: u64,
    pub(crate) net_tx_bytes: u64,
    /// I/O of the process's threads that have exited.
    pub(crate) exited_io: Io,
}

/// The accumulators and their counters of probe activity.
#[pin_data]
pub(crate) struct Acct {
    #[pin]
    table: SpinLock<TgidTable<Totals>>,
    /// One bit per hash of a tgid, set while some accounted process has that hash: most processes
    /// never touch a socket, and the sampler learns so without the lock. Set by probes (under the
    /// lock) when they add a process; rebuilt by [`Acct::retain`], which runs in the sampler's own
    /// thread, so a clear bit that a lookup sees is never one that retain is about to set again.
    present: [AtomicU64; PRESENT_BITS / 64],
    /// Probe calls that attributed something, and the ns they spent in total.
    hits: AtomicU64,
    hit_ns: AtomicU64,
    /// Hits dropped because the table was full.
    overflow: AtomicU64,
    /// Bytes the table holds.
    memory_bytes: usize,
}

fn present_bit(tgid: i32) -> (usize, u64) {
    // The digest of a process's key (`Key::hash32`) is its tgid.
    let i = home(tgid as u32, PRESENT_BITS);
    (i / 64, 1u64 << (i % 64))
}

impl Acct {
    pub(crate) fn new() -> Result<impl PinInit<Self, Error>> {
        let table = TgidTable::new(CAPACITY)?;
        let memory_bytes = table.memory_bytes();
        Ok(try_pin_init!(Self {
            table <- new_spinlock!(table, "procperf_acct"),
            present: [const { AtomicU64::new(0) }; PRESENT_BITS / 64],
            hits: AtomicU64::new(0),
            hit_ns: AtomicU64::new(0),
            overflow: AtomicU64::new(0),
            memory_bytes,
        }))
    }

    fn maybe_present(&self, tgid: i32) -> bool {
        let (w, bit) = present_bit(tgid);
        self.present
            .get(w)
            .is_some_and(|w| w.load(Relaxed) & bit != 0)
    }

    fn mark_present(&self, tgid: i32) {
        let (w, bit) = present_bit(tgid);
        if let Some(w) = self.present.get(w) {
            w.fetch_or(bit, Relaxed);
        }
    }

    /// Cumulative totals of a process (zero if it never hit a probe). A process added meanwhile
    /// shows its bytes at the next pass: totals are cumulative.
    pub(crate) fn totals(&self, id: ProcessId) -> Totals {
        if !self.maybe_present(id.tgid) {
            return Totals::default();
        }
        self.table.lock().get(id).copied().unwrap_or_default()
    }

    /// Forgets every process for which `alive` is false. Called from the sampler's thread only.
    pub(crate) fn retain(&self, mut alive: impl FnMut(ProcessId) -> bool) {
        let mut table = self.table.lock();
        table.retain(|id, _| alive(id));
        for w in &self.present {
            w.store(0, Relaxed);
        }
        for (id, _) in table.iter() {
            self.mark_present(id.tgid);
        }
    }

    /// (hits, mean ns per hit, dropped hits, processes accounted).
    pub(crate) fn stats(&self) -> (u64, u64, u64, usize) {
        let hits = self.hits.load(Relaxed);
        let ns = self.hit_ns.load(Relaxed);
        let used = self.table.lock().len();
        (
            hits,
            ns.checked_div(hits).unwrap_or(0),
            self.overflow.load(Relaxed),
            used,
        )
    }

    /// Bytes of memory the accumulators hold.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.memory_bytes
    }

    /// Applies `f` to `process`'s totals, adding the process if new. Atomic context.
    fn account(&self, process: ProcessId, f: impl FnOnce(&mut Totals)) {
        let t0 = clock::fast_ns();
        {
            let mut table = self.table.lock();
            let slot = match table.position(process) {
                Some(pos) => table.at_mut(pos),
                None => {
                    let pos = table.insert(process, Totals::default());
                    if pos.is_some() {
                        self.mark_present(process.tgid);
                    }
                    pos.and_then(|p| table.at_mut(p))
                }
            };
            match slot {
                Some(totals) => f(totals),
                None => {
                    self.overflow.fetch_add(1, Relaxed);
                    return;
                }
            }
        }
        self.hits.fetch_add(1, Relaxed);
        self.hit_ns
            .fetch_add(clock::fast_ns().saturating_sub(t0), Relaxed);
    }
}

impl Sink for Acct {
    fn socket(&self, process: ProcessId, sent: bool, bytes: u64) {
        self.account(process, |t| {
            let total = if sent {
                &mut t.net_tx_bytes
            } else {
                &mut t.net_rx_bytes
            };
            *total = total.wrapping_add(bytes);
        });
    }

    fn thread_exited(&self, process: ProcessId, io: &Io) {
        self.account(process, |t| t.exited_io.add(io));
    }
}
