// SPDX-License-Identifier: GPL-2.0
//! Reading processes out of `task_struct`, `signal_struct` and `mm_struct`: the only code that knows
//! those layouts (6.12's kernel crate has no task iteration).
//!
//! A pass works in two steps so that no per-process work happens inside an RCU read-side section:
//! [`collect`] walks the task list under RCU and takes a reference to at most `max` thread-group
//! leaders (no allocation: the vector's capacity is reserved beforehand); [`read`] then reads one
//! process in process context, entering RCU only to walk its threads.
//!
//! Counters are what `/proc/PID/stat` shows for the thread group — live threads plus the exited ones
//! that `signal_struct` keeps — but never what reaped children left in the parent (`cutime`,
//! `cmin_flt`, ...). I/O is the exception the kernel itself does not separate: `signal_struct.ioac`
//! mixes exited threads with reaped children, so [`Counters::io_live`] sums only live threads and the
//! sampler adds exited threads' I/O from the exit tracepoint (see `acct.rs`).

use super::rcu::RcuGuard;
use core::ptr::{addr_of, read_volatile};
use kernel::{bindings, prelude::*, task::Task, types::ARef};

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
    /// I/O as `/proc/PID/io` shows it: live threads plus `signal_struct.ioac` (exited threads AND
    /// reaped children).
    pub(crate) io_proc: Io,
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
        self.cancelled_write_bytes = self.cancelled_write_bytes.wrapping_add(o.cancelled_write_bytes);
    }

    /// Reads a live `task_io_accounting` without locks, as `/proc/PID/io` does.
    ///
    /// # Safety
    /// `p` must point to a `task_io_accounting` that stays allocated during the call.
    pub(crate) unsafe fn read(p: *const bindings::task_io_accounting) -> Io {
        // SAFETY: allocated per the caller; fields are naturally aligned u64, so each volatile read
        // is a single load (a concurrent update gives the old or the new value, like READ_ONCE).
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

/// Identity of a process: thread-group id, start time and command name.
#[derive(Clone, Copy)]
pub(crate) struct Ident {
    pub(crate) tgid: i32,
    /// Boot-based start time in ns: with `tgid`, unique for the life of the system.
    pub(crate) start_ns: u64,
    pub(crate) comm: [u8; 16],
    pub(crate) nice: i64,
    pub(crate) policy: u64,
}

/// Takes a reference to every thread-group leader, at most `max` of them, into `out` (cleared
/// first). Returns how many processes exist (which may exceed `max`). Does not allocate if `out`
/// has capacity `max`, which the caller reserves before.
pub(crate) fn collect(out: &mut KVec<ARef<Task>>, max: usize) -> usize {
    super::kvec::truncate(out, 0);
    let mut seen = 0usize;
    let _rcu = RcuGuard::new();
    // SAFETY: `init_task` is the static head of the process list; under RCU the `tasks` list may be
    // walked (for_each_process), each entry being a live task_struct until the grace period ends.
    unsafe {
        let head = addr_of!(bindings::init_task.tasks).cast_mut();
        let mut pos = read_volatile(addr_of!((*head).next));
        while !pos.is_null() && pos != head {
            let task = pos.byte_sub(core::mem::offset_of!(bindings::task_struct, tasks))
                as *mut bindings::task_struct;
            seen = seen.saturating_add(1);
            if out.len() < max {
                // `Task` is a transparent wrapper of `task_struct`; `ARef::from` takes a reference
                // (get_task_struct), which keeps the task_struct valid after RCU is left.
                let t: &Task = &*(task as *const Task);
                // Capacity is reserved: GFP_ATOMIC is only a formality here (no sleeping under RCU).
                if out.push(ARef::from(t), GFP_ATOMIC).is_err() {
                    break;
                }
            }
            pos = read_volatile(addr_of!((*pos).next));
        }
    }
    seen
}

/// The `task_struct` behind a `Task` (a transparent wrapper of it).
fn raw(task: &Task) -> *mut bindings::task_struct {
    (task as *const Task).cast_mut().cast()
}

/// Reads the identity of a referenced task.
pub(crate) fn ident(task: &Task) -> Ident {
    let t = raw(task);
    // SAFETY: the caller holds a reference, so the task_struct is valid; these fields are plain
    // integers read once (a concurrent rename or renice gives the old or the new value).
    unsafe {
        Ident {
            tgid: read_volatile(addr_of!((*t).tgid)),
            start_ns: read_volatile(addr_of!((*t).start_boottime)),
            // One 16-byte copy: a rename racing with it may give a mix of both names, as
            // /proc/PID/comm can.
            comm: read_volatile(addr_of!((*t).comm).cast::<[u8; 16]>()),
            nice: i64::from(read_volatile(addr_of!((*t).static_prio))) - 120,
            policy: u64::from(read_volatile(addr_of!((*t).policy))),
        }
    }
}

/// Reads the cumulative counters of a referenced thread-group leader. Process context: may sleep
/// (it takes and drops a reference to the process's mm).
pub(crate) fn read(task: &Task) -> Counters {
    let mut c = Counters::default();
    let t = raw(task);
    {
        let _rcu = RcuGuard::new();
        // Counters are read without locks, as /proc does; each is a naturally aligned word.
        // SAFETY: our reference to `t` keeps `t->signal` allocated (freed with the task_struct);
        // under RCU `signal->thread_head` may be walked (for_each_thread), each entry live.
        unsafe {
            let sig = read_volatile(addr_of!((*t).signal));
            if sig.is_null() {
                return c;
            }
            c.runtime_ns = read_volatile(addr_of!((*sig).sum_sched_runtime));
            c.utime_ns = read_volatile(addr_of!((*sig).utime));
            c.stime_ns = read_volatile(addr_of!((*sig).stime));
            c.nvcsw = read_volatile(addr_of!((*sig).nvcsw)) as u64;
            c.nivcsw = read_volatile(addr_of!((*sig).nivcsw)) as u64;
            c.min_flt = read_volatile(addr_of!((*sig).min_flt)) as u64;
            c.maj_flt = read_volatile(addr_of!((*sig).maj_flt)) as u64;
            c.threads = read_volatile(addr_of!((*sig).nr_threads)).max(0) as u64;
            c.io_proc = Io::read(addr_of!((*sig).ioac));

            let head = addr_of!((*sig).thread_head).cast_mut();
            let mut pos = read_volatile(addr_of!((*head).next));
            let off = core::mem::offset_of!(bindings::task_struct, thread_node);
            while !pos.is_null() && pos != head {
                let th = pos.byte_sub(off) as *const bindings::task_struct;
                c.runtime_ns = c.runtime_ns.wrapping_add(read_volatile(addr_of!((*th).se.sum_exec_runtime)));
                c.utime_ns = c.utime_ns.wrapping_add(read_volatile(addr_of!((*th).utime)));
                c.stime_ns = c.stime_ns.wrapping_add(read_volatile(addr_of!((*th).stime)));
                c.nvcsw = c.nvcsw.wrapping_add(read_volatile(addr_of!((*th).nvcsw)) as u64);
                c.nivcsw = c.nivcsw.wrapping_add(read_volatile(addr_of!((*th).nivcsw)) as u64);
                c.min_flt = c.min_flt.wrapping_add(read_volatile(addr_of!((*th).min_flt)) as u64);
                c.maj_flt = c.maj_flt.wrapping_add(read_volatile(addr_of!((*th).maj_flt)) as u64);
                let io = Io::read(addr_of!((*th).ioac));
                c.io_proc.add(&io);
                // An exiting thread's I/O moves to the exit tracepoint's total (acct.rs); counting
                // it here too would count it twice until the thread is unhashed.
                if read_volatile(addr_of!((*th).flags)) & bindings::PF_EXITING == 0 {
                    c.io_live.add(&io);
                }
                pos = read_volatile(addr_of!((*pos).next));
            }
        }
    }

    // SAFETY: `get_task_mm` takes a reference to the task's mm (NULL for kernel threads and exited
    // processes); we read the RSS counters' global parts (as /proc/PID/status does) and drop the
    // reference with `mmput`, which may sleep: we are in process context, outside RCU.
    unsafe {
        let mm = bindings::get_task_mm(t);
        if !mm.is_null() {
            let stat = addr_of!((*mm).__bindgen_anon_1.rss_stat) as *const bindings::percpu_counter;
            let pages = |i: u32| -> u64 {
                let v = read_volatile(addr_of!((*stat.add(i as usize)).count));
                v.max(0) as u64
            };
            c.rss_anon_pages = pages(bindings::MM_ANONPAGES);
            c.rss_file_pages = pages(bindings::MM_FILEPAGES);
            c.rss_shmem_pages = pages(bindings::MM_SHMEMPAGES);
            c.vm_pages = read_volatile(addr_of!((*mm).__bindgen_anon_1.total_vm)) as u64;
            bindings::mmput(mm);
        }
    }
    c
}
