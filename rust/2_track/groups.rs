// SPDX-License-Identifier: GPL-2.0
//! Per-group totals of the sampled processes, the way operators group work: by cgroup (a service,
//! a container, a pod) and by command name. Each group's [`Totals`] (model crate) hold counters
//! that keep what exited processes did and levels and forecasts summed over the processes in the
//! group at the latest pass; `cgroups.csv` and `comms.csv` print them.
//!
//! A group is keyed by the process's own cgroup (the leaf: a process in a nested cgroup counts in
//! that one only; the path gives the ancestors to whoever wants subtree sums) and follows a process
//! that migrates: each interval counts in the cgroup the process was in at the pass that ended it.
//! Bounded: at most [`GROUP_CAPACITY`] groups of each kind, allocated at load. A group stays after
//! its processes exit (its counters are what a monitoring system takes rates of) until a new group
//! needs its place: then the one not seen for the longest goes. A group that finds no place (every
//! one seen in this pass) is counted as untracked, and the rest of the pass stops looking.

use super::table::{Key, Table};
use crate::model::group::{Share, Totals};
use kernel::prelude::*;

/// Most groups of each kind.
pub(crate) const GROUP_CAPACITY: usize = 1024;

/// One group.
#[derive(Clone, Copy)]
pub(crate) struct Group {
    /// Counters since the group was created; levels and forecasts of the pass `last_pass`.
    totals: Totals,
    /// The pass that last added a process.
    last_pass: u64,
    /// Time stamp of that pass, ms since boot.
    t_ms: u64,
}

impl Group {
    /// The totals as of pass `pass`: a group with no process in that pass has no levels.
    pub(crate) fn totals_at(&self, pass: u64) -> Totals {
        let mut t = self.totals;
        if self.last_pass != pass {
            t.clear_levels();
        }
        t
    }

    /// Time stamp of the pass that last added a process, ms since boot.
    pub(crate) fn t_ms(&self) -> u64 {
        self.t_ms
    }
}

/// The groups of one kind, keyed by `K`.
pub(crate) struct Groups<K> {
    table: Table<K, Group>,
    /// Groups that replaced another.
    pub(crate) evictions: u64,
    /// Processes' intervals counted in no group (the table full of groups seen in that pass).
    pub(crate) untracked: u64,
    /// The pass in which a new group found no place: no more searching in it.
    full_in_pass: u64,
}

impl<K: Key> Groups<K> {
    /// An empty set of groups, allocated whole.
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            table: Table::new(GROUP_CAPACITY)?,
            evictions: 0,
            untracked: 0,
            full_in_pass: 0,
        })
    }

    /// Bytes of memory a set of `capacity` groups holds.
    pub(crate) fn memory_bytes_for(capacity: usize) -> usize {
        Table::<K, Group>::memory_bytes_for(capacity)
    }

    /// Adds a process's [`Share`] (its interval ended by pass `pass`, at `t_ms`, its published
    /// forecasts and anomaly flags) to group `key`. No allocation: atomic context is fine.
    pub(crate) fn add(&mut self, key: K, (pass, t_ms): (u64, u64), share: &Share) {
        let group = match self.table.position(key) {
            Some(pos) => self.table.at_mut(pos),
            None => self.place(key, pass),
        };
        let Some(g) = group else {
            self.untracked = self.untracked.saturating_add(1);
            return;
        };
        if g.last_pass != pass {
            g.totals.clear_levels();
            g.last_pass = pass;
            g.t_ms = t_ms;
        }
        g.totals.add_share(share);
    }

    /// A new group for `key`: in a free place, else in place of the group seen least recently
    /// (not in this pass).
    fn place(&mut self, key: K, pass: u64) -> Option<&mut Group> {
        let fresh = Group {
            totals: Totals::default(),
            last_pass: pass.wrapping_sub(1),
            t_ms: 0,
        };
        let pos = if self.table.len() < self.table.capacity() {
            self.table.insert(key, fresh)?
        } else {
            if self.full_in_pass == pass {
                return None;
            }
            let victim = self
                .table
                .iter()
                .enumerate()
                .filter(|(_, (_, g))| g.last_pass != pass)
                .min_by_key(|(_, (_, g))| g.last_pass)
                .map(|(i, _)| i);
            let Some(pos) = victim.and_then(|v| self.table.replace_at(v, key, fresh)) else {
                self.full_in_pass = pass;
                return None;
            };
            self.evictions = self.evictions.saturating_add(1);
            pos
        };
        self.table.at_mut(pos)
    }

    /// The groups, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (K, &Group)> + '_ {
        self.table.iter()
    }

    /// Number of groups held.
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }
}
