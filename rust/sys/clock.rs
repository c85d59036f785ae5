// SPDX-License-Identifier: GPL-2.0
//! Clock reads, in ns: the monotonic clock that times passes and stamps samples, the boot-based one
//! that process start times are kept in, and the NMI-safe one for tracepoint probes.

use kernel::bindings;

/// Monotonic clock (`ktime_get`), ns.
pub(crate) fn now_ns() -> u64 {
    // SAFETY: a plain clock read, valid in any context but NMI.
    let t = unsafe { bindings::ktime_get() };
    t.max(0) as u64
}

/// Monotonic clock, ms.
pub(crate) fn now_ms() -> u64 {
    now_ns() / 1_000_000
}

/// Boot-based clock (counts suspend), ns: the clock of `task_struct.start_boottime`.
pub(crate) fn boot_ns() -> u64 {
    // SAFETY: a plain clock read.
    unsafe { bindings::ktime_get_boot_fast_ns() }
}

/// Monotonic clock safe in any context (`ktime_get_mono_fast_ns`), ns.
pub(crate) fn fast_ns() -> u64 {
    // SAFETY: a plain clock read, NMI-safe.
    unsafe { bindings::ktime_get_mono_fast_ns() }
}

/// Nanoseconds since `start` (a [`now_ns`] reading), never negative.
pub(crate) fn since_ns(start: u64) -> u64 {
    now_ns().saturating_sub(start)
}
