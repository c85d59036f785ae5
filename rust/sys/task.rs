// SPDX-License-Identifier: GPL-2.0
//! Reading processes out of `task_struct`, `signal_struct` and `mm_struct`: the only code that
//! knows those layouts (6.12's kernel crate has no task iteration).
//!
//! A pass works in two steps so that no per-process work happens inside an RCU read-side section:
//! [`collect`] walks the task list under RCU and takes a reference to at most `max` thread-group
//! leaders (no allocation: the vector's capacity is reserved beforehand); [`read`] then reads one
//! process in process context, entering RCU once, for its cgroup and to walk its threads.
//!
//! Counters are what `/proc/PID/stat` shows for the thread group — live threads plus the exited
//! ones that `signal_struct` keeps — but never what reaped children left in the parent (`cutime`,
//! `cmin_flt`, ...). I/O is the exception the kernel itself does not separate: `signal_struct.ioac`
//! mixes exited threads with reaped children, so [`Counters::io_live`] sums only live threads and
//! the sampler adds exited threads' I/O from the exit tracepoint (`sys::tracepoint`).
//!
//! Fields are read without locks, as /proc does: each is a naturally aligned word read once with
//! a volatile load, so a concurrent update gives the old or the new value (like `READ_ONCE`).

use super::{rcu::RcuGuard, ARef};
use core::ptr::{addr_of, read_volatile};
use kernel::{alloc::KVVec, bindings, prelude::*, task::Task};

/// A process for the life of the system: its thread-group id and its boot-based start time (a
/// reused tgid has a later start).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ProcessId {
    pub(crate) tgid: i32,
    pub(crate) start_ns: u64,
}

/// Cumulative counters of one process at one instant. Times in ns, memory in pages.
#[derive(Clone, Copy, Default)]
pub(crate) struct Counters {
    /// Precise CPU time of all threads, live and exited (`sum_exec_runtime`).
    pub(crate) runtime_ns: u64,
    /// Tick-sampled user and system time (only their ratio is used to split `runtime_ns`).
    pub(crate) utime_ns: u64,
    pub(crate) stime_ns: u64,
    /// I/O accounting summed over live threads only.
    pub(crate) io_live: Io,
    pub(crate) nvcsw: u64,
    pub(crate) nivcsw: u64,
    pub(crate) min_flt: u64,
    pub(crate) maj_flt: u64,
    pub(crate) threads: u64,
    pub(crate) rss_anon_pages: u64,
    pub(crate) rss_file_pages: u64,
    pub(crate) rss_shmem_pages: u64,
    pub(crate) vm_pages: u64,
}

/// Task I/O accounting counters (`struct task_io_accounting`).
#[derive(Clone, Copy, Default)]
pub(crate) struct Io {
    pub(crate) rchar: u64,
    pub(crate) wchar: u64,
    pub(crate) syscr: u64,
    pub(crate) syscw: u64,
    pub(crate) read_bytes: u64,
    pub(crate) write_bytes: u64,
    pub(crate) cancelled_write_bytes: u64,
}

impl Io {
    /// Adds another thread's counters (wrapping: these are free-running counters).
    pub(crate) fn add(&mut self, o: &Io) {
        self.rchar = self.rchar.wrapping_add(o.rchar);
        self.wchar = self.wchar.wrapping_add(o.wchar);
        self.syscr = self.syscr.wrapping_add(o.syscr);
        self.syscw = self.syscw.wrapping_add(o.syscw);
        self.read_bytes = self.read_bytes.wrapping_add(o.read_bytes);
        self.write_bytes = self.write_bytes.wrapping_add(o.write_bytes);
        self.cancelled_write_bytes = self
            .cancelled_write_bytes
            .wrapping_add(o.cancelled_write_bytes);
    }

    /// Reads a live `task_io_accounting` without locks, as `/proc/PID/io` does.
    ///
    /// # Safety
    /// `p` must point to a `task_io_accounting` that stays allocated during the call.
    unsafe fn read(p: *const bindings::task_io_accounting) -> Io {
        // SAFETY: allocated per the caller; each field is an aligned u64 read once.
        unsafe {
            Io {
                rchar: read_volatile(addr_of!((*p).rchar)),
                wchar: read_volatile(addr_of!((*p).wchar)),
                syscr: read_volatile(addr_of!((*p).syscr)),
                syscw: read_volatile(addr_of!((*p).syscw)),
                read_bytes: read_volatile(addr_of!((*p).read_bytes)),
                write_bytes: read_volatile(addr_of!((*p).write_bytes)),
                cancelled_write_bytes: read_volatile(addr_of!((*p).cancelled_write_bytes)),
            }
        }
    }
}

/// Identity of a process, and what it is currently called and scheduled as.
#[derive(Clone, Copy)]
pub(crate) struct Ident {
    pub(crate) id: ProcessId,
    pub(crate) comm: [u8; 16],
    pub(crate) nice: i64,
    pub(crate) policy: u64,
    /// Id of its cgroup in the cgroup v2 hierarchy (the inode number of that cgroup's directory;
    /// 0 without cgroups). The leader's: threads of one process share it outside threaded cgroups.
    pub(crate) cgroup: u64,
}

/// Takes a reference to every thread-group leader, at most `max` of them, into `out` (cleared
/// first). Returns how many processes exist (which may exceed `max`). Does not allocate if `out`
/// has capacity `max`, which the caller reserves before.
pub(crate) fn collect(out: &mut KVVec<ARef<Task>>, max: usize) -> usize {
    super::kvec::truncate(out, 0);
    let mut seen = 0usize;
    let _rcu = RcuGuard::new();
    // SAFETY: only the address of the static `init_task` is taken, not a reference.
    let head = unsafe { addr_of!(bindings::init_task.tasks) }.cast_mut();
    // SAFETY: `init_task` is the static head of the process list; under RCU its `next` pointers
    // may be followed (for_each_process).
    let mut pos = unsafe { read_volatile(addr_of!((*head).next)) };
    let off = core::mem::offset_of!(bindings::task_struct, tasks);
    while !pos.is_null() && pos != head {
        // SAFETY: every entry of the list but the head is the `tasks` field of a task_struct,
        // alive until the RCU grace period ends.
        let task = unsafe { pos.byte_sub(off) }.cast::<Task>();
        seen = seen.saturating_add(1);
        if out.len() < max {
            // SAFETY: `Task` is a transparent wrapper of a live `task_struct` (see above).
            let t: &Task = unsafe { &*task };
            // `ARef::from` takes a reference (get_task_struct), which keeps the task_struct valid
            // after RCU is left. Capacity is reserved: GFP_ATOMIC is only a formality here.
            if out.push(ARef::from(t), GFP_ATOMIC).is_err() {
                break;
            }
        }
        // SAFETY: `pos` is a live list entry under RCU (see above).
        pos = unsafe { read_volatile(addr_of!((*pos).next)) };
    }
    seen
}

/// The `task_struct` behind a `Task` (a transparent wrapper of it).
fn raw(task: &Task) -> *mut bindings::task_struct {
    core::ptr::from_ref(task).cast_mut().cast()
}

/// The identity of a referenced task but for its cgroup, which is read under RCU ([`read`]).
fn ident(t: *mut bindings::task_struct) -> Ident {
    // A concurrent rename or renice gives the old or the new value (a 16-byte `comm` may mix both
    // names, as /proc/PID/comm can).
    // SAFETY: the caller's reference keeps the task_struct valid.
    let tgid = unsafe { read_volatile(addr_of!((*t).tgid)) };
    // SAFETY: as above.
    let start_ns = unsafe { read_volatile(addr_of!((*t).start_boottime)) };
    // SAFETY: as above.
    let comm = unsafe { read_volatile(addr_of!((*t).comm).cast::<[u8; 16]>()) };
    // SAFETY: as above.
    let prio = unsafe { read_volatile(addr_of!((*t).static_prio)) };
    // SAFETY: as above.
    let policy = unsafe { read_volatile(addr_of!((*t).policy)) };
    Ident {
        id: ProcessId { tgid, start_ns },
        comm,
        nice: i64::from(prio) - 120,
        policy: u64::from(policy),
        cgroup: 0,
    }
}

/// The process the current task belongs to. Any context (tracepoint probes).
pub(crate) fn current_process() -> ProcessId {
    // SAFETY: `current` is always a valid task.
    let cur = unsafe { bindings::get_current() };
    // SAFETY: `cur` is valid while it runs; `group_leader` is set at fork.
    let leader = unsafe { read_volatile(addr_of!((*cur).group_leader)) };
    // SAFETY: as above.
    let tgid = unsafe { read_volatile(addr_of!((*cur).tgid)) };
    // SAFETY: a leader is released only after all its threads, so it outlives `current`.
    let start_ns = unsafe { read_volatile(addr_of!((*leader).start_boottime)) };
    ProcessId { tgid, start_ns }
}

/// The I/O counters of `task`, a thread that is exiting (the `sched_process_exit` tracepoint).
///
/// # Safety
/// `task` must be the exiting task the tracepoint passed (valid during the probe).
pub(crate) unsafe fn exiting_io(task: *mut bindings::task_struct) -> Io {
    // SAFETY: `task` is valid (caller), so its `ioac` is allocated.
    unsafe { Io::read(addr_of!((*task).ioac)) }
}

/// Reads the identity and the cumulative counters of a referenced thread-group leader, in one
/// RCU read-side section. Process context: may sleep (it takes and drops a reference to the
/// process's mm).
pub(crate) fn read(task: &Task) -> (Ident, Counters) {
    let mut c = Counters::default();
    let t = raw(task);
    let mut id = ident(t);
    {
        let _rcu = RcuGuard::new();
        // SAFETY: our reference keeps the task valid, and under RCU its css_set and that set's
        // cgroup stay valid (a migration frees the old css_set only after a grace period).
        id.cgroup = unsafe { super::shim::procperf_task_dfl_cgroup_id(t) };
        // SAFETY: our reference keeps the task_struct valid.
        let sig = unsafe { read_volatile(addr_of!((*t).signal)) };
        if sig.is_null() {
            return (id, c);
        }
        // Each read of `*sig` below: our reference to `t` keeps `t->signal` allocated (it is freed
        // with the task_struct); fields are aligned words read once.
        // SAFETY: as just said.
        c.runtime_ns = unsafe { read_volatile(addr_of!((*sig).sum_sched_runtime)) };
        // SAFETY: as above.
        c.utime_ns = unsafe { read_volatile(addr_of!((*sig).utime)) };
        // SAFETY: as above.
        c.stime_ns = unsafe { read_volatile(addr_of!((*sig).stime)) };
        // SAFETY: as above.
        c.nvcsw = unsafe { read_volatile(addr_of!((*sig).nvcsw)) } as u64;
        // SAFETY: as above.
        c.nivcsw = unsafe { read_volatile(addr_of!((*sig).nivcsw)) } as u64;
        // SAFETY: as above.
        c.min_flt = unsafe { read_volatile(addr_of!((*sig).min_flt)) } as u64;
        // SAFETY: as above.
        c.maj_flt = unsafe { read_volatile(addr_of!((*sig).maj_flt)) } as u64;
        // SAFETY: as above.
        c.threads = unsafe { read_volatile(addr_of!((*sig).nr_threads)) }.max(0) as u64;

        // SAFETY: as above; only the field's address is taken.
        let head = unsafe { addr_of!((*sig).thread_head) }.cast_mut();
        // SAFETY: under RCU `signal->thread_head` may be walked (for_each_thread).
        let mut pos = unsafe { read_volatile(addr_of!((*head).next)) };
        let off = core::mem::offset_of!(bindings::task_struct, thread_node);
        while !pos.is_null() && pos != head {
            // SAFETY: every entry but the head is the `thread_node` of a task_struct alive until
            // the grace period ends.
            let th = unsafe { pos.byte_sub(off) }
                .cast::<bindings::task_struct>()
                .cast_const();
            // SAFETY: `th` is live under RCU (above); so for each read of `*th` below.
            let runtime = unsafe { read_volatile(addr_of!((*th).se.sum_exec_runtime)) };
            c.runtime_ns = c.runtime_ns.wrapping_add(runtime);
            // SAFETY: as above.
            c.utime_ns = c
                .utime_ns
                .wrapping_add(unsafe { read_volatile(addr_of!((*th).utime)) });
            // SAFETY: as above.
            c.stime_ns = c
                .stime_ns
                .wrapping_add(unsafe { read_volatile(addr_of!((*th).stime)) });
            // SAFETY: as above.
            c.nvcsw = c
                .nvcsw
                .wrapping_add(unsafe { read_volatile(addr_of!((*th).nvcsw)) } as u64);
            // SAFETY: as above.
            c.nivcsw = c
                .nivcsw
                .wrapping_add(unsafe { read_volatile(addr_of!((*th).nivcsw)) } as u64);
            // SAFETY: as above.
            c.min_flt = c
                .min_flt
                .wrapping_add(unsafe { read_volatile(addr_of!((*th).min_flt)) } as u64);
            // SAFETY: as above.
            c.maj_flt = c
                .maj_flt
                .wrapping_add(unsafe { read_volatile(addr_of!((*th).maj_flt)) } as u64);
            // An exiting thread's I/O moves to the exit tracepoint's total; counting it here too
            // would count it twice until the thread is unhashed.
            // SAFETY: as above.
            let flags = unsafe { read_volatile(addr_of!((*th).flags)) };
            if flags & bindings::PF_EXITING == 0 {
                // SAFETY: as above; `ioac` is part of the live task_struct.
                c.io_live.add(&unsafe { Io::read(addr_of!((*th).ioac)) });
            }
            // SAFETY: `pos` is a live list entry under RCU.
            pos = unsafe { read_volatile(addr_of!((*pos).next)) };
        }
    }

    // `get_task_mm` takes a reference to the task's mm (NULL for kernel threads and exited
    // processes); the RSS counters' global parts are read as /proc/PID/status does.
    // SAFETY: our reference keeps the task valid; process context.
    let mm = unsafe { bindings::get_task_mm(t) };
    if !mm.is_null() {
        // SAFETY: `mm` is referenced until `mmput` below.
        let stat =
            unsafe { addr_of!((*mm).__bindgen_anon_1.rss_stat) }.cast::<bindings::percpu_counter>();
        let pages = |i: u32| -> u64 {
            // SAFETY: `rss_stat` is an array of NR_MM_COUNTERS counters and `i` is one of the
            // MM_* indices; `mm` is referenced.
            let v = unsafe { read_volatile(addr_of!((*stat.add(i as usize)).count)) };
            v.max(0) as u64
        };
        c.rss_anon_pages = pages(bindings::MM_ANONPAGES);
        c.rss_file_pages = pages(bindings::MM_FILEPAGES);
        c.rss_shmem_pages = pages(bindings::MM_SHMEMPAGES);
        // SAFETY: `mm` is referenced.
        c.vm_pages = unsafe { read_volatile(addr_of!((*mm).__bindgen_anon_1.total_vm)) } as u64;
        // SAFETY: drops the reference `get_task_mm` took; may sleep: process context, outside RCU.
        unsafe { bindings::mmput(mm) };
    }
    (id, c)
}
