// SPDX-License-Identifier: GPL-2.0
//! RCU read-side critical sections (6.12's kernel crate has none; `rcu_read_lock` is inline-only, so
//! `shim.c` exports it).

use super::shim::{procperf_rcu_read_lock, procperf_rcu_read_unlock};
use core::marker::PhantomData;

/// A held RCU read-side critical section; the lock is released on drop.
///
/// Nothing may sleep while a guard is alive: allocate with `GFP_ATOMIC` or before taking it.
///
/// # Invariants
/// `rcu_read_lock()` was called by `new` and is not yet balanced.
pub(crate) struct RcuGuard(PhantomData<*mut ()>); // !Send: must unlock in the context that locked

impl RcuGuard {
    /// Enters an RCU read-side critical section.
    pub(crate) fn new() -> Self {
        // SAFETY: entering an RCU read-side section is always allowed; balanced in `drop`.
        unsafe { procperf_rcu_read_lock() };
        // INVARIANT: the lock was just taken.
        Self(PhantomData)
    }
}

impl Drop for RcuGuard {
    fn drop(&mut self) {
        // SAFETY: by the type invariant this balances the `rcu_read_lock` taken in `new`.
        unsafe { procperf_rcu_read_unlock() };
    }
}
