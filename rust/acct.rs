// SPDX-License-Identifier: GPL-2.0
//! Per-process accumulators fed by tracepoints: socket bytes sent and received, and the I/O of
//! threads that exited.
//!
//! The kernel keeps no per-process network counters, and it folds exited threads' I/O together with
//! reaped children's into `signal_struct.ioac`. Three tracepoint probes fill the gap:
//! `sock_send_length` / `sock_recv_length` (every `sock_sendmsg` / `sock_recvmsg` that returns, which
//! covers write/read/send/recv on sockets, sendmsg/recvmsg, and splice to sockets; not sendfile's
//! zero-copy path inside TCP, nor io_uring's zero-copy sends) attribute bytes to the calling
//! process; `sched_process_exit` adds an exiting thread's I/O to its process. Probes run in atomic
//! context: the table is a fixed-capacity open-addressing hash under a spinlock, allocated at load,
//! never allocating afterwards. When it is full a hit is counted in `overflow` and dropped.

use super::tasks::Io;
use core::{
    ffi::CStr as CoreCStr,
    ptr::{addr_of, read_volatile},
    sync::atomic::{AtomicU64, Ordering::Relaxed},
};
use kernel::{
    alloc::KVVec,
    bindings,
    ffi::{c_char, c_int, c_void},
    new_spinlock,
    prelude::*,
    sync::SpinLock,
};

/// Slots in the table: at most this many processes are accounted at once.
pub(crate) const CAPACITY: usize = 8192;

/// Cumulative accounting for one process, as the sampler reads it.
#[derive(Clone, Copy, Default)]
pub(crate) struct Totals {
    pub(crate) net_rx_bytes: u64,
    pub(crate) net_tx_bytes: u64,
    /// I/O of the process's threads that have exited.
    pub(crate) exited_io: Io,
}

#[derive(Clone, Copy, Default)]
struct Slot {
    /// Thread-group id; 0 marks an empty slot (tgid 0 is the idle task, never accounted).
    tgid: i32,
    start_ns: u64,
    totals: Totals,
}

/// The slot where a process's probe sequence starts: Fibonacci hashing of the tgid.
fn home(tgid: i32) -> usize {
    (tgid as u32).wrapping_mul(0x9e37_79b9) as usize & (CAPACITY - 1)
}

/// One bit per slot of the [`Table`], set while the slot holds a process. Written only under the
/// table's lock; read under it (`retain` visits occupied slots, not all 768 KiB of them) and
/// without it (the sampler's lookup of a process whose home slot is empty skips the lock).
struct Occupancy([AtomicU64; CAPACITY / 64]);

impl Occupancy {
    /// Sets or clears slot `i`'s bit. Caller holds the table's lock (no concurrent writer).
    fn set(&self, i: usize, on: bool) {
        if let Some(w) = self.0.get(i / 64) {
            let bit = 1u64 << (i % 64);
            let v = w.load(Relaxed);
            w.store(if on { v | bit } else { v & !bit }, Relaxed);
        }
    }

    fn get(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w.load(Relaxed) & (1u64 << (i % 64)) != 0)
    }

    /// The first occupied slot at or after `i`.
    fn next(&self, i: usize) -> Option<usize> {
        let mut w = i / 64;
        let mut bits = self.0.get(w)?.load(Relaxed) & (!0u64 << (i % 64));
        loop {
            if bits != 0 {
                return Some(w * 64 + bits.trailing_zeros() as usize);
            }
            w += 1;
            bits = self.0.get(w)?.load(Relaxed);
        }
    }
}

/// Linear-probing hash table of `CAPACITY` slots with backward-shift deletion (no tombstones).
/// Methods that change it take the [`Occupancy`] it keeps up to date.
struct Table {
    slots: KVVec<Slot>,
    used: usize,
}

impl Table {
    /// Stores `s` in slot `i` and keeps its occupancy bit.
    fn put(&mut self, occ: &Occupancy, i: usize, s: Slot) {
        if let Some(slot) = self.slots.get_mut(i) {
            *slot = s;
            occ.set(i, s.tgid != 0);
        }
    }

    /// The slot for (tgid, start), inserted if absent; `None` when the table is full.
    fn entry(&mut self, occ: &Occupancy, tgid: i32, start_ns: u64) -> Option<&mut Slot> {
        let n = self.slots.len();
        let mut i = home(tgid);
        for _ in 0..n {
            let s = self.slots.get(i)?;
            if s.tgid == tgid && s.start_ns == start_ns {
                return self.slots.get_mut(i);
            }
            if s.tgid == 0 {
                // Keep one slot free so that every probe sequence ends at an empty slot.
                if self.used.saturating_add(1) >= n {
                    return None;
                }
                self.used += 1;
                self.put(occ, i, Slot { tgid, start_ns, totals: Totals::default() });
                return self.slots.get_mut(i);
            }
            i = (i + 1) & (n - 1);
        }
        None
    }

    fn find(&self, tgid: i32, start_ns: u64) -> Option<&Slot> {
        let n = self.slots.len();
        let mut i = home(tgid);
        for _ in 0..n {
            let s = self.slots.get(i)?;
            if s.tgid == 0 {
                return None;
            }
            if s.tgid == tgid && s.start_ns == start_ns {
                return Some(s);
            }
            i = (i + 1) & (n - 1);
        }
        None
    }

    /// Removes every slot for which `keep` is false, keeping probe sequences intact.
    fn retain(&mut self, occ: &Occupancy, mut keep: impl FnMut(i32, u64) -> bool) {
        let mut i = 0;
        while let Some(j) = occ.next(i) {
            let Some(&s) = self.slots.get(j) else { return };
            if keep(s.tgid, s.start_ns) {
                i = j + 1;
            } else {
                // The slot now holds a shifted-back entry (or is empty): look at it again.
                self.remove_at(occ, j);
                i = j;
            }
        }
    }

    /// Backward-shift deletion: moves later members of the probe run back into the hole.
    fn remove_at(&mut self, occ: &Occupancy, mut hole: usize) {
        let n = self.slots.len();
        let mask = n - 1;
        if hole < n {
            self.put(occ, hole, Slot::default());
            self.used = self.used.saturating_sub(1);
        }
        let mut j = (hole + 1) & mask;
        loop {
            let Some(&s) = self.slots.get(j) else { return };
            if s.tgid == 0 {
                return;
            }
            let home = home(s.tgid);
            // Move `s` into the hole if its home is not in the cyclic range (hole, j].
            let dist_home = j.wrapping_sub(home) & mask;
            let dist_hole = j.wrapping_sub(hole) & mask;
            if dist_home >= dist_hole {
                self.put(occ, hole, s);
                self.put(occ, j, Slot::default());
                hole = j;
            }
            j = (j + 1) & mask;
        }
    }
}

/// The accumulators and their counters of probe activity.
#[pin_data]
pub(crate) struct Acct {
    #[pin]
    table: SpinLock<Table>,
    occupied: Occupancy,
    /// Probe calls that attributed something, and the ns they spent in total.
    hits: AtomicU64,
    hit_ns: AtomicU64,
    /// Hits dropped because the table was full.
    overflow: AtomicU64,
}

impl Acct {
    fn new() -> Result<impl PinInit<Self, Error>> {
        let slots = KVVec::from_elem(Slot::default(), CAPACITY, GFP_KERNEL)?;
        Ok(try_pin_init!(Self {
            table <- new_spinlock!(Table { slots, used: 0 }, "procperf_acct"),
            occupied: Occupancy([const { AtomicU64::new(0) }; CAPACITY / 64]),
            hits: AtomicU64::new(0),
            hit_ns: AtomicU64::new(0),
            overflow: AtomicU64::new(0),
        }))
    }

    /// Cumulative totals of a process (zero if it never hit a probe).
    pub(crate) fn totals(&self, tgid: i32, start_ns: u64) -> Totals {
        // Without tombstones a process's slot lies in the unbroken run of occupied slots that
        // starts at its home, so an empty home slot means it has none; most processes never
        // touch a socket, and saying so needs no lock. A slot that appears (or a run that shifts)
        // meanwhile shows its bytes at the next pass: totals are cumulative.
        if !self.occupied.get(home(tgid)) {
            return Totals::default();
        }
        self.table.lock().find(tgid, start_ns).map(|s| s.totals).unwrap_or_default()
    }

    /// Forgets every process for which `alive` is false.
    pub(crate) fn retain(&self, alive: impl FnMut(i32, u64) -> bool) {
        self.table.lock().retain(&self.occupied, alive);
    }

    /// (hits, mean ns per hit, dropped hits, processes accounted).
    pub(crate) fn stats(&self) -> (u64, u64, u64, usize) {
        let hits = self.hits.load(Relaxed);
        let ns = self.hit_ns.load(Relaxed);
        let used = self.table.lock().used;
        (hits, ns.checked_div(hits).unwrap_or(0), self.overflow.load(Relaxed), used)
    }

    /// Applies `f` to the current process's slot. Atomic context.
    fn account(&self, f: impl FnOnce(&mut Totals)) {
        // SAFETY: plain NMI-safe clock read.
        let t0 = unsafe { bindings::ktime_get_mono_fast_ns() };
        // SAFETY: `current` is always a valid task; its group leader stays valid while current
        // runs (a leader is released only after all its threads).
        let (tgid, start_ns) = unsafe {
            let cur = bindings::get_current();
            let leader = read_volatile(addr_of!((*cur).group_leader));
            (read_volatile(addr_of!((*cur).tgid)), read_volatile(addr_of!((*leader).start_boottime)))
        };
        match self.table.lock().entry(&self.occupied, tgid, start_ns) {
            Some(slot) => f(&mut slot.totals),
            None => {
                self.overflow.fetch_add(1, Relaxed);
                return;
            }
        }
        // SAFETY: as above.
        let t1 = unsafe { bindings::ktime_get_mono_fast_ns() };
        self.hits.fetch_add(1, Relaxed);
        self.hit_ns.fetch_add(t1.saturating_sub(t0), Relaxed);
    }
}

/// The probes, registered while this value lives; unregistered (and waited for) on drop.
///
/// # Invariants
/// Each non-null `tps[i]` has `PROBES[i].1` registered with `data` = `&*acct`.
pub(crate) struct Probes {
    acct: Pin<KBox<Acct>>,
    tps: [*mut c_void; 3],
}

// SAFETY: the tracepoint pointers are only used to unregister, from any thread.
unsafe impl Send for Probes {}
// SAFETY: `&Probes` only gives `&Acct`, which is Sync.
unsafe impl Sync for Probes {}

type ProbeFn = *mut c_void;

/// Tracepoint names and our probes for them.
fn probes() -> [(&'static CoreCStr, ProbeFn); 3] {
    [
        (c"sock_send_length", sock_send as *mut c_void),
        (c"sock_recv_length", sock_recv as *mut c_void),
        (c"sched_process_exit", process_exit as *mut c_void),
    ]
}

impl Probes {
    /// Allocates the table and registers the three probes.
    pub(crate) fn new() -> Result<Self> {
        let acct = KBox::pin_init(Acct::new()?, GFP_KERNEL)?;
        let mut found: [*mut c_void; 3] = [core::ptr::null_mut(); 3];
        // SAFETY: `find_tracepoint` only reads the name of each tracepoint it is given and writes
        // into `found`, which outlives the call.
        unsafe { for_each_kernel_tracepoint(find_tracepoint, (&raw mut found).cast()) };
        // INVARIANT: nothing registered yet; entries become non-null only once registered.
        let mut this = Self { acct, tps: [core::ptr::null_mut(); 3] };
        let data = (&*this.acct as *const Acct).cast_mut().cast::<c_void>();
        for (i, (name, probe)) in probes().iter().enumerate() {
            let tp = found.get(i).copied().unwrap_or(core::ptr::null_mut());
            if tp.is_null() {
                pr_warn!("tracepoint {:?} not found; network or exit accounting is off\n", name);
                return Err(ENOENT); // `this` unregisters what was registered
            }
            // SAFETY: `tp` is a kernel tracepoint; `probe` has the signature of its prototype; `data`
            // stays valid until `drop` has unregistered and synchronised.
            let r = unsafe { tracepoint_probe_register(tp, *probe, data) };
            if r != 0 {
                return Err(Error::from_errno(r));
            }
            if let Some(slot) = this.tps.get_mut(i) {
                *slot = tp;
            }
        }
        Ok(this)
    }

    pub(crate) fn acct(&self) -> &Acct {
        &self.acct
    }
}

impl Drop for Probes {
    fn drop(&mut self) {
        let data = (&*self.acct as *const Acct).cast_mut().cast::<c_void>();
        for (tp, (_, probe)) in self.tps.iter().zip(probes().iter()) {
            if !tp.is_null() {
                // SAFETY: registered with exactly these arguments (invariant).
                unsafe { tracepoint_probe_unregister(*tp, *probe, data) };
            }
        }
        // SAFETY: waits until no probe can still be running, before `acct` is freed.
        unsafe { procperf_tracepoint_synchronize_unregister() };
    }
}

/// `for_each_kernel_tracepoint` callback: records the tracepoints whose names we want.
unsafe extern "C" fn find_tracepoint(tp: *mut c_void, priv_: *mut c_void) {
    // SAFETY: `struct tracepoint` starts with `const char *name` (include/linux/tracepoint-defs.h),
    // a static NUL-terminated string; `priv_` is the `found` array of `Probes::new`.
    unsafe {
        let name = read_volatile(tp.cast::<*const c_char>());
        if name.is_null() {
            return;
        }
        let name = CoreCStr::from_ptr(name.cast());
        let found = &mut *priv_.cast::<[*mut c_void; 3]>();
        for (slot, (want, _)) in found.iter_mut().zip(probes().iter()) {
            if name == *want {
                *slot = tp;
            }
        }
    }
}

unsafe extern "C" fn sock_send(data: *mut c_void, _sk: *mut c_void, ret: c_int, _flags: c_int) {
    if ret > 0 {
        // SAFETY: `data` is the registered `Acct`, alive while the probe is registered.
        let acct = unsafe { &*data.cast::<Acct>() };
        acct.account(|t| t.net_tx_bytes = t.net_tx_bytes.wrapping_add(ret as u64));
    }
}

unsafe extern "C" fn sock_recv(data: *mut c_void, _sk: *mut c_void, ret: c_int, _flags: c_int) {
    if ret > 0 {
        // SAFETY: as in `sock_send`.
        let acct = unsafe { &*data.cast::<Acct>() };
        acct.account(|t| t.net_rx_bytes = t.net_rx_bytes.wrapping_add(ret as u64));
    }
}

unsafe extern "C" fn process_exit(data: *mut c_void, p: *mut bindings::task_struct) {
    // SAFETY: as in `sock_send`; `p` is the exiting task (current), valid during the probe.
    let (acct, io) = unsafe { (&*data.cast::<Acct>(), Io::read(addr_of!((*p).ioac))) };
    acct.account(|t| t.exited_io.add(&io));
}

// Opaque kernel structs behind pointers trip `improper_ctypes`; only pointers cross here.
#[allow(improper_ctypes)]
extern "C" {
    fn for_each_kernel_tracepoint(f: unsafe extern "C" fn(*mut c_void, *mut c_void), priv_: *mut c_void);
    fn tracepoint_probe_register(tp: *mut c_void, probe: *mut c_void, data: *mut c_void) -> c_int;
    fn tracepoint_probe_unregister(tp: *mut c_void, probe: *mut c_void, data: *mut c_void) -> c_int;
    fn procperf_tracepoint_synchronize_unregister();
}
