// SPDX-License-Identifier: GPL-2.0
//! From a process's cumulative counters to the interval's [`RawSample`].
//!
//! Counters can move backwards for a moment (a thread's I/O moves from the live sum to the exit
//! total; racy lock-free reads), so each cumulative counter keeps a high-water mark and a delta is
//! what it rose above that mark: never negative, never counted twice. CPU time is the precise
//! `sum_exec_runtime`, split into user and system time in the ratio of the tick-based counters,
//! monotonically, like the kernel's `cputime_adjust` for /proc.

use super::acct::Totals;
use crate::{
    model::sample::RawSample,
    sys::task::{Counters, Ident, Io},
};
use kernel::bindings::PAGE_SIZE;

const KIB_PER_PAGE: u64 = (PAGE_SIZE / 1024) as u64;

/// One process's cumulative counters as last reported (high-water marks) and when.
#[derive(Clone, Copy, Default)]
pub(crate) struct Marks {
    t_ns: u64,
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
    (a >> 32)
        .saturating_mul(q)
        .saturating_add((a & 0xffff_ffff).saturating_mul(q) >> 32)
}

impl Marks {
    /// The marks of a process first seen at `now_ns`: its counters so far are the baseline.
    pub(crate) fn first(id: &Ident, now_ns: u64, c: &Counters, t: &Totals) -> Self {
        let mut m = Self {
            t_ns: now_ns,
            ..Self::default()
        };
        let _ = m.advance(id, now_ns, 0, c, t);
        m
    }

    /// Time of the latest sample, ns on the monotonic clock.
    pub(crate) fn t_ns(&self) -> u64 {
        self.t_ns
    }

    /// Turns new cumulative counters into the interval's sample.
    pub(crate) fn advance(
        &mut self,
        id: &Ident,
        now_ns: u64,
        boot_ns: u64,
        c: &Counters,
        t: &Totals,
    ) -> RawSample {
        let (mut d_user, mut d_sys) = (0, 0);
        // Split the precise runtime in the ratio of the tick-based user/system times, keeping both
        // parts monotonic (as cputime_adjust does for /proc/PID/stat). While the runtime stands
        // still (user + sys = runtime already), the clamps would give back the same split.
        if rise(&mut self.runtime_ns, c.runtime_ns) > 0 {
            let rt = self.runtime_ns;
            let ticks = c.utime_ns.saturating_add(c.stime_ns);
            let mut sys = if ticks == 0 {
                0
            } else {
                mul_frac(rt, c.stime_ns, ticks)
            };
            let mut user = rt.saturating_sub(sys);
            if sys < self.sys_ns {
                sys = self.sys_ns;
                user = rt.saturating_sub(sys);
            }
            if user < self.user_ns {
                user = self.user_ns;
                sys = rt.saturating_sub(user);
            }
            d_user = user.saturating_sub(self.user_ns);
            d_sys = sys.saturating_sub(self.sys_ns);
            self.user_ns = user;
            self.sys_ns = sys;
        }

        let mut io: Io = c.io_live;
        io.add(&t.exited_io);
        let interval_ns = now_ns.saturating_sub(self.t_ns).max(1);
        self.t_ns = now_ns;
        RawSample {
            interval_ns,
            cpu_user_ns: d_user,
            cpu_sys_ns: d_sys,
            rss_anon_kib: c.rss_anon_pages.saturating_mul(KIB_PER_PAGE),
            rss_file_kib: c.rss_file_pages.saturating_mul(KIB_PER_PAGE),
            rss_shmem_kib: c.rss_shmem_pages.saturating_mul(KIB_PER_PAGE),
            vm_kib: c.vm_pages.saturating_mul(KIB_PER_PAGE),
            disk_read_bytes: rise(&mut self.disk_read, io.read_bytes),
            disk_write_bytes: rise(
                &mut self.disk_write,
                io.write_bytes.saturating_sub(io.cancelled_write_bytes),
            ),
            rchar_bytes: rise(&mut self.rchar, io.rchar),
            wchar_bytes: rise(&mut self.wchar, io.wchar),
            syscr: rise(&mut self.syscr, io.syscr),
            syscw: rise(&mut self.syscw, io.syscw),
            net_rx_bytes: rise(&mut self.net_rx, t.net_rx_bytes),
            net_tx_bytes: rise(&mut self.net_tx, t.net_tx_bytes),
            nvcsw: rise(&mut self.nvcsw, c.nvcsw),
            nivcsw: rise(&mut self.nivcsw, c.nivcsw),
            minflt: rise(&mut self.min_flt, c.min_flt),
            majflt: rise(&mut self.maj_flt, c.maj_flt),
            threads: c.threads,
            nice: id.nice.clamp(-20, 19),
            policy: id.policy,
            age_ms: boot_ns.saturating_sub(id.id.start_ns) / 1_000_000,
        }
    }
}
